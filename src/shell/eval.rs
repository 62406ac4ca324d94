//! The evaluator: runs parsed lines against a [`Backend`], with session variables.
//!
//! A pipeline is run element by element, each command receiving the previous one's output
//! (PowerShell streams; the lab collects, which gives the same results for the commands it
//! has). Cmdlets that take pipeline input by value (`Set-*VirtualDirectory -Identity`) run once
//! per input object, which is what makes `Get-MapiVirtualDirectory | Set-MapiVirtualDirectory …`
//! change every server. Variables have value semantics (an assignment copies); method calls on a
//! variable's property (`$x.ServicePrincipalNames.Add("…")`) change the variable in place.

use std::collections::HashMap;

use mock_aad::model::{CaAction, CaRule, MfaState};
use mock_exchange::model::{AuthMethod, AuthServerType, Server, VirtualDirectory};
use uuid::Uuid;

use super::ast::*;
use super::backend::*;
use super::cmdlets::{self, Bound, CmdletSpec, EvArg, Op, Resolved, VdirType};
use super::error::{nearest, ShellError};
use super::format::{self, wildcard_match, ListStyle};
use super::objects;
use super::parser::{parse_line, strip_prompt};
use super::value::{MultiValued, PsObject, Value};

/// The result of one line.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Output {
    /// What the console prints (no trailing newline; empty when nothing is printed).
    pub text: String,
    /// The objects the last statement wrote to the pipeline.
    pub values: Vec<Value>,
    /// Notes about tolerated input (see `parser::TRAILING_GT_NOTE`).
    pub notes: Vec<String>,
    /// Warnings the commands wrote (also printed in `text` as `WARNING: …`).
    pub warnings: Vec<String>,
}

/// A shell session: variables plus a backend.
pub struct Shell<B: Backend> {
    pub backend: B,
    vars: HashMap<String, Value>,
    underscore: Vec<Value>,
    /// How `Format-List` lays out names.
    pub style: ListStyle,
    line: String,
    warnings: Vec<String>,
}

type R<T> = Result<T, ShellError>;

fn collapse(mut v: Vec<Value>) -> Value {
    match v.len() {
        0 => Value::Null,
        1 => v.remove(0),
        _ => Value::Array(v),
    }
}

fn unroll(v: Value) -> Vec<Value> {
    match v {
        Value::Null => Vec::new(),
        Value::Array(a) => a,
        Value::Multi(m) => m.items,
        other => vec![other],
    }
}

fn rt(category: &str, id: &str, msg: impl Into<String>) -> ShellError {
    ShellError::runtime(None, category, id, msg)
}

fn cmd_err(cmd: &str, category: &str, exc: &str, id: &str, msg: impl Into<String>) -> ShellError {
    ShellError::runtime(
        Some(cmd),
        format!("{category}: (:) [{cmd}], {exc}"),
        &format!("{id},{cmd}"),
        msg,
    )
}

fn backend_err(cmd: &str, e: BackendError) -> ShellError {
    cmd_err(cmd, &e.category, &e.error_id, &e.error_id, e.message)
}

fn not_found(cmd: &str, what: &str, dc: &str) -> ShellError {
    cmd_err(
        cmd,
        "NotSpecified",
        "ManagementObjectNotFoundException",
        "ManagementObjectNotFoundException",
        format!("The operation couldn't be performed because object '{what}' couldn't be found on '{dc}'."),
    )
}

/// [`not_found`] with the lab's nearest-name hint among `names`.
fn not_found_near(cmd: &str, what: &str, dc: &str, names: &[String]) -> ShellError {
    let hint =
        nearest(what, names.iter().map(String::as_str)).map(|n| format!("did you mean '{n}'?"));
    not_found(cmd, what, dc).with_hint(hint)
}

fn param_set(cmd: &str) -> ShellError {
    cmd_err(
        cmd,
        "InvalidArgument",
        "ParameterBindingException",
        "AmbiguousParameterSet",
        "Parameter set cannot be resolved using the specified named parameters.",
    )
}

/// The identity string of a bound `-Identity` (a piped object gives its `Identity`).
/// `Get-LabSigningKey -Kid X` when no published key matches.
fn no_such_key(cmd: &str, kid: &str) -> ShellError {
    cmd_err(
        cmd,
        "ObjectNotFound",
        "KeyNotFoundException",
        "KeyNotFound",
        format!("No published signing key has the kid '{kid}'."),
    )
}

/// `Get-LabAadFault -Id N` / `Remove-LabAadFault -Id N` when Azure AD has no such rule.
fn no_such_fault(cmd: &str, id: &str) -> ShellError {
    cmd_err(
        cmd,
        "ObjectNotFound",
        "FaultNotFoundException",
        "FaultNotFound",
        format!("No Azure AD fault rule has the id '{id}'."),
    )
}

/// PowerShell's `ValidateRange` failure for an integer parameter of a lab cmdlet.
fn in_range(cmd: &str, b: &Bound, name: &str, min: i64, max: i64) -> R<Option<i64>> {
    let Some(v) = b.get(name) else {
        return Ok(None);
    };
    let n = match v {
        Value::Int(n) => *n,
        other => other
            .to_plain_string()
            .trim()
            .parse::<i64>()
            .unwrap_or(i64::MIN),
    };
    if n < min {
        return Err(cmd_err(
            cmd,
            "InvalidData",
            "ParameterBindingValidationException",
            "ParameterArgumentValidationError",
            format!("Cannot validate argument on parameter '{name}'. The {n} argument is less than the minimum allowed range of {min}. Supply an argument that is greater than or equal to {min} and then try the command again."),
        ));
    }
    if n > max {
        return Err(cmd_err(
            cmd,
            "InvalidData",
            "ParameterBindingValidationException",
            "ParameterArgumentValidationError",
            format!("Cannot validate argument on parameter '{name}'. The {n} argument is greater than the maximum allowed range of {max}. Supply an argument that is less than or equal to {max} and then try the command again."),
        ));
    }
    Ok(Some(n))
}

fn identity_of(v: &Value) -> String {
    match v {
        Value::Object(o) => o
            .get("Identity")
            .map(Value::to_plain_string)
            .unwrap_or_default(),
        other => other.to_plain_string(),
    }
}

/// The type name of `@{…}` literals.
pub const HASHTABLE: &str = "System.Collections.Hashtable";

fn methods_of(v: &Value) -> Vec<AuthMethod> {
    v.enumerate()
        .iter()
        .filter_map(|m| AuthMethod::parse(&m.to_plain_string()))
        .collect()
}

/// A multi-valued parameter's new list: a plain list replaces `current`; `@{Add=…; Remove=…}`
/// edits it, as Exchange's MultiValuedProperty parameters do.
fn edit_methods(v: &Value, current: &[AuthMethod]) -> Vec<AuthMethod> {
    match v {
        Value::Object(o) if o.type_name == HASHTABLE => {
            let mut list = current.to_vec();
            if let Some(add) = o.get("Add") {
                for m in methods_of(add) {
                    if !list.contains(&m) {
                        list.push(m);
                    }
                }
            }
            if let Some(remove) = o.get("Remove") {
                let gone = methods_of(remove);
                list.retain(|m| !gone.contains(m));
            }
            list
        }
        other => methods_of(other),
    }
}

fn compare_eq(l: &Value, r: &Value, case: bool) -> bool {
    match l {
        Value::Null => matches!(r, Value::Null),
        Value::Bool(b) => *b == r.truthy(),
        Value::Int(i) => match r {
            Value::Int(j) => i == j,
            other => other.to_plain_string().trim().parse::<i64>() == Ok(*i),
        },
        Value::Str(s) => {
            if matches!(r, Value::Null) {
                return false;
            }
            let t = r.to_plain_string();
            if case {
                *s == t
            } else {
                s.to_lowercase() == t.to_lowercase()
            }
        }
        other => other == r,
    }
}

impl<B: Backend> Shell<B> {
    pub fn new(backend: B) -> Self {
        Shell {
            backend,
            vars: HashMap::new(),
            underscore: Vec::new(),
            style: ListStyle::default(),
            line: String::new(),
            warnings: Vec::new(),
        }
    }

    /// A session variable (case-insensitive name, without `$`).
    pub fn var(&self, name: &str) -> Option<&Value> {
        self.vars.get(&name.to_ascii_lowercase())
    }

