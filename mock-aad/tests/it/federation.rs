//! Federated sign-in against the shipped `contoso-federated` lab, with assertions issued and
//! signed here exactly as mock ADFS signs them (`lab_kit::saml::issue` with mock-adfs's shipped
//! token-signing keys): user realm discovery, the hop from the username page to the IdP,
//! `login.srf` (every refusal with its AADSTS code), the SAML bearer grants, MFA at the IdP with
//! and without `SupportsMfa`, and a token-signing certificate rollover the tenant was not told of.

use axum::body::Body;
use axum::http::{header, HeaderMap, Request, StatusCode};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use lab_kit::saml::assertion::{AM_PASSWORD, CLAIMS_NS, LIVEID_NS, MS_CLAIMS_NS, MULTIPLE_AUTHN};
use lab_kit::saml::{AssertionSpec, Attribute, SamlVersion, SigningKey};
use mock_aad::{AppState, Clock, Config};
use serde_json::{json, Value};

use super::admin::{admin, TOKEN};
use super::forge::claims_of;

/// 2017-11-17 23:31:02Z.
pub const T0: i64 = 1_510_961_462;
const CORR: &str = "87a777b4-fb7b-4d22-a82b-b97fcc2c67d4";
const OFFICE: &str = "d3590ed6-52b3-4102-aeff-aad2292ab01c";
const OOB: &str = "urn:ietf:wg:oauth:2.0:oob";
const AUTODISCOVER: &str = "https://autodiscover.contoso.com/";
pub const ISSUER: &str = "http://adfs.contoso.com/adfs/services/trust";
pub const GREG_ID: &str = "lDqpPb8kwEiZBjI1g9Tz4A==";
const MEGAN_ID: &str = "TTwrGm9ei0qcDQ4fKjtMXQ==";
const GREG_OID: &str = "7f199a96-50b1-4675-9db0-57b362c5d564";
const DOMAIN_FED: &str = "/_admin/tenants/contoso.com/domains/contoso.com/federation-settings";

pub const CERT1: &str = include_str!("../../../mock-adfs/keys/token-signing1.cert.pem");
pub const CERT2: &str = include_str!("../../../mock-adfs/keys/token-signing2.cert.pem");

/// mock-adfs's token-signing key `n` (1 is the one the federated lab trusts).
pub fn adfs_key(n: u8) -> SigningKey {
    match n {
        1 => SigningKey::from_pem(
            include_str!("../../../mock-adfs/keys/token-signing1.key.pem"),
            CERT1,
        ),
        _ => SigningKey::from_pem(
            include_str!("../../../mock-adfs/keys/token-signing2.key.pem"),
            CERT2,
        ),
    }
    .unwrap()
}

/// A lab directory from its shipped text, on a frozen clock with the admin token.
pub fn lab_of(text: &str) -> (AppState, Clock) {
    let clock = Clock::frozen_at_unix(T0);
    let state = mock_aad::state(super::common::current_era(Config {
        directory: mock_aad::labfile::parse_str(text, "lab").unwrap(),
        clock: clock.clone(),
        admin_token: Some(TOKEN.into()),
        ..Config::contoso()
    }));
    (state, clock)
}

fn federated_lab() -> (AppState, Clock) {
    lab_of(mock_aad::CONTOSO_FEDERATED_LAB)
}

/// What a test varies in an assertion.
#[derive(Clone)]
pub struct Token {
    pub version: SamlVersion,
    pub issuer: String,
    pub audience: String,
    pub immutable_id: String,
    pub mfa: bool,
    /// Issue instant, Unix seconds; valid for an hour.
    pub at: i64,
    pub key: u8,
}

impl Token {
    pub fn for_user(immutable_id: &str) -> Token {
        Token {
            version: SamlVersion::V1_1,
            issuer: ISSUER.into(),
            audience: "urn:federation:MicrosoftOnline".into(),
            immutable_id: immutable_id.into(),
            mfa: false,
            at: T0,
            key: 1,
        }
    }

