//! Every step of the bearer pipeline with its exact `x-ms-diagnostics`, key rollover through
//! metadata refresh, and the validated-token cache.

use axum::body::Body;
use axum::http::Request;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Value};

use crate::common::*;

const BEARER_REJECTED: &str = "Bearer client_id=\"00000002-0000-0ff1-ce00-000000000000\", trusted_issuers=\"00000001-0000-0000-c000-000000000000@f31f3647-5d87-4b69-a0b6-73f62aeab14c\", token_types=\"app_asserted_user_v1 service_asserted_app_v1\", authorization_uri=\"https://login.windows.net/common/oauth2/authorize\", error=\"invalid_token\"";

fn ews(token: &str) -> Request<Body> {
    empty(
        req("POST", "mail.contoso.com", "/EWS/Exchange.asmx")
            .header("authorization", format!("Bearer {token}")),
    )
}

async fn lab() -> (Lab, MetaServer) {
    let meta = MetaServer::start(TID).await;
    let lab = Lab::new(contoso(), Some(&meta.url));
    (lab, meta)
}

/// The token's request reached the protocol surface: no challenge, no diagnostic, routed to
/// the mailbox server.
fn assert_accepted(r: &Resp) {
    assert_ne!(r.status, 401, "{:?}", r.headers);
    assert!(r.all("www-authenticate").is_empty());
    assert_eq!(r.header("x-ms-diagnostics"), None);
    assert_eq!(r.header("x-calculatedbetarget"), Some("ex1.contoso.com"));
    assert_eq!(r.header("x-beserver"), Some("EX1"));
    assert_eq!(r.header("x-feserver"), Some("EX1"));
}

fn assert_rejected(r: &Resp, diag: &str) {
    assert_eq!(r.status, 401);
    assert_eq!(r.header("x-ms-diagnostics"), Some(diag));
    assert_eq!(
        r.all("www-authenticate"),
        [BEARER_REJECTED, "Negotiate", "NTLM"]
    );
    assert_eq!(r.header("proxy-support"), None);
    assert_eq!(r.header("content-length"), Some("0"));
}

fn unsigned(header: Value, claims: Value) -> String {
    format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string()),
        URL_SAFE_NO_PAD.encode(b"sig")
    )
}

#[tokio::test]
async fn a_good_token_reaches_the_surface_and_is_cached() {
    let (lab, meta) = lab().await;
    let token = meta
        .active()
        .sign_jwt(&claims("https://mail.contoso.com/", TID, T0), true);
    assert_accepted(&lab.send("EX1", ews(&token)).await);
    assert_eq!(meta.hits(), 1);
    // Cached: a second use verifies nothing over the network and still passes.
    assert_accepted(&lab.send("EX1", ews(&token)).await);
    assert_eq!(meta.hits(), 1);
}

#[tokio::test]
async fn upn_is_used_when_there_is_no_onprem_sid() {
    let (lab, meta) = lab().await;
    let mut c = claims("https://mail.contoso.com/", TID, T0);
    c.remove("onprem_sid");
    assert_accepted(
        &lab.send("EX1", ews(&meta.active().sign_jwt(&c, true)))
            .await,
    );
}

#[tokio::test]
async fn malformed_tokens_get_2000001() {
    let (lab, _meta) = lab().await;
    // Not in compact form: the JWT library's Jwt10204, its newline written %0a.
    for t in [
        "abc",
        "eyJ0eXAiOiJKV1QifQ.e30",
        "e30.e30.e30.e30",
        "%%%.%%%.%%%",
    ] {
        let d = format!("2000001;reason=\"Unable to read or process token, additional details: 'Jwt10204: 'System.IdentityModel.Tokens.JwtSecurityTokenHandler' cannot read this string: '{t}'.%0aThe string needs to be in compact JSON format, which is of the form: '<Base64UrlEncodedHeader>.<Base64UrlEndcodedPayload>.<OPTIONAL, Base64UrlEncodedSignature>'.'.\";error_category=\"invalid_token\"");
        assert_rejected(&lab.send("EX1", ews(t)).await, &d);
    }
    // Compact, but the header is not base64url JSON: Jwt10113.
    assert_rejected(
        &lab.send("EX1", ews("a.b.c")).await,
        "2000001;reason=\"Unable to read or process token, additional details: 'Jwt10113: Unable to decode the 'header': 'a' as Base64url encoded string. jwtEncodedString: 'a.b.c'.'.\";error_category=\"invalid_token\"",
    );
}

