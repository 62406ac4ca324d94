//! Enveloped XML signatures as ADFS writes them and Azure AD checks them: one `Reference` to the
//! signed element's ID, transforms enveloped-signature then exclusive c14n, RSA-SHA256 over
//! SHA-256 (RSA-SHA1/SHA-1 accepted when verifying, as ADFS 2.0 signed), the signing
//! certificate in `KeyInfo/X509Data/X509Certificate`.
//!
//! Signing works on text the caller built: the digest of the element is taken from its canonical
//! form, a `ds:Signature` is inserted at the given [`Placement`], and the canonical `SignedInfo`
//! is signed in place. Verifying checks the exact shape and nothing looser: the reference must
//! name the very element that carries the signature (so a signature over one element cannot
//! vouch for another — the wrapping attack), each algorithm must be one of those above, the
//! digest must match, the `KeyInfo` certificate (when present) must be one the caller trusts,
//! and the signature must verify with a trusted certificate's key.

use std::fmt;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use quick_xml::events::Event;
use quick_xml::Reader;

use super::c14n::canonicalize;
pub use super::cert::{rsa_verify, SigAlg};
use super::cert::{CertError, Certificate, SigningKey};
use super::xml::{self, Element};

pub const DS_NS: &str = "http://www.w3.org/2000/09/xmldsig#";
pub const EXC_C14N: &str = "http://www.w3.org/2001/10/xml-exc-c14n#";
pub const ENVELOPED: &str = "http://www.w3.org/2000/09/xmldsig#enveloped-signature";
pub const RSA_SHA256: &str = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";
pub const RSA_SHA1: &str = "http://www.w3.org/2000/09/xmldsig#rsa-sha1";
pub const SHA256: &str = "http://www.w3.org/2001/04/xmlenc#sha256";
pub const SHA1: &str = "http://www.w3.org/2000/09/xmldsig#sha1";

/// Why a signature was not accepted (or could not be made).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DsigError {
    /// The document is not XML.
    Xml(xml::XmlError),
    /// The element carries no `ds:Signature`.
    Missing,
    /// The signature is not shaped as described above (the text says how).
    Shape(String),
    /// An algorithm other than the ones accepted.
    Unsupported(String),
    /// The reference's digest does not match the element: it was changed after signing.
    DigestMismatch,
    /// `KeyInfo` names a certificate the caller does not trust.
    UntrustedKey { thumbprint: String },
    /// The signature value does not verify with any trusted key.
    BadSignature,
    /// Key material could not be used.
    Key(CertError),
}

impl fmt::Display for DsigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DsigError::Xml(e) => write!(f, "{e}"),
            DsigError::Missing => f.write_str("the element is not signed"),
            DsigError::Shape(s) => write!(f, "signature: {s}"),
            DsigError::Unsupported(a) => write!(f, "unsupported algorithm `{a}`"),
            DsigError::DigestMismatch => f.write_str("the digest does not match the content"),
            DsigError::UntrustedKey { thumbprint } => {
                write!(
                    f,
                    "signed with a certificate that is not trusted ({thumbprint})"
                )
            }
            DsigError::BadSignature => f.write_str("the signature value does not verify"),
            DsigError::Key(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for DsigError {}

/// Where the `ds:Signature` goes in the signed element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// As the last child (SAML 1.1 assertions).
    Last,
    /// As the first child (federation metadata).
    FirstChild,
    /// Right after the first child element (SAML 2.0: after `Issuer`).
    AfterFirstChild,
}

/// Byte offset in `doc` where a signature with `placement` goes inside the root element.
fn insertion_point(doc: &str, placement: Placement) -> Result<usize, DsigError> {
    let shape = |m: &str| DsigError::Shape(m.to_string());
    let mut reader = Reader::from_str(doc);
    let mut depth = 0usize;
    loop {
        let before = reader.buffer_position() as usize;
        let ev = reader
            .read_event()
            .map_err(|e| DsigError::Xml(xml::XmlError(e.to_string())))?;
        let after = reader.buffer_position() as usize;
        match ev {
            Event::Start(_) => {
                depth += 1;
                if depth == 1 && placement == Placement::FirstChild {
                    return Ok(after);
                }
            }
            Event::Empty(_) if depth == 1 && placement == Placement::AfterFirstChild => {
                return Ok(after)
            }
            Event::End(_) => {
                depth = depth.saturating_sub(1);
                match (depth, placement) {
                    (1, Placement::AfterFirstChild) => return Ok(after),
                    (0, Placement::Last) => return Ok(before),
                    _ => {}
                }
            }
            Event::Eof => return Err(shape("no place for the signature")),
            _ => {}
        }
    }
}

