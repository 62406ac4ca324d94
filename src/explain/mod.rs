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
pub mod explanation;
pub mod scenario;
pub mod tree;

#[cfg(test)]
mod tests;

use std::path::Path;

pub use explanation::{ExplainError, Explanation};

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
