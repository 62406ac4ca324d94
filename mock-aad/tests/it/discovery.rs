//! Discovery documents over the router: OpenID configuration, JWKS, instance discovery, user
//! realm, federation metadata. Documents are compared byte for byte with golden files under
//! `tests/golden/` (regenerate with `UPDATE_GOLDEN=1`); error bodies have the random trace id
//! masked.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use mock_aad::model::{Domain, DomainKind, Federation};
use mock_aad::{AppState, Config};

use super::common::{config_at, contoso_at, send, GOLDEN};
use serde_json::Value;

const TID: &str = "f31f3647-5d87-4b69-a0b6-73f62aeab14c";
/// 2017-11-17 23:31:02Z, the seed's "Missing SPNs" timestamp.
const T0: i64 = 1_510_961_462;

fn lab() -> AppState {
    contoso_at(T0)
}

struct Resp {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: String,
}

async fn get(state: &AppState, uri: &str) -> Resp {
    let req = Request::get(uri)
        .header(header::HOST, "login.microsoftonline.com")
        .header("x-forwarded-proto", "https")
        .header("client-request-id", "87a777b4-fb7b-4d22-a82b-b97fcc2c67d4")
        .body(Body::empty())
        .unwrap();
    let r = send(state, req).await;
    Resp {
        status: r.status,
        body: r.text(),
        headers: r.headers,
    }
}

fn masked(r: &Resp) -> String {
    let trace = r.headers["x-ms-request-id"].to_str().unwrap().to_string();
    r.body
        .replace(&trace, "00000000-0000-0000-0000-0000000000ff")
}

fn assert_json_doc(r: &Resp) {
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        r.headers[header::CONTENT_TYPE],
        "application/json; charset=utf-8"
    );
    assert_eq!(r.headers[header::ACCESS_CONTROL_ALLOW_ORIGIN], "*");
}

#[tokio::test]
async fn openid_configuration_v2_common_tenant_and_organizations() {
    let s = lab();
    let common = get(&s, "/common/v2.0/.well-known/openid-configuration").await;
    assert_json_doc(&common);
    GOLDEN.check("openid-v2-common.json", &common.body);
    let v: Value = serde_json::from_str(&common.body).unwrap();
    assert_eq!(
        v["issuer"],
        "https://login.microsoftonline.com/{tenantid}/v2.0"
    );
    assert_eq!(v["tenant_region_scope"], Value::Null);

    let org = get(&s, "/organizations/v2.0/.well-known/openid-configuration").await;
    assert_json_doc(&org);
    GOLDEN.check("openid-v2-organizations.json", &org.body);

    let by_domain = get(&s, "/contoso.com/v2.0/.well-known/openid-configuration").await;
    let by_tid = get(&s, &format!("/{TID}/v2.0/.well-known/openid-configuration")).await;
    assert_json_doc(&by_domain);
    assert_eq!(
        by_domain.body, by_tid.body,
        "a domain path yields the tid everywhere"
    );
    GOLDEN.check("openid-v2-tenant.json", &by_tid.body);
    let v: Value = serde_json::from_str(&by_tid.body).unwrap();
    assert_eq!(
        v["issuer"],
        format!("https://login.microsoftonline.com/{TID}/v2.0")
    );
    assert_eq!(
        v["authorization_endpoint"],
        format!("https://login.microsoftonline.com/{TID}/oauth2/v2.0/authorize")
    );
    assert_eq!(v["tenant_region_scope"], "NA");
    let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
    assert_eq!(keys[0], "token_endpoint");
    assert_eq!(keys[8], "issuer");
    assert_eq!(keys.last().unwrap().as_str(), "rbac_url");
}

