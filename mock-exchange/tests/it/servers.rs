//! The servers' lifecycle: one settings cache per server (`iisreset` on one server leaves the
//! others on their old settings), the build of each server (a CU before Hybrid Modern
//! Authentication never advertises `authorization_uri`; a cumulative update brings it), the
//! IIS version that follows the Windows release, and the Hybrid Configuration Wizard's refusal
//! while an Exchange 2010 Edge is subscribed.

use mock_exchange::model::{EdgeServer, ExchangeVersion, Organization, WindowsVersion};
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

/// Outlook for Windows' empty Bearer on /mapi.
fn handshake() -> axum::http::Request<axum::body::Body> {
    empty(
        req("POST", "mail.contoso.com", "/mapi/emsmdb/")
            .header("authorization", "Bearer")
            .header("x-clientapplication", "Outlook/16.0.8201.2102")
            .header("x-anchormailbox", "GregT@contoso.com"),
    )
}

const AUTH_URI: &str = "authorization_uri=\"https://login.windows.net/common/oauth2/authorize\"";

fn bearer_challenge(r: &Resp) -> String {
    r.all("www-authenticate")
        .into_iter()
        .find(|v| v.starts_with("Bearer"))
        .unwrap_or_default()
        .to_string()
}

/// contoso plus EX2, a copy of EX1 (`version`, `cu`, `os` as given).
fn two_servers(
    version: ExchangeVersion,
    cu: Option<u16>,
    os: Option<WindowsVersion>,
) -> Organization {
    let mut org = contoso();
    let mut ex2 = org.servers[0].clone();
    ex2.name = "EX2".into();
    ex2.fqdn = "ex2.contoso.com".into();
    ex2.internal_hosts = vec![];
    ex2.version = version;
    ex2.cu = cu;
    ex2.os = os;
    org.servers.push(ex2);
    org
}

#[tokio::test]
async fn iisreset_on_one_server_leaves_the_other_on_its_cached_settings() {
    let meta = MetaServer::start(TID).await;
    let lab = Lab::new(
        two_servers(ExchangeVersion::Ex2016, None, None),
        Some(&meta.url),
    );
    // Rolled back in the directory: no default authorization endpoint.
    let r = lab
        .send(
            "EX1",
            admin(
                "PATCH",
                "/_admin/auth-servers/EvoSts",
                Some(json!({"is_default_authorization_endpoint": false})),
            ),
        )
        .await;
    assert_eq!(r.status, 200);
    let r = lab
        .send("EX1", admin("POST", "/_admin/iisreset?server=EX1", None))
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["servers"], json!(["EX1"]));
    let ex1 = lab.send("EX1", handshake()).await;
    let ex2 = lab.send("EX2", handshake()).await;
    assert!(
        !bearer_challenge(&ex1).contains(AUTH_URI),
        "{}",
        bearer_challenge(&ex1)
    );
    assert!(
        bearer_challenge(&ex2).contains(AUTH_URI),
        "EX2 not reset yet: {}",
        bearer_challenge(&ex2)
    );
    // Its own view says so.
    let eff = lab
        .send("EX1", admin("GET", "/_admin/effective?server=EX2", None))
        .await;
    assert_eq!(eff.json()["server"], "EX2");
    assert_eq!(
        eff.json()["organization"]["auth_servers"][0]["is_default_authorization_endpoint"],
        true
    );
    lab.send("EX1", admin("POST", "/_admin/iisreset?server=ex2", None))
        .await;
    let ex2 = lab.send("EX2", handshake()).await;
    assert!(
        !bearer_challenge(&ex2).contains(AUTH_URI),
        "{}",
        bearer_challenge(&ex2)
    );
    // No server parameter: every server; an unknown one: 404.
    let r = lab
        .send("EX1", admin("POST", "/_admin/iisreset", None))
        .await;
    assert_eq!(r.json()["servers"], json!(["EX1", "EX2"]));
    let r = lab
        .send("EX1", admin("POST", "/_admin/iisreset?server=EX9", None))
        .await;
    assert_eq!(r.status, 404);
}

