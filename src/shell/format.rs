//! Output formatting: `Format-List`, `Format-Table`, and the default output of a pipeline.
//!
//! The seed prints `Format-List` blocks as `Name : Value` with one space on each side of the
//! colon and no trailing space after an empty value; real PowerShell pads the names to equal
//! width. The lab prints what the seed shows by default ([`ListStyle::Seed`]) and can pad like a
//! console ([`ListStyle::Padded`]). Blocks of several objects are separated by one blank line,
//! and the leading/trailing blank lines PowerShell adds around output are not printed.
//! Property selection takes patterns in order; each pattern (`*url*`, case-insensitive
//! wildcards `*` and `?`) adds the matching properties in the object's own order, once.

use super::objects::{default_view, View};
use super::value::{PsObject, Value};

/// How `Format-List` lays out names and values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ListStyle {
    /// `Name : Value` as the seed shows it.
    #[default]
    Seed,
    /// Names padded to the longest, as a PowerShell console prints them.
    Padded,
}

/// PowerShell `-like` matching: `*`, `?`, `[abc]`, case-insensitive.
pub fn wildcard_match(pattern: &str, text: &str) -> bool {
    wildcard_match_case(pattern, text, false)
}

/// Wildcard matching, case-sensitive when `case` (`-clike`). Linear backtracking to the last
/// `*` (no exponential blow-up on hostile patterns).
pub fn wildcard_match_case(pattern: &str, text: &str, case: bool) -> bool {
    enum Tok {
        Star,
        Any,
        Set(Vec<char>),
        Lit(char),
    }
    let fold = |s: &str| {
        if case {
            s.to_string()
        } else {
            s.to_lowercase()
        }
    };
    let pc: Vec<char> = fold(pattern).chars().collect();
    let t: Vec<char> = fold(text).chars().collect();
    let mut toks = Vec::new();
    let mut i = 0;
    while i < pc.len() {
        match pc[i] {
            '*' => toks.push(Tok::Star),
            '?' => toks.push(Tok::Any),
            '[' => match pc[i + 1..].iter().position(|c| *c == ']') {
                Some(end) => {
                    toks.push(Tok::Set(pc[i + 1..i + 1 + end].to_vec()));
                    i += end + 1;
                }
                None => toks.push(Tok::Lit('[')),
            },
            c => toks.push(Tok::Lit(c)),
        }
        i += 1;
    }
    let one = |tok: &Tok, c: char| match tok {
        Tok::Star => false,
        Tok::Any => true,
        Tok::Set(set) => set.contains(&c),
        Tok::Lit(l) => *l == c,
    };
    let (mut p, mut k) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while k < t.len() {
        if p < toks.len() && one(&toks[p], t[k]) {
            p += 1;
            k += 1;
        } else if p < toks.len() && matches!(toks[p], Tok::Star) {
            star = Some((p, k));
            p += 1;
        } else if let Some((sp, sk)) = star {
            p = sp + 1;
            k = sk + 1;
            star = Some((sp, sk + 1));
        } else {
            return false;
        }
    }
    while p < toks.len() && matches!(toks[p], Tok::Star) {
        p += 1;
    }
    p == toks.len()
}

/// The properties of `o` selected by `patterns` (all when `None`), in pattern order then
/// object order, without repeats.
pub fn select_props<'a>(o: &'a PsObject, patterns: Option<&[String]>) -> Vec<&'a (String, Value)> {
    match patterns {
        None => o.props.iter().collect(),
        Some(pats) => {
            let mut out: Vec<&(String, Value)> = Vec::new();
            for pat in pats {
                for prop in &o.props {
                    if wildcard_match(pat, &prop.0) && !out.iter().any(|x| x.0 == prop.0) {
                        out.push(prop);
                    }
                }
            }
            out
        }
    }
}

/// One object as a `Format-List` block.
pub fn list_block(o: &PsObject, patterns: Option<&[String]>, style: ListStyle) -> String {
    let props = select_props(o, patterns);
    let width = props.iter().map(|p| p.0.chars().count()).max().unwrap_or(0);
    let mut lines = Vec::new();
    for (name, value) in props {
        let shown = value.to_display();
        let name = match style {
            ListStyle::Seed => name.clone(),
            ListStyle::Padded => format!("{name:<width$}"),
        };
        if shown.is_empty() {
            lines.push(format!("{name} :"));
        } else {
            // A value of several lines continues under its first line, as PowerShell aligns it.
            let indent = " ".repeat(name.chars().count() + 3);
            let shown = shown
                .lines()
                .enumerate()
                .map(|(i, l)| match (i, l.trim_end()) {
                    (0, l) => l.to_string(),
                    (_, "") => String::new(),
                    (_, l) => format!("{indent}{l}"),
                })
                .collect::<Vec<_>>()
                .join("\n");
            lines.push(format!("{name} : {shown}"));
        }
    }
    lines.join("\n")
}

/// `Format-List` over several values (non-objects print as themselves).
pub fn format_list(values: &[Value], patterns: Option<&[String]>, style: ListStyle) -> String {
    let blocks: Vec<String> = values
        .iter()
        .filter(|v| !matches!(v, Value::Null))
        .map(|v| match v {
            Value::Object(o) => list_block(o, patterns, style),
            other => other.to_display(),
        })
        .collect();
    blocks.join("\n\n")
}