#[tokio::test]
async fn openid_configuration_v1() {
    let s = lab();
    let common = get(&s, "/common/.well-known/openid-configuration").await;
    assert_json_doc(&common);
    GOLDEN.check("openid-v1-common.json", &common.body);
    let tenant = get(
        &s,
        "/contoso.onmicrosoft.com/.well-known/openid-configuration",
    )
    .await;
    assert_json_doc(&tenant);
    GOLDEN.check("openid-v1-tenant.json", &tenant.body);
    let v: Value = serde_json::from_str(&tenant.body).unwrap();
    assert_eq!(v["issuer"], format!("https://sts.windows.net/{TID}/"));
    assert_eq!(
        v["jwks_uri"],
        "https://login.microsoftonline.com/common/discovery/keys"
    );
    assert_eq!(v["microsoft_multi_refresh_token"], true);
    assert_eq!(
        v["authorization_endpoint"],
        format!("https://login.microsoftonline.com/{TID}/oauth2/authorize")
    );
    assert_eq!(
        v["check_session_iframe"],
        format!("https://login.microsoftonline.com/{TID}/oauth2/checksession")
    );
}

#[tokio::test]
async fn unknown_tenant_is_aadsts90002() {
    let s = lab();
    for path in [
        "/fabrikam.com/v2.0/.well-known/openid-configuration",
        "/fabrikam.com/.well-known/openid-configuration",
    ] {
        let r = get(&s, path).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert_eq!(
            r.headers[header::CONTENT_TYPE],
            "application/json; charset=utf-8"
        );
        GOLDEN.check("openid-unknown-tenant.json", masked(&r));
    }
}

