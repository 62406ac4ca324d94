//! The forged-assertion corpus: every JWT mock-aad reads from a client — the on-behalf-of grant's
//! `assertion` and `client_assertion` (private_key_jwt) — forged, tampered, misplaced or malformed,
//! each with the exact status, `error`, AADSTS code and message of `error_description`
//! mock-aad answers today.
//!
//! Shaped like mock-exchange's corpus (`mock-exchange/tests/it/attacks.rs`): each family is a list
//! of [`Case`]s (name, form, expected refusal) run by one checker, and the texts are written out
//! once each (the `e_*` functions). A genuine assertion is what the service itself issues (a v2
//! password grant for the middle-tier API), so a tampered copy differs from the real thing only in
//! what the case changes. Headers naming a key location (`jku`, `x5u`, a URL `kid`) point at a
//! [`Trap`] that must never be contacted.
//!
//! mock-aad has no client credentials but secrets (no certificate is registered on any
//! application), so every `client_assertion` is refused as a missing credential (7000218) or, from
//! a public client, as a credential it must not send (700025); the cases pin that down whatever
//! the assertion holds. An on-behalf-of assertion may be used again while it is valid, as Azure AD
//! allows; the corpus checks the second use gets a new token, not a refusal or a crash.

use axum::body::Body;
use axum::http::Request;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use mock_aad::keys::SigningKey;
use mock_aad::state::AppState;
use mock_aad::{Clock, Config};
use serde_json::{json, Map, Value};
use tower::ServiceExt;

use crate::forge::*;

const TID: &str = "f31f3647-5d87-4b69-a0b6-73f62aeab14c";
const OFFICE: &str = "d3590ed6-52b3-4102-aeff-aad2292ab01c";
const API: &str = "d682aded-84aa-4316-896c-c89084acc4d3";
const DAEMON: &str = "175cf0e3-733c-4a81-9b28-61f662f95c16";
const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
const CLIENT_ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
const EWS_SCOPE: &str = "https://mail.contoso.com/EWS.AccessAsUser.All";
const V2_TOKEN: &str = "/contoso.com/oauth2/v2.0/token";
/// 2017-10-28T17:20:13Z.
const T0: i64 = 1_509_211_213;

// ------------------------------------------------------------------ today's refusals

/// The refusal a case expects: status, `error`, AADSTS code, the description before its
/// `Trace ID:` line.
#[derive(Debug, Clone, PartialEq)]
struct Refusal {
    status: u16,
    error: String,
    code: u64,
    description: String,
}

fn refusal(status: u16, error: &str, code: u64, message: &str) -> Refusal {
    Refusal {
        status,
        error: error.into(),
        code,
        description: format!("AADSTS{code}: {message}"),
    }
}

