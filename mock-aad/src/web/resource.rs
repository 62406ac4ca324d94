//! Which resources an authorize request names, and whether the tenant has them (AADSTS50001 for
//! a v1 `resource`, AADSTS500011 for a v2 `scope`), worded with the tenant label Azure AD uses.
//!
//! Used when the request arrives (a named tenant) and again once the user names their tenant
//! (`/common`), so it sits apart from both.

use uuid::Uuid;

use crate::error::AadError;
use crate::model::Tenant;

const OIDC_SCOPES: [&str; 4] = ["openid", "profile", "email", "offline_access"];

/// The resources a v2 `scope` names (`{resource}/{permission}`; a bare permission is Graph's).
pub(super) fn scope_resources(scope: &str) -> Vec<String> {
    scope
        .split_whitespace()
        .filter(|s| !OIDC_SCOPES.contains(&s.to_ascii_lowercase().as_str()))
        .map(|s| {
            if s.contains("://") {
                match s.rsplit_once('/') {
                    Some((r, _)) if r.contains("://") && !r.ends_with(':') => r.to_string(),
                    _ => s.to_string(),
                }
            } else if let Some((r, _)) = s.split_once('/') {
                r.to_string()
            } else {
                "https://graph.microsoft.com".to_string()
            }
        })
        .collect()
}

/// The label Azure AD's messages call the tenant: the path segment, or for `/common` the
/// domain of the user's name (login_hint or the typed username), else the tenant's primary domain.
pub(super) fn tenant_label(seg: &str, tenant: &Tenant, upn: Option<&str>) -> String {
    let lower = seg.to_ascii_lowercase();
    if lower == "common" || lower == "organizations" {
        upn.and_then(|u| u.rsplit_once('@'))
            .and_then(|(_, d)| tenant.domain(d))
            .map(|d| d.name.clone())
            .unwrap_or_else(|| tenant.primary_domain().to_string())
    } else {
        seg.to_string()
    }
}

/// AADSTS50001 / 500011 for a resource the tenant does not have.
pub(super) fn check_resource(
    tenant: &Tenant,
    seg: &str,
    upn: Option<&str>,
    v2: bool,
    resource: Option<&str>,
    scope: Option<&str>,
) -> Result<(), AadError> {
    let label = tenant_label(seg, tenant, upn);
    if v2 {
        for r in scope_resources(scope.unwrap_or("")) {
            if tenant.resource(&r).is_none() {
                return Err(AadError::resource_not_found_v2(&r, &label));
            }
        }
    } else if let Some(r) = resource {
        if tenant.resource(r).is_none() {
            return Err(AadError::resource_not_found_v1(r, &label));
        }
    }
    Ok(())
}

/// The resource application (for conditional access) a request targets.
pub(super) fn resource_target(
    tenant: &Tenant,
    resource: Option<&str>,
    scope: Option<&str>,
) -> (Option<Uuid>, Option<String>) {
    let name = resource
        .map(str::to_string)
        .or_else(|| scope.and_then(|s| scope_resources(s).into_iter().next()));
    let app = name
        .as_deref()
        .and_then(|n| tenant.resource(n))
        .map(|a| a.app_id);
    (app, name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_resources_split_like_azure_ad() {
        assert_eq!(
            scope_resources("openid profile offline_access https://mail.contoso.com/EWS.AccessAsUser.All User.Read api://d682aded-84aa-4316-896c-c89084acc4d3/access_as_user"),
            vec![
                "https://mail.contoso.com".to_string(),
                "https://graph.microsoft.com".to_string(),
                "api://d682aded-84aa-4316-896c-c89084acc4d3".to_string()
            ]
        );
    }
}
