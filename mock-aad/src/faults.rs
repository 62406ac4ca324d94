//! Fault injection: scripted failures of the service's own endpoints.
//!
//! A [`Rule`] says which requests it catches ([`Match`]: endpoint, grant type, user, client,
//! resource), how many times (`times`, or until removed) and what happens instead ([`Respond`]):
//! an AADSTS error rendered through [`AadError`] exactly as the token endpoint renders its own,
//! a bare 5xx, or a delay after which the request goes on to the real handler.
//!
//! [`inject`] is a middleware in front of the router, so it sees every request before routing:
//! it classifies the path ([`Endpoint::classify`]), and only when a live rule could apply does it
//! buffer the (bounded) form body to read `username`, `client_id`, `resource`/`scope`, then puts
//! the body back for the handler. A refresh token, authorization code or device code in the
//! request is resolved to its user through the grant store, so `user` matches those grants too.
//! Rules are tried in insertion order; the first one with a count left is taken and its count
//! decremented under one lock, so concurrent requests never use a count twice. Admin paths are
//! never faulted.

use std::collections::HashSet;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::error::{AadError, RequestIds};
use crate::model::EXCHANGE_APP_ID;
use crate::state::AppState;
use crate::util::Params;

/// The largest body the middleware buffers to match a rule (the router's own limit).
pub const BODY_LIMIT: usize = 256 * 1024;
/// The longest delay a rule may ask for.
pub const MAX_DELAY_MS: u64 = 600_000;

/// Which service endpoint a request is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Endpoint {
    Token,
    Authorize,
    Devicecode,
    /// The v1 and v2 OpenID configuration documents.
    Discovery,
    /// JWKS (`/common/discovery/keys`, `/{t}/discovery/v2.0/keys`).
    Keys,
    FederationMetadata,
    Userrealm,
    Instance,
    /// Any path (admin paths excepted).
    #[default]
    Any,
}

impl Endpoint {
    /// Classifies a request path. `None` for the admin API (never faulted); `Some(Any)` for a
    /// path that is none of the named endpoints (only `endpoint: any` rules catch it).
    pub fn classify(path: &str) -> Option<Endpoint> {
        let p = path.to_ascii_lowercase();
        let p = p.trim_end_matches('/');
        if p == "/_admin" || p.starts_with("/_admin/") {
            return None;
        }
        let segs: Vec<&str> = p.split('/').filter(|s| !s.is_empty()).collect();
        let rest: &[&str] = segs.get(1..).unwrap_or(&[]);
        let e = match rest {
            ["oauth2", "token"] | ["oauth2", "v2.0", "token"] => Endpoint::Token,
            ["oauth2", "authorize"] | ["oauth2", "v2.0", "authorize"] => Endpoint::Authorize,
            ["oauth2", "devicecode"] | ["oauth2", "v2.0", "devicecode"] => Endpoint::Devicecode,
            [".well-known", "openid-configuration"]
            | ["v2.0", ".well-known", "openid-configuration"] => Endpoint::Discovery,
            ["discovery", "keys"] | ["discovery", "v2.0", "keys"] => Endpoint::Keys,
            ["discovery", "instance"] => Endpoint::Instance,
            ["userrealm", ..] => Endpoint::Userrealm,
            ["federationmetadata", "2007-06", "federationmetadata.xml"] => {
                Endpoint::FederationMetadata
            }
            _ if segs.first() == Some(&"getuserrealm.srf") => Endpoint::Userrealm,
            _ => Endpoint::Any,
        };
        Some(e)
    }
}

/// Which requests a rule catches. Every field that is set must match.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Match {
    #[serde(default)]
    pub endpoint: Endpoint,
    /// `password`, `refresh_token`, … or the full URN (`urn:ietf:params:oauth:grant-type:device_code`
    /// is also matched by `device_code`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant_type: Option<String>,
    /// A UPN: the `username` of a password grant, the `login_hint` of an authorize request, or the
    /// user a refresh token, authorization code or device code belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// `client_id` (form, query, or HTTP Basic credentials).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// Contained (without ASCII case) in the v1 `resource` or the v2 `scope`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
}

