//! Placeholder: sign-in pages.
use axum::Router;
use crate::state::AppState;
#[derive(Debug, Default)]
pub struct Sessions {}
pub fn routes() -> Router<AppState> { Router::new() }
