//! Discovery documents: OpenID configuration (v1 and v2), JWKS, instance discovery, user realm and
//! the WS-Federation metadata Exchange's AuthServer reads.
//!
//! Every document is built from three inputs and nothing else: the directory (which tenant a path
//! names), the published signing keys, and the base URL the client reached us by
//! ([`base_url`]: `Config::public_base`, else `X-Forwarded-Proto`/`Host`). Issuers never use the
//! request host: they are built from `Config::hosts`, exactly as Azure AD's issuers name
//! `sts.windows.net` / `login.microsoftonline.com` whichever alias the client used. JSON key order
//! is Azure AD's (serde_json `preserve_order`), so golden files can compare bytes.

use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use base64::Engine;
use serde_json::{json, Map, Value};

use crate::error::{AadError, RequestIds};
use crate::model::DomainKind;
use crate::resolve::{base_url, Segment, TenantRef};
use crate::state::AppState;
use crate::util::{html_escape, Params};

/// Region Azure AD reports for a tenant (the lab's tenants all live in North America).
const TENANT_REGION: &str = "NA";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/{tenant}/v2.0/.well-known/openid-configuration",
            get(discovery_openid_v2),
        )
        .route(
            "/{tenant}/.well-known/openid-configuration",
            get(discovery_openid_v1),
        )
        .route("/{tenant}/discovery/keys", get(discovery_keys_v1))
        .route("/{tenant}/discovery/v2.0/keys", get(discovery_keys_v2))
        .route("/common/discovery/instance", get(discovery_instance))
        .route("/common/userrealm/{upn}", get(discovery_userrealm))
        .route("/getuserrealm.srf", get(discovery_getuserrealm))
        .route(
            "/{tenant}/federationmetadata/2007-06/federationmetadata.xml",
            get(discovery_federation_metadata),
        )
        .route(
            "/{tenant}/FederationMetadata/2007-06/FederationMetadata.xml",
            get(discovery_federation_metadata),
        )
}

// ------------------------------------------------------------------------------------ helpers

fn resolve_or_error(
    state: &AppState,
    headers: &HeaderMap,
    segment: &str,
) -> Result<TenantRef, Response> {
    let found = TenantRef::resolve(&state.dir(), segment);
    found.ok_or_else(|| aad_error(state, headers, AadError::tenant_not_found(segment)))
}

/// Renders an AADSTS error the way the token service does.
pub fn aad_error(state: &AppState, headers: &HeaderMap, e: AadError) -> Response {
    e.in_era(state.era())
        .into_response_with(&RequestIds::from_headers(headers), state.now())
}

/// A discovery document with the headers Azure AD's discovery endpoints send: its content type,
/// a day of private caching and any origin.
fn discovery_doc(body: String, content_type: &'static str) -> Response {
    let mut resp = (StatusCode::OK, body).into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("max-age=86400, private"),
    );
    h.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    resp
}

/// A JSON discovery document (these also say `nosniff`).
fn json_doc(v: Value) -> Response {
    let mut resp = discovery_doc(v.to_string(), "application/json; charset=utf-8");
    resp.headers_mut().insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    resp
}

/// The JSON document `build` makes for the tenant a path segment names, or AADSTS90002.
fn tenant_json(
    state: &AppState,
    headers: &HeaderMap,
    segment: &str,
    build: impl FnOnce(&TenantRef) -> Value,
) -> Response {
    match resolve_or_error(state, headers, segment) {
        Ok(t) => json_doc(build(&t)),
        Err(r) => r,
    }
}

// ------------------------------------------------------------------------ OpenID configuration

const CLAIMS_V2: [&str; 19] = [
    "sub",
    "iss",
    "cloud_instance_name",
    "cloud_instance_host_name",
    "cloud_graph_host_name",
    "msgraph_host",
    "aud",
    "exp",
    "iat",
    "auth_time",
    "acr",
    "nonce",
    "preferred_username",
    "name",
    "tid",
    "ver",
    "at_hash",
    "c_hash",
    "email",
];

const CLAIMS_V1: [&str; 17] = [
    "sub",
    "iss",
    "cloud_instance_name",
    "cloud_instance_host_name",
    "cloud_graph_host_name",
    "msgraph_host",
    "aud",
    "exp",
    "iat",
    "auth_time",
    "acr",
    "amr",
    "nonce",
    "email",
    "given_name",
    "family_name",
    "nickname",
];

