//! The JSON Schema of the scenario values that serde does not derive: each "one kind key" map
//! ([`Step`], [`NetworkChange`], [`Action`], [`Expectation`]) and the checked newtypes
//! ([`Secs`], [`ClientName`]). Their parsers read a derived struct of optional fields and then
//! count the kinds by hand; so their schema is that same struct's derived schema plus the count,
//! written as a `oneOf` with one branch per kind ("this key is set, the other kinds are absent
//! or null" — the parser's `is_some()`). Kept apart from the parsers so the two stay readable;
//! `tests/it/schemas.rs` checks that the schema and `hma-lab lint` agree on every file.

use std::borrow::Cow;

use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde_json::{json, Map, Value};

use super::checks::{Expectation, RawExpectation, EXPECTATION_KINDS};
use super::steps::{
    Action, ClientName, NetworkChange, RawAction, RawNetwork, RawStep, Secs, Step, CLIENT_NAMES,
    INSTALLED_OUTLOOK, MAX_DURATION_SECS,
};

/// The step kinds; the action kinds are these plus [`ACTION_KINDS`].
const STEP_KINDS: [&str; 3] = ["cmdlet", "network", "clock"];
const ACTION_KINDS: [&str; 3] = ["client", "request", "token"];
const NETWORK_KINDS: [&str; 4] = [
    "load_balancer",
    "reverse_proxy",
    "client_segment",
    "certificate",
];
/// Fields only a `client` action may carry; `user` it must.
const CLIENT_ONLY: [&str; 3] = ["user", "action", "settings"];

/// One branch per kind: that key present and not null, every other kind absent or null.
fn one_kind_branch(kind: &str, kinds: &[&str]) -> Map<String, Value> {
    let mut props = Map::new();
    for k in kinds {
        let v = if k == &kind {
            json!({ "not": { "type": "null" } })
        } else {
            json!({ "type": "null" })
        };
        props.insert((*k).to_string(), v);
    }
    let mut branch = Map::new();
    branch.insert("required".into(), json!([kind]));
    branch.insert("properties".into(), Value::Object(props));
    branch
}

/// `raw` (the derived schema of the parser's struct of options) with "exactly one of `kinds`".
fn exactly_one(mut raw: Schema, kinds: &[&str]) -> Schema {
    let branches: Vec<Value> = kinds
        .iter()
        .map(|k| Value::Object(one_kind_branch(k, kinds)))
        .collect();
    raw.insert("oneOf".into(), Value::Array(branches));
    raw
}

macro_rules! one_kind_schema {
    ($ty:ty, $name:literal, $raw:ty, $kinds:expr) => {
        impl JsonSchema for $ty {
            fn schema_name() -> Cow<'static, str> {
                $name.into()
            }
            fn json_schema(g: &mut SchemaGenerator) -> Schema {
                exactly_one(<$raw>::json_schema(g), &$kinds)
            }
        }
    };
}

one_kind_schema!(Step, "Step", RawStep, STEP_KINDS);
one_kind_schema!(NetworkChange, "NetworkChange", RawNetwork, NETWORK_KINDS);
one_kind_schema!(
    Expectation,
    "Expectation",
    RawExpectation,
    EXPECTATION_KINDS
);

impl JsonSchema for Action {
    fn schema_name() -> Cow<'static, str> {
        "Action".into()
    }
    fn json_schema(g: &mut SchemaGenerator) -> Schema {
        let kinds: Vec<&str> = ACTION_KINDS.iter().chain(&STEP_KINDS).copied().collect();
        let mut raw = <RawAction>::json_schema(g);
        let branches: Vec<Value> = kinds
            .iter()
            .map(|k| {
                let mut b = one_kind_branch(k, &kinds);
                let props = b.get_mut("properties").and_then(Value::as_object_mut);
                if *k == "client" {
                    // `user` is required (and not null); `action` and `settings` are optional.
                    b.insert("required".into(), json!(["client", "user"]));
                    if let Some(p) = b.get_mut("properties").and_then(Value::as_object_mut) {
                        p.insert("user".into(), json!({ "not": { "type": "null" } }));
                    }
                } else if let Some(p) = props {
                    for f in CLIENT_ONLY {
                        p.insert(f.into(), json!({ "type": "null" }));
                    }
                }
                Value::Object(b)
            })
            .collect();
        raw.insert("oneOf".into(), Value::Array(branches));
        raw
    }
}

impl JsonSchema for Secs {
    fn schema_name() -> Cow<'static, str> {
        "Duration".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": format!(
                "A duration: whole seconds (`90`), or a number with s, m, h or d (`30s`, `5m`, `2h`, `91d`); a string form is at most {MAX_DURATION_SECS} seconds (a century)."
            ),
            "anyOf": [
                { "type": "integer", "minimum": 0, "maximum": i64::MAX },
                { "type": "string", "pattern": "^\\s*(\\+?[0-9]+|-0+)\\s*[smhd]?\\s*$" }
            ]
        })
    }
}

impl JsonSchema for ClientName {
    fn schema_name() -> Cow<'static, str> {
        "ClientProfile".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let names: Vec<&str> = std::iter::once(INSTALLED_OUTLOOK)
            .chain(CLIENT_NAMES)
            .collect();
        json_schema!({
            "description": "A client profile the reference client emulates; `outlook` is the Outlook installed on the user's machine (Install-LabOutlook; Outlook 2016 when none was installed).",
            "type": "string",
            "enum": names
        })
    }
}