    pub fn set_var(&mut self, name: &str, v: Value) {
        self.vars.insert(name.to_ascii_lowercase(), v);
    }

    /// Runs one line as typed (a pasted prompt is stripped).
    pub fn run(&mut self, line: &str) -> R<Output> {
        let script = parse_line(line)?;
        self.line = strip_prompt(line).to_string();
        let mut texts = Vec::new();
        let mut values = Vec::new();
        let mut warnings = Vec::new();
        self.warnings.clear();
        for st in &script.statements {
            let result = self.statement(st);
            for w in self.warnings.drain(..) {
                texts.push(format!("WARNING: {w}"));
                warnings.push(w);
            }
            values = result?;
            let t = format::default_output(&values, self.style);
            if !t.is_empty() {
                texts.push(t);
            }
        }
        Ok(Output {
            text: texts.join("\n"),
            values,
            notes: script.notes,
            warnings,
        })
    }

    fn statement(&mut self, st: &Statement) -> R<Vec<Value>> {
        match st {
            Statement::Pipeline(p) => self.pipeline(p),
            Statement::Assign { target, value } => {
                let v = collapse(self.pipeline(value)?);
                self.assign(target, v)?;
                Ok(Vec::new())
            }
        }
    }

    fn assign(&mut self, target: &Expr, v: Value) -> R<()> {
        match &target.kind {
            ExprKind::Var(n) => {
                let l = n.to_ascii_lowercase();
                if matches!(l.as_str(), "true" | "false" | "null") {
                    return Err(rt(
                        "WriteError: (:) [], SessionStateUnauthorizedAccessException",
                        "VariableNotWritable",
                        format!("Cannot overwrite variable {n} because it is read-only or constant."),
                    )
                    .at(&self.line, target.pos, n.chars().count() + 1));
                }
                self.vars.insert(l, v);
                Ok(())
            }
            ExprKind::Member(obj, name) => {
                let line = self.line.clone();
                let err = || {
                    rt(
                        "InvalidOperation: (:) [], RuntimeException",
                        "PropertyAssignmentException",
                        format!("The property '{name}' cannot be found on this object. Verify that the property exists and can be set."),
                    )
                    .at(&line, target.pos, 1)
                };
                match place(&mut self.vars, &mut self.underscore, obj) {
                    Some(Value::Object(o)) => match o.get_mut(name) {
                        Some(slot) => {
                            *slot = v;
                            Ok(())
                        }
                        None => Err(err()),
                    },
                    _ => Err(err()),
                }
            }
            _ => Err(rt(
                "ParserError: (:) [], ParentContainsErrorRecordException",
                "InvalidLeftHandSide",
                "The assignment expression is not valid. The input to an assignment operator must be an object that is able to accept assignments, such as a variable or a property.",
            )
            .at(&self.line, target.pos, 1)),
        }
    }

    fn pipeline(&mut self, p: &Pipeline) -> R<Vec<Value>> {
        let mut data: Option<Vec<Value>> = None;
        for el in &p.elements {
            data = Some(match el {
                Element::Expr(e) => unroll(self.eval(e)?),
                Element::Command(c) => self.invoke(c, data.take())?,
            });
        }
        Ok(data.unwrap_or_default())
    }

    fn eval_args(&mut self, c: &Command) -> R<Vec<EvArg>> {
        let mut out = Vec::new();
        for a in &c.args {
            match a {
                Arg::Param {
                    name,
                    pos,
                    value,
                    raw,
                } => {
                    let value = match value {
                        Some(e) => Some(self.eval(e)?),
                        None => None,
                    };
                    out.push(EvArg::Param {
                        name: name.clone(),
                        value,
                        pos: *pos,
                        width: raw.chars().count(),
                    });
                }
                Arg::Value(e) => {
                    let value = self.eval(e)?;
                    out.push(EvArg::Value {
                        text: value.to_plain_string(),
                        value,
                        pos: e.pos,
                    });
                }
            }
        }
        Ok(out)
    }

    fn invoke(&mut self, c: &Command, input: Option<Vec<Value>>) -> R<Vec<Value>> {
        let line = self.line.clone();
        let width = c.name.chars().count();
        let spec = match cmdlets::resolve(&c.name) {
            None => {
                let hint = nearest(&c.name, cmdlets::command_names())
                    .map(|n| format!("did you mean {n}?"));
                return Err(ShellError::runtime(
                    Some(&c.name),
                    format!("ObjectNotFound: ({}:String) [], CommandNotFoundException", c.name),
                    "CommandNotFoundException",
                    format!("The term '{}' is not recognized as the name of a cmdlet, function, script file, or operable program. Check the spelling of the name, or if a path was included, verify that the path is correct and try again.", c.name),
                )
                .at(&line, c.pos, width)
                .with_hint(hint));
            }
            Some(Resolved::Native(op)) => {
                let mut raw = Vec::new();
                for a in &c.args {
                    match a {
                        Arg::Param { raw: r, value, .. } => {
                            let mut s = r.clone();
                            if let Some(e) = value {
                                s.push_str(&self.eval(e)?.to_plain_string());
                            }
                            raw.push(s);
                        }
                        Arg::Value(e) => raw.push(self.eval(e)?.to_plain_string()),
                    }
                }
                return self
                    .native(op, &c.name, &raw)
                    .map_err(|e| e.at(&line, c.pos, width));
            }
            Some(Resolved::Cmdlet(spec)) => spec,
        };
        if c.redirect.is_some() {
            return Err(rt(
                "NotImplemented: (:) [], LabNotModeled",
                "LabRedirectionNotModeled",
                "The lab does not write files: output redirection is not supported.",
            )
            .at(&line, c.pos, width));
        }
        let args = self.eval_args(c)?;
        let bound = cmdlets::bind(spec, args, &line)?;
        let result = self.run_cmdlet(spec, bound, input);
        result.map_err(|e| e.at(&line, c.pos, width))
    }

    fn run_cmdlet(
        &mut self,
        spec: &'static CmdletSpec,
        bound: Bound,
        input: Option<Vec<Value>>,
    ) -> R<Vec<Value>> {
        let collection_op = matches!(
            spec.op,
            Op::FormatList
                | Op::FormatTable
                | Op::SelectObject
                | Op::WhereObject
                | Op::ForEachObject
                | Op::WriteOutput
        );
        if collection_op {
            cmdlets::check_mandatory(spec, &bound)?;
            cmdlets::check_modeled(spec, &bound)?;
            let items = match input {
                Some(i) => i,
                None => bound
                    .get("InputObject")
                    .map(|v| v.enumerate())
                    .unwrap_or_default(),
            };
            return self.collection(spec, &bound, items);
        }
        match input {
            // a command that takes pipeline input runs once per object (none: not at all)
            Some(items) if spec.accepts_pipeline() => {
                let mut out = Vec::new();
                for item in items {
                    let b = cmdlets::bind_pipeline(spec, &bound, &item).unwrap_or_default();
                    cmdlets::check_mandatory(spec, &b)?;
                    cmdlets::check_modeled(spec, &b)?;
                    out.extend(self.exec(spec, &b)?);
                }
                Ok(out)
            }
            Some(items) if !items.is_empty() => Err(cmd_err(
                spec.name,
                "InvalidArgument",
                "ParameterBindingException",
                "InputObjectNotBound",
                "The input object cannot be bound to any parameters for the command either because the command does not take pipeline input or the input and its properties do not match any of the parameters that take pipeline input.",
            )),
            _ => {
                cmdlets::check_mandatory(spec, &bound)?;
                cmdlets::check_modeled(spec, &bound)?;
                self.exec(spec, &bound)
            }
        }
    }

    /// Exchange's warning when a Set- cmdlet finds nothing to change (it then writes nothing).
    fn not_modified(&mut self, identity: &str) {
        self.warnings.push(format!(
            "The command completed successfully but no settings of '{identity}' have been modified."
        ));
    }

    fn dc(&mut self) -> String {
        let domain = self
            .backend
            .organization()
            .map(|o| o.domain)
            .unwrap_or_else(|_| "contoso.com".into());
        format!("DC1.{domain}")
    }

    /// The key `kid` as `Get-LabSigningKey` shows it (the answer of the key cmdlets that make one).
    fn signing_key_objects(&mut self, cmd: &str, kid: &str) -> R<Vec<Value>> {
        let keys = self
            .backend
            .signing_keys()
            .map_err(|e| backend_err(cmd, e))?;
        Ok(keys
            .iter()
            .filter(|k| k.kid == kid)
            .map(|k| Value::Object(objects::signing_key(k)))
            .collect())
    }

