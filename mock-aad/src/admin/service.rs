//! Admin calls on the running service rather than the directory: signing keys (roll, add,
//! retire), the token forge, the lab clock, the grant store and the fault rules.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Map, Value};
use uuid::Uuid;

use crate::admin::edit::{rfc3339, to_json};
use crate::admin::errors::{AdminError, AdminJson, AdminPath, AdminResult};
use crate::fault_rules::NewRule;
use crate::keys::KeyError;
use crate::state::AppState;
use crate::token::forge::{ForgeError, ForgeRequest, Forged};

// ------------------------------------------------------------------ forge

/// `POST /forge`: an access token with one chosen flaw ([`crate::token::forge`]).
pub(super) async fn forge(
    State(s): State<AppState>,
    AdminJson(req): AdminJson<ForgeRequest>,
) -> AdminResult<Json<Forged>> {
    let now = s.unix();
    let dir = s.dir();
    let keys = s.keys();
    crate::token::forge::forge(&dir, &keys, &s.config.hosts, now, &req)
        .map(Json)
        .map_err(|e| match e {
            ForgeError::NoUser(_) | ForgeError::NoResource(_) => {
                AdminError::not_found(e.to_string())
            }
            _ => AdminError::bad_request(e.to_string()),
        })
}

// ------------------------------------------------------------------ keys

pub(super) fn keys_json(s: &AppState) -> Value {
    let keys = s.keys();
    Value::Array(
        keys.published()
            .map(|(k, st)| json!({"kid": k.kid, "state": st}))
            .collect(),
    )
}

pub(super) async fn keys_list(State(s): State<AppState>) -> Json<Value> {
    Json(keys_json(&s))
}

pub(super) fn key_error(e: KeyError) -> AdminError {
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
pub(super) async fn keys_roll(State(s): State<AppState>) -> AdminResult<Json<Value>> {
    let kid = s.keys_mut().roll().map_err(key_error)?;
    Ok(Json(json!({"kid": kid, "keys": keys_json(&s)})))
}

/// `POST /keys/add`: publishes the next key without signing with it.
pub(super) async fn keys_add(State(s): State<AppState>) -> AdminResult<Json<Value>> {
    let kid = s.keys_mut().add_next().map_err(key_error)?;
    Ok(Json(json!({"kid": kid, "keys": keys_json(&s)})))
}

/// `POST /keys/{kid}/retire`: stops publishing a key that no longer signs.
pub(super) async fn keys_retire(
    State(s): State<AppState>,
    AdminPath(kid): AdminPath<String>,
) -> AdminResult<Json<Value>> {
    s.keys_mut().retire(&kid).map_err(key_error)?;
    Ok(Json(json!({"retired": kid, "keys": keys_json(&s)})))
}

// ------------------------------------------------------------------ clock

pub(super) fn clock_json(s: &AppState) -> Value {
    json!({
        "now": rfc3339(s.now()),
        "unix": s.unix(),
        "offset_seconds": s.clock.offset_secs(),
    })
}

pub(super) async fn clock_get(State(s): State<AppState>) -> Json<Value> {
    Json(clock_json(&s))
}

/// `POST /clock/advance?seconds=N` (N may be negative; at most a century either way).
pub(super) async fn clock_advance(
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
    s.clock
        .try_advance_secs(secs)
        .map_err(|e| AdminError::bad_request(e.to_string()))?;
    Ok(Json(clock_json(&s)))
}

// ------------------------------------------------------------------ grants

pub(super) fn grant_counts(s: &AppState) -> Value {
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
pub(super) async fn grants_get(State(s): State<AppState>) -> Json<Value> {
    Json(grant_counts(&s))
}

/// `DELETE /grants`: forgets every grant; answers the counts that were deleted.
pub(super) async fn grants_delete(State(s): State<AppState>) -> Json<Value> {
    let before = grant_counts(&s);
    *s.grants() = crate::grants::GrantStore::default();
    Json(json!({"deleted": before}))
}

// ------------------------------------------------------------------ faults

pub(super) async fn faults_list(State(s): State<AppState>) -> Json<Value> {
    Json(to_json(&s.faults().list()))
}

pub(super) async fn faults_add(
    State(s): State<AppState>,
    AdminJson(rule): AdminJson<NewRule>,
) -> AdminResult<(StatusCode, Json<Value>)> {
    let rule = s.faults().add(rule).map_err(AdminError::bad_request)?;
    Ok((StatusCode::CREATED, Json(to_json(&rule))))
}

pub(super) async fn faults_clear(State(s): State<AppState>) -> Json<Value> {
    let n = s.faults().clear();
    Json(json!({"deleted": n}))
}

pub(super) async fn fault_delete(
    State(s): State<AppState>,
    AdminPath(id): AdminPath<u64>,
) -> AdminResult<StatusCode> {
    if s.faults().remove(id) {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(AdminError::not_found(format!("no fault rule {id}")))
    }
}
