//! Fiddler `.saz` archives: a zip holding, per session `NN`, `raw/NN_c.txt` (the request as sent),
//! `raw/NN_s.txt` (the response) and `raw/NN_m.xml` (Fiddler's metadata, not needed here).
//!
//! An archive is a file from someone else's machine, so it is read defensively: at most
//! [`MAX_ENTRIES`] entries, each inflated through a reader capped at [`MAX_ENTRY`] bytes (the size
//! the zip header claims is not trusted: a bomb lies), at most [`MAX_TOTAL`] bytes in all, and an
//! entry whose name climbs out of the archive (`..`, an absolute path, a drive letter) refuses the
//! whole archive — nothing is ever written, but such a name means the file is not Fiddler's.
//! Every session is redacted ([`super::redact`]) and then explained on its own, so the answer
//! names each failure with its session number, in trace order.

use std::collections::BTreeMap;
use std::io::{Cursor, Read};

use super::capture::{self, Exchange};
use super::explanation::{ExplainError, Explanation};
use super::redact::redact;
use super::tree;

/// The most entries an archive may hold (three per session).
pub const MAX_ENTRIES: usize = 30_000;
/// The most one entry may inflate to.
pub const MAX_ENTRY: u64 = 16 * 1024 * 1024;
/// The most all entries together may inflate to.
pub const MAX_TOTAL: u64 = 128 * 1024 * 1024;

/// True for a zip archive (`PK\x03\x04`, or an empty one `PK\x05\x06`).
pub fn is_zip(bytes: &[u8]) -> bool {
    bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06")
}

/// One Fiddler session: its number and its exchange.
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    pub number: u32,
    pub exchange: Exchange,
    /// The session's request and response text, redacted.
    pub text: String,
}

/// A failure recognised in one session.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub session: u32,
    /// `POST https://… → 401`, as far as the session shows it.
    pub summary: String,
    pub explanation: Explanation,
}

/// What `explain` answers for a `.saz`.
#[derive(Debug, Clone, PartialEq)]
pub struct TraceReport {
    pub file: String,
    pub sessions: usize,
    pub findings: Vec<Finding>,
}

impl TraceReport {
    /// The text `hma-lab explain` prints.
    pub fn render(&self) -> String {
        let mut s = format!(
            "{}: {} session(s) read, {} failure(s) recognised.\n",
            self.file,
            self.sessions,
            self.findings.len()
        );
        for f in &self.findings {
            s.push_str(&format!("\nSession {}: {}\n", f.session, f.summary));
            s.push_str(&f.explanation.render());
        }
        s
    }
}

fn bad(file: &str, message: impl Into<String>) -> ExplainError {
    ExplainError::Archive {
        file: file.to_string(),
        message: message.into(),
    }
}

/// A name that climbs out of the archive or is absolute.
fn unsafe_name(name: &str) -> bool {
    let n = name.replace('\\', "/");
    n.starts_with('/')
        || n.split('/').any(|part| part == "..")
        || n.as_bytes().get(1) == Some(&b':')
        || n.contains('\0')
}

/// `raw/12_c.txt` → (12, 'c').
fn session_part(name: &str) -> Option<(u32, char)> {
    let rest = name.strip_prefix("raw/")?;
    let (num, tail) = rest.split_once('_')?;
    let kind = match tail {
        "c.txt" => 'c',
        "s.txt" => 's',
        "m.xml" => 'm',
        _ => return None,
    };
    Some((num.parse().ok()?, kind))
}

