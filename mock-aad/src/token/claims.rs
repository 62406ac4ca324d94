//! Token contents: the claim sets of v1 and v2 access tokens, app tokens and id_tokens, and the
//! validation of a JWT this service signed (the on-behalf-of assertion).
//!
//! Claims are built as ordered `serde_json::Map`s because the order is part of what a relying
//! party and a person reading a token see: the v1 user token follows the field guide's decoded
//! token name for name, with only `iat`, `nbf`, `exp`, `rh` and `uti` added where Azure AD puts
//! them. Values that identify a user to an application (`sub`) are pairwise and stable, so a
//! client sees the same `sub` on every sign-in.

use aws_lc_rs::digest::{digest, SHA256};
use aws_lc_rs::signature::{RsaPublicKeyComponents, RSA_PKCS1_2048_8192_SHA256};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use rand::RngCore;
use serde_json::{json, Map, Value};
use uuid::Uuid;

use crate::config::Hosts;
use crate::grants::AuthContext;
use crate::keys::KeySet;
use crate::model::{Application, Tenant, User};
use crate::util::random_b64url;

use super::scope::Target;

/// `e_exp` of v1 user tokens (the field guide's value).
const E_EXP: i64 = 262_800;

/// `https://sts.windows.net/{tid}/`.
pub fn v1_issuer(hosts: &Hosts, tid: Uuid) -> String {
    format!("https://{}/{tid}/", hosts.sts)
}

/// `https://login.microsoftonline.com/{tid}/v2.0`.
pub fn v2_issuer(hosts: &Hosts, tid: Uuid) -> String {
    format!("https://{}/{tid}/v2.0", hosts.login)
}

/// Pairwise subject: base64url (no padding) of SHA-256 over the user's oid and the client's appid
/// (43 characters), stable per user and client.
pub fn pairwise_sub(oid: Uuid, appid: Uuid) -> String {
    URL_SAFE_NO_PAD.encode(digest(&SHA256, format!("{oid}{appid}").as_bytes()).as_ref())
}

/// The object id of an application's service principal in a tenant. The lab model has no SPN
/// object ids, so one is derived, stable per tenant and application.
pub fn service_principal_oid(tid: Uuid, app_id: Uuid) -> Uuid {
    let d = digest(&SHA256, format!("spn:{tid}:{app_id}").as_bytes());
    let mut b = [0u8; 16];
    b.copy_from_slice(&d.as_ref()[..16]);
    uuid::Builder::from_random_bytes(b).into_uuid()
}

/// `aio`: an opaque standard-base64 blob like Azure AD's (`ASQA2/8DAAAA…=`).
fn aio() -> String {
    let mut b = [0u8; 42];
    rand::rng().fill_bytes(&mut b);
    STANDARD.encode(b)
}

/// `rh`: opaque, Azure AD's internal refresh hint.
fn rh() -> String {
    format!("0.{}", random_b64url(48))
}

/// `uti`: 22-character base64url token id.
fn uti() -> String {
    random_b64url(16)
}

/// Everything a user token is made from.
pub struct UserIssue<'a> {
    pub hosts: &'a Hosts,
    pub tenant: &'a Tenant,
    pub user: &'a User,
    pub client: &'a Application,
    /// `"0"` public client, `"1"` client secret.
    pub appidacr: &'static str,
    pub target: &'a Target,
    pub auth: &'a AuthContext,
    pub ipaddr: Option<&'a str>,
    pub now: i64,
    pub lifetime: i64,
}

fn times(m: &mut Map<String, Value>, now: i64, lifetime: i64) {
    m.insert("iat".into(), json!(now));
    m.insert("nbf".into(), json!(now));
    m.insert("exp".into(), json!(now.saturating_add(lifetime)));
}

