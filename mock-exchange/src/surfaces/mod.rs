//! The protocol surfaces behind the auth pipeline: Autodiscover (POX, SOAP, JSON v2), EWS,
//! MAPI/HTTP, OAB, EAS, OWA/ECP and RPC/HTTP.
//!
//! CONTRACT between the pipeline (`crate::pipeline`, `crate::lib`) and the surfaces:
//! - The pipeline decides *whether* a request may reach a surface (challenges, Bearer validation,
//!   Basic, x-ms-diagnostics, proxying to the back end). Once it has, it calls [`dispatch`] with a
//!   [`SurfaceCtx`] describing who was let in, on which server, reached under which URL.
//! - A surface returns the protocol response (status, content type, body, protocol headers such
//!   as `X-ResponseCode` or `MS-ASProtocolVersions`). The pipeline then adds the headers every
//!   Exchange response carries (`request-id`, `X-FEServer`, `X-BEServer`, `X-CalculatedBETarget`,
//!   `X-Powered-By`, `Server`, `Date`), so surfaces never set those.
//! - Surfaces read the organization only through `ctx.org` (the *effective* settings, i.e. after
//!   the settings cache) and keep mailbox contents in [`MailStore`].
//!
//! Each surface lives in its own module and is a plain function of (context, request parts,
//! body) to a response, so router-free unit tests can drive it; [`dispatch`] only picks the
//! module by vdir kind and enforces the body-size limit before any parsing happens.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use lab_kit::Clock;

use crate::model::{Account, Mailbox, Organization, Server, VdirKind};

pub mod autodiscover;
pub mod eas;
pub mod ews;
pub mod mapi;
pub mod oab;
pub mod owa;
pub mod rpc;
pub mod store;
pub mod xml;
pub use store::MailStore;

#[cfg(test)]
pub(crate) mod testing;

/// Largest request body a surface parses (bytes). Larger bodies get `413` before parsing.
pub const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

/// How the caller authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Authn {
    Bearer,
    Basic,
    Ntlm,
    Negotiate,
    Anonymous,
}

/// The authenticated user: the on-premises account and its mailbox.
#[derive(Debug, Clone)]
pub struct AuthedUser {
    pub account: Account,
    pub mailbox: Mailbox,
}

/// Everything a surface may know about a request.
#[derive(Clone)]
pub struct SurfaceCtx {
    /// Effective organization settings (what the serving path sees after the settings cache).
    pub org: Arc<Organization>,
    /// The server producing the answer (the mailbox's back end after proxying).
    pub server: Server,
    /// `https` or `http` — the scheme the client used (after offloading devices).
    pub scheme: String,
    /// The host the client used (no port), e.g. `mail.contoso.com`.
    pub host: String,
    /// `None` for anonymous requests the pipeline lets through (e.g. Autodiscover JSON v2).
    pub user: Option<AuthedUser>,
    pub authn: Authn,
    pub store: MailStore,
    pub clock: Clock,
}

impl SurfaceCtx {
    /// Whether the request arrived on one of the server's internal names.
    pub fn is_internal(&self) -> bool {
        self.server.is_internal_host(&self.host)
    }

    /// The server a mailbox lives on (falls back to the answering server).
    pub fn mailbox_server(&self, mb: &Mailbox) -> Server {
        self.org
            .server(&mb.server)
            .cloned()
            .unwrap_or_else(|| self.server.clone())
    }

    /// The lab clock as a UTC date-time.
    pub fn now(&self) -> time::OffsetDateTime {
        time::OffsetDateTime::from(self.clock.now())
    }
}

/// Routes a request that passed the pipeline to the surface for `kind`.
pub async fn dispatch(ctx: SurfaceCtx, kind: VdirKind, parts: Parts, body: Bytes) -> Response {
    if body.len() > MAX_BODY_BYTES {
        return too_large();
    }
    match kind {
        VdirKind::Autodiscover => autodiscover::handle(&ctx, &parts, &body),
        VdirKind::Ews => ews::handle(&ctx, &parts, &body),
        VdirKind::Mapi => mapi::handle(&ctx, &parts, &body),
        VdirKind::Oab => oab::handle(&ctx, &parts, &body),
        VdirKind::Eas => eas::handle(&ctx, &parts, &body),
        VdirKind::Owa | VdirKind::Ecp => owa::handle(&ctx, kind, &parts, &body),
        VdirKind::Rpc => rpc::handle(&ctx, &parts, &body),
    }
}

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

