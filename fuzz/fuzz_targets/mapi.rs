//! MAPI over HTTP: request framing (required headers, request types, session cookies) and the
//! `Connect`/`Bind` bodies. The first byte picks the endpoint, the request type and the mode:
//! either a typed request with the rest as body followed, when it opened a session, by a second
//! request inside that session; or free headers (`name: value` lines up to a NUL, cookies
//! included) then the body.
#![no_main]

use axum::http::header::SET_COOKIE;
use axum::http::Method;
use libfuzzer_sys::fuzz_target;
use mock_exchange::surfaces::mapi;

const TYPES: &[&str] = &[
    "Connect",
    "Execute",
    "Disconnect",
    "NotificationWait",
    "PING",
    "Bind",
    "Unbind",
    "GetMailboxUrl",
    "GetAddressBookUrl",
    "QueryRows",
    "ResolveNames",
    "Bogus",
];

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let ctx = hma_lab_fuzz::ctx(sel & 0x40 == 0);
    let endpoint = if sel & 1 == 0 { "emsmdb" } else { "nspi" };
    let user = hma_lab_fuzz::user();
    let mb = user.mailbox();
    let uri = format!("/mapi/{endpoint}/?MailboxId={}@{}", mb.guid, ctx.org.domain);
    if sel & 0x80 != 0 {
        let (head, body) = hma_lab_fuzz::split(rest, 0);
        let head = String::from_utf8_lossy(head);
        let headers: Vec<(&str, &str)> = head
            .lines()
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim(), v.trim()))
            .collect();
        if let Some(p) = hma_lab_fuzz::parts(Method::POST, &uri, &headers) {
            let _ = mapi::handle(&ctx, &p, body);
        }
        return;
    }
    let kind = TYPES[usize::from(sel >> 1) % TYPES.len()];
    let (body, next) = hma_lab_fuzz::split(rest, 0xff);
    let head = |kind: &'static str| {
        vec![
            ("x-requesttype", kind),
            ("x-requestid", "{E2EA6C1C-E61B-49E9-9CFB-38184F907552}:1"),
            ("x-clientinfo", "{2EF33C39-49C8-421C-B876-CDF7F2AC3AA0}:1"),
            ("content-type", "application/mapi-http"),
        ]
    };
    let Some(p) = hma_lab_fuzz::parts(Method::POST, &uri, &head(kind)) else {
        return;
    };
    let first = mapi::handle(&ctx, &p, body);
    // A second request inside the session the first one opened, cookies echoed.
    let cookies: Vec<String> = first
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next().map(str::to_string))
        .collect();
    if cookies.is_empty() {
        return;
    }
    let cookie = cookies.join("; ");
    let second = TYPES[usize::from(next.first().copied().unwrap_or(0)) % TYPES.len()];
    let mut h = head(second);
    h.push(("cookie", &cookie));
    if let Some(p) = hma_lab_fuzz::parts(Method::POST, &uri, &h) {
        let _ = mapi::handle(&ctx, &p, next.get(1..).unwrap_or_default());
    }
});