#[tokio::test]
async fn a_build_before_hma_never_advertises_authorization_uri_until_its_cumulative_update() {
    let meta = MetaServer::start(TID).await;
    let lab = Lab::new(
        two_servers(ExchangeVersion::Ex2013, Some(18), None),
        Some(&meta.url),
    );
    let ex1 = lab.send("EX1", handshake()).await;
    assert!(bearer_challenge(&ex1).contains(AUTH_URI));
    let ex2 = lab.send("EX2", handshake()).await;
    assert_eq!(ex2.status, 401);
    assert_eq!(
        bearer_challenge(&ex2),
        "Bearer client_id=\"00000002-0000-0ff1-ce00-000000000000\", trusted_issuers=\"00000001-0000-0000-c000-000000000000@f31f3647-5d87-4b69-a0b6-73f62aeab14c\", token_types=\"app_asserted_user_v1 service_asserted_app_v1\""
    );
    assert_eq!(
        ex2.header("x-ms-diagnostics"),
        None,
        "no client profile on CU18"
    );
    let servers = lab.send("EX1", admin("GET", "/_admin/servers", None)).await;
    assert_eq!(
        servers.json()[1]["admin_display_version"],
        "Version 15.0 (Build 1347.2)"
    );
    // Setup to CU19: the server restarts with the new build.
    let r = lab
        .send(
            "EX1",
            admin(
                "POST",
                "/_admin/servers/EX2/cumulative-update",
                Some(json!({"cu": 19})),
            ),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.json()["admin_display_version"],
        "Version 15.0 (Build 1365.1)"
    );
    let ex2 = lab.send("EX2", handshake()).await;
    assert!(
        bearer_challenge(&ex2).contains(AUTH_URI),
        "{}",
        bearer_challenge(&ex2)
    );
    // No going back, and only known CUs.
    let r = lab
        .send(
            "EX1",
            admin(
                "POST",
                "/_admin/servers/EX2/cumulative-update",
                Some(json!({"cu": 18})),
            ),
        )
        .await;
    assert_eq!(r.status, 409);
    assert_eq!(
        r.json()["message"],
        "EX2 already runs CU19; Setup cannot go back to CU18"
    );
    let r = lab
        .send(
            "EX1",
            admin(
                "POST",
                "/_admin/servers/EX2/cumulative-update",
                Some(json!({"cu": 40})),
            ),
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.json()["message"],
        "Exchange 2013 has no CU40 the lab knows (known: CU17, CU18, CU19, CU20, CU21, CU22, CU23)"
    );
}

#[tokio::test]
async fn iis_follows_the_windows_release_not_the_exchange_version() {
    let lab = Lab::new(
        two_servers(ExchangeVersion::Ex2016, None, Some(WindowsVersion::Ws2016)),
        None,
    );
    let r = lab
        .send("EX1", empty(req("GET", "mail.contoso.com", "/nothing")))
        .await;
    assert_eq!(
        r.header("server"),
        Some("Microsoft-IIS/8.5 Microsoft-HTTPAPI/2.0")
    );
    let r = lab
        .send("EX2", empty(req("GET", "mail.contoso.com", "/nothing")))
        .await;
    assert_eq!(
        r.header("server"),
        Some("Microsoft-IIS/10.0 Microsoft-HTTPAPI/2.0")
    );
}