fn e_malformed() -> Refusal {
    refusal(
        400,
        "invalid_request",
        50027,
        "JWT token is invalid or malformed.",
    )
}
fn e_bad_signature() -> Refusal {
    refusal(400, "invalid_grant", 50013, "Assertion failed signature validation. [Reason - The provided signature value did not match the expected signature value.]")
}
fn e_unknown_key(kid: &str) -> Refusal {
    refusal(400, "invalid_grant", 50013, &format!("Assertion failed signature validation. [Reason - The key was not found., Thumbprint of key used by client: '{kid}']"))
}
fn e_issuer() -> Refusal {
    refusal(
        400,
        "invalid_grant",
        50013,
        "Assertion contains an invalid issuer.",
    )
}
fn e_audience(aud: &str) -> Refusal {
    refusal(400, "invalid_grant", 50013, &format!("Assertion audience does not match the Client app presenting the assertion. The audience in the assertion was '{aud}' and the expected audience is '{API}' or one of the Application Id URIs of this application with App ID {API}(Contoso API). The downstream client must request a token for the expected audience (the application that made the OBO request) and this application should use that token as the assertion."))
}
fn e_not_user_token() -> Refusal {
    refusal(
        400,
        "invalid_grant",
        50013,
        "Assertion is not a user token; on-behalf-of needs a delegated (user) token.",
    )
}
fn e_expired(now: &str, exp: &str) -> Refusal {
    refusal(400, "invalid_grant", 500133, &format!("Assertion is not within its valid time range. Ensure that the access token is not expired before using it for user assertion, or request a new token. Current time: {now}, expiry time of assertion {exp}."))
}
/// The `exp` of a token as AADSTS500133 prints it.
fn exp_of(token: &str) -> String {
    let exp = claims_of(token)["exp"].as_i64().expect("exp");
    mock_aad::timefmt::aad_instant(time::OffsetDateTime::from_unix_timestamp(exp).expect("exp"))
}
fn e_no_credential() -> Refusal {
    refusal(
        401,
        "invalid_client",
        7000218,
        "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
    )
}
fn e_public_client() -> Refusal {
    refusal(
        401,
        "invalid_client",
        700025,
        "Client is public so neither 'client_assertion' nor 'client_secret' should be presented.",
    )
}
fn e_missing(name: &str) -> Refusal {
    refusal(
        400,
        "invalid_request",
        900144,
        &format!("The request body must contain the following parameter: '{name}'."),
    )
}
fn e_duplicate(name: &str) -> Refusal {
    refusal(
        400,
        "invalid_request",
        90015,
        &format!("Requested query string is too long or contains a duplicate parameter '{name}'."),
    )
}

// ------------------------------------------------------------------ the corpus machinery

struct Case {
    name: String,
    /// The urlencoded form body.
    form: String,
    want: Refusal,
}

fn form(pairs: &[(&str, &str)]) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        s.append_pair(k, v);
    }
    s.finish()
}

/// The middle tier (Contoso API, with its secret) trading `assertion` for an EWS token.
fn obo_form(assertion: &str) -> String {
    form(&[
        ("grant_type", JWT_BEARER),
        ("client_id", API),
        ("client_secret", "contoso-api-secret"),
        ("assertion", assertion),
        ("requested_token_use", "on_behalf_of"),
        ("scope", EWS_SCOPE),
    ])
}

fn obo(name: impl Into<String>, assertion: &str, want: Refusal) -> Case {
    Case {
        name: name.into(),
        form: obo_form(assertion),
        want,
    }
}

/// The daemon authenticating with `client_assertion` instead of its secret.
fn client_assertion(name: impl Into<String>, assertion: &str, want: Refusal) -> Case {
    Case {
        name: name.into(),
        form: form(&[
            ("grant_type", "client_credentials"),
            ("client_id", DAEMON),
            ("client_assertion_type", CLIENT_ASSERTION_TYPE),
            ("client_assertion", assertion),
            ("scope", "https://mail.contoso.com/.default"),
        ]),
        want,
    }
}

struct Answer {
    status: u16,
    body: Value,
}

struct Fixture {
    state: AppState,
    trap: Trap,
}

impl Fixture {
    async fn new() -> Fixture {
        let state = mock_aad::state(Config {
            clock: Clock::frozen_at_unix(T0),
            ..Config::contoso()
        });
        Fixture {
            state,
            trap: Trap::start().await,
        }
    }

    fn real(&self) -> SigningKey {
        self.state.keys().active().clone()
    }

