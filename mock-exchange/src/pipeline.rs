//! The front end: every request to a server's listener comes through here.
//!
//! It works out where the client believes it is (`https://<Host>`, or the scheme in
//! `X-Forwarded-Proto` set by an offloading device), which virtual directory and which side
//! (internal/external) apply, authenticates (Bearer per [`crate::bearer`]; Basic and NTLMv2 per
//! [`crate::ntlm`] against the on-premises accounts), finds the mailbox, proxies to the mailbox's server when it is another
//! one, and finally hands the request to [`crate::surfaces::dispatch`]. Refusals are rendered by
//! [`crate::respond`], so every answer carries the same headers in the same order.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::Response;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use lab_kit::secret::constant_time_eq;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::bearer::{self, Arrival};
use crate::diag::Diag;
use crate::model::{Account, AuthMethod, ExchangeVersion, Organization, Server, VdirKind};
use crate::ntlm;
use crate::respond::{self, BearerForm, Challenge, Stamp};
use crate::state::{trusted_auth_servers, AppState};
use crate::surfaces::{self, AuthedUser, Authn, SurfaceCtx};

/// Largest request body accepted (EWS CreateItem with attachments stays well below).
pub const MAX_BODY: usize = 4 * 1024 * 1024;

/// The header a front end adds when it proxies to a back end.
pub const BACKEND_HEADER: &str = "x-hmalab-backend";

/// Router state: the shared state plus which server this listener is.
#[derive(Clone)]
pub struct Front {
    pub state: AppState,
    /// Shared, not copied, by the clone each request takes.
    pub server: std::sync::Arc<str>,
}

fn stamp_of<'a>(front: &'a Server, back: Option<&'a Server>, now: OffsetDateTime) -> Stamp<'a> {
    Stamp { front, back, now }
}

fn now_of(state: &AppState) -> OffsetDateTime {
    OffsetDateTime::from(state.clock.now())
}

/// The host the client used (Host header without port), lowercased.
fn host_of(headers: &HeaderMap) -> String {
    let raw = headers
        .get(axum::http::header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .trim();
    if raw.starts_with('[') {
        // `[::1]:443` → `[::1]`; an unclosed bracket is closed.
        return match raw.find(']') {
            Some(end) => raw[..=end].to_ascii_lowercase(),
            None => format!("{}]", raw.to_ascii_lowercase()),
        };
    }
    raw.split(':')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase()
}

/// `https` unless an offloading device says otherwise in `X-Forwarded-Proto`.
fn scheme_of(headers: &HeaderMap) -> String {
    let first = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(',').next().unwrap_or_default().trim());
    match first {
        Some(s) if s.eq_ignore_ascii_case("http") => "http".into(),
        _ => "https".into(),
    }
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Outlook for Windows, as Exchange's client profile sees it (not Outlook for Mac, not EAS).
pub fn is_outlook_for_windows(headers: &HeaderMap) -> bool {
    if header_str(headers, "x-clientapplication").is_some_and(|v| v.starts_with("Outlook/")) {
        return true;
    }
    let ua = header_str(headers, "user-agent").unwrap_or_default();
    !ua.contains("MacOutlook")
        && ua.starts_with("Microsoft Office/1")
        && ua.contains("Windows NT")
        && (ua.contains("Microsoft Outlook") || ua.contains("MAPI"))
}

/// The `Authorization` header as the server reads it: bytes as ISO-8859-1 characters, trimmed.
/// A header with non-ASCII bytes is still a credential (a Bearer token the JWT library cannot
/// read), not an anonymous request.
fn authorization_of(headers: &HeaderMap) -> std::borrow::Cow<'_, str> {
    let bytes = headers
        .get(axum::http::header::AUTHORIZATION)
        .map(|v| v.as_bytes())
        .unwrap_or_default();
    let space = |c: char| c == ' ' || c == '\t';
    match std::str::from_utf8(bytes) {
        // ASCII (every real credential): the bytes are the characters, no copy.
        Ok(t) if bytes.is_ascii() => std::borrow::Cow::Borrowed(t.trim_matches(space)),
        _ => {
            let latin1: String = bytes.iter().map(|&b| char::from(b)).collect();
            std::borrow::Cow::Owned(latin1.trim_matches(space).to_string())
        }
    }
}

