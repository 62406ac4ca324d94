//! The protocol surfaces behind the auth pipeline: Autodiscover (POX, SOAP, JSON v2), EWS,
//! MAPI/HTTP, OAB, EAS, OWA/ECP and RPC/HTTP.
//!
//! CONTRACT between the pipeline (`crate::pipeline`, `crate::lib`) and the surfaces:
//! - The pipeline decides *whether* a request may reach a surface (challenges, Bearer validation,
//!   Basic, x-ms-diagnostics, proxying to the back end). Once it has, it calls [`dispatch`] with a
//!   [`SurfaceCtx`] describing who was let in, on which server, reached under which URL.
//! - A surface returns the protocol response (status, content type, body, protocol headers such
//!   as `X-ResponseCode` or `MS-ASProtocolVersions`). The pipeline then adds the headers every
//!   Exchange response carries (`request-id`, `X-FEServer`, `X-BEServer`, `X-CalculatedBETarget`,
//!   `X-Powered-By`, `Server`, `Date`), so surfaces never set those.
//! - Surfaces read the organization only through `ctx.org` (the *effective* settings, i.e. after
//!   the settings cache) and keep mailbox contents in [`MailStore`].

use std::sync::Arc;

use axum::body::Bytes;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use lab_kit::Clock;

use crate::model::{Account, Mailbox, Organization, Server, VdirKind};

pub mod store;
pub use store::MailStore;

/// How the caller authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Authn {
    Bearer,
    Basic,
    Ntlm,
    Negotiate,
    Anonymous,
}

/// The authenticated user: the on-premises account and its mailbox.
#[derive(Debug, Clone)]
pub struct AuthedUser {
    pub account: Account,
    pub mailbox: Mailbox,
}

/// Everything a surface may know about a request.
#[derive(Clone)]
pub struct SurfaceCtx {
    /// Effective organization settings (what the serving path sees after the settings cache).
    pub org: Arc<Organization>,
    /// The server producing the answer (the mailbox's back end after proxying).
    pub server: Server,
    /// `https` or `http` — the scheme the client used (after offloading devices).
    pub scheme: String,
    /// The host the client used (no port), e.g. `mail.contoso.com`.
    pub host: String,
    /// `None` for anonymous requests the pipeline lets through (e.g. Autodiscover JSON v2).
    pub user: Option<AuthedUser>,
    pub authn: Authn,
    pub store: MailStore,
    pub clock: Clock,
}

/// Routes a request that passed the pipeline to the surface for `kind`.
pub async fn dispatch(ctx: SurfaceCtx, kind: VdirKind, parts: Parts, body: Bytes) -> Response {
    let _ = (&ctx, &parts, &body);
    (
        axum::http::StatusCode::NOT_FOUND,
        format!("{kind:?} surface not built yet"),
    )
        .into_response()
}
