//! Challenge sets per vdir and side (golden matrix), the HMA handshake and its client profile,
//! Basic, the NTLM leg, anonymous endpoints and bad input.

use axum::body::Body;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use mock_exchange::model::{AuthMethod, ExchangeVersion, Organization, VdirKind};

use crate::common::*;

const PATHS: [(VdirKind, &str); 8] = [
    (VdirKind::Autodiscover, "/Autodiscover/Autodiscover.xml"),
    (VdirKind::Ews, "/EWS/Exchange.asmx"),
    (VdirKind::Mapi, "/mapi/emsmdb/"),
    (VdirKind::Oab, "/OAB/oab.xml"),
    (VdirKind::Eas, "/Microsoft-Server-ActiveSync"),
    (VdirKind::Owa, "/owa/service.svc"),
    (VdirKind::Ecp, "/ecp/"),
    (VdirKind::Rpc, "/rpc/rpcproxy.dll"),
];

async fn matrix(title: &str, org: Organization, auth: Option<&str>, out: &mut String) {
    let lab = Lab::new(org, None);
    out.push_str(&format!("## {title}\n"));
    for host in [
        "mail.contoso.com",
        "mail.corp.contoso.com",
        "autodiscover.contoso.com",
    ] {
        for (kind, path) in PATHS {
            let mut b = req("POST", host, path);
            if let Some(a) = auth {
                b = b.header("authorization", a);
            }
            // OWA/ECP with forms auth are anonymous at this layer; challenge them via Basic.
            if matches!(kind, VdirKind::Owa | VdirKind::Ecp) {
                continue;
            }
            let r = lab.send("EX1", empty(b)).await;
            out.push_str(&format!(
                "{host} {kind:?}: {} {:?} proxy-support={:?} diag={:?}\n",
                r.status,
                r.all("www-authenticate"),
                r.header("proxy-support"),
                r.header("x-ms-diagnostics")
            ));
        }
    }
}

#[tokio::test]
async fn challenge_sets_per_vdir_side_and_configuration() {
    let mut out = String::new();
    matrix("contoso, no Authorization", contoso(), None, &mut out).await;
    matrix(
        "contoso, empty Bearer (HMA handshake)",
        contoso(),
        Some("Bearer"),
        &mut out,
    )
    .await;
    let mut no_default = contoso();
    no_default.auth_servers[0].is_default_authorization_endpoint = false;
    matrix(
        "EvoSts not the default authorization endpoint",
        no_default,
        None,
        &mut out,
    )
    .await;
    let mut no_oauth = contoso();
    for v in &mut no_oauth.servers[0].vdirs {
        v.internal_authentication_methods
            .retain(|m| *m != AuthMethod::OAuth);
        v.external_authentication_methods
            .retain(|m| *m != AuthMethod::OAuth);
        v.iis_authentication_methods
            .retain(|m| *m != AuthMethod::OAuth);
    }
    matrix("OAuth removed from every vdir", no_oauth, None, &mut out).await;
    let mut split = contoso();
    let ews = split.servers[0]
        .vdir_mut(VdirKind::Ews)
        .unwrap_or_else(|| panic!("ews"));
    ews.internal_url = Some("https://mail.corp.contoso.com/EWS/Exchange.asmx".into());
    ews.internal_authentication_methods = vec![AuthMethod::Ntlm, AuthMethod::OAuth];
    ews.external_authentication_methods = vec![AuthMethod::Basic];
    matrix(
        "EWS internal {Ntlm, OAuth} external {Basic}",
        split,
        None,
        &mut out,
    )
    .await;
    let mut e2010 = contoso();
    e2010.servers[0].version = ExchangeVersion::Ex2010;
    matrix(
        "EX1 is Exchange 2010 (never Bearer)",
        e2010,
        Some("Bearer"),
        &mut out,
    )
    .await;
    GOLDEN.check("challenges.txt", &out);
}