/// The user named in the `Flighting` diagnostic: `X-AnchorMailbox`, else the POX request's
/// EMailAddress, lowercased.
fn flighting_user(headers: &HeaderMap, body: &[u8]) -> String {
    if let Some(a) = header_str(headers, "x-anchormailbox") {
        return a.trim().to_ascii_lowercase();
    }
    let text = String::from_utf8_lossy(body);
    if let Some(start) = text.find("<EMailAddress>") {
        let rest = &text[start + "<EMailAddress>".len()..];
        if let Some(end) = rest.find("</EMailAddress>") {
            return rest[..end].trim().to_ascii_lowercase();
        }
    }
    String::new()
}

/// The catch-all handler of a server's listener.
pub async fn handle<B>(State(front): State<Front>, req: axum::http::Request<B>) -> Response
where
    B: axum::body::HttpBody<Data = axum::body::Bytes>,
{
    let Front {
        state,
        server: server_name,
    } = front;
    let org = state.effective_for(&server_name);
    // Borrowed from the settings snapshot for the whole request: no per-request copy of the
    // server (its vdirs, names and flags) beyond the one the surface context owns.
    let Some(server) = org.server(&server_name) else {
        let mut r = Response::new(Body::from("server removed from the organization"));
        *r.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
        return r;
    };
    let (parts, body) = req.into_parts();
    let now = now_of(&state);
    let stamp = |back| stamp_of(server, back, now);
    let body = match lab_kit::body::collect_limited(body, MAX_BODY).await {
        Ok(b) => b,
        Err(_) => {
            return respond::plain(
                StatusCode::PAYLOAD_TOO_LARGE,
                "text/html",
                iis_error("413.0", "Request Entity Too Large"),
                stamp(None),
            )
        }
    };
    if parts.headers.contains_key(BACKEND_HEADER) {
        return back_end(&state, &org, server, parts, body).await;
    }
    let at = Arrival {
        scheme: scheme_of(&parts.headers),
        host: host_of(&parts.headers),
    };
    let path = parts.uri.path();
    let Some(kind) = VdirKind::for_path(path) else {
        return respond::plain(
            StatusCode::NOT_FOUND,
            "text/html",
            iis_error("404.0", "Not Found"),
            stamp(None),
        );
    };
    let Some(vdir) = server.vdir(kind) else {
        return respond::plain(
            StatusCode::NOT_FOUND,
            "text/html",
            iis_error("404.0", "Not Found"),
            stamp(None),
        );
    };
    let side = respond::side_for(server, vdir, &at.host);
    let methods = respond::methods(vdir, side);
    let offers_bearer = respond::offers_bearer(server, vdir, side);

    if is_anonymous(kind, path, vdir) {
        let ctx = surface_ctx(&state, &org, server, at, None, Authn::Anonymous);
        let mut resp = surfaces::dispatch(ctx, kind, parts, body).await;
        respond::stamp(&mut resp, stamp(None));
        return resp;
    }

    let challenge = |bearer: Option<String>, diag: Option<Diag>| {
        let host = at.host.clone();
        let state = state.clone();
        let org = org.clone();
        async move {
            let back_end = diag.as_ref().is_some_and(Diag::decided_by_back_end);
            let form = match &diag {
                _ if back_end => BearerForm::BackEnd,
                Some(d) if d.token_rejected() => BearerForm::Rejected,
                _ => BearerForm::Handshake,
            };
            let value = match bearer {
                Some(v) => Some(v),
                None if offers_bearer => Some(bearer_value(&state, &org, server, form).await),
                None => None,
            };
            let c = Challenge {
                server,
                methods,
                host: &host,
                bearer: value,
                diag,
                now: now_of(&state),
            };
            if back_end {
                // No mailbox names a back end: the front end's own mailbox role answers.
                respond::back_end_unauthorized(c, server)
            } else {
                respond::unauthorized(c)
            }
        }
    };

    let authz = authorization_of(&parts.headers);
    let space = |c: char| c == ' ' || c == '\t';
    let (word, credentials) = match authz.split_once(space) {
        Some((s, c)) => (s, c.trim_matches(space)),
        None => (&*authz, ""),
    };
    // The scheme word in lower case, copied only when it is not already (every real client
    // writes `Bearer`, `Basic`, `NTLM` or `Negotiate`: those are matched without a copy).
    let scheme_word: std::borrow::Cow<'_, str> = match ["bearer", "basic", "ntlm", "negotiate"]
        .into_iter()
        .find(|w| word.eq_ignore_ascii_case(w))
    {
        Some(w) => w.into(),
        None => word.to_ascii_lowercase().into(),
    };
    let (user, authn) = match &*scheme_word {
        "bearer" if offers_bearer => {
            if credentials.is_empty() {
                // A build before HMA (2013 CU18, 2016 CU7) has no client profile to check.
                let diag = (server.hma_build()
                    && is_outlook_for_windows(&parts.headers)
                    && !org.org_config.oauth2_client_profile_enabled)
                    .then(|| Diag::Flighting {
                        user: flighting_user(&parts.headers, &body),
                    });
                return challenge(None, diag).await;
            }
            match bearer::validate(&state, &org, credentials, &at).await {
                Ok(u) => (Some(u), Authn::Bearer),
                Err(d) => {
                    tracing::debug!(server = %server.name, path = %path, diagnostic = %d.header_value(), "bearer token rejected");
                    return challenge(None, Some(d)).await;
                }
            }
        }
        "basic" if methods.contains(&AuthMethod::Basic) => match basic_user(&org, credentials) {
            Some(u) => u,
            None => return challenge(None, None).await,
        },
        "ntlm" | "negotiate" | "" => {
            let domain = ntlm::Domain::of(&org);
            let peer = parts
                .extensions
                .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                .map(|c| c.0);
            match ntlm::logon(ntlm::LogonRequest {
                store: &state.ntlm,
                domain: &domain,
                server,
                methods,
                peer,
                scheme_word: &scheme_word,
                credentials,
                now,
                challenge: ntlm::logon::random_challenge,
            }) {
                ntlm::Logon::Continue(value) => {
                    return respond::ntlm_challenge(server, &value, now)
                }
                ntlm::Logon::Done(account, scheme) => ntlm_user(&org, account, scheme),
                ntlm::Logon::Refused => return challenge(None, None).await,
            }
        }
        _ => return challenge(None, None).await,
    };

    // The mailbox decides the back end.
    let target = target_mailbox(&org, &parts, user.as_ref());
    let back = target
        .as_ref()
        .and_then(|m| org.server(&m.server))
        .unwrap_or(server);
    if !back.name.eq_ignore_ascii_case(&server.name) {
        if back.version == ExchangeVersion::Ex2010 && authn == Authn::Bearer {
            // The seed: "when they return with a token we'll refuse to proxy from E2013/16 to
            // E2010". The client gets a 401 it cannot satisfy with its token.
            return challenge(
                None,
                Some(Diag::MailboxVersion {
                    server: back.name.clone(),
                }),
            )
            .await;
        }
        return proxy(&state, server, back, parts, body, user.as_ref(), authn, &at).await;
    }
    let routed = target.is_some().then_some(back);
    let ctx = surface_ctx(&state, &org, server, at, user, authn);
    let mut resp = surfaces::dispatch(ctx, kind, parts, body).await;
    respond::stamp(&mut resp, stamp_of(server, routed, now));
    resp
}

