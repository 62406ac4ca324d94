//! The forger's kit of the attack corpora: compact JWS built from any header, claims and signer
//! (RS256 by any key, HMAC keyed with anything, nothing at all), segment surgery, the attacker's
//! key, and a trap listener that counts connections.
//!
//! One file serves both corpora: mock-aad's test binary declares it as a module, mock-exchange's
//! includes it by path (`#[path]` in its `tests/it/main.rs`), since test helpers cannot be shared
//! between crates otherwise and neither service's library should carry them. It lives here because
//! mock-aad is the token authority whose keys it uses.

#![allow(dead_code)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use aws_lc_rs::hmac;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use mock_aad::keys::SigningKey;
use serde_json::{Map, Value};

/// Unpadded base64url, as every JWS segment is written.
pub fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// `header.claims.signature`, the signature from `sign` over the first two segments.
pub fn jws(header: &Value, claims: &Map<String, Value>, sign: impl Fn(&[u8]) -> Vec<u8>) -> String {
    let input = format!(
        "{}.{}",
        b64(header.to_string()),
        b64(Value::Object(claims.clone()).to_string())
    );
    let sig = sign(input.as_bytes());
    format!("{input}.{}", b64(sig))
}

/// RS256 by `key` under any header.
pub fn rs256(key: &SigningKey, header: Value, claims: &Map<String, Value>) -> String {
    jws(&header, claims, |m| key.sign(m))
}

/// An HMAC tag (`HS256`, `HS384`, anything else is HS512) keyed with `secret`: the RS→HS
/// confusion when the secret is the verifier's public key.
pub fn hmac_tag(alg: &str, secret: &[u8], msg: &[u8]) -> Vec<u8> {
    let algorithm = match alg {
        "HS256" => hmac::HMAC_SHA256,
        "HS384" => hmac::HMAC_SHA384,
        _ => hmac::HMAC_SHA512,
    };
    hmac::sign(&hmac::Key::new(algorithm, secret), msg)
        .as_ref()
        .to_vec()
}

/// PEM text of a DER certificate, 64 columns, trailing newline (as a `.cer` file holds it).
pub fn pem(der: &[u8]) -> String {
    let body = STANDARD.encode(der);
    let mut out = String::from("-----BEGIN CERTIFICATE-----\n");
    for line in body.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(line));
        out.push('\n');
    }
    out.push_str("-----END CERTIFICATE-----\n");
    out
}

/// `token` with its segment `i` replaced.
pub fn with_segment(token: &str, i: usize, segment: &str) -> String {
    let mut parts: Vec<&str> = token.split('.').collect();
    parts[i] = segment;
    parts.join(".")
}

/// The claims of a compact JWT (no verification).
pub fn claims_of(jwt: &str) -> Map<String, Value> {
    let p = jwt.split('.').nth(1).unwrap_or_default();
    match serde_json::from_slice(&URL_SAFE_NO_PAD.decode(p).unwrap_or_default()) {
        Ok(Value::Object(m)) => m,
        _ => panic!("not a JWT: {jwt}"),
    }
}

/// The attacker's key: mock-aad's shipped key 3, never published unless a test rolls to it.
pub fn attacker() -> SigningKey {
    SigningKey::from_jwk(
        include_str!("../../keys/key3.jwk"),
        include_str!("../../keys/cert3.pem"),
    )
    .unwrap_or_else(|e| panic!("{e}"))
}

/// A listener on 127.0.0.1 that counts every connection and never answers: where `jku`, `x5u`
/// and URL `kid`s point. A validator that fetches a key from a token shows up in [`Trap::hits`].
pub struct Trap {
    pub url: String,
    hits: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Trap {
    pub async fn start() -> Trap {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let url = match listener.local_addr() {
            Ok(a) => format!("http://{a}"),
            Err(e) => panic!("{e}"),
        };
        let hits = Arc::new(AtomicUsize::new(0));
        let counter = hits.clone();
        let task = tokio::spawn(async move {
            while listener.accept().await.is_ok() {
                counter.fetch_add(1, Ordering::SeqCst);
            }
        });
        Trap { url, hits, task }
    }

    pub fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

impl Drop for Trap {
    fn drop(&mut self) {
        self.task.abort();
    }
}
