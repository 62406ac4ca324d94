//! The token endpoint's grants: password, authorization code, refresh token, device code,
//! client credentials and on-behalf-of, and the user tokens they issue (the SAML bearer grants
//! are [`super::saml`]).
//!
//! Refresh tokens are opaque handles into [`GrantStore::refresh`]; each one remembers the original
//! sign-in instant (compared with TokensValidFrom: AADSTS50173) and its last use (inactivity:
//! AADSTS700082). Redeeming one always issues a new one (rotation) and leaves the old one valid, as
//! Azure AD does.
//!
//! [`GrantStore::refresh`]: crate::grants::GrantStore

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use lab_kit::saml::SamlVersion;
use serde_json::{json, Map, Value};
use uuid::Uuid;

use crate::error::AadError;
use crate::grants::{AuthContext, DeviceState};
use crate::model::{RevocationResponse, Tenant, User};
use crate::signin;
use crate::token::claims::{self, v1_issuer, v2_issuer, verify_jwt, JwtError};
use crate::token::issue::issue_user;
use crate::token::request::{instant, Ctx, PathTenant};
use crate::token::saml::{self, SAML11_BEARER_GRANT, SAML2_BEARER_GRANT};
use crate::token::scope;

/// `grant_type` of the device authorization grant.
pub const DEVICE_CODE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";
/// `grant_type` of the on-behalf-of grant.
pub const JWT_BEARER_GRANT: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// The token endpoint: one grant per `grant_type`.
pub(super) fn token(c: &Ctx) -> Result<Value, AadError> {
    if let Some(d) = c.params.first_duplicate() {
        return Err(AadError::duplicate_parameter(d));
    }
    let path = c.path_tenant()?;
    let grant = c.required("grant_type")?;
    if c.v2 && c.params.get("resource").is_some() {
        return Err(AadError::resource_on_v2());
    }
    match grant {
        "password" => grant_password(c, path),
        "authorization_code" => grant_code(c, path),
        "refresh_token" => grant_refresh(c, path),
        DEVICE_CODE_GRANT => grant_device(c, path, "device_code"),
        // ADAL's spelling on the v1 endpoint: `grant_type=device_code&code=…`.
        "device_code" if !c.v2 => grant_device(c, path, "code"),
        // MSAL.js / msal-node (msal-common's `GrantType.DEVICE_CODE_GRANT`) poll the v2
        // endpoint with the short name and the RFC's `device_code` parameter.
        "device_code" => grant_device(c, path, "device_code"),
        "client_credentials" => grant_client_credentials(c, path),
        JWT_BEARER_GRANT => grant_on_behalf_of(c, path),
        SAML11_BEARER_GRANT => saml::grant_saml_bearer(c, path, SamlVersion::V1_1),
        SAML2_BEARER_GRANT => saml::grant_saml_bearer(c, path, SamlVersion::V2_0),
        other => Err(AadError::unsupported_grant_type(other)),
    }
}

/// Resource Owner Password Credentials.
fn grant_password(c: &Ctx, path: PathTenant) -> Result<Value, AadError> {
    c.client_id_present()?;
    let username = c.required("username")?;
    let password = c.required("password")?;
    let upn_domain = username.rsplit_once('@').map(|p| p.1).unwrap_or(username);
    let (tenant, tname) = match path {
        PathTenant::Specific(t) => {
            let name = c.tenant_name(&t);
            (*t, name)
        }
        PathTenant::Common => {
            // The user's domain is the tenant the request named.
            let found = c.s.dir().tenant_of_upn(username).cloned();
            let t = found.ok_or_else(|| AadError::user_not_found(upn_domain))?;
            let name = t
                .domain(upn_domain)
                .map(|d| d.name.clone())
                .unwrap_or_else(|| t.primary_domain().to_string());
            (t, name)
        }
    };
    let client = c.client(&tenant, &tname, false)?;
    let target = c.target(&tenant, &tname, &client.app, None)?;
    let user = signin::authenticate(&tenant, username, password)?.clone();
    let auth = AuthContext::signed_in(tenant.tid, user.oid, vec!["pwd".to_string()], c.at);
    c.second_factor(&tenant, &user, &client, &target, &auth)?;
    if !signin::has_consent(&tenant, &user, client.app.app_id) {
        return Err(AadError::consent_required(
            &client.app.app_id.to_string(),
            &client.app.display_name,
        ));
    }
    Ok(issue_user(c, &tenant, &user, &client, &target, &auth, None))
}

