//! The admin API: authentication, one call per cmdlet, errors in one JSON shape.

use serde_json::{json, Value};

use crate::common::*;

fn call(method: &str, path: &str, body: Option<Value>) -> axum::http::Request<axum::body::Body> {
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

#[tokio::test]
async fn the_admin_token_is_required() {
    let lab = Lab::new(contoso(), None);
    let r = lab
        .send(
            "EX1",
            empty(req("GET", "127.0.0.1", "/_admin/organization")),
        )
        .await;
    assert_eq!(r.status, 401);
    assert_eq!(r.json()["error"], "unauthorized");
    assert_eq!(
        r.all("www-authenticate"),
        ["Bearer realm=\"mock-exchange admin\""]
    );
    let r = lab
        .send(
            "EX1",
            empty(
                req("GET", "127.0.0.1", "/_admin/organization")
                    .header("authorization", "Bearer wrong"),
            ),
        )
        .await;
    assert_eq!(r.status, 401);
    assert_eq!(
        r.all("www-authenticate"),
        ["Bearer realm=\"mock-exchange admin\""]
    );
    // The scheme is compared without case; a glued or empty token is still refused.
    for (auth, want) in [
        ("BEARER admin-secret", 200),
        ("bearer admin-secret", 200),
        ("Beareradmin-secret", 401),
        ("Bearer admin-secre", 401),
        ("Bearer ", 401),
    ] {
        let r = lab
            .send(
                "EX1",
                empty(
                    req("GET", "127.0.0.1", "/_admin/organization").header("authorization", auth),
                ),
            )
            .await;
        assert_eq!(r.status, want, "{auth}");
    }
}

#[tokio::test]
async fn get_mapi_virtual_directory_matches_the_guide() {
    let lab = Lab::new(contoso(), None);
    let r = lab
        .send("EX1", call("GET", "/_admin/vdirs/mapi", None))
        .await;
    assert_eq!(r.status, 200);
    let v = &r.json()[0];
    assert_eq!(v["server"], "EX1");
    assert_eq!(v["internal_url"], "https://mail.contoso.com/mapi");
    assert_eq!(v["external_url"], "https://mail.contoso.com/mapi");
    for k in [
        "iis_authentication_methods",
        "internal_authentication_methods",
        "external_authentication_methods",
    ] {
        assert_eq!(v[k], json!(["Ntlm", "OAuth", "Negotiate"]), "{k}");
    }
    let ews = lab
        .send("EX1", call("GET", "/_admin/servers/ex1/vdirs/EWS", None))
        .await
        .json();
    assert_eq!(
        ews["internal_authentication_methods"],
        json!(["Ntlm", "WindowsIntegrated", "WSSecurity", "OAuth"])
    );
    assert_eq!(
        (
            ews["wssecurity_authentication"].clone(),
            ews["live_id_basic_authentication"].clone(),
            ews["basic_authentication"].clone(),
            ews["digest_authentication"].clone(),
            ews["windows_authentication"].clone(),
            ews["oauth_authentication"].clone(),
            ews["adfs_authentication"].clone()
        ),
        (
            json!(true),
            json!(false),
            json!(false),
            json!(false),
            json!(true),
            json!(true),
            json!(false)
        )
    );
    let oab = lab
        .send("EX1", call("GET", "/_admin/servers/EX1/vdirs/oab", None))
        .await
        .json();
    assert_eq!(
        oab["external_authentication_methods"],
        json!(["WindowsIntegrated", "OAuth"])
    );
    let ad = lab
        .send(
            "EX1",
            call("GET", "/_admin/servers/EX1/vdirs/autodiscover", None),
        )
        .await
        .json();
    assert_eq!(
        ad["external_authentication_methods"],
        json!(["Basic", "Ntlm", "WindowsIntegrated", "WSSecurity", "OAuth"])
    );
    assert_eq!(ad["basic_authentication"], true);
}

#[tokio::test]
async fn set_mapi_virtual_directory_iis_methods_and_bad_input() {
    let lab = Lab::new(contoso(), None);
    let r = lab
        .send(
            "EX1",
            call(
                "PATCH",
                "/_admin/servers/EX1/vdirs/mapi",
                Some(json!({"iis_authentication_methods": ["Ntlm", "Negotiate"]})),
            ),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.json()["iis_authentication_methods"],
        json!(["Ntlm", "Negotiate"])
    );
    // MAPI's boolean does not touch the lists (the guide: add OAuth to /mapi explicitly).
    let r = lab
        .send(
            "EX1",
            call(
                "PATCH",
                "/_admin/servers/EX1/vdirs/mapi",
                Some(json!({"oauth_authentication": true})),
            ),
        )
        .await;
    assert_eq!(
        r.json()["iis_authentication_methods"],
        json!(["Ntlm", "Negotiate"])
    );
    let r = lab
        .send(
            "EX1",
            call(
                "PATCH",
                "/_admin/servers/EX1/vdirs/mapi",
                Some(json!({"iis_authentication_methods": ["Kerberos"]})),
            ),
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.json()["message"],
        "unknown authentication method 'Kerberos'"
    );
    let r = lab
        .send(
            "EX1",
            call(
                "PATCH",
                "/_admin/servers/EX1/vdirs/mapi",
                Some(json!({"oauthh": true})),
            ),
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["error"], "bad_request");
    let r = lab
        .send("EX1", call("GET", "/_admin/servers/EX9/vdirs/mapi", None))
        .await;
    assert_eq!(r.status, 404);
    let r = lab
        .send("EX1", call("GET", "/_admin/vdirs/owaa", None))
        .await;
    assert_eq!(r.status, 400);
    let r = lab
        .send(
            "EX1",
            req("PATCH", "127.0.0.1", "/_admin/org-config")
                .header("authorization", "Bearer admin-secret")
                .body(axum::body::Body::from("{not json"))
                .unwrap_or_else(|e| panic!("{e}")),
        )
        .await;
    assert_eq!(r.status, 400);
}

#[tokio::test]
async fn auth_servers_new_set_and_the_2010_guard() {
    let mut org = contoso();
    let mut ex = org.servers[0].clone();
    ex.name = "EX2010".into();
    ex.fqdn = "ex2010.contoso.com".into();
    ex.version = mock_exchange::model::ExchangeVersion::Ex2010;
    org.servers.push(ex);
    org.auth_servers.clear();
    let lab = Lab::new(org, None);
    let new = json!({"name": "EvoSts", "type": "AzureAD", "auth_metadata_url": "https://login.windows.net/contoso.com/federationmetadata/2007-06/federationmetadata.xml", "is_default_authorization_endpoint": true});
    let r = lab
        .send(
            "EX1",
            call("POST", "/_admin/auth-servers", Some(new.clone())),
        )
        .await;
    assert_eq!(r.status, 409);
    assert_eq!(r.json()["error"], "exchange_2010_present");
    let mut forced = new.clone();
    forced["force"] = json!(true);
    let r = lab
        .send(
            "EX1",
            call("POST", "/_admin/auth-servers", Some(forced.clone())),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["enabled"], true);
    let r = lab
        .send("EX1", call("POST", "/_admin/auth-servers", Some(forced)))
        .await;
    assert_eq!(r.status, 409);
    let r = lab
        .send(
            "EX1",
            call(
                "PATCH",
                "/_admin/auth-servers/evosts",
                Some(json!({"enabled": false})),
            ),
        )
        .await;
    assert_eq!(r.json()["enabled"], false);
    let list = lab
        .send("EX1", call("GET", "/_admin/auth-servers", None))
        .await
        .json();
    assert_eq!(list[0]["name"], "EvoSts");
    // Metadata that cannot be fetched: a clear 502.
    let r = lab
        .send(
            "EX1",
            call(
                "PATCH",
                "/_admin/auth-servers/EvoSts",
                Some(json!({"auth_metadata_url": "http://127.0.0.1:9/x.xml"})),
            ),
        )
        .await;
    assert_eq!(r.status, 200);
    let r = lab
        .send(
            "EX1",
            call("POST", "/_admin/auth-servers/EvoSts/refresh-metadata", None),
        )
        .await;
    assert_eq!(r.status, 502);
    assert_eq!(r.json()["error"], "metadata_unavailable");
}

#[tokio::test]
async fn servers_mailboxes_accounts_clock() {
    let lab = Lab::new(contoso(), None);
    let s = lab
        .send("EX1", call("GET", "/_admin/servers", None))
        .await
        .json();
    assert_eq!(s[0]["admin_display_version"], "Version 15.1 (Build 1415.2)");
    let m = lab
        .send(
            "EX1",
            call("GET", "/_admin/mailboxes/GregT@contoso.com", None),
        )
        .await
        .json();
    assert_eq!(m["owner_sid"], GREG_SID);
    assert_eq!(m["items"].as_array().map(Vec::len), Some(3));
    let m = lab
        .send(
            "EX1",
            call("GET", "/_admin/mailboxes/CONTOSO%5CGregT", None),
        )
        .await;
    assert_eq!(m.status, 200, "{}", m.body);
    assert_eq!(
        lab.send(
            "EX1",
            call("GET", "/_admin/mailboxes/AlexW@contoso.com", None)
        )
        .await
        .status,
        404
    );
    assert_eq!(
        lab.send("EX1", call("GET", "/_admin/mailboxes", None))
            .await
            .json()
            .as_array()
            .map(Vec::len),
        Some(5)
    );
    let new = json!({"sam": "AdeleV", "upn": "AdeleV@contoso.com", "sid": "S-1-5-21-2366433183-230171048-1893555995-1660", "password": "x"});
    assert_eq!(
        lab.send("EX1", call("POST", "/_admin/accounts", Some(new.clone())))
            .await
            .status,
        200
    );
    assert_eq!(
        lab.send("EX1", call("POST", "/_admin/accounts", Some(new)))
            .await
            .status,
        409
    );
    let r = lab
        .send(
            "EX1",
            call(
                "PATCH",
                "/_admin/accounts/AdeleV",
                Some(json!({"password": "y", "enabled": false})),
            ),
        )
        .await;
    assert_eq!(r.json()["enabled"], false);
    assert_eq!(
        lab.send(
            "EX1",
            call("GET", "/_admin/accounts/adelev@contoso.com", None)
        )
        .await
        .json()["password"],
        "y"
    );
    assert_eq!(
        lab.send("EX1", call("DELETE", "/_admin/accounts/AdeleV", None))
            .await
            .status,
        200
    );
    assert_eq!(
        lab.send("EX1", call("GET", "/_admin/accounts/AdeleV", None))
            .await
            .status,
        404
    );
    let c = lab
        .send(
            "EX1",
            call("POST", "/_admin/clock/advance?seconds=60", None),
        )
        .await
        .json();
    assert_eq!(c["unix"], T0 + 60);
    assert_eq!(
        lab.send("EX1", call("GET", "/_admin/clock", None))
            .await
            .json()["unix"],
        T0 + 60
    );
    assert_eq!(
        lab.send("EX1", call("POST", "/_admin/clock/advance?seconds=x", None))
            .await
            .status,
        400
    );
    assert_eq!(
        lab.send("EX1", call("GET", "/_admin/nothing", None))
            .await
            .status,
        404
    );
}

#[tokio::test]
async fn non_loopback_peers_are_refused() {
    use axum::extract::ConnectInfo;
    use std::net::SocketAddr;
    let lab = Lab::new(contoso(), None);
    let mut r = call("GET", "/_admin/organization", None);
    r.extensions_mut()
        .insert(ConnectInfo(SocketAddr::from(([10, 0, 0, 5], 50000))));
    let resp = lab.send("EX1", r).await;
    assert_eq!(resp.status, 403);
    assert_eq!(resp.json()["error"], "forbidden");
    let mut r = call("GET", "/_admin/organization", None);
    r.extensions_mut()
        .insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 50000))));
    assert_eq!(lab.send("EX1", r).await.status, 200);
    // IPv4-mapped addresses (a dual-stack listener's view) count by the IPv4 address inside.
    for (peer, want) in [
        ("[::ffff:127.0.0.1]:50000", 200),
        ("[::ffff:10.0.0.5]:50000", 403),
    ] {
        let mut r = call("GET", "/_admin/organization", None);
        let peer: SocketAddr = peer.parse().unwrap_or_else(|e| panic!("{e}"));
        r.extensions_mut().insert(ConnectInfo(peer));
        assert_eq!(lab.send("EX1", r).await.status, want, "{peer}");
    }
}

