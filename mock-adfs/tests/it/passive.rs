//! Passive WS-Federation: the forms page, the posted assertion, wrong passwords, MFA, Windows
//! integrated sign-in and extended protection.

use lab_kit::ntlm::binding::tls_server_end_point;
use lab_kit::saml::assertion::{read_wresult, AM_PASSWORD, AM_WINDOWS, CORPNET_NS};
use lab_kit::saml::{Assertion, SamlVersion};
use mock_adfs::pages;

use crate::common::*;

/// GET with the session cookie: the auto-post page, read and verified with the metadata's
/// certificate.
async fn posted_assertion(h: &mock_adfs::Handle, cookie: &str) -> Assertion {
    let r = request(h, "GET", SIGN_IN, &[("Cookie", cookie)], "").await;
    assert_eq!(r.status, 200, "{}", r.body);
    read_posted(h, &r.body).await
}

async fn read_posted(h: &mock_adfs::Handle, page: &str) -> Assertion {
    assert!(
        page.contains(
            "<form method=\"POST\" name=\"hiddenform\" action=\"https://login.microsoftonline.com:443/login.srf\">"
        ),
        "{page}"
    );
    assert_eq!(hidden(page, "wa").as_deref(), Some("wsignin1.0"));
    assert_eq!(hidden(page, "wctx").as_deref(), Some(WCTX));
    let wresult = hidden(page, "wresult").unwrap();
    assert!(wresult.starts_with(
        "<t:RequestSecurityTokenResponse xmlns:t=\"http://schemas.xmlsoap.org/ws/2005/02/trust\"><t:Lifetime>"
    ));
    assert!(wresult.contains("<t:TokenType>urn:oasis:names:tc:SAML:1.0:assertion</t:TokenType>"));
    read_wresult(&wresult, &published_certs(h).await).unwrap()
}

#[tokio::test]
async fn the_forms_page_has_adfs_element_ids_and_posts_back_to_itself() {
    let h = start().await;
    let r = request(&h, "GET", SIGN_IN, &[("User-Agent", CHROME)], "").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("text/html; charset=utf-8"));
    for id in [
        "userNameInput",
        "passwordInput",
        "submitButton",
        "loginForm",
        "errorText",
    ] {
        assert!(r.body.contains(&format!("id=\"{id}\"")), "{id}");
    }
    assert!(r
        .body
        .contains(&format!("action=\"{}\"", pages::esc(SIGN_IN))));
    assert!(r
        .body
        .contains("name=\"UserName\" type=\"email\" value=\"GregT@contoso.com\""));
    assert!(r
        .body
        .contains("name=\"AuthMethod\" value=\"FormsAuthentication\""));
    assert!(r.body.contains("<span id=\"errorText\" for=\"\"></span>"));
}

#[tokio::test]
async fn forms_sign_in_posts_a_signed_saml11_assertion_to_login_srf() {
    let h = start().await;
    let cookie = forms_session(&h, "GregT@contoso.com").await;
    let a = posted_assertion(&h, &cookie).await;
    assert_eq!(a.version, SamlVersion::V1_1);
    assert_eq!(a.verified.trusted_index, 0);
    assert_eq!(a.issuer, "http://adfs.contoso.com/adfs/services/trust");
    assert_eq!(a.audiences, ["urn:federation:MicrosoftOnline"]);
    assert_eq!(a.upn(), Some("GregT@contoso.com"));
    assert_eq!(a.immutable_id(), Some(GREG_IMMUTABLE_ID));
    assert_eq!(a.name_id.as_deref(), Some(GREG_IMMUTABLE_ID));
    assert_eq!(a.authn_method.as_deref(), Some(AM_PASSWORD));
    assert!(!a.multiple_authn());
    let (nb, na) = (a.not_before.unwrap(), a.not_on_or_after.unwrap());
    assert_eq!(na - nb, 3600);
    // Signed in as CONTOSO\sam too.
    let cookie = forms_session(&h, "CONTOSO\\GregT").await;
    assert_eq!(
        posted_assertion(&h, &cookie).await.upn(),
        Some("GregT@contoso.com")
    );
}