    fn what_if(spec: &CmdletSpec, b: &Bound, target: &str) -> Option<Vec<Value>> {
        if b.switch("WhatIf") {
            Some(vec![Value::Str(format!(
                "What if: Performing the operation \"{}\" on target \"{target}\".",
                spec.name
            ))])
        } else {
            None
        }
    }

    fn vdirs(&mut self, cmd: &str, t: VdirType) -> R<Vec<(Server, VirtualDirectory)>> {
        let servers = self
            .backend
            .exchange_servers()
            .map_err(|e| backend_err(cmd, e))?;
        let mut out = Vec::new();
        for s in servers {
            for v in s.vdirs.iter().filter(|v| v.kind == t.kind()) {
                out.push((s.clone(), v.clone()));
            }
        }
        Ok(out)
    }

    /// Vdirs of type `t` matching an identity (`EX1\mapi (Default Web Site)`, a vdir name or a
    /// server name; wildcards allowed).
    fn match_vdirs(
        list: Vec<(Server, VirtualDirectory)>,
        id: &str,
    ) -> Vec<(Server, VirtualDirectory)> {
        list.into_iter()
            .filter(|(s, v)| match id.split_once('\\') {
                Some((srv, name)) => {
                    (wildcard_match(srv, &s.name) || wildcard_match(srv, &s.fqdn))
                        && wildcard_match(name, &v.name)
                }
                None => {
                    wildcard_match(id, &v.name)
                        || wildcard_match(id, &s.name)
                        || wildcard_match(id, &s.fqdn)
                }
            })
            .collect()
    }