/// Authorization code redemption (codes are created by the authorize endpoint).
fn grant_code(c: &Ctx, path: PathTenant) -> Result<Value, AadError> {
    c.client_id_present()?;
    let code = c.required("code")?;
    let ac =
        c.s.grants()
            .codes
            .get(code)
            .cloned()
            .ok_or_else(AadError::malformed_grant)?;
    let tenant = c.grant_tenant(&path, ac.auth.tid, AadError::malformed_grant)?;
    let tname = c.tenant_name(&tenant);
    let client = c.client(&tenant, &tname, false)?;
    if ac.redeemed {
        return Err(AadError::code_redeemed());
    }
    if c.now >= ac.expires_at {
        return Err(AadError::code_expired());
    }
    if ac.client_id != client.app.app_id {
        return Err(AadError::scopes_unauthorized());
    }
    match c.params.get("redirect_uri") {
        Some(r) if r == ac.redirect_uri => {}
        None if ac.redirect_uri.is_empty() => {}
        None => return Err(AadError::missing_parameter("redirect_uri")),
        Some(r) => {
            return Err(AadError::redirect_mismatch(
                r,
                &client.app.app_id.to_string(),
            ))
        }
    }
    if let Some(challenge) = &ac.code_challenge {
        let verifier = c.required("code_verifier")?;
        let method = ac.code_challenge_method.as_deref().unwrap_or("plain");
        let ok = if method.eq_ignore_ascii_case("S256") {
            let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, verifier.as_bytes());
            URL_SAFE_NO_PAD.encode(d.as_ref()) == *challenge
        } else {
            verifier == challenge
        };
        if !ok {
            return Err(AadError::pkce_mismatch());
        }
    }
    let user = active_user(&tenant, ac.auth.user_oid)?;
    let fallback = if c.v2 {
        ac.scope.as_deref()
    } else {
        ac.resource.as_deref()
    };
    let target = c.target(&tenant, &tname, &client.app, fallback)?;
    {
        let mut g = c.s.grants();
        match g.codes.get_mut(code) {
            Some(stored) if !stored.redeemed => stored.redeemed = true,
            _ => return Err(AadError::code_redeemed()),
        }
    }
    let mut target = target;
    if !c.v2
        && ac.scope.as_deref().is_some_and(|s| {
            s.split_whitespace()
                .any(|w| w.eq_ignore_ascii_case("openid"))
        })
    {
        target.openid = true;
    }
    Ok(issue_user(
        c,
        &tenant,
        &user,
        &client,
        &target,
        &ac.auth,
        ac.nonce.as_deref(),
    ))
}

/// The user of a grant, still present and enabled.
fn active_user(tenant: &Tenant, oid: Uuid) -> Result<User, AadError> {
    let user = tenant
        .user_by_oid(oid)
        .ok_or_else(AadError::malformed_grant)?;
    if !user.enabled {
        return Err(AadError::account_disabled());
    }
    Ok(user.clone())
}

/// Refresh token redemption, with Azure AD's revocation and lifetime checks in order.
fn grant_refresh(c: &Ctx, path: PathTenant) -> Result<Value, AadError> {
    c.client_id_present()?;
    let rt = c.required("refresh_token")?;
    let grant =
        c.s.grants()
            .refresh
            .get(rt)
            .cloned()
            .ok_or_else(AadError::malformed_grant)?;
    if grant.revoked {
        // A single token revoked by the admin API: the grant is gone, as after a consent revoke.
        return Err(AadError::scopes_unauthorized());
    }
    let tenant = c.grant_tenant(&path, grant.auth.tid, AadError::malformed_grant)?;
    let tname = c.tenant_name(&tenant);
    let client = c.client(&tenant, &tname, false)?;
    if grant.client_id != client.app.app_id {
        return Err(AadError::scopes_unauthorized());
    }
    let user = tenant
        .user_by_oid(grant.auth.user_oid)
        .ok_or_else(AadError::malformed_grant)?
        .clone();
    let auth_time = grant.auth.auth_time;
    // The grant's issue instant to the tick; TokensValidFrom is whole seconds (set so by the admin
    // API), so comparing the instants is comparing the seconds.
    let signed_in = grant.auth.auth_instant();
    if let Some(vf) = user.tokens_valid_from {
        if signed_in < vf {
            return Err(AadError::grant_revoked(signed_in, vf));
        }
    }
    if let Some(vf) = tenant.tokens_valid_from {
        if signed_in < vf {
            return Err(match tenant.revocation_response {
                RevocationResponse::Unicorn => AadError::unicorn_rampage(vf),
                RevocationResponse::Standard => AadError::grant_revoked(signed_in, vf),
            });
        }
    }
    let lifetimes = &tenant.token_lifetimes;
    if c.now.saturating_sub(grant.last_used) > lifetimes.refresh_token_max_inactive {
        return Err(AadError::refresh_inactive(
            instant(grant.issued_at),
            lifetimes.refresh_token_max_inactive,
        ));
    }
    if let Some(max_age) = lifetimes.refresh_token_max_age {
        if c.now.saturating_sub(auth_time) > max_age {
            return Err(AadError::refresh_max_age(signed_in, max_age));
        }
    }
    if !user.enabled {
        return Err(AadError::account_disabled());
    }
    let target = c.target(&tenant, &tname, &client.app, Some(&grant.scope))?;
    c.second_factor(&tenant, &user, &client, &target, &grant.auth)?;
    if let Some(g) = c.s.grants().refresh.get_mut(rt) {
        g.last_used = c.now;
    }
    Ok(issue_user(
        c,
        &tenant,
        &user,
        &client,
        &target,
        &grant.auth,
        None,
    ))
}

