//! MAPI over HTTP (`POST /mapi/emsmdb/?MailboxId=…` and `/mapi/nspi/?MailboxId=…`): the
//! request/response framing of MS-OXCMAPIHTTP with session context cookies, and the HTML
//! "MAPI OVER HTTP ERROR" page for every request the protocol rejects.
//!
//! The framing is real: required headers (`X-RequestType`, `X-RequestId`, `X-ClientInfo`), the
//! echoed headers, `X-ResponseCode`, `X-PendingPeriod`, `X-ExpirationInfo`,
//! `X-ServerApplication: Exchange/<build>`, and the body `PROCESSING` / `DONE` /
//! `X-ElapsedTime` / `X-StartTime` meta-tags followed by the little-endian binary response.
//! `Connect` (emsmdb) and `Bind` (nspi) open a session and set the `MapiContext` and
//! `MapiSequence` cookies; `Execute`, `Disconnect`, `NotificationWait`, `Unbind` and the other
//! NSPI calls need them (missing → 13, unknown → 6, stale sequence → 15, someone else's → 11,
//! expired → 10). The binary payloads are the minimal valid structures: no ROP is executed —
//! `Execute` answers `ErrorCode 0x80040102` (MAPI_E_NO_SUPPORT) with an empty ROP buffer.
//! Sessions live in the [`MailStore`](super::MailStore) under one short-held mutex.

use axum::http::request::Parts;
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::Response;
use uuid::Uuid;

use super::common::{header_str, long_build, lower_path, not_found, query_param, with_type};
use super::ctx::SurfaceCtx;
use super::store::{sequence_value, MapiSession};

/// How long a session context lives without traffic (ms), sent as `X-ExpirationInfo`.
pub const EXPIRATION_MS: i64 = 900_000;
/// Keep-alive interval announced as `X-PendingPeriod` (ms).
pub const PENDING_MS: i64 = 30_000;
/// MAPI_E_NO_SUPPORT: what a request the lab does not execute answers in `ErrorCode`.
pub const EC_NOT_SUPPORTED: u32 = 0x8004_0102;

const EMSMDB_TYPES: &[&str] = &[
    "Connect",
    "Execute",
    "Disconnect",
    "NotificationWait",
    "PING",
];
const NSPI_TYPES: &[&str] = &[
    "Bind",
    "Unbind",
    "CompareMIds",
    "DNToMId",
    "GetMatches",
    "GetPropList",
    "GetProps",
    "GetSpecialTable",
    "GetTemplateInfo",
    "ModLinkAtt",
    "ModProps",
    "QueryColumns",
    "QueryRows",
    "ResolveNames",
    "ResortRestriction",
    "SeekEntries",
    "UpdateStat",
    "GetMailboxUrl",
    "GetAddressBookUrl",
    "PING",
];

/// `X-ResponseCode` values (MS-OXCMAPIHTTP 2.2.3.3.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseCode {
    InvalidVerb = 2,
    InvalidPath = 3,
    InvalidRequestType = 5,
    InvalidContextCookie = 6,
    MissingHeader = 7,
    AnonymousNotAllowed = 8,
    ContextNotFound = 10,
    NoPrivilege = 11,
    InvalidRequestBody = 12,
    MissingCookie = 13,
    InvalidSequence = 15,
    EndpointDisabled = 16,
}

impl ResponseCode {
    fn text(self) -> &'static str {
        match self {
            ResponseCode::InvalidVerb => "The request has an invalid verb.",
            ResponseCode::InvalidPath => "The request has an invalid path.",
            ResponseCode::InvalidRequestType => "Invalid request type for this endpoint.",
            ResponseCode::InvalidContextCookie => {
                "The request has an invalid session context cookie."
            }
            ResponseCode::MissingHeader => "The request has a missing required header.",
            ResponseCode::AnonymousNotAllowed => "Anonymous requests are not allowed.",
            ResponseCode::ContextNotFound => "The Session Context is not found.",
            ResponseCode::NoPrivilege => "The client has no privileges to the Session Context.",
            ResponseCode::InvalidRequestBody => "The request body is invalid.",
            ResponseCode::MissingCookie => "The request is missing a required cookie.",
            ResponseCode::InvalidSequence => {
                "The request has violated the sequencing requirement of one request at a time per Session Context."
            }
            ResponseCode::EndpointDisabled => "The endpoint is disabled.",
        }
    }
}

