//! Placeholder: fault injection.
use crate::state::AppState;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
#[derive(Debug, Default)]
pub struct Faults {}
pub async fn inject(State(_s): State<AppState>, req: Request, next: Next) -> Response {
    next.run(req).await
}
