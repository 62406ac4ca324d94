//! How a run's steps are written in its report: a network change as JSON, the sync cycles a
//! clock step ran, and an `Authorization` header with its credential masked. Plain text helpers
//! of the runner, kept apart so the runner holds only the running.

use super::steps::NetworkChange;

/// An `Authorization` value with its credential masked (`Bearer …`); other headers as they are.
pub fn mask_auth(name: &str, value: &str) -> String {
    if name.eq_ignore_ascii_case("authorization") {
        match value.split_once(' ') {
            Some((scheme, rest)) if !rest.trim().is_empty() => format!("{scheme} …"),
            _ => value.to_string(),
        }
    } else {
        value.to_string()
    }
}

pub fn network_text(n: &NetworkChange) -> String {
    let json = serde_json::to_string(n).unwrap_or_default();
    format!("network: {json}")
}

/// What the sync cycles a clock step ran exported (empty when none ran or nothing changed).
pub fn sync_note(run: &crate::shell::backend::SyncRun) -> String {
    let mut parts = Vec::new();
    if !run.exported.is_empty() {
        parts.push(format!(
            "Azure AD Connect exported {}",
            run.exported.join(", ")
        ));
    }
    if !run.deleted.is_empty() {
        parts.push(format!(
            "Azure AD Connect deleted {}",
            run.deleted.join(", ")
        ));
    }
    if !run.passwords.is_empty() {
        parts.push(format!(
            "password hash sync wrote {}",
            run.passwords.join(", ")
        ));
    }
    if !run.errors.is_empty() {
        parts.push(format!("export errors: {}", run.errors.join("; ")));
    }
    parts.join("; ")
}
