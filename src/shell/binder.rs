//! The parameter binder: PowerShell's rules for turning a command's arguments into values of its
//! parameters, over the parameter tables each cmdlet family declares (`cmdlets/<family>.rs`).
//!
//! Binding follows PowerShell's rules because the seed's errors come from them: a parameter name
//! may be any unique prefix of a name or alias (`-IsDefault`), an unknown one fails with
//! `A parameter cannot be found that matches parameter name 'X'.` (that is why
//! `Set-MapiVirtualDirectory -OAuthAuthentication $true` fails: the real cmdlet has no such
//! parameter), values are converted to the parameter's type with PowerShell's messages, then
//! positional arguments fill the positional parameters in order, pipeline input binds to the
//! parameter that accepts it, and missing mandatory parameters are reported. Parameters the real
//! cmdlet has but the lab does not model are listed too, so that using them gives an honest
//! "not modelled" error instead of a false "cannot be found".
//!
//! The binder knows a command only by its [`Signature`] (name and parameters), never by what it
//! does, so the cmdlet families depend on it and not the other way round.

use std::collections::BTreeMap;

use super::error::catalogue;
use super::error::{nearest, ShellError};
use super::value::{Value, HASHTABLE};

/// A parameter's type, as far as conversion is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ty {
    Str,
    Strings,
    Bool,
    Switch,
    Int,
    Guid,
    Uri,
    /// Exchange `MultiValuedProperty<AuthenticationMethod>`.
    AuthMethods,
    /// An enum: its .NET type name and its names.
    Enum(&'static str, &'static [&'static str]),
    Object,
    Objects,
    Script,
}

impl Ty {
    /// The .NET type name PowerShell reports (`System.Boolean`).
    pub fn dotnet(self) -> &'static str {
        match self {
            Ty::Str => "System.String",
            Ty::Strings => "System.String[]",
            Ty::Bool => "System.Boolean",
            Ty::Switch => "System.Management.Automation.SwitchParameter",
            Ty::Int => "System.Int32",
            Ty::Guid => "System.Guid",
            Ty::Uri => "System.Uri",
            Ty::AuthMethods => "Microsoft.Exchange.Data.MultiValuedProperty",
            Ty::Enum(t, _) => t,
            Ty::Object => "System.Object",
            Ty::Objects => "System.Object[]",
            Ty::Script => "System.Management.Automation.ScriptBlock",
        }
    }
}

/// How a parameter takes pipeline input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pipe {
    No,
    /// The whole input object (`-Identity` of `Set-*`, `-InputObject`).
    ByValue,
}

#[derive(Debug, Clone, Copy)]
pub struct ParamSpec {
    pub name: &'static str,
    pub aliases: &'static [&'static str],
    pub ty: Ty,
    pub position: Option<u8>,
    pub mandatory: bool,
    pub pipe: Pipe,
    /// Whether the lab acts on it (`false`: real parameter, not modelled).
    pub modeled: bool,
}

pub const fn p(name: &'static str, ty: Ty) -> ParamSpec {
    ParamSpec {
        name,
        aliases: &[],
        ty,
        position: None,
        mandatory: false,
        pipe: Pipe::No,
        modeled: true,
    }
}
pub const fn pos(mut s: ParamSpec, i: u8) -> ParamSpec {
    s.position = Some(i);
    s
}
pub const fn req(mut s: ParamSpec) -> ParamSpec {
    s.mandatory = true;
    s
}
pub const fn piped(mut s: ParamSpec) -> ParamSpec {
    s.pipe = Pipe::ByValue;
    s
}
pub const fn unmodeled(mut s: ParamSpec) -> ParamSpec {
    s.modeled = false;
    s
}
pub const fn alias(mut s: ParamSpec, a: &'static [&'static str]) -> ParamSpec {
    s.aliases = a;
    s
}

/// Which common parameters a command has besides PowerShell's `[<CommonParameters>]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Extra {
    None,
    /// `-Confirm` and `-WhatIf` (cmdlets that change things).
    ShouldProcess,
}

/// What the binder knows of a command: its name and parameters.
#[derive(Debug, Clone, Copy)]
pub struct Signature {
    pub name: &'static str,
    pub params: &'static [ParamSpec],
    pub extra: Extra,
    /// The lab's hint for a parameter people reach for that the cmdlet does not have
    /// (typed name, hint), shown under `NamedParameterNotFound`.
    pub wrong_params: &'static [(&'static str, &'static str)],
}