#[tokio::test]
async fn get_organization_golden() {
    let lab = Lab::new(contoso(), None);
    let r = lab
        .send("EX1", call("GET", "/_admin/organization", None))
        .await;
    assert_eq!(r.status, 200);
    let pretty = serde_json::to_string_pretty(&r.json()).unwrap_or_default();
    GOLDEN.check("admin-organization.json", pretty + "\n");
}

/// `seconds=i64::MAX` is refused with the clock's bound; the server keeps answering (an
/// unbounded offset once made every later request panic until a restart).
#[tokio::test]
async fn clock_advance_past_a_century_is_refused() {
    let lab = Lab::new(contoso(), None);
    let r = lab
        .send(
            "EX1",
            call(
                "POST",
                "/_admin/clock/advance?seconds=9223372036854775807",
                None,
            ),
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["error"], "bad_request");
    assert!(
        r.json()["message"]
            .as_str()
            .unwrap()
            .contains("at most a century"),
        "{}",
        r.json()
    );
    let c = lab
        .send("EX1", call("GET", "/_admin/clock", None))
        .await
        .json();
    assert_eq!(c["unix"], T0);
    let r = lab
        .send(
            "EX1",
            empty(req("POST", "mail.contoso.com", "/EWS/Exchange.asmx")),
        )
        .await;
    assert_eq!(r.status, 401);
}

