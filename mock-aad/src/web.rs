//! The interactive half of Azure AD: the authorize endpoints, the sign-in pages, the device-code
//! page and logout.
//!
//! A browser (or UI automation written against the real pages) walks a small state machine:
//! username → password → (MFA enrolment) → MFA code → consent → "Stay signed in?" → redirect with
//! a code, or for a device flow: user code → username → password → … → "Are you trying to sign
//! in to {app}?". The pages keep the real page's field names and element ids (`loginfmt`/`i0116`,
//! `passwd`/`i0118`, `idSIButton9`, `idBtn_Back`, `otc`/`idTxtBx_SAOTCC_OTC`, …).
//!
//! Where the flow stands is never taken from the page: every form carries only an opaque
//! `flowToken` (also sent as `ctx`), the key of a server-side
//! [`Flow`](crate::sessions::Flow) record in [`Sessions`](crate::sessions::Sessions). A finished
//! sign-in leaves an SSO session keyed by the `ESTSAUTH` cookie. Both maps are bounded (oldest
//! evicted first) so a flood of abandoned flows cannot exhaust memory. Locks are taken briefly
//! and never across an `.await`; the only await in a handler is reading the body, which happens
//! before any lock.
//!
//! Errors follow Azure AD: an unknown tenant, client or redirect URI gets the HTML error page
//! ("Sorry, but we’re having trouble signing you in.", with the typographic apostrophe of the
//! real page) and never a redirect; every other error is
//! redirected to the client's `redirect_uri` with `error` and an `error_description` encoded the
//! way .NET's `HttpUtility.UrlEncode` does (the seed's "Missing SPNs" capture, byte for byte).
//!
//! Where each part lives: `authorize` (the endpoint), `flow` (the pages' state machine),
//! `pages` (the HTML), `wsfed` (the hop to a federated domain's IdP and `login.srf`), `logout`, `resource` (which resources a request names and whether the
//! tenant has them), [`reply`] (how an answer goes back to the client), and the flow records
//! themselves in [`crate::sessions`].

mod authorize;
mod ctx;
mod flow;
mod logout;
mod pages;
pub mod reply;
mod resource;
mod wsfed;

use axum::routing::get;
use axum::Router;

use crate::state::AppState;

pub use ctx::{PERSISTENT_COOKIE, SESSION_COOKIE};
pub use flow::MFA_CODE;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/{tenant}/oauth2/authorize",
            get(authorize::web_authorize_v1).post(authorize::web_authorize_v1),
        )
        .route(
            "/{tenant}/oauth2/v2.0/authorize",
            get(authorize::web_authorize_v2).post(authorize::web_authorize_v2),
        )
        .route("/{tenant}/login", axum::routing::post(flow::web_login_post))
        .route("/login.srf", axum::routing::post(wsfed::web_login_srf))
        .route(
            "/devicelogin",
            get(flow::web_devicelogin_get).post(flow::web_devicelogin_post),
        )
        .route(
            "/{tenant}/oauth2/logout",
            get(logout::web_logout).post(logout::web_logout),
        )
        .route(
            "/{tenant}/oauth2/v2.0/logout",
            get(logout::web_logout).post(logout::web_logout),
        )
}