/// The `ID`/`AssertionID`/`Id` attribute a reference names.
pub fn id_of(el: &Element) -> Option<&str> {
    el.attr("ID")
        .or_else(|| el.attr("AssertionID"))
        .or_else(|| el.attr("Id"))
}

fn signature_xml(id: &str, digest: &str, value: &str, cert_b64: &str) -> String {
    format!(
        "<ds:Signature xmlns:ds=\"{DS_NS}\"><ds:SignedInfo><ds:CanonicalizationMethod \
         Algorithm=\"{EXC_C14N}\"/><ds:SignatureMethod Algorithm=\"{RSA_SHA256}\"/><ds:Reference \
         URI=\"#{id}\"><ds:Transforms><ds:Transform Algorithm=\"{ENVELOPED}\"/><ds:Transform \
         Algorithm=\"{EXC_C14N}\"/></ds:Transforms><ds:DigestMethod Algorithm=\"{SHA256}\"/>\
         <ds:DigestValue>{digest}</ds:DigestValue></ds:Reference></ds:SignedInfo>\
         <ds:SignatureValue>{value}</ds:SignatureValue><KeyInfo xmlns=\"{DS_NS}\"><X509Data>\
         <X509Certificate>{cert_b64}</X509Certificate></X509Data></KeyInfo></ds:Signature>",
        id = xml::escape_attr(id)
    )
}

/// Signs the root element of `doc` (which must carry an ID attribute) with `key`, inserting the
/// signature at `placement`. Returns the signed document text.
pub fn sign_enveloped(
    doc: &str,
    placement: Placement,
    key: &SigningKey,
) -> Result<String, DsigError> {
    let parsed = xml::parse(doc).map_err(DsigError::Xml)?;
    let id = id_of(&parsed.root)
        .ok_or_else(|| DsigError::Shape("the root element has no ID".into()))?
        .to_string();
    let digest = aws_lc_rs::digest::digest(
        &aws_lc_rs::digest::SHA256,
        canonicalize(&parsed.root, None).as_bytes(),
    );
    let at = insertion_point(doc, placement)?;
    let cert_b64 = key.cert.base64();
    let draft = format!(
        "{}{}{}",
        &doc[..at],
        signature_xml(&id, &STANDARD.encode(digest.as_ref()), "", &cert_b64),
        &doc[at..]
    );
    let parsed = xml::parse(&draft).map_err(DsigError::Xml)?;
    let signed_info = parsed
        .root
        .find(DS_NS, "SignedInfo")
        .ok_or_else(|| DsigError::Shape("SignedInfo vanished".into()))?;
    let sig = key
        .sign_sha256(canonicalize(signed_info, None).as_bytes())
        .map_err(DsigError::Key)?;
    let empty = "<ds:SignatureValue></ds:SignatureValue>";
    let pos = draft[at..]
        .find(empty)
        .map(|p| p + at + "<ds:SignatureValue>".len())
        .ok_or_else(|| DsigError::Shape("SignatureValue vanished".into()))?;
    let mut out = String::with_capacity(draft.len() + 400);
    out.push_str(&draft[..pos]);
    out.push_str(&STANDARD.encode(sig));
    out.push_str(&draft[pos..]);
    Ok(out)
}

/// What a verified signature was made with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// Index into the caller's trusted list of the certificate whose key verified.
    pub trusted_index: usize,
    pub algorithm: SigAlg,
}

fn algorithm<'a>(el: Option<&'a Element>, what: &str) -> Result<&'a str, DsigError> {
    el.and_then(|e| e.attr("Algorithm"))
        .ok_or_else(|| DsigError::Shape(format!("no {what}")))
}

