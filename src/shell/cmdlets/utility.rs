//! PowerShell's own cmdlets that the field guide's lines use around the Exchange and Azure AD
//! ones: `Format-List`, `Format-Table`, `Select-Object`, `Where-Object`, `ForEach-Object`,
//! `Write-Output`, `New-Object` and `Import-Module`. The pipeline cmdlets take the whole input
//! collection ([`Run::Collection`]); script blocks run in the session ([`super::kit::Session`]).

use super::kit::{cmdlet, sig, CmdletSpec, Cx, Run, R};
use crate::shell::binder::{p, piped, pos, req, unmodeled, Bound, Extra, ParamSpec, Ty};
use crate::shell::error::catalogue;
use crate::shell::format::{self, wildcard_match};
use crate::shell::objects;
use crate::shell::value::{PsObject, Value, MAX_VALUE_WEIGHT};

const NEW_OBJECT: &[ParamSpec] = &[
    pos(req(p("TypeName", Ty::Str)), 0),
    pos(unmodeled(p("ArgumentList", Ty::Objects)), 1),
    unmodeled(p("Property", Ty::Object)),
];
const FORMAT_LIST: &[ParamSpec] = &[
    pos(p("Property", Ty::Strings), 0),
    piped(p("InputObject", Ty::Object)),
    unmodeled(p("GroupBy", Ty::Object)),
    unmodeled(p("View", Ty::Str)),
    unmodeled(p("Expand", Ty::Str)),
    unmodeled(p("Force", Ty::Switch)),
];
const FORMAT_TABLE: &[ParamSpec] = &[
    pos(p("Property", Ty::Strings), 0),
    piped(p("InputObject", Ty::Object)),
    p("AutoSize", Ty::Switch),
    p("Wrap", Ty::Switch),
    p("HideTableHeaders", Ty::Switch),
    unmodeled(p("GroupBy", Ty::Object)),
    unmodeled(p("View", Ty::Str)),
];
const SELECT_OBJECT: &[ParamSpec] = &[
    pos(p("Property", Ty::Strings), 0),
    piped(p("InputObject", Ty::Object)),
    p("ExpandProperty", Ty::Str),
    p("First", Ty::Int),
    p("Last", Ty::Int),
    p("Skip", Ty::Int),
    p("Unique", Ty::Switch),
    unmodeled(p("ExcludeProperty", Ty::Strings)),
];
const WHERE_OBJECT: &[ParamSpec] = &[
    pos(req(p("FilterScript", Ty::Script)), 0),
    piped(p("InputObject", Ty::Object)),
];
const FOREACH_OBJECT: &[ParamSpec] = &[
    pos(req(p("Process", Ty::Script)), 0),
    piped(p("InputObject", Ty::Object)),
];
const WRITE_OUTPUT: &[ParamSpec] = &[pos(piped(p("InputObject", Ty::Objects)), 0)];
const IMPORT_MODULE: &[ParamSpec] = &[
    pos(req(p("Name", Ty::Strings)), 0),
    p("Force", Ty::Switch),
    unmodeled(p("RequiredVersion", Ty::Str)),
];

/// A PowerShell cmdlet with its aliases.
const fn aliased(c: CmdletSpec, aliases: &'static [&'static str]) -> CmdletSpec {
    CmdletSpec { aliases, ..c }
}

pub(super) const CMDLETS: &[CmdletSpec] = &[
    cmdlet(
        sig("New-Object", NEW_OBJECT, Extra::None),
        "Makes an MSOnline StrongAuthenticationRequirement or an empty PSObject.",
        Run::Each(new_object),
    ),
    aliased(
        cmdlet(
            sig("Format-List", FORMAT_LIST, Extra::None),
            "Shows objects as `Name : Value` lines.",
            Run::Collection(format_list),
        ),
        &["fl"],
    ),
    aliased(
        cmdlet(
            sig("Format-Table", FORMAT_TABLE, Extra::None),
            "Shows objects as a table.",
            Run::Collection(format_table),
        ),
        &["ft"],
    ),
    aliased(
        cmdlet(
            sig("Select-Object", SELECT_OBJECT, Extra::None),
            "Picks properties, expands one, or keeps the first, last or unique objects.",
            Run::Collection(select_object),
        ),
        &["select"],
    ),
    aliased(
        cmdlet(
            sig("Where-Object", WHERE_OBJECT, Extra::None),
            "Keeps the objects for which the script block is true.",
            Run::Collection(where_object),
        ),
        &["where", "?"],
    ),
    aliased(
        cmdlet(
            sig("ForEach-Object", FOREACH_OBJECT, Extra::None),
            "Runs the script block once per object.",
            Run::Collection(foreach_object),
        ),
        &["foreach", "%"],
    ),
    aliased(
        cmdlet(
            sig("Write-Output", WRITE_OUTPUT, Extra::None),
            "Writes objects to the pipeline.",
            Run::Collection(write_output),
        ),
        &["echo", "write"],
    ),
    aliased(
        cmdlet(
            sig("Import-Module", IMPORT_MODULE, Extra::None),
            "Loads MSOnline, AzureAD or Microsoft.Graph (the lab has them built in).",
            Run::Each(import_module),
        ),
        &["ipmo"],
    ),
];

