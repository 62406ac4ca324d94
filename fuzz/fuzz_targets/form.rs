//! Form bodies: mock-aad's `util::Params` (every pair kept, duplicates found), and the journal's
//! redaction of a request whose body and URL carry a secret field followed by fuzzer bytes,
//! under a `Content-Type` the first byte picks. Besides not crashing, the secret must never
//! reach the journal or its HAR, whatever the bytes around it or the label on them.
#![no_main]

use std::time::SystemTime;

use axum::http::{HeaderMap, HeaderValue};
use base64::Engine;
use hma_lab::frontdoor::journal::{Exchange, Journal};
use libfuzzer_sys::fuzz_target;

const SECRET: &str = "Zq9fuzzsecretq9Z";
const TYPES: &[Option<&str>] = &[
    None,
    Some("application/x-www-form-urlencoded"),
    Some("text/plain"),
    Some("application/json"),
    Some("application/octet-stream"),
    Some("multipart/form-data; boundary=x"),
];

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let params = mock_aad::util::Params::parse(rest);
    let _ = params.first_duplicate();
    let _ = params.get("grant_type");
    let _ = params.iter().count();

    let needle = SECRET.as_bytes();
    if rest.windows(needle.len()).any(|w| w == needle) {
        return;
    }
    let field = ["password", "client_secret", "refresh_token", "code"][usize::from(sel >> 4) % 4];
    let mut body = format!("{field}={SECRET}&").into_bytes();
    body.extend_from_slice(rest);
    let mut rq = HeaderMap::new();
    if let Some(t) = TYPES[usize::from(sel & 0x0f) % TYPES.len()] {
        rq.insert("content-type", HeaderValue::from_static(t));
    }
    let url = format!(
        "https://login.microsoftonline.com/common/oauth2/token?code={SECRET}&{}",
        String::from_utf8_lossy(rest)
    );
    let journal = Journal::new(1);
    journal.record(Exchange {
        started: SystemTime::UNIX_EPOCH,
        time_ms: 1.0,
        via: "fuzz",
        client: "127.0.0.1".into(),
        method: "POST",
        url,
        http_version: "HTTP/1.1",
        request_headers: &rq,
        request_body: &body,
        status: 200,
        response_headers: &HeaderMap::new(),
        response_body: b"",
        error: None,
    });
    let entry = &journal.entries()[0];
    assert!(
        !entry.url.contains(SECRET),
        "secret in journaled URL: {}",
        entry.url
    );
    let text = if entry.request_body.encoding == Some("base64") {
        let raw = base64::engine::general_purpose::STANDARD
            .decode(&entry.request_body.text)
            .expect("journal base64");
        String::from_utf8_lossy(&raw).into_owned()
    } else {
        entry.request_body.text.clone()
    };
    assert!(!text.contains(SECRET), "secret in journaled body: {text}");
    let har = journal.to_har().to_string();
    assert!(!har.contains(SECRET), "secret in HAR");
});