fn region(t: &TenantRef) -> Value {
    match t {
        TenantRef::Multi(_) => Value::Null,
        TenantRef::Tenant(_) => json!(TENANT_REGION),
    }
}

/// What differs between the v1 and v2 OpenID configurations; everything else, and the order of
/// the keys around these, is the same in both.
struct OpenIdFlavor {
    /// The protocol endpoints' path under the tenant: `oauth2` or `oauth2/v2.0`.
    oauth: &'static str,
    jwks_uri: String,
    response_types: &'static [&'static str],
    scopes: &'static [&'static str],
    issuer: String,
    /// Keys between `issuer` and `authorization_endpoint`.
    after_issuer: Vec<(&'static str, Value)>,
    claims: &'static [&'static str],
    /// Keys between `claims_supported` and `kerberos_endpoint`.
    after_claims: Vec<(&'static str, Value)>,
}

/// An OpenID configuration, keys in Azure AD's order.
fn openid(base: &str, t: &TenantRef, f: OpenIdFlavor) -> Value {
    let seg = t.segment();
    let endpoint = |name: &str| json!(format!("{base}/{seg}/{}/{name}", f.oauth));
    let mut m = Map::new();
    let mut put = |k: &str, v: Value| {
        m.insert(k.to_string(), v);
    };
    put("token_endpoint", endpoint("token"));
    put(
        "token_endpoint_auth_methods_supported",
        json!([
            "client_secret_post",
            "private_key_jwt",
            "client_secret_basic"
        ]),
    );
    put("jwks_uri", json!(f.jwks_uri));
    put(
        "response_modes_supported",
        json!(["query", "fragment", "form_post"]),
    );
    put("subject_types_supported", json!(["pairwise"]));
    put("id_token_signing_alg_values_supported", json!(["RS256"]));
    put("response_types_supported", json!(f.response_types));
    put("scopes_supported", json!(f.scopes));
    put("issuer", json!(f.issuer));
    for (k, v) in f.after_issuer {
        put(k, v);
    }
    put("authorization_endpoint", endpoint("authorize"));
    put("device_authorization_endpoint", endpoint("devicecode"));
    put("http_logout_supported", json!(true));
    put("frontchannel_logout_supported", json!(true));
    put("end_session_endpoint", endpoint("logout"));
    put("claims_supported", json!(f.claims));
    for (k, v) in f.after_claims {
        put(k, v);
    }
    put("kerberos_endpoint", json!(format!("{base}/{seg}/kerberos")));
    put("tenant_region_scope", region(t));
    put("cloud_instance_name", json!("microsoftonline.com"));
    put("cloud_graph_host_name", json!("graph.windows.net"));
    put("msgraph_host", json!("graph.microsoft.com"));
    put("rbac_url", json!("https://pas.windows.net"));
    Value::Object(m)
}

/// The v2 OpenID configuration.
pub fn openid_v2(state: &AppState, base: &str, t: &TenantRef) -> Value {
    let seg = t.segment();
    openid(
        base,
        t,
        OpenIdFlavor {
            oauth: "oauth2/v2.0",
            jwks_uri: format!("{base}/{seg}/discovery/v2.0/keys"),
            response_types: &["code", "id_token", "code id_token", "id_token token"],
            scopes: &["openid", "profile", "email", "offline_access"],
            issuer: format!(
                "https://{}/{}/v2.0",
                state.config.hosts.login,
                t.issuer_tid()
            ),
            after_issuer: vec![
                ("request_uri_parameter_supported", json!(false)),
                (
                    "userinfo_endpoint",
                    json!("https://graph.microsoft.com/oidc/userinfo"),
                ),
            ],
            claims: &CLAIMS_V2,
            after_claims: Vec::new(),
        },
    )
}

/// The v1 OpenID configuration.
pub fn openid_v1(state: &AppState, base: &str, t: &TenantRef) -> Value {
    let seg = t.segment();
    openid(
        base,
        t,
        OpenIdFlavor {
            oauth: "oauth2",
            jwks_uri: format!("{base}/common/discovery/keys"),
            response_types: &[
                "code",
                "id_token",
                "code id_token",
                "token id_token",
                "token",
            ],
            scopes: &["openid"],
            issuer: format!("https://{}/{}/", state.config.hosts.sts, t.issuer_tid()),
            after_issuer: vec![("microsoft_multi_refresh_token", json!(true))],
            claims: &CLAIMS_V1,
            after_claims: vec![
                (
                    "check_session_iframe",
                    json!(format!("{base}/{seg}/oauth2/checksession")),
                ),
                (
                    "userinfo_endpoint",
                    json!(format!("{base}/{seg}/openid/userinfo")),
                ),
            ],
        },
    )
}

