//! The shell's object model: what a pipeline carries between commands.
//!
//! PowerShell passes .NET objects; the lab passes [`Value`]s. A cmdlet's output object is a
//! [`PsObject`] — an *ordered* list of properties, because `Format-List` prints properties in the
//! order the real type declares them and the seed's outputs depend on that order. Property names
//! are looked up case-insensitively, as PowerShell does (`$x.ServicePrincipalnames` works).
//! Multi-valued properties ([`MultiValued`]) support `.Add()` / `.Remove()` the way Exchange's
//! `MultiValuedProperty` and MSOnline's `List<string>` do.

use std::fmt::Write as _;

/// One value in the shell.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Str(String),
    /// A point in time, printed as PowerShell's en-US `M/d/yyyy h:mm:ss tt`.
    DateTime(time::OffsetDateTime),
    /// A plain array (`a, b, c` or several pipeline objects collected).
    Array(Vec<Value>),
    /// A typed collection property (`MultiValuedProperty`, `List<string>`).
    Multi(MultiValued),
    Object(PsObject),
    /// A script block (`{ $_.Name -eq "EvoSts" }`), kept as parsed statements.
    Script(std::sync::Arc<super::ast::ScriptBlock>),
}

/// A typed collection: `.Add()`/`.Remove()` change it in place.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MultiValued {
    pub items: Vec<Value>,
}

/// An object: a type name and ordered properties.
#[derive(Debug, Clone, PartialEq)]
pub struct PsObject {
    /// The .NET type name the real cmdlet returns (informational, shown by `Get-Member`-like
    /// diagnostics and in error messages).
    pub type_name: String,
    pub props: Vec<(String, Value)>,
}

impl PsObject {
    pub fn new(type_name: &str) -> Self {
        PsObject {
            type_name: type_name.to_string(),
            props: Vec::new(),
        }
    }

    /// Appends a property (builder style).
    pub fn with(mut self, name: &str, value: impl Into<Value>) -> Self {
        self.props.push((name.to_string(), value.into()));
        self
    }

    /// A property by name, case-insensitively.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.props
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }

    pub fn get_mut(&mut self, name: &str) -> Option<&mut Value> {
        self.props
            .iter_mut()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }

    /// The property's string form, or `""` when absent or null.
    pub fn get_str(&self, name: &str) -> String {
        self.get(name).map(Value::to_display).unwrap_or_default()
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}
impl From<i64> for Value {
    fn from(i: i64) -> Self {
        Value::Int(i)
    }
}
impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::Str(s.to_string())
    }
}
impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::Str(s)
    }
}
impl From<Option<String>> for Value {
    fn from(s: Option<String>) -> Self {
        s.map(Value::Str).unwrap_or(Value::Null)
    }
}
impl From<Option<bool>> for Value {
    fn from(b: Option<bool>) -> Self {
        b.map(Value::Bool).unwrap_or(Value::Null)
    }
}
impl From<PsObject> for Value {
    fn from(o: PsObject) -> Self {
        Value::Object(o)
    }
}

/// How deeply a variable's value may nest arrays and hashtables: the formatter, comparisons and
/// copies walk values recursively, so a line that wraps a variable in itself statement after
/// statement (`$x = $x, 1; …`) stops here instead of overflowing the stack.
pub const MAX_VALUE_DEPTH: usize = 32;

/// How much a session may hold, in [`Value::weight_within`] units (one per value, plus the bytes
/// of its strings): for one value being built (an array literal, an expanded string, a
/// `ForEach-Object` output) and for all the session's variables together. Depth alone does not
/// bound size: `$x = $x, $x` doubles it at every statement, `$s = "$s$s"` too, and the admin
/// API's session lives as long as `serve`. About 4 Mi units is tens of MiB at most.
pub const MAX_VALUE_WEIGHT: usize = 1 << 22;

/// The type name of `@{…}` literals.
pub const HASHTABLE: &str = "System.Collections.Hashtable";

/// The Exchange Management Shell sets `$FormatEnumerationLimit = 16`: longer collections print
/// their first 16 items followed by `...`.
pub const FORMAT_ENUMERATION_LIMIT: usize = 16;

