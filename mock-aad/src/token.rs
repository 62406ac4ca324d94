//! Placeholder: filled in by the token work.
use axum::Router;
use crate::state::AppState;
pub fn routes() -> Router<AppState> { Router::new() }
