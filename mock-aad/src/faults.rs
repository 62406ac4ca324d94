//! Fault injection: the middleware that applies the fault rules to the service's own endpoints.
//!
//! [`inject`] sits in front of the router, so it sees every request before routing: it classifies
//! the path ([`Endpoint::classify`]), and only when a live rule ([`crate::fault_rules`]) could apply
//! does it buffer the (bounded) form body to read `username`, `client_id`, `resource`/`scope`,
//! then puts the body back for the handler. A refresh token, authorization code or device code in
//! the request is resolved to its user through the grant store, so `user` matches those grants
//! too. An AADSTS answer comes from the catalogue ([`crate::aadsts`]) rendered exactly as the
//! token endpoint renders its own; on an authorize request whose redirect URI is registered it
//! goes back to the client the way Azure AD sends authorize errors. Admin paths are never faulted.

use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use time::OffsetDateTime;
use uuid::Uuid;

pub use crate::aadsts::{error_for_code, FaultContext, KNOWN_CODES};
use crate::error::{set_aad_headers, AadError, RequestIds};
pub use crate::fault_rules::Endpoint;
use crate::fault_rules::{GrantValue, RequestInfo, BODY_LIMIT};
use crate::grants::DeviceState;
use crate::state::AppState;
use crate::util::Params;
use crate::web::reply::{form_post_page, redirect_location};

/// The middleware: answers, delays or passes each request according to the rules.
pub async fn inject(State(s): State<AppState>, req: Request, next: Next) -> Response {
    let Some(endpoint) = Endpoint::classify(req.uri().path()) else {
        return next.run(req).await;
    };
    // Cheap test first: does any live rule apply to this endpoint at all?
    let candidates = s
        .faults()
        .live()
        .any(|r| r.matcher.endpoint == Endpoint::Any || r.matcher.endpoint == endpoint);
    if !candidates {
        return next.run(req).await;
    }

    let (parts, body) = req.into_parts();
    let (body, bytes) = if parts.method == Method::POST {
        match axum::body::to_bytes(body, BODY_LIMIT).await {
            Ok(b) => (Body::from(b.clone()), b),
            Err(_) => return StatusCode::PAYLOAD_TOO_LARGE.into_response(),
        }
    } else {
        (body, Bytes::new())
    };
    let mut info = RequestInfo {
        endpoint,
        ..RequestInfo::default()
    };
    let segs: Vec<&str> = parts
        .uri
        .path()
        .split('/')
        .filter(|x| !x.is_empty())
        .collect();
    info.tenant = segs.first().map(|t| t.to_string()).unwrap_or_default();
    info.v1 = !segs.iter().any(|x| x.eq_ignore_ascii_case("v2.0"));
    fill_fields(&mut info, &parts.headers, parts.uri.query(), &bytes);
    if info.user.is_none() {
        resolve_grant_user(&s, &mut info);
    }
    let req = Request::from_parts(parts, body);

    let taken = s.faults().take(&info);
    let Some(respond) = taken else {
        return next.run(req).await;
    };
    tracing::info!(endpoint = ?info.endpoint, ?respond, "fault injected");
    if let Some(ms) = respond.delay_ms {
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
    let err = if let Some(code) = respond.aadsts {
        error_for_code(code, &context(&s, &info))
    } else {
        respond
            .status
            .and_then(|st| StatusCode::from_u16(st).ok())
            .map(AadError::server_error)
    };
    let Some(e) = err else {
        return next.run(req).await;
    };
    let ids = RequestIds::from_headers(req.headers());
    let e = e.in_era(s.era());
    if info.endpoint == Endpoint::Authorize {
        if let Some(target) = registered_redirect(&s, &info) {
            return authorize_error_redirect(&e, &ids, s.now(), &target, &info);
        }
    }
    e.into_response_with(&ids, s.now())
}

/// The redirect URI of an authorize request when it is registered for its client (only then
/// does Azure AD send an error back to the client instead of showing its own error page).
fn registered_redirect(s: &AppState, info: &RequestInfo) -> Option<String> {
    let client = Uuid::parse_str(info.client_id.as_deref()?.trim()).ok()?;
    let dir = s.dir();
    let tenant = dir.tenant(&info.tenant).or_else(|| {
        info.user
            .as_deref()
            .and_then(|u| dir.tenant_of_upn(u))
            .or_else(|| dir.tenants.iter().find(|t| t.app(client).is_some()))
    })?;
    let app = tenant.app(client)?;
    match info.redirect_uri.as_deref() {
        Some(want) => app
            .redirect_uris
            .iter()
            .find(|r| r.eq_ignore_ascii_case(want))
            .map(|_| want.to_string()),
        // v1 falls back to the application's first reply URL.
        None if info.v1 => app.redirect_uris.first().cloned(),
        None => None,
    }
}

/// Sends an authorize error back to the client: `error`, `error_description`, `error_uri`,
/// `state` in the query (default for `code`), the fragment (default for implicit responses) or
/// an auto-submitting form (`response_mode=form_post`).
fn authorize_error_redirect(
    e: &AadError,
    ids: &RequestIds,
    now: OffsetDateTime,
    target: &str,
    info: &RequestInfo,
) -> Response {
    let mut pairs: Vec<(&str, String)> = vec![
        ("error", e.error.clone()),
        (
            "error_description",
            e.description(ids.trace_id, ids.correlation_id, now),
        ),
    ];
    if e.with_error_uri {
        pairs.push((
            "error_uri",
            format!("https://login.microsoftonline.com/error?code={}", e.code),
        ));
    }
    if let Some(st) = &info.state {
        pairs.push(("state", st.clone()));
    }
    let mode = info.response_mode.as_deref().map(str::to_ascii_lowercase);
    let implicit = info.response_type.as_deref().is_some_and(|t| {
        t.split_whitespace()
            .any(|x| x == "token" || x == "id_token")
    });
    let mode = mode.unwrap_or_else(|| if implicit { "fragment" } else { "query" }.to_string());
    let mut headers = HeaderMap::new();
    set_aad_headers(&mut headers, ids.trace_id, now, None);
    if mode == "form_post" {
        let html = form_post_page(target, &pairs);
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        );
        return (StatusCode::OK, headers, html).into_response();
    }
    let location = redirect_location(target, mode == "fragment", &pairs);
    match HeaderValue::from_str(&location) {
        Ok(v) => {
            headers.insert(header::LOCATION, v);
            (StatusCode::FOUND, headers).into_response()
        }
        Err(_) => e.clone().into_response_with(ids, now),
    }
}

