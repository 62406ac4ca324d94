//! Lab files: YAML text → a checked [`Directory`].
//!
//! Parsing is `lab_kit::parse_yaml` (unknown fields, wrong types and syntax errors come back with
//! file:line:column and the nearest valid name). What serde cannot see is checked here, in
//! [`check`]: version, duplicate tids/UPNs/appIds/domains/rule names, UPNs outside the tenant's
//! verified domains, `granted` naming an application that does not exist, malformed PUIDs,
//! federated domains without a federation block, and conditional-access rules naming unknown
//! users. [`check`] works on the data alone and returns a [`Problem`], so the admin API applies
//! the very same rules to `PUT /_admin/directory` and to every edit; a problem is placed in the
//! source text only when there is one ([`Problem::into_file_error`]).

use std::collections::HashMap;
use std::path::Path;

pub use lab_kit::FileError;
use uuid::Uuid;

use crate::model::{Directory, Domain, DomainKind};

/// Parses and checks a lab file's text; `name` is what errors call the file.
pub fn parse_str(text: &str, name: &str) -> Result<Directory, FileError> {
    let dir: Directory = lab_kit::parse_yaml(text, name)?;
    check(&dir).map_err(|p| p.into_file_error(name, text))?;
    Ok(dir)
}

/// The JSON Schema (draft 2020-12) of what [`parse_str`] reads, derived from [`Directory`]; the
/// checks of [`check`] (unique ids, known domains, …) are beyond it.
pub fn schema() -> schemars::Schema {
    lab_kit::schema::finish(
        schemars::schema_for!(Directory),
        "mock-aad lab file (an Azure AD directory)",
    )
}

/// Reads, parses and checks a lab file.
pub fn load(path: impl AsRef<Path>) -> Result<Directory, FileError> {
    let path = path.as_ref();
    let name = path.display().to_string();
    let text = lab_kit::labfile::read_text(path, "lab file")?;
    parse_str(&text, &name)
}

/// What kind of rule a [`Problem`] breaks (the admin API answers 409 for conflicts, 400 else).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProblemKind {
    /// Something that must be unique is not.
    Conflict,
    /// A value that is not acceptable on its own or refers to nothing.
    Invalid,
}

/// One semantic error in a directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub kind: ProblemKind,
    /// `tenants[0].users[2].upn: …`.
    pub message: String,
    pub hint: Option<String>,
    /// Where the offending element is in a source text: the `occurrence`-th (0-based) match of
    /// any of `patterns` (searched without ASCII case).
    pub patterns: Vec<String>,
    pub occurrence: usize,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)?;
        if let Some(h) = &self.hint {
            write!(f, "; {h}")?;
        }
        Ok(())
    }
}

impl Problem {
    fn new(kind: ProblemKind, message: String, hint: impl Into<String>) -> Self {
        Problem {
            kind,
            message,
            hint: Some(hint.into()),
            patterns: Vec::new(),
            occurrence: 0,
        }
    }

    /// Places the problem at `key: value` (YAML block or flow style, quoted or not, or JSON).
    fn at(mut self, key: &str, value: &str, occurrence: usize) -> Self {
        self.patterns = vec![
            format!("{key}: {value}"),
            format!("{key}: \"{value}\""),
            format!("{key}: '{value}'"),
            format!("\"{key}\": \"{value}\""),
            format!("\"{key}\":\"{value}\""),
        ];
        self.occurrence = occurrence;
        self
    }

    /// Places the problem at a bare value (list items such as CA rule users).
    fn at_value(mut self, value: &str, occurrence: usize) -> Self {
        self.patterns = vec![value.to_string()];
        self.occurrence = occurrence;
        self
    }

    /// The problem as a file error positioned in `text`.
    pub fn into_file_error(self, file: &str, text: &str) -> FileError {
        let (line, column) = self
            .patterns
            .iter()
            .find_map(|p| locate_nth(text, p, self.occurrence))
            .unwrap_or((0, 0));
        FileError {
            file: file.to_string(),
            line,
            column,
            message: self.message,
            hint: self.hint,
        }
    }
}

/// 1-based line and column of the `n`-th (0-based) occurrence of `needle`, ignoring ASCII case.
fn locate_nth(text: &str, needle: &str, n: usize) -> Option<(usize, usize)> {
    if needle.is_empty() {
        return None;
    }
    let hay = text.to_ascii_lowercase();
    let needle = needle.to_ascii_lowercase();
    let (offset, _) = hay.match_indices(&needle).nth(n)?;
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
    let column = text[line_start..offset].chars().count() + 1;
    Some((line, column))
}

