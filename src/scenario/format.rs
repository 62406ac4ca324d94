//! The scenario file format, version 1: the file ([`Scenario`]), reading and validating it, and
//! finding scenario files.
//!
//! A scenario is YAML read with `lab_kit::parse_yaml` into `deny_unknown_fields` structs, so a
//! misspelt field or expectation kind is reported at its file:line:col with the nearest valid
//! name. What a file's sections hold is in their own modules — steps and actions in
//! [`super::steps`], expectations in [`super::checks`] — each read as maps with one "kind" key
//! so serde places those errors too. What needs the whole file — cmdlet lines (linted with the
//! shell's parser, the error placed at the cmdlet's own line and column), the lab reference, the
//! file stem, the twin rule — is checked after parsing, in [`validate`].

use std::fmt;
use std::path::{Path, PathBuf};

use lab_kit::FileError;
use serde::Deserialize;

use super::checks::{Check, Expectation};
use super::steps::{Action, Step};

/// One scenario file.
// The schema carries the `fix` / `demonstrates` rule `validate` enforces: a scenario with `fix`
// has no `demonstrates`; one without `fix` has `demonstrates`, a `twin` and no `exercise`.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(extend(
    "if" = { "required": ["fix"], "properties": { "fix": { "type": "array" } } },
    "then" = { "not": { "required": ["demonstrates"] } },
    "else" = {
        "required": ["demonstrates", "twin"],
        "properties": {
            "demonstrates": { "type": "string", "pattern": "\\S" },
            "twin": { "type": "array" }
        },
        "not": { "required": ["exercise"] }
    }
))]
pub struct Scenario {
    #[schemars(extend("const" = 1))]
    pub version: u32,
    pub name: String,
    #[serde(default)]
    pub title: String,
    /// The field guide section it reproduces (exact heading text).
    #[serde(default)]
    pub guide: String,
    /// A built-in lab name, or a path relative to the scenario file.
    pub lab: String,
    #[serde(default)]
    pub given: Vec<Action>,
    pub when: Vec<Action>,
    #[serde(default)]
    pub then: Vec<Expectation>,
    #[serde(default)]
    pub fix: Option<Vec<Action>>,
    #[serde(default)]
    pub after_fix: Vec<Expectation>,
    #[serde(default)]
    pub twin: Option<Vec<Action>>,
    /// What a scenario without `fix` shows working, in one sentence: the reason it has nothing
    /// to fix (a mechanism the lab reproduces, broken by nobody). Required exactly when `fix`
    /// is absent; such a scenario needs a `twin` and cannot be an `exercise`.
    #[serde(default)]
    pub demonstrates: Option<String>,
    /// Training metadata: the scenario is an `hma-lab exercise` ([`super::exercise`]).
    #[serde(default)]
    pub exercise: Option<super::exercise::ExerciseMeta>,
}

/// A parsed, validated scenario and where it came from.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub path: PathBuf,
    pub scenario: Scenario,
    /// The lab to start: a built-in name or a resolved path.
    pub lab: LabRef,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LabRef {
    Builtin(String),
    File(PathBuf),
}

impl fmt::Display for LabRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LabRef::Builtin(n) => write!(f, "{n}"),
            LabRef::File(p) => write!(f, "{}", p.display()),
        }
    }
}

/// Reads, parses and validates a scenario file.
pub fn load(path: &Path) -> Result<Loaded, FileError> {
    let name = path.display().to_string();
    let text = lab_kit::labfile::read_text(path, "scenario file")?;
    parse(
        &text,
        &name,
        path.parent(),
        path.file_stem().and_then(|s| s.to_str()),
    )
}

/// Parses and validates scenario text named `file` in errors; `dir` resolves a lab path and
/// `stem` (when given) must equal `name`.
pub fn parse(
    text: &str,
    file: &str,
    dir: Option<&Path>,
    stem: Option<&str>,
) -> Result<Loaded, FileError> {
    let scenario: Scenario = lab_kit::parse_yaml(text, file).map_err(|e| place_value(e, text))?;
    let lab = validate(&scenario, text, file, dir, stem)?;
    Ok(Loaded {
        path: PathBuf::from(file),
        scenario,
        lab,
    })
}

/// serde places an error about a value (an unknown client profile, a bad duration) at the start
/// of the map holding it; move it onto the value itself when it is found from that line on.
fn place_value(mut e: FileError, text: &str) -> FileError {
    let value = ["unknown variant `", "invalid duration `"]
        .iter()
        .find_map(|p| e.message.split_once(p).map(|(_, r)| r))
        .and_then(|r| r.split('`').next())
        .map(str::to_string);
    if let Some(v) = value.filter(|v| !v.is_empty()) {
        if e.line > 0 {
            if let Some((l, c)) = locate_from(text, &v, e.line) {
                e.line = l;
                e.column = c;
            }
        }
    }
    e
}