/// Device-flow polling; `param` names the parameter carrying the device code.
fn grant_device(c: &Ctx, path: PathTenant, param: &str) -> Result<Value, AadError> {
    c.client_id_present()?;
    let dc = c.required(param)?;
    let device =
        c.s.grants()
            .devices
            .get(dc)
            .cloned()
            .ok_or_else(AadError::bad_verification_code)?;
    let stored_tenant =
        c.s.dir()
            .tenant(&device.tenant)
            .map(|t| t.tid)
            .ok_or_else(AadError::bad_verification_code)?;
    let tenant = c.grant_tenant(&path, stored_tenant, AadError::bad_verification_code)?;
    let tname = c.tenant_name(&tenant);
    let client = c.client(&tenant, &tname, false)?;
    if device.client_id != client.app.app_id || device.redeemed {
        return Err(AadError::bad_verification_code());
    }
    if c.now >= device.expires_at {
        return Err(AadError::device_code_expired());
    }
    let now_us = c.s.clock.unix_micros();
    if c.s
        .grants()
        .poll_too_fast(dc, now_us, super::devicecode::DEVICE_POLL_INTERVAL)
    {
        return Err(AadError::client_request_loop());
    }
    let auth = match &device.state {
        DeviceState::Pending => return Err(AadError::authorization_pending()),
        DeviceState::Declined => return Err(AadError::authorization_declined()),
        DeviceState::Approved(a) => a.clone(),
    };
    if auth.tid != tenant.tid {
        return Err(AadError::bad_verification_code());
    }
    let user = active_user(&tenant, auth.user_oid)?;
    let fallback = if c.v2 {
        device.scope.as_deref()
    } else {
        device.resource.as_deref()
    };
    let target = c.target(&tenant, &tname, &client.app, fallback)?;
    {
        let mut g = c.s.grants();
        match g.devices.get_mut(dc) {
            Some(d) if !d.redeemed => d.redeemed = true,
            _ => return Err(AadError::bad_verification_code()),
        }
    }
    Ok(issue_user(c, &tenant, &user, &client, &target, &auth, None))
}

/// Client credentials: an app token with the client's application roles on the resource.
fn grant_client_credentials(c: &Ctx, path: PathTenant) -> Result<Value, AadError> {
    let tenant = match path {
        PathTenant::Specific(t) => *t,
        PathTenant::Common => return Err(AadError::no_tenant_info()),
    };
    let tname = c.tenant_name(&tenant);
    c.client_id_present()?;
    let client = c.client(&tenant, &tname, true)?;
    let target = if c.v2 {
        scope::resolve_app_v2(&tenant, &tname, c.required("scope")?)?
    } else {
        scope::resolve_v1(&tenant, &tname, &client.app, c.required("resource")?, None)?
    };
    let roles = scope::granted_roles(&client.app, &target.app);
    let (lifetime, ext) = c.lifetimes(&tenant);
    let claims = claims::app_access_token(
        &c.s.config.hosts,
        &tenant,
        &client.app,
        &target,
        &roles,
        c.now,
        lifetime,
    );
    let access_token = c.s.keys().active().sign_jwt(&claims, !target.v2_format());
    let mut m = Map::new();
    m.insert("token_type".into(), json!("Bearer"));
    if c.v2 {
        m.insert("expires_in".into(), json!(lifetime));
        m.insert("ext_expires_in".into(), json!(ext));
    } else {
        m.insert("expires_in".into(), json!(lifetime.to_string()));
        m.insert("ext_expires_in".into(), json!(ext.to_string()));
        m.insert(
            "expires_on".into(),
            json!(c.now.saturating_add(lifetime).to_string()),
        );
        m.insert("not_before".into(), json!(c.now.to_string()));
        m.insert("resource".into(), json!(target.requested));
    }
    m.insert("access_token".into(), json!(access_token));
    Ok(Value::Object(m))
}

