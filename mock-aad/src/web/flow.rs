//! The sign-in flow: the state machine a browser walks from the username page to the redirect
//! with a code (or, for a device flow, to "You have signed in").
//!
//! username → password → (MFA enrolment) → MFA code → consent → "Stay signed in?" → redirect
//! with a code; for a device flow: user code → username → password → … → "Are you trying to sign
//! in to {app}?". Each form post names its flow by `flowToken`; the flow's record in
//! [`crate::sessions`] says which page it is on, and [`step`] answers that page's form. Locks are
//! taken briefly and never across an `.await`; the only await in a handler is reading the body,
//! which happens before any lock. The HTML is [`super::pages`].

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use uuid::Uuid;

use crate::aadsts;
use crate::error::AadError;
use crate::grants::{split_instant, AuthCode, AuthContext, DeviceState};
use crate::model::DomainKind;
use crate::resolve::{Segment, TenantRef};
use crate::sessions::{Flow, Purpose, SsoSession, Step, PERSISTENT_TTL_SECS, SESSION_TTL_SECS};
use crate::signin::{self, SecondFactor};
use crate::state::AppState;
use crate::util::{random_b64url, Params};
use crate::web::ctx::{
    app_name, drop_flow, load_flow, new_flow, save_flow, Ctx, PERSISTENT_COOKIE, SESSION_COOKIE,
};
use crate::web::pages::{
    deliver, error_page, error_redirect, page_ca_blocked, page_consent, page_device_code,
    page_device_confirm, page_enroll, page_idp_redirect, page_kmsi, page_message, page_mfa,
    page_password, page_username,
};
use crate::web::resource::{check_resource, resource_target};

/// The verification code the lab's MFA page accepts (every user's "authenticator app").
pub const MFA_CODE: &str = "123456";

/// Moves a flow whose user is known to its next page, or finishes it. `silent` (prompt=none)
/// turns every page that would be needed into the matching error redirect.
pub(super) fn advance(ctx: &Ctx, mut flow: Flow, silent: bool) -> Response {
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
                let client = flow.client().unwrap_or(Uuid::nil());
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
                                    Next::Redirect(
                                        AadError::consent_required(&client.to_string(), &name)
                                            .with_error("consent_required"),
                                    )
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
            error_page(ctx, &AadError::flow_expired())
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
                    error_redirect(ctx, r, &e.with_error("access_denied"))
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
        return error_page(ctx, &AadError::flow_expired());
    };
    let (Some(tid), Some(oid)) = (flow.tid, flow.user_oid) else {
        return error_page(ctx, &AadError::flow_expired());
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
            .and_then(|sid| sessions.sso_mut(sid))
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
                sessions.start_sso(
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
    ctx.state.sweep_grants();
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

fn client_info(oid: Uuid, tid: Uuid) -> String {
    URL_SAFE_NO_PAD.encode(format!(r#"{{"uid":"{oid}","utid":"{tid}"}}"#))
}

pub(super) fn submit_username(ctx: &Ctx, mut flow: Flow, login: &str) -> Response {
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
    enum Found {
        User(uuid::Uuid, String),
        Federated(uuid::Uuid, Box<crate::model::Federation>),
    }
    let found = {
        let dir = ctx.state.dir();
        let tenant = match flow.tid {
            Some(tid) => dir.tenants.iter().find(|t| t.tid == tid),
            None => dir.tenant_of_upn(login),
        };
        match tenant {
            Some(t) => match t
                .domain_of_upn(login)
                .filter(|d| d.kind == DomainKind::Federated)
                .and_then(|d| d.federation.clone())
            {
                Some(f) => Ok(Found::Federated(t.tid, Box::new(f))),
                None => signin::lookup(t, login).map(|u| Found::User(t.tid, u.upn.clone())),
            },
            None => Err(AadError::user_not_found(
                login.rsplit_once('@').map(|(_, d)| d).unwrap_or(login),
            )),
        }
    };
    match found {
        Ok(Found::Federated(tid, f)) => {
            flow.tid = Some(tid);
            flow.step = Step::Federated;
            flow.upn = Some(login.to_string());
            save_flow(ctx, &flow);
            page_idp_redirect(ctx, &f, login, &flow)
        }
        Ok(Found::User(tid, upn)) => {
            flow.tid = Some(tid);
            flow.upn = Some(upn);
            flow.step = Step::Password;
            save_flow(ctx, &flow);
            page_password(ctx, &flow, None)
        }
        Err(e) => {
            flow.step = Step::Username;
            save_flow(ctx, &flow);
            page_username(
                ctx,
                &flow,
                login,
                Some((aadsts::signin_message(e.code), Some(&e))),
            )
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
            _ => Err(AadError::flow_expired()),
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
        Err(e) => page_password(ctx, &flow, Some((aadsts::signin_message(e.code), Some(&e)))),
    }
}

fn submit_consent(ctx: &Ctx, mut flow: Flow, accept: bool) -> Response {
    let client = flow.client().unwrap_or(Uuid::nil());
    if !accept {
        drop_flow(ctx, &flow);
        return match &flow.purpose {
            Purpose::Authorize(r) => error_redirect(ctx, r, &AadError::consent_declined()),
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
        // The flow waits for the IdP's answer at `login.srf`; a page post cannot continue it.
        Step::Federated => {
            drop_flow(ctx, &flow);
            error_page(ctx, &AadError::flow_expired())
        }
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
                return error_page(ctx, &AadError::flow_expired());
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

pub(super) async fn web_login_post(
    State(state): State<AppState>,
    Segment(_tenant): Segment,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let p = Params::parse(&body);
    let mut ctx = Ctx::new(&state, &headers, None);
    let Some(flow) = load_flow(&ctx, &p) else {
        return error_page(&ctx, &AadError::flow_expired());
    };
    if let Purpose::Authorize(r) = &flow.purpose {
        ctx.ids.correlation_id = r.correlation_id;
    }
    step(&ctx, flow, &p)
}

pub(super) async fn web_devicelogin_get(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Response {
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

pub(super) async fn web_devicelogin_post(
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
        None => error_page(&ctx, &AadError::flow_expired()),
    }
}
