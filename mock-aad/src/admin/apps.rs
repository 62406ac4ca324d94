//! Admin calls on applications, their service principals (`Get-MsolServicePrincipal`,
//! `Set-MsolServicePrincipal -ServicePrincipalNames`) and conditional-access rules.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::admin::edit::{edit_tenant, no_app, parse_app_id, patched, read_tenant};
use crate::admin::errors::{from_value, AdminError, AdminJson, AdminPath, AdminResult};
use crate::model::{Application, CaRule, Tenant};
use crate::state::AppState;

// ------------------------------------------------------------------ service principals

/// The service principal's object id: stable per tenant and appId (a name-based UUID).
pub fn sp_object_id(tid: Uuid, app_id: Uuid) -> Uuid {
    let mut input = Vec::with_capacity(32);
    input.extend_from_slice(tid.as_bytes());
    input.extend_from_slice(app_id.as_bytes());
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY, &input);
    let mut b = [0u8; 16];
    b.copy_from_slice(&digest.as_ref()[..16]);
    uuid::Builder::from_sha1_bytes(b).into_uuid()
}

/// A service principal as `Get-MsolServicePrincipal` shows it.
pub fn sp_json(t: &Tenant, a: &Application) -> Value {
    json!({
        "ExtensionData": {},
        "AccountEnabled": true,
        "Addresses": a.redirect_uris.iter().map(|u| json!({"Address": u})).collect::<Vec<_>>(),
        "AppPrincipalId": a.app_id,
        "DisplayName": a.display_name,
        "ObjectId": sp_object_id(t.tid, a.app_id),
        "ServicePrincipalName": a.service_principal_names.first(),
        "ServicePrincipalNames": a.service_principal_names,
        "TrustedForDelegation": false,
    })
}

pub(super) async fn sp_list(
    State(s): State<AppState>,
    AdminPath(t): AdminPath<String>,
) -> AdminResult<Json<Value>> {
    read_tenant(&s, &t, |t| {
        Ok(Json(Value::Array(
            t.applications.iter().map(|a| sp_json(t, a)).collect(),
        )))
    })
}

/// `GET /tenants/{t}/service-principals/{appId}` (`Get-MsolServicePrincipal -AppPrincipalId`).
pub(super) async fn sp_get(
    State(s): State<AppState>,
    AdminPath((t, app)): AdminPath<(String, String)>,
) -> AdminResult<Json<Value>> {
    let id = parse_app_id(&app)?;
    read_tenant(&s, &t, |t| {
        let a = t.app(id).ok_or_else(|| no_app(id))?;
        Ok(Json(sp_json(t, a)))
    })
}

/// Cleans an SPN list (trimmed, no empties, first of case-insensitive duplicates kept) and
/// refuses a value another principal of the tenant already has, as Azure AD does.
pub(super) fn clean_spns(
    tenant: &Tenant,
    app_id: Uuid,
    spns: Vec<String>,
) -> AdminResult<Vec<String>> {
    let mut out: Vec<String> = Vec::with_capacity(spns.len());
    for spn in spns {
        let spn = spn.trim().to_string();
        if spn.is_empty() {
            return Err(AdminError::bad_request(
                "ServicePrincipalNames: empty values are not allowed",
            ));
        }
        if out.iter().any(|o| o.eq_ignore_ascii_case(&spn)) {
            continue;
        }
        if let Some(other) = tenant.applications.iter().find(|a| {
            a.app_id != app_id
                && a.service_principal_names
                    .iter()
                    .any(|o| o.eq_ignore_ascii_case(&spn))
        }) {
            return Err(AdminError::conflict(format!(
                "Another object with the same value for property servicePrincipalNames already exists: {spn} belongs to {} ({})",
                other.display_name, other.app_id
            )));
        }
        out.push(spn);
    }
    Ok(out)
}