/// How far ahead of the lab clock an on-behalf-of assertion's `nbf` may be.
const ASSERTION_SKEW_SECONDS: i64 = 300;

/// On-behalf-of: a middle tier trades the user's token for one to a downstream resource.
fn grant_on_behalf_of(c: &Ctx, path: PathTenant) -> Result<Value, AadError> {
    let use_ = c.required("requested_token_use")?;
    if use_ != "on_behalf_of" {
        return Err(AadError::unsupported_grant_type(JWT_BEARER_GRANT));
    }
    c.client_id_present()?;
    let assertion = c.required("assertion")?;
    let verified = verify_jwt(&c.s.keys(), assertion);
    let claims = match verified {
        Ok(cl) => cl,
        Err(JwtError::Malformed) => return Err(AadError::assertion_malformed()),
        Err(JwtError::UnknownKey(kid)) => return Err(AadError::assertion_unknown_key(&kid)),
        Err(JwtError::BadSignature) => return Err(AadError::assertion_bad_signature()),
    };
    let str_claim = |n: &str| claims.get(n).and_then(Value::as_str).map(str::to_string);
    let tid = str_claim("tid")
        .and_then(|t| Uuid::parse_str(&t).ok())
        .ok_or_else(AadError::assertion_malformed)?;
    let tenant = c.grant_tenant(&path, tid, AadError::assertion_bad_issuer)?;
    let hosts = &c.s.config.hosts;
    let iss = str_claim("iss").unwrap_or_default();
    if iss != v1_issuer(hosts, tid) && iss != v2_issuer(hosts, tid) {
        return Err(AadError::assertion_bad_issuer());
    }
    let exp = claims.get("exp").and_then(Value::as_i64).unwrap_or(0);
    if c.now >= exp {
        return Err(AadError::assertion_expired(instant(c.now), instant(exp)));
    }
    // Not valid yet: outside its time range as much as an expired one (five minutes of skew, as
    // for the federated SAML tokens).
    let nbf = claims.get("nbf").and_then(Value::as_i64);
    if nbf.is_some_and(|n| c.now < n.saturating_sub(ASSERTION_SKEW_SECONDS)) {
        return Err(AadError::assertion_expired(instant(c.now), instant(exp)));
    }
    let tname = c.tenant_name(&tenant);
    let client = c.client(&tenant, &tname, true)?;
    let aud = str_claim("aud").unwrap_or_default();
    let aud_ok = Uuid::parse_str(&aud).is_ok_and(|u| u == client.app.app_id)
        || client
            .app
            .service_principal_names
            .iter()
            .any(|s| crate::model::normalize_spn(s) == crate::model::normalize_spn(&aud));
    if !aud_ok {
        let id = client.app.app_id;
        return Err(AadError::assertion_wrong_audience(
            &aud,
            &id.to_string(),
            &client.app.display_name,
        ));
    }
    let oid = str_claim("oid").and_then(|o| Uuid::parse_str(&o).ok());
    let oid = match oid {
        Some(o) if str_claim("idtyp").as_deref() != Some("app") && claims.contains_key("scp") => o,
        _ => return Err(AadError::assertion_not_user()),
    };
    let user = active_user(&tenant, oid)?;
    let amr: Vec<String> = claims
        .get("amr")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_else(|| vec!["pwd".to_string()]);
    // The assertion's `iat` is whole seconds: that is all the instant an on-behalf-of grant knows.
    let auth = AuthContext {
        tid,
        user_oid: user.oid,
        amr,
        auth_time: claims.get("iat").and_then(Value::as_i64).unwrap_or(c.now),
        auth_ticks: 0,
    };
    let target = c.target(&tenant, &tname, &client.app, None)?;
    c.second_factor(&tenant, &user, &client, &target, &auth)?;
    Ok(issue_user(c, &tenant, &user, &client, &target, &auth, None))
}