/// The user an NTLM logon names: the account with its mailbox (none when the account has no
/// mailbox), and how it authenticated.
fn ntlm_user(
    org: &Arc<Organization>,
    account: Account,
    scheme: ntlm::Scheme,
) -> (Option<AuthedUser>, Authn) {
    let user = org
        .mailbox_of_sid(&account.sid)
        .map(|m| match org.account_by_sid(&account.sid) {
            Some(a) => AuthedUser::of(org, a, m),
            None => AuthedUser::owned(account, m.clone()),
        });
    let authn = match scheme {
        ntlm::Scheme::Ntlm => Authn::Ntlm,
        ntlm::Scheme::Negotiate => Authn::Negotiate,
    };
    (user, authn)
}

/// Requests Exchange answers without authentication: Autodiscover v2 (JSON) and the OWA/ECP
/// forms-based pages (the surface redirects to the logon form).
fn is_anonymous(kind: VdirKind, path: &str, vdir: &crate::model::VirtualDirectory) -> bool {
    const JSON: &str = "/autodiscover/autodiscover.json";
    match kind {
        VdirKind::Autodiscover => path
            .as_bytes()
            .get(..JSON.len())
            .is_some_and(|p| p.eq_ignore_ascii_case(JSON.as_bytes())),
        VdirKind::Owa | VdirKind::Ecp => vdir.forms_authentication,
        _ => false,
    }
}

