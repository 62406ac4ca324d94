//! The lab's own cmdlets, for what an administrator changes in Azure AD through the portal
//! rather than a shell: per-user MFA (`Set-LabUserMfa`), conditional access
//! (`New-LabConditionalAccessPolicy`), the token-signing keys (`Get-LabSigningKey`,
//! `Invoke-LabSigningKeyRollover`, `Add-LabSigningKey`, `Remove-LabSigningKey`, over mock-aad's
//! `/_admin/keys`) and scripted failures (`Add-LabAadFault`, `Get-LabAadFault`,
//! `Remove-LabAadFault`, over mock-aad's `/_admin/faults`). They follow PowerShell's
//! conventions (`-WhatIf`, `ValidateRange` errors) so they read like the real ones.
//! `Set-LabConditionalAccessPolicy -Enabled` turns a rule on or off.
//! `Revoke-LabTenantRefreshToken` is the tenant-wide revocation the guide's "Unicorn Rampage?"
//! follows (no single real cmdlet does it; an administrator would revoke user by user).

use mock_aad::model::{CaAction, CaRule, MfaState};

use super::kit::{cmdlet, identity_of, sig, CmdletSpec, Cx, Run, R};
use crate::shell::backend::NewAadFault;
use crate::shell::binder::{p, piped, pos, req, Bound, Extra, ParamSpec, Ty};
use crate::shell::error::catalogue;
use crate::shell::format::wildcard_match;
use crate::shell::objects;
use crate::shell::value::Value;

const MFA_STATE: Ty = Ty::Enum("HmaLab.MfaState", &["None", "Enroll", "Required"]);
const SET_LAB_MFA: &[ParamSpec] = &[
    pos(req(p("UserPrincipalName", Ty::Str)), 0),
    req(p("State", MFA_STATE)),
];
const CA_ACTION: Ty = Ty::Enum("HmaLab.ConditionalAccessAction", &["Block", "RequireMfa"]);
const NEW_LAB_CA: &[ParamSpec] = &[
    pos(req(p("Name", Ty::Str)), 0),
    req(p("Users", Ty::Strings)),
    req(p("Applications", Ty::Strings)),
    req(p("Action", CA_ACTION)),
    p("Disabled", Ty::Switch),
];
const SET_LAB_CA: &[ParamSpec] = &[pos(req(p("Name", Ty::Str)), 0), req(p("Enabled", Ty::Bool))];
const REVOCATION_RESPONSE: Ty = Ty::Enum("HmaLab.RevocationResponse", &["Standard", "Unicorn"]);
const REVOKE_LAB_TENANT: &[ParamSpec] = &[p("Response", REVOCATION_RESPONSE)];
const GET_LAB_KEY: &[ParamSpec] = &[pos(p("Kid", Ty::Str), 0)];
const INVOKE_LAB_ROLL: &[ParamSpec] = &[p("RetireOld", Ty::Switch)];
const ADD_LAB_KEY: &[ParamSpec] = &[];
const REMOVE_LAB_KEY: &[ParamSpec] = &[pos(req(piped(p("Kid", Ty::Str))), 0)];
const AAD_ENDPOINT: Ty = Ty::Enum(
    "HmaLab.AadEndpoint",
    &[
        "token",
        "authorize",
        "devicecode",
        "discovery",
        "keys",
        "federation_metadata",
        "userrealm",
        "instance",
        "any",
    ],
);
const ADD_LAB_FAULT: &[ParamSpec] = &[
    pos(req(p("Endpoint", AAD_ENDPOINT)), 0),
    p("User", Ty::Str),
    p("ClientId", Ty::Str),
    p("Resource", Ty::Str),
    p("Times", Ty::Int),
    p("Status", Ty::Int),
    p("Aadsts", Ty::Int),
    p("DelayMs", Ty::Int),
];
const GET_LAB_FAULT: &[ParamSpec] = &[pos(p("Id", Ty::Int), 0)];
const REMOVE_LAB_FAULT: &[ParamSpec] = &[pos(piped(p("Id", Ty::Str)), 0)];

