//! The rows of the lab's catalogues, as plain data for the book.
//!
//! Each catalogue lives with the code that uses it — AADSTS errors in `mock_aad::aadsts`,
//! `x-ms-diagnostics` reasons in `mock_exchange::diag`, cmdlets in `hma_lab::shell::cmdlets` —
//! and each exposes its entries as these rows. The book's reference tables are rendered from
//! them (and checked by `make test`), so a table cannot drift from the code that answers on the
//! wire. Where a text comes from is part of every row: [`Fidelity`].

use std::fmt;

/// Where a wire text comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Fidelity {
    /// Byte for byte a capture in the field guide.
    GuideCapture,
    /// Seen in a public capture (a trace, a forum post, an issue), source named in the docs.
    PublicCapture,
    /// Found in a product build's strings.
    ProductBuild,
    /// Described in vendor documentation, not seen in a capture.
    Documented,
    /// No real text is known; the lab's wording.
    Inferred,
}

impl Fidelity {
    /// The word the book's tables use.
    pub fn label(self) -> &'static str {
        match self {
            Fidelity::GuideCapture => "guide capture",
            Fidelity::PublicCapture => "public capture",
            Fidelity::ProductBuild => "product build",
            Fidelity::Documented => "documented",
            Fidelity::Inferred => "inferred",
        }
    }
}

impl fmt::Display for Fidelity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// One Azure AD error of the catalogue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AadstsDoc {
    /// The AADSTS number (`50126`).
    pub code: u32,
    /// The OAuth `error` value (`invalid_grant`).
    pub error: String,
    /// The HTTP status of the token endpoint's answer.
    pub status: u16,
    /// The message after `AADSTS<code>: `, placeholders written `{name}`.
    pub message: String,
    /// When the lab answers with it, in a few words.
    pub when: String,
    pub source: Fidelity,
}

/// One `x-ms-diagnostics` reason of mock Exchange's bearer pipeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiagDoc {
    /// The numeric code (`2000003`).
    pub code: u32,
    /// `error_category` (`invalid_resource`).
    pub category: String,
    /// The `reason` text, placeholders written `{name}`.
    pub reason: String,
    /// When Exchange answers with it, in a few words.
    pub when: String,
    pub source: Fidelity,
}

/// One parameter of a cmdlet's parameter set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamDoc {
    pub name: String,
    /// The .NET type name PowerShell reports (`System.Boolean`).
    pub ty: String,
    pub mandatory: bool,
    /// Position for positional binding, if any.
    pub position: Option<u8>,
    /// Takes pipeline input.
    pub pipeline: bool,
    /// The real cmdlet has it but the lab does not model it (using it is an honest error).
    pub modelled: bool,
}

/// One parameter set of a cmdlet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamSetDoc {
    pub name: String,
    pub params: Vec<ParamDoc>,
}

/// One cmdlet of the lab's shell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CmdletDoc {
    /// `Set-MapiVirtualDirectory`.
    pub name: String,
    /// The family, which is also the source file's stem (`vdir` → `src/shell/cmdlets/vdir.rs`).
    pub family: String,
    /// What it does in the lab, one sentence.
    pub synopsis: String,
    pub sets: Vec<ParamSetDoc>,
}
