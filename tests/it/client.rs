//! The reference client against both mocks over real loopback sockets, one shared lab clock:
//! every Outlook profile's connection sequence, its fallbacks, its failures, and the golden
//! transcripts of two connections (`tests/golden/client/`).

use std::collections::BTreeMap;

use hma_lab::client::*;
use lab_kit::testkit::Golden;
use lab_kit::Clock;
use uuid::Uuid;

/// `tests/golden/client/` (`UPDATE_GOLDEN=1` rewrites).
const GOLDEN: Golden = lab_kit::golden_dir!("tests/golden/client");

struct Lab {
    aad: mock_aad::Handle,
    exchange: mock_exchange::Handle,
    clock: Clock,
}

impl Lab {
    async fn start() -> Lab {
        let clock = Clock::frozen_at_unix(1_510_920_000);
        let aad = mock_aad::start(mock_aad::Config {
            clock: clock.clone(),
            ..mock_aad::Config::contoso()
        })
        .await
        .expect("mock-aad starts");
        let exchange = mock_exchange::start(mock_exchange::Config {
            clock: clock.clone(),
            aad_url: Some(aad.url()),
            ..mock_exchange::Config::contoso()
        })
        .await
        .expect("mock-exchange starts");
        Lab {
            aad,
            exchange,
            clock,
        }
    }

    fn transport(&self) -> Transport {
        let ex = self.exchange.url();
        let ex_addr: std::net::SocketAddr = ex
            .trim_start_matches("http://")
            .parse()
            .expect("exchange address");
        let aad_addr = self.aad.addr();
        Transport::plain(
            move |host| match host {
                "mail.contoso.com" | "autodiscover.contoso.com" => Some(ex_addr),
                "login.microsoftonline.com" | "login.windows.net" => Some(aad_addr),
                _ => None,
            },
            self.clock.clone(),
        )
    }

    fn outlook(&self, profile: Profile, user: &str) -> Outlook {
        Outlook::new(profile, Settings::contoso(user), self.transport())
    }

    fn set_org(&self, f: impl FnOnce(&mut mock_exchange::Organization)) {
        f(&mut self.exchange.state().org_mut());
        self.exchange.state().iisreset();
    }
}

/// `(step, method, authorization label, status)` of every exchange.
fn seq(s: &ConnectionStatus) -> Vec<(String, String, Option<String>, u16)> {
    s.exchanges
        .iter()
        .map(|e| {
            (
                e.step.clone(),
                e.method.clone(),
                e.authorization.clone(),
                e.status,
            )
        })
        .collect()
}

fn row(
    step: &str,
    method: &str,
    auth: Option<&str>,
    status: u16,
) -> (String, String, Option<String>, u16) {
    (step.into(), method.into(), auth.map(str::to_string), status)
}

#[tokio::test]
async fn happy_path_outlook_2016_is_bearer_over_mapi_http() {
    let lab = Lab::start().await;
    let mut o = lab.outlook(Profile::Outlook2016, "GregT@contoso.com");
    let s = o.connect().await;
    assert_eq!(s.status, "Established", "{s:#?}");
    assert_eq!(s.protocol, "MAPI/HTTP");
    assert_eq!(s.server, "mail.contoso.com");
    assert_eq!(s.authn.as_deref(), Some("Bearer"));
    assert_eq!(
        seq(&s),
        vec![
            row("autodiscover", "POST", Some("Bearer (empty)"), 401),
            row("aad-authorize", "GET", None, 200),
            row("aad-signin", "POST", None, 200),
            row("aad-signin", "POST", None, 302),
            row("aad-token", "POST", None, 200),
            row("autodiscover", "POST", Some("Bearer"), 200),
            row("mapi", "POST", Some("Bearer (empty)"), 401),
            row("aad-token", "POST", None, 200),
            row("mapi", "POST", Some("Bearer"), 200),
            // Cached mode: the offline address book, with the MAPI connection's token.
            row("oab", "GET", Some("Bearer"), 200),
        ]
    );
    // The handshake's challenge carries authorization_uri; the authorize request is Outlook's.
    let first = &s.exchanges[0];
    assert!(first
        .www_authenticate
        .iter()
        .any(|w| w.starts_with("Bearer ")
            && w.contains(
                "authorization_uri=\"https://login.windows.net/common/oauth2/authorize\""
            )));
    let authorize = url::Url::parse(&s.exchanges[1].url).expect("url");
    let q: BTreeMap<String, String> = authorize.query_pairs().into_owned().collect();
    assert_eq!(authorize.host_str(), Some("login.windows.net"));
    assert_eq!(authorize.path(), "/common/oauth2/authorize");
    assert_eq!(q["response_type"], "code");
    assert_eq!(q["client_id"], aad::OFFICE_CLIENT_ID);
    assert_eq!(q["resource"], "https://autodiscover.contoso.com/");
    assert_eq!(q["redirect_uri"], "urn:ietf:wg:oauth:2.0:oob");
    assert_eq!(q["login_hint"], "GregT@contoso.com");
    assert_eq!(q["haschrome"], "1");
    assert!(Uuid::parse_str(&q["client-request-id"]).is_ok());
    // The sign-in ends at the oob redirect with a code; the tokens are for both resources.
    let loc = s.exchanges[3].location.clone().unwrap_or_default();
    assert!(loc.starts_with("urn:ietf:wg:oauth:2.0:oob?code="), "{loc}");
    assert_eq!(
        s.exchanges[4].url,
        "https://login.windows.net/common/oauth2/token"
    );
    let auds: Vec<&str> = s
        .tokens
        .iter()
        .filter_map(|t| t.claims["aud"].as_str())
        .collect();
    assert_eq!(
        auds,
        vec![
            "https://autodiscover.contoso.com/",
            "https://mail.contoso.com/"
        ]
    );
    assert_eq!(s.tokens[1].claims["upn"], "GregT@contoso.com");
    assert_eq!(s.tokens[1].claims["amr"], serde_json::json!(["pwd"]));
    assert!(s.bearer_rejections.is_empty());
    assert!(s.exchanges.iter().all(|e| e.x_ms_diagnostics.is_none()));
}

