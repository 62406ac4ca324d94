//! Admin calls on users: list, read, add, patch, delete, set a password (`Set-MsolUserPassword`)
//! and revoke refresh tokens (`Revoke-AzureADUserAllRefreshToken`, and tenant-wide).

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::admin::directory::no_domain;
use crate::admin::edit::{edit_tenant, no_user, patched, read_tenant, rfc3339, valid_from_now};
use crate::admin::errors::{
    from_value, AdminError, AdminJson, AdminPath, AdminResult, OptionalJson,
};
use crate::model::{RevocationResponse, Tenant, User};
use crate::state::AppState;
use crate::util::Params;

/// `GET /tenants/{t}/users[?domain=D]` (`Get-MsolUser [-DomainName D]`): every user, or those
/// whose UPN is in domain D (404 when the tenant has no such domain).
pub(super) async fn users_list(
    State(s): State<AppState>,
    AdminPath(t): AdminPath<String>,
    RawQuery(query): RawQuery,
) -> AdminResult<Json<Vec<User>>> {
    let p = Params::parse(query.unwrap_or_default().as_bytes());
    read_tenant(&s, &t, |t| match p.get("domain") {
        None => Ok(Json(t.users.clone())),
        Some(d) => {
            let domain = t
                .domains
                .iter()
                .find(|x| x.name.eq_ignore_ascii_case(d))
                .ok_or_else(|| no_domain(d))?;
            let suffix = format!("@{}", domain.name.to_ascii_lowercase());
            Ok(Json(
                t.users
                    .iter()
                    .filter(|u| u.upn.to_ascii_lowercase().ends_with(&suffix))
                    .cloned()
                    .collect(),
            ))
        }
    })
}

pub(super) async fn user_get(
    State(s): State<AppState>,
    AdminPath((t, upn)): AdminPath<(String, String)>,
) -> AdminResult<Json<User>> {
    read_tenant(&s, &t, |t| {
        t.user(&upn).cloned().map(Json).ok_or_else(|| no_user(&upn))
    })
}

/// A new PUID: `1003` followed by 12 random hex digits, like Azure AD's.
pub(super) fn new_puid() -> String {
    format!(
        "{:016X}",
        0x1003_0000_0000_0000u64 | (rand::random::<u64>() & 0x0000_FFFF_FFFF_FFFF)
    )
}

/// `POST /tenants/{t}/users` (`New-MsolUser`): a user object; `oid`, `puid` and `password` are
/// generated when absent (the answer shows them).
pub(super) async fn user_add(
    State(s): State<AppState>,
    AdminPath(t): AdminPath<String>,
    AdminJson(body): AdminJson<Value>,
) -> AdminResult<(StatusCode, Json<User>)> {
    let Value::Object(mut m) = body else {
        return Err(AdminError::bad_request("the body must be a user object"));
    };
    m.entry("oid")
        .or_insert_with(|| json!(Uuid::new_v4().to_string()));
    m.entry("puid").or_insert_with(|| json!(new_puid()));
    m.entry("password")
        .or_insert_with(|| json!(crate::util::random_b64url(12)));
    let user: User = from_value(Value::Object(m))?;
    edit_tenant(&s, &t, |tenant| {
        if tenant.user(&user.upn).is_some() {
            return Err(AdminError::conflict(format!(
                "a user {} already exists",
                user.upn
            )));
        }
        tenant.users.push(user.clone());
        Ok(())
    })?;
    Ok((StatusCode::CREATED, Json(user)))
}

/// `PATCH /tenants/{t}/users/{upn}` (`Set-MsolUser`, `Set-MsolUserPrincipalName`): a merge patch
/// of user fields. `enabled: false` is `-BlockCredential $true`. The password has its own call.
pub(super) async fn user_patch(
    State(s): State<AppState>,
    AdminPath((t, upn)): AdminPath<(String, String)>,
    AdminJson(patch): AdminJson<Value>,
) -> AdminResult<Json<User>> {
    if patch.get("password").is_some() {
        return Err(AdminError::bad_request(
            "the password is changed with POST /_admin/tenants/{t}/users/{upn}/password (Set-MsolUserPassword), which also sets tokens_valid_from",
        ));
    }
    edit_tenant(&s, &t, |tenant| {
        let current = tenant.user(&upn).cloned().ok_or_else(|| no_user(&upn))?;
        let new: User = patched(&current, patch)?;
        if new.oid != current.oid {
            return Err(AdminError::bad_request("oid cannot be changed"));
        }
        if !new.upn.eq_ignore_ascii_case(&current.upn) {
            if tenant.user(&new.upn).is_some() {
                return Err(AdminError::conflict(format!(
                    "a user {} already exists",
                    new.upn
                )));
            }
            rename_in_rules(tenant, &current.upn, &new.upn);
        }
        if let Some(slot) = tenant.user_mut(&current.upn) {
            *slot = new.clone();
        }
        Ok(Json(new))
    })
}