/// The Bearer challenge value `server` sends for the effective organization.
pub async fn bearer_value(
    state: &AppState,
    org: &Organization,
    server: &Server,
    form: BearerForm,
) -> String {
    let mut tenants = Vec::new();
    for a in trusted_auth_servers(org) {
        if let Some(t) = state.tenant_of(a).await {
            if !tenants.contains(&t) {
                tenants.push(t);
            }
        }
    }
    respond::bearer_challenge(org, server, &tenants, form)
}

/// `Authorization: Basic` against the on-premises accounts (`DOMAIN\sam`, `sam` or UPN).
fn basic_user(org: &Arc<Organization>, credentials: &str) -> Option<(Option<AuthedUser>, Authn)> {
    let decoded = STANDARD.decode(credentials.as_bytes()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, password) = text.split_once(':')?;
    let account = org.account_by_logon(user)?;
    if !account.enabled || account.password != password {
        return None;
    }
    let mailbox = org.mailbox_of_sid(&account.sid);
    Some((
        mailbox.map(|mailbox| AuthedUser::of(org, account, mailbox)),
        Authn::Basic,
    ))
}

/// The mailbox a request is for: `MailboxId=` (MAPI), then `X-AnchorMailbox`, then the user's.
fn target_mailbox<'a>(
    org: &'a Organization,
    parts: &Parts,
    user: Option<&'a AuthedUser>,
) -> Option<&'a crate::model::Mailbox> {
    let by_id = |id: &str| {
        let local = id.split('@').next().unwrap_or_default();
        Uuid::parse_str(local)
            .ok()
            .and_then(|g| org.mailbox_by_guid(g))
            .or_else(|| org.mailbox_by_smtp(id))
    };
    if let Some(q) = parts.uri.query() {
        for (k, v) in form_urlencoded::parse(q.as_bytes()) {
            if k.eq_ignore_ascii_case("mailboxid") {
                if let Some(m) = by_id(&v) {
                    return Some(m);
                }
            }
        }
    }
    if let Some(a) = header_str(&parts.headers, "x-anchormailbox") {
        if let Some(m) = by_id(a.trim()) {
            return Some(m);
        }
    }
    user.map(AuthedUser::mailbox)
}

fn surface_ctx(
    state: &AppState,
    org: &Arc<Organization>,
    server: &Server,
    at: Arrival,
    user: Option<AuthedUser>,
    authn: Authn,
) -> SurfaceCtx {
    SurfaceCtx {
        org: org.clone(),
        server: crate::surfaces::ServerRef::of(org, server),
        scheme: at.scheme,
        host: at.host,
        user,
        authn,
        store: state.store.clone(),
        clock: state.clock.clone(),
    }
}

fn authn_word(a: Authn) -> &'static str {
    match a {
        Authn::Bearer => "Bearer",
        Authn::Basic => "Basic",
        Authn::Ntlm => "Ntlm",
        Authn::Negotiate => "Negotiate",
        Authn::Anonymous => "Anonymous",
    }
}

fn authn_of(w: &str) -> Option<Authn> {
    Some(match w {
        "Bearer" => Authn::Bearer,
        "Basic" => Authn::Basic,
        "Ntlm" => Authn::Ntlm,
        "Negotiate" => Authn::Negotiate,
        "Anonymous" => Authn::Anonymous,
        _ => return None,
    })
}

/// Hop-by-hop and framing headers never copied across the proxy.
const HOP: &[&str] = &[
    "connection",
    "keep-alive",
    "transfer-encoding",
    "content-length",
    "te",
    "trailer",
    "upgrade",
    "host",
    "authorization",
    "proxy-authorization",
];