fn server_app(ctx: &SurfaceCtx) -> String {
    format!("Exchange/{}", long_build(ctx.server.version))
}

/// The HTML error page (HTTP 200, `X-ResponseCode: N`).
pub fn error_page(ctx: &SurfaceCtx, code: ResponseCode) -> Response {
    let body = format!(
        "<!DOCTYPE HTML PUBLIC \"-//IETF//DTD HTML 2.0//EN\">\r\n<html><head>\r\n<title>MAPI OVER HTTP ERROR</title>\r\n</head><body>\r\n<h1>Diagnostic Information</h1>\r\n<p>{}</p>\r\n</body></html>\r\n",
        code.text()
    );
    let mut r = with_type(StatusCode::OK, "text/html", body);
    let h = r.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("private"));
    h.insert("x-responsecode", HeaderValue::from(code as u32));
    if let Ok(v) = HeaderValue::from_str(&server_app(ctx)) {
        h.insert("x-serverapplication", v);
    }
    r
}

fn cookie(parts: &Parts, name: &str) -> Option<String> {
    parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.trim().to_string())
}

/// Little-endian writer for the binary responses.
#[derive(Default)]
struct Bin(Vec<u8>);

impl Bin {
    fn u32(mut self, v: u32) -> Bin {
        self.0.extend_from_slice(&v.to_le_bytes());
        self
    }
    fn ascii_z(mut self, s: &str) -> Bin {
        self.0.extend(s.bytes().filter(u8::is_ascii));
        self.0.push(0);
        self
    }
    fn utf16_z(mut self, s: &str) -> Bin {
        for u in s.encode_utf16() {
            self.0.extend_from_slice(&u.to_le_bytes());
        }
        self.0.extend_from_slice(&[0, 0]);
        self
    }
    fn bytes(mut self, b: &[u8]) -> Bin {
        self.0.extend_from_slice(b);
        self
    }
}

struct Req<'a> {
    request_type: &'a str,
    request_id: &'a str,
    client_info: &'a str,
}

fn success(ctx: &SurfaceCtx, req: &Req<'_>, binary: Vec<u8>, cookies: &[String]) -> Response {
    let now = ctx.now();
    let mut body = format!(
        "PROCESSING\r\nDONE\r\nX-ElapsedTime: 0\r\nX-StartTime: {}\r\n\r\n",
        lab_kit::wire::http_date(now)
    )
    .into_bytes();
    body.extend_from_slice(&binary);
    let mut r = with_type(StatusCode::OK, "application/mapi-http", body);
    let h = r.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("private"));
    for (k, v) in [
        ("x-requesttype", req.request_type.to_string()),
        ("x-requestid", req.request_id.to_string()),
        ("x-clientinfo", req.client_info.to_string()),
        ("x-responsecode", "0".to_string()),
        ("x-pendingperiod", PENDING_MS.to_string()),
        ("x-expirationinfo", EXPIRATION_MS.to_string()),
        ("x-serverapplication", server_app(ctx)),
    ] {
        if let Ok(v) = HeaderValue::from_str(&v) {
            h.insert(k, v);
        }
    }
    for c in cookies {
        if let Ok(v) = HeaderValue::from_str(c) {
            h.append(header::SET_COOKIE, v);
        }
    }
    r
}

