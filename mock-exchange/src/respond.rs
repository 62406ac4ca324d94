//! Every header Exchange puts on an answer, written in one place: the 401 challenge set of a
//! virtual directory and the headers stamped on every other response.
//!
//! Order follows the seed captures. hyper keeps a `HeaderMap` in first-insertion order per name
//! and writes all values of one name together, so the field's interleaving of
//! `WWW-Authenticate: Bearer` after `X-Powered-By` becomes the Bearer value written in the
//! `WWW-Authenticate` group; everything else keeps the captured order. Names go out lowercase
//! (HTTP header names are case-insensitive).

use axum::body::Body;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::Response;
use time::OffsetDateTime;

use crate::diag::Diag;
use crate::model::{AuthMethod, Organization, Server, VdirKind, VirtualDirectory};

/// Exchange's resource application id (the `client_id` of the Bearer challenge).
pub use lab_kit::wire::EXCHANGE_APP_ID;
/// Azure AD / ACS principal in `trusted_issuers`.
pub const AAD_PRINCIPAL: &str = "00000001-0000-0000-c000-000000000000";

/// Which method list applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    Internal,
    External,
}

/// The host a request arrived on decides the side: the vdir's ExternalUrl host → external;
/// its InternalUrl host or one of the server's internal names → internal; anything else →
/// external.
pub fn side_for(server: &Server, vdir: &VirtualDirectory, host: &str) -> Side {
    let names = |u: &Option<String>| u.as_deref().is_some_and(|u| url_host_is(u, host));
    if names(&vdir.external_url) {
        return Side::External;
    }
    if names(&vdir.internal_url) || server.is_internal_host(host) {
        return Side::Internal;
    }
    Side::External
}

/// The host of a vdir URL, lowercased, as the URL parser reads it. Every request asks this of
/// its vdir's URLs, so the common form (`http(s)://` and a name of letters, digits, dots and
/// hyphens, no port, no IDNA label, no number that could be an IPv4 address) is read directly;
/// anything else goes through [`url::Url`].
pub(crate) fn url_host(u: &str) -> Option<String> {
    if let Some(h) = plain_url_host(u) {
        return Some(h.to_ascii_lowercase());
    }
    url::Url::parse(u)
        .ok()
        .and_then(|u| u.host_str().map(|h| h.to_ascii_lowercase()))
}

/// Whether the host of vdir URL `u` is `host` (ASCII case aside): [`url_host`] without making a
/// string in the common form.
fn url_host_is(u: &str, host: &str) -> bool {
    match plain_url_host(u) {
        Some(h) => h.eq_ignore_ascii_case(host),
        None => url_host(u).is_some_and(|h| h.eq_ignore_ascii_case(host)),
    }
}

fn plain_url_host(u: &str) -> Option<&str> {
    let (scheme, rest) = u.split_once("://")?;
    if !(scheme.eq_ignore_ascii_case("https") || scheme.eq_ignore_ascii_case("http")) {
        return None;
    }
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let host = &rest[..end];
    let labels_ok = host.split('.').all(|l| {
        !l.is_empty()
            && !l.starts_with('-')
            && !l.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("xn--"))
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    });
    let last = host.rsplit('.').next().unwrap_or_default();
    let numeric = last.bytes().all(|b| b.is_ascii_digit())
        || last.get(..2).is_some_and(|p| p.eq_ignore_ascii_case("0x"));
    (labels_ok && !numeric && !rest[end..].starts_with('\\')).then_some(host)
}

/// The methods the vdir enforces on `side`. MAPI's are what IIS offers
/// (`IISAuthenticationMethods`, which the guide says to set), when that list is set.
pub fn methods(vdir: &VirtualDirectory, side: Side) -> &[AuthMethod] {
    if vdir.kind == VdirKind::Mapi && !vdir.iis_authentication_methods.is_empty() {
        return &vdir.iis_authentication_methods;
    }
    match side {
        Side::Internal => &vdir.internal_authentication_methods,
        Side::External => &vdir.external_authentication_methods,
    }
}

/// Whether this server offers Bearer on this vdir side.
pub fn offers_bearer(server: &Server, vdir: &VirtualDirectory, side: Side) -> bool {
    server.version.supports_hma() && methods(vdir, side).contains(&AuthMethod::OAuth)
}

