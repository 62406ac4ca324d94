//! The admin API (`/_admin/...`): how a lab, a test or the cmdlet shell changes the directory,
//! the keys, the clock, the grant store and the fault rules of a running mock-aad.
//!
//! It is shaped so that each MSOnline/AzureAD cmdlet the field guide uses is ONE call:
//! `Set-MsolUserPassword` is `POST …/users/{upn}/password` (password and TokensValidFrom in one
//! step), `Get-MsolServicePrincipal -AppPrincipalId` is `GET …/service-principals/{appId}` (answered
//! in the cmdlet's own property names), `Set-MsolServicePrincipal -ServicePrincipalNames` is
//! `PUT …/service-principal-names`, `Revoke-AzureADUserAllRefreshToken` is `POST …/revoke`.
//!
//! Every call is loopback-only and needs `Authorization: Bearer <admin_token>` (checked by one
//! middleware, [`guard`], in front of every route including the fallback). Bodies are JSON in and
//! out; every error is `{"error":"…","message":"…"}` — bad JSON included, with its line and
//! column, never axum's plain-text rejection. An edit is applied to a copy of the directory, the
//! copy is checked with the lab-file rules ([`crate::labfile::check`]), and only a valid copy
//! replaces the live one, so the service never serves a directory a lab file could not express.
//! Changes take effect for the very next request: handlers read the shared state on every call.

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Path, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{from_fn_with_state, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::fault_rules::NewRule;
use crate::keys::KeyError;
use crate::labfile::{self, Problem, ProblemKind};
use crate::model::{
    Application, CaRule, Directory, Domain, RevocationResponse, Tenant, TokenLifetimes, User,
};
use crate::state::AppState;

/// The admin routes; `lib.rs` nests them under `/_admin`.
pub fn routes(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/directory", get(directory_get).put(directory_put))
        .route("/tenants", get(tenants_list))
        .route("/tenants/{t}", get(tenant_get))
        .route("/tenants/{t}/domains", get(domains_list).post(domain_add))
        .route(
            "/tenants/{t}/domains/{name}",
            get(domain_get).patch(domain_patch).delete(domain_delete),
        )
        .route("/tenants/{t}/users", get(users_list).post(user_add))
        .route(
            "/tenants/{t}/users/{upn}",
            get(user_get).patch(user_patch).delete(user_delete),
        )
        .route("/tenants/{t}/users/{upn}/password", post(user_password))
        .route("/tenants/{t}/users/{upn}/revoke", post(user_revoke))
        .route("/tenants/{t}/revoke", post(tenant_revoke))
        .route("/tenants/{t}/service-principals", get(sp_list))
        .route("/tenants/{t}/service-principals/{app}", get(sp_get))
        .route(
            "/tenants/{t}/service-principals/{app}/service-principal-names",
            put(spn_replace).post(spn_edit),
        )
        .route("/tenants/{t}/applications", get(apps_list).post(app_add))
        .route(
            "/tenants/{t}/applications/{app}",
            get(app_get).patch(app_patch).delete(app_delete),
        )
        .route("/tenants/{t}/conditional-access", get(ca_list).post(ca_add))
        .route(
            "/tenants/{t}/conditional-access/{name}",
            get(ca_get).patch(ca_patch).delete(ca_delete),
        )
        .route(
            "/tenants/{t}/token-lifetimes",
            get(lifetimes_get).patch(lifetimes_patch),
        )
        .route("/keys", get(keys_list))
        .route("/keys/roll", post(keys_roll))
        .route("/keys/add", post(keys_add))
        .route("/keys/{kid}/retire", post(keys_retire))
        .route("/clock", get(clock_get))
        .route("/clock/advance", post(clock_advance))
        .route("/grants", get(grants_get).delete(grants_delete))
        .route(
            "/faults",
            get(faults_list).post(faults_add).delete(faults_clear),
        )
        .route("/faults/{id}", delete(fault_delete))
        .fallback(no_such_call)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(from_fn_with_state(state, guard))
}

// ------------------------------------------------------------------ errors and extractors

/// An admin API error: `{"error":"not_found","message":"…"}` with its status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminError {
    pub status: StatusCode,
    pub error: &'static str,
    pub message: String,
}

impl AdminError {
    pub fn new(status: StatusCode, error: &'static str, message: impl Into<String>) -> Self {
        AdminError {
            status,
            error,
            message: message.into(),
        }
    }
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "conflict", message)
    }
}

impl From<Problem> for AdminError {
    fn from(p: Problem) -> Self {
        let status = match p.kind {
            ProblemKind::Conflict => StatusCode::CONFLICT,
            ProblemKind::Invalid => StatusCode::BAD_REQUEST,
        };
        let error = match p.kind {
            ProblemKind::Conflict => "conflict",
            ProblemKind::Invalid => "bad_request",
        };
        AdminError::new(status, error, p.to_string())
    }
}

impl IntoResponse for AdminError {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(json!({"error": self.error, "message": self.message})),
        )
            .into_response()
    }
}

type AdminResult<T> = Result<T, AdminError>;

/// A JSON body; a missing or malformed one is a 400 naming line and column.
pub struct AdminJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for AdminJson<T> {
    type Rejection = AdminError;
    async fn from_request(req: Request, state: &S) -> Result<Self, AdminError> {
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|e| AdminError::new(e.status(), "bad_request", e.body_text()))?;
        parse_json(&bytes).map(AdminJson)
    }
}

/// A JSON body that may be absent (then `T::default()`).
pub struct OptionalJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Default> FromRequest<S> for OptionalJson<T> {
    type Rejection = AdminError;
    async fn from_request(req: Request, state: &S) -> Result<Self, AdminError> {
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|e| AdminError::new(e.status(), "bad_request", e.body_text()))?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(OptionalJson(T::default()));
        }
        parse_json(&bytes).map(OptionalJson)
    }
}

fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> AdminResult<T> {
    serde_json::from_slice(bytes)
        .map_err(|e| AdminError::bad_request(with_hint(format!("invalid JSON body: {e}"))))
}

/// Appends `; did you mean `x`?` to serde's "unknown field/variant `y`, expected …" messages.
fn with_hint(message: String) -> String {
    let rest = ["unknown field `", "unknown variant `"]
        .iter()
        .find_map(|k| message.find(k).map(|i| &message[i + k.len()..]));
    let Some(rest) = rest else {
        return message;
    };
    let got = rest.split('`').next().unwrap_or("");
    let Some(expected) = rest.split("expected").nth(1) else {
        return message;
    };
    let names: Vec<&str> = expected
        .split('`')
        .enumerate()
        .filter(|(i, _)| i % 2 == 1)
        .map(|(_, s)| s)
        .collect();
    match lab_kit::labfile::nearest(got, &names) {
        Some(best) => format!("{message}; did you mean `{best}`?"),
        None => message,
    }
}

/// A typed value from JSON that was already parsed (a 400 with a hint on failure).
fn from_value<T: DeserializeOwned>(v: Value) -> AdminResult<T> {
    serde_json::from_value(v).map_err(|e| AdminError::bad_request(with_hint(e.to_string())))
}

/// Path parameters with the admin error shape on failure.
pub struct AdminPath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for AdminPath<T> {
    type Rejection = AdminError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AdminError> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(t)| AdminPath(t))
            .map_err(|e| AdminError::bad_request(e.body_text()))
    }
}

async fn no_such_call() -> AdminError {
    AdminError::not_found("no such admin call; see docs/aad-admin.md for the list")
}

async fn method_not_allowed() -> AdminError {
    AdminError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this admin path does not take that method",
    )
}

// ------------------------------------------------------------------ access control

/// Whether a peer may use the admin API: loopback only. `None` (no socket, e.g. an in-process
/// `oneshot` call) counts as local.
pub fn is_local(peer: Option<SocketAddr>) -> bool {
    match peer {
        None => true,
        Some(addr) => addr.ip().to_canonical().is_loopback(),
    }
}

/// Whether the request carries `Authorization: Bearer <token>` (compared in constant time).
pub fn bearer_matches(headers: &HeaderMap, token: &str) -> bool {
    let Some(value) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let Some((scheme, given)) = value.trim().split_once(' ') else {
        return false;
    };
    if !scheme.eq_ignore_ascii_case("bearer") {
        return false;
    }
    let (a, b) = (given.trim().as_bytes(), token.as_bytes());
    if a.len() != b.len() || b.is_empty() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Loopback check, then the bearer token, in front of every admin route.
pub async fn guard(State(s): State<AppState>, req: Request, next: Next) -> Response {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0);
    if !is_local(peer) {
        return AdminError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "the admin API answers loopback clients only",
        )
        .into_response();
    }
    if !bearer_matches(req.headers(), &s.admin_token) {
        let mut resp = AdminError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "missing or wrong admin token: send Authorization: Bearer <admin_token>",
        )
        .into_response();
        resp.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"mock-aad admin\""),
        );
        return resp;
    }
    next.run(req).await
}

// ------------------------------------------------------------------ helpers

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

/// The lab time truncated to whole seconds, as Azure AD stores TokensValidFrom
/// (`2017-11-16T20:27:45.0000000Z`).
fn valid_from_now(s: &AppState) -> OffsetDateTime {
    let now = s.now();
    now.replace_nanosecond(0).unwrap_or(now)
}

fn no_tenant(t: &str) -> AdminError {
    AdminError::not_found(format!(
        "no tenant '{t}' (give its tid or a verified domain)"
    ))
}

fn no_user(upn: &str) -> AdminError {
    AdminError::not_found(format!("no user '{upn}' in this tenant"))
}

fn parse_app_id(app: &str) -> AdminResult<Uuid> {
    Uuid::parse_str(app.trim())
        .map_err(|_| AdminError::bad_request(format!("'{app}' is not an application id (GUID)")))
}

fn no_app(id: Uuid) -> AdminError {
    AdminError::not_found(format!("no application {id} in this tenant"))
}

/// Reads one tenant.
fn read_tenant<R>(
    s: &AppState,
    t: &str,
    f: impl FnOnce(&Tenant) -> AdminResult<R>,
) -> AdminResult<R> {
    let dir = s.dir();
    let tenant = dir.tenant(t).ok_or_else(|| no_tenant(t))?;
    f(tenant)
}

/// Edits one tenant: on a copy, checked like a lab file, committed only when valid.
fn edit_tenant<R>(
    s: &AppState,
    t: &str,
    f: impl FnOnce(&mut Tenant) -> AdminResult<R>,
) -> AdminResult<R> {
    let mut live = s.dir_mut();
    let mut copy: Directory = live.clone();
    let tenant = copy.tenant_mut(t).ok_or_else(|| no_tenant(t))?;
    let out = f(tenant)?;
    labfile::check(&copy)?;
    *live = copy;
    Ok(out)
}

fn to_json<T: Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

/// RFC 7396 JSON merge patch: objects merge key by key, `null` removes (back to the default).
fn merge(target: &mut Value, patch: Value) {
    match patch {
        Value::Object(p) => {
            if !target.is_object() {
                *target = Value::Object(Map::new());
            }
            if let Value::Object(t) = target {
                for (k, v) in p {
                    if v.is_null() {
                        t.remove(&k);
                    } else {
                        merge(t.entry(k).or_insert(Value::Null), v);
                    }
                }
            }
        }
        other => *target = other,
    }
}

