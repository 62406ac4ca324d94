//! Token service tests: every grant, every AADSTS answer the token and devicecode endpoints give
//! (exact status, headers and body, pinned in golden files), the claims of issued tokens against
//! the field guide's decoded token, and the refresh/password-change story end to end over a real
//! socket.
//!
//! The clock is frozen (at the field guide's grant instant, 2017-10-28 17:20:13Z) and every request
//! sends a fixed `client-request-id`, so error bodies are deterministic except for the trace id,
//! which is masked after checking it equals `x-ms-request-id`.

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use mock_aad::grants::{AuthCode, AuthContext, DeviceState};
use mock_aad::model::{CaAction, CaRule, Era, RevocationResponse};
use mock_aad::state::AppState;
use mock_aad::{Clock, Config};
use serde_json::{Map, Value};
use time::OffsetDateTime;
use tower::ServiceExt;
use uuid::Uuid;

use super::common::{send, GOLDEN};

const CORR: &str = "f3fc8b2f-7cf1-4ce8-b34d-5dd41aba0a02";
const TID: &str = "f31f3647-5d87-4b69-a0b6-73f62aeab14c";
const OFFICE: &str = "d3590ed6-52b3-4102-aeff-aad2292ab01c";
const EXCHANGE: &str = "00000002-0000-0ff1-ce00-000000000000";
const WEB: &str = "cbe9bcaa-6b5c-42fe-ad70-35a73de6869a";
const API: &str = "d682aded-84aa-4316-896c-c89084acc4d3";
const DAEMON: &str = "175cf0e3-733c-4a81-9b28-61f662f95c16";
const GREG_OID: &str = "7f199a96-50b1-4675-9db0-57b362c5d564";
const PASSWORD: &str = "Contoso2017!";
/// The resource of the field guide's decoded token.
const AUTODISCOVER: &str = "https://autodiscover.contoso.com/";
const EXO_SCOPES: &str = "Calendars.ReadWrite Contacts.ReadWrite Files.ReadWrite.All Group.ReadWrite.All Mail.ReadWrite Mail.Send Privilege.ELT Signals-Internal.Read Signals-Internal.ReadWrite Tags.ReadWrite user_impersonation";
/// 2017-10-28T17:20:13Z, when the field guide's grant was issued.
const GRANTED_AT: i64 = 1_509_211_213;
/// 2017-11-16T20:27:45Z, the field guide's TokensValidFrom.
const VALID_FROM: i64 = 1_510_864_065;
/// 2017-11-16T20:36:16Z, when the field guide's refresh failed.
const REFUSED_AT: i64 = 1_510_864_576;
/// RFC 7636 appendix B.
const PKCE_VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const PKCE_CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

// ------------------------------------------------------------------------------ harness

struct Lab {
    state: AppState,
    clock: Clock,
}

struct Resp {
    status: StatusCode,
    reason: Option<String>,
    headers: HeaderMap,
    text: String,
}

impl Resp {
    fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }
    fn code(&self) -> u64 {
        self.json()["error_codes"][0].as_u64().unwrap_or(0)
    }
    fn field(&self, name: &str) -> String {
        self.json()[name]
            .as_str()
            .unwrap_or_else(|| panic!("no string {name} in {}", self.text))
            .to_string()
    }
    #[track_caller]
    fn ok(self) -> Self {
        assert_eq!(self.status, StatusCode::OK, "{}", self.text);
        self
    }
}

fn form(pairs: &[(&str, &str)]) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        s.append_pair(k, v);
    }
    s.finish()
}

impl Lab {
    fn new() -> Self {
        Self::at(GRANTED_AT)
    }

    fn at(unix: i64) -> Self {
        Self::at_instant(std::time::UNIX_EPOCH + std::time::Duration::from_secs(unix as u64))
    }

    /// A lab whose frozen clock reads `t`, fraction included.
    fn at_instant(t: std::time::SystemTime) -> Self {
        let clock = Clock::frozen(t);
        let state = mock_aad::state(super::common::current_era(Config {
            clock: clock.clone(),
            ..Config::contoso()
        }));
        Lab { state, clock }
    }

    async fn send(&self, path: &str, body: String, headers: &[(&str, &str)]) -> Resp {
        let mut req = Request::builder()
            .method("POST")
            .uri(path)
            .header("host", "login.contoso.test")
            .header("content-type", "application/x-www-form-urlencoded")
            .header("client-request-id", CORR)
            .header("x-forwarded-for", "100.100.100.100");
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let r = send(&self.state, req.body(Body::from(body)).unwrap()).await;
        Resp {
            status: r.status,
            text: r.text(),
            reason: r.reason,
            headers: r.headers,
        }
    }

    async fn post(&self, path: &str, pairs: &[(&str, &str)]) -> Resp {
        self.send(path, form(pairs), &[]).await
    }

    async fn ropc_v1(&self, user: &str, resource: &str) -> Resp {
        self.post(
            "/contoso.com/oauth2/token",
            &[
                ("grant_type", "password"),
                ("client_id", OFFICE),
                ("resource", resource),
                ("username", user),
                ("password", PASSWORD),
            ],
        )
        .await
    }

    async fn ropc_v2(&self, user: &str, scope: &str) -> Resp {
        self.post(
            "/organizations/oauth2/v2.0/token",
            &[
                ("grant_type", "password"),
                ("client_id", OFFICE),
                ("scope", scope),
                ("username", user),
                ("password", PASSWORD),
                ("client_info", "1"),
            ],
        )
        .await
    }

    async fn refresh_v1(&self, rt: &str) -> Resp {
        self.post(
            "/common/oauth2/token",
            &[
                ("grant_type", "refresh_token"),
                ("client_id", OFFICE),
                ("resource", AUTODISCOVER),
                ("refresh_token", rt),
            ],
        )
        .await
    }

    /// Greg's refresh token from a v1 password grant for Autodiscover.
    async fn greg_refresh_token(&self) -> String {
        self.ropc_v1("GregT@contoso.com", AUTODISCOVER)
            .await
            .ok()
            .field("refresh_token")
    }

    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(self.clock.unix()).unwrap()
    }

    fn change_password(&self, upn: &str) {
        let now = self.now();
        let mut dir = self.state.dir_mut();
        let user = dir.tenants[0].user_mut(upn).unwrap();
        user.password = "NewPassword2017!".into();
        user.tokens_valid_from = Some(now);
    }
}

/// Renders status line, headers and body with the trace id and the random `esctx` cookie masked,
/// and compares with `tests/golden/aad-token/<name>.txt` (`UPDATE_GOLDEN=1` rewrites it).
#[track_caller]
fn golden_answer(name: &str, r: &Resp) {
    let trace = r.headers["x-ms-request-id"].to_str().unwrap().to_string();
    assert!(trace.ends_with("00"), "trace id {trace}");
    let body = r.json();
    if body.get("trace_id").is_some() {
        assert_eq!(body["trace_id"], trace.as_str());
        assert_eq!(body["correlation_id"], CORR);
    }
    let reason = r
        .reason
        .clone()
        .unwrap_or_else(|| r.status.canonical_reason().unwrap_or("").to_string());
    let mut out = format!("HTTP/1.1 {} {reason}\n", r.status.as_u16());
    for (k, v) in r.headers.iter() {
        let mut v = v.to_str().unwrap().to_string();
        if v.starts_with("esctx=") {
            let rest = v.split_once(';').map(|p| p.1).unwrap_or("").to_string();
            v = format!("esctx=<esctx>;{rest}");
        }
        out.push_str(&format!("{k}: {}\n", v.replace(&trace, "<trace-id>")));
    }
    out.push('\n');
    out.push_str(&r.text.replace(&trace, "<trace-id>"));
    out.push('\n');
    GOLDEN.check(&format!("aad-token/{name}.txt"), out);
}

fn jwt(token: &str) -> (Map<String, Value>, Map<String, Value>) {
    let mut parts = token.split('.');
    let mut part = || -> Map<String, Value> {
        let b = URL_SAFE_NO_PAD.decode(parts.next().unwrap()).unwrap();
        serde_json::from_slice(&b).unwrap()
    };
    let header = part();
    let claims = part();
    (header, claims)
}

fn names(m: &Map<String, Value>) -> Vec<&str> {
    m.keys().map(String::as_str).collect()
}

fn keys_of(v: &Value) -> Vec<String> {
    v.as_object().unwrap().keys().cloned().collect()
}

// ------------------------------------------------------------------------------ ROPC + tokens

