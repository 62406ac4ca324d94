//! Placeholder: filled in by the discovery work.
use crate::state::AppState;
use axum::Router;
pub fn routes() -> Router<AppState> {
    Router::new()
}
