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
//!
//! Each surface lives in its own module and is a plain function of (context, request parts,
//! body) to a response, so router-free unit tests can drive it; [`dispatch`] only picks the
//! module by vdir kind and enforces the body-size limit before any parsing happens. The context
//! (`ctx`) and the helpers every surface shares (`common`) are modules of their own, so a surface
//! depends on them and never on this dispatcher.

use axum::body::Bytes;
use axum::http::request::Parts;
use axum::response::Response;

use crate::model::VdirKind;

pub mod autodiscover;
mod common;
mod ctx;
pub mod eas;
pub mod ews;
pub mod mapi;
pub mod oab;
pub mod owa;
pub mod rpc;
pub mod store;
pub mod xml;
pub use common::{ews_schemas, long_build, name_guid};
pub use ctx::{AuthedUser, Authn, ServerRef, SurfaceCtx};
pub use store::MailStore;

#[cfg(test)]
pub(crate) mod testing;

/// Largest request body a surface parses (bytes). Larger bodies get `413` before parsing.
pub const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

/// Bodies larger than this are parsed and answered on tokio's blocking pool, so that a client
/// sending megabytes of XML never holds up the async workers every other client shares.
pub const OFF_THE_WORKERS_BYTES: usize = 64 * 1024;

/// Routes a request that passed the pipeline to the surface for `kind`.
pub async fn dispatch(ctx: SurfaceCtx, kind: VdirKind, parts: Parts, body: Bytes) -> Response {
    if body.len() > MAX_BODY_BYTES {
        return common::too_large();
    }
    if body.len() > OFF_THE_WORKERS_BYTES {
        return tokio::task::spawn_blocking(move || route(&ctx, kind, &parts, &body))
            .await
            .unwrap_or_else(|e| {
                tracing::error!(error = %e, "surface task failed");
                axum::response::IntoResponse::into_response(
                    axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                )
            });
    }
    route(&ctx, kind, &parts, &body)
}

fn route(ctx: &SurfaceCtx, kind: VdirKind, parts: &Parts, body: &Bytes) -> Response {
    match kind {
        VdirKind::Autodiscover => autodiscover::handle(ctx, parts, body),
        VdirKind::Ews => ews::handle(ctx, parts, body),
        VdirKind::Mapi => mapi::handle(ctx, parts, body),
        VdirKind::Oab => oab::handle(ctx, parts, body),
        VdirKind::Eas => eas::handle(ctx, parts, body),
        VdirKind::Owa | VdirKind::Ecp => owa::handle(ctx, kind, parts, body),
        VdirKind::Rpc => rpc::handle(ctx, parts, body),
    }
}

#[cfg(test)]
mod tests {
    use axum::http::StatusCode;

    use super::*;

    /// Every surface, fed junk on its own paths and on odd ones, answers without panicking.
    #[tokio::test]
    async fn junk_never_panics_any_surface() {
        use axum::http::Method;
        let ctx = testing::greg();
        let anon = testing::ctx_for(testing::org(), None);
        let paths: &[(VdirKind, &str)] = &[
            (VdirKind::Autodiscover, "/autodiscover/autodiscover.xml"),
            (VdirKind::Autodiscover, "/autodiscover/autodiscover.svc"),
            (
                VdirKind::Autodiscover,
                "/autodiscover/autodiscover.json/v1.0/%FF%00?Protocol=%00",
            ),
            (VdirKind::Ews, "/EWS/Exchange.asmx"),
            (VdirKind::Mapi, "/mapi/emsmdb/?MailboxId=%zz"),
            (
                VdirKind::Mapi,
                "/mapi/nspi/?MailboxId=e1ce3d66-8b4b-4b4a-9b5c-7b0f6a1c2d3e@contoso.com",
            ),
            (VdirKind::Oab, "/OAB/../../etc/passwd"),
            (VdirKind::Eas, "/Microsoft-Server-ActiveSync?Cmd"),
            (VdirKind::Owa, "/owa/auth.owa"),
            (
                VdirKind::Owa,
                "/owa/auth/logon.aspx?url=%FF&reason=999999999999",
            ),
            (VdirKind::Ecp, "/ecp/x"),
            (VdirKind::Rpc, "/rpc/rpcproxy.dll?x"),
        ];
        let bodies: Vec<Vec<u8>> = vec![
            vec![],
            vec![0xff; 64],
            b"<".to_vec(),
            b"<?xml version=\"1.0\"?><a xmlns=\"x\"><b>&#xD800;</b></a>".to_vec(),
            b"\0\0\0\0\x01".to_vec(),
            "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body><m:GetFolder xmlns:m=\"http://schemas.microsoft.com/exchange/services/2006/messages\"/></s:Body></s:Envelope>".as_bytes().to_vec(),
        ];
        let hdrs = [
            ("x-requesttype", "Execute"),
            ("x-requestid", "{x}:1"),
            ("x-clientinfo", "{y}"),
            ("cookie", "MapiContext=;;=;MapiSequence"),
            ("x-mapihttpcapability", "1"),
            ("content-length", "99999999999999999999"),
        ];
        for c in [&ctx, &anon] {
            for (kind, path) in paths {
                for body in &bodies {
                    for m in [Method::GET, Method::POST, Method::OPTIONS] {
                        let a = testing::call(c, *kind, m, path, &hdrs, body.clone()).await;
                        // A 500 is only ever a well-formed SOAP fault, never a crash page.
                        if a.status == StatusCode::INTERNAL_SERVER_ERROR {
                            let root = xml::parse(&a.body).expect("fault is XML");
                            assert!(root.is(xml::NS_SOAP, "Envelope"), "{path}");
                            assert!(a.text().contains("<s:Fault>"), "{path}");
                        }
                    }
                }
            }
        }
    }

    #[tokio::test]
    async fn oversized_bodies_get_413_before_parsing() {
        let ctx = testing::greg();
        let body = vec![b'<'; MAX_BODY_BYTES + 1];
        let a = testing::call(
            &ctx,
            VdirKind::Ews,
            axum::http::Method::POST,
            "/EWS/Exchange.asmx",
            &[],
            body,
        )
        .await;
        assert_eq!(a.status, StatusCode::PAYLOAD_TOO_LARGE);
        assert!(a.body.is_empty());
    }
}
