//! Parsing YAML lab and scenario files into `deny_unknown_fields` structs with errors a person
//! can act on: `contoso.yaml:14:9: tenants[0].users[0]: unknown field `passwrd`; expected one
//! of `upn`, `oid`, …; did you mean `password`?`.

use std::fmt;
use std::path::Path;

use serde::de::DeserializeOwned;

/// A file that could not be used, with the place and the fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileError {
    pub file: String,
    /// 1-based; 0 when the error has no position (e.g. an empty file).
    pub line: usize,
    /// 1-based; 0 when unknown.
    pub column: usize,
    /// What is wrong, with the path inside the document (`tenants[0].users[2]: …`).
    pub message: String,
    /// How to fix it (`did you mean `password`?`), when known.
    pub hint: Option<String>,
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line > 0 {
            write!(
                f,
                "{}:{}:{}: {}",
                self.file, self.line, self.column, self.message
            )?;
        } else {
            write!(f, "{}: {}", self.file, self.message)?;
        }
        if let Some(h) = &self.hint {
            write!(f, "; {h}")?;
        }
        Ok(())
    }
}

impl std::error::Error for FileError {}

impl FileError {
    /// An error found after parsing (a semantic check), placed at the first line containing
    /// `needle` when given.
    pub fn semantic(
        file: &str,
        text: &str,
        needle: Option<&str>,
        message: impl Into<String>,
    ) -> Self {
        let (line, column) = needle.and_then(|n| locate(text, n)).unwrap_or((0, 0));
        FileError {
            file: file.to_string(),
            line,
            column,
            message: message.into(),
            hint: None,
        }
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

/// Reads a file whole; `kind` names it in the error (`cannot read the lab file: No such file…`).
pub fn read_text(path: &Path, kind: &str) -> Result<String, FileError> {
    std::fs::read_to_string(path).map_err(|e| FileError {
        file: path.display().to_string(),
        line: 0,
        column: 0,
        message: format!("cannot read the {kind}: {e}"),
        hint: None,
    })
}

/// 1-based line and column of the first occurrence of `needle`.
pub fn locate(text: &str, needle: &str) -> Option<(usize, usize)> {
    text.lines()
        .enumerate()
        .find_map(|(i, l)| l.find(needle).map(|c| (i + 1, l[..c].chars().count() + 1)))
}

/// Parses `text` (named `file` in errors) as YAML into `T`.
pub fn parse_yaml<T: DeserializeOwned>(text: &str, file: &str) -> Result<T, FileError> {
    if let Some((line, column)) = too_deep(text) {
        return Err(FileError {
            file: file.to_string(),
            line,
            column,
            message: format!(
                "brackets nested deeper than {MAX_FLOW_DEPTH} levels (`[` and `{{` not closed)"
            ),
            hint: Some(
                "no lab or scenario file needs that; close the brackets opened before this point"
                    .into(),
            ),
        });
    }
    serde_yaml_ng::from_str::<T>(text).map_err(|e| {
        let (line, column) = e
            .location()
            .map(|l| (l.line(), l.column()))
            .unwrap_or((0, 0));
        let mut message = e.to_string();
        // The library appends " at line L column C"; we print the position up front instead.
        if let Some(idx) = message.rfind(" at line ") {
            message.truncate(idx);
        }
        let hint = nearest_hint(&message);
        FileError {
            file: file.to_string(),
            line,
            column,
            message,
            hint,
        }
    })
}

/// Deepest `[`/`{` nesting a file may have. The YAML parser's time grows with the square of the
/// nesting (16,000 levels, 32 KB, took over a second), so deeper files are refused before it
/// sees them.
pub const MAX_FLOW_DEPTH: usize = 64;

/// Where the running count of open `[` and `{` first passes [`MAX_FLOW_DEPTH`], as 1-based
/// line and column; one pass over the text. Brackets inside quoted scalars are counted too:
/// that can only make the count higher, never hide a deep document.
fn too_deep(text: &str) -> Option<(usize, usize)> {
    let (mut depth, mut line, mut col) = (0usize, 1usize, 0usize);
    for ch in text.chars() {
        col += 1;
        match ch {
            '\n' => {
                line += 1;
                col = 0;
            }
            '[' | '{' => {
                depth += 1;
                if depth > MAX_FLOW_DEPTH {
                    return Some((line, col));
                }
            }
            ']' | '}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    None
}

/// For "unknown field `x`, expected one of `a`, `b`" or "unknown variant `x`, expected …",
/// suggests the nearest expected name.
fn nearest_hint(message: &str) -> Option<String> {
    let (kind, rest) = if let Some(i) = message.find("unknown field `") {
        ("field", &message[i + "unknown field `".len()..])
    } else if let Some(i) = message.find("unknown variant `") {
        ("variant", &message[i + "unknown variant `".len()..])
    } else {
        return None;
    };
    let got = rest.split('`').next()?;
    let expected: Vec<&str> = rest
        .split("expected")
        .nth(1)?
        .split('`')
        .enumerate()
        .filter(|(i, _)| i % 2 == 1)
        .map(|(_, s)| s)
        .collect();
    let best = nearest(got, &expected)?;
    let _ = kind;
    Some(format!("did you mean `{best}`?"))
}

/// The candidate closest to `got` (case-insensitive Jaro-Winkler), if it is reasonably close.
pub fn nearest<'a>(got: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let g = got.to_ascii_lowercase();
    candidates
        .iter()
        .map(|c| (strsim::jaro_winkler(&g, &c.to_ascii_lowercase()), *c))
        .filter(|(score, _)| *score >= 0.75)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct User {
        upn: String,
        password: String,
        #[serde(default)]
        mfa: Mfa,
    }

    #[derive(Debug, Default, Deserialize)]
    #[serde(rename_all = "snake_case")]
    #[allow(dead_code)]
    enum Mfa {
        #[default]
        None,
        Required,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Doc {
        users: Vec<User>,
    }

    #[test]
    fn unknown_field_names_place_and_nearest_name() {
        let text = "users:\n  - upn: a@b.com\n    passwrd: x\n";
        let e = parse_yaml::<Doc>(text, "lab.yaml").unwrap_err();
        assert_eq!((e.line, e.column), (3, 5));
        assert_eq!(
            e.to_string(),
            "lab.yaml:3:5: users[0]: unknown field `passwrd`, expected one of `upn`, `password`, `mfa`; did you mean `password`?"
        );
    }

    #[test]
    fn unknown_variant_suggests_nearest() {
        let text = "users:\n  - upn: a@b.com\n    password: x\n    mfa: requird\n";
        let e = parse_yaml::<Doc>(text, "lab.yaml").unwrap_err();
        assert_eq!(e.line, 4);
        assert_eq!(e.hint.as_deref(), Some("did you mean `required`?"));
    }

    #[test]
    fn missing_field_and_syntax_errors_have_positions() {
        let e = parse_yaml::<Doc>("users:\n  - upn: a@b.com\n", "lab.yaml").unwrap_err();
        assert!(e.message.contains("missing field `password`"), "{e}");
        assert!(e.line > 0);
        let e = parse_yaml::<Doc>("users: [\n  - upn: {\n", "lab.yaml").unwrap_err();
        assert!(e.line > 0, "{e}");
        assert!(e.to_string().starts_with("lab.yaml:"));
    }

    #[test]
    fn semantic_errors_locate_the_offending_text() {
        let text = "users:\n  - upn: a@b.com\n  - upn: a@b.com\n";
        let e = FileError::semantic("lab.yaml", text, Some("a@b.com"), "duplicate upn");
        assert_eq!(e.to_string(), "lab.yaml:2:10: duplicate upn");
    }
}

#[cfg(test)]
mod hostile_tests {
    //! Lab and scenario files come from users and trainees: a hostile one gets an error, in
    //! time linear in its size, never a stack overflow or an exponential expansion.
    use super::*;
    use std::collections::BTreeMap;

    type Any = BTreeMap<String, serde_yaml_ng::Value>;

    #[test]
    fn an_alias_bomb_is_refused() {
        let mut doc = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let p = i - 1;
            doc.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        let e = parse_yaml::<Any>(&doc, "bomb.yaml").unwrap_err();
        assert_eq!(e.file, "bomb.yaml");
        assert!(e.message.contains("repetition limit"), "{e}");
    }

    #[test]
    fn deep_nesting_is_refused() {
        for (open, close) in [("[", "]"), ("{a: ", "}")] {
            // Refused before the YAML parser sees it (its time grows with the square of the
            // nesting), at the bracket that goes one level too deep.
            let doc = format!("k: {}1{}\n", open.repeat(100_000), close.repeat(100_000));
            let e = parse_yaml::<Any>(&doc, "deep.yaml").unwrap_err();
            assert_eq!((e.line, e.file.as_str()), (1, "deep.yaml"));
            assert_eq!(e.column, 4 + MAX_FLOW_DEPTH * open.len(), "{e}");
            assert!(e.message.contains("nested deeper than 64"), "{e}");
            // Unclosed brackets count the same.
            let doc = format!("k:\n  - {}\n", "[1, ".repeat(100_000));
            assert!(parse_yaml::<Any>(&doc, "deep.yaml").is_err());
            // Up to the limit the parser's own recursion limit still answers.
            let doc = format!(
                "k: {}1{}\n",
                open.repeat(MAX_FLOW_DEPTH),
                close.repeat(MAX_FLOW_DEPTH)
            );
            let _ = parse_yaml::<Any>(&doc, "deep.yaml");
        }
        // Block nesting, one more indent per level.
        let doc: String = (0..300)
            .map(|i| format!("{}k{i}:\n", " ".repeat(i)))
            .collect();
        let e = parse_yaml::<Any>(&doc, "deep.yaml").unwrap_err();
        assert!(e.message.contains("recursion limit"), "{e}");
    }
}