#[tokio::test]
async fn outlook_2016_reconnect_uses_cached_tokens_without_azure_ad() {
    let lab = Lab::start().await;
    let mut o = lab.outlook(Profile::Outlook2016, "GregT@contoso.com");
    assert!(o.connect().await.established());
    let s = o.reconnect().await;
    assert_eq!(
        seq(&s),
        vec![
            row("autodiscover", "POST", Some("Bearer"), 200),
            row("mapi", "POST", Some("Bearer"), 200),
            row("oab", "GET", Some("Bearer"), 200),
        ]
    );
    assert_eq!(s.authn.as_deref(), Some("Bearer"));
    assert_eq!(o.cached_tokens().len(), 2);
}

#[tokio::test]
async fn expired_access_token_is_refreshed_silently() {
    let lab = Lab::start().await;
    let mut o = lab.outlook(Profile::Outlook2016, "GregT@contoso.com");
    assert!(o.connect().await.established());
    lab.clock.advance_secs(2 * 3600);
    let s = o.reconnect().await;
    assert_eq!(
        seq(&s),
        vec![
            row("aad-token", "POST", None, 200),
            row("autodiscover", "POST", Some("Bearer"), 200),
            row("aad-token", "POST", None, 200),
            row("mapi", "POST", Some("Bearer"), 200),
            // Cached mode: the offline address book, with the MAPI connection's token.
            row("oab", "GET", Some("Bearer"), 200),
        ]
    );
    assert_eq!(s.authn.as_deref(), Some("Bearer"));
}

#[tokio::test]
async fn password_change_refresh_fails_50173_then_interactive_sign_in_again() {
    let lab = Lab::start().await;
    let mut o = lab.outlook(Profile::Outlook2016, "GregT@contoso.com");
    assert!(o.connect().await.established());
    // Set-MsolUserPassword: new password, tokens issued before now are refused.
    lab.clock.advance_secs(60);
    {
        let now = lab.aad.state().now();
        let mut dir = lab.aad.state().dir_mut();
        let user = dir
            .tenants
            .iter_mut()
            .flat_map(|t| t.users.iter_mut())
            .find(|u| u.upn == "GregT@contoso.com")
            .expect("GregT");
        user.password = "NewPassw0rd!".into();
        user.tokens_valid_from = Some(now);
    }
    lab.clock.advance_secs(2 * 3600);
    o.settings.password = "NewPassw0rd!".into();
    let s = o.reconnect().await;
    assert_eq!(s.status, "Established", "{s:#?}");
    assert_eq!(s.authn.as_deref(), Some("Bearer"));
    assert_eq!(s.exchanges[0].step, "aad-token");
    assert_eq!(s.exchanges[0].status, 400);
    assert_eq!(s.exchanges[0].aadsts, Some(50173));
    assert_eq!(s.exchanges[1].step, "aad-authorize");
    assert!(s.exchanges.iter().any(|e| e.step == "aad-signin"
        && e.location
            .as_deref()
            .is_some_and(|l| l.starts_with("urn:ietf:wg:oauth:2.0:oob?code="))));
    assert_eq!(s.aadsts_codes(), vec![50173]);
}

#[tokio::test]
async fn password_change_with_the_prompt_cancelled_is_disconnected_need_password() {
    let lab = Lab::start().await;
    let mut o = lab.outlook(Profile::Outlook2016, "GregT@contoso.com");
    assert!(o.connect().await.established());
    lab.clock.advance_secs(60);
    {
        let now = lab.aad.state().now();
        let mut dir = lab.aad.state().dir_mut();
        for u in dir.tenants.iter_mut().flat_map(|t| t.users.iter_mut()) {
            if u.upn == "GregT@contoso.com" {
                u.tokens_valid_from = Some(now);
            }
        }
    }
    lab.clock.advance_secs(2 * 3600);
    o.settings.cancel_password_prompt = true;
    let s = o.reconnect().await;
    assert_eq!(s.status, "Disconnected");
    assert_eq!(s.detail.as_deref(), Some("need password"));
    assert_eq!(s.authn, None);
    assert_eq!(seq(&s), vec![row("aad-token", "POST", None, 400)]);
}

