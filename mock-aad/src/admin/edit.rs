//! Reading and editing the directory for the admin API: one tenant at a time, edits applied to
//! a copy that is checked like a lab file and committed only when valid; JSON merge patches;
//! the "not found" answers for tenants, users and applications.

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{Map, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::admin::errors::{from_value, AdminError, AdminResult};
use crate::labfile::{self};
use crate::model::{Directory, Tenant};
use crate::state::AppState;

pub(super) fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

/// The lab time truncated to whole seconds, as Azure AD stores TokensValidFrom
/// (`2017-11-16T20:27:45.0000000Z`).
pub(super) fn valid_from_now(s: &AppState) -> OffsetDateTime {
    let now = s.now();
    now.replace_nanosecond(0).unwrap_or(now)
}

pub(super) fn no_tenant(t: &str) -> AdminError {
    AdminError::not_found(format!(
        "no tenant '{t}' (give its tid or a verified domain)"
    ))
}

pub(super) fn no_user(upn: &str) -> AdminError {
    AdminError::not_found(format!("no user '{upn}' in this tenant"))
}

pub(super) fn parse_app_id(app: &str) -> AdminResult<Uuid> {
    Uuid::parse_str(app.trim())
        .map_err(|_| AdminError::bad_request(format!("'{app}' is not an application id (GUID)")))
}

pub(super) fn no_app(id: Uuid) -> AdminError {
    AdminError::not_found(format!("no application {id} in this tenant"))
}

/// Reads one tenant.
pub(super) fn read_tenant<R>(
    s: &AppState,
    t: &str,
    f: impl FnOnce(&Tenant) -> AdminResult<R>,
) -> AdminResult<R> {
    let dir = s.dir();
    let tenant = dir.tenant(t).ok_or_else(|| no_tenant(t))?;
    f(tenant)
}

/// Edits one tenant: on a copy, checked like a lab file, committed only when valid.
pub(super) fn edit_tenant<R>(
    s: &AppState,
    t: &str,
    f: impl FnOnce(&mut Tenant) -> AdminResult<R>,
) -> AdminResult<R> {
    let mut live = s.dir_mut();
    let mut copy: Directory = live.clone();
    let tenant = copy.tenant_mut(t).ok_or_else(|| no_tenant(t))?;
    let out = f(tenant)?;
    labfile::check(&copy)?;
    *live = copy;
    Ok(out)
}

pub(super) fn to_json<T: Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

/// RFC 7396 JSON merge patch: objects merge key by key, `null` removes (back to the default).
pub(super) fn merge(target: &mut Value, patch: Value) {
    match patch {
        Value::Object(p) => {
            if !target.is_object() {
                *target = Value::Object(Map::new());
            }
            if let Value::Object(t) = target {
                for (k, v) in p {
                    if v.is_null() {
                        t.remove(&k);
                    } else {
                        merge(t.entry(k).or_insert(Value::Null), v);
                    }
                }
            }
        }
        other => *target = other,
    }
}

/// Applies a merge patch to a typed value (unknown fields and wrong types are a 400).
pub(super) fn patched<T: Serialize + DeserializeOwned>(
    current: &T,
    patch: Value,
) -> AdminResult<T> {
    if !patch.is_object() {
        return Err(AdminError::bad_request(
            "the body must be a JSON object of the fields to change",
        ));
    }
    let mut v = to_json(current);
    merge(&mut v, patch);
    from_value(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merge_patch_follows_rfc_7396() {
        let mut v = json!({"a": 1, "b": {"c": 2, "d": 3}, "e": [1]});
        merge(
            &mut v,
            json!({"a": null, "b": {"c": 5}, "e": [2, 3], "f": "x"}),
        );
        assert_eq!(v, json!({"b": {"c": 5, "d": 3}, "e": [2, 3], "f": "x"}));
    }
}
