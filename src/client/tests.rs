//! The reference client against both mocks over real loopback sockets, one shared lab clock.

use super::*;
use lab_kit::Clock;

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
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .resolve("mail.contoso.com", ex_addr)
            .resolve("autodiscover.contoso.com", ex_addr)
            .resolve("login.microsoftonline.com", aad_addr)
            .resolve("login.windows.net", aad_addr)
            .build()
            .expect("client");
        Transport::plain_http(http, self.clock.clone())
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