#[tokio::test]
async fn mfa_user_gets_a_token_with_mfa_in_amr() {
    let lab = Lab::start().await;
    let mut o = lab.outlook(Profile::Outlook2016, "MeganB@contoso.com");
    let s = o.connect().await;
    assert_eq!(s.authn.as_deref(), Some("Bearer"), "{s:#?}");
    assert_eq!(s.tokens[0].claims["amr"], serde_json::json!(["pwd", "mfa"]));
    // username skipped by login_hint: password page, code page, KMSI, redirect.
    let signin = s
        .exchanges
        .iter()
        .filter(|e| e.step == "aad-signin")
        .count();
    assert_eq!(signin, 3);
}

#[tokio::test]
async fn wrong_mfa_code_leaves_outlook_disconnected() {
    let lab = Lab::start().await;
    let mut o = lab.outlook(Profile::Outlook2016, "MeganB@contoso.com");
    o.settings.mfa_code = "000000".into();
    let s = o.connect().await;
    assert_eq!(s.status, "Disconnected");
    assert!(
        s.detail
            .as_deref()
            .is_some_and(|d| d.contains("verification code")),
        "{s:#?}"
    );
}

#[tokio::test]
async fn wrong_password_shows_aadsts50126_and_disconnects() {
    let lab = Lab::start().await;
    let mut o = lab.outlook(Profile::Outlook2016, "GregT@contoso.com");
    o.settings.password = "wrong".into();
    let s = o.connect().await;
    assert_eq!(s.status, "Disconnected");
    assert_eq!(s.aadsts_codes(), vec![50126]);
}

fn no_bearer_sent(s: &ConnectionStatus) -> bool {
    s.exchanges.iter().all(|e| {
        !e.authorization
            .as_deref()
            .is_some_and(|a| a.starts_with("Bearer"))
    }) && !s.exchanges.iter().any(|e| e.step.starts_with("aad"))
}

#[tokio::test]
async fn outlook_2010_never_sends_bearer_and_uses_ntlm_over_rpc_http() {
    let lab = Lab::start().await;
    let mut o = lab.outlook(Profile::Outlook2010, "GregT@contoso.com");
    let s = o.connect().await;
    assert_eq!(
        seq(&s),
        vec![
            row("autodiscover", "POST", None, 401),
            row("autodiscover", "POST", Some("NTLM"), 401),
            row("autodiscover", "POST", Some("NTLM"), 200),
            row("rpc", "RPC_IN_DATA", None, 401),
            row("rpc", "RPC_IN_DATA", Some("NTLM"), 401),
            row("rpc", "RPC_IN_DATA", Some("NTLM"), 200),
        ],
        "{s:#?}"
    );
    assert_eq!(s.protocol, "RPC/HTTP");
    assert_eq!(s.server, "mail.contoso.com");
    assert_eq!(s.authn.as_deref(), Some("NTLM"));
    let guid = lab
        .exchange
        .state()
        .org()
        .mailbox_by_smtp("GregT@contoso.com")
        .map(|m| m.guid)
        .expect("GregT's mailbox");
    assert_eq!(
        s.exchanges[3].url,
        format!("https://mail.contoso.com/rpc/rpcproxy.dll?{guid}@contoso.com:6001")
    );
    assert!(s.tokens.is_empty());
}

#[tokio::test]
async fn without_ntlm_the_client_uses_basic_where_it_is_offered() {
    let lab = Lab::start().await;
    let mut o = lab
        .outlook(Profile::Outlook2010, "GregT@contoso.com")
        .with_ntlm(None);
    let s = o.connect().await;
    assert_eq!(s.authn.as_deref(), Some("Basic"), "{s:#?}");
    assert_eq!(s.protocol, "RPC/HTTP");
    // MAPI offers no Basic: Outlook 2016 without NTLM and without modern auth cannot connect.
    let mut o = lab
        .outlook(Profile::Outlook2016, "GregT@contoso.com")
        .with_ntlm(None);
    o.settings.registry.enable_adal = Some(0);
    let s = o.connect().await;
    assert_eq!(s.status, "Disconnected");
    assert_eq!(
        s.detail.as_deref(),
        Some("no authentication method this client can use was offered")
    );
}

#[tokio::test]
async fn wrong_onprem_password_is_refused_over_ntlm() {
    let lab = Lab::start().await;
    let mut o = lab.outlook(Profile::Outlook2010, "GregT@contoso.com");
    o.settings.onprem_password = Some("wrong".into());
    let s = o.connect().await;
    assert_eq!(s.status, "Disconnected");
    assert_eq!(s.detail.as_deref(), Some("NTLM logon refused"));
}

#[tokio::test]
async fn outlook_2013_needs_enable_adal_and_version_for_bearer() {
    let lab = Lab::start().await;
    let mut o = lab.outlook(Profile::Outlook2013, "GregT@contoso.com");
    let s = o.connect().await;
    assert!(no_bearer_sent(&s), "{s:#?}");
    assert_eq!(s.protocol, "MAPI/HTTP");
    assert_eq!(s.authn.as_deref(), Some("NTLM"));

    o.settings.registry.enable_adal = Some(1);
    let s = o.connect().await;
    assert!(no_bearer_sent(&s), "EnableADAL without Version: {s:#?}");

    o.settings.registry.version = Some(1);
    let s = o.connect().await;
    assert_eq!(s.authn.as_deref(), Some("Bearer"), "{s:#?}");
    assert_eq!(s.protocol, "MAPI/HTTP");
    assert_eq!(
        s.exchanges[0].authorization.as_deref(),
        Some("Bearer (empty)")
    );
}