/// An Authorization header with non-ASCII bytes is an unreadable token, not an anonymous
/// request: 2000001 with the library's Jwt10204, the bytes echoed as `?`.
#[tokio::test]
async fn a_non_ascii_authorization_header_is_an_unreadable_token() {
    let (lab, _meta) = lab().await;
    let r = lab
        .send(
            "EX1",
            empty(
                req("POST", "mail.contoso.com", "/EWS/Exchange.asmx").header(
                    "authorization",
                    axum::http::HeaderValue::from_bytes(b"Bearer eyJ\xc3\xa9.e30.\xff")
                        .unwrap_or_else(|e| panic!("{e}")),
                ),
            ),
        )
        .await;
    assert_rejected(
        &r,
        "2000001;reason=\"Unable to read or process token, additional details: 'Jwt10204: 'System.IdentityModel.Tokens.JwtSecurityTokenHandler' cannot read this string: 'eyJ??.e30.?'.%0aThe string needs to be in compact JSON format, which is of the form: '<Base64UrlEncodedHeader>.<Base64UrlEndcodedPayload>.<OPTIONAL, Base64UrlEncodedSignature>'.'.\";error_category=\"invalid_token\"",
    );
}

#[tokio::test]
async fn alg_none_and_hs256_are_rejected_as_signature_failures() {
    let (lab, meta) = lab().await;
    let c = Value::Object(claims("https://mail.contoso.com/", TID, T0));
    let kid = meta.active().kid;
    for alg in ["none", "HS256"] {
        let t = unsigned(json!({"typ":"JWT","alg":alg,"kid":kid}), c.clone());
        assert_rejected(
            &lab.send("EX1", ews(&t)).await,
            "2000000;reason=\"The token has an invalid signature.\";error_category=\"invalid_signature\"",
        );
    }
}

#[tokio::test]
async fn an_unpublished_key_is_unknown_after_one_refresh() {
    let (lab, meta) = lab().await;
    let key = unpublished_key();
    let t = key.sign_jwt(&claims("https://mail.contoso.com/", TID, T0), true);
    assert_rejected(
        &lab.send("EX1", ews(&t)).await,
        "2000000;reason=\"The token has an invalid signature.\";error_category=\"invalid_signature\"",
    );
    assert_eq!(
        meta.hits(),
        2,
        "one fetch, then exactly one refresh for the unknown kid"
    );
}

#[tokio::test]
async fn a_tampered_token_fails_the_signature() {
    let (lab, meta) = lab().await;
    let t = meta
        .active()
        .sign_jwt(&claims("https://mail.contoso.com/", TID, T0), true);
    let mut parts: Vec<String> = t.split('.').map(str::to_string).collect();
    let mut c = claims("https://mail.contoso.com/", TID, T0);
    c.insert("upn".into(), "MeganB@contoso.com".into());
    parts[1] = URL_SAFE_NO_PAD.encode(Value::Object(c).to_string());
    assert_rejected(
        &lab.send("EX1", ews(&parts.join("."))).await,
        "2000000;reason=\"The token has an invalid signature.\";error_category=\"invalid_signature\"",
    );
}

#[tokio::test]
async fn a_foreign_issuer_is_untrusted() {
    let (lab, meta) = lab().await;
    let mut c = claims("https://mail.contoso.com/", TID, T0);
    c.insert(
        "iss".into(),
        "https://sts.windows.net/11111111-2222-3333-4444-555555555555/".into(),
    );
    assert_rejected(
        &lab.send("EX1", ews(&meta.active().sign_jwt(&c, true))).await,
        "2000001;reason=\"The issuer of the token is unknown. Issuer was 'https://sts.windows.net/11111111-2222-3333-4444-555555555555/'.\";error_category=\"invalid_token\"",
    );
}

