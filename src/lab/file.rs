//! Lab files: one YAML document describing a whole lab — the Azure AD directory, the Exchange
//! organization, optionally an ADFS farm, and the network between them — parsed strictly and
//! checked for wiring mistakes.
//!
//! ```yaml
//! version: 1
//! name: contoso
//! aad: { builtin: contoso }          # or { file: aad.yaml }, or an inline mock-aad directory
//! exchange: { file: exchange.yaml }  # or { builtin: contoso }, or an inline organization
//! adfs: { builtin: contoso }         # optional: an ADFS farm (mock-adfs), same three forms
//! network:
//!   exchange_namespaces: [mail.contoso.com, autodiscover.contoso.com]
//!   devices:
//!     - load_balancer: { host: mail.contoso.com, ssl_offload: false, targets: [EX1] }
//! ```
//!
//! Each half takes one of three forms. A reference (`file`/`builtin`) is recognised by its one
//! key; anything else is an inline document of the service's own lab model. The file is parsed
//! in two passes so that every error — in the lab's own fields or deep inside an inline half —
//! comes from [`lab_kit::parse_yaml`] with the file's line and column and the nearest valid name:
//! first with the halves as raw YAML (to tell the forms apart and check the lab's own fields),
//! then with each half typed as its form (the optional farm in a pass of its own, so the two
//! mandatory halves keep their four combinations). Wiring checks run last ([`check_wiring`]).

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use lab_kit::FileError;
use mock_aad::Directory;
use mock_adfs::Farm;
use mock_exchange::model::AuthServerType;
use mock_exchange::Organization;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_yaml_ng::Value;

use super::devices::{is_aad_host, Devices, HostTable, NetworkSpec};

/// The labs shipped with hma-lab (`Lab::builtin`).
pub const BUILTIN_LABS: [(&str, &str); 4] = [
    ("contoso", include_str!("../../scenarios/labs/contoso.yaml")),
    (
        "contoso-pre-hma",
        include_str!("../../scenarios/labs/contoso-pre-hma.yaml"),
    ),
    (
        "contoso-federated",
        include_str!("../../scenarios/labs/contoso-federated.yaml"),
    ),
    (
        "contoso-pta",
        include_str!("../../scenarios/labs/contoso-pta.yaml"),
    ),
];

/// Labs parsed so far, by (file name, text): the scenario engine starts two labs per scenario
/// and checks each scenario's lab when loading it, all from the same few files, and parsing a
/// lab (three YAML passes) costs more than starting one. Only self-contained texts are kept
/// (see [`LabFile::parse`]); the memo is bounded and simply emptied when full.
mod parsed {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};

    use super::LabFile;

    const MAX: usize = 64;

    type Memo = Mutex<HashMap<(String, String), LabFile>>;

    fn memo() -> &'static Memo {
        static MEMO: OnceLock<Memo> = OnceLock::new();
        MEMO.get_or_init(Memo::default)
    }

    pub(super) fn get(text: &str, file: &str) -> Option<LabFile> {
        let m = memo().lock().unwrap_or_else(|p| p.into_inner());
        m.get(&(file.to_string(), text.to_string())).cloned()
    }

    pub(super) fn put(text: &str, file: &str, lab: &LabFile) {
        let mut m = memo().lock().unwrap_or_else(|p| p.into_inner());
        if m.len() >= MAX {
            m.clear();
        }
        m.insert((file.to_string(), text.to_string()), lab.clone());
    }
}

/// The halves each service ships (`{ builtin: contoso }`).
const BUILTIN_HALVES: [&str; 1] = ["contoso"];