#[tokio::test]
async fn jwks_v1_and_v2_list_every_published_key_active_first() {
    let s = lab();
    let v1 = get(&s, "/common/discovery/keys").await;
    assert_json_doc(&v1);
    GOLDEN.check("jwks-v1.json", &v1.body);
    let v1_tenant = get(&s, "/contoso.com/discovery/keys").await;
    assert_eq!(v1_tenant.body, v1.body);
    let doc: Value = serde_json::from_str(&v1.body).unwrap();
    assert_eq!(doc["keys"].as_array().unwrap().len(), 2);
    assert!(doc["keys"][0].get("issuer").is_none());

    let v2 = get(&s, "/common/discovery/v2.0/keys").await;
    assert_json_doc(&v2);
    GOLDEN.check("jwks-v2-common.json", &v2.body);
    let v2t = get(&s, &format!("/{TID}/discovery/v2.0/keys")).await;
    GOLDEN.check("jwks-v2-tenant.json", &v2t.body);
    let doc: Value = serde_json::from_str(&v2t.body).unwrap();
    assert_eq!(
        doc["keys"][1]["issuer"],
        format!("https://login.microsoftonline.com/{TID}/v2.0")
    );

    // After a rollover the new key is listed first and the old one stays.
    let (old, new) = {
        let mut keys = s.keys_mut();
        let old = keys.active().kid.clone();
        (old, keys.roll().unwrap())
    };
    let doc: Value = serde_json::from_str(&get(&s, "/common/discovery/keys").await.body).unwrap();
    let kids: Vec<&str> = doc["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap())
        .collect();
    assert_eq!(kids[0], new);
    assert!(kids.contains(&old.as_str()));

    let unknown = get(&s, "/fabrikam.com/discovery/v2.0/keys").await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    let garbage = get(&s, "/%FF/discovery/v2.0/keys").await;
    assert_eq!(garbage.status, StatusCode::BAD_REQUEST);
    assert!(garbage.body.contains("AADSTS90002"));
}

#[tokio::test]
async fn instance_discovery() {
    let s = lab();
    let r = get(&s, "/common/discovery/instance?api-version=1.1&authorization_endpoint=https%3A%2F%2Flogin.microsoftonline.com%2Fcontoso.com%2Foauth2%2Fv2.0%2Fauthorize").await;
    assert_json_doc(&r);
    GOLDEN.check("instance-discovery-1.1.json", &r.body);
    let r = get(&s, "/common/discovery/instance?api-version=1.0&authorization_endpoint=https://login.windows.net/common/oauth2/authorize").await;
    assert_json_doc(&r);
    let v: Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(
        v["tenant_discovery_endpoint"],
        "https://login.microsoftonline.com/common/v2.0/.well-known/openid-configuration"
    );
    assert_eq!(v["api-version"], "1.0");

    let bad = get(&s, "/common/discovery/instance?api-version=1.1&authorization_endpoint=https://login.evil.example/common/oauth2/authorize").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    GOLDEN.check("instance-discovery-invalid-instance.json", masked(&bad));
    let v: Value = serde_json::from_str(&bad.body).unwrap();
    assert_eq!(v["error"], "invalid_instance");
    assert_eq!(v["error_codes"][0], 50049);

    let missing = get(&s, "/common/discovery/instance?authorization_endpoint=x").await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
    let v: Value = serde_json::from_str(&missing.body).unwrap();
    assert_eq!(v["error_codes"][0], 900144);
    assert!(v["error_description"].as_str().unwrap().starts_with(
        "AADSTS900144: The request body must contain the following parameter: 'api-version'."
    ));
}

fn add_federated_domain(s: &AppState) {
    let mut dir = s.dir_mut();
    dir.tenants[0].domains.push(Domain {
        name: "fabrikam.com".into(),
        kind: DomainKind::Federated,
        verified: true,
        initial: false,
        pass_through: false,
        federation: Some(Federation {
            passive_log_on_uri: "https://adfs.fabrikam.com/adfs/ls/".into(),
            metadata_exchange_uri: "https://adfs.fabrikam.com/adfs/services/trust/mex".into(),
            active_log_on_uri: "https://adfs.fabrikam.com/adfs/services/trust/2005/usernamemixed"
                .into(),
            federation_brand_name: "Fabrikam".into(),
            ..Federation::default()
        }),
    });
}

#[tokio::test]
async fn user_realm_managed_federated_unknown() {
    let s = lab();
    add_federated_domain(&s);
    let cases = [
        ("GregT@contoso.com", "managed"),
        ("bob@fabrikam.com", "federated"),
        ("eve@nowhere.example", "unknown"),
    ];
    for (upn, kind) in cases {
        for ver in ["1.0", "2.0"] {
            let r = get(&s, &format!("/common/userrealm/{upn}?api-version={ver}")).await;
            assert_json_doc(&r);
            GOLDEN.check(&format!("userrealm-{kind}-{ver}.json"), &r.body);
        }
        let r = get(&s, &format!("/getuserrealm.srf?login={upn}")).await;
        assert_json_doc(&r);
        GOLDEN.check(&format!("getuserrealm-{kind}.json"), &r.body);
    }
    let v: Value = serde_json::from_str(
        &get(&s, "/common/userrealm/bob@fabrikam.com?api-version=1.0")
            .await
            .body,
    )
    .unwrap();
    assert_eq!(v["account_type"], "Federated");
    assert_eq!(
        v["federation_metadata_url"],
        "https://adfs.fabrikam.com/adfs/services/trust/mex"
    );
}

#[tokio::test]
async fn federation_metadata_carries_every_signing_certificate() {
    let s = lab();
    let r = get(
        &s,
        "/contoso.com/federationmetadata/2007-06/federationmetadata.xml",
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.headers[header::CONTENT_TYPE], "application/xml");
    GOLDEN.check("federationmetadata-tenant.xml", &r.body);
    let upper = get(
        &s,
        &format!("/{TID}/FederationMetadata/2007-06/FederationMetadata.xml"),
    )
    .await;
    assert_eq!(upper.body, r.body);
    assert!(r
        .body
        .contains(&format!("entityID=\"https://sts.windows.net/{TID}/\"")));
    assert!(r
        .body
        .contains("<RoleDescriptor xsi:type=\"fed:SecurityTokenServiceType\""));
    assert!(r
        .body
        .contains("<RoleDescriptor xsi:type=\"fed:ApplicationServiceType\""));

    // Every certificate under KeyDescriptor use="signing" is a published key; kid = b64url SHA-1.
    let published: Vec<String> = s.keys().published().map(|(k, _)| k.kid.clone()).collect();
    let mut seen = Vec::new();
    for chunk in r.body.split("<KeyDescriptor use=\"signing\">").skip(1) {
        let cert = chunk
            .split("<X509Certificate>")
            .nth(1)
            .and_then(|c| c.split("</X509Certificate>").next())
            .unwrap();
        let der = STANDARD.decode(cert).unwrap();
        let sha1 = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY, &der);
        seen.push(URL_SAFE_NO_PAD.encode(sha1.as_ref()));
    }
    assert_eq!(seen.len(), 3 * published.len());
    assert_eq!(&seen[..published.len()], &published[..]);

    let common = get(
        &s,
        "/common/federationmetadata/2007-06/federationmetadata.xml",
    )
    .await;
    assert!(common
        .body
        .contains("entityID=\"https://sts.windows.net/{tenantid}/\""));

    let unknown = get(
        &s,
        "/fabrikam.com/federationmetadata/2007-06/federationmetadata.xml",
    )
    .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    GOLDEN.check("federationmetadata-unknown-tenant.json", masked(&unknown));
}

