//! Lab files: YAML text → a checked [`Farm`].
//!
//! Parsing is `lab_kit::parse_yaml` (unknown fields, wrong types and syntax come back with
//! file:line:column and the nearest valid name); [`check`] adds what serde cannot see — the
//! version, a host name, duplicate UPNs, sAMAccountNames, objectGUIDs and relying-party
//! identifiers, a UPN without `@`, a token lifetime outside 1..=1440 minutes — and works on the
//! data alone, so the admin API applies the same rules to every edit.

use std::collections::HashSet;
use std::path::Path;

pub use lab_kit::FileError;

use crate::model::Farm;

/// What [`check`] found: the message and a snippet of the file to place it at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub message: String,
    pub near: Option<String>,
}

impl Problem {
    fn new(message: String, near: Option<&str>) -> Problem {
        Problem {
            message,
            near: near.map(str::to_string),
        }
    }
}

/// Parses and checks a lab file's text; `name` is what errors call the file.
pub fn parse_str(text: &str, name: &str) -> Result<Farm, FileError> {
    let farm: Farm = lab_kit::parse_yaml(text, name)?;
    check(&farm).map_err(|p| FileError::semantic(name, text, p.near.as_deref(), p.message))?;
    Ok(farm)
}

/// The JSON Schema (draft 2020-12) of what [`parse_str`] reads, derived from [`Farm`]; the
/// checks of [`check`] (unique names, a host name) are beyond it.
pub fn schema() -> schemars::Schema {
    lab_kit::schema::finish(
        schemars::schema_for!(Farm),
        "mock-adfs lab file (an ADFS farm)",
    )
}

/// Reads, parses and checks a lab file.
pub fn load(path: impl AsRef<Path>) -> Result<Farm, FileError> {
    let path = path.as_ref();
    let text = lab_kit::labfile::read_text(path, "lab file")?;
    parse_str(&text, &path.display().to_string())
}

fn unique<'a>(
    what: &str,
    values: impl Iterator<Item = &'a str>,
    fold: bool,
) -> Result<(), Problem> {
    let mut seen = HashSet::new();
    for v in values {
        let key = if fold {
            v.to_ascii_lowercase()
        } else {
            v.to_string()
        };
        if !seen.insert(key) {
            return Err(Problem::new(format!("{what} `{v}` appears twice"), Some(v)));
        }
    }
    Ok(())
}

/// The rules a farm must keep.
pub fn check(farm: &Farm) -> Result<(), Problem> {
    if farm.version != 1 {
        return Err(Problem::new(
            format!(
                "version {} is not supported; write `version: 1`",
                farm.version
            ),
            Some("version"),
        ));
    }
    if farm.host.is_empty() || farm.host.contains(['/', ' ', ':']) {
        return Err(Problem::new(
            format!(
                "host `{}` is not a host name (write e.g. `adfs.contoso.com`)",
                farm.host
            ),
            Some("host"),
        ));
    }
    for u in &farm.users {
        if !u.upn.contains('@') {
            return Err(Problem::new(
                format!("users: upn `{}` has no `@domain`", u.upn),
                Some(&u.upn),
            ));
        }
    }
    unique(
        "users: upn",
        farm.users.iter().map(|u| u.upn.as_str()),
        true,
    )?;
    unique(
        "users: sam",
        farm.users.iter().map(|u| u.sam.as_str()),
        true,
    )?;
    let guids: Vec<String> = farm
        .users
        .iter()
        .map(|u| u.object_guid.to_string())
        .collect();
    unique("users: object_guid", guids.iter().map(String::as_str), true)?;
    unique(
        "relying_parties: identifier",
        farm.relying_parties
            .iter()
            .flat_map(|rp| rp.identifiers.iter().map(String::as_str)),
        false,
    )?;
    for rp in &farm.relying_parties {
        if rp.identifiers.is_empty() {
            return Err(Problem::new(
                format!("relying party `{}` has no identifiers", rp.name),
                Some(&rp.name),
            ));
        }
        if !(1..=1440).contains(&rp.token_lifetime_minutes) {
            return Err(Problem::new(
                format!(
                    "relying party `{}`: token_lifetime_minutes must be 1 to 1440",
                    rp.name
                ),
                Some("token_lifetime_minutes"),
            ));
        }
    }
    Ok(())
}
