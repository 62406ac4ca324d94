//! The client machine's settings that decide whether Outlook uses modern authentication:
//! registry values (`New-ItemProperty`/`Set-ItemProperty` on `HKCU:\…`, and `reg add`) on
//! Windows, and `defaults write com.microsoft.Outlook …` on macOS (the Mac's registry).
//! They have no service behind them; the backend keeps them for the client the lab starts.

use super::kit::{cmdlet, sig, CmdletSpec, Cx, NativeSpec, Run, R};
use crate::shell::backend::ClientSetting;
use crate::shell::binder::{alias, p, pos, req, Bound, Extra, ParamSpec, Ty};
use crate::shell::error::catalogue;
use crate::shell::value::{PsObject, Value};

const ITEM_PROPERTY: &[ParamSpec] = &[
    pos(req(alias(p("Path", Ty::Strings), &["PSPath"])), 0),
    pos(req(p("Name", Ty::Str)), 1),
    pos(p("Value", Ty::Object), 2),
    alias(p("PropertyType", Ty::Str), &["Type"]),
    p("Force", Ty::Switch),
    p("PassThru", Ty::Switch),
];

pub(super) const CMDLETS: &[CmdletSpec] = &[
    cmdlet(
        sig("New-ItemProperty", ITEM_PROPERTY, Extra::ShouldProcess),
        "Writes a registry value on the client machine (HKCU:\\…, HKLM:\\…) and shows it.",
        Run::Each(new),
    ),
    cmdlet(
        sig("Set-ItemProperty", ITEM_PROPERTY, Extra::ShouldProcess),
        "Writes a registry value on the client machine (HKCU:\\…, HKLM:\\…).",
        Run::Each(set),
    ),
];

pub(super) const NATIVES: &[NativeSpec] = &[
    NativeSpec {
        name: "reg",
        aliases: &["reg.exe"],
        synopsis: "Writes a registry value on the client machine: reg add <key> /v <name> /t <type> /d <data> /f.",
        run: reg,
    },
    NativeSpec {
        name: "defaults",
        aliases: &[],
        synopsis: "Writes a macOS preference on the client machine: defaults write <domain> <key> -bool|-string|-int <value>.",
        run: defaults,
    },
];

/// `HKCU:\X`, `HKCU\X`, `HKEY_CURRENT_USER\X`, `Registry::HKEY_CURRENT_USER\X` →
/// (`HKCU`, `HKEY_CURRENT_USER`, `X`).
pub fn registry_path(path: &str) -> Option<(&'static str, &'static str, &str)> {
    let p = path
        .strip_prefix("Microsoft.PowerShell.Core\\Registry::")
        .or_else(|| path.strip_prefix("Registry::"))
        .unwrap_or(path);
    let (hive, rest) = p.split_once('\\')?;
    let hive = hive.trim_end_matches(':').to_ascii_uppercase();
    let (short, long) = match hive.as_str() {
        "HKCU" | "HKEY_CURRENT_USER" => ("HKCU", "HKEY_CURRENT_USER"),
        "HKLM" | "HKEY_LOCAL_MACHINE" => ("HKLM", "HKEY_LOCAL_MACHINE"),
        _ => return None,
    };
    let rest = rest.trim_end_matches('\\');
    if rest.is_empty() {
        return None;
    }
    Some((short, long, rest))
}

fn new(cx: &mut Cx<'_>, b: &Bound) -> R<Vec<Value>> {
    item_property(cx, b, true)
}

fn set(cx: &mut Cx<'_>, b: &Bound) -> R<Vec<Value>> {
    item_property(cx, b, b.switch("PassThru"))
}

