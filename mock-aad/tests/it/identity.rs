//! The hybrid-identity admin calls (domain authentication, federation settings, the
//! pass-through agent, synced users) with their exact answers, and what they change for the next
//! sign-in: password hash sync, pass-through authentication through an agent that is up, down or
//! slow, and a domain federated at run time.

use axum::http::StatusCode;
use mock_aad::AppState;
use serde_json::{json, Value};

use super::admin::admin;
use super::federation::{lab_of, post, Resp, Token, CERT1, GREG_ID, ISSUER};

const OFFICE: &str = "d3590ed6-52b3-4102-aeff-aad2292ab01c";
const T: &str = "/_admin/tenants/contoso.com";

async fn ropc(s: &AppState, user: &str, password: &str) -> Resp {
    post(
        s,
        "/organizations/oauth2/v2.0/token",
        &[
            ("grant_type", "password"),
            ("client_id", OFFICE),
            ("scope", "https://graph.microsoft.com/User.Read"),
            ("username", user),
            ("password", password),
        ],
    )
    .await
}

#[track_caller]
fn code(r: &Resp) -> u64 {
    if r.status == StatusCode::OK {
        return 0;
    }
    r.json()["error_codes"][0].as_u64().unwrap()
}

#[track_caller]
fn description(r: &Resp) -> String {
    let d = r.json()["error_description"].as_str().unwrap().to_string();
    d.split("\r\n").next().unwrap().to_string()
}

