//! `Get-Mailbox`: the organization's mailboxes, by address, alias, display name or GUID; and
//! `New-MoveRequest`, which moves one to another server's database. The lab has one mailbox
//! database per server, named `Mailbox Database <server>`, and a move completes at once.
//! `Enable-Mailbox` gives an on-premises account (`New-ADUser`) a mailbox addressed by its UPN.

use super::kit::{cmdlet, identity_of, sig, CmdletSpec, Cx, Run, R};
use crate::shell::binder::{p, piped, pos, req, unmodeled, Bound, Extra, ParamSpec, Ty};
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

const NEW_MOVE_REQUEST: &[ParamSpec] = &[
    pos(req(piped(p("Identity", Ty::Str))), 0),
    req(p("TargetDatabase", Ty::Str)),
    unmodeled(p("BatchName", Ty::Str)),
    unmodeled(p("BadItemLimit", Ty::Int)),
];

const ENABLE_MAILBOX: &[ParamSpec] = &[
    pos(req(piped(p("Identity", Ty::Str))), 0),
    p("Database", Ty::Str),
    unmodeled(p("Alias", Ty::Str)),
    unmodeled(p("DisplayName", Ty::Str)),
    unmodeled(p("PrimarySmtpAddress", Ty::Str)),
];

pub(super) const CMDLETS: &[CmdletSpec] = &[
    cmdlet(
        sig("Enable-Mailbox", ENABLE_MAILBOX, Extra::None),
        "Gives an on-premises account a mailbox (its UPN as the address) in a server's database.",
        Run::Each(enable_mailbox),
    ),
    cmdlet(
        sig("Get-Mailbox", GET_MAILBOX, Extra::None),
        "Lists mailboxes, or finds one by address, alias, display name or GUID.",
        Run::Each(get),
    ),
    cmdlet(
        sig("New-MoveRequest", NEW_MOVE_REQUEST, Extra::None),
        "Moves a mailbox to another server's database (`Mailbox Database <server>`); the lab completes the move at once.",
        Run::Each(new_move_request),
    ),
];

/// The server of a lab database name: `Mailbox Database EX1` → `EX1` (a bare server name also
/// names its database).
fn server_of_database(db: &str) -> String {
    let db = db.trim();
    db.strip_prefix("Mailbox Database ")
        .unwrap_or(db)
        .trim()
        .to_string()
}

fn new_move_request(cx: &mut Cx<'_>, b: &Bound) -> R<Vec<Value>> {
    let cmd = cx.cmd;
    let be = cx.backend_error();
    let id = b.get("Identity").map(identity_of).unwrap_or_default();
    let server = server_of_database(&b.str("TargetDatabase").unwrap_or_default());
    let list = cx.exchange()?.mailboxes().map_err(be)?;
    let Some(m) = list.iter().find(|m| {
        let alias = m.primary_smtp_address.split('@').next().unwrap_or_default();
        m.primary_smtp_address.eq_ignore_ascii_case(&id)
            || alias.eq_ignore_ascii_case(&id)
            || m.display_name.eq_ignore_ascii_case(&id)
    }) else {
        let dc = cx.dc();
        return Err(catalogue::object_not_found(cmd, &id, &dc));
    };
    let smtp = m.primary_smtp_address.clone();
    let be = cx.backend_error();
    cx.exchange()?.move_mailbox(&smtp, &server).map_err(be)?;
    Ok(Vec::new())
}

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

fn enable_mailbox(cx: &mut Cx<'_>, b: &Bound) -> R<Vec<Value>> {
    let cmd = cx.cmd;
    let be = cx.backend_error();
    let id = b.get("Identity").map(identity_of).unwrap_or_default();
    let bare = id.rsplit('\\').next().unwrap_or(&id).to_string();
    let users = cx.identity()?.ad_users().map_err(&be)?;
    let Some(u) = users.iter().find(|u| {
        u.sam.eq_ignore_ascii_case(&bare)
            || u.upn.eq_ignore_ascii_case(&bare)
            || u.display_name.eq_ignore_ascii_case(&bare)
    }) else {
        let dc = cx.dc();
        return Err(catalogue::object_not_found(cmd, &id, &dc));
    };
    let server = b.str("Database").map(|d| server_of_database(&d));
    let m = cx
        .exchange()?
        .enable_mailbox(&u.sid, &u.upn, &u.display_name, server.as_deref())
        .map_err(be)?;
    Ok(vec![Value::Object(objects::mailbox(&m))])
}
