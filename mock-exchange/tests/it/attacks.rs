//! The forged-token corpus: every token a hostile client could craft, sent as
//! `Authorization: Bearer …` to EWS, each with the exact status, `x-ms-diagnostics` and
//! `WWW-Authenticate` set mock-exchange answers today.
//!
//! The corpus is data: each family of attacks is a list of [`Case`]s (a name, the raw header
//! bytes, the expected answer) run through one checker, so a failure names the token, and adding
//! a token is one line. The diagnostic texts are written out once each (the `d_*` functions);
//! when a later issue corrects a wire text, only that function changes. Headers that could make a
//! naive validator fetch a key (`jku`, `x5u`, a URL in `kid`) point at a [`Trap`] listener that
//! counts connections and must end every test at zero. Nothing here may be accepted and nothing may
//! panic; the unknown-kid metadata refresh stays bounded (one document download, one refresh).

use axum::body::Body;
use axum::http::HeaderValue;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use mock_aad::keys::SigningKey;
use serde_json::{json, Map, Value};

use crate::common::*;
use crate::forge::*;

const AUD: &str = "https://mail.contoso.com/";

/// The Bearer challenge after a refused token (then `Negotiate`, `NTLM`).
const BEARER_REJECTED: &str = "Bearer client_id=\"00000002-0000-0ff1-ce00-000000000000\", trusted_issuers=\"00000001-0000-0000-c000-000000000000@f31f3647-5d87-4b69-a0b6-73f62aeab14c\", token_types=\"app_asserted_user_v1 service_asserted_app_v1\", authorization_uri=\"https://login.windows.net/common/oauth2/authorize\", error=\"invalid_token\"";
/// The Bearer challenge when no token was read at all (after `Negotiate`, `NTLM`).
/// The back end's challenge: only client_id and trusted_issuers.
const BEARER_BACK_END: &str = "Bearer client_id=\"00000002-0000-0ff1-ce00-000000000000\", trusted_issuers=\"00000001-0000-0000-c000-000000000000@f31f3647-5d87-4b69-a0b6-73f62aeab14c\"";
const BEARER_OFFERED: &str = "Bearer client_id=\"00000002-0000-0ff1-ce00-000000000000\", trusted_issuers=\"00000001-0000-0000-c000-000000000000@f31f3647-5d87-4b69-a0b6-73f62aeab14c\", token_types=\"app_asserted_user_v1 service_asserted_app_v1\", authorization_uri=\"https://login.windows.net/common/oauth2/authorize\"";

// ------------------------------------------------------------------ today's diagnostic texts

/// What a string echoed in a diagnostic looks like: printable ASCII kept, others `?`, cut at
/// 16 KiB with `...`.
fn echoed(s: &str) -> String {
    let mut out: String = s
        .chars()
        .take(16384)
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                '?'
            }
        })
        .collect();
    if s.chars().count() > 16384 {
        out.push_str("...");
    }
    out
}
/// 2000001 for a string not in compact form: the JWT library's Jwt10204, its newline as `%0a`.
fn d_not_compact(token: &str) -> String {
    format!("2000001;reason=\"Unable to read or process token, additional details: 'Jwt10204: 'System.IdentityModel.Tokens.JwtSecurityTokenHandler' cannot read this string: '{}'.%0aThe string needs to be in compact JSON format, which is of the form: '<Base64UrlEncodedHeader>.<Base64UrlEndcodedPayload>.<OPTIONAL, Base64UrlEncodedSignature>'.'.\";error_category=\"invalid_token\"", echoed(token))
}
/// 2000001 for a compact string whose `part` (`header`/`payload`) does not decode: Jwt10113.
fn d_undecodable(token: &str, part: &str) -> String {
    let i = if part == "header" { 0 } else { 1 };
    let value = token.split('.').nth(i).unwrap_or_default();
    format!("2000001;reason=\"Unable to read or process token, additional details: 'Jwt10113: Unable to decode the '{part}': '{}' as Base64url encoded string. jwtEncodedString: '{}'.'.\";error_category=\"invalid_token\"", echoed(value), echoed(token))
}
fn d_alg(_alg: &str) -> String {
    "2000000;reason=\"The token has an invalid signature.\";error_category=\"invalid_signature\""
        .into()
}
fn d_unknown_kid(_kid: &str) -> String {
    "2000000;reason=\"The token has an invalid signature.\";error_category=\"invalid_signature\""
        .into()
}
fn d_bad_signature() -> String {
    "2000000;reason=\"The token has an invalid signature.\";error_category=\"invalid_signature\""
        .into()
}
fn d_untrusted(iss: &str) -> String {
    format!("2000001;reason=\"The issuer of the token is unknown. Issuer was '{iss}'.\";error_category=\"invalid_token\"")
}
fn d_expired() -> String {
    "2000002;reason=\"The token has expired.\";error_category=\"token_expired\"".into()
}
fn d_not_yet_valid() -> String {
    "2000002;reason=\"The token has expired.\";error_category=\"token_expired\"".into()
}
fn d_audience_host(aud: &str) -> String {
    format!("2000003;reason=\"The hostname component of the audience claim value '{aud}' is invalid\";error_category=\"invalid_resource\"")
}
fn d_audience_scheme(expected: &str, actual: &str) -> String {
    format!("2000003;reason=\"The hostname component of the audience claim value is invalid. Expected '{expected}'. Actual '{actual}'.\";error_category=\"invalid_resource\"")
}
fn d_tenant(tid: &str) -> String {
    format!("2000004;reason=\"The tenant for context-id '{tid}' does not exist.\";error_category=\"invalid_tenant\"")
}
/// 2000001 without a reason: what the product writes when validation meets a value it cannot
/// use (here a missing or non-numeric `exp`).
fn d_no_reason() -> String {
    "2000001;error_category=\"invalid_token\"".into()
}
fn d_unknown_user() -> String {
    "2000005;reason=\"The user specified by the user-context in the token does not exist.\";error_category=\"invalid_user\"".into()
}

