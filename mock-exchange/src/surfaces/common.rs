//! What every surface needs to read a request and write IIS-shaped answers (404, 405, 413,
//! a typed body, a header), and the build facts several protocols print (`long_build`, the EWS
//! schemas a version accepts, stable GUIDs derived from names).

use axum::body::Body;
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// IIS's answer to a body over the request limit: `413`, no body.
pub(crate) fn too_large() -> Response {
    let mut r = Response::new(Body::empty());
    *r.status_mut() = StatusCode::PAYLOAD_TOO_LARGE;
    r
}

/// IIS's plain 404 (the static-file handler found nothing).
pub(crate) fn not_found() -> Response {
    let body = "<!DOCTYPE html PUBLIC \"-//W3C//DTD XHTML 1.0 Strict//EN\" \"http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd\">\r\n<html xmlns=\"http://www.w3.org/1999/xhtml\">\r\n<head>\r\n<meta http-equiv=\"Content-Type\" content=\"text/html; charset=iso-8859-1\"/>\r\n<title>404 - File or directory not found.</title>\r\n</head>\r\n<body>\r\n<div id=\"header\"><h1>Server Error</h1></div>\r\n<div id=\"content\">\r\n <div class=\"content-container\"><fieldset>\r\n  <h2>404 - File or directory not found.</h2>\r\n  <h3>The resource you are looking for might have been removed, had its name changed, or is temporarily unavailable.</h3>\r\n </fieldset></div>\r\n</div>\r\n</body>\r\n</html>\r\n";
    with_type(StatusCode::NOT_FOUND, "text/html", body.to_string())
}

/// A response with a status, a `Content-Type` and a body.
pub(crate) fn with_type(status: StatusCode, content_type: &str, body: impl Into<Body>) -> Response {
    let mut r = Response::new(body.into());
    *r.status_mut() = status;
    if let Ok(v) = HeaderValue::from_str(content_type) {
        r.headers_mut().insert(header::CONTENT_TYPE, v);
    }
    r
}

/// Sets a header when the value is valid (values here come from our own formatting).
pub(crate) fn set_header(r: &mut Response, name: &'static str, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        r.headers_mut().insert(name, v);
    }
}

/// `HTTP 405` with the allowed verbs, as IIS answers a verb the handler does not map.
pub(crate) fn method_not_allowed(allow: &str) -> Response {
    let mut r = (StatusCode::METHOD_NOT_ALLOWED, "").into_response();
    set_header(&mut r, "allow", allow);
    r
}

/// The request's path, lowercased, without a trailing slash (borrowed when it already is).
pub(crate) fn lower_path(parts: &Parts) -> std::borrow::Cow<'_, str> {
    let t = parts.uri.path().trim_end_matches('/');
    if t.is_empty() {
        "/".into()
    } else if t.bytes().any(|b| b.is_ascii_uppercase()) {
        t.to_ascii_lowercase().into()
    } else {
        t.into()
    }
}

/// A query parameter (first occurrence, case-insensitive name).
pub(crate) fn query_param(parts: &Parts, name: &str) -> Option<String> {
    let q = parts.uri.query()?;
    form_urlencoded::parse(q.as_bytes())
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.into_owned())
}

/// A request header as text.
pub(crate) fn header_str<'a>(parts: &'a Parts, name: &str) -> Option<&'a str> {
    parts.headers.get(name).and_then(|v| v.to_str().ok())
}

/// `15.01.1415.002`: the zero-padded build Exchange prints in `X-ServerApplication` and
/// `CasVersion`.
pub fn long_build(v: crate::model::ExchangeVersion) -> String {
    let (a, b, c, d) = v.build();
    format!("{a}.{b:02}.{c:04}.{d:03}")
}

/// The newest EWS schema a version serves, and every one it accepts in `RequestServerVersion`.
pub fn ews_schemas(v: crate::model::ExchangeVersion) -> &'static [&'static str] {
    use crate::model::ExchangeVersion::*;
    const ALL: &[&str] = &[
        "Exchange2007",
        "Exchange2007_SP1",
        "Exchange2010",
        "Exchange2010_SP1",
        "Exchange2010_SP2",
        "Exchange2013",
        "Exchange2013_SP1",
        "Exchange2016",
    ];
    match v {
        Ex2016 => ALL,
        Ex2013 => &ALL[..7],
        Ex2010 => &ALL[..5],
    }
}

/// A stable GUID derived from a name (FNV-1a based), for ids the lab file does not carry
/// (DeploymentId, the default OAB).
pub fn name_guid(name: &str) -> uuid::Uuid {
    let mut h1: u64 = 0xcbf2_9ce4_8422_2325;
    let mut h2: u64 = 0x8422_2325_cbf2_9ce4;
    for b in name.bytes() {
        h1 = (h1 ^ b as u64).wrapping_mul(0x0100_0000_01b3);
        h2 = (h2 ^ b as u64).wrapping_mul(0x0000_0100_0000_01b3 ^ 0x55);
    }
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&h1.to_be_bytes());
    bytes[8..].copy_from_slice(&h2.to_be_bytes());
    uuid::Builder::from_random_bytes(bytes).into_uuid()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ExchangeVersion;

    #[test]
    fn the_path_is_lowercased_without_trailing_slashes_and_copied_only_when_it_must_be() {
        let path = |p: &str| {
            let (parts, ()) = axum::http::Request::builder()
                .uri(p)
                .body(())
                .unwrap()
                .into_parts();
            let l = lower_path(&parts);
            (l.to_string(), matches!(l, std::borrow::Cow::Borrowed(_)))
        };
        assert_eq!(
            path("/ews/exchange.asmx"),
            ("/ews/exchange.asmx".into(), true)
        );
        assert_eq!(
            path("/EWS/Exchange.asmx"),
            ("/ews/exchange.asmx".into(), false)
        );
        assert_eq!(path("/mapi/emsmdb//"), ("/mapi/emsmdb".into(), true));
        assert_eq!(path("/MAPI/"), ("/mapi".into(), false));
        assert_eq!(path("/"), ("/".into(), true));
        assert_eq!(path("//"), ("/".into(), true));
    }

    #[test]
    fn long_build_is_zero_padded() {
        assert_eq!(long_build(ExchangeVersion::Ex2016), "15.01.1415.002");
        assert_eq!(long_build(ExchangeVersion::Ex2013), "15.00.1365.001");
        assert_eq!(long_build(ExchangeVersion::Ex2010), "14.03.0123.004");
    }

    #[test]
    fn name_guid_is_stable_and_distinct() {
        assert_eq!(name_guid("contoso.com"), name_guid("contoso.com"));
        assert_ne!(name_guid("contoso.com"), name_guid("fabrikam.com"));
        assert_eq!(name_guid("x").get_version_num(), 4);
    }
}
