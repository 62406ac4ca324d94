//! The authorize endpoints and sign-in pages, driven the way a browser drives them: fetch a page,
//! read the hidden `flowToken`, post the form, follow the page or the redirect. Locations are
//! asserted exactly (with the random trace id read from `x-ms-request-id`).

use axum::body::Body;
use axum::http::{header, HeaderMap, Request, StatusCode};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use mock_aad::grants::{DeviceCode, DeviceState};
use mock_aad::model::{CaAction, CaRule};
use mock_aad::{AppState, Clock, Config};
use uuid::Uuid;

const TID: &str = "f31f3647-5d87-4b69-a0b6-73f62aeab14c";
const OFFICE: &str = "d3590ed6-52b3-4102-aeff-aad2292ab01c";
const WEB_APP: &str = "cbe9bcaa-6b5c-42fe-ad70-35a73de6869a";
const OOB: &str = "urn:ietf:wg:oauth:2.0:oob";
const PASSWORD: &str = "Contoso2017!";
const MFA: &str = mock_aad::web::MFA_CODE;
const CORR: &str = "87a777b4-fb7b-4d22-a82b-b97fcc2c67d4";
/// 2017-11-17 23:31:02Z.
const T0: i64 = 1_510_961_462;
const BASE: &str = "http://login.microsoftonline.com";

fn lab() -> AppState {
    super::common::contoso_at(T0)
}

#[derive(Debug)]
struct Resp {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

impl Resp {
    fn location(&self) -> String {
        self.headers
            .get(header::LOCATION)
            .unwrap_or_else(|| panic!("no Location; status {} body {}", self.status, self.body))
            .to_str()
            .unwrap()
            .to_string()
    }
    fn trace(&self) -> String {
        self.headers["x-ms-request-id"]
            .to_str()
            .unwrap()
            .to_string()
    }
    /// The hidden flow id of the page.
    fn flow(&self) -> String {
        let marker = "name=\"flowToken\" value=\"";
        let start = self
            .body
            .find(marker)
            .unwrap_or_else(|| panic!("no flowToken in page: {}", self.body))
            + marker.len();
        let end = self.body[start..].find('"').unwrap() + start;
        self.body[start..end].to_string()
    }
    fn cookies(&self) -> Vec<String> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap().to_string())
            .collect()
    }
    /// `ESTSAUTH=<id>` for a Cookie header.
    fn session_cookie(&self) -> String {
        self.cookies()
            .iter()
            .find(|c| c.starts_with("ESTSAUTH="))
            .map(|c| c.split(';').next().unwrap().to_string())
            .expect("ESTSAUTH cookie")
    }
    fn has(&self, needle: &str) -> bool {
        self.body.contains(needle)
    }
}

async fn send(state: &AppState, req: Request<Body>) -> Resp {
    let r = super::common::send(state, req).await;
    Resp {
        status: r.status,
        body: r.text(),
        headers: r.headers,
    }
}

async fn get(state: &AppState, uri: &str, cookie: Option<&str>) -> Resp {
    let mut b = Request::get(uri).header(header::HOST, "login.microsoftonline.com");
    if let Some(c) = cookie {
        b = b.header(header::COOKIE, c);
    }
    send(state, b.body(Body::empty()).unwrap()).await
}

async fn post(state: &AppState, uri: &str, form: &[(&str, &str)]) -> Resp {
    let body: String = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form)
        .finish();
    let req = Request::post(uri)
        .header(header::HOST, "login.microsoftonline.com")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(body))
        .unwrap();
    send(state, req).await
}

/// Posts a page's form with the page's flow token.
async fn submit(state: &AppState, page: &Resp, fields: &[(&str, &str)]) -> Resp {
    let flow = page.flow();
    let mut form = vec![("ctx", flow.as_str()), ("flowToken", flow.as_str())];
    form.extend_from_slice(fields);
    let action = {
        let marker = "action=\"";
        let start = page.body.find(marker).unwrap() + marker.len();
        let end = page.body[start..].find('"').unwrap() + start;
        page.body[start..end].to_string()
    };
    let path = action
        .strip_prefix(BASE)
        .expect("form posts to the base URL");
    post(state, path, &form).await
}

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

fn authorize_v1(resource: &str, extra: &str) -> String {
    format!(
        "/common/oauth2/authorize?client_id={OFFICE}&response_type=code&redirect_uri={}&resource={}&client-request-id={CORR}{extra}",
        enc(OOB),
        enc(resource)
    )
}

fn query_pairs(location: &str) -> Vec<(String, String)> {
    let q = location
        .split_once(['?', '#'])
        .map(|(_, q)| q)
        .unwrap_or("");
    url::form_urlencoded::parse(q.as_bytes())
        .into_owned()
        .collect()
}

fn assert_page_ids(page: &Resp, ids: &[&str]) {
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(
        page.headers[header::CONTENT_TYPE],
        "text/html; charset=utf-8"
    );
    for id in ids {
        assert!(page.has(id), "page lacks {id}: {}", page.body);
    }
}

const USERNAME_IDS: [&str; 3] = [
    r#"<input type="email" name="loginfmt" id="i0116""#,
    r#"id="idSIButton9" value="Next""#,
    r#"name="flowToken""#,
];
const PASSWORD_IDS: [&str; 2] = [
    r#"<input type="password" name="passwd" id="i0118""#,
    r#"id="idSIButton9" value="Sign in""#,
];
const KMSI_IDS: [&str; 3] = [
    "Stay signed in?",
    r#"id="idSIButton9" name="action" value="Yes""#,
    r#"id="idBtn_Back" name="action" value="No""#,
];

/// Username → password → KMSI (No) for `upn`, from the authorize page.
async fn sign_in(s: &AppState, authorize: &Resp, upn: &str) -> Resp {
    assert_page_ids(authorize, &USERNAME_IDS);
    let pw = submit(s, authorize, &[("loginfmt", upn)]).await;
    assert_page_ids(&pw, &PASSWORD_IDS);
    submit(s, &pw, &[("passwd", PASSWORD)]).await
}