#[tokio::test]
async fn base_url_follows_public_base_and_host() {
    let s = mock_aad::state(Config {
        public_base: Some("https://aad.lab.test/".into()),
        ..config_at(T0)
    });
    let r = get(&s, "/common/v2.0/.well-known/openid-configuration").await;
    let v: Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(
        v["token_endpoint"],
        "https://aad.lab.test/common/oauth2/v2.0/token"
    );
    // Issuers never follow the request host.
    assert_eq!(
        v["issuer"],
        "https://login.microsoftonline.com/{tenantid}/v2.0"
    );
}

#[tokio::test]
async fn discovery_over_a_real_socket() {
    let h = mock_aad::start(config_at(T0)).await.unwrap();
    let url = format!(
        "{}/contoso.com/v2.0/.well-known/openid-configuration",
        h.url()
    );
    let v: Value = reqwest::get(&url).await.unwrap().json().await.unwrap();
    assert_eq!(
        v["jwks_uri"],
        format!("{}/{TID}/discovery/v2.0/keys", h.url())
    );
    let keys: Value = reqwest::get(v["jwks_uri"].as_str().unwrap())
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(keys["keys"].as_array().unwrap().len(), 2);
    h.shutdown().await;
}

#[tokio::test]
async fn discovery_documents_carry_azure_ads_headers_in_order() {
    let s = lab();
    let headers = |r: &Resp| -> Vec<(String, String)> {
        r.headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap().to_string()))
            .filter(|(k, _)| k != "content-length")
            .collect()
    };
    let pairs = |l: &[(&str, &str)]| -> Vec<(String, String)> {
        l.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };
    let json = pairs(&[
        ("content-type", "application/json; charset=utf-8"),
        ("cache-control", "max-age=86400, private"),
        ("access-control-allow-origin", "*"),
        ("x-content-type-options", "nosniff"),
    ]);
    for uri in [
        "/common/.well-known/openid-configuration",
        "/contoso.com/v2.0/.well-known/openid-configuration",
        "/common/discovery/keys",
        "/contoso.com/discovery/v2.0/keys",
    ] {
        let r = get(&s, uri).await;
        assert_eq!(r.status, StatusCode::OK, "{uri}");
        assert_eq!(headers(&r), json, "{uri}");
    }
    let r = get(
        &s,
        "/contoso.com/federationmetadata/2007-06/federationmetadata.xml",
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        headers(&r),
        pairs(&[
            ("content-type", "application/xml"),
            ("cache-control", "max-age=86400, private"),
            ("access-control-allow-origin", "*"),
        ])
    );
}