#[tokio::test]
async fn handshake_without_flighting_for_mac_and_when_the_profile_is_enabled() {
    let mut org = contoso();
    org.org_config.oauth2_client_profile_enabled = false;
    let lab = Lab::new(org, None);
    let mac = lab
        .send(
            "EX1",
            empty(
                req("POST", "mail.contoso.com", "/mapi/emsmdb/")
                    .header("authorization", "Bearer")
                    .header(
                        "user-agent",
                        "MacOutlook/16.9.0.180121 (Intelx64 Mac OS X Version 10.13.2)",
                    ),
            ),
        )
        .await;
    assert_eq!(mac.status, 401);
    assert_eq!(mac.header("x-ms-diagnostics"), None);
    assert!(mac.all("www-authenticate")[2]
        .contains("authorization_uri=\"https://login.windows.net/common/oauth2/authorize\""));
    let outlook = lab
        .send(
            "EX1",
            empty(
                req("POST", "mail.contoso.com", "/mapi/emsmdb/")
                    .header("authorization", "Bearer")
                    .header("x-clientapplication", "Outlook/16.0.8201.2102"),
            ),
        )
        .await;
    // No anchor, no POX body: the user is empty.
    assert_eq!(
        outlook.header("x-ms-diagnostics"),
        Some("4000000;reason=\"Flighting is not enabled for domain ''.\";error_category=\"oauth_not_available\"")
    );
    let pox = lab
        .send(
            "EX1",
            req("POST", "autodiscover.contoso.com", "/autodiscover/autodiscover.xml")
                .header("authorization", "Bearer")
                .header("user-agent", "Microsoft Office/15.0 (Windows NT 6.1; MAPI 15.0.4420; Pro)")
                .body(Body::from("<Autodiscover><Request><EMailAddress>GregT@Contoso.com</EMailAddress></Request></Autodiscover>"))
                .unwrap_or_else(|e| panic!("{e}")),
        )
        .await;
    assert_eq!(
        pox.header("x-ms-diagnostics"),
        Some("4000000;reason=\"Flighting is not enabled for domain 'gregt@contoso.com'.\";error_category=\"oauth_not_available\"")
    );
    let enabled = Lab::new(contoso(), None);
    let r = enabled
        .send(
            "EX1",
            empty(
                req("POST", "mail.contoso.com", "/mapi/emsmdb/")
                    .header("authorization", "Bearer")
                    .header("x-clientapplication", "Outlook/16.0.8201.2102"),
            ),
        )
        .await;
    assert_eq!(r.status, 401);
    assert_eq!(r.header("x-ms-diagnostics"), None);
}

fn basic(user: &str, pass: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!("{user}:{pass}")))
}

#[tokio::test]
async fn basic_works_where_enabled_only() {
    let lab = Lab::new(contoso(), None);
    for user in ["GregT", "CONTOSO\\GregT", "GregT@contoso.com"] {
        let r = lab
            .send(
                "EX1",
                empty(
                    req(
                        "POST",
                        "autodiscover.contoso.com",
                        "/autodiscover/autodiscover.xml",
                    )
                    .header("authorization", basic(user, "Contoso2017!")),
                ),
            )
            .await;
        assert_ne!(r.status, 401, "{user}");
        assert_eq!(r.header("x-calculatedbetarget"), Some("ex1.contoso.com"));
    }
    let wrong = lab
        .send(
            "EX1",
            empty(
                req(
                    "POST",
                    "autodiscover.contoso.com",
                    "/autodiscover/autodiscover.xml",
                )
                .header("authorization", basic("GregT", "nope")),
            ),
        )
        .await;
    assert_eq!(wrong.status, 401);
    assert_eq!(wrong.header("x-ms-diagnostics"), None);
    // EWS has no Basic in the guide's configuration.
    let ews = lab
        .send(
            "EX1",
            empty(
                req("POST", "mail.contoso.com", "/EWS/Exchange.asmx")
                    .header("authorization", basic("GregT", "Contoso2017!")),
            ),
        )
        .await;
    assert_eq!(ews.status, 401);
    // Malformed Basic credentials are a plain 401, never a panic.
    for bad in ["Basic", "Basic !!!", "Basic Zm9v"] {
        let r = lab
            .send(
                "EX1",
                empty(
                    req("GET", "mail.contoso.com", "/Microsoft-Server-ActiveSync")
                        .header("authorization", bad),
                ),
            )
            .await;
        assert_eq!(r.status, 401, "{bad}");
    }
}

#[tokio::test]
async fn disabled_accounts_cannot_use_basic() {
    let mut org = contoso();
    org.accounts[0].enabled = false;
    let lab = Lab::new(org, None);
    let r = lab
        .send(
            "EX1",
            empty(
                req("GET", "mail.contoso.com", "/Microsoft-Server-ActiveSync")
                    .header("authorization", basic("GregT", "Contoso2017!")),
            ),
        )
        .await;
    assert_eq!(r.status, 401);
}