/// The request's path, lowercased, without a trailing slash.
pub(crate) fn lower_path(parts: &Parts) -> String {
    let p = parts.uri.path().to_ascii_lowercase();
    let t = p.trim_end_matches('/');
    if t.is_empty() {
        "/".into()
    } else {
        t.to_string()
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

    /// Every surface, fed junk on its own paths and on odd ones, answers without panicking.
    #[tokio::test]
    async fn junk_never_panics_any_surface() {
        use axum::http::Method;
        let ctx = testing::greg();
        let anon = testing::ctx_for(testing::org(), None);
        let paths: &[(VdirKind, &str)] = &[
            (VdirKind::Autodiscover, "/autodiscover/autodiscover.xml"),
            (VdirKind::Autodiscover, "/autodiscover/autodiscover.svc"),
            (
                VdirKind::Autodiscover,
                "/autodiscover/autodiscover.json/v1.0/%FF%00?Protocol=%00",
            ),
            (VdirKind::Ews, "/EWS/Exchange.asmx"),
            (VdirKind::Mapi, "/mapi/emsmdb/?MailboxId=%zz"),
            (
                VdirKind::Mapi,
                "/mapi/nspi/?MailboxId=e1ce3d66-8b4b-4b4a-9b5c-7b0f6a1c2d3e@contoso.com",
            ),
            (VdirKind::Oab, "/OAB/../../etc/passwd"),
            (VdirKind::Eas, "/Microsoft-Server-ActiveSync?Cmd"),
            (VdirKind::Owa, "/owa/auth.owa"),
            (
                VdirKind::Owa,
                "/owa/auth/logon.aspx?url=%FF&reason=999999999999",
            ),
            (VdirKind::Ecp, "/ecp/x"),
            (VdirKind::Rpc, "/rpc/rpcproxy.dll?x"),
        ];
        let bodies: Vec<Vec<u8>> = vec![
            vec![],
            vec![0xff; 64],
            b"<".to_vec(),
            b"<?xml version=\"1.0\"?><a xmlns=\"x\"><b>&#xD800;</b></a>".to_vec(),
            b"\0\0\0\0\x01".to_vec(),
            "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body><m:GetFolder xmlns:m=\"http://schemas.microsoft.com/exchange/services/2006/messages\"/></s:Body></s:Envelope>".as_bytes().to_vec(),
        ];
        let hdrs = [
            ("x-requesttype", "Execute"),
            ("x-requestid", "{x}:1"),
            ("x-clientinfo", "{y}"),
            ("cookie", "MapiContext=;;=;MapiSequence"),
            ("x-mapihttpcapability", "1"),
            ("content-length", "99999999999999999999"),
        ];
        for c in [&ctx, &anon] {
            for (kind, path) in paths {
                for body in &bodies {
                    for m in [Method::GET, Method::POST, Method::OPTIONS] {
                        let a = testing::call(c, *kind, m, path, &hdrs, body.clone()).await;
                        // A 500 is only ever a well-formed SOAP fault, never a crash page.
                        if a.status == StatusCode::INTERNAL_SERVER_ERROR {
                            let root = xml::parse(&a.body).expect("fault is XML");
                            assert!(root.is(xml::NS_SOAP, "Envelope"), "{path}");
                            assert!(a.text().contains("<s:Fault>"), "{path}");
                        }
                    }
                }
            }
        }
    }

    #[tokio::test]
    async fn oversized_bodies_get_413_before_parsing() {
        let ctx = testing::greg();
        let body = vec![b'<'; MAX_BODY_BYTES + 1];
        let a = testing::call(
            &ctx,
            VdirKind::Ews,
            axum::http::Method::POST,
            "/EWS/Exchange.asmx",
            &[],
            body,
        )
        .await;
        assert_eq!(a.status, StatusCode::PAYLOAD_TOO_LARGE);
        assert!(a.body.is_empty());
    }
}
