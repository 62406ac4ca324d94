//! What every user grant ends with: the access token (and the id token when `openid` was asked),
//! a new refresh token in the grant store, and the response body in the v1 or v2 shape.
//!
//! Its own module so each grant family (`grant`, `saml`) uses it without depending on another.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Map, Value};

use crate::grants::{AuthContext, RefreshGrant};
use crate::model::{Tenant, User};
use crate::token::claims;
use crate::token::request::{Client, Ctx};
use crate::token::scope::Target;
use crate::util::random_b64url;

/// Signs the tokens of a user grant, stores the new refresh token and builds the response.
pub(super) fn issue_user(
    c: &Ctx,
    tenant: &Tenant,
    user: &User,
    client: &Client,
    target: &Target,
    auth: &AuthContext,
    nonce: Option<&str>,
) -> Value {
    let (lifetime, ext) = c.lifetimes(tenant);
    let issue = claims::UserIssue {
        hosts: &c.s.config.hosts,
        tenant,
        user,
        client: &client.app,
        appidacr: client.appidacr,
        target,
        auth,
        ipaddr: c.ip.as_deref(),
        now: c.now,
        lifetime,
    };
    let at_claims = claims::user_access_token(&issue);
    let id_claims = target.openid.then(|| claims::id_token(&issue, c.v2, nonce));
    let (access_token, id_token) = {
        let keys = c.s.keys();
        let key = keys.active();
        (
            key.sign_jwt(&at_claims, !target.v2_format()),
            id_claims.map(|cl| key.sign_jwt(&cl, !c.v2)),
        )
    };
    let want_refresh = !c.v2 || target.offline;
    let refresh_token = want_refresh.then(|| {
        let token = random_b64url(96);
        let scope = if c.v2 {
            target.scope_param.clone().unwrap_or_default()
        } else {
            target.requested.clone()
        };
        c.s.sweep_grants();
        c.s.grants().refresh.insert(
            token.clone(),
            RefreshGrant {
                auth: auth.clone(),
                client_id: client.app.app_id,
                scope,
                issued_at: c.now,
                last_used: c.now,
                revoked: false,
            },
        );
        token
    });
    let client_info = (c.params.get("client_info") == Some("1")).then(|| {
        URL_SAFE_NO_PAD.encode(
            json!({"uid": user.oid.to_string(), "utid": tenant.tid.to_string()}).to_string(),
        )
    });
    let mut m = Map::new();
    m.insert("token_type".into(), json!("Bearer"));
    if c.v2 {
        m.insert(
            "scope".into(),
            json!(target.scope_param.clone().unwrap_or_default()),
        );
        m.insert("expires_in".into(), json!(lifetime));
        m.insert("ext_expires_in".into(), json!(ext));
    } else {
        m.insert("scope".into(), json!(target.scp_claim()));
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
    if let Some(rt) = refresh_token {
        m.insert("refresh_token".into(), json!(rt));
    }
    if let Some(it) = id_token {
        m.insert("id_token".into(), json!(it));
    }
    if let Some(ci) = client_info {
        m.insert("client_info".into(), json!(ci));
    }
    Value::Object(m)
}