/// Entry point for the MAPI vdir.
pub fn handle(ctx: &SurfaceCtx, parts: &Parts, body: &[u8]) -> Response {
    let path = lower_path(parts);
    let endpoint = match &*path {
        "/mapi/emsmdb" => "emsmdb",
        "/mapi/nspi" => "nspi",
        _ => return not_found(),
    };
    if ctx.server.version == crate::model::ExchangeVersion::Ex2010 {
        // Exchange 2010 has no MAPI over HTTP endpoint at all.
        return not_found();
    }
    if parts.method != Method::POST {
        return error_page(ctx, ResponseCode::InvalidVerb);
    }
    if !ctx.org.org_config.mapi_http_enabled {
        return error_page(ctx, ResponseCode::EndpointDisabled);
    }
    let (Some(request_type), Some(request_id), Some(client_info)) = (
        header_str(parts, "x-requesttype"),
        header_str(parts, "x-requestid"),
        header_str(parts, "x-clientinfo"),
    ) else {
        return error_page(ctx, ResponseCode::MissingHeader);
    };
    let req = Req {
        request_type,
        request_id,
        client_info,
    };
    let allowed = if endpoint == "emsmdb" {
        EMSMDB_TYPES
    } else {
        NSPI_TYPES
    };
    let Some(kind) = allowed
        .iter()
        .find(|t| t.eq_ignore_ascii_case(request_type))
        .copied()
    else {
        return error_page(ctx, ResponseCode::InvalidRequestType);
    };
    let Some(user) = ctx.user.as_ref() else {
        return error_page(ctx, ResponseCode::AnonymousNotAllowed);
    };
    // MailboxId=<mailbox guid>@<domain> names the mailbox the session is for.
    let target = query_param(parts, "MailboxId")
        .and_then(|m| m.split('@').next().and_then(|g| Uuid::parse_str(g).ok()))
        .and_then(|g| ctx.org.mailbox_by_guid(g).cloned());
    let Some(target) = target else {
        return error_page(ctx, ResponseCode::InvalidPath);
    };
    if target.guid != user.mailbox().guid {
        return error_page(ctx, ResponseCode::NoPrivilege);
    }
    if kind == "PING" {
        return success(ctx, &req, Vec::new(), &[]);
    }
    let path_attr = format!("path=/mapi/{endpoint}/");
    let now = ctx.clock.unix();
    if kind == "Connect" || kind == "Bind" {
        if !valid_open_body(kind, body) {
            return error_page(ctx, ResponseCode::InvalidRequestBody);
        }
        let session = MapiSession {
            endpoint,
            mailbox: target.guid,
            owner_sid: user.account().sid.clone(),
            sequence: String::new(),
            counter: 0,
            expires_unix: now + EXPIRATION_MS / 1000,
        };
        let Some(context) = ctx.store.mapi_open(session, now) else {
            return error_page(ctx, ResponseCode::ContextNotFound);
        };
        let cookies = [
            format!("MapiContext={context}; {path_attr}; secure; HttpOnly"),
            format!(
                "MapiSequence={}; {path_attr}; secure; HttpOnly",
                sequence_value(&context, 0)
            ),
        ];
        let bin = if kind == "Connect" {
            let org = &ctx.org;
            let dn_prefix = format!(
                "/o={}/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Configuration/cn=Servers/cn={}@{}/cn=Microsoft Private MDB",
                org.name, target.guid, org.domain
            );
            Bin::default()
                .u32(0)
                .u32(0)
                .u32(60_000) // PollsMax
                .u32(6) // RetryCount
                .u32(10_000) // RetryDelay
                .ascii_z(&dn_prefix)
                .utf16_z(&target.display_name)
                .u32(0)
        } else {
            let server_guid = super::common::name_guid(&format!("nspi:{}", ctx.server.fqdn));
            Bin::default()
                .u32(0)
                .u32(0)
                .bytes(&server_guid.to_bytes_le())
                .u32(0)
        };
        return success(ctx, &req, bin.0, &cookies);
    }
    // Everything else runs inside a session context.
    let Some(context) = cookie(parts, "MapiContext") else {
        return error_page(ctx, ResponseCode::MissingCookie);
    };
    let Some(sequence) = cookie(parts, "MapiSequence") else {
        return error_page(ctx, ResponseCode::MissingCookie);
    };
    let checked = ctx.store.mapi_with(&context, |s| {
        let Some(s) = s else {
            return Err(ResponseCode::InvalidContextCookie);
        };
        if s.endpoint != endpoint {
            return Err(ResponseCode::InvalidContextCookie);
        }
        if s.owner_sid != user.account().sid {
            return Err(ResponseCode::NoPrivilege);
        }
        if s.expires_unix <= now {
            return Err(ResponseCode::ContextNotFound);
        }
        if s.sequence != sequence {
            return Err(ResponseCode::InvalidSequence);
        }
        s.counter += 1;
        s.sequence = sequence_value(&context, s.counter);
        s.expires_unix = now + EXPIRATION_MS / 1000;
        Ok(s.sequence.clone())
    });
    let next_sequence = match checked {
        Ok(s) => s,
        Err(code) => return error_page(ctx, code),
    };
    match kind {
        "Disconnect" | "Unbind" => {
            ctx.store.mapi_close(&context);
            let expired = "expires=Thu, 01-Jan-1970 00:00:00 GMT";
            let cookies = [
                format!("MapiContext=; {expired}; {path_attr}"),
                format!("MapiSequence=; {expired}; {path_attr}"),
            ];
            success(ctx, &req, Bin::default().u32(0).u32(0).u32(0).0, &cookies)
        }
        _ => {
            let cookies = [format!(
                "MapiSequence={next_sequence}; {path_attr}; secure; HttpOnly"
            )];
            let bin = match kind {
                // StatusCode, ErrorCode, Flags, RopBufferSize, AuxiliaryBufferSize.
                "Execute" => Bin::default()
                    .u32(0)
                    .u32(EC_NOT_SUPPORTED)
                    .u32(0)
                    .u32(0)
                    .u32(0),
                // StatusCode, ErrorCode, EventPending, AuxiliaryBufferSize.
                "NotificationWait" => Bin::default().u32(0).u32(0).u32(0).u32(0),
                // StatusCode, ErrorCode, ServerUrl (UTF-16, NUL-terminated), aux size.
                "GetMailboxUrl" | "GetAddressBookUrl" => {
                    let ep = if kind == "GetMailboxUrl" {
                        "emsmdb"
                    } else {
                        "nspi"
                    };
                    let url = format!(
                        "{}://{}/mapi/{ep}/?MailboxId={}@{}",
                        ctx.scheme, ctx.host, target.guid, ctx.org.domain
                    );
                    Bin::default().u32(0).u32(0).utf16_z(&url).u32(0)
                }
                _ => Bin::default().u32(0).u32(EC_NOT_SUPPORTED).u32(0),
            };
            success(ctx, &req, bin.0, &cookies)
        }
    }
}

