//! The lab's cmdlets for what happens to Exchange outside the Exchange Management Shell:
//! the Hybrid Configuration Wizard's OAuth step (`Invoke-LabHybridConfiguration`) and Setup's
//! cumulative updates (`Install-LabCumulativeUpdate`). The real ones are a downloaded wizard
//! and `Setup.exe /Mode:Upgrade`; the lab names them like its other cmdlets (`Lab` prefix) so a
//! scenario can run them as steps. What they decide lives in mock Exchange's admin API (the
//! wizard's refusal while Exchange 2010, Edge Transport included, is in the organization).

use super::kit::{cmdlet, sig, CmdletSpec, Cx, Run, R};
use super::lab::in_range;
use crate::shell::binder::{p, pos, req, Bound, Extra, ParamSpec, Ty};
use crate::shell::objects;
use crate::shell::value::Value;

const INVOKE_LAB_HCW: &[ParamSpec] = &[];
const INSTALL_LAB_CU: &[ParamSpec] = &[
    pos(req(p("Server", Ty::Str)), 0),
    req(p("CumulativeUpdate", Ty::Int)),
];

pub(super) const CMDLETS: &[CmdletSpec] = &[
    cmdlet(
        sig("Invoke-LabHybridConfiguration", INVOKE_LAB_HCW, Extra::None),
        "Runs the Hybrid Configuration Wizard's OAuth step: creates the EvoSts AuthServer, unless Exchange 2010 (Edge Transport included) is in the organization.",
        Run::Each(invoke_hcw),
    ),
    cmdlet(
        sig("Install-LabCumulativeUpdate", INSTALL_LAB_CU, Extra::None),
        "Upgrades a server to a newer cumulative update (Setup /Mode:Upgrade); the server restarts and re-reads its settings.",
        Run::Each(install_cu),
    ),
];

fn invoke_hcw(cx: &mut Cx<'_>, _: &Bound) -> R<Vec<Value>> {
    let be = cx.backend_error();
    let (a, created) = cx.exchange()?.run_hybrid_configuration().map_err(&be)?;
    if !created {
        cx.session().warn(format!(
            "The AuthServer '{}' already exists; the wizard left it unchanged.",
            a.name
        ));
    }
    Ok(vec![Value::Object(objects::auth_server(&a))])
}

fn install_cu(cx: &mut Cx<'_>, b: &Bound) -> R<Vec<Value>> {
    let be = cx.backend_error();
    let server = b.str("Server").unwrap_or_default();
    let cu = in_range(cx.cmd, b, "CumulativeUpdate", 1, 99)?.unwrap_or_default();
    let cu = u16::try_from(cu).unwrap_or_default();
    cx.exchange()?
        .install_cumulative_update(&server, cu)
        .map_err(&be)?;
    let servers = cx.exchange()?.exchange_servers().map_err(&be)?;
    let domain = cx
        .exchange()?
        .organization()
        .map(|o| o.domain)
        .unwrap_or_default();
    Ok(servers
        .iter()
        .filter(|s| s.name.eq_ignore_ascii_case(&server) || s.fqdn.eq_ignore_ascii_case(&server))
        .map(|s| Value::Object(objects::exchange_server(s, &domain)))
        .collect())
}
