//! The admin API over `oneshot`: access control, and each call with its cmdlet's semantics,
//! checked both in the answer and in the service state the next request sees.

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Request, StatusCode};
use mock_aad::{AppState, Config};
use serde_json::{json, Value};

pub const TOKEN: &str = "test-admin-token";
/// 2017-11-16T20:36:16Z, the field guide's capture time.
pub const T0: i64 = 1_510_864_576;
pub const EXCHANGE: &str = "00000002-0000-0ff1-ce00-000000000000";
pub const OFFICE: &str = "d3590ed6-52b3-4102-aeff-aad2292ab01c";
pub const TID: &str = "f31f3647-5d87-4b69-a0b6-73f62aeab14c";

/// The contoso lab on a frozen clock with a known admin token.
pub fn lab() -> AppState {
    mock_aad::state(Config {
        admin_token: Some(TOKEN.into()),
        ..super::common::config_at(T0)
    })
}

/// How many users and applications the shipped contoso lab has (tests index past them).
pub fn counts(state: &AppState) -> (usize, usize) {
    let dir = state.dir();
    (
        dir.tenants[0].users.len(),
        dir.tenants[0].applications.len(),
    )
}

/// Sends a request through the whole router.
pub async fn send(state: &AppState, req: Request<Body>) -> (StatusCode, HeaderMap, Bytes) {
    let r = super::common::send(state, req).await;
    (r.status, r.headers, r.body)
}

/// An authenticated admin call with an optional JSON body; the answer parsed as JSON (or Null).
pub async fn admin(
    state: &AppState,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut b = Request::builder()
        .method(method)
        .uri(path)
        .header("authorization", format!("Bearer {TOKEN}"));
    let body = match body {
        Some(v) => {
            b = b.header("content-type", "application/json");
            Body::from(v.to_string())
        }
        None => Body::empty(),
    };
    let (status, _, bytes) = send(state, b.body(body).unwrap()).await;
    (status, json_of(&bytes))
}

/// An authenticated admin call with a raw body.
async fn admin_raw(
    state: &AppState,
    method: &str,
    path: &str,
    ct: &str,
    body: &str,
) -> (StatusCode, Value) {
    let req = Request::builder()
        .method(method)
        .uri(path)
        .header("authorization", format!("Bearer {TOKEN}"))
        .header("content-type", ct)
        .body(Body::from(body.to_string()))
        .unwrap();
    let (status, _, bytes) = send(state, req).await;
    (status, json_of(&bytes))
}

pub fn json_of(bytes: &[u8]) -> Value {
    if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(bytes).into()))
    }
}

fn err(error: &str, message: &str) -> Value {
    json!({"error": error, "message": message})
}

// ------------------------------------------------------------------ access

#[tokio::test]
async fn missing_or_wrong_token_is_401_with_json() {
    let s = lab();
    let expected = err(
        "unauthorized",
        "missing or wrong admin token: send Authorization: Bearer <admin_token>",
    );
    for auth in [
        None,
        Some("Bearer wrong"),
        Some("Basic dGVzdC1hZG1pbi10b2tlbg=="),
        Some(TOKEN),
    ] {
        let mut b = Request::get("/_admin/directory");
        if let Some(a) = auth {
            b = b.header("authorization", a);
        }
        let (status, headers, body) = send(&s, b.body(Body::empty()).unwrap()).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{auth:?}");
        assert_eq!(headers["content-type"], "application/json");
        assert_eq!(
            headers["www-authenticate"],
            "Bearer realm=\"mock-aad admin\""
        );
        assert_eq!(json_of(&body), expected);
    }
    // Unknown admin paths are not revealed without the token either.
    let (status, _, _) = send(
        &s,
        Request::get("/_admin/nope").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, body) = admin(&s, "GET", "/_admin/nope", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        body,
        err(
            "not_found",
            "no such admin call; see docs/src/reference/aad-admin-api.md for the list"
        )
    );
    let (status, body) = admin(&s, "DELETE", "/_admin/clock", None).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(body["error"], "method_not_allowed");
}

#[tokio::test]
async fn bad_json_is_400_naming_line_and_column() {
    let s = lab();
    let (status, body) = admin_raw(
        &s,
        "PATCH",
        "/_admin/tenants/contoso.com/users/GregT@contoso.com",
        "application/json",
        "{\"enabled\": false,\n \"locked\": tru}",
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        err(
            "bad_request",
            "invalid JSON body: expected ident at line 2 column 15"
        )
    );
    let (status, body) = admin_raw(&s, "POST", "/_admin/faults", "application/json", "").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        err(
            "bad_request",
            "invalid JSON body: EOF while parsing a value at line 1 column 0"
        )
    );
}

// ------------------------------------------------------------------ directory and tenants