/// Connect: `UserDn` (ASCII, NUL-terminated), Flags, DefaultCodePage, LcidSort, LcidString,
/// AuxiliaryBufferSize + buffer. Bind: Flags, HasState (+ 36-byte STAT), AuxiliaryBufferSize.
fn valid_open_body(kind: &str, body: &[u8]) -> bool {
    let aux_ok = |rest: &[u8]| {
        rest.len() >= 4
            && u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize == rest.len() - 4
    };
    if kind == "Connect" {
        let Some(nul) = body.iter().position(|b| *b == 0) else {
            return false;
        };
        let rest = &body[nul + 1..];
        rest.len() >= 16 && aux_ok(&rest[16..])
    } else {
        if body.len() < 5 {
            return false;
        }
        let rest = if body[4] != 0 {
            body.get(5 + 36..)
        } else {
            body.get(5..)
        };
        rest.is_some_and(aux_ok)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::VdirKind;
    use crate::surfaces::testing::*;

    fn uri(guid: &str, ep: &str) -> String {
        format!("/mapi/{ep}/?MailboxId={guid}@contoso.com")
    }

    fn connect_body() -> Vec<u8> {
        let mut b = b"/o=Contoso/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Recipients/cn=x-GregT\0".to_vec();
        for v in [0u32, 1252, 1033, 1033, 0] {
            b.extend_from_slice(&v.to_le_bytes());
        }
        b
    }

    async fn mapi(
        ctx: &SurfaceCtx,
        ep: &str,
        rt: &str,
        cookies: Option<&str>,
        body: Vec<u8>,
    ) -> Answer {
        let u = uri(GREG_GUID, ep);
        let mut h = vec![
            ("content-type", "application/mapi-http"),
            ("x-requesttype", rt),
            ("x-requestid", "{E2EA6C1C-E61B-49E9-9CFB-38184F907552}:1"),
            ("x-clientinfo", "{2F94A2BF-A2E6-4CCC-BF98-B5F22C542226}"),
            ("x-clientapplication", "Outlook/16.0.4266.1001"),
        ];
        if let Some(c) = cookies {
            h.push(("cookie", c));
        }
        call(ctx, VdirKind::Mapi, Method::POST, &u, &h, body).await
    }

    fn set_cookies(a: &Answer) -> String {
        a.headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .map(|v| v.split(';').next().unwrap_or_default().to_string())
            .collect::<Vec<_>>()
            .join("; ")
    }

    #[tokio::test]
    async fn connect_execute_disconnect() {
        let ctx = greg();
        let a = mapi(&ctx, "emsmdb", "Connect", None, connect_body()).await;
        assert_eq!(a.status, StatusCode::OK);
        assert_eq!(a.header("content-type"), Some("application/mapi-http"));
        assert_eq!(a.header("x-responsecode"), Some("0"));
        assert_eq!(a.header("x-requesttype"), Some("Connect"));
        assert_eq!(
            a.header("x-requestid"),
            Some("{E2EA6C1C-E61B-49E9-9CFB-38184F907552}:1")
        );
        assert_eq!(
            a.header("x-clientinfo"),
            Some("{2F94A2BF-A2E6-4CCC-BF98-B5F22C542226}")
        );
        assert_eq!(
            a.header("x-serverapplication"),
            Some("Exchange/15.01.1415.002")
        );
        assert_eq!(a.header("x-pendingperiod"), Some("30000"));
        assert_eq!(a.header("x-expirationinfo"), Some("900000"));
        let head = "PROCESSING\r\nDONE\r\nX-ElapsedTime: 0\r\nX-StartTime: Thu, 01 Mar 2018 10:00:00 GMT\r\n\r\n";
        assert!(a.body.starts_with(head.as_bytes()));
        let bin = &a.body[head.len()..];
        assert_eq!(&bin[..8], &[0u8; 8], "StatusCode 0, ErrorCode 0");
        golden("mapi_connect.bin", &a.body);
        golden("mapi_connect.head", a.head().as_bytes());
        let cookies = set_cookies(&a);
        assert!(cookies.starts_with("MapiContext="), "{cookies}");
        assert!(cookies.contains("; MapiSequence=0-"), "{cookies}");

        let a = mapi(&ctx, "emsmdb", "Execute", Some(&cookies), vec![0; 12]).await;
        assert_eq!(a.header("x-responsecode"), Some("0"));
        let bin = &a.body[head.len()..];
        assert_eq!(&bin[4..8], &EC_NOT_SUPPORTED.to_le_bytes());
        let next = set_cookies(&a);
        assert!(next.starts_with("MapiSequence=1-"));

        // Replaying the old sequence is a sequencing violation.
        let a = mapi(&ctx, "emsmdb", "Execute", Some(&cookies), vec![]).await;
        assert_eq!(a.header("x-responsecode"), Some("15"));

        let context = cookies.split("; ").next().unwrap();
        let fresh = format!("{context}; {next}");
        let a = mapi(&ctx, "emsmdb", "Disconnect", Some(&fresh), vec![0; 4]).await;
        assert_eq!(a.header("x-responsecode"), Some("0"));
        // The context is gone.
        let a = mapi(&ctx, "emsmdb", "Execute", Some(&fresh), vec![]).await;
        assert_eq!(a.header("x-responsecode"), Some("6"));
    }

    #[tokio::test]
    async fn error_pages() {
        let ctx = greg();
        // Missing X-ClientInfo.
        let a = call(
            &ctx,
            VdirKind::Mapi,
            Method::POST,
            &uri(GREG_GUID, "emsmdb"),
            &[("x-requesttype", "Connect"), ("x-requestid", "{A}:1")],
            connect_body(),
        )
        .await;
        assert_eq!(a.status, StatusCode::OK);
        assert_eq!(a.header("x-responsecode"), Some("7"));
        assert_eq!(a.header("content-type"), Some("text/html"));
        golden("mapi_error_missing_header.html", &a.body);
        golden("mapi_error_missing_header.head", a.head().as_bytes());

        let a = call(
            &ctx,
            VdirKind::Mapi,
            Method::GET,
            &uri(GREG_GUID, "emsmdb"),
            &[],
            "",
        )
        .await;
        assert_eq!(a.header("x-responsecode"), Some("2"));

        let a = mapi(&ctx, "emsmdb", "Execute", None, vec![]).await;
        assert_eq!(a.header("x-responsecode"), Some("13"));
        let a = mapi(
            &ctx,
            "emsmdb",
            "Execute",
            Some("MapiContext=bogus; MapiSequence=0-0"),
            vec![],
        )
        .await;
        assert_eq!(a.header("x-responsecode"), Some("6"));
        let a = mapi(&ctx, "emsmdb", "Bind", None, vec![]).await;
        assert_eq!(a.header("x-responsecode"), Some("5"));
        let a = mapi(&ctx, "emsmdb", "Connect", None, b"no terminator".to_vec()).await;
        assert_eq!(a.header("x-responsecode"), Some("12"));

        // Another user's mailbox, and one that does not exist.
        let a = call(
            &ctx,
            VdirKind::Mapi,
            Method::POST,
            &uri(ALEX_GUID, "emsmdb"),
            &[
                ("x-requesttype", "Connect"),
                ("x-requestid", "{A}:1"),
                ("x-clientinfo", "{B}"),
            ],
            connect_body(),
        )
        .await;
        assert_eq!(a.header("x-responsecode"), Some("11"));
        let a = call(
            &ctx,
            VdirKind::Mapi,
            Method::POST,
            "/mapi/emsmdb/?MailboxId=00000000-0000-0000-0000-000000000001@contoso.com",
            &[
                ("x-requesttype", "PING"),
                ("x-requestid", "{A}:1"),
                ("x-clientinfo", "{B}"),
            ],
            "",
        )
        .await;
        assert_eq!(a.header("x-responsecode"), Some("3"));

        let mut org = org();
        org.org_config.mapi_http_enabled = false;
        let ctx = ctx_for(org, Some(0));
        let a = mapi(&ctx, "emsmdb", "Connect", None, connect_body()).await;
        assert_eq!(a.header("x-responsecode"), Some("16"));
    }

    #[tokio::test]
    async fn ping_and_nspi_bind() {
        let ctx = greg();
        let a = mapi(&ctx, "emsmdb", "PING", None, vec![]).await;
        assert_eq!(a.header("x-responsecode"), Some("0"));
        assert!(a.text().ends_with("GMT\r\n\r\n"));

        let mut bind = 0u32.to_le_bytes().to_vec();
        bind.push(0);
        bind.extend_from_slice(&0u32.to_le_bytes());
        let a = mapi(&ctx, "nspi", "Bind", None, bind).await;
        assert_eq!(a.header("x-responsecode"), Some("0"));
        let cookies = set_cookies(&a);
        let a = mapi(&ctx, "nspi", "GetProps", Some(&cookies), vec![]).await;
        assert_eq!(a.header("x-responsecode"), Some("0"));
        let context = cookies.split("; ").next().unwrap().to_string();
        let seq = set_cookies(&a);
        let a = mapi(
            &ctx,
            "nspi",
            "GetMailboxUrl",
            Some(&format!("{context}; {seq}")),
            vec![],
        )
        .await;
        assert_eq!(a.header("x-responsecode"), Some("0"));
        let bin = &a.body[a.body.len() - (8 + 2 * 96 + 2 + 4)..];
        let url: Vec<u16> = bin[8..8 + 2 * 96]
            .chunks(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect();
        assert_eq!(
            String::from_utf16(&url).unwrap(),
            format!("https://mail.contoso.com/mapi/emsmdb/?MailboxId={GREG_GUID}@contoso.com")
        );
        // An nspi context is not an emsmdb context.
        let a = mapi(&ctx, "emsmdb", "Execute", Some(&cookies), vec![]).await;
        assert_eq!(a.header("x-responsecode"), Some("6"));
    }

    #[tokio::test]
    async fn exchange_2010_has_no_mapi_http() {
        let ctx = ctx_for(org_with(crate::model::ExchangeVersion::Ex2010), Some(0));
        let a = mapi(&ctx, "emsmdb", "Connect", None, connect_body()).await;
        assert_eq!(a.status, StatusCode::NOT_FOUND);
    }

    #[tokio::test]
    async fn sessions_expire_with_the_lab_clock() {
        let ctx = greg();
        let a = mapi(&ctx, "emsmdb", "Connect", None, connect_body()).await;
        let cookies = set_cookies(&a);
        ctx.clock.advance_secs(EXPIRATION_MS / 1000 + 1);
        let a = mapi(&ctx, "emsmdb", "Execute", Some(&cookies), vec![]).await;
        assert_eq!(a.header("x-responsecode"), Some("10"));
    }
}