    /// The signed assertion, as mock ADFS would issue it.
    pub fn xml(&self) -> String {
        let claim = |ns: &str, name: &str, v: &str| Attribute {
            namespace: ns.into(),
            name: name.into(),
            values: vec![v.into()],
        };
        let mut attributes = vec![
            claim(CLAIMS_NS, "UPN", "GregT@contoso.com"),
            claim(LIVEID_NS, "ImmutableID", &self.immutable_id),
        ];
        if self.mfa {
            attributes.push(claim(
                MS_CLAIMS_NS,
                "authnmethodsreferences",
                MULTIPLE_AUTHN,
            ));
        }
        let ms = self.at * 1000;
        let spec = AssertionSpec {
            version: self.version,
            id: "_0d5f3c1a-9a8e-4c52-b0a4-1f6a2e3d4c5b".into(),
            issuer: self.issuer.clone(),
            audience: self.audience.clone(),
            issue_instant_ms: ms,
            not_before_ms: ms,
            not_on_or_after_ms: ms + 3_600_000,
            name_id: self.immutable_id.clone(),
            attributes,
            authn_method: AM_PASSWORD.into(),
            authn_instant_ms: ms,
        };
        lab_kit::saml::issue(&spec, &adfs_key(self.key)).unwrap()
    }

    /// The WS-Trust 2005 response ADFS posts as `wresult`.
    pub fn wresult(&self) -> String {
        wrap(&self.xml())
    }
}

pub fn wrap(assertion: &str) -> String {
    format!(
        "<t:RequestSecurityTokenResponse xmlns:t=\"http://schemas.xmlsoap.org/ws/2005/02/trust\">\
         <t:RequestedSecurityToken>{assertion}</t:RequestedSecurityToken>\
         <t:TokenType>urn:oasis:names:tc:SAML:1.0:assertion</t:TokenType>\
         </t:RequestSecurityTokenResponse>"
    )
}

#[derive(Debug)]
pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Resp {
    fn location(&self) -> String {
        self.headers[header::LOCATION].to_str().unwrap().to_string()
    }
    fn flow(&self) -> String {
        let marker = "name=\"flowToken\" value=\"";
        let start = self.body.find(marker).expect("flowToken") + marker.len();
        let end = self.body[start..].find('"').unwrap() + start;
        self.body[start..end].to_string()
    }
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|_| panic!("not JSON: {}", self.body))
    }
    /// The error page's message (`AADSTS…: …`).
    fn page_error(&self) -> String {
        assert_eq!(self.status, StatusCode::OK, "{}", self.body);
        let marker = "<span id=\"errorMessage\">";
        let start = self
            .body
            .find(marker)
            .unwrap_or_else(|| panic!("not the error page: {}", self.body))
            + marker.len();
        let end = self.body[start..].find("</span>").unwrap() + start;
        self.body[start..end]
            .replace("&#39;", "'")
            .replace("&#x27;", "'")
    }
}

pub async fn send(state: &AppState, req: Request<Body>) -> Resp {
    let r = super::common::send(state, req).await;
    Resp {
        status: r.status,
        body: r.text(),
        headers: r.headers,
    }
}

pub async fn get(state: &AppState, uri: &str) -> Resp {
    let req = Request::get(uri)
        .header(header::HOST, "login.microsoftonline.com")
        .body(Body::empty())
        .unwrap();
    send(state, req).await
}

pub async fn post(state: &AppState, uri: &str, form: &[(&str, &str)]) -> Resp {
    let body: String = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form)
        .finish();
    let req = Request::post(uri)
        .header(header::HOST, "login.microsoftonline.com")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header("client-request-id", CORR)
        .body(Body::from(body))
        .unwrap();
    send(state, req).await
}

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

fn authorize(extra: &str) -> String {
    format!(
        "/common/oauth2/authorize?client_id={OFFICE}&response_type=code&redirect_uri={}&resource={}&client-request-id={CORR}{extra}",
        enc(OOB),
        enc(AUTODISCOVER)
    )
}

