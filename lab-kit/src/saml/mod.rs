//! SAML assertions and the XML signatures on them, for the two sides of a federation: mock ADFS
//! issues and signs, mock Azure AD reads and verifies. The services share no state and talk only
//! over HTTP, so this is the one place both take the shape from.
//!
//! Layers, lower first (a module uses only those above it in this list): [`xml`] (a bounded
//! namespace-aware tree), [`c14n`] (exclusive canonicalization of a subtree), [`cert`] (PEM,
//! the X.509 fields a federation reads, the RSA key pair), [`dsig`] (enveloped signatures) and
//! [`assertion`] (SAML 1.1/2.0 build and read, and the assertion in a WS-Trust response). Keys
//! are parsed once by the caller and reused; nothing here generates one.

pub mod assertion;
pub mod c14n;
pub mod cert;
pub mod dsig;
pub mod xml;

pub use assertion::{
    issue, read_assertion, read_element, read_wresult, Assertion, AssertionSpec, Attribute,
    SamlError, SamlVersion,
};
pub use cert::{CertError, Certificate, SigningKey};
pub use dsig::{sign_enveloped, verify_enveloped, DsigError, Placement, Verified};

#[cfg(test)]
mod tests;
