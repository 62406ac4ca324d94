//! What a token request asks for: the v1 `resource=` or the v2 `scope=` list, resolved against the
//! tenant's SPN registry into one resource principal and the delegated permissions (`scp`).
//!
//! Azure AD's rules, kept here so every grant resolves the same way: a v1 resource is matched by
//! [`Tenant::resource`] and kept exactly as requested (it becomes `aud`); a v2 scope is
//! `{resource}/{permission}`, `{resource}/.default`, a bare Microsoft Graph permission
//! (`User.Read`) or one of the OpenID Connect scopes. An unregistered resource is AADSTS50001 on v1
//! and AADSTS500011 on v2; a permission the resource does not expose is AADSTS70011.

use uuid::Uuid;

use crate::error::AadError;
use crate::model::{Application, Tenant};

/// Microsoft Graph, the resource of bare v2 scopes such as `User.Read`.
pub const GRAPH_APP_ID: Uuid = uuid::uuid!("00000003-0000-0000-c000-000000000000");

/// Scopes that ask for tokens rather than for a resource permission.
const OIDC_SCOPES: [&str; 4] = ["openid", "profile", "offline_access", "email"];

/// A resolved request target.
#[derive(Debug, Clone)]
pub struct Target {
    /// The resource principal.
    pub app: Application,
    /// The resource exactly as the request named it (v1-format `aud`).
    pub requested: String,
    /// Delegated permissions for `scp`.
    pub scp: Vec<String>,
    /// v2: the requested scope list as sent (echoed in the response's `scope`).
    pub scope_param: Option<String>,
    /// `openid` was requested (an id_token is due).
    pub openid: bool,
    /// `offline_access` was requested (a v2 refresh token is due).
    pub offline: bool,
}

impl Target {
    /// `scp` as a space-separated claim value.
    pub fn scp_claim(&self) -> String {
        self.scp.join(" ")
    }

    /// Whether tokens for this resource use the v2 format.
    pub fn v2_format(&self) -> bool {
        self.app.access_token_accepted_version == Some(2)
    }
}

/// The delegated permissions a client holds on a resource: its `granted` entry for that resource
/// (only what the resource exposes), or everything the resource exposes when none is listed.
pub fn granted_or_all(client: &Application, resource: &Application) -> Vec<String> {
    match client
        .granted
        .iter()
        .find(|g| g.resource == resource.app_id)
    {
        Some(g) => g
            .scopes
            .iter()
            .filter(|s| resource.scopes.iter().any(|r| r.eq_ignore_ascii_case(s)))
            .cloned()
            .collect(),
        None => resource.scopes.clone(),
    }
}

/// The application roles a client holds on a resource (`roles` of an app token).
pub fn granted_roles(client: &Application, resource: &Application) -> Vec<String> {
    client
        .granted
        .iter()
        .filter(|g| g.resource == resource.app_id)
        .flat_map(|g| g.scopes.iter())
        .filter(|s| resource.app_roles.iter().any(|r| r.eq_ignore_ascii_case(s)))
        .cloned()
        .collect()
}

fn has_word(list: Option<&str>, word: &str) -> bool {
    list.is_some_and(|l| l.split_whitespace().any(|w| w.eq_ignore_ascii_case(word)))
}

/// v1: `resource=` (plus an optional `scope=` that may ask for `openid`).
pub fn resolve_v1(
    tenant: &Tenant,
    tenant_name: &str,
    client: &Application,
    resource: &str,
    scope: Option<&str>,
) -> Result<Target, AadError> {
    let app = tenant
        .resource(resource)
        .ok_or_else(|| AadError::resource_not_found_v1(resource, tenant_name))?;
    Ok(Target {
        scp: granted_or_all(client, app),
        app: app.clone(),
        requested: resource.to_string(),
        scope_param: None,
        openid: has_word(scope, "openid"),
        offline: true,
    })
}

/// Splits `{resource}/{permission}`; a bare value is a Microsoft Graph permission.
fn split_scope(s: &str) -> (String, &str) {
    match s.rsplit_once('/') {
        Some((res, perm)) if !res.is_empty() && !res.ends_with(':') && !res.ends_with('/') => {
            (res.to_string(), perm)
        }
        _ => (GRAPH_APP_ID.to_string(), s),
    }
}

