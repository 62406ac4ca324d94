//! A line diff for test failures: what a person needs to see when a golden file or a long text
//! differs — the changed lines with three lines of context and their line numbers, not two
//! multi-kilobyte strings side by side.
//!
//! A longest-common-subsequence table over the lines between the common head and tail: exact and
//! simple, and golden files are small. When the differing middle is too big for the table the
//! whole middle is shown as removed then added, which is still a correct (if longer) diff.

use std::fmt::Write;

/// Lines of context around each change.
const CONTEXT: usize = 3;
/// Largest LCS table (cells) computed; beyond it the middle is shown as replaced wholesale.
const MAX_CELLS: usize = 4_000_000;
/// Most diff lines printed; the rest are counted.
const MAX_SHOWN: usize = 300;

/// One line of a diff.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Line<'a> {
    /// In both, unchanged.
    Same(&'a str),
    /// Only in the expected (old) text.
    Gone(&'a str),
    /// Only in the actual (new) text.
    New(&'a str),
}

/// The line-by-line edit from `old` to `new`.
pub fn lines<'a>(old: &'a str, new: &'a str) -> Vec<Line<'a>> {
    let a: Vec<&str> = old.lines().collect();
    let b: Vec<&str> = new.lines().collect();
    let head = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let tail = a[head..]
        .iter()
        .rev()
        .zip(b[head..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let (ma, mb) = (&a[head..a.len() - tail], &b[head..b.len() - tail]);
    let mut out: Vec<Line> = a[..head].iter().map(|l| Line::Same(l)).collect();
    if (ma.len() + 1).saturating_mul(mb.len() + 1) > MAX_CELLS {
        out.extend(ma.iter().map(|l| Line::Gone(l)));
        out.extend(mb.iter().map(|l| Line::New(l)));
    } else {
        middle(ma, mb, &mut out);
    }
    out.extend(a[a.len() - tail..].iter().map(|l| Line::Same(l)));
    out
}

/// The edit between two slices through the table of common-subsequence lengths of their suffixes.
fn middle<'a>(a: &[&'a str], b: &[&'a str], out: &mut Vec<Line<'a>>) {
    let w = b.len() + 1;
    let mut len = vec![0u32; (a.len() + 1) * w];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            len[i * w + j] = if a[i] == b[j] {
                len[(i + 1) * w + j + 1] + 1
            } else {
                len[(i + 1) * w + j].max(len[i * w + j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        if a[i] == b[j] {
            out.push(Line::Same(a[i]));
            (i, j) = (i + 1, j + 1);
        } else if len[(i + 1) * w + j] >= len[i * w + j + 1] {
            out.push(Line::Gone(a[i]));
            i += 1;
        } else {
            out.push(Line::New(b[j]));
            j += 1;
        }
    }
    out.extend(a[i..].iter().map(|l| Line::Gone(l)));
    out.extend(b[j..].iter().map(|l| Line::New(l)));
}

/// A readable report of how `actual` differs from `expected`: hunks headed by the line numbers in
/// each text, `-` for expected-only lines, `+` for actual-only lines, and a note when only the
/// final newline differs. Lines with trailing blanks or control characters are shown quoted so
/// the difference can be seen.
pub fn render(expected: &str, actual: &str) -> String {
    let ops = lines(expected, actual);
    let changed: Vec<usize> = (0..ops.len())
        .filter(|&k| !matches!(ops[k], Line::Same(_)))
        .collect();
    let mut out = String::new();
    let (mut old_no, mut new_no) = (Vec::new(), Vec::new());
    let (mut o, mut n) = (1usize, 1usize);
    for op in &ops {
        old_no.push(o);
        new_no.push(n);
        match op {
            Line::Same(_) => (o, n) = (o + 1, n + 1),
            Line::Gone(_) => o += 1,
            Line::New(_) => n += 1,
        }
    }
    let mut shown = 0usize;
    let mut hidden = 0usize;
    let mut k = 0usize;
    let mut c = 0usize;
    while c < changed.len() {
        let start = changed[c].saturating_sub(CONTEXT).max(k);
        // Extend the hunk while the next change is within two contexts of the last.
        let mut last = changed[c];
        while c + 1 < changed.len() && changed[c + 1] <= last + 2 * CONTEXT {
            c += 1;
            last = changed[c];
        }
        c += 1;
        let end = (last + CONTEXT + 1).min(ops.len());
        let _ = writeln!(
            out,
            "@@ expected line {}, actual line {} @@",
            old_no[start], new_no[start]
        );
        for op in &ops[start..end] {
            if shown >= MAX_SHOWN {
                hidden += 1;
                continue;
            }
            shown += 1;
            let (mark, text) = match op {
                Line::Same(t) => (' ', *t),
                Line::Gone(t) => ('-', *t),
                Line::New(t) => ('+', *t),
            };
            if mark != ' ' && needs_quoting(text) {
                let _ = writeln!(out, "{mark}{text:?}");
            } else {
                let _ = writeln!(out, "{mark}{text}");
            }
        }
        k = end;
    }
    if hidden > 0 {
        let _ = writeln!(out, "… {hidden} more diff lines");
    }
    let (e_nl, a_nl) = (expected.ends_with('\n'), actual.ends_with('\n'));
    if e_nl != a_nl {
        let _ = writeln!(
            out,
            "(expected {} with a newline, actual {})",
            if e_nl { "ends" } else { "does not end" },
            if a_nl { "does" } else { "does not" }
        );
    }
    out
}

fn needs_quoting(line: &str) -> bool {
    line.ends_with([' ', '\t']) || line.chars().any(|ch| ch.is_control() && ch != '\t')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_changed_line_is_shown_with_its_context_and_numbers() {
        let old = "a\nb\nc\nd\ne\nf\ng\nh\n";
        let new = "a\nb\nc\nd\nE\nf\ng\nh\n";
        assert_eq!(
            render(old, new),
            "@@ expected line 2, actual line 2 @@\n b\n c\n d\n-e\n+E\n f\n g\n h\n"
        );
    }

    #[test]
    fn insertions_deletions_and_the_final_newline() {
        let ops = lines("x\ny\nz", "x\nnew\ny");
        assert_eq!(
            ops,
            [
                Line::Same("x"),
                Line::New("new"),
                Line::Same("y"),
                Line::Gone("z")
            ]
        );
        let r = render("x\n", "x");
        assert_eq!(r, "(expected ends with a newline, actual does not)\n");
        assert!(render("a \n", "a\n").contains("-\"a \""));
    }

    #[test]
    fn far_apart_changes_make_separate_hunks() {
        let old: String = (0..30).map(|i| format!("{i}\n")).collect();
        let new: String = (0..30)
            .map(|i| match i {
                3 => "three\n".to_string(),
                25 => "twenty-five\n".to_string(),
                _ => format!("{i}\n"),
            })
            .collect();
        let r = render(&old, &new);
        assert_eq!(r.matches("@@ expected").count(), 2, "{r}");
        assert!(r.contains("@@ expected line 23, actual line 23 @@"), "{r}");
    }
}