#[tokio::test]
async fn outlook_2016_with_enable_adal_0_uses_ntlm() {
    let lab = Lab::start().await;
    let mut o = lab.outlook(Profile::Outlook2016, "GregT@contoso.com");
    o.settings.registry.enable_adal = Some(0);
    let s = o.connect().await;
    assert!(no_bearer_sent(&s));
    assert_eq!(
        (s.protocol.as_str(), s.authn.as_deref()),
        ("MAPI/HTTP", Some("NTLM"))
    );
}

#[tokio::test]
async fn mac_uses_bearer_over_ews_unless_disable_modern_auth_is_yes() {
    let lab = Lab::start().await;
    let mut o = lab.outlook(Profile::Outlook2016Mac, "GregT@contoso.com");
    let s = o.connect().await;
    assert_eq!(s.protocol, "EWS");
    assert_eq!(s.authn.as_deref(), Some("Bearer"), "{s:#?}");
    assert!(s.exchanges.iter().all(|e| e.step != "mapi"));

    o.settings.mac_disable_modern_auth = true;
    let s = o.connect().await;
    assert!(no_bearer_sent(&s), "{s:#?}");
    assert_eq!(s.authn.as_deref(), Some("NTLM"));
}

#[tokio::test]
async fn oauth2_client_profile_disabled_gives_4000000_and_outlook_uses_ntlm() {
    let lab = Lab::start().await;
    lab.set_org(|o| o.org_config.oauth2_client_profile_enabled = false);
    let mut o = lab.outlook(Profile::Outlook2016, "GregT@contoso.com");
    let s = o.connect().await;
    assert_eq!(
        s.exchanges[0].x_ms_diagnostics.as_deref(),
        Some("4000000;reason=\"Flighting is not enabled for domain 'gregt@contoso.com'.\";error_category=\"oauth_not_available\"")
    );
    assert!(
        !s.exchanges.iter().any(|e| e.step.starts_with("aad")),
        "{s:#?}"
    );
    assert_eq!(s.authn.as_deref(), Some("NTLM"));
    assert_eq!(s.protocol, "MAPI/HTTP");
    let mapi_first = s.exchanges.iter().find(|e| e.step == "mapi").expect("mapi");
    assert_eq!(mapi_first.authorization.as_deref(), Some("Bearer (empty)"));
    assert!(mapi_first
        .x_ms_diagnostics
        .as_deref()
        .is_some_and(|d| d.starts_with("4000000;")));

    // Outlook for Mac is not gated by the client profile.
    let mut mac = lab.outlook(Profile::Outlook2016Mac, "GregT@contoso.com");
    assert_eq!(mac.connect().await.authn.as_deref(), Some("Bearer"));
}

#[tokio::test]
async fn evosts_not_default_gives_no_authorization_uri_and_ntlm() {
    let lab = Lab::start().await;
    lab.set_org(|o| {
        for a in &mut o.auth_servers {
            a.is_default_authorization_endpoint = false;
        }
    });
    let mut o = lab.outlook(Profile::Outlook2016, "GregT@contoso.com");
    let s = o.connect().await;
    let bearer = s.exchanges[0]
        .www_authenticate
        .iter()
        .find(|w| w.starts_with("Bearer"))
        .expect("a Bearer challenge is still offered");
    assert!(!bearer.contains("authorization_uri"), "{bearer}");
    assert!(!s.exchanges.iter().any(|e| e.step.starts_with("aad")));
    assert_eq!(s.authn.as_deref(), Some("NTLM"));

    // The native EAS client falls back to Basic.
    let mut eas = lab.outlook(Profile::NativeEas, "GregT@contoso.com");
    let s = eas.connect().await;
    assert_eq!(
        (s.protocol.as_str(), s.authn.as_deref()),
        ("EAS", Some("Basic")),
        "{s:#?}"
    );
}

#[tokio::test]
async fn native_eas_uses_bearer_when_the_challenge_has_authorization_uri() {
    let lab = Lab::start().await;
    let mut eas = lab.outlook(Profile::NativeEas, "GregT@contoso.com");
    let s = eas.connect().await;
    assert_eq!(
        seq(&s)
            .into_iter()
            .filter(|r| r.0 == "eas" || r.0 == "eas-autodiscover")
            .collect::<Vec<_>>(),
        vec![
            row("eas-autodiscover", "GET", None, 200),
            row("eas", "OPTIONS", Some("Bearer (empty)"), 401),
            row("eas", "OPTIONS", Some("Bearer"), 200),
        ]
    );
    assert_eq!(s.server, "mail.contoso.com");
    assert_eq!(s.authn.as_deref(), Some("Bearer"));
    assert_eq!(s.tokens[0].claims["aud"], "https://mail.contoso.com/");
}