/// Which Bearer challenge: the three forms Exchange writes (product build and captures).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BearerForm {
    /// No token yet: client_id, trusted_issuers, token_types, authorization_uri when an
    /// AuthServer is the default authorization endpoint.
    Handshake,
    /// A token the front end refused: the handshake plus `error="invalid_token"`.
    Rejected,
    /// A refusal decided by the back end (the guide's "Who's This?" capture): only client_id
    /// and trusted_issuers.
    BackEnd,
}

/// The Bearer challenge value. `aad_tenants` are the AuthServer tenant ids already resolved. A
/// build before Hybrid Modern Authentication (2013 CU18, 2016 CU7) never advertises
/// `authorization_uri`: it predates `IsDefaultAuthorizationEndpoint`'s use for clients.
pub fn bearer_challenge(
    org: &Organization,
    server: &Server,
    aad_tenants: &[String],
    form: BearerForm,
) -> String {
    let mut issuers: Vec<String> = aad_tenants
        .iter()
        .map(|t| format!("{AAD_PRINCIPAL}@{t}"))
        .collect();
    issuers.extend(
        org.partner_applications
            .iter()
            .filter(|p| p.enabled)
            .map(|p| format!("{}@{}", p.application_identifier, p.realm)),
    );
    let mut v = format!(
        "Bearer client_id=\"{EXCHANGE_APP_ID}\", trusted_issuers=\"{}\"",
        issuers.join(",")
    );
    if form == BearerForm::BackEnd {
        return v;
    }
    v.push_str(", token_types=\"app_asserted_user_v1 service_asserted_app_v1\"");
    if let Some(a) = org.default_auth_server().filter(|_| server.hma_build()) {
        v.push_str(&format!(
            ", authorization_uri=\"{}\"",
            a.authorization_endpoint
        ));
    }
    if form == BearerForm::Rejected {
        v.push_str(", error=\"invalid_token\"");
    }
    v
}

/// Everything a 401 needs to know.
pub struct Challenge<'a> {
    pub server: &'a Server,
    pub methods: &'a [AuthMethod],
    pub host: &'a str,
    /// The Bearer challenge value, when Bearer is offered.
    pub bearer: Option<String>,
    pub diag: Option<Diag>,
    pub now: OffsetDateTime,
}

/// The 401 with the vdir's challenge set, in the captures' order:
/// handshake (`Flighting` capture): Content-Length, Server, request-id, WWW-Authenticate
/// (Negotiate, NTLM, Basic, Bearer), X-FEServer, x-ms-diagnostics, X-Powered-By, Date,
/// Proxy-Support; rejected token (`Name Mismatches` capture): Content-Length, WWW-Authenticate
/// (Bearer first), Server, request-id, X-FEServer, x-ms-diagnostics, X-Powered-By, Date.
pub fn unauthorized(c: Challenge<'_>) -> Response {
    let rejected = c.diag.as_ref().is_some_and(Diag::token_rejected);
    let mut windows = Vec::new();
    let has = |m: AuthMethod| c.methods.contains(&m);
    if has(AuthMethod::Negotiate) || has(AuthMethod::WindowsIntegrated) {
        windows.push("Negotiate".to_string());
    }
    if has(AuthMethod::Ntlm) || has(AuthMethod::WindowsIntegrated) {
        windows.push("NTLM".to_string());
    }
    let windows_offered = !windows.is_empty();
    if has(AuthMethod::Basic) {
        windows.push(format!("Basic realm=\"{}\"", c.host.replace('"', "")));
    }
    let mut h = HeaderMap::new();
    put(&mut h, "content-length", "0");
    if rejected {
        if let Some(b) = &c.bearer {
            add(&mut h, "www-authenticate", b);
        }
    }
    put(&mut h, "server", c.server.server_header());
    h.insert(REQUEST_ID.clone(), request_id());
    for w in &windows {
        add(&mut h, "www-authenticate", w);
    }
    put(&mut h, "x-feserver", &c.server.name);
    if let Some(d) = &c.diag {
        put(&mut h, "x-ms-diagnostics", &d.header_value());
    }
    put(&mut h, "x-powered-by", "ASP.NET");
    if !rejected {
        if let Some(b) = &c.bearer {
            add(&mut h, "www-authenticate", b);
        }
    }
    put(&mut h, "date", &http_date(c.now));
    if windows_offered && !rejected {
        put(&mut h, "proxy-support", "Session-Based-Authentication");
    }
    let mut resp = Response::new(Body::new(HeadFirstEmpty));
    *resp.status_mut() = StatusCode::UNAUTHORIZED;
    *resp.headers_mut() = h;
    resp
}

