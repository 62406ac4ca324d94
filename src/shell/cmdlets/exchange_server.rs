//! `Get-ExchangeServer` (the organization's servers, by name or FQDN, Edge Transport servers
//! included), the Edge subscription cmdlets (`Get-EdgeSubscription`, `Remove-EdgeSubscription`:
//! an Exchange 2010 Edge counts as Exchange 2010 for the Hybrid Configuration Wizard, and
//! removing its subscription is how it leaves the organization), and
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
const GET_EDGE_SUBSCRIPTION: &[ParamSpec] = &[
    pos(piped(p("Identity", Ty::Str)), 0),
    p("DomainController", Ty::Str),
];
const REMOVE_EDGE_SUBSCRIPTION: &[ParamSpec] = &[
    pos(req(piped(p("Identity", Ty::Str))), 0),
    p("DomainController", Ty::Str),
    unmodeled(p("Force", Ty::Switch)),
];

const UNINSTALL_LAB_SERVER: &[ParamSpec] = &[pos(req(piped(p("Identity", Ty::Str))), 0)];

pub(super) const CMDLETS: &[CmdletSpec] = &[
    cmdlet(
        sig("Get-ExchangeServer", GET_EXCHANGE_SERVER, Extra::None),
        "Lists the Exchange servers (name, version, roles), Edge Transport servers included.",
        Run::Each(get),
    ),
    cmdlet(
        sig("Get-EdgeSubscription", GET_EDGE_SUBSCRIPTION, Extra::None),
        "Lists the Edge Transport servers subscribed to the organization.",
        Run::Each(get_edge),
    ),
    cmdlet(
        sig(
            "Remove-EdgeSubscription",
            REMOVE_EDGE_SUBSCRIPTION,
            Extra::ShouldProcess,
        ),
        "Removes an Edge subscription: the Edge Transport server leaves the organization.",
        Run::Each(remove_edge),
    ),
    cmdlet(
        sig("Uninstall-LabExchangeServer", UNINSTALL_LAB_SERVER, Extra::ShouldProcess),
        "Uninstalls a server (Setup /mode:uninstall): it leaves the organization; refused while it holds mailboxes.",
        Run::Each(uninstall),
    ),
];

fn domain(cx: &mut Cx<'_>) -> R<String> {
    Ok(cx
        .exchange()?
        .organization()
        .map(|o| o.domain)
        .unwrap_or_default())
}

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
    let mut list = cx.exchange()?.exchange_servers().map_err(&be)?;
    let mut edges = cx.exchange()?.edge_servers().map_err(&be)?;
    if let Some(id) = b.get("Identity").map(identity_of) {
        list.retain(|s| wildcard_match(&id, &s.name) || wildcard_match(&id, &s.fqdn));
        edges.retain(|e| wildcard_match(&id, &e.name) || wildcard_match(&id, &e.fqdn));
        if list.is_empty() && edges.is_empty() {
            let dc = cx.dc();
            return Err(catalogue::object_not_found(cmd, &id, &dc));
        }
    }
    let domain = domain(cx)?;
    let servers = list
        .iter()
        .map(|s| Value::Object(objects::exchange_server(s, &domain)));
    let edges = edges
        .iter()
        .map(|e| Value::Object(objects::edge_server(e, &domain)));
    Ok(servers.chain(edges).collect())
}

fn get_edge(cx: &mut Cx<'_>, b: &Bound) -> R<Vec<Value>> {
    let cmd = cx.cmd;
    let be = cx.backend_error();
    let mut edges = cx.exchange()?.edge_servers().map_err(be)?;
    if let Some(id) = b.get("Identity").map(identity_of) {
        edges.retain(|e| wildcard_match(&id, &e.name) || wildcard_match(&id, &e.fqdn));
        if edges.is_empty() {
            let dc = cx.dc();
            return Err(catalogue::object_not_found(cmd, &id, &dc));
        }
    }
    let domain = domain(cx)?;
    Ok(edges
        .iter()
        .map(|e| Value::Object(objects::edge_subscription(e, &domain)))
        .collect())
}

fn remove_edge(cx: &mut Cx<'_>, b: &Bound) -> R<Vec<Value>> {
    let cmd = cx.cmd;
    let be = cx.backend_error();
    let id = b.get("Identity").map(identity_of).unwrap_or_default();
    let edges = cx.exchange()?.edge_servers().map_err(&be)?;
    let Some(e) = edges
        .iter()
        .find(|e| e.name.eq_ignore_ascii_case(&id) || e.fqdn.eq_ignore_ascii_case(&id))
    else {
        let dc = cx.dc();
        return Err(catalogue::object_not_found(cmd, &id, &dc));
    };
    if let Some(w) = cx.what_if(b, &e.name) {
        return Ok(w);
    }
    let name = e.name.clone();
    cx.exchange()?
        .remove_edge_subscription(&name)
        .map_err(&be)?;
    Ok(Vec::new())
}
