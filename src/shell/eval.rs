//! The evaluator: runs parsed lines — statements, pipelines and expressions — with session
//! variables, handing each command to the cmdlets ([`super::cmdlets`]).
//!
//! A pipeline is run element by element, each command receiving the previous one's output
//! (PowerShell streams; the lab collects, which gives the same results for the commands it
//! has). Cmdlets that take pipeline input by value (`Set-*VirtualDirectory -Identity`) run once
//! per input object, which is what makes `Get-MapiVirtualDirectory | Set-MapiVirtualDirectory …`
//! change every server. Variables have value semantics (an assignment copies); method calls on a
//! variable's property (`$x.ServicePrincipalNames.Add("…")`) change the variable in place. The
//! shell is the cmdlets' [`Session`]: they reach the backend, warnings and script blocks through
//! it, so they never import this module.

use std::collections::HashMap;

use super::ast::*;
use super::backend::Backend;
use super::binder::{self, EvArg};
use super::cmdlets::{self, Resolved, Session};
use super::error::catalogue;
use super::error::{nearest, ShellError};
use super::format::{self, ListStyle};
use super::parser::{parse_line, strip_prompt};
use super::value::{MultiValued, PsObject, Value, HASHTABLE, MAX_VALUE_DEPTH, MAX_VALUE_WEIGHT};

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
                // An expression is assigned as it is (`$x = @("a")` stays an array of one); a
                // pipeline with a command assigns its output, one item as itself.
                let v = match value.elements.as_slice() {
                    [Element::Expr(e)] => self.eval(e)?,
                    _ => collapse(self.pipeline(value)?),
                };
                self.assign(target, v)?;
                Ok(Vec::new())
            }
        }
    }

    fn assign(&mut self, target: &Expr, v: Value) -> R<()> {
        if v.deeper_than(MAX_VALUE_DEPTH) {
            return Err(catalogue::value_too_deep().at(&self.line, target.pos, 1));
        }
        // The session's values together stay within the budget: what the other variables hold
        // (the one replaced is not counted) plus the new value.
        let replaced = match &target.kind {
            ExprKind::Var(n) => Some(n.to_ascii_lowercase()),
            _ => None,
        };
        let mut held = 0usize;
        for (name, value) in &self.vars {
            if Some(name) != replaced.as_ref() {
                held = held.saturating_add(
                    value
                        .weight_within(MAX_VALUE_WEIGHT)
                        .unwrap_or(MAX_VALUE_WEIGHT + 1),
                );
            }
        }
        let fits = MAX_VALUE_WEIGHT
            .checked_sub(held)
            .and_then(|room| v.weight_within(room))
            .is_some();
        if !fits {
            return Err(catalogue::value_too_large().at(&self.line, target.pos, 1));
        }
        match &target.kind {
            ExprKind::Var(n) => {
                let l = n.to_ascii_lowercase();
                if matches!(l.as_str(), "true" | "false" | "null") {
                    return Err(catalogue::variable_not_writable(n).at(
                        &self.line,
                        target.pos,
                        n.chars().count() + 1,
                    ));
                }
                self.vars.insert(l, v);
                Ok(())
            }
            ExprKind::Member(obj, name) => {
                let line = self.line.clone();
                let err = || catalogue::property_not_settable(name).at(&line, target.pos, 1);
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
            _ => Err(catalogue::invalid_assignment_target().at(&self.line, target.pos, 1)),
        }
    }

    fn pipeline(&mut self, p: &Pipeline) -> R<Vec<Value>> {
        let mut data: Option<Vec<Value>> = None;
        for el in &p.elements {
            data = Some(match el {
                Element::Expr(e) => self.eval(e)?.unroll(),
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
                return Err(catalogue::command_not_found(&c.name)
                    .at(&line, c.pos, width)
                    .with_hint(hint));
            }
            Some(Resolved::Native(native)) => {
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
                return cmdlets::invoke_native(self, native, &c.name, &raw)
                    .map_err(|e| e.at(&line, c.pos, width));
            }
            Some(Resolved::Cmdlet(spec)) => spec,
        };
        if c.redirect.is_some() {
            return Err(catalogue::redirection_not_modelled().at(&line, c.pos, width));
        }
        let args = self.eval_args(c)?;
        let bound = binder::bind(&spec.sig, args, &line)?;
        let result = cmdlets::invoke(self, spec, bound, input);
        result.map_err(|e| e.at(&line, c.pos, width))
    }

    // ---------------------------------------------------------------- expressions

    fn eval(&mut self, e: &Expr) -> R<Value> {
        let line = self.line.clone();
        Ok(match &e.kind {
            ExprKind::Str(s) | ExprKind::Bare(s) => Value::Str(s.clone()),
            ExprKind::Int(i) => Value::Int(*i),
            ExprKind::Expandable(s) => Value::Str(
                self.expand(s)
                    .ok_or_else(|| catalogue::value_too_large().at(&line, e.pos, 1))?,
            ),
            ExprKind::Var(n) => self.var_value(n),
            ExprKind::Array(items) => {
                let mut out = Vec::new();
                let mut room = MAX_VALUE_WEIGHT;
                for i in items {
                    let v = self.eval(i)?;
                    let w = v
                        .weight_within(room)
                        .ok_or_else(|| catalogue::value_too_large().at(&line, e.pos, 1))?;
                    room -= w;
                    out.push(v);
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
            ExprKind::ArraySub(p) => Value::Array(self.pipeline(p)?),
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
                if *op == BinOp::Add {
                    return add(lv, rv).map_err(|x| x.at(&line, e.pos, 1));
                }
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

    /// `"…$name…"` expansion (`${name}` too); `` `$ `` stays literal. `None` when the result
    /// would pass [`MAX_VALUE_WEIGHT`] bytes.
    fn expand(&self, s: &str) -> Option<String> {
        let chars: Vec<char> = s.chars().collect();
        let mut out = String::new();
        let mut i = 0;
        while i < chars.len() {
            if chars[i] == '$' && i + 1 < chars.len() {
                if chars[i + 1] == '{' {
                    if let Some(end) = chars[i + 2..].iter().position(|c| *c == '}') {
                        let name: String = chars[i + 2..i + 2 + end].iter().collect();
                        out.push_str(&self.var_value(&name).to_plain_string());
                        if out.len() > MAX_VALUE_WEIGHT {
                            return None;
                        }
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
                    if out.len() > MAX_VALUE_WEIGHT {
                        return None;
                    }
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
        Some(out)
    }
}

impl<B: Backend> Session for Shell<B> {
    fn backend(&mut self) -> &mut dyn Backend {
        &mut self.backend
    }

    fn warn(&mut self, text: String) {
        self.warnings.push(text);
    }

    fn list_style(&self) -> ListStyle {
        self.style
    }

    fn run_script(&mut self, sb: &ScriptBlock, item: Value) -> R<Vec<Value>> {
        self.underscore.push(item);
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
        match err {
            Some(e) => Err(e),
            None => Ok(result),
        }
    }
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
            let vals: Vec<Value> = a.iter().flat_map(|x| member(x, name).unroll()).collect();
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
    catalogue::method_not_found(&v.type_name(), name)
}

fn call_method(target: &mut Value, name: &str, args: &[Value]) -> R<Value> {
    let lname = name.to_ascii_lowercase();
    let arg_count_err = |n: usize| catalogue::method_argument_count(name, n);
    if lname == "tostring" && args.is_empty() && !matches!(target, Value::Null) {
        return Ok(Value::Str(target.to_plain_string()));
    }
    match target {
        Value::Null => Err(catalogue::method_on_null()),
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
            ("add" | "remove" | "clear", _) => {
                Err(catalogue::fixed_size_collection(name, args.len()))
            }
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
        regex::Regex::new(&pat).map_err(|_| catalogue::invalid_regex(p))
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
        BinOp::And | BinOp::Or | BinOp::Xor | BinOp::Add => false,
    })
}

/// PowerShell's `+` on the kinds the lab's values have: a collection on the left gets the right
/// side (its items, when it is a collection) appended; text concatenates the right side as
/// text; a number adds a number (or text that reads as one); `$null` is the right side. The
/// result stays within [`MAX_VALUE_WEIGHT`].
fn add(l: Value, r: Value) -> R<Value> {
    let v =
        match l {
            Value::Null => r,
            Value::Array(mut items) | Value::Multi(MultiValued { mut items }) => {
                match r {
                    Value::Array(more) | Value::Multi(MultiValued { items: more }) => {
                        items.extend(more)
                    }
                    one => items.push(one),
                }
                Value::Array(items)
            }
            Value::Str(mut s) => {
                s.push_str(&r.to_plain_string());
                Value::Str(s)
            }
            Value::Int(a) => {
                let b = match &r {
                    Value::Null => 0,
                    Value::Int(b) => *b,
                    other => {
                        let t = other.to_plain_string();
                        t.trim()
                            .parse::<i64>()
                            .map_err(|_| catalogue::not_a_number(&t))?
                    }
                };
                Value::Int(a.checked_add(b).ok_or_else(|| {
                    catalogue::addition_not_modelled("an Int64 sum past its range")
                })?)
            }
            other => {
                return Err(catalogue::addition_not_modelled(match other {
                    Value::Bool(_) => "a Boolean",
                    Value::DateTime(_) => "a DateTime",
                    Value::Script(_) => "a script block",
                    _ => "an object",
                }))
            }
        };
    match v.weight_within(MAX_VALUE_WEIGHT) {
        Some(_) => Ok(v),
        None => Err(catalogue::value_too_large()),
    }
}