/// Reads the matchable fields from the query string and the form body (body wins).
fn fill_fields(info: &mut RequestInfo, headers: &HeaderMap, query: Option<&str>, body: &[u8]) {
    let is_form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
        });
    let no_type = headers.get(header::CONTENT_TYPE).is_none();
    let form = if is_form || no_type {
        Params::parse(body)
    } else {
        Params::default()
    };
    let q = Params::parse(query.unwrap_or("").as_bytes());
    let get = |name: &str| {
        form.get(name)
            .or_else(|| q.get(name))
            .map(|v| v.to_string())
    };
    info.grant_type = get("grant_type");
    info.user = get("username").or_else(|| get("login_hint"));
    info.client_id = get("client_id").or_else(|| basic_client_id(headers));
    info.resource = get("resource");
    info.scope = get("scope");
    info.redirect_uri = get("redirect_uri");
    info.state = get("state");
    info.response_mode = get("response_mode");
    info.response_type = get("response_type");
    info.grant = get("refresh_token")
        .map(GrantValue::Refresh)
        .or_else(|| get("code").map(GrantValue::Code))
        .or_else(|| get("device_code").map(GrantValue::Device));
}

/// The client id of `Authorization: Basic base64(client_id:secret)` (client_secret_basic).
fn basic_client_id(headers: &HeaderMap) -> Option<String> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, rest) = v.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let raw = base64::engine::general_purpose::STANDARD
        .decode(rest.trim())
        .ok()?;
    let text = String::from_utf8(raw).ok()?;
    let id = text.split(':').next()?;
    let id: String = form_urlencoded::parse(format!("x={id}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())?;
    (!id.is_empty()).then_some(id)
}

/// Finds the user of a refresh token, authorization code or device code in the request.
fn resolve_grant_user(s: &AppState, info: &mut RequestInfo) {
    let Some(grant) = info.grant.take() else {
        return;
    };
    let found = {
        let grants = s.grants();
        match grant {
            GrantValue::Refresh(v) => grants
                .refresh
                .get(&v)
                .map(|g| (g.auth.tid, g.auth.user_oid, Some(g.auth.auth_instant()))),
            GrantValue::Code(v) => grants
                .codes
                .get(&v)
                .map(|c| (c.auth.tid, c.auth.user_oid, None)),
            GrantValue::Device(v) => grants.devices.get(&v).and_then(|d| match &d.state {
                DeviceState::Approved(a) => Some((a.tid, a.user_oid, None)),
                _ => None,
            }),
        }
    };
    if let Some((tid, oid, issued)) = found {
        let dir = s.dir();
        if let Some(u) = dir
            .tenant(&tid.to_string())
            .and_then(|t| t.user_by_oid(oid))
        {
            info.user = Some(u.upn.clone());
        }
        info.grant_issued = issued;
    }
}

/// The context an injected error is worded with.
fn context(s: &AppState, info: &RequestInfo) -> FaultContext {
    let dir = s.dir();
    let tenant = dir
        .tenant(&info.tenant)
        .or_else(|| info.user.as_deref().and_then(|u| dir.tenant_of_upn(u)));
    let client_name = tenant.and_then(|t| {
        let id = Uuid::parse_str(info.client_id.as_deref()?.trim()).ok()?;
        Some(t.app(id)?.display_name.clone())
    });
    let resource_app_id = tenant.and_then(|t| {
        let r = info.resource.as_deref().or_else(|| {
            info.scope
                .as_deref()
                .and_then(|sc| sc.split_whitespace().find(|x| x.contains('/')))
        })?;
        let r = match r.rsplit_once('/') {
            Some((base, last)) if info.resource.is_none() && !last.is_empty() => base,
            _ => r,
        };
        Some(t.resource(r)?.app_id.to_string())
    });
    let lifetimes = tenant.map(|t| t.token_lifetimes.clone());
    FaultContext {
        tenant: info.tenant.clone(),
        client_id: info.client_id.clone(),
        client_name,
        user: info.user.clone(),
        resource: info.resource.clone(),
        scope: info.scope.clone(),
        resource_app_id,
        grant_type: info.grant_type.clone(),
        redirect_uri: info.redirect_uri.clone(),
        v1: info.v1,
        now: Some(s.now()),
        grant_issued: info.grant_issued,
        max_inactive: lifetimes.as_ref().map(|l| l.refresh_token_max_inactive),
        max_age: lifetimes.and_then(|l| l.refresh_token_max_age),
    }
}