/// `Format-Table` with the given columns (wildcards allowed).
pub fn format_table(values: &[Value], patterns: Option<&[String]>, headers: bool) -> String {
    let objects: Vec<&PsObject> = values
        .iter()
        .filter_map(|v| match v {
            Value::Object(o) => Some(o),
            _ => None,
        })
        .collect();
    let Some(first) = objects.first() else {
        return values
            .iter()
            .map(Value::to_display)
            .collect::<Vec<_>>()
            .join("\n");
    };
    let columns: Vec<String> = match patterns {
        Some(p) => select_props(first, Some(p))
            .into_iter()
            .map(|(n, _)| n.clone())
            .collect(),
        None => match default_view(&first.type_name) {
            View::Table(cols) => cols.iter().map(|c| c.to_string()).collect(),
            View::List => first.props.iter().map(|(n, _)| n.clone()).collect(),
        },
    };
    let rows: Vec<Vec<String>> = objects
        .iter()
        .map(|o| {
            columns
                .iter()
                .map(|c| o.get(c).map(Value::to_display).unwrap_or_default())
                .collect()
        })
        .collect();
    let widths: Vec<usize> = columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            rows.iter()
                .map(|r| r[i].chars().count())
                .chain(std::iter::once(c.chars().count()))
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: &[String]| {
        let mut s = String::new();
        for (i, cell) in cells.iter().enumerate() {
            if i > 0 {
                s.push(' ');
            }
            s.push_str(&format!("{cell:<w$}", w = widths[i]));
        }
        s.trim_end().to_string()
    };
    let mut out = Vec::new();
    if headers {
        out.push(line(&columns));
        let dashes: Vec<String> = columns
            .iter()
            .map(|c| "-".repeat(c.chars().count()))
            .collect();
        out.push(line(&dashes));
    }
    for r in &rows {
        out.push(line(r));
    }
    out.join("\n")
}

/// What PowerShell prints for values that reach the end of a pipeline unformatted.
pub fn default_output(values: &[Value], style: ListStyle) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut i = 0;
    let flat: Vec<Value> = values
        .iter()
        .flat_map(|v| match v {
            Value::Array(_) | Value::Multi(_) => v.enumerate(),
            other => vec![other.clone()],
        })
        .collect();
    while i < flat.len() {
        match &flat[i] {
            Value::Null => i += 1,
            Value::Object(o) => {
                // a run of objects of the same type shares one table or one list
                let t = o.type_name.clone();
                let mut j = i;
                while j < flat.len() && matches!(&flat[j], Value::Object(x) if x.type_name == t) {
                    j += 1;
                }
                let run = &flat[i..j];
                // objects without a view of their own (Select-Object output, custom objects)
                // print as a table of all properties when they have at most four, else a list
                let generic = t.starts_with("Selected.")
                    || t == "System.Management.Automation.PSCustomObject";
                parts.push(if generic {
                    let names: Vec<String> = o.props.iter().map(|(n, _)| n.clone()).collect();
                    if names.len() <= 4 {
                        format_table(run, Some(&names), true)
                    } else {
                        format_list(run, None, style)
                    }
                } else {
                    match default_view(&t) {
                        View::Table(_) => format_table(run, None, true),
                        View::List => format_list(run, None, style),
                    }
                });
                i = j;
            }
            other => {
                parts.push(other.to_display());
                i += 1;
            }
        }
    }
    parts.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_are_case_insensitive() {
        assert!(wildcard_match("*url*", "InternalNLBBypassUrl"));
        assert!(wildcard_match("server", "Server"));
        assert!(wildcard_match("*auth*", "OAuthAuthentication"));
        assert!(!wildcard_match("*oauth*", "BasicAuthentication"));
        assert!(wildcard_match("Evo?ts", "EvoSts"));
        assert!(wildcard_match("[ab]*", "Basic"));
        assert!(!wildcard_match("[ab]*", "Negotiate"));
        assert!(wildcard_match("*", ""));
        assert!(!wildcard_match("?", ""));
        assert!(wildcard_match("a*b*c", "aXXbYYc"));
        assert!(!wildcard_match("a*b*c", "aXXbYY"));
        assert!(!wildcard_match_case("evo*", "EvoSts", true));
        // hostile patterns stay linear-ish
        let text = "a".repeat(5000);
        assert!(!wildcard_match(&format!("{}b", "*a".repeat(50)), &text));
    }

    #[test]
    fn list_selection_keeps_pattern_then_object_order() {
        let o = PsObject::new("T")
            .with("InternalUrl", "i")
            .with("Server", "EX1")
            .with("ExternalUrl", Value::Null)
            .with("Other", true);
        assert_eq!(
            list_block(
                &o,
                Some(&["server".into(), "*url*".into()]),
                ListStyle::Seed
            ),
            "Server : EX1\nInternalUrl : i\nExternalUrl :"
        );
        assert_eq!(
            list_block(&o, Some(&["*".into()]), ListStyle::Padded),
            "InternalUrl : i\nServer      : EX1\nExternalUrl :\nOther       : True"
        );
    }

    #[test]
    fn table_pads_columns_and_underlines_headers() {
        let a = Value::Object(
            PsObject::new("T")
                .with("Name", "EvoSts")
                .with("Enabled", true),
        );
        let b = Value::Object(
            PsObject::new("T")
                .with("Name", "ADFS")
                .with("Enabled", false),
        );
        assert_eq!(
            format_table(&[a, b], Some(&["Name".into(), "Enabled".into()]), true),
            "Name   Enabled\n----   -------\nEvoSts True\nADFS   False"
        );
    }
}