/// Front end → back end over HTTP, with the authenticated identity and the process secret.
#[allow(clippy::too_many_arguments)]
async fn proxy<'a>(
    state: &AppState,
    front: &'a Server,
    back: &'a Server,
    parts: Parts,
    body: Bytes,
    user: Option<&AuthedUser>,
    authn: Authn,
    at: &Arrival,
) -> Response {
    let now = now_of(state);
    let st = |b: Option<&'a Server>| -> Stamp<'a> {
        Stamp {
            front,
            back: b,
            now,
        }
    };
    let Some(base) = state.listener(&back.name) else {
        return respond::plain(
            StatusCode::SERVICE_UNAVAILABLE,
            "text/html",
            iis_error("503.0", "Service Unavailable"),
            st(Some(back)),
        );
    };
    let pq = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "/".into());
    let sid = user.map(|u| u.account().sid.clone()).unwrap_or_default();
    let identity = format!(
        "{};{};{};{};{}",
        state.proxy_secret,
        authn_word(authn),
        sid,
        at.scheme,
        at.host
    );
    let mut rb = state
        .http
        .request(parts.method.clone(), format!("{base}{pq}"))
        .body(body);
    for (name, value) in &parts.headers {
        if HOP.contains(&name.as_str())
            || matches!(
                name.as_str(),
                BACKEND_HEADER | "x-forwarded-proto" | "x-forwarded-host"
            )
        {
            continue;
        }
        rb = rb.header(name, value);
    }
    rb = rb
        .header(BACKEND_HEADER, identity)
        .header("x-forwarded-proto", at.scheme.as_str())
        .header("x-forwarded-host", at.host.as_str());
    let resp = match rb.send().await {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!(error = %e, back_end = %back.name, "proxy to back end failed");
            return respond::plain(
                StatusCode::SERVICE_UNAVAILABLE,
                "text/html",
                iis_error("503.0", "Service Unavailable"),
                st(Some(back)),
            );
        }
    };
    let status = resp.status();
    let mut headers = HeaderMap::new();
    for (name, value) in resp.headers() {
        if HOP.contains(&name.as_str()) {
            continue;
        }
        headers.append(name.clone(), value.clone());
    }
    let bytes = resp.bytes().await.unwrap_or_default();
    let mut out = Response::new(Body::from(bytes));
    *out.status_mut() = status;
    *out.headers_mut() = headers;
    respond::stamp(&mut out, st(Some(back)));
    out
}

/// A request proxied by a front end: trusted only with this process's secret.
async fn back_end(
    state: &AppState,
    org: &Arc<Organization>,
    server: &Server,
    mut parts: Parts,
    body: Bytes,
) -> Response {
    let st = Stamp {
        front: server,
        back: Some(server),
        now: now_of(state),
    };
    let raw = header_str(&parts.headers, BACKEND_HEADER)
        .unwrap_or_default()
        .to_string();
    let fields: Vec<&str> = raw.splitn(5, ';').collect();
    let valid =
        fields.len() == 5 && constant_time_eq(fields[0].as_bytes(), state.proxy_secret.as_bytes());
    let authn = fields.get(1).and_then(|w| authn_of(w));
    let (true, Some(authn)) = (valid, authn) else {
        return respond::plain(
            StatusCode::FORBIDDEN,
            "text/html",
            iis_error("403.0", "Forbidden"),
            st,
        );
    };
    let user = org.account_by_sid(fields[2]).and_then(|a| {
        org.mailbox_of_sid(&a.sid)
            .map(|m| AuthedUser::of(org, a, m))
    });
    let at = Arrival {
        scheme: fields[3].to_string(),
        host: fields[4].to_string(),
    };
    parts.headers.remove(BACKEND_HEADER);
    if let Ok(v) = HeaderValue::from_str(&at.host) {
        parts.headers.insert(HeaderName::from_static("host"), v);
    }
    let Some(kind) = VdirKind::for_path(parts.uri.path()) else {
        return respond::plain(
            StatusCode::NOT_FOUND,
            "text/html",
            iis_error("404.0", "Not Found"),
            st,
        );
    };
    let ctx = surface_ctx(state, org, server, at, user, authn);
    let mut resp = surfaces::dispatch(ctx, kind, parts, body).await;
    respond::stamp(&mut resp, st);
    resp
}