impl Match {
    fn matches(&self, req: &RequestInfo) -> bool {
        if self.endpoint != Endpoint::Any && self.endpoint != req.endpoint {
            return false;
        }
        if let Some(want) = &self.grant_type {
            let Some(got) = req.grant_type.as_deref() else {
                return false;
            };
            let short = got.rsplit(':').next().unwrap_or(got);
            if !want.eq_ignore_ascii_case(got) && !want.eq_ignore_ascii_case(short) {
                return false;
            }
        }
        if let Some(want) = &self.user {
            if !req
                .user
                .as_deref()
                .is_some_and(|u| u.eq_ignore_ascii_case(want))
            {
                return false;
            }
        }
        if let Some(want) = &self.client_id {
            if !req
                .client_id
                .as_deref()
                .is_some_and(|c| c.trim().eq_ignore_ascii_case(want.trim()))
            {
                return false;
            }
        }
        if let Some(want) = &self.resource {
            let want = want.to_ascii_lowercase();
            let hit = [&req.resource, &req.scope]
                .into_iter()
                .flatten()
                .any(|v| v.to_ascii_lowercase().contains(&want));
            if !hit {
                return false;
            }
        }
        true
    }
}

/// What a rule does to a request it catches.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Respond {
    /// Answer with this AADSTS error ([`error_for_code`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aadsts: Option<u32>,
    /// Answer with this 5xx status (`temporarily_unavailable`, [`AadError::server_error`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Wait this long (real time) first; alone, the request then goes on to the service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay_ms: Option<u64>,
    /// With `aadsts`/`status`: each user (else client) gets the error once, then passes — a
    /// step-up challenge that is satisfied by retrying. Counts are only used by failed requests.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub then_pass: bool,
}

/// A rule as posted to `POST /_admin/faults`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewRule {
    #[serde(default, rename = "match")]
    pub matcher: Match,
    /// How many requests the rule catches: absent = 1, `null` = until removed.
    #[serde(default = "default_times", deserialize_with = "times_or_null")]
    pub times: Option<u64>,
    pub respond: Respond,
}

fn default_times() -> Option<u64> {
    Some(1)
}

fn times_or_null<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    Option::<u64>::deserialize(d)
}

/// A stored rule.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rule {
    pub id: u64,
    #[serde(rename = "match")]
    pub matcher: Match,
    /// As created (`null` = until removed).
    pub times: Option<u64>,
    /// Requests it will still catch (`null` = unlimited).
    pub remaining: Option<u64>,
    /// Requests it caught so far.
    pub hits: u64,
    pub respond: Respond,
    /// Principals that already got their one error (`then_pass`).
    #[serde(skip)]
    passed: HashSet<String>,
}

/// All fault rules, in insertion order.
#[derive(Debug, Default)]
pub struct Faults {
    rules: Vec<Rule>,
    next_id: u64,
}