async fn discovery_openid_v2(
    State(state): State<AppState>,
    Segment(tenant): Segment,
    headers: HeaderMap,
) -> Response {
    tenant_json(&state, &headers, &tenant, |t| {
        openid_v2(&state, &base_url(&state.config, &headers), t)
    })
}

async fn discovery_openid_v1(
    State(state): State<AppState>,
    Segment(tenant): Segment,
    headers: HeaderMap,
) -> Response {
    tenant_json(&state, &headers, &tenant, |t| {
        openid_v1(&state, &base_url(&state.config, &headers), t)
    })
}

// ------------------------------------------------------------------------------------- JWKS

/// `{"keys":[…]}`, active key first; `issuer` per key for the v2 set.
pub fn jwks(state: &AppState, issuer: Option<&str>) -> Value {
    let keys: Vec<Value> = state
        .keys()
        .published()
        .map(|(k, _)| k.jwk(issuer))
        .collect();
    json!({ "keys": keys })
}

async fn discovery_keys_v1(
    State(state): State<AppState>,
    Segment(tenant): Segment,
    headers: HeaderMap,
) -> Response {
    tenant_json(&state, &headers, &tenant, |_| jwks(&state, None))
}

async fn discovery_keys_v2(
    State(state): State<AppState>,
    Segment(tenant): Segment,
    headers: HeaderMap,
) -> Response {
    tenant_json(&state, &headers, &tenant, |t| {
        let issuer = format!(
            "https://{}/{}/v2.0",
            state.config.hosts.login,
            t.issuer_tid()
        );
        jwks(&state, Some(&issuer))
    })
}

// --------------------------------------------------------------------------- instance discovery

/// The cloud table of instance discovery, verbatim from Azure AD.
fn instance_metadata() -> Value {
    json!([
        {"preferred_network":"login.microsoftonline.com","preferred_cache":"login.windows.net","aliases":["login.microsoftonline.com","login.windows.net","login.microsoft.com","sts.windows.net"]},
        {"preferred_network":"login.partner.microsoftonline.cn","preferred_cache":"login.partner.microsoftonline.cn","aliases":["login.partner.microsoftonline.cn","login.chinacloudapi.cn"]},
        {"preferred_network":"login.microsoftonline.de","preferred_cache":"login.microsoftonline.de","aliases":["login.microsoftonline.de"]},
        {"preferred_network":"login.microsoftonline.us","preferred_cache":"login.microsoftonline.us","aliases":["login.microsoftonline.us","login.usgovcloudapi.net"]},
        {"preferred_network":"login-us.microsoftonline.com","preferred_cache":"login-us.microsoftonline.com","aliases":["login-us.microsoftonline.com"]}
    ])
}

async fn discovery_instance(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let p = Params::parse(query.unwrap_or_default().as_bytes());
    let Some(version) = p.get("api-version") else {
        return aad_error(&state, &headers, AadError::missing_parameter("api-version"));
    };
    if version != "1.0" && version != "1.1" {
        return aad_error(&state, &headers, AadError::api_version_unsupported(version));
    }
    let Some(authz) = p.get("authorization_endpoint") else {
        return aad_error(
            &state,
            &headers,
            AadError::missing_parameter("authorization_endpoint"),
        );
    };
    let base = base_url(&state.config, &headers);
    let Ok(url) = url::Url::parse(authz) else {
        return aad_error(&state, &headers, AadError::invalid_instance());
    };
    let host = url.host_str().unwrap_or("").to_ascii_lowercase();
    let base_host = url::Url::parse(&base)
        .ok()
        .and_then(|u| u.host_str().map(|h| h.to_ascii_lowercase()));
    let hosts = &state.config.hosts;
    let known = [
        "login.microsoftonline.com",
        "login.windows.net",
        "login.microsoft.com",
        "sts.windows.net",
        hosts.login.as_str(),
        hosts.sts.as_str(),
        hosts.login_windows.as_str(),
    ]
    .iter()
    .any(|h| h.eq_ignore_ascii_case(&host))
        || base_host.as_deref() == Some(host.as_str());
    if !known {
        return aad_error(&state, &headers, AadError::invalid_instance());
    }
    let tenant = url
        .path_segments()
        .and_then(|mut s| s.next())
        .filter(|s| !s.is_empty())
        .unwrap_or("common")
        .to_string();
    let mut m = Map::new();
    m.insert(
        "tenant_discovery_endpoint".into(),
        json!(format!(
            "{base}/{}/v2.0/.well-known/openid-configuration",
            percent_path(&tenant)
        )),
    );
    m.insert("api-version".into(), json!(version));
    m.insert("metadata".into(), instance_metadata());
    json_doc(Value::Object(m))
}