/// A parsed, checked lab.
#[derive(Debug, Clone)]
pub struct LabFile {
    pub name: String,
    pub directory: Directory,
    pub organization: Organization,
    /// The ADFS farm (mock-adfs), when the lab has one.
    pub adfs: Option<Farm>,
    pub network: NetworkSpec,
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct Doc<A, E, F = Value> {
    #[schemars(extend("const" = 1))]
    version: u32,
    name: String,
    aad: A,
    exchange: E,
    #[serde(default = "absent::<F>")]
    adfs: Option<F>,
    #[serde(default)]
    network: NetworkSpec,
}

/// A missing optional half (a function, so serde asks no `Default` of the half's type).
fn absent<F>() -> Option<F> {
    None
}

/// `{ file: … }` or `{ builtin: … }` (exactly one key, see [`is_reference`]).
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(extend("minProperties" = 1, "maxProperties" = 1))]
struct Reference {
    /// A lab file of the service's own, relative to this file.
    #[serde(default)]
    #[schemars(with = "String")]
    file: Option<String>,
    /// A half the lab ships: `contoso`.
    #[serde(default)]
    #[schemars(with = "String")]
    builtin: Option<String>,
}

fn is_reference(v: &Value) -> bool {
    match v {
        Value::Mapping(m) => {
            m.len() == 1
                && m.keys()
                    .all(|k| matches!(k.as_str(), Some("file") | Some("builtin")))
        }
        _ => false,
    }
}

/// One half of the lab: a reference, or an inline document of the service's own lab model.
/// Its schema (untagged: either shape) is the lab file's; the parser tells them apart by
/// [`is_reference`].
#[derive(schemars::JsonSchema)]
#[schemars(untagged, rename = "{T}Half")]
enum Half<T> {
    Ref(Reference),
    Inline(T),
}

/// The JSON Schema of a combined lab file: [`Doc`] with each half as [`Half`].
pub fn schema() -> schemars::Schema {
    lab_kit::schema::finish(
        schemars::schema_for!(Doc<Half<Directory>, Half<Organization>, Half<Farm>>),
        "hma-lab lab file",
    )
}

struct Parsed {
    version: u32,
    name: String,
    aad: Half<Directory>,
    exchange: Half<Organization>,
    network: NetworkSpec,
}

/// The farm half, typed in its own pass over the whole text (so its errors are placed too).
fn farm_half(raw: Option<&Value>, text: &str, file: &str) -> Result<Option<Half<Farm>>, FileError> {
    let Some(raw) = raw else {
        return Ok(None);
    };
    Ok(Some(if is_reference(raw) {
        let d: Doc<Value, Value, Reference> = lab_kit::parse_yaml(text, file)?;
        Half::Ref(d.adfs.unwrap_or(Reference {
            file: None,
            builtin: None,
        }))
    } else {
        let d: Doc<Value, Value, Farm> = lab_kit::parse_yaml(text, file)?;
        match d.adfs {
            Some(f) => Half::Inline(f),
            None => return Ok(None),
        }
    }))
}

fn typed<A: DeserializeOwned, E: DeserializeOwned>(
    text: &str,
    file: &str,
    wrap_a: impl FnOnce(A) -> Half<Directory>,
    wrap_e: impl FnOnce(E) -> Half<Organization>,
) -> Result<Parsed, FileError> {
    let d: Doc<A, E, Value> = lab_kit::parse_yaml(text, file)?;
    Ok(Parsed {
        version: d.version,
        name: d.name,
        aad: wrap_a(d.aad),
        exchange: wrap_e(d.exchange),
        network: d.network,
    })
}

impl LabFile {
    /// Reads and checks a lab file; `file:` references are relative to its directory.
    pub fn load(path: &Path) -> Result<LabFile, FileError> {
        let name = path.display().to_string();
        let text = lab_kit::labfile::read_text(path, "lab file")?;
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        LabFile::parse(&text, &name, Some(&dir))
    }

