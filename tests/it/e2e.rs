//! Across both mocks over real sockets: Outlook-shaped and EWS-client-shaped sequences from the
//! HMA handshake to a mailbox answer, with mock-exchange reading mock-aad's federation metadata
//! over HTTP, exactly as Exchange reads Azure AD's.

use lab_kit::Clock;
use serde_json::Value;

use crate::common::FIND_INBOX;

struct Lab {
    aad: mock_aad::Handle,
    exchange: mock_exchange::Handle,
    http: reqwest::Client,
}

async fn lab() -> Lab {
    let clock = Clock::system();
    let aad = mock_aad::start(mock_aad::Config {
        clock: clock.clone(),
        ..mock_aad::Config::contoso()
    })
    .await
    .expect("mock-aad starts");
    let exchange = mock_exchange::start(mock_exchange::Config {
        clock,
        aad_url: Some(aad.url()),
        ..mock_exchange::Config::contoso()
    })
    .await
    .expect("mock-exchange starts");
    Lab {
        aad,
        exchange,
        http: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
    }
}

/// ROPC for GregT against the v1 endpoint, as an ADAL client would after the handshake.
async fn token_for(lab: &Lab, resource: &str) -> String {
    let resp = lab
        .http
        .post(format!("{}/contoso.com/oauth2/token", lab.aad.url()))
        .form(&[
            ("grant_type", "password"),
            ("client_id", "d3590ed6-52b3-4102-aeff-aad2292ab01c"),
            ("resource", resource),
            ("username", "GregT@contoso.com"),
            ("password", "Contoso2017!"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    body["access_token"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn handshake_then_token_from_aad_then_inbox_through_ews() {
    let lab = lab().await;
    let ews = format!("{}/EWS/Exchange.asmx", lab.exchange.url());

    // 1. The empty Bearer: Exchange answers with where to get a token.
    let resp = lab
        .http
        .post(&ews)
        .header("Host", "mail.contoso.com")
        .header("Authorization", "Bearer")
        .header("Content-Type", "text/xml; charset=utf-8")
        .body(FIND_INBOX)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    let bearer = resp
        .headers()
        .get_all("www-authenticate")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|v| v.starts_with("Bearer"))
        .expect("a Bearer challenge");
    assert_eq!(
        bearer,
        "Bearer client_id=\"00000002-0000-0ff1-ce00-000000000000\", trusted_issuers=\"00000001-0000-0000-c000-000000000000@f31f3647-5d87-4b69-a0b6-73f62aeab14c\", token_types=\"app_asserted_user_v1 service_asserted_app_v1\", authorization_uri=\"https://login.windows.net/common/oauth2/authorize\""
    );

    // 2. A token from mock-aad for the resource Exchange was reached at.
    let token = token_for(&lab, "https://mail.contoso.com/").await;

    // 3. Bearer + token: Exchange fetches mock-aad's metadata over HTTP, validates, answers.
    let resp = lab
        .http
        .post(&ews)
        .header("Host", "mail.contoso.com")
        .header("Authorization", format!("Bearer {token}"))
        .header("Content-Type", "text/xml; charset=utf-8")
        .header("X-AnchorMailbox", "GregT@contoso.com")
        .body(FIND_INBOX)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200, "{:?}", resp.headers());
    assert!(resp.headers().get("x-ms-diagnostics").is_none());
    assert_eq!(resp.headers()["x-feserver"], "EX1");
    let body = resp.text().await.unwrap();
    assert!(body.contains("NoError"), "{body}");
    assert!(
        body.contains("Welcome to Hybrid Modern Authentication"),
        "{body}"
    );
    assert!(body.contains("Lunch?"), "{body}");
}

#[tokio::test]
async fn token_for_autodiscover_is_refused_at_mail_with_the_name_mismatch_diagnostic() {
    let lab = lab().await;
    let token = token_for(&lab, "https://autodiscover.contoso.com/").await;
    let resp = lab
        .http
        .post(format!("{}/EWS/Exchange.asmx", lab.exchange.url()))
        .header("Host", "mail.contoso.com")
        .header("Authorization", format!("Bearer {token}"))
        .body(FIND_INBOX)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    assert_eq!(
        resp.headers()["x-ms-diagnostics"],
        "2000003;reason=\"The hostname component of the audience claim value 'https://autodiscover.contoso.com' is invalid\";error_category=\"invalid_resource\""
    );
}

#[tokio::test]
async fn ssl_offload_turns_the_audience_scheme_into_a_2000003() {
    let lab = lab().await;
    let token = token_for(&lab, "https://mail.contoso.com/").await;
    let resp = lab
        .http
        .post(format!("{}/EWS/Exchange.asmx", lab.exchange.url()))
        .header("Host", "mail.contoso.com")
        .header("X-Forwarded-Proto", "http")
        .header("Authorization", format!("Bearer {token}"))
        .body(FIND_INBOX)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    assert_eq!(
        resp.headers()["x-ms-diagnostics"],
        "2000003;reason=\"The hostname component of the audience claim value is invalid. Expected 'https://mail.contoso.com'. Actual 'http://mail.contoso.com'.\";error_category=\"invalid_resource\""
    );
}

#[tokio::test]
async fn access_token_outlives_a_password_change_but_the_refresh_token_does_not() {
    let lab = lab().await;
    let resp = lab
        .http
        .post(format!("{}/contoso.com/oauth2/token", lab.aad.url()))
        .form(&[
            ("grant_type", "password"),
            ("client_id", "d3590ed6-52b3-4102-aeff-aad2292ab01c"),
            ("resource", "https://mail.contoso.com/"),
            ("username", "GregT@contoso.com"),
            ("password", "Contoso2017!"),
        ])
        .send()
        .await
        .unwrap();
    let body: Value = resp.json().await.unwrap();
    let access = body["access_token"].as_str().unwrap().to_string();
    let refresh = body["refresh_token"].as_str().unwrap().to_string();

    // A minute later, Set-MsolUserPassword through mock-aad's admin API.
    lab.aad.state().clock.advance_secs(60);
    let resp = lab
        .http
        .post(format!(
            "{}/_admin/tenants/contoso.com/users/GregT@contoso.com/password",
            lab.aad.url()
        ))
        .bearer_auth(lab.aad.admin_token())
        .json(&serde_json::json!({"password": "NewPassw0rd!"}))
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success(), "{}", resp.status());

    // Exchange still accepts the access token until it expires...
    let resp = lab
        .http
        .post(format!("{}/EWS/Exchange.asmx", lab.exchange.url()))
        .header("Host", "mail.contoso.com")
        .header("Authorization", format!("Bearer {access}"))
        .body(FIND_INBOX)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);

    // ...but Azure AD refuses the refresh: AADSTS50173.
    let resp = lab
        .http
        .post(format!("{}/contoso.com/oauth2/token", lab.aad.url()))
        .form(&[
            ("grant_type", "refresh_token"),
            ("client_id", "d3590ed6-52b3-4102-aeff-aad2292ab01c"),
            ("resource", "https://mail.contoso.com/"),
            ("refresh_token", refresh.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"], "invalid_grant");
    assert_eq!(body["error_codes"][0], 50173);
}