#[tokio::test]
async fn enable_mailbox_reaches_every_server_at_once() {
    let lab = Lab::new(contoso(), None);
    let sid = "S-1-5-21-2366433183-230171048-1893555995-1659";
    let account = json!({"sam": "AlexW", "upn": "AlexW@contoso.com", "sid": sid, "password": "x"});
    let mailbox = json!({"primary_smtp_address": "AlexW@contoso.com", "owner_sid": sid,
        "server": "ex1", "guid": "0f0e0d0c-0b0a-4908-8706-050403020100", "display_name": "Alex Wilber"});
    // No account behind it yet.
    let r = lab
        .send(
            "EX1",
            call("POST", "/_admin/mailboxes", Some(mailbox.clone())),
        )
        .await;
    assert_eq!(r.status, 404, "{}", r.body);
    assert_eq!(
        lab.send("EX1", call("POST", "/_admin/accounts", Some(account)))
            .await
            .status,
        200
    );
    let r = lab
        .send(
            "EX1",
            call("POST", "/_admin/mailboxes", Some(mailbox.clone())),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["server"], "EX1");
    // One mailbox per account.
    assert_eq!(
        lab.send("EX1", call("POST", "/_admin/mailboxes", Some(mailbox)))
            .await
            .status,
        409
    );
    // The server's settings snapshot is not renewed, but its recipients are the directory's.
    let eff = lab
        .send("EX1", call("GET", "/_admin/effective?server=EX1", None))
        .await
        .json();
    let boxes = eff["organization"]["mailboxes"].as_array().unwrap();
    assert!(
        boxes.iter().any(|m| m["owner_sid"] == sid),
        "{}",
        eff["organization"]["mailboxes"]
    );
    assert!(eff["organization"]["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .any(|a| a["sam"] == "AlexW"));
}
