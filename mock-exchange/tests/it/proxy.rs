//! Front end → back end over real sockets: 2016 → 2013 with the routing headers, the 2010
//! cut-off for OAuth, and the back end refusing a forged identity header.

use std::net::SocketAddr;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use mock_exchange::model::{ExchangeVersion, Organization, Server, WindowsVersion};
use mock_exchange::{Clock, Config};

use crate::common::*;

const MEGAN_SID: &str = "S-1-5-21-2366433183-230171048-1893555995-1655";
const PATTI_SID: &str = "S-1-5-21-2366433183-230171048-1893555995-1656";

fn three_versions() -> Organization {
    let mut org = contoso();
    let ex1 = org.servers[0].clone();
    let mut ex2: Server = ex1.clone();
    ex2.name = "EX2".into();
    ex2.fqdn = "EX2.contoso.com".into();
    ex2.version = ExchangeVersion::Ex2013;
    // On another Windows release than the front end, so the `Server:` header shows whose it is.
    ex2.os = Some(WindowsVersion::Ws2008R2);
    ex2.internal_hosts = vec![];
    let mut ex3: Server = ex1.clone();
    ex3.name = "EX2010".into();
    ex3.fqdn = "ex2010.contoso.com".into();
    ex3.version = ExchangeVersion::Ex2010;
    ex3.os = Some(WindowsVersion::Ws2008R2);
    ex3.internal_hosts = vec![];
    org.servers.push(ex2);
    org.servers.push(ex3);
    for m in &mut org.mailboxes {
        if m.owner_sid == MEGAN_SID {
            m.server = "EX2".into();
        }
        if m.owner_sid == PATTI_SID {
            m.server = "EX2010".into();
        }
    }
    org
}

async fn start(org: Organization, aad: &str) -> mock_exchange::Handle {
    mock_exchange::start(Config {
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        organization: org,
        clock: Clock::frozen_at_unix(T0),
        aad_url: Some(aad.into()),
        admin_token: Some("admin-secret".into()),
    })
    .await
    .unwrap_or_else(|e| panic!("{e}"))
}

fn basic(user: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!("{user}:Contoso2017!")))
}

async fn post(url: &str, path: &str, authz: &str) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{url}{path}"))
        .header("host", "mail.contoso.com")
        .header("authorization", authz)
        .body("<soap/>")
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

fn h<'a>(r: &'a reqwest::Response, n: &str) -> Option<&'a str> {
    r.headers().get(n).and_then(|v| v.to_str().ok())
}

#[tokio::test]
async fn ex2016_front_end_proxies_to_the_2013_back_end() {
    let meta = MetaServer::start(TID).await;
    let handle = start(three_versions(), &meta.url).await;
    assert_eq!(handle.server_urls().len(), 3);
    let r = post(
        &handle.url(),
        "/Microsoft-Server-ActiveSync",
        &basic("MeganB"),
    )
    .await;
    assert_ne!(r.status().as_u16(), 401);
    assert_eq!(h(&r, "x-calculatedbetarget"), Some("ex2.contoso.com"));
    assert_eq!(h(&r, "x-beserver"), Some("EX2"));
    assert_eq!(h(&r, "x-feserver"), Some("EX1"));
    // The front end's IIS (Windows Server 2012 R2), not the back end's (2008 R2: IIS 7.5).
    assert_eq!(
        h(&r, "server"),
        Some("Microsoft-IIS/8.5 Microsoft-HTTPAPI/2.0")
    );
    assert_eq!(r.headers().get_all("request-id").iter().count(), 1);
    // Bearer for Megan: validated by the front end, then proxied.
    let mut c = claims("https://mail.contoso.com/", TID, T0);
    c.insert("onprem_sid".into(), MEGAN_SID.into());
    c.insert("upn".into(), "MeganB@contoso.com".into());
    let t = meta.active().sign_jwt(&c, true);
    let r = post(&handle.url(), "/EWS/Exchange.asmx", &format!("Bearer {t}")).await;
    assert_ne!(r.status().as_u16(), 401);
    assert_eq!(h(&r, "x-beserver"), Some("EX2"));
    // A local mailbox is served by EX1 itself.
    let r = post(
        &handle.url(),
        "/Microsoft-Server-ActiveSync",
        &basic("GregT"),
    )
    .await;
    assert_eq!(h(&r, "x-beserver"), Some("EX1"));
    assert_eq!(h(&r, "x-calculatedbetarget"), Some("ex1.contoso.com"));
}

