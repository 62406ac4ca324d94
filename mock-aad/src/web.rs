//! The interactive half of Azure AD: the authorize endpoints, the sign-in pages, the device-code
//! page and logout.
//!
//! A browser (or UI automation written against the real pages) walks a small state machine:
//! username → password → (MFA enrolment) → MFA code → consent → "Stay signed in?" → redirect with
//! a code, or for a device flow: user code → username → password → … → "Are you trying to sign
//! in to {app}?". The pages keep the real page's field names and element ids (`loginfmt`/`i0116`,
//! `passwd`/`i0118`, `idSIButton9`, `idBtn_Back`, `otc`/`idTxtBx_SAOTCC_OTC`, …).
//!
//! Where the flow stands is never taken from the page: every form carries only an opaque
//! `flowToken` (also sent as `ctx`), the key of a server-side [`Flow`] record in [`Sessions`].
//! A finished sign-in leaves an SSO session keyed by the `ESTSAUTH` cookie. Both maps are bounded
//! (oldest evicted first) so a flood of abandoned flows cannot exhaust memory. Locks are taken
//! briefly and never across an `.await`; the only await in a handler is reading the body, which
//! happens before any lock.
//!
//! Errors follow Azure AD: an unknown tenant, client or redirect URI gets the HTML error page
//! ("Sorry, but we’re having trouble signing you in.", with the typographic apostrophe of the
//! real page) and never a redirect; every other error is
//! redirected to the client's `redirect_uri` with `error` and an `error_description` encoded the
//! way .NET's `HttpUtility.UrlEncode` does (the seed's "Missing SPNs" capture, byte for byte).

use std::collections::{HashMap, VecDeque};

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::discovery::{base_url, Segment, TenantRef};
use crate::error::{AadError, RequestIds};
use crate::grants::{split_instant, AuthCode, AuthContext, DeviceState};
use crate::model::{Application, Tenant};
use crate::signin::{self, SecondFactor};
use crate::state::AppState;
use crate::timefmt;
use crate::util::{html_escape, random_b64url, Params};

/// The verification code the lab's MFA page accepts (every user's "authenticator app").
pub const MFA_CODE: &str = "123456";
/// Session cookie (browser session; `ESTSAUTHPERSISTENT` too after "Stay signed in? Yes").
pub const SESSION_COOKIE: &str = "ESTSAUTH";
pub const PERSISTENT_COOKIE: &str = "ESTSAUTHPERSISTENT";
/// How long a page may sit before its flow token expires (AADSTS50089).
pub const FLOW_TTL_SECS: i64 = 1800;
/// Lifetime of an SSO session without "Stay signed in?".
pub const SESSION_TTL_SECS: i64 = 24 * 3600;
/// Lifetime of an SSO session after "Stay signed in? Yes".
pub const PERSISTENT_TTL_SECS: i64 = 90 * 86_400;
/// At most this many pending flows and SSO sessions are kept; the oldest go first.
pub const MAX_ENTRIES: usize = 10_000;

const OIDC_SCOPES: [&str; 4] = ["openid", "profile", "email", "offline_access"];

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/{tenant}/oauth2/authorize",
            get(web_authorize_v1).post(web_authorize_v1),
        )
        .route(
            "/{tenant}/oauth2/v2.0/authorize",
            get(web_authorize_v2).post(web_authorize_v2),
        )
        .route("/{tenant}/login", axum::routing::post(web_login_post))
        .route(
            "/devicelogin",
            get(web_devicelogin_get).post(web_devicelogin_post),
        )
        .route("/{tenant}/oauth2/logout", get(web_logout).post(web_logout))
        .route(
            "/{tenant}/oauth2/v2.0/logout",
            get(web_logout).post(web_logout),
        )
}

// ------------------------------------------------------------------------------ the stores

/// A map that forgets its oldest entries beyond a capacity.
#[derive(Debug)]
struct Bounded<T> {
    map: HashMap<String, T>,
    order: VecDeque<String>,
    cap: usize,
}

impl<T> Bounded<T> {
    fn new(cap: usize) -> Self {
        Bounded {
            map: HashMap::new(),
            order: VecDeque::new(),
            cap: cap.max(1),
        }
    }

    fn insert(&mut self, key: String, value: T) {
        if self.map.insert(key.clone(), value).is_none() {
            self.order.push_back(key);
        }
        while self.map.len() > self.cap {
            match self.order.pop_front() {
                Some(old) => {
                    self.map.remove(&old);
                }
                None => break,
            }
        }
        // Removed keys stay in `order` until compaction; keep it from growing without bound.
        if self.order.len() > 2 * self.cap {
            let map = &self.map;
            self.order.retain(|k| map.contains_key(k));
        }
    }

    fn get(&self, key: &str) -> Option<&T> {
        self.map.get(key)
    }

    fn remove(&mut self, key: &str) -> Option<T> {
        self.map.remove(key)
    }

    fn len(&self) -> usize {
        self.map.len()
    }
}

/// Server-side sign-in state: pending page flows and SSO sessions.
#[derive(Debug)]
pub struct Sessions {
    flows: Bounded<Flow>,
    sso: Bounded<SsoSession>,
}

impl Default for Sessions {
    fn default() -> Self {
        Self::with_capacity(MAX_ENTRIES)
    }
}

impl Sessions {
    /// A store keeping at most `cap` flows and `cap` sessions.
    pub fn with_capacity(cap: usize) -> Self {
        Sessions {
            flows: Bounded::new(cap),
            sso: Bounded::new(cap),
        }
    }
    /// Pending sign-in flows.
    pub fn flow_count(&self) -> usize {
        self.flows.len()
    }
    /// Live SSO sessions.
    pub fn session_count(&self) -> usize {
        self.sso.len()
    }
}

#[derive(Debug, Clone)]
struct SsoSession {
    tid: Uuid,
    user_oid: Uuid,
    amr: Vec<String>,
    auth_time: i64,
    /// 100 ns ticks past `auth_time` (see [`AuthContext::auth_ticks`]).
    auth_ticks: u32,
    expires_at: i64,
    session_state: Uuid,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ResponseMode {
    Query,
    Fragment,
    FormPost,
}

/// A validated authorize request (client and redirect URI already checked).
#[derive(Debug, Clone)]
struct AuthRequest {
    v2: bool,
    client_id: Uuid,
    redirect_uri: String,
    resource: Option<String>,
    scope: Option<String>,
    state: Option<String>,
    nonce: Option<String>,
    mode: ResponseMode,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
    correlation_id: Uuid,
    /// Whether the resource/scope was checked against a tenant (deferred for `/common` until
    /// the user names their tenant).
    resource_checked: bool,
}

#[derive(Debug, Clone)]
enum Purpose {
    Authorize(AuthRequest),
    Device {
        /// Key of the device code in the grant store, once the user code was entered.
        device_code: Option<String>,
        client_id: Option<Uuid>,
        resource: Option<String>,
        scope: Option<String>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    DeviceCode,
    Username,
    Password,
    Enroll,
    Mfa,
    Consent,
    Kmsi,
    DeviceConfirm,
}

#[derive(Debug, Clone)]
struct Flow {
    id: String,
    purpose: Purpose,
    /// The `{tenant}` path segment the flow started on (`common`, a domain, a tid).
    seg: String,
    tid: Option<Uuid>,
    upn: Option<String>,
    user_oid: Option<Uuid>,
    amr: Vec<String>,
    auth_time: i64,
    /// 100 ns ticks past `auth_time` (see [`AuthContext::auth_ticks`]).
    auth_ticks: u32,
    step: Step,
    expires_at: i64,
    /// `prompt=consent`: show the consent page even when consent exists.
    force_consent: bool,
    consent_done: bool,
    /// A password was typed in this flow, so "Stay signed in?" is asked.
    show_kmsi: bool,
    /// The SSO session this flow continues (prompt absent with a cookie).
    sso_id: Option<String>,
}

// ------------------------------------------------------------------------ request context

/// What every response of a request needs.
struct Ctx {
    state: AppState,
    base: String,
    https: bool,
    ids: RequestIds,
    now: OffsetDateTime,
}

impl Ctx {
    fn new(state: &AppState, headers: &HeaderMap, correlation: Option<&str>) -> Ctx {
        let mut ids = RequestIds::from_headers(headers);
        if let Some(c) = correlation.and_then(|c| Uuid::parse_str(c.trim()).ok()) {
            ids.correlation_id = c;
        }
        let base = base_url(state, headers);
        Ctx {
            https: base.starts_with("https://"),
            state: state.clone(),
            base,
            ids,
            now: state.now(),
        }
    }

