//! `iisreset`: restarts IIS on an Exchange server, which is when Exchange reloads the settings a
//! `Set-` cmdlet changed (the lab's mock Exchange caches them until then).

use super::kit::{Cx, NativeSpec, R};
use crate::shell::error::catalogue;
use crate::shell::value::Value;

pub(super) const NATIVES: &[NativeSpec] = &[NativeSpec {
    name: "iisreset",
    aliases: &["iisreset.exe"],
    synopsis: "Restarts IIS so Exchange reloads its settings: iisreset [computername] /restart /noforce /timeout:N.",
    run: iisreset,
}];

fn iisreset(cx: &mut Cx<'_>, args: &[String]) -> R<Vec<Value>> {
    let mut server = None;
    let mut noforce = false;
    for a in args {
        let l = a.to_ascii_lowercase();
        match l.as_str() {
            "/noforce" => noforce = true,
            "/restart" => {}
            s if s.starts_with("/timeout:") => {}
            s if s.starts_with('/') => return Err(catalogue::iisreset_switch_not_modelled(a)),
            _ => server = Some(a.clone()),
        }
    }
    let be = cx.backend_error();
    cx.exchange()?
        .iisreset(server.as_deref(), noforce)
        .map_err(be)?;
    Ok([
        "Attempting stop...",
        "Internet services successfully stopped",
        "Attempting start...",
        "Internet services successfully restarted",
    ]
    .iter()
    .map(|l| Value::Str((*l).to_string()))
    .collect())
}