    async fn post(&self, body: String) -> Answer {
        let req = Request::builder()
            .method("POST")
            .uri(V2_TOKEN)
            .header("host", "login.microsoftonline.com")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .unwrap_or_else(|e| panic!("{e}"));
        let resp = mock_aad::app(self.state.clone())
            .oneshot(req)
            .await
            .unwrap_or_else(|e| match e {});
        let status = resp.status().as_u16();
        let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
            .await
            .unwrap_or_default();
        let body = serde_json::from_slice(&bytes)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&bytes)));
        Answer { status, body }
    }

    /// A genuine v2 access token for the middle tier, as Outlook-like clients get it.
    async fn genuine(&self) -> String {
        let a = self
            .post(form(&[
                ("grant_type", "password"),
                ("client_id", OFFICE),
                ("scope", &format!("api://{API}/access_as_user")),
                ("username", "GregT@contoso.com"),
                ("password", "Contoso2017!"),
            ]))
            .await;
        assert_eq!(a.status, 200, "{}", a.body);
        a.body["access_token"]
            .as_str()
            .unwrap_or_else(|| panic!("no access_token: {}", a.body))
            .to_string()
    }

    /// Sends every case and checks its refusal; then the trap.
    async fn run(&self, cases: Vec<Case>) {
        assert!(!cases.is_empty());
        for c in cases {
            let a = self.post(c.form).await;
            let got = Refusal {
                status: a.status,
                error: a.body["error"].as_str().unwrap_or_default().to_string(),
                code: a.body["error_codes"][0].as_u64().unwrap_or(0),
                description: a.body["error_description"]
                    .as_str()
                    .unwrap_or_default()
                    .split("\r\nTrace ID: ")
                    .next()
                    .unwrap_or_default()
                    .to_string(),
            };
            assert_eq!(got, c.want, "{}: {}", c.name, a.body);
            assert!(a.body.get("access_token").is_none(), "{}", c.name);
        }
        assert_eq!(
            self.trap.hits(),
            0,
            "an assertion made the service call out"
        );
    }
}

// ------------------------------------------------------------------ token builders

/// The flavours of forged JWT, each paired with what the on-behalf-of grant answers.
fn forgeries(f: &Fixture, genuine: &str) -> Vec<(String, String, Refusal)> {
    let real = f.real();
    let evil = attacker();
    let c = claims_of(genuine);
    let trap = &f.trap.url;
    let mut out = Vec::new();
    let mut push = |name: String, token: String, want: Refusal| out.push((name, token, want));
    for alg in ["none", "None", "NONE", "nOnE"] {
        let h = json!({"typ": "JWT", "alg": alg, "kid": real.kid});
        let unsigned = jws(&h, &c, |_| Vec::new());
        push(
            format!("alg {alg}, empty signature"),
            unsigned,
            e_malformed(),
        );
        let signed = jws(&h, &c, |_| b"signature".to_vec());
        push(format!("alg {alg}, a signature"), signed, e_malformed());
    }
    let pem = pem(&real.cert_der);
    for alg in ["HS256", "HS384", "HS512"] {
        let h = json!({"typ": "JWT", "alg": alg, "kid": real.kid});
        for (what, secret) in [
            ("certificate PEM", pem.as_bytes()),
            ("certificate DER", &real.cert_der[..]),
            ("modulus", &real.n[..]),
        ] {
            let t = jws(&h, &c, |m| hmac_tag(alg, secret, m));
            push(format!("{alg} keyed with the {what}"), t, e_malformed());
        }
    }
    let rs = |h: Value| rs256(&evil, h, &c);
    push(
        "attacker key, real kid".into(),
        rs(json!({"typ": "JWT", "alg": "RS256", "kid": real.kid})),
        e_bad_signature(),
    );
    push(
        "attacker key, real x5t only".into(),
        rs(json!({"typ": "JWT", "alg": "RS256", "x5t": real.kid})),
        e_malformed(),
    );
    push(
        "attacker key and kid".into(),
        rs(json!({"typ": "JWT", "alg": "RS256", "kid": evil.kid})),
        e_unknown_key(&evil.kid),
    );
    push(
        "embedded jwk".into(),
        rs(json!({"alg": "RS256", "kid": evil.kid, "jwk": evil.jwk(None)})),
        e_unknown_key(&evil.kid),
    );
    push(
        "jku to the trap".into(),
        rs(json!({"alg": "RS256", "kid": evil.kid, "jku": format!("{trap}/keys")})),
        e_unknown_key(&evil.kid),
    );
    push(
        "x5u to the trap, real kid".into(),
        rs(json!({"alg": "RS256", "kid": real.kid, "x5u": format!("{trap}/c.pem")})),
        e_bad_signature(),
    );
    let url_kid = format!("{trap}/kid");
    let big = "k".repeat(10 * 1024);
    for kid in [
        "../../../../etc/passwd",
        "' OR '1'='1",
        url_kid.as_str(),
        big.as_str(),
        "",
        "k\r\n\"}",
    ] {
        push(
            format!("kid {:.30}", kid),
            rs(json!({"alg": "RS256", "kid": kid})),
            e_unknown_key(kid),
        );
    }
    push(
        "kid a number".into(),
        rs(json!({"alg": "RS256", "kid": 7})),
        e_malformed(),
    );
    out
}

