//! The Azure AD directory cmdlets an administrator runs from Windows PowerShell: MSOnline
//! (`Get-MsolServicePrincipal`, `Set-MsolServicePrincipal`, `Set-MsolUserPassword`,
//! `Set-MsolUser`), AzureAD (`Revoke-AzureADUserAllRefreshToken`), Microsoft Graph
//! (`Revoke-MgUserSignInSession`) and their `Connect-` cmdlets (the lab session is always
//! signed in as the tenant's administrator, so connecting does nothing).

use mock_aad::model::MfaState;
use uuid::Uuid;

use super::kit::{cmdlet, identity_of, sig, CmdletSpec, Cx, Run, R};
use crate::shell::backend::ServicePrincipalChange;
use crate::shell::binder::{p, piped, pos, req, unmodeled, Bound, Extra, ParamSpec, Ty};
use crate::shell::error::catalogue;
use crate::shell::objects;
use crate::shell::value::Value;

const GET_MSOL_SP: &[ParamSpec] = &[
    p("AppPrincipalId", Ty::Guid),
    p("ServicePrincipalName", Ty::Str),
    p("ObjectId", Ty::Guid),
    p("All", Ty::Switch),
    unmodeled(p("MaxResults", Ty::Int)),
    unmodeled(p("SearchString", Ty::Str)),
    unmodeled(p("TenantId", Ty::Guid)),
];
const SET_MSOL_SP: &[ParamSpec] = &[
    unmodeled(p("AccountEnabled", Ty::Bool)),
    unmodeled(p("Addresses", Ty::Objects)),
    p("AppPrincipalId", Ty::Guid),
    p("DisplayName", Ty::Str),
    p("ObjectId", Ty::Guid),
    p("ServicePrincipalNames", Ty::Strings),
    unmodeled(p("TenantId", Ty::Guid)),
];
const SET_MSOL_PASSWORD: &[ParamSpec] = &[
    p("UserPrincipalName", Ty::Str),
    unmodeled(p("ObjectId", Ty::Guid)),
    p("NewPassword", Ty::Str),
    p("ForceChangePassword", Ty::Bool),
    unmodeled(p("ForceChangePasswordOnly", Ty::Bool)),
    unmodeled(p("TenantId", Ty::Guid)),
];
const SET_MSOL_USER: &[ParamSpec] = &[
    p("UserPrincipalName", Ty::Str),
    unmodeled(p("ObjectId", Ty::Guid)),
    p("BlockCredential", Ty::Bool),
    p("StrongAuthenticationRequirements", Ty::Objects),
    unmodeled(p("City", Ty::Str)),
    unmodeled(p("Department", Ty::Str)),
    unmodeled(p("DisplayName", Ty::Str)),
    unmodeled(p("FirstName", Ty::Str)),
    unmodeled(p("LastName", Ty::Str)),
    unmodeled(p("PasswordNeverExpires", Ty::Bool)),
    unmodeled(p("StrongAuthenticationMethods", Ty::Objects)),
    unmodeled(p("TenantId", Ty::Guid)),
    unmodeled(p("Title", Ty::Str)),
    unmodeled(p("UsageLocation", Ty::Str)),
];
const REVOKE_AZUREAD: &[ParamSpec] = &[req(piped(p("ObjectId", Ty::Str)))];
const REVOKE_MG: &[ParamSpec] = &[
    req(piped(p("UserId", Ty::Str))),
    unmodeled(p("Headers", Ty::Object)),
    p("PassThru", Ty::Switch),
];
const CONNECT_MSOL: &[ParamSpec] = &[
    p("Credential", Ty::Object),
    p("AdGraphAccessToken", Ty::Str),
    p("MsGraphAccessToken", Ty::Str),
    p("AzureEnvironment", Ty::Str),
];
const CONNECT_AZUREAD: &[ParamSpec] = &[
    p("Credential", Ty::Object),
    p("TenantId", Ty::Str),
    p("AccountId", Ty::Str),
    p("AzureEnvironmentName", Ty::Str),
];
const CONNECT_MG: &[ParamSpec] = &[
    pos(p("Scopes", Ty::Strings), 0),
    p("TenantId", Ty::Str),
    p("ClientId", Ty::Str),
    p("CertificateThumbprint", Ty::Str),
    p("NoWelcome", Ty::Switch),
];

