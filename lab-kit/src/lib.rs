//! What every hma-lab service shares, and nothing else: the lab [`Clock`], lab-file parsing
//! with errors that name file, line, column and the fix ([`labfile`]), the one guard in front of
//! every admin API ([`admin`]), secret comparison ([`secret`]), request-body intake ([`body`])
//! and what both products put on the wire ([`wire`], [`wirecase`]). Each helper is here because
//! two or more crates had their own copy and the copies had begun to differ; the NTLM
//! message codec ([`ntlm`]) because mock Exchange and the reference Outlook client speak it
//! from opposite ends; SAML assertions and XML signatures ([`saml`]) because mock ADFS issues what
//! mock Azure AD verifies. No shared *state*
//! lives here — each service owns its own and exposes it through its admin API. With the
//! `testkit` feature (tests only), [`testkit`] is the workspace's test kit.

pub mod admin;
pub mod body;
pub mod bounded;
pub mod catalogue;
pub mod clock;
pub mod labfile;
pub mod ntlm;
pub mod openapi;
pub mod saml;
pub mod schema;
pub mod secret;
pub mod serve;
#[cfg(any(test, feature = "testkit"))]
pub mod testkit;
pub mod wire;
pub mod wirecase;

pub use clock::Clock;
pub use labfile::{parse_yaml, FileError};
