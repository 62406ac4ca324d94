//! The admin API's answers when something is wrong, and its request extractors: every error is
//! `{"error":"…","message":"…"}` — bad JSON included, with its line and column — never axum's
//! plain-text rejection.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::de::DeserializeOwned;
use serde_json::{json, Value};

use crate::labfile::{Problem, ProblemKind};

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

pub(super) type AdminResult<T> = Result<T, AdminError>;

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

pub(super) fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> AdminResult<T> {
    serde_json::from_slice(bytes)
        .map_err(|e| AdminError::bad_request(with_hint(format!("invalid JSON body: {e}"))))
}

/// Appends `; did you mean `x`?` to serde's "unknown field/variant `y`, expected …" messages.
pub(super) fn with_hint(message: String) -> String {
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
pub(super) fn from_value<T: DeserializeOwned>(v: Value) -> AdminResult<T> {
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

pub(super) async fn no_such_call() -> AdminError {
    AdminError::not_found(
        "no such admin call; see docs/src/reference/aad-admin-api.md for the list",
    )
}

pub(super) async fn method_not_allowed() -> AdminError {
    AdminError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this admin path does not take that method",
    )
}
