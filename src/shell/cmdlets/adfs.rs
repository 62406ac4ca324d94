//! The ADFS farm's cmdlets: `Get-AdfsProperties`, `Set-AdfsProperties` (the field guide's
//! `-ExtendedProtectionTokenCheck None`, then `Allow`), `Get-AdfsCertificate` and
//! `Update-AdfsCertificate` (token-signing rollover), over the backend's [`AdfsAdmin`] service —
//! in a lab, mock-adfs's admin API.
//!
//! The parameter tables are the real cmdlets' (ADFS on Windows Server 2016); a real parameter
//! the lab does not act on binds and then says so. `-CertificateType` is a `String[]` with
//! ADFS's `ValidateSet`, checked here with PowerShell's text. The farm has token-signing
//! certificates only (its TLS certificate is the front door's), so the other types list nothing.
//!
//! [`AdfsAdmin`]: crate::shell::backend::AdfsAdmin

use super::kit::{cmdlet, sig, CmdletSpec, Cx, Run, R};
use crate::shell::backend::{AdfsPropertiesChange, ExtendedProtection};
use crate::shell::binder::{p, pos, unmodeled, Bound, Extra, ParamSpec, Ty};
use crate::shell::error::catalogue;
use crate::shell::objects;
use crate::shell::value::Value;

const SET_ADFS: &[ParamSpec] = &[
    p(
        "ExtendedProtectionTokenCheck",
        Ty::Enum(
            "Microsoft.IdentityServer.Management.Resources.ExtendedProtectionTokenCheck",
            &["Require", "Allow", "None"],
        ),
    ),
    p("WIASupportedUserAgents", Ty::Strings),
    unmodeled(p("AuthenticationContextOrder", Ty::Strings)),
    unmodeled(p("AutoCertificateRollover", Ty::Bool)),
    unmodeled(p("DisplayName", Ty::Str)),
    unmodeled(p("HostName", Ty::Str)),
    unmodeled(p("SsoLifetime", Ty::Int)),
    unmodeled(p("EnableExtranetLockout", Ty::Bool)),
    unmodeled(p("ExtranetLockoutThreshold", Ty::Int)),
];
const GET_ADFS: &[ParamSpec] = &[];
const GET_CERT: &[ParamSpec] = &[
    pos(p("CertificateType", Ty::Strings), 0),
    p("Thumbprint", Ty::Strings),
];
const UPDATE_CERT: &[ParamSpec] = &[
    pos(p("CertificateType", Ty::Str), 0),
    p("Urgent", Ty::Switch),
    p("PassThru", Ty::Switch),
];

/// `Get-AdfsCertificate -CertificateType`'s `ValidateSet`.
const CERT_TYPES: &[&str] = &[
    "Service-Communications",
    "Token-Decrypting",
    "Token-Signing",
];
/// `Update-AdfsCertificate -CertificateType`'s.
const UPDATE_TYPES: &[&str] = &["Token-Decrypting", "Token-Signing"];

pub(super) const CMDLETS: &[CmdletSpec] = &[
    cmdlet(
        sig("Get-AdfsProperties", GET_ADFS, Extra::None),
        "Shows the ADFS farm's properties: host name, identifier, extended protection, WIA user agents.",
        Run::Each(get_properties),
    ),
    cmdlet(
        sig("Set-AdfsProperties", SET_ADFS, Extra::ShouldProcess),
        "Sets the ADFS farm's Extended Protection token check (None, Allow, Require) or WIA user agents.",
        Run::Each(set_properties),
    ),
    cmdlet(
        sig("Get-AdfsCertificate", GET_CERT, Extra::None),
        "Lists the farm's token-signing certificates, the primary first.",
        Run::Each(get_certificates),
    ),
    cmdlet(
        sig("Update-AdfsCertificate", UPDATE_CERT, Extra::ShouldProcess),
        "Rolls the token-signing certificate over: a new secondary, or with -Urgent a new primary at once.",
        Run::Each(update_certificate),
    ),
];

fn get_properties(cx: &mut Cx<'_>, _b: &Bound) -> R<Vec<Value>> {
    let be = cx.backend_error();
    let props = cx.adfs()?.adfs_properties().map_err(be)?;
    Ok(vec![Value::Object(objects::adfs_properties(&props))])
}

fn set_properties(cx: &mut Cx<'_>, b: &Bound) -> R<Vec<Value>> {
    let be = cx.backend_error();
    if let Some(w) = cx.what_if(b, "ADFS properties") {
        return Ok(w);
    }
    let change = AdfsPropertiesChange {
        extended_protection_token_check: b.str("ExtendedProtectionTokenCheck").map(|m| {
            match m.as_str() {
                "Require" => ExtendedProtection::Require,
                "Allow" => ExtendedProtection::Allow,
                _ => ExtendedProtection::None,
            }
        }),
        wia_supported_user_agents: b.strings("WIASupportedUserAgents"),
    };
    if change != AdfsPropertiesChange::default() {
        cx.adfs()?.set_adfs_properties(&change).map_err(be)?;
    }
    Ok(Vec::new())
}

/// The value of `-CertificateType` as the `ValidateSet` spells it, or PowerShell's error.
fn validated(cmd: &str, value: &str, set: &[&'static str]) -> R<&'static str> {
    set.iter()
        .find(|t| t.eq_ignore_ascii_case(value))
        .copied()
        .ok_or_else(|| catalogue::not_in_validate_set(cmd, "CertificateType", value, set))
}

fn get_certificates(cx: &mut Cx<'_>, b: &Bound) -> R<Vec<Value>> {
    let cmd = cx.cmd;
    let be = cx.backend_error();
    let types = match b.strings("CertificateType") {
        Some(ts) => ts
            .iter()
            .map(|t| validated(cmd, t, CERT_TYPES))
            .collect::<R<Vec<_>>>()?,
        None => CERT_TYPES.to_vec(),
    };
    let thumbprints = b.strings("Thumbprint");
    let certs = cx.adfs()?.adfs_certificates().map_err(be)?;
    Ok(certs
        .iter()
        .filter(|c| {
            types
                .iter()
                .any(|t| t.eq_ignore_ascii_case(&c.certificate_type))
        })
        .filter(|c| {
            thumbprints
                .as_ref()
                .is_none_or(|ts| ts.iter().any(|t| t.eq_ignore_ascii_case(&c.thumbprint)))
        })
        .map(|c| Value::Object(objects::adfs_certificate(c)))
        .collect())
}

fn update_certificate(cx: &mut Cx<'_>, b: &Bound) -> R<Vec<Value>> {
    let cmd = cx.cmd;
    let be = cx.backend_error();
    let kind = match b.str("CertificateType") {
        Some(t) => validated(cmd, &t, UPDATE_TYPES)?,
        None => "Token-Signing",
    };
    if let Some(w) = cx.what_if(b, kind) {
        return Ok(w);
    }
    if kind != "Token-Signing" {
        // The farm has no token-decrypting certificate to roll.
        return Ok(Vec::new());
    }
    let after = cx
        .adfs()?
        .update_adfs_certificate(b.switch("Urgent"))
        .map_err(be)?;
    if !b.switch("PassThru") {
        return Ok(Vec::new());
    }
    Ok(after
        .iter()
        .map(|c| Value::Object(objects::adfs_certificate(c)))
        .collect())
}