/// Applies a merge patch to a typed value (unknown fields and wrong types are a 400).
fn patched<T: Serialize + DeserializeOwned>(current: &T, patch: Value) -> AdminResult<T> {
    if !patch.is_object() {
        return Err(AdminError::bad_request(
            "the body must be a JSON object of the fields to change",
        ));
    }
    let mut v = to_json(current);
    merge(&mut v, patch);
    from_value(v)
}

// ------------------------------------------------------------------ directory

async fn directory_get(State(s): State<AppState>) -> Json<Directory> {
    Json(s.dir().clone())
}

/// `PUT /directory`: a whole new directory, JSON (or YAML with a `yaml` content type), checked
/// like a lab file; errors name line and column of the body.
async fn directory_put(
    State(s): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> AdminResult<Json<Directory>> {
    let text =
        std::str::from_utf8(&body).map_err(|_| AdminError::bad_request("the body is not UTF-8"))?;
    let is_yaml = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().contains("yaml"));
    let dir: Directory = if is_yaml {
        lab_kit::parse_yaml(text, "request body")
            .map_err(|e| AdminError::bad_request(e.to_string()))?
    } else {
        parse_json(&body)?
    };
    if let Err(p) = labfile::check(&dir) {
        let kind = p.kind;
        let e = p.into_file_error("request body", text);
        return Err(match kind {
            ProblemKind::Conflict => AdminError::conflict(e.to_string()),
            ProblemKind::Invalid => AdminError::bad_request(e.to_string()),
        });
    }
    *s.dir_mut() = dir.clone();
    Ok(Json(dir))
}

async fn tenants_list(State(s): State<AppState>) -> Json<Value> {
    let dir = s.dir();
    Json(Value::Array(
        dir.tenants.iter().map(tenant_summary).collect::<Vec<_>>(),
    ))
}

fn tenant_summary(t: &Tenant) -> Value {
    json!({
        "tid": t.tid,
        "display_name": t.display_name,
        "domains": t.domains.iter().map(|d| d.name.clone()).collect::<Vec<_>>(),
        "users": t.users.len(),
        "applications": t.applications.len(),
        "tokens_valid_from": t.tokens_valid_from.map(rfc3339),
        "revocation_response": t.revocation_response,
    })
}

async fn tenant_get(
    State(s): State<AppState>,
    AdminPath(t): AdminPath<String>,
) -> AdminResult<Json<Value>> {
    read_tenant(&s, &t, |t| Ok(Json(tenant_summary(t))))
}

async fn domains_list(
    State(s): State<AppState>,
    AdminPath(t): AdminPath<String>,
) -> AdminResult<Json<Value>> {
    read_tenant(&s, &t, |t| Ok(Json(to_json(&t.domains))))
}

fn no_domain(name: &str) -> AdminError {
    AdminError::not_found(format!("no domain '{name}' in this tenant"))
}

async fn domain_get(
    State(s): State<AppState>,
    AdminPath((t, name)): AdminPath<(String, String)>,
) -> AdminResult<Json<Domain>> {
    read_tenant(&s, &t, |t| {
        t.domains
            .iter()
            .find(|d| d.name.eq_ignore_ascii_case(&name))
            .cloned()
            .map(Json)
            .ok_or_else(|| no_domain(&name))
    })
}

/// `POST /tenants/{t}/domains` (`New-MsolDomain`): a domain object.
async fn domain_add(
    State(s): State<AppState>,
    AdminPath(t): AdminPath<String>,
    AdminJson(domain): AdminJson<Domain>,
) -> AdminResult<(StatusCode, Json<Domain>)> {
    edit_tenant(&s, &t, |tenant| {
        tenant.domains.push(domain.clone());
        Ok(())
    })?;
    Ok((StatusCode::CREATED, Json(domain)))
}

/// `PATCH /tenants/{t}/domains/{name}` (`Set-MsolDomainAuthentication`, `Set-MsolDomain`): a
/// merge patch, e.g. `{"kind":"federated","federation":{…}}`; the name cannot change.
async fn domain_patch(
    State(s): State<AppState>,
    AdminPath((t, name)): AdminPath<(String, String)>,
    AdminJson(patch): AdminJson<Value>,
) -> AdminResult<Json<Domain>> {
    edit_tenant(&s, &t, |tenant| {
        let slot = tenant
            .domains
            .iter_mut()
            .find(|d| d.name.eq_ignore_ascii_case(&name))
            .ok_or_else(|| no_domain(&name))?;
        let new: Domain = patched(&*slot, patch)?;
        if !new.name.eq_ignore_ascii_case(&slot.name) {
            return Err(AdminError::bad_request("the domain name cannot be changed"));
        }
        *slot = new.clone();
        Ok(Json(new))
    })
}

/// `DELETE /tenants/{t}/domains/{name}` (`Remove-MsolDomain`): refused while users are in it, as
/// Azure AD refuses it.
async fn domain_delete(
    State(s): State<AppState>,
    AdminPath((t, name)): AdminPath<(String, String)>,
) -> AdminResult<StatusCode> {
    edit_tenant(&s, &t, |tenant| {
        let domain = tenant
            .domains
            .iter()
            .find(|d| d.name.eq_ignore_ascii_case(&name))
            .map(|d| d.name.clone())
            .ok_or_else(|| no_domain(&name))?;
        let suffix = format!("@{}", domain.to_ascii_lowercase());
        if tenant
            .users
            .iter()
            .any(|u| u.upn.to_ascii_lowercase().ends_with(&suffix))
        {
            return Err(AdminError::conflict(format!(
                "Unable to remove this domain. Use Get-MsolUser -DomainName {domain} to retrieve a list of objects that are blocking removal."
            )));
        }
        tenant
            .domains
            .retain(|d| !d.name.eq_ignore_ascii_case(&domain));
        Ok(StatusCode::NO_CONTENT)
    })
}