/// The IIS detailed-error page shape (status and sub-status in the title).
pub fn iis_error(code: &str, text: &str) -> String {
    format!(
        "<!DOCTYPE html PUBLIC \"-//W3C//DTD XHTML 1.0 Strict//EN\" \"http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd\">\r\n<html xmlns=\"http://www.w3.org/1999/xhtml\">\r\n<head>\r\n<title>IIS Detailed Error - {code} - {text}</title>\r\n</head>\r\n<body>\r\n<h3>HTTP Error {code} - {text}</h3>\r\n</body>\r\n</html>\r\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut m = HeaderMap::new();
        for (k, v) in pairs {
            m.insert(
                HeaderName::from_static(k),
                HeaderValue::from_str(v).unwrap_or(HeaderValue::from_static("")),
            );
        }
        m
    }

    #[test]
    fn outlook_for_windows_is_recognised_and_mac_is_not() {
        assert!(is_outlook_for_windows(&h(&[(
            "user-agent",
            "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.4639; Pro)"
        )])));
        assert!(is_outlook_for_windows(&h(&[(
            "user-agent",
            "Microsoft Office/15.0 (Windows NT 6.1; MAPI 15.0.4420; Pro)"
        )])));
        assert!(is_outlook_for_windows(&h(&[(
            "x-clientapplication",
            "Outlook/16.0.8201.2102"
        )])));
        assert!(!is_outlook_for_windows(&h(&[(
            "user-agent",
            "MacOutlook/16.9.0.180121 (Intelx64 Mac OS X Version 10.13.2)"
        )])));
        assert!(!is_outlook_for_windows(&h(&[(
            "user-agent",
            "Apple-iPhone9C1/1501.160"
        )])));
        assert!(!is_outlook_for_windows(&h(&[])));
    }

    #[test]
    fn host_and_scheme_follow_the_headers() {
        let m = h(&[
            ("host", "Mail.Contoso.com:443"),
            ("x-forwarded-proto", "http"),
        ]);
        assert_eq!(host_of(&m), "mail.contoso.com");
        assert_eq!(scheme_of(&m), "http");
        assert_eq!(scheme_of(&h(&[("x-forwarded-proto", "gopher")])), "https");
        assert_eq!(
            scheme_of(&h(&[("x-forwarded-proto", "HTTP, https")])),
            "http"
        );
        assert_eq!(scheme_of(&h(&[("x-forwarded-proto", "HTTPS")])), "https");
        assert_eq!(scheme_of(&h(&[])), "https");
        assert_eq!(host_of(&h(&[("host", "[::1]:8443")])), "[::1]");
        assert_eq!(host_of(&h(&[("host", "[FE80::1")])), "[fe80::1]");
        assert_eq!(host_of(&h(&[("host", " EX1 ")])), "ex1");
        assert_eq!(host_of(&h(&[])), "");
    }

    #[test]
    fn autodiscover_json_is_anonymous_in_any_case() {
        let org = crate::surfaces::testing::org();
        let ad = org.servers[0].vdir(VdirKind::Autodiscover).unwrap();
        for p in [
            "/autodiscover/autodiscover.json",
            "/AutoDiscover/AutoDiscover.JSON/v1.0/x@contoso.com",
        ] {
            assert!(is_anonymous(VdirKind::Autodiscover, p, ad), "{p}");
        }
        for p in [
            "/autodiscover/autodiscover.xml",
            "/autodiscover/autodiscover.js",
            "/",
        ] {
            assert!(!is_anonymous(VdirKind::Autodiscover, p, ad), "{p}");
        }
    }

    #[test]
    fn flighting_user_prefers_the_anchor_then_the_pox_address() {
        assert_eq!(
            flighting_user(&h(&[("x-anchormailbox", "GregT@Contoso.com")]), b""),
            "gregt@contoso.com"
        );
        assert_eq!(
            flighting_user(
                &h(&[]),
                b"<Request><EMailAddress>GregT@contoso.com</EMailAddress></Request>"
            ),
            "gregt@contoso.com"
        );
        assert_eq!(flighting_user(&h(&[]), b"<EMailAddress>unterminated"), "");
    }
}