    fn exec(&mut self, spec: &'static CmdletSpec, b: &Bound) -> R<Vec<Value>> {
        let cmd = spec.name;
        let be = |e: BackendError| backend_err(cmd, e);
        match spec.op {
            Op::GetVdir(t) => {
                let mut list = self.vdirs(cmd, t)?;
                if b.has("Identity") && b.has("Server") {
                    return Err(param_set(cmd));
                }
                if let Some(id) = b.get("Identity").map(identity_of) {
                    let names: Vec<String> = list
                        .iter()
                        .map(|(s, v)| objects::vdir_identity(s, v))
                        .collect();
                    list = Self::match_vdirs(list, &id);
                    if list.is_empty() {
                        let dc = self.dc();
                        return Err(not_found_near(cmd, &id, &dc, &names));
                    }
                }
                if let Some(srv) = b.str("Server") {
                    let known = self.backend.exchange_servers().map_err(be)?;
                    if !known.iter().any(|s| {
                        s.name.eq_ignore_ascii_case(&srv) || s.fqdn.eq_ignore_ascii_case(&srv)
                    }) {
                        let dc = self.dc();
                        return Err(not_found(cmd, &srv, &dc));
                    }
                    list.retain(|(s, _)| {
                        s.name.eq_ignore_ascii_case(&srv) || s.fqdn.eq_ignore_ascii_case(&srv)
                    });
                }
                Ok(list
                    .iter()
                    .map(|(s, v)| Value::Object(objects::vdir(s, v)))
                    .collect())
            }
            Op::SetVdir(t) => {
                let id = b.get("Identity").map(identity_of).unwrap_or_default();
                let all = self.vdirs(cmd, t)?;
                let names: Vec<String> = all
                    .iter()
                    .map(|(s, v)| objects::vdir_identity(s, v))
                    .collect();
                let list = Self::match_vdirs(all, &id);
                let (server, vd) = match list.len() {
                    0 => {
                        let dc = self.dc();
                        return Err(not_found_near(cmd, &id, &dc, &names));
                    }
                    1 => list.into_iter().next().ok_or_else(|| param_set(cmd))?,
                    _ => {
                        return Err(cmd_err(
                            cmd,
                            "NotSpecified",
                            "ManagementObjectAmbiguousException",
                            "ManagementObjectAmbiguousException",
                            format!("The operation couldn't be performed because '{id}' matches multiple entries."),
                        ))
                    }
                };
                let target = objects::vdir_identity(&server, &vd);
                if let Some(w) = Self::what_if(spec, b, &target) {
                    return Ok(w);
                }
                let change = vdir_change(t, b, &vd);
                if vdir_changes_anything(&change, &vd) {
                    self.backend
                        .set_vdir(&server.name, t.kind(), &change)
                        .map_err(be)?;
                } else {
                    self.not_modified(&target);
                }
                Ok(Vec::new())
            }
            Op::GetAuthServer => {
                let mut list = self.backend.auth_servers().map_err(be)?;
                if let Some(id) = b.get("Identity").map(identity_of) {
                    let names: Vec<String> = list.iter().map(|a| a.name.clone()).collect();
                    list.retain(|a| wildcard_match(&id, &a.name));
                    if list.is_empty() {
                        let dc = self.dc();
                        return Err(not_found_near(cmd, &id, &dc, &names));
                    }
                }
                Ok(list
                    .iter()
                    .map(|a| Value::Object(objects::auth_server(a)))
                    .collect())
            }
            Op::SetAuthServer => {
                let id = b.get("Identity").map(identity_of).unwrap_or_default();
                let list = self.backend.auth_servers().map_err(be)?;
                let Some(a) = list.iter().find(|a| a.name.eq_ignore_ascii_case(&id)) else {
                    let dc = self.dc();
                    let names: Vec<String> = list.iter().map(|a| a.name.clone()).collect();
                    return Err(not_found_near(cmd, &id, &dc, &names));
                };
                let name = a.name.clone();
                let refresh = b.switch("RefreshAuthMetadata");
                if refresh && b.has("AuthMetadataUrl") {
                    return Err(param_set(cmd));
                }
                if let Some(w) = Self::what_if(spec, b, &name) {
                    return Ok(w);
                }
                let change = AuthServerChange {
                    auth_metadata_url: b.str("AuthMetadataUrl"),
                    is_default_authorization_endpoint: b.bool("IsDefaultAuthorizationEndpoint"),
                    enabled: b.bool("Enabled"),
                };
                let differs = change
                    .auth_metadata_url
                    .as_ref()
                    .is_some_and(|u| *u != a.auth_metadata_url)
                    || change
                        .is_default_authorization_endpoint
                        .is_some_and(|d| d != a.is_default_authorization_endpoint)
                    || change.enabled.is_some_and(|e| e != a.enabled);
                if differs {
                    self.backend.set_auth_server(&name, &change).map_err(be)?;
                }
                if refresh {
                    self.backend.refresh_auth_metadata(&name).map_err(be)?;
                }
                if !differs && !refresh {
                    self.not_modified(&name);
                }
                Ok(Vec::new())
            }
            Op::NewAuthServer => {
                let name = b.str("Name").unwrap_or_default();
                if let Some(w) = Self::what_if(spec, b, &name) {
                    return Ok(w);
                }
                let kind = match b.str("Type").as_deref() {
                    Some("ADFS") => AuthServerType::ADFS,
                    Some("Facebook") => AuthServerType::Facebook,
                    Some("LiveIdRps") => AuthServerType::LiveId,
                    Some("MicrosoftACS") => AuthServerType::MicrosoftACS,
                    _ => AuthServerType::AzureAD,
                };
                let new = NewAuthServer {
                    name,
                    kind,
                    auth_metadata_url: b.str("AuthMetadataUrl").unwrap_or_default(),
                    is_default_authorization_endpoint: b
                        .bool("IsDefaultAuthorizationEndpoint")
                        .unwrap_or(false),
                    enabled: b.bool("Enabled").unwrap_or(true),
                };
                let a = self.backend.new_auth_server(&new).map_err(be)?;
                Ok(vec![Value::Object(objects::auth_server(&a))])
            }
            Op::GetOrgConfig => {
                let o = self.backend.organization().map_err(be)?;
                Ok(vec![Value::Object(objects::org_config(&o))])
            }
            Op::SetOrgConfig => {
                if let Some(w) = Self::what_if(spec, b, "Organization") {
                    return Ok(w);
                }
                let change = OrgConfigChange {
                    oauth2_client_profile_enabled: b.bool("OAuth2ClientProfileEnabled"),
                    mapi_http_enabled: b.bool("MapiHttpEnabled"),
                };
                let org = self.backend.organization().map_err(be)?;
                let differs = change
                    .oauth2_client_profile_enabled
                    .is_some_and(|v| v != org.config.oauth2_client_profile_enabled)
                    || change
                        .mapi_http_enabled
                        .is_some_and(|v| v != org.config.mapi_http_enabled);
                if differs {
                    self.backend.set_org_config(&change).map_err(be)?;
                } else {
                    self.not_modified(&org.name);
                }
                Ok(Vec::new())
            }
            Op::GetMailbox => {
                let mut list = self.backend.mailboxes().map_err(be)?;
                if let Some(id) = b.get("Identity").map(identity_of) {
                    list.retain(|m| {
                        let alias = m.primary_smtp_address.split('@').next().unwrap_or_default();
                        wildcard_match(&id, &m.primary_smtp_address)
                            || wildcard_match(&id, alias)
                            || wildcard_match(&id, &m.display_name)
                            || m.guid.to_string().eq_ignore_ascii_case(&id)
                    });
                    if list.is_empty() {
                        let dc = self.dc();
                        return Err(not_found(cmd, &id, &dc));
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
            Op::GetExchangeServer => {
                let mut list = self.backend.exchange_servers().map_err(be)?;
                if let Some(id) = b.get("Identity").map(identity_of) {
                    list.retain(|s| wildcard_match(&id, &s.name) || wildcard_match(&id, &s.fqdn));
                    if list.is_empty() {
                        let dc = self.dc();
                        return Err(not_found(cmd, &id, &dc));
                    }
                }
                let domain = self
                    .backend
                    .organization()
                    .map(|o| o.domain)
                    .unwrap_or_default();
                Ok(list
                    .iter()
                    .map(|s| Value::Object(objects::exchange_server(s, &domain)))
                    .collect())
            }
            Op::GetMsolSp => {
                let mut list = self.backend.service_principals().map_err(be)?;
                let chosen = ["AppPrincipalId", "ServicePrincipalName", "ObjectId", "All"]
                    .iter()
                    .filter(|n| b.has(n))
                    .count();
                if chosen > 1 {
                    return Err(param_set(cmd));
                }
                let sp_not_found = || {
                    cmd_err(
                        cmd,
                        "OperationStopped",
                        "MicrosoftOnlineException",
                        "Microsoft.Online.Administration.Automation.ServicePrincipalNotFoundException",
                        "Service principal was not found.",
                    )
                };
                if let Some(id) = b.str("AppPrincipalId") {
                    list.retain(|s| s.app_principal_id.to_string() == id);
                    if list.is_empty() {
                        return Err(sp_not_found());
                    }
                } else if let Some(id) = b.str("ObjectId") {
                    list.retain(|s| s.object_id.to_string() == id);
                    if list.is_empty() {
                        return Err(sp_not_found());
                    }
                } else if let Some(spn) = b.str("ServicePrincipalName") {
                    list.retain(|s| {
                        s.service_principal_names
                            .iter()
                            .any(|n| n.eq_ignore_ascii_case(&spn))
                    });
                    if list.is_empty() {
                        return Err(sp_not_found());
                    }
                }
                Ok(list
                    .iter()
                    .map(|s| Value::Object(objects::service_principal(s)))
                    .collect())
            }
            Op::SetMsolSp => {
                let app = match (b.str("AppPrincipalId"), b.str("ObjectId")) {
                    (Some(a), None) => a,
                    (None, Some(o)) => {
                        let list = self.backend.service_principals().map_err(be)?;
                        list.iter()
                            .find(|s| s.object_id.to_string() == o)
                            .map(|s| s.app_principal_id.to_string())
                            .ok_or_else(|| {
                                cmd_err(
                                    cmd,
                                    "OperationStopped",
                                    "MicrosoftOnlineException",
                                    "Microsoft.Online.Administration.Automation.ServicePrincipalNotFoundException",
                                    "Service principal was not found.",
                                )
                            })?
                    }
                    _ => return Err(param_set(cmd)),
                };
                let app = Uuid::parse_str(&app).map_err(|_| param_set(cmd))?;
                let change = ServicePrincipalChange {
                    service_principal_names: b.strings("ServicePrincipalNames"),
                    display_name: b.str("DisplayName"),
                };
                self.backend
                    .set_service_principal(app, &change)
                    .map_err(be)?;
                Ok(Vec::new())
            }
            Op::SetMsolUserPassword => {
                let upn = self.require_upn(spec, b)?;
                let pw = self
                    .backend
                    .set_user_password(
                        &upn,
                        b.str("NewPassword").as_deref(),
                        b.bool("ForceChangePassword").unwrap_or(true),
                    )
                    .map_err(be)?;
                Ok(vec![Value::Str(pw)])
            }
            Op::SetMsolUser => {
                let upn = self.require_upn(spec, b)?;
                if let Some(block) = b.bool("BlockCredential") {
                    self.backend
                        .set_user_block_credential(&upn, block)
                        .map_err(be)?;
                }
                if let Some(reqs) = b.get("StrongAuthenticationRequirements") {
                    let items = reqs.enumerate();
                    let state = match items.first() {
                        None => MfaState::None,
                        Some(Value::Object(o)) => {
                            let s = o.get_str("State");
                            match s.to_ascii_lowercase().as_str() {
                                "enabled" => MfaState::Enroll,
                                "enforced" => MfaState::Required,
                                "disabled" | "" => MfaState::None,
                                _ => {
                                    return Err(cmd_err(
                                        cmd,
                                        "OperationStopped",
                                        "MicrosoftOnlineException",
                                        "Microsoft.Online.Administration.Automation.InvalidStrongAuthenticationRequirementException",
                                        format!("Invalid value for parameter. Parameter Name: StrongAuthenticationRequirements. State '{s}' is not one of Enabled, Enforced, Disabled."),
                                    ))
                                }
                            }
                        }
                        Some(other) => {
                            return Err(cmd_err(
                                cmd,
                                "InvalidArgument",
                                "ParameterBindingException",
                                "CannotConvertArgumentNoMessage",
                                format!("Cannot bind parameter 'StrongAuthenticationRequirements'. Cannot convert the \"{}\" value of type \"{}\" to type \"Microsoft.Online.Administration.StrongAuthenticationRequirement\".", other.to_plain_string(), other.type_name()),
                            ))
                        }
                    };
                    self.backend.set_user_mfa(&upn, state).map_err(be)?;
                }
                Ok(Vec::new())
            }
            Op::RevokeAzureAd => {
                let id = b.get("ObjectId").map(identity_of).unwrap_or_default();
                self.backend.revoke_user_sessions(&id).map_err(be)?;
                Ok(Vec::new())
            }
            Op::RevokeMg => {
                let id = b.get("UserId").map(identity_of).unwrap_or_default();
                if let Some(w) = Self::what_if(spec, b, &id) {
                    return Ok(w);
                }
                self.backend.revoke_user_sessions(&id).map_err(be)?;
                Ok(vec![Value::Bool(true)])
            }
            Op::SetLabUserMfa => {
                let upn = b.str("UserPrincipalName").unwrap_or_default();
                let state = match b.str("State").as_deref() {
                    Some("Required") => MfaState::Required,
                    Some("Enroll") => MfaState::Enroll,
                    _ => MfaState::None,
                };
                self.backend.set_user_mfa(&upn, state).map_err(be)?;
                Ok(Vec::new())
            }
            Op::NewLabCa => {
                let rule = CaRule {
                    name: b.str("Name").unwrap_or_default(),
                    enabled: !b.switch("Disabled"),
                    users: b.strings("Users").unwrap_or_default(),
                    apps: b.strings("Applications").unwrap_or_default(),
                    action: if b.str("Action").as_deref() == Some("Block") {
                        CaAction::Block
                    } else {
                        CaAction::RequireMfa
                    },
                };
                self.backend
                    .new_conditional_access_policy(&rule)
                    .map_err(be)?;
                Ok(Vec::new())
            }
            Op::GetLabSigningKey => {
                let mut keys = self.backend.signing_keys().map_err(be)?;
                if let Some(kid) = b.str("Kid") {
                    keys.retain(|k| wildcard_match(&kid, &k.kid));
                    if keys.is_empty() {
                        return Err(no_such_key(cmd, &kid));
                    }
                }
                Ok(keys
                    .iter()
                    .map(|k| Value::Object(objects::signing_key(k)))
                    .collect())
            }
            Op::InvokeLabSigningKeyRollover => {
                if let Some(w) = Self::what_if(spec, b, "Azure AD token-signing keys") {
                    return Ok(w);
                }
                let before = self.backend.signing_keys().map_err(be)?;
                let new_kid = self.backend.roll_signing_key().map_err(be)?;
                if b.switch("RetireOld") {
                    // The key that signed until now (the active one before the rollover).
                    if let Some(old) = before.iter().find(|k| k.state == "active") {
                        if old.kid != new_kid {
                            self.backend.retire_signing_key(&old.kid).map_err(be)?;
                        }
                    }
                }
                self.signing_key_objects(cmd, &new_kid)
            }
            Op::AddLabSigningKey => {
                if let Some(w) = Self::what_if(spec, b, "Azure AD token-signing keys") {
                    return Ok(w);
                }
                let kid = self.backend.add_signing_key().map_err(be)?;
                self.signing_key_objects(cmd, &kid)
            }
            Op::RemoveLabSigningKey => {
                let kid = b.get("Kid").map(identity_of).unwrap_or_default();
                if let Some(w) = Self::what_if(spec, b, &kid) {
                    return Ok(w);
                }
                self.backend.retire_signing_key(&kid).map_err(be)?;
                Ok(Vec::new())
            }
            Op::AddLabAadFault => {
                let status = in_range(cmd, b, "Status", 500, 599)?;
                let aadsts = in_range(cmd, b, "Aadsts", 1, i64::from(u32::MAX))?;
                let delay_ms = in_range(cmd, b, "DelayMs", 0, 600_000)?;
                let times = in_range(cmd, b, "Times", 1, i64::from(u32::MAX))?;
                // One answer: a 5xx or an AADSTS error (either may wait first), or a delay alone.
                if status.is_some() && aadsts.is_some()
                    || status.is_none() && aadsts.is_none() && delay_ms.is_none()
                {
                    return Err(param_set(cmd));
                }
                let rule = NewAadFault {
                    endpoint: b.str("Endpoint").unwrap_or_else(|| "any".into()),
                    user: b.str("User"),
                    client_id: b.str("ClientId"),
                    resource: b.str("Resource"),
                    times: times.and_then(|n| u64::try_from(n).ok()),
                    status: status.and_then(|n| u16::try_from(n).ok()),
                    aadsts: aadsts.and_then(|n| u32::try_from(n).ok()),
                    delay_ms: delay_ms.and_then(|n| u64::try_from(n).ok()),
                };
                if let Some(w) = Self::what_if(spec, b, "Azure AD fault rules") {
                    return Ok(w);
                }
                let added = self.backend.add_aad_fault(&rule).map_err(be)?;
                Ok(vec![Value::Object(objects::aad_fault(&added))])
            }
            Op::GetLabAadFault => {
                let mut rules = self.backend.aad_faults().map_err(be)?;
                if let Some(v) = b.get("Id") {
                    let id = v.to_plain_string();
                    rules.retain(|r| r.id.to_string() == id.trim());
                    if rules.is_empty() {
                        return Err(no_such_fault(cmd, id.trim()));
                    }
                }
                Ok(rules
                    .iter()
                    .map(|r| Value::Object(objects::aad_fault(r)))
                    .collect())
            }
            Op::RemoveLabAadFault => {
                let id = b.get("Id").map(identity_of);
                let target = match &id {
                    Some(i) => format!("Azure AD fault rule {i}"),
                    None => "Azure AD fault rules".to_string(),
                };
                if let Some(w) = Self::what_if(spec, b, &target) {
                    return Ok(w);
                }
                let id = match id {
                    Some(i) => Some(
                        i.trim()
                            .parse::<u64>()
                            .map_err(|_| no_such_fault(cmd, i.trim()))?,
                    ),
                    None => None,
                };
                self.backend.remove_aad_fault(id).map_err(be)?;
                Ok(Vec::new())
            }
            Op::SetAdfsProperties => {
                if let Some(w) = Self::what_if(spec, b, "ADFS properties") {
                    return Ok(w);
                }
                if let Some(m) = b.str("ExtendedProtectionTokenCheck") {
                    let mode = match m.as_str() {
                        "Require" => ExtendedProtection::Require,
                        "Allow" => ExtendedProtection::Allow,
                        _ => ExtendedProtection::None,
                    };
                    self.backend
                        .set_adfs_extended_protection(mode)
                        .map_err(be)?;
                }
                Ok(Vec::new())
            }
            Op::NewObject => {
                let t = b.str("TypeName").unwrap_or_default();
                let lower = t.to_ascii_lowercase();
                if lower == "microsoft.online.administration.strongauthenticationrequirement" {
                    Ok(vec![Value::Object(objects::strong_auth_requirement())])
                } else if lower == "psobject" || lower == "system.management.automation.psobject" {
                    Ok(vec![Value::Object(PsObject::new(
                        "System.Management.Automation.PSCustomObject",
                    ))])
                } else {
                    Err(cmd_err(
                        cmd,
                        "InvalidType",
                        "PSArgumentException",
                        "TypeNotFound",
                        format!("Cannot find type [{t}]: verify that the assembly containing this type is loaded."),
                    ))
                }
            }
            Op::NewItemProperty | Op::SetItemProperty => self.item_property(spec, b),
            Op::Connect => Ok(Vec::new()),
            Op::ImportModule => {
                for m in b.strings("Name").unwrap_or_default() {
                    let known = ["MSOnline", "AzureAD", "AzureADPreview", "Microsoft.Graph*"]
                        .iter()
                        .any(|k| wildcard_match(k, &m));
                    if !known {
                        return Err(cmd_err(
                            cmd,
                            "ResourceUnavailable",
                            "FileNotFoundException",
                            "Modules_ModuleNotFound",
                            format!("The specified module '{m}' was not loaded because no valid module file was found in any module directory."),
                        ));
                    }
                }
                Ok(Vec::new())
            }
            Op::IisReset | Op::Reg | Op::Defaults => Ok(Vec::new()),
            Op::FormatList
            | Op::FormatTable
            | Op::SelectObject
            | Op::WhereObject
            | Op::ForEachObject
            | Op::WriteOutput => self.collection(spec, b, Vec::new()),
        }
    }

    fn require_upn(&self, spec: &CmdletSpec, b: &Bound) -> R<String> {
        b.str("UserPrincipalName").ok_or_else(|| {
            cmd_err(
                spec.name,
                "InvalidArgument",
                "ParameterBindingException",
                "MissingMandatoryParameter",
                "Cannot process command because of one or more missing mandatory parameters: UserPrincipalName.",
            )
        })
    }

    fn item_property(&mut self, spec: &CmdletSpec, b: &Bound) -> R<Vec<Value>> {
        let cmd = spec.name;
        let paths = b.strings("Path").unwrap_or_default();
        let name = b.str("Name").unwrap_or_default();
        let value = b.get("Value").cloned().unwrap_or(Value::Null);
        let mut out = Vec::new();
        for path in paths {
            let Some((drive, long, rest)) = registry_path(&path) else {
                return Err(cmd_err(
                    cmd,
                    "NotImplemented",
                    "LabNotModeled",
                    "LabPathNotModeled",
                    format!(
                        "The lab models only registry paths (HKCU:\\…, HKLM:\\…), not '{path}'."
                    ),
                ));
            };
            let value_type = match b.str("PropertyType") {
                Some(t) => match t.to_ascii_lowercase().as_str() {
                    "dword" => "REG_DWORD",
                    "qword" => "REG_QWORD",
                    "string" => "REG_SZ",
                    "expandstring" => "REG_EXPAND_SZ",
                    "multistring" => "REG_MULTI_SZ",
                    "binary" => "REG_BINARY",
                    _ => {
                        return Err(cmd_err(
                            cmd,
                            "InvalidArgument",
                            "ArgumentException",
                            "System.ArgumentException,Microsoft.PowerShell.Commands.NewItemPropertyCommand",
                            "The value supplied is not valid, or the property is read-only. Change the value, and then try again.",
                        ))
                    }
                },
                None if matches!(value, Value::Int(_)) => "REG_DWORD",
                None => "REG_SZ",
            };
            let key = format!("{long}\\{rest}");
            if let Some(w) = Self::what_if(spec, b, &format!("Item: {key} Property: {name}")) {
                out.extend(w);
                continue;
            }
            self.backend
                .set_client_setting(&ClientSetting::Registry {
                    key: key.clone(),
                    name: name.clone(),
                    value_type: value_type.to_string(),
                    data: value.to_plain_string(),
                })
                .map_err(|e| backend_err(cmd, e))?;
            if spec.op == Op::NewItemProperty || b.switch("PassThru") {
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

    fn collection(&mut self, spec: &CmdletSpec, b: &Bound, items: Vec<Value>) -> R<Vec<Value>> {
        let cmd = spec.name;
        let props = b.strings("Property");
        match spec.op {
            Op::FormatList => Ok(vec![Value::Str(format::format_list(
                &items,
                props.as_deref(),
                self.style,
            ))]),
            Op::FormatTable => Ok(vec![Value::Str(format::format_table(
                &items,
                props.as_deref(),
                !b.switch("HideTableHeaders"),
            ))]),
            Op::WriteOutput => Ok(items),
            Op::SelectObject => {
                let mut items = items;
                if let Some(n) = b
                    .get("Skip")
                    .and_then(|v| v.to_plain_string().parse::<usize>().ok())
                {
                    items = items.into_iter().skip(n).collect();
                }
                if let Some(n) = b
                    .get("First")
                    .and_then(|v| v.to_plain_string().parse::<usize>().ok())
                {
                    items.truncate(n);
                }
                if let Some(n) = b
                    .get("Last")
                    .and_then(|v| v.to_plain_string().parse::<usize>().ok())
                {
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
                            Some(v) => out.extend(unroll(v)),
                            None => {
                                return Err(ShellError::runtime(
                                    Some(cmd),
                                    format!("InvalidArgument: ({}:PSObject) [Select-Object], PSArgumentException", item.type_name()),
                                    "ExpandPropertyNotFound,Microsoft.PowerShell.Commands.SelectObjectCommand",
                                    format!("Property \"{p}\" cannot be found."),
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
            Op::WhereObject | Op::ForEachObject => {
                let key = if spec.op == Op::WhereObject {
                    "FilterScript"
                } else {
                    "Process"
                };
                let Some(Value::Script(sb)) = b.get(key).cloned() else {
                    return Ok(Vec::new());
                };
                let mut out = Vec::new();
                for item in items {
                    self.underscore.push(item.clone());
                    let mut result = Vec::new();
                    let mut err = None;
                    for st in &sb.statements {
                        match self.statement(st) {
                            Ok(v) => result.extend(v),
                            Err(e) => {
                                err = Some(e);
                                break;
                            }
                        }
                    }
                    self.underscore.pop();
                    if let Some(e) = err {
                        return Err(e);
                    }
                    if spec.op == Op::WhereObject {
                        if collapse(result).truthy() {
                            out.push(item);
                        }
                    } else {
                        out.extend(result);
                    }
                }
                Ok(out)
            }
            _ => Ok(Vec::new()),
        }
    }

    fn native(&mut self, op: Op, name: &str, args: &[String]) -> R<Vec<Value>> {
        let lines = |ls: &[&str]| ls.iter().map(|l| Value::Str((*l).to_string())).collect();
        match op {
            Op::IisReset => {
                let mut server = None;
                let mut noforce = false;
                for a in args {
                    let l = a.to_ascii_lowercase();
                    match l.as_str() {
                        "/noforce" => noforce = true,
                        "/restart" => {}
                        s if s.starts_with("/timeout:") => {}
                        s if s.starts_with('/') => {
                            return Err(rt(
                                "NotSpecified: (:) [], NativeCommandError",
                                "NativeCommandError",
                                format!("iisreset: the lab supports [computername] /restart /noforce /timeout:N, not '{a}'."),
                            ))
                        }
                        _ => server = Some(a.clone()),
                    }
                }
                self.backend
                    .iisreset(server.as_deref(), noforce)
                    .map_err(|e| backend_err(name, e))?;
                Ok(lines(&[
                    "Attempting stop...",
                    "Internet services successfully stopped",
                    "Attempting start...",
                    "Internet services successfully restarted",
                ]))
            }
            Op::Reg => {
                let invalid = || {
                    rt(
                        "NotSpecified: (ERROR: Invalid syntax.:String) [], RemoteException",
                        "NativeCommandError",
                        "ERROR: Invalid syntax.\nType \"REG ADD /?\" for usage.",
                    )
                };
                if !args.first().is_some_and(|a| a.eq_ignore_ascii_case("add")) {
                    return Err(rt(
                        "NotImplemented: (:) [], LabNotModeled",
                        "LabNotModeled",
                        "The lab models only 'reg add <key> /v <name> /t <type> /d <data> /f'.",
                    ));
                }
                let key = args.get(1).ok_or_else(invalid)?;
                let Some((_, long, rest)) = registry_path(key) else {
                    return Err(rt(
                        "NotSpecified: (ERROR: Invalid key name.:String) [], RemoteException",
                        "NativeCommandError",
                        "ERROR: Invalid key name.\nType \"REG ADD /?\" for usage.",
                    ));
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
                    "REG_SZ"
                        | "REG_DWORD"
                        | "REG_QWORD"
                        | "REG_EXPAND_SZ"
                        | "REG_MULTI_SZ"
                        | "REG_BINARY"
                ) {
                    return Err(invalid());
                }
                self.backend
                    .set_client_setting(&ClientSetting::Registry {
                        key: format!("{long}\\{rest}"),
                        name: vname,
                        value_type: vtype,
                        data,
                    })
                    .map_err(|e| backend_err(name, e))?;
                Ok(lines(&["The operation completed successfully."]))
            }
            Op::Defaults => {
                let usage = || {
                    rt(
                        "NotImplemented: (:) [], LabNotModeled",
                        "LabNotModeled",
                        "The lab models only 'defaults write <domain> <key> -bool|-string|-int <value>'.",
                    )
                };
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
                self.backend
                    .set_client_setting(&ClientSetting::MacDefaults {
                        domain: args[1].clone(),
                        key: args[2].clone(),
                        value_type,
                        value,
                    })
                    .map_err(|e| backend_err(name, e))?;
                Ok(Vec::new())
            }
            _ => Ok(Vec::new()),
        }
    }

    // ---------------------------------------------------------------- expressions

    fn eval(&mut self, e: &Expr) -> R<Value> {
        let line = self.line.clone();
        Ok(match &e.kind {
            ExprKind::Str(s) | ExprKind::Bare(s) => Value::Str(s.clone()),
            ExprKind::Int(i) => Value::Int(*i),
            ExprKind::Expandable(s) => Value::Str(self.expand(s)),
            ExprKind::Var(n) => self.var_value(n),
            ExprKind::Array(items) => {
                let mut out = Vec::new();
                for i in items {
                    out.push(self.eval(i)?);
                }
                Value::Array(out)
            }
            ExprKind::Member(t, name) => {
                let v = self.eval(t)?;
                member(&v, name)
            }
            ExprKind::Index(t, i) => {
                let v = self.eval(t)?;
                let idx = self.eval(i)?;
                let items = match &v {
                    Value::Array(a) => a.clone(),
                    Value::Multi(m) => m.items.clone(),
                    _ => Vec::new(),
                };
                let n = match idx {
                    Value::Int(n) => n,
                    other => other.to_plain_string().parse::<i64>().unwrap_or(i64::MAX),
                };
                let len = items.len() as i64;
                let k = if n < 0 { len + n } else { n };
                if (0..len).contains(&k) {
                    items[k as usize].clone()
                } else {
                    Value::Null
                }
            }
            ExprKind::Method(t, name, args) => {
                let mut vals = Vec::new();
                for a in args {
                    vals.push(self.eval(a)?);
                }
                let r = if let Some(slot) = place(&mut self.vars, &mut self.underscore, t) {
                    call_method(slot, name, &vals)
                } else {
                    let mut tmp = self.eval(t)?;
                    call_method(&mut tmp, name, &vals)
                };
                r.map_err(|err| err.at(&line, e.pos, 1))?
            }
            ExprKind::Sub(p) => collapse(self.pipeline(p)?),
            ExprKind::Script(sb) => Value::Script(sb.clone()),
            ExprKind::Hash(pairs) => {
                let mut o = PsObject::new(HASHTABLE);
                for (k, v) in pairs {
                    let v = self.eval(v)?;
                    match o.get_mut(k) {
                        Some(slot) => *slot = v,
                        None => o.props.push((k.clone(), v)),
                    }
                }
                Value::Object(o)
            }
            ExprKind::Not(inner) => Value::Bool(!self.eval(inner)?.truthy()),
            ExprKind::Binary(op, l, r, case) => {
                match op {
                    BinOp::And => {
                        return Ok(Value::Bool(
                            self.eval(l)?.truthy() && self.eval(r)?.truthy(),
                        ))
                    }
                    BinOp::Or => {
                        return Ok(Value::Bool(
                            self.eval(l)?.truthy() || self.eval(r)?.truthy(),
                        ))
                    }
                    BinOp::Xor => {
                        return Ok(Value::Bool(self.eval(l)?.truthy() ^ self.eval(r)?.truthy()))
                    }
                    _ => {}
                }
                let lv = self.eval(l)?;
                let rv = self.eval(r)?;
                let scalar_op = !matches!(
                    op,
                    BinOp::Contains | BinOp::NotContains | BinOp::In | BinOp::NotIn
                );
                match (&lv, scalar_op) {
                    (Value::Array(_) | Value::Multi(_), true) => {
                        let mut out = Vec::new();
                        for item in lv.enumerate() {
                            if compare(*op, &item, &rv, *case).map_err(|x| x.at(&line, e.pos, 1))? {
                                out.push(item);
                            }
                        }
                        Value::Array(out)
                    }
                    _ => Value::Bool(
                        compare(*op, &lv, &rv, *case).map_err(|x| x.at(&line, e.pos, 1))?,
                    ),
                }
            }
        })
    }

    fn var_value(&self, n: &str) -> Value {
        match n.to_ascii_lowercase().as_str() {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            "null" => Value::Null,
            "_" | "psitem" => self.underscore.last().cloned().unwrap_or(Value::Null),
            l => self.vars.get(l).cloned().unwrap_or(Value::Null),
        }
    }

    /// `"…$name…"` expansion (`${name}` too); `` `$ `` stays literal.
    fn expand(&self, s: &str) -> String {
        let chars: Vec<char> = s.chars().collect();
        let mut out = String::new();
        let mut i = 0;
        while i < chars.len() {
            if chars[i] == '$' && i + 1 < chars.len() {
                if chars[i + 1] == '{' {
                    if let Some(end) = chars[i + 2..].iter().position(|c| *c == '}') {
                        let name: String = chars[i + 2..i + 2 + end].iter().collect();
                        out.push_str(&self.var_value(&name).to_plain_string());
                        i += end + 3;
                        continue;
                    }
                }
                let mut j = i + 1;
                while j < chars.len() && (chars[j].is_alphanumeric() || chars[j] == '_') {
                    j += 1;
                }
                if j > i + 1 {
                    let name: String = chars[i + 1..j].iter().collect();
                    out.push_str(&self.var_value(&name).to_plain_string());
                    i = j;
                    continue;
                }
            }
            out.push(if chars[i] == '\u{E000}' {
                '$'
            } else {
                chars[i]
            });
            i += 1;
        }
        out
    }
}

/// Checks a line without running it (for `hma-lab lint` and scenario validation): it must parse,
/// every command must exist, and every `-Parameter` must name exactly one parameter of its
/// cmdlet. Values are not checked (they may come from variables set by earlier lines).
pub fn lint(line: &str) -> R<()> {
    let script = parse_line(line)?;
    let text = strip_prompt(line);
    fn pipeline(p: &Pipeline, text: &str) -> R<()> {
        for el in &p.elements {
            match el {
                Element::Expr(e) => expr(e, text)?,
                Element::Command(c) => {
                    let width = c.name.chars().count();
                    match cmdlets::resolve(&c.name) {
                        None => {
                            let hint = nearest(&c.name, cmdlets::command_names())
                                .map(|n| format!("did you mean {n}?"));
                            return Err(ShellError::runtime(
                                Some(&c.name),
                                format!("ObjectNotFound: ({}:String) [], CommandNotFoundException", c.name),
                                "CommandNotFoundException",
                                format!("The term '{}' is not recognized as the name of a cmdlet, function, script file, or operable program. Check the spelling of the name, or if a path was included, verify that the path is correct and try again.", c.name),
                            )
                            .at(text, c.pos, width)
                            .with_hint(hint));
                        }
                        Some(Resolved::Native(_)) => {}
                        Some(Resolved::Cmdlet(spec)) => {
                            for a in &c.args {
                                if let Arg::Param { name, pos, raw, .. } = a {
                                    cmdlets::find_param(spec, name)
                                        .map_err(|e| e.at(text, *pos, raw.chars().count()))?;
                                }
                            }
                        }
                    }
                    for a in &c.args {
                        match a {
                            Arg::Param { value: Some(e), .. } | Arg::Value(e) => expr(e, text)?,
                            Arg::Param { value: None, .. } => {}
                        }
                    }
                }
            }
        }
        Ok(())
    }
    fn statements(sts: &[Statement], text: &str) -> R<()> {
        for st in sts {
            match st {
                Statement::Pipeline(p) => pipeline(p, text)?,
                Statement::Assign { value, .. } => pipeline(value, text)?,
            }
        }
        Ok(())
    }
    fn expr(e: &Expr, text: &str) -> R<()> {
        match &e.kind {
            ExprKind::Sub(p) => pipeline(p, text),
            ExprKind::Script(sb) => statements(&sb.statements, text),
            ExprKind::Array(items) => items.iter().try_for_each(|i| expr(i, text)),
            ExprKind::Hash(pairs) => pairs.iter().try_for_each(|(_, v)| expr(v, text)),
            ExprKind::Member(t, _) | ExprKind::Not(t) => expr(t, text),
            ExprKind::Method(t, _, args) => {
                expr(t, text)?;
                args.iter().try_for_each(|a| expr(a, text))
            }
            ExprKind::Index(a, b) | ExprKind::Binary(_, a, b, _) => {
                expr(a, text)?;
                expr(b, text)
            }
            _ => Ok(()),
        }
    }
    statements(&script.statements, text)
}

/// A mutable place: `$x`, `$x.Prop`, `$x.A.B`, `$x[0]`.
fn place<'a>(
    vars: &'a mut HashMap<String, Value>,
    us: &'a mut [Value],
    e: &Expr,
) -> Option<&'a mut Value> {
    match &e.kind {
        ExprKind::Var(n) => {
            let l = n.to_ascii_lowercase();
            match l.as_str() {
                "true" | "false" | "null" => None,
                "_" | "psitem" => us.last_mut(),
                _ => vars.get_mut(&l),
            }
        }
        ExprKind::Member(t, name) => match place(vars, us, t)? {
            Value::Object(o) => o.get_mut(name),
            _ => None,
        },
        ExprKind::Index(t, i) => {
            let ExprKind::Int(n) = i.kind else {
                return None;
            };
            match place(vars, us, t)? {
                Value::Array(a) => usize::try_from(n).ok().and_then(|k| a.get_mut(k)),
                Value::Multi(m) => usize::try_from(n).ok().and_then(|k| m.items.get_mut(k)),
                _ => None,
            }
        }
        _ => None,
    }
}

fn member(v: &Value, name: &str) -> Value {
    let lname = name.to_ascii_lowercase();
    match v {
        Value::Object(o) => o.get(name).cloned().unwrap_or(Value::Null),
        Value::Array(a) => {
            if lname == "count" || lname == "length" {
                return Value::Int(a.len() as i64);
            }
            let vals: Vec<Value> = a.iter().flat_map(|x| unroll(member(x, name))).collect();
            collapse(vals)
        }
        Value::Multi(m) if lname == "count" => Value::Int(m.items.len() as i64),
        Value::Str(s) if lname == "length" => Value::Int(s.chars().count() as i64),
        Value::Null => Value::Null,
        _ if lname == "count" => Value::Int(1),
        _ => Value::Null,
    }
}

fn method_missing(v: &Value, name: &str) -> ShellError {
    rt(
        "InvalidOperation: (:) [], RuntimeException",
        "MethodNotFound",
        format!(
            "Method invocation failed because [{}] does not contain a method named '{name}'.",
            v.type_name()
        ),
    )
}

fn call_method(target: &mut Value, name: &str, args: &[Value]) -> R<Value> {
    let lname = name.to_ascii_lowercase();
    let arg_count_err = |n: usize| {
        rt(
            "NotSpecified: (:) [], MethodException",
            "MethodCountCouldNotFindBest",
            format!("Cannot find an overload for \"{name}\" and the argument count: \"{n}\"."),
        )
    };
    if lname == "tostring" && args.is_empty() && !matches!(target, Value::Null) {
        return Ok(Value::Str(target.to_plain_string()));
    }
    match target {
        Value::Null => Err(rt(
            "InvalidOperation: (:) [], RuntimeException",
            "InvokeMethodOnNull",
            "You cannot call a method on a null-valued expression.",
        )),
        Value::Multi(MultiValued { items }) => match (lname.as_str(), args) {
            ("add", [a]) => {
                items.push(Value::Str(a.to_plain_string()));
                Ok(Value::Null)
            }
            ("remove", [a]) => {
                let s = a.to_plain_string();
                match items.iter().position(|x| x.to_plain_string() == s) {
                    Some(i) => {
                        items.remove(i);
                        Ok(Value::Bool(true))
                    }
                    None => Ok(Value::Bool(false)),
                }
            }
            ("contains", [a]) => {
                let s = a.to_plain_string();
                Ok(Value::Bool(items.iter().any(|x| x.to_plain_string() == s)))
            }
            ("clear", []) => {
                items.clear();
                Ok(Value::Null)
            }
            ("add" | "remove" | "contains" | "clear", _) => Err(arg_count_err(args.len())),
            _ => Err(method_missing(target, name)),
        },
        Value::Array(items) => match (lname.as_str(), args) {
            ("add" | "remove" | "clear", _) => Err(rt(
                "NotSpecified: (:) [], MethodInvocationException",
                "NotSupportedException",
                format!(
                    "Exception calling \"{name}\" with \"{}\" argument(s): \"Collection was of a fixed size.\"",
                    args.len()
                ),
            )),
            ("contains", [a]) => Ok(Value::Bool(items.iter().any(|x| x == a))),
            _ => Err(method_missing(target, name)),
        },
        Value::Str(s) => {
            let arg = |i: usize| args.get(i).map(Value::to_plain_string).unwrap_or_default();
            match (lname.as_str(), args.len()) {
                ("tolower" | "tolowerinvariant", 0) => Ok(Value::Str(s.to_lowercase())),
                ("toupper" | "toupperinvariant", 0) => Ok(Value::Str(s.to_uppercase())),
                ("trim", 0) => Ok(Value::Str(s.trim().to_string())),
                ("contains", 1) => Ok(Value::Bool(s.contains(&arg(0)))),
                ("startswith", 1) => Ok(Value::Bool(s.starts_with(&arg(0)))),
                ("endswith", 1) => Ok(Value::Bool(s.ends_with(&arg(0)))),
                ("replace", 2) => Ok(Value::Str(s.replace(&arg(0), &arg(1)))),
                _ => Err(method_missing(target, name)),
            }
        }
        _ => Err(method_missing(target, name)),
    }
}

fn compare(op: BinOp, l: &Value, r: &Value, case: bool) -> R<bool> {
    let ls = l.to_plain_string();
    let rs = r.to_plain_string();
    let ord = || -> std::cmp::Ordering {
        match (l, r) {
            (Value::Int(a), _) => match rs.trim().parse::<i64>() {
                Ok(b) => a.cmp(&b),
                Err(_) => ls.cmp(&rs),
            },
            _ if case => ls.cmp(&rs),
            _ => ls.to_lowercase().cmp(&rs.to_lowercase()),
        }
    };
    let like = |p: &str, t: &str| format::wildcard_match_case(p, t, case);
    let re = |p: &str| -> R<regex::Regex> {
        let pat = if case {
            p.to_string()
        } else {
            format!("(?i){p}")
        };
        regex::Regex::new(&pat).map_err(|_| {
            rt(
                "InvalidOperation: (:) [], RuntimeException",
                "InvalidRegularExpression",
                format!("The regular expression pattern {p} is not valid."),
            )
        })
    };
    let contains =
        |coll: &Value, x: &Value| coll.enumerate().iter().any(|i| compare_eq(i, x, case));
    Ok(match op {
        BinOp::Eq => compare_eq(l, r, case),
        BinOp::Ne => !compare_eq(l, r, case),
        BinOp::Gt => ord() == std::cmp::Ordering::Greater,
        BinOp::Ge => ord() != std::cmp::Ordering::Less,
        BinOp::Lt => ord() == std::cmp::Ordering::Less,
        BinOp::Le => ord() != std::cmp::Ordering::Greater,
        BinOp::Like => like(&rs, &ls),
        BinOp::NotLike => !like(&rs, &ls),
        BinOp::Match => re(&rs)?.is_match(&ls),
        BinOp::NotMatch => !re(&rs)?.is_match(&ls),
        BinOp::Contains => contains(l, r),
        BinOp::NotContains => !contains(l, r),
        BinOp::In => contains(r, l),
        BinOp::NotIn => !contains(r, l),
        BinOp::And | BinOp::Or | BinOp::Xor => false,
    })
}

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

/// Whether applying `c` to `v` would change anything.
fn vdir_changes_anything(c: &VdirChange, v: &VirtualDirectory) -> bool {
    fn differs<T: PartialEq>(want: &Option<T>, have: &T) -> bool {
        want.as_ref().is_some_and(|w| w != have)
    }
    differs(&c.internal_url, &v.internal_url)
        || differs(&c.external_url, &v.external_url)
        || differs(&c.iis_authentication_methods, &v.iis_authentication_methods)
        || differs(
            &c.internal_authentication_methods,
            &v.internal_authentication_methods,
        )
        || differs(
            &c.external_authentication_methods,
            &v.external_authentication_methods,
        )
        || differs(&c.basic_authentication, &v.basic_authentication)
        || differs(&c.windows_authentication, &v.windows_authentication)
        || differs(&c.oauth_authentication, &v.oauth_authentication)
        || differs(&c.wssecurity_authentication, &v.wssecurity_authentication)
        || differs(&c.digest_authentication, &v.digest_authentication)
        || differs(&c.adfs_authentication, &v.adfs_authentication)
        || differs(
            &c.live_id_basic_authentication,
            &v.live_id_basic_authentication,
        )
        || differs(
            &c.live_id_negotiate_authentication,
            &v.live_id_negotiate_authentication,
        )
        || differs(&c.forms_authentication, &v.forms_authentication)
}

/// The change a `Set-*VirtualDirectory` call asks for.
fn vdir_change(t: VdirType, b: &Bound, current: &VirtualDirectory) -> VdirChange {
    let url = |n: &str| {
        b.get(n).map(|v| match v {
            Value::Null => None,
            other => Some(other.to_plain_string()),
        })
    };
    let mut c = VdirChange {
        internal_url: url("InternalUrl"),
        external_url: url("ExternalUrl"),
        ..VdirChange::default()
    };
    match t {
        VdirType::Mapi => {
            // Exchange reports the IIS methods as both sides' methods on /mapi.
            if let Some(v) = b.get("IISAuthenticationMethods") {
                let ms = edit_methods(v, &current.iis_authentication_methods);
                c.iis_authentication_methods = Some(ms.clone());
                c.internal_authentication_methods = Some(ms.clone());
                c.external_authentication_methods = Some(ms);
            }
        }
        VdirType::ActiveSync => {
            c.basic_authentication = b.bool("BasicAuthEnabled");
            c.windows_authentication = b.bool("WindowsAuthEnabled");
            c.internal_authentication_methods = b
                .get("InternalAuthenticationMethods")
                .map(|v| edit_methods(v, &current.internal_authentication_methods));
            c.external_authentication_methods = b
                .get("ExternalAuthenticationMethods")
                .map(|v| edit_methods(v, &current.external_authentication_methods));
        }
        _ => {
            c.basic_authentication = b.bool("BasicAuthentication");
            c.windows_authentication = b.bool("WindowsAuthentication");
            c.oauth_authentication = b.bool("OAuthAuthentication");
            c.wssecurity_authentication = b.bool("WSSecurityAuthentication");
            c.digest_authentication = b.bool("DigestAuthentication");
            c.adfs_authentication = b.bool("AdfsAuthentication");
            c.forms_authentication = b.bool("FormsAuthentication");
        }
    }
    c
}