impl Value {
    /// A multi-valued property of strings.
    pub fn multi<I, S>(items: I) -> Value
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Value::Multi(MultiValued {
            items: items.into_iter().map(|s| Value::Str(s.into())).collect(),
        })
    }

    /// PowerShell truthiness (`where {…}` filters, `-not`, `-and`).
    pub fn truthy(&self) -> bool {
        match self {
            Value::Null => false,
            Value::Bool(b) => *b,
            Value::Int(i) => *i != 0,
            Value::Str(s) => !s.is_empty(),
            Value::DateTime(_) => true,
            Value::Array(a) => match a.len() {
                0 => false,
                1 => a[0].truthy(),
                _ => true,
            },
            Value::Multi(m) => !m.items.is_empty(),
            Value::Object(_) | Value::Script(_) => true,
        }
    }

    /// The items of a collection, or the value itself as a one-item list (null: none).
    pub fn enumerate(&self) -> Vec<Value> {
        match self {
            Value::Null => Vec::new(),
            Value::Array(a) => a.clone(),
            Value::Multi(m) => m.items.clone(),
            v => vec![v.clone()],
        }
    }

    /// Whether arrays and hashtables nest inside this value more than `levels` deep (looks no
    /// deeper than that, so it is safe on any value).
    /// The value's weight — one per value (arrays, hashtables and their items included) plus the
    /// bytes of its strings and names — or `None` as soon as it passes `budget`. Walks with its
    /// own stack and stops early, so an oversized value costs at most `budget` steps.
    pub fn weight_within(&self, budget: usize) -> Option<usize> {
        let mut total = 0usize;
        let mut stack = vec![self];
        while let Some(v) = stack.pop() {
            total += 1 + match v {
                Value::Str(s) => s.len(),
                Value::Array(a) => {
                    stack.extend(a.iter());
                    0
                }
                Value::Multi(m) => {
                    stack.extend(m.items.iter());
                    0
                }
                Value::Object(o) => {
                    stack.extend(o.props.iter().map(|(_, v)| v));
                    o.props.iter().map(|(k, _)| k.len()).sum()
                }
                _ => 0,
            };
            if total > budget {
                return None;
            }
        }
        Some(total)
    }

    pub fn deeper_than(&self, levels: usize) -> bool {
        let children: Box<dyn Iterator<Item = &Value>> = match self {
            Value::Array(a) => Box::new(a.iter()),
            Value::Multi(m) => Box::new(m.items.iter()),
            Value::Object(o) => Box::new(o.props.iter().map(|(_, v)| v)),
            _ => return false,
        };
        levels == 0 || children.into_iter().any(|c| c.deeper_than(levels - 1))
    }

    /// [`Value::enumerate`] by value: the items the pipeline passes on (`$null` is nothing).
    pub fn unroll(self) -> Vec<Value> {
        match self {
            Value::Null => Vec::new(),
            Value::Array(a) => a,
            Value::Multi(m) => m.items,
            other => vec![other],
        }
    }

    /// How a value prints as a property value in `Format-List`/`Format-Table` and as a string:
    /// `True`/`False`, nothing for null, `{a, b}` for collections.
    pub fn to_display(&self) -> String {
        match self {
            Value::Null => String::new(),
            Value::Bool(true) => "True".into(),
            Value::Bool(false) => "False".into(),
            Value::Int(i) => i.to_string(),
            Value::Str(s) => s.clone(),
            Value::DateTime(t) => format_datetime(*t),
            Value::Array(items) | Value::Multi(MultiValued { items }) => {
                let mut out = String::from("{");
                for (i, v) in items.iter().enumerate() {
                    if i == FORMAT_ENUMERATION_LIMIT {
                        out.push_str("...");
                        break;
                    }
                    if i > 0 {
                        out.push_str(", ");
                    }
                    out.push_str(&v.to_display());
                }
                out.push('}');
                out
            }
            Value::Object(o) => o
                .get("Identity")
                .or_else(|| o.get("Name"))
                .map(Value::to_display)
                .unwrap_or_else(|| o.type_name.clone()),
            Value::Script(sb) => sb.text.clone(),
        }
    }

    /// The string a value converts to when a `[string]` is needed (arrays join with spaces, as
    /// PowerShell's `$OFS` default does).
    pub fn to_plain_string(&self) -> String {
        match self {
            Value::Array(items) | Value::Multi(MultiValued { items }) => items
                .iter()
                .map(Value::to_plain_string)
                .collect::<Vec<_>>()
                .join(" "),
            v => v.to_display(),
        }
    }

    /// JSON for APIs and reports: objects keep their property order (`{"Name": …}`), collections
    /// are arrays, dates RFC 3339, script blocks their text.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match self {
            Value::Null => J::Null,
            Value::Bool(b) => J::Bool(*b),
            Value::Int(i) => J::from(*i),
            Value::Str(s) => J::String(s.clone()),
            Value::DateTime(t) => t
                .format(&time::format_description::well_known::Rfc3339)
                .map(J::String)
                .unwrap_or(J::Null),
            Value::Array(items) | Value::Multi(MultiValued { items }) => {
                J::Array(items.iter().map(Value::to_json).collect())
            }
            Value::Object(o) => J::Object(
                o.props
                    .iter()
                    .map(|(k, v)| (k.clone(), v.to_json()))
                    .collect(),
            ),
            Value::Script(sb) => J::String(sb.text.clone()),
        }
    }

    /// A short type name for error messages (`System.String`, `System.Boolean`, …).
    pub fn type_name(&self) -> String {
        match self {
            Value::Null => "null".into(),
            Value::Bool(_) => "System.Boolean".into(),
            Value::Int(_) => "System.Int32".into(),
            Value::Str(_) => "System.String".into(),
            Value::DateTime(_) => "System.DateTime".into(),
            Value::Array(_) => "System.Object[]".into(),
            Value::Multi(_) => "Microsoft.Exchange.Data.MultiValuedProperty".into(),
            Value::Object(o) => o.type_name.clone(),
            Value::Script(_) => "System.Management.Automation.ScriptBlock".into(),
        }
    }
}

