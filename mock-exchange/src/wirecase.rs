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

/// The spelling of names that are not plain Title-Case (and of the commonest that are), by a
/// `match` the compiler turns into a few length and byte comparisons: every answer asks it of
/// each of its names.
fn known_spelling(name: &str) -> Option<&'static str> {
    Some(match name {
        "request-id" => "request-id",
        "x-ms-diagnostics" => "x-ms-diagnostics",
        "x-feserver" => "X-FEServer",
        "x-beserver" => "X-BEServer",
        "x-calculatedbetarget" => "X-CalculatedBETarget",
        "x-aspnet-version" => "X-AspNet-Version",
        "x-diaginfo" => "X-DiagInfo",
        "x-owa-version" => "X-OWA-Version",
        "x-responsecode" => "X-ResponseCode",
        "x-requesttype" => "X-RequestType",
        "x-requestid" => "X-RequestId",
        "x-clientinfo" => "X-ClientInfo",
        "x-serverapplication" => "X-ServerApplication",
        "x-expirationinfo" => "X-ExpirationInfo",
        "x-pendingperiod" => "X-PendingPeriod",
        "x-mapihttpcapability" => "X-MapiHttpCapability",
        "x-oauth-enabled" => "X-OAuth-Enabled",
        "x-soap-enabled" => "X-SOAP-Enabled",
        "x-wssecurity-enabled" => "X-WSSecurity-Enabled",
        "x-wssecurity-for" => "X-WSSecurity-For",
        "ms-server-activesync" => "MS-Server-ActiveSync",
        "ms-asprotocolversions" => "MS-ASProtocolVersions",
        "ms-asprotocolcommands" => "MS-ASProtocolCommands",
        // Plain Title-Case, listed so the names of nearly every answer need no new string.
        "content-type" => "Content-Type",
        "server" => "Server",
        "x-powered-by" => "X-Powered-By",
        "date" => "Date",
        "cache-control" => "Cache-Control",
        "location" => "Location",
        "set-cookie" => "Set-Cookie",
        _ => return None,
    })
}

/// The wire spelling of header `name` with `value` in a response whose `Server` is `server`.
pub fn spelling(name: &str, value: &[u8], server: &str) -> Cow<'static, str> {
    spelling_on(name, value, is_iis8(server))
}

/// Whether `server` (the `Server` value) is IIS 8.x or later.
fn is_iis8(server: &str) -> bool {
    server.contains("Microsoft-IIS/8") || server.contains("Microsoft-IIS/10")
}

fn spelling_on(name: &str, value: &[u8], iis8: bool) -> Cow<'static, str> {
    if name == "www-authenticate" {
        // IIS 8.x's own modules write `Www-Authenticate`; Exchange's Bearer challenge, and
        // everything on IIS 7.5, is `WWW-Authenticate`.
        return if iis8 && !value.starts_with(b"Bearer") {
            Cow::Borrowed("Www-Authenticate")
        } else {
            Cow::Borrowed("WWW-Authenticate")
        };
    }
    if let Some(s) = known_spelling(name) {
        return Cow::Borrowed(s);
    }
    Cow::Owned(lab_kit::wirecase::title_case(name))
}

/// The axum layer giving every response Exchange's spelling.
pub async fn layer(req: axum::extract::Request, next: axum::middleware::Next) -> Response<Body> {
    finish(next.run(req).await).await
}

/// What [`layer`] does to an answer: header names spelled as IIS spells them.
pub async fn finish(mut resp: Response<Body>) -> Response<Body> {
    let iis8 = resp
        .headers()
        .get(axum::http::header::SERVER)
        .and_then(|v| v.to_str().ok())
        .is_some_and(is_iis8);
    lab_kit::wirecase::apply(&mut resp, &|name: &str, value: &[u8]| {
        spelling_on(name, value, iis8)
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

    #[test]
    fn the_common_title_case_names_are_spelled_as_title_case_would() {
        for name in [
            "content-type",
            "server",
            "x-powered-by",
            "date",
            "cache-control",
            "location",
            "set-cookie",
        ] {
            assert_eq!(
                known_spelling(name),
                Some(lab_kit::wirecase::title_case(name).as_str()),
                "{name}"
            );
        }
        assert_eq!(known_spelling("x-unknown"), None);
    }
}
