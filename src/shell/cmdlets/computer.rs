//! The user's Windows machine's domain membership: `Add-Computer -DomainName` joins it to the
//! lab's on-premises Active Directory domain, `Remove-Computer` puts it back in the `WORKGROUP`
//! workgroup and `Restart-Computer` restarts it. These are client-machine cmdlets, like the
//! registry's: they change the machine the reference Outlook runs on, not a service.
//!
//! As on Windows, a join or a leave is written at once and announced with PowerShell's
//! `WARNING: The changes will take effect after you restart the computer …`; the machine's
//! Windows logon (what ADFS's integrated sign-in uses) changes only at the restart
//! (`Restart-Computer`, or the `-Restart` switch). A `client` action started after the restart
//! runs on the domain-joined machine ([`Membership::logon_domain`]); one started before still
//! has the local logon and meets ADFS's forms page. The only domain there is to join is the
//! lab's (the ADFS farm's `contoso.com`, also `CONTOSO`); any other name fails as Windows fails
//! when it finds no domain controller. The lab checks no credential: `-Credential` is mandatory
//! (the real cmdlet's is, in its domain parameter set) but any user name or object is taken.
//!
//! [`Membership::logon_domain`]: crate::shell::backend::Membership::logon_domain

use super::kit::{cmdlet, sig, CmdletSpec, Cx, Run, R};
use crate::shell::backend::Membership;
use crate::shell::binder::{p, pos, req, unmodeled, Bound, Extra, ParamSpec, Ty};
use crate::shell::error::catalogue;
use crate::shell::value::{PsObject, Value};

/// The user's Windows machine (Greg's PC).
pub const COMPUTER: &str = "GREGT-PC";
/// The workgroup a machine outside a domain is in.
pub const WORKGROUP: &str = "WORKGROUP";
/// The type of `-PassThru` objects.
pub const CHANGE_INFO: &str = "Microsoft.PowerShell.Commands.ComputerChangeInfo";

const ADD: &[ParamSpec] = &[
    pos(req(p("DomainName", Ty::Str)), 0),
    req(p("Credential", Ty::Object)),
    p("Restart", Ty::Switch),
    p("PassThru", Ty::Switch),
    p("Force", Ty::Switch),
    unmodeled(p("OUPath", Ty::Str)),
    unmodeled(p("Server", Ty::Str)),
    unmodeled(p("NewName", Ty::Str)),
    unmodeled(p("ComputerName", Ty::Strings)),
    unmodeled(p("LocalCredential", Ty::Object)),
    unmodeled(p("UnjoinDomainCredential", Ty::Object)),
    unmodeled(p("Options", Ty::Strings)),
    unmodeled(p("Unsecure", Ty::Switch)),
];
const REMOVE: &[ParamSpec] = &[
    pos(p("UnjoinDomainCredential", Ty::Object), 0),
    p("Restart", Ty::Switch),
    p("PassThru", Ty::Switch),
    p("Force", Ty::Switch),
    unmodeled(p("WorkgroupName", Ty::Str)),
    unmodeled(p("ComputerName", Ty::Strings)),
    unmodeled(p("LocalCredential", Ty::Object)),
];
const RESTART: &[ParamSpec] = &[
    p("Force", Ty::Switch),
    unmodeled(p("ComputerName", Ty::Strings)),
    unmodeled(p("Wait", Ty::Switch)),
    unmodeled(p("Credential", Ty::Object)),
];

pub(super) const CMDLETS: &[CmdletSpec] = &[
    cmdlet(
        sig("Add-Computer", ADD, Extra::ShouldProcess),
        "Joins the user's Windows machine (the client machine) to the lab's Active Directory domain; the machine's logon is on the domain after the restart (`-Restart`, `Restart-Computer`).",
        Run::Each(add),
    ),
    cmdlet(
        sig("Remove-Computer", REMOVE, Extra::ShouldProcess),
        "Takes the user's Windows machine (the client machine) out of its domain, back to a workgroup, from the next restart.",
        Run::Each(remove),
    ),
    cmdlet(
        sig("Restart-Computer", RESTART, Extra::ShouldProcess),
        "Restarts the user's Windows machine (the client machine): a domain join or leave takes effect.",
        Run::Each(restart),
    ),
];

fn add(cx: &mut Cx<'_>, b: &Bound) -> R<Vec<Value>> {
    let be = cx.backend_error();
    let name = b.str("DomainName").unwrap_or_default();
    let lab = cx.machines()?.ad_domain().map_err(&be)?;
    let mut m = cx.machines()?.membership().map_err(&be)?;
    if let Some(current) = &m.domain {
        if lab.is_named(&name) {
            return Err(catalogue::already_in_domain(cx.cmd, COMPUTER, &name));
        }
        return Err(catalogue::domain_not_found(
            cx.cmd,
            COMPUTER,
            &name,
            Err(current),
        ));
    }
    if !lab.is_named(&name) {
        return Err(catalogue::domain_not_found(
            cx.cmd,
            COMPUTER,
            &name,
            Ok(WORKGROUP),
        ));
    }
    if let Some(w) = cx.what_if(b, COMPUTER) {
        return Ok(w);
    }
    m.domain = Some(lab.dns);
    change(cx, b, m)
}

fn remove(cx: &mut Cx<'_>, b: &Bound) -> R<Vec<Value>> {
    let be = cx.backend_error();
    let mut m = cx.machines()?.membership().map_err(&be)?;
    if m.domain.is_none() {
        return Err(catalogue::not_in_domain(cx.cmd, COMPUTER));
    }
    if let Some(w) = cx.what_if(b, COMPUTER) {
        return Ok(w);
    }
    m.domain = None;
    change(cx, b, m)
}

/// Records `m`; restarts now with `-Restart`, else warns that the restart is pending.
fn change(cx: &mut Cx<'_>, b: &Bound, mut m: Membership) -> R<Vec<Value>> {
    let be = cx.backend_error();
    if b.switch("Restart") {
        m.logon_domain = m.domain.clone();
    }
    cx.machines()?.set_membership(&m).map_err(&be)?;
    if m.restart_pending() {
        cx.session().warn(format!(
            "The changes will take effect after you restart the computer {COMPUTER}."
        ));
    }
    if !b.switch("PassThru") {
        return Ok(Vec::new());
    }
    Ok(vec![Value::Object(
        PsObject::new(CHANGE_INFO)
            .with("HasSucceeded", true)
            .with("ComputerName", COMPUTER),
    )])
}

fn restart(cx: &mut Cx<'_>, b: &Bound) -> R<Vec<Value>> {
    let be = cx.backend_error();
    if let Some(w) = cx.what_if(b, &format!("localhost ({COMPUTER})")) {
        return Ok(w);
    }
    let mut m = cx.machines()?.membership().map_err(&be)?;
    m.logon_domain = m.domain.clone();
    cx.machines()?.set_membership(&m).map_err(&be)?;
    Ok(Vec::new())
}
