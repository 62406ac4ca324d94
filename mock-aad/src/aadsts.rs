//! The AADSTS catalogue: every Azure AD error the lab answers with, in one place.
//!
//! Each code is one [`Entry`] row — code, OAuth `error`, HTTP status, message template, suberror
//! and claims, when the lab answers with it, where its text comes from, what the sign-in pages
//! say for it, and the constructor the fault injector uses — defined next to its typed
//! constructor (`AadError::invalid_credentials()`, …) in the family file it belongs to:
//!
//! | file | codes about |
//! |---|---|
//! | `aadsts/sign_in.rs` | a user's sign-in: credentials, account state, MFA, conditional access, consent |
//! | `aadsts/grant.rs` | refresh tokens, authorization codes, device codes |
//! | `aadsts/client.rs` | the client application: credentials, redirect URIs, response types, PKCE |
//! | `aadsts/request.rs` | the request: tenant, parameters, method, size, resource or scope |
//! | `aadsts/assertion.rs` | the on-behalf-of assertion |
//! | `aadsts/federation.rs` | a federated IdP's token (`login.srf`, SAML bearer grants) and pass-through agents |
//!
//! Everything else reads the rows: the token endpoint and the sign-in pages through the typed
//! constructors, the fault injector through [`error_for_code`] (so a rule can inject exactly the
//! codes listed here, [`KNOWN_CODES`]), the sign-in pages' messages through [`signin_message`],
//! and the book's AADSTS table through [`docs`]. How an error is rendered on the wire (JSON body,
//! headers, error page, redirect) is [`crate::error`] and [`crate::web`]; the texts themselves
//! are Azure AD's where a source is known (the row's `source`).

mod assertion;
mod client;
mod context;
mod entry;
mod federation;
mod grant;
mod request;
mod sign_in;

use lab_kit::catalogue::AadstsDoc;

pub use context::FaultContext;
pub use entry::{fill, placeholders, Entry};
pub use sign_in::PAGE_TEXT_FALLBACK;

use crate::error::AadError;

/// The families in the order the catalogue lists them.
const FAMILIES: [&[Entry]; 6] = [
    sign_in::ROWS,
    grant::ROWS,
    client::ROWS,
    request::ROWS,
    assertion::ROWS,
    federation::ROWS,
];

const COUNT: usize = {
    let mut n = 0;
    let mut f = 0;
    while f < FAMILIES.len() {
        n += FAMILIES[f].len();
        f += 1;
    }
    n
};

const CODES: [u32; COUNT] = {
    let mut out = [0; COUNT];
    let mut k = 0;
    let mut f = 0;
    while f < FAMILIES.len() {
        let mut i = 0;
        while i < FAMILIES[f].len() {
            out[k] = FAMILIES[f][i].code;
            k += 1;
            i += 1;
        }
        f += 1;
    }
    out
};

/// Every AADSTS code of the catalogue, which is every code a fault rule can inject.
pub const KNOWN_CODES: &[u32] = &CODES;

/// Every row, in catalogue order.
pub fn entries() -> impl Iterator<Item = &'static Entry> {
    FAMILIES.into_iter().flatten()
}

/// The row of `code`.
pub fn entry(code: u32) -> Option<&'static Entry> {
    entries().find(|e| e.code == code)
}

/// The catalogue error for `code`, filled with what the request said (or sensible stand-ins).
/// `None` for a code the catalogue does not have.
pub fn error_for_code(code: u32, ctx: &FaultContext) -> Option<AadError> {
    entry(code).map(|e| (e.fault)(ctx))
}

/// What the username and password pages say for an error (the AADSTS line is shown below it).
pub fn signin_message(code: u32) -> &'static str {
    entry(code)
        .and_then(|e| e.page_text)
        .unwrap_or(PAGE_TEXT_FALLBACK)
}

/// The catalogue as the book's rows, one per code.
pub fn docs() -> Vec<AadstsDoc> {
    entries()
        .map(|e| AadstsDoc {
            code: e.code,
            error: e.error.to_string(),
            status: e.status.as_u16(),
            message: e.message.to_string(),
            when: e.when.to_string(),
            source: e.source,
        })
        .collect()
}

#[cfg(test)]
mod tests;
