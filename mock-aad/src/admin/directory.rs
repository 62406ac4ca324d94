//! Admin calls on the directory as a whole, its tenants, their domains and token lifetimes.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::Json;
use serde_json::{json, Value};

use crate::admin::edit::{edit_tenant, patched, read_tenant, rfc3339, to_json};
use crate::admin::errors::{parse_json, AdminError, AdminJson, AdminPath, AdminResult};
use crate::labfile::{self, ProblemKind};
use crate::model::{Directory, Domain, Tenant, TokenLifetimes};
use crate::state::AppState;

pub(super) async fn directory_get(State(s): State<AppState>) -> Json<Directory> {
    Json(s.dir().clone())
}

/// `PUT /directory`: a whole new directory, JSON (or YAML with a `yaml` content type), checked
/// like a lab file; errors name line and column of the body.
pub(super) async fn directory_put(
    State(s): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> AdminResult<Json<Directory>> {
    let text =
        std::str::from_utf8(&body).map_err(|_| AdminError::bad_request("the body is not UTF-8"))?;
    let is_yaml = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().contains("yaml"));
    let dir: Directory = if is_yaml {
        lab_kit::parse_yaml(text, "request body")
            .map_err(|e| AdminError::bad_request(e.to_string()))?
    } else {
        parse_json(&body)?
    };
    if let Err(p) = labfile::check(&dir) {
        let kind = p.kind;
        let e = p.into_file_error("request body", text);
        return Err(match kind {
            ProblemKind::Conflict => AdminError::conflict(e.to_string()),
            ProblemKind::Invalid => AdminError::bad_request(e.to_string()),
        });
    }
    *s.dir_mut() = dir.clone();
    Ok(Json(dir))
}

pub(super) async fn tenants_list(State(s): State<AppState>) -> Json<Value> {
    let dir = s.dir();
    Json(Value::Array(
        dir.tenants.iter().map(tenant_summary).collect::<Vec<_>>(),
    ))
}

pub(super) fn tenant_summary(t: &Tenant) -> Value {
    json!({
        "tid": t.tid,
        "display_name": t.display_name,
        "domains": t.domains.iter().map(|d| d.name.clone()).collect::<Vec<_>>(),
        "users": t.users.len(),
        "applications": t.applications.len(),
        "tokens_valid_from": t.tokens_valid_from.map(rfc3339),
        "revocation_response": t.revocation_response,
    })
}

pub(super) async fn tenant_get(
    State(s): State<AppState>,
    AdminPath(t): AdminPath<String>,
) -> AdminResult<Json<Value>> {
    read_tenant(&s, &t, |t| Ok(Json(tenant_summary(t))))
}

pub(super) async fn domains_list(
    State(s): State<AppState>,
    AdminPath(t): AdminPath<String>,
) -> AdminResult<Json<Value>> {
    read_tenant(&s, &t, |t| Ok(Json(to_json(&t.domains))))
}

pub(super) fn no_domain(name: &str) -> AdminError {
    AdminError::not_found(format!("no domain '{name}' in this tenant"))
}

pub(super) async fn domain_get(
    State(s): State<AppState>,
    AdminPath((t, name)): AdminPath<(String, String)>,
) -> AdminResult<Json<Domain>> {
    read_tenant(&s, &t, |t| {
        t.domains
            .iter()
            .find(|d| d.name.eq_ignore_ascii_case(&name))
            .cloned()
            .map(Json)
            .ok_or_else(|| no_domain(&name))
    })
}

/// `POST /tenants/{t}/domains` (`New-MsolDomain`): a domain object.
pub(super) async fn domain_add(
    State(s): State<AppState>,
    AdminPath(t): AdminPath<String>,
    AdminJson(domain): AdminJson<Domain>,
) -> AdminResult<(StatusCode, Json<Domain>)> {
    edit_tenant(&s, &t, |tenant| {
        tenant.domains.push(domain.clone());
        Ok(())
    })?;
    Ok((StatusCode::CREATED, Json(domain)))
}

/// `PATCH /tenants/{t}/domains/{name}` (`Set-MsolDomainAuthentication`, `Set-MsolDomain`): a
/// merge patch, e.g. `{"kind":"federated","federation":{…}}`; the name cannot change.
pub(super) async fn domain_patch(
    State(s): State<AppState>,
    AdminPath((t, name)): AdminPath<(String, String)>,
    AdminJson(patch): AdminJson<Value>,
) -> AdminResult<Json<Domain>> {
    edit_tenant(&s, &t, |tenant| {
        let slot = tenant
            .domains
            .iter_mut()
            .find(|d| d.name.eq_ignore_ascii_case(&name))
            .ok_or_else(|| no_domain(&name))?;
        let new: Domain = patched(&*slot, patch)?;
        if !new.name.eq_ignore_ascii_case(&slot.name) {
            return Err(AdminError::bad_request("the domain name cannot be changed"));
        }
        *slot = new.clone();
        Ok(Json(new))
    })
}

/// `DELETE /tenants/{t}/domains/{name}` (`Remove-MsolDomain`): refused while users are in it, as
/// Azure AD refuses it.
pub(super) async fn domain_delete(
    State(s): State<AppState>,
    AdminPath((t, name)): AdminPath<(String, String)>,
) -> AdminResult<StatusCode> {
    edit_tenant(&s, &t, |tenant| {
        let domain = tenant
            .domains
            .iter()
            .find(|d| d.name.eq_ignore_ascii_case(&name))
            .map(|d| d.name.clone())
            .ok_or_else(|| no_domain(&name))?;
        let suffix = format!("@{}", domain.to_ascii_lowercase());
        if tenant
            .users
            .iter()
            .any(|u| u.upn.to_ascii_lowercase().ends_with(&suffix))
        {
            return Err(AdminError::conflict(format!(
                "Unable to remove this domain. Use Get-MsolUser -DomainName {domain} to retrieve a list of objects that are blocking removal."
            )));
        }
        tenant
            .domains
            .retain(|d| !d.name.eq_ignore_ascii_case(&domain));
        Ok(StatusCode::NO_CONTENT)
    })
}

// ------------------------------------------------------------------ token lifetimes

pub(super) async fn lifetimes_get(
    State(s): State<AppState>,
    AdminPath(t): AdminPath<String>,
) -> AdminResult<Json<TokenLifetimes>> {
    read_tenant(&s, &t, |t| Ok(Json(t.token_lifetimes.clone())))
}

/// `PATCH /tenants/{t}/token-lifetimes`: a merge patch, seconds; `refresh_token_max_age: null`
/// means until revoked.
pub(super) async fn lifetimes_patch(
    State(s): State<AppState>,
    AdminPath(t): AdminPath<String>,
    AdminJson(patch): AdminJson<Value>,
) -> AdminResult<Json<TokenLifetimes>> {
    edit_tenant(&s, &t, |tenant| {
        let new: TokenLifetimes = patched(&tenant.token_lifetimes, patch)?;
        let checks = [
            ("access_token", Some(new.access_token)),
            (
                "refresh_token_max_inactive",
                Some(new.refresh_token_max_inactive),
            ),
            ("refresh_token_max_age", new.refresh_token_max_age),
            ("authorization_code", Some(new.authorization_code)),
            ("device_code", Some(new.device_code)),
        ];
        for (name, v) in checks {
            if let Some(v) = v {
                if v <= 0 {
                    return Err(AdminError::bad_request(format!(
                        "{name}: must be a positive number of seconds"
                    )));
                }
            }
        }
        tenant.token_lifetimes = new.clone();
        Ok(Json(new))
    })
}