pub(super) const CMDLETS: &[CmdletSpec] = &[
    cmdlet(
        sig("Set-LabConditionalAccessPolicy", SET_LAB_CA, Extra::None),
        "Turns a conditional access policy on or off (-Enabled $false).",
        Run::Each(set_ca),
    ),
    cmdlet(
        sig("Revoke-LabTenantRefreshToken", REVOKE_LAB_TENANT, Extra::ShouldProcess),
        "Revokes every refresh token of the tenant issued before now; -Response Unicorn answers with the guide's 400 Bad Unicorn.",
        Run::Each(revoke_tenant),
    ),
    cmdlet(
        sig("Set-LabUserMfa", SET_LAB_MFA, Extra::None),
        "Sets a user's MFA state: None, Enroll (registration asked at sign-in) or Required.",
        Run::Each(set_mfa),
    ),
    cmdlet(
        sig("New-LabConditionalAccessPolicy", NEW_LAB_CA, Extra::None),
        "Adds a conditional access policy that blocks or requires MFA for users and applications.",
        Run::Each(new_ca),
    ),
    cmdlet(
        sig("Get-LabSigningKey", GET_LAB_KEY, Extra::None),
        "Lists Azure AD's published token-signing keys, the active one first.",
        Run::Each(get_key),
    ),
    cmdlet(
        sig(
            "Invoke-LabSigningKeyRollover",
            INVOKE_LAB_ROLL,
            Extra::ShouldProcess,
        ),
        "Makes the next key sign new tokens (the old one stays published unless -RetireOld).",
        Run::Each(roll_key),
    ),
    cmdlet(
        sig("Add-LabSigningKey", ADD_LAB_KEY, Extra::ShouldProcess),
        "Publishes a new key without signing with it yet.",
        Run::Each(add_key),
    ),
    cmdlet(
        sig("Remove-LabSigningKey", REMOVE_LAB_KEY, Extra::ShouldProcess),
        "Stops publishing a key that does not sign.",
        Run::Each(remove_key),
    ),
    cmdlet(
        sig("Add-LabAadFault", ADD_LAB_FAULT, Extra::ShouldProcess),
        "Makes Azure AD fail matching requests: a 5xx, an AADSTS error or a delay.",
        Run::Each(add_fault),
    ),
    cmdlet(
        sig("Get-LabAadFault", GET_LAB_FAULT, Extra::None),
        "Lists Azure AD's fault rules with what is left of them.",
        Run::Each(get_fault),
    ),
    cmdlet(
        sig("Remove-LabAadFault", REMOVE_LAB_FAULT, Extra::ShouldProcess),
        "Removes one fault rule, or all of them.",
        Run::Each(remove_fault),
    ),
];

fn set_ca(cx: &mut Cx<'_>, b: &Bound) -> R<Vec<Value>> {
    let be = cx.backend_error();
    let name = b.str("Name").unwrap_or_default();
    let enabled = b.bool("Enabled").unwrap_or(true);
    cx.directory()?
        .set_conditional_access_enabled(&name, enabled)
        .map_err(be)?;
    Ok(Vec::new())
}

fn revoke_tenant(cx: &mut Cx<'_>, b: &Bound) -> R<Vec<Value>> {
    let be = cx.backend_error();
    let unicorn = b.str("Response").as_deref() == Some("Unicorn");
    if let Some(w) = cx.what_if(b, "every refresh token of the tenant") {
        return Ok(w);
    }
    cx.directory()?
        .revoke_tenant_sessions(unicorn)
        .map_err(be)?;
    Ok(Vec::new())
}

fn set_mfa(cx: &mut Cx<'_>, b: &Bound) -> R<Vec<Value>> {
    let be = cx.backend_error();
    let upn = b.str("UserPrincipalName").unwrap_or_default();
    let state = match b.str("State").as_deref() {
        Some("Required") => MfaState::Required,
        Some("Enroll") => MfaState::Enroll,
        _ => MfaState::None,
    };
    cx.directory()?.set_user_mfa(&upn, state).map_err(be)?;
    Ok(Vec::new())
}

fn new_ca(cx: &mut Cx<'_>, b: &Bound) -> R<Vec<Value>> {
    let be = cx.backend_error();
    let rule = CaRule {
        name: b.str("Name").unwrap_or_default(),
        enabled: !b.switch("Disabled"),
        users: b.strings("Users").unwrap_or_default(),
        apps: b.strings("Applications").unwrap_or_default(),
        action: if b.str("Action").as_deref() == Some("Block") {
            CaAction::Block
        } else {
            CaAction::RequireMfa
        },
    };
    cx.directory()?
        .new_conditional_access_policy(&rule)
        .map_err(be)?;
    Ok(Vec::new())
}

/// The key `kid` as `Get-LabSigningKey` shows it (the answer of the key cmdlets that make one).
fn key_objects(cx: &mut Cx<'_>, kid: &str) -> R<Vec<Value>> {
    let be = cx.backend_error();
    let keys = cx.keys()?.signing_keys().map_err(be)?;
    Ok(keys
        .iter()
        .filter(|k| k.kid == kid)
        .map(|k| Value::Object(objects::signing_key(k)))
        .collect())
}

fn get_key(cx: &mut Cx<'_>, b: &Bound) -> R<Vec<Value>> {
    let cmd = cx.cmd;
    let be = cx.backend_error();
    let mut keys = cx.keys()?.signing_keys().map_err(be)?;
    if let Some(kid) = b.str("Kid") {
        keys.retain(|k| wildcard_match(&kid, &k.kid));
        if keys.is_empty() {
            return Err(catalogue::no_such_key(cmd, &kid));
        }
    }
    Ok(keys
        .iter()
        .map(|k| Value::Object(objects::signing_key(k)))
        .collect())
}

