//! Placeholder: admin API.
use crate::state::AppState;
use axum::Router;
pub fn routes(_state: AppState) -> Router<AppState> {
    Router::new()
}
