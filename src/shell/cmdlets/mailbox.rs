//! `Get-Mailbox`: the organization's mailboxes, by address, alias, display name or GUID.

use super::kit::{cmdlet, identity_of, sig, CmdletSpec, Cx, Run, R};
use crate::shell::binder::{p, piped, pos, unmodeled, Bound, Extra, ParamSpec, Ty};
use crate::shell::error::catalogue;
use crate::shell::format::wildcard_match;
use crate::shell::objects;
use crate::shell::value::Value;

const GET_MAILBOX: &[ParamSpec] = &[
    pos(piped(p("Identity", Ty::Str)), 0),
    unmodeled(p("Database", Ty::Str)),
    p("DomainController", Ty::Str),
    p("ResultSize", Ty::Str),
    p("Server", Ty::Str),
];

pub(super) const CMDLETS: &[CmdletSpec] = &[cmdlet(
    sig("Get-Mailbox", GET_MAILBOX, Extra::None),
    "Lists mailboxes, or finds one by address, alias, display name or GUID.",
    Run::Each(get),
)];

fn get(cx: &mut Cx<'_>, b: &Bound) -> R<Vec<Value>> {
    let cmd = cx.cmd;
    let be = cx.backend_error();
    let mut list = cx.exchange()?.mailboxes().map_err(be)?;
    if let Some(id) = b.get("Identity").map(identity_of) {
        list.retain(|m| {
            let alias = m.primary_smtp_address.split('@').next().unwrap_or_default();
            wildcard_match(&id, &m.primary_smtp_address)
                || wildcard_match(&id, alias)
                || wildcard_match(&id, &m.display_name)
                || m.guid.to_string().eq_ignore_ascii_case(&id)
        });
        if list.is_empty() {
            let dc = cx.dc();
            return Err(catalogue::object_not_found(cmd, &id, &dc));
        }
    }
    if let Some(srv) = b.str("Server") {
        list.retain(|m| m.server.eq_ignore_ascii_case(&srv));
    }
    Ok(list
        .iter()
        .map(|m| Value::Object(objects::mailbox(m)))
        .collect())
}
