//! Exchange ActiveSync (`/Microsoft-Server-ActiveSync`): the `OPTIONS` discovery answer and
//! the command endpoint's outer HTTP behaviour.
//!
//! `OPTIONS` returns what a device reads to pick a protocol version: `MS-Server-ActiveSync`,
//! `MS-ASProtocolVersions`, `MS-ASProtocolCommands`, `Allow`/`Public`. The values for
//! Exchange 2013/2016 follow the published protocol history (16.0/16.1 arrived with 2016) and
//! are not verified against a capture. Commands (`POST ?Cmd=…`) are WBXML, which the lab does not
//! implement: a well-formed command request gets `501 Not Implemented`, a request missing the
//! mandatory `Cmd`, `User`, `DeviceId` or `DeviceType` parameters gets `400`, and a browser-style
//! `GET` gets `501` as on a real server.

use axum::http::request::Parts;
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::Response;

use super::common::{lower_path, not_found, query_param, set_header, with_type};
use super::ctx::SurfaceCtx;
use crate::model::ExchangeVersion;

const COMMANDS: &str = "Sync,SendMail,SmartForward,SmartReply,GetAttachment,GetHierarchy,CreateCollection,DeleteCollection,MoveCollection,FolderSync,FolderCreate,FolderDelete,FolderUpdate,MoveItems,GetItemEstimate,MeetingResponse,Search,Settings,Ping,ItemOperations,Provision,ResolveRecipients,ValidateCert";

/// `(MS-Server-ActiveSync, MS-ASProtocolVersions, MS-ASProtocolCommands)` per version.
pub fn options_values(v: ExchangeVersion) -> (&'static str, &'static str, String) {
    match v {
        ExchangeVersion::Ex2016 => (
            "15.1",
            "2.0,2.1,2.5,12.0,12.1,14.0,14.1,16.0,16.1",
            format!("{COMMANDS},Find"),
        ),
        ExchangeVersion::Ex2013 => (
            "15.0",
            "2.0,2.1,2.5,12.0,12.1,14.0,14.1",
            COMMANDS.to_string(),
        ),
        ExchangeVersion::Ex2010 => (
            "14.3",
            "2.0,2.1,2.5,12.0,12.1,14.0,14.1",
            COMMANDS.to_string(),
        ),
    }
}

fn empty(status: StatusCode) -> Response {
    let mut r = with_type(status, "text/html", "");
    r.headers_mut().remove(header::CONTENT_TYPE);
    r
}

/// Entry point for the EAS vdir.
pub fn handle(ctx: &SurfaceCtx, parts: &Parts, _body: &[u8]) -> Response {
    if lower_path(parts) != "/microsoft-server-activesync" {
        return not_found();
    }
    match parts.method {
        Method::OPTIONS => {
            let (server, versions, commands) = options_values(ctx.server.version);
            let mut r = empty(StatusCode::OK);
            r.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("private"));
            set_header(&mut r, "allow", "OPTIONS,POST");
            set_header(&mut r, "ms-server-activesync", server);
            set_header(&mut r, "ms-asprotocolversions", versions);
            set_header(&mut r, "ms-asprotocolcommands", &commands);
            set_header(&mut r, "public", "OPTIONS,POST");
            r
        }
        Method::POST => {
            let complete = ["Cmd", "User", "DeviceId", "DeviceType"]
                .iter()
                .all(|p| query_param(parts, p).is_some_and(|v| !v.is_empty()));
            // Base64-encoded query strings (MS-ASHTTP 2.2.1.1.1.1) carry them in binary form.
            let base64_form = parts
                .uri
                .query()
                .is_some_and(|q| !q.contains('=') && !q.is_empty());
            if complete || base64_form {
                empty(StatusCode::NOT_IMPLEMENTED)
            } else {
                empty(StatusCode::BAD_REQUEST)
            }
        }
        Method::GET => empty(StatusCode::NOT_IMPLEMENTED),
        _ => super::common::method_not_allowed("OPTIONS,POST"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::VdirKind;
    use crate::surfaces::testing::*;

    #[tokio::test]
    async fn options_advertises_versions_and_commands() {
        let ctx = greg();
        let a = call(
            &ctx,
            VdirKind::Eas,
            Method::OPTIONS,
            "/Microsoft-Server-ActiveSync",
            &[],
            "",
        )
        .await;
        assert_eq!(a.status, StatusCode::OK);
        assert_eq!(a.header("ms-server-activesync"), Some("15.1"));
        assert_eq!(
            a.header("ms-asprotocolversions"),
            Some("2.0,2.1,2.5,12.0,12.1,14.0,14.1,16.0,16.1")
        );
        assert!(a
            .header("ms-asprotocolcommands")
            .unwrap()
            .starts_with("Sync,SendMail,"));
        assert_eq!(a.header("allow"), Some("OPTIONS,POST"));
        assert_eq!(a.header("public"), Some("OPTIONS,POST"));
        assert!(a.body.is_empty());
        golden("eas_options.head", a.head().as_bytes());

        let ctx = ctx_for(org_with(ExchangeVersion::Ex2013), Some(0));
        let a = call(
            &ctx,
            VdirKind::Eas,
            Method::OPTIONS,
            "/Microsoft-Server-ActiveSync",
            &[],
            "",
        )
        .await;
        assert_eq!(a.header("ms-server-activesync"), Some("15.0"));
        assert_eq!(
            a.header("ms-asprotocolversions"),
            Some("2.0,2.1,2.5,12.0,12.1,14.0,14.1")
        );
    }

    #[tokio::test]
    async fn commands_are_not_implemented_and_bad_requests_are_400() {
        let ctx = greg();
        let ok = "/Microsoft-Server-ActiveSync?Cmd=FolderSync&User=GregT%40contoso.com&DeviceId=ABC123&DeviceType=iPhone";
        let a = call(
            &ctx,
            VdirKind::Eas,
            Method::POST,
            ok,
            &[("content-type", "application/vnd.ms-sync.wbxml")],
            vec![3u8, 1, 106, 0],
        )
        .await;
        assert_eq!(a.status, StatusCode::NOT_IMPLEMENTED);
        let a = call(
            &ctx,
            VdirKind::Eas,
            Method::POST,
            "/Microsoft-Server-ActiveSync?Cmd=Sync",
            &[],
            "",
        )
        .await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST);
        let a = call(
            &ctx,
            VdirKind::Eas,
            Method::GET,
            "/Microsoft-Server-ActiveSync",
            &[],
            "",
        )
        .await;
        assert_eq!(a.status, StatusCode::NOT_IMPLEMENTED);
        let a = call(
            &ctx,
            VdirKind::Eas,
            Method::PUT,
            "/Microsoft-Server-ActiveSync",
            &[],
            "",
        )
        .await;
        assert_eq!(a.status, StatusCode::METHOD_NOT_ALLOWED);
    }
}