#[tokio::test]
async fn lifetime_is_checked_with_five_minutes_of_skew() {
    let (lab, meta) = lab().await;
    let key = meta.active();
    let mut c = claims("https://mail.contoso.com/", TID, T0 - 4000);
    c.insert("exp".into(), (T0 - 301).into());
    assert_rejected(
        &lab.send("EX1", ews(&key.sign_jwt(&c, true))).await,
        "2000002;reason=\"The token has expired.\";error_category=\"token_expired\"",
    );
    c.insert("exp".into(), (T0 - 299).into());
    assert_accepted(&lab.send("EX1", ews(&key.sign_jwt(&c, true))).await);
    let mut c = claims("https://mail.contoso.com/", TID, T0);
    c.insert("nbf".into(), (T0 + 301).into());
    assert_rejected(
        &lab.send("EX1", ews(&key.sign_jwt(&c, true))).await,
        "2000002;reason=\"The token has expired.\";error_category=\"token_expired\"",
    );
}

#[tokio::test]
async fn a_cached_token_still_expires() {
    let (lab, meta) = lab().await;
    let t = meta
        .active()
        .sign_jwt(&claims("https://mail.contoso.com/", TID, T0), true);
    assert_accepted(&lab.send("EX1", ews(&t)).await);
    lab.clock.advance_secs(3600 + 301);
    assert_rejected(
        &lab.send("EX1", ews(&t)).await,
        "2000002;reason=\"The token has expired.\";error_category=\"token_expired\"",
    );
}

#[tokio::test]
async fn audience_host_and_scheme_mismatches_use_the_seed_texts() {
    let (lab, meta) = lab().await;
    let key = meta.active();
    let t = key.sign_jwt(&claims("https://autodiscover.contoso.com/", TID, T0), true);
    assert_rejected(
        &lab.send("EX1", ews(&t)).await,
        "2000003;reason=\"The hostname component of the audience claim value 'https://autodiscover.contoso.com' is invalid\";error_category=\"invalid_resource\"",
    );
    let t = key.sign_jwt(&claims("https://mail.contoso.com/", TID, T0), true);
    let r = lab
        .send(
            "EX1",
            empty(
                req("POST", "mail.contoso.com", "/EWS/Exchange.asmx")
                    .header("x-forwarded-proto", "http")
                    .header("authorization", format!("Bearer {t}")),
            ),
        )
        .await;
    assert_rejected(
        &r,
        "2000003;reason=\"The hostname component of the audience claim value is invalid. Expected 'https://mail.contoso.com'. Actual 'http://mail.contoso.com'.\";error_category=\"invalid_resource\"",
    );
    // The same token over https (no offloading) is fine.
    assert_accepted(&lab.send("EX1", ews(&t)).await);
}

#[tokio::test]
async fn tenant_claim_must_match_the_issuer() {
    let (lab, meta) = lab().await;
    let mut c = claims("https://mail.contoso.com/", TID, T0);
    c.insert("tid".into(), "99999999-2222-3333-4444-555555555555".into());
    assert_rejected(
        &lab.send("EX1", ews(&meta.active().sign_jwt(&c, true))).await,
        "2000004;reason=\"The tenant for context-id '99999999-2222-3333-4444-555555555555' does not exist.\";error_category=\"invalid_tenant\"",
    );
}

#[tokio::test]
async fn a_user_without_a_mailbox_does_not_exist_for_exchange() {
    let meta = MetaServer::start(TID).await;
    let mut org = contoso();
    org.mailboxes.retain(|m| m.owner_sid != GREG_SID);
    let lab = Lab::new(org, Some(&meta.url));
    let t = meta
        .active()
        .sign_jwt(&claims("https://mail.contoso.com/", TID, T0), true);
    // Decided by the back end: its challenge has only client_id and trusted_issuers.
    let r = lab.send("EX1", ews(&t)).await;
    assert_eq!(r.status, 401);
    assert_eq!(
        r.header("x-ms-diagnostics"),
        Some("2000005;reason=\"The user specified by the user-context in the token does not exist.\";error_category=\"invalid_user\"")
    );
    assert_eq!(
        r.all("www-authenticate"),
        [
            "Bearer client_id=\"00000002-0000-0ff1-ce00-000000000000\", trusted_issuers=\"00000001-0000-0000-c000-000000000000@f31f3647-5d87-4b69-a0b6-73f62aeab14c\"",
            "Negotiate",
            "NTLM"
        ]
    );
}