#[tokio::test]
async fn a_wrong_password_shows_the_page_again_with_adfs_text() {
    let h = start().await;
    let post = |user: &'static str, pw: &'static str| {
        let h = &h;
        async move {
            request(
                h,
                "POST",
                SIGN_IN,
                &[("Content-Type", "application/x-www-form-urlencoded")],
                &form(&[
                    ("UserName", user),
                    ("Password", pw),
                    ("AuthMethod", "FormsAuthentication"),
                ]),
            )
            .await
        }
    };
    let span = |t: &str| format!("<span id=\"errorText\" for=\"\">{}</span>", pages::esc(t));
    for (user, pw) in [
        ("GregT@contoso.com", "wrong"),
        ("nobody@contoso.com", PASSWORD),
        // Disabled in Active Directory: the same text.
        ("PattiF@contoso.com", PASSWORD),
        ("OTHERDOM\\GregT", PASSWORD),
    ] {
        let r = post(user, pw).await;
        assert_eq!(r.status, 200, "{user}");
        assert!(
            r.body.contains(&span(pages::WRONG_CREDENTIALS)),
            "{user}: {}",
            r.body
        );
        assert_eq!(r.session_cookie(), None);
    }
    let r = post("GregT", PASSWORD).await;
    assert!(r.body.contains(&span(pages::BAD_USER_NAME)));
    let r = post("GregT@contoso.com", "").await;
    assert!(r.body.contains(&span(pages::NO_PASSWORD)));
}

#[tokio::test]
async fn an_unknown_realm_or_action_is_the_error_page() {
    let h = start().await;
    let r = request(
        &h,
        "GET",
        "/adfs/ls/?wa=wsignin1.0&wtrealm=urn%3aother",
        &[],
        "",
    )
    .await;
    assert_eq!(r.status, 400);
    assert!(r.body.contains(
        "MSIS7007: The requested relying party trust &#39;urn:other&#39; is unspecified or unsupported."
    ), "{}", r.body);
    let r = request(&h, "GET", "/adfs/ls/?wa=wattr1.0", &[], "").await;
    assert_eq!(r.status, 400);
    assert!(r.body.contains("MSIS7042"));
    let r = request(&h, "GET", "/adfs/ls/", &[], "").await;
    assert_eq!(r.status, 400);
    assert!(r.body.contains("MSIS7000"));
}

#[tokio::test]
async fn a_user_who_needs_mfa_gets_the_mfa_step_and_the_multipleauthn_claim() {
    let h = start().await;
    let cookie = forms_session(&h, "MeganB@contoso.com").await;
    let r = request(&h, "GET", SIGN_IN, &[("Cookie", &cookie)], "").await;
    assert_eq!(r.status, 200);
    assert!(
        r.body.contains("id=\"verificationCodeInput\""),
        "{}",
        r.body
    );
    assert!(!r.body.contains("wresult"));
    let mfa = |code: &'static str| {
        let (h, cookie) = (&h, cookie.clone());
        async move {
            request(
                h,
                "POST",
                SIGN_IN,
                &[
                    ("Cookie", &cookie),
                    ("Content-Type", "application/x-www-form-urlencoded"),
                ],
                &form(&[
                    ("AuthMethod", "AzureMfaAuthentication"),
                    ("VerificationCode", code),
                ]),
            )
            .await
        }
    };
    let r = mfa("000000").await;
    assert_eq!(r.status, 200);
    assert!(r.body.contains(&pages::esc(pages::WRONG_CODE)));
    let r = mfa("123456").await;
    assert_eq!(r.status, 302);
    assert_eq!(r.header("location"), Some(SIGN_IN));
    let a = posted_assertion(&h, &cookie).await;
    assert_eq!(a.upn(), Some("MeganB@contoso.com"));
    assert!(a.multiple_authn());
}

#[tokio::test]
async fn a_relying_party_rule_asks_every_user_for_mfa() {
    let h = start().await;
    h.state().farm_mut().relying_parties[0].require_mfa = true;
    let cookie = forms_session(&h, "GregT@contoso.com").await;
    let r = request(&h, "GET", SIGN_IN, &[("Cookie", &cookie)], "").await;
    assert!(r.body.contains("id=\"verificationCodeInput\""));
}

#[tokio::test]
async fn a_domain_joined_browser_signs_in_with_windows_integrated_auth() {
    let h = start().await;
    let ua = [("User-Agent", IE11)];
    // Without credentials: the challenge set, as IIS sends it.
    let r = request(&h, "GET", SIGN_IN, &ua, "").await;
    assert_eq!(r.status, 401);
    assert_eq!(r.headers_named("www-authenticate"), ["Negotiate", "NTLM"]);
    let mut conn = Conn::open(h.addr()).await;
    let r = windows_logon(&mut conn, "GET", SIGN_IN, &ua, "", None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.session_cookie().is_some());
    let a = read_posted(&h, &r.body).await;
    assert_eq!(a.upn(), Some("GregT@contoso.com"));
    assert_eq!(a.authn_method.as_deref(), Some(AM_WINDOWS));
    assert_eq!(
        a.attribute(CORPNET_NS, "insidecorporatenetwork"),
        Some("true")
    );
}