    fn unix(&self) -> i64 {
        self.now.unix_timestamp()
    }

    fn cookie(&self, name: &str, value: &str, max_age: Option<i64>) -> String {
        let mut c = format!("{name}={value}; path=/");
        if let Some(a) = max_age {
            c.push_str(&format!("; max-age={a}"));
        }
        if self.https {
            c.push_str("; secure; HttpOnly; SameSite=None");
        } else {
            c.push_str("; HttpOnly");
        }
        c
    }
}

pub use lab_kit::wire::dotnet_url_encode;

fn page_headers(h: &mut HeaderMap, ctx: &Ctx, content_type: &'static str) {
    let s = HeaderValue::from_static;
    h.insert(header::CACHE_CONTROL, s("no-store, no-cache"));
    h.insert(header::PRAGMA, s("no-cache"));
    h.insert(header::CONTENT_TYPE, s(content_type));
    h.insert(header::EXPIRES, s("-1"));
    h.insert(
        header::STRICT_TRANSPORT_SECURITY,
        s("max-age=31536000; includeSubDomains"),
    );
    h.insert("x-content-type-options", s("nosniff"));
    h.insert("x-frame-options", s("DENY"));
    if let Ok(v) = HeaderValue::from_str(&ctx.ids.trace_id.to_string()) {
        h.insert("x-ms-request-id", v);
    }
    h.insert("p3p", s("CP=\"DSP CUR OTPi IND OTRi ONL FIN\""));
    if let Ok(v) = HeaderValue::from_str(&timefmt::http_date(ctx.now)) {
        h.insert(header::DATE, v);
    }
}

fn with_cookies(mut resp: Response, cookies: &[String]) -> Response {
    for c in cookies {
        if let Ok(v) = HeaderValue::from_str(c) {
            resp.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    resp
}

fn html_response(ctx: &Ctx, title: &str, body: &str) -> Response {
    let doc = format!(
        concat!(
            "<!DOCTYPE html>\n<html dir=\"ltr\" lang=\"en\"><head><meta charset=\"utf-8\">",
            "<title>{}</title><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">",
            "</head><body><div id=\"lightbox\" class=\"inner\">",
            "<div class=\"logo\" role=\"img\" aria-label=\"Microsoft\">Microsoft</div>\n{}\n",
            "</div></body></html>\n"
        ),
        html_escape(title),
        body
    );
    let mut resp = (StatusCode::OK, doc).into_response();
    page_headers(resp.headers_mut(), ctx, "text/html; charset=utf-8");
    resp
}

/// Azure AD's error page, served with status 200 (as ESTS renders its error page).
fn error_page(ctx: &Ctx, e: &AadError) -> Response {
    let stamp = ctx
        .now
        .to_offset(time::UtcOffset::UTC)
        .format(time::macros::format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second]Z"
        ))
        .unwrap_or_default();
    let body = format!(
        concat!(
            "<div id=\"loginHeader\" role=\"heading\">Sign in</div>\n",
            "<div id=\"errorTitle\" role=\"alert\">Sorry, but we\u{2019}re having trouble signing you in.</div>\n",
            "<div id=\"errorDescription\"><p>{headline}</p></div>\n",
            "<div id=\"debugDetails\"><div class=\"debug-details-header\">Troubleshooting details</div>\n",
            "<div><span class=\"bold\">Request Id:</span> <span id=\"requestId\">{trace}</span></div>\n",
            "<div><span class=\"bold\">Correlation Id:</span> <span id=\"correlationId\">{corr}</span></div>\n",
            "<div><span class=\"bold\">Timestamp:</span> <span id=\"timestamp\">{stamp}</span></div>\n",
            "<div><span class=\"bold\">Message:</span> <span id=\"errorMessage\">{headline}</span></div>\n",
            "</div>"
        ),
        headline = html_escape(&e.headline()),
        trace = ctx.ids.trace_id,
        corr = ctx.ids.correlation_id,
        stamp = stamp,
    );
    html_response(ctx, "Sign in to your account", &body)
}

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

/// Sends `params` to the client per its response mode.
fn deliver(
    ctx: &Ctx,
    redirect_uri: &str,
    mode: ResponseMode,
    params: &[(&str, String)],
    cookies: &[String],
) -> Response {
    if mode == ResponseMode::FormPost {
        let doc = form_post_page(redirect_uri, params);
        let mut resp = (StatusCode::OK, doc).into_response();
        page_headers(resp.headers_mut(), ctx, "text/html; charset=utf-8");
        return with_cookies(resp, cookies);
    }
    let location = redirect_location(redirect_uri, mode == ResponseMode::Fragment, params);
    let Ok(loc) = HeaderValue::from_str(&location) else {
        return error_page(
            ctx,
            &AadError::bad_request(
                "invalid_request",
                50011,
                "The reply URL cannot be used in a Location header.",
            ),
        );
    };
    let mut resp = StatusCode::FOUND.into_response();
    page_headers(resp.headers_mut(), ctx, "text/html; charset=utf-8");
    resp.headers_mut().insert(header::LOCATION, loc);
    with_cookies(resp, cookies)
}

/// An error sent back to the client: `error`, `error_description` (with the Trace/Correlation/
/// Timestamp lines), then `state`.
fn error_redirect(ctx: &Ctx, req: &AuthRequest, e: &AadError) -> Response {
    let mut params = vec![
        ("error", e.error.clone()),
        (
            "error_description",
            e.description(ctx.ids.trace_id, ctx.ids.correlation_id, ctx.now),
        ),
    ];
    if let Some(s) = &req.state {
        params.push(("state", s.clone()));
    }
    deliver(ctx, &req.redirect_uri, req.mode, &params, &[])
}

// -------------------------------------------------------------------------------- catalogue

/// The lab's clients have implicit grant disabled: `id_token` flows get AADSTS700054, every
/// other non-`code` response type AADSTS70005 (both texts as Azure AD sends them).
fn unsupported_response_type(rt: &str) -> AadError {
    let (code, named) = if rt.split_whitespace().any(|t| t == "id_token") {
        (700054, "id_token")
    } else {
        (70005, rt)
    };
    AadError::bad_request(
        "unsupported_response_type",
        code,
        format!("response_type '{named}' is not enabled for the application."),
    )
}

fn consent_declined() -> AadError {
    AadError::bad_request(
        "access_denied",
        65004,
        "User declined to consent to access the app.",
    )
}

fn flow_expired() -> AadError {
    AadError::bad_request(
        "invalid_request",
        50089,
        "Authentication failed due to flow token expired.",
    )
}

fn with_error(mut e: AadError, error: &str) -> AadError {
    e.error = error.to_string();
    e
}

/// What the username/password pages say for a sign-in error (the AADSTS line is shown below).
fn signin_message(e: &AadError) -> &'static str {
    match e.code {
        50126 => "Your account or password is incorrect. If you don't remember your password, reset it now.",
        50053 => "Your account is temporarily locked to prevent unauthorized use. Try again later, and if you still have trouble, contact your admin.",
        50057 => "Your account has been locked. Contact your support person to unlock it, then try again.",
        50034 => "This username may be incorrect. Make sure you typed it correctly. Otherwise, contact your admin.",
        _ => "We couldn't sign you in. Please try again.",
    }
}

// --------------------------------------------------------------------------------- helpers

fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
        .filter(|v| !v.is_empty())
}