// ------------------------------------------------------------------ on-behalf-of

#[tokio::test]
async fn forged_on_behalf_of_assertions_are_refused() {
    let f = Fixture::new().await;
    let g = f.genuine().await;
    let cases = forgeries(&f, &g)
        .into_iter()
        .map(|(name, t, want)| obo(name, &t, want))
        .collect();
    f.run(cases).await;
}

#[tokio::test]
async fn on_behalf_of_assertions_edited_after_signing_are_refused() {
    let f = Fixture::new().await;
    let g = f.genuine().await;
    let edited = |edit: &dyn Fn(&mut Map<String, Value>)| {
        let mut c = claims_of(&g);
        edit(&mut c);
        let t = with_segment(&g, 1, &b64(Value::Object(c).to_string()));
        assert_ne!(t, g, "the edit changed nothing");
        t
    };
    let sig = URL_SAFE_NO_PAD
        .decode(g.rsplit('.').next().unwrap_or_default())
        .unwrap_or_default();
    let mut flipped = sig.clone();
    flipped[10] ^= 0x80;
    let cases = vec![
        obo(
            "aud",
            &edited(&|c| {
                c.insert("aud".into(), json!(DAEMON));
            }),
            e_bad_signature(),
        ),
        obo(
            "iss",
            &edited(&|c| {
                c.insert("iss".into(), json!("https://evil.example/v2.0"));
            }),
            e_bad_signature(),
        ),
        obo(
            "exp",
            &edited(&|c| {
                c.insert("exp".into(), json!(T0 + 86400 * 365));
            }),
            e_bad_signature(),
        ),
        obo(
            "oid",
            &edited(&|c| {
                c.insert("oid".into(), json!("00000000-0000-0000-0000-000000000001"));
            }),
            e_bad_signature(),
        ),
        obo(
            "tid",
            &edited(&|c| {
                c.insert("tid".into(), json!("99999999-2222-3333-4444-555555555555"));
            }),
            e_bad_signature(),
        ),
        obo(
            "scp",
            &edited(&|c| {
                c.insert("scp".into(), json!("access_as_user Mail.ReadWrite"));
            }),
            e_bad_signature(),
        ),
        obo(
            "header alg none",
            &with_segment(&g, 0, &b64(r#"{"typ":"JWT","alg":"none"}"#)),
            e_malformed(),
        ),
        obo(
            "signature bit flipped",
            &with_segment(&g, 2, &b64(&flipped)),
            e_bad_signature(),
        ),
        obo(
            "signature removed",
            &with_segment(&g, 2, ""),
            e_bad_signature(),
        ),
        obo(
            "signature one byte short",
            &with_segment(&g, 2, &b64(&sig[1..])),
            e_bad_signature(),
        ),
    ];
    f.run(cases).await;
}

#[tokio::test]
async fn genuine_assertions_for_the_wrong_party_or_time_are_refused() {
    let f = Fixture::new().await;
    let g = f.genuine().await;
    let real = f.real();
    let resigned = |edit: &dyn Fn(&mut Map<String, Value>)| {
        let mut c = claims_of(&g);
        edit(&mut c);
        real.sign_jwt(&c, false)
    };
    let other_tid = "99999999-2222-3333-4444-555555555555";
    let cases = vec![
        obo(
            "audience Exchange",
            &resigned(&|c| {
                c.insert("aud".into(), json!("https://mail.contoso.com"));
            }),
            e_audience("https://mail.contoso.com"),
        ),
        obo(
            "audience another app",
            &resigned(&|c| {
                c.insert("aud".into(), json!(DAEMON));
            }),
            e_audience(DAEMON),
        ),
        obo(
            "audience a look-alike URI",
            &resigned(&|c| {
                c.insert("aud".into(), json!(format!("api://{API}.evil.example")));
            }),
            e_audience(&format!("api://{API}.evil.example")),
        ),
        obo(
            "issuer an attacker's",
            &resigned(&|c| {
                c.insert(
                    "iss".into(),
                    json!(format!("https://evil.example/{TID}/v2.0")),
                );
            }),
            e_issuer(),
        ),
        obo(
            "tenant unknown to the directory",
            &resigned(&|c| {
                c.insert("tid".into(), json!(other_tid));
                c.insert(
                    "iss".into(),
                    json!(format!(
                        "https://login.microsoftonline.com/{other_tid}/v2.0"
                    )),
                );
            }),
            e_issuer(),
        ),
        obo(
            "tid not a GUID",
            &resigned(&|c| {
                c.insert("tid".into(), json!("contoso.com"));
            }),
            e_malformed(),
        ),
        obo(
            "expired",
            &resigned(&|c| {
                c.insert("exp".into(), json!(T0));
            }),
            e_expired(
                "2017-10-28T17:20:13.0000000Z",
                "2017-10-28T17:20:13.0000000Z",
            ),
        ),
        obo(
            "no exp",
            &resigned(&|c| {
                c.remove("exp");
            }),
            e_expired(
                "2017-10-28T17:20:13.0000000Z",
                "1970-01-01T00:00:00.0000000Z",
            ),
        ),
        obo(
            "exp a string",
            &resigned(&|c| {
                c.insert("exp".into(), json!("9999999999"));
            }),
            e_expired(
                "2017-10-28T17:20:13.0000000Z",
                "1970-01-01T00:00:00.0000000Z",
            ),
        ),
        obo(
            "not valid for another hour",
            &resigned(&|c| {
                c.insert("nbf".into(), json!(T0 + 3600));
            }),
            e_expired("2017-10-28T17:20:13.0000000Z", &exp_of(&g)),
        ),
        obo(
            "not valid for six minutes (beyond the skew)",
            &resigned(&|c| {
                c.insert("nbf".into(), json!(T0 + 360));
            }),
            e_expired("2017-10-28T17:20:13.0000000Z", &exp_of(&g)),
        ),
        obo(
            "an app-only token",
            &resigned(&|c| {
                c.remove("scp");
                c.insert("idtyp".into(), json!("app"));
            }),
            e_not_user_token(),
        ),
        obo(
            "no oid",
            &resigned(&|c| {
                c.remove("oid");
            }),
            e_not_user_token(),
        ),
    ];
    f.run(cases).await;
}

#[tokio::test]
async fn malformed_on_behalf_of_assertions_are_refused() {
    let f = Fixture::new().await;
    let g = f.genuine().await;
    let p: Vec<&str> = g.split('.').collect();
    let json_header = |h: &str| format!("{}.{}.{}", b64(h), p[1], p[2]);
    let json_claims = |c: &str| format!("{}.{}.{}", p[0], b64(c), p[2]);
    let cases = vec![
        obo("one segment", p[0], e_malformed()),
        obo("two segments", &format!("{}.{}", p[0], p[1]), e_malformed()),
        obo("four segments", &format!("{g}.{}", p[2]), e_malformed()),
        obo(
            "five segments",
            &format!("{g}.{}.{}", p[1], p[2]),
            e_malformed(),
        ),
        obo(
            "empty header",
            &format!(".{}.{}", p[1], p[2]),
            e_malformed(),
        ),
        obo("only dots", "..", e_malformed()),
        obo(
            "a space inside",
            &format!("{} {}", &g[..10], &g[10..]),
            e_malformed(),
        ),
        obo(
            "standard alphabet",
            &with_segment(&g, 2, &p[2].replace('-', "+").replace('_', "/")),
            if p[2].contains(['-', '_']) {
                e_malformed()
            } else {
                e_bad_signature()
            },
        ),
        obo(
            "padding inside the header",
            &with_segment(&g, 0, &format!("{}={}", &p[0][..4], &p[0][4..])),
            e_malformed(),
        ),
        obo("header not JSON", &json_header("{\"alg\":"), e_malformed()),
        obo("claims not JSON", &json_claims("{\"aud\""), e_malformed()),
        obo("header a JSON array", &json_header("[]"), e_malformed()),
        obo("claims a JSON array", &json_claims("[{}]"), e_malformed()),
        obo("claims JSON null", &json_claims("null"), e_malformed()),
        obo(
            "duplicate alg, RS256 then none",
            &json_header(&format!(
                "{{\"alg\":\"RS256\",\"alg\":\"none\",\"kid\":\"{}\"}}",
                f.real().kid
            )),
            e_malformed(),
        ),
        obo(
            "duplicate alg, none then RS256",
            &json_header(&format!(
                "{{\"alg\":\"none\",\"alg\":\"RS256\",\"kid\":\"{}\"}}",
                f.real().kid
            )),
            e_bad_signature(),
        ),
        obo("UTF-8 é in the header", &format!("é{g}"), e_malformed()),
        obo(
            "UTF-8 é in the claims",
            &with_segment(&g, 1, &format!("{}é", p[1])),
            e_malformed(),
        ),
        obo("UTF-8 é in the signature", &format!("{g}é"), e_malformed()),
        obo(
            "claims Latin-1 bytes",
            &json_claims_bytes(p[0], b"{\"upn\":\"\xe9\"}", p[2]),
            e_malformed(),
        ),
        Case {
            name: "raw byte 0xFF (percent-encoded) in the assertion".into(),
            form: obo_form(&g).replacen("assertion=", "assertion=%FF", 1),
            want: e_malformed(),
        },
        Case {
            name: "empty assertion".into(),
            form: obo_form(""),
            want: e_missing("assertion"),
        },
        Case {
            name: "assertion twice (a forged one first)".into(),
            form: format!("assertion=e30.e30.&{}", obo_form(&g)),
            want: e_duplicate("assertion"),
        },
    ];
    f.run(cases).await;
}

fn json_claims_bytes(h: &str, claims: &[u8], s: &str) -> String {
    format!("{h}.{}.{s}", b64(claims))
}

#[tokio::test]
async fn a_600_kb_assertion_is_refused_without_trouble() {
    let f = Fixture::new().await;
    let g = f.genuine().await;
    let mut c = claims_of(&g);
    c.insert("pad".into(), json!("A".repeat(600 * 1024)));
    let forged = jws(
        &json!({"typ": "JWT", "alg": "RS256", "kid": f.real().kid}),
        &c,
        |m| attacker().sign(m),
    );
    let cases = vec![
        obo(
            "600 KB forged, real kid",
            &forged,
            refusal(413, "invalid_request", 90015, "Request is too large."),
        ),
        obo(
            "600 KB of base64",
            &"A".repeat(600 * 1024),
            refusal(413, "invalid_request", 90015, "Request is too large."),
        ),
    ];
    f.run(cases).await;
}

#[tokio::test]
async fn a_valid_on_behalf_of_assertion_may_be_used_again() {
    // Azure AD does not treat an on-behalf-of assertion as single-use: a middle tier may trade
    // the same user token again while it is valid (MSAL's OBO cache is an optimisation).
    let f = Fixture::new().await;
    let g = f.genuine().await;
    let first = f.post(obo_form(&g)).await;
    assert_eq!(first.status, 200, "{}", first.body);
    let second = f.post(obo_form(&g)).await;
    assert_eq!(second.status, 200, "{}", second.body);
    assert_eq!(
        claims_of(second.body["access_token"].as_str().unwrap_or_default())["aud"],
        "https://mail.contoso.com"
    );
}

// ------------------------------------------------------------------ client assertions

#[tokio::test]
async fn client_assertions_are_never_a_credential() {
    let f = Fixture::new().await;
    let g = f.genuine().await;
    let real = f.real();
    // A well-formed private_key_jwt signed by the real signing key (as if the attacker had it).
    let now = T0;
    let jwt_claims = |aud: &str, exp: i64| {
        let mut c = Map::new();
        c.insert("aud".into(), json!(aud));
        c.insert("iss".into(), json!(DAEMON));
        c.insert("sub".into(), json!(DAEMON));
        c.insert("jti".into(), json!("8f7a1c1e-0000-4000-8000-000000000001"));
        c.insert("nbf".into(), json!(now));
        c.insert("exp".into(), json!(exp));
        c
    };
    let aud = format!("https://login.microsoftonline.com/{TID}/oauth2/v2.0/token");
    let well_formed = real.sign_jwt(&jwt_claims(&aud, now + 600), true);
    let mut cases: Vec<Case> = forgeries(&f, &g)
        .into_iter()
        .map(|(name, t, _)| {
            client_assertion(format!("client assertion: {name}"), &t, e_no_credential())
        })
        .collect();
    cases.push(client_assertion(
        "well-formed, signed by a published key",
        &well_formed,
        e_no_credential(),
    ));
    cases.push(client_assertion(
        "wrong audience",
        &real.sign_jwt(&jwt_claims("https://evil.example/token", now + 600), true),
        e_no_credential(),
    ));
    cases.push(client_assertion(
        "expired",
        &real.sign_jwt(&jwt_claims(&aud, now - 600), true),
        e_no_credential(),
    ));
    cases.push(client_assertion(
        "malformed",
        "not.a.jwt",
        e_no_credential(),
    ));
    cases.push(client_assertion("one segment", "e30", e_no_credential()));
    // The same assertion again (Azure AD refuses a replayed jti; here it was never accepted).
    cases.push(client_assertion(
        "replayed",
        &well_formed,
        e_no_credential(),
    ));
    cases.push(Case {
        name: "another assertion type".into(),
        form: form(&[
            ("grant_type", "client_credentials"),
            ("client_id", DAEMON),
            (
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:saml2-bearer",
            ),
            ("client_assertion", &well_formed),
            ("scope", "https://mail.contoso.com/.default"),
        ]),
        want: e_no_credential(),
    });
    cases.push(Case {
        name: "on-behalf-of with a client assertion for the middle tier".into(),
        form: form(&[
            ("grant_type", JWT_BEARER),
            ("client_id", API),
            ("client_assertion_type", CLIENT_ASSERTION_TYPE),
            ("client_assertion", &well_formed),
            ("assertion", &g),
            ("requested_token_use", "on_behalf_of"),
            ("scope", EWS_SCOPE),
        ]),
        want: e_no_credential(),
    });
    cases.push(Case {
        name: "a public client sending a client assertion".into(),
        form: form(&[
            ("grant_type", "password"),
            ("client_id", OFFICE),
            ("client_assertion_type", CLIENT_ASSERTION_TYPE),
            ("client_assertion", &well_formed),
            ("scope", "User.Read"),
            ("username", "GregT@contoso.com"),
            ("password", "Contoso2017!"),
        ]),
        want: e_public_client(),
    });
    f.run(cases).await;
}