    /// A shipped lab by name (`contoso`, `contoso-pre-hma`).
    pub fn builtin(name: &str) -> Result<LabFile, FileError> {
        match BUILTIN_LABS
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
        {
            // Compiled in, so parsed once per process and copied after that.
            Some((n, text)) => {
                static PARSED: [OnceLock<Result<LabFile, FileError>>; BUILTIN_LABS.len()] =
                    [const { OnceLock::new() }; BUILTIN_LABS.len()];
                let i = BUILTIN_LABS.iter().position(|(m, _)| m == n).unwrap_or(0);
                PARSED[i]
                    .get_or_init(|| LabFile::parse(text, &format!("{n}.yaml"), None))
                    .clone()
            }
            None => {
                let names: Vec<&str> = BUILTIN_LABS.iter().map(|(n, _)| *n).collect();
                let mut e = FileError {
                    file: name.to_string(),
                    line: 0,
                    column: 0,
                    message: format!(
                        "no built-in lab named '{name}' (built-in labs: {})",
                        names.join(", ")
                    ),
                    hint: None,
                };
                if let Some(n) = lab_kit::labfile::nearest(name, &names) {
                    e = e.with_hint(format!("did you mean `{n}`?"));
                }
                Err(e)
            }
        }
    }

    /// Parses and checks lab file text named `file` in errors. `base_dir` resolves `file:`
    /// references; without it they are an error.
    pub fn parse(text: &str, file: &str, base_dir: Option<&Path>) -> Result<LabFile, FileError> {
        if let Some(lab) = parsed::get(text, file) {
            return Ok(lab);
        }
        let raw: Doc<Value, Value> = lab_kit::parse_yaml(text, file)?;
        let farm = farm_half(raw.adfs.as_ref(), text, file)?;
        let p = match (is_reference(&raw.aad), is_reference(&raw.exchange)) {
            (true, true) => typed::<Reference, Reference>(text, file, Half::Ref, Half::Ref),
            (true, false) => typed::<Reference, Organization>(text, file, Half::Ref, Half::Inline),
            (false, true) => typed::<Directory, Reference>(text, file, Half::Inline, Half::Ref),
            (false, false) => {
                typed::<Directory, Organization>(text, file, Half::Inline, Half::Inline)
            }
        }?;
        let err = |needle: &str, msg: String| FileError::semantic(file, text, Some(needle), msg);
        if p.version != 1 {
            return Err(err(
                "version",
                format!("unsupported lab file version {}; expected 1", p.version),
            ));
        }
        // Only a lab whose halves are all in `text` (inline or built in) may be remembered: a
        // `file:` half can change on disk between two parses.
        let self_contained = !matches!(p.aad, Half::Ref(Reference { builtin: None, .. }))
            && !matches!(p.exchange, Half::Ref(Reference { builtin: None, .. }))
            && !matches!(farm, Some(Half::Ref(Reference { builtin: None, .. })));
        let directory = match p.aad {
            Half::Inline(d) => {
                mock_aad::labfile::check(&d).map_err(|e| e.into_file_error(file, text))?;
                d
            }
            Half::Ref(Reference {
                builtin: Some(b), ..
            }) => {
                builtin_half(&b, file, text)?;
                mock_aad::config::contoso_directory()
            }
            Half::Ref(Reference { file: f, .. }) => {
                let f = f.unwrap_or_default();
                let path = referenced(&f, file, text, base_dir)?;
                let t = read(&path, &f, file, text)?;
                mock_aad::labfile::parse_str(&t, &path.display().to_string())?
            }
        };
        let organization = match p.exchange {
            Half::Inline(o) => {
                mock_exchange::labfile::check(&o, text, file, false)?;
                o
            }
            Half::Ref(Reference {
                builtin: Some(b), ..
            }) => {
                builtin_half(&b, file, text)?;
                mock_exchange::contoso_organization()
            }
            Half::Ref(Reference { file: f, .. }) => {
                let f = f.unwrap_or_default();
                let path = referenced(&f, file, text, base_dir)?;
                // Existence first, so a missing file is reported where it is named.
                read(&path, &f, file, text)?;
                mock_exchange::labfile::load(&path)?
            }
        };
        let adfs = match farm {
            None => None,
            Some(Half::Inline(f)) => {
                mock_adfs::labfile::check(&f).map_err(|pr| {
                    FileError::semantic(file, text, pr.near.as_deref(), pr.message)
                })?;
                Some(f)
            }
            Some(Half::Ref(Reference {
                builtin: Some(b), ..
            })) => {
                builtin_half(&b, file, text)?;
                Some(mock_adfs::config::contoso_farm())
            }
            Some(Half::Ref(Reference { file: f, .. })) => {
                let f = f.unwrap_or_default();
                let path = referenced(&f, file, text, base_dir)?;
                read(&path, &f, file, text)?;
                Some(mock_adfs::labfile::load(&path)?)
            }
        };
        let lab = LabFile {
            name: p.name,
            directory,
            organization,
            adfs,
            network: p.network,
        };
        check_wiring(&lab, text, file)?;
        if self_contained {
            parsed::put(text, file, &lab);
        }
        Ok(lab)
    }

