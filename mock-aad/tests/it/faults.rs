//! Fault injection: rules of every kind, their counting and matching, and that a request no
//! rule catches reaches the router unchanged. The middleware runs before routing, so a faulted
//! request to a token path is answered by the fault whichever handler serves that path.

use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::routing::post;
use axum::Router;
use http_body_util::BodyExt;
use mock_aad::faults::{self, Endpoint, FaultContext};
use serde_json::{json, Value};
use tower::ServiceExt;

use super::admin::{admin, lab, send, store_refresh, EXCHANGE, OFFICE, T0};
use super::common::GOLDEN;

const TOKEN_V2: &str = "/contoso.com/oauth2/v2.0/token";
const TOKEN_V1: &str = "/contoso.com/oauth2/token";
const CORRELATION: &str = "f3fc8b2f-7cf1-4ce8-b34d-5dd41aba0a02";
/// A path no handler serves: a request that passes the faults gets the router's answer for
/// unknown paths (a 404 today; whatever the fallback says after other handlers land).
const NOWHERE: &str = "/contoso.com/no-such-endpoint";

/// The status of an unfaulted request to [`NOWHERE`] (measured before any rule exists).
async fn unfaulted(s: &mock_aad::AppState) -> StatusCode {
    assert!(s.faults().list().is_empty());
    let (status, _, _) = send(s, Request::get(NOWHERE).body(Body::empty()).unwrap()).await;
    assert!(!status.is_server_error(), "{status}");
    status
}

fn form(path: &str, body: &str) -> Request<Body> {
    Request::post(path)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("client-request-id", CORRELATION)
        .body(Body::from(body.to_string()))
        .unwrap()
}

fn ropc(user: &str, client: &str) -> String {
    format!("grant_type=password&client_id={client}&username={user}&password=Contoso2017!&scope=https%3A%2F%2Fmail.contoso.com%2F.default")
}

