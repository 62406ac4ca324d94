//! What every answer of a sign-in request needs: the request's ids, time and base URL
//! ([`Ctx`]), the session cookie, and the flow store's load/save around the pages.

use axum::http::{header, HeaderMap, Method};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::error::RequestIds;
use crate::resolve::base_url;
use crate::sessions::{Flow, Purpose, Step, FLOW_TTL_SECS};
use crate::state::AppState;
use crate::util::{random_b64url, Params};

/// Session cookie (browser session; `ESTSAUTHPERSISTENT` too after "Stay signed in? Yes").
pub const SESSION_COOKIE: &str = "ESTSAUTH";

pub const PERSISTENT_COOKIE: &str = "ESTSAUTHPERSISTENT";

/// What every response of a request needs.
pub(super) struct Ctx {
    pub state: AppState,
    /// The base URL pages and redirects put in front of the service's paths.
    pub base: String,
    pub https: bool,
    pub ids: RequestIds,
    pub now: OffsetDateTime,
}

impl Ctx {
    pub fn new(state: &AppState, headers: &HeaderMap, correlation: Option<&str>) -> Ctx {
        let mut ids = RequestIds::from_headers(headers);
        if let Some(c) = correlation.and_then(|c| Uuid::parse_str(c.trim()).ok()) {
            ids.correlation_id = c;
        }
        let base = base_url(&state.config, headers);
        Ctx {
            https: base.starts_with("https://"),
            state: state.clone(),
            base,
            ids,
            now: state.now(),
        }
    }

    pub fn unix(&self) -> i64 {
        self.now.unix_timestamp()
    }

    /// A `Set-Cookie` value (secure and `SameSite=None` when the page was reached over HTTPS).
    pub fn cookie(&self, name: &str, value: &str, max_age: Option<i64>) -> String {
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

pub(super) fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
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

pub(super) fn session_id(headers: &HeaderMap) -> Option<String> {
    cookie_value(headers, SESSION_COOKIE).or_else(|| cookie_value(headers, PERSISTENT_COOKIE))
}

/// Query parameters, plus the form body of a POST.
pub(super) fn request_params(method: &Method, query: Option<String>, body: &[u8]) -> Params {
    let mut raw = query.unwrap_or_default().into_bytes();
    if method == Method::POST && !body.is_empty() {
        if !raw.is_empty() {
            raw.push(b'&');
        }
        raw.extend_from_slice(body);
    }
    Params::parse(&raw)
}

pub(super) fn new_flow(
    ctx: &Ctx,
    purpose: Purpose,
    seg: &str,
    tid: Option<Uuid>,
    step: Step,
) -> Flow {
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

pub(super) fn save_flow(ctx: &Ctx, flow: &Flow) {
    ctx.state.sessions().save_flow(flow);
}

pub(super) fn drop_flow(ctx: &Ctx, flow: &Flow) {
    ctx.state.sessions().remove_flow(&flow.id);
}

pub(super) fn load_flow(ctx: &Ctx, p: &Params) -> Option<Flow> {
    let id = p.get("flowToken").or_else(|| p.get("ctx"))?;
    let flow = ctx.state.sessions().flow(id).cloned()?;
    if flow.expires_at <= ctx.unix() {
        ctx.state.sessions().remove_flow(id);
        return None;
    }
    Some(flow)
}

pub(super) fn app_name(ctx: &Ctx, client: Option<Uuid>) -> String {
    let Some(id) = client else {
        return String::new();
    };
    let dir = ctx.state.dir();
    dir.tenants
        .iter()
        .find_map(|t| t.app(id).map(|a| a.display_name.clone()))
        .unwrap_or_else(|| id.to_string())
}