// ------------------------------------------------------------------ users

async fn users_list(
    State(s): State<AppState>,
    AdminPath(t): AdminPath<String>,
) -> AdminResult<Json<Vec<User>>> {
    read_tenant(&s, &t, |t| Ok(Json(t.users.clone())))
}

async fn user_get(
    State(s): State<AppState>,
    AdminPath((t, upn)): AdminPath<(String, String)>,
) -> AdminResult<Json<User>> {
    read_tenant(&s, &t, |t| {
        t.user(&upn).cloned().map(Json).ok_or_else(|| no_user(&upn))
    })
}

/// A new PUID: `1003` followed by 12 random hex digits, like Azure AD's.
fn new_puid() -> String {
    format!(
        "{:016X}",
        0x1003_0000_0000_0000u64 | (rand::random::<u64>() & 0x0000_FFFF_FFFF_FFFF)
    )
}

/// `POST /tenants/{t}/users` (`New-MsolUser`): a user object; `oid`, `puid` and `password` are
/// generated when absent (the answer shows them).
async fn user_add(
    State(s): State<AppState>,
    AdminPath(t): AdminPath<String>,
    AdminJson(body): AdminJson<Value>,
) -> AdminResult<(StatusCode, Json<User>)> {
    let Value::Object(mut m) = body else {
        return Err(AdminError::bad_request("the body must be a user object"));
    };
    m.entry("oid")
        .or_insert_with(|| json!(Uuid::new_v4().to_string()));
    m.entry("puid").or_insert_with(|| json!(new_puid()));
    m.entry("password")
        .or_insert_with(|| json!(crate::util::random_b64url(12)));
    let user: User = from_value(Value::Object(m))?;
    edit_tenant(&s, &t, |tenant| {
        if tenant.user(&user.upn).is_some() {
            return Err(AdminError::conflict(format!(
                "a user {} already exists",
                user.upn
            )));
        }
        tenant.users.push(user.clone());
        Ok(())
    })?;
    Ok((StatusCode::CREATED, Json(user)))
}

/// `PATCH /tenants/{t}/users/{upn}` (`Set-MsolUser`, `Set-MsolUserPrincipalName`): a merge patch
/// of user fields. `enabled: false` is `-BlockCredential $true`. The password has its own call.
async fn user_patch(
    State(s): State<AppState>,
    AdminPath((t, upn)): AdminPath<(String, String)>,
    AdminJson(patch): AdminJson<Value>,
) -> AdminResult<Json<User>> {
    if patch.get("password").is_some() {
        return Err(AdminError::bad_request(
            "the password is changed with POST /_admin/tenants/{t}/users/{upn}/password (Set-MsolUserPassword), which also sets tokens_valid_from",
        ));
    }
    edit_tenant(&s, &t, |tenant| {
        let current = tenant.user(&upn).cloned().ok_or_else(|| no_user(&upn))?;
        let new: User = patched(&current, patch)?;
        if new.oid != current.oid {
            return Err(AdminError::bad_request("oid cannot be changed"));
        }
        if !new.upn.eq_ignore_ascii_case(&current.upn) {
            if tenant.user(&new.upn).is_some() {
                return Err(AdminError::conflict(format!(
                    "a user {} already exists",
                    new.upn
                )));
            }
            // Conditional access follows the object, not the name.
            for rule in tenant.conditional_access.iter_mut() {
                for u in rule.users.iter_mut() {
                    if u.eq_ignore_ascii_case(&current.upn) {
                        *u = new.upn.clone();
                    }
                }
            }
        }
        if let Some(slot) = tenant.user_mut(&current.upn) {
            *slot = new.clone();
        }
        Ok(Json(new))
    })
}