/// The 401 the back end (mailbox role) writes when it refuses the user a token names, in the
/// order of the guide's "Who's This?" capture: Cache-Control, Server, request-id,
/// X-CalculatedBETarget, WWW-Authenticate (Bearer with only client_id and trusted_issuers, then
/// Basic, Negotiate, NTLM as the vdir offers them), x-ms-diagnostics, X-AspNet-Version,
/// X-Powered-By, X-FEServer, Date, Content-Length. (The capture's `Set-Cookie: ClientId` is not
/// sent.)
pub fn back_end_unauthorized(c: Challenge<'_>, back: &Server) -> Response {
    let has = |m: AuthMethod| c.methods.contains(&m);
    let mut h = HeaderMap::new();
    put(&mut h, "cache-control", "private");
    put(&mut h, "server", c.server.server_header());
    h.insert(REQUEST_ID.clone(), request_id());
    put(
        &mut h,
        "x-calculatedbetarget",
        &back.fqdn.to_ascii_lowercase(),
    );
    if let Some(b) = &c.bearer {
        add(&mut h, "www-authenticate", b);
    }
    if has(AuthMethod::Basic) {
        let realm = format!("Basic realm=\"{}\"", c.host.replace('"', ""));
        add(&mut h, "www-authenticate", &realm);
    }
    if has(AuthMethod::Negotiate) || has(AuthMethod::WindowsIntegrated) {
        add(&mut h, "www-authenticate", "Negotiate");
    }
    if has(AuthMethod::Ntlm) || has(AuthMethod::WindowsIntegrated) {
        add(&mut h, "www-authenticate", "NTLM");
    }
    if let Some(d) = &c.diag {
        put(&mut h, "x-ms-diagnostics", &d.header_value());
    }
    put(&mut h, "x-aspnet-version", "4.0.30319");
    put(&mut h, "x-powered-by", "ASP.NET");
    put(&mut h, "x-feserver", &c.server.name);
    put(&mut h, "date", &http_date(c.now));
    put(&mut h, "content-length", "0");
    let mut resp = Response::new(Body::new(HeadFirstEmpty));
    *resp.status_mut() = StatusCode::UNAUTHORIZED;
    *resp.headers_mut() = h;
    resp
}

/// The 401 carrying an NTLM type 2: the headers of every 401 (Content-Length first, Server,
/// request-id, then the one `WWW-Authenticate`, X-FEServer, X-Powered-By, Date).
pub fn ntlm_challenge(server: &Server, www_authenticate: &str, now: OffsetDateTime) -> Response {
    let mut resp = unauthorized(Challenge {
        server,
        methods: &[],
        host: "",
        bearer: None,
        diag: None,
        now,
    });
    let old = std::mem::take(resp.headers_mut());
    let mut h = HeaderMap::new();
    let mut last: Option<HeaderName> = None;
    for (name, value) in old {
        // `HeaderMap::into_iter` yields `None` names for further values of the same name.
        let name = match name {
            Some(n) => {
                last = Some(n.clone());
                n
            }
            None => match &last {
                Some(n) => n.clone(),
                None => continue,
            },
        };
        let after = name.as_str() == "request-id";
        h.append(name, value);
        if after {
            if let Ok(v) = HeaderValue::from_str(www_authenticate) {
                h.append(HeaderName::from_static("www-authenticate"), v);
            }
        }
    }
    *resp.headers_mut() = h;
    resp
}

/// An empty body hyper cannot see is empty before it writes the head. hyper writes the
/// `Content-Length` of a body it knows to be finished *after* all other headers; with this body
/// it keeps our `Content-Length: 0` where we put it — first, as in every capture.
struct HeadFirstEmpty;