#[tokio::test]
async fn an_ntlm_leg_without_a_connection_identity_gets_the_challenge_set_again() {
    let lab = Lab::new(contoso(), None);
    let r = lab
        .send(
            "EX1",
            empty(
                req("POST", "mail.contoso.com", "/EWS/Exchange.asmx").header(
                    "authorization",
                    "NTLM TlRMTVNTUAABAAAAB4IIogAAAAAAAAAAAAAAAAAAAAAKAGFKAAAADw==",
                ),
            ),
        )
        .await;
    assert_eq!(r.status, 401);
    assert_eq!(r.all("www-authenticate")[..2], ["Negotiate", "NTLM"]);
    assert_eq!(
        r.header("proxy-support"),
        Some("Session-Based-Authentication")
    );
}

#[tokio::test]
async fn anonymous_endpoints_reach_the_surface() {
    let lab = Lab::new(contoso(), None);
    let r = lab
        .send(
            "EX1",
            empty(req(
                "GET",
                "autodiscover.contoso.com",
                "/autodiscover/autodiscover.json/v1.0/GregT@contoso.com?Protocol=EWS",
            )),
        )
        .await;
    assert_ne!(r.status, 401);
    assert_eq!(r.header("x-feserver"), Some("EX1"));
    let owa = lab
        .send("EX1", empty(req("GET", "mail.contoso.com", "/owa/")))
        .await;
    assert_ne!(owa.status, 401);
}

#[tokio::test]
async fn unknown_paths_and_oversized_bodies_get_iis_errors() {
    let lab = Lab::new(contoso(), None);
    let r = lab
        .send(
            "EX1",
            empty(req("GET", "mail.contoso.com", "/nothing-here")),
        )
        .await;
    assert_eq!(r.status, 404);
    assert_eq!(r.header("x-feserver"), Some("EX1"));
    // EX1 runs on Windows Server 2012 R2, as the guide's Exchange 2016 (its captures' IIS 8.5).
    assert_eq!(
        r.header("server"),
        Some("Microsoft-IIS/8.5 Microsoft-HTTPAPI/2.0")
    );
    assert!(r.body.contains("HTTP Error 404.0 - Not Found"));
    let big = vec![b'a'; 4 * 1024 * 1024 + 1];
    let r = lab
        .send(
            "EX1",
            req("POST", "mail.contoso.com", "/EWS/Exchange.asmx")
                .body(Body::from(big))
                .unwrap_or_else(|e| panic!("{e}")),
        )
        .await;
    assert_eq!(r.status, 413);
    assert!(r.body.contains("413.0"));
}

#[tokio::test]
async fn every_answer_carries_the_common_headers() {
    let lab = Lab::new(contoso(), None);
    let r = lab
        .send(
            "EX1",
            empty(req("POST", "mail.contoso.com", "/EWS/Exchange.asmx")),
        )
        .await;
    assert_eq!(r.status, 401);
    let names: Vec<&str> = r.headers.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "content-length",
            "server",
            "request-id",
            "www-authenticate",
            "www-authenticate",
            "www-authenticate",
            "x-feserver",
            "x-powered-by",
            "date",
            "proxy-support"
        ]
    );
    assert_eq!(r.header("date"), Some("Tue, 19 Dec 2017 12:00:00 GMT"));
    assert_eq!(r.header("x-powered-by"), Some("ASP.NET"));
    let a = r.header("request-id").unwrap_or_default().to_string();
    let r2 = lab
        .send(
            "EX1",
            empty(req("POST", "mail.contoso.com", "/EWS/Exchange.asmx")),
        )
        .await;
    assert_ne!(
        Some(a.as_str()),
        r2.header("request-id"),
        "a new request-id per answer"
    );
}

#[tokio::test]
async fn odd_headers_never_panic() {
    let lab = Lab::new(contoso(), None);
    let long = "a".repeat(8000);
    let hosts = ["", "[::1]:443", "MAIL.CONTOSO.COM.", ":", long.as_str()];
    let authz = [
        "",
        "Bearer ",
        "Bearer   ",
        "bearer e30.e30.e30",
        "Basic ===",
        "Basic OjpA",
        "Negotiate",
        "Digest x",
        "BEARER a.b",
        long.as_str(),
    ];
    for host in hosts {
        for a in authz {
            let mut b = req("POST", host, "/mapi/emsmdb/?MailboxId=%ff%fe@&MailboxId=")
                .header("x-anchormailbox", "@@@")
                .header("x-forwarded-proto", "HTTP, https");
            if !a.is_empty() {
                b = b.header("authorization", a);
            }
            let r = lab.send("EX1", empty(b)).await;
            assert_eq!(r.status, 401, "host {host:.20} authz {a:.20}");
            assert_eq!(r.header("x-feserver"), Some("EX1"));
        }
    }
}
