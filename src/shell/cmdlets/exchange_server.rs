//! `Get-ExchangeServer`: the organization's servers, by name or FQDN; and
//! `Uninstall-LabExchangeServer`, the lab's stand-in for running Setup `/mode:uninstall` on a
//! server (refused, as Setup refuses, while its database holds mailboxes).

use super::kit::{cmdlet, identity_of, sig, CmdletSpec, Cx, Run, R};
use crate::shell::binder::{p, piped, pos, req, unmodeled, Bound, Extra, ParamSpec, Ty};
use crate::shell::error::catalogue;
use crate::shell::format::wildcard_match;
use crate::shell::objects;
use crate::shell::value::Value;

const GET_EXCHANGE_SERVER: &[ParamSpec] = &[
    pos(piped(p("Identity", Ty::Str)), 0),
    unmodeled(p("Domain", Ty::Str)),
    p("DomainController", Ty::Str),
    unmodeled(p("Status", Ty::Switch)),
];

const UNINSTALL_LAB_SERVER: &[ParamSpec] = &[pos(req(piped(p("Identity", Ty::Str))), 0)];

pub(super) const CMDLETS: &[CmdletSpec] = &[
    cmdlet(
        sig("Get-ExchangeServer", GET_EXCHANGE_SERVER, Extra::None),
        "Lists the Exchange servers (name, version, roles).",
        Run::Each(get),
    ),
    cmdlet(
        sig("Uninstall-LabExchangeServer", UNINSTALL_LAB_SERVER, Extra::ShouldProcess),
        "Uninstalls a server (Setup /mode:uninstall): it leaves the organization; refused while it holds mailboxes.",
        Run::Each(uninstall),
    ),
];

fn uninstall(cx: &mut Cx<'_>, b: &Bound) -> R<Vec<Value>> {
    let be = cx.backend_error();
    let id = b.get("Identity").map(identity_of).unwrap_or_default();
    if let Some(w) = cx.what_if(b, &id) {
        return Ok(w);
    }
    cx.exchange()?.uninstall_server(&id).map_err(be)?;
    Ok(Vec::new())
}

fn get(cx: &mut Cx<'_>, b: &Bound) -> R<Vec<Value>> {
    let cmd = cx.cmd;
    let be = cx.backend_error();
    let mut list = cx.exchange()?.exchange_servers().map_err(be)?;
    if let Some(id) = b.get("Identity").map(identity_of) {
        list.retain(|s| wildcard_match(&id, &s.name) || wildcard_match(&id, &s.fqdn));
        if list.is_empty() {
            let dc = cx.dc();
            return Err(catalogue::object_not_found(cmd, &id, &dc));
        }
    }
    let domain = cx
        .exchange()?
        .organization()
        .map(|o| o.domain)
        .unwrap_or_default();
    Ok(list
        .iter()
        .map(|s| Value::Object(objects::exchange_server(s, &domain)))
        .collect())
}