impl Faults {
    /// Validates and adds a rule; returns it.
    pub fn add(&mut self, new: NewRule) -> Result<Rule, String> {
        let r = &new.respond;
        if r.aadsts.is_some() && r.status.is_some() {
            return Err("respond: give either `aadsts` or `status`, not both".into());
        }
        if r.aadsts.is_none() && r.status.is_none() && r.delay_ms.is_none() {
            return Err("respond: give `aadsts`, `status` or `delay_ms`".into());
        }
        if let Some(code) = r.aadsts {
            if error_for_code(code, &FaultContext::default()).is_none() {
                return Err(format!(
                    "respond.aadsts: unknown code {code}; known codes: {}",
                    KNOWN_CODES
                        .iter()
                        .map(u32::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
        }
        if let Some(s) = r.status {
            if !(500..=599).contains(&s) {
                return Err(format!(
                    "respond.status: {s} is not a 5xx status (use `aadsts` for 4xx errors)"
                ));
            }
        }
        if let Some(d) = r.delay_ms {
            if d > MAX_DELAY_MS {
                return Err(format!(
                    "respond.delay_ms: {d} is longer than the limit of {MAX_DELAY_MS}"
                ));
            }
        }
        if r.then_pass && r.aadsts.is_none() && r.status.is_none() {
            return Err("respond.then_pass: only meaningful with `aadsts` or `status`".into());
        }
        if new.times == Some(0) {
            return Err("times: must be at least 1 (or null for until removed)".into());
        }
        self.next_id += 1;
        let rule = Rule {
            id: self.next_id,
            matcher: new.matcher,
            times: new.times,
            remaining: new.times,
            hits: 0,
            respond: new.respond,
            passed: HashSet::new(),
        };
        self.rules.push(rule.clone());
        Ok(rule)
    }

    pub fn list(&self) -> &[Rule] {
        &self.rules
    }

    /// Removes one rule; `false` if there is none with that id.
    pub fn remove(&mut self, id: u64) -> bool {
        let before = self.rules.len();
        self.rules.retain(|r| r.id != id);
        self.rules.len() != before
    }

    /// Removes every rule; returns how many there were.
    pub fn clear(&mut self) -> usize {
        let n = self.rules.len();
        self.rules.clear();
        n
    }

    fn live(&self) -> impl Iterator<Item = &Rule> {
        self.rules.iter().filter(|r| r.remaining != Some(0))
    }

    /// Takes the first live rule that matches, counting the hit. `None` when no rule applies.
    fn take(&mut self, req: &RequestInfo) -> Option<Respond> {
        for rule in self.rules.iter_mut() {
            if rule.remaining == Some(0) || !rule.matcher.matches(req) {
                continue;
            }
            if rule.respond.then_pass {
                let who = req
                    .user
                    .clone()
                    .or_else(|| req.client_id.clone())
                    .unwrap_or_default()
                    .to_ascii_lowercase();
                if !rule.passed.insert(who) {
                    continue;
                }
            }
            if let Some(n) = rule.remaining.as_mut() {
                *n -= 1;
            }
            rule.hits += 1;
            return Some(rule.respond.clone());
        }
        None
    }
}

/// What the middleware learned about a request.
#[derive(Debug, Clone, Default)]
struct RequestInfo {
    endpoint: Endpoint,
    tenant: String,
    v1: bool,
    grant_type: Option<String>,
    user: Option<String>,
    client_id: Option<String>,
    resource: Option<String>,
    scope: Option<String>,
    redirect_uri: Option<String>,
    /// Authorize requests: where and how an error goes back to the client.
    state: Option<String>,
    response_mode: Option<String>,
    response_type: Option<String>,
    /// The refresh token, authorization code or device code presented.
    grant: Option<GrantValue>,
    /// When the presented refresh token was issued (for 50173/700081/700082 texts).
    grant_issued: Option<OffsetDateTime>,
}

#[derive(Debug, Clone)]
enum GrantValue {
    Refresh(String),
    Code(String),
    Device(String),
}

/// The request details an injected error's text may name.
#[derive(Debug, Clone, Default)]
pub struct FaultContext {
    /// The tenant path segment (`contoso.com`, a tid, `common`).
    pub tenant: String,
    pub client_id: Option<String>,
    /// The client application's display name, when it is registered.
    pub client_name: Option<String>,
    pub user: Option<String>,
    /// v1 `resource`.
    pub resource: Option<String>,
    /// v2 `scope`.
    pub scope: Option<String>,
    /// The resource application's appId, when the resource is registered.
    pub resource_app_id: Option<String>,
    pub grant_type: Option<String>,
    pub redirect_uri: Option<String>,
    /// A v1 endpoint (`interaction_required` for 50076).
    pub v1: bool,
    pub now: Option<OffsetDateTime>,
    /// When the presented grant was issued.
    pub grant_issued: Option<OffsetDateTime>,
    /// The tenant's refresh-token lifetimes (seconds).
    pub max_inactive: Option<i64>,
    pub max_age: Option<i64>,
}

/// Every AADSTS code a fault rule can inject.
pub const KNOWN_CODES: &[u32] = &[
    50001, 500011, 50173, 70008, 700081, 700082, 50126, 50034, 50053, 50057, 50076, 50079, 53003,
    65001, 700016, 7000218, 7000215, 70011, 90002, 900144, 50059, 9002313, 50058, 54005, 70000,
    70016, 70020, 70019, 70018, 901002, 90015, 70003, 50148, 50011, 90033,
];

/// The catalogue error for `code`, filled with what the request said (or sensible stand-ins).
/// `None` for a code the catalogue does not have.
pub fn error_for_code(code: u32, ctx: &FaultContext) -> Option<AadError> {
    let now = ctx.now.unwrap_or(OffsetDateTime::UNIX_EPOCH);
    let tenant = if ctx.tenant.is_empty() {
        "common"
    } else {
        ctx.tenant.as_str()
    };
    let client = ctx
        .client_id
        .as_deref()
        .unwrap_or("00000000-0000-0000-0000-000000000000");
    let resource = ctx
        .resource
        .clone()
        .or_else(|| ctx.scope.clone())
        .unwrap_or_else(|| EXCHANGE_APP_ID.to_string());
    let resource_app = ctx
        .resource_app_id
        .clone()
        .unwrap_or_else(|| EXCHANGE_APP_ID.to_string());
    let issued = ctx.grant_issued.unwrap_or(now - time::Duration::days(1));
    let domain = ctx
        .user
        .as_deref()
        .and_then(|u| u.rsplit_once('@'))
        .map(|(_, d)| d)
        .unwrap_or(tenant);
    let e = match code {
        50001 => AadError::resource_not_found_v1(&resource, tenant),
        500011 => AadError::resource_not_found_v2(&resource, tenant),
        // TokensValidFrom is whole seconds, as the admin API sets it.
        50173 => AadError::grant_revoked(issued, now.replace_nanosecond(0).unwrap_or(now)),
        70008 => AadError::code_expired(),
        700081 => AadError::refresh_max_age(issued, ctx.max_age.unwrap_or(86_400)),
        700082 => AadError::refresh_inactive(issued, ctx.max_inactive.unwrap_or(90 * 86_400)),
        50126 => AadError::invalid_credentials(),
        50034 => AadError::user_not_found(domain),
        50053 => AadError::account_locked(),
        50057 => AadError::account_disabled(),
        50076 => AadError::mfa_required(&resource_app, ctx.v1),
        50079 => AadError::mfa_enroll(&resource_app),
        53003 => AadError::ca_blocked(),
        65001 => AadError::consent_required(client, ctx.client_name.as_deref().unwrap_or("")),
        700016 => AadError::unknown_client(client, tenant),
        7000218 => AadError::client_credential_missing(),
        7000215 => AadError::invalid_client_secret(client),
        70011 => AadError::invalid_scope(ctx.scope.as_deref().unwrap_or(&resource)),
        90002 => AadError::tenant_not_found(tenant),
        900144 => AadError::missing_parameter(if ctx.grant_type.is_none() {
            "grant_type"
        } else if ctx.client_id.is_none() {
            "client_id"
        } else if ctx.v1 {
            "resource"
        } else {
            "scope"
        }),
        50059 => AadError::no_tenant_info(),
        9002313 => AadError::malformed_grant(),
        50058 => AadError::login_required(),
        54005 => AadError::code_redeemed(),
        70000 => AadError::scopes_unauthorized(),
        70016 => AadError::authorization_pending(),
        70020 => AadError::device_code_expired(),
        70019 => AadError::authorization_declined(),
        70018 => AadError::bad_verification_code(),
        901002 => AadError::resource_on_v2(),
        90015 => AadError::duplicate_parameter("client_id"),
        70003 => AadError::unsupported_grant_type(ctx.grant_type.as_deref().unwrap_or("")),
        50148 => AadError::pkce_mismatch(),
        50011 => AadError::redirect_mismatch(ctx.redirect_uri.as_deref().unwrap_or(""), client),
        90033 => AadError::server_error(StatusCode::SERVICE_UNAVAILABLE),
        _ => return None,
    };
    Some(e)
}

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
    crate::error::set_aad_headers(&mut headers, ids.trace_id, now, None);
    if mode == "form_post" {
        let html = crate::web::form_post_page(target, &pairs);
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        );
        return (StatusCode::OK, headers, html).into_response();
    }
    let location = crate::web::redirect_location(target, mode == "fragment", &pairs);
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
                crate::grants::DeviceState::Approved(a) => Some((a.tid, a.user_oid, None)),
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
