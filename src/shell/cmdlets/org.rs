//! `Get-OrganizationConfig` and `Set-OrganizationConfig`: the Exchange organization's switches
//! (`OAuth2ClientProfileEnabled` turns modern authentication on for Outlook).

use super::kit::{cmdlet, sig, CmdletSpec, Cx, Run, R};
use crate::shell::backend::OrgConfigChange;
use crate::shell::binder::{p, pos, unmodeled, Bound, Extra, ParamSpec, Ty};
use crate::shell::error::catalogue;
use crate::shell::objects;
use crate::shell::value::Value;

const GET_ORG: &[ParamSpec] = &[
    pos(p("Identity", Ty::Str), 0),
    p("DomainController", Ty::Str),
];
const SET_ORG: &[ParamSpec] = &[
    unmodeled(p("ActivityBasedAuthenticationTimeoutEnabled", Ty::Bool)),
    unmodeled(p("ActivityBasedAuthenticationTimeoutInterval", Ty::Str)),
    p("DomainController", Ty::Str),
    unmodeled(p("EwsEnabled", Ty::Bool)),
    p("MapiHttpEnabled", Ty::Bool),
    p("OAuth2ClientProfileEnabled", Ty::Bool),
    unmodeled(p("RefreshSessionEnabled", Ty::Bool)),
];

pub(super) const CMDLETS: &[CmdletSpec] = &[
    cmdlet(
        sig("Get-OrganizationConfig", GET_ORG, Extra::None),
        "Shows the Exchange organization's configuration.",
        Run::Each(get),
    ),
    cmdlet(
        sig("Set-OrganizationConfig", SET_ORG, Extra::ShouldProcess),
        "Turns the organization's modern authentication (OAuth2ClientProfileEnabled) or MAPI over HTTP on or off.",
        Run::Each(set),
    ),
];

fn get(cx: &mut Cx<'_>, _: &Bound) -> R<Vec<Value>> {
    let be = cx.backend_error();
    let o = cx.exchange()?.organization().map_err(be)?;
    Ok(vec![Value::Object(objects::org_config(&o))])
}

/// The shell runs on the organization's first server, whose build decides its cmdlets'
/// parameters: `-OAuth2ClientProfileEnabled` came with Exchange 2013 CU19 / 2016 CU8, so on an
/// older build it is PowerShell's parameter-binding error.
fn check_build(cx: &mut Cx<'_>, b: &Bound) -> R<()> {
    if !b.has("OAuth2ClientProfileEnabled") {
        return Ok(());
    }
    let cmd = cx.cmd;
    let be = cx.backend_error();
    let servers = cx.exchange()?.exchange_servers().map_err(be)?;
    match servers.first() {
        Some(s) if !s.hma_build() => Err(catalogue::parameter_not_in_build(
            cmd,
            "OAuth2ClientProfileEnabled",
            &s.name,
            &s.admin_display_version(),
        )),
        _ => Ok(()),
    }
}

fn set(cx: &mut Cx<'_>, b: &Bound) -> R<Vec<Value>> {
    let be = cx.backend_error();
    check_build(cx, b)?;
    if let Some(w) = cx.what_if(b, "Organization") {
        return Ok(w);
    }
    let change = OrgConfigChange {
        oauth2_client_profile_enabled: b.bool("OAuth2ClientProfileEnabled"),
        mapi_http_enabled: b.bool("MapiHttpEnabled"),
    };
    let org = cx.exchange()?.organization().map_err(&be)?;
    let differs = change
        .oauth2_client_profile_enabled
        .is_some_and(|v| v != org.config.oauth2_client_profile_enabled)
        || change
            .mapi_http_enabled
            .is_some_and(|v| v != org.config.mapi_http_enabled);
    if differs {
        cx.exchange()?.set_org_config(&change).map_err(&be)?;
    } else {
        cx.not_modified(&org.name);
    }
    Ok(Vec::new())
}