#[tokio::test]
async fn v1_password_token_matches_the_field_guide_token() {
    let lab = Lab::new();
    let r = lab.ropc_v1("GregT@contoso.com", AUTODISCOVER).await.ok();
    let body = r.json();
    assert_eq!(
        keys_of(&body),
        [
            "token_type",
            "scope",
            "expires_in",
            "ext_expires_in",
            "expires_on",
            "not_before",
            "resource",
            "access_token",
            "refresh_token"
        ]
    );
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["scope"], EXO_SCOPES);
    assert_eq!(body["expires_in"], "3599");
    assert_eq!(body["ext_expires_in"], "3599");
    assert_eq!(body["expires_on"], (GRANTED_AT + 3599).to_string());
    assert_eq!(body["not_before"], GRANTED_AT.to_string());
    assert_eq!(body["resource"], AUTODISCOVER);

    let token = r.field("access_token");
    let (header, claims) = jwt(&token);
    assert_eq!(names(&header), ["typ", "alg", "x5t", "kid"]);
    assert_eq!(header["x5t"], header["kid"]);
    let verified = mock_aad::token::verify_jwt(&lab.state.keys(), &token).unwrap();
    assert_eq!(verified, claims);

    let seed: Map<String, Value> = serde_json::from_str(
        &std::fs::read_to_string(GOLDEN.path("aad-token/seed_access_token.json")).unwrap(),
    )
    .unwrap();
    // The seed's claim names appear in the same order; the only extras are iat, nbf, exp, rh, uti.
    let issued: Vec<&str> = names(&claims);
    let common: Vec<&str> = issued
        .iter()
        .copied()
        .filter(|n| seed.contains_key(*n))
        .collect();
    assert_eq!(common, names(&seed));
    let extra: Vec<&str> = issued
        .iter()
        .copied()
        .filter(|n| !seed.contains_key(*n))
        .collect();
    assert_eq!(extra, ["iat", "nbf", "exp", "rh", "uti"]);
    for name in [
        "aud",
        "iss",
        "acr",
        "amr",
        "appid",
        "appidacr",
        "e_exp",
        "enfpolids",
        "family_name",
        "given_name",
        "ipaddr",
        "oid",
        "onprem_sid",
        "platf",
        "puid",
        "scp",
        "tid",
        "unique_name",
        "upn",
        "ver",
    ] {
        assert_eq!(claims[name], seed[name], "claim {name}");
    }
    assert_eq!(claims["name"], "Greg Taylor");
    assert_eq!(claims["iat"], GRANTED_AT);
    assert_eq!(claims["nbf"], GRANTED_AT);
    assert_eq!(claims["exp"], GRANTED_AT + 3599);
    let sub = claims["sub"].as_str().unwrap();
    assert_eq!(sub.len(), 43);
    assert_eq!(
        sub,
        mock_aad::token::pairwise_sub(
            Uuid::parse_str(GREG_OID).unwrap(),
            Uuid::parse_str(OFFICE).unwrap()
        )
    );
    assert_eq!(claims["uti"].as_str().unwrap().len(), 22);
    assert!(STANDARD.decode(claims["aio"].as_str().unwrap()).is_ok());
}

#[tokio::test]
async fn success_headers_are_azure_ads() {
    let lab = Lab::new();
    let r = lab.ropc_v1("GregT@contoso.com", AUTODISCOVER).await.ok();
    let names: Vec<&str> = r.headers.keys().map(|k| k.as_str()).collect();
    assert_eq!(
        names,
        [
            "cache-control",
            "pragma",
            "content-type",
            "expires",
            "server",
            "strict-transport-security",
            "x-content-type-options",
            "x-ms-request-id",
            "p3p",
            "set-cookie",
            "x-powered-by",
            "date",
            "content-length"
        ]
    );
    assert_eq!(r.headers["cache-control"], "no-store, no-cache");
    assert_eq!(r.headers["pragma"], "no-cache");
    assert_eq!(r.headers["content-type"], "application/json; charset=utf-8");
    assert_eq!(r.headers["expires"], "-1");
    assert_eq!(r.headers["date"], "Sat, 28 Oct 2017 17:20:13 GMT");
    assert_eq!(r.headers.get_all("set-cookie").iter().count(), 3);
}

