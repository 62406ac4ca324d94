//! `hma-lab explain`: from a failing capture to the field guide's cause and fix.
//!
//! The guide's "Something Went Wrong" section is a troubleshooting tree read off a trace: does
//! the client send the empty Bearer header, does Exchange answer with an `authorization_uri`,
//! and which error does Azure AD or Exchange spell out. [`capture`] reduces whatever the trainee
//! has (raw response, `curl -v`, Fiddler raw view, HAR) to HTTP exchanges; a scenario file is
//! reduced to the exchanges its `then:` expectations describe ([`scenario`]); [`tree`] walks the
//! guide's tree over them and names the cause, the guide section and the fix — the guide's
//! cmdlets verbatim. The answer is data ([`Explanation`]) so tests assert on it, and
//! [`Explanation::render`] is what the command prints.

pub mod capture;
pub mod scenario;
pub mod tree;

#[cfg(test)]
mod tests;

use std::path::Path;

use serde::Serialize;

/// A recognised cause.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Explanation {
    /// Stable id (`missing-spn`, `flighting`, …).
    pub id: &'static str,
    /// The cause, in a sentence or two.
    pub cause: String,
    /// The guide's section heading that covers it.
    pub section: &'static str,
    /// The lines of the capture that gave it away.
    pub evidence: Vec<String>,
    /// The fix: cmdlet lines, verbatim, in order (empty when the fix is not a cmdlet).
    pub fix: Vec<String>,
    /// What else to do or check.
    pub advice: String,
}

impl Explanation {
    /// The text `hma-lab explain` prints.
    pub fn render(&self) -> String {
        let mut s = format!("Cause: {}\n", self.cause);
        s.push_str(&format!("Guide section: \"{}\"\n", self.section));
        if !self.evidence.is_empty() {
            s.push_str("Evidence:\n");
            for e in &self.evidence {
                s.push_str(&format!("  {e}\n"));
            }
        }
        if self.fix.is_empty() {
            s.push_str("Fix: no cmdlet fixes this.\n");
        } else {
            s.push_str("Fix:\n");
            for f in &self.fix {
                s.push_str(&format!("  {f}\n"));
            }
        }
        if !self.advice.is_empty() {
            s.push_str(&format!("{}\n", self.advice));
        }
        s
    }
}

/// Why nothing was explained.
#[derive(Debug, thiserror::Error)]
pub enum ExplainError {
    #[error("cannot read {file}: {source}")]
    Io {
        file: String,
        source: std::io::Error,
    },
    #[error("{file} is larger than {max} bytes; cut the capture down to the failing exchange")]
    TooLarge { file: String, max: usize },
    #[error("{0}")]
    Scenario(lab_kit::FileError),
    #[error(
        "no cause from the guide's troubleshooting section recognised in {file} ({exchanges} HTTP \
         exchange(s) read). Give the failing response as curl -i or Fiddler's raw view prints it \
         (status line and headers), a curl -v transcript, a HAR file or a scenario file; the \
         tree looks for: no empty Bearer sent, a missing or non-Azure-AD authorization_uri, a 401 \
         without Bearer on one virtual directory, x-ms-diagnostics 4000000 / 2000003 / 2000005, \
         AADSTS50001, AADSTS50173, unicorn_rampage, certificate errors"
    )]
    Unrecognised { file: String, exchanges: usize },
}

/// Explains a capture given as text (`name` is used in messages only).
pub fn explain_text(name: &str, text: &str) -> Result<Explanation, ExplainError> {
    let exchanges = capture::parse(text);
    let ev = tree::Evidence {
        exchanges: &exchanges,
        text,
        client: None,
        final_authn: None,
        client_modern_auth_off: false,
    };
    tree::explain(&ev).ok_or_else(|| ExplainError::Unrecognised {
        file: name.to_string(),
        exchanges: exchanges.len(),
    })
}

/// Explains a file: a scenario file (`.yaml`/`.yml` with `when:`), else a capture.
pub fn explain_file(path: &Path) -> Result<Explanation, ExplainError> {
    let name = path.display().to_string();
    let meta = std::fs::metadata(path).map_err(|source| ExplainError::Io {
        file: name.clone(),
        source,
    })?;
    if meta.len() > capture::MAX_INPUT as u64 {
        return Err(ExplainError::TooLarge {
            file: name,
            max: capture::MAX_INPUT,
        });
    }
    let bytes = std::fs::read(path).map_err(|source| ExplainError::Io {
        file: name.clone(),
        source,
    })?;
    let text = String::from_utf8_lossy(&bytes);
    if scenario::looks_like_scenario(path, &text) {
        return scenario::explain(path, &text);
    }
    explain_text(&name, &text)
}

/// `hma-lab explain FILE`: prints the explanation; exit 0 when a cause was recognised, else 1.
pub fn main(file: &Path) -> std::process::ExitCode {
    use std::io::Write;
    match explain_file(file) {
        Ok(e) => {
            let mut out = std::io::stdout().lock();
            let _ = out
                .write_all(e.render().as_bytes())
                .and_then(|_| out.flush());
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "hma-lab explain: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