fn new_object(cx: &mut Cx<'_>, b: &Bound) -> R<Vec<Value>> {
    let t = b.str("TypeName").unwrap_or_default();
    let lower = t.to_ascii_lowercase();
    if lower == "microsoft.online.administration.strongauthenticationrequirement" {
        Ok(vec![Value::Object(objects::strong_auth_requirement())])
    } else if lower == "psobject" || lower == "system.management.automation.psobject" {
        Ok(vec![Value::Object(PsObject::new(
            "System.Management.Automation.PSCustomObject",
        ))])
    } else {
        Err(catalogue::type_not_found(cx.cmd, &t))
    }
}

fn import_module(cx: &mut Cx<'_>, b: &Bound) -> R<Vec<Value>> {
    for m in b.strings("Name").unwrap_or_default() {
        let known = ["MSOnline", "AzureAD", "AzureADPreview", "Microsoft.Graph*"]
            .iter()
            .any(|k| wildcard_match(k, &m));
        if !known {
            return Err(catalogue::module_not_found(cx.cmd, &m));
        }
    }
    Ok(Vec::new())
}

fn format_list(cx: &mut Cx<'_>, b: &Bound, items: Vec<Value>) -> R<Vec<Value>> {
    let style = cx.session().list_style();
    Ok(vec![Value::Str(format::format_list(
        &items,
        b.strings("Property").as_deref(),
        style,
    ))])
}

fn format_table(_: &mut Cx<'_>, b: &Bound, items: Vec<Value>) -> R<Vec<Value>> {
    Ok(vec![Value::Str(format::format_table(
        &items,
        b.strings("Property").as_deref(),
        !b.switch("HideTableHeaders"),
    ))])
}

fn write_output(_: &mut Cx<'_>, _: &Bound, items: Vec<Value>) -> R<Vec<Value>> {
    Ok(items)
}

fn select_object(cx: &mut Cx<'_>, b: &Bound, items: Vec<Value>) -> R<Vec<Value>> {
    let cmd = cx.cmd;
    let props = b.strings("Property");
    let mut items = items;
    let count = |name: &str| {
        b.get(name)
            .and_then(|v| v.to_plain_string().parse::<usize>().ok())
    };
    if let Some(n) = count("Skip") {
        items = items.into_iter().skip(n).collect();
    }
    if let Some(n) = count("First") {
        items.truncate(n);
    }
    if let Some(n) = count("Last") {
        let len = items.len();
        items = items.into_iter().skip(len.saturating_sub(n)).collect();
    }
    let mut out = Vec::new();
    for item in items {
        if let Some(p) = b.str("ExpandProperty") {
            let found = match &item {
                Value::Object(o) => o.get(&p).cloned(),
                _ => None,
            };
            match found {
                Some(v) => out.extend(v.unroll()),
                None => {
                    return Err(catalogue::expand_property_not_found(
                        cmd,
                        &item.type_name(),
                        &p,
                    ))
                }
            }
        } else if let (Some(pats), Value::Object(o)) = (&props, &item) {
            let mut n = PsObject::new(&format!("Selected.{}", o.type_name));
            for (k, v) in format::select_props(o, Some(pats)) {
                n.props.push((k.clone(), v.clone()));
            }
            out.push(Value::Object(n));
        } else {
            out.push(item);
        }
    }
    if b.switch("Unique") {
        let mut uniq: Vec<Value> = Vec::new();
        for v in out {
            if !uniq.contains(&v) {
                uniq.push(v);
            }
        }
        out = uniq;
    }
    Ok(out)
}

/// The script block of `-FilterScript` / `-Process`, if bound.
fn script(b: &Bound, key: &str) -> Option<std::sync::Arc<crate::shell::ast::ScriptBlock>> {
    match b.get(key) {
        Some(Value::Script(sb)) => Some(sb.clone()),
        _ => None,
    }
}

fn where_object(cx: &mut Cx<'_>, b: &Bound, items: Vec<Value>) -> R<Vec<Value>> {
    let Some(sb) = script(b, "FilterScript") else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for item in items {
        let result = cx.session().run_script(&sb, item.clone())?;
        // PowerShell's truth of the output: none is false, one is its own truth, more is true
        if Value::Array(result).truthy() {
            out.push(item);
        }
    }
    Ok(out)
}

fn foreach_object(cx: &mut Cx<'_>, b: &Bound, items: Vec<Value>) -> R<Vec<Value>> {
    let Some(sb) = script(b, "Process") else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    // The output is one value being built: `$x | % { $x }` is |$x|² items.
    let mut room = MAX_VALUE_WEIGHT;
    for item in items {
        for v in cx.session().run_script(&sb, item)? {
            room -= v
                .weight_within(room)
                .ok_or_else(catalogue::value_too_large)?;
            out.push(v);
        }
    }
    Ok(out)
}
