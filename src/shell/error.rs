//! Errors in PowerShell's own words and shape.
//!
//! Windows PowerShell 5.1 (the Exchange Management Shell's host) prints an error record as the
//! failing command's name, the message, the `At line:1 char:N` position with the line and a `~`
//! marker under the offending token, then `CategoryInfo` and `FullyQualifiedErrorId`. Scenario
//! files and tests compare the bare [`ShellError::message`]; [`ShellError::render`] gives the
//! whole record as a console would show it, plus the lab's own hint line (nearest valid name).
//! Every record is built by [`catalogue`], the one list of the errors the shell writes.

use std::fmt;

pub mod catalogue;

/// Where an error came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The line did not parse (`ParserError`).
    Parse,
    /// Binding or running a command failed.
    Runtime,
}

/// Serializes as the admin API's `error` object (all fields, snake_case).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ShellError {
    pub kind: ErrorKind,
    /// PowerShell's message, e.g. `A parameter cannot be found that matches parameter name 'X'.`
    pub message: String,
    /// The `FullyQualifiedErrorId` as printed (binding errors carry the `,Cmdlet` suffix).
    pub error_id: String,
    /// The `CategoryInfo` line, e.g. `InvalidArgument: (:) [Set-X], ParameterBindingException`.
    pub category: String,
    /// The command the error belongs to (printed as `Cmd : message`).
    pub command: Option<String>,
    /// The line of the command text the position refers to.
    pub line: String,
    /// 1-based line number within the command text (`line:N`).
    pub line_no: usize,
    /// 1-based column within that line (`char:N`).
    pub column: usize,
    /// How many `~` to draw.
    pub width: usize,
    /// The lab's hint (nearest valid name), printed after the record.
    pub hint: Option<String>,
}

impl ShellError {
    /// A `ParserError` at the 0-based char offset `pos` of `line`.
    fn parse(line: &str, pos: usize, width: usize, id: &str, msg: impl Into<String>) -> Self {
        ShellError {
            kind: ErrorKind::Parse,
            message: msg.into(),
            error_id: id.to_string(),
            category: "ParserError: (:) [], ParentContainsErrorRecordException".into(),
            command: None,
            line: String::new(),
            line_no: 1,
            column: 1,
            width: 1,
            hint: None,
        }
        .at(line, pos, width)
    }

    /// A runtime error of `command`, positioned by the caller with [`ShellError::at`].
    fn runtime(
        command: Option<&str>,
        category: impl Into<String>,
        id: &str,
        msg: impl Into<String>,
    ) -> Self {
        ShellError {
            kind: ErrorKind::Runtime,
            message: msg.into(),
            error_id: id.to_string(),
            category: category.into(),
            command: command.map(str::to_string),
            line: String::new(),
            line_no: 1,
            column: 1,
            width: 1,
            hint: None,
        }
    }

    /// Sets the position (0-based char offset into `text`, and width) unless one is set
    /// already; a multi-line text is reduced to the line holding the position.
    pub fn at(mut self, text: &str, pos: usize, width: usize) -> Self {
        if self.line.is_empty() && !text.is_empty() {
            let chars: Vec<char> = text.chars().collect();
            let pos = pos.min(chars.len());
            let start = chars[..pos]
                .iter()
                .rposition(|c| *c == '\n')
                .map(|i| i + 1)
                .unwrap_or(0);
            let end = chars[pos..]
                .iter()
                .position(|c| *c == '\n' || *c == '\r')
                .map(|i| pos + i)
                .unwrap_or(chars.len());
            self.line = chars[start..end].iter().collect();
            self.line_no = chars[..start].iter().filter(|c| **c == '\n').count() + 1;
            self.column = pos - start + 1;
            self.width = width.max(1);
        }
        self
    }

    pub fn with_hint(mut self, hint: Option<String>) -> Self {
        if hint.is_some() {
            self.hint = hint;
        }
        self
    }

    /// The whole error record as Windows PowerShell prints it.
    pub fn render(&self) -> String {
        let mut out = String::new();
        if let Some(c) = &self.command {
            out.push_str(&format!("{c} : {}\n", self.message));
        }
        if !self.line.is_empty() {
            let pad: String = " ".repeat(self.column.saturating_sub(1));
            out.push_str(&format!(
                "At line:{} char:{}\n+ {}\n+ {}{}\n",
                self.line_no,
                self.column,
                self.line,
                pad,
                "~".repeat(self.width)
            ));
        }
        if self.command.is_none() {
            out.push_str(&format!("{}\n", self.message));
        }
        out.push_str(&format!(
            "    + CategoryInfo          : {}\n",
            self.category
        ));
        out.push_str(&format!(
            "    + FullyQualifiedErrorId : {}\n",
            self.error_id
        ));
        if let Some(h) = &self.hint {
            out.push_str(&format!("hma-lab hint: {h}\n"));
        }
        out
    }
}

impl fmt::Display for ShellError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ShellError {}

/// The candidate nearest to `input` (case-insensitive Jaro-Winkler), if it is close enough to be
/// a plausible typo.
pub fn nearest<'a>(input: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let lower = input.to_ascii_lowercase();
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(&lower, &c.to_ascii_lowercase()), c))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_error_renders_like_windows_powershell() {
        let e = ShellError::parse(
            "(Get-OrganizationConfig",
            0,
            1,
            "MissingEndParenthesisInExpression",
            "Missing closing ')' in expression.",
        );
        assert_eq!(
            e.render(),
            "At line:1 char:1\n+ (Get-OrganizationConfig\n+ ~\nMissing closing ')' in expression.\n    + CategoryInfo          : ParserError: (:) [], ParentContainsErrorRecordException\n    + FullyQualifiedErrorId : MissingEndParenthesisInExpression\n"
        );
    }

    #[test]
    fn nearest_finds_typos_only() {
        assert_eq!(
            nearest(
                "Get-MapiVirtualDirectroy",
                ["Get-MapiVirtualDirectory", "Get-Mailbox"]
            ),
            Some("Get-MapiVirtualDirectory")
        );
        assert_eq!(nearest("zzz", ["Get-Mailbox"]), None);
    }
}