impl hyper::body::Body for HeadFirstEmpty {
    type Data = axum::body::Bytes;
    type Error = std::convert::Infallible;
    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<Self::Data>, Self::Error>>> {
        std::task::Poll::Ready(None)
    }
}

/// Where an answer came from, for the headers stamped on it.
pub struct Stamp<'a> {
    pub front: &'a Server,
    /// The mailbox server the request was routed to, if any.
    pub back: Option<&'a Server>,
    pub now: OffsetDateTime,
}

/// Adds the headers every answer carries, after the protocol's own: Server, request-id,
/// X-CalculatedBETarget, X-BEServer, X-Powered-By, X-FEServer, Date. Values a surface or a back
/// end set for these names are replaced.
pub fn stamp(resp: &mut Response, s: Stamp<'_>) {
    let h = resp.headers_mut();
    // Removed first, so the stamped names follow the protocol's own in this order even when a
    // surface or a back end set one of them.
    for n in &STAMPED {
        h.remove(n);
    }
    h.insert(SERVER.clone(), server_value(s.front.server_header(), false));
    h.insert(REQUEST_ID.clone(), request_id());
    if let Some(b) = s.back {
        h.insert(CALCULATED_BE_TARGET.clone(), server_value(&b.fqdn, true));
        h.insert(BE_SERVER.clone(), server_value(&b.name, false));
    }
    h.insert(POWERED_BY.clone(), HeaderValue::from_static("ASP.NET"));
    h.insert(FE_SERVER.clone(), server_value(&s.front.name, false));
    h.insert(DATE.clone(), date_value(s.now));
}

/// How many of a server's stamped values each thread keeps made.
const SERVER_VALUES: usize = 16;

/// [`value`] of `v` (in lower case when `lower`), for the few values a lab's servers stamp on
/// every answer (`Server`, their names and FQDNs): each thread keeps the last ones it made, so an
/// answer clones a made value instead of copying the string into a new one.
fn server_value(v: &str, lower: bool) -> HeaderValue {
    thread_local! {
        static MADE: std::cell::RefCell<Vec<(bool, Box<str>, HeaderValue)>> =
            const { std::cell::RefCell::new(Vec::new()) };
    }
    MADE.with(|made| {
        let mut made = made.borrow_mut();
        if let Some((_, _, hv)) = made.iter().find(|(l, s, _)| *l == lower && **s == *v) {
            return hv.clone();
        }
        let hv = if lower {
            value(&v.to_ascii_lowercase())
        } else {
            value(v)
        };
        if made.len() == SERVER_VALUES {
            made.remove(0);
        }
        made.push((lower, v.into(), hv.clone()));
        hv
    })
}

const SERVER: HeaderName = HeaderName::from_static("server");
const REQUEST_ID: HeaderName = HeaderName::from_static("request-id");
const CALCULATED_BE_TARGET: HeaderName = HeaderName::from_static("x-calculatedbetarget");
const BE_SERVER: HeaderName = HeaderName::from_static("x-beserver");
const POWERED_BY: HeaderName = HeaderName::from_static("x-powered-by");
const FE_SERVER: HeaderName = HeaderName::from_static("x-feserver");
const DATE: HeaderName = HeaderName::from_static("date");

/// The `Date` value of `now`, formatted once per second per thread (every answer carries one).
fn date_value(now: OffsetDateTime) -> HeaderValue {
    thread_local! {
        static LAST: std::cell::RefCell<Option<(i64, HeaderValue)>> =
            const { std::cell::RefCell::new(None) };
    }
    let secs = now.unix_timestamp();
    LAST.with(|last| {
        let mut last = last.borrow_mut();
        match &*last {
            Some((at, v)) if *at == secs => v.clone(),
            _ => {
                let v = value(&http_date(now));
                *last = Some((secs, v.clone()));
                v
            }
        }
    })
}

/// A fresh `request-id`: a version-4 UUID from the thread's generator (seeded from the OS), not
/// a `getrandom` system call per answer.
fn request_id() -> HeaderValue {
    let id = uuid::Builder::from_random_bytes(rand::random()).into_uuid();
    let mut buf = [0u8; uuid::fmt::Hyphenated::LENGTH];
    HeaderValue::from_bytes(id.hyphenated().encode_lower(&mut buf).as_bytes())
        .unwrap_or(HeaderValue::from_static(""))
}