#[tokio::test]
async fn v2_password_token_echoes_scope_and_carries_client_info_and_id_token() {
    let lab = Lab::new();
    let scope = "https://mail.contoso.com/EWS.AccessAsUser.All offline_access openid profile";
    let r = lab.ropc_v2("GregT@contoso.com", scope).await.ok();
    let body = r.json();
    assert_eq!(
        keys_of(&body),
        [
            "token_type",
            "scope",
            "expires_in",
            "ext_expires_in",
            "access_token",
            "refresh_token",
            "id_token",
            "client_info"
        ]
    );
    assert_eq!(body["scope"], scope);
    assert_eq!(body["expires_in"], 3599);
    assert_eq!(body["ext_expires_in"], 3599);
    let ci = URL_SAFE_NO_PAD.decode(r.field("client_info")).unwrap();
    assert_eq!(
        String::from_utf8(ci).unwrap(),
        format!(r#"{{"uid":"{GREG_OID}","utid":"{TID}"}}"#)
    );
    // Exchange accepts v1 tokens: v1 format, aud exactly the requested resource.
    let (header, at) = jwt(&r.field("access_token"));
    assert_eq!(names(&header), ["typ", "alg", "x5t", "kid"]);
    assert_eq!(at["aud"], "https://mail.contoso.com");
    assert_eq!(at["scp"], "EWS.AccessAsUser.All");
    assert_eq!(at["ver"], "1.0");
    let (idh, id) = jwt(&r.field("id_token"));
    assert_eq!(names(&idh), ["typ", "alg", "kid"]);
    assert_eq!(
        names(&id),
        [
            "aud",
            "iss",
            "iat",
            "nbf",
            "exp",
            "name",
            "oid",
            "preferred_username",
            "rh",
            "sub",
            "tid",
            "uti",
            "ver"
        ]
    );
    assert_eq!(id["aud"], OFFICE);
    assert_eq!(
        id["iss"],
        format!("https://login.microsoftonline.com/{TID}/v2.0")
    );
    assert_eq!(id["preferred_username"], "GregT@contoso.com");
    assert_eq!(id["ver"], "2.0");
}

#[tokio::test]
async fn v2_without_offline_access_or_openid_gets_access_token_only() {
    let lab = Lab::new();
    let r = lab.ropc_v2("GregT@contoso.com", "User.Read").await.ok();
    let body = r.json();
    assert_eq!(
        keys_of(&body),
        [
            "token_type",
            "scope",
            "expires_in",
            "ext_expires_in",
            "access_token",
            "client_info"
        ]
    );
    let (_, at) = jwt(&r.field("access_token"));
    assert_eq!(at["aud"], "00000003-0000-0000-c000-000000000000");
    assert_eq!(at["scp"], "User.Read");
}

#[tokio::test]
async fn v2_resource_gets_a_v2_token() {
    let lab = Lab::new();
    let r = lab
        .ropc_v2("GregT@contoso.com", &format!("api://{API}/access_as_user"))
        .await
        .ok();
    let (header, at) = jwt(&r.field("access_token"));
    assert_eq!(names(&header), ["typ", "alg", "kid"]);
    assert_eq!(
        names(&at),
        [
            "aud",
            "iss",
            "iat",
            "nbf",
            "exp",
            "aio",
            "azp",
            "azpacr",
            "name",
            "oid",
            "preferred_username",
            "rh",
            "scp",
            "sub",
            "tid",
            "uti",
            "ver"
        ]
    );
    assert_eq!(at["aud"], API);
    assert_eq!(
        at["iss"],
        format!("https://login.microsoftonline.com/{TID}/v2.0")
    );
    assert_eq!(at["azp"], OFFICE);
    assert_eq!(at["azpacr"], "0");
    assert_eq!(at["scp"], "access_as_user");
    assert_eq!(at["ver"], "2.0");
}

#[tokio::test]
async fn v1_id_token_when_scope_asks_for_openid() {
    let lab = Lab::new();
    let r = lab
        .post(
            "/contoso.com/oauth2/token",
            &[
                ("grant_type", "password"),
                ("client_id", OFFICE),
                ("resource", AUTODISCOVER),
                ("scope", "openid"),
                ("username", "GregT@contoso.com"),
                ("password", PASSWORD),
            ],
        )
        .await
        .ok();
    let (h, id) = jwt(&r.field("id_token"));
    assert_eq!(names(&h), ["typ", "alg", "x5t", "kid"]);
    assert_eq!(id["iss"], format!("https://sts.windows.net/{TID}/"));
    assert_eq!(id["aud"], OFFICE);
    assert_eq!(id["upn"], "GregT@contoso.com");
    assert_eq!(id["ver"], "1.0");
}

#[tokio::test]
async fn password_grant_errors() {
    let lab = Lab::new();
    for (name, user, code) in [
        ("50126_wrong_password", "GregT@contoso.com", 50126),
        ("50034_unknown_user", "Nobody@contoso.com", 50034),
        ("50053_locked", "LeeG@contoso.com", 50053),
        ("50057_disabled", "PattiF@contoso.com", 50057),
        ("50076_mfa_v1", "MeganB@contoso.com", 50076),
        ("50079_mfa_enroll", "NestorW@contoso.com", 50079),
    ] {
        let pw = if code == 50126 { "wrong" } else { PASSWORD };
        let r = lab
            .post(
                "/contoso.com/oauth2/token",
                &[
                    ("grant_type", "password"),
                    ("client_id", OFFICE),
                    ("resource", AUTODISCOVER),
                    ("username", user),
                    ("password", pw),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{name}");
        assert_eq!(r.code(), code, "{name}: {}", r.text);
        golden_answer(name, &r);
    }
    // v2 answers MFA with invalid_grant, v1 with interaction_required.
    let r = lab
        .ropc_v2("MeganB@contoso.com", "https://mail.contoso.com/.default")
        .await;
    assert_eq!(r.json()["error"], "invalid_grant");
    golden_answer("50076_mfa_v2", &r);
}

#[tokio::test]
async fn conditional_access_block_and_missing_consent() {
    let lab = Lab::new();
    lab.state.dir_mut().tenants[0]
        .conditional_access
        .push(CaRule {
            name: "Block Exchange for Greg".into(),
            enabled: true,
            users: vec!["GregT@contoso.com".into()],
            apps: vec![EXCHANGE.into()],
            action: CaAction::Block,
        });
    let r = lab.ropc_v1("GregT@contoso.com", AUTODISCOVER).await;
    assert_eq!(r.code(), 53003);
    golden_answer("53003_ca_block", &r);

    // Contoso Web has no admin consent and Alex never consented.
    let r = lab
        .post(
            "/contoso.com/oauth2/v2.0/token",
            &[
                ("grant_type", "password"),
                ("client_id", WEB),
                ("client_secret", "contoso-web-secret"),
                ("scope", "User.Read"),
                ("username", "AlexW@contoso.com"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(r.code(), 65001);
    golden_answer("65001_consent", &r);
    // Once consented, the same request succeeds with appidacr 1 (secret).
    lab.state.dir_mut().tenants[0]
        .user_mut("AlexW@contoso.com")
        .unwrap()
        .consented_apps
        .push(Uuid::parse_str(WEB).unwrap());
    let r = lab
        .post(
            "/contoso.com/oauth2/v2.0/token",
            &[
                ("grant_type", "password"),
                ("client_id", WEB),
                ("client_secret", "contoso-web-secret"),
                ("scope", "User.Read"),
                ("username", "AlexW@contoso.com"),
                ("password", PASSWORD),
            ],
        )
        .await
        .ok();
    let (_, at) = jwt(&r.field("access_token"));
    assert_eq!(at["appidacr"], "1");
}

#[tokio::test]
async fn request_and_resource_errors() {
    let lab = Lab::new();
    // Unregistered resource: v1 names the domain of the request.
    let r = lab
        .ropc_v1("GregT@contoso.com", "https://mail.corp.contoso.com/")
        .await;
    assert_eq!(r.code(), 50001);
    golden_answer("50001_resource_v1", &r);
    let r = lab
        .ropc_v2(
            "GregT@contoso.com",
            "https://mail.corp.contoso.com/EWS.AccessAsUser.All",
        )
        .await;
    assert_eq!(r.code(), 500011);
    golden_answer("500011_resource_v2", &r);
    let r = lab
        .ropc_v2("GregT@contoso.com", "https://mail.contoso.com/Nope.Read")
        .await;
    assert_eq!(r.code(), 70011);
    golden_answer("70011_scope", &r);
    // Unknown tenant.
    let r = lab
        .post(
            "/fabrikam.com/oauth2/token",
            &[("grant_type", "password"), ("client_id", OFFICE)],
        )
        .await;
    assert_eq!(r.code(), 90002);
    golden_answer("90002_tenant", &r);
    // Unknown client.
    let r = lab
        .post(
            "/contoso.com/oauth2/token",
            &[
                ("grant_type", "password"),
                ("client_id", "11111111-2222-3333-4444-555555555555"),
                ("resource", AUTODISCOVER),
                ("username", "GregT@contoso.com"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(r.code(), 700016);
    golden_answer("700016_client", &r);
    // grant_type only in the query string.
    let r = lab
        .post(
            "/contoso.com/oauth2/token?grant_type=password",
            &[("client_id", OFFICE), ("username", "GregT@contoso.com")],
        )
        .await;
    assert_eq!(r.code(), 900144);
    golden_answer("900144_grant_type_in_query", &r);
    // A repeated form key.
    let r = lab
        .send(
            "/contoso.com/oauth2/token",
            "grant_type=password&client_id=a&client_id=b".into(),
            &[],
        )
        .await;
    assert_eq!(r.json()["error"], "invalid_request");
    golden_answer("duplicate_parameter", &r);
    // resource= on v2.
    let r = lab
        .post(
            "/contoso.com/oauth2/v2.0/token",
            &[("grant_type", "password"), ("resource", AUTODISCOVER)],
        )
        .await;
    assert_eq!(r.code(), 901002);
    golden_answer("901002_resource_on_v2", &r);
    let r = lab
        .post(
            "/contoso.com/oauth2/token",
            &[("grant_type", "saml2"), ("client_id", OFFICE)],
        )
        .await;
    assert_eq!(r.json()["error"], "unsupported_grant_type");
    golden_answer("unsupported_grant_type", &r);
    // A public client presenting a secret.
    let r = lab
        .post(
            "/contoso.com/oauth2/token",
            &[
                ("grant_type", "password"),
                ("client_id", OFFICE),
                ("client_secret", "x"),
                ("resource", AUTODISCOVER),
                ("username", "GregT@contoso.com"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.code(), 700025);
}

#[tokio::test]
async fn get_on_the_token_endpoint_is_900561() {
    let lab = Lab::new();
    let req = Request::builder()
        .method("GET")
        .uri("/common/oauth2/v2.0/token?grant_type=password")
        .header("client-request-id", CORR)
        .body(Body::empty())
        .unwrap();
    let resp = mock_aad::app(lab.state.clone()).oneshot(req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let headers = resp.headers().clone();
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .unwrap();
    let r = Resp {
        status: StatusCode::BAD_REQUEST,
        reason: None,
        headers,
        text: String::from_utf8(bytes.to_vec()).unwrap(),
    };
    assert_eq!(r.code(), 900561);
    golden_answer("900561_get", &r);
}

#[tokio::test]
async fn oversized_body_is_an_aad_json_error() {
    let lab = Lab::new();
    let big = format!("grant_type=password&x={}", "a".repeat(300 * 1024));
    let r = lab.send("/contoso.com/oauth2/token", big, &[]).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(r.headers["content-type"], "application/json; charset=utf-8");
    assert_eq!(r.json()["error"], "invalid_request");
    golden_answer("body_too_large", &r);
}

#[tokio::test]
async fn garbage_in_form_and_path_never_panics() {
    let lab = Lab::new();
    for body in [
        "%",
        "grant_type=%FF%FE",
        "grant_type=refresh_token&client_id=%00&refresh_token=%%%",
        "=&&&=",
    ] {
        let r = lab
            .send("/contoso.com/oauth2/v2.0/token", body.into(), &[])
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body}: {}", r.text);
        assert!(r.json()["error"].is_string());
    }
    let r = lab
        .post("/%E2%82%AC/oauth2/token", &[("grant_type", "password")])
        .await;
    assert_eq!(r.code(), 90002);
}

// ------------------------------------------------------------------------------ refresh tokens

#[tokio::test]
async fn refresh_rotates_and_the_old_token_stays_valid() {
    let lab = Lab::new();
    let rt1 = lab
        .ropc_v1("GregT@contoso.com", AUTODISCOVER)
        .await
        .ok()
        .field("refresh_token");
    lab.clock.advance_secs(600);
    let r = lab.refresh_v1(&rt1).await.ok();
    let rt2 = r.field("refresh_token");
    assert_ne!(rt1, rt2);
    let (_, at) = jwt(&r.field("access_token"));
    assert_eq!(at["iat"], GRANTED_AT + 600);
    assert_eq!(at["aud"], AUTODISCOVER);
    {
        let g = lab.state.grants();
        let old = &g.refresh[&rt1];
        let new = &g.refresh[&rt2];
        assert_eq!(old.last_used, GRANTED_AT + 600);
        assert_eq!(new.issued_at, GRANTED_AT + 600);
        // The original sign-in instant travels with every rotated token.
        assert_eq!(new.auth.auth_time, GRANTED_AT);
        assert_eq!(old.auth, new.auth);
    }
    // Both the old and the new value still redeem; the refresh is multi-resource.
    lab.refresh_v1(&rt1).await.ok();
    let r = lab
        .post(
            "/common/oauth2/token",
            &[
                ("grant_type", "refresh_token"),
                ("client_id", OFFICE),
                ("resource", "https://graph.microsoft.com"),
                ("refresh_token", &rt2),
            ],
        )
        .await
        .ok();
    let (_, at) = jwt(&r.field("access_token"));
    assert_eq!(at["aud"], "https://graph.microsoft.com");
    assert_eq!(at["scp"], "User.Read Mail.Read");

    // v2: refresh without scope reuses the grant's scope; rotation again.
    let scope = "https://mail.contoso.com/EWS.AccessAsUser.All offline_access";
    let v2rt = lab
        .ropc_v2("GregT@contoso.com", scope)
        .await
        .ok()
        .field("refresh_token");
    let r = lab
        .post(
            "/organizations/oauth2/v2.0/token",
            &[
                ("grant_type", "refresh_token"),
                ("client_id", OFFICE),
                ("refresh_token", &v2rt),
            ],
        )
        .await
        .ok();
    assert_eq!(r.json()["scope"], scope);
    assert_ne!(r.field("refresh_token"), v2rt);
}

#[tokio::test]
async fn refresh_after_password_change_is_50173_as_in_the_field_guide() {
    let lab = Lab::new();
    // The shipped lab's era: the guide's capture has no `error_uri`.
    lab.state.dir_mut().era = Era::Guide;
    let rt = lab
        .ropc_v1("GregT@contoso.com", AUTODISCOVER)
        .await
        .ok()
        .field("refresh_token");
    lab.clock.advance_secs(VALID_FROM - GRANTED_AT);
    lab.change_password("GregT@contoso.com");
    lab.clock.advance_secs(REFUSED_AT - VALID_FROM);
    let r = lab.refresh_v1(&rt).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.code(), 50173);
    assert!(r.field("error_description").starts_with(
        "AADSTS50173: The provided grant has expired due to it being revoked. The user might have changed or reset their password. The grant was issued on '2017-10-28T17:20:13.0000000Z' and the TokensValidFrom date for this user is '2017-11-16T20:27:45.0000000Z'\r\n"
    ));
    golden_answer("50173_password_changed", &r);
    // A new sign-in with the new password works and its refresh token is good.
    let r = lab
        .post(
            "/contoso.com/oauth2/token",
            &[
                ("grant_type", "password"),
                ("client_id", OFFICE),
                ("resource", AUTODISCOVER),
                ("username", "GregT@contoso.com"),
                ("password", "NewPassword2017!"),
            ],
        )
        .await
        .ok();
    lab.refresh_v1(&r.field("refresh_token")).await.ok();
}

/// 2017-10-28T17:20:13.296Z: the field guide's grant instant, fraction included.
fn seed_grant_instant() -> std::time::SystemTime {
    std::time::UNIX_EPOCH + std::time::Duration::from_millis(GRANTED_AT as u64 * 1000 + 296)
}

#[tokio::test]
async fn the_50173_grant_instant_keeps_its_fraction_as_in_the_field_guide() {
    let lab = Lab::at_instant(seed_grant_instant());
    lab.state.dir_mut().era = Era::Guide;
    let r = lab.ropc_v1("GregT@contoso.com", AUTODISCOVER).await.ok();
    // Token claims stay whole seconds (the floor of the instant, never rounded up).
    let (_, claims) = jwt(&r.field("access_token"));
    assert_eq!(claims["iat"], serde_json::json!(GRANTED_AT));
    assert_eq!(claims["nbf"], serde_json::json!(GRANTED_AT));
    let rt = r.field("refresh_token");
    {
        let grants = lab.state.grants();
        let g = &grants.refresh[&rt];
        assert_eq!(
            (g.auth.auth_time, g.auth.auth_ticks),
            (GRANTED_AT, 2_960_000)
        );
    }
    // A redemption at another fraction rotates the token; the new one carries the original
    // sign-in instant, not the redemption's.
    lab.clock.advance_secs(3600);
    lab.clock.advance(std::time::Duration::from_millis(250));
    let rt2 = lab.refresh_v1(&rt).await.ok().field("refresh_token");
    assert_ne!(rt2, rt);
    // TokensValidFrom: whole seconds (the password change happens at 20:27:45.546).
    lab.clock.advance_secs(VALID_FROM - GRANTED_AT - 3600);
    lab.change_password("GregT@contoso.com");
    lab.clock.advance_secs(REFUSED_AT - VALID_FROM);
    let r = lab.refresh_v1(&rt2).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.code(), 50173);
    // The field guide's text, byte for byte, both instants included.
    assert!(r.field("error_description").starts_with(
        "AADSTS50173: The provided grant has expired due to it being revoked. The user might have changed or reset their password. The grant was issued on '2017-10-28T17:20:13.2960000Z' and the TokensValidFrom date for this user is '2017-11-16T20:27:45.0000000Z'\r\n"
    ), "{}", r.text);
    assert_eq!(r.field("timestamp"), "2017-11-16 20:36:16Z");
    golden_answer("50173_fractional_grant_instant", &r);
    // The token redeemed first tells the same story.
    let r = lab.refresh_v1(&rt).await;
    assert!(
        r.text.contains("issued on '2017-10-28T17:20:13.2960000Z'"),
        "{}",
        r.text
    );
}

#[tokio::test]
async fn a_grant_signed_in_within_the_password_change_second_survives_it() {
    // TokensValidFrom is whole seconds (20:27:45.0000000Z for a change at 20:27:45.900), so a
    // sign-in at 20:27:45.296 is not older than it; one at 20:27:44.296 is.
    let valid_from_ms = VALID_FROM * 1000;
    for (signed_in_ms, survives) in [(valid_from_ms + 296, true), (valid_from_ms - 704, false)] {
        let lab = Lab::at_instant(
            std::time::UNIX_EPOCH + std::time::Duration::from_millis(signed_in_ms as u64),
        );
        let rt = lab.greg_refresh_token().await;
        lab.clock.advance(std::time::Duration::from_millis(
            (valid_from_ms + 900 - signed_in_ms) as u64,
        ));
        lab.change_password("GregT@contoso.com");
        let r = lab.refresh_v1(&rt).await;
        if survives {
            r.ok();
        } else {
            assert_eq!(r.code(), 50173);
            assert!(
                r.text.contains("issued on '2017-11-16T20:27:44.2960000Z' and the TokensValidFrom date for this user is '2017-11-16T20:27:45.0000000Z'"),
                "{}",
                r.text
            );
        }
    }
}

#[tokio::test]
async fn refresh_max_age_names_the_sign_in_instant_with_its_fraction() {
    let lab = Lab::at_instant(seed_grant_instant());
    lab.state.dir_mut().tenants[0]
        .token_lifetimes
        .refresh_token_max_age = Some(86_400);
    let rt = lab.greg_refresh_token().await;
    lab.clock.advance_secs(86_401);
    let r = lab.refresh_v1(&rt).await;
    assert_eq!(r.code(), 700081);
    assert!(
        r.field("error_description").starts_with("AADSTS700081: The refresh token has expired due to maximum lifetime. The token was issued on 2017-10-28T17:20:13.2960000Z and the maximum allowed lifetime for this application is 1.00:00:00.\r\n"),
        "{}",
        r.text
    );
}

#[tokio::test]
async fn tenant_wide_revocation_standard_and_unicorn() {
    let lab = Lab::new();
    let rt = lab
        .ropc_v1("GregT@contoso.com", AUTODISCOVER)
        .await
        .ok()
        .field("refresh_token");
    lab.clock.advance_secs(VALID_FROM - GRANTED_AT);
    let vf = lab.now();
    lab.state.dir_mut().tenants[0].tokens_valid_from = Some(vf);
    lab.clock.advance_secs(REFUSED_AT - VALID_FROM);
    let r = lab.refresh_v1(&rt).await;
    assert_eq!(r.code(), 50173);
    lab.state.dir_mut().tenants[0].revocation_response = RevocationResponse::Unicorn;
    let r = lab.refresh_v1(&rt).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.reason.as_deref(), Some("Bad Unicorn"));
    assert_eq!(r.json()["error"], "unicorn_rampage");
    assert_eq!(
        r.headers["cache-control"],
        "no-cache, no-store, not-bloody-safe"
    );
    golden_answer("unicorn_rampage", &r);
}

#[tokio::test]
async fn refresh_inactivity_and_max_age() {
    let lab = Lab::new();
    let rt = lab
        .ropc_v1("GregT@contoso.com", AUTODISCOVER)
        .await
        .ok()
        .field("refresh_token");
    // 90 days of inactivity is still fine; 91 is not.
    lab.clock.advance_secs(90 * 86_400);
    let rt2 = lab.refresh_v1(&rt).await.ok().field("refresh_token");
    lab.clock.advance_secs(91 * 86_400);
    let r = lab.refresh_v1(&rt2).await;
    assert_eq!(r.code(), 700082);
    golden_answer("700082_inactive", &r);

    // Max age counts from the original sign-in, not from the rotated token.
    let lab = Lab::new();
    lab.state.dir_mut().tenants[0]
        .token_lifetimes
        .refresh_token_max_age = Some(86_400);
    let rt = lab
        .ropc_v1("GregT@contoso.com", AUTODISCOVER)
        .await
        .ok()
        .field("refresh_token");
    lab.clock.advance_secs(43_200);
    let rt2 = lab.refresh_v1(&rt).await.ok().field("refresh_token");
    lab.clock.advance_secs(43_201);
    let r = lab.refresh_v1(&rt2).await;
    assert_eq!(r.code(), 700081);
    golden_answer("700081_max_age", &r);
}

#[tokio::test]
async fn refresh_refusals() {
    let lab = Lab::new();
    let r = lab.refresh_v1("not-a-refresh-token").await;
    assert_eq!(r.code(), 9002313);
    golden_answer("9002313_garbage_refresh", &r);

    let rt = lab
        .ropc_v1("GregT@contoso.com", AUTODISCOVER)
        .await
        .ok()
        .field("refresh_token");
    // Redeemed by another client.
    let r = lab
        .post(
            "/common/oauth2/token",
            &[
                ("grant_type", "refresh_token"),
                ("client_id", WEB),
                ("client_secret", "contoso-web-secret"),
                ("resource", AUTODISCOVER),
                ("refresh_token", &rt),
            ],
        )
        .await;
    assert_eq!(r.code(), 70000);
    golden_answer("70000_other_client", &r);
    // The user was disabled after sign-in.
    lab.state.dir_mut().tenants[0].users[0].enabled = false;
    let r = lab.refresh_v1(&rt).await;
    assert_eq!(r.code(), 50057);
    golden_answer("50057_disabled_refresh", &r);
    lab.state.dir_mut().tenants[0].users[0].enabled = true;

    // A conditional-access rule added after sign-in blocks the refresh.
    lab.state.dir_mut().tenants[0]
        .conditional_access
        .push(CaRule {
            name: "MFA for Exchange".into(),
            enabled: true,
            users: vec!["*".into()],
            apps: vec![AUTODISCOVER.into()],
            action: CaAction::RequireMfa,
        });
    let r = lab.refresh_v1(&rt).await;
    assert_eq!(r.code(), 50076);
    assert_eq!(r.json()["error"], "interaction_required");
    lab.state.dir_mut().tenants[0].conditional_access[0].action = CaAction::Block;
    let r = lab.refresh_v1(&rt).await;
    assert_eq!(r.code(), 53003);
    lab.state.dir_mut().tenants[0].conditional_access.clear();
    lab.refresh_v1(&rt).await.ok();

    // Missing parameters name the parameter.
    let r = lab
        .post(
            "/common/oauth2/token",
            &[("grant_type", "refresh_token"), ("client_id", OFFICE)],
        )
        .await;
    assert_eq!(r.code(), 900144);
    assert!(r.field("error_description").starts_with(
        "AADSTS900144: The request body must contain the following parameter: 'refresh_token'.\r\n"
    ));
    let r = lab
        .post(
            "/common/oauth2/token",
            &[("grant_type", "refresh_token"), ("refresh_token", &rt)],
        )
        .await;
    assert!(r.field("error_description").contains("'client_id'"));

    // A token revoked on its own (admin API) is refused; its siblings are not.
    let other = lab
        .ropc_v1("GregT@contoso.com", AUTODISCOVER)
        .await
        .ok()
        .field("refresh_token");
    assert!(lab.state.grants().revoke_token(&rt));
    let r = lab.refresh_v1(&rt).await;
    assert_eq!(r.code(), 70000);
    lab.refresh_v1(&other).await.ok();
}

// ------------------------------------------------------------------------------ auth code

fn insert_code(lab: &Lab, code: &str, scope: Option<&str>, resource: Option<&str>, method: &str) {
    let challenge = if method == "S256" {
        PKCE_CHALLENGE
    } else {
        PKCE_VERIFIER
    };
    lab.state.grants().codes.insert(
        code.into(),
        AuthCode {
            auth: AuthContext {
                tid: Uuid::parse_str(TID).unwrap(),
                user_oid: Uuid::parse_str(GREG_OID).unwrap(),
                amr: vec!["pwd".into(), "mfa".into()],
                auth_time: lab.clock.unix(),
                auth_ticks: 0,
            },
            client_id: Uuid::parse_str(OFFICE).unwrap(),
            redirect_uri: "http://localhost".into(),
            resource: resource.map(String::from),
            scope: scope.map(String::from),
            code_challenge: Some(challenge.into()),
            code_challenge_method: Some(method.into()),
            nonce: Some("n-0S6_WzA2Mj".into()),
            expires_at: lab.clock.unix() + 600,
            redeemed: false,
        },
    );
}

async fn redeem(lab: &Lab, path: &str, code: &str, verifier: &str, redirect: &str) -> Resp {
    lab.post(
        path,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", OFFICE),
            ("code", code),
            ("redirect_uri", redirect),
            ("code_verifier", verifier),
            ("client_info", "1"),
        ],
    )
    .await
}

#[tokio::test]
async fn authorization_code_with_pkce() {
    let lab = Lab::new();
    let scope = "https://mail.contoso.com/EWS.AccessAsUser.All openid profile offline_access";
    insert_code(&lab, "c1", Some(scope), None, "S256");
    let r = redeem(
        &lab,
        "/organizations/oauth2/v2.0/token",
        "c1",
        PKCE_VERIFIER,
        "http://localhost",
    )
    .await
    .ok();
    assert_eq!(r.json()["scope"], scope);
    let (_, at) = jwt(&r.field("access_token"));
    assert_eq!(at["amr"], serde_json::json!(["pwd", "mfa"]));
    let (_, id) = jwt(&r.field("id_token"));
    assert_eq!(id["nonce"], "n-0S6_WzA2Mj");
    // The refresh token from a code works.
    let rt = r.field("refresh_token");
    lab.refresh_v1(&rt).await.ok();

    // Second redemption.
    let r = redeem(
        &lab,
        "/organizations/oauth2/v2.0/token",
        "c1",
        PKCE_VERIFIER,
        "http://localhost",
    )
    .await;
    assert_eq!(r.code(), 54005);
    golden_answer("54005_code_redeemed", &r);

    // v1 code, plain PKCE, redeemed for its resource.
    insert_code(&lab, "c2", None, Some(AUTODISCOVER), "plain");
    let r = redeem(
        &lab,
        "/contoso.com/oauth2/token",
        "c2",
        PKCE_VERIFIER,
        "http://localhost",
    )
    .await
    .ok();
    assert_eq!(r.json()["resource"], AUTODISCOVER);

    insert_code(&lab, "c3", Some(scope), None, "S256");
    let r = redeem(
        &lab,
        "/organizations/oauth2/v2.0/token",
        "c3",
        "wrong-verifier-wrong-verifier-wrong-verifier",
        "http://localhost",
    )
    .await;
    assert_eq!(r.json()["error"], "invalid_grant");
    golden_answer("pkce_mismatch", &r);
    let r = redeem(
        &lab,
        "/organizations/oauth2/v2.0/token",
        "c3",
        PKCE_VERIFIER,
        "http://localhost:9999/elsewhere",
    )
    .await;
    assert_eq!(r.code(), 50011);
    golden_answer("50011_redirect_mismatch", &r);

    lab.clock.advance_secs(601);
    let r = redeem(
        &lab,
        "/organizations/oauth2/v2.0/token",
        "c3",
        PKCE_VERIFIER,
        "http://localhost",
    )
    .await;
    assert_eq!(r.code(), 70008);
    golden_answer("70008_code_expired", &r);

    let r = redeem(
        &lab,
        "/organizations/oauth2/v2.0/token",
        "garbage",
        PKCE_VERIFIER,
        "http://localhost",
    )
    .await;
    assert_eq!(r.code(), 9002313);
}

// ------------------------------------------------------------------------------ device flow

#[tokio::test]
async fn device_flow() {
    let lab = Lab::new();
    let r = lab
        .post(
            "/contoso.com/oauth2/v2.0/devicecode",
            &[
                ("client_id", OFFICE),
                ("scope", "https://mail.contoso.com/.default offline_access"),
            ],
        )
        .await
        .ok();
    let body = r.json();
    assert_eq!(
        keys_of(&body),
        [
            "user_code",
            "device_code",
            "verification_uri",
            "expires_in",
            "interval",
            "message"
        ]
    );
    let user_code = r.field("user_code");
    assert_eq!(user_code.len(), 9);
    assert!(user_code
        .bytes()
        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()));
    assert_eq!(
        body["verification_uri"],
        "http://login.contoso.test/devicelogin"
    );
    assert_eq!(body["expires_in"], 900);
    assert_eq!(body["interval"], 5);
    assert_eq!(
        body["message"],
        format!("To sign in, use a web browser to open the page http://login.contoso.test/devicelogin and enter the code {user_code} to authenticate.")
    );
    let dc = r.field("device_code");
    let poll = |dc: String| {
        let lab = &lab;
        async move {
            lab.post(
                "/contoso.com/oauth2/v2.0/token",
                &[
                    ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
                    ("client_id", OFFICE),
                    ("device_code", &dc),
                ],
            )
            .await
        }
    };
    let r = poll(dc.clone()).await;
    assert_eq!(r.code(), 70016);
    golden_answer("70016_authorization_pending", &r);

    {
        let mut g = lab.state.grants();
        let d = g
            .device_by_user_code_mut(&user_code.to_lowercase())
            .unwrap();
        d.state = DeviceState::Approved(AuthContext {
            tid: Uuid::parse_str(TID).unwrap(),
            user_oid: Uuid::parse_str(GREG_OID).unwrap(),
            amr: vec!["pwd".into()],
            auth_time: GRANTED_AT,
            auth_ticks: 0,
        });
    }
    let r = poll(dc.clone()).await.ok();
    let (_, at) = jwt(&r.field("access_token"));
    assert_eq!(at["upn"], "GregT@contoso.com");
    assert_eq!(at["aud"], "https://mail.contoso.com");
    assert_eq!(at["scp"], EXO_SCOPES);
    assert!(r.json()["refresh_token"].is_string());
    // Tokens are issued once.
    let r = poll(dc.clone()).await;
    assert_eq!(r.code(), 70018);
    let r = poll("unknown-device-code".into()).await;
    assert_eq!(r.code(), 70018);
    golden_answer("70018_bad_verification_code", &r);

    // Declined, then expired.
    let r = lab
        .post(
            "/contoso.com/oauth2/devicecode",
            &[("client_id", OFFICE), ("resource", AUTODISCOVER)],
        )
        .await
        .ok();
    let body = r.json();
    assert!(body.get("verification_url").is_some());
    assert!(body.get("verification_uri").is_none());
    let dc = r.field("device_code");
    lab.state.grants().devices.get_mut(&dc).unwrap().state = DeviceState::Declined;
    let r = poll(dc.clone()).await;
    assert_eq!(r.json()["error"], "authorization_declined");
    golden_answer("authorization_declined", &r);
    lab.clock.advance_secs(900);
    let r = poll(dc).await;
    assert_eq!(r.code(), 70020);
    golden_answer("70020_expired_token", &r);

    // No tenant on /common.
    let r = lab
        .post(
            "/common/oauth2/v2.0/devicecode",
            &[("client_id", OFFICE), ("scope", "User.Read")],
        )
        .await;
    assert_eq!(r.code(), 50059);
    golden_answer("50059_devicecode_common", &r);
}

#[tokio::test]
async fn device_code_base_url_honours_public_base_and_forwarded_proto() {
    let lab = Lab::new();
    let r = lab
        .send(
            "/contoso.com/oauth2/v2.0/devicecode",
            form(&[("client_id", OFFICE), ("scope", "User.Read")]),
            &[("x-forwarded-proto", "https")],
        )
        .await
        .ok();
    assert_eq!(
        r.json()["verification_uri"],
        "https://login.contoso.test/devicelogin"
    );
    let clock = Clock::frozen_at_unix(GRANTED_AT);
    let state = mock_aad::state(Config {
        clock: clock.clone(),
        public_base: Some("https://login.lab.example/".into()),
        ..Config::contoso()
    });
    let lab = Lab { state, clock };
    let r = lab
        .post(
            "/contoso.com/oauth2/v2.0/devicecode",
            &[("client_id", OFFICE), ("scope", "User.Read")],
        )
        .await
        .ok();
    assert_eq!(
        r.json()["verification_uri"],
        "https://login.lab.example/devicelogin"
    );
}

// ------------------------------------------------------------------------------ client credentials

#[tokio::test]
async fn client_credentials() {
    let lab = Lab::new();
    let basic = format!(
        "Basic {}",
        STANDARD.encode(format!("{DAEMON}:contoso-daemon-secret"))
    );
    let r = lab
        .send(
            "/contoso.com/oauth2/v2.0/token",
            form(&[
                ("grant_type", "client_credentials"),
                ("scope", "https://mail.contoso.com/.default"),
            ]),
            &[("authorization", &basic)],
        )
        .await
        .ok();
    let body = r.json();
    assert_eq!(
        keys_of(&body),
        ["token_type", "expires_in", "ext_expires_in", "access_token"]
    );
    let (header, at) = jwt(&r.field("access_token"));
    assert_eq!(names(&header), ["typ", "alg", "x5t", "kid"]);
    assert_eq!(
        names(&at),
        [
            "aud", "iss", "iat", "nbf", "exp", "aio", "appid", "appidacr", "idp", "idtyp", "oid",
            "rh", "roles", "sub", "tid", "uti", "ver"
        ]
    );
    assert_eq!(at["aud"], "https://mail.contoso.com");
    assert_eq!(at["appid"], DAEMON);
    assert_eq!(at["appidacr"], "1");
    assert_eq!(at["idtyp"], "app");
    assert_eq!(at["roles"], serde_json::json!(["full_access_as_app"]));
    assert_eq!(at["sub"], at["oid"]);

    // v1 with the secret in the form.
    let r = lab
        .post(
            "/contoso.com/oauth2/token",
            &[
                ("grant_type", "client_credentials"),
                ("client_id", DAEMON),
                ("client_secret", "contoso-daemon-secret"),
                ("resource", "https://mail.contoso.com/"),
            ],
        )
        .await
        .ok();
    let body = r.json();
    assert_eq!(
        keys_of(&body),
        [
            "token_type",
            "expires_in",
            "ext_expires_in",
            "expires_on",
            "not_before",
            "resource",
            "access_token"
        ]
    );
    assert_eq!(body["expires_in"], "3599");

    let cc = |secret: Option<&'static str>, path: &'static str| {
        let lab = &lab;
        async move {
            let mut p = vec![
                ("grant_type", "client_credentials"),
                ("client_id", DAEMON),
                ("scope", "https://mail.contoso.com/.default"),
            ];
            if let Some(s) = secret {
                p.push(("client_secret", s));
            }
            lab.post(path, &p).await
        }
    };
    let r = cc(None, "/contoso.com/oauth2/v2.0/token").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.code(), 7000218);
    golden_answer("7000218_no_secret", &r);
    let r = cc(Some("wrong"), "/contoso.com/oauth2/v2.0/token").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.code(), 7000215);
    golden_answer("7000215_wrong_secret", &r);
    let r = cc(Some("contoso-daemon-secret"), "/common/oauth2/v2.0/token").await;
    assert_eq!(r.code(), 50059);
    golden_answer("50059_client_credentials_common", &r);
    let r = lab
        .post(
            "/contoso.com/oauth2/v2.0/token",
            &[
                ("grant_type", "client_credentials"),
                ("client_id", DAEMON),
                ("client_secret", "contoso-daemon-secret"),
                ("scope", "https://mail.contoso.com/EWS.AccessAsUser.All"),
            ],
        )
        .await;
    assert_eq!(r.code(), 70011);
}

// ------------------------------------------------------------------------------ on-behalf-of

#[tokio::test]
async fn on_behalf_of() {
    let lab = Lab::new();
    // Outlook-like client gets a token for the middle tier.
    let assertion = lab
        .ropc_v2("GregT@contoso.com", &format!("api://{API}/access_as_user"))
        .await
        .ok()
        .field("access_token");
    let obo = |assertion: String, client_secret: &'static str| {
        let lab = &lab;
        async move {
            lab.post(
                "/contoso.com/oauth2/v2.0/token",
                &[
                    ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
                    ("client_id", API),
                    ("client_secret", client_secret),
                    ("assertion", &assertion),
                    ("requested_token_use", "on_behalf_of"),
                    ("scope", "https://mail.contoso.com/EWS.AccessAsUser.All"),
                ],
            )
            .await
        }
    };
    let r = obo(assertion.clone(), "contoso-api-secret").await.ok();
    let (_, at) = jwt(&r.field("access_token"));
    assert_eq!(at["aud"], "https://mail.contoso.com");
    assert_eq!(at["appid"], API);
    assert_eq!(at["appidacr"], "1");
    assert_eq!(at["upn"], "GregT@contoso.com");
    assert_eq!(at["oid"], GREG_OID);
    assert_eq!(at["scp"], "EWS.AccessAsUser.All");

    // A token for another audience (Exchange) is not an assertion for the API.
    let exo = lab
        .ropc_v1("GregT@contoso.com", AUTODISCOVER)
        .await
        .ok()
        .field("access_token");
    let r = obo(exo, "contoso-api-secret").await;
    assert_eq!(r.code(), 50013);
    golden_answer("50013_obo_audience", &r);
    // Tampered signature.
    let mut parts: Vec<String> = assertion.split('.').map(String::from).collect();
    parts[2] = URL_SAFE_NO_PAD.encode([7u8; 256]);
    let r = obo(parts.join("."), "contoso-api-secret").await;
    assert_eq!(r.code(), 50013);
    let r = obo("not.a.jwt".into(), "contoso-api-secret").await;
    assert_eq!(r.code(), 50027);
    // Wrong middle-tier secret.
    let r = obo(assertion.clone(), "nope").await;
    assert_eq!(r.code(), 7000215);
    // Expired.
    lab.clock.advance_secs(3600);
    let r = obo(assertion, "contoso-api-secret").await;
    assert_eq!(r.code(), 500133);
    golden_answer("500133_obo_expired", &r);
}

// ------------------------------------------------------------------------------ over a socket

async fn post_socket(
    client: &reqwest::Client,
    url: &str,
    pairs: &[(&str, &str)],
) -> (u16, HeaderMap, Value) {
    let resp = client
        .post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("client-request-id", CORR)
        .body(form(pairs))
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body: Value = resp.json().await.unwrap();
    (status, headers, body)
}

#[tokio::test]
async fn end_to_end_password_refresh_password_change_over_a_socket() {
    let clock = Clock::frozen_at_unix(GRANTED_AT);
    let handle = mock_aad::start(Config {
        clock: clock.clone(),
        ..Config::contoso()
    })
    .await
    .unwrap();
    let client = reqwest::Client::new();
    let url = format!("{}/contoso.com/oauth2/token", handle.url());
    let (status, _, body) = post_socket(
        &client,
        &url,
        &[
            ("grant_type", "password"),
            ("client_id", OFFICE),
            ("resource", AUTODISCOVER),
            ("username", "GregT@contoso.com"),
            ("password", PASSWORD),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (_, at) = jwt(body["access_token"].as_str().unwrap());
    // ipaddr is the socket peer when no proxy header is present.
    assert_eq!(at["ipaddr"], "127.0.0.1");
    let rt = body["refresh_token"].as_str().unwrap().to_string();

    clock.advance_secs(3600);
    let refresh = |rt: String| {
        let client = &client;
        let url = &url;
        async move {
            post_socket(
                client,
                url,
                &[
                    ("grant_type", "refresh_token"),
                    ("client_id", OFFICE),
                    ("resource", AUTODISCOVER),
                    ("refresh_token", &rt),
                ],
            )
            .await
        }
    };
    let (status, _, body) = refresh(rt.clone()).await;
    assert_eq!(status, 200, "{body}");
    let rt2 = body["refresh_token"].as_str().unwrap().to_string();

    clock.advance_secs(VALID_FROM - GRANTED_AT - 3600);
    {
        let now = OffsetDateTime::from_unix_timestamp(clock.unix()).unwrap();
        let mut dir = handle.state().dir_mut();
        let user = dir.tenants[0].user_mut("GregT@contoso.com").unwrap();
        user.password = "Summer2018!".into();
        user.tokens_valid_from = Some(now);
    }
    clock.advance_secs(REFUSED_AT - VALID_FROM);
    for token in [rt, rt2] {
        let (status, headers, body) = refresh(token).await;
        assert_eq!(status, 400);
        assert_eq!(body["error"], "invalid_grant");
        assert_eq!(body["error_codes"], serde_json::json!([50173]));
        assert_eq!(
            body["error_description"].as_str().unwrap().split("\r\n").next().unwrap(),
            "AADSTS50173: The provided grant has expired due to it being revoked. The user might have changed or reset their password. The grant was issued on '2017-10-28T17:20:13.0000000Z' and the TokensValidFrom date for this user is '2017-11-16T20:27:45.0000000Z'"
        );
        assert_eq!(body["timestamp"], "2017-11-16 20:36:16Z");
        assert_eq!(body["correlation_id"], CORR);
        assert_eq!(
            headers["x-ms-request-id"],
            body["trace_id"].as_str().unwrap()
        );
        assert_eq!(headers["date"], "Thu, 16 Nov 2017 20:36:16 GMT");
        assert_eq!(headers["cache-control"], "no-cache, no-store");
        assert_eq!(headers["content-type"], "application/json; charset=utf-8");
    }
    handle.shutdown().await;
}

#[tokio::test]
async fn v1_device_flow_is_redeemed_for_its_resource() {
    let lab = Lab::new();
    let r = lab
        .post(
            &format!("/{TID}/oauth2/devicecode"),
            &[("client_id", OFFICE), ("resource", AUTODISCOVER)],
        )
        .await
        .ok();
    let body = r.json();
    assert_eq!(
        keys_of(&body),
        [
            "user_code",
            "device_code",
            "verification_url",
            "expires_in",
            "interval",
            "message"
        ]
    );
    let dc = r.field("device_code");
    lab.state.grants().devices.get_mut(&dc).unwrap().state = DeviceState::Approved(AuthContext {
        tid: Uuid::parse_str(TID).unwrap(),
        user_oid: Uuid::parse_str(GREG_OID).unwrap(),
        amr: vec!["pwd".into(), "mfa".into()],
        auth_time: GRANTED_AT,
        auth_ticks: 0,
    });
    // ADAL polls the v1 endpoint with `grant_type=device_code&code=…`; on the v2 endpoint the
    // short grant name is msal-common's, which sends the code as `device_code`.
    let r = lab
        .post(
            &format!("/{TID}/oauth2/v2.0/token"),
            &[
                ("grant_type", "device_code"),
                ("client_id", OFFICE),
                ("code", &dc),
            ],
        )
        .await;
    assert_eq!(r.json()["error"], "invalid_request");
    assert_eq!(r.json()["error_codes"], serde_json::json!([900144]));
    let r = lab
        .post(
            &format!("/{TID}/oauth2/token"),
            &[
                ("grant_type", "device_code"),
                ("client_id", OFFICE),
                ("code", &dc),
            ],
        )
        .await
        .ok();
    let body = r.json();
    assert_eq!(body["resource"], AUTODISCOVER);
    assert_eq!(body["expires_in"], "3599");
    let (_, at) = jwt(&r.field("access_token"));
    assert_eq!(at["aud"], AUTODISCOVER);
    assert_eq!(at["amr"], serde_json::json!(["pwd", "mfa"]));
    // The refresh token of a device sign-in works like any other.
    lab.refresh_v1(&r.field("refresh_token")).await.ok();
}

/// msal-node / MSAL.js poll the v2 endpoint with `grant_type=device_code` (msal-common's
/// `GrantType.DEVICE_CODE_GRANT`) and the code in `device_code`, as the real client suite
/// (`tests/clients/node/msal.test.js`) does against the lab.
#[tokio::test]
async fn v2_device_flow_accepts_msal_commons_short_grant_name() {
    let lab = Lab::new();
    let r = lab
        .post(
            "/contoso.com/oauth2/v2.0/devicecode",
            &[
                ("client_id", OFFICE),
                ("scope", "https://mail.contoso.com/.default offline_access"),
            ],
        )
        .await
        .ok();
    let dc = r.field("device_code");
    let poll = |dc: String| {
        let lab = &lab;
        async move {
            lab.post(
                "/contoso.com/oauth2/v2.0/token",
                &[
                    ("grant_type", "device_code"),
                    ("client_id", OFFICE),
                    ("device_code", &dc),
                ],
            )
            .await
        }
    };
    assert_eq!(poll(dc.clone()).await.code(), 70016);
    lab.state.grants().devices.get_mut(&dc).unwrap().state = DeviceState::Approved(AuthContext {
        tid: Uuid::parse_str(TID).unwrap(),
        user_oid: Uuid::parse_str(GREG_OID).unwrap(),
        amr: vec!["pwd".into()],
        auth_time: GRANTED_AT,
        auth_ticks: 0,
    });
    let r = poll(dc.clone()).await.ok();
    let (_, at) = jwt(&r.field("access_token"));
    assert_eq!(at["upn"], "GregT@contoso.com");
    assert_eq!(at["aud"], "https://mail.contoso.com");
    assert_eq!(poll(dc).await.code(), 70018);
}

/// On a real socket the names are spelled as Azure AD spells them: Title-Case for the standard
/// ones, lowercase `x-ms-request-id`.
#[tokio::test]
async fn an_error_answer_spells_its_header_names_as_azure_ad_does() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let handle = mock_aad::start(Config::contoso()).await.unwrap();
    let addr = handle.url().trim_start_matches("http://").to_string();
    let mut s = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let body = "grant_type=password&client_id=d3590ed6-52b3-4102-aeff-aad2292ab01c&resource=https%3A%2F%2Fmail.contoso.com%2F&username=GregT%40contoso.com&password=nope";
    s.write_all(
        format!(
            "POST /contoso.com/oauth2/token HTTP/1.1\r\nHost: login.microsoftonline.com\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .as_bytes(),
    )
    .await
    .unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).await.unwrap();
    let raw = String::from_utf8_lossy(&raw);
    let head = raw.split("\r\n\r\n").next().unwrap_or_default();
    assert!(head.starts_with("HTTP/1.1 400 Bad Request\r\n"), "{head}");
    for line in [
        "\r\nCache-Control: no-cache, no-store\r\n",
        "\r\nPragma: no-cache\r\n",
        "\r\nContent-Type: application/json; charset=utf-8\r\n",
        "\r\nExpires: -1\r\n",
        "\r\nx-ms-request-id: ",
        "\r\nContent-Length: ",
    ] {
        assert!(head.contains(line), "{line:?} not in\n{head}");
    }
    handle.shutdown().await;
}

/// A client that ignores `interval` meets Azure AD's loop detection: ten early polls in a row
/// are still `authorization_pending`, the eleventh is AADSTS50196; one poll at the pace asked for
/// resets it. (5,000 polls in 4 s were once all `authorization_pending`.)
#[tokio::test]
async fn polling_far_faster_than_the_interval_is_a_client_request_loop() {
    let lab = Lab::new();
    let r = lab
        .post(
            "/contoso.com/oauth2/v2.0/devicecode",
            &[
                ("client_id", OFFICE),
                ("scope", "https://mail.contoso.com/.default"),
            ],
        )
        .await
        .ok();
    let dc = r.field("device_code");
    let form = [
        ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
        ("client_id", OFFICE),
        ("device_code", dc.as_str()),
    ];
    let poll = || lab.post("/contoso.com/oauth2/v2.0/token", &form);
    // The first poll and ten early ones.
    for n in 0..11 {
        assert_eq!(poll().await.code(), 70016, "poll {n}");
    }
    let r = poll().await;
    assert_eq!(r.code(), 50196);
    assert_eq!(r.json()["error"], "invalid_grant");
    assert!(r.json()["error_description"]
        .as_str()
        .unwrap()
        .starts_with("AADSTS50196: The server terminated an operation because it encountered a client request loop. Please contact your app vendor.\r\n"));
    // Polling at the interval again is answered as before.
    lab.clock.advance_secs(5);
    assert_eq!(poll().await.code(), 70016);
    // Three seconds is more than half the interval: still on time.
    lab.clock.advance_secs(3);
    assert_eq!(poll().await.code(), 70016);
}

/// A password grant whose body is a form but is not labelled as one (`text/plain`, JSON, no
/// `Content-Type`) has no parameters to Azure AD: AADSTS900144, never a token.
#[tokio::test]
async fn a_form_not_labelled_as_one_is_a_request_without_parameters() {
    let lab = Lab::new();
    let form = format!(
        "grant_type=password&client_id={OFFICE}&username=GregT%40contoso.com&password=Contoso2017!&resource=https%3A%2F%2Fmail.contoso.com%2F"
    );
    for ct in [
        Some("text/plain"),
        None,
        Some("application/json"),
        Some("multipart/form-data"),
    ] {
        let mut b = Request::post("/contoso.com/oauth2/token");
        if let Some(ct) = ct {
            b = b.header("content-type", ct);
        }
        let resp = mock_aad::app(lab.state.clone())
            .oneshot(b.body(Body::from(form.clone())).unwrap())
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "{ct:?}");
        let body = axum::body::to_bytes(resp.into_body(), 1 << 20)
            .await
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["error_codes"][0], 900144, "{ct:?}: {v}");
    }
    // The same bytes labelled as a form (parameters on the media type are fine) get a token.
    let resp = mock_aad::app(lab.state.clone())
        .oneshot(
            Request::post("/contoso.com/oauth2/token")
                .header(
                    "content-type",
                    "Application/X-WWW-Form-Urlencoded; charset=utf-8",
                )
                .body(Body::from(form))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
}

/// One era per lab: the shipped directory speaks the field guide's (no `error_uri` on any AADSTS
/// error); `era: current` adds it to every one, 50173 included.
#[tokio::test]
async fn the_era_decides_error_uri_for_every_error() {
    let lab = Lab::new();
    assert_eq!(mock_aad::config::contoso_directory().era, Era::Guide);
    for era in [Era::Guide, Era::Current] {
        lab.state.dir_mut().era = era;
        let bad = lab
            .post(
                "/contoso.com/oauth2/token",
                &[
                    ("grant_type", "password"),
                    ("client_id", OFFICE),
                    ("resource", AUTODISCOVER),
                    ("username", "GregT@contoso.com"),
                    ("password", "wrong"),
                ],
            )
            .await;
        assert_eq!(bad.code(), 50126);
        let unknown = lab.ropc_v1("nobody@contoso.com", AUTODISCOVER).await;
        assert_eq!(unknown.code(), 50034);
        for r in [&bad, &unknown] {
            let uri = r.json().get("error_uri").cloned();
            match era {
                Era::Guide => assert_eq!(uri, None, "{}", r.text),
                Era::Current => assert_eq!(
                    uri,
                    Some(Value::from(format!(
                        "https://login.microsoftonline.com/error?code={}",
                        r.code()
                    ))),
                    "{}",
                    r.text
                ),
            }
        }
    }
    let text = "version: 1\nera: current\ntenants: []\n";
    assert_eq!(
        mock_aad::labfile::parse_str(text, "lab.yaml").unwrap().era,
        Era::Current
    );
    let e = mock_aad::labfile::parse_str("version: 1\nera: 2021\ntenants: []\n", "lab.yaml")
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("lab.yaml:2:6: era:"), "{e}");
}