pub(super) const CMDLETS: &[CmdletSpec] = &[
    cmdlet(
        sig("Get-MsolServicePrincipal", GET_MSOL_SP, Extra::None),
        "Lists the tenant's service principals, or finds one by app id, object id or service principal name.",
        Run::Each(get_sp),
    ),
    cmdlet(
        sig("Set-MsolServicePrincipal", SET_MSOL_SP, Extra::None),
        "Replaces a service principal's names (ServicePrincipalNames) or display name.",
        Run::Each(set_sp),
    ),
    cmdlet(
        sig("Set-MsolUserPassword", SET_MSOL_PASSWORD, Extra::None),
        "Sets a user's password, or generates one and writes it.",
        Run::Each(set_password),
    ),
    cmdlet(
        sig("Set-MsolUser", SET_MSOL_USER, Extra::None),
        "Blocks or unblocks a user's sign-in, or sets per-user MFA (StrongAuthenticationRequirements).",
        Run::Each(set_user),
    ),
    cmdlet(
        sig("Revoke-AzureADUserAllRefreshToken", REVOKE_AZUREAD, Extra::None),
        "Revokes every refresh token and session of a user.",
        Run::Each(revoke_azuread),
    ),
    cmdlet(
        sig("Revoke-MgUserSignInSession", REVOKE_MG, Extra::ShouldProcess),
        "Revokes every refresh token and session of a user (Microsoft Graph).",
        Run::Each(revoke_mg),
    ),
    cmdlet(
        sig("Connect-MsolService", CONNECT_MSOL, Extra::None),
        "Connects to MSOnline (the lab session is already signed in).",
        Run::Each(connect),
    ),
    cmdlet(
        sig("Connect-AzureAD", CONNECT_AZUREAD, Extra::None),
        "Connects to the AzureAD module (the lab session is already signed in).",
        Run::Each(connect),
    ),
    cmdlet(
        sig("Connect-MgGraph", CONNECT_MG, Extra::None),
        "Connects to Microsoft Graph (the lab session is already signed in).",
        Run::Each(connect),
    ),
];

fn get_sp(cx: &mut Cx<'_>, b: &Bound) -> R<Vec<Value>> {
    let cmd = cx.cmd;
    let be = cx.backend_error();
    let mut list = cx.directory()?.service_principals().map_err(be)?;
    let chosen = ["AppPrincipalId", "ServicePrincipalName", "ObjectId", "All"]
        .iter()
        .filter(|n| b.has(n))
        .count();
    if chosen > 1 {
        return Err(catalogue::ambiguous_parameter_set(cmd));
    }
    if let Some(id) = b.str("AppPrincipalId") {
        list.retain(|s| s.app_principal_id.to_string() == id);
    } else if let Some(id) = b.str("ObjectId") {
        list.retain(|s| s.object_id.to_string() == id);
    } else if let Some(spn) = b.str("ServicePrincipalName") {
        list.retain(|s| {
            s.service_principal_names
                .iter()
                .any(|n| n.eq_ignore_ascii_case(&spn))
        });
    } else {
        return Ok(sp_objects(&list));
    }
    if list.is_empty() {
        return Err(catalogue::service_principal_not_found(cmd));
    }
    Ok(sp_objects(&list))
}

fn sp_objects(list: &[crate::shell::backend::ServicePrincipal]) -> Vec<Value> {
    list.iter()
        .map(|s| Value::Object(objects::service_principal(s)))
        .collect()
}

