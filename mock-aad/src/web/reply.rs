//! How an authorize answer goes back to the client: parameters in the redirect's query or
//! fragment (encoded as .NET's `HttpUtility.UrlEncode` does), or the auto-submitting form of
//! `response_mode=form_post`.
//!
//! Pure functions of the redirect URI and the parameters, shared by the sign-in pages and the
//! fault injector (which sends injected authorize errors back the same way).

use lab_kit::wire::dotnet_url_encode;

use crate::util::html_escape;

/// The auto-submitting page of `response_mode=form_post`, as Azure AD serves it.
pub fn form_post_page(redirect_uri: &str, params: &[(&str, String)]) -> String {
    let inputs: String = params
        .iter()
        .map(|(k, v)| {
            format!(
                "<input type=\"hidden\" name=\"{}\" value=\"{}\" />",
                html_escape(k),
                html_escape(v)
            )
        })
        .collect();
    format!(
        concat!(
            "<html><head><title>Working...</title></head><body>",
            "<form method=\"POST\" name=\"hiddenform\" action=\"{}\">{}",
            "<noscript><p>Script is disabled. Click Submit to continue.</p>",
            "<input type=\"submit\" value=\"Submit\" /></noscript></form>",
            "<script language=\"javascript\">document.forms[0].submit();</script>",
            "</body></html>"
        ),
        html_escape(redirect_uri),
        inputs
    )
}

/// `redirect_uri` with `params` appended (.NET URL encoding) in the query or the fragment.
pub fn redirect_location(redirect_uri: &str, fragment: bool, params: &[(&str, String)]) -> String {
    let encoded = params
        .iter()
        .map(|(k, v)| format!("{k}={}", dotnet_url_encode(v)))
        .collect::<Vec<_>>()
        .join("&");
    if fragment {
        format!("{redirect_uri}#{encoded}")
    } else {
        let sep = if redirect_uri.contains('?') { '&' } else { '?' };
        format!("{redirect_uri}{sep}{encoded}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dotnet_encoding_matches_httputility() {
        assert_eq!(
            dotnet_url_encode("AADSTS50001: https://mail.contoso.com/ x\r\n-_.!*()~'"),
            "AADSTS50001%3a+https%3a%2f%2fmail.contoso.com%2f+x%0d%0a-_.!*()%7e%27"
        );
        assert_eq!(dotnet_url_encode("é"), "%c3%a9");
    }

    #[test]
    fn parameters_go_in_the_query_or_the_fragment() {
        let p = [("code", "a b".to_string()), ("state", "s".to_string())];
        assert_eq!(
            redirect_location("https://x/cb", false, &p),
            "https://x/cb?code=a+b&state=s"
        );
        assert_eq!(
            redirect_location("https://x/cb?k=1", false, &p),
            "https://x/cb?k=1&code=a+b&state=s"
        );
        assert_eq!(
            redirect_location("https://x/cb", true, &p),
            "https://x/cb#code=a+b&state=s"
        );
    }
}