/// A user access token's claims, v1 or v2 format as the resource accepts.
pub fn user_access_token(i: &UserIssue) -> Map<String, Value> {
    if i.target.v2_format() {
        return user_access_token_v2(i);
    }
    let u = i.user;
    let mut m = Map::new();
    m.insert("aud".into(), json!(i.target.requested));
    m.insert("iss".into(), json!(v1_issuer(i.hosts, i.tenant.tid)));
    times(&mut m, i.now, i.lifetime);
    m.insert("acr".into(), json!("1"));
    m.insert("aio".into(), json!(aio()));
    m.insert("amr".into(), json!(i.auth.amr));
    m.insert("appid".into(), json!(i.client.app_id.to_string()));
    m.insert("appidacr".into(), json!(i.appidacr));
    m.insert("e_exp".into(), json!(E_EXP));
    m.insert("enfpolids".into(), json!([]));
    m.insert("family_name".into(), json!(u.family_name));
    m.insert("given_name".into(), json!(u.given_name));
    if let Some(ip) = i.ipaddr {
        m.insert("ipaddr".into(), json!(ip));
    }
    m.insert("name".into(), json!(u.display_name));
    m.insert("oid".into(), json!(u.oid.to_string()));
    if let Some(sid) = &u.onprem_sid {
        m.insert("onprem_sid".into(), json!(sid));
    }
    m.insert("platf".into(), json!("3"));
    m.insert("puid".into(), json!(u.puid));
    m.insert("rh".into(), json!(rh()));
    m.insert("scp".into(), json!(i.target.scp_claim()));
    m.insert("sub".into(), json!(pairwise_sub(u.oid, i.client.app_id)));
    m.insert("tid".into(), json!(i.tenant.tid.to_string()));
    m.insert("unique_name".into(), json!(u.upn));
    m.insert("upn".into(), json!(u.upn));
    m.insert("uti".into(), json!(uti()));
    m.insert("ver".into(), json!("1.0"));
    m
}

fn user_access_token_v2(i: &UserIssue) -> Map<String, Value> {
    let u = i.user;
    let mut m = Map::new();
    m.insert("aud".into(), json!(i.target.app.app_id.to_string()));
    m.insert("iss".into(), json!(v2_issuer(i.hosts, i.tenant.tid)));
    times(&mut m, i.now, i.lifetime);
    m.insert("aio".into(), json!(aio()));
    m.insert("azp".into(), json!(i.client.app_id.to_string()));
    m.insert("azpacr".into(), json!(i.appidacr));
    m.insert("name".into(), json!(u.display_name));
    m.insert("oid".into(), json!(u.oid.to_string()));
    m.insert("preferred_username".into(), json!(u.upn));
    m.insert("rh".into(), json!(rh()));
    m.insert("scp".into(), json!(i.target.scp_claim()));
    m.insert("sub".into(), json!(pairwise_sub(u.oid, i.client.app_id)));
    m.insert("tid".into(), json!(i.tenant.tid.to_string()));
    m.insert("uti".into(), json!(uti()));
    m.insert("ver".into(), json!("2.0"));
    m
}

/// The id_token: audience is the client; v1 issuer and claims on the v1 endpoint, v2 on v2.
pub fn id_token(i: &UserIssue, v2_endpoint: bool, nonce: Option<&str>) -> Map<String, Value> {
    let u = i.user;
    let mut m = Map::new();
    m.insert("aud".into(), json!(i.client.app_id.to_string()));
    if v2_endpoint {
        m.insert("iss".into(), json!(v2_issuer(i.hosts, i.tenant.tid)));
    } else {
        m.insert("iss".into(), json!(v1_issuer(i.hosts, i.tenant.tid)));
    }
    times(&mut m, i.now, i.lifetime);
    if !v2_endpoint {
        m.insert("amr".into(), json!(i.auth.amr));
        m.insert("family_name".into(), json!(u.family_name));
        m.insert("given_name".into(), json!(u.given_name));
        if let Some(ip) = i.ipaddr {
            m.insert("ipaddr".into(), json!(ip));
        }
    }
    m.insert("name".into(), json!(u.display_name));
    if let Some(n) = nonce {
        m.insert("nonce".into(), json!(n));
    }
    m.insert("oid".into(), json!(u.oid.to_string()));
    if v2_endpoint {
        m.insert("preferred_username".into(), json!(u.upn));
    } else if let Some(sid) = &u.onprem_sid {
        m.insert("onprem_sid".into(), json!(sid));
    }
    m.insert("rh".into(), json!(rh()));
    m.insert("sub".into(), json!(pairwise_sub(u.oid, i.client.app_id)));
    m.insert("tid".into(), json!(i.tenant.tid.to_string()));
    if !v2_endpoint {
        m.insert("unique_name".into(), json!(u.upn));
        m.insert("upn".into(), json!(u.upn));
    }
    m.insert("uti".into(), json!(uti()));
    m.insert("ver".into(), json!(if v2_endpoint { "2.0" } else { "1.0" }));
    m
}

