//! What `explain` answers: the recognised cause ([`Explanation`]) and why nothing was
//! recognised ([`ExplainError`]). Plain data with no logic beyond rendering, in a module of its
//! own so that the tree that builds an answer, the scenario reader that feeds it and the command
//! that prints it all depend on this one place rather than on each other.

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
    #[error("{file}: not a usable Fiddler .saz archive: {message}")]
    Archive { file: String, message: String },
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