#[tokio::test]
async fn msol_domains_and_set_domain_authentication() {
    let (s, _) = lab_of(mock_aad::CONTOSO_LAB);
    let (st, v) = admin(&s, "GET", &format!("{T}/msol-domains"), None).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(
        v,
        json!([
            {"Name":"contoso.onmicrosoft.com","Status":"Verified","Authentication":"Managed","PassThrough":false},
            {"Name":"contoso.mail.onmicrosoft.com","Status":"Verified","Authentication":"Managed","PassThrough":false},
            {"Name":"contoso.com","Status":"Verified","Authentication":"Managed","PassThrough":false}
        ])
    );
    let auth = format!("{T}/domains/contoso.com/authentication");
    let fed = format!("{T}/domains/contoso.com/federation-settings");
    let (st, v) = admin(&s, "GET", &fed, None).await;
    assert_eq!(st, StatusCode::CONFLICT);
    assert_eq!(v["message"], "contoso.com is not a federated domain; Set-MsolDomainAuthentication -Authentication Federated first");
    let (st, v) = admin(
        &s,
        "PUT",
        &auth,
        Some(json!({"Authentication": "Federated", "IssuerUri": ISSUER})),
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert_eq!(
        v["message"],
        "a federated domain needs PassiveLogOnUri, SigningCertificate"
    );
    let (st, v) = admin(
        &s,
        "PUT",
        &auth,
        Some(json!({"Authentication": "Federated", "IssuerUri": ISSUER,
                    "PassiveLogOnUri": "https://adfs.contoso.com/adfs/ls/",
                    "SigningCertificate": "not a certificate"})),
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(v["message"]
        .as_str()
        .unwrap()
        .starts_with("tenants[0].domains[2].federation.signing_certificate: not a certificate"));
    let cert = lab_kit::saml::Certificate::from_pem(CERT1)
        .unwrap()
        .base64();
    let (st, v) = admin(
        &s,
        "PUT",
        &auth,
        Some(json!({"Authentication": "Federated", "IssuerUri": ISSUER,
                    "PassiveLogOnUri": "https://adfs.contoso.com/adfs/ls/",
                    "ActiveLogOnUri": "https://adfs.contoso.com/adfs/services/trust/2005/usernamemixed",
                    "MetadataExchangeUri": "https://adfs.contoso.com/adfs/services/trust/mex",
                    "SigningCertificate": cert, "PreferredAuthenticationProtocol": "WsFed"})),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(
        v,
        json!({"Name":"contoso.com","Status":"Verified","Authentication":"Federated","PassThrough":false})
    );
    let (st, v) = admin(&s, "GET", &fed, None).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(
        v,
        json!({"ActiveLogOnUri":"https://adfs.contoso.com/adfs/services/trust/2005/usernamemixed",
               "FederationBrandName":"","IssuerUri":ISSUER,"LogOffUri":"",
               "MetadataExchangeUri":"https://adfs.contoso.com/adfs/services/trust/mex",
               "NextSigningCertificate":null,"PassiveLogOnUri":"https://adfs.contoso.com/adfs/ls/",
               "PreferredAuthenticationProtocol":"WsFed","SigningCertificate":cert,"SupportsMfa":false})
    );
    // Federated at once: ROPC is refused and GregT (ImmutableID in the contoso lab) signs in
    // with an ADFS token.
    assert_eq!(
        code(&ropc(&s, "GregT@contoso.com", "Contoso2017!").await),
        50126
    );
    let r = post(
        &s,
        "/organizations/oauth2/v2.0/token",
        &[
            (
                "grant_type",
                "urn:ietf:params:oauth:grant-type:saml1_1-bearer",
            ),
            ("client_id", OFFICE),
            ("scope", "openid"),
            ("assertion", &base64_url(&Token::for_user(GREG_ID).xml())),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    // A second domain cannot take the same IssuerUri.
    let (st, _) = admin(
        &s,
        "POST",
        &format!("{T}/domains"),
        Some(json!({"name": "fabrikam.com"})),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED);
    let (st, v) = admin(
        &s,
        "PUT",
        &format!("{T}/domains/fabrikam.com/authentication"),
        Some(json!({"Authentication": "Federated", "IssuerUri": ISSUER,
                    "PassiveLogOnUri": "https://adfs.contoso.com/adfs/ls/", "SigningCertificate": cert})),
    )
    .await;
    assert_eq!(st, StatusCode::CONFLICT);
    assert!(v["message"].as_str().unwrap().contains(
        "federation.issuer_uri: http://adfs.contoso.com/adfs/services/trust is already the issuer of domain contoso.com"
    ));
    // Back to managed: the settings are dropped and the cloud password works again.
    let (st, v) = admin(&s, "PUT", &auth, Some(json!({"Authentication": "Managed"}))).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(v["Authentication"], "Managed");
    assert_eq!(admin(&s, "GET", &fed, None).await.0, StatusCode::CONFLICT);
    assert_eq!(
        code(&ropc(&s, "GregT@contoso.com", "Contoso2017!").await),
        0
    );
    // Unknown fields and values are refused with the admin error shape.
    let (st, v) = admin(&s, "PUT", &auth, Some(json!({"Authentication": "Cloud"}))).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains("unknown variant `Cloud`"),
        "{v}"
    );
    let (st, v) = admin(
        &s,
        "PUT",
        &auth,
        Some(json!({"Authentication": "Managed", "IssuerUrl": "x"})),
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains("did you mean `IssuerUri`?"),
        "{v}"
    );
    let (st, _) = admin(
        &s,
        "GET",
        &format!("{T}/domains/nowhere.com/authentication"),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
}

fn base64_url(s: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s)
}

#[tokio::test]
async fn users_by_domain() {
    let (s, _) = lab_of(mock_aad::CONTOSO_LAB);
    let (st, v) = admin(&s, "GET", &format!("{T}/users?domain=CONTOSO.com"), None).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(v.as_array().unwrap().len(), 6);
    let (st, v) = admin(
        &s,
        "GET",
        &format!("{T}/users?domain=contoso.onmicrosoft.com"),
        None,
    )
    .await;
    assert_eq!((st, v), (StatusCode::OK, json!([])));
    let (st, v) = admin(&s, "GET", &format!("{T}/users?domain=fabrikam.com"), None).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    assert_eq!(v["message"], "no domain 'fabrikam.com' in this tenant");
}

#[tokio::test]
async fn sync_creates_updates_renames_and_deletes() {
    let (s, _) = lab_of(mock_aad::CONTOSO_LAB);
    let synced = |upn: &str| format!("{T}/synced-users/{upn}");
    // A new on-premises user: created with a new oid and PUID, the hash as its password.
    let (st, v) = admin(
        &s,
        "PUT",
        &synced("IsaiahL@contoso.com"),
        Some(json!({"immutable_id": "8yV2dQ0mFUuRZBjI1g9Tz4A==", "onprem_sid": "S-1-5-21-1-2-3-1700",
                    "given_name": "Isaiah", "family_name": "Langer", "display_name": "Isaiah Langer",
                    "password_hash": "Contoso2017!"})),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    assert_eq!(v["upn"], "IsaiahL@contoso.com");
    assert_eq!(v["immutable_id"], "8yV2dQ0mFUuRZBjI1g9Tz4A==");
    assert_eq!(v["password"], "Contoso2017!");
    assert!(v["puid"].as_str().unwrap().starts_with("1003"));
    let oid = v["oid"].clone();
    assert_eq!(
        code(&ropc(&s, "IsaiahL@contoso.com", "Contoso2017!").await),
        0
    );
    // Password hash sync: the next hash replaces the cloud password.
    let (st, v) = admin(
        &s,
        "PUT",
        &synced("IsaiahL@contoso.com"),
        Some(
            json!({"immutable_id": "8yV2dQ0mFUuRZBjI1g9Tz4A==", "password_hash": "Fabrikam2018!"}),
        ),
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(
        (v["oid"].clone(), v["given_name"].clone()),
        (oid.clone(), json!("Isaiah"))
    );
    assert_eq!(
        code(&ropc(&s, "IsaiahL@contoso.com", "Contoso2017!").await),
        50126
    );
    assert_eq!(
        code(&ropc(&s, "IsaiahL@contoso.com", "Fabrikam2018!").await),
        0
    );
    // A UPN change on-premises renames the user (matched by ImmutableID).
    let (st, v) = admin(
        &s,
        "PUT",
        &synced("Isaiah.Langer@contoso.com"),
        Some(json!({"immutable_id": "8yV2dQ0mFUuRZBjI1g9Tz4A==", "enabled": false})),
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(
        (v["oid"].clone(), v["upn"].clone()),
        (oid, json!("Isaiah.Langer@contoso.com"))
    );
    assert_eq!(
        code(&ropc(&s, "Isaiah.Langer@contoso.com", "Fabrikam2018!").await),
        50057
    );
    // Soft match: a cloud-only user with the UPN becomes synced.
    let (st, v) = admin(
        &s,
        "PUT",
        &synced("AlexW@contoso.com"),
        Some(json!({"immutable_id": "QWxleFdpbGJlcjEyMzQ1Ng=="})),
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(v["oid"], "60b09ccd-ee73-4f43-ac49-91ac689bcbd6");
    assert_eq!(v["password"], "Contoso2017!");
    // A UPN anchored to another ImmutableID is a conflict; so is a name another synced user holds.
    let (st, v) = admin(
        &s,
        "PUT",
        &synced("GregT@contoso.com"),
        Some(json!({"immutable_id": "b3RoZXI="})),
    )
    .await;
    assert_eq!(st, StatusCode::CONFLICT);
    assert_eq!(
        v["message"],
        "GregT@contoso.com is synced with another ImmutableID"
    );
    let (st, v) = admin(
        &s,
        "PUT",
        &synced("GregT@contoso.com"),
        Some(json!({"immutable_id": "QWxleFdpbGJlcjEyMzQ1Ng=="})),
    )
    .await;
    assert_eq!(st, StatusCode::CONFLICT);
    assert_eq!(v["message"], "GregT@contoso.com belongs to another user; rename or remove it before this one takes the name");
    let (st, _) = admin(
        &s,
        "PUT",
        &synced("x@contoso.com"),
        Some(json!({"immutable_id": " "})),
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    let (st, _) = admin(
        &s,
        "PUT",
        &synced("x@nowhere.com"),
        Some(json!({"immutable_id": "eA=="})),
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    // Out of the sync scope: deleted; a cloud-only user is not the sync's to delete.
    let (st, _) = admin(&s, "DELETE", &synced("Isaiah.Langer@contoso.com"), None).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    assert_eq!(
        code(&ropc(&s, "Isaiah.Langer@contoso.com", "Fabrikam2018!").await),
        50034
    );
    let (st, _) = admin(
        &s,
        "POST",
        &format!("{T}/users"),
        Some(json!({"upn": "cloud@contoso.com", "display_name": "C"})),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED);
    let (st, v) = admin(&s, "DELETE", &synced("cloud@contoso.com"), None).await;
    assert_eq!(st, StatusCode::CONFLICT);
    assert_eq!(
        v["message"],
        "cloud@contoso.com is a cloud-only user (no ImmutableID); use /users/{upn}"
    );
}

#[tokio::test]
async fn pass_through_authentication_through_the_agent() {
    let (s, _) = lab_of(mock_aad::CONTOSO_PTA_LAB);
    let agent = format!("{T}/pta-agent");
    assert_eq!(
        admin(&s, "GET", &agent, None).await,
        (StatusCode::OK, json!({"state": "up"}))
    );
    assert_eq!(
        code(&ropc(&s, "GregT@contoso.com", "Contoso2017!").await),
        0
    );
    // The cloud value plays no part: the on-premises password decides.
    let onprem = format!("{T}/synced-users/GregT@contoso.com/on-premises");
    let (st, v) = admin(
        &s,
        "PATCH",
        &onprem,
        Some(json!({"password": "OnPrem2018!"})),
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(
        v["on_premises"],
        json!({"password": "OnPrem2018!", "enabled": true})
    );
    assert_eq!(
        code(&ropc(&s, "GregT@contoso.com", "Contoso2017!").await),
        50126
    );
    assert_eq!(code(&ropc(&s, "GregT@contoso.com", "OnPrem2018!").await), 0);
    // Disabled on-premises: refused with the right password, 50126 with a wrong one.
    let (st, _) = admin(&s, "PATCH", &onprem, Some(json!({"enabled": false}))).await;
    assert_eq!(st, StatusCode::OK);
    let r = ropc(&s, "GregT@contoso.com", "OnPrem2018!").await;
    assert_eq!(
        (code(&r), description(&r)),
        (50057, "AADSTS50057: The user account is disabled.".into())
    );
    assert_eq!(code(&ropc(&s, "GregT@contoso.com", "nope").await), 50126);
    let (st, _) = admin(&s, "PATCH", &onprem, Some(json!({"enabled": true}))).await;
    assert_eq!(st, StatusCode::OK);
    // Agent down, then slow.
    let (st, v) = admin(&s, "PUT", &agent, Some(json!({"state": "down"}))).await;
    assert_eq!((st, v), (StatusCode::OK, json!({"state": "down"})));
    let r = ropc(&s, "GregT@contoso.com", "OnPrem2018!").await;
    assert_eq!(r.json()["error"], "invalid_grant");
    assert_eq!((code(&r), description(&r)), (80001, "AADSTS80001: The Authentication Agent is unable to connect to Active Directory. Make sure that agent servers are members of the same AD forest as the users whose passwords need to be validated and they are able to connect to Active Directory.".into()));
    // A cloud-only user is checked in the cloud, agent or not.
    assert_eq!(
        code(&ropc(&s, "AlexW@contoso.com", "Contoso2017!").await),
        0
    );
    // Smart lockout and unknown users come before the agent.
    assert_eq!(
        code(&ropc(&s, "LeeG@contoso.com", "Contoso2017!").await),
        50053
    );
    assert_eq!(code(&ropc(&s, "nobody@contoso.com", "x").await), 50034);
    let (st, _) = admin(&s, "PUT", &agent, Some(json!({"state": "slow"}))).await;
    assert_eq!(st, StatusCode::OK);
    let r = ropc(&s, "GregT@contoso.com", "OnPrem2018!").await;
    assert_eq!((code(&r), description(&r)), (80002, "AADSTS80002: Password validation request timed out. Make sure that Active Directory is available and responding to requests from the agents.".into()));
    let (st, v) = admin(&s, "PUT", &agent, Some(json!({"state": "sleepy"}))).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(v["message"]
        .as_str()
        .unwrap()
        .contains("unknown variant `sleepy`"));
    // The on-premises record of a cloud-only user does not exist.
    let (st, _) = admin(
        &s,
        "PATCH",
        &format!("{T}/synced-users/AlexW@contoso.com/on-premises"),
        Some(json!({"password": "x"})),
    )
    .await;
    assert_eq!(st, StatusCode::CONFLICT);
}

#[tokio::test]
async fn pass_through_on_a_federated_domain_is_refused() {
    let (s, _) = lab_of(mock_aad::CONTOSO_FEDERATED_LAB);
    let (st, v): (StatusCode, Value) = admin(
        &s,
        "PATCH",
        &format!("{T}/domains/contoso.com"),
        Some(json!({"pass_through": true})),
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert_eq!(v["message"], "tenants[0].domains[2]: federated domain contoso.com cannot use pass-through authentication; a federated domain's passwords are checked by its IdP; set `kind: managed` or drop `pass_through`");
}
