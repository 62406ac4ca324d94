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
const BEYOND_SCHEMA: &[(&str, &str)] = &[];

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
            wrong.push(format!("{}: first line is not a schema modeline", f.display()));
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
    assert!(valid > 50 && invalid > 10, "valid {valid}, invalid {invalid}");
}