/// v2: `scope=`.
pub fn resolve_v2(
    tenant: &Tenant,
    tenant_name: &str,
    client: &Application,
    scope: &str,
) -> Result<Target, AadError> {
    let words: Vec<&str> = scope.split_whitespace().collect();
    let mut openid = false;
    let mut offline = false;
    let mut oidc: Vec<String> = Vec::new();
    let mut found: Option<(Application, String)> = None;
    let mut scp: Vec<String> = Vec::new();
    for w in &words {
        if let Some(o) = OIDC_SCOPES.iter().find(|o| o.eq_ignore_ascii_case(w)) {
            openid |= *o == "openid";
            offline |= *o == "offline_access";
            if *o != "offline_access" {
                oidc.push((*o).to_string());
            }
            continue;
        }
        let (res, perm) = split_scope(w);
        let app = tenant
            .resource(&res)
            .ok_or_else(|| AadError::resource_not_found_v2(&res, tenant_name))?;
        match &found {
            Some((a, _)) if a.app_id != app.app_id => {
                // One token is for one resource; Azure AD refuses scopes of two resources.
                return Err(AadError::invalid_scope(w));
            }
            Some(_) => {}
            None => found = Some((app.clone(), res.clone())),
        }
        if perm == ".default" {
            for s in granted_or_all(client, app) {
                if !scp.contains(&s) {
                    scp.push(s);
                }
            }
        } else {
            let exposed = app.scopes.iter().find(|s| s.eq_ignore_ascii_case(perm));
            match exposed {
                Some(s) => {
                    if !scp.contains(s) {
                        scp.push(s.clone());
                    }
                }
                None => return Err(AadError::invalid_scope(w)),
            }
        }
    }
    let (app, requested) = match found {
        Some(f) => f,
        None => {
            // Only OpenID Connect scopes: the access token is for Microsoft Graph.
            let graph = tenant.app(GRAPH_APP_ID).ok_or_else(|| {
                AadError::resource_not_found_v2(&GRAPH_APP_ID.to_string(), tenant_name)
            })?;
            scp = oidc;
            (graph.clone(), GRAPH_APP_ID.to_string())
        }
    };
    Ok(Target {
        app,
        requested,
        scp,
        scope_param: Some(words.join(" ")),
        openid,
        offline,
    })
}

/// v2 client credentials: exactly one `{resource}/.default`.
pub fn resolve_app_v2(tenant: &Tenant, tenant_name: &str, scope: &str) -> Result<Target, AadError> {
    let words: Vec<&str> = scope.split_whitespace().collect();
    let mut found: Option<(Application, String)> = None;
    for w in &words {
        let (res, perm) = split_scope(w);
        if perm != ".default" || found.is_some() {
            return Err(AadError::invalid_scope(w));
        }
        let app = tenant
            .resource(&res)
            .ok_or_else(|| AadError::resource_not_found_v2(&res, tenant_name))?;
        found = Some((app.clone(), res));
    }
    let (app, requested) = found.ok_or_else(|| AadError::missing_parameter("scope"))?;
    Ok(Target {
        app,
        requested,
        scp: Vec::new(),
        scope_param: Some(words.join(" ")),
        openid: false,
        offline: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_resource_and_permission() {
        assert_eq!(
            split_scope("https://mail.contoso.com/EWS.AccessAsUser.All"),
            (
                "https://mail.contoso.com".to_string(),
                "EWS.AccessAsUser.All"
            )
        );
        assert_eq!(
            split_scope("api://d682aded-84aa-4316-896c-c89084acc4d3/access_as_user"),
            (
                "api://d682aded-84aa-4316-896c-c89084acc4d3".to_string(),
                "access_as_user"
            )
        );
        assert_eq!(
            split_scope("User.Read"),
            (GRAPH_APP_ID.to_string(), "User.Read")
        );
        assert_eq!(
            split_scope("https://mail.contoso.com//.default"),
            (
                GRAPH_APP_ID.to_string(),
                "https://mail.contoso.com//.default"
            )
        );
    }
}