/// Reads the sessions of an archive, in session-number order.
pub fn sessions(file: &str, bytes: &[u8]) -> Result<Vec<Session>, ExplainError> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|e| bad(file, format!("not a readable zip archive ({e})")))?;
    if zip.len() > MAX_ENTRIES {
        return Err(bad(
            file,
            format!("{} entries, more than the {MAX_ENTRIES} allowed", zip.len()),
        ));
    }
    let mut parts: BTreeMap<u32, (String, String)> = BTreeMap::new();
    let mut total: u64 = 0;
    for i in 0..zip.len() {
        let entry = zip
            .by_index(i)
            .map_err(|e| bad(file, format!("entry {i} cannot be read ({e})")))?;
        let name = entry.name().to_string();
        if unsafe_name(&name) {
            return Err(bad(
                file,
                format!("entry name '{name}' leaves the archive (absolute or '..'); refused"),
            ));
        }
        let Some((number, kind)) = session_part(&name) else {
            continue;
        };
        if kind == 'm' {
            continue;
        }
        let mut data = Vec::new();
        entry
            .take(MAX_ENTRY + 1)
            .read_to_end(&mut data)
            .map_err(|e| bad(file, format!("entry '{name}' does not inflate ({e})")))?;
        if data.len() as u64 > MAX_ENTRY {
            return Err(bad(
                file,
                format!("entry '{name}' inflates past {MAX_ENTRY} bytes; refused"),
            ));
        }
        total = total.saturating_add(data.len() as u64);
        if total > MAX_TOTAL {
            return Err(bad(
                file,
                format!("the entries inflate past {MAX_TOTAL} bytes in all; refused"),
            ));
        }
        let text = String::from_utf8_lossy(&data).into_owned();
        let slot = parts.entry(number).or_default();
        if kind == 'c' {
            slot.0 = text;
        } else {
            slot.1 = text;
        }
    }
    Ok(parts
        .into_iter()
        .map(|(number, (c, s))| {
            let text = redact(&format!("{}\r\n\r\n{}", c.trim_end(), s));
            let exchange = merge(capture::parse(&text));
            Session {
                number,
                exchange,
                text,
            }
        })
        .collect())
}

/// One session is one exchange; a parser that split it keeps the request of the first part.
fn merge(mut xs: Vec<Exchange>) -> Exchange {
    if xs.len() <= 1 {
        return xs.pop().unwrap_or_default();
    }
    let first = xs.remove(0);
    let mut last = xs.pop().unwrap_or_default();
    if !last.request_known {
        last.method = first.method;
        last.url = first.url;
        last.request_headers = first.request_headers;
        last.request_known = first.request_known;
    }
    last
}

fn summary(x: &Exchange) -> String {
    let req = match (&x.method, &x.url) {
        (Some(m), Some(u)) => format!("{m} {u}"),
        (None, Some(u)) => u.clone(),
        _ => "(request not captured)".into(),
    };
    match x.status {
        Some(s) => format!("{req} → {s} {}", x.reason).trim_end().to_string(),
        None => req,
    }
}

/// Explains every session of an archive; an error when nothing was recognised.
pub fn explain(file: &str, bytes: &[u8]) -> Result<TraceReport, ExplainError> {
    let sessions = sessions(file, bytes)?;
    let mut findings = Vec::new();
    for s in &sessions {
        let one = std::slice::from_ref(&s.exchange);
        let ev = tree::Evidence {
            exchanges: one,
            text: &s.text,
            client: None,
            final_authn: None,
            client_modern_auth_off: false,
        };
        if let Some(explanation) = tree::explain(&ev) {
            findings.push(Finding {
                session: s.number,
                summary: summary(&s.exchange),
                explanation,
            });
        }
    }
    if findings.is_empty() {
        // Causes read across sessions (no Bearer ever sent while Exchange offers Azure AD).
        let all: Vec<Exchange> = sessions.iter().map(|s| s.exchange.clone()).collect();
        let text: String = sessions
            .iter()
            .map(|s| s.text.as_str())
            .collect::<Vec<_>>()
            .join("\n");
        let ev = tree::Evidence {
            exchanges: &all,
            text: &text,
            client: None,
            final_authn: None,
            client_modern_auth_off: false,
        };
        if let Some(explanation) = tree::explain(&ev) {
            let numbers: Vec<String> = sessions.iter().map(|s| s.number.to_string()).collect();
            findings.push(Finding {
                session: sessions.first().map(|s| s.number).unwrap_or(0),
                summary: format!("read across sessions {}", numbers.join(", ")),
                explanation,
            });
        }
    }
    if findings.is_empty() {
        return Err(ExplainError::Unrecognised {
            file: file.to_string(),
            exchanges: sessions.len(),
        });
    }
    Ok(TraceReport {
        file: file.to_string(),
        sessions: sessions.len(),
        findings,
    })
}
