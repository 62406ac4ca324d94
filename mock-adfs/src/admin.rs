//! The admin API (`/_admin/…`): how a lab, a test or the cmdlet shell reads and changes a
//! running mock-adfs — the ADFS cmdlets the field guide and the issue use are one call each:
//!
//! | call | cmdlet |
//! |---|---|
//! | `GET /properties` | `Get-AdfsProperties` |
//! | `PATCH /properties` `{"ExtendedProtectionTokenCheck":"None"}` | `Set-AdfsProperties` |
//! | `GET /certificates` | `Get-AdfsCertificate -CertificateType Token-Signing` |
//! | `POST /certificates/update` `{"Urgent":true}` | `Update-AdfsCertificate -CertificateType Token-Signing -Urgent` |
//! | `GET`/`PUT`/`DELETE /ssl-certificate` | the TLS certificate extended protection binds to |
//! | `GET`/`PUT /farm`, `GET /users` | the lab file's data |
//! | `GET /clock`, `POST /clock/advance?seconds=N` | the lab clock |
//! | `GET /openapi.json` | this API as OpenAPI 3.1 (built from the same table as the router) |
//!
//! Every call is behind `lab_kit::admin`'s guard (loopback, `Authorization: Bearer
//! <admin_token>`), fallback included. Bodies are JSON; every error is
//! `{"error":"…","message":"…"}`. A farm edit is checked with the lab-file rules before it
//! replaces the live one.

use std::collections::HashMap;
use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, Query, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::{from_fn_with_state, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};

use lab_kit::openapi::Method::{Delete, Get, Patch, Post, Put};
use lab_kit::openapi::{op, op_body, Documented, RouteDoc};

use crate::keys::rfc3339;
use crate::labfile;
use crate::model::{ExtendedProtection, Farm};
use crate::state::AppState;

/// Every admin route with its description: the router and the OpenAPI document both come
/// from this one table ([`lab_kit::openapi`]).
fn table() -> Documented<AppState> {
    Documented::new()
        .route(
            "/properties",
            get(properties_get).patch(properties_set),
            &[
                op(Get, "Get-AdfsProperties", &[200]),
                op_body::<PropertiesEdit>(Patch, "Set-AdfsProperties", &[200, 400]),
            ],
        )
        .route(
            "/certificates",
            get(certificates_get),
            &[op(Get, "Get-AdfsCertificate -CertificateType Token-Signing", &[200])],
        )
        .route(
            "/certificates/update",
            post(certificates_update),
            &[op_body::<Update>(
                Post,
                "Update-AdfsCertificate -CertificateType Token-Signing [-Urgent] (an empty body: not urgent)",
                &[200, 400],
            )],
        )
        .route(
            "/ssl-certificate",
            get(ssl_get).put(ssl_put).delete(ssl_delete),
            &[
                op(Get, "The TLS certificate extended protection binds to (null: none)", &[200]),
                op(Put, "Set the TLS certificate: the body is its PEM text", &[200, 400]),
                op(Delete, "Forget the TLS certificate", &[204]),
            ],
        )
        .route(
            "/farm",
            get(farm_get).put(farm_put),
            &[
                op(Get, "The farm, as a lab file writes it", &[200]),
                op_body::<Farm>(Put, "Replace the farm (checked with the lab-file rules)", &[200, 400]),
            ],
        )
        .route("/users", get(users_get), &[op(Get, "The farm's accounts", &[200])])
        .route("/clock", get(clock_get), &[op(Get, "The lab clock", &[200])])
        .route(
            "/clock/advance",
            post(clock_advance),
            &[op(Post, "Move the lab clock by ?seconds=N (may be negative)", &[200, 400])],
        )
}

/// The admin API's OpenAPI 3.1 document (served at `/_admin/openapi.json`).
pub fn openapi() -> serde_json::Value {
    table().finish(TITLE, "/_admin").1
}

/// The admin routes and their documented methods, `/openapi.json` included.
pub fn route_docs() -> Vec<RouteDoc> {
    table().finish(TITLE, "/_admin").2
}

const TITLE: &str = "mock-adfs admin API";

pub fn routes(state: AppState) -> Router<AppState> {
    table()
        .router(TITLE, "/_admin")
        .fallback(|| async { err(StatusCode::NOT_FOUND, "not_found", "no such admin call") })
        .method_not_allowed_fallback(|| async {
            err(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "this admin call does not take that method",
            )
        })
        .layer(from_fn_with_state(state, guard))
}

/// The one admin guard in front of every admin route.
async fn guard(State(s): State<AppState>, req: Request, next: Next) -> Response {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0);
    if let Err(refusal) = lab_kit::admin::check(peer, req.headers(), &s.admin_token) {
        let mut resp = err(refusal.status(), refusal.error(), refusal.message());
        if let Some(c) = refusal.challenge("mock-adfs admin") {
            resp.headers_mut().insert(header::WWW_AUTHENTICATE, c);
        }
        return resp;
    }
    next.run(req).await
}

fn err(status: StatusCode, error: &str, message: impl Into<String>) -> Response {
    (
        status,
        Json(json!({"error": error, "message": message.into()})),
    )
        .into_response()
}

fn bad(message: impl Into<String>) -> Response {
    err(StatusCode::BAD_REQUEST, "bad_request", message)
}

fn json_body<T: serde::de::DeserializeOwned>(b: &Bytes) -> Result<T, Response> {
    serde_json::from_slice(b).map_err(|e| {
        bad(format!(
            "the body is not the JSON this call takes: {e} (line {}, column {})",
            e.line(),
            e.column()
        ))
    })
}