fn b64(text: &str, what: &str) -> Result<Vec<u8>, DsigError> {
    let clean: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    STANDARD
        .decode(clean)
        .map_err(|_| DsigError::Shape(format!("{what} is not base64")))
}

/// Verifies the enveloped signature that `el` carries as a direct child, against `trusted`
/// certificates.
pub fn verify_enveloped(el: &Element, trusted: &[Certificate]) -> Result<Verified, DsigError> {
    let shape = |m: &str| DsigError::Shape(m.to_string());
    let mut sigs = el.children_named(DS_NS, "Signature");
    let sig = sigs.next().ok_or(DsigError::Missing)?;
    if sigs.next().is_some() {
        return Err(shape("more than one Signature"));
    }
    let si = sig
        .child(DS_NS, "SignedInfo")
        .ok_or_else(|| shape("no SignedInfo"))?;
    let c14n = algorithm(
        si.child(DS_NS, "CanonicalizationMethod"),
        "CanonicalizationMethod",
    )?;
    if c14n != EXC_C14N {
        return Err(DsigError::Unsupported(c14n.into()));
    }
    let alg = match algorithm(si.child(DS_NS, "SignatureMethod"), "SignatureMethod")? {
        RSA_SHA256 => SigAlg::RsaSha256,
        RSA_SHA1 => SigAlg::RsaSha1,
        other => return Err(DsigError::Unsupported(other.into())),
    };
    let mut refs = si.children_named(DS_NS, "Reference");
    let reference = refs.next().ok_or_else(|| shape("no Reference"))?;
    if refs.next().is_some() {
        return Err(shape("more than one Reference"));
    }
    let id = id_of(el).ok_or_else(|| shape("the signed element has no ID"))?;
    if reference.attr("URI") != Some(&format!("#{id}")) {
        return Err(shape("the Reference does not name the signed element"));
    }
    let transforms: Vec<&str> = reference
        .child(DS_NS, "Transforms")
        .map(|t| {
            t.children_named(DS_NS, "Transform")
                .filter_map(|x| x.attr("Algorithm"))
                .collect()
        })
        .unwrap_or_default();
    if transforms != [ENVELOPED, EXC_C14N] && transforms != [ENVELOPED] {
        return Err(shape(
            "transforms must be enveloped-signature then exclusive c14n",
        ));
    }
    if reference
        .child(DS_NS, "Transforms")
        .is_some_and(|t| t.elements().any(|x| x.elements().next().is_some()))
    {
        return Err(DsigError::Unsupported("transform parameters".into()));
    }
    let digest_alg = match algorithm(reference.child(DS_NS, "DigestMethod"), "DigestMethod")? {
        SHA256 => &aws_lc_rs::digest::SHA256,
        SHA1 => &aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY,
        other => return Err(DsigError::Unsupported(other.into())),
    };
    let given_digest = b64(
        &reference
            .child(DS_NS, "DigestValue")
            .ok_or_else(|| shape("no DigestValue"))?
            .text(),
        "DigestValue",
    )?;
    let actual = aws_lc_rs::digest::digest(digest_alg, canonicalize(el, Some(sig)).as_bytes());
    if !crate::secret::constant_time_eq(actual.as_ref(), &given_digest) {
        return Err(DsigError::DigestMismatch);
    }
    let value = b64(
        &sig.child(DS_NS, "SignatureValue")
            .ok_or_else(|| shape("no SignatureValue"))?
            .text(),
        "SignatureValue",
    )?;
    if let Some(c) = sig.path(&[
        (DS_NS, "KeyInfo"),
        (DS_NS, "X509Data"),
        (DS_NS, "X509Certificate"),
    ]) {
        let embedded = Certificate::from_base64(&c.text()).map_err(DsigError::Key)?;
        if !trusted.iter().any(|t| t.der == embedded.der) {
            return Err(DsigError::UntrustedKey {
                thumbprint: embedded.thumbprint(),
            });
        }
    }
    let signed_info = canonicalize(si, None);
    trusted
        .iter()
        .position(|t| rsa_verify(alg, t, signed_info.as_bytes(), &value))
        .map(|trusted_index| Verified {
            trusted_index,
            algorithm: alg,
        })
        .ok_or(DsigError::BadSignature)
}
