//! Lab files: YAML → [`Organization`], with errors that name file, line and column
//! ([`lab_kit::parse_yaml`]) and the semantic checks a person needs to be told about — a
//! duplicate server, a mailbox on an unknown server or owned by an unknown SID, a vdir kind
//! twice on one server, an AzureAD AuthServer while Exchange 2010 exists (the Hybrid wizard
//! refuses) unless the file has a top-level `force: true` line (a file-only switch, not part of
//! the organization model).

use std::collections::HashSet;
use std::path::Path;

pub use lab_kit::FileError;

use crate::model::{AuthServerType, Organization};

/// Parses and checks a lab file's text (`name` is used in errors).
pub fn parse_str(text: &str, name: &str) -> Result<Organization, FileError> {
    // `force` is a file-only switch; take it out before the strict model parse.
    let (force, body) = strip_force(text);
    let org: Organization = lab_kit::parse_yaml(&body, name)?;
    check(&org, text, name, force)?;
    Ok(org)
}

/// The JSON Schema (draft 2020-12) of what [`parse_str`] reads: [`Organization`]'s, plus the
/// file-only `force` switch; the checks of [`check`] (unique servers, known SIDs, …) are beyond
/// it.
pub fn schema() -> schemars::Schema {
    let mut s = schemars::schema_for!(Organization);
    if let Some(p) = s.get_mut("properties").and_then(|v| v.as_object_mut()) {
        p.insert(
            "force".into(),
            serde_json::json!({
                "description": "Create an AzureAD AuthServer even while Exchange 2010 is in the organization (the Hybrid Configuration Wizard refuses). A line of its own, `force: true` or `force: false`, at the start of a line.",
                "type": "boolean"
            }),
        );
    }
    lab_kit::schema::finish(s, "mock-exchange lab file (an Exchange organization)")
}

/// Reads and parses a lab file.
pub fn load(path: &Path) -> Result<Organization, FileError> {
    let name = path.display().to_string();
    let text = lab_kit::labfile::read_text(path, "lab file")?;
    parse_str(&text, &name)
}

/// A top-level `force: true` line (kept line count identical so positions stay right).
fn strip_force(text: &str) -> (bool, String) {
    let mut force = false;
    let body = text
        .lines()
        .map(|l| {
            let t = l.trim_end();
            if t == "force: true" || t == "force: false" {
                force = t.ends_with("true");
                String::new()
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    (force, body)
}

/// The semantic checks of [`parse_str`] on an organization parsed elsewhere (e.g. inline in a
/// whole-lab file); `text` and `file` place the errors.
pub fn check(org: &Organization, text: &str, file: &str, force: bool) -> Result<(), FileError> {
    let err = |needle: &str, msg: String| FileError::semantic(file, text, Some(needle), msg);
    if org.version != 1 {
        return Err(err(
            "version",
            format!("unsupported lab file version {}; expected 1", org.version),
        ));
    }
    if org.servers.is_empty() {
        return Err(err(
            "servers",
            "an organization needs at least one server".into(),
        ));
    }
    let mut names = HashSet::new();
    for s in &org.servers {
        if !names.insert(s.name.to_ascii_lowercase()) {
            return Err(err(
                &format!("name: {}", s.name),
                format!("duplicate server '{}'", s.name),
            ));
        }
        if let Some(cu) = s.cu {
            let known: Vec<u16> = s.version.known_cus().collect();
            if !known.contains(&cu) {
                let list = known
                    .iter()
                    .map(|c| c.to_string())
                    .collect::<Vec<_>>()
                    .join(", ");
                let msg = if known.is_empty() {
                    format!(
                        "server '{}': Exchange 2010 has service packs, not cumulative updates; remove `cu`",
                        s.name
                    )
                } else {
                    format!(
                        "server '{}': the lab knows no CU{cu} of this version (known CUs: {list})",
                        s.name
                    )
                };
                return Err(err(&format!("cu: {cu}"), msg));
            }
        }
        let mut kinds = HashSet::new();
        for v in &s.vdirs {
            if !kinds.insert(v.kind) {
                return Err(err(
                    &format!(
                        "kind: {}",
                        serde_json::to_value(v.kind)
                            .ok()
                            .and_then(|k| k.as_str().map(str::to_string))
                            .unwrap_or_default()
                    ),
                    format!(
                        "server '{}' has the {:?} virtual directory twice",
                        s.name, v.kind
                    ),
                ));
            }
        }
    }
    for e in &org.edge_servers {
        if !names.insert(e.name.to_ascii_lowercase()) {
            return Err(err(
                &format!("name: {}", e.name),
                format!(
                    "duplicate server '{}' (an Edge server shares its name)",
                    e.name
                ),
            ));
        }
    }
    let server_names: Vec<&str> = org.servers.iter().map(|s| s.name.as_str()).collect();
    for m in &org.mailboxes {
        if org.server(&m.server).is_none() {
            let mut e = err(
                &format!("server: {}", m.server),
                format!(
                    "mailbox '{}' is on unknown server '{}'",
                    m.primary_smtp_address, m.server
                ),
            );
            if let Some(n) = lab_kit::labfile::nearest(&m.server, &server_names) {
                e = e.with_hint(format!("did you mean `{n}`?"));
            }
            return Err(e);
        }
        if org.account_by_sid(&m.owner_sid).is_none() {
            return Err(err(
                &m.owner_sid,
                format!(
                    "mailbox '{}' is owned by SID {} but no account has that SID",
                    m.primary_smtp_address, m.owner_sid
                ),
            ));
        }
    }
    let mut sids = HashSet::new();
    for a in &org.accounts {
        if !sids.insert(a.sid.to_ascii_lowercase()) {
            return Err(err(&a.sid, format!("two accounts have SID {}", a.sid)));
        }
    }
    if org.has_exchange_2010() && !force {
        if let Some(a) = org
            .auth_servers
            .iter()
            .find(|a| a.kind == AuthServerType::AzureAD)
        {
            return Err(err(
                &format!("name: {}", a.name),
                format!(
                    "AuthServer '{}' (AzureAD) cannot exist while an Exchange 2010 server is in the organization (the Hybrid Configuration Wizard does not create it)",
                    a.name
                ),
            )
            .with_hint("remove the Exchange 2010 server, or add `force: true` at the top level to model a forced configuration"));
        }
    }
    if org
        .auth_servers
        .iter()
        .filter(|a| a.is_default_authorization_endpoint)
        .count()
        > 1
    {
        return Err(err(
            "is_default_authorization_endpoint: true",
            "more than one AuthServer is the default authorization endpoint".into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_lab_parses() {
        let org = parse_str(crate::CONTOSO_LAB, "contoso.yaml").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(org.servers[0].name, "EX1");
    }
}