impl Signature {
    /// The cmdlet's own parameters followed by the common ones.
    pub fn all_params(&self) -> Vec<&'static ParamSpec> {
        let mut v: Vec<&'static ParamSpec> = self.params.iter().collect();
        if self.extra == Extra::ShouldProcess {
            v.extend(SHOULD_PROCESS.iter());
        }
        v.extend(COMMON.iter());
        v
    }

    /// The cmdlet's own parameters and, for those that change things, `-WhatIf` and `-Confirm`
    /// (what the book lists; PowerShell's common parameters are left out).
    pub fn documented_params(&self) -> impl Iterator<Item = &'static ParamSpec> {
        let should = if self.extra == Extra::ShouldProcess {
            SHOULD_PROCESS
        } else {
            &[]
        };
        self.params.iter().chain(should.iter())
    }

    pub fn accepts_pipeline(&self) -> bool {
        self.params.iter().any(|p| p.pipe == Pipe::ByValue)
    }
}

const COMMON: &[ParamSpec] = &[
    alias(p("Verbose", Ty::Switch), &["vb"]),
    alias(p("Debug", Ty::Switch), &["db"]),
    alias(p("ErrorAction", Ty::Str), &["ea"]),
    alias(p("WarningAction", Ty::Str), &["wa"]),
    alias(p("InformationAction", Ty::Str), &["infa"]),
    alias(p("ErrorVariable", Ty::Str), &["ev"]),
    alias(p("WarningVariable", Ty::Str), &["wv"]),
    alias(p("InformationVariable", Ty::Str), &["iv"]),
    alias(p("OutVariable", Ty::Str), &["ov"]),
    alias(p("OutBuffer", Ty::Int), &["ob"]),
    alias(p("PipelineVariable", Ty::Str), &["pv"]),
];
const SHOULD_PROCESS: &[ParamSpec] = &[
    alias(p("WhatIf", Ty::Switch), &["wi"]),
    alias(p("Confirm", Ty::Switch), &["cf"]),
];

/// The names of `AuthenticationMethod` (the enum behind Exchange's method lists).
const AUTH_NAMES: &[&str] = &[
    "Basic",
    "Ntlm",
    "Negotiate",
    "WindowsIntegrated",
    "WSSecurity",
    "OAuth",
    "Digest",
    "Fba",
    "Adfs",
    "LiveIdBasic",
    "LiveIdNegotiate",
    "Certificate",
];

/// Arguments bound to parameters, by canonical name.
#[derive(Debug, Default, Clone)]
pub struct Bound {
    pub values: BTreeMap<&'static str, Value>,
}

impl Bound {
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.values.get(name)
    }
    pub fn has(&self, name: &str) -> bool {
        self.values.contains_key(name)
    }
    pub fn str(&self, name: &str) -> Option<String> {
        self.values.get(name).map(Value::to_plain_string)
    }
    pub fn bool(&self, name: &str) -> Option<bool> {
        self.values.get(name).map(Value::truthy)
    }
    pub fn switch(&self, name: &str) -> bool {
        self.bool(name).unwrap_or(false)
    }
    pub fn strings(&self, name: &str) -> Option<Vec<String>> {
        self.values
            .get(name)
            .map(|v| v.enumerate().iter().map(Value::to_plain_string).collect())
    }
}

/// An argument after evaluation: a named parameter (with its value if given with `:`), or a
/// value; `pos`/`width` locate it for errors.
pub enum EvArg {
    Param {
        name: String,
        value: Option<Value>,
        pos: usize,
        width: usize,
    },
    Value {
        value: Value,
        text: String,
        pos: usize,
    },
}

/// Finds a parameter by exact name/alias, else by unique prefix.
pub fn find_param(sig: &Signature, typed: &str) -> Result<&'static ParamSpec, ShellError> {
    let params = sig.all_params();
    if let Some(p) = params.iter().find(|p| {
        p.name.eq_ignore_ascii_case(typed)
            || p.aliases.iter().any(|a| a.eq_ignore_ascii_case(typed))
    }) {
        return Ok(p);
    }
    let lower = typed.to_ascii_lowercase();
    let matches: Vec<&&'static ParamSpec> = params
        .iter()
        .filter(|p| {
            p.name.to_ascii_lowercase().starts_with(&lower)
                || p.aliases
                    .iter()
                    .any(|a| a.to_ascii_lowercase().starts_with(&lower))
        })
        .collect();
    match matches.len() {
        1 => Ok(matches[0]),
        0 => {
            let hint = sig
                .wrong_params
                .iter()
                .find(|(name, _)| name.eq_ignore_ascii_case(typed))
                .map(|(_, hint)| hint.to_string())
                .or_else(|| {
                    nearest(typed, params.iter().map(|p| p.name)).map(|n| {
                        format!("did you mean -{n}? {} takes: {}", sig.name, own_names(sig))
                    })
                })
                .or_else(|| Some(format!("{} takes: {}", sig.name, own_names(sig))));
            Err(catalogue::parameter_not_found(sig.name, typed).with_hint(hint))
        }
        _ => {
            let list: Vec<String> = matches.iter().map(|p| format!("-{}", p.name)).collect();
            Err(catalogue::ambiguous_parameter(sig.name, typed, &list))
        }
    }
}