/// Authorize → username page → the 302 to ADFS; returns the `wctx` ADFS must echo.
async fn to_idp(s: &AppState, upn: &str) -> String {
    let page = get(s, &authorize("")).await;
    let flow = page.flow();
    let r = post(
        s,
        "/common/login",
        &[("flowToken", &flow), ("ctx", &flow), ("loginfmt", upn)],
    )
    .await;
    assert_eq!(r.status, StatusCode::FOUND, "{}", r.body);
    assert_eq!(
        r.location(),
        format!(
            "https://adfs.contoso.com/adfs/ls/?client-request-id={CORR}&username={}&wa=wsignin1.0&wtrealm=urn%3afederation%3aMicrosoftOnline&wctx=estsredirect%3d2%26estsrequest%3d{flow}",
            upn.replace('@', "%40")
        )
    );
    format!("estsredirect=2&estsrequest={flow}")
}

async fn login_srf(s: &AppState, wresult: &str, wctx: &str) -> Resp {
    post(
        s,
        "/login.srf",
        &[("wa", "wsignin1.0"), ("wresult", wresult), ("wctx", wctx)],
    )
    .await
}

/// "Stay signed in? No" → the code → tokens; returns the access token's claims.
async fn finish(s: &AppState, kmsi: &Resp) -> serde_json::Map<String, Value> {
    assert!(kmsi.body.contains("Stay signed in?"), "{}", kmsi.body);
    let flow = kmsi.flow();
    let r = post(
        s,
        "/common/login",
        &[("flowToken", &flow), ("ctx", &flow), ("action", "No")],
    )
    .await;
    assert_eq!(r.status, StatusCode::FOUND, "{}", r.body);
    let loc = r.location();
    let code = url::form_urlencoded::parse(loc.split_once('?').unwrap().1.as_bytes())
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .to_string();
    let t = post(
        s,
        "/common/oauth2/token",
        &[
            ("grant_type", "authorization_code"),
            ("client_id", OFFICE),
            ("code", &code),
            ("redirect_uri", OOB),
        ],
    )
    .await;
    assert_eq!(t.status, StatusCode::OK, "{}", t.body);
    claims_of(t.json()["access_token"].as_str().unwrap())
}

#[tokio::test]
async fn user_realm_says_federated_with_the_domain_settings() {
    let (s, _) = federated_lab();
    let v1 = get(&s, "/common/userrealm/GregT@contoso.com?api-version=1.0").await;
    assert_eq!(
        v1.json(),
        json!({"ver":"1.0","account_type":"Federated","domain_name":"contoso.com",
               "federation_protocol":"WSTrust",
               "federation_metadata_url":"https://adfs.contoso.com/adfs/services/trust/mex",
               "federation_active_auth_url":"https://adfs.contoso.com/adfs/services/trust/2005/usernamemixed",
               "cloud_instance_name":"microsoftonline.com","cloud_audience_urn":"urn:federation:MicrosoftOnline"})
    );
    let v2 = get(&s, "/common/userrealm/GregT@contoso.com?api-version=2.0").await;
    assert_eq!(v2.json()["NameSpaceType"], "Federated");
    assert_eq!(
        v2.json()["AuthURL"],
        "https://adfs.contoso.com/adfs/ls/?username=GregT%40contoso.com&wa=wsignin1.0&wtrealm=urn%3afederation%3aMicrosoftOnline&wctx="
    );
    assert_eq!(v2.json()["FederationBrandName"], "Contoso");
    // The initial domain stays managed.
    let m = get(
        &s,
        "/common/userrealm/x@contoso.onmicrosoft.com?api-version=1.0",
    )
    .await;
    assert_eq!(m.json()["account_type"], "Managed");
}

#[tokio::test]
async fn forms_sign_in_through_adfs_ends_with_a_code() {
    let (s, _) = federated_lab();
    let wctx = to_idp(&s, "GregT@contoso.com").await;
    let back = login_srf(&s, &Token::for_user(GREG_ID).wresult(), &wctx).await;
    let claims = finish(&s, &back).await;
    assert_eq!(claims["oid"], GREG_OID);
    assert_eq!(claims["upn"], "GregT@contoso.com");
    assert_eq!(claims["amr"], json!(["pwd"]));
    // The flow is spent: the same response posted again is refused.
    let again = login_srf(&s, &Token::for_user(GREG_ID).wresult(), &wctx).await;
    assert_eq!(
        again.page_error(),
        "AADSTS50089: Authentication failed due to flow token expired."
    );
}

