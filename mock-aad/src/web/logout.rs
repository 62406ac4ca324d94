//! Logout (v1 and v2): ends the browser's SSO session, clears its cookies, and returns to
//! `post_logout_redirect_uri` (with `state`) or shows the signed-out page.

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::resolve::Segment;
use crate::sessions::ResponseMode;
use crate::state::AppState;
use crate::web::ctx::{request_params, session_id, Ctx, PERSISTENT_COOKIE, SESSION_COOKIE};
use crate::web::pages::{deliver, page_headers, page_message, with_cookies};

pub(super) async fn web_logout(
    State(state): State<AppState>,
    Segment(_tenant): Segment,
    method: Method,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let p = request_params(&method, query, &body);
    let ctx = Ctx::new(&state, &headers, p.get("client-request-id"));
    if let Some(sid) = session_id(&headers) {
        state.sessions().end_sso(&sid);
    }
    let clear = [
        format!("{SESSION_COOKIE}=; expires=Thu, 01 Jan 1970 00:00:00 GMT; path=/; HttpOnly"),
        format!("{PERSISTENT_COOKIE}=; expires=Thu, 01 Jan 1970 00:00:00 GMT; path=/; HttpOnly"),
    ];
    let target = p
        .get("post_logout_redirect_uri")
        .filter(|u| {
            url::Url::parse(u)
                .map(|u| u.scheme() == "https" || u.scheme() == "http")
                .unwrap_or(false)
        })
        .map(str::to_string);
    if let Some(uri) = target {
        let mut params = Vec::new();
        if let Some(s) = p.get("state") {
            params.push(("state", s.to_string()));
        }
        if params.is_empty() {
            if let Ok(loc) = HeaderValue::from_str(&uri) {
                let mut resp = StatusCode::FOUND.into_response();
                page_headers(resp.headers_mut(), &ctx, "text/html; charset=utf-8");
                resp.headers_mut().insert(header::LOCATION, loc);
                return with_cookies(resp, &clear);
            }
        } else {
            return deliver(&ctx, &uri, ResponseMode::Query, &params, &clear);
        }
    }
    with_cookies(
        page_message(
            &ctx,
            "Sign out",
            "You signed out of your account",
            "It's a good idea to close all browser windows.",
        ),
        &clear,
    )
}