/// `11/16/2017 8:27:45 PM` (en-US, the culture the seed's servers print in).
pub fn format_datetime(t: time::OffsetDateTime) -> String {
    let (h12, ampm) = match t.hour() {
        0 => (12, "AM"),
        h @ 1..=11 => (h, "AM"),
        12 => (12, "PM"),
        h => (h - 12, "PM"),
    };
    let mut s = String::new();
    let _ = write!(
        s,
        "{}/{}/{} {}:{:02}:{:02} {}",
        u8::from(t.month()),
        t.day(),
        t.year(),
        h12,
        t.minute(),
        t.second(),
        ampm
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_like_powershell() {
        assert_eq!(Value::Bool(true).to_display(), "True");
        assert_eq!(Value::Null.to_display(), "");
        assert_eq!(
            Value::multi(["Ntlm", "OAuth", "Negotiate"]).to_display(),
            "{Ntlm, OAuth, Negotiate}"
        );
        let many = Value::multi((0..20).map(|i| i.to_string()));
        assert_eq!(
            many.to_display(),
            "{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15...}"
        );
        let t = time::macros::datetime!(2017-11-16 20:27:45 UTC);
        assert_eq!(Value::DateTime(t).to_display(), "11/16/2017 8:27:45 PM");
    }

    #[test]
    fn json_keeps_property_order() {
        let o = Value::Object(
            PsObject::new("T")
                .with("Server", "EX1")
                .with("IISAuthenticationMethods", Value::multi(["Ntlm", "OAuth"]))
                .with("ExternalUrl", Value::Null)
                .with("Enabled", true),
        );
        assert_eq!(
            o.to_json().to_string(),
            r#"{"Server":"EX1","IISAuthenticationMethods":["Ntlm","OAuth"],"ExternalUrl":null,"Enabled":true}"#
        );
        let t = time::macros::datetime!(2017-11-16 20:27:45 UTC);
        assert_eq!(
            Value::DateTime(t).to_json(),
            serde_json::json!("2017-11-16T20:27:45Z")
        );
    }

    #[test]
    fn properties_are_case_insensitive() {
        let o = PsObject::new("T").with("ServicePrincipalNames", Value::multi(["a"]));
        assert!(o.get("ServicePrincipalnames").is_some());
        assert!(o.get("Nope").is_none());
    }
}