// ------------------------------------------------------------------ the corpus machinery

/// What the front end must answer.
enum Want {
    /// 401, this `x-ms-diagnostics`, the rejected-token challenge set.
    Diag(String),
    /// 401 from the back end ("Who's This?"): this diagnostic, the Bearer challenge with only
    /// client_id and trusted_issuers.
    BackEnd(String),
    /// 401 as for a request without a token: no diagnostic, the first-contact challenge set
    /// (`Negotiate`, `NTLM`, then Bearer without `error`).
    NoToken,
}

struct Case {
    name: String,
    authorization: HeaderValue,
    want: Want,
}

/// Markers for the diagnostics that echo the token: [`case`] fills the token in.
fn not_compact() -> String {
    "<not compact>".into()
}
fn undecodable(part: &str) -> String {
    format!("<undecodable {part}>")
}

/// `Bearer <token>` expecting `diag` (a marker above is resolved with the token).
fn case(name: impl Into<String>, token: &str, diag: String) -> Case {
    let diag = match diag.as_str() {
        "<not compact>" => d_not_compact(token),
        "<undecodable header>" => d_undecodable(token, "header"),
        "<undecodable payload>" => d_undecodable(token, "payload"),
        _ => diag,
    };
    raw_case(name, format!("Bearer {token}").as_bytes(), Want::Diag(diag))
}

/// Any Authorization header bytes (non-ASCII included).
fn raw_case(name: impl Into<String>, bytes: &[u8], want: Want) -> Case {
    let name = name.into();
    Case {
        authorization: HeaderValue::from_bytes(bytes)
            .unwrap_or_else(|e| panic!("{name}: not a header value: {e}")),
        name,
        want,
    }
}

struct Fixture {
    lab: Lab,
    meta: MetaServer,
    trap: Trap,
}

impl Fixture {
    async fn new() -> Fixture {
        let meta = MetaServer::start(TID).await;
        let lab = Lab::new(contoso(), Some(&meta.url));
        Fixture {
            lab,
            meta,
            trap: Trap::start().await,
        }
    }

    /// The AuthServer's active (published) key.
    fn real(&self) -> SigningKey {
        self.meta.active()
    }

    /// A token the real key signed for `claims`.
    fn genuine(&self, claims: &Map<String, Value>) -> String {
        self.real().sign_jwt(claims, true)
    }

    async fn send(&self, authorization: HeaderValue) -> Resp {
        let req = req("POST", "mail.contoso.com", "/EWS/Exchange.asmx")
            .header("authorization", authorization)
            .body(Body::empty())
            .unwrap_or_else(|e| panic!("{e}"));
        self.lab.send("EX1", req).await
    }

    /// Sends every case and checks its answer; then the trap and the metadata budget.
    async fn run(&self, cases: Vec<Case>) {
        assert!(!cases.is_empty());
        for c in cases {
            let r = self.send(c.authorization).await;
            let name = &c.name;
            assert_eq!(r.status, 401, "{name}: {:?}", r.headers);
            assert_eq!(r.header("content-length"), Some("0"), "{name}");
            assert_eq!(r.header("x-beserver"), None, "{name}: reached a back end");
            match c.want {
                Want::Diag(d) => {
                    assert_eq!(r.header("x-ms-diagnostics"), Some(d.as_str()), "{name}");
                    assert_eq!(
                        r.all("www-authenticate"),
                        [BEARER_REJECTED, "Negotiate", "NTLM"],
                        "{name}"
                    );
                }
                Want::BackEnd(d) => {
                    assert_eq!(r.header("x-ms-diagnostics"), Some(d.as_str()), "{name}");
                    assert_eq!(
                        r.all("www-authenticate"),
                        [BEARER_BACK_END, "Negotiate", "NTLM"],
                        "{name}"
                    );
                }
                Want::NoToken => {
                    assert_eq!(r.header("x-ms-diagnostics"), None, "{name}");
                    assert_eq!(
                        r.all("www-authenticate"),
                        ["Negotiate", "NTLM", BEARER_OFFERED],
                        "{name}"
                    );
                }
            }
        }
        assert_eq!(self.trap.hits(), 0, "a token made the service call out");
        assert!(
            self.meta.hits() <= 2,
            "metadata downloads: {} (one fetch, one unknown-kid refresh at most)",
            self.meta.hits()
        );
    }
}

// ------------------------------------------------------------------ token builders

fn good_claims() -> Map<String, Value> {
    claims(AUD, TID, T0)
}

/// HMAC under `alg` keyed with `secret`, the real kid in the header.
fn hs(alg: &str, secret: &[u8], kid: &str) -> String {
    let header = json!({"typ": "JWT", "alg": alg, "x5t": kid, "kid": kid});
    jws(&header, &good_claims(), |m| hmac_tag(alg, secret, m))
}