    /// The routing table the network uses.
    pub fn host_table(&self) -> HostTable {
        HostTable {
            namespaces: self
                .network
                .exchange_namespaces
                .iter()
                .map(|n| n.to_ascii_lowercase())
                .collect(),
            servers: self
                .organization
                .servers
                .iter()
                .map(|s| (s.name.clone(), s.fqdn.to_ascii_lowercase()))
                .collect(),
            adfs: self.adfs.as_ref().map(|f| f.host.to_ascii_lowercase()),
        }
    }

    /// The devices the file starts with.
    pub fn devices(&self) -> Devices {
        Devices::from_list(&self.network.devices)
    }
}

fn builtin_half(name: &str, file: &str, text: &str) -> Result<(), FileError> {
    if BUILTIN_HALVES.iter().any(|b| b.eq_ignore_ascii_case(name)) {
        return Ok(());
    }
    let mut e = FileError::semantic(
        file,
        text,
        Some(&format!("builtin: {name}")),
        format!(
            "no built-in half named '{name}' (built-in: {})",
            BUILTIN_HALVES.join(", ")
        ),
    );
    if let Some(n) = lab_kit::labfile::nearest(name, &BUILTIN_HALVES) {
        e = e.with_hint(format!("did you mean `{n}`?"));
    }
    Err(e)
}

fn referenced(
    f: &str,
    file: &str,
    text: &str,
    base_dir: Option<&Path>,
) -> Result<PathBuf, FileError> {
    match base_dir {
        Some(d) => Ok(d.join(f)),
        None => Err(FileError::semantic(
            file,
            text,
            Some(f),
            format!("'{f}': file references need a lab file on disk"),
        )),
    }
}

fn read(path: &Path, f: &str, file: &str, text: &str) -> Result<String, FileError> {
    std::fs::read_to_string(path).map_err(|e| {
        FileError::semantic(
            file,
            text,
            Some(f),
            format!("cannot read '{}': {e}", path.display()),
        )
    })
}

fn url_host(u: &str) -> Option<String> {
    url::Url::parse(u)
        .ok()
        .and_then(|u| u.host_str().map(str::to_ascii_lowercase))
}

