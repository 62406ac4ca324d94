//! The settings cache: the admin API changes the configuration at once, the serving path only
//! after `settings_cache_seconds` of lab time or an `iisreset`.

use serde_json::json;

use crate::common::*;

fn admin(
    method: &str,
    path: &str,
    body: Option<serde_json::Value>,
) -> axum::http::Request<axum::body::Body> {
    let b = req(method, "127.0.0.1", path)
        .header("authorization", "Bearer admin-secret")
        .header("content-type", "application/json");
    match body {
        Some(j) => b
            .body(axum::body::Body::from(j.to_string()))
            .unwrap_or_else(|e| panic!("{e}")),
        None => empty(b),
    }
}

fn outlook_handshake() -> axum::http::Request<axum::body::Body> {
    empty(
        req("POST", "mail.contoso.com", "/mapi/emsmdb/")
            .header("authorization", "Bearer")
            .header("x-clientapplication", "Outlook/16.0.8201.2102")
            .header("x-anchormailbox", "GregT@contoso.com"),
    )
}

const FLIGHTING: &str = "4000000;reason=\"Flighting is not enabled for domain 'gregt@contoso.com'.\";error_category=\"oauth_not_available\"";

#[tokio::test]
async fn org_config_changes_wait_for_the_settings_cache() {
    let lab = Lab::new(contoso(), None);
    let r = lab
        .send(
            "EX1",
            admin(
                "PATCH",
                "/_admin/org-config",
                Some(json!({"oauth2_client_profile_enabled": false})),
            ),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["oauth2_client_profile_enabled"], false);
    // Reads show the new value at once …
    let r = lab
        .send("EX1", admin("GET", "/_admin/org-config", None))
        .await;
    assert_eq!(r.json()["oauth2_client_profile_enabled"], false);
    // … the serving path does not: "not enough time has passed".
    assert_eq!(
        lab.send("EX1", outlook_handshake())
            .await
            .header("x-ms-diagnostics"),
        None
    );
    let eff = lab
        .send("EX1", admin("GET", "/_admin/effective", None))
        .await;
    assert_eq!(
        eff.json()["organization"]["org_config"]["oauth2_client_profile_enabled"],
        true
    );
    lab.clock.advance_secs(899);
    assert_eq!(
        lab.send("EX1", outlook_handshake())
            .await
            .header("x-ms-diagnostics"),
        None
    );
    lab.clock.advance_secs(1);
    assert_eq!(
        lab.send("EX1", outlook_handshake())
            .await
            .header("x-ms-diagnostics"),
        Some(FLIGHTING)
    );
}

#[tokio::test]
async fn iisreset_applies_changes_at_once() {
    let lab = Lab::new(contoso(), None);
    lab.send(
        "EX1",
        admin(
            "PATCH",
            "/_admin/org-config",
            Some(json!({"oauth2_client_profile_enabled": false})),
        ),
    )
    .await;
    assert_eq!(
        lab.send("EX1", outlook_handshake())
            .await
            .header("x-ms-diagnostics"),
        None
    );
    let r = lab
        .send("EX1", admin("POST", "/_admin/iisreset", None))
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        lab.send("EX1", outlook_handshake())
            .await
            .header("x-ms-diagnostics"),
        Some(FLIGHTING)
    );
}

#[tokio::test]
async fn removing_oauth_from_a_vdir_takes_effect_after_iisreset() {
    let lab = Lab::new(contoso(), None);
    let r = lab
        .send(
            "EX1",
            admin(
                "PATCH",
                "/_admin/servers/EX1/vdirs/ews",
                Some(json!({"oauth_authentication": false})),
            ),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.json()["external_authentication_methods"],
        json!(["Ntlm", "WindowsIntegrated", "WSSecurity"])
    );
    let ews = || empty(req("POST", "mail.contoso.com", "/EWS/Exchange.asmx"));
    assert_eq!(
        lab.send("EX1", ews()).await.all("www-authenticate").len(),
        3
    );
    lab.send("EX1", admin("POST", "/_admin/iisreset", None))
        .await;
    assert_eq!(
        lab.send("EX1", ews()).await.all("www-authenticate"),
        ["Negotiate", "NTLM"]
    );
    // Setting it back appends OAuth again.
    let r = lab
        .send(
            "EX1",
            admin(
                "PATCH",
                "/_admin/servers/EX1/vdirs/ews",
                Some(json!({"oauth_authentication": true})),
            ),
        )
        .await;
    assert_eq!(
        r.json()["internal_authentication_methods"],
        json!(["Ntlm", "WindowsIntegrated", "WSSecurity", "OAuth"])
    );
}

#[tokio::test]
async fn default_authorization_endpoint_change_reaches_challenges_after_the_cache() {
    let lab = Lab::new(contoso(), None);
    lab.send(
        "EX1",
        admin(
            "PATCH",
            "/_admin/auth-servers/EvoSts",
            Some(json!({"is_default_authorization_endpoint": false})),
        ),
    )
    .await;
    let ews = || empty(req("POST", "mail.contoso.com", "/EWS/Exchange.asmx"));
    assert!(lab.send("EX1", ews()).await.all("www-authenticate")[2].contains("authorization_uri"));
    lab.clock.advance_secs(900);
    let r = lab.send("EX1", ews()).await;
    assert_eq!(
        r.all("www-authenticate")[2],
        format!("Bearer client_id=\"00000002-0000-0ff1-ce00-000000000000\", trusted_issuers=\"00000001-0000-0000-c000-000000000000@{TID}\", token_types=\"app_asserted_user_v1 service_asserted_app_v1\"")
    );
}