/// A genuine token whose claims were edited after signing (signature kept).
fn tampered(genuine: &str, edit: impl FnOnce(&mut Map<String, Value>)) -> String {
    let mut c = good_claims();
    edit(&mut c);
    let t = with_segment(genuine, 1, &b64(Value::Object(c).to_string()));
    assert_ne!(t, genuine, "the edit changed nothing");
    t
}

/// A genuine token whose header was edited after signing.
fn tampered_header(genuine: &str, header: Value) -> String {
    with_segment(genuine, 0, &b64(header.to_string()))
}

// ------------------------------------------------------------------ the families

#[tokio::test]
async fn alg_none_in_every_casing_is_refused() {
    let f = Fixture::new().await;
    let kid = f.real().kid;
    let mut cases = Vec::new();
    for alg in ["none", "None", "NONE", "nOnE"] {
        let h = json!({"typ": "JWT", "alg": alg, "x5t": kid, "kid": kid});
        cases.push(case(
            format!("alg {alg}, empty signature"),
            &jws(&h, &good_claims(), |_| Vec::new()),
            d_alg(alg),
        ));
        cases.push(case(
            format!("alg {alg}, a signature segment"),
            &jws(&h, &good_claims(), |_| b"signature".to_vec()),
            d_alg(alg),
        ));
    }
    // No alg at all, and alg not a string.
    let h = json!({"typ": "JWT", "kid": kid});
    cases.push(case(
        "no alg",
        &jws(&h, &good_claims(), |_| Vec::new()),
        d_alg(""),
    ));
    let h = json!({"typ": "JWT", "alg": null, "kid": kid});
    cases.push(case(
        "alg null",
        &jws(&h, &good_claims(), |_| Vec::new()),
        d_alg(""),
    ));
    // RS256 in another casing is another algorithm.
    let t = rs256(
        &f.real(),
        json!({"typ": "JWT", "alg": "rs256", "kid": kid}),
        &good_claims(),
    );
    cases.push(case("alg rs256 (lower case)", &t, d_alg("rs256")));
    f.run(cases).await;
}

#[tokio::test]
async fn hmac_keyed_with_the_public_key_is_refused() {
    let f = Fixture::new().await;
    let key = f.real();
    let secrets: [(&str, Vec<u8>); 4] = [
        ("certificate PEM", pem(&key.cert_der).into_bytes()),
        ("certificate DER", key.cert_der.clone()),
        ("x5c text", key.x5c().into_bytes()),
        ("modulus bytes", key.n.clone()),
    ];
    let mut cases = Vec::new();
    for alg in ["HS256", "HS384", "HS512"] {
        for (what, secret) in &secrets {
            cases.push(case(
                format!("{alg} keyed with the {what}"),
                &hs(alg, secret, &key.kid),
                d_alg(alg),
            ));
        }
    }
    f.run(cases).await;
}

#[tokio::test]
async fn an_attacker_key_behind_a_real_kid_is_refused() {
    let f = Fixture::new().await;
    let real = f.real().kid;
    let evil = unpublished_key();
    let c = good_claims();
    let cases = vec![
        case(
            "real kid and x5t",
            &rs256(
                &evil,
                json!({"typ": "JWT", "alg": "RS256", "x5t": real, "kid": real}),
                &c,
            ),
            d_bad_signature(),
        ),
        case(
            "real x5t, no kid",
            &rs256(
                &evil,
                json!({"typ": "JWT", "alg": "RS256", "x5t": real}),
                &c,
            ),
            d_bad_signature(),
        ),
        case(
            "real kid, attacker x5t",
            &rs256(
                &evil,
                json!({"typ": "JWT", "alg": "RS256", "x5t": evil.kid, "kid": real}),
                &c,
            ),
            d_bad_signature(),
        ),
        case(
            "attacker kid, real x5t",
            &rs256(
                &evil,
                json!({"typ": "JWT", "alg": "RS256", "x5t": real, "kid": evil.kid}),
                &c,
            ),
            d_unknown_kid(&evil.kid),
        ),
        case(
            "the attacker's own kid",
            &evil.sign_jwt(&c, true),
            d_unknown_kid(&evil.kid),
        ),
    ];
    f.run(cases).await;
}

#[tokio::test]
async fn embedded_keys_and_key_urls_are_never_used() {
    let f = Fixture::new().await;
    let real = f.real().kid;
    let evil = unpublished_key();
    let trap = &f.trap.url;
    let c = good_claims();
    let mut jwk = evil.jwk(None);
    let sign = |h: Value| rs256(&evil, h, &c);
    let mut cases = vec![
        case(
            "jwk of the attacker, its kid",
            &sign(json!({"alg": "RS256", "kid": evil.kid, "jwk": jwk})),
            d_unknown_kid(&evil.kid),
        ),
        case(
            "x5c of the attacker, its kid",
            &sign(json!({"alg": "RS256", "kid": evil.kid, "x5c": [evil.x5c()]})),
            d_unknown_kid(&evil.kid),
        ),
        case(
            "jku to the trap",
            &sign(json!({"alg": "RS256", "kid": evil.kid, "jku": format!("{trap}/keys")})),
            d_unknown_kid(&evil.kid),
        ),
        case(
            "x5u to the trap",
            &sign(json!({"alg": "RS256", "kid": evil.kid, "x5u": format!("{trap}/cert.pem")})),
            d_unknown_kid(&evil.kid),
        ),
        case(
            "jku to the trap, no kid",
            &sign(json!({"alg": "RS256", "jku": format!("{trap}/keys")})),
            d_unknown_kid(""),
        ),
    ];
    jwk["kid"] = json!(real);
    cases.push(case(
        "jwk of the attacker under the real kid",
        &sign(json!({"alg": "RS256", "kid": real, "jwk": jwk})),
        d_bad_signature(),
    ));
    cases.push(case(
        "jku and x5u to the trap under the real kid",
        &sign(json!({"alg": "RS256", "kid": real, "jku": format!("{trap}/keys"), "x5u": format!("{trap}/c")})),
        d_bad_signature(),
    ));
    f.run(cases).await;
}

