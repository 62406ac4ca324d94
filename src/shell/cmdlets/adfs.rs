//! `Set-AdfsProperties`: the ADFS farm's Extended Protection setting (the lab has no ADFS farm,
//! so the lab backend answers that there is nothing to change).

use super::kit::{cmdlet, sig, CmdletSpec, Cx, Run, R};
use crate::shell::backend::ExtendedProtection;
use crate::shell::binder::{p, unmodeled, Bound, Extra, ParamSpec, Ty};
use crate::shell::value::Value;

const SET_ADFS: &[ParamSpec] = &[
    p(
        "ExtendedProtectionTokenCheck",
        Ty::Enum(
            "Microsoft.IdentityServer.Management.Resources.ExtendedProtectionTokenCheck",
            &["Require", "Allow", "None"],
        ),
    ),
    unmodeled(p("AuthenticationContextOrder", Ty::Strings)),
    unmodeled(p("HostName", Ty::Str)),
    unmodeled(p("EnableExtranetLockout", Ty::Bool)),
    unmodeled(p("ExtranetLockoutThreshold", Ty::Int)),
];

pub(super) const CMDLETS: &[CmdletSpec] = &[cmdlet(
    sig("Set-AdfsProperties", SET_ADFS, Extra::ShouldProcess),
    "Sets the ADFS farm's Extended Protection token check.",
    Run::Each(set),
)];

fn set(cx: &mut Cx<'_>, b: &Bound) -> R<Vec<Value>> {
    let be = cx.backend_error();
    if let Some(w) = cx.what_if(b, "ADFS properties") {
        return Ok(w);
    }
    if let Some(m) = b.str("ExtendedProtectionTokenCheck") {
        let mode = match m.as_str() {
            "Require" => ExtendedProtection::Require,
            "Allow" => ExtendedProtection::Allow,
            _ => ExtendedProtection::None,
        };
        cx.machines()?
            .set_adfs_extended_protection(mode)
            .map_err(be)?;
    }
    Ok(Vec::new())
}