fn set_sp(cx: &mut Cx<'_>, b: &Bound) -> R<Vec<Value>> {
    let cmd = cx.cmd;
    let be = cx.backend_error();
    let app = match (b.str("AppPrincipalId"), b.str("ObjectId")) {
        (Some(a), None) => a,
        (None, Some(o)) => {
            let list = cx.directory()?.service_principals().map_err(&be)?;
            list.iter()
                .find(|s| s.object_id.to_string() == o)
                .map(|s| s.app_principal_id.to_string())
                .ok_or_else(|| catalogue::service_principal_not_found(cmd))?
        }
        _ => return Err(catalogue::ambiguous_parameter_set(cmd)),
    };
    let app = Uuid::parse_str(&app).map_err(|_| catalogue::ambiguous_parameter_set(cmd))?;
    let change = ServicePrincipalChange {
        service_principal_names: b.strings("ServicePrincipalNames"),
        display_name: b.str("DisplayName"),
    };
    cx.directory()?
        .set_service_principal(app, &change)
        .map_err(&be)?;
    Ok(Vec::new())
}

/// `-UserPrincipalName`, which the lab's user cmdlets need (the real ones also take
/// `-ObjectId`, which the lab does not model).
fn require_upn(cmd: &str, b: &Bound) -> R<String> {
    b.str("UserPrincipalName")
        .ok_or_else(|| catalogue::missing_mandatory(cmd, &["UserPrincipalName"]))
}

fn set_password(cx: &mut Cx<'_>, b: &Bound) -> R<Vec<Value>> {
    let be = cx.backend_error();
    let upn = require_upn(cx.cmd, b)?;
    let pw = cx
        .directory()?
        .set_user_password(
            &upn,
            b.str("NewPassword").as_deref(),
            b.bool("ForceChangePassword").unwrap_or(true),
        )
        .map_err(be)?;
    Ok(vec![Value::Str(pw)])
}

fn set_user(cx: &mut Cx<'_>, b: &Bound) -> R<Vec<Value>> {
    let cmd = cx.cmd;
    let be = cx.backend_error();
    let upn = require_upn(cmd, b)?;
    if let Some(block) = b.bool("BlockCredential") {
        cx.directory()?
            .set_user_block_credential(&upn, block)
            .map_err(&be)?;
    }
    if let Some(reqs) = b.get("StrongAuthenticationRequirements") {
        let items = reqs.enumerate();
        let state = match items.first() {
            None => MfaState::None,
            Some(Value::Object(o)) => {
                let s = o.get_str("State");
                match s.to_ascii_lowercase().as_str() {
                    "enabled" => MfaState::Enroll,
                    "enforced" => MfaState::Required,
                    "disabled" | "" => MfaState::None,
                    _ => return Err(catalogue::invalid_strong_auth_state(cmd, &s)),
                }
            }
            Some(other) => {
                return Err(catalogue::cannot_convert_object(
                    cmd,
                    "CannotConvertArgumentNoMessage",
                    "StrongAuthenticationRequirements",
                    &other.to_plain_string(),
                    &other.type_name(),
                    "Microsoft.Online.Administration.StrongAuthenticationRequirement",
                ))
            }
        };
        cx.directory()?.set_user_mfa(&upn, state).map_err(&be)?;
    }
    Ok(Vec::new())
}

fn revoke_azuread(cx: &mut Cx<'_>, b: &Bound) -> R<Vec<Value>> {
    let be = cx.backend_error();
    let id = b.get("ObjectId").map(identity_of).unwrap_or_default();
    cx.directory()?.revoke_user_sessions(&id).map_err(be)?;
    Ok(Vec::new())
}

fn revoke_mg(cx: &mut Cx<'_>, b: &Bound) -> R<Vec<Value>> {
    let be = cx.backend_error();
    let id = b.get("UserId").map(identity_of).unwrap_or_default();
    if let Some(w) = cx.what_if(b, &id) {
        return Ok(w);
    }
    cx.directory()?.revoke_user_sessions(&id).map_err(be)?;
    Ok(vec![Value::Bool(true)])
}

fn connect(_: &mut Cx<'_>, _: &Bound) -> R<Vec<Value>> {
    Ok(Vec::new())
}
