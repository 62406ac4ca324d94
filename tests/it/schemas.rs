//! The JSON Schemas of lab and scenario files stay true: the checked-in `schemas/*.schema.json`
//! equal what the code derives today (`UPDATE_SCHEMAS=1 cargo test -p hma-lab --test it schemas`
//! rewrites them), every YAML file in the repository names its schema on its first line, and
//! `hma-lab lint` and the schema agree on every one of those files, the broken fixtures
//! included — except where lint applies a rule a schema cannot state, each listed in
//! [`BEYOND_SCHEMA`] and in the book (reference/schemas.md).

use std::path::{Path, PathBuf};

use hma_lab::schemas::{lint_file, Kind};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The rules lint applies beyond the schema: what each checks, and a text its error carries.
/// A file the schema accepts may fail lint only with one of these errors; a file the schema
/// refuses must fail lint.
const BEYOND_SCHEMA: &[(&str, &str)] = &[
    // mock-aad lab files (and the Azure AD half of a lab file).
    (
        "a PUID is 16 hexadecimal digits (YAML may write it as a number)",
        "is not 16 hexadecimal digits",
    ),
    ("every tenant has its own tid", "duplicate tenant id"),
    (
        "a domain belongs to one tenant and is listed once",
        "is already used by tenants[",
    ),
    (
        "a federated domain has a `federation` block",
        "has no `federation` block",
    ),
    ("every user has its own oid", "duplicate object id"),
    (
        "UPNs are unique within a tenant, without case",
        "duplicate user",
    ),
    ("a UPN is user@domain", "is not of the form user@domain"),
    (
        "a UPN's domain is a verified domain of its tenant",
        "is not a verified domain of tenant",
    ),
    (
        "an application appears once per tenant",
        "duplicate application",
    ),
    (
        "a granted resource is an application of the tenant",
        "in this tenant",
    ),
    (
        "conditional access rule names are unique",
        "duplicate rule name",
    ),
    // scenario files.
    (
        "a cmdlet line parses and names a known cmdlet and parameters",
        ": cmdlet `",
    ),
    (
        "`lab:` names a built-in lab or a lab file that exists",
        "no built-in lab named",
    ),
    ("the scenario's lab file is itself valid", "lab of "),
];

#[test]
fn schemas_are_up_to_date() {
    let update = std::env::var_os("UPDATE_SCHEMAS").is_some();
    let mut stale = Vec::new();
    for kind in Kind::ALL {
        let path = repo().join("schemas").join(kind.file_name());
        let want = kind.render();
        if update {
            std::fs::write(&path, &want).expect("write schema");
            continue;
        }
        let have = std::fs::read_to_string(&path).unwrap_or_default();
        if have != want {
            stale.push(path.display().to_string());
        }
    }
    assert!(
        stale.is_empty(),
        "stale schemas (UPDATE_SCHEMAS=1 cargo test -p hma-lab --test it schemas): {stale:?}"
    );
}

/// Every `*.yaml`/`*.yml` file of the repository (build output and installed clients aside).
fn yaml_files() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let p = e.path();
            let name = e.file_name().to_string_lossy().into_owned();
            if p.is_dir() {
                let skip = name.starts_with('.')
                    || ["target", "node_modules", "book"].contains(&name.as_str());
                if !skip {
                    walk(&p, out);
                }
            } else if name.ends_with(".yaml") || name.ends_with(".yml") {
                out.push(p);
            }
        }
    }
    let mut out = Vec::new();
    walk(&repo(), &mut out);
    out.sort();
    out
}

