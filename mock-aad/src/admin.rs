//! Placeholder: admin API.
use axum::Router;
use crate::state::AppState;
pub fn routes(_state: AppState) -> Router<AppState> { Router::new() }