#[tokio::test]
async fn kid_injection_is_only_ever_an_unknown_key() {
    let f = Fixture::new().await;
    let evil = unpublished_key();
    let c = good_claims();
    let with_kid = |kid: &str| rs256(&evil, json!({"typ": "JWT", "alg": "RS256", "kid": kid}), &c);
    let big = "k".repeat(10 * 1024);
    let url = format!("{}/keys/evil", f.trap.url);
    let mut cases = Vec::new();
    for kid in [
        "../../../../../../etc/passwd",
        "..\\..\\..\\windows\\win.ini",
        "' OR '1'='1' --",
        "x'; DROP TABLE keys; --",
        url.as_str(),
        "file:///etc/passwd",
        big.as_str(),
        "",
    ] {
        let name = format!("kid {:.40}", kid);
        cases.push(case(name, &with_kid(kid), d_unknown_kid(kid)));
    }
    // Quotes and line breaks cannot break the header: `"` becomes `'`, controls become `?`.
    cases.push(case(
        "kid with double quotes",
        &with_kid("a\"b\";reason=\"ok"),
        d_unknown_kid("a'b';reason='ok"),
    ));
    cases.push(case(
        "kid with CR LF (header injection)",
        &with_kid("k\r\nx-ms-diagnostics: 0"),
        d_unknown_kid("k??x-ms-diagnostics: 0"),
    ));
    // Not a string: as if absent (and no x5t either).
    cases.push(case(
        "kid a number",
        &rs256(&evil, json!({"alg": "RS256", "kid": 42}), &c),
        d_unknown_kid(""),
    ));
    cases.push(case(
        "kid an object",
        &rs256(&evil, json!({"alg": "RS256", "kid": {"$ne": ""}}), &c),
        d_unknown_kid(""),
    ));
    // Another tenant's key: one this AuthServer never published.
    let other = SigningKey::generate().unwrap_or_else(|e| panic!("{e}"));
    cases.push(case(
        "another tenant's key and kid",
        &other.sign_jwt(&c, true),
        d_unknown_kid(&other.kid),
    ));
    f.run(cases).await;
}

#[tokio::test]
async fn claims_and_header_edited_after_signing_fail_the_signature() {
    let f = Fixture::new().await;
    let g = f.genuine(&good_claims());
    let other_tid = "99999999-2222-3333-4444-555555555555";
    let edits: Vec<(&str, String)> = vec![
        (
            "aud",
            tampered(&g, |c| {
                c.insert("aud".into(), json!("https://autodiscover.contoso.com/"));
            }),
        ),
        (
            "iss",
            tampered(&g, |c| {
                c.insert(
                    "iss".into(),
                    json!(format!("https://sts.windows.net/{other_tid}/")),
                );
            }),
        ),
        (
            "exp",
            tampered(&g, |c| {
                c.insert("exp".into(), json!(T0 + 10 * 365 * 86400));
            }),
        ),
        (
            "upn (no onprem_sid)",
            tampered(&g, |c| {
                c.remove("onprem_sid");
                c.insert("upn".into(), json!("Administrator@contoso.com"));
            }),
        ),
        (
            "onprem_sid",
            tampered(&g, |c| {
                c.insert(
                    "onprem_sid".into(),
                    json!("S-1-5-21-2366433183-230171048-1893555995-500"),
                );
            }),
        ),
        (
            "tid",
            tampered(&g, |c| {
                c.insert("tid".into(), json!(other_tid));
            }),
        ),
        (
            "scp",
            tampered(&g, |c| {
                c.insert("scp".into(), json!("full_access_as_app"));
            }),
        ),
        (
            "header typ JWE",
            tampered_header(
                &g,
                json!({"typ": "JWE", "alg": "RS256", "x5t": f.real().kid, "kid": f.real().kid}),
            ),
        ),
        (
            "header typ missing",
            tampered_header(
                &g,
                json!({"alg": "RS256", "x5t": f.real().kid, "kid": f.real().kid}),
            ),
        ),
        (
            "header crit added",
            tampered_header(
                &g,
                json!({"typ": "JWT", "alg": "RS256", "kid": f.real().kid, "crit": ["exp"], "exp": 0}),
            ),
        ),
    ];
    let mut cases: Vec<Case> = edits
        .into_iter()
        .map(|(what, t)| case(format!("tampered {what}"), &t, d_bad_signature()))
        .collect();
    // The signature of another genuine token, the header and claims of this one.
    let mut later = good_claims();
    later.insert("iat".into(), json!(T0 + 1));
    let other = f.genuine(&later);
    let sig = other.rsplit('.').next().unwrap_or_default();
    cases.push(case(
        "signature of another genuine token",
        &with_segment(&g, 2, sig),
        d_bad_signature(),
    ));
    // The signature bit-flipped, truncated by one byte, doubled.
    let raw_sig = URL_SAFE_NO_PAD
        .decode(g.rsplit('.').next().unwrap_or_default())
        .unwrap_or_default();
    let mut flipped = raw_sig.clone();
    flipped[0] ^= 1;
    cases.push(case(
        "signature with one bit flipped",
        &with_segment(&g, 2, &b64(&flipped)),
        d_bad_signature(),
    ));
    cases.push(case(
        "signature one byte short",
        &with_segment(&g, 2, &b64(&raw_sig[1..])),
        d_bad_signature(),
    ));
    cases.push(case(
        "signature twice",
        &with_segment(&g, 2, &b64([raw_sig.clone(), raw_sig].concat())),
        d_bad_signature(),
    ));
    f.run(cases).await;
}