fn session_id(headers: &HeaderMap) -> Option<String> {
    cookie_value(headers, SESSION_COOKIE).or_else(|| cookie_value(headers, PERSISTENT_COOKIE))
}

/// Whether `uri` is one of the client's reply URLs. `http://localhost` (and 127.0.0.1)
/// registrations match any port, as Azure AD does for native clients.
fn redirect_registered(app: &Application, uri: &str) -> bool {
    app.redirect_uris.iter().any(|r| {
        if r == uri {
            return true;
        }
        match (url::Url::parse(r), url::Url::parse(uri)) {
            (Ok(reg), Ok(got)) => {
                let loopback = matches!(reg.host_str(), Some("localhost") | Some("127.0.0.1"));
                loopback
                    && reg.scheme() == "http"
                    && got.scheme() == "http"
                    && reg.host_str() == got.host_str()
                    && reg.port().is_none()
                    && reg.path() == got.path()
            }
            _ => false,
        }
    })
}

/// The resources a v2 `scope` names (`{resource}/{permission}`; a bare permission is Graph's).
fn scope_resources(scope: &str) -> Vec<String> {
    scope
        .split_whitespace()
        .filter(|s| !OIDC_SCOPES.contains(&s.to_ascii_lowercase().as_str()))
        .map(|s| {
            if s.contains("://") {
                match s.rsplit_once('/') {
                    Some((r, _)) if r.contains("://") && !r.ends_with(':') => r.to_string(),
                    _ => s.to_string(),
                }
            } else if let Some((r, _)) = s.split_once('/') {
                r.to_string()
            } else {
                "https://graph.microsoft.com".to_string()
            }
        })
        .collect()
}

/// The label Azure AD's messages call the tenant: the path segment, or for `/common` the
/// domain of the user's name (login_hint or the typed username), else the tenant's primary domain.
fn tenant_label(seg: &str, tenant: &Tenant, upn: Option<&str>) -> String {
    let lower = seg.to_ascii_lowercase();
    if lower == "common" || lower == "organizations" {
        upn.and_then(|u| u.rsplit_once('@'))
            .and_then(|(_, d)| tenant.domain(d))
            .map(|d| d.name.clone())
            .unwrap_or_else(|| tenant.primary_domain().to_string())
    } else {
        seg.to_string()
    }
}

/// AADSTS50001 / 500011 for a resource the tenant does not have.
fn check_resource(
    tenant: &Tenant,
    seg: &str,
    upn: Option<&str>,
    v2: bool,
    resource: Option<&str>,
    scope: Option<&str>,
) -> Result<(), AadError> {
    let label = tenant_label(seg, tenant, upn);
    if v2 {
        for r in scope_resources(scope.unwrap_or("")) {
            if tenant.resource(&r).is_none() {
                return Err(AadError::resource_not_found_v2(&r, &label));
            }
        }
    } else if let Some(r) = resource {
        if tenant.resource(r).is_none() {
            return Err(AadError::resource_not_found_v1(r, &label));
        }
    }
    Ok(())
}

/// The resource application (for conditional access) a request targets.
fn resource_target(
    tenant: &Tenant,
    resource: Option<&str>,
    scope: Option<&str>,
) -> (Option<Uuid>, Option<String>) {
    let name = resource
        .map(str::to_string)
        .or_else(|| scope.and_then(|s| scope_resources(s).into_iter().next()));
    let app = name
        .as_deref()
        .and_then(|n| tenant.resource(n))
        .map(|a| a.app_id);
    (app, name)
}