#[tokio::test]
async fn oauth_is_not_proxied_to_exchange_2010() {
    let meta = MetaServer::start(TID).await;
    let handle = start(three_versions(), &meta.url).await;
    let mut c = claims("https://mail.contoso.com/", TID, T0);
    c.insert("onprem_sid".into(), PATTI_SID.into());
    c.insert("upn".into(), "PattiF@contoso.com".into());
    let t = meta.active().sign_jwt(&c, true);
    let r = post(&handle.url(), "/EWS/Exchange.asmx", &format!("Bearer {t}")).await;
    assert_eq!(r.status().as_u16(), 401);
    assert_eq!(
        h(&r, "x-ms-diagnostics"),
        Some("2000005;reason=\"The user's mailbox version is not supported for access using OAuth.\";error_category=\"invalid_user\"")
    );
    let challenges: Vec<&str> = r
        .headers()
        .get_all("www-authenticate")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    // A token the front end refuses: the Bearer challenge first, with error="invalid_token".
    assert_eq!(
        challenges,
        [
            format!("Bearer client_id=\"00000002-0000-0ff1-ce00-000000000000\", trusted_issuers=\"00000001-0000-0000-c000-000000000000@{TID}\", token_types=\"app_asserted_user_v1 service_asserted_app_v1\", authorization_uri=\"https://login.windows.net/common/oauth2/authorize\", error=\"invalid_token\"").as_str(),
            "Negotiate",
            "NTLM"
        ]
    );
    // Basic still reaches the 2010 mailbox.
    let r = post(
        &handle.url(),
        "/Microsoft-Server-ActiveSync",
        &basic("PattiF"),
    )
    .await;
    assert_ne!(r.status().as_u16(), 401);
    assert_eq!(h(&r, "x-beserver"), Some("EX2010"));
}

#[tokio::test]
async fn exchange_2010_vdirs_never_offer_bearer() {
    let meta = MetaServer::start(TID).await;
    let handle = start(three_versions(), &meta.url).await;
    let url = handle
        .server_url("ex2010")
        .unwrap_or_else(|| panic!("EX2010 listener"));
    let t = meta
        .active()
        .sign_jwt(&claims("https://mail.contoso.com/", TID, T0), true);
    let r = post(&url, "/EWS/Exchange.asmx", &format!("Bearer {t}")).await;
    assert_eq!(r.status().as_u16(), 401);
    assert_eq!(h(&r, "server"), Some("Microsoft-IIS/7.5"));
    assert_eq!(h(&r, "x-ms-diagnostics"), None);
    let challenges: Vec<&str> = r
        .headers()
        .get_all("www-authenticate")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    assert_eq!(challenges, ["Negotiate", "NTLM"]);
}

#[tokio::test]
async fn a_forged_back_end_header_is_refused() {
    let meta = MetaServer::start(TID).await;
    let handle = start(three_versions(), &meta.url).await;
    let url = handle
        .server_url("EX2")
        .unwrap_or_else(|| panic!("EX2 listener"));
    let r = reqwest::Client::new()
        .post(format!("{url}/EWS/Exchange.asmx"))
        .header("host", "mail.contoso.com")
        .header(
            "x-hmalab-backend",
            format!("guess;Bearer;{MEGAN_SID};https;mail.contoso.com"),
        )
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.status().as_u16(), 403);
    // Admin API is only on the first listener.
    let r = reqwest::Client::new()
        .get(format!("{url}/_admin/organization"))
        .header("authorization", "Bearer admin-secret")
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.status().as_u16(), 404);
}

#[tokio::test]
async fn anchor_mailbox_and_mailbox_id_choose_the_back_end() {
    let meta = MetaServer::start(TID).await;
    let handle = start(three_versions(), &meta.url).await;
    let client = reqwest::Client::new();
    // GregT (mailbox on EX1) opens MeganB's mailbox (EX2) by MAPI MailboxId.
    let megan_guid = "6e1d2c3b-4a5f-4e6d-8c7b-9a0f1e2d3c4b";
    let r = client
        .post(format!(
            "{}/Microsoft-Server-ActiveSync?MailboxId={megan_guid}@contoso.com",
            handle.url()
        ))
        .header("host", "mail.contoso.com")
        .header("authorization", basic("GregT"))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(h(&r, "x-beserver"), Some("EX2"));
    let r = client
        .post(format!("{}/Microsoft-Server-ActiveSync", handle.url()))
        .header("host", "mail.contoso.com")
        .header("authorization", basic("GregT"))
        .header("x-anchormailbox", "MeganB@contoso.com")
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(h(&r, "x-beserver"), Some("EX2"));
    assert_eq!(h(&r, "x-calculatedbetarget"), Some("ex2.contoso.com"));
}
