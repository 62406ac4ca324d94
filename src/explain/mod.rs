//! `hma-lab explain`: from a failing capture to the field guide's cause and fix.
//!
//! The guide's "Something Went Wrong" section is a troubleshooting tree read off a trace: does
//! the client send the empty Bearer header, does Exchange answer with an `authorization_uri`,
//! and which error does Azure AD or Exchange spell out. [`capture`] reduces whatever the trainee
//! has (raw response, `curl -v`, Fiddler raw view, HAR) to HTTP exchanges, [`saz`] reads
//! Fiddler's session archives session by session, [`redact`] takes secrets out of any input first; a scenario file is
//! reduced to the exchanges its `then:` expectations describe ([`scenario`]); [`tree`] walks the
//! guide's tree over them and names the cause, the guide section and the fix — the guide's
//! cmdlets verbatim. The answer is data ([`Explanation`]) so tests assert on it, and
//! [`Explanation::render`] is what the command prints.

pub mod capture;
pub mod explanation;
pub mod redact;
pub mod saz;
pub mod scenario;
pub mod tree;

#[cfg(test)]
mod saz_tests;
#[cfg(test)]
mod tests;

use std::path::Path;

pub use explanation::{ExplainError, Explanation};

/// Explains a capture given as text (`name` is used in messages only).
pub fn explain_text(name: &str, text: &str) -> Result<Explanation, ExplainError> {
    let text = &redact::redact(text);
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
    let bytes = read_capped(path)?;
    if saz::is_zip(&bytes) {
        return Err(ExplainError::Archive {
            file: name,
            message: "a zip archive; name it .saz to read it as Fiddler's session archive".into(),
        });
    }
    let text = String::from_utf8_lossy(&bytes);
    if scenario::looks_like_scenario(path, &text) {
        return scenario::explain(path, &text);
    }
    explain_text(&name, &text)
}

/// Reads a file `explain` takes, refusing one over [`capture::MAX_INPUT`].
fn read_capped(path: &Path) -> Result<Vec<u8>, ExplainError> {
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
    std::fs::read(path).map_err(|source| ExplainError::Io { file: name, source })
}

/// What `explain` prints for a file: a Fiddler archive's per-session report, else the one cause.
pub fn explain_any(path: &Path) -> Result<String, ExplainError> {
    let is_saz = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("saz"));
    if is_saz {
        let bytes = read_capped(path)?;
        return saz::explain(&path.display().to_string(), &bytes).map(|r| r.render());
    }
    explain_file(path).map(|e| e.render())
}

/// `hma-lab explain FILE`: prints the explanation; exit 0 when a cause was recognised, else 1.
pub fn main(file: &Path) -> std::process::ExitCode {
    use std::io::Write;
    match explain_any(file) {
        Ok(e) => {
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(e.as_bytes()).and_then(|_| out.flush());
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "hma-lab explain: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
