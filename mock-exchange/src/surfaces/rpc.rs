//! RPC over HTTP (Outlook Anywhere, `/rpc/rpcproxy.dll?<server>:<port>`): the verbs
//! `RPC_IN_DATA` / `RPC_OUT_DATA` as the RPC proxy answers them to an authenticated client.
//!
//! The lab implements the echo exchange of MS-RPCH 3.2.3.5.x: a request whose content length is
//! at most 0x10 bytes is an echo request and gets `200` with `Content-Type: application/rpc` and
//! the 20-byte RTS echo PDU. Opening real IN/OUT channels (large content lengths, streaming
//! RPC PDUs to the mailbox's RPC Client Access endpoint) is not implemented: those requests get
//! `503 Service Unavailable`. Other verbs get `405`; other paths IIS's 404.

use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;

use super::common::{lower_path, not_found, with_type};
use super::ctx::SurfaceCtx;

/// The RTS echo PDU: version 5.0, PTYPE rts (0x14), PFC_FIRST|PFC_LAST, NDR little-endian,
/// frag_length 20, no auth, call_id 0, Flags RTS_FLAG_ECHO (0x40), no commands.
pub const ECHO_PDU: [u8; 20] = [
    0x05, 0x00, 0x14, 0x03, 0x10, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x40, 0x00, 0x00, 0x00,
];

/// Entry point for the RPC vdir.
pub fn handle(_ctx: &SurfaceCtx, parts: &Parts, body: &[u8]) -> Response {
    if lower_path(parts) != "/rpc/rpcproxy.dll" {
        return not_found();
    }
    let verb = parts.method.as_str();
    if verb != "RPC_IN_DATA" && verb != "RPC_OUT_DATA" {
        return super::common::method_not_allowed("RPC_IN_DATA, RPC_OUT_DATA");
    }
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .unwrap_or(body.len() as u64);
    if declared <= 0x10 && body.len() <= 0x10 {
        let mut r = with_type(StatusCode::OK, "application/rpc", ECHO_PDU.to_vec());
        r.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("private"));
        return r;
    }
    let mut r = with_type(StatusCode::SERVICE_UNAVAILABLE, "text/html", "");
    r.headers_mut().remove(header::CONTENT_TYPE);
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::VdirKind;
    use crate::surfaces::testing::*;
    use axum::http::Method;

    fn verb(v: &str) -> Method {
        Method::from_bytes(v.as_bytes()).unwrap()
    }

    #[tokio::test]
    async fn echo_requests_get_the_echo_pdu() {
        let ctx = greg();
        for v in ["RPC_IN_DATA", "RPC_OUT_DATA"] {
            let a = call(
                &ctx,
                VdirKind::Rpc,
                verb(v),
                "/rpc/rpcproxy.dll?ex1.contoso.com:6001",
                &[("content-length", "0")],
                "",
            )
            .await;
            assert_eq!(a.status, StatusCode::OK);
            assert_eq!(a.header("content-type"), Some("application/rpc"));
            assert_eq!(&a.body[..], &ECHO_PDU);
        }
    }

    #[tokio::test]
    async fn channels_and_other_verbs() {
        let ctx = greg();
        let a = call(
            &ctx,
            VdirKind::Rpc,
            verb("RPC_IN_DATA"),
            "/rpc/rpcproxy.dll?ex1.contoso.com:6001",
            &[("content-length", "1073741824")],
            vec![0u8; 64],
        )
        .await;
        assert_eq!(a.status, StatusCode::SERVICE_UNAVAILABLE);
        let a = call(
            &ctx,
            VdirKind::Rpc,
            Method::GET,
            "/rpc/rpcproxy.dll",
            &[],
            "",
        )
        .await;
        assert_eq!(a.status, StatusCode::METHOD_NOT_ALLOWED);
        let a = call(
            &ctx,
            VdirKind::Rpc,
            verb("RPC_IN_DATA"),
            "/rpc/other.dll",
            &[],
            "",
        )
        .await;
        assert_eq!(a.status, StatusCode::NOT_FOUND);
    }
}