/// Conditional access follows the object, not the name: rules naming `old` name `new`.
pub(super) fn rename_in_rules(tenant: &mut Tenant, old: &str, new: &str) {
    for rule in tenant.conditional_access.iter_mut() {
        for u in rule.users.iter_mut() {
            if u.eq_ignore_ascii_case(old) {
                *u = new.to_string();
            }
        }
    }
}

/// `DELETE /tenants/{t}/users/{upn}` (`Remove-MsolUser`); the user also leaves every
/// conditional-access rule that named it.
pub(super) async fn user_delete(
    State(s): State<AppState>,
    AdminPath((t, upn)): AdminPath<(String, String)>,
) -> AdminResult<StatusCode> {
    edit_tenant(&s, &t, |tenant| {
        let before = tenant.users.len();
        tenant.users.retain(|u| !u.upn.eq_ignore_ascii_case(&upn));
        if tenant.users.len() == before {
            return Err(no_user(&upn));
        }
        for rule in tenant.conditional_access.iter_mut() {
            rule.users.retain(|u| !u.eq_ignore_ascii_case(&upn));
        }
        Ok(StatusCode::NO_CONTENT)
    })
}

#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct PasswordBody {
    /// The new password; a random one when absent (as `Set-MsolUserPassword` without
    /// `-NewPassword`).
    #[serde(default)]
    password: Option<String>,
}

/// `POST /tenants/{t}/users/{upn}/password` (`Set-MsolUserPassword`): sets the password and
/// TokensValidFrom = now, so every refresh token issued before fails with AADSTS50173.
pub(super) async fn user_password(
    State(s): State<AppState>,
    AdminPath((t, upn)): AdminPath<(String, String)>,
    OptionalJson(body): OptionalJson<PasswordBody>,
) -> AdminResult<Json<Value>> {
    let password = match body.password {
        Some(p) if p.is_empty() => {
            return Err(AdminError::bad_request("password: must not be empty"))
        }
        Some(p) => p,
        None => crate::util::random_b64url(12),
    };
    let now = valid_from_now(&s);
    edit_tenant(&s, &t, |tenant| {
        let user = tenant.user_mut(&upn).ok_or_else(|| no_user(&upn))?;
        user.password = password.clone();
        user.tokens_valid_from = Some(now);
        Ok(Json(json!({
            "upn": user.upn,
            "password": password,
            "tokens_valid_from": rfc3339(now),
        })))
    })
}

/// `POST /tenants/{t}/users/{upn}/revoke` (`Revoke-AzureADUserAllRefreshToken`, Graph
/// `revokeSignInSessions`): TokensValidFrom = now.
pub(super) async fn user_revoke(
    State(s): State<AppState>,
    AdminPath((t, upn)): AdminPath<(String, String)>,
) -> AdminResult<Json<Value>> {
    let now = valid_from_now(&s);
    edit_tenant(&s, &t, |tenant| {
        let user = tenant.user_mut(&upn).ok_or_else(|| no_user(&upn))?;
        user.tokens_valid_from = Some(now);
        Ok(Json(json!({
            "upn": user.upn,
            "tokens_valid_from": rfc3339(now),
        })))
    })
}

#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct TenantRevokeBody {
    #[serde(default)]
    response: RevocationResponse,
}

/// `POST /tenants/{t}/revoke {"response":"standard"|"unicorn"}`: every refresh token of the
/// tenant issued before now is dead, answered as AADSTS50173 or as the "Unicorn Rampage".
pub(super) async fn tenant_revoke(
    State(s): State<AppState>,
    AdminPath(t): AdminPath<String>,
    OptionalJson(body): OptionalJson<TenantRevokeBody>,
) -> AdminResult<Json<Value>> {
    let now = valid_from_now(&s);
    edit_tenant(&s, &t, |tenant| {
        tenant.tokens_valid_from = Some(now);
        tenant.revocation_response = body.response;
        Ok(Json(json!({
            "tid": tenant.tid,
            "tokens_valid_from": rfc3339(now),
            "revocation_response": body.response,
        })))
    })
}