fn client_info(oid: Uuid, tid: Uuid) -> String {
    URL_SAFE_NO_PAD.encode(format!(r#"{{"uid":"{oid}","utid":"{tid}"}}"#))
}

fn save_flow(ctx: &Ctx, flow: &Flow) {
    ctx.state
        .sessions()
        .flows
        .insert(flow.id.clone(), flow.clone());
}

fn drop_flow(ctx: &Ctx, flow: &Flow) {
    ctx.state.sessions().flows.remove(&flow.id);
}

fn new_flow(ctx: &Ctx, purpose: Purpose, seg: &str, tid: Option<Uuid>, step: Step) -> Flow {
    Flow {
        id: random_b64url(32),
        purpose,
        seg: seg.to_string(),
        tid,
        upn: None,
        user_oid: None,
        amr: Vec::new(),
        auth_time: 0,
        auth_ticks: 0,
        step,
        expires_at: ctx.unix() + FLOW_TTL_SECS,
        force_consent: false,
        consent_done: false,
        show_kmsi: false,
        sso_id: None,
    }
}

fn client_of(flow: &Flow) -> Option<Uuid> {
    match &flow.purpose {
        Purpose::Authorize(r) => Some(r.client_id),
        Purpose::Device { client_id, .. } => *client_id,
    }
}

fn app_name(ctx: &Ctx, client: Option<Uuid>) -> String {
    let Some(id) = client else {
        return String::new();
    };
    let dir = ctx.state.dir();
    dir.tenants
        .iter()
        .find_map(|t| t.app(id).map(|a| a.display_name.clone()))
        .unwrap_or_else(|| id.to_string())
}

// ----------------------------------------------------------------------------------- pages

fn form_action(ctx: &Ctx, flow: &Flow) -> String {
    match flow.purpose {
        Purpose::Device { .. } => format!("{}/devicelogin", ctx.base),
        Purpose::Authorize(_) => format!("{}/{}/login", ctx.base, dotnet_url_encode(&flow.seg)),
    }
}

fn form(ctx: &Ctx, flow: &Flow, inner: &str) -> String {
    let id = html_escape(&flow.id);
    format!(
        concat!(
            "<form name=\"f1\" id=\"i0281\" method=\"post\" action=\"{action}\" autocomplete=\"off\">\n",
            "<input type=\"hidden\" name=\"ctx\" value=\"{id}\">\n",
            "<input type=\"hidden\" name=\"flowToken\" value=\"{id}\">\n",
            "{inner}\n</form>"
        ),
        action = html_escape(&form_action(ctx, flow)),
        id = id,
        inner = inner
    )
}

fn error_block(div_id: &str, err: Option<(&str, Option<&AadError>)>) -> String {
    match err {
        None => String::new(),
        Some((msg, e)) => {
            let code = e
                .map(|e| {
                    format!(
                        "<div id=\"errorCode\" class=\"error-code\">{}</div>\n",
                        html_escape(&e.headline())
                    )
                })
                .unwrap_or_default();
            format!(
                "<div id=\"{div_id}\" class=\"alert alert-error\" role=\"alert\">{}</div>\n{code}",
                html_escape(msg)
            )
        }
    }
}

fn page_username(
    ctx: &Ctx,
    flow: &Flow,
    prefill: &str,
    err: Option<(&str, Option<&AadError>)>,
) -> Response {
    let inner = format!(
        concat!(
            "<div id=\"loginHeader\" role=\"heading\">Sign in</div>\n",
            "{err}",
            "<input type=\"email\" name=\"loginfmt\" id=\"i0116\" maxlength=\"113\" ",
            "placeholder=\"Email, phone, or Skype\" aria-label=\"Enter your email, phone, or Skype.\" value=\"{prefill}\">\n",
            "<input type=\"submit\" id=\"idSIButton9\" value=\"Next\">"
        ),
        err = error_block("usernameError", err),
        prefill = html_escape(prefill)
    );
    html_response(ctx, "Sign in to your account", &form(ctx, flow, &inner))
}

fn page_password(ctx: &Ctx, flow: &Flow, err: Option<(&str, Option<&AadError>)>) -> Response {
    let upn = flow.upn.clone().unwrap_or_default();
    let inner = format!(
        concat!(
            "<div id=\"displayName\" class=\"identity\">{upn}</div>\n",
            "<div id=\"loginHeader\" role=\"heading\">Enter password</div>\n",
            "{err}",
            "<input type=\"password\" name=\"passwd\" id=\"i0118\" autocomplete=\"off\" placeholder=\"Password\" aria-label=\"Enter the password for {upn}\">\n",
            "<input type=\"submit\" id=\"idSIButton9\" value=\"Sign in\">"
        ),
        upn = html_escape(&upn),
        err = error_block("passwordError", err),
    );
    html_response(ctx, "Sign in to your account", &form(ctx, flow, &inner))
}

fn page_mfa(ctx: &Ctx, flow: &Flow, err: Option<&str>) -> Response {
    let inner = format!(
        concat!(
            "<div id=\"displayName\" class=\"identity\">{upn}</div>\n",
            "<div id=\"idDiv_SAOTCC_Title\" role=\"heading\">Enter code</div>\n",
            "<div id=\"idDiv_SAOTCC_Description\">Enter the code displayed in the authenticator app on your mobile device</div>\n",
            "{err}",
            "<input type=\"tel\" name=\"otc\" id=\"idTxtBx_SAOTCC_OTC\" maxlength=\"8\" autocomplete=\"off\" placeholder=\"Code\" aria-label=\"Code\">\n",
            "<input type=\"submit\" id=\"idSubmit_SAOTCC_Continue\" value=\"Verify\">"
        ),
        upn = html_escape(flow.upn.as_deref().unwrap_or("")),
        err = error_block("idSpan_SAOTCC_Error_OTC", err.map(|m| (m, None))),
    );
    html_response(ctx, "Sign in to your account", &form(ctx, flow, &inner))
}

fn page_enroll(ctx: &Ctx, flow: &Flow) -> Response {
    let inner = format!(
        concat!(
            "<div id=\"displayName\" class=\"identity\">{upn}</div>\n",
            "<div id=\"heading\" role=\"heading\">More information required</div>\n",
            "<div id=\"idDiv_ProofUp_Description\">Your organization needs more information to keep your account secure</div>\n",
            "<input type=\"submit\" id=\"idSubmit_ProofUp_Redirect\" name=\"action\" value=\"Next\">"
        ),
        upn = html_escape(flow.upn.as_deref().unwrap_or("")),
    );
    html_response(ctx, "Sign in to your account", &form(ctx, flow, &inner))
}

fn page_consent(ctx: &Ctx, flow: &Flow) -> Response {
    let app = app_name(ctx, client_of(flow));
    let inner = format!(
        concat!(
            "<div id=\"displayName\" class=\"identity\">{upn}</div>\n",
            "<div id=\"consentHeader\" role=\"heading\">Permissions requested</div>\n",
            "<div id=\"appName\">{app}</div>\n",
            "<div id=\"consentDescription\">This app would like to:</div>\n",
            "<ul id=\"permissions\"><li>Sign you in and read your profile</li>",
            "<li>Maintain access to data you have given it access to</li></ul>\n",
            "<div>Accepting these permissions means that you allow this app to use your data as specified in their terms of service and privacy statement.</div>\n",
            "<input type=\"submit\" id=\"idBtn_Back\" name=\"action\" value=\"Cancel\">\n",
            "<input type=\"submit\" id=\"idSIButton9\" name=\"action\" value=\"Accept\">"
        ),
        upn = html_escape(flow.upn.as_deref().unwrap_or("")),
        app = html_escape(&app),
    );
    html_response(ctx, "Permissions requested", &form(ctx, flow, &inner))
}

fn page_kmsi(ctx: &Ctx, flow: &Flow) -> Response {
    let inner = format!(
        concat!(
            "<div id=\"displayName\" class=\"identity\">{upn}</div>\n",
            "<div id=\"kmsiTitle\" role=\"heading\">Stay signed in?</div>\n",
            "<div id=\"KmsiDescription\">Do this to reduce the number of times you are asked to sign in.</div>\n",
            "<input type=\"checkbox\" name=\"DontShowAgain\" id=\"KmsiCheckboxField\"> <label for=\"KmsiCheckboxField\">Don't show this again</label>\n",
            "<input type=\"submit\" id=\"idBtn_Back\" name=\"action\" value=\"No\">\n",
            "<input type=\"submit\" id=\"idSIButton9\" name=\"action\" value=\"Yes\">"
        ),
        upn = html_escape(flow.upn.as_deref().unwrap_or("")),
    );
    html_response(ctx, "Sign in to your account", &form(ctx, flow, &inner))
}

fn page_ca_blocked(ctx: &Ctx, e: &AadError) -> Response {
    let body = format!(
        concat!(
            "<div id=\"heading\" role=\"heading\">You cannot access this right now</div>\n",
            "<div id=\"errorDescription\">Your sign-in was successful but does not meet the criteria to access this resource. ",
            "For example, you might be signing in from a browser, app, or location that is restricted by your admin.</div>\n",
            "<div id=\"debugDetails\"><div><span class=\"bold\">Request Id:</span> {trace}</div>\n",
            "<div><span class=\"bold\">Correlation Id:</span> {corr}</div>\n",
            "<div><span class=\"bold\">Error code:</span> <span id=\"errorCode\">{code}</span></div>\n",
            "<div><span class=\"bold\">Message:</span> <span id=\"errorMessage\">{headline}</span></div></div>"
        ),
        trace = ctx.ids.trace_id,
        corr = ctx.ids.correlation_id,
        code = e.code,
        headline = html_escape(&e.headline()),
    );
    html_response(ctx, "Sign in to your account", &body)
}

fn page_device_code(ctx: &Ctx, flow: &Flow, err: Option<&str>) -> Response {
    let inner = format!(
        concat!(
            "<div id=\"heading\" role=\"heading\">Enter code</div>\n",
            "<div id=\"description\">Enter the code displayed on your app or device.</div>\n",
            "{err}",
            "<input type=\"text\" name=\"otc\" id=\"otc\" maxlength=\"32\" placeholder=\"Code\" aria-label=\"Code\">\n",
            "<input type=\"submit\" id=\"idSIButton9\" value=\"Next\">"
        ),
        err = error_block("error", err.map(|m| (m, None))),
    );
    html_response(ctx, "Enter code", &form(ctx, flow, &inner))
}

fn page_device_confirm(ctx: &Ctx, flow: &Flow) -> Response {
    let app = app_name(ctx, client_of(flow));
    let inner = format!(
        concat!(
            "<div id=\"displayName\" class=\"identity\">{upn}</div>\n",
            "<div id=\"heading\" role=\"heading\">Are you trying to sign in to {app}?</div>\n",
            "<div id=\"description\">Only continue if you downloaded the app from a store or website that you trust.</div>\n",
            "<input type=\"submit\" id=\"idBtn_Back\" name=\"action\" value=\"Cancel\">\n",
            "<input type=\"submit\" id=\"idSIButton9\" name=\"action\" value=\"Continue\">"
        ),
        upn = html_escape(flow.upn.as_deref().unwrap_or("")),
        app = html_escape(&app),
    );
    html_response(ctx, "Sign in to your account", &form(ctx, flow, &inner))
}

fn page_message(ctx: &Ctx, title: &str, heading: &str, text: &str) -> Response {
    let body = format!(
        "<div id=\"heading\" role=\"heading\">{}</div>\n<div id=\"message\">{}</div>",
        html_escape(heading),
        html_escape(text)
    );
    html_response(ctx, title, &body)
}

// --------------------------------------------------------------------------------- authorize

async fn web_authorize_v1(
    State(state): State<AppState>,
    Segment(tenant): Segment,
    method: Method,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let p = request_params(&method, query, &body);
    authorize(&state, &headers, &tenant, &p, false)
}

async fn web_authorize_v2(
    State(state): State<AppState>,
    Segment(tenant): Segment,
    method: Method,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let p = request_params(&method, query, &body);
    authorize(&state, &headers, &tenant, &p, true)
}

/// Query parameters, plus the form body of a POST.
fn request_params(method: &Method, query: Option<String>, body: &[u8]) -> Params {
    let mut raw = query.unwrap_or_default().into_bytes();
    if method == Method::POST && !body.is_empty() {
        if !raw.is_empty() {
            raw.push(b'&');
        }
        raw.extend_from_slice(body);
    }
    Params::parse(&raw)
}

fn authorize(state: &AppState, headers: &HeaderMap, seg: &str, p: &Params, v2: bool) -> Response {
    let ctx = Ctx::new(state, headers, p.get("client-request-id"));
    let Some(tref) = TenantRef::resolve(&state.dir(), seg) else {
        return error_page(&ctx, &AadError::tenant_not_found(seg));
    };
    let Some(client_raw) = p.get("client_id") else {
        return error_page(&ctx, &AadError::missing_parameter("client_id"));
    };
    let login_hint = p.get("login_hint").map(str::to_string);

    // Which tenant's application registry answers for the client.
    let found = {
        let dir = state.dir();
        let hint_tid = login_hint
            .as_deref()
            .and_then(|h| dir.tenant_of_upn(h))
            .map(|t| t.tid);
        let client_id = Uuid::parse_str(client_raw.trim()).ok();
        let tenant = match &tref {
            TenantRef::Tenant(tid) => dir.tenants.iter().find(|t| t.tid == *tid),
            TenantRef::Multi(_) => {
                let with_app = |t: &&Tenant| client_id.is_some_and(|id| t.app(id).is_some());
                hint_tid
                    .and_then(|h| dir.tenants.iter().find(|t| t.tid == h))
                    .filter(with_app)
                    .or_else(|| dir.tenants.iter().find(with_app))
            }
        };
        let app = tenant.and_then(|t| client_id.and_then(|id| t.app(id)).cloned());
        let check_tid = match &tref {
            TenantRef::Tenant(tid) => Some(*tid),
            TenantRef::Multi(_) => hint_tid,
        };
        let label = match &tref {
            TenantRef::Tenant(_) => seg.to_string(),
            TenantRef::Multi(_) => tenant
                .map(|t| tenant_label(seg, t, login_hint.as_deref()))
                .unwrap_or_else(|| seg.to_string()),
        };
        (app, check_tid, label)
    };
    let (app, check_tid, label) = found;
    let Some(app) = app else {
        return error_page(&ctx, &AadError::unknown_client(client_raw, &label));
    };
    let redirect_uri = match p.get("redirect_uri") {
        Some(r) if redirect_registered(&app, r) => r.to_string(),
        Some(r) => {
            return error_page(
                &ctx,
                &AadError::redirect_mismatch(r, &app.app_id.to_string()),
            )
        }
        None => match app.redirect_uris.first() {
            Some(r) => r.clone(),
            None => return error_page(&ctx, &AadError::missing_parameter("redirect_uri")),
        },
    };
    let mode = match p.get("response_mode") {
        Some("fragment") => ResponseMode::Fragment,
        Some("form_post") => ResponseMode::FormPost,
        _ => ResponseMode::Query,
    };
    let mut req = AuthRequest {
        v2,
        client_id: app.app_id,
        redirect_uri,
        resource: if v2 {
            None
        } else {
            p.get("resource").map(str::to_string)
        },
        scope: if v2 {
            p.get("scope").map(str::to_string)
        } else {
            None
        },
        state: p.get("state").map(str::to_string),
        nonce: p.get("nonce").map(str::to_string),
        mode,
        code_challenge: p.get("code_challenge").map(str::to_string),
        code_challenge_method: p.get("code_challenge_method").map(str::to_string),
        correlation_id: ctx.ids.correlation_id,
        resource_checked: false,
    };
    match p.get("response_type") {
        None => return error_redirect(&ctx, &req, &AadError::missing_parameter("response_type")),
        Some("code") => {}
        Some(other) => return error_redirect(&ctx, &req, &unsupported_response_type(other)),
    }
    if v2 && req.scope.is_none() {
        return error_redirect(&ctx, &req, &AadError::missing_parameter("scope"));
    }
    if let Some(m) = &req.code_challenge_method {
        if m != "S256" && m != "plain" {
            return error_redirect(
                &ctx,
                &req,
                &AadError::bad_request(
                    "invalid_request",
                    50149,
                    "Invalid Code_Challenge_method parameter.",
                ),
            );
        }
    }
    if let Some(c) = &req.code_challenge {
        // An S256 challenge is the 43-character base64url SHA-256 (padded, 44, is refused);
        // a plain one is a verifier of 43 to 128 characters (RFC 7636).
        let ok = match req.code_challenge_method.as_deref() {
            Some("S256") => c.len() == 43,
            _ => (43..=128).contains(&c.len()),
        };
        if !ok {
            return error_redirect(
                &ctx,
                &req,
                &AadError::bad_request(
                    "invalid_request",
                    501491,
                    "Invalid size of Code_Challenge parameter.",
                ),
            );
        }
    }
    if req.code_challenge.is_some() && req.code_challenge_method.is_none() {
        req.code_challenge_method = Some("plain".into());
    }
    if let Some(tid) = check_tid {
        let checked = {
            let dir = state.dir();
            dir.tenants.iter().find(|t| t.tid == tid).map(|t| {
                check_resource(
                    t,
                    seg,
                    login_hint.as_deref(),
                    v2,
                    req.resource.as_deref(),
                    req.scope.as_deref(),
                )
            })
        };
        if let Some(r) = checked {
            if let Err(e) = r {
                return error_redirect(&ctx, &req, &e);
            }
            req.resource_checked = true;
        }
    }

    let prompt = p.get("prompt").map(|s| s.to_ascii_lowercase());
    let tid_filter = match &tref {
        TenantRef::Tenant(t) => Some(*t),
        TenantRef::Multi(_) => None,
    };
    let mut flow = new_flow(
        &ctx,
        Purpose::Authorize(req.clone()),
        seg,
        tid_filter,
        Step::Username,
    );
    flow.force_consent = prompt.as_deref() == Some("consent");

    let sso = sso_lookup(&ctx, headers, tid_filter, login_hint.as_deref());
    let interactive_prompt = matches!(prompt.as_deref(), Some("login") | Some("select_account"));
    if prompt.as_deref() == Some("none") {
        let Some((sid, s)) = sso else {
            return error_redirect(&ctx, &req, &AadError::login_required());
        };
        resume_from_session(&mut flow, &sid, &s);
        return advance(&ctx, flow, true);
    }
    if let (Some((sid, s)), false) = (sso, interactive_prompt) {
        resume_from_session(&mut flow, &sid, &s);
        return advance(&ctx, flow, false);
    }
    match login_hint {
        Some(h) => submit_username(&ctx, flow, &h),
        None => {
            save_flow(&ctx, &flow);
            page_username(&ctx, &flow, "", None)
        }
    }
}

fn resume_from_session(flow: &mut Flow, sid: &str, s: &SsoSession) {
    flow.tid = Some(s.tid);
    flow.user_oid = Some(s.user_oid);
    flow.amr = s.amr.clone();
    flow.auth_time = s.auth_time;
    flow.auth_ticks = s.auth_ticks;
    flow.sso_id = Some(sid.to_string());
}

/// The live SSO session of this browser, if it fits the request (tenant, login_hint) and its
/// user can still sign in.
fn sso_lookup(
    ctx: &Ctx,
    headers: &HeaderMap,
    tid: Option<Uuid>,
    hint: Option<&str>,
) -> Option<(String, SsoSession)> {
    let sid = session_id(headers)?;
    let s = ctx.state.sessions().sso.get(&sid).cloned()?;
    if s.expires_at <= ctx.unix() || tid.is_some_and(|t| t != s.tid) {
        return None;
    }
    let dir = ctx.state.dir();
    let tenant = dir.tenants.iter().find(|t| t.tid == s.tid)?;
    let user = tenant.user_by_oid(s.user_oid)?;
    if !user.enabled || user.locked {
        return None;
    }
    if let Some(h) = hint {
        if !user.upn.eq_ignore_ascii_case(h) {
            return None;
        }
    }
    // A session older than the user's TokensValidFrom (password change) is dead.
    if user
        .tokens_valid_from
        .is_some_and(|v| v.unix_timestamp() > s.auth_time)
    {
        return None;
    }
    Some((sid, s))
}

// ----------------------------------------------------------------------------- flow steps

/// Moves a flow whose user is known to its next page, or finishes it. `silent` (prompt=none)
/// turns every page that would be needed into the matching error redirect.
fn advance(ctx: &Ctx, mut flow: Flow, silent: bool) -> Response {
    enum Next {
        Blocked(AadError),
        Redirect(AadError),
        Gone,
        Enroll,
        Mfa,
        Consent,
        Done,
    }
    let next = {
        let dir = ctx.state.dir();
        let tenant = flow
            .tid
            .and_then(|tid| dir.tenants.iter().find(|t| t.tid == tid));
        let user = tenant.and_then(|t| flow.user_oid.and_then(|oid| t.user_by_oid(oid)));
        match (tenant, user) {
            (Some(tenant), Some(user)) => {
                let (resource, scope) = match &flow.purpose {
                    Purpose::Authorize(r) => (r.resource.clone(), r.scope.clone()),
                    Purpose::Device {
                        resource, scope, ..
                    } => (resource.clone(), scope.clone()),
                };
                let mut next = None;
                if let Purpose::Authorize(r) = &mut flow.purpose {
                    if !r.resource_checked {
                        match check_resource(
                            tenant,
                            &flow.seg,
                            Some(user.upn.as_str()),
                            r.v2,
                            resource.as_deref(),
                            scope.as_deref(),
                        ) {
                            Ok(()) => r.resource_checked = true,
                            Err(e) => next = Some(Next::Redirect(e)),
                        }
                    }
                }
                let client = client_of(&flow).unwrap_or(Uuid::nil());
                let (res_app, res_name) =
                    resource_target(tenant, resource.as_deref(), scope.as_deref());
                let mfa_done = flow.amr.iter().any(|a| a == "mfa");
                let res_label = res_app
                    .map(|a| a.to_string())
                    .or(res_name.clone())
                    .unwrap_or_default();
                next.unwrap_or_else(|| {
                    match signin::requirements(tenant, user, client, res_app, res_name.as_deref()) {
                        Err(e) => Next::Blocked(e),
                        Ok(SecondFactor::Enroll) if !mfa_done => {
                            if silent {
                                Next::Redirect(AadError::mfa_enroll(&res_label))
                            } else {
                                Next::Enroll
                            }
                        }
                        Ok(SecondFactor::Required) if !mfa_done => {
                            if silent {
                                Next::Redirect(AadError::mfa_required(&res_label, true))
                            } else {
                                Next::Mfa
                            }
                        }
                        _ => {
                            let consented = signin::has_consent(tenant, user, client);
                            if (!consented || flow.force_consent) && !flow.consent_done {
                                if silent {
                                    let name = tenant
                                        .app(client)
                                        .map(|a| a.display_name.clone())
                                        .unwrap_or_default();
                                    Next::Redirect(with_error(
                                        AadError::consent_required(&client.to_string(), &name),
                                        "consent_required",
                                    ))
                                } else {
                                    Next::Consent
                                }
                            } else {
                                Next::Done
                            }
                        }
                    }
                })
            }
            _ => Next::Gone,
        }
    };
    match next {
        Next::Gone => {
            drop_flow(ctx, &flow);
            error_page(ctx, &flow_expired())
        }
        Next::Redirect(e) => {
            drop_flow(ctx, &flow);
            match &flow.purpose {
                Purpose::Authorize(r) => error_redirect(ctx, r, &e),
                Purpose::Device { .. } => error_page(ctx, &e),
            }
        }
        Next::Blocked(e) => {
            drop_flow(ctx, &flow);
            match (&flow.purpose, silent) {
                (Purpose::Authorize(r), true) => {
                    error_redirect(ctx, r, &with_error(e, "access_denied"))
                }
                _ => page_ca_blocked(ctx, &e),
            }
        }
        Next::Enroll => {
            flow.step = Step::Enroll;
            save_flow(ctx, &flow);
            page_enroll(ctx, &flow)
        }
        Next::Mfa => {
            flow.step = Step::Mfa;
            save_flow(ctx, &flow);
            page_mfa(ctx, &flow, None)
        }
        Next::Consent => {
            flow.step = Step::Consent;
            save_flow(ctx, &flow);
            page_consent(ctx, &flow)
        }
        Next::Done => match flow.purpose {
            Purpose::Device { .. } => {
                flow.step = Step::DeviceConfirm;
                save_flow(ctx, &flow);
                page_device_confirm(ctx, &flow)
            }
            Purpose::Authorize(_) if flow.show_kmsi => {
                flow.step = Step::Kmsi;
                save_flow(ctx, &flow);
                page_kmsi(ctx, &flow)
            }
            Purpose::Authorize(_) => finish_authorize(ctx, flow, false),
        },
    }
}

/// Issues the code and sends it to the client; starts (or keeps) the SSO session.
fn finish_authorize(ctx: &Ctx, flow: Flow, persistent: bool) -> Response {
    drop_flow(ctx, &flow);
    let Purpose::Authorize(req) = &flow.purpose else {
        return error_page(ctx, &flow_expired());
    };
    let (Some(tid), Some(oid)) = (flow.tid, flow.user_oid) else {
        return error_page(ctx, &flow_expired());
    };
    let code_life = {
        let dir = ctx.state.dir();
        dir.tenants
            .iter()
            .find(|t| t.tid == tid)
            .map(|t| t.token_lifetimes.authorization_code)
            .unwrap_or(600)
    };
    let now = ctx.unix();
    let mut cookies = Vec::new();
    let session_state = {
        let mut sessions = ctx.state.sessions();
        // A second factor proved while continuing a session now belongs to the session.
        let existing = flow
            .sso_id
            .as_ref()
            .and_then(|sid| sessions.sso.map.get_mut(sid))
            .map(|s| {
                for a in &flow.amr {
                    if !s.amr.contains(a) {
                        s.amr.push(a.clone());
                    }
                }
                s.session_state
            });
        match existing {
            Some(ss) => ss,
            None => {
                let sid = random_b64url(32);
                let ttl = if persistent {
                    PERSISTENT_TTL_SECS
                } else {
                    SESSION_TTL_SECS
                };
                let ss = Uuid::new_v4();
                sessions.sso.insert(
                    sid.clone(),
                    SsoSession {
                        tid,
                        user_oid: oid,
                        amr: flow.amr.clone(),
                        auth_time: flow.auth_time,
                        auth_ticks: flow.auth_ticks,
                        expires_at: now + ttl,
                        session_state: ss,
                    },
                );
                cookies.push(ctx.cookie(SESSION_COOKIE, &sid, None));
                if persistent {
                    cookies.push(ctx.cookie(PERSISTENT_COOKIE, &sid, Some(PERSISTENT_TTL_SECS)));
                }
                ss
            }
        }
    };
    let code = random_b64url(64);
    ctx.state.grants().codes.insert(
        code.clone(),
        AuthCode {
            auth: AuthContext {
                tid,
                user_oid: oid,
                amr: flow.amr.clone(),
                auth_time: flow.auth_time,
                auth_ticks: flow.auth_ticks,
            },
            client_id: req.client_id,
            redirect_uri: req.redirect_uri.clone(),
            resource: req.resource.clone(),
            scope: req.scope.clone(),
            code_challenge: req.code_challenge.clone(),
            code_challenge_method: req.code_challenge_method.clone(),
            nonce: req.nonce.clone(),
            expires_at: now + code_life,
            redeemed: false,
        },
    );
    let mut params = vec![("code", code)];
    if req.v2 {
        params.push(("client_info", client_info(oid, tid)));
    }
    if let Some(s) = &req.state {
        params.push(("state", s.clone()));
    }
    params.push(("session_state", session_state.to_string()));
    deliver(ctx, &req.redirect_uri, req.mode, &params, &cookies)
}

fn submit_username(ctx: &Ctx, mut flow: Flow, login: &str) -> Response {
    let login = login.trim();
    if login.is_empty() || login.len() > 256 {
        save_flow(ctx, &flow);
        return page_username(
            ctx,
            &flow,
            "",
            Some((
                "Enter a valid email address, phone number, or Skype name.",
                None,
            )),
        );
    }
    let found = {
        let dir = ctx.state.dir();
        let tenant = match flow.tid {
            Some(tid) => dir.tenants.iter().find(|t| t.tid == tid),
            None => dir.tenant_of_upn(login),
        };
        match tenant {
            Some(t) => signin::lookup(t, login).map(|u| (t.tid, u.upn.clone())),
            None => Err(AadError::user_not_found(
                login.rsplit_once('@').map(|(_, d)| d).unwrap_or(login),
            )),
        }
    };
    match found {
        Ok((tid, upn)) => {
            flow.tid = Some(tid);
            flow.upn = Some(upn);
            flow.step = Step::Password;
            save_flow(ctx, &flow);
            page_password(ctx, &flow, None)
        }
        Err(e) => {
            flow.step = Step::Username;
            save_flow(ctx, &flow);
            page_username(ctx, &flow, login, Some((signin_message(&e), Some(&e))))
        }
    }
}

fn submit_password(ctx: &Ctx, mut flow: Flow, password: &str) -> Response {
    if password.is_empty() {
        return page_password(ctx, &flow, Some(("Please enter your password.", None)));
    }
    let result = {
        let dir = ctx.state.dir();
        let tenant = flow
            .tid
            .and_then(|tid| dir.tenants.iter().find(|t| t.tid == tid));
        match (tenant, flow.upn.as_deref()) {
            (Some(t), Some(upn)) => signin::authenticate(t, upn, password).map(|u| u.oid),
            _ => Err(flow_expired()),
        }
    };
    match result {
        Ok(oid) => {
            flow.user_oid = Some(oid);
            flow.amr = vec!["pwd".to_string()];
            (flow.auth_time, flow.auth_ticks) = split_instant(ctx.now);
            flow.show_kmsi = true;
            advance(ctx, flow, false)
        }
        Err(e) if e.code == 50089 => {
            drop_flow(ctx, &flow);
            error_page(ctx, &e)
        }
        Err(e) => page_password(ctx, &flow, Some((signin_message(&e), Some(&e)))),
    }
}

fn submit_consent(ctx: &Ctx, mut flow: Flow, accept: bool) -> Response {
    let client = client_of(&flow).unwrap_or(Uuid::nil());
    if !accept {
        drop_flow(ctx, &flow);
        return match &flow.purpose {
            Purpose::Authorize(r) => error_redirect(ctx, r, &consent_declined()),
            Purpose::Device { device_code, .. } => {
                set_device_state(ctx, device_code.as_deref(), DeviceState::Declined);
                let app = app_name(ctx, Some(client));
                page_message(
                    ctx,
                    "Sign in to your account",
                    &app,
                    &format!("You have declined to sign in to the {app} application on your device. You may now close this window."),
                )
            }
        };
    }
    if let (Some(tid), Some(oid)) = (flow.tid, flow.user_oid) {
        let mut dir = ctx.state.dir_mut();
        if let Some(t) = dir.tenants.iter_mut().find(|t| t.tid == tid) {
            if let Some(u) = t.users.iter_mut().find(|u| u.oid == oid) {
                if !u.consented_apps.contains(&client) {
                    u.consented_apps.push(client);
                }
            }
        }
    }
    flow.consent_done = true;
    advance(ctx, flow, false)
}

fn set_device_state(ctx: &Ctx, device_code: Option<&str>, st: DeviceState) -> bool {
    let Some(dc) = device_code else {
        return false;
    };
    let now = ctx.unix();
    let mut grants = ctx.state.grants();
    match grants.devices.get_mut(dc) {
        Some(d) if d.state == DeviceState::Pending && d.expires_at > now => {
            d.state = st;
            true
        }
        _ => false,
    }
}

fn submit_device_code(ctx: &Ctx, mut flow: Flow, otc: &str) -> Response {
    const BAD: &str = "That code didn't work. Check the code and try again.";
    const EXPIRED: &str = "The code you entered has expired. Get a new code from the device you're trying to sign in to and try again.";
    let code = otc.trim();
    if code.is_empty() || code.len() > 64 {
        save_flow(ctx, &flow);
        return page_device_code(ctx, &flow, Some(BAD));
    }
    let now = ctx.unix();
    let found = {
        let mut grants = ctx.state.grants();
        grants.device_by_user_code_mut(code).map(|d| {
            (
                d.expires_at <= now,
                d.state == DeviceState::Pending && !d.redeemed,
                d.device_code.clone(),
                d.client_id,
                d.tenant.clone(),
                d.resource.clone(),
                d.scope.clone(),
            )
        })
    };
    let Some((expired, pending, device_code, client_id, tenant, resource, scope)) = found else {
        save_flow(ctx, &flow);
        return page_device_code(ctx, &flow, Some(BAD));
    };
    if expired {
        save_flow(ctx, &flow);
        return page_device_code(ctx, &flow, Some(EXPIRED));
    }
    if !pending {
        save_flow(ctx, &flow);
        return page_device_code(ctx, &flow, Some(BAD));
    }
    let tref = TenantRef::resolve(&ctx.state.dir(), &tenant);
    flow.tid = match tref {
        Some(TenantRef::Tenant(t)) => Some(t),
        _ => None,
    };
    flow.seg = tenant;
    flow.purpose = Purpose::Device {
        device_code: Some(device_code),
        client_id: Some(client_id),
        resource,
        scope,
    };
    flow.step = Step::Username;
    save_flow(ctx, &flow);
    page_username(ctx, &flow, "", None)
}

/// Handles a form post from any page of a flow.
fn step(ctx: &Ctx, flow: Flow, p: &Params) -> Response {
    let action = p.get("action").unwrap_or("");
    match flow.step {
        Step::DeviceCode => submit_device_code(ctx, flow, p.get("otc").unwrap_or("")),
        Step::Username => submit_username(ctx, flow, p.get("loginfmt").unwrap_or("")),
        Step::Password => submit_password(ctx, flow, p.get("passwd").unwrap_or("")),
        Step::Enroll => {
            // The lab's registration: the user "adds" the authenticator app whose code is
            // MFA_CODE, then proves it on the next page.
            let mut flow = flow;
            flow.step = Step::Mfa;
            save_flow(ctx, &flow);
            page_mfa(ctx, &flow, None)
        }
        Step::Mfa => {
            if p.get("otc").map(str::trim) == Some(MFA_CODE) {
                let mut flow = flow;
                if !flow.amr.iter().any(|a| a == "mfa") {
                    flow.amr.push("mfa".into());
                }
                advance(ctx, flow, false)
            } else {
                page_mfa(
                    ctx,
                    &flow,
                    Some("You didn't enter the expected verification code. Please try again."),
                )
            }
        }
        Step::Consent => match action {
            "Accept" => submit_consent(ctx, flow, true),
            "Cancel" => submit_consent(ctx, flow, false),
            _ => page_consent(ctx, &flow),
        },
        Step::Kmsi => {
            let yes = action == "Yes" || p.get("LoginOptions") == Some("1");
            finish_authorize(ctx, flow, yes)
        }
        Step::DeviceConfirm => {
            let Purpose::Device {
                device_code,
                client_id,
                ..
            } = &flow.purpose
            else {
                return error_page(ctx, &flow_expired());
            };
            let app = app_name(ctx, *client_id);
            match action {
                "Continue" => {
                    drop_flow(ctx, &flow);
                    let approved = match (flow.tid, flow.user_oid) {
                        (Some(tid), Some(oid)) => set_device_state(
                            ctx,
                            device_code.as_deref(),
                            DeviceState::Approved(AuthContext {
                                tid,
                                user_oid: oid,
                                amr: flow.amr.clone(),
                                auth_time: flow.auth_time,
                                auth_ticks: flow.auth_ticks,
                            }),
                        ),
                        _ => false,
                    };
                    if approved {
                        page_message(
                            ctx,
                            "Sign in to your account",
                            &app,
                            &format!("You have signed in to the {app} application on your device. You may now close this window."),
                        )
                    } else {
                        page_message(
                            ctx,
                            "Sign in to your account",
                            "Enter code",
                            "The code you entered has expired. Get a new code from the device you're trying to sign in to and try again.",
                        )
                    }
                }
                "Cancel" => submit_consent(ctx, flow, false),
                _ => page_device_confirm(ctx, &flow),
            }
        }
    }
}

fn load_flow(ctx: &Ctx, p: &Params) -> Option<Flow> {
    let id = p.get("flowToken").or_else(|| p.get("ctx"))?;
    let flow = ctx.state.sessions().flows.get(id).cloned()?;
    if flow.expires_at <= ctx.unix() {
        ctx.state.sessions().flows.remove(id);
        return None;
    }
    Some(flow)
}

async fn web_login_post(
    State(state): State<AppState>,
    Segment(_tenant): Segment,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let p = Params::parse(&body);
    let mut ctx = Ctx::new(&state, &headers, None);
    let Some(flow) = load_flow(&ctx, &p) else {
        return error_page(&ctx, &flow_expired());
    };
    if let Purpose::Authorize(r) = &flow.purpose {
        ctx.ids.correlation_id = r.correlation_id;
    }
    step(&ctx, flow, &p)
}

async fn web_devicelogin_get(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let ctx = Ctx::new(&state, &headers, None);
    let flow = new_device_flow(&ctx);
    save_flow(&ctx, &flow);
    page_device_code(&ctx, &flow, None)
}

fn new_device_flow(ctx: &Ctx) -> Flow {
    new_flow(
        ctx,
        Purpose::Device {
            device_code: None,
            client_id: None,
            resource: None,
            scope: None,
        },
        "common",
        None,
        Step::DeviceCode,
    )
}

async fn web_devicelogin_post(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let p = Params::parse(&body);
    let ctx = Ctx::new(&state, &headers, None);
    match load_flow(&ctx, &p) {
        Some(flow) => step(&ctx, flow, &p),
        // A bare post of the user code (no page fetched first) starts a flow.
        None if p.get("flowToken").is_none() && p.get("ctx").is_none() => {
            let flow = new_device_flow(&ctx);
            submit_device_code(&ctx, flow, p.get("otc").unwrap_or(""))
        }
        None => error_page(&ctx, &flow_expired()),
    }
}

// ------------------------------------------------------------------------------------ logout

async fn web_logout(
    State(state): State<AppState>,
    Segment(_tenant): Segment,
    method: Method,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let p = request_params(&method, query, &body);
    let ctx = Ctx::new(&state, &headers, p.get("client-request-id"));
    if let Some(sid) = session_id(&headers) {
        state.sessions().sso.remove(&sid);
    }
    let clear = [
        format!("{SESSION_COOKIE}=; expires=Thu, 01 Jan 1970 00:00:00 GMT; path=/; HttpOnly"),
        format!("{PERSISTENT_COOKIE}=; expires=Thu, 01 Jan 1970 00:00:00 GMT; path=/; HttpOnly"),
    ];
    let target = p
        .get("post_logout_redirect_uri")
        .filter(|u| {
            url::Url::parse(u)
                .map(|u| u.scheme() == "https" || u.scheme() == "http")
                .unwrap_or(false)
        })
        .map(str::to_string);
    if let Some(uri) = target {
        let mut params = Vec::new();
        if let Some(s) = p.get("state") {
            params.push(("state", s.to_string()));
        }
        if params.is_empty() {
            if let Ok(loc) = HeaderValue::from_str(&uri) {
                let mut resp = StatusCode::FOUND.into_response();
                page_headers(resp.headers_mut(), &ctx, "text/html; charset=utf-8");
                resp.headers_mut().insert(header::LOCATION, loc);
                return with_cookies(resp, &clear);
            }
        } else {
            return deliver(&ctx, &uri, ResponseMode::Query, &params, &clear);
        }
    }
    with_cookies(
        page_message(
            &ctx,
            "Sign out",
            "You signed out of your account",
            "It's a good idea to close all browser windows.",
        ),
        &clear,
    )
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
    fn bounded_map_evicts_oldest() {
        let mut b = Bounded::new(3);
        for i in 0..10 {
            b.insert(format!("k{i}"), i);
        }
        assert_eq!(b.len(), 3);
        assert!(b.get("k6").is_none());
        assert_eq!(b.get("k9"), Some(&9));
        b.remove("k9");
        for i in 10..100 {
            b.insert(format!("k{i}"), i);
        }
        assert_eq!(b.len(), 3);
        assert!(b.order.len() <= 6);
    }

    #[test]
    fn scope_resources_split_like_azure_ad() {
        assert_eq!(
            scope_resources("openid profile offline_access https://mail.contoso.com/EWS.AccessAsUser.All User.Read api://d682aded-84aa-4316-896c-c89084acc4d3/access_as_user"),
            vec![
                "https://mail.contoso.com".to_string(),
                "https://graph.microsoft.com".to_string(),
                "api://d682aded-84aa-4316-896c-c89084acc4d3".to_string()
            ]
        );
    }

    #[test]
    fn loopback_redirects_match_any_port() {
        let app = Application {
            app_id: Uuid::nil(),
            display_name: "x".into(),
            public_client: true,
            secrets: vec![],
            redirect_uris: vec![
                "http://localhost".into(),
                "urn:ietf:wg:oauth:2.0:oob".into(),
            ],
            scopes: vec![],
            app_roles: vec![],
            access_token_accepted_version: None,
            service_principal_names: vec![],
            admin_consent: true,
            granted: vec![],
        };
        assert!(redirect_registered(&app, "http://localhost:53123"));
        assert!(redirect_registered(&app, "urn:ietf:wg:oauth:2.0:oob"));
        assert!(!redirect_registered(&app, "http://localhost.evil.com"));
        assert!(!redirect_registered(&app, "https://localhost:1"));
        assert!(!redirect_registered(&app, "http://localhost:1/x"));
    }
}