/// The checks that need the whole file.
pub fn validate(
    s: &Scenario,
    text: &str,
    file: &str,
    dir: Option<&Path>,
    stem: Option<&str>,
) -> Result<LabRef, FileError> {
    let err = |needle: Option<&str>, msg: String| FileError::semantic(file, text, needle, msg);
    if s.version != 1 {
        return Err(err(
            Some("version:"),
            format!("version: unsupported version {}, expected 1", s.version),
        ));
    }
    if let Some(stem) = stem {
        if stem != s.name {
            return Err(err(
                Some("name:"),
                format!("name: `{}` differs from the file name `{stem}`", s.name),
            )
            .with_hint(format!(
                "name the file `{}.yaml` or set `name: {stem}`",
                s.name
            )));
        }
    }
    if s.when.is_empty() {
        return Err(err(
            Some("when:"),
            "when: at least one action is needed".into(),
        ));
    }
    // Lab reference.
    let lab = if s.lab.contains('/') || s.lab.ends_with(".yaml") || s.lab.ends_with(".yml") {
        let p = dir
            .map(|d| d.join(&s.lab))
            .unwrap_or_else(|| PathBuf::from(&s.lab));
        if !p.is_file() {
            return Err(err(
                Some("lab:"),
                format!("lab: no lab file at {}", p.display()),
            ));
        }
        // The lab file is checked too; its error names its own file and place.
        crate::lab::LabFile::load(&p).map_err(|mut e| {
            e.message = format!("lab of {file}: {}", e.message);
            e
        })?;
        LabRef::File(p)
    } else {
        crate::lab::LabFile::builtin(&s.lab).map_err(|e| {
            let mut fe = err(Some("lab:"), format!("lab: {}", e.message));
            fe.hint = e.hint;
            fe
        })?;
        LabRef::Builtin(s.lab.clone())
    };
    // Cmdlet lines, in file order.
    let mut from_line = 0usize;
    // (line, full lint): set-up lines must name real cmdlets and parameters; a `cmdlet` check
    // may assert PowerShell's own error, so its line only has to parse.
    let mut cmdlets: Vec<(&str, bool)> = Vec::new();
    fn step_lines<'a>(steps: &'a [Action], out: &mut Vec<(&'a str, bool)>) {
        for a in steps {
            if let Action::Step(Step::Cmdlet(c)) = a {
                out.push((c.as_str(), true));
            }
        }
    }
    fn check_lines<'a>(list: &'a [Expectation], out: &mut Vec<(&'a str, bool)>) {
        for e in list {
            if let Check::Cmdlet(c) = &e.check {
                out.push((c.run.as_str(), false));
            }
        }
    }
    // In the usual file order, so each is found after the one before.
    step_lines(&s.given, &mut cmdlets);
    step_lines(&s.when, &mut cmdlets);
    check_lines(&s.then, &mut cmdlets);
    step_lines(s.fix.as_deref().unwrap_or_default(), &mut cmdlets);
    check_lines(&s.after_fix, &mut cmdlets);
    step_lines(s.twin.as_deref().unwrap_or_default(), &mut cmdlets);
    for (line, full) in cmdlets {
        let here = locate_from(text, line, from_line).or_else(|| locate_from(text, line, 1));
        if let Some((l, _)) = here {
            from_line = l;
        }
        let checked = if full {
            crate::shell::lint(line)
        } else {
            crate::shell::parser::parse_line(line).map(drop)
        };
        if let Err(e) = checked {
            let (l, c) = match here {
                Some((l, c)) => {
                    let stripped_off = line.chars().count()
                        - crate::shell::parser::strip_prompt(line).chars().count();
                    (l, c + stripped_off + e.column.saturating_sub(1))
                }
                None => (0, 0),
            };
            let mut fe = FileError {
                file: file.to_string(),
                line: l,
                column: c,
                message: format!("cmdlet `{line}`: {}", e.message),
                hint: e.hint.clone(),
            };
            if fe.hint.is_none() {
                fe.hint = Some(
                    "the line must parse as PowerShell and name a known cmdlet and its parameters"
                        .into(),
                );
            }
            return Err(fe);
        }
    }
    // Header and text matchers need a condition; `step` must exist.
    for (section, list) in [("then", &s.then), ("after_fix", &s.after_fix)] {
        for e in list {
            if let Some(st) = e.step {
                if st >= s.when.len() {
                    return Err(err(
                        Some(&format!("step: {st}")),
                        format!(
                            "{section}: `step: {st}` but `when` has {} action(s) (0-based)",
                            s.when.len()
                        ),
                    ));
                }
            }
            let shape = match &e.check {
                Check::Header(h) => h.check_shape(),
                Check::Exchange(x) => x.header.as_ref().map_or(Ok(()), |h| h.check_shape()),
                Check::NoExchange(x) if x.is_empty() => Err(
                    "no_exchange needs at least one condition (to, scheme, url_contains, …): an absence of any exchange at all is not a check"
                        .into(),
                ),
                Check::NoExchange(x) => x.header.as_ref().map_or(Ok(()), |h| h.check_shape()),
                Check::Location(t) | Check::Body(t) if t.is_empty() => {
                    Err("a text matcher needs equals, contains, not_contains or starts_with".into())
                }
                Check::Claim(c)
                    if c.equals.is_none() && c.contains.is_none() && c.absent.is_none() =>
                {
                    Err(format!(
                        "claim `{}` needs equals, contains or absent",
                        c.name
                    ))
                }
                Check::Cmdlet(c)
                    if c.output.is_none() && c.contains.is_none() && c.error.is_none() =>
                {
                    Err(format!(
                        "cmdlet check `{}` needs output, contains or error",
                        c.run
                    ))
                }
                _ => Ok(()),
            };
            if let Err(m) = shape {
                // Placed on the expectation's own key when it can be found, else on the section.
                let at = match &e.check {
                    Check::NoExchange(_) => "no_exchange",
                    _ => section,
                };
                return Err(err(Some(at), format!("{section}: {m}")));
            }
        }
    }
    if s.fix.is_some() && s.after_fix.is_empty() {
        return Err(err(
            Some("fix:"),
            "after_fix: a scenario with `fix` needs `after_fix` expectations".into(),
        ));
    }
    check_demonstrates(s, &err)?;
    if s.then.is_empty() {
        return Err(err(
            Some("then:"),
            "then: at least one expectation is needed".into(),
        ));
    }
    if let Some(m) = &s.exercise {
        let at = |needle: &str, msg: String| {
            // The field inside `exercise:` when it is written there, else the section.
            let from = locate_from(text, "exercise:", 1).map_or(1, |(l, _)| l);
            match locate_from(text, needle, from) {
                Some((line, column)) => FileError {
                    file: file.to_string(),
                    line,
                    column,
                    message: msg,
                    hint: None,
                },
                None => err(Some("exercise:"), msg),
            }
        };
        super::exercise::validate(m, s.fix.is_some(), s.after_fix.len(), &at)?;
    }
    Ok(lab)
}