/// Header names [`stamp`] owns.
const STAMPED: [HeaderName; 7] = [
    SERVER,
    REQUEST_ID,
    CALCULATED_BE_TARGET,
    BE_SERVER,
    POWERED_BY,
    FE_SERVER,
    DATE,
];

/// A plain error answer (no challenge), stamped.
pub fn plain(status: StatusCode, content_type: &str, body: String, s: Stamp<'_>) -> Response {
    let mut resp = Response::new(Body::from(body));
    *resp.status_mut() = status;
    put(resp.headers_mut(), "content-type", content_type);
    stamp(&mut resp, s);
    resp
}

/// `Thu, 13 Jul 2017 18:22:13 GMT`: the one RFC 7231 date of the lab, shared with Azure AD.
pub use lab_kit::wire::http_date;

fn value(v: &str) -> HeaderValue {
    HeaderValue::from_str(v).unwrap_or_else(|_| {
        HeaderValue::from_str(&v.replace(|c: char| !(' '..='~').contains(&c), "?"))
            .unwrap_or(HeaderValue::from_static(""))
    })
}

pub(crate) fn put(h: &mut HeaderMap, name: &'static str, v: &str) {
    h.insert(HeaderName::from_static(name), value(v));
}

pub(crate) fn add(h: &mut HeaderMap, name: &'static str, v: &str) {
    h.append(HeaderName::from_static(name), value(v));
}

#[cfg(test)]
mod url_host_tests {
    use super::*;

    #[test]
    fn the_direct_reading_agrees_with_the_url_parser() {
        let parsed = |u: &str| {
            url::Url::parse(u)
                .ok()
                .and_then(|u| u.host_str().map(|h| h.to_ascii_lowercase()))
        };
        for u in [
            "https://mail.contoso.com/mapi",
            "https://MAIL.Contoso.COM/EWS/Exchange.asmx",
            "HTTPS://mail.contoso.com",
            "http://ex1.corp.contoso.com/owa?x=1",
            "https://mail.contoso.com#frag",
            "https://mail.contoso.com:443/mapi",
            "https://mail.contoso.com:8443/mapi",
            "https://user@mail.contoso.com/",
            "https://127.0.0.1/ews",
            "https://127.1/ews",
            "https://0x7f.1/",
            "https://a.0x1f/",
            "https://a.0X1F/",
            "https://xn--bcher-kva.example/",
            "https://XN--bcher-kva.example/",
            "https://xn--invalid-.example/",
            "https://b\u{fc}cher.example/",
            "https://-bad.example/",
            "https://bad-.example/",
            "https://a..b/",
            "https://mail.contoso.com./",
            "https://mail.contoso.com\\mapi",
            "https://[::1]/",
            "https://mail%2econtoso.com/",
            "https://mail.contoso.com /",
            "https://mail\tcontoso.com/",
            "ftp://mail.contoso.com/",
            "mail.contoso.com/mapi",
            "https:///mapi",
            "https://",
            "",
        ] {
            assert_eq!(url_host(u), parsed(u), "{u:?}");
        }
    }
}

#[cfg(test)]
mod server_value_tests {
    use super::*;

    #[test]
    fn made_values_are_the_values_of_their_strings() {
        assert_eq!(server_value("EX1", false), "EX1");
        assert_eq!(server_value("EX1", true), "ex1");
        assert_eq!(server_value("EX1", false), "EX1");
        assert_eq!(server_value("Mail.Contoso.com", true), "mail.contoso.com");
        // More names than a thread keeps: the oldest are made again, never mixed up.
        for round in 0..2 {
            for i in 0..(SERVER_VALUES + 5) {
                let name = format!("EX{i}.Contoso.com");
                assert_eq!(server_value(&name, false), name.as_str(), "round {round}");
                assert_eq!(
                    server_value(&name, true),
                    name.to_ascii_lowercase().as_str(),
                    "round {round}"
                );
            }
        }
        // A control character becomes `?`, as `value` writes it.
        assert_eq!(server_value("EX\u{1}9", false), "EX?9");
    }
}