/// `New-ItemProperty` / `Set-ItemProperty`; `show`: write the new value as PowerShell does.
fn item_property(cx: &mut Cx<'_>, b: &Bound, show: bool) -> R<Vec<Value>> {
    let cmd = cx.cmd;
    let be = cx.backend_error();
    let paths = b.strings("Path").unwrap_or_default();
    let name = b.str("Name").unwrap_or_default();
    let value = b.get("Value").cloned().unwrap_or(Value::Null);
    let mut out = Vec::new();
    for path in paths {
        let Some((drive, long, rest)) = registry_path(&path) else {
            return Err(catalogue::path_not_modelled(cmd, &path));
        };
        let value_type = match b.str("PropertyType") {
            Some(t) => match t.to_ascii_lowercase().as_str() {
                "dword" => "REG_DWORD",
                "qword" => "REG_QWORD",
                "string" => "REG_SZ",
                "expandstring" => "REG_EXPAND_SZ",
                "multistring" => "REG_MULTI_SZ",
                "binary" => "REG_BINARY",
                _ => return Err(catalogue::invalid_property_type(cmd)),
            },
            None if matches!(value, Value::Int(_)) => "REG_DWORD",
            None => "REG_SZ",
        };
        let key = format!("{long}\\{rest}");
        if let Some(w) = cx.what_if(b, &format!("Item: {key} Property: {name}")) {
            out.extend(w);
            continue;
        }
        cx.machines()?
            .set_client_setting(&ClientSetting::Registry {
                key: key.clone(),
                name: name.clone(),
                value_type: value_type.to_string(),
                data: value.to_plain_string(),
            })
            .map_err(&be)?;
        if show {
            let child = rest.rsplit('\\').next().unwrap_or(rest).to_string();
            let parent = rest.rsplit_once('\\').map(|(p, _)| p).unwrap_or("");
            let shown = match value {
                Value::Int(i) => Value::Int(i),
                ref v => Value::Str(v.to_plain_string()),
            };
            out.push(Value::Object(
                PsObject::new("System.Management.Automation.PSCustomObject")
                    .with(&name, shown)
                    .with(
                        "PSPath",
                        format!("Microsoft.PowerShell.Core\\Registry::{key}"),
                    )
                    .with(
                        "PSParentPath",
                        format!("Microsoft.PowerShell.Core\\Registry::{long}\\{parent}"),
                    )
                    .with("PSChildName", child)
                    .with("PSDrive", drive)
                    .with("PSProvider", "Microsoft.PowerShell.Core\\Registry"),
            ));
        }
    }
    Ok(out)
}

fn reg(cx: &mut Cx<'_>, args: &[String]) -> R<Vec<Value>> {
    let invalid = catalogue::reg_invalid_syntax;
    if !args.first().is_some_and(|a| a.eq_ignore_ascii_case("add")) {
        return Err(catalogue::reg_not_modelled());
    }
    let key = args.get(1).ok_or_else(invalid)?;
    let Some((_, long, rest)) = registry_path(key) else {
        return Err(catalogue::reg_invalid_key_name());
    };
    let mut vname = None;
    let mut vtype = "REG_SZ".to_string();
    let mut data = String::new();
    let mut i = 2;
    while i < args.len() {
        let a = args[i].to_ascii_lowercase();
        let next = || args.get(i + 1).cloned().ok_or_else(invalid);
        match a.as_str() {
            "/v" => {
                vname = Some(next()?);
                i += 2;
            }
            "/t" => {
                vtype = next()?.to_ascii_uppercase();
                i += 2;
            }
            "/d" => {
                data = next()?;
                i += 2;
            }
            "/f" | "/ve" => i += 1,
            _ => return Err(invalid()),
        }
    }
    let Some(vname) = vname else {
        return Err(invalid());
    };
    if !matches!(
        vtype.as_str(),
        "REG_SZ" | "REG_DWORD" | "REG_QWORD" | "REG_EXPAND_SZ" | "REG_MULTI_SZ" | "REG_BINARY"
    ) {
        return Err(invalid());
    }
    let be = cx.backend_error();
    cx.machines()?
        .set_client_setting(&ClientSetting::Registry {
            key: format!("{long}\\{rest}"),
            name: vname,
            value_type: vtype,
            data,
        })
        .map_err(be)?;
    Ok(vec![Value::Str(
        "The operation completed successfully.".to_string(),
    )])
}

fn defaults(cx: &mut Cx<'_>, args: &[String]) -> R<Vec<Value>> {
    let usage = catalogue::defaults_not_modelled;
    if args.len() != 5 || !args[0].eq_ignore_ascii_case("write") {
        return Err(usage());
    }
    let t = args[3].trim_start_matches('-').to_ascii_lowercase();
    let value = match t.as_str() {
        "bool" | "boolean" => match args[4].to_ascii_lowercase().as_str() {
            "yes" | "true" | "1" => "YES",
            "no" | "false" | "0" => "NO",
            _ => return Err(usage()),
        }
        .to_string(),
        "string" => args[4].clone(),
        "int" | "integer" => {
            if args[4].parse::<i64>().is_err() {
                return Err(usage());
            }
            args[4].clone()
        }
        _ => return Err(usage()),
    };
    let value_type = if t == "boolean" {
        "bool".into()
    } else if t == "integer" {
        "int".into()
    } else {
        t
    };
    let be = cx.backend_error();
    cx.machines()?
        .set_client_setting(&ClientSetting::MacDefaults {
            domain: args[1].clone(),
            key: args[2].clone(),
            value_type,
            value,
        })
        .map_err(be)?;
    Ok(Vec::new())
}