#[tokio::test]
async fn directory_get_and_put() {
    let s = lab();
    let (users, _) = counts(&s);
    let (status, dir) = admin(&s, "GET", "/_admin/directory", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(dir["version"], 1);
    assert_eq!(dir["tenants"][0]["tid"], TID);
    assert_eq!(dir["tenants"][0]["users"][0]["upn"], "GregT@contoso.com");

    // Round trip: what GET gives, PUT takes; an edit in between is served at once.
    let mut edited = dir.clone();
    edited["tenants"][0]["users"][0]["display_name"] = json!("Greg T.");
    let (status, _) = admin(&s, "PUT", "/_admin/directory", Some(edited)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(s.dir().tenants[0].users[0].display_name, "Greg T.");

    // Checked like a lab file, placed in the body.
    let mut dup = dir.clone();
    let greg = dup["tenants"][0]["users"][0].clone();
    dup["tenants"][0]["users"]
        .as_array_mut()
        .unwrap()
        .push(greg);
    let (status, body) = admin(&s, "PUT", "/_admin/directory", Some(dup.clone())).await;
    assert_eq!(status, StatusCode::CONFLICT);
    let text = dup.to_string();
    let col = text
        .match_indices("\"upn\":\"GregT@contoso.com\"")
        .nth(1)
        .unwrap()
        .0
        + 1;
    assert_eq!(
        body,
        err(
            "conflict",
            &format!("request body:1:{col}: tenants[0].users[{users}].upn: duplicate user GregT@contoso.com (users[0] has it too); UPNs are unique within a tenant, compared without case")
        )
    );
    assert_eq!(
        s.dir().tenants[0].users.len(),
        users,
        "a rejected PUT changes nothing"
    );

    // YAML with a yaml content type; errors are the lab-file errors.
    let yaml = std::fs::read_to_string(format!(
        "{}/tests/fixtures/valid.yaml",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let (status, body) = admin_raw(&s, "PUT", "/_admin/directory", "application/yaml", &yaml).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(s.dir().tenants[0].display_name, "Fabrikam");
    let (status, body) = admin_raw(
        &s,
        "PUT",
        "/_admin/directory",
        "application/yaml",
        "version: 1\ntenants:\n  - tid: x\n",
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .starts_with("request body:3:"),
        "{body}"
    );
    let dup = std::fs::read_to_string(format!(
        "{}/tests/fixtures/dup-upn.yaml",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let (status, body) = admin_raw(&s, "PUT", "/_admin/directory", "text/yaml", &dup).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body, err("conflict", "request body:15:9: tenants[0].users[1].upn: duplicate user Ann@Fabrikam.com (users[0] has it too); UPNs are unique within a tenant, compared without case"));
    assert_eq!(s.dir().tenants[0].users.len(), 1, "still the Fabrikam lab");
}

#[tokio::test]
async fn tenants_by_tid_or_domain_unknown_is_404() {
    let s = lab();
    for t in [TID, "contoso.com", "CONTOSO.COM", "contoso.onmicrosoft.com"] {
        let (status, body) = admin(&s, "GET", &format!("/_admin/tenants/{t}"), None).await;
        assert_eq!(status, StatusCode::OK, "{t}");
        assert_eq!(body["tid"], TID);
        assert_eq!(body["users"], counts(&s).0);
    }
    let (status, body) = admin(&s, "GET", "/_admin/tenants/fabrikam.com/users", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        body,
        err(
            "not_found",
            "no tenant 'fabrikam.com' (give its tid or a verified domain)"
        )
    );
    let (status, body) = admin(&s, "GET", "/_admin/tenants", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body[0]["domains"].as_array().unwrap()[..3],
        [
            json!("contoso.onmicrosoft.com"),
            json!("contoso.mail.onmicrosoft.com"),
            json!("contoso.com")
        ]
    );
    let (status, body) = admin(&s, "GET", "/_admin/tenants/contoso.com/domains", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body[2]["name"], "contoso.com");
    assert_eq!(body[2]["kind"], "managed");
}

// ------------------------------------------------------------------ users

#[tokio::test]
async fn users_list_get_and_patch() {
    let s = lab();
    let (status, users) = admin(&s, "GET", "/_admin/tenants/contoso.com/users", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(users.as_array().unwrap().len(), counts(&s).0);
    assert!(
        users.as_array().unwrap().len() >= 6,
        "the field guide's users"
    );
    let (status, greg) = admin(
        &s,
        "GET",
        "/_admin/tenants/contoso.com/users/gregt@CONTOSO.com",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(greg["oid"], "7f199a96-50b1-4675-9db0-57b362c5d564");
    assert_eq!(
        greg["onprem_sid"],
        "S-1-5-21-2366433183-230171048-1893555995-1654"
    );
    assert_eq!(greg["enabled"], true);

    // Set-MsolUser -BlockCredential $true, plus MFA and names, in one call.
    let (status, body) = admin(
        &s,
        "PATCH",
        "/_admin/tenants/contoso.com/users/GregT@contoso.com",
        Some(
            json!({"enabled": false, "mfa": "enroll", "given_name": "Gregory", "onprem_sid": null}),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["enabled"], false);
    assert_eq!(body["mfa"], "enroll");
    assert!(body.get("onprem_sid").is_none());
    {
        let dir = s.dir();
        let u = dir.tenants[0].user("GregT@contoso.com").unwrap();
        assert!(!u.enabled);
        assert_eq!(u.mfa, mock_aad::model::MfaState::Enroll);
        assert_eq!(u.given_name, "Gregory");
        assert_eq!(u.onprem_sid, None);
        assert_eq!(u.family_name, "Taylor", "fields not in the patch stay");
    }
    let (_, body) = admin(
        &s,
        "PATCH",
        "/_admin/tenants/contoso.com/users/LeeG@contoso.com",
        Some(json!({"locked": false})),
    )
    .await;
    assert_eq!(body["locked"], false);

    let cases = [
        (json!({"mfa": "sometimes"}), StatusCode::BAD_REQUEST, "unknown variant `sometimes`, expected one of `none`, `required`, `enroll`"),
        (json!({"passwrd": "x"}), StatusCode::BAD_REQUEST, "unknown field `passwrd`"),
        (json!({"oid": "00000000-0000-0000-0000-000000000001"}), StatusCode::BAD_REQUEST, "oid cannot be changed"),
        (json!({"password": "x"}), StatusCode::BAD_REQUEST, "the password is changed with POST /_admin/tenants/{t}/users/{upn}/password (Set-MsolUserPassword), which also sets tokens_valid_from"),
        (json!({"puid": "12"}), StatusCode::BAD_REQUEST, "tenants[0].users[0].puid: 12 is not 16 hexadecimal digits; a PUID looks like 1003BFFD9ACA40EE"),
        (json!({"upn": "GregT@example.org"}), StatusCode::BAD_REQUEST, "tenants[0].users[0].upn: domain example.org of GregT@example.org is not a verified domain of tenant Contoso; add example.org to the tenant's domains, or use one of: contoso.onmicrosoft.com, contoso.mail.onmicrosoft.com, contoso.com"),
        (json!({"upn": "AlexW@contoso.com"}), StatusCode::CONFLICT, "a user AlexW@contoso.com already exists"),
        (json!([1]), StatusCode::BAD_REQUEST, "the body must be a JSON object of the fields to change"),
    ];
    for (patch, status, message) in cases {
        let (got, body) = admin(
            &s,
            "PATCH",
            "/_admin/tenants/contoso.com/users/GregT@contoso.com",
            Some(patch.clone()),
        )
        .await;
        assert_eq!(got, status, "{patch}: {body}");
        assert!(
            body["message"].as_str().unwrap().starts_with(message),
            "{patch}: {body}"
        );
    }
    let (status, body) = admin(
        &s,
        "PATCH",
        "/_admin/tenants/contoso.com/users/nobody@contoso.com",
        Some(json!({"locked": true})),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        body,
        err("not_found", "no user 'nobody@contoso.com' in this tenant")
    );
}

#[tokio::test]
async fn renaming_a_user_keeps_their_conditional_access() {
    let s = lab();
    let rule = json!({"name": "block-greg", "users": ["GregT@contoso.com"], "apps": ["*"], "action": "block"});
    assert_eq!(
        admin(
            &s,
            "POST",
            "/_admin/tenants/contoso.com/conditional-access",
            Some(rule)
        )
        .await
        .0,
        StatusCode::CREATED
    );
    let (status, body) = admin(
        &s,
        "PATCH",
        "/_admin/tenants/contoso.com/users/GregT@contoso.com",
        Some(json!({"upn": "Greg.Taylor@contoso.com"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let dir = s.dir();
    assert!(dir.tenants[0].user("GregT@contoso.com").is_none());
    assert_eq!(
        dir.tenants[0].conditional_access[0].users,
        ["Greg.Taylor@contoso.com"]
    );
}

#[tokio::test]
async fn add_and_delete_users() {
    let s = lab();
    let (status, body) = admin(
        &s,
        "POST",
        "/_admin/tenants/contoso.com/users",
        Some(json!({"upn": "DiegoS@contoso.com", "display_name": "Diego Siciliani"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let puid = body["puid"].as_str().unwrap();
    assert!(
        puid.starts_with("1003") && mock_aad::labfile::valid_puid(puid),
        "{puid}"
    );
    assert!(uuid::Uuid::parse_str(body["oid"].as_str().unwrap()).is_ok());
    assert_eq!(
        body["password"].as_str().unwrap().len(),
        16,
        "a generated password is returned"
    );
    assert!(s.dir().tenants[0].user("diegos@contoso.com").is_some());

    let (status, body) = admin(
        &s,
        "POST",
        "/_admin/tenants/contoso.com/users",
        Some(json!({"upn": "diegos@CONTOSO.com", "display_name": "Again"})),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(
        body,
        err("conflict", "a user diegos@CONTOSO.com already exists")
    );
    let (status, body) = admin(
        &s,
        "POST",
        "/_admin/tenants/contoso.com/users",
        Some(json!({"upn": "x@contoso.com"})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body, err("bad_request", "missing field `display_name`"));
    let (status, body) = admin(
        &s,
        "POST",
        "/_admin/tenants/contoso.com/users",
        Some(json!({"upn": "x@contoso.com", "display_name": "X", "puid": "nothex0000000000"})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body["message"],
        format!("tenants[0].users[{}].puid: nothex0000000000 is not 16 hexadecimal digits; a PUID looks like 1003BFFD9ACA40EE", counts(&s).0)
    );

    // Remove-MsolUser: gone, and out of the CA rules that named it.
    let rule = json!({"name": "mfa", "users": ["MeganB@contoso.com", "AlexW@contoso.com"], "apps": ["*"], "action": "require_mfa"});
    admin(
        &s,
        "POST",
        "/_admin/tenants/contoso.com/conditional-access",
        Some(rule),
    )
    .await;
    let (status, body) = admin(
        &s,
        "DELETE",
        "/_admin/tenants/contoso.com/users/alexw@contoso.com",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(body, Value::Null);
    assert_eq!(
        s.dir().tenants[0].conditional_access[0].users,
        ["MeganB@contoso.com"]
    );
    let (status, _) = admin(
        &s,
        "GET",
        "/_admin/tenants/contoso.com/users/AlexW@contoso.com",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = admin(
        &s,
        "DELETE",
        "/_admin/tenants/contoso.com/users/AlexW@contoso.com",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn set_msol_user_password_sets_tokens_valid_from_to_lab_now() {
    let s = lab();
    s.clock.advance_secs(-511); // 2017-11-16T20:27:45Z, the field guide's TokensValidFrom
    let (status, body) = admin(
        &s,
        "POST",
        "/_admin/tenants/contoso.com/users/GregT@contoso.com/password",
        Some(json!({"password": "NewPass2017!"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!({"upn": "GregT@contoso.com", "password": "NewPass2017!", "tokens_valid_from": "2017-11-16T20:27:45Z"})
    );
    {
        let dir = s.dir();
        let u = dir.tenants[0].user("GregT@contoso.com").unwrap();
        assert_eq!(u.password, "NewPass2017!");
        assert_eq!(u.tokens_valid_from.unwrap().unix_timestamp(), T0 - 511);
        assert_eq!(
            mock_aad::timefmt::aad_instant(u.tokens_valid_from.unwrap()),
            "2017-11-16T20:27:45.0000000Z"
        );
    }

    // Without -NewPassword a random one is set and returned.
    let (status, body) = admin(
        &s,
        "POST",
        "/_admin/tenants/contoso.com/users/AlexW@contoso.com/password",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let generated = body["password"].as_str().unwrap().to_string();
    assert_eq!(
        s.dir().tenants[0]
            .user("AlexW@contoso.com")
            .unwrap()
            .password,
        generated
    );
    let (status, body) = admin(
        &s,
        "POST",
        "/_admin/tenants/contoso.com/users/AlexW@contoso.com/password",
        Some(json!({"password": ""})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body, err("bad_request", "password: must not be empty"));
}

#[tokio::test]
async fn revoke_user_and_tenant() {
    let s = lab();
    let (status, body) = admin(
        &s,
        "POST",
        "/_admin/tenants/contoso.com/users/MeganB@contoso.com/revoke",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!({"upn": "MeganB@contoso.com", "tokens_valid_from": "2017-11-16T20:36:16Z"})
    );
    assert_eq!(
        s.dir().tenants[0]
            .user("MeganB@contoso.com")
            .unwrap()
            .tokens_valid_from
            .unwrap()
            .unix_timestamp(),
        T0
    );
    assert_eq!(
        s.dir().tenants[0]
            .user("MeganB@contoso.com")
            .unwrap()
            .password,
        "Contoso2017!",
        "revoke keeps the password"
    );

    s.clock.advance_secs(60);
    let (status, body) = admin(
        &s,
        "POST",
        &format!("/_admin/tenants/{TID}/revoke"),
        Some(json!({"response": "unicorn"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!({"tid": TID, "tokens_valid_from": "2017-11-16T20:37:16Z", "revocation_response": "unicorn"})
    );
    {
        let dir = s.dir();
        assert_eq!(
            dir.tenants[0].tokens_valid_from.unwrap().unix_timestamp(),
            T0 + 60
        );
        assert_eq!(
            dir.tenants[0].revocation_response,
            mock_aad::model::RevocationResponse::Unicorn
        );
    }
    let (_, body) = admin(&s, "POST", "/_admin/tenants/contoso.com/revoke", None).await;
    assert_eq!(body["revocation_response"], "standard");
    let (status, body) = admin(
        &s,
        "POST",
        "/_admin/tenants/contoso.com/revoke",
        Some(json!({"response": "rainbow"})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["message"].as_str().unwrap().starts_with(
            "invalid JSON body: unknown variant `rainbow`, expected `standard` or `unicorn`"
        ),
        "{body}"
    );
}

// ------------------------------------------------------------------ service principals

const SEED_SPNS: [&str; 12] = [
    "https://autodiscover.contoso.com/",
    "https://mail.contoso.com/",
    "00000002-0000-0ff1-ce00-000000000000/*.outlook.com",
    "00000002-0000-0ff1-ce00-000000000000/outlook.com",
    "00000002-0000-0ff1-ce00-000000000000/mail.office365.com",
    "00000002-0000-0ff1-ce00-000000000000/outlook.office365.com",
    "00000002-0000-0ff1-ce00-000000000000/contoso.com",
    "00000002-0000-0ff1-ce00-000000000000/autodiscover.contoso.com",
    "00000002-0000-0ff1-ce00-000000000000/contoso.mail.onmicrosoft.com",
    "00000002-0000-0ff1-ce00-000000000000/autodiscover.contoso.mail.onmicrosoft.com",
    "00000002-0000-0ff1-ce00-000000000000/mail.contoso.com",
    "00000002-0000-0ff1-ce00-000000000000",
];

#[tokio::test]
async fn get_msol_service_principal_uses_the_cmdlet_property_names() {
    let s = lab();
    let (status, sp) = admin(
        &s,
        "GET",
        &format!("/_admin/tenants/contoso.com/service-principals/{EXCHANGE}"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let object_id = mock_aad::admin::sp_object_id(
        uuid::uuid!("f31f3647-5d87-4b69-a0b6-73f62aeab14c"),
        mock_aad::model::EXCHANGE_APP_ID,
    );
    assert_eq!(
        sp,
        json!({
            "ExtensionData": {},
            "AccountEnabled": true,
            "Addresses": [],
            "AppPrincipalId": EXCHANGE,
            "DisplayName": "Office 365 Exchange Online",
            "ObjectId": object_id.to_string(),
            "ServicePrincipalName": SEED_SPNS[0],
            "ServicePrincipalNames": SEED_SPNS,
            "TrustedForDelegation": false,
        })
    );
    let (_, office) = admin(
        &s,
        "GET",
        &format!("/_admin/tenants/contoso.com/service-principals/{OFFICE}"),
        None,
    )
    .await;
    assert_eq!(
        office["Addresses"][0],
        json!({"Address": "urn:ietf:wg:oauth:2.0:oob"})
    );
    let (_, all) = admin(
        &s,
        "GET",
        "/_admin/tenants/contoso.com/service-principals",
        None,
    )
    .await;
    assert_eq!(all.as_array().unwrap().len(), counts(&s).1);
    assert_eq!(all[0]["AppPrincipalId"], EXCHANGE);

    let (status, body) = admin(
        &s,
        "GET",
        "/_admin/tenants/contoso.com/service-principals/00000009-0000-0000-0000-000000000000",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        body,
        err(
            "not_found",
            "no application 00000009-0000-0000-0000-000000000000 in this tenant"
        )
    );
    let (status, body) = admin(
        &s,
        "GET",
        "/_admin/tenants/contoso.com/service-principals/exchange",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        err("bad_request", "'exchange' is not an application id (GUID)")
    );
}

#[tokio::test]
async fn set_msol_service_principal_replaces_the_spns() {
    let s = lab();
    // The field guide: $x.ServicePrincipalnames.Add(...) twice, then Set-MsolServicePrincipal.
    let mut spns: Vec<&str> = SEED_SPNS.to_vec();
    spns.push("https://mail.corp.contoso.com/");
    spns.push("https://owa.contoso.com/");
    let path = format!(
        "/_admin/tenants/contoso.com/service-principals/{EXCHANGE}/service-principal-names"
    );
    let (status, sp) = admin(
        &s,
        "PUT",
        &path,
        Some(json!({"ServicePrincipalNames": spns})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    // Kept as the guide's second listing shows them: the added URLs after the other URLs, without
    // their trailing slash.
    let mut listed: Vec<&str> = SEED_SPNS[..2].to_vec();
    listed.push("https://mail.corp.contoso.com");
    listed.push("https://owa.contoso.com");
    listed.extend_from_slice(&SEED_SPNS[2..]);
    assert_eq!(sp["ServicePrincipalNames"], json!(listed));
    let (_, got) = admin(
        &s,
        "GET",
        &format!("/_admin/tenants/contoso.com/service-principals/{EXCHANGE}"),
        None,
    )
    .await;
    assert_eq!(got["ServicePrincipalNames"], json!(listed));
    // The next token request sees it: the resource lookup finds the new SPN.
    assert!(s.dir().tenants[0]
        .resource("https://mail.corp.contoso.com/")
        .is_some());

    // Duplicates collapse; an SPN of another principal is refused as Azure AD refuses it.
    let (status, sp) = admin(&s, "PUT", &path, Some(json!({"ServicePrincipalNames": ["https://a.contoso.com/", "HTTPS://A.contoso.com/", EXCHANGE]}))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        sp["ServicePrincipalNames"],
        json!(["https://a.contoso.com", EXCHANGE])
    );
    let (status, body) = admin(
        &s,
        "PUT",
        &path,
        Some(json!({"ServicePrincipalNames": ["https://graph.microsoft.com"]})),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body, err("conflict", "Another object with the same value for property servicePrincipalNames already exists: https://graph.microsoft.com belongs to Microsoft Graph (00000003-0000-0000-c000-000000000000)"));
    let (status, body) = admin(
        &s,
        "PUT",
        &path,
        Some(json!({"ServicePrincipalNames": [" "]})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        err(
            "bad_request",
            "ServicePrincipalNames: empty values are not allowed"
        )
    );
    let (status, _) = admin(&s, "PUT", &path, Some(json!({"spns": []}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn spn_add_and_remove_in_one_call() {
    let s = lab();
    let path = format!(
        "/_admin/tenants/contoso.com/service-principals/{EXCHANGE}/service-principal-names"
    );
    let (status, sp) = admin(
        &s,
        "POST",
        &path,
        Some(json!({"add": ["https://mail.corp.contoso.com/", "https://mail.contoso.com/"], "remove": ["HTTPS://AUTODISCOVER.contoso.com/", "https://not-there/"]})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let mut want: Vec<&str> = SEED_SPNS[1..2].to_vec();
    want.push("https://mail.corp.contoso.com");
    want.extend_from_slice(&SEED_SPNS[2..]);
    assert_eq!(sp["ServicePrincipalNames"], json!(want));
    let (_, got) = admin(
        &s,
        "GET",
        &format!("/_admin/tenants/contoso.com/service-principals/{EXCHANGE}"),
        None,
    )
    .await;
    assert_eq!(got["ServicePrincipalNames"], json!(want));
    assert!(
        s.dir().tenants[0]
            .resource("https://autodiscover.contoso.com/")
            .is_none(),
        "removed SPN no longer resolves"
    );
}

// ------------------------------------------------------------------ applications

#[tokio::test]
async fn applications_crud() {
    let s = lab();
    let (_, apps) = counts(&s);
    let (status, app) = admin(
        &s,
        "POST",
        "/_admin/tenants/contoso.com/applications",
        Some(json!({"display_name": "Contoso Mobile", "public_client": true, "redirect_uris": ["msauth://contoso"],
                    "granted": [{"resource": EXCHANGE, "scopes": ["EWS.AccessAsUser.All"]}]})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{app}");
    let id = app["app_id"].as_str().unwrap().to_string();
    assert_eq!(app["admin_consent"], true);
    let (status, got) = admin(
        &s,
        "GET",
        &format!("/_admin/tenants/contoso.com/applications/{id}"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(got, app);
    let (status, list) = admin(&s, "GET", "/_admin/tenants/contoso.com/applications", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list.as_array().unwrap().len(), apps + 1);
    assert_eq!(list[apps], app);
    assert_eq!(list[0]["app_id"], EXCHANGE);

    let (status, patched) = admin(
        &s,
        "PATCH",
        &format!("/_admin/tenants/contoso.com/applications/{id}"),
        Some(json!({"display_name": "Contoso Mobile 2", "admin_consent": false})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(patched["display_name"], "Contoso Mobile 2");
    assert_eq!(patched["redirect_uris"], json!(["msauth://contoso"]));
    let (status, body) = admin(
        &s,
        "PATCH",
        &format!("/_admin/tenants/contoso.com/applications/{id}"),
        Some(json!({"app_id": EXCHANGE})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body, err("bad_request", "app_id cannot be changed"));
    let (status, body) = admin(&s, "PATCH", &format!("/_admin/tenants/contoso.com/applications/{id}"), Some(json!({"granted": [{"resource": "00000009-0000-0000-0000-000000000000", "scopes": []}]}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["message"].as_str().unwrap().starts_with(&format!("tenants[0].applications[{apps}].granted[0].resource: no application 00000009-0000-0000-0000-000000000000 in this tenant")), "{body}");

    let (status, body) = admin(
        &s,
        "POST",
        "/_admin/tenants/contoso.com/applications",
        Some(json!({"app_id": EXCHANGE, "display_name": "dup"})),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(
        body,
        err(
            "conflict",
            format!("an application {EXCHANGE} already exists").as_str()
        )
    );

    // Deleting a resource takes the grants on it along.
    let (status, _) = admin(
        &s,
        "DELETE",
        &format!("/_admin/tenants/contoso.com/applications/{EXCHANGE}"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let dir = s.dir();
    assert!(dir.tenants[0]
        .app(mock_aad::model::EXCHANGE_APP_ID)
        .is_none());
    assert!(dir.tenants[0].applications.iter().all(|a| a
        .granted
        .iter()
        .all(|g| g.resource != mock_aad::model::EXCHANGE_APP_ID)));
}

// ------------------------------------------------------------------ CA and lifetimes

#[tokio::test]
async fn conditional_access_rules() {
    let s = lab();
    let base = "/_admin/tenants/contoso.com/conditional-access";
    let rule = json!({"name": "block-alex", "enabled": true, "users": ["AlexW@contoso.com"], "apps": [EXCHANGE], "action": "block"});
    let (status, body) = admin(&s, "POST", base, Some(rule.clone())).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(body, rule);
    let (status, body) = admin(&s, "POST", base, Some(rule.clone())).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(
        body,
        err(
            "conflict",
            "a conditional access rule named 'block-alex' already exists"
        )
    );
    let (status, body) = admin(
        &s,
        "POST",
        base,
        Some(json!({"name": "x", "users": ["AlexW@contoso.co"], "apps": ["*"], "action": "block"})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body, err("bad_request", "tenants[0].conditional_access[1].users[0]: no user AlexW@contoso.co in this tenant; did you mean `AlexW@contoso.com`?"));

    let (status, body) = admin(
        &s,
        "PATCH",
        &format!("{base}/Block-Alex"),
        Some(json!({"enabled": false})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["enabled"], false);
    assert!(!s.dir().tenants[0].conditional_access[0].enabled);
    let (_, list) = admin(&s, "GET", base, None).await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    let (status, _) = admin(&s, "GET", &format!("{base}/block-alex"), None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = admin(&s, "DELETE", &format!("{base}/block-alex"), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = admin(&s, "DELETE", &format!("{base}/block-alex"), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        body,
        err("not_found", "no conditional access rule named 'block-alex'")
    );
}

#[tokio::test]
async fn token_lifetimes() {
    let s = lab();
    let path = "/_admin/tenants/contoso.com/token-lifetimes";
    let (status, body) = admin(&s, "GET", path, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!({"access_token": 3599, "refresh_token_max_inactive": 7776000, "authorization_code": 600, "device_code": 900})
    );
    let (status, body) = admin(
        &s,
        "PATCH",
        path,
        Some(json!({"refresh_token_max_age": 86400, "access_token": 600})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["refresh_token_max_age"], 86400);
    assert_eq!(s.dir().tenants[0].token_lifetimes.access_token, 600);
    assert_eq!(
        s.dir().tenants[0].token_lifetimes.refresh_token_max_age,
        Some(86400)
    );
    let (_, body) = admin(
        &s,
        "PATCH",
        path,
        Some(json!({"refresh_token_max_age": null})),
    )
    .await;
    assert!(body.get("refresh_token_max_age").is_none());
    let (status, body) = admin(&s, "PATCH", path, Some(json!({"device_code": 0}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        err(
            "bad_request",
            "device_code: must be a positive number of seconds"
        )
    );
}

// ------------------------------------------------------------------ keys, clock, grants

#[tokio::test]
async fn keys_roll_add_and_retire() {
    let s = lab();
    let (status, keys) = admin(&s, "GET", "/_admin/keys", None).await;
    assert_eq!(status, StatusCode::OK);
    let first = keys[0]["kid"].as_str().unwrap().to_string();
    let second = keys[1]["kid"].as_str().unwrap().to_string();
    assert_eq!(
        keys,
        json!([{"kid": first, "state": "active"}, {"kid": second, "state": "published"}])
    );

    // Roll: the next published key signs, the old one stays published.
    let (status, body) = admin(&s, "POST", "/_admin/keys/roll", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["kid"], second.as_str());
    assert_eq!(s.keys().active().kid, second);
    assert!(s.keys().get(&first).is_some());
    assert_eq!(
        body["keys"],
        json!([{"kid": second, "state": "active"}, {"kid": first, "state": "published"}])
    );

    // Add: published, not signing.
    let (_, body) = admin(&s, "POST", "/_admin/keys/add", None).await;
    let third = body["kid"].as_str().unwrap().to_string();
    assert_ne!(third, first);
    assert_eq!(s.keys().active().kid, second);
    assert_eq!(s.keys().published().count(), 3);

    // Retire the old key: no longer published. The active one cannot be retired.
    let (status, body) = admin(&s, "POST", &format!("/_admin/keys/{first}/retire"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["retired"], first.as_str());
    assert!(s.keys().get(&first).is_none());
    let (status, body) = admin(&s, "POST", &format!("/_admin/keys/{second}/retire"), None).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(
        body,
        err(
            "conflict",
            "the active signing key cannot be retired; roll over first"
        )
    );
    let (status, body) = admin(&s, "POST", "/_admin/keys/nope/retire", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body, err("not_found", "no key with kid 'nope'"));
}

#[tokio::test]
async fn clock_get_and_advance() {
    let s = lab();
    let (status, body) = admin(&s, "GET", "/_admin/clock", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!({"now": "2017-11-16T20:36:16Z", "unix": T0, "offset_seconds": 0})
    );
    let (status, body) = admin(&s, "POST", "/_admin/clock/advance?seconds=7776000", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!({"now": "2018-02-14T20:36:16Z", "unix": T0 + 7_776_000, "offset_seconds": 7_776_000})
    );
    assert_eq!(s.unix(), T0 + 7_776_000, "the service clock moved");
    let (_, body) = admin(&s, "POST", "/_admin/clock/advance?seconds=-7776000", None).await;
    assert_eq!(body["unix"], T0);
    for (q, msg) in [
        (
            "",
            "query parameter `seconds` is required: /_admin/clock/advance?seconds=N",
        ),
        ("?seconds=soon", "seconds: 'soon' is not an integer"),
        (
            "?seconds=9999999999999",
            "seconds: 9999999999999 is more than a century",
        ),
        (
            "?seconds=-9223372036854775808",
            "seconds: -9223372036854775808 is more than a century",
        ),
    ] {
        let (status, body) = admin(&s, "POST", &format!("/_admin/clock/advance{q}"), None).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{q}");
        assert_eq!(body, err("bad_request", msg));
    }
}

/// Puts a refresh token for a user into the grant store (what the token endpoint would do).
pub fn store_refresh(s: &AppState, token: &str, upn: &str, issued_at: i64) {
    let (tid, oid) = {
        let dir = s.dir();
        let t = &dir.tenants[0];
        (t.tid, t.user(upn).unwrap().oid)
    };
    s.grants().refresh.insert(
        token.to_string(),
        mock_aad::grants::RefreshGrant {
            auth: mock_aad::grants::AuthContext {
                tid,
                user_oid: oid,
                amr: vec!["pwd".into()],
                auth_time: issued_at,
                auth_ticks: 0,
            },
            client_id: mock_aad::model::OFFICE_APP_ID,
            scope: "https://mail.contoso.com/".into(),
            issued_at,
            last_used: issued_at,
            revoked: false,
        },
    );
}

#[tokio::test]
async fn grants_are_counted_never_shown_and_can_be_dropped() {
    let s = lab();
    store_refresh(&s, "rt-secret-1", "GregT@contoso.com", T0 - 100);
    store_refresh(&s, "rt-secret-2", "GregT@contoso.com", T0 - 50);
    store_refresh(&s, "rt-secret-3", "AlexW@contoso.com", T0 - 50);
    s.grants().revoke_token("rt-secret-3");
    let (status, body) = admin(&s, "GET", "/_admin/grants", None).await;
    assert_eq!(status, StatusCode::OK);
    let expected = json!({
        "refresh_tokens": 2, "revoked_refresh_tokens": 1, "authorization_codes": 0, "device_codes": 0,
        "refresh_tokens_by_user": {"GregT@contoso.com": 2}
    });
    assert_eq!(body, expected);
    assert!(!body.to_string().contains("rt-secret"));
    let (status, body) = admin(&s, "DELETE", "/_admin/grants", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({"deleted": expected}));
    assert!(s.grants().refresh.is_empty());
}

#[tokio::test]
async fn a_non_loopback_peer_is_refused_even_with_the_token() {
    use axum::extract::ConnectInfo;
    use std::net::SocketAddr;
    let s = lab();
    for (peer, want) in [
        (
            SocketAddr::from(([10, 0, 0, 5], 50000)),
            StatusCode::FORBIDDEN,
        ),
        (SocketAddr::from(([127, 0, 0, 1], 50000)), StatusCode::OK),
    ] {
        let mut req = Request::get("/_admin/clock")
            .header("authorization", format!("Bearer {TOKEN}"))
            .body(Body::empty())
            .unwrap();
        req.extensions_mut().insert(ConnectInfo(peer));
        let (status, _, body) = send(&s, req).await;
        assert_eq!(status, want, "{peer}");
        if want == StatusCode::FORBIDDEN {
            assert_eq!(
                json_of(&body),
                err("forbidden", "the admin API answers loopback clients only")
            );
        }
    }
}

#[tokio::test]
async fn unknown_fields_get_the_nearest_name() {
    let s = lab();
    let (status, body) = admin(
        &s,
        "PATCH",
        "/_admin/tenants/contoso.com/users/GregT@contoso.com",
        Some(json!({"lockd": true})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body, err("bad_request", "unknown field `lockd`, expected one of `upn`, `oid`, `onprem_sid`, `puid`, `given_name`, `family_name`, `display_name`, `password`, `enabled`, `locked`, `mfa`, `tokens_valid_from`, `immutable_id`, `on_premises`, `consented_apps`; did you mean `locked`?"));
    let (status, body) = admin(
        &s,
        "POST",
        "/_admin/faults",
        Some(json!({"match": {"endpoint": "tokn"}, "respond": {"status": 500}})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .ends_with("; did you mean `token`?"),
        "{body}"
    );
}

#[tokio::test]
async fn domains_add_federate_and_remove() {
    let s = lab();
    let base = "/_admin/tenants/contoso.com/domains";
    let (status, body) = admin(&s, "POST", base, Some(json!({"name": "fabrikam.com"}))).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(
        body,
        json!({"name": "fabrikam.com", "kind": "managed", "verified": true, "initial": false})
    );
    // The new domain names the tenant at once.
    let (status, _) = admin(&s, "GET", "/_admin/tenants/fabrikam.com", None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = admin(&s, "POST", base, Some(json!({"name": "FABRIKAM.com"}))).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(body["message"]
        .as_str()
        .unwrap()
        .contains("domain FABRIKAM.com is already used by this tenant"));

    // Set-MsolDomainAuthentication -Authentication Federated: the federation block is required.
    let (status, body) = admin(
        &s,
        "PATCH",
        &format!("{base}/fabrikam.com"),
        Some(json!({"kind": "federated"})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["message"]
        .as_str()
        .unwrap()
        .contains("federated domain fabrikam.com has no `federation` block"));
    let fed = json!({"passive_url": "https://adfs.fabrikam.com/adfs/ls/",
                     "metadata_url": "https://adfs.fabrikam.com/adfs/services/trust/mex",
                     "active_url": "https://adfs.fabrikam.com/adfs/services/trust/2005/usernamemixed"});
    let (status, body) = admin(
        &s,
        "PATCH",
        &format!("{base}/fabrikam.com"),
        Some(json!({"kind": "federated", "federation": fed})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        s.dir().tenants[0].domain("fabrikam.com").unwrap().kind,
        mock_aad::model::DomainKind::Federated
    );
    let (_, got) = admin(&s, "GET", &format!("{base}/Fabrikam.com"), None).await;
    // The old field names are read; the settings come back under Get-MsolDomainFederationSettings'
    // names, with their defaults.
    assert_eq!(got["federation"]["federation_brand_name"], "");
    assert_eq!(
        got["federation"]["metadata_exchange_uri"],
        "https://adfs.fabrikam.com/adfs/services/trust/mex"
    );
    assert_eq!(got["federation"]["supports_mfa"], false);

    // Remove-MsolDomain is refused while users are in the domain.
    let (status, body) = admin(&s, "DELETE", &format!("{base}/contoso.com"), None).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body, err("conflict", "Unable to remove this domain. Use Get-MsolUser -DomainName contoso.com to retrieve a list of objects that are blocking removal."));
    let (status, _) = admin(&s, "DELETE", &format!("{base}/fabrikam.com"), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = admin(&s, "GET", &format!("{base}/fabrikam.com"), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        body,
        err("not_found", "no domain 'fabrikam.com' in this tenant")
    );
}

/// A century at a time, the clock still stops at a century from its start: the second move is
/// refused and the service keeps answering (an unbounded offset once made every later request
/// panic on an overflowing date).
#[tokio::test]
async fn clock_moves_at_most_a_century_in_all() {
    let s = lab();
    let century = lab_kit::clock::MAX_OFFSET_SECS;
    let (status, _) = admin(
        &s,
        "POST",
        &format!("/_admin/clock/advance?seconds={century}"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = admin(&s, "POST", "/_admin/clock/advance?seconds=86400", None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        err(
            "bad_request",
            &format!(
                "the lab clock moves at most a century ({century} s) from its start either way; \
                 it stands at {century} s, so a move of 86400 s is refused"
            )
        )
    );
    assert_eq!(
        s.unix(),
        T0 + century,
        "the refused move left the clock where it was"
    );
    let form = "grant_type=password&client_id=d3590ed6-52b3-4102-aeff-aad2292ab01c&username=GregT%40contoso.com&password=Contoso2017!&resource=https%3A%2F%2Fmail.contoso.com%2F";
    let req = Request::post("/common/oauth2/token")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(form))
        .unwrap();
    let (status, _, body) = send(&s, req).await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    let token = json_of(&body);
    assert_eq!(
        token["expires_on"],
        json!((T0 + century + 3599).to_string()),
        "{token}"
    );
}
