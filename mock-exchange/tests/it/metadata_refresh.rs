//! When mock Exchange downloads AuthServer metadata: the unknown-kid refresh is rate-limited (one
//! download per AuthServer per five minutes of lab time, shared by concurrent requests), the
//! explicit and periodic refreshes are not, and `Set-AuthServer -RefreshAuthMetadata` reports a
//! failed download while the last good document keeps validating tokens. Downloads are counted
//! at the metadata stand-in; nothing sleeps (the clock is the lab's, a download is held in flight
//! by a gate the test opens).

use std::sync::atomic::Ordering;

use axum::body::Body;
use axum::http::Request;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use mock_exchange::metadata::UNKNOWN_KID_REFRESH_SECONDS;
use serde_json::json;

use crate::common::*;

const CONFIGURED_URL: &str =
    "https://login.windows.net/contoso.com/federationmetadata/2007-06/federationmetadata.xml";

fn ews(token: &str) -> Request<Body> {
    empty(
        req("POST", "mail.contoso.com", "/EWS/Exchange.asmx")
            .header("authorization", format!("Bearer {token}")),
    )
}

fn admin(method: &str, path: &str) -> Request<Body> {
    empty(req(method, "127.0.0.1", path).header("authorization", "Bearer admin-secret"))
}

/// A token naming `kid` with a signature nobody made (the kid is looked up before the
/// signature is checked).
fn forged(kid: &str) -> String {
    let header = json!({"typ": "JWT", "alg": "RS256", "x5t": kid, "kid": kid});
    format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(
            serde_json::Value::Object(claims("https://mail.contoso.com/", TID, T0)).to_string()
        ),
        URL_SAFE_NO_PAD.encode([7u8; 256])
    )
}

fn random_kid() -> String {
    URL_SAFE_NO_PAD.encode(uuid::Uuid::new_v4().as_bytes())
}

/// A token of the metadata server's active key, `n` seconds into the lab (distinct `iat`s make
/// distinct tokens, so the validated-token cache does not answer for them).
fn genuine(meta: &MetaServer, n: i64) -> String {
    meta.active()
        .sign_jwt(&claims("https://mail.contoso.com/", TID, T0 + n), true)
}

/// Refused as a signature failure (the product's one text names no key).
#[track_caller]
fn assert_unknown_kid(r: &Resp) {
    assert_eq!(r.status, 401);
    assert_eq!(
        r.header("x-ms-diagnostics"),
        Some("2000000;reason=\"The token has an invalid signature.\";error_category=\"invalid_signature\"")
    );
}

#[track_caller]
fn assert_accepted(r: &Resp) {
    assert_ne!(r.status, 401, "{:?}", r.headers);
    assert_eq!(r.header("x-ms-diagnostics"), None);
}

/// A lab that has read its metadata once (one download) by validating a genuine token.
async fn primed() -> (Lab, MetaServer) {
    let meta = MetaServer::start(TID).await;
    let lab = Lab::new(contoso(), Some(&meta.url));
    assert_accepted(&lab.send("EX1", ews(&genuine(&meta, 0))).await);
    assert_eq!(meta.hits(), 1);
    (lab, meta)
}

async fn refresh(lab: &Lab) -> Resp {
    lab.send(
        "EX1",
        admin("POST", "/_admin/auth-servers/EvoSts/refresh-metadata"),
    )
    .await
}

#[tokio::test]
async fn a_flood_of_unknown_kids_downloads_the_metadata_once_per_interval() {
    let (lab, meta) = primed().await;
    for _ in 0..25 {
        let kid = random_kid();
        assert_unknown_kid(&lab.send("EX1", ews(&forged(&kid))).await);
    }
    assert_eq!(meta.hits(), 2, "one refresh for 25 unknown kids");
    // One second before the interval ends: still limited.
    lab.clock.advance_secs(UNKNOWN_KID_REFRESH_SECONDS - 1);
    let kid = random_kid();
    assert_unknown_kid(&lab.send("EX1", ews(&forged(&kid))).await);
    assert_eq!(meta.hits(), 2);
    // Past it: one more download, then limited again.
    lab.clock.advance_secs(1);
    for _ in 0..5 {
        let kid = random_kid();
        assert_unknown_kid(&lab.send("EX1", ews(&forged(&kid))).await);
    }
    assert_eq!(meta.hits(), 3);
    // Known keys never download.
    assert_accepted(&lab.send("EX1", ews(&genuine(&meta, 1))).await);
    assert_eq!(meta.hits(), 3);
}

