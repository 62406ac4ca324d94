//! The authorize endpoints (v1 and v2): checks the request as Azure AD does, then starts a
//! sign-in flow, continues an SSO session, or answers `prompt=none` silently.
//!
//! An unknown tenant, client or redirect URI gets Azure AD's HTML error page and never a redirect;
//! every later error is sent back to the client's `redirect_uri`. Where the flow goes from here
//! is [`super::flow`].

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, Method};
use axum::response::Response;
use uuid::Uuid;

use crate::error::AadError;
use crate::model::{Application, Tenant};
use crate::resolve::{Segment, TenantRef};
use crate::sessions::{AuthRequest, Flow, Purpose, ResponseMode, SsoSession, Step};
use crate::state::AppState;
use crate::util::Params;
use crate::web::ctx::{new_flow, request_params, save_flow, session_id, Ctx};
use crate::web::flow::{advance, submit_username};
use crate::web::pages::{error_page, error_redirect, page_username};
use crate::web::resource::{check_resource, tenant_label};

pub(super) async fn web_authorize_v1(
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

pub(super) async fn web_authorize_v2(
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
        Some(other) => {
            return error_redirect(&ctx, &req, &AadError::unsupported_response_type(other))
        }
    }
    if v2 && req.scope.is_none() {
        return error_redirect(&ctx, &req, &AadError::missing_parameter("scope"));
    }
    if let Some(m) = &req.code_challenge_method {
        if m != "S256" && m != "plain" {
            return error_redirect(&ctx, &req, &AadError::code_challenge_method_invalid());
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
            return error_redirect(&ctx, &req, &AadError::code_challenge_size_invalid());
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
    let s = ctx.state.sessions().sso(&sid).cloned()?;
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

#[cfg(test)]
mod tests {
    use super::*;

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