#[test]
fn every_yaml_file_names_its_schema() {
    let files = yaml_files();
    assert!(files.len() > 100, "found only {} YAML files", files.len());
    let mut wrong = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).expect("read");
        let first = text.lines().next().unwrap_or_default();
        let Some(target) = first.strip_prefix(lab_kit::schema::MODELINE) else {
            wrong.push(format!(
                "{}: first line is not a schema modeline",
                f.display()
            ));
            continue;
        };
        let schema = f.parent().unwrap_or(Path::new(".")).join(target.trim());
        let exists = schema.canonicalize().ok()
            == repo()
                .join("schemas")
                .join(schema.file_name().unwrap_or_default())
                .canonicalize()
                .ok()
            && schema.is_file();
        if !exists || Kind::of_text(&text).is_none() {
            wrong.push(format!(
                "{}: `{}` is not a file under schemas/",
                f.display(),
                target.trim()
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

fn validator(kind: Kind) -> jsonschema::Validator {
    let schema = serde_json::to_value(kind.schema()).expect("schema JSON");
    jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("a valid schema")
}

#[test]
fn lint_and_schema_agree_on_every_yaml_file() {
    let validators: Vec<(Kind, jsonschema::Validator)> =
        Kind::ALL.into_iter().map(|k| (k, validator(k))).collect();
    let mut disagree = Vec::new();
    let (mut valid, mut invalid) = (0, 0);
    for f in yaml_files() {
        let text = std::fs::read_to_string(&f).expect("read");
        let kind = Kind::of_text(&text).expect("modeline (checked above)");
        let v = &validators.iter().find(|(k, _)| *k == kind).expect("kind").1;
        let lint = lint_file(&f);
        let instance: Result<serde_json::Value, _> = serde_yaml_ng::from_str(&text);
        let schema_errors: Vec<String> = match &instance {
            Ok(i) => v
                .iter_errors(i)
                .map(|e| format!("{}: {e}", e.instance_path()))
                .collect(),
            Err(e) => vec![format!("not YAML: {e}")],
        };
        let shown = f.strip_prefix(repo()).unwrap_or(&f).display().to_string();
        match (&lint, schema_errors.is_empty()) {
            (Ok(()), true) => valid += 1,
            (Err(_), false) => invalid += 1,
            (Ok(()), false) => disagree.push(format!(
                "{shown}: lint accepts it, the {} schema refuses it: {}",
                kind.name(),
                schema_errors.join("; ")
            )),
            (Err(e), true) => {
                let msg = e.to_string();
                if BEYOND_SCHEMA.iter().any(|(_, needle)| msg.contains(needle)) {
                    invalid += 1;
                } else {
                    disagree.push(format!(
                        "{shown}: the {} schema accepts it, lint refuses it: {msg}",
                        kind.name()
                    ));
                }
            }
        }
    }
    assert!(disagree.is_empty(), "{}", disagree.join("\n"));
    // The corpus has both kinds of file, so neither verdict is vacuous.
    assert!(
        valid > 50 && invalid > 10,
        "valid {valid}, invalid {invalid}"
    );
}

/// The hand-written parsers (one kind per map, durations, client profiles, lab halves) and the
/// schemas they describe give the same verdict on variations of shipped files, both ways.
#[test]
fn hand_written_parsers_and_their_schemas_agree() {
    let happy = "scenarios/happy-path.yaml";
    let lab = "scenarios/labs/contoso-e2010-forced.yaml";
    // (file, text replaced, replacement, both accept?)
    let cases: &[(&str, &str, &str, bool)] = &[
        (happy, "  - client: outlook-2016\n    user: GregT@contoso.com\n", "  - client: outlook-2016\n    user: GregT@contoso.com\n  - clock: { advance: 2h }\n  - clock: { advance: 90 }\n  - cmdlet: iisreset\n    clock: ~\n", true),
        (happy, "title: HMA enabled", "title: 12", true),
        (happy, "    user: GregT@contoso.com\n", "    user: GregT@contoso.com\n    action: sync\n    settings: { EnableADAL: 1 }\n", true),
        (happy, "    user: GregT@contoso.com\n", "", false),
        (happy, "  - client: outlook-2016\n", "  - client: outlook-2106\n", false),
        (happy, "    user: GregT@contoso.com\n", "    user: GregT@contoso.com\n    cmdlet: iisreset\n", false),
        (happy, "  - client: outlook-2016\n    user: GregT@contoso.com\n", "  - cmdlet: iisreset\n    user: GregT@contoso.com\n", false),
        (happy, "  - client: outlook-2016\n    user: GregT@contoso.com\n", "  - clock: { advance: 2 weeks }\n", false),
        (happy, "  - client: outlook-2016\n    user: GregT@contoso.com\n", "  - clock: { advance: -5 }\n", false),
        (happy, "  - claim: { name: upn, contains: GregT@contoso.com }\n", "  - claim: { name: upn, contains: GregT@contoso.com }\n    status: 200\n", false),
        (happy, "  - claim: { name: upn, contains: GregT@contoso.com }\n", "  - claim: { name: upn, contains: GregT@contoso.com }\n    step: 0\n", true),
        (happy, "  - cmdlet: iisreset\n", "  - network: { client_segment: { blocked: [] }, certificate: { host: a, state: valid } }\n", false),
        (happy, "  - cmdlet: iisreset\n", "  - network: { client_segment: { blocked: [] } }\n", true),
        (happy, "version: 1", "version: 2", false),
        (lab, "exchange: { file: contoso-e2010-forced.exchange.yaml }", "exchange: { builtin: contoso }", true),
        (lab, "exchange: { file: contoso-e2010-forced.exchange.yaml }", "exchange: { builtin: contoso, file: x.yaml }", false),
        (lab, "exchange: { file: contoso-e2010-forced.exchange.yaml }", "exchange: { }", false),
        (lab, "exchange: { file: contoso-e2010-forced.exchange.yaml }", "exchange: contoso", false),
    ];
    let dir = lab_kit::testkit::temp_dir("schema-agree");
    let mut wrong = Vec::new();
    for (i, (file, from, to, accept)) in cases.iter().enumerate() {
        let text = std::fs::read_to_string(repo().join(file)).expect("read");
        assert!(text.contains(from), "case {i}: `{from}` not in {file}");
        let text = text.replacen(from, to, 1);
        let kind = Kind::of_text(&text).expect("modeline");
        // Same stem (a scenario's name is its file stem), a directory per case.
        let case_dir = dir.join(i.to_string());
        std::fs::create_dir_all(&case_dir).expect("mkdir");
        let path = case_dir.join(Path::new(file).file_name().expect("file name"));
        std::fs::write(&path, &text).expect("write");
        let lint = lint_file(&path);
        let instance: serde_json::Value = serde_yaml_ng::from_str(&text).expect("YAML");
        let schema_ok = validator(kind).is_valid(&instance);
        if lint.is_ok() != *accept || schema_ok != *accept {
            wrong.push(format!(
                "case {i} ({to:?}): expected {}, lint {lint:?}, schema {}",
                if *accept { "valid" } else { "invalid" },
                if schema_ok { "valid" } else { "invalid" },
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