#[tokio::test]
async fn mapi_http_disabled_means_rpc_http_and_never_bearer_on_rpc() {
    let lab = Lab::start().await;
    lab.set_org(|o| o.org_config.mapi_http_enabled = false);
    let mut o = lab.outlook(Profile::Outlook2016, "GregT@contoso.com");
    let s = o.connect().await;
    assert_eq!(s.protocol, "RPC/HTTP", "{s:#?}");
    assert_eq!(s.authn.as_deref(), Some("NTLM"));
    let rpc: Vec<_> = s.exchanges.iter().filter(|e| e.step == "rpc").collect();
    assert_eq!(rpc[0].authorization, None);
    assert!(rpc
        .iter()
        .all(|e| e.authorization.as_deref() != Some("Bearer")));
    // Autodiscover itself still went the modern way.
    assert_eq!(
        s.exchanges[0].authorization.as_deref(),
        Some("Bearer (empty)")
    );
}

#[tokio::test]
async fn bearer_rejected_2000005_is_recorded_then_legacy_is_tried() {
    let lab = Lab::start().await;
    // AlexW is cloud-only: Azure AD signs her in, Exchange has no account for her.
    let mut o = lab.outlook(Profile::Outlook2016, "AlexW@contoso.com");
    let s = o.connect().await;
    assert_eq!(
        s.bearer_rejections,
        vec!["2000005;reason=\"The user specified by the user-context in the token does not exist.\";error_category=\"invalid_user\"".to_string()]
    );
    assert_eq!(s.status, "Disconnected");
    assert_eq!(s.detail.as_deref(), Some("NTLM logon refused"));
    let last = s.exchanges.last().expect("exchanges");
    assert_eq!(
        (
            last.step.as_str(),
            last.authorization.as_deref(),
            last.status
        ),
        ("autodiscover", Some("NTLM"), 401)
    );
}

#[tokio::test]
async fn azure_ad_unreachable_is_recorded_and_outlook_falls_back_to_ntlm() {
    let lab = Lab::start().await;
    // A client segment that cannot reach Azure AD: its names lead to a closed port.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr")
    };
    let ex: std::net::SocketAddr = lab
        .exchange
        .url()
        .trim_start_matches("http://")
        .parse()
        .expect("addr");
    let mut o = Outlook::new(
        Profile::Outlook2016,
        Settings::contoso("GregT@contoso.com"),
        Transport::plain(
            move |host| match host {
                "mail.contoso.com" | "autodiscover.contoso.com" => Some(ex),
                "login.windows.net" => Some(closed),
                _ => None,
            },
            lab.clock.clone(),
        ),
    );
    let s = o.connect().await;
    let aad = s
        .exchanges
        .iter()
        .find(|e| e.step == "aad-authorize")
        .expect("the authorize attempt is journalled");
    assert_eq!(aad.status, 0);
    assert!(aad.error.is_some());
    assert_eq!(s.authn.as_deref(), Some("NTLM"), "{s:#?}");
    assert_eq!(s.protocol, "MAPI/HTTP");
    // Azure AD is tried once per connection attempt, not again for MAPI.
    assert_eq!(
        s.exchanges
            .iter()
            .filter(|e| e.step.starts_with("aad"))
            .count(),
        1
    );
}

#[tokio::test]
async fn status_serializes_without_token_strings() {
    let lab = Lab::start().await;
    let mut o = lab.outlook(Profile::Outlook2016, "GregT@contoso.com");
    let s = o.connect().await;
    let json = serde_json::to_value(&s).expect("serializes");
    assert_eq!(json["authn"], "Bearer");
    assert_eq!(json["protocol"], "MAPI/HTTP");
    assert_eq!(json["status"], "Established");
    assert_eq!(json["tokens"][0]["claims"]["upn"], "GregT@contoso.com");
    assert!(json["tokens"][0].get("access_token").is_none());
    let text = json.to_string();
    assert!(!text.contains("eyJ"), "no JWT in the report");
    let back: ConnectionStatus = serde_json::from_str(&text).expect("reads back");
    assert_eq!(back.authn, s.authn);
    assert_eq!(back.exchanges, s.exchanges);
    assert_eq!(back.tokens[0].claims, s.tokens[0].claims);
    assert!(back.tokens[0].access_token.is_empty());
}