/// `DELETE /tenants/{t}/users/{upn}` (`Remove-MsolUser`); the user also leaves every
/// conditional-access rule that named it.
async fn user_delete(
    State(s): State<AppState>,
    AdminPath((t, upn)): AdminPath<(String, String)>,
) -> AdminResult<StatusCode> {
    edit_tenant(&s, &t, |tenant| {
        let before = tenant.users.len();
        tenant.users.retain(|u| !u.upn.eq_ignore_ascii_case(&upn));
        if tenant.users.len() == before {
            return Err(no_user(&upn));
        }
        for rule in tenant.conditional_access.iter_mut() {
            rule.users.retain(|u| !u.eq_ignore_ascii_case(&upn));
        }
        Ok(StatusCode::NO_CONTENT)
    })
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct PasswordBody {
    /// The new password; a random one when absent (as `Set-MsolUserPassword` without
    /// `-NewPassword`).
    #[serde(default)]
    password: Option<String>,
}

/// `POST /tenants/{t}/users/{upn}/password` (`Set-MsolUserPassword`): sets the password and
/// TokensValidFrom = now, so every refresh token issued before fails with AADSTS50173.
async fn user_password(
    State(s): State<AppState>,
    AdminPath((t, upn)): AdminPath<(String, String)>,
    OptionalJson(body): OptionalJson<PasswordBody>,
) -> AdminResult<Json<Value>> {
    let password = match body.password {
        Some(p) if p.is_empty() => {
            return Err(AdminError::bad_request("password: must not be empty"))
        }
        Some(p) => p,
        None => crate::util::random_b64url(12),
    };
    let now = valid_from_now(&s);
    edit_tenant(&s, &t, |tenant| {
        let user = tenant.user_mut(&upn).ok_or_else(|| no_user(&upn))?;
        user.password = password.clone();
        user.tokens_valid_from = Some(now);
        Ok(Json(json!({
            "upn": user.upn,
            "password": password,
            "tokens_valid_from": rfc3339(now),
        })))
    })
}

/// `POST /tenants/{t}/users/{upn}/revoke` (`Revoke-AzureADUserAllRefreshToken`, Graph
/// `revokeSignInSessions`): TokensValidFrom = now.
async fn user_revoke(
    State(s): State<AppState>,
    AdminPath((t, upn)): AdminPath<(String, String)>,
) -> AdminResult<Json<Value>> {
    let now = valid_from_now(&s);
    edit_tenant(&s, &t, |tenant| {
        let user = tenant.user_mut(&upn).ok_or_else(|| no_user(&upn))?;
        user.tokens_valid_from = Some(now);
        Ok(Json(json!({
            "upn": user.upn,
            "tokens_valid_from": rfc3339(now),
        })))
    })
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct TenantRevokeBody {
    #[serde(default)]
    response: RevocationResponse,
}

/// `POST /tenants/{t}/revoke {"response":"standard"|"unicorn"}`: every refresh token of the
/// tenant issued before now is dead, answered as AADSTS50173 or as the "Unicorn Rampage".
async fn tenant_revoke(
    State(s): State<AppState>,
    AdminPath(t): AdminPath<String>,
    OptionalJson(body): OptionalJson<TenantRevokeBody>,
) -> AdminResult<Json<Value>> {
    let now = valid_from_now(&s);
    edit_tenant(&s, &t, |tenant| {
        tenant.tokens_valid_from = Some(now);
        tenant.revocation_response = body.response;
        Ok(Json(json!({
            "tid": tenant.tid,
            "tokens_valid_from": rfc3339(now),
            "revocation_response": body.response,
        })))
    })
}

// ------------------------------------------------------------------ service principals

/// The service principal's object id: stable per tenant and appId (a name-based UUID).
pub fn sp_object_id(tid: Uuid, app_id: Uuid) -> Uuid {
    let mut input = Vec::with_capacity(32);
    input.extend_from_slice(tid.as_bytes());
    input.extend_from_slice(app_id.as_bytes());
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY, &input);
    let mut b = [0u8; 16];
    b.copy_from_slice(&digest.as_ref()[..16]);
    uuid::Builder::from_sha1_bytes(b).into_uuid()
}

/// A service principal as `Get-MsolServicePrincipal` shows it.
pub fn sp_json(t: &Tenant, a: &Application) -> Value {
    json!({
        "ExtensionData": {},
        "AccountEnabled": true,
        "Addresses": a.redirect_uris.iter().map(|u| json!({"Address": u})).collect::<Vec<_>>(),
        "AppPrincipalId": a.app_id,
        "DisplayName": a.display_name,
        "ObjectId": sp_object_id(t.tid, a.app_id),
        "ServicePrincipalName": a.service_principal_names.first(),
        "ServicePrincipalNames": a.service_principal_names,
        "TrustedForDelegation": false,
    })
}

async fn sp_list(
    State(s): State<AppState>,
    AdminPath(t): AdminPath<String>,
) -> AdminResult<Json<Value>> {
    read_tenant(&s, &t, |t| {
        Ok(Json(Value::Array(
            t.applications.iter().map(|a| sp_json(t, a)).collect(),
        )))
    })
}

/// `GET /tenants/{t}/service-principals/{appId}` (`Get-MsolServicePrincipal -AppPrincipalId`).
async fn sp_get(
    State(s): State<AppState>,
    AdminPath((t, app)): AdminPath<(String, String)>,
) -> AdminResult<Json<Value>> {
    let id = parse_app_id(&app)?;
    read_tenant(&s, &t, |t| {
        let a = t.app(id).ok_or_else(|| no_app(id))?;
        Ok(Json(sp_json(t, a)))
    })
}

/// Cleans an SPN list (trimmed, no empties, first of case-insensitive duplicates kept) and
/// refuses a value another principal of the tenant already has, as Azure AD does.
fn clean_spns(tenant: &Tenant, app_id: Uuid, spns: Vec<String>) -> AdminResult<Vec<String>> {
    let mut out: Vec<String> = Vec::with_capacity(spns.len());
    for spn in spns {
        let spn = spn.trim().to_string();
        if spn.is_empty() {
            return Err(AdminError::bad_request(
                "ServicePrincipalNames: empty values are not allowed",
            ));
        }
        if out.iter().any(|o| o.eq_ignore_ascii_case(&spn)) {
            continue;
        }
        if let Some(other) = tenant.applications.iter().find(|a| {
            a.app_id != app_id
                && a.service_principal_names
                    .iter()
                    .any(|o| o.eq_ignore_ascii_case(&spn))
        }) {
            return Err(AdminError::conflict(format!(
                "Another object with the same value for property servicePrincipalNames already exists: {spn} belongs to {} ({})",
                other.display_name, other.app_id
            )));
        }
        out.push(spn);
    }
    Ok(out)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SpnReplace {
    #[serde(rename = "ServicePrincipalNames")]
    service_principal_names: Vec<String>,
}

/// `PUT …/service-principal-names` (`Set-MsolServicePrincipal -ServicePrincipalNames`).
async fn spn_replace(
    State(s): State<AppState>,
    AdminPath((t, app)): AdminPath<(String, String)>,
    AdminJson(body): AdminJson<SpnReplace>,
) -> AdminResult<Json<Value>> {
    let id = parse_app_id(&app)?;
    edit_tenant(&s, &t, |tenant| {
        tenant.app(id).ok_or_else(|| no_app(id))?;
        let spns = clean_spns(tenant, id, body.service_principal_names)?;
        let a = tenant.app_mut(id).ok_or_else(|| no_app(id))?;
        a.service_principal_names = spns;
        let a = a.clone();
        Ok(Json(sp_json(tenant, &a)))
    })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SpnEdit {
    #[serde(default)]
    add: Vec<String>,
    #[serde(default)]
    remove: Vec<String>,
}

/// `POST …/service-principal-names {"add":[…],"remove":[…]}`: `$x.ServicePrincipalNames.Add(…)`
/// and `.Remove(…)` followed by `Set-MsolServicePrincipal`, in one call. Removal compares without
/// ASCII case; removing a value that is not there changes nothing.
async fn spn_edit(
    State(s): State<AppState>,
    AdminPath((t, app)): AdminPath<(String, String)>,
    AdminJson(body): AdminJson<SpnEdit>,
) -> AdminResult<Json<Value>> {
    let id = parse_app_id(&app)?;
    edit_tenant(&s, &t, |tenant| {
        let current = tenant
            .app(id)
            .ok_or_else(|| no_app(id))?
            .service_principal_names
            .clone();
        let mut list: Vec<String> = current
            .into_iter()
            .filter(|v| !body.remove.iter().any(|r| r.trim().eq_ignore_ascii_case(v)))
            .collect();
        list.extend(body.add);
        let spns = clean_spns(tenant, id, list)?;
        let a = tenant.app_mut(id).ok_or_else(|| no_app(id))?;
        a.service_principal_names = spns;
        let a = a.clone();
        Ok(Json(sp_json(tenant, &a)))
    })
}

// ------------------------------------------------------------------ applications

async fn apps_list(
    State(s): State<AppState>,
    AdminPath(t): AdminPath<String>,
) -> AdminResult<Json<Vec<Application>>> {
    read_tenant(&s, &t, |t| Ok(Json(t.applications.clone())))
}

async fn app_get(
    State(s): State<AppState>,
    AdminPath((t, app)): AdminPath<(String, String)>,
) -> AdminResult<Json<Application>> {
    let id = parse_app_id(&app)?;
    read_tenant(&s, &t, |t| {
        t.app(id).cloned().map(Json).ok_or_else(|| no_app(id))
    })
}

/// `POST /tenants/{t}/applications` (`New-AzureADApplication` + its service principal): an
/// application object; `app_id` is generated when absent.
async fn app_add(
    State(s): State<AppState>,
    AdminPath(t): AdminPath<String>,
    AdminJson(body): AdminJson<Value>,
) -> AdminResult<(StatusCode, Json<Application>)> {
    let Value::Object(mut m) = body else {
        return Err(AdminError::bad_request(
            "the body must be an application object",
        ));
    };
    m.entry("app_id")
        .or_insert_with(|| json!(Uuid::new_v4().to_string()));
    let mut app: Application = from_value(Value::Object(m))?;
    edit_tenant(&s, &t, |tenant| {
        if tenant.app(app.app_id).is_some() {
            return Err(AdminError::conflict(format!(
                "an application {} already exists",
                app.app_id
            )));
        }
        app.service_principal_names = clean_spns(
            tenant,
            app.app_id,
            std::mem::take(&mut app.service_principal_names),
        )?;
        tenant.applications.push(app.clone());
        Ok(())
    })?;
    Ok((StatusCode::CREATED, Json(app)))
}

/// `PATCH /tenants/{t}/applications/{appId}` (`Set-AzureADApplication`): a merge patch.
async fn app_patch(
    State(s): State<AppState>,
    AdminPath((t, app)): AdminPath<(String, String)>,
    AdminJson(patch): AdminJson<Value>,
) -> AdminResult<Json<Application>> {
    let id = parse_app_id(&app)?;
    edit_tenant(&s, &t, |tenant| {
        let current = tenant.app(id).cloned().ok_or_else(|| no_app(id))?;
        let mut new: Application = patched(&current, patch)?;
        if new.app_id != current.app_id {
            return Err(AdminError::bad_request("app_id cannot be changed"));
        }
        new.service_principal_names =
            clean_spns(tenant, id, std::mem::take(&mut new.service_principal_names))?;
        if let Some(slot) = tenant.app_mut(id) {
            *slot = new.clone();
        }
        Ok(Json(new))
    })
}

/// `DELETE /tenants/{t}/applications/{appId}`: the application, the permissions other clients
/// held on it and the users' consents to it go together.
async fn app_delete(
    State(s): State<AppState>,
    AdminPath((t, app)): AdminPath<(String, String)>,
) -> AdminResult<StatusCode> {
    let id = parse_app_id(&app)?;
    edit_tenant(&s, &t, |tenant| {
        tenant.app(id).ok_or_else(|| no_app(id))?;
        tenant.applications.retain(|a| a.app_id != id);
        for a in tenant.applications.iter_mut() {
            a.granted.retain(|g| g.resource != id);
        }
        for u in tenant.users.iter_mut() {
            u.consented_apps.retain(|c| *c != id);
        }
        Ok(StatusCode::NO_CONTENT)
    })
}

// ------------------------------------------------------------------ conditional access

fn no_rule(name: &str) -> AdminError {
    AdminError::not_found(format!("no conditional access rule named '{name}'"))
}

async fn ca_list(
    State(s): State<AppState>,
    AdminPath(t): AdminPath<String>,
) -> AdminResult<Json<Vec<CaRule>>> {
    read_tenant(&s, &t, |t| Ok(Json(t.conditional_access.clone())))
}

async fn ca_get(
    State(s): State<AppState>,
    AdminPath((t, name)): AdminPath<(String, String)>,
) -> AdminResult<Json<CaRule>> {
    read_tenant(&s, &t, |t| {
        t.conditional_access
            .iter()
            .find(|r| r.name.eq_ignore_ascii_case(&name))
            .cloned()
            .map(Json)
            .ok_or_else(|| no_rule(&name))
    })
}

async fn ca_add(
    State(s): State<AppState>,
    AdminPath(t): AdminPath<String>,
    AdminJson(rule): AdminJson<CaRule>,
) -> AdminResult<(StatusCode, Json<CaRule>)> {
    edit_tenant(&s, &t, |tenant| {
        if tenant
            .conditional_access
            .iter()
            .any(|r| r.name.eq_ignore_ascii_case(&rule.name))
        {
            return Err(AdminError::conflict(format!(
                "a conditional access rule named '{}' already exists",
                rule.name
            )));
        }
        tenant.conditional_access.push(rule.clone());
        Ok(())
    })?;
    Ok((StatusCode::CREATED, Json(rule)))
}

/// `PATCH …/conditional-access/{name}`: a merge patch (`{"enabled":false}` disables the rule).
async fn ca_patch(
    State(s): State<AppState>,
    AdminPath((t, name)): AdminPath<(String, String)>,
    AdminJson(patch): AdminJson<Value>,
) -> AdminResult<Json<CaRule>> {
    edit_tenant(&s, &t, |tenant| {
        let slot = tenant
            .conditional_access
            .iter_mut()
            .find(|r| r.name.eq_ignore_ascii_case(&name))
            .ok_or_else(|| no_rule(&name))?;
        let new: CaRule = patched(&*slot, patch)?;
        *slot = new.clone();
        Ok(Json(new))
    })
}

async fn ca_delete(
    State(s): State<AppState>,
    AdminPath((t, name)): AdminPath<(String, String)>,
) -> AdminResult<StatusCode> {
    edit_tenant(&s, &t, |tenant| {
        let before = tenant.conditional_access.len();
        tenant
            .conditional_access
            .retain(|r| !r.name.eq_ignore_ascii_case(&name));
        if tenant.conditional_access.len() == before {
            return Err(no_rule(&name));
        }
        Ok(StatusCode::NO_CONTENT)
    })
}

// ------------------------------------------------------------------ token lifetimes

async fn lifetimes_get(
    State(s): State<AppState>,
    AdminPath(t): AdminPath<String>,
) -> AdminResult<Json<TokenLifetimes>> {
    read_tenant(&s, &t, |t| Ok(Json(t.token_lifetimes.clone())))
}

/// `PATCH /tenants/{t}/token-lifetimes`: a merge patch, seconds; `refresh_token_max_age: null`
/// means until revoked.
async fn lifetimes_patch(
    State(s): State<AppState>,
    AdminPath(t): AdminPath<String>,
    AdminJson(patch): AdminJson<Value>,
) -> AdminResult<Json<TokenLifetimes>> {
    edit_tenant(&s, &t, |tenant| {
        let new: TokenLifetimes = patched(&tenant.token_lifetimes, patch)?;
        let checks = [
            ("access_token", Some(new.access_token)),
            (
                "refresh_token_max_inactive",
                Some(new.refresh_token_max_inactive),
            ),
            ("refresh_token_max_age", new.refresh_token_max_age),
            ("authorization_code", Some(new.authorization_code)),
            ("device_code", Some(new.device_code)),
        ];
        for (name, v) in checks {
            if let Some(v) = v {
                if v <= 0 {
                    return Err(AdminError::bad_request(format!(
                        "{name}: must be a positive number of seconds"
                    )));
                }
            }
        }
        tenant.token_lifetimes = new.clone();
        Ok(Json(new))
    })
}

// ------------------------------------------------------------------ keys

fn keys_json(s: &AppState) -> Value {
    let keys = s.keys();
    Value::Array(
        keys.published()
            .map(|(k, st)| json!({"kid": k.kid, "state": st}))
            .collect(),
    )
}

async fn keys_list(State(s): State<AppState>) -> Json<Value> {
    Json(keys_json(&s))
}

fn key_error(e: KeyError) -> AdminError {
    match e {
        KeyError::UnknownKid(_) => AdminError::not_found(e.to_string()),
        KeyError::RetireActive => AdminError::conflict(e.to_string()),
        KeyError::Material(_) => AdminError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "key_error",
            e.to_string(),
        ),
    }
}

/// `POST /keys/roll`: the next key signs from now on; the old one stays published.
async fn keys_roll(State(s): State<AppState>) -> AdminResult<Json<Value>> {
    let kid = s.keys_mut().roll().map_err(key_error)?;
    Ok(Json(json!({"kid": kid, "keys": keys_json(&s)})))
}

/// `POST /keys/add`: publishes the next key without signing with it.
async fn keys_add(State(s): State<AppState>) -> AdminResult<Json<Value>> {
    let kid = s.keys_mut().add_next().map_err(key_error)?;
    Ok(Json(json!({"kid": kid, "keys": keys_json(&s)})))
}

/// `POST /keys/{kid}/retire`: stops publishing a key that no longer signs.
async fn keys_retire(
    State(s): State<AppState>,
    AdminPath(kid): AdminPath<String>,
) -> AdminResult<Json<Value>> {
    s.keys_mut().retire(&kid).map_err(key_error)?;
    Ok(Json(json!({"retired": kid, "keys": keys_json(&s)})))
}

// ------------------------------------------------------------------ clock

fn clock_json(s: &AppState) -> Value {
    json!({
        "now": rfc3339(s.now()),
        "unix": s.unix(),
        "offset_seconds": s.clock.offset_secs(),
    })
}

async fn clock_get(State(s): State<AppState>) -> Json<Value> {
    Json(clock_json(&s))
}

/// `POST /clock/advance?seconds=N` (N may be negative; at most a century either way).
async fn clock_advance(
    State(s): State<AppState>,
    uri: axum::http::Uri,
) -> AdminResult<Json<Value>> {
    const LIMIT: i64 = 100 * 366 * 86_400;
    let params = crate::util::Params::parse(uri.query().unwrap_or("").as_bytes());
    let raw = params.get("seconds").ok_or_else(|| {
        AdminError::bad_request(
            "query parameter `seconds` is required: /_admin/clock/advance?seconds=N",
        )
    })?;
    let secs: i64 = raw
        .trim()
        .parse()
        .map_err(|_| AdminError::bad_request(format!("seconds: '{raw}' is not an integer")))?;
    if secs.unsigned_abs() > LIMIT.unsigned_abs() {
        return Err(AdminError::bad_request(format!(
            "seconds: {secs} is more than a century"
        )));
    }
    s.clock.advance_secs(secs);
    Ok(Json(clock_json(&s)))
}

// ------------------------------------------------------------------ grants

fn grant_counts(s: &AppState) -> Value {
    let counts = {
        let g = s.grants();
        let mut by_oid: std::collections::BTreeMap<Uuid, usize> = Default::default();
        for r in g.refresh.values().filter(|r| !r.revoked) {
            *by_oid.entry(r.auth.user_oid).or_default() += 1;
        }
        (
            g.refresh.values().filter(|r| !r.revoked).count(),
            g.refresh.values().filter(|r| r.revoked).count(),
            g.codes.len(),
            g.devices.len(),
            by_oid,
        )
    };
    let (live, revoked, codes, devices, by_oid) = counts;
    let dir = s.dir();
    let mut by_user = Map::new();
    for (oid, n) in by_oid {
        let name = dir
            .tenants
            .iter()
            .find_map(|t| t.user_by_oid(oid))
            .map(|u| u.upn.clone())
            .unwrap_or_else(|| oid.to_string());
        by_user.insert(name, json!(n));
    }
    json!({
        "refresh_tokens": live,
        "revoked_refresh_tokens": revoked,
        "authorization_codes": codes,
        "device_codes": devices,
        "refresh_tokens_by_user": by_user,
    })
}

/// `GET /grants`: how many grants the store holds (never their values).
async fn grants_get(State(s): State<AppState>) -> Json<Value> {
    Json(grant_counts(&s))
}

/// `DELETE /grants`: forgets every grant; answers the counts that were deleted.
async fn grants_delete(State(s): State<AppState>) -> Json<Value> {
    let before = grant_counts(&s);
    *s.grants() = crate::grants::GrantStore::default();
    Json(json!({"deleted": before}))
}

// ------------------------------------------------------------------ faults

async fn faults_list(State(s): State<AppState>) -> Json<Value> {
    Json(to_json(&s.faults().list()))
}

async fn faults_add(
    State(s): State<AppState>,
    AdminJson(rule): AdminJson<NewRule>,
) -> AdminResult<(StatusCode, Json<Value>)> {
    let rule = s.faults().add(rule).map_err(AdminError::bad_request)?;
    Ok((StatusCode::CREATED, Json(to_json(&rule))))
}

async fn faults_clear(State(s): State<AppState>) -> Json<Value> {
    let n = s.faults().clear();
    Json(json!({"deleted": n}))
}

async fn fault_delete(
    State(s): State<AppState>,
    AdminPath(id): AdminPath<u64>,
) -> AdminResult<StatusCode> {
    if s.faults().remove(id) {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(AdminError::not_found(format!("no fault rule {id}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_peers_are_local() {
        assert!(is_local(None));
        assert!(is_local(Some("127.0.0.1:5000".parse().unwrap())));
        assert!(is_local(Some("127.8.9.1:5000".parse().unwrap())));
        assert!(is_local(Some("[::1]:5000".parse().unwrap())));
        assert!(is_local(Some("[::ffff:127.0.0.1]:5000".parse().unwrap())));
        assert!(!is_local(Some("10.0.0.5:5000".parse().unwrap())));
        assert!(!is_local(Some("192.168.1.20:443".parse().unwrap())));
        assert!(!is_local(Some("[::ffff:10.0.0.5]:5000".parse().unwrap())));
        assert!(!is_local(Some("[2001:db8::1]:5000".parse().unwrap())));
    }

    #[test]
    fn bearer_must_match_exactly() {
        let mut h = HeaderMap::new();
        assert!(!bearer_matches(&h, "secret"));
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer secret"),
        );
        assert!(bearer_matches(&h, "secret"));
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("bearer secret"),
        );
        assert!(bearer_matches(&h, "secret"));
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer secreT"),
        );
        assert!(!bearer_matches(&h, "secret"));
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer secret2"),
        );
        assert!(!bearer_matches(&h, "secret"));
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Basic secret"),
        );
        assert!(!bearer_matches(&h, "secret"));
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer "));
        assert!(!bearer_matches(&h, ""));
    }

    #[test]
    fn merge_patch_follows_rfc_7396() {
        let mut v = json!({"a": 1, "b": {"c": 2, "d": 3}, "e": [1]});
        merge(
            &mut v,
            json!({"a": null, "b": {"c": 5}, "e": [2, 3], "f": "x"}),
        );
        assert_eq!(v, json!({"b": {"c": 5, "d": 3}, "e": [2, 3], "f": "x"}));
    }

    #[test]
    fn sp_object_id_is_stable_and_distinct() {
        let tid = uuid::uuid!("f31f3647-5d87-4b69-a0b6-73f62aeab14c");
        let a = sp_object_id(tid, crate::model::EXCHANGE_APP_ID);
        assert_eq!(a, sp_object_id(tid, crate::model::EXCHANGE_APP_ID));
        assert_ne!(a, sp_object_id(tid, crate::model::OFFICE_APP_ID));
        assert_eq!(a.get_version_num(), 5);
    }
}