fn own_names(sig: &Signature) -> String {
    sig.params
        .iter()
        .map(|p| format!("-{}", p.name))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Converts `v` to the parameter's type with PowerShell's messages.
pub fn convert(sig: &Signature, p: &ParamSpec, v: Value) -> Result<Value, ShellError> {
    let cmd = sig.name;
    let cannot = |shown: &str, extra: &str| {
        catalogue::cannot_convert_value(cmd, p.name, shown, p.ty.dotnet(), extra)
    };
    // A one-item collection binds to a single-valued parameter as its item, as PowerShell's
    // binder does (`-Identity @("EX1")`); collection and object parameters take it as it is.
    let v = match (p.ty, v) {
        (Ty::Strings | Ty::Objects | Ty::AuthMethods | Ty::Object, v) => v,
        (_, Value::Array(mut items)) if items.len() == 1 => items.remove(0),
        (_, v) => v,
    };
    // Several items: a number, GUID, URI, enum or script block cannot be made of them (a string
    // can: PowerShell joins them with spaces; Booleans have their own message below).
    if let (
        Ty::Int | Ty::Guid | Ty::Uri | Ty::Enum(..) | Ty::Script,
        Value::Array(_) | Value::Multi(_),
    ) = (p.ty, &v)
    {
        return Err(catalogue::cannot_convert_collection(
            cmd,
            p.name,
            &v.type_name(),
            p.ty.dotnet(),
        ));
    }
    match p.ty {
        Ty::Bool | Ty::Switch => match &v {
            Value::Bool(_) => Ok(v),
            Value::Int(i) => Ok(Value::Bool(*i != 0)),
            Value::Null if p.ty == Ty::Switch => Ok(Value::Bool(false)),
            other => Err(catalogue::not_a_boolean(cmd, p.name, &other.type_name())),
        },
        Ty::Int => match &v {
            Value::Int(_) => Ok(v),
            other => {
                let s = other.to_plain_string();
                s.trim().parse::<i64>().map(Value::Int).map_err(|_| {
                    cannot(&s, " Error: \"Input string was not in a correct format.\"")
                })
            }
        },
        Ty::Guid => {
            let s = v.to_plain_string();
            let s = s.trim().trim_start_matches('{').trim_end_matches('}');
            uuid::Uuid::parse_str(s)
                .map(|u| Value::Str(u.to_string()))
                .map_err(|_| {
                    cannot(
                        &v.to_plain_string(),
                        " Error: \"Guid should contain 32 digits with 4 dashes (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx).\"",
                    )
                })
        }
        Ty::Uri => match &v {
            Value::Null => Ok(Value::Null),
            other => {
                let s = other.to_plain_string();
                if s.is_empty() {
                    return Ok(Value::Null);
                }
                match url::Url::parse(&s) {
                    Ok(_) => Ok(Value::Str(s)),
                    Err(_) => Err(cannot(
                        &s,
                        " Error: \"Invalid URI: The format of the URI could not be determined.\"",
                    )),
                }
            }
        },
        Ty::AuthMethods => {
            // `@{Add=…; Remove=…}` edits the current list; check its keys and values here
            let (items, edit) = match &v {
                Value::Object(o) if o.type_name == HASHTABLE => {
                    if let Some((k, _)) = o.props.iter().find(|(k, _)| {
                        !k.eq_ignore_ascii_case("Add") && !k.eq_ignore_ascii_case("Remove")
                    }) {
                        return Err(catalogue::hashtable_key_not_add_or_remove(cmd, p.name, k));
                    }
                    (
                        o.props
                            .iter()
                            .flat_map(|(_, x)| x.enumerate())
                            .collect::<Vec<_>>(),
                        true,
                    )
                }
                _ => (v.enumerate(), false),
            };
            let mut out = Vec::new();
            for item in items {
                let s = item.to_plain_string();
                for part in s.split(',').map(str::trim).filter(|x| !x.is_empty()) {
                    match mock_exchange::model::AuthMethod::parse(part) {
                        Some(m) => out.push(Value::Str(m.as_str().to_string())),
                        None => {
                            return Err(catalogue::not_an_enum_name(
                                cmd,
                                p.name,
                                part,
                                "Microsoft.Exchange.Data.Directory.SystemConfiguration.AuthenticationMethod",
                                AUTH_NAMES,
                            ))
                        }
                    }
                }
            }
            if edit {
                return Ok(v);
            }
            Ok(Value::Array(out))
        }
        Ty::Enum(tname, names) => {
            let s = v.to_plain_string();
            match names.iter().find(|n| n.eq_ignore_ascii_case(s.trim())) {
                Some(n) => Ok(Value::Str((*n).to_string())),
                None => Err(
                    catalogue::not_an_enum_name(cmd, p.name, &s, tname, names).with_hint(
                        nearest(&s, names.iter().copied()).map(|n| format!("did you mean {n}?")),
                    ),
                ),
            }
        }
        Ty::Str => match &v {
            Value::Null => Ok(Value::Null),
            other => Ok(Value::Str(other.to_plain_string())),
        },
        Ty::Strings => Ok(Value::Array(
            v.enumerate()
                .into_iter()
                .map(|x| Value::Str(x.to_plain_string()))
                .collect(),
        )),
        Ty::Script => match &v {
            Value::Script(_) => Ok(v),
            other => Err(catalogue::cannot_convert_object(
                cmd,
                "CannotConvertArgument",
                p.name,
                &other.to_plain_string(),
                &other.type_name(),
                "System.Management.Automation.ScriptBlock",
            )),
        },
        Ty::Object => Ok(v),
        Ty::Objects => Ok(Value::Array(v.enumerate())),
    }
}

/// Binds evaluated arguments; pipeline input is bound separately ([`bind_pipeline`]).
pub fn bind(sig: &Signature, args: Vec<EvArg>, line: &str) -> Result<Bound, ShellError> {
    let mut bound = Bound::default();
    let mut positional: Vec<(Value, String, usize)> = Vec::new();
    let mut iter = args.into_iter().peekable();
    while let Some(a) = iter.next() {
        match a {
            EvArg::Param {
                name,
                value,
                pos,
                width,
            } => {
                let p = find_param(sig, &name).map_err(|e| e.at(line, pos, width))?;
                if bound.has(p.name) {
                    return Err(
                        catalogue::parameter_already_bound(sig.name, p.name).at(line, pos, width)
                    );
                }
                let raw = match value {
                    Some(v) => v,
                    None if p.ty == Ty::Switch => Value::Bool(true),
                    None => match iter.next_if(|n| matches!(n, EvArg::Value { .. })) {
                        Some(EvArg::Value { value, .. }) => value,
                        _ => {
                            return Err(catalogue::missing_argument(
                                sig.name,
                                p.name,
                                p.ty.dotnet(),
                            )
                            .at(line, pos, width))
                        }
                    },
                };
                let v = convert(sig, p, raw).map_err(|e| e.at(line, pos, width))?;
                bound.values.insert(p.name, v);
            }
            EvArg::Value { value, text, pos } => positional.push((value, text, pos)),
        }
    }
    let mut slots: Vec<&'static ParamSpec> =
        sig.params.iter().filter(|p| p.position.is_some()).collect();
    slots.sort_by_key(|p| p.position);
    for (value, text, pos) in positional {
        let slot = slots.iter().find(|p| !bound.has(p.name)).copied();
        match slot {
            Some(p) => {
                let v = convert(sig, p, value).map_err(|e| e.at(line, pos, 1))?;
                bound.values.insert(p.name, v);
            }
            None => {
                return Err(catalogue::positional_not_found(sig.name, &text).at(
                    line,
                    pos,
                    text.chars().count(),
                ))
            }
        }
    }
    Ok(bound)
}

/// Binds one pipeline input object to the parameter that takes pipeline input.
pub fn bind_pipeline(sig: &Signature, bound: &Bound, input: &Value) -> Option<Bound> {
    let p = sig.params.iter().find(|p| p.pipe == Pipe::ByValue)?;
    let mut b = bound.clone();
    if !b.has(p.name) {
        b.values.insert(p.name, input.clone());
    }
    Some(b)
}

/// Fails with PowerShell's non-interactive message if a mandatory parameter is unbound.
pub fn check_mandatory(sig: &Signature, bound: &Bound) -> Result<(), ShellError> {
    let missing: Vec<&str> = sig
        .params
        .iter()
        .filter(|p| p.mandatory && !bound.has(p.name))
        .map(|p| p.name)
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(catalogue::missing_mandatory(sig.name, &missing))
}

/// The lab's error for a real parameter it does not act on.
pub fn check_modeled(sig: &Signature, bound: &Bound) -> Result<(), ShellError> {
    for p in sig.params {
        if !p.modeled && bound.has(p.name) {
            return Err(catalogue::parameter_not_modelled(sig.name, p.name));
        }
    }
    Ok(())
}
