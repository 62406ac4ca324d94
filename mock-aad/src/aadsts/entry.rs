//! One row of the AADSTS catalogue, and how a row becomes an [`AadError`].
//!
//! A row holds everything the lab knows about one code: the OAuth `error`, the HTTP status, the
//! message as a template with `{placeholders}`, the suberror and claims challenge it carries,
//! when the lab answers with it, where the text comes from, what the sign-in pages say for it,
//! and the constructor the fault injector uses. Typed constructors (`AadError::invalid_credentials`
//! and friends, next to each row in the family files) fill the template with [`Entry::error`].

use axum::http::StatusCode;
use lab_kit::catalogue::Fidelity;

use crate::aadsts::context::FaultContext;
use crate::error::AadError;

/// One AADSTS code.
#[derive(Debug, Clone, Copy)]
pub struct Entry {
    pub code: u32,
    /// The OAuth `error` value.
    pub error: &'static str,
    pub status: StatusCode,
    /// The message after `AADSTS<code>: `, placeholders written `{name}`. Braces around a name
    /// no constructor fills stay as they are (50034's `{EmailHidden}` is Azure AD's own text).
    pub message: &'static str,
    pub suberror: Option<&'static str>,
    /// The `claims` challenge (a JSON string inside the JSON body).
    pub claims: Option<&'static str>,
    /// When the lab answers with it, in a few words (the book's table).
    pub when: &'static str,
    /// Where the text comes from.
    pub source: Fidelity,
    /// What the username and password pages say above the AADSTS line, for codes a user can
    /// meet there.
    pub page_text: Option<&'static str>,
    /// The error filled from what a request said (or sensible stand-ins): the fault injector's
    /// constructor.
    pub fault: fn(&FaultContext) -> AadError,
}

/// The claims challenge of the MFA errors (`capolids` of a policy the lab does not name).
pub const MFA_CLAIMS: &str = r#"{"access_token":{"capolids":{"essential":true,"values":["00000000-0000-0000-0000-000000000000"]}}}"#;

/// The fields most rows share: a 400 with no suberror, claims or page text. Rows spell out the
/// rest and take these with `..DEFAULTS`.
pub const DEFAULTS: Entry = Entry {
    code: 0,
    error: "",
    status: StatusCode::BAD_REQUEST,
    message: "",
    suberror: None,
    claims: None,
    when: "",
    source: Fidelity::Inferred,
    page_text: None,
    fault: |_| AadError::new(StatusCode::BAD_REQUEST, "", 0, ""),
};

impl Entry {
    /// The error of this row, its template filled with `args` (`("resource", "https://…")`).
    pub fn error(&self, args: &[(&str, &str)]) -> AadError {
        self.with_message(fill(self.message, args))
    }

    /// This row's code, error, status, suberror and claims with another message: the few
    /// variants Azure AD words differently under one code.
    pub fn with_message(&self, message: impl Into<String>) -> AadError {
        let mut e = AadError::new(self.status, self.error, self.code, message);
        if let Some(s) = self.suberror {
            e = e.with_suberror(s);
        }
        if let Some(c) = self.claims {
            e = e.with_claims(c);
        }
        e
    }
}

/// Replaces each `{name}` of `template` whose name is in `args`, in one pass (a value that itself
/// contains braces is never expanded again); other braces are kept.
pub fn fill(template: &str, args: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len() + 64);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let value = after.find('}').and_then(|close| {
            let name = &after[..close];
            args.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| (close, *v))
        });
        match value {
            Some((close, v)) => {
                out.push_str(v);
                rest = &after[close + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The `{name}`s of a template, in order (the book shows them; tests check constructors fill them).
pub fn placeholders(template: &str) -> Vec<&str> {
    let mut names = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) => {
                names.push(&after[..close]);
                rest = &after[close + 1..];
            }
            None => break,
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fill_replaces_named_placeholders_once() {
        assert_eq!(
            fill("a {x} b {y} {Other}", &[("x", "{y}"), ("y", "2")]),
            "a {y} b 2 {Other}"
        );
        assert_eq!(fill("no braces", &[("x", "1")]), "no braces");
        assert_eq!(fill("open { only", &[("x", "1")]), "open { only");
        assert_eq!(placeholders("a {x} b {EmailHidden}"), ["x", "EmailHidden"]);
    }
}
