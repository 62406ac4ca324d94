//! Placeholder: sign-in pages.
use crate::state::AppState;
use axum::Router;
#[derive(Debug, Default)]
pub struct Sessions {}
pub fn routes() -> Router<AppState> {
    Router::new()
}