#[tokio::test]
async fn login_hint_goes_straight_to_the_idp_even_for_an_unknown_user() {
    let (s, _) = federated_lab();
    let r = get(&s, &authorize("&login_hint=nobody%40contoso.com")).await;
    assert_eq!(r.status, StatusCode::FOUND, "{}", r.body);
    assert!(r.location().starts_with(&format!(
        "https://adfs.contoso.com/adfs/ls/?client-request-id={CORR}&username=nobody%40contoso.com&wa=wsignin1.0&"
    )));
    // A managed domain's user still gets the password page.
    let m = get(&s, &authorize("&login_hint=x%40contoso.onmicrosoft.com")).await;
    assert_eq!(m.status, StatusCode::OK);
}

/// Each refused token, on Azure AD's error page with its code and text.
#[tokio::test]
async fn login_srf_refusals_have_their_aadsts_codes() {
    let (s, _) = federated_lab();
    let good = Token::for_user(GREG_ID);
    let tampered = good
        .wresult()
        .replace(">GregT@contoso.com<", ">MeganB@contoso.com<");
    let version2 = wrap(
        &Token {
            version: SamlVersion::V2_0,
            ..good.clone()
        }
        .xml(),
    );
    let cases: Vec<(String, String)> = vec![
        (
            Token { key: 2, ..good.clone() }.wresult(),
            "AADSTS5000811: Unable to verify token signature. The signing key identifier does not match any valid registered keys.".into(),
        ),
        (
            tampered,
            "AADSTS50006: Signature verification failed because of an invalid signature.".into(),
        ),
        (
            Token { audience: "urn:federation:Elsewhere".into(), ..good.clone() }.wresult(),
            "AADSTS50008: SAML assertion is missing or misconfigured in the token. Contact your federation provider.".into(),
        ),
        (
            Token { at: T0 - 3600 - 301, ..good.clone() }.wresult(),
            "AADSTS500133: Assertion is not within its valid time range.".into(),
        ),
        (
            Token::for_user("AAAAAAAAAAAAAAAAAAAAAA==").wresult(),
            "AADSTS51004: The user account doesn't exist in the directory.".into(),
        ),
        (
            Token { issuer: "http://adfs.fabrikam.com/adfs/services/trust".into(), ..good.clone() }.wresult(),
            "AADSTS50107: The requested federation realm object 'http://adfs.fabrikam.com/adfs/services/trust' does not exist.".into(),
        ),
        (
            version2,
            "AADSTS50008: Cannot read SecurityToken. Expected element is (Assertion, urn:oasis:names:tc:SAML:1.0:assertion) the actual element is (Assertion, urn:oasis:names:tc:SAML:2.0:assertion).".into(),
        ),
        (
            "<not xml".into(),
            "AADSTS20012: There's an issue with your federated Identity Provider. Contact your IDP to resolve this issue.".into(),
        ),
    ];
    for (wresult, want) in cases {
        let wctx = to_idp(&s, "GregT@contoso.com").await;
        let r = login_srf(&s, &wresult, &wctx).await;
        assert_eq!(r.page_error(), want);
    }
    // Five minutes of skew: an hour and four minutes old still signs in.
    let wctx = to_idp(&s, "GregT@contoso.com").await;
    let ok = login_srf(
        &s,
        &Token {
            at: T0 - 3600 - 240,
            ..good.clone()
        }
        .wresult(),
        &wctx,
    )
    .await;
    assert!(ok.body.contains("Stay signed in?"), "{}", ok.body);
    // A disabled cloud account is refused after the token checks.
    let (st, _) = admin(
        &s,
        "PATCH",
        "/_admin/tenants/contoso.com/users/GregT@contoso.com",
        Some(json!({"enabled": false})),
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    let wctx = to_idp(&s, "GregT@contoso.com").await;
    let r = login_srf(&s, &good.wresult(), &wctx).await;
    assert_eq!(r.page_error(), "AADSTS50057: The user account is disabled.");
    // A token from the future (beyond the skew) is refused too.
    let wctx = to_idp(&s, "MeganB@contoso.com").await;
    let r = login_srf(
        &s,
        &Token {
            at: T0 + 400,
            ..Token::for_user(MEGAN_ID)
        }
        .wresult(),
        &wctx,
    )
    .await;
    assert_eq!(
        r.page_error(),
        "AADSTS500133: Assertion is not within its valid time range."
    );
}

#[tokio::test]
async fn login_srf_message_errors() {
    let (s, _) = federated_lab();
    let wctx = to_idp(&s, "GregT@contoso.com").await;
    let wresult = Token::for_user(GREG_ID).wresult();
    let no_wa = post(&s, "/login.srf", &[("wresult", &wresult), ("wctx", &wctx)]).await;
    assert_eq!(
        no_wa.page_error(),
        "AADSTS90081: An error occurred when the service tried to process a WS-Federation message. The message is not valid."
    );
    let no_result = post(&s, "/login.srf", &[("wa", "wsignin1.0"), ("wctx", &wctx)]).await;
    assert_eq!(
        no_result.page_error(),
        "AADSTS90013: Invalid input received from the user."
    );
    let no_ctx = post(
        &s,
        "/login.srf",
        &[("wa", "wsignin1.0"), ("wresult", &wresult)],
    )
    .await;
    assert_eq!(
        no_ctx.page_error(),
        "AADSTS50089: Authentication failed due to flow token expired."
    );
    // The flow survived those and still signs in.
    let ok = login_srf(&s, &wresult, &wctx).await;
    assert!(ok.body.contains("Stay signed in?"), "{}", ok.body);
    // Hostile bodies never panic.
    for body in [
        "",
        "wa=wsignin1.0&wresult=%00&wctx=%ff",
        "wctx=estsrequest%3d&wa=x",
    ] {
        let req = Request::post("/login.srf")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .unwrap();
        assert_eq!(send(&s, req).await.status, StatusCode::OK);
    }
}

#[tokio::test]
async fn mfa_at_the_idp_counts_only_with_supports_mfa() {
    let (s, _) = federated_lab();
    let megan = Token {
        mfa: true,
        ..Token::for_user(MEGAN_ID)
    };
    // SupportsMfa $false: MeganB (per-user MFA) gets Azure AD's own MFA page.
    let wctx = to_idp(&s, "MeganB@contoso.com").await;
    let r = login_srf(&s, &megan.wresult(), &wctx).await;
    assert!(r.body.contains("idTxtBx_SAOTCC_OTC"), "{}", r.body);

    let (st, _) = admin(&s, "PATCH", DOMAIN_FED, Some(json!({"SupportsMfa": true}))).await;
    assert_eq!(st, StatusCode::OK);
    let wctx = to_idp(&s, "MeganB@contoso.com").await;
    let r = login_srf(&s, &megan.wresult(), &wctx).await;
    let claims = finish(&s, &r).await;
    assert_eq!(claims["amr"], json!(["pwd", "mfa"]));
    // Without the IdP's claim, SupportsMfa alone proves nothing.
    let wctx = to_idp(&s, "MeganB@contoso.com").await;
    let r = login_srf(&s, &Token::for_user(MEGAN_ID).wresult(), &wctx).await;
    assert!(r.body.contains("idTxtBx_SAOTCC_OTC"), "{}", r.body);
}

#[tokio::test]
async fn certificate_rollover_needs_the_tenant_updated() {
    let (s, _) = federated_lab();
    let new_cert = Token {
        key: 2,
        ..Token::for_user(GREG_ID)
    };
    let r = v1_grant(&s, &new_cert).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.json()["error_codes"], json!([5000811]));
    // NextSigningCertificate is trusted too (Update-MsolFederatedDomain during the rollover).
    let cert2 = lab_kit::saml::Certificate::from_pem(CERT2)
        .unwrap()
        .base64();
    let (st, body) = admin(
        &s,
        "PATCH",
        DOMAIN_FED,
        Some(json!({"NextSigningCertificate": cert2})),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{body}");
    assert_eq!(body["NextSigningCertificate"], json!(cert2));
    assert_eq!(v1_grant(&s, &new_cert).await.status, StatusCode::OK);
    assert_eq!(
        v1_grant(&s, &Token::for_user(GREG_ID)).await.status,
        StatusCode::OK
    );
    // After the switch, the old certificate is no longer trusted.
    let (st, _) = admin(
        &s,
        "PATCH",
        DOMAIN_FED,
        Some(json!({"SigningCertificate": cert2, "NextSigningCertificate": ""})),
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(v1_grant(&s, &new_cert).await.status, StatusCode::OK);
    assert_eq!(
        v1_grant(&s, &Token::for_user(GREG_ID)).await.json()["error_codes"],
        json!([5000811])
    );
}

/// A v1 SAML 1.1 bearer grant for the autodiscover resource on the contoso.com path.
async fn v1_grant(s: &AppState, t: &Token) -> Resp {
    let a = URL_SAFE_NO_PAD.encode(t.xml());
    post(
        s,
        "/contoso.com/oauth2/token",
        &[
            ("grant_type", SAML11),
            ("client_id", OFFICE),
            ("resource", AUTODISCOVER),
            ("assertion", &a),
        ],
    )
    .await
}

async fn saml_grant(s: &AppState, grant: &str, assertion: &str, extra: &[(&str, &str)]) -> Resp {
    let mut form = vec![
        ("grant_type", grant),
        ("client_id", OFFICE),
        ("scope", "https://graph.microsoft.com/User.Read"),
        ("assertion", assertion),
    ];
    form.extend_from_slice(extra);
    post(s, "/organizations/oauth2/v2.0/token", &form).await
}

const SAML11: &str = "urn:ietf:params:oauth:grant-type:saml1_1-bearer";
const SAML2: &str = "urn:ietf:params:oauth:grant-type:saml2-bearer";

#[tokio::test]
async fn saml_bearer_grants_issue_tokens_like_ropc() {
    let (s, _) = federated_lab();
    // MSAL's encoding: unpadded base64url.
    let t11 = Token::for_user(GREG_ID);
    let r = saml_grant(
        &s,
        SAML11,
        &URL_SAFE_NO_PAD.encode(t11.xml()),
        &[("client_info", "1")],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let v = r.json();
    assert_eq!(v["token_type"], "Bearer");
    assert!(v["client_info"].is_string());
    let claims = claims_of(v["access_token"].as_str().unwrap());
    assert_eq!(claims["oid"], GREG_OID);
    assert_eq!(claims["amr"], json!(["pwd"]));
    // AADInternals' encoding: standard base64 with padding; SAML 2.0 with its own grant.
    let t2 = Token {
        version: SamlVersion::V2_0,
        ..t11.clone()
    };
    let r = saml_grant(&s, SAML2, &STANDARD.encode(t2.xml()), &[]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
}

/// The token endpoint's error JSON for `code`, with `error` and the message.
#[track_caller]
fn assert_error(r: &Resp, error: &str, code: u64, message: &str) {
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    let v = r.json();
    assert_eq!(v["error"], error, "{}", r.body);
    assert_eq!(v["error_codes"], json!([code]));
    let d = v["error_description"].as_str().unwrap();
    assert!(
        d.starts_with(&format!("AADSTS{code}: {message}\r\nTrace ID: ")),
        "{d}"
    );
    assert_eq!(
        v["error_uri"],
        format!("https://login.microsoftonline.com/error?code={code}")
    );
    assert_eq!(v["correlation_id"], CORR);
}

#[tokio::test]
async fn saml_bearer_refusals() {
    let (s, _) = federated_lab();
    let good = Token::for_user(GREG_ID);
    let b64 = |t: &Token| URL_SAFE_NO_PAD.encode(t.xml());
    let r = saml_grant(&s, SAML2, &b64(&good), &[]).await;
    assert_error(&r, "invalid_grant", 50008, "Cannot read SecurityToken. Expected element is (Assertion, urn:oasis:names:tc:SAML:2.0:assertion) the actual element is (Assertion, urn:oasis:names:tc:SAML:1.0:assertion).");
    let r = saml_grant(&s, SAML11, "!!!not base64", &[]).await;
    assert_error(&r, "invalid_grant", 50008, "SAML assertion is missing or misconfigured in the token. Contact your federation provider.");
    let r = saml_grant(&s, SAML11, &URL_SAFE_NO_PAD.encode(good.wresult()), &[]).await;
    assert_error(&r, "invalid_grant", 50008, "SAML assertion is missing or misconfigured in the token. Contact your federation provider.");
    let r = saml_grant(
        &s,
        SAML11,
        &b64(&Token {
            issuer: "urn:someone".into(),
            ..good.clone()
        }),
        &[],
    )
    .await;
    assert_error(
        &r,
        "invalid_request",
        50107,
        "The requested federation realm object 'urn:someone' does not exist.",
    );
    let r = saml_grant(
        &s,
        SAML11,
        &b64(&Token {
            key: 2,
            ..good.clone()
        }),
        &[],
    )
    .await;
    assert_error(&r, "invalid_grant", 5000811, "Unable to verify token signature. The signing key identifier does not match any valid registered keys.");
    let tampered = good
        .xml()
        .replace(">GregT@contoso.com<", ">MeganB@contoso.com<");
    let r = saml_grant(&s, SAML11, &URL_SAFE_NO_PAD.encode(tampered), &[]).await;
    assert_error(
        &r,
        "invalid_grant",
        50006,
        "Signature verification failed because of an invalid signature.",
    );
    let r = saml_grant(
        &s,
        SAML11,
        &b64(&Token {
            at: T0 - 7200,
            ..good.clone()
        }),
        &[],
    )
    .await;
    assert_error(
        &r,
        "invalid_grant",
        500133,
        "Assertion is not within its valid time range.",
    );
    let r = saml_grant(&s, SAML11, &b64(&Token::for_user("x")), &[]).await;
    assert_error(
        &r,
        "invalid_grant",
        51004,
        "The user account doesn't exist in the directory.",
    );
    // A realm of another tenant than the path names does not exist there.
    let r = post(
        &s,
        "/11111111-1111-1111-1111-111111111111/oauth2/v2.0/token",
        &[
            ("grant_type", SAML11),
            ("client_id", OFFICE),
            ("scope", "openid"),
            ("assertion", &b64(&good)),
        ],
    )
    .await;
    assert_eq!(r.json()["error_codes"], json!([90002]));
    let r = post(
        &s,
        "/organizations/oauth2/v2.0/token",
        &[
            ("grant_type", SAML11),
            ("client_id", OFFICE),
            ("scope", "openid"),
        ],
    )
    .await;
    assert_error(
        &r,
        "invalid_request",
        900144,
        "The request body must contain the following parameter: 'assertion'.",
    );
}

#[tokio::test]
async fn mfa_claim_through_the_bearer_grant() {
    let (s, _) = federated_lab();
    let megan = Token {
        mfa: true,
        ..Token::for_user(MEGAN_ID)
    };
    let a = URL_SAFE_NO_PAD.encode(megan.xml());
    let r = saml_grant(&s, SAML11, &a, &[]).await;
    assert_eq!(r.json()["error_codes"], json!([50076]), "{}", r.body);
    let (st, _) = admin(&s, "PATCH", DOMAIN_FED, Some(json!({"SupportsMfa": true}))).await;
    assert_eq!(st, StatusCode::OK);
    let r = saml_grant(&s, SAML11, &a, &[]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let claims = claims_of(r.json()["access_token"].as_str().unwrap());
    assert_eq!(claims["amr"], json!(["pwd", "mfa"]));
}

#[tokio::test]
async fn a_password_grant_for_a_federated_user_is_aadsts50126() {
    let (s, _) = federated_lab();
    let r = post(
        &s,
        "/organizations/oauth2/v2.0/token",
        &[
            ("grant_type", "password"),
            ("client_id", OFFICE),
            ("scope", "https://graph.microsoft.com/User.Read"),
            ("username", "GregT@contoso.com"),
            ("password", "Contoso2017!"),
        ],
    )
    .await;
    assert_error(
        &r,
        "invalid_grant",
        50126,
        "Error validating credentials due to invalid username or password.",
    );
}