/// Keeps a path segment taken from a URL a path segment.
fn percent_path(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

// ----------------------------------------------------------------------------------- user realm

/// What the directory knows about a login name's domain.
struct Realm {
    domain: String,
    kind: Option<DomainKind>,
    brand: String,
    federation: Option<crate::model::Federation>,
}

fn realm_of(state: &AppState, login: &str) -> Realm {
    let domain = login
        .rsplit_once('@')
        .map(|(_, d)| d)
        .unwrap_or(login)
        .to_ascii_lowercase();
    let dir = state.dir();
    for t in &dir.tenants {
        if let Some(d) = t.domain(&domain) {
            let brand = d
                .federation
                .as_ref()
                .map(|f| f.federation_brand_name.clone())
                .filter(|b| !b.is_empty())
                .unwrap_or_else(|| t.display_name.clone());
            return Realm {
                domain: d.name.clone(),
                kind: Some(d.kind),
                brand,
                federation: d.federation.clone(),
            };
        }
    }
    Realm {
        domain,
        kind: None,
        brand: String::new(),
        federation: None,
    }
}

/// The `/common/userrealm` document for api-version 1.0 or 2.0.
pub fn userrealm(state: &AppState, login: &str, v2: bool) -> Value {
    let r = realm_of(state, login);
    let mut m = Map::new();
    let federated = r.kind == Some(DomainKind::Federated) && r.federation.is_some();
    if !v2 {
        m.insert("ver".into(), json!("1.0"));
        match r.kind {
            None => {
                m.insert("account_type".into(), json!("Unknown"));
            }
            Some(_) => {
                m.insert(
                    "account_type".into(),
                    json!(if federated { "Federated" } else { "Managed" }),
                );
                m.insert("domain_name".into(), json!(r.domain));
                if let (true, Some(f)) = (federated, &r.federation) {
                    m.insert("federation_protocol".into(), json!("WSTrust"));
                    m.insert(
                        "federation_metadata_url".into(),
                        json!(f.metadata_exchange_uri),
                    );
                    m.insert(
                        "federation_active_auth_url".into(),
                        json!(f.active_log_on_uri),
                    );
                }
            }
        }
        m.insert("cloud_instance_name".into(), json!("microsoftonline.com"));
        if r.kind.is_some() {
            m.insert(
                "cloud_audience_urn".into(),
                json!("urn:federation:MicrosoftOnline"),
            );
        }
        return Value::Object(m);
    }
    match r.kind {
        None => {
            m.insert("NameSpaceType".into(), json!("Unknown"));
            m.insert("Login".into(), json!(login));
            m.insert("DomainName".into(), json!(r.domain));
        }
        Some(_) => {
            m.insert(
                "NameSpaceType".into(),
                json!(if federated { "Federated" } else { "Managed" }),
            );
            if let (true, Some(f)) = (federated, &r.federation) {
                m.insert("federation_protocol".into(), json!("WSTrust"));
                m.insert("Login".into(), json!(login));
                m.insert("AuthURL".into(), json!(passive_auth_url(f, login)));
            } else {
                m.insert("Login".into(), json!(login));
            }
            m.insert("DomainName".into(), json!(r.domain));
            m.insert("FederationBrandName".into(), json!(r.brand));
            m.insert("TenantBrandingInfo".into(), Value::Null);
        }
    }
    m.insert("cloud_instance_name".into(), json!("microsoftonline.com"));
    Value::Object(m)
}

fn passive_auth_url(f: &crate::model::Federation, login: &str) -> String {
    let user: String = url::form_urlencoded::byte_serialize(login.as_bytes()).collect();
    let sep = if f.passive_log_on_uri.contains('?') {
        '&'
    } else {
        '?'
    };
    format!(
        "{}{sep}username={user}&wa=wsignin1.0&wtrealm=urn%3afederation%3aMicrosoftOnline&wctx=",
        f.passive_log_on_uri
    )
}

/// The legacy `/getuserrealm.srf` document.
pub fn getuserrealm(state: &AppState, login: &str) -> Value {
    let r = realm_of(state, login);
    let federated = r.kind == Some(DomainKind::Federated) && r.federation.is_some();
    let mut m = Map::new();
    match r.kind {
        None => {
            m.insert("State".into(), json!(4));
            m.insert("UserState".into(), json!(1));
            m.insert("Login".into(), json!(login));
            m.insert("NameSpaceType".into(), json!("Unknown"));
        }
        Some(_) => {
            m.insert("State".into(), json!(if federated { 3 } else { 4 }));
            m.insert("UserState".into(), json!(if federated { 2 } else { 1 }));
            m.insert("Login".into(), json!(login));
            m.insert(
                "NameSpaceType".into(),
                json!(if federated { "Federated" } else { "Managed" }),
            );
            m.insert("DomainName".into(), json!(r.domain));
            m.insert("FederationBrandName".into(), json!(r.brand));
            if let (true, Some(f)) = (federated, &r.federation) {
                m.insert("AuthURL".into(), json!(passive_auth_url(f, login)));
            }
            m.insert("CloudInstanceName".into(), json!("microsoftonline.com"));
            m.insert(
                "CloudInstanceIssuerUri".into(),
                json!("urn:federation:MicrosoftOnline"),
            );
        }
    }
    Value::Object(m)
}

async fn discovery_userrealm(
    State(state): State<AppState>,
    Segment(upn): Segment,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let p = Params::parse(query.unwrap_or_default().as_bytes());
    let v2 = match p.get("api-version") {
        Some("2.0") => true,
        Some("1.0") | None => false,
        Some(other) => {
            return aad_error(&state, &headers, AadError::api_version_unsupported(other))
        }
    };
    json_doc(userrealm(&state, &upn, v2))
}

async fn discovery_getuserrealm(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> Response {
    let p = Params::parse(query.unwrap_or_default().as_bytes());
    let login = p.get("login").unwrap_or("").to_string();
    json_doc(getuserrealm(&state, &login))
}

// ------------------------------------------------------------------------ federation metadata

const FED_NS: &str = "http://docs.oasis-open.org/wsfed/federation/200706";
const AUTH_NS: &str = "http://docs.oasis-open.org/wsfed/authorization/200706";

/// Claim types the security token service offers: (URI, display name, description).
const CLAIM_TYPES: [(&str, &str, &str); 9] = [
    ("http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name", "Name", "The mutable display name of the user."),
    ("http://schemas.xmlsoap.org/ws/2005/05/identity/claims/nameidentifier", "Subject", "An immutable, globally unique, non-reusable identifier of the user that is unique to the application for which a token is issued."),
    ("http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname", "Given Name", "First name of the user."),
    ("http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname", "Surname", "Last name of the user."),
    ("http://schemas.microsoft.com/identity/claims/displayname", "Display Name", "Display name of the user."),
    ("http://schemas.microsoft.com/identity/claims/objectidentifier", "ObjectIdentifier", "Primary identifier for the user in the directory. Immutable, globally unique, non-reusable."),
    ("http://schemas.microsoft.com/identity/claims/tenantid", "TenantId", "Identifier for the user's tenant."),
    ("http://schemas.microsoft.com/identity/claims/identityprovider", "IdentityProvider", "Identity provider for the user."),
    ("http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress", "Email", "Email address of the user."),
];

/// The WS-Federation metadata document (unsigned; see the book's `reference/aad-sign-in.md`).
///
/// `ID` is derived from the issuer and the published key ids, so the document is byte-stable
/// while the key set is unchanged (Azure AD's is a fresh GUID per response; nothing reads it).
pub fn federation_metadata(state: &AppState, base: &str, t: &TenantRef) -> String {
    let sts = &state.config.hosts.sts;
    let entity = format!("https://{sts}/{}/", t.issuer_tid());
    let seg = t.segment();
    let certs: Vec<(String, String)> = state
        .keys()
        .published()
        .map(|(k, _)| {
            (
                k.kid.clone(),
                base64::engine::general_purpose::STANDARD.encode(&k.cert_der),
            )
        })
        .collect();
    let id_seed = format!(
        "{entity}|{}",
        certs
            .iter()
            .map(|(k, _)| k.as_str())
            .collect::<Vec<_>>()
            .join(",")
    );
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, id_seed.as_bytes());
    let mut idb = [0u8; 16];
    idb.copy_from_slice(&digest.as_ref()[..16]);
    let id = uuid::Builder::from_random_bytes(idb).into_uuid();

    let keys: String = certs
        .iter()
        .map(|(_, c)| {
            format!(
                r#"<KeyDescriptor use="signing"><KeyInfo xmlns="http://www.w3.org/2000/09/xmldsig#"><X509Data><X509Certificate>{c}</X509Certificate></X509Data></KeyInfo></KeyDescriptor>"#
            )
        })
        .collect();
    let claims: String = CLAIM_TYPES
        .iter()
        .map(|(uri, name, desc)| {
            format!(
                r#"<auth:ClaimType Uri="{uri}" xmlns:auth="{AUTH_NS}"><auth:DisplayName>{}</auth:DisplayName><auth:Description>{}</auth:Description></auth:ClaimType>"#,
                html_escape(name),
                html_escape(desc)
            )
        })
        .collect();
    let wsfed = html_escape(&format!("{base}/{seg}/wsfed"));
    let saml2 = html_escape(&format!("{base}/{seg}/saml2"));
    let epr = |addr: &str| {
        format!(
            r#"<wsa:EndpointReference xmlns:wsa="http://www.w3.org/2005/08/addressing"><wsa:Address>{addr}</wsa:Address></wsa:EndpointReference>"#
        )
    };
    let role_attrs = format!(
        r#"protocolSupportEnumeration="{FED_NS}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:fed="{FED_NS}""#
    );
    let entity_x = html_escape(&entity);
    format!(
        concat!(
            r#"<?xml version="1.0" encoding="utf-8"?>"#,
            r#"<EntityDescriptor ID="_{id}" entityID="{entity}" xmlns="urn:oasis:names:tc:SAML:2.0:metadata">"#,
            r#"<RoleDescriptor xsi:type="fed:SecurityTokenServiceType" {attrs}>{keys}"#,
            r#"<fed:ClaimTypesOffered>{claims}</fed:ClaimTypesOffered>"#,
            r#"<fed:SecurityTokenServiceEndpoint>{wsfed_epr}</fed:SecurityTokenServiceEndpoint>"#,
            r#"<fed:PassiveRequestorEndpoint>{wsfed_epr}</fed:PassiveRequestorEndpoint>"#,
            r#"</RoleDescriptor>"#,
            r#"<RoleDescriptor xsi:type="fed:ApplicationServiceType" {attrs}>{keys}"#,
            r#"<fed:TargetScopes>{entity_epr}</fed:TargetScopes>"#,
            r#"<fed:ApplicationServiceEndpoint>{wsfed_epr}</fed:ApplicationServiceEndpoint>"#,
            r#"<fed:PassiveRequestorEndpoint>{wsfed_epr}</fed:PassiveRequestorEndpoint>"#,
            r#"</RoleDescriptor>"#,
            r#"<IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">{keys}"#,
            r#"<SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="{saml2}" />"#,
            r#"<SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="{saml2}" />"#,
            r#"<SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="{saml2}" />"#,
            r#"</IDPSSODescriptor>"#,
            r#"</EntityDescriptor>"#
        ),
        id = id,
        entity = entity_x,
        attrs = role_attrs,
        keys = keys,
        claims = claims,
        wsfed_epr = epr(&wsfed),
        entity_epr = epr(&entity_x),
        saml2 = saml2,
    )
}

async fn discovery_federation_metadata(
    State(state): State<AppState>,
    Segment(tenant): Segment,
    headers: HeaderMap,
) -> Response {
    let Some(t) = TenantRef::resolve(&state.dir(), &tenant) else {
        let mut r = aad_error(&state, &headers, AadError::tenant_not_found(&tenant));
        *r.status_mut() = StatusCode::NOT_FOUND;
        return r;
    };
    let body = federation_metadata(&state, &base_url(&state.config, &headers), &t);
    discovery_doc(body, "application/xml")
}