#[tokio::test]
async fn explicit_and_periodic_refreshes_are_not_limited() {
    let (lab, meta) = primed().await;
    let kid = random_kid();
    assert_unknown_kid(&lab.send("EX1", ews(&forged(&kid))).await);
    assert_eq!(meta.hits(), 2);
    // Set-AuthServer EvoSts -RefreshAuthMetadata, three times within the interval.
    for n in 3..=5 {
        assert_eq!(refresh(&lab).await.status, 200);
        assert_eq!(meta.hits(), n);
    }
    // iisreset keeps the metadata (it lives on the AuthServer object): no download.
    assert_eq!(
        lab.send("EX1", admin("POST", "/_admin/iisreset"))
            .await
            .status,
        200
    );
    assert_accepted(&lab.send("EX1", ews(&genuine(&meta, 2))).await);
    assert_eq!(meta.hits(), 5);
    // Nor is the 8-hour refresh: an unknown-kid refresh that fails keeps the document read at
    // T0, so the periodic refresh is due 100 s later, within the unknown-kid interval.
    lab.clock.advance_secs(8 * 3600 - 100);
    meta.fail_status.store(503, Ordering::SeqCst);
    let kid = random_kid();
    assert_unknown_kid(&lab.send("EX1", ews(&forged(&kid))).await);
    assert_eq!(
        meta.hits(),
        6,
        "an unknown-kid refresh (the last was 8 hours ago)"
    );
    meta.fail_status.store(0, Ordering::SeqCst);
    lab.clock.advance_secs(100);
    // A failed download is tried again only after the refresh interval (as IdentityModel's
    // ConfigurationManager does after a failure): the periodic refresh, due now, waits.
    assert_accepted(&lab.send("EX1", ews(&genuine(&meta, 8 * 3600))).await);
    assert_eq!(
        meta.hits(),
        6,
        "no download within the interval after a failure"
    );
    lab.clock.advance_secs(200);
    assert_accepted(&lab.send("EX1", ews(&genuine(&meta, 8 * 3600 + 200))).await);
    assert_eq!(meta.hits(), 7, "the periodic refresh");
    assert_accepted(&lab.send("EX1", ews(&genuine(&meta, 8 * 3600 + 201))).await);
    assert_eq!(meta.hits(), 7, "a fresh document again");
}

#[tokio::test]
async fn a_rollover_is_picked_up_on_the_first_token_of_the_new_key() {
    let (lab, meta) = primed().await;
    let old = meta.active();
    // Two rollovers in Azure AD: the active key is one Exchange's document does not list.
    meta.aad.keys_mut().roll().unwrap_or_else(|e| panic!("{e}"));
    meta.aad.keys_mut().roll().unwrap_or_else(|e| panic!("{e}"));
    assert_ne!(meta.active().kid, old.kid);
    assert_accepted(&lab.send("EX1", ews(&genuine(&meta, 1))).await);
    assert_eq!(meta.hits(), 2, "exactly one refresh for the new key");
    // Forged kids after it change nothing.
    let kid = random_kid();
    assert_unknown_kid(&lab.send("EX1", ews(&forged(&kid))).await);
    assert_eq!(meta.hits(), 2);
}

#[tokio::test]
async fn a_rollover_right_after_a_flood_waits_for_the_interval() {
    // The price of the limit (IdentityModel pays it too): the flood used this interval's
    // refresh, so the new key's tokens are refused until it ends, or until an explicit refresh.
    let (lab, meta) = primed().await;
    let kid = random_kid();
    assert_unknown_kid(&lab.send("EX1", ews(&forged(&kid))).await);
    lab.clock.advance_secs(10);
    meta.aad.keys_mut().roll().unwrap_or_else(|e| panic!("{e}"));
    meta.aad.keys_mut().roll().unwrap_or_else(|e| panic!("{e}"));
    // The new active key is not in the document Exchange holds yet.
    assert_unknown_kid(&lab.send("EX1", ews(&genuine(&meta, 10))).await);
    assert_eq!(meta.hits(), 2);
    lab.clock.advance_secs(UNKNOWN_KID_REFRESH_SECONDS - 10);
    assert_accepted(&lab.send("EX1", ews(&genuine(&meta, 300))).await);
    assert_eq!(meta.hits(), 3);
}