fn roll_key(cx: &mut Cx<'_>, b: &Bound) -> R<Vec<Value>> {
    let be = cx.backend_error();
    if let Some(w) = cx.what_if(b, "Azure AD token-signing keys") {
        return Ok(w);
    }
    let keys = cx.keys()?;
    let before = keys.signing_keys().map_err(&be)?;
    let new_kid = keys.roll_signing_key().map_err(&be)?;
    if b.switch("RetireOld") {
        // The key that signed until now (the active one before the rollover).
        if let Some(old) = before.iter().find(|k| k.state == "active") {
            if old.kid != new_kid {
                keys.retire_signing_key(&old.kid).map_err(&be)?;
            }
        }
    }
    key_objects(cx, &new_kid)
}

fn add_key(cx: &mut Cx<'_>, b: &Bound) -> R<Vec<Value>> {
    let be = cx.backend_error();
    if let Some(w) = cx.what_if(b, "Azure AD token-signing keys") {
        return Ok(w);
    }
    let kid = cx.keys()?.add_signing_key().map_err(be)?;
    key_objects(cx, &kid)
}

fn remove_key(cx: &mut Cx<'_>, b: &Bound) -> R<Vec<Value>> {
    let be = cx.backend_error();
    let kid = b.get("Kid").map(identity_of).unwrap_or_default();
    if let Some(w) = cx.what_if(b, &kid) {
        return Ok(w);
    }
    cx.keys()?.retire_signing_key(&kid).map_err(be)?;
    Ok(Vec::new())
}

/// PowerShell's `ValidateRange` for an integer parameter.
pub(super) fn in_range(cmd: &str, b: &Bound, name: &str, min: i64, max: i64) -> R<Option<i64>> {
    let Some(v) = b.get(name) else {
        return Ok(None);
    };
    let n = match v {
        Value::Int(n) => *n,
        other => other
            .to_plain_string()
            .trim()
            .parse::<i64>()
            .unwrap_or(i64::MIN),
    };
    if n < min || n > max {
        return Err(catalogue::out_of_range(cmd, name, n, min, max));
    }
    Ok(Some(n))
}

fn add_fault(cx: &mut Cx<'_>, b: &Bound) -> R<Vec<Value>> {
    let cmd = cx.cmd;
    let be = cx.backend_error();
    let status = in_range(cmd, b, "Status", 500, 599)?;
    let aadsts = in_range(cmd, b, "Aadsts", 1, i64::from(u32::MAX))?;
    let delay_ms = in_range(cmd, b, "DelayMs", 0, 600_000)?;
    let times = in_range(cmd, b, "Times", 1, i64::from(u32::MAX))?;
    // One answer: a 5xx or an AADSTS error (either may wait first), or a delay alone.
    if status.is_some() && aadsts.is_some()
        || status.is_none() && aadsts.is_none() && delay_ms.is_none()
    {
        return Err(catalogue::ambiguous_parameter_set(cmd));
    }
    let rule = NewAadFault {
        endpoint: b.str("Endpoint").unwrap_or_else(|| "any".into()),
        user: b.str("User"),
        client_id: b.str("ClientId"),
        resource: b.str("Resource"),
        times: times.and_then(|n| u64::try_from(n).ok()),
        status: status.and_then(|n| u16::try_from(n).ok()),
        aadsts: aadsts.and_then(|n| u32::try_from(n).ok()),
        delay_ms: delay_ms.and_then(|n| u64::try_from(n).ok()),
    };
    if let Some(w) = cx.what_if(b, "Azure AD fault rules") {
        return Ok(w);
    }
    let added = cx.faults()?.add_aad_fault(&rule).map_err(be)?;
    Ok(vec![Value::Object(objects::aad_fault(&added))])
}

fn get_fault(cx: &mut Cx<'_>, b: &Bound) -> R<Vec<Value>> {
    let cmd = cx.cmd;
    let be = cx.backend_error();
    let mut rules = cx.faults()?.aad_faults().map_err(be)?;
    if let Some(v) = b.get("Id") {
        let id = v.to_plain_string();
        rules.retain(|r| r.id.to_string() == id.trim());
        if rules.is_empty() {
            return Err(catalogue::no_such_fault(cmd, id.trim()));
        }
    }
    Ok(rules
        .iter()
        .map(|r| Value::Object(objects::aad_fault(r)))
        .collect())
}

fn remove_fault(cx: &mut Cx<'_>, b: &Bound) -> R<Vec<Value>> {
    let cmd = cx.cmd;
    let be = cx.backend_error();
    let id = b.get("Id").map(identity_of);
    let target = match &id {
        Some(i) => format!("Azure AD fault rule {i}"),
        None => "Azure AD fault rules".to_string(),
    };
    if let Some(w) = cx.what_if(b, &target) {
        return Ok(w);
    }
    let id = match id {
        Some(i) => Some(
            i.trim()
                .parse::<u64>()
                .map_err(|_| catalogue::no_such_fault(cmd, i.trim()))?,
        ),
        None => None,
    };
    cx.faults()?.remove_aad_fault(id).map_err(be)?;
    Ok(Vec::new())
}
