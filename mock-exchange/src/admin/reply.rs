//! The admin API's answers: the one error shape (`{"error": code, "message": text}`), JSON
//! bodies whose rejections use it, and the small constructors every admin endpoint shares. Its
//! own module so that the endpoint modules ([`super`] and [`super::servers`]) both build on it
//! without importing each other.

use axum::extract::Request;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

/// An admin error: status + `{"error": code, "message": text}`.
#[derive(Debug)]
pub struct AdminError(
    pub(crate) StatusCode,
    pub(crate) &'static str,
    pub(crate) String,
);

impl IntoResponse for AdminError {
    fn into_response(self) -> Response {
        (self.0, Json(json!({"error": self.1, "message": self.2}))).into_response()
    }
}

pub fn not_found(what: String) -> AdminError {
    AdminError(StatusCode::NOT_FOUND, "not_found", what)
}
pub fn bad(what: String) -> AdminError {
    AdminError(StatusCode::BAD_REQUEST, "bad_request", what)
}

pub type Res = Result<Json<Value>, AdminError>;

/// JSON bodies whose rejections use the admin error shape.
pub struct Body<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> axum::extract::FromRequest<S> for Body<T> {
    type Rejection = AdminError;
    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|e| bad(format!("body: {e}")))?;
        serde_json::from_slice(&bytes)
            .map(Body)
            .map_err(|e| bad(format!("body: {e}")))
    }
}

/// A value as JSON (`null` if it cannot be).
pub fn to_json<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

/// 404 for a server the organization does not have.
pub fn no_server(server: &str) -> AdminError {
    not_found(format!("no server '{server}'"))
}