/// An application (client credentials) token. `roles` only when the client holds any.
pub fn app_access_token(
    hosts: &Hosts,
    tenant: &Tenant,
    client: &Application,
    target: &Target,
    roles: &[String],
    now: i64,
    lifetime: i64,
) -> Map<String, Value> {
    let v2 = target.v2_format();
    let oid = service_principal_oid(tenant.tid, client.app_id).to_string();
    let mut m = Map::new();
    if v2 {
        m.insert("aud".into(), json!(target.app.app_id.to_string()));
        m.insert("iss".into(), json!(v2_issuer(hosts, tenant.tid)));
    } else {
        m.insert("aud".into(), json!(target.requested));
        m.insert("iss".into(), json!(v1_issuer(hosts, tenant.tid)));
    }
    times(&mut m, now, lifetime);
    m.insert("aio".into(), json!(aio()));
    if v2 {
        m.insert("azp".into(), json!(client.app_id.to_string()));
        m.insert("azpacr".into(), json!("1"));
    } else {
        m.insert("appid".into(), json!(client.app_id.to_string()));
        m.insert("appidacr".into(), json!("1"));
    }
    m.insert("idp".into(), json!(v1_issuer(hosts, tenant.tid)));
    m.insert("idtyp".into(), json!("app"));
    m.insert("oid".into(), json!(oid));
    m.insert("rh".into(), json!(rh()));
    if !roles.is_empty() {
        m.insert("roles".into(), json!(roles));
    }
    m.insert("sub".into(), json!(oid));
    m.insert("tid".into(), json!(tenant.tid.to_string()));
    m.insert("uti".into(), json!(uti()));
    m.insert("ver".into(), json!(if v2 { "2.0" } else { "1.0" }));
    m
}

/// Why a JWT did not verify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JwtError {
    /// Not three base64url parts with JSON header and payload, or not RS256.
    Malformed,
    /// No published key has the header's `kid`.
    UnknownKey(String),
    /// The signature does not verify with the key.
    BadSignature,
}

fn decode_json(part: &str) -> Option<Map<String, Value>> {
    let bytes = URL_SAFE_NO_PAD.decode(part.trim_end_matches('=')).ok()?;
    match serde_json::from_slice::<Value>(&bytes).ok()? {
        Value::Object(m) => Some(m),
        _ => None,
    }
}

/// Verifies an RS256 JWT against the published keys and returns its claims. Issuer, audience and
/// lifetime are the caller's to check.
pub fn verify_jwt(keys: &KeySet, jwt: &str) -> Result<Map<String, Value>, JwtError> {
    let mut parts = jwt.trim().split('.');
    let (h, p, s) = match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(h), Some(p), Some(s), None) => (h, p, s),
        _ => return Err(JwtError::Malformed),
    };
    let header = decode_json(h).ok_or(JwtError::Malformed)?;
    let claims = decode_json(p).ok_or(JwtError::Malformed)?;
    let sig = URL_SAFE_NO_PAD
        .decode(s.trim_end_matches('='))
        .map_err(|_| JwtError::Malformed)?;
    if header.get("alg").and_then(Value::as_str) != Some("RS256") {
        return Err(JwtError::Malformed);
    }
    let kid = header
        .get("kid")
        .and_then(Value::as_str)
        .ok_or(JwtError::Malformed)?;
    let key = keys
        .get(kid)
        .ok_or_else(|| JwtError::UnknownKey(kid.to_string()))?;
    let public = RsaPublicKeyComponents {
        n: &key.n,
        e: &key.e,
    };
    let signing_input = &jwt.trim()[..h.len() + 1 + p.len()];
    public
        .verify(&RSA_PKCS1_2048_8192_SHA256, signing_input.as_bytes(), &sig)
        .map_err(|_| JwtError::BadSignature)?;
    Ok(claims)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairwise_sub_is_43_chars_and_stable() {
        let oid = uuid::uuid!("7f199a96-50b1-4675-9db0-57b362c5d564");
        let app = uuid::uuid!("d3590ed6-52b3-4102-aeff-aad2292ab01c");
        let a = pairwise_sub(oid, app);
        assert_eq!(a.len(), 43);
        assert_eq!(a, pairwise_sub(oid, app));
        assert_ne!(a, pairwise_sub(oid, crate::model::EXCHANGE_APP_ID));
    }

    #[test]
    fn verifies_own_signature_and_rejects_tampering() {
        let keys = KeySet::shipped();
        let mut claims = Map::new();
        claims.insert("a".into(), json!(1));
        let jwt = keys.active().sign_jwt(&claims, true);
        assert_eq!(verify_jwt(&keys, &jwt), Ok(claims));
        let mut parts: Vec<&str> = jwt.split('.').collect();
        let other = URL_SAFE_NO_PAD.encode(r#"{"a":2}"#);
        parts[1] = &other;
        assert_eq!(
            verify_jwt(&keys, &parts.join(".")),
            Err(JwtError::BadSignature)
        );
        assert_eq!(verify_jwt(&keys, "abc"), Err(JwtError::Malformed));
        assert_eq!(verify_jwt(&keys, "a.b.c"), Err(JwtError::Malformed));
    }
}