/// The list Azure AD keeps after `Set-MsolServicePrincipal -ServicePrincipalNames`, as the field
/// guide's second `Get-MsolServicePrincipal … | select -ExpandProperty ServicePrincipalNames`
/// shows it after `$x.ServicePrincipalNames.Add("https://mail.corp.contoso.com/")`: a URL name
/// that was not there before is kept without its trailing `/` (`https://mail.corp.contoso.com`),
/// and the URL names come first, in order, then the others. Names already present keep their
/// spelling. (The listing is the guide's capture; that the service normalises on write is the
/// lab's reading of it.)
fn as_listed(before: &[String], after: Vec<String>) -> Vec<String> {
    let known = |v: &str| {
        before
            .iter()
            .any(|b| crate::model::normalize_spn(b) == crate::model::normalize_spn(v))
    };
    let (urls, others): (Vec<String>, Vec<String>) = after
        .into_iter()
        .map(|v| {
            if v.contains("://") && !known(&v) {
                v.strip_suffix('/').map(str::to_string).unwrap_or(v)
            } else {
                v
            }
        })
        .partition(|v| v.contains("://"));
    urls.into_iter().chain(others).collect()
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct SpnReplace {
    #[serde(rename = "ServicePrincipalNames")]
    service_principal_names: Vec<String>,
}

/// `PUT …/service-principal-names` (`Set-MsolServicePrincipal -ServicePrincipalNames`).
pub(super) async fn spn_replace(
    State(s): State<AppState>,
    AdminPath((t, app)): AdminPath<(String, String)>,
    AdminJson(body): AdminJson<SpnReplace>,
) -> AdminResult<Json<Value>> {
    let id = parse_app_id(&app)?;
    edit_tenant(&s, &t, |tenant| {
        let before = tenant
            .app(id)
            .ok_or_else(|| no_app(id))?
            .service_principal_names
            .clone();
        let spns = as_listed(
            &before,
            clean_spns(tenant, id, body.service_principal_names)?,
        );
        let a = tenant.app_mut(id).ok_or_else(|| no_app(id))?;
        a.service_principal_names = spns;
        let a = a.clone();
        Ok(Json(sp_json(tenant, &a)))
    })
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct SpnEdit {
    #[serde(default)]
    add: Vec<String>,
    #[serde(default)]
    remove: Vec<String>,
}

/// `POST …/service-principal-names {"add":[…],"remove":[…]}`: `$x.ServicePrincipalNames.Add(…)`
/// and `.Remove(…)` followed by `Set-MsolServicePrincipal`, in one call. Removal compares without
/// ASCII case; removing a value that is not there changes nothing.
pub(super) async fn spn_edit(
    State(s): State<AppState>,
    AdminPath((t, app)): AdminPath<(String, String)>,
    AdminJson(body): AdminJson<SpnEdit>,
) -> AdminResult<Json<Value>> {
    let id = parse_app_id(&app)?;
    edit_tenant(&s, &t, |tenant| {
        let current = tenant
            .app(id)
            .ok_or_else(|| no_app(id))?
            .service_principal_names
            .clone();
        let mut list: Vec<String> = current
            .iter()
            .filter(|v| !body.remove.iter().any(|r| r.trim().eq_ignore_ascii_case(v)))
            .cloned()
            .collect();
        list.extend(body.add);
        let spns = as_listed(&current, clean_spns(tenant, id, list)?);
        let a = tenant.app_mut(id).ok_or_else(|| no_app(id))?;
        a.service_principal_names = spns;
        let a = a.clone();
        Ok(Json(sp_json(tenant, &a)))
    })
}

// ------------------------------------------------------------------ applications

pub(super) async fn apps_list(
    State(s): State<AppState>,
    AdminPath(t): AdminPath<String>,
) -> AdminResult<Json<Vec<Application>>> {
    read_tenant(&s, &t, |t| Ok(Json(t.applications.clone())))
}

pub(super) async fn app_get(
    State(s): State<AppState>,
    AdminPath((t, app)): AdminPath<(String, String)>,
) -> AdminResult<Json<Application>> {
    let id = parse_app_id(&app)?;
    read_tenant(&s, &t, |t| {
        t.app(id).cloned().map(Json).ok_or_else(|| no_app(id))
    })
}

/// `POST /tenants/{t}/applications` (`New-AzureADApplication` + its service principal): an
/// application object; `app_id` is generated when absent.
pub(super) async fn app_add(
    State(s): State<AppState>,
    AdminPath(t): AdminPath<String>,
    AdminJson(body): AdminJson<Value>,
) -> AdminResult<(StatusCode, Json<Application>)> {
    let Value::Object(mut m) = body else {
        return Err(AdminError::bad_request(
            "the body must be an application object",
        ));
    };
    m.entry("app_id")
        .or_insert_with(|| json!(Uuid::new_v4().to_string()));
    let mut app: Application = from_value(Value::Object(m))?;
    edit_tenant(&s, &t, |tenant| {
        if tenant.app(app.app_id).is_some() {
            return Err(AdminError::conflict(format!(
                "an application {} already exists",
                app.app_id
            )));
        }
        app.service_principal_names = clean_spns(
            tenant,
            app.app_id,
            std::mem::take(&mut app.service_principal_names),
        )?;
        tenant.applications.push(app.clone());
        Ok(())
    })?;
    Ok((StatusCode::CREATED, Json(app)))
}

/// `PATCH /tenants/{t}/applications/{appId}` (`Set-AzureADApplication`): a merge patch.
pub(super) async fn app_patch(
    State(s): State<AppState>,
    AdminPath((t, app)): AdminPath<(String, String)>,
    AdminJson(patch): AdminJson<Value>,
) -> AdminResult<Json<Application>> {
    let id = parse_app_id(&app)?;
    edit_tenant(&s, &t, |tenant| {
        let current = tenant.app(id).cloned().ok_or_else(|| no_app(id))?;
        let mut new: Application = patched(&current, patch)?;
        if new.app_id != current.app_id {
            return Err(AdminError::bad_request("app_id cannot be changed"));
        }
        new.service_principal_names =
            clean_spns(tenant, id, std::mem::take(&mut new.service_principal_names))?;
        if let Some(slot) = tenant.app_mut(id) {
            *slot = new.clone();
        }
        Ok(Json(new))
    })
}

/// `DELETE /tenants/{t}/applications/{appId}`: the application, the permissions other clients
/// held on it and the users' consents to it go together.
pub(super) async fn app_delete(
    State(s): State<AppState>,
    AdminPath((t, app)): AdminPath<(String, String)>,
) -> AdminResult<StatusCode> {
    let id = parse_app_id(&app)?;
    edit_tenant(&s, &t, |tenant| {
        tenant.app(id).ok_or_else(|| no_app(id))?;
        tenant.applications.retain(|a| a.app_id != id);
        for a in tenant.applications.iter_mut() {
            a.granted.retain(|g| g.resource != id);
        }
        for u in tenant.users.iter_mut() {
            u.consented_apps.retain(|c| *c != id);
        }
        Ok(StatusCode::NO_CONTENT)
    })
}

// ------------------------------------------------------------------ conditional access

pub(super) fn no_rule(name: &str) -> AdminError {
    AdminError::not_found(format!("no conditional access rule named '{name}'"))
}

pub(super) async fn ca_list(
    State(s): State<AppState>,
    AdminPath(t): AdminPath<String>,
) -> AdminResult<Json<Vec<CaRule>>> {
    read_tenant(&s, &t, |t| Ok(Json(t.conditional_access.clone())))
}

pub(super) async fn ca_get(
    State(s): State<AppState>,
    AdminPath((t, name)): AdminPath<(String, String)>,
) -> AdminResult<Json<CaRule>> {
    read_tenant(&s, &t, |t| {
        t.conditional_access
            .iter()
            .find(|r| r.name.eq_ignore_ascii_case(&name))
            .cloned()
            .map(Json)
            .ok_or_else(|| no_rule(&name))
    })
}

pub(super) async fn ca_add(
    State(s): State<AppState>,
    AdminPath(t): AdminPath<String>,
    AdminJson(rule): AdminJson<CaRule>,
) -> AdminResult<(StatusCode, Json<CaRule>)> {
    edit_tenant(&s, &t, |tenant| {
        if tenant
            .conditional_access
            .iter()
            .any(|r| r.name.eq_ignore_ascii_case(&rule.name))
        {
            return Err(AdminError::conflict(format!(
                "a conditional access rule named '{}' already exists",
                rule.name
            )));
        }
        tenant.conditional_access.push(rule.clone());
        Ok(())
    })?;
    Ok((StatusCode::CREATED, Json(rule)))
}

/// `PATCH …/conditional-access/{name}`: a merge patch (`{"enabled":false}` disables the rule).
pub(super) async fn ca_patch(
    State(s): State<AppState>,
    AdminPath((t, name)): AdminPath<(String, String)>,
    AdminJson(patch): AdminJson<Value>,
) -> AdminResult<Json<CaRule>> {
    edit_tenant(&s, &t, |tenant| {
        let slot = tenant
            .conditional_access
            .iter_mut()
            .find(|r| r.name.eq_ignore_ascii_case(&name))
            .ok_or_else(|| no_rule(&name))?;
        let new: CaRule = patched(&*slot, patch)?;
        *slot = new.clone();
        Ok(Json(new))
    })
}

pub(super) async fn ca_delete(
    State(s): State<AppState>,
    AdminPath((t, name)): AdminPath<(String, String)>,
) -> AdminResult<StatusCode> {
    edit_tenant(&s, &t, |tenant| {
        let before = tenant.conditional_access.len();
        tenant
            .conditional_access
            .retain(|r| !r.name.eq_ignore_ascii_case(&name));
        if tenant.conditional_access.len() == before {
            return Err(no_rule(&name));
        }
        Ok(StatusCode::NO_CONTENT)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sp_object_id_is_stable_and_distinct() {
        let tid = uuid::uuid!("f31f3647-5d87-4b69-a0b6-73f62aeab14c");
        let a = sp_object_id(tid, crate::model::EXCHANGE_APP_ID);
        assert_eq!(a, sp_object_id(tid, crate::model::EXCHANGE_APP_ID));
        assert_ne!(a, sp_object_id(tid, crate::model::OFFICE_APP_ID));
        assert_eq!(a.get_version_num(), 5);
    }
}