fn properties_json(s: &AppState) -> Value {
    let farm = s.farm();
    json!({
        "HostName": farm.host,
        "Identifier": farm.issuer(),
        "DisplayName": farm.display_name,
        "ExtendedProtectionTokenCheck": farm.properties.extended_protection_token_check.name(),
        "WIASupportedUserAgents": farm.properties.wia_supported_user_agents,
    })
}

async fn properties_get(State(s): State<AppState>) -> Json<Value> {
    Json(properties_json(&s))
}

#[derive(serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct PropertiesEdit {
    #[serde(rename = "ExtendedProtectionTokenCheck")]
    extended_protection_token_check: Option<String>,
    #[serde(rename = "WIASupportedUserAgents")]
    wia_supported_user_agents: Option<Vec<String>>,
}

async fn properties_set(State(s): State<AppState>, body: Bytes) -> Response {
    let edit: PropertiesEdit = match json_body(&body) {
        Ok(e) => e,
        Err(r) => return r,
    };
    let ep = match edit.extended_protection_token_check.as_deref() {
        None => None,
        Some(v) => match ExtendedProtection::parse(v) {
            Some(ep) => Some(ep),
            None => {
                return bad(format!(
                    "ExtendedProtectionTokenCheck '{v}' is not one of None, Allow, Require"
                ))
            }
        },
    };
    {
        let mut farm = s.farm_mut();
        if let Some(ep) = ep {
            farm.properties.extended_protection_token_check = ep;
        }
        if let Some(agents) = edit.wia_supported_user_agents {
            farm.properties.wia_supported_user_agents = agents;
        }
    }
    Json(properties_json(&s)).into_response()
}

async fn certificates_get(State(s): State<AppState>) -> Json<Value> {
    Json(s.certs().listing())
}

#[derive(serde::Deserialize, Default, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct Update {
    #[serde(rename = "CertificateType", default)]
    certificate_type: Option<String>,
    #[serde(rename = "Urgent", default)]
    urgent: bool,
}

async fn certificates_update(State(s): State<AppState>, body: Bytes) -> Response {
    let u: Update = if body.is_empty() {
        Update::default()
    } else {
        match json_body(&body) {
            Ok(u) => u,
            Err(r) => return r,
        }
    };
    if let Some(t) = u.certificate_type.as_deref() {
        if !t.eq_ignore_ascii_case("Token-Signing") {
            return bad(format!(
                "CertificateType '{t}': the lab rolls over Token-Signing certificates only"
            ));
        }
    }
    s.certs_mut().update(u.urgent);
    Json(s.certs().listing()).into_response()
}

fn ssl_json(s: &AppState) -> Value {
    match s
        .tls_certificate()
        .and_then(|der| lab_kit::saml::Certificate::from_der(&der).ok())
    {
        Some(c) => json!({"Thumbprint": c.thumbprint(), "Subject": format!("CN={}", c.subject_cn),
                          "NotAfter": rfc3339(c.not_after)}),
        None => Value::Null,
    }
}

async fn ssl_get(State(s): State<AppState>) -> Json<Value> {
    Json(ssl_json(&s))
}

/// `PUT /ssl-certificate` with the certificate as PEM text.
async fn ssl_put(State(s): State<AppState>, body: Bytes) -> Response {
    let text = String::from_utf8_lossy(&body);
    let der = match lab_kit::saml::cert::pem_block(&text, "CERTIFICATE") {
        Ok(d) => d,
        Err(e) => return bad(format!("send the certificate as PEM: {e}")),
    };
    s.set_tls_certificate(Some(der));
    Json(ssl_json(&s)).into_response()
}

async fn ssl_delete(State(s): State<AppState>) -> StatusCode {
    s.set_tls_certificate(None);
    StatusCode::NO_CONTENT
}

async fn farm_get(State(s): State<AppState>) -> Json<Farm> {
    Json(s.farm().clone())
}

async fn farm_put(State(s): State<AppState>, body: Bytes) -> Response {
    let farm: Farm = match json_body(&body) {
        Ok(f) => f,
        Err(r) => return r,
    };
    if let Err(p) = labfile::check(&farm) {
        return bad(p.message);
    }
    *s.farm_mut() = farm;
    Json(s.farm().clone()).into_response()
}

async fn users_get(State(s): State<AppState>) -> Json<Value> {
    let farm = s.farm();
    Json(Value::Array(
        farm.users
            .iter()
            .map(|u| {
                json!({"UserPrincipalName": u.upn, "SamAccountName": u.sam,
                       "ObjectGUID": u.object_guid, "ImmutableID": u.immutable_id(),
                       "Enabled": u.enabled, "DisplayName": u.display_name,
                       "Mfa": u.mfa})
            })
            .collect(),
    ))
}

fn clock_json(s: &AppState) -> Value {
    json!({"now": rfc3339(s.clock.unix()), "unix": s.clock.unix(),
           "offset_seconds": s.clock.offset_secs()})
}

async fn clock_get(State(s): State<AppState>) -> Json<Value> {
    Json(clock_json(&s))
}

async fn clock_advance(
    State(s): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let Some(secs) = q.get("seconds").and_then(|v| v.parse::<i64>().ok()) else {
        return bad("give ?seconds=N (an integer, may be negative)");
    };
    match s.clock.try_advance_secs(secs) {
        Ok(()) => Json(clock_json(&s)).into_response(),
        Err(e) => bad(e.to_string()),
    }
}
