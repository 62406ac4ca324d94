//! stub
use super::SurfaceCtx;
use axum::http::request::Parts;
use axum::response::Response;
pub fn handle(_ctx: &SurfaceCtx, _parts: &Parts, _body: &[u8]) -> Response {
    super::not_found()
}