/// Whether a PUID is 16 hexadecimal digits (`1003BFFD9ACA40EE`).
pub fn valid_puid(puid: &str) -> bool {
    puid.len() == 16 && puid.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Counts equal keys seen so far (for placing the n-th occurrence of a repeated value).
#[derive(Default)]
struct Seen(HashMap<String, usize>);

impl Seen {
    /// Records `key` and returns how many times it was seen before.
    fn bump(&mut self, key: &str) -> usize {
        let n = self.0.entry(key.to_ascii_lowercase()).or_insert(0);
        *n += 1;
        *n - 1
    }
}

/// Checks everything about a directory that its types cannot express. The first problem found,
/// in document order, is returned.
pub fn check(dir: &Directory) -> Result<(), Problem> {
    use ProblemKind::*;
    if dir.version != 1 {
        return Err(Problem::new(
            Invalid,
            format!("version: unsupported lab file version {}", dir.version),
            "this build reads version 1; set `version: 1`",
        )
        .at("version", &dir.version.to_string(), 0));
    }
    let mut tids: HashMap<Uuid, usize> = HashMap::new();
    let mut issuers: HashMap<String, String> = HashMap::new();
    let mut domains: HashMap<String, usize> = HashMap::new();
    let (mut seen_tid, mut seen_domain, mut seen_upn, mut seen_app) = (
        Seen::default(),
        Seen::default(),
        Seen::default(),
        Seen::default(),
    );
    let (mut seen_puid, mut seen_resource, mut seen_rule, mut seen_ca_user) = (
        Seen::default(),
        Seen::default(),
        Seen::default(),
        Seen::default(),
    );
    for (ti, t) in dir.tenants.iter().enumerate() {
        let tid = t.tid.to_string();
        let occ = seen_tid.bump(&tid);
        if let Some(prev) = tids.insert(t.tid, ti) {
            return Err(Problem::new(
                Conflict,
                format!(
                    "tenants[{ti}].tid: duplicate tenant id {tid} (tenants[{prev}] has it too)"
                ),
                "every tenant needs its own tid",
            )
            .at("tid", &tid, occ));
        }

        for (di, d) in t.domains.iter().enumerate() {
            let occ = seen_domain.bump(&d.name);
            if let Some(prev) = domains.insert(d.name.to_ascii_lowercase(), ti) {
                let whom = if prev == ti {
                    "this tenant".to_string()
                } else {
                    format!("tenants[{prev}]")
                };
                return Err(Problem::new(
                    Conflict,
                    format!(
                        "tenants[{ti}].domains[{di}].name: domain {} is already used by {whom}",
                        d.name
                    ),
                    "a domain belongs to one tenant and is listed once",
                )
                .at("name", &d.name, occ));
            }
            if d.kind == DomainKind::Federated && d.federation.is_none() {
                return Err(Problem::new(
                    Invalid,
                    format!(
                        "tenants[{ti}].domains[{di}]: federated domain {} has no `federation` block",
                        d.name
                    ),
                    "add `federation: { issuer_uri, passive_log_on_uri, signing_certificate }`, or set `kind: managed`",
                )
                .at("name", &d.name, occ));
            }
            if let Some(p) = check_federation(ti, di, d, &mut issuers) {
                return Err(p.at("name", &d.name, occ));
            }
        }

        let verified: Vec<&str> = t
            .domains
            .iter()
            .filter(|d| d.verified)
            .map(|d| d.name.as_str())
            .collect();
        let mut upns: HashMap<String, usize> = HashMap::new();
        for (ui, u) in t.users.iter().enumerate() {
            let occ = seen_upn.bump(&u.upn);
            let Some((_, domain)) = u
                .upn
                .rsplit_once('@')
                .filter(|(n, d)| !n.is_empty() && !d.is_empty())
            else {
                return Err(Problem::new(
                    Invalid,
                    format!(
                        "tenants[{ti}].users[{ui}].upn: {} is not of the form user@domain",
                        u.upn
                    ),
                    format!(
                        "a UPN is <name>@<verified domain>, e.g. someone@{}",
                        t.primary_domain()
                    ),
                )
                .at("upn", &u.upn, occ));
            };
            if !verified.iter().any(|v| v.eq_ignore_ascii_case(domain)) {
                let hint = match lab_kit::labfile::nearest(domain, &verified) {
                    Some(best) => format!("did you mean `{best}`?"),
                    None => format!(
                        "add {domain} to the tenant's domains, or use one of: {}",
                        verified.join(", ")
                    ),
                };
                return Err(Problem::new(
                    Invalid,
                    format!(
                        "tenants[{ti}].users[{ui}].upn: domain {domain} of {} is not a verified domain of tenant {}",
                        u.upn, t.display_name
                    ),
                    hint,
                )
                .at("upn", &u.upn, occ));
            }
            if let Some(prev) = upns.insert(u.upn.to_ascii_lowercase(), ui) {
                return Err(Problem::new(
                    Conflict,
                    format!(
                        "tenants[{ti}].users[{ui}].upn: duplicate user {} (users[{prev}] has it too)",
                        u.upn
                    ),
                    "UPNs are unique within a tenant, compared without case",
                )
                .at("upn", &u.upn, occ));
            }
            let occ = seen_puid.bump(&u.puid);
            if !valid_puid(&u.puid) {
                return Err(Problem::new(
                    Invalid,
                    format!(
                        "tenants[{ti}].users[{ui}].puid: {} is not 16 hexadecimal digits",
                        u.puid
                    ),
                    "a PUID looks like 1003BFFD9ACA40EE",
                )
                .at("puid", &u.puid, occ));
            }
            if let Some(prev) = t.users[..ui].iter().position(|p| p.oid == u.oid) {
                return Err(Problem::new(
                    Conflict,
                    format!(
                        "tenants[{ti}].users[{ui}].oid: duplicate object id {} (users[{prev}] has it too)",
                        u.oid
                    ),
                    "every user needs its own oid",
                )
                .at_value(&u.oid.to_string(), 1));
            }
        }

        let mut apps: HashMap<Uuid, usize> = HashMap::new();
        for (ai, a) in t.applications.iter().enumerate() {
            let id = a.app_id.to_string();
            let occ = seen_app.bump(&id);
            if let Some(prev) = apps.insert(a.app_id, ai) {
                return Err(Problem::new(
                    Conflict,
                    format!(
                        "tenants[{ti}].applications[{ai}].app_id: duplicate application {id} (applications[{prev}] has it too)"
                    ),
                    "an application appears once per tenant; merge the two entries",
                )
                .at("app_id", &id, occ));
            }
        }
        let app_ids: Vec<String> = t
            .applications
            .iter()
            .map(|a| a.app_id.to_string())
            .collect();
        let app_refs: Vec<&str> = app_ids.iter().map(String::as_str).collect();
        for (ai, a) in t.applications.iter().enumerate() {
            for (gi, g) in a.granted.iter().enumerate() {
                let id = g.resource.to_string();
                let occ = seen_resource.bump(&id);
                if t.app(g.resource).is_none() {
                    let hint = match lab_kit::labfile::nearest(&id, &app_refs) {
                        Some(best) => {
                            let name = Uuid::parse_str(best)
                                .ok()
                                .and_then(|b| t.app(b))
                                .map(|a| a.display_name.as_str())
                                .unwrap_or("");
                            format!("did you mean `{best}` ({name})?")
                        }
                        None => {
                            "add the resource application to this tenant's applications".to_string()
                        }
                    };
                    return Err(Problem::new(
                        Invalid,
                        format!(
                            "tenants[{ti}].applications[{ai}].granted[{gi}].resource: no application {id} in this tenant"
                        ),
                        hint,
                    )
                    .at("resource", &id, occ));
                }
            }
        }

        let upn_list: Vec<&str> = t.users.iter().map(|u| u.upn.as_str()).collect();
        let mut rules: HashMap<String, usize> = HashMap::new();
        for (ci, r) in t.conditional_access.iter().enumerate() {
            let occ = seen_rule.bump(&r.name);
            if rules.insert(r.name.to_ascii_lowercase(), ci).is_some() {
                return Err(Problem::new(
                    Conflict,
                    format!(
                        "tenants[{ti}].conditional_access[{ci}].name: duplicate rule name {}",
                        r.name
                    ),
                    "the admin API addresses rules by name; make them unique",
                )
                .at("name", &r.name, occ));
            }
            for (xi, u) in r.users.iter().enumerate() {
                // Count every mention of this UPN in the text before this one (the user list
                // above names it once, earlier rules possibly again).
                let occ = seen_ca_user.bump(u);
                if u == "*" || t.user(u).is_some() {
                    continue;
                }
                let hint = match lab_kit::labfile::nearest(u, &upn_list) {
                    Some(best) => format!("did you mean `{best}`?"),
                    None => "list UPNs of this tenant's users, or `*` for everyone".to_string(),
                };
                return Err(Problem::new(
                    Invalid,
                    format!(
                        "tenants[{ti}].conditional_access[{ci}].users[{xi}]: no user {u} in this tenant"
                    ),
                    hint,
                )
                .at_value(u, occ + mentions_before(dir, ti, u)));
            }
        }
    }
    Ok(())
}

/// A domain's federation rules: `pass_through` only on a managed domain, certificates that
/// parse, and an issuer no other domain uses (the issuer names the realm an assertion is checked
/// against, so two domains cannot share one).
fn check_federation(
    ti: usize,
    di: usize,
    d: &Domain,
    issuers: &mut HashMap<String, String>,
) -> Option<Problem> {
    let here = format!("tenants[{ti}].domains[{di}]");
    if d.pass_through && d.kind == DomainKind::Federated {
        return Some(Problem::new(
            ProblemKind::Invalid,
            format!("{here}: federated domain {} cannot use pass-through authentication", d.name),
            "a federated domain's passwords are checked by its IdP; set `kind: managed` or drop `pass_through`",
        ));
    }
    let f = d.federation.as_ref()?;
    let certs = [
        ("signing_certificate", Some(f.signing_certificate.as_str())),
        (
            "next_signing_certificate",
            f.next_signing_certificate.as_deref(),
        ),
    ];
    for (field, cert) in certs {
        match cert {
            Some(c) if !c.trim().is_empty() => {
                if let Err(e) = lab_kit::saml::Certificate::from_base64(c) {
                    return Some(Problem::new(
                        ProblemKind::Invalid,
                        format!("{here}.federation.{field}: not a certificate ({e})"),
                        "give the base64 DER of the IdP's token-signing certificate, as Get-MsolDomainFederationSettings shows it",
                    ));
                }
            }
            _ => {}
        }
    }
    if f.issuer_uri.is_empty() {
        return None;
    }
    let prev = issuers.insert(f.issuer_uri.clone(), d.name.clone())?;
    Some(Problem::new(
        ProblemKind::Conflict,
        format!(
            "{here}.federation.issuer_uri: {} is already the issuer of domain {prev}",
            f.issuer_uri
        ),
        "every federated domain needs its own IssuerUri (Convert-MsolDomainToFederated -SupportMultipleDomain gives each its own)",
    ))
}

/// How many times `upn` occurs as a user of tenants up to and including `ti` (the CA rule that
/// names an unknown UPN comes after those in the text).
fn mentions_before(dir: &Directory, ti: usize, upn: &str) -> usize {
    dir.tenants[..=ti]
        .iter()
        .flat_map(|t| t.users.iter())
        .filter(|u| u.upn.eq_ignore_ascii_case(upn))
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_lab_is_valid() {
        let dir = parse_str(crate::config::CONTOSO_LAB, "contoso.yaml").unwrap();
        assert!(dir.tenants[0].user("GregT@contoso.com").is_some());
    }

    #[test]
    fn every_shipped_lab_is_valid() {
        for (name, text) in crate::config::SHIPPED_LABS {
            let dir = parse_str(text, name).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(
                dir.tenants[0]
                    .user("GregT@contoso.com")
                    .unwrap()
                    .immutable_id
                    .as_deref(),
                Some("lDqpPb8kwEiZBjI1g9Tz4A==")
            );
        }
        let fed = parse_str(crate::config::CONTOSO_FEDERATED_LAB, "f").unwrap();
        assert_eq!(
            fed.tenants[0].domain("contoso.com").unwrap().kind,
            crate::model::DomainKind::Federated
        );
        let pta = parse_str(crate::config::CONTOSO_PTA_LAB, "p").unwrap();
        assert!(pta.tenants[0].domain("contoso.com").unwrap().pass_through);
    }

    #[test]
    fn locate_nth_counts_occurrences_without_case() {
        let text = "a: X\nb:\n  - a: x\n";
        assert_eq!(locate_nth(text, "a: x", 0), Some((1, 1)));
        assert_eq!(locate_nth(text, "a: x", 1), Some((3, 5)));
        assert_eq!(locate_nth(text, "a: x", 2), None);
    }

    #[test]
    fn puid_is_sixteen_hex_digits() {
        assert!(valid_puid("1003BFFD9ACA40EE"));
        assert!(valid_puid("1003bffd9aca40ee"));
        assert!(!valid_puid("1003BFFD9ACA40E"));
        assert!(!valid_puid("1003BFFD9ACA40EG"));
        assert!(!valid_puid("1003BFFD9ACA40EEE"));
    }
}