#[tokio::test]
async fn outlook_request_headers_are_outlooks() {
    let lab = Lab::start().await;
    let mut o = lab.outlook(Profile::Outlook2016, "GregT@contoso.com");
    let s = o.connect().await;
    let ad = &s.exchanges[0];
    assert_eq!(
        ad.url,
        "https://autodiscover.contoso.com/autodiscover/autodiscover.xml"
    );
    assert_eq!(ad.request_header("x-mapihttpcapability"), Some("1"));
    assert_eq!(
        ad.request_header("x-anchormailbox"),
        Some("GregT@contoso.com")
    );
    assert_eq!(
        ad.request_header("x-clientcanhandle"),
        Some("Negotiate,ExHttpInfo")
    );
    assert_eq!(
        ad.request_header("user-agent"),
        Some("Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.15928; Pro)")
    );
    assert_eq!(ad.request_header("authorization"), Some("Bearer (empty)"));
    assert_eq!(ad.response_header("x-feserver"), Some("EX1"));
    let mapi = s
        .exchanges
        .iter()
        .rfind(|e| e.step == "mapi")
        .expect("mapi");
    assert_eq!(mapi.request_header("x-requesttype"), Some("Connect"));
    assert_eq!(
        mapi.request_header("content-type"),
        Some("application/mapi-http")
    );
    assert_eq!(
        mapi.request_header("x-clientapplication"),
        Some("Outlook/16.0.15928.20006")
    );
    assert_eq!(
        mapi.request_header("user-agent"),
        Some("Microsoft Office/16.0 (Windows NT 10.0; MAPI 16.0.15928; Pro)")
    );
    let rid = mapi.request_header("x-requestid").unwrap_or_default();
    assert!(rid.starts_with('{') && rid.ends_with("}:1"), "{rid}");
    assert_eq!(mapi.request_header("x-clientinfo"), Some(rid));
    assert_eq!(mapi.request_header("authorization"), Some("Bearer"));
    assert_eq!(mapi.response_header("x-responsecode"), Some("0"));
    // No secret is kept in the journal.
    let text = serde_json::to_string(&s).expect("json");
    assert!(!text.contains("Contoso2017!"));
    assert!(s.exchanges.iter().all(|e| e
        .response_headers
        .iter()
        .filter(|(k, _)| k == "set-cookie")
        .all(|(_, v)| v.ends_with("=…"))));
}

#[tokio::test]
async fn missing_spn_gives_the_aadsts50001_oob_redirect() {
    let lab = Lab::start().await;
    {
        let exchange_app: Uuid = "00000002-0000-0ff1-ce00-000000000000"
            .parse()
            .expect("uuid");
        let mut dir = lab.aad.state().dir_mut();
        for app in dir
            .tenants
            .iter_mut()
            .flat_map(|t| t.applications.iter_mut())
            .filter(|a| a.app_id == exchange_app)
        {
            app.service_principal_names
                .retain(|s| !s.to_ascii_lowercase().contains("mail.contoso.com"));
        }
    }
    let mut o = lab.outlook(Profile::Outlook2016, "GregT@contoso.com");
    let s = o.connect().await;
    assert_eq!(s.status, "Disconnected", "{s:#?}");
    // The silent MRRT attempt is refused, then the interactive one ends at the oob error.
    let oob = s
        .exchanges
        .iter()
        .filter_map(|e| e.location.as_deref())
        .find(|l| l.starts_with("urn:ietf:wg:oauth:2.0:oob?error="))
        .expect("an oob error redirect");
    assert!(
        oob.starts_with("urn:ietf:wg:oauth:2.0:oob?error=invalid_resource&error_description=AADSTS50001%3a+The+application+named+https%3a%2f%2fmail.contoso.com%2f+was+not+found+in+the+tenant+named+contoso.com."),
        "{oob}"
    );
    assert_eq!(*s.aadsts_codes().last().expect("codes"), 50001);
    assert!(s
        .detail
        .as_deref()
        .is_some_and(|d| d.starts_with("invalid_resource: AADSTS50001: The application named https://mail.contoso.com/ was not found")));
}

#[tokio::test]
async fn conditional_access_block_shows_53003_and_disconnects() {
    let lab = Lab::start().await;
    lab.aad.state().dir_mut().tenants[0]
        .conditional_access
        .push(mock_aad::model::CaRule {
            name: "block".into(),
            enabled: true,
            users: vec!["GregT@contoso.com".into()],
            apps: vec!["*".into()],
            action: mock_aad::model::CaAction::Block,
        });
    let mut o = lab.outlook(Profile::Outlook2016, "GregT@contoso.com");
    let s = o.connect().await;
    assert_eq!(s.status, "Disconnected");
    assert_eq!(s.aadsts_codes(), vec![53003]);
    assert_eq!(s.authn, None);
}

