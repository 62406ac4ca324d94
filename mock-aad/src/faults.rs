//! Placeholder: fault injection.
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use crate::state::AppState;
#[derive(Debug, Default)]
pub struct Faults {}
pub async fn inject(State(_s): State<AppState>, req: Request, next: Next) -> Response { next.run(req).await }