async fn add_rule(s: &mock_aad::AppState, rule: Value) -> Value {
    let (status, body) = admin(s, "POST", "/_admin/faults", Some(rule)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body
}

/// Status, the trace id from `x-ms-request-id`, the body with that id masked.
async fn faulted(
    s: &mock_aad::AppState,
    req: Request<Body>,
) -> (StatusCode, axum::http::HeaderMap, String) {
    let (status, headers, body) = send(s, req).await;
    let body = String::from_utf8(body.to_vec()).unwrap();
    let masked = match headers.get("x-ms-request-id") {
        Some(id) => body.replace(id.to_str().unwrap(), "<trace-id>"),
        None => body,
    };
    (status, headers, masked)
}

#[tokio::test]
async fn aadsts_fault_answers_like_the_token_endpoint_then_passes() {
    let s = lab();
    let rule = add_rule(
        &s,
        json!({"match": {"endpoint": "token"}, "respond": {"aadsts": 50126}}),
    )
    .await;
    assert_eq!(
        rule,
        json!({"id": 1, "match": {"endpoint": "token"}, "times": 1, "remaining": 1, "hits": 0, "respond": {"aadsts": 50126}})
    );
    let (status, headers, body) =
        faulted(&s, form(TOKEN_V2, &ropc("GregT@contoso.com", OFFICE))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(headers["content-type"], "application/json; charset=utf-8");
    assert_eq!(headers["cache-control"], "no-cache, no-store");
    assert_eq!(headers["pragma"], "no-cache");
    assert_eq!(headers["expires"], "-1");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(
        headers["strict-transport-security"],
        "max-age=31536000; includeSubDomains"
    );
    assert_eq!(headers["date"], "Thu, 16 Nov 2017 20:36:16 GMT");
    assert!(headers["x-ms-request-id"].to_str().unwrap().ends_with("00"));
    GOLDEN.check("fault_50126.json", &body);

    // times defaulted to 1: the next identical request goes to the service.
    let (_, _, body) = faulted(&s, form(TOKEN_V2, &ropc("GregT@contoso.com", OFFICE))).await;
    assert!(!body.contains("AADSTS50126"), "{body}");
    let (_, list) = admin(&s, "GET", "/_admin/faults", None).await;
    assert_eq!(list[0]["remaining"], 0);
    assert_eq!(list[0]["hits"], 1);
}

#[tokio::test]
async fn a_faulted_path_needs_no_route_and_an_unfaulted_one_reaches_the_router() {
    let s = lab();
    let normal = unfaulted(&s).await;
    add_rule(
        &s,
        json!({"match": {"endpoint": "any"}, "respond": {"aadsts": 90002}}),
    )
    .await;
    let (status, _, body) = faulted(
        &s,
        Request::get(NOWHERE)
            .header("client-request-id", CORRELATION)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["error"], "invalid_request");
    assert!(v["error_description"]
        .as_str()
        .unwrap()
        .starts_with("AADSTS90002: Tenant 'contoso.com' not found."));
    let (status, _, body) = send(&s, Request::get(NOWHERE).body(Body::empty()).unwrap()).await;
    assert_eq!(status, normal);
    assert!(!String::from_utf8_lossy(&body).contains("AADSTS90002"));
}

#[tokio::test]
async fn status_fault_is_a_bare_5xx() {
    let s = lab();
    add_rule(
        &s,
        json!({"match": {"endpoint": "token"}, "times": 2, "respond": {"status": 503}}),
    )
    .await;
    for _ in 0..2 {
        let (status, headers, body) = faulted(
            &s,
            form(
                TOKEN_V1,
                "grant_type=client_credentials&client_id=x&resource=y",
            ),
        )
        .await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(headers["content-type"], "application/json; charset=utf-8");
        GOLDEN.check("fault_503.json", &body);
    }
    let (_, list) = admin(&s, "GET", "/_admin/faults", None).await;
    assert_eq!(
        (list[0]["remaining"].clone(), list[0]["hits"].clone()),
        (json!(0), json!(2))
    );
    let (_, _, body) = faulted(
        &s,
        form(
            TOKEN_V1,
            "grant_type=client_credentials&client_id=x&resource=y",
        ),
    )
    .await;
    assert!(!body.contains("temporarily_unavailable"));
}

#[tokio::test]
async fn delay_fault_passes_through_and_can_precede_an_error() {
    let s = lab();
    let normal = unfaulted(&s).await;
    add_rule(
        &s,
        json!({"match": {"endpoint": "any"}, "respond": {"delay_ms": 20}}),
    )
    .await;
    let (status, _, _) = send(&s, Request::get(NOWHERE).body(Body::empty()).unwrap()).await;
    assert_eq!(status, normal, "delayed, then served by the router");
    add_rule(
        &s,
        json!({"match": {"endpoint": "any"}, "respond": {"delay_ms": 20, "status": 502}}),
    )
    .await;
    let (status, _, _) = send(&s, Request::get(NOWHERE).body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY);
    let (_, list) = admin(&s, "GET", "/_admin/faults", None).await;
    assert_eq!(list[0]["hits"], 1);
    assert_eq!(list[1]["hits"], 1);
}

#[tokio::test]
async fn until_removed_and_delete_by_id_or_all() {
    let s = lab();
    let normal = unfaulted(&s).await;
    let rule = add_rule(
        &s,
        json!({"match": {"endpoint": "any"}, "times": null, "respond": {"status": 500}}),
    )
    .await;
    assert_eq!(rule["times"], Value::Null);
    assert_eq!(rule["remaining"], Value::Null);
    for _ in 0..3 {
        let (status, _, _) = send(&s, Request::get(NOWHERE).body(Body::empty()).unwrap()).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    }
    let (_, list) = admin(&s, "GET", "/_admin/faults", None).await;
    assert_eq!(list[0]["hits"], 3);
    let (status, _) = admin(&s, "DELETE", "/_admin/faults/1", None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = admin(&s, "DELETE", "/_admin/faults/1", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        body,
        json!({"error": "not_found", "message": "no fault rule 1"})
    );
    let (status, _, _) = send(&s, Request::get(NOWHERE).body(Body::empty()).unwrap()).await;
    assert_eq!(status, normal);

    add_rule(&s, json!({"respond": {"status": 500}})).await;
    add_rule(&s, json!({"respond": {"status": 500}})).await;
    let (status, body) = admin(&s, "DELETE", "/_admin/faults", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({"deleted": 2}));
    let (_, list) = admin(&s, "GET", "/_admin/faults", None).await;
    assert_eq!(list, json!([]));
}

#[tokio::test]
async fn admin_paths_are_never_faulted() {
    let s = lab();
    add_rule(
        &s,
        json!({"match": {"endpoint": "any"}, "times": null, "respond": {"status": 503}}),
    )
    .await;
    for _ in 0..2 {
        let (status, list) = admin(&s, "GET", "/_admin/faults", None).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(list[0]["hits"], 0);
    }
    let (status, _) = admin(&s, "GET", "/_admin/clock", None).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn rules_match_by_client_user_resource_and_grant_type() {
    let s = lab();
    add_rule(&s, json!({"match": {"endpoint": "token", "client_id": OFFICE}, "times": null, "respond": {"aadsts": 53003}})).await;
    let other = "cbe9bcaa-6b5c-42fe-ad70-35a73de6869a";
    let (_, _, body) = faulted(&s, form(TOKEN_V2, &ropc("GregT@contoso.com", other))).await;
    assert!(!body.contains("AADSTS53003"));
    let (_, _, body) = faulted(
        &s,
        form(TOKEN_V2, &ropc("GregT@contoso.com", &OFFICE.to_uppercase())),
    )
    .await;
    assert!(
        body.contains("AADSTS53003"),
        "client ids compare without case"
    );
    admin(&s, "DELETE", "/_admin/faults", None).await;

    add_rule(&s, json!({"match": {"user": "alexw@contoso.com"}, "times": null, "respond": {"aadsts": 50057}})).await;
    let (_, _, body) = faulted(&s, form(TOKEN_V2, &ropc("GregT@contoso.com", OFFICE))).await;
    assert!(!body.contains("AADSTS50057"));
    let (_, _, body) = faulted(&s, form(TOKEN_V2, &ropc("AlexW@contoso.com", OFFICE))).await;
    assert!(body.contains("AADSTS50057: The user account is disabled."));
    // login_hint of an authorize request is the user too. (An unregistered redirect URI is
    // never redirected to: the error is the body.)
    let (status, headers, body) = faulted(&s, Request::get(format!("/contoso.com/oauth2/authorize?client_id={OFFICE}&login_hint=AlexW%40contoso.com&resource=https%3A%2F%2Fmail.contoso.com%2F&redirect_uri=https%3A%2F%2Fevil.example%2F")).body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(headers.get("location").is_none());
    assert!(body.contains("AADSTS50057"));
    admin(&s, "DELETE", "/_admin/faults", None).await;

    // resource: contained in the v1 resource or the v2 scope.
    add_rule(&s, json!({"match": {"resource": "mail.contoso.com"}, "times": null, "respond": {"aadsts": 50001}})).await;
    let (_, _, body) = faulted(&s, form(TOKEN_V1, &format!("grant_type=password&client_id={OFFICE}&username=GregT@contoso.com&password=x&resource=https%3A%2F%2FMAIL.contoso.com%2F"))).await;
    let v: Value = serde_json::from_str(&body).unwrap();
    assert!(v["error_description"].as_str().unwrap().starts_with("AADSTS50001: The application named https://MAIL.contoso.com/ was not found in the tenant named contoso.com.  This can happen"), "{body}");
    let (_, _, body) = faulted(&s, form(TOKEN_V2, &ropc("GregT@contoso.com", OFFICE))).await;
    assert!(body.contains("AADSTS50001"), "scope matches");
    let (_, _, body) = faulted(&s, form(TOKEN_V2, &format!("grant_type=password&client_id={OFFICE}&username=GregT@contoso.com&password=x&scope=User.Read"))).await;
    assert!(!body.contains("AADSTS50001"));
    admin(&s, "DELETE", "/_admin/faults", None).await;

    // grant_type: the short name matches the URN.
    add_rule(&s, json!({"match": {"grant_type": "device_code"}, "times": null, "respond": {"aadsts": 70016}})).await;
    let (_, _, body) = faulted(&s, form(TOKEN_V2, &format!("grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_code&client_id={OFFICE}&device_code=abc"))).await;
    assert!(
        body.contains("\"error\":\"authorization_pending\""),
        "{body}"
    );
    let (_, _, body) = faulted(&s, form(TOKEN_V2, &ropc("GregT@contoso.com", OFFICE))).await;
    assert!(!body.contains("authorization_pending"));
}

#[tokio::test]
async fn client_id_from_basic_credentials_matches() {
    let s = lab();
    add_rule(&s, json!({"match": {"client_id": "cbe9bcaa-6b5c-42fe-ad70-35a73de6869a"}, "respond": {"aadsts": 7000215}})).await;
    use base64::Engine;
    let basic = base64::engine::general_purpose::STANDARD
        .encode("cbe9bcaa-6b5c-42fe-ad70-35a73de6869a:wrong");
    let req = Request::post(TOKEN_V2)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("authorization", format!("Basic {basic}"))
        .body(Body::from(
            "grant_type=client_credentials&scope=https%3A%2F%2Fgraph.microsoft.com%2F.default",
        ))
        .unwrap();
    let (status, _, body) = faulted(&s, req).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(body.contains("AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app 'cbe9bcaa-6b5c-42fe-ad70-35a73de6869a'."), "{body}");
}

#[tokio::test]
async fn an_injected_50173_names_the_grant_instant_to_the_tick_and_valid_from_in_seconds() {
    let s = lab();
    store_refresh(&s, "rt-greg", "GregT@contoso.com", 1_509_211_213);
    if let Some(g) = s.grants().refresh.get_mut("rt-greg") {
        g.auth.auth_ticks = 2_960_000;
    }
    s.clock.advance_secs(-511); // 2017-11-16T20:27:45Z
    s.clock.advance(std::time::Duration::from_millis(700));
    add_rule(&s, json!({"match": {"endpoint": "token", "grant_type": "refresh_token"}, "respond": {"aadsts": 50173}})).await;
    let (status, _, body) = faulted(&s, form(TOKEN_V1, &format!("grant_type=refresh_token&client_id={OFFICE}&refresh_token=rt-greg&resource=https%3A%2F%2Fmail.contoso.com%2F"))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        v["error_description"].as_str().unwrap().split("\r\n").next().unwrap(),
        "AADSTS50173: The provided grant has expired due to it being revoked. The user might have changed or reset their password. The grant was issued on '2017-10-28T17:20:13.2960000Z' and the TokensValidFrom date for this user is '2017-11-16T20:27:45.0000000Z'"
    );
}

#[tokio::test]
async fn a_refresh_token_is_matched_by_its_user_and_named_in_50173() {
    let s = lab();
    // Issued 2017-10-28T17:20:13Z, as in the field guide.
    store_refresh(&s, "rt-greg", "GregT@contoso.com", 1_509_211_213);
    s.clock.advance_secs(-511); // now = 2017-11-16T20:27:45Z
    add_rule(&s, json!({"match": {"endpoint": "token", "user": "GregT@contoso.com", "grant_type": "refresh_token"}, "respond": {"aadsts": 50173}})).await;
    let (status, _, body) = faulted(&s, form(TOKEN_V1, &format!("grant_type=refresh_token&client_id={OFFICE}&refresh_token=rt-other&resource=https%3A%2F%2Fmail.contoso.com%2F"))).await;
    assert!(
        !body.contains("AADSTS50173"),
        "an unknown refresh token has no user: {status}"
    );
    let (status, _, body) = faulted(&s, form(TOKEN_V1, &format!("grant_type=refresh_token&client_id={OFFICE}&refresh_token=rt-greg&resource=https%3A%2F%2Fmail.contoso.com%2F"))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        v["error_description"].as_str().unwrap().split("\r\n").next().unwrap(),
        "AADSTS50173: The provided grant has expired due to it being revoked. The user might have changed or reset their password. The grant was issued on '2017-10-28T17:20:13.0000000Z' and the TokensValidFrom date for this user is '2017-11-16T20:27:45.0000000Z'"
    );
    assert_eq!(v["correlation_id"], CORRELATION);
}

#[tokio::test]
async fn then_pass_fails_each_user_once() {
    let s = lab();
    add_rule(&s, json!({"match": {"endpoint": "token"}, "times": null, "respond": {"aadsts": 50076, "then_pass": true}})).await;
    let (status, _, body) = faulted(&s, form(TOKEN_V2, &ropc("GregT@contoso.com", OFFICE))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["error"], "invalid_grant");
    assert_eq!(v["suberror"], "basic_action");
    assert!(v["error_description"].as_str().unwrap().starts_with(&format!("AADSTS50076: Due to a configuration change made by your administrator, or because you moved to a new location, you must use multi-factor authentication to access '{EXCHANGE}'.")), "{body}");
    let (_, _, body) = faulted(&s, form(TOKEN_V2, &ropc("GregT@contoso.com", OFFICE))).await;
    assert!(!body.contains("AADSTS50076"), "the retry passes");
    let (_, _, body) = faulted(&s, form(TOKEN_V1, &format!("grant_type=password&client_id={OFFICE}&username=AlexW@contoso.com&password=x&resource=https%3A%2F%2Fmail.contoso.com%2F"))).await;
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        v["error"], "interaction_required",
        "v1 answers 50076 as interaction_required"
    );
    let (_, list) = admin(&s, "GET", "/_admin/faults", None).await;
    assert_eq!(list[0]["hits"], 2);
}

#[tokio::test]
async fn rules_are_tried_in_order_and_counts_are_per_rule() {
    let s = lab();
    add_rule(
        &s,
        json!({"match": {"endpoint": "token"}, "respond": {"aadsts": 50053}}),
    )
    .await;
    add_rule(
        &s,
        json!({"match": {"endpoint": "any"}, "times": 2, "respond": {"aadsts": 50057}}),
    )
    .await;
    let mut codes = Vec::new();
    for _ in 0..4 {
        let (_, _, body) = faulted(&s, form(TOKEN_V2, &ropc("GregT@contoso.com", OFFICE))).await;
        codes.push(
            ["AADSTS50053", "AADSTS50057"]
                .into_iter()
                .find(|c| body.contains(c))
                .unwrap_or("pass"),
        );
    }
    assert_eq!(codes, ["AADSTS50053", "AADSTS50057", "AADSTS50057", "pass"]);
}

#[tokio::test]
async fn the_body_reaches_the_handler_intact() {
    let s = lab();
    let seen = Arc::new(Mutex::new(String::new()));
    let seen2 = seen.clone();
    let app = Router::new()
        .route(
            TOKEN_V2,
            post(move |body: String| async move {
                *seen2.lock().unwrap() = body;
                "ok"
            }),
        )
        .layer(axum::middleware::from_fn_with_state(
            s.clone(),
            faults::inject,
        ))
        .with_state(s.clone());
    add_rule(
        &s,
        json!({"match": {"user": "nobody@contoso.com"}, "respond": {"status": 500}}),
    )
    .await;
    let body = ropc("GregT@contoso.com", OFFICE);
    let resp = app.oneshot(form(TOKEN_V2, &body)).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.into_body().collect().await.unwrap().to_bytes(), "ok");
    assert_eq!(*seen.lock().unwrap(), body);
}

#[tokio::test]
async fn bad_rules_are_refused_at_creation() {
    let s = lab();
    let cases = [
        (json!({"respond": {"aadsts": 12345}}), "respond.aadsts: unknown code 12345; known codes: "),
        (json!({"respond": {"status": 404}}), "respond.status: 404 is not a 5xx status (use `aadsts` for 4xx errors)"),
        (json!({"respond": {}}), "respond: give `aadsts`, `status` or `delay_ms`"),
        (json!({"respond": {"aadsts": 50126, "status": 503}}), "respond: give either `aadsts` or `status`, not both"),
        (json!({"respond": {"delay_ms": 10, "then_pass": true}}), "respond.then_pass: only meaningful with `aadsts` or `status`"),
        (json!({"respond": {"delay_ms": 700000}}), "respond.delay_ms: 700000 is longer than the limit of 600000"),
        (json!({"times": 0, "respond": {"status": 500}}), "times: must be at least 1 (or null for until removed)"),
        (json!({"match": {"endpoint": "tokens"}, "respond": {"status": 500}}), "invalid JSON body: unknown variant `tokens`, expected one of `token`, `authorize`, `devicecode`, `discovery`, `keys`, `federation_metadata`, `userrealm`, `instance`, `any`"),
        (json!({"match": {"usr": "x"}, "respond": {"status": 500}}), "invalid JSON body: unknown field `usr`, expected one of `endpoint`, `grant_type`, `user`, `client_id`, `resource`"),
        (json!({"match": {}}), "invalid JSON body: missing field `respond`"),
    ];
    for (rule, msg) in cases {
        let (status, body) = admin(&s, "POST", "/_admin/faults", Some(rule.clone())).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{rule}");
        assert_eq!(body["error"], "bad_request");
        assert!(
            body["message"].as_str().unwrap().starts_with(msg),
            "{rule}: {body}"
        );
    }
    let (_, list) = admin(&s, "GET", "/_admin/faults", None).await;
    assert_eq!(list, json!([]));
}

#[test]
fn every_known_code_maps_to_its_catalogue_error() {
    let ctx = FaultContext {
        tenant: "contoso.com".into(),
        client_id: Some(OFFICE.into()),
        now: Some(time::OffsetDateTime::from_unix_timestamp(T0).unwrap()),
        ..FaultContext::default()
    };
    for &code in faults::KNOWN_CODES {
        let e = faults::error_for_code(code, &ctx).unwrap_or_else(|| panic!("{code}"));
        assert_eq!(e.code, code);
        assert!(
            !e.message.is_empty() || e.raw_description.is_some(),
            "{code}"
        );
    }
    assert!(faults::error_for_code(12345, &ctx).is_none());
    assert_eq!(
        faults::error_for_code(90033, &ctx).unwrap().status,
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert_eq!(
        faults::error_for_code(65001, &FaultContext { client_name: Some("Contoso Web".into()), client_id: Some("cbe9bcaa-6b5c-42fe-ad70-35a73de6869a".into()), ..FaultContext::default() }).unwrap().headline(),
        "AADSTS65001: The user or administrator has not consented to use the application with ID 'cbe9bcaa-6b5c-42fe-ad70-35a73de6869a' named 'Contoso Web'. Send an interactive authorization request for this user and resource."
    );
}

#[test]
fn paths_are_classified_without_case() {
    let cases = [
        ("/contoso.com/oauth2/token", Some(Endpoint::Token)),
        ("/common/oauth2/v2.0/token", Some(Endpoint::Token)),
        (
            "/f31f3647-5d87-4b69-a0b6-73f62aeab14c/OAuth2/Authorize",
            Some(Endpoint::Authorize),
        ),
        (
            "/organizations/oauth2/v2.0/authorize",
            Some(Endpoint::Authorize),
        ),
        ("/contoso.com/oauth2/devicecode", Some(Endpoint::Devicecode)),
        (
            "/contoso.com/oauth2/v2.0/devicecode",
            Some(Endpoint::Devicecode),
        ),
        (
            "/common/.well-known/openid-configuration",
            Some(Endpoint::Discovery),
        ),
        (
            "/common/v2.0/.well-known/openid-configuration",
            Some(Endpoint::Discovery),
        ),
        ("/common/discovery/keys", Some(Endpoint::Keys)),
        ("/contoso.com/discovery/v2.0/keys", Some(Endpoint::Keys)),
        ("/common/discovery/instance", Some(Endpoint::Instance)),
        (
            "/common/userrealm/GregT@contoso.com",
            Some(Endpoint::Userrealm),
        ),
        ("/getuserrealm.srf", Some(Endpoint::Userrealm)),
        (
            "/contoso.com/federationmetadata/2007-06/federationmetadata.xml",
            Some(Endpoint::FederationMetadata),
        ),
        ("/contoso.com/oauth2/v2.0/logout", Some(Endpoint::Any)),
        ("/", Some(Endpoint::Any)),
        ("/_admin", None),
        ("/_admin/faults", None),
        ("/_ADMIN/keys/roll", None),
    ];
    for (path, want) in cases {
        assert_eq!(Endpoint::classify(path), want, "{path}");
    }
}

#[tokio::test]
async fn keys_and_discovery_endpoints_can_fail() {
    let s = lab();
    add_rule(
        &s,
        json!({"match": {"endpoint": "keys"}, "respond": {"status": 503}}),
    )
    .await;
    add_rule(
        &s,
        json!({"match": {"endpoint": "discovery"}, "respond": {"status": 500}}),
    )
    .await;
    let (status, _, _) = send(
        &s,
        Request::get("/common/.well-known/openid-configuration")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    let (status, _, _) = send(
        &s,
        Request::get("/common/discovery/keys")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    let (_, list) = admin(&s, "GET", "/_admin/faults", None).await;
    assert_eq!(
        (list[0]["hits"].clone(), list[1]["hits"].clone()),
        (json!(1), json!(1))
    );
}

/// The field guide's "Missing SPNs" capture, produced by a fault on the authorize endpoint.
const SEED_LOCATION: &str = "urn:ietf:wg:oauth:2.0:oob?error=invalid_resource&error_description=AADSTS50001%3a+The+application+named+https%3a%2f%2fmail.contoso.com%2f+was+not+found+in+the+tenant+named+contoso.com.++This+can+happen+if+the+application+has+not+been+installed+by+the+administrator+of+the+tenant+or+consented+to+by+any+user+in+the+tenant.++You+might+have+sent+your+authentication+request+to+the+wrong+tenant";

#[tokio::test]
async fn authorize_faults_go_back_to_a_registered_redirect_uri() {
    let s = lab();
    add_rule(
        &s,
        json!({"match": {"endpoint": "authorize"}, "times": null, "respond": {"aadsts": 50001}}),
    )
    .await;
    let q = format!("client_id={OFFICE}&response_type=code&resource=https%3A%2F%2Fmail.contoso.com%2F&redirect_uri=urn%3Aietf%3Awg%3Aoauth%3A2.0%3Aoob&state=s1");
    let req = Request::get(format!("/contoso.com/oauth2/authorize?{q}"))
        .header("client-request-id", CORRELATION)
        .body(Body::empty())
        .unwrap();
    let (status, headers, body) = send(&s, req).await;
    assert_eq!(status, StatusCode::FOUND);
    assert!(body.is_empty());
    let trace = headers["x-ms-request-id"].to_str().unwrap().to_string();
    let location = headers["location"].to_str().unwrap();
    assert_eq!(
        location,
        format!("{SEED_LOCATION}.%0d%0aTrace+ID%3a+{trace}%0d%0aCorrelation+ID%3a+{CORRELATION}%0d%0aTimestamp%3a+2017-11-16+20%3a36%3a16Z&error_uri=https%3a%2f%2flogin.microsoftonline.com%2ferror%3fcode%3d50001&state=s1")
    );

    // Implicit responses get the error in the fragment.
    let req = Request::get(format!("/common/oauth2/v2.0/authorize?client_id={OFFICE}&response_type=id_token&scope=openid&redirect_uri=http%3A%2F%2Flocalhost&nonce=n")).body(Body::empty()).unwrap();
    let (status, headers, _) = send(&s, req).await;
    assert_eq!(status, StatusCode::FOUND);
    assert!(
        headers["location"].to_str().unwrap().starts_with(
            "http://localhost#error=invalid_resource&error_description=AADSTS50001%3a+"
        ),
        "{:?}",
        headers["location"]
    );

    // form_post: an auto-submitting form to the redirect URI.
    let req = Request::get(format!("/contoso.com/oauth2/v2.0/authorize?client_id={OFFICE}&response_type=code&response_mode=form_post&scope=openid&redirect_uri=http%3A%2F%2Flocalhost&state=a%26b")).body(Body::empty()).unwrap();
    let (status, headers, body) = send(&s, req).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["content-type"], "text/html; charset=utf-8");
    let html = String::from_utf8(body.to_vec()).unwrap();
    assert!(html.contains(r#"<form method="POST" name="hiddenform" action="http://localhost"><input type="hidden" name="error" value="invalid_resource" />"#), "{html}");
    assert!(
        html.contains(r#"<input type="hidden" name="state" value="a&amp;b" />"#),
        "{html}"
    );

    // An unknown client is never redirected.
    let req = Request::get("/contoso.com/oauth2/authorize?client_id=11111111-2222-3333-4444-555555555555&response_type=code&redirect_uri=http%3A%2F%2Flocalhost").body(Body::empty()).unwrap();
    let (status, headers, _) = send(&s, req).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(headers.get("location").is_none());
}

#[test]
fn dotnet_url_encoding() {
    assert_eq!(
        lab_kit::wire::dotnet_url_encode("AADSTS50001: a/b c\r\n!*()-_.~'"),
        "AADSTS50001%3a+a%2fb+c%0d%0a!*()-_.%7e%27"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_requests_never_share_a_count() {
    let s = lab();
    add_rule(
        &s,
        json!({"match": {"endpoint": "token"}, "times": 5, "respond": {"status": 503}}),
    )
    .await;
    let app = mock_aad::app(s.clone());
    let mut tasks = Vec::new();
    for _ in 0..24 {
        let app = app.clone();
        tasks.push(tokio::spawn(async move {
            let resp = app
                .oneshot(form(TOKEN_V2, &ropc("GregT@contoso.com", OFFICE)))
                .await
                .unwrap();
            resp.status()
        }));
    }
    let mut faulted = 0;
    for t in tasks {
        if t.await.unwrap() == StatusCode::SERVICE_UNAVAILABLE {
            faulted += 1;
        }
    }
    assert_eq!(faulted, 5);
    let (_, list) = admin(&s, "GET", "/_admin/faults", None).await;
    assert_eq!(
        (list[0]["remaining"].clone(), list[0]["hits"].clone()),
        (json!(0), json!(5))
    );
}
