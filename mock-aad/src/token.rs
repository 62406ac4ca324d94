//! The token service: `POST /{tenant}/oauth2/token`, `/oauth2/v2.0/token`, `/oauth2/devicecode`
//! and `/oauth2/v2.0/devicecode`, with every grant Azure AD offers a client of Exchange.
//!
//! Each request is handled in two halves. The async edge reads the body (size-limited; a
//! rejection becomes an Azure AD JSON error, not the framework's plain text), the request ids, the
//! client address and the time; then one synchronous function decides, taking the service's
//! `std::sync` locks only briefly and never across an `.await`. Every refusal is an [`AadError`]
//! rendered in one place, so a refused request looks exactly like Azure AD's on the wire.
//!
//! Where each part lives: `request` (one request and what every grant asks of it), `grant` (the
//! grants and the tokens they issue), `devicecode` (the device authorization endpoint), `issue` (the tokens every user grant ends
//! with), `claims`
//! (token contents and signing), `scope` (resources and scopes), `saml` (the SAML bearer grants
//! of federated users), `forge` (flawed tokens for the admin API's `POST /_admin/forge`).

mod claims;
mod devicecode;
pub mod forge;
mod grant;
mod issue;
mod request;
mod saml;
mod scope;

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequest, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use serde_json::Value;
use time::OffsetDateTime;

pub use claims::{pairwise_sub, v1_issuer, v2_issuer, verify_jwt, JwtError};
pub use grant::{DEVICE_CODE_GRANT, JWT_BEARER_GRANT};
pub use saml::{SAML11_BEARER_GRANT, SAML2_BEARER_GRANT};
pub use scope::{Target, GRAPH_APP_ID};

use crate::error::{set_aad_headers, AadError, RequestIds};
use crate::state::AppState;
use crate::token::request::Ctx;
use crate::util::Params;

/// The token-service routes (any Host).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/{tenant}/oauth2/token", post(token_v1).fallback(not_post))
        .route(
            "/{tenant}/oauth2/v2.0/token",
            post(token_v2).fallback(not_post),
        )
        .route(
            "/{tenant}/oauth2/devicecode",
            post(devicecode_v1).fallback(not_post),
        )
        .route(
            "/{tenant}/oauth2/v2.0/devicecode",
            post(devicecode_v2).fallback(not_post),
        )
}

/// Any other method than POST: Azure AD's JSON error, not an empty 405.
async fn not_post(State(s): State<AppState>, req: Request) -> Response {
    let ids = RequestIds::from_headers(req.headers());
    AadError::post_only(req.method().as_str())
        .in_era(s.era())
        .into_response_with(&ids, s.now())
}

async fn token_v1(State(s): State<AppState>, req: Request) -> Response {
    endpoint(s, req, false, Kind::Token).await
}
async fn token_v2(State(s): State<AppState>, req: Request) -> Response {
    endpoint(s, req, true, Kind::Token).await
}
async fn devicecode_v1(State(s): State<AppState>, req: Request) -> Response {
    endpoint(s, req, false, Kind::DeviceCode).await
}
async fn devicecode_v2(State(s): State<AppState>, req: Request) -> Response {
    endpoint(s, req, true, Kind::DeviceCode).await
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Token,
    DeviceCode,
}

async fn endpoint(s: AppState, req: Request, v2: bool, kind: Kind) -> Response {
    let ids = RequestIds::from_headers(req.headers());
    let now = s.now();
    let seg = req
        .uri()
        .path()
        .trim_start_matches('/')
        .split('/')
        .next()
        .unwrap_or("")
        .to_string();
    let headers = req.headers().clone();
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string());
    let bytes = match Bytes::from_request(req, &()).await {
        Ok(b) => b,
        Err(rejection) => {
            let e = if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                AadError::body_too_large()
            } else {
                AadError::missing_parameter("grant_type")
            };
            return e.in_era(s.era()).into_response_with(&ids, now);
        }
    };
    let ip = headers
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
        .or(peer);
    // Azure AD reads the parameters of a form only: a body sent as `text/plain`, JSON or with no
    // `Content-Type` is a request without parameters (AADSTS900144 for `grant_type`), never a
    // token — even when its bytes look like a form.
    let is_form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| {
            m.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        });
    let params = if is_form {
        Params::parse(&bytes)
    } else {
        Params::parse(b"")
    };
    let ctx = Ctx {
        s: &s,
        v2,
        seg,
        params,
        headers,
        ip,
        now: now.unix_timestamp(),
        at: now,
    };
    let result = match kind {
        Kind::Token => grant::token(&ctx),
        Kind::DeviceCode => devicecode::devicecode(&ctx),
    };
    match result {
        Ok(body) => success(&body, &ids, now),
        Err(e) => {
            tracing::debug!(code = e.code, error = %e.error, "token request refused");
            e.in_era(s.era()).into_response_with(&ids, now)
        }
    }
}

/// A 200 with the token endpoint's header set and a JSON body.
fn success(body: &Value, ids: &RequestIds, now: OffsetDateTime) -> Response {
    let mut resp = (StatusCode::OK, body.to_string()).into_response();
    let h = resp.headers_mut();
    h.clear();
    // Cache-Control, Pragma and Content-Type first, as the captures show them.
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-store, no-cache"),
    );
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    set_aad_headers(h, ids.trace_id, now, Some("no-store, no-cache"));
    resp
}