/// A scenario has a `fix`, or says with `demonstrates` what working mechanism it shows (and
/// then needs a `twin`, the only thing that makes it fail, and cannot be an exercise).
fn check_demonstrates(
    s: &Scenario,
    err: &dyn Fn(Option<&str>, String) -> FileError,
) -> Result<(), FileError> {
    let demonstrates = s.demonstrates.as_deref().map(str::trim);
    match (&s.fix, demonstrates) {
        (Some(_), Some(_)) => Err(err(
            Some("demonstrates:"),
            "demonstrates: a scenario with `fix` shows something broken and its remedy, not a working mechanism".into(),
        )
        .with_hint("remove `demonstrates` (its `fix` and `after_fix` say what the scenario shows)")),
        (None, None) => Err(err(
            Some("name:"),
            "the scenario has no `fix`: add `fix` and `after_fix` (what repairs the broken state, and the checks after it), or, when nothing in it is broken, `demonstrates:` with the mechanism it shows working".into(),
        )
        .with_hint("e.g. `demonstrates: Exchange's metadata refresh picking up a rolled signing key`")),
        (None, Some("")) => Err(err(
            Some("demonstrates:"),
            "demonstrates: empty; say in one sentence what mechanism the scenario shows working".into(),
        )),
        (None, Some(_)) if s.twin.is_none() => Err(err(
            Some("demonstrates:"),
            "the scenario has no twin: a scenario that demonstrates a working mechanism needs an explicit `twin` (what breaks it), so it cannot pass vacuously".into(),
        )
        .with_hint("add `twin:` with the steps that break the mechanism")),
        (None, Some(_)) if s.exercise.is_some() => Err(err(
            Some("exercise:"),
            "exercise: a scenario that demonstrates a working mechanism has nothing for a trainee to fix; an exercise needs `fix` and `after_fix`".into(),
        )),
        _ => Ok(()),
    }
}

/// 1-based (line, column) of the first occurrence of `needle` at or after 1-based line `from`.
fn locate_from(text: &str, needle: &str, from: usize) -> Option<(usize, usize)> {
    let probe: String = needle.chars().take(60).collect();
    let probe = probe.trim();
    if probe.is_empty() {
        return None;
    }
    text.lines()
        .enumerate()
        .skip(from.saturating_sub(1))
        .find_map(|(i, l)| l.find(probe).map(|c| (i + 1, l[..c].chars().count() + 1)))
}

/// Every `*.yaml` under `paths` (directories recursively, `labs/` skipped), sorted.
pub fn discover(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            walk(p, &mut out).map_err(|e| format!("{}: {e}", p.display()))?;
        } else if p.is_file() {
            out.push(p.clone());
        } else {
            return Err(format!("{}: no such file or directory", p.display()));
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.path());
    for e in entries {
        let p = e.path();
        if p.is_dir() {
            if p.file_name().is_some_and(|n| n == "labs") {
                continue;
            }
            walk(&p, out)?;
        } else if p.extension().is_some_and(|x| x == "yaml") {
            out.push(p);
        }
    }
    Ok(())
}