#[tokio::test]
async fn wrong_segment_counts_are_unparsable() {
    let f = Fixture::new().await;
    let g = f.genuine(&good_claims());
    let p: Vec<&str> = g.split('.').collect();
    let cases = vec![
        case("one segment (header)", p[0], not_compact()),
        case(
            "one segment (whole, dots removed)",
            &g.replace('.', ""),
            not_compact(),
        ),
        case("two segments", &format!("{}.{}", p[0], p[1]), not_compact()),
        case("four segments", &format!("{g}.{}", p[2]), not_compact()),
        case("four segments, empty last", &format!("{g}."), not_compact()),
        case(
            "five segments (JWE shape)",
            &format!("{g}.{}.{}", p[1], p[2]),
            not_compact(),
        ),
        case(
            "empty header",
            &format!(".{}.{}", p[1], p[2]),
            not_compact(),
        ),
        case(
            "empty claims",
            &format!("{}..{}", p[0], p[2]),
            not_compact(),
        ),
        case(
            "empty signature",
            &format!("{}.{}.", p[0], p[1]),
            d_bad_signature(),
        ),
        case("only dots", "..", not_compact()),
        case("only four dots", "....", not_compact()),
    ];
    f.run(cases).await;
}

#[tokio::test]
async fn invalid_base64_and_json_are_unparsable() {
    let f = Fixture::new().await;
    let g = f.genuine(&good_claims());
    let p: Vec<&str> = g.split('.').collect();
    let seg = |s: &str| b64(s);
    let header_json = |h: &str| format!("{}.{}.{}", seg(h), p[1], p[2]);
    let claims_json = |c: &str| format!("{}.{}.{}", p[0], seg(c), p[2]);
    let std_header = STANDARD.encode(r#"{"typ":"JWT","alg":"RS256","x5t":"??>>","kid":"??>>"}"#);
    assert!(std_header.contains('+') || std_header.contains('/'));
    let cases = vec![
        case(
            "standard alphabet (+/) in the header",
            &format!("{}.{}.{}", std_header.trim_end_matches('='), p[1], p[2]),
            not_compact(),
        ),
        case(
            "standard alphabet (+/) in the signature",
            &with_segment(&g, 2, &p[2].replace('-', "+").replace('_', "/")),
            if p[2].contains(['-', '_']) {
                not_compact()
            } else {
                d_bad_signature()
            },
        ),
        case(
            "a space inside the header",
            &with_segment(&g, 0, &format!("{} {}", &p[0][..4], &p[0][4..])),
            not_compact(),
        ),
        case(
            "a space inside the claims",
            &with_segment(&g, 1, &format!("{} {}", &p[1][..4], &p[1][4..])),
            not_compact(),
        ),
        case(
            "a space inside the signature",
            &with_segment(&g, 2, &format!("{} {}", &p[2][..4], &p[2][4..])),
            not_compact(),
        ),
        case(
            "padding in the middle of the header",
            &with_segment(&g, 0, &format!("{}=={}", &p[0][..4], &p[0][4..])),
            not_compact(),
        ),
        case(
            "a percent-encoded header",
            &with_segment(&g, 0, "%7B%7D"),
            not_compact(),
        ),
        case(
            "header not JSON",
            &header_json("{\"alg\":"),
            undecodable("header"),
        ),
        case(
            "claims not JSON",
            &claims_json("{\"aud\":\"x\""),
            undecodable("payload"),
        ),
        case(
            "header a JSON array",
            &header_json("[{\"alg\":\"RS256\"}]"),
            undecodable("header"),
        ),
        case(
            "claims a JSON array",
            &claims_json("[]"),
            undecodable("payload"),
        ),
        case(
            "header a JSON string",
            &header_json("\"RS256\""),
            undecodable("header"),
        ),
        case(
            "claims a JSON number",
            &claims_json("42"),
            undecodable("payload"),
        ),
        case(
            "claims JSON null",
            &claims_json("null"),
            undecodable("payload"),
        ),
        case(
            "header JSON with trailing garbage",
            &header_json("{\"alg\":\"RS256\"} x"),
            undecodable("header"),
        ),
        case(
            "claims with a BOM",
            &claims_json("\u{feff}{}"),
            undecodable("payload"),
        ),
        case(
            "claims Latin-1 bytes",
            &format!("{}.{}.{}", p[0], b64(b"{\"upn\":\"\xe9\"}"), p[2]),
            undecodable("payload"),
        ),
        case(
            "duplicate alg: none then RS256, tampered",
            &header_json(&format!(
                "{{\"alg\":\"none\",\"alg\":\"RS256\",\"kid\":\"{}\"}}",
                f.real().kid
            )),
            d_bad_signature(),
        ),
        case(
            "duplicate alg: RS256 then none",
            &header_json(&format!(
                "{{\"alg\":\"RS256\",\"alg\":\"none\",\"kid\":\"{}\"}}",
                f.real().kid
            )),
            d_alg("none"),
        ),
        case(
            "claims valid UTF-8 JSON, tampered",
            &claims_json("{\"upn\":\"Grég@contoso.com\",\"exp\":9999999999}"),
            d_bad_signature(),
        ),
    ];
    f.run(cases).await;
}

#[tokio::test]
/// An Authorization header with non-ASCII bytes is a credential: `Bearer` and bytes the JWT
/// library cannot read are an unreadable token (2000001, the bytes echoed as `?`), not an
/// anonymous request. Only a scheme word that is not `Bearer` gets the first-contact challenge.
async fn non_ascii_bytes_in_a_bearer_token_are_an_unreadable_token() {
    let f = Fixture::new().await;
    let g = f.genuine(&good_claims());
    let p: Vec<&str> = g.split('.').collect();
    let mut cases = Vec::new();
    for i in 0..3 {
        for (what, bytes) in [
            ("UTF-8 é", "é".as_bytes()),
            ("raw 0xFF 0x80", &[0xff, 0x80][..]),
        ] {
            let mut token = Vec::new();
            for (j, s) in p.iter().enumerate() {
                if j > 0 {
                    token.push(b'.');
                }
                token.extend_from_slice(s.as_bytes());
                if i == j {
                    token.extend_from_slice(bytes);
                }
            }
            let mut header = b"Bearer ".to_vec();
            header.extend_from_slice(&token);
            let latin1: String = token.iter().map(|&b| char::from(b)).collect();
            cases.push(raw_case(
                format!("{what} in segment {i}"),
                &header,
                Want::Diag(d_not_compact(&latin1)),
            ));
        }
    }
    cases.push(raw_case(
        "raw bytes only",
        b"Bearer \xff\xfe\xfd",
        Want::Diag(d_not_compact("???")),
    ));
    cases.push(raw_case(
        "a high byte in the scheme",
        b"Bear\xe9r e30.e30.",
        Want::NoToken,
    ));
    f.run(cases).await;
}

#[tokio::test]
async fn a_600_kb_token_is_refused_without_trouble() {
    let f = Fixture::new().await;
    let evil = unpublished_key();
    let mut c = good_claims();
    c.insert("pad".into(), json!("A".repeat(600 * 1024)));
    let forged = rs256(
        &evil,
        json!({"typ": "JWT", "alg": "RS256", "x5t": f.real().kid, "kid": f.real().kid}),
        &c,
    );
    assert!(forged.len() > 600 * 1024);
    let genuine_big = f.genuine(&c);
    let cases = vec![
        case("600 KB forged, real kid", &forged, d_bad_signature()),
        case(
            "600 KB genuine, tampered",
            &tampered(&genuine_big, |c| {
                c.insert("upn".into(), json!("x"));
            }),
            d_bad_signature(),
        ),
        case("600 KB of base64", &"A".repeat(600 * 1024), not_compact()),
        case("600 KB of dots", &".".repeat(600 * 1024), not_compact()),
        case(
            "600 KB nested JSON arrays in the claims",
            &format!("{}.{}.", b64("{}"), b64("[".repeat(300 * 1024))),
            undecodable("payload"),
        ),
    ];
    f.run(cases).await;
}

#[tokio::test]
async fn genuinely_signed_tokens_for_the_wrong_place_or_time_are_refused() {
    let f = Fixture::new().await;
    let with = |edit: &dyn Fn(&mut Map<String, Value>)| {
        let mut c = good_claims();
        edit(&mut c);
        f.genuine(&c)
    };
    let other_tid = "99999999-2222-3333-4444-555555555555";
    let other_iss = format!("https://sts.windows.net/{other_tid}/");
    let cases = vec![
        case(
            "audience another host",
            &with(&|c| {
                c.insert("aud".into(), json!("https://mail.fabrikam.com/"));
            }),
            d_audience_host("https://mail.fabrikam.com"),
        ),
        case(
            "audience http:// on an https arrival",
            &with(&|c| {
                c.insert("aud".into(), json!("http://mail.contoso.com/"));
            }),
            d_audience_scheme("http://mail.contoso.com", "https://mail.contoso.com"),
        ),
        case(
            "audience Exchange Online",
            &with(&|c| {
                c.insert("aud".into(), json!("https://outlook.office365.com/"));
            }),
            d_audience_host("https://outlook.office365.com"),
        ),
        case(
            "audience Microsoft Graph (another SPN, by app id)",
            &with(&|c| {
                c.insert("aud".into(), json!("00000003-0000-0000-c000-000000000000"));
            }),
            d_audience_host("00000003-0000-0000-c000-000000000000"),
        ),
        case(
            "audience Exchange's app id for another host",
            &with(&|c| {
                c.insert(
                    "aud".into(),
                    json!("00000002-0000-0ff1-ce00-000000000000/mail.fabrikam.com@contoso.com"),
                );
            }),
            d_audience_host("00000002-0000-0ff1-ce00-000000000000/mail.fabrikam.com@contoso.com"),
        ),
        case(
            "audience a look-alike host",
            &with(&|c| {
                c.insert(
                    "aud".into(),
                    json!("https://mail.contoso.com.evil.example/"),
                );
            }),
            d_audience_host("https://mail.contoso.com.evil.example"),
        ),
        case(
            "audience with userinfo",
            &with(&|c| {
                c.insert(
                    "aud".into(),
                    json!("https://mail.contoso.com@evil.example/"),
                );
            }),
            d_audience_host("https://mail.contoso.com@evil.example"),
        ),
        case(
            "no audience",
            &with(&|c| {
                c.remove("aud");
            }),
            d_audience_host(""),
        ),
        case(
            "issuer of another tenant",
            &with(&|c| {
                c.insert("iss".into(), json!(other_iss));
                c.insert("tid".into(), json!(other_tid));
            }),
            d_untrusted(&other_iss),
        ),
        case(
            "issuer v2 form",
            &with(&|c| {
                c.insert(
                    "iss".into(),
                    json!(format!("https://login.microsoftonline.com/{TID}/v2.0")),
                );
            }),
            d_untrusted(&format!("https://login.microsoftonline.com/{TID}/v2.0")),
        ),
        case(
            "issuer an attacker's site",
            &with(&|c| {
                c.insert("iss".into(), json!(format!("https://evil.example/{TID}/")));
            }),
            d_untrusted(&format!("https://evil.example/{TID}/")),
        ),
        case(
            "no issuer",
            &with(&|c| {
                c.remove("iss");
            }),
            d_untrusted(""),
        ),
        case(
            "tenant of another directory",
            &with(&|c| {
                c.insert("tid".into(), json!(other_tid));
            }),
            d_tenant(other_tid),
        ),
        case(
            "expired",
            &with(&|c| {
                c.insert("exp".into(), json!(T0 - 301));
            }),
            d_expired(),
        ),
        case(
            "not yet valid",
            &with(&|c| {
                c.insert("nbf".into(), json!(T0 + 301));
            }),
            d_not_yet_valid(),
        ),
        case(
            "no exp",
            &with(&|c| {
                c.remove("exp");
            }),
            d_no_reason(),
        ),
        case(
            "exp a word",
            &with(&|c| {
                c.insert("exp".into(), json!("never"));
            }),
            d_no_reason(),
        ),
        raw_case(
            "a user Exchange does not know",
            format!(
                "Bearer {}",
                with(&|c| {
                    c.insert(
                        "onprem_sid".into(),
                        json!("S-1-5-21-2366433183-230171048-1893555995-500"),
                    );
                })
            )
            .as_bytes(),
            Want::BackEnd(d_unknown_user()),
        ),
    ];
    f.run(cases).await;
}

#[tokio::test]
async fn the_authorization_header_shape_does_not_open_a_way_in() {
    let f = Fixture::new().await;
    let evil = unpublished_key();
    let real = f.real().kid;
    let forged = rs256(
        &evil,
        json!({"typ": "JWT", "alg": "RS256", "x5t": real, "kid": real}),
        &good_claims(),
    );
    let mut cases = Vec::new();
    for (what, prefix) in [
        ("bearer (lower case)", "bearer "),
        ("BEARER", "BEARER "),
        ("Bearer and two spaces", "Bearer  "),
        ("Bearer and a tab", "Bearer\t"),
        ("Bearer, tab and space", "Bearer \t "),
    ] {
        cases.push(raw_case(
            format!("{what}, forged token"),
            format!("{prefix}{forged}").as_bytes(),
            Want::Diag(d_bad_signature()),
        ));
    }
    cases.push(raw_case(
        "two tokens",
        format!("Bearer {forged} {forged}").as_bytes(),
        Want::Diag(d_not_compact(&format!("{forged} {forged}"))),
    ));
    cases.push(raw_case("Bearer and nothing", b"Bearer", Want::NoToken));
    cases.push(raw_case("Bearer and spaces", b"Bearer    ", Want::NoToken));
    f.run(cases).await;
}

#[tokio::test]
async fn the_validated_token_cache_cannot_be_poisoned() {
    let f = Fixture::new().await;
    let g = f.genuine(&good_claims());
    // Cached by a good use.
    let r = f
        .send(HeaderValue::from_str(&format!("Bearer {g}")).unwrap_or_else(|e| panic!("{e}")))
        .await;
    assert_eq!(r.header("x-ms-diagnostics"), None, "{:?}", r.headers);
    assert_eq!(r.header("x-beserver"), Some("EX1"));
    let p: Vec<&str> = g.split('.').collect();
    let cases = vec![
        case(
            "cached token, upn changed",
            &tampered(&g, |c| {
                c.remove("onprem_sid");
                c.insert("upn".into(), json!("MeganB@contoso.com"));
            }),
            d_bad_signature(),
        ),
        case(
            "cached token, exp extended",
            &tampered(&g, |c| {
                c.insert("exp".into(), json!(T0 + 86400 * 365));
            }),
            d_bad_signature(),
        ),
        case(
            "cached token's header and claims, no signature",
            &format!("{}.{}.", p[0], p[1]),
            d_bad_signature(),
        ),
        case(
            "cached token's claims under alg none",
            &format!("{}.{}.{}", b64(r#"{"alg":"none"}"#), p[1], p[2]),
            d_alg("none"),
        ),
        case(
            "cached token with a fourth segment",
            &format!("{g}.x"),
            not_compact(),
        ),
        case(
            "cached token's claims with a forged signature",
            &with_segment(&g, 2, &b64([0u8; 256])),
            d_bad_signature(),
        ),
    ];
    f.run(cases).await;
    // The genuine token is still good, and still the only entry that passes.
    let r = f
        .send(HeaderValue::from_str(&format!("Bearer {g}")).unwrap_or_else(|e| panic!("{e}")))
        .await;
    assert_eq!(r.header("x-ms-diagnostics"), None, "{:?}", r.headers);
}

#[tokio::test]
async fn a_padded_copy_of_a_genuine_token_is_not_another_good_token() {
    // Compact JWS segments are unpadded base64url; Exchange's token handler reads a token only
    // when it matches `^[A-Za-z0-9-_]+\.[A-Za-z0-9-_]+\.[A-Za-z0-9-_]*$`. A padded copy of a good
    // token was accepted (and cached under its own string) before the parser was made strict.
    let f = Fixture::new().await;
    let g = f.genuine(&good_claims());
    let p: Vec<&str> = g.split('.').collect();
    let cases = vec![
        case(
            "genuine, '=' after the signature",
            &format!("{g}="),
            not_compact(),
        ),
        case(
            "genuine, '==' after the signature",
            &format!("{g}=="),
            not_compact(),
        ),
        case(
            "genuine, '=' after the claims",
            &format!("{}.{}=.{}", p[0], p[1], p[2]),
            not_compact(),
        ),
        case(
            "genuine, '==' after the header",
            &format!("{}==.{}.{}", p[0], p[1], p[2]),
            not_compact(),
        ),
    ];
    f.run(cases).await;
}

#[tokio::test]
async fn extreme_lifetimes_in_a_genuine_token_do_not_crash_the_pipeline() {
    // `exp` near i64::MAX overflowed `exp + skew` (a panic in the request) before the lifetime
    // arithmetic saturated. A far-future `exp` is simply not expired (as a clamped .NET DateTime);
    // a far-past one is expired; a far-future `nbf` is not yet valid.
    let f = Fixture::new().await;
    let with = |name: &str, claim: &str, v: Value| {
        let mut c = good_claims();
        c.insert(claim.into(), v);
        (name.to_string(), f.genuine(&c))
    };
    for (name, t) in [
        with("exp i64::MAX", "exp", json!(i64::MAX)),
        with("exp 1e300", "exp", json!(1e300)),
        with("nbf i64::MIN", "nbf", json!(i64::MIN)),
    ] {
        let r = f
            .send(HeaderValue::from_str(&format!("Bearer {t}")).unwrap_or_else(|e| panic!("{e}")))
            .await;
        assert_eq!(
            r.header("x-ms-diagnostics"),
            None,
            "{name}: {:?}",
            r.headers
        );
        assert_eq!(r.header("x-beserver"), Some("EX1"), "{name}");
    }
    let cases = vec![
        {
            let (n, t) = with("exp i64::MIN", "exp", json!(i64::MIN));
            case(n, &t, d_expired())
        },
        {
            let (n, t) = with("exp -1e300", "exp", json!(-1e300));
            case(n, &t, d_expired())
        },
        {
            let (n, t) = with("nbf i64::MAX", "nbf", json!(i64::MAX));
            case(n, &t, d_not_yet_valid())
        },
    ];
    f.run(cases).await;
}

#[tokio::test]
async fn a_600_kb_token_over_a_real_socket_is_answered_and_the_listener_lives_on() {
    let meta = MetaServer::start(TID).await;
    let handle = mock_exchange::start(mock_exchange::Config {
        listen: std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
        organization: contoso(),
        clock: mock_exchange::Clock::frozen_at_unix(T0),
        aad_url: Some(meta.url.clone()),
        admin_token: Some("admin-secret".into()),
    })
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    let client = reqwest::Client::new();
    let post = |authorization: String| {
        client
            .post(format!("{}/EWS/Exchange.asmx", handle.url()))
            .header("host", "mail.contoso.com")
            .header("authorization", authorization)
            .send()
    };
    // hyper's reader stops at ~400 KB of head unless one read brought the whole head in: the
    // answer is either the parser's 2000001 or 431 from the HTTP layer, never a hang or a crash.
    let r = post(format!("Bearer {}", "A".repeat(600 * 1024)))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let diag = |r: &reqwest::Response| {
        r.headers()
            .get("x-ms-diagnostics")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    match r.status().as_u16() {
        401 => assert_eq!(diag(&r), Some(d_not_compact(&"A".repeat(600 * 1024)))),
        431 => assert_eq!(diag(&r), None),
        s => panic!("600 KB token: {s}"),
    }
    // The listener still serves.
    let r = post("Bearer abc".into())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.status(), 401);
    assert_eq!(diag(&r), Some(d_not_compact("abc")));
}