#[tokio::test]
async fn browsers_off_the_wia_list_or_through_a_proxy_get_the_forms_page() {
    let h = start().await;
    let r = request(&h, "GET", SIGN_IN, &[("User-Agent", CHROME)], "").await;
    assert_eq!(r.status, 200);
    assert!(r.body.contains("id=\"userNameInput\""));
    let r = request(
        &h,
        "GET",
        SIGN_IN,
        &[("User-Agent", IE11), ("X-MS-Proxy", "WAP1")],
        "",
    )
    .await;
    assert_eq!(r.status, 200);
    assert!(r.body.contains("id=\"userNameInput\""));
}

async fn set_ep(h: &mock_adfs::Handle, value: &str) {
    let (k, v) = admin(h);
    let r = request(
        h,
        "PATCH",
        "/_admin/properties",
        &[(k, &v), ("Content-Type", "application/json")],
        &format!("{{\"ExtendedProtectionTokenCheck\":\"{value}\"}}"),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
}

/// The Windows logon with a channel binding: 200 or the challenge set again.
async fn logon_with(h: &mock_adfs::Handle, binding: Option<[u8; 16]>) -> u16 {
    let mut conn = Conn::open(h.addr()).await;
    let r = windows_logon(
        &mut conn,
        "GET",
        SIGN_IN,
        &[("User-Agent", IE11)],
        "",
        binding,
    )
    .await;
    if r.status == 401 {
        assert_eq!(r.headers_named("www-authenticate"), ["Negotiate", "NTLM"]);
    }
    r.status
}

#[tokio::test]
async fn extended_protection_decides_on_the_channel_binding() {
    let h = start().await;
    // The farm's TLS certificate, and the one an intercepting proxy shows the client.
    let farm_cert = include_str!("../../keys/token-signing2.cert.pem");
    let proxy_cert = include_str!("../../keys/token-signing1.cert.pem");
    let der = |pem| lab_kit::saml::cert::pem_block(pem, "CERTIFICATE").unwrap();
    let (k, v) = admin(&h);
    let r = request(&h, "PUT", "/_admin/ssl-certificate", &[(k, &v)], farm_cert).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let direct = Some(tls_server_end_point(&der(farm_cert)));
    let proxied = Some(tls_server_end_point(&der(proxy_cert)));

    set_ep(&h, "Require").await;
    assert_eq!(logon_with(&h, direct).await, 200);
    assert_eq!(logon_with(&h, proxied).await, 401);
    assert_eq!(logon_with(&h, None).await, 401);
    assert_eq!(logon_with(&h, Some([0; 16])).await, 401);

    // The guide's fix for a capture: none.
    set_ep(&h, "none").await;
    assert_eq!(logon_with(&h, proxied).await, 200);
    assert_eq!(logon_with(&h, None).await, 200);

    // The default: a binding that is sent must match; a client that sends none passes.
    set_ep(&h, "Allow").await;
    assert_eq!(logon_with(&h, direct).await, 200);
    assert_eq!(logon_with(&h, None).await, 200);
    assert_eq!(logon_with(&h, proxied).await, 401);
}

#[tokio::test]
async fn require_without_a_known_tls_endpoint_matches_no_binding() {
    let h = start().await;
    set_ep(&h, "Require").await;
    assert_eq!(logon_with(&h, Some([5; 16])).await, 401);
}

#[tokio::test]
async fn a_wrong_windows_password_is_challenged_again() {
    let h = start().await;
    let mut conn = Conn::open(h.addr()).await;
    let hs = lab_kit::ntlm::client::Handshake::new("NTLM", "GregT", "CONTOSO", "nope");
    let t1 = hs.negotiate_header();
    let ua = ("User-Agent", IE11);
    let r = conn.get(SIGN_IN, &[ua, ("Authorization", &t1)]).await;
    assert_eq!(r.status, 401);
    let t3 = hs
        .authenticate_header(r.headers_named("www-authenticate"))
        .unwrap()
        .unwrap();
    let r = conn.get(SIGN_IN, &[ua, ("Authorization", &t3)]).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.headers_named("www-authenticate"), ["Negotiate", "NTLM"]);
}

#[tokio::test]
async fn sessions_end_with_sign_out_and_with_lab_time() {
    let h = start().await;
    let cookie = forms_session(&h, "GregT@contoso.com").await;
    h.state().clock.advance_secs(8 * 3600 + 1);
    let r = request(&h, "GET", SIGN_IN, &[("Cookie", &cookie)], "").await;
    assert!(
        r.body.contains("id=\"userNameInput\""),
        "expired session: the forms page"
    );
    let cookie = forms_session(&h, "GregT@contoso.com").await;
    let r = request(
        &h,
        "GET",
        "/adfs/ls/?wa=wsignout1.0",
        &[("Cookie", &cookie)],
        "",
    )
    .await;
    assert_eq!(r.status, 200);
    assert!(r.body.contains("You have successfully signed out."));
    let r = request(&h, "GET", SIGN_IN, &[("Cookie", &cookie)], "").await;
    assert!(r.body.contains("id=\"userNameInput\""));
}