#[tokio::test]
async fn the_wizard_creates_evosts_only_without_exchange_2010_edge_included() {
    let mut org = contoso();
    org.auth_servers.clear();
    org.edge_servers.push(EdgeServer {
        name: "EDGE2010".into(),
        fqdn: "edge2010.contoso.com".into(),
        version: ExchangeVersion::Ex2010,
    });
    let lab = Lab::new(org, None);
    let r = lab
        .send("EX1", admin("POST", "/_admin/hybrid-configuration", None))
        .await;
    assert_eq!(r.status, 409);
    assert_eq!(r.json()["error"], "exchange_2010_present");
    assert_eq!(
        r.json()["message"],
        "Exchange 2010 was detected in the organization (EDGE2010); the EvoSts authentication server was not created. Remove the Exchange 2010 servers (Edge Transport servers included) and run the wizard again."
    );
    let r = lab
        .send("EX1", admin("GET", "/_admin/auth-servers", None))
        .await;
    assert_eq!(r.json(), json!([]));
    let r = lab
        .send("EX1", admin("GET", "/_admin/edge-subscriptions", None))
        .await;
    assert_eq!(r.json()[0]["name"], "EDGE2010");
    let r = lab
        .send(
            "EX1",
            admin("DELETE", "/_admin/edge-subscriptions/edge2010", None),
        )
        .await;
    assert_eq!(r.status, 200);
    let r = lab
        .send("EX1", admin("POST", "/_admin/hybrid-configuration", None))
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["created"], true);
    assert_eq!(r.json()["auth_server"]["name"], "EvoSts");
    assert_eq!(
        r.json()["auth_server"]["auth_metadata_url"],
        "https://login.windows.net/contoso.com/federationmetadata/2007-06/federationmetadata.xml"
    );
    assert_eq!(
        r.json()["auth_server"]["is_default_authorization_endpoint"],
        false
    );
    // Run again: found, not created twice.
    let r = lab
        .send("EX1", admin("POST", "/_admin/hybrid-configuration", None))
        .await;
    assert_eq!(r.json()["created"], false);
    let r = lab
        .send(
            "EX1",
            admin("DELETE", "/_admin/edge-subscriptions/EDGE2010", None),
        )
        .await;
    assert_eq!(r.status, 404);
}

/// Each server's listener sends `/healthz` and (on the first server only) `/_admin` and below
/// to their router, exactly as a router matches them; every other path, near misses included,
/// is the pipeline's (IIS's 404 where no virtual directory answers).
#[tokio::test]
async fn health_and_admin_paths_are_routed_and_the_rest_is_the_pipelines() {
    let lab = Lab::new(two_servers(ExchangeVersion::Ex2016, None, None), None);
    let health = lab
        .send("EX1", empty(req("GET", "127.0.0.1", "/healthz")))
        .await;
    assert_eq!(health.status, 200);
    assert_eq!(
        lab.send("EX2", empty(req("GET", "127.0.0.1", "/healthz")))
            .await
            .body,
        health.body
    );
    assert_eq!(
        lab.send("EX1", empty(req("POST", "127.0.0.1", "/healthz")))
            .await
            .status,
        405
    );
    let iis_404 = lab
        .send("EX1", empty(req("GET", "127.0.0.1", "/nothing-here")))
        .await;
    assert_eq!(iis_404.status, 404);
    assert!(iis_404.body.contains("404.0"), "{}", iis_404.body);
    assert_eq!(
        iis_404.header("server"),
        Some("Microsoft-IIS/8.5 Microsoft-HTTPAPI/2.0")
    );
    for (server, path, status) in [
        ("EX1", "/_admin/organization", 200),
        ("EX1", "/_admin", 404),
        ("EX2", "/_admin/organization", 0),
        ("EX1", "/_administrator", 0),
        ("EX1", "/_ADMIN/organization", 0),
        ("EX1", "/healthz/", 0),
        ("EX1", "/Healthz", 0),
    ] {
        let r = lab.send(server, admin("GET", path, None)).await;
        if status == 0 {
            // The pipeline's page, as for any path without a virtual directory.
            assert_eq!(
                (r.status, r.body.as_str()),
                (404, iis_404.body.as_str()),
                "{server} {path}"
            );
            assert!(r.header("request-id").is_some(), "{server} {path}");
        } else {
            assert_eq!(r.status, status, "{server} {path}: {}", r.body);
            assert!(r.header("request-id").is_none(), "{server} {path}");
        }
    }
}
