//! Autodiscover: POX (`/autodiscover/autodiscover.xml`, what Outlook uses), SOAP
//! (`/autodiscover/autodiscover.svc` GetUserSettings, what exchangelib and ews-javascript-api
//! use) and JSON v2 (`/autodiscover/autodiscover.json`, what mobile clients use anonymously).
//!
//! All three read the effective organization from the context: URLs come from the virtual
//! directories of the server hosting the requested mailbox (Internal for EXCH, External for
//! EXPR), so changing a vdir URL changes what clients are told once the settings cache lets the
//! change through. Every answer carries the endpoint headers the Exchange front end adds to
//! Autodiscover responses (`X-SOAP-Enabled`, `X-WSSecurity-Enabled`, `X-WSSecurity-For`,
//! `X-OAuth-Enabled`) — ews-javascript-api refuses the SOAP endpoint without `X-SOAP-Enabled`.
//! Error answers use each protocol's own shape: POX `<Error>` with ErrorCode 500/600 (HTTP 200),
//! SOAP `UserResponse` error codes, and compact JSON `ErrorCode`/`ErrorMessage` (HTTP 200).
//!
//! One module per protocol (`pox`, `soap`, `json`), each writing the same mailbox `facts`; this
//! file routes a request to its protocol and adds the endpoint headers.

use axum::http::request::Parts;
use axum::response::Response;

use super::common::{lower_path, not_found, set_header};
use super::ctx::SurfaceCtx;
use crate::model::{VdirKind, VirtualDirectory};

mod facts;
mod json;
mod pox;
mod soap;

pub use facts::{default_oab_guid, server_version_hex};

/// The headers the front end adds to every Autodiscover response (also to its 401s — the
/// pipeline may call this to add them there, which is what EWS Managed API clients probe).
pub fn endpoint_headers(vdir: Option<&VirtualDirectory>) -> Vec<(&'static str, &'static str)> {
    let ws = vdir.map(|v| v.wssecurity_authentication).unwrap_or(false);
    let oauth = vdir.map(|v| v.oauth_authentication).unwrap_or(false);
    vec![
        ("X-SOAP-Enabled", "True"),
        ("X-WSSecurity-Enabled", if ws { "True" } else { "False" }),
        ("X-WSSecurity-For", "None"),
        ("X-OAuth-Enabled", if oauth { "True" } else { "False" }),
    ]
}

/// Entry point for the Autodiscover vdir.
pub fn handle(ctx: &SurfaceCtx, parts: &Parts, body: &[u8]) -> Response {
    let path = lower_path(parts);
    let mut r = if path == "/autodiscover/autodiscover.xml" {
        pox::pox(ctx, parts, body)
    } else if path == "/autodiscover/autodiscover.svc"
        || path.starts_with("/autodiscover/autodiscover.svc/")
    {
        soap::soap(ctx, parts, body)
    } else if path == "/autodiscover/autodiscover.json"
        || path.starts_with("/autodiscover/autodiscover.json/")
    {
        json::json(ctx, parts)
    } else {
        return not_found();
    };
    for (k, v) in endpoint_headers(ctx.server.vdir(VdirKind::Autodiscover)) {
        set_header(&mut r, k, v);
    }
    r
}

#[cfg(test)]
mod tests;