#[tokio::test]
async fn v1_code_flow_username_password_kmsi_then_sso() {
    let s = lab();
    let page = get(
        &s,
        &authorize_v1("https://mail.contoso.com/", "&state=st%201&nonce=n1"),
        None,
    )
    .await;
    assert!(page.has(&format!(r#"action="{BASE}/common/login""#)));
    let kmsi = sign_in(&s, &page, "gregt@contoso.com").await;
    assert_page_ids(&kmsi, &KMSI_IDS);
    let done = submit(&s, &kmsi, &[("action", "No")]).await;
    assert_eq!(done.status, StatusCode::FOUND);
    let loc = done.location();
    let pairs = query_pairs(&loc);
    let names: Vec<&str> = pairs.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(names, ["code", "state", "session_state"]);
    assert!(loc.starts_with("urn:ietf:wg:oauth:2.0:oob?code="));
    assert!(loc.contains("&state=st+1&session_state="));
    let code = &pairs[0].1;
    let stored = s.grants().codes.get(code).cloned().expect("code stored");
    assert_eq!(stored.auth.tid, Uuid::parse_str(TID).unwrap());
    assert_eq!(
        stored.auth.user_oid,
        uuid::uuid!("7f199a96-50b1-4675-9db0-57b362c5d564")
    );
    assert_eq!(stored.auth.amr, ["pwd"]);
    assert_eq!(stored.auth.auth_time, T0);
    assert_eq!(stored.expires_at, T0 + 600);
    assert_eq!(stored.client_id.to_string(), OFFICE);
    assert_eq!(stored.redirect_uri, OOB);
    assert_eq!(
        stored.resource.as_deref(),
        Some("https://mail.contoso.com/")
    );
    assert_eq!(stored.scope, None);
    assert_eq!(stored.nonce.as_deref(), Some("n1"));
    assert!(!stored.redeemed);
    let cookies = done.cookies();
    assert_eq!(cookies.len(), 1, "No → session cookie only: {cookies:?}");
    assert!(cookies[0].starts_with("ESTSAUTH=") && cookies[0].ends_with("; path=/; HttpOnly"));
    assert_eq!(s.sessions().flow_count(), 0, "finished flows are dropped");

    // SSO: the cookie skips every page.
    let cookie = done.session_cookie();
    let again = get(
        &s,
        &authorize_v1("https://autodiscover.contoso.com/", ""),
        Some(&cookie),
    )
    .await;
    assert_eq!(again.status, StatusCode::FOUND);
    let pairs2 = query_pairs(&again.location());
    assert_eq!(pairs2[0].0, "code");
    assert_eq!(pairs2[1], pairs[2], "same session_state");
    assert!(again.cookies().is_empty());
    let stored2 = s.grants().codes.get(&pairs2[0].1).cloned().unwrap();
    assert_eq!(stored2.auth.auth_time, T0);

    // prompt=none with the session → code; prompt=login → the password again.
    let silent = get(
        &s,
        &authorize_v1("https://mail.contoso.com/", "&prompt=none"),
        Some(&cookie),
    )
    .await;
    assert_eq!(query_pairs(&silent.location())[0].0, "code");
    let forced = get(
        &s,
        &authorize_v1(
            "https://mail.contoso.com/",
            "&prompt=login&login_hint=GregT%40contoso.com",
        ),
        Some(&cookie),
    )
    .await;
    assert_page_ids(&forced, &PASSWORD_IDS);
}

#[tokio::test]
async fn prompt_none_without_session_is_login_required() {
    let s = lab();
    let r = get(
        &s,
        &authorize_v1("https://mail.contoso.com/", "&prompt=none&state=s1"),
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::FOUND);
    assert_eq!(
        r.location(),
        format!(
            "urn:ietf:wg:oauth:2.0:oob?error=login_required&error_description=AADSTS50058%3a+A+silent+sign-in+request+was+sent+but+no+user+is+signed+in.%0d%0aTrace+ID%3a+{}%0d%0aCorrelation+ID%3a+{CORR}%0d%0aTimestamp%3a+2017-11-17+23%3a31%3a02Z&state=s1",
            r.trace()
        )
    );
}

#[tokio::test]
async fn login_hint_skips_the_username_page() {
    let s = lab();
    let r = get(
        &s,
        &authorize_v1(
            "https://mail.contoso.com/",
            "&login_hint=GregT%40contoso.com",
        ),
        None,
    )
    .await;
    assert_page_ids(&r, &PASSWORD_IDS);
    assert!(r.has(r#"<div id="displayName" class="identity">GregT@contoso.com</div>"#));
    let unknown = get(
        &s,
        &authorize_v1(
            "https://mail.contoso.com/",
            "&login_hint=nobody%40contoso.com",
        ),
        None,
    )
    .await;
    assert_page_ids(&unknown, &USERNAME_IDS);
    assert!(unknown.has(r#"value="nobody@contoso.com""#));
    assert!(unknown.has("AADSTS50034"));
}

/// The seed's "Missing SPNs" capture, byte for byte (only the trace id differs per request).
#[tokio::test]
async fn missing_spn_redirect_is_byte_exact() {
    let s = lab();
    // The seed's own resource, after its SPN is removed from the registry.
    s.dir_mut().tenants[0].applications[0]
        .service_principal_names
        .retain(|n| n != "https://mail.contoso.com/");
    let r = get(
        &s,
        &authorize_v1(
            "https://mail.contoso.com/",
            "&login_hint=GregT%40contoso.com",
        ),
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::FOUND);
    assert_eq!(
        r.location(),
        format!("urn:ietf:wg:oauth:2.0:oob?error=invalid_resource&error_description=AADSTS50001%3a+The+application+named+https%3a%2f%2fmail.contoso.com%2f+was+not+found+in+the+tenant+named+contoso.com.++This+can+happen+if+the+application+has+not+been+installed+by+the+administrator+of+the+tenant+or+consented+to+by+any+user+in+the+tenant.++You+might+have+sent+your+authentication+request+to+the+wrong+tenant.%0d%0aTrace+ID%3a+{}%0d%0aCorrelation+ID%3a+87a777b4-fb7b-4d22-a82b-b97fcc2c67d4%0d%0aTimestamp%3a+2017-11-17+23%3a31%3a02Z", r.trace())
    );
}

#[tokio::test]
async fn unregistered_internal_namespace_is_aadsts50001_before_or_after_the_username() {
    let s = lab();
    let expected = |trace: &str, state: &str| {
        format!("urn:ietf:wg:oauth:2.0:oob?error=invalid_resource&error_description=AADSTS50001%3a+The+application+named+https%3a%2f%2fmail.corp.contoso.com%2f+was+not+found+in+the+tenant+named+contoso.com.++This+can+happen+if+the+application+has+not+been+installed+by+the+administrator+of+the+tenant+or+consented+to+by+any+user+in+the+tenant.++You+might+have+sent+your+authentication+request+to+the+wrong+tenant.%0d%0aTrace+ID%3a+{trace}%0d%0aCorrelation+ID%3a+{CORR}%0d%0aTimestamp%3a+2017-11-17+23%3a31%3a02Z{state}")
    };
    // Tenant path: checked when the request arrives.
    let r = get(
        &s,
        &format!(
            "/contoso.com/oauth2/authorize?client_id={OFFICE}&response_type=code&redirect_uri={}&resource={}&client-request-id={CORR}&state=abc",
            enc(OOB),
            enc("https://mail.corp.contoso.com/")
        ),
        None,
    )
    .await;
    assert_eq!(r.location(), expected(&r.trace(), "&state=abc"));
    // /common without a hint: the tenant is known once the user names it.
    let page = get(
        &s,
        &authorize_v1("https://mail.corp.contoso.com/", ""),
        None,
    )
    .await;
    assert_page_ids(&page, &USERNAME_IDS);
    let r = submit(&s, &page, &[("loginfmt", "GregT@contoso.com")]).await;
    assert_page_ids(&r, &PASSWORD_IDS);
    let r = submit(&s, &r, &[("passwd", PASSWORD)]).await;
    assert_eq!(r.status, StatusCode::FOUND);
    assert_eq!(r.location(), expected(&r.trace(), ""));
}

#[tokio::test]
async fn v2_unknown_scope_resource_is_aadsts500011() {
    let s = lab();
    let r = get(
        &s,
        &format!(
            "/contoso.com/oauth2/v2.0/authorize?client_id={OFFICE}&response_type=code&redirect_uri={}&scope={}&state=z&client-request-id={CORR}",
            enc("http://localhost:5000"),
            enc("openid https://mail.corp.contoso.com/EWS.AccessAsUser.All")
        ),
        None,
    )
    .await;
    assert_eq!(
        r.location(),
        format!("http://localhost:5000?error=invalid_resource&error_description=AADSTS500011%3a+The+resource+principal+named+https%3a%2f%2fmail.corp.contoso.com+was+not+found+in+the+tenant+named+contoso.com.+This+can+happen+if+the+application+has+not+been+installed+by+the+administrator+of+the+tenant+or+consented+to+by+any+user+in+the+tenant.+You+might+have+sent+your+authentication+request+to+the+wrong+tenant.%0d%0aTrace+ID%3a+{}%0d%0aCorrelation+ID%3a+{CORR}%0d%0aTimestamp%3a+2017-11-17+23%3a31%3a02Z&state=z", r.trace())
    );
}

#[tokio::test]
async fn v2_form_post_with_pkce_and_kmsi_yes() {
    let s = lab();
    let uri = format!(
        "/organizations/oauth2/v2.0/authorize?client_id={OFFICE}&response_type=code&redirect_uri={}&scope={}&state=s%26t&response_mode=form_post&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256&nonce=n",
        enc("http://localhost:8765/cb"),
        enc("openid offline_access https://mail.contoso.com/EWS.AccessAsUser.All")
    );
    // http://localhost is registered with no path: the loopback rule needs the same path.
    let bad = get(&s, &uri, None).await;
    assert!(bad.has("AADSTS50011"));
    let uri = uri.replace(
        &enc("http://localhost:8765/cb"),
        &enc("http://localhost:8765"),
    );
    let page = get(&s, &uri, None).await;
    let kmsi = sign_in(&s, &page, "GregT@contoso.com").await;
    let done = submit(&s, &kmsi, &[("action", "Yes")]).await;
    assert_page_ids(
        &done,
        &[
            r#"<form method="POST" name="hiddenform" action="http://localhost:8765">"#,
            r#"<input type="hidden" name="state" value="s&amp;t" />"#,
            "document.forms[0].submit();",
        ],
    );
    assert!(done.headers.get(header::LOCATION).is_none());
    let code = {
        let m = r#"name="code" value=""#;
        let st = done.body.find(m).unwrap() + m.len();
        done.body[st..st + done.body[st..].find('"').unwrap()].to_string()
    };
    let stored = s.grants().codes.get(&code).cloned().unwrap();
    assert_eq!(
        stored.code_challenge.as_deref(),
        Some("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")
    );
    assert_eq!(stored.code_challenge_method.as_deref(), Some("S256"));
    assert_eq!(
        stored.scope.as_deref(),
        Some("openid offline_access https://mail.contoso.com/EWS.AccessAsUser.All")
    );
    assert_eq!(stored.resource, None);
    let info = URL_SAFE_NO_PAD.encode(format!(
        r#"{{"uid":"7f199a96-50b1-4675-9db0-57b362c5d564","utid":"{TID}"}}"#
    ));
    assert!(done.has(&format!(
        r#"<input type="hidden" name="client_info" value="{info}" />"#
    )));
    let cookies = done.cookies();
    assert!(cookies.iter().any(|c| c.starts_with("ESTSAUTH=")));
    assert!(cookies
        .iter()
        .any(|c| c.starts_with("ESTSAUTHPERSISTENT=") && c.contains("max-age=7776000")));
}

#[tokio::test]
async fn fragment_mode_and_post_authorize() {
    let s = lab();
    let body = format!(
        "client_id={OFFICE}&response_type=code&redirect_uri={}&resource={}&response_mode=fragment&login_hint=AlexW%40contoso.com&state=q",
        enc(OOB),
        enc("https://mail.contoso.com/")
    );
    let req = Request::post("/common/oauth2/authorize")
        .header(header::HOST, "login.microsoftonline.com")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(body))
        .unwrap();
    let pw = send(&s, req).await;
    assert_page_ids(&pw, &PASSWORD_IDS);
    let kmsi = submit(&s, &pw, &[("passwd", PASSWORD)]).await;
    let done = submit(&s, &kmsi, &[("action", "No")]).await;
    let loc = done.location();
    assert!(loc.starts_with("urn:ietf:wg:oauth:2.0:oob#code="), "{loc}");
    assert!(loc.contains("&state=q&session_state="));
}

#[tokio::test]
async fn unknown_client_bad_redirect_and_unknown_tenant_get_the_error_page() {
    let s = lab();
    let unknown = "11111111-2222-3333-4444-555555555555";
    let r = get(
        &s,
        &format!("/contoso.com/oauth2/authorize?client_id={unknown}&response_type=code&redirect_uri={}&client-request-id={CORR}", enc(OOB)),
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.headers.get(header::LOCATION).is_none());
    assert_page_ids(&r, &[
        "Sorry, but we\u{2019}re having trouble signing you in.",
        &format!("AADSTS700016: Application with identifier &#39;{unknown}&#39; was not found in the directory &#39;contoso.com&#39;."),
        &format!(r#"<span id="requestId">{}</span>"#, r.trace()),
        &format!(r#"<span id="correlationId">{CORR}</span>"#),
        r#"<span id="timestamp">2017-11-17T23:31:02Z</span>"#,
    ]);

    let r = get(
        &s,
        &format!(
            "/common/oauth2/authorize?client_id={OFFICE}&response_type=code&redirect_uri={}",
            enc("https://evil.example/cb")
        ),
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.headers.get(header::LOCATION).is_none());
    assert!(r.has("AADSTS50011: The redirect URI &#39;https://evil.example/cb&#39; specified in the request does not match the redirect URIs configured for the application &#39;d3590ed6-52b3-4102-aeff-aad2292ab01c&#39;."));

    let r = get(
        &s,
        &format!("/fabrikam.com/oauth2/v2.0/authorize?client_id={OFFICE}"),
        None,
    )
    .await;
    assert!(r.headers.get(header::LOCATION).is_none());
    assert!(r.has("AADSTS90002: Tenant &#39;fabrikam.com&#39; not found."));

    let r = get(
        &s,
        "/common/oauth2/authorize?client_id=not-a-guid&response_type=code",
        None,
    )
    .await;
    assert!(r.has("AADSTS700016"));
    let r = get(&s, "/common/oauth2/authorize", None).await;
    assert!(r.has(
        "AADSTS900144: The request body must contain the following parameter: &#39;client_id&#39;."
    ));
}

#[tokio::test]
async fn unsupported_response_type_redirects() {
    let s = lab();
    let r = get(
        &s,
        &format!("/common/oauth2/v2.0/authorize?client_id={OFFICE}&response_type=token&redirect_uri={}&scope=openid&state=x&client-request-id={CORR}", enc(OOB)),
        None,
    )
    .await;
    assert_eq!(
        r.location(),
        format!("urn:ietf:wg:oauth:2.0:oob?error=unsupported_response_type&error_description=AADSTS70005%3a+response_type+%27token%27+is+not+enabled+for+the+application.%0d%0aTrace+ID%3a+{}%0d%0aCorrelation+ID%3a+{CORR}%0d%0aTimestamp%3a+2017-11-17+23%3a31%3a02Z&state=x", r.trace())
    );
}

#[tokio::test]
async fn implicit_id_token_is_aadsts700054() {
    let s = lab();
    let r = get(
        &s,
        &format!("/common/oauth2/v2.0/authorize?client_id={OFFICE}&response_type=code%20id_token&redirect_uri={}&scope=openid&response_mode=fragment", enc(OOB)),
        None,
    )
    .await;
    let loc = r.location();
    assert!(
        loc.starts_with("urn:ietf:wg:oauth:2.0:oob#error=unsupported_response_type&error_description=AADSTS700054%3a+response_type+%27id_token%27+is+not+enabled+for+the+application.%0d%0a"),
        "{loc}"
    );
}

#[tokio::test]
async fn wrong_password_locked_disabled_and_unknown_users() {
    let s = lab();
    let page = get(&s, &authorize_v1("https://mail.contoso.com/", ""), None).await;
    let pw = submit(&s, &page, &[("loginfmt", "GregT@contoso.com")]).await;
    let wrong = submit(&s, &pw, &[("passwd", "nope")]).await;
    assert_page_ids(&wrong, &PASSWORD_IDS);
    assert!(wrong.has(r#"<div id="passwordError" class="alert alert-error" role="alert">Your account or password is incorrect. If you don&#39;t remember your password, reset it now.</div>"#));
    assert!(
        wrong.has("AADSTS50126: Error validating credentials due to invalid username or password.")
    );
    assert_eq!(wrong.flow(), pw.flow(), "same flow, retry allowed");
    let kmsi = submit(&s, &wrong, &[("passwd", PASSWORD)]).await;
    assert_page_ids(&kmsi, &KMSI_IDS);

    for (upn, code, text) in [
        ("PattiF@contoso.com", "AADSTS50057", "Your account has been locked. Contact your support person to unlock it, then try again."),
        ("LeeG@contoso.com", "AADSTS50053", "Your account is temporarily locked to prevent unauthorized use."),
    ] {
        let page = get(&s, &authorize_v1("https://mail.contoso.com/", ""), None).await;
        let pw = submit(&s, &page, &[("loginfmt", upn)]).await;
        let r = submit(&s, &pw, &[("passwd", PASSWORD)]).await;
        assert_page_ids(&r, &PASSWORD_IDS);
        assert!(r.has(code), "{upn}: {}", r.body);
        assert!(r.has(text), "{upn}: {}", r.body);
        assert!(r.headers.get(header::LOCATION).is_none());
    }

    let page = get(&s, &authorize_v1("https://mail.contoso.com/", ""), None).await;
    let r = submit(&s, &page, &[("loginfmt", "ghost@contoso.com")]).await;
    assert_page_ids(&r, &USERNAME_IDS);
    assert!(r.has("This username may be incorrect."));
    assert!(r.has(
        "AADSTS50034: The user account {EmailHidden} does not exist in the contoso.com directory."
    ));
    let r = submit(&s, &page, &[("loginfmt", "")]).await;
    assert!(r.has("Enter a valid email address, phone number, or Skype name."));
}

#[tokio::test]
async fn mfa_required_and_enrollment() {
    let s = lab();
    let page = get(&s, &authorize_v1("https://mail.contoso.com/", ""), None).await;
    let mfa = sign_in(&s, &page, "MeganB@contoso.com").await;
    let mfa_ids = [
        r#"name="otc" id="idTxtBx_SAOTCC_OTC""#,
        r#"id="idSubmit_SAOTCC_Continue""#,
    ];
    assert_page_ids(&mfa, &mfa_ids);
    let wrong = submit(&s, &mfa, &[("otc", "000000")]).await;
    assert_page_ids(&wrong, &mfa_ids);
    assert!(wrong.has("You didn&#39;t enter the expected verification code. Please try again."));
    let kmsi = submit(&s, &wrong, &[("otc", "123456")]).await;
    assert_page_ids(&kmsi, &KMSI_IDS);
    let done = submit(&s, &kmsi, &[("action", "No")]).await;
    let code = query_pairs(&done.location())[0].1.clone();
    assert_eq!(s.grants().codes[&code].auth.amr, ["pwd", "mfa"]);

    // MFA done in the session: SSO does not ask again.
    let again = get(
        &s,
        &authorize_v1("https://mail.contoso.com/", ""),
        Some(&done.session_cookie()),
    )
    .await;
    let code = query_pairs(&again.location())[0].1.clone();
    assert_eq!(s.grants().codes[&code].auth.amr, ["pwd", "mfa"]);

    let page = get(&s, &authorize_v1("https://mail.contoso.com/", ""), None).await;
    let enroll = sign_in(&s, &page, "NestorW@contoso.com").await;
    assert_page_ids(
        &enroll,
        &[
            "More information required",
            r#"id="idSubmit_ProofUp_Redirect""#,
        ],
    );
    let mfa = submit(&s, &enroll, &[("action", "Next")]).await;
    assert_page_ids(&mfa, &mfa_ids);
    let kmsi = submit(&s, &mfa, &[("otc", "123456")]).await;
    let done = submit(&s, &kmsi, &[("action", "Yes")]).await;
    let code = query_pairs(&done.location())[0].1.clone();
    assert_eq!(s.grants().codes[&code].auth.amr, ["pwd", "mfa"]);
}

#[tokio::test]
async fn prompt_none_needing_mfa_is_interaction_required() {
    let s = lab();
    // Sign in without MFA, then a CA rule demands it: the silent request must fail.
    let page = get(&s, &authorize_v1("https://mail.contoso.com/", ""), None).await;
    let kmsi = sign_in(&s, &page, "AlexW@contoso.com").await;
    let done = submit(&s, &kmsi, &[("action", "No")]).await;
    s.dir_mut().tenants[0].conditional_access.push(CaRule {
        name: "mfa for exchange".into(),
        enabled: true,
        users: vec!["*".into()],
        apps: vec!["00000002-0000-0ff1-ce00-000000000000".into()],
        action: CaAction::RequireMfa,
    });
    let r = get(
        &s,
        &authorize_v1("https://mail.contoso.com/", "&prompt=none"),
        Some(&done.session_cookie()),
    )
    .await;
    let pairs = query_pairs(&r.location());
    assert_eq!(pairs[0], ("error".into(), "interaction_required".into()));
    assert!(pairs[1].1.starts_with("AADSTS50076: "));
}

#[tokio::test]
async fn conditional_access_block_shows_aadsts53003_page() {
    let s = lab();
    s.dir_mut().tenants[0].conditional_access.push(CaRule {
        name: "block greg".into(),
        enabled: true,
        users: vec!["GregT@contoso.com".into()],
        apps: vec!["*".into()],
        action: CaAction::Block,
    });
    let page = get(&s, &authorize_v1("https://mail.contoso.com/", ""), None).await;
    let r = sign_in(&s, &page, "GregT@contoso.com").await;
    assert!(r.headers.get(header::LOCATION).is_none());
    assert_page_ids(&r, &[
        "You cannot access this right now",
        r#"<span id="errorCode">53003</span>"#,
        "AADSTS53003: Access has been blocked by Conditional Access policies. The access policy does not allow token issuance.",
    ]);
    assert_eq!(s.sessions().flow_count(), 0);
}

fn web_app_authorize(extra: &str) -> String {
    format!(
        "/contoso.com/oauth2/v2.0/authorize?client_id={WEB_APP}&response_type=code&redirect_uri={}&scope=openid%20profile&state=w&client-request-id={CORR}{extra}",
        enc("http://localhost:8400/callback")
    )
}

#[tokio::test]
async fn consent_cancel_then_accept() {
    let s = lab();
    let consent_ids = [
        "Permissions requested",
        "Contoso Web",
        r#"id="idSIButton9" name="action" value="Accept""#,
        r#"id="idBtn_Back" name="action" value="Cancel""#,
    ];
    let page = get(&s, &web_app_authorize(""), None).await;
    let consent = sign_in(&s, &page, "AlexW@contoso.com").await;
    assert_page_ids(&consent, &consent_ids);
    let cancel = submit(&s, &consent, &[("action", "Cancel")]).await;
    assert_eq!(
        cancel.location(),
        format!("http://localhost:8400/callback?error=access_denied&error_description=AADSTS65004%3a+User+declined+to+consent+to+access+the+app.%0d%0aTrace+ID%3a+{}%0d%0aCorrelation+ID%3a+{CORR}%0d%0aTimestamp%3a+2017-11-17+23%3a31%3a02Z&state=w", cancel.trace())
    );
    let alex = uuid::uuid!("60b09ccd-ee73-4f43-ac49-91ac689bcbd6");
    let web = Uuid::parse_str(WEB_APP).unwrap();
    let consented = |s: &AppState| {
        s.dir().tenants[0]
            .user_by_oid(alex)
            .unwrap()
            .consented_apps
            .contains(&web)
    };
    assert!(!consented(&s));

    let page = get(&s, &web_app_authorize(""), None).await;
    let consent = sign_in(&s, &page, "AlexW@contoso.com").await;
    let kmsi = submit(&s, &consent, &[("action", "Accept")]).await;
    assert_page_ids(&kmsi, &KMSI_IDS);
    assert!(consented(&s));
    let done = submit(&s, &kmsi, &[("action", "No")]).await;
    let loc = done.location();
    assert!(
        loc.starts_with("http://localhost:8400/callback?code="),
        "{loc}"
    );
    // prompt=consent asks again even though consent exists.
    let again = get(
        &s,
        &web_app_authorize("&prompt=consent"),
        Some(&done.session_cookie()),
    )
    .await;
    assert_page_ids(&again, &consent_ids);
}

#[tokio::test]
async fn prompt_none_without_consent_is_consent_required() {
    let s = lab();
    let page = get(&s, &authorize_v1("https://mail.contoso.com/", ""), None).await;
    let kmsi = sign_in(&s, &page, "AlexW@contoso.com").await;
    let done = submit(&s, &kmsi, &[("action", "No")]).await;
    let r = get(
        &s,
        &web_app_authorize("&prompt=none"),
        Some(&done.session_cookie()),
    )
    .await;
    let pairs = query_pairs(&r.location());
    assert_eq!(pairs[0], ("error".into(), "consent_required".into()));
    assert!(pairs[1].1.starts_with(&format!("AADSTS65001: The user or administrator has not consented to use the application with ID '{WEB_APP}' named 'Contoso Web'.")));
    assert_eq!(pairs[2], ("state".into(), "w".into()));
}

fn insert_device(s: &AppState, user_code: &str, expires_in: i64) -> String {
    let device_code = format!("DC-{user_code}");
    s.grants().devices.insert(
        device_code.clone(),
        DeviceCode {
            device_code: device_code.clone(),
            user_code: user_code.into(),
            client_id: Uuid::parse_str(OFFICE).unwrap(),
            tenant: "organizations".into(),
            resource: Some("https://mail.contoso.com/".into()),
            scope: None,
            expires_at: T0 + expires_in,
            state: DeviceState::Pending,
            redeemed: false,
        },
    );
    device_code
}

#[tokio::test]
async fn device_login_approves_and_declines() {
    let s = lab();
    let dc = insert_device(&s, "FRWQDE7YL", 900);
    let page = get(&s, "/devicelogin", None).await;
    assert_page_ids(
        &page,
        &[r#"name="otc" id="otc""#, r#"id="idSIButton9" value="Next""#],
    );
    assert!(page.has(&format!(r#"action="{BASE}/devicelogin""#)));
    let wrong = submit(&s, &page, &[("otc", "NOPE")]).await;
    assert!(wrong.has("That code didn&#39;t work. Check the code and try again."));
    let user = submit(&s, &wrong, &[("otc", "frwqde7yl")]).await;
    assert_page_ids(&user, &USERNAME_IDS);
    let pw = submit(&s, &user, &[("loginfmt", "GregT@contoso.com")]).await;
    let confirm = submit(&s, &pw, &[("passwd", PASSWORD)]).await;
    assert_page_ids(
        &confirm,
        &[
            "Are you trying to sign in to Microsoft Office?",
            r#"id="idSIButton9" name="action" value="Continue""#,
            r#"id="idBtn_Back" name="action" value="Cancel""#,
        ],
    );
    assert_eq!(s.grants().devices[&dc].state, DeviceState::Pending);
    let done = submit(&s, &confirm, &[("action", "Continue")]).await;
    assert!(done.has("You have signed in to the Microsoft Office application on your device. You may now close this window."));
    match &s.grants().devices[&dc].state {
        DeviceState::Approved(ctx) => {
            assert_eq!(ctx.tid.to_string(), TID);
            assert_eq!(
                ctx.user_oid,
                uuid::uuid!("7f199a96-50b1-4675-9db0-57b362c5d564")
            );
            assert_eq!(ctx.amr, ["pwd"]);
            assert_eq!(ctx.auth_time, T0);
        }
        other => panic!("not approved: {other:?}"),
    }
    // A used code no longer works.
    let r = post(&s, "/devicelogin", &[("otc", "FRWQDE7YL")]).await;
    assert!(r.has("That code didn&#39;t work."));

    let dc2 = insert_device(&s, "ABCDEFGHJ", 900);
    let page = post(&s, "/devicelogin", &[("otc", "ABCDEFGHJ")]).await;
    let pw = submit(&s, &page, &[("loginfmt", "AlexW@contoso.com")]).await;
    let confirm = submit(&s, &pw, &[("passwd", PASSWORD)]).await;
    let r = submit(&s, &confirm, &[("action", "Cancel")]).await;
    assert!(r.has("You have declined to sign in"));
    assert_eq!(s.grants().devices[&dc2].state, DeviceState::Declined);

    insert_device(&s, "EXPIRED01", -1);
    let r = post(&s, "/devicelogin", &[("otc", "EXPIRED01")]).await;
    assert!(r.has("The code you entered has expired."));
}

#[tokio::test]
async fn logout_clears_the_session() {
    let s = lab();
    let page = get(&s, &authorize_v1("https://mail.contoso.com/", ""), None).await;
    let kmsi = sign_in(&s, &page, "GregT@contoso.com").await;
    let done = submit(&s, &kmsi, &[("action", "No")]).await;
    let cookie = done.session_cookie();
    assert_eq!(s.sessions().session_count(), 1);
    let r = get(
        &s,
        "/common/oauth2/v2.0/logout?post_logout_redirect_uri=https%3A%2F%2Fapp.contoso.com%2Fsigned-out",
        Some(&cookie),
    )
    .await;
    assert_eq!(r.status, StatusCode::FOUND);
    assert_eq!(r.location(), "https://app.contoso.com/signed-out");
    assert!(r.cookies().iter().any(|c| c.starts_with("ESTSAUTH=;")));
    assert_eq!(s.sessions().session_count(), 0);
    let silent = get(
        &s,
        &authorize_v1("https://mail.contoso.com/", "&prompt=none"),
        Some(&cookie),
    )
    .await;
    assert_eq!(query_pairs(&silent.location())[0].1, "login_required");

    let page = get(&s, "/contoso.com/oauth2/logout", None).await;
    assert_page_ids(&page, &["You signed out of your account"]);
}

#[tokio::test]
async fn garbage_never_panics() {
    let s = lab();
    let r = post(
        &s,
        "/common/login",
        &[("flowToken", "forged"), ("passwd", "x")],
    )
    .await;
    assert!(r.has("AADSTS50089"));
    let r = post(&s, "/common/login", &[]).await;
    assert!(r.has("AADSTS50089"));
    let huge = "A".repeat(20_000);
    let uri =
        authorize_v1(&huge, &format!("&state={huge}")).replacen("/common/", "/contoso.com/", 1);
    let r = get(&s, &uri, None).await;
    assert_eq!(r.status, StatusCode::FOUND);
    assert!(r.location().contains("error=invalid_resource"));
    let r = get(
        &s,
        &format!(
            "/common/oauth2/authorize?client_id={OFFICE}&redirect_uri=%00%01&response_type=code"
        ),
        None,
    )
    .await;
    assert!(r.has("AADSTS50011"));
    let r = get(&s, "/%E2%82%AC/oauth2/authorize?client_id=%FF%FE", None).await;
    assert!(r.has("AADSTS90002"));
    let r = get(&s, "/%FF%FE/oauth2/v2.0/authorize", None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.has("AADSTS90002: Tenant &#39;&#39; not found."));
    // Flow tokens expire.
    let page = get(&s, &authorize_v1("https://mail.contoso.com/", ""), None).await;
    s.clock.advance_secs(3600);
    let r = submit(&s, &page, &[("loginfmt", "GregT@contoso.com")]).await;
    assert!(r.has("AADSTS50089: Authentication failed due to flow token expired."));
}

/// Every page with its volatile values (flow token, trace id, code, session state) masked.
fn masked_page(r: &Resp) -> String {
    let mut body = r.body.clone();
    if let Some(t) = r.headers.get("x-ms-request-id") {
        body = body.replace(t.to_str().unwrap(), "TRACE-ID");
    }
    for name in ["flowToken", "code", "session_state"] {
        let marker = format!("name=\"{name}\" value=\"");
        let mut from = 0;
        while let Some(i) = body[from..].find(&marker) {
            let start = from + i + marker.len();
            let end = start + body[start..].find('"').unwrap();
            let value = body[start..end].to_string();
            body = body.replace(&value, &name.to_uppercase());
            from = start;
        }
    }
    body
}

#[tokio::test]
async fn pages_match_golden_files() {
    use super::common::GOLDEN;
    let s = lab();
    let check = |name: &str, r: &Resp| GOLDEN.check(&format!("page-{name}.html"), masked_page(r));

    let username = get(
        &s,
        &authorize_v1("https://mail.contoso.com/", "&state=g"),
        None,
    )
    .await;
    check("username", &username);
    let unknown = submit(&s, &username, &[("loginfmt", "ghost@contoso.com")]).await;
    check("username-unknown-user", &unknown);
    let password = submit(&s, &unknown, &[("loginfmt", "GregT@contoso.com")]).await;
    check("password", &password);
    let wrong = submit(&s, &password, &[("passwd", "wrong")]).await;
    check("password-wrong", &wrong);
    let kmsi = submit(&s, &wrong, &[("passwd", PASSWORD)]).await;
    check("kmsi", &kmsi);

    let mfa_start = get(
        &s,
        &authorize_v1(
            "https://mail.contoso.com/",
            "&login_hint=NestorW%40contoso.com",
        ),
        None,
    )
    .await;
    let enroll = submit(&s, &mfa_start, &[("passwd", PASSWORD)]).await;
    check("mfa-enroll", &enroll);
    let mfa = submit(&s, &enroll, &[("action", "Next")]).await;
    check("mfa", &mfa);
    let mfa_wrong = submit(&s, &mfa, &[("otc", "1")]).await;
    check("mfa-wrong-code", &mfa_wrong);

    let consent_start = get(
        &s,
        &web_app_authorize("&login_hint=AlexW%40contoso.com&response_mode=form_post"),
        None,
    )
    .await;
    let consent = submit(&s, &consent_start, &[("passwd", PASSWORD)]).await;
    check("consent", &consent);
    let kmsi = submit(&s, &consent, &[("action", "Accept")]).await;
    let form_post = submit(&s, &kmsi, &[("action", "No")]).await;
    check("form-post", &form_post);

    let err = get(
        &s,
        &format!("/contoso.com/oauth2/authorize?client_id=11111111-2222-3333-4444-555555555555&response_type=code&client-request-id={CORR}"),
        None,
    )
    .await;
    check("error-unknown-client", &err);

    s.dir_mut().tenants[0].conditional_access.push(CaRule {
        name: "block".into(),
        enabled: true,
        users: vec!["*".into()],
        apps: vec!["*".into()],
        action: CaAction::Block,
    });
    let ca_start = get(
        &s,
        &authorize_v1(
            "https://mail.contoso.com/",
            "&login_hint=GregT%40contoso.com",
        ),
        None,
    )
    .await;
    let ca = submit(&s, &ca_start, &[("passwd", PASSWORD)]).await;
    check("ca-blocked", &ca);
    s.dir_mut().tenants[0].conditional_access.clear();

    insert_device(&s, "GOLDEN123", 900);
    let code = get(&s, "/devicelogin", None).await;
    check("device-code", &code);
    let user = submit(&s, &code, &[("otc", "GOLDEN123")]).await;
    let pw = submit(&s, &user, &[("loginfmt", "GregT@contoso.com")]).await;
    let confirm = submit(&s, &pw, &[("passwd", PASSWORD)]).await;
    check("device-confirm", &confirm);
    let done = submit(&s, &confirm, &[("action", "Continue")]).await;
    check("device-done", &done);

    let logout = get(&s, "/common/oauth2/v2.0/logout", None).await;
    check("logout", &logout);
}

#[tokio::test]
async fn sign_in_over_a_real_socket() {
    let mut c = Config::contoso();
    c.clock = Clock::frozen_at_unix(T0);
    let h = mock_aad::start(c).await.unwrap();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let base = h.url();
    let page = client
        .get(format!(
            "{base}{}",
            authorize_v1("https://mail.contoso.com/", "&state=sock")
        ))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains(&format!(r#"action="{base}/common/login""#)));
    let mut resp = Resp {
        status: StatusCode::OK,
        headers: HeaderMap::new(),
        body: page,
    };
    for fields in [
        vec![("loginfmt", "GregT@contoso.com")],
        vec![("passwd", PASSWORD)],
        vec![("action", "No")],
    ] {
        let flow = resp.flow();
        let mut form = vec![("flowToken", flow.as_str())];
        form.extend(fields);
        let body: String = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&form)
            .finish();
        let r = client
            .post(format!("{base}/common/login"))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap();
        resp = Resp {
            status: r.status(),
            headers: r.headers().clone(),
            body: r.text().await.unwrap(),
        };
    }
    assert_eq!(resp.status, StatusCode::FOUND);
    let loc = resp.location();
    assert!(loc.starts_with("urn:ietf:wg:oauth:2.0:oob?code="), "{loc}");
    assert!(loc.contains("&state=sock&session_state="));
    h.shutdown().await;
}

#[tokio::test]
async fn mfa_proved_during_sso_is_remembered_by_the_session() {
    let s = lab();
    let page = get(&s, &authorize_v1("https://mail.contoso.com/", ""), None).await;
    let kmsi = sign_in(&s, &page, "AlexW@contoso.com").await;
    let done = submit(&s, &kmsi, &[("action", "No")]).await;
    let cookie = done.session_cookie();
    s.dir_mut().tenants[0].conditional_access.push(CaRule {
        name: "mfa".into(),
        enabled: true,
        users: vec!["AlexW@contoso.com".into()],
        apps: vec!["*".into()],
        action: CaAction::RequireMfa,
    });
    let mfa = get(
        &s,
        &authorize_v1("https://mail.contoso.com/", ""),
        Some(&cookie),
    )
    .await;
    assert_page_ids(&mfa, &[r#"id="idTxtBx_SAOTCC_OTC""#]);
    let done = submit(&s, &mfa, &[("otc", MFA)]).await;
    assert_eq!(
        done.status,
        StatusCode::FOUND,
        "no KMSI when continuing a session"
    );
    let code = query_pairs(&done.location())[0].1.clone();
    assert_eq!(s.grants().codes[&code].auth.amr, ["pwd", "mfa"]);
    let again = get(
        &s,
        &authorize_v1("https://mail.contoso.com/", "&prompt=none"),
        Some(&cookie),
    )
    .await;
    let code = query_pairs(&again.location())[0].1.clone();
    assert_eq!(s.grants().codes[&code].auth.amr, ["pwd", "mfa"]);
}

#[tokio::test]
async fn an_interactive_sign_in_keeps_its_instant_to_the_tick_through_sso() {
    let mut c = Config::contoso();
    c.clock = Clock::frozen(
        std::time::UNIX_EPOCH + std::time::Duration::from_micros(T0 as u64 * 1_000_000 + 123_456),
    );
    let s = mock_aad::state(c);
    let page = get(&s, &authorize_v1("https://mail.contoso.com/", ""), None).await;
    let kmsi = sign_in(&s, &page, "gregt@contoso.com").await;
    let done = submit(&s, &kmsi, &[("action", "No")]).await;
    let code = query_pairs(&done.location())[0].1.clone();
    let auth = s.grants().codes[&code].auth.clone();
    assert_eq!((auth.auth_time, auth.auth_ticks), (T0, 1_234_560));
    // A later SSO sign-in reuses the session's instant, fraction included.
    s.clock.advance_secs(60);
    let again = get(
        &s,
        &authorize_v1("https://mail.contoso.com/", ""),
        Some(&done.session_cookie()),
    )
    .await;
    let code = query_pairs(&again.location())[0].1.clone();
    let auth = s.grants().codes[&code].auth.clone();
    assert_eq!((auth.auth_time, auth.auth_ticks), (T0, 1_234_560));
}

#[tokio::test]
async fn abandoned_flows_are_bounded() {
    let s = lab();
    *s.sessions() = mock_aad::sessions::Sessions::with_capacity(3);
    let first = get(&s, &authorize_v1("https://mail.contoso.com/", ""), None).await;
    for _ in 0..5 {
        get(&s, &authorize_v1("https://mail.contoso.com/", ""), None).await;
    }
    assert_eq!(s.sessions().flow_count(), 3);
    let r = submit(&s, &first, &[("loginfmt", "GregT@contoso.com")]).await;
    assert!(r.has("AADSTS50089"), "the oldest flow was evicted");
}

#[tokio::test]
async fn pkce_parameters_are_validated() {
    let s = lab();
    let base = format!(
        "/contoso.com/oauth2/v2.0/authorize?client_id={OFFICE}&response_type=code&redirect_uri={}&scope=openid&client-request-id={CORR}",
        enc(OOB)
    );
    let padded = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM=";
    let r = get(
        &s,
        &format!("{base}&code_challenge={padded}&code_challenge_method=S256"),
        None,
    )
    .await;
    assert_eq!(
        r.location(),
        format!("urn:ietf:wg:oauth:2.0:oob?error=invalid_request&error_description=AADSTS501491%3a+Invalid+size+of+Code_Challenge+parameter.%0d%0aTrace+ID%3a+{}%0d%0aCorrelation+ID%3a+{CORR}%0d%0aTimestamp%3a+2017-11-17+23%3a31%3a02Z", r.trace())
    );
    let r = get(&s, &format!("{base}&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S512"), None).await;
    assert!(r.location().starts_with("urn:ietf:wg:oauth:2.0:oob?error=invalid_request&error_description=AADSTS50149%3a+Invalid+Code_Challenge_method+parameter."));
    // A challenge without a method is plain.
    let r = get(
        &s,
        &format!(
            "{base}&code_challenge={}&login_hint=GregT%40contoso.com",
            "a".repeat(43)
        ),
        None,
    )
    .await;
    let kmsi = submit(&s, &r, &[("passwd", PASSWORD)]).await;
    let done = submit(&s, &kmsi, &[("action", "No")]).await;
    let code = query_pairs(&done.location())[0].1.clone();
    assert_eq!(
        s.grants().codes[&code].code_challenge_method.as_deref(),
        Some("plain")
    );
}
