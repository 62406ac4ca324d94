//! Header names written with the case Exchange and IIS put on the wire.
//!
//! The field guide's 401s show `Www-Authenticate: Negotiate` (written by IIS 8.5's
//! authentication modules) next to `WWW-Authenticate: Bearer …` (written by Exchange's OAuth
//! module), `request-id` and `x-ms-diagnostics` in lowercase, `X-FEServer`, `X-Powered-By`. On
//! IIS 7.5 (the guide's Exchange 2013 capture) every challenge is `WWW-Authenticate`. [`layer`]
//! gives every response that spelling through [`lab_kit::wirecase`].

use std::borrow::Cow;

use axum::body::Body;
use axum::http::Response;

/// Names whose wire spelling is not plain Title-Case.
const SPELLINGS: &[(&str, &str)] = &[
    ("request-id", "request-id"),
    ("x-ms-diagnostics", "x-ms-diagnostics"),
    ("x-feserver", "X-FEServer"),
    ("x-beserver", "X-BEServer"),
    ("x-calculatedbetarget", "X-CalculatedBETarget"),
    ("x-aspnet-version", "X-AspNet-Version"),
    ("x-diaginfo", "X-DiagInfo"),
    ("x-owa-version", "X-OWA-Version"),
    ("x-responsecode", "X-ResponseCode"),
    ("x-requesttype", "X-RequestType"),
    ("x-requestid", "X-RequestId"),
    ("x-clientinfo", "X-ClientInfo"),
    ("x-serverapplication", "X-ServerApplication"),
    ("x-expirationinfo", "X-ExpirationInfo"),
    ("x-pendingperiod", "X-PendingPeriod"),
    ("x-mapihttpcapability", "X-MapiHttpCapability"),
    ("x-oauth-enabled", "X-OAuth-Enabled"),
    ("x-soap-enabled", "X-SOAP-Enabled"),
    ("x-wssecurity-enabled", "X-WSSecurity-Enabled"),
    ("x-wssecurity-for", "X-WSSecurity-For"),
    ("ms-server-activesync", "MS-Server-ActiveSync"),
    ("ms-asprotocolversions", "MS-ASProtocolVersions"),
    ("ms-asprotocolcommands", "MS-ASProtocolCommands"),
    ("www-authenticate", "WWW-Authenticate"),
];

/// The wire spelling of header `name` with `value` in a response whose `Server` is `server`.
pub fn spelling(name: &str, value: &[u8], server: &str) -> Cow<'static, str> {
    if name == "www-authenticate" {
        // IIS 8.x's own modules write `Www-Authenticate`; Exchange's Bearer challenge, and
        // everything on IIS 7.5, is `WWW-Authenticate`.
        let iis8 = server.contains("Microsoft-IIS/8") || server.contains("Microsoft-IIS/10");
        return if iis8 && !value.starts_with(b"Bearer") {
            Cow::Borrowed("Www-Authenticate")
        } else {
            Cow::Borrowed("WWW-Authenticate")
        };
    }
    if let Some((_, s)) = SPELLINGS.iter().find(|(n, _)| *n == name) {
        return Cow::Borrowed(s);
    }
    Cow::Owned(lab_kit::wirecase::title_case(name))
}

/// The axum layer giving every response Exchange's spelling.
pub async fn layer(req: axum::extract::Request, next: axum::middleware::Next) -> Response<Body> {
    let mut resp = next.run(req).await;
    let server = resp
        .headers()
        .get("server")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    lab_kit::wirecase::apply(&mut resp, &|name: &str, value: &[u8]| {
        spelling(name, value, &server)
    })
    .await;
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_follow_the_guides_captures() {
        let iis85 = "Microsoft-IIS/8.5 Microsoft-HTTPAPI/2.0";
        assert_eq!(
            spelling("www-authenticate", b"NTLM", iis85),
            "Www-Authenticate"
        );
        assert_eq!(
            spelling("www-authenticate", b"Bearer client_id=\"x\"", iis85),
            "WWW-Authenticate"
        );
        assert_eq!(
            spelling("www-authenticate", b"NTLM", "Microsoft-IIS/7.5"),
            "WWW-Authenticate"
        );
        assert_eq!(spelling("request-id", b"", iis85), "request-id");
        assert_eq!(spelling("x-ms-diagnostics", b"", iis85), "x-ms-diagnostics");
        assert_eq!(spelling("x-feserver", b"", iis85), "X-FEServer");
        assert_eq!(spelling("x-powered-by", b"", iis85), "X-Powered-By");
        assert_eq!(spelling("content-length", b"", iis85), "Content-Length");
        assert_eq!(spelling("proxy-support", b"", iis85), "Proxy-Support");
    }
}