#[tokio::test]
async fn unreachable_metadata_is_its_own_failure() {
    let lab = Lab::new(contoso(), Some(&dead_url().await));
    let t = unpublished_key().sign_jwt(&claims("https://mail.contoso.com/", TID, T0), true);
    let r = lab.send("EX1", ews(&t)).await;
    assert_eq!(r.status, 401);
    // No key could be loaded: the one signature text (the product has no other).
    assert_eq!(
        r.header("x-ms-diagnostics"),
        Some("2000000;reason=\"The token has an invalid signature.\";error_category=\"invalid_signature\"")
    );
}

#[tokio::test]
async fn key_rollover_is_picked_up_by_the_unknown_kid_refresh() {
    let (lab, meta) = lab().await;
    let old = meta.active();
    let t_old = old.sign_jwt(&claims("https://mail.contoso.com/", TID, T0), true);
    assert_accepted(&lab.send("EX1", ews(&t_old)).await);
    assert_eq!(meta.hits(), 1);
    // Roll twice in mock-aad: key 3 (never published before) signs.
    meta.aad.keys_mut().roll().unwrap_or_else(|e| panic!("{e}"));
    meta.aad.keys_mut().roll().unwrap_or_else(|e| panic!("{e}"));
    let new = meta.active();
    assert_ne!(new.kid, old.kid);
    let t_new = new.sign_jwt(&claims("https://mail.contoso.com/", TID, T0), true);
    assert_accepted(&lab.send("EX1", ews(&t_new)).await);
    assert_eq!(meta.hits(), 2, "exactly one refresh for the new kid");
    // Retire the old key in Azure AD. Exchange still holds it until its metadata is refreshed.
    meta.aad
        .keys_mut()
        .retire(&old.kid)
        .unwrap_or_else(|e| panic!("{e}"));
    let mut c = claims("https://mail.contoso.com/", TID, T0);
    c.insert("iat".into(), (T0 + 1).into());
    let t_old2 = old.sign_jwt(&c, true);
    assert_accepted(&lab.send("EX1", ews(&t_old2)).await);
    // Set-AuthServer EvoSts -RefreshAuthMetadata.
    let r = lab
        .send(
            "EX1",
            empty(
                req(
                    "POST",
                    "127.0.0.1",
                    "/_admin/auth-servers/EvoSts/refresh-metadata",
                )
                .header("authorization", "Bearer admin-secret"),
            ),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let thumbs = r.json()["metadata"]["certificate_thumbprints"].clone();
    assert!(!thumbs
        .as_array()
        .is_some_and(|a| a.iter().any(|k| k == &Value::from(old.kid.clone()))));
    // A fresh token from the retired key is now refused …
    c.insert("iat".into(), (T0 + 2).into());
    let t_old3 = old.sign_jwt(&c, true);
    let r = lab.send("EX1", ews(&t_old3)).await;
    assert_eq!(r.status, 401);
    assert!(r
        .header("x-ms-diagnostics")
        .unwrap_or_default()
        .starts_with("2000000;"));
    // … while tokens validated before stay good until they expire (as Exchange caches them).
    assert_accepted(&lab.send("EX1", ews(&t_old2)).await);
}

#[tokio::test]
async fn metadata_is_refreshed_every_eight_hours_of_lab_time() {
    let (lab, meta) = lab().await;
    let t = meta
        .active()
        .sign_jwt(&claims("https://mail.contoso.com/", TID, T0), true);
    assert_accepted(&lab.send("EX1", ews(&t)).await);
    assert_eq!(meta.hits(), 1);
    lab.clock.advance_secs(8 * 3600);
    let t = meta.active().sign_jwt(
        &claims("https://mail.contoso.com/", TID, T0 + 8 * 3600),
        true,
    );
    assert_accepted(&lab.send("EX1", ews(&t)).await);
    assert_eq!(meta.hits(), 2);
}

#[tokio::test]
async fn bearer_on_a_vdir_without_oauth_gets_no_bearer_challenge() {
    let (lab, meta) = lab().await;
    let t = meta
        .active()
        .sign_jwt(&claims("https://mail.contoso.com/", TID, T0), true);
    let r = lab
        .send(
            "EX1",
            empty(
                req("GET", "mail.contoso.com", "/rpc/rpcproxy.dll")
                    .header("authorization", format!("Bearer {t}")),
            ),
        )
        .await;
    assert_eq!(r.status, 401);
    assert_eq!(r.header("x-ms-diagnostics"), None);
    assert_eq!(
        r.all("www-authenticate"),
        ["Negotiate", "NTLM", "Basic realm=\"mail.contoso.com\""]
    );
    assert_eq!(meta.hits(), 0);
}

#[tokio::test]
async fn iisreset_drops_the_validated_token_cache() {
    let (lab, meta) = lab().await;
    let old = meta.active();
    let t = old.sign_jwt(&claims("https://mail.contoso.com/", TID, T0), true);
    assert_accepted(&lab.send("EX1", ews(&t)).await);
    // Azure AD rolls past the key and retires it; Exchange refreshes its metadata.
    meta.aad.keys_mut().roll().unwrap_or_else(|e| panic!("{e}"));
    meta.aad
        .keys_mut()
        .retire(&old.kid)
        .unwrap_or_else(|e| panic!("{e}"));
    let refresh = empty(
        req(
            "POST",
            "127.0.0.1",
            "/_admin/auth-servers/EvoSts/refresh-metadata",
        )
        .header("authorization", "Bearer admin-secret"),
    );
    assert_eq!(lab.send("EX1", refresh).await.status, 200);
    // The validated token is still in the worker process's cache …
    assert_accepted(&lab.send("EX1", ews(&t)).await);
    // … until IIS restarts.
    let reset = empty(
        req("POST", "127.0.0.1", "/_admin/iisreset").header("authorization", "Bearer admin-secret"),
    );
    assert_eq!(lab.send("EX1", reset).await.status, 200);
    let r = lab.send("EX1", ews(&t)).await;
    assert_rejected(
        &r,
        "2000000;reason=\"The token has an invalid signature.\";error_category=\"invalid_signature\"",
    );
}

#[tokio::test]
async fn a_disabled_auth_server_is_not_trusted_once_the_settings_refresh() {
    let (lab, meta) = lab().await;
    let t = meta
        .active()
        .sign_jwt(&claims("https://mail.contoso.com/", TID, T0), true);
    let patch = req("PATCH", "127.0.0.1", "/_admin/auth-servers/EvoSts")
        .header("authorization", "Bearer admin-secret")
        .header("content-type", "application/json")
        .body(Body::from("{\"enabled\": false}"))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(lab.send("EX1", patch).await.status, 200);
    let reset = empty(
        req("POST", "127.0.0.1", "/_admin/iisreset").header("authorization", "Bearer admin-secret"),
    );
    lab.send("EX1", reset).await;
    let r = lab.send("EX1", ews(&t)).await;
    assert_eq!(r.status, 401);
    assert!(r
        .header("x-ms-diagnostics")
        .unwrap_or_default()
        .starts_with("2000000;"));
    // No enabled AuthServer: trusted_issuers is empty and there is no authorization_uri.
    assert_eq!(
        r.all("www-authenticate")[0],
        "Bearer client_id=\"00000002-0000-0ff1-ce00-000000000000\", trusted_issuers=\"\", token_types=\"app_asserted_user_v1 service_asserted_app_v1\", error=\"invalid_token\""
    );
}