/// The checks that span the halves: names the network must route, Azure AD reachable where
/// Exchange looks for it, devices that fit the lab.
pub fn check_wiring(lab: &LabFile, text: &str, file: &str) -> Result<(), FileError> {
    let err = |needle: &str, msg: String| FileError::semantic(file, text, Some(needle), msg);
    let table = lab.host_table();
    let mut seen = Vec::new();
    for n in &table.namespaces {
        if url::Host::parse(n).is_err() || n.contains(['/', ':']) {
            return Err(err(n, format!("'{n}' is not a host name")));
        }
        if is_aad_host(n) {
            return Err(err(
                n,
                format!("'{n}' is an Azure AD host; it cannot be an Exchange namespace"),
            ));
        }
        if seen.contains(n) {
            return Err(err(n, format!("Exchange namespace '{n}' is listed twice")));
        }
        seen.push(n.clone());
    }
    if let Some(host) = &table.adfs {
        let taken = if is_aad_host(host) {
            Some("an Azure AD host")
        } else if table.is_namespace(host) {
            Some("an Exchange namespace")
        } else if table.server_by_fqdn(host).is_some() {
            Some("an Exchange server's FQDN")
        } else {
            None
        };
        if let Some(what) = taken {
            let raw = lab.adfs.as_ref().map(|f| f.host.as_str()).unwrap_or(host);
            return Err(err(
                &format!("host: {raw}"),
                format!("the ADFS farm's host '{host}' is {what}; give the farm a name of its own (e.g. adfs.contoso.com)"),
            ));
        }
    }
    let names: Vec<&str> = table.namespaces.iter().map(String::as_str).collect();
    for s in &lab.organization.servers {
        for v in &s.vdirs {
            for u in [&v.internal_url, &v.external_url].into_iter().flatten() {
                let Some(h) = url_host(u) else {
                    return Err(err(u, format!("'{u}' is not a URL")));
                };
                if !table.is_namespace(&h) && table.server_by_fqdn(&h).is_none() {
                    let mut e = err(
                        u,
                        format!(
                            "{} on {} uses host '{h}', which the lab network does not route; add it to network.exchange_namespaces",
                            v.name, s.name
                        ),
                    );
                    if let Some(n) = lab_kit::labfile::nearest(&h, &names) {
                        e = e.with_hint(format!("did you mean `{n}`?"));
                    }
                    return Err(e);
                }
            }
        }
    }
    for a in &lab.organization.auth_servers {
        if a.kind != AuthServerType::AzureAD {
            continue;
        }
        let url = &a.auth_metadata_url;
        let Ok(parsed) = url::Url::parse(url) else {
            return Err(err(
                url,
                format!("AuthServer '{}': '{url}' is not a URL", a.name),
            ));
        };
        let host = parsed.host_str().unwrap_or_default().to_ascii_lowercase();
        if !is_aad_host(&host) {
            return Err(err(
                url,
                format!(
                    "AuthServer '{}' (AzureAD) reads its metadata from '{host}', which is not an Azure AD host ({})",
                    a.name,
                    super::devices::AAD_HOSTS.join(", ")
                ),
            ));
        }
        let tenant = parsed
            .path_segments()
            .and_then(|mut s| s.next())
            .unwrap_or_default()
            .to_ascii_lowercase();
        let known = lab.directory.tenants.iter().any(|t| {
            t.tid.to_string().eq_ignore_ascii_case(&tenant)
                || t.domains
                    .iter()
                    .any(|d| d.name.eq_ignore_ascii_case(&tenant))
        });
        if !known {
            return Err(err(
                url,
                format!(
                    "AuthServer '{}' reads metadata for tenant '{tenant}', which the lab's Azure AD directory does not have",
                    a.name
                ),
            ));
        }
        if let Some(realm) = &a.realm {
            if !lab
                .directory
                .tenants
                .iter()
                .any(|t| t.tid.to_string().eq_ignore_ascii_case(realm))
            {
                return Err(err(
                    realm,
                    format!(
                        "AuthServer '{}' has realm '{realm}', which is no tenant id of the lab's Azure AD directory",
                        a.name
                    ),
                ));
            }
        }
    }
    lab.devices().check(&table).map_err(|e| {
        // Devices live under `network:`; look there first (host names also occur in the halves).
        let start = text.find("\nnetwork:").map(|i| i + 1).unwrap_or(0);
        let (line, column) = lab_kit::labfile::locate(&text[start..], &e.needle)
            .map(|(l, c)| (l + text[..start].lines().count(), c))
            .or_else(|| lab_kit::labfile::locate(text, &e.needle))
            .unwrap_or((0, 0));
        FileError {
            file: file.to_string(),
            line,
            column,
            message: e.message,
            hint: e.hint,
        }
    })
}
