//! Placeholder: filled in by the discovery work.
use axum::Router;
use crate::state::AppState;
pub fn routes() -> Router<AppState> { Router::new() }