/// Status, headers and body a broken server answers every request with.
type GarbageCase = (u16, Vec<(&'static str, &'static str)>, &'static [u8]);

/// A hostile or broken network: every answer is garbage. The client reports, never panics.
#[tokio::test]
async fn garbage_answers_never_panic_the_client() {
    use axum::response::IntoResponse;
    let cases: Vec<GarbageCase> = vec![
        (
            401,
            vec![(
                "www-authenticate",
                "Bearer authorization_uri=\"https://login.windows.net/common/oauth2/authorize\"",
            )],
            b"",
        ),
        (
            401,
            vec![("www-authenticate", "Bearer authorization_uri=\"::::\"")],
            b"",
        ),
        (401, vec![("www-authenticate", "NTLM !!!notbase64")], b""),
        (
            401,
            vec![("www-authenticate", "NTLM"), ("www-authenticate", "Basic")],
            b"",
        ),
        (302, vec![("location", "/again")], b""),
        (
            302,
            vec![(
                "location",
                "urn:ietf:wg:oauth:2.0:oob?error=%zz&error_description=%",
            )],
            b"",
        ),
        (
            200,
            vec![],
            b"<form action=\"\"><input name=\"flowToken\" value=\"x\"><input name=\"passwd\">",
        ),
        (200, vec![], b"<Autodiscover><ErrorCode>"),
        (
            200,
            vec![],
            b"<Protocol Type=\"mapiHttp\"><MailStore><ExternalUrl>not a url</ExternalUrl>",
        ),
        (200, vec![], b"\xff\xfe\x00garbage"),
        (400, vec![], b"{\"error\": 5, \"error_codes\": [\"x\"]}"),
    ];
    for (status, headers, body) in cases {
        let app = axum::Router::new().fallback(move || {
            let headers = headers.clone();
            async move {
                let mut r = (
                    axum::http::StatusCode::from_u16(status).expect("status"),
                    body.to_vec(),
                )
                    .into_response();
                for (k, v) in headers {
                    r.headers_mut()
                        .append(k, axum::http::HeaderValue::from_static(v));
                }
                r
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        for profile in [
            Profile::Outlook2016,
            Profile::Outlook2010,
            Profile::NativeEas,
        ] {
            let mut o = Outlook::new(
                profile,
                Settings::contoso("GregT@contoso.com"),
                Transport::plain_to(addr, Clock::frozen_at_unix(1_510_920_000)),
            );
            let s = o.connect().await;
            assert_eq!(s.status, "Disconnected", "{status} {profile:?}: {s:#?}");
            assert!(s.exchanges.len() < 64);
        }
        server.abort();
    }
}

/// Masks what changes from run to run: correlation ids, session state, codes, NTLM messages,
/// JWTs. Fixed identifiers (client ids, tenant, mailbox GUID) stay visible.
fn mask(text: &str) -> String {
    let mut out = text.to_string();
    for key in [
        "client-request-id=",
        "session_state=",
        "code=",
        "NTLM TlRM",
        "Bearer ey",
    ] {
        let mut masked = String::new();
        let mut rest = out.as_str();
        while let Some(at) = rest.find(key) {
            masked.push_str(&rest[..at + key.len()]);
            let tail = &rest[at + key.len()..];
            let end = tail.find(['&', '"', ' ', '\n']).unwrap_or(tail.len());
            if end > 0 {
                masked.push_str("<masked>");
            }
            rest = &tail[end..];
        }
        masked.push_str(rest);
        out = masked;
    }
    out
}

/// One line per exchange: what a Fiddler summary of the run shows.
fn transcript(s: &ConnectionStatus) -> String {
    let mut t = format!(
        "profile={:?} server={} protocol={} authn={} status={} detail={}\n",
        s.profile,
        s.server,
        s.protocol,
        s.authn.as_deref().unwrap_or("-"),
        s.status,
        s.detail.as_deref().unwrap_or("-")
    );
    for e in &s.exchanges {
        t.push_str(&format!(
            "{} {} {} auth={} -> {}\n",
            e.step,
            e.method,
            e.url,
            e.authorization.as_deref().unwrap_or("-"),
            e.status
        ));
        for w in &e.www_authenticate {
            t.push_str(&format!("    www-authenticate: {w}\n"));
        }
        if let Some(d) = &e.x_ms_diagnostics {
            t.push_str(&format!("    x-ms-diagnostics: {d}\n"));
        }
        if let Some(l) = &e.location {
            t.push_str(&format!("    location: {l}\n"));
        }
        if let Some(c) = e.aadsts {
            t.push_str(&format!("    aadsts: {c}\n"));
        }
    }
    mask(&t)
}

#[tokio::test]
async fn golden_transcripts() {
    let lab = Lab::start().await;
    let s = lab
        .outlook(Profile::Outlook2016, "GregT@contoso.com")
        .connect()
        .await;
    GOLDEN.check("outlook2016-happy-path.txt", transcript(&s));
    let s = lab
        .outlook(Profile::Outlook2010, "GregT@contoso.com")
        .connect()
        .await;
    GOLDEN.check("outlook2010-ntlm-rpc.txt", transcript(&s));
    lab.set_org(|o| o.org_config.oauth2_client_profile_enabled = false);
    let s = lab
        .outlook(Profile::Outlook2016, "GregT@contoso.com")
        .connect()
        .await;
    GOLDEN.check("outlook2016-flighting-4000000.txt", transcript(&s));
}

#[test]
fn mask_hides_volatile_values_only() {
    assert_eq!(
        mask("a=7f199a96-50b1-4675-9db0-57b362c5d564&client-request-id=7f199a96-50b1-4675-9db0-57b362c5d564 NTLM TlRMTVNT== x?code=abc&state=1 Bearer eyJx.y authn=NTLM status=x"),
        "a=7f199a96-50b1-4675-9db0-57b362c5d564&client-request-id=<masked> NTLM TlRM<masked> x?code=<masked>&state=1 Bearer ey<masked> authn=NTLM status=x"
    );
    assert_eq!(mask("NTLM"), "NTLM");
}

#[tokio::test]
async fn tenant_wide_revocation_unicorn_kills_the_refresh_token_then_sign_in_again() {
    let lab = Lab::start().await;
    let mut o = lab.outlook(Profile::Outlook2016, "GregT@contoso.com");
    assert!(o.connect().await.established());
    lab.clock.advance_secs(60);
    {
        let now = lab.aad.state().now();
        let mut dir = lab.aad.state().dir_mut();
        dir.tenants[0].tokens_valid_from = Some(now);
        dir.tenants[0].revocation_response = mock_aad::model::RevocationResponse::Unicorn;
    }
    lab.clock.advance_secs(2 * 3600);
    let s = o.reconnect().await;
    // The refused refresh token is not tried again: the next step is the sign-in window.
    assert_eq!(
        seq(&s)[..2],
        [
            row("aad-token", "POST", None, 400),
            row("aad-authorize", "GET", None, 302)
        ]
    );
    assert_eq!(s.exchanges[0].aadsts, Some(50173));
    assert!(s.exchanges[0]
        .response_headers
        .iter()
        .any(|(k, v)| k == "cache-control" && v.contains("not-bloody-safe")));
    assert!(s.exchanges.iter().any(|e| e.step == "aad-authorize"));
    assert_eq!(s.authn.as_deref(), Some("Bearer"));
}

#[tokio::test]
async fn the_azure_ad_session_is_reused_on_reconnect_but_not_on_a_fresh_connect() {
    let lab = Lab::start().await;
    let mut o = lab.outlook(Profile::Outlook2016, "GregT@contoso.com");
    assert!(o.connect().await.established());
    // Azure AD forgets every refresh token: the refresh fails (AADSTS9002313), the sign-in
    // window opens with the session cookie and closes at once with a code.
    lab.aad.state().grants().refresh.clear();
    lab.clock.advance_secs(2 * 3600);
    let s = o.reconnect().await;
    assert_eq!(s.exchanges[0].aadsts, Some(9002313), "{s:#?}");
    let authorize = &s.exchanges[1];
    assert_eq!(authorize.step, "aad-authorize");
    assert!(authorize
        .request_header("cookie")
        .is_some_and(|c| c.contains("ESTSAUTH=")));
    assert_eq!(authorize.status, 302);
    assert_eq!(s.authn.as_deref(), Some("Bearer"));
    // A fresh machine has no session: the pages are shown again.
    let s = o.connect().await;
    assert_eq!(s.exchanges[1].step, "aad-authorize");
    assert_eq!(s.exchanges[1].request_header("cookie"), None);
    assert_eq!(s.exchanges[1].status, 200);
}

#[tokio::test]
async fn an_ntlm_logon_persisting_on_the_connection_is_reported_as_ntlm() {
    let lab = Lab::start().await;
    let mut o = lab.outlook(Profile::Outlook2010, "GregT@contoso.com");
    assert_eq!(o.connect().await.authn.as_deref(), Some("NTLM"));
    let s = o.reconnect().await;
    assert_eq!(
        seq(&s),
        vec![
            row("autodiscover", "POST", None, 200),
            row("rpc", "RPC_IN_DATA", None, 200),
        ],
        "IIS keeps the connection authenticated"
    );
    assert_eq!(s.authn.as_deref(), Some("NTLM"));
}

#[tokio::test]
async fn unknown_user_stops_at_aadsts50034() {
    let lab = Lab::start().await;
    let mut o = lab.outlook(Profile::Outlook2016, "NoSuchUser@contoso.com");
    let s = o.connect().await;
    assert_eq!(s.status, "Disconnected");
    assert_eq!(s.aadsts_codes(), vec![50034], "{s:#?}");
    assert!(s.exchanges.len() < 6);
}

#[tokio::test]
async fn mfa_registration_then_code_then_bearer() {
    let lab = Lab::start().await;
    // NestorW must register an authenticator first ("More information required").
    let mut o = lab.outlook(Profile::Outlook2016, "NestorW@contoso.com");
    let s = o.connect().await;
    assert_eq!(s.authn.as_deref(), Some("Bearer"), "{s:#?}");
    assert_eq!(s.tokens[0].claims["amr"], serde_json::json!(["pwd", "mfa"]));
    // password, proof-up, code, KMSI
    let signin = s
        .exchanges
        .iter()
        .filter(|e| e.step == "aad-signin")
        .count();
    assert_eq!(signin, 4);
}

#[tokio::test]
async fn a_rollback_reaches_outlook_only_after_iisreset() {
    let lab = Lab::start().await;
    // Set-OrganizationConfig -OAuth2ClientProfileEnabled $false, no iisreset yet.
    lab.exchange
        .state()
        .org_mut()
        .org_config
        .oauth2_client_profile_enabled = false;
    let s = lab
        .outlook(Profile::Outlook2016, "GregT@contoso.com")
        .connect()
        .await;
    assert_eq!(s.authn.as_deref(), Some("Bearer"), "settings are cached");
    lab.exchange.state().iisreset();
    let s = lab
        .outlook(Profile::Outlook2016, "GregT@contoso.com")
        .connect()
        .await;
    assert_eq!(s.authn.as_deref(), Some("NTLM"));
    assert!(s.exchanges[0]
        .x_ms_diagnostics
        .as_deref()
        .is_some_and(|d| d.starts_with("4000000;")));
}