#[tokio::test]
async fn concurrent_unknown_kid_requests_share_one_download() {
    let (lab, meta) = primed().await;
    meta.aad.keys_mut().roll().unwrap_or_else(|e| panic!("{e}"));
    meta.aad.keys_mut().roll().unwrap_or_else(|e| panic!("{e}"));
    meta.gated.store(true, Ordering::SeqCst);
    let app = lab.app("EX1");
    let lead = tokio::spawn(send(app.clone(), ews(&genuine(&meta, 1))));
    // The refresh is downloading (held at the metadata server).
    meta.arrived.notified().await;
    let followers: Vec<_> = (2..10)
        .map(|n| tokio::spawn(send(app.clone(), ews(&genuine(&meta, n)))))
        .collect();
    // On this single-threaded runtime every follower runs until it waits.
    for _ in 0..20 {
        tokio::task::yield_now().await;
    }
    assert!(
        followers.iter().all(|f| !f.is_finished()),
        "requests during the download wait for it"
    );
    meta.gate.add_permits(1);
    assert_accepted(&lead.await.unwrap_or_else(|e| panic!("{e}")));
    for f in followers {
        assert_accepted(&f.await.unwrap_or_else(|e| panic!("{e}")));
    }
    assert_eq!(meta.hits(), 2, "one download for all of them");
}

#[tokio::test]
async fn refresh_metadata_reports_a_failed_download_and_keeps_the_last_good_document() {
    let (lab, meta) = primed().await;
    let thumbprints = |r: &Resp| r.json()["metadata"]["certificate_thumbprints"].clone();
    let before = thumbprints(
        &lab.send("EX1", admin("GET", "/_admin/auth-servers/EvoSts"))
            .await,
    );
    assert!(before.as_array().is_some_and(|a| !a.is_empty()));
    meta.fail_status.store(503, Ordering::SeqCst);
    let r = refresh(&lab).await;
    assert_eq!(r.status, 502);
    assert_eq!(r.json()["error"], "metadata_unavailable");
    assert_eq!(
        r.json()["message"],
        format!("Unable to access the authorization metadata document of the authorization server 'EvoSts' at '{CONFIGURED_URL}'. Detailed information: \"The remote server returned an error: (503) Server Unavailable.\" The metadata that was read last is still used.")
    );
    GOLDEN.check("admin-refresh-metadata-503.json", &r.body);
    assert_eq!(meta.hits(), 2);
    // The last good document still validates tokens.
    assert_eq!(
        thumbprints(
            &lab.send("EX1", admin("GET", "/_admin/auth-servers/EvoSts"))
                .await
        ),
        before
    );
    assert_eq!(
        lab.send("EX1", admin("POST", "/_admin/iisreset"))
            .await
            .status,
        200
    );
    assert_accepted(&lab.send("EX1", ews(&genuine(&meta, 1))).await);
    // Other statuses are worded the same way.
    meta.fail_status.store(404, Ordering::SeqCst);
    let msg = refresh(&lab).await.json()["message"].clone();
    assert!(
        msg.as_str().is_some_and(|m| m.contains(
            "Detailed information: \"The remote server returned an error: (404) Not Found.\""
        )),
        "{msg}"
    );
    // Reachable again: the refresh succeeds.
    meta.fail_status.store(0, Ordering::SeqCst);
    assert_eq!(refresh(&lab).await.status, 200);
}

#[tokio::test]
async fn refresh_metadata_from_an_unreachable_url_says_so() {
    // A port nothing listens on, and no document read before.
    let lab = Lab::new(contoso(), Some(&dead_url().await));
    let r = refresh(&lab).await;
    assert_eq!(r.status, 502);
    assert_eq!(
        r.json(),
        json!({
            "error": "metadata_unavailable",
            "message": format!("Unable to access the authorization metadata document of the authorization server 'EvoSts' at '{CONFIGURED_URL}'. Detailed information: \"Unable to connect to the remote server\""),
        })
    );
}
