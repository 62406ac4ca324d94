//! Placeholder: filled in by the token work.
use crate::state::AppState;
use axum::Router;
pub fn routes() -> Router<AppState> {
    Router::new()
}
