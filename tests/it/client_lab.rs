//! The reference client through a whole `hma_lab::lab::Lab`: the shipped lab files and the lab's
//! network devices (SSL offloading, a name-translating reverse proxy, a client segment that
//! cannot reach Azure AD) between the client and the services.

use hma_lab::client::*;
use hma_lab::lab::{Lab, LabFile};
use lab_kit::Clock;

async fn lab(name: &str) -> Lab {
    Lab::start_file(
        LabFile::builtin(name).expect("shipped lab"),
        Clock::frozen_at_unix(1_510_920_000),
    )
    .await
    .expect("lab starts")
}

fn outlook(lab: &Lab, profile: Profile) -> Outlook {
    Outlook::for_lab(lab, profile, "GregT@contoso.com")
}

#[tokio::test]
async fn contoso_lab_outlook_2016_is_bearer_over_mapi_http() {
    let lab = lab("contoso").await;
    let s = outlook(&lab, Profile::Outlook2016).connect().await;
    assert_eq!(s.status, "Established", "{s:#?}");
    assert_eq!(
        (s.server.as_str(), s.protocol.as_str(), s.authn.as_deref()),
        ("mail.contoso.com", "MAPI/HTTP", Some("Bearer"))
    );
}

#[tokio::test]
async fn contoso_pre_hma_lab_outlook_2016_stays_on_ntlm() {
    let lab = lab("contoso-pre-hma").await;
    let s = outlook(&lab, Profile::Outlook2016).connect().await;
    assert_eq!(s.authn.as_deref(), Some("NTLM"), "{s:#?}");
    assert!(!s.exchanges.iter().any(|e| e.step.starts_with("aad")));
    assert!(s.tokens.is_empty());
}

#[tokio::test]
async fn ssl_offloading_rejects_the_token_with_2000003_expected_actual() {
    let lab = lab("contoso").await;
    lab.set_ssl_offload("mail.contoso.com", true)
        .expect("load balancer");
    let s = outlook(&lab, Profile::Outlook2016).connect().await;
    // The MAPI connection's token, then the offline address book's (same host, same offload).
    let rejected = "2000003;reason=\"The hostname component of the audience claim value is invalid. Expected 'https://mail.contoso.com'. Actual 'http://mail.contoso.com'.\";error_category=\"invalid_resource\"".to_string();
    assert_eq!(
        s.bearer_rejections,
        vec![rejected.clone(), rejected],
        "{s:#?}"
    );
    // Outlook then falls back to what the vdir also offers.
    assert_eq!(s.authn.as_deref(), Some("NTLM"));
    assert_eq!(s.protocol, "MAPI/HTTP");

    lab.set_ssl_offload("mail.contoso.com", false)
        .expect("load balancer");
    let s = outlook(&lab, Profile::Outlook2016).connect().await;
    assert_eq!(s.authn.as_deref(), Some("Bearer"));
    assert!(s.bearer_rejections.is_empty());
}

#[tokio::test]
async fn reverse_proxy_name_translation_rejects_the_autodiscover_token() {
    let lab = lab("contoso").await;
    lab.set_reverse_proxy("autodiscover.contoso.com", "mail.contoso.com")
        .expect("reverse proxy");
    let s = outlook(&lab, Profile::Outlook2016).connect().await;
    let first = s.bearer_rejections.first().cloned().unwrap_or_default();
    assert!(
        first.starts_with("2000003;reason=\"The hostname component of the audience claim value 'https://autodiscover.contoso.com' is invalid"),
        "{s:#?}"
    );
    let token = s
        .tokens
        .iter()
        .find(|t| t.resource == "https://autodiscover.contoso.com/")
        .expect("Outlook got a token for the name it called");
    assert_eq!(token.claims["aud"], "https://autodiscover.contoso.com/");
}

#[tokio::test]
async fn client_segment_without_azure_ad_falls_back_to_ntlm() {
    let lab = lab("contoso").await;
    lab.block("login.windows.net").expect("block");
    let s = outlook(&lab, Profile::Outlook2016).connect().await;
    let attempt = s
        .exchanges
        .iter()
        .find(|e| e.step == "aad-authorize")
        .expect("the sign-in was attempted");
    assert_eq!(attempt.status, 0);
    assert!(attempt.error.is_some());
    assert_eq!(s.authn.as_deref(), Some("NTLM"), "{s:#?}");

    lab.unblock("login.windows.net").expect("unblock");
    let s = outlook(&lab, Profile::Outlook2016).connect().await;
    assert_eq!(s.authn.as_deref(), Some("Bearer"));
}

#[tokio::test]
async fn tokens_expire_while_azure_ad_is_unreachable_then_ntlm() {
    let lab = lab("contoso").await;
    let mut o = outlook(&lab, Profile::Outlook2016);
    assert_eq!(o.connect().await.authn.as_deref(), Some("Bearer"));
    lab.block("login.windows.net").expect("block");
    lab.clock().advance_secs(2 * 3600);
    let s = o.reconnect().await;
    assert_eq!(s.exchanges[0].step, "aad-token");
    assert_eq!(s.exchanges[0].status, 0);
    assert_eq!(
        s.exchanges
            .iter()
            .filter(|e| e.step.starts_with("aad"))
            .count(),
        1,
        "{s:#?}"
    );
    assert_eq!(s.authn.as_deref(), Some("NTLM"));
    lab.unblock("login.windows.net").expect("unblock");
    let s = o.reconnect().await;
    assert_eq!(
        s.authn.as_deref(),
        Some("Bearer"),
        "refreshed once AAD is back"
    );
}

/// The three legs of an NTLM handshake travel on one connection whoever drives the client: here
/// a plain thread blocking on the runtime, the way that once let a pooled connection go back too
/// late and the third leg leave on a fresh connection without the server's challenge state.
#[test]
fn ntlm_handshakes_stay_on_one_connection_from_a_blocking_thread() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let lab = rt.block_on(lab("contoso-pre-hma"));
    let mut o = outlook(&lab, Profile::Outlook2016);
    for i in 0..30 {
        // A fresh machine each time: every connect makes its NTLM logons anew.
        o.close_connections();
        let s = rt.block_on(o.connect());
        assert_eq!(s.authn.as_deref(), Some("NTLM"), "run {i}: {s:#?}");
        let legs: Vec<&str> = s
            .exchanges
            .iter()
            .filter(|e| e.step == "mapi")
            .map(|e| e.authorization.as_deref().unwrap_or("-"))
            .collect();
        // The empty Bearer of the HMA handshake, then negotiate and authenticate, once each.
        assert_eq!(legs, ["Bearer (empty)", "NTLM", "NTLM"], "run {i}: {s:#?}");
    }
    drop(lab);
    drop(o);
}
