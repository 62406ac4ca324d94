//! Token-signing certificates and keys: PEM in, the few X.509 fields a federation needs out
//! (public key, subject, validity, thumbprint), and an RSA key pair parsed once for signing.
//!
//! The X.509 reading is a bounds-checked walk over the DER of the fields it needs and nothing
//! else (no extension or chain processing): the lab only ever reads certificates it shipped or
//! that a peer published in metadata or `KeyInfo`, and only to compare them and verify with
//! their key. Anything unreadable is a [`CertError`], never a panic.

use std::fmt;
use std::sync::Arc;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeyPair;
use base64::Engine;

/// Why key or certificate material could not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertError(pub String);

impl fmt::Display for CertError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CertError {}

fn bad(m: impl Into<String>) -> CertError {
    CertError(m.into())
}

/// The base64 body of the first PEM block labelled `label` (`CERTIFICATE`, `PRIVATE KEY`).
pub fn pem_block(text: &str, label: &str) -> Result<Vec<u8>, CertError> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = text
        .find(&begin)
        .ok_or_else(|| bad(format!("no `{begin}` block")))?
        + begin.len();
    let stop = text[start..]
        .find(&end)
        .ok_or_else(|| bad(format!("no `{end}` line")))?
        + start;
    let b64: String = text[start..stop]
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    base64::engine::general_purpose::STANDARD
        .decode(b64)
        .map_err(|e| bad(format!("PEM {label}: {e}")))
}

/// One DER TLV: (tag, contents, rest).
fn tlv(b: &[u8]) -> Result<(u8, &[u8], &[u8]), CertError> {
    let tag = *b.first().ok_or_else(|| bad("DER: truncated"))?;
    let first = *b.get(1).ok_or_else(|| bad("DER: truncated length"))?;
    let (len, head) = if first < 0x80 {
        (usize::from(first), 2)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 {
            return Err(bad("DER: unsupported length"));
        }
        let bytes = b
            .get(2..2 + n)
            .ok_or_else(|| bad("DER: truncated length"))?;
        (
            bytes
                .iter()
                .fold(0usize, |acc, x| (acc << 8) | usize::from(*x)),
            2 + n,
        )
    };
    let end = head
        .checked_add(len)
        .filter(|e| *e <= b.len())
        .ok_or_else(|| bad("DER: value runs past the end"))?;
    Ok((tag, &b[head..end], &b[end..]))
}

fn expect<'a>(b: &'a [u8], tag: u8, what: &str) -> Result<(&'a [u8], &'a [u8]), CertError> {
    let (t, v, rest) = tlv(b)?;
    if t != tag {
        return Err(bad(format!("DER: expected {what}")));
    }
    Ok((v, rest))
}

/// `UTCTime` / `GeneralizedTime` (`…Z`) as unix seconds.
fn der_time(tag: u8, v: &[u8]) -> Result<i64, CertError> {
    let s = std::str::from_utf8(v).map_err(|_| bad("DER: time is not text"))?;
    let s = s
        .strip_suffix('Z')
        .ok_or_else(|| bad("DER: time not in UTC"))?;
    let (year, rest) = match tag {
        0x17 if s.len() == 12 => {
            let yy: i32 = s[..2].parse().map_err(|_| bad("DER: bad year"))?;
            (if yy < 50 { 2000 + yy } else { 1900 + yy }, &s[2..])
        }
        0x18 if s.len() == 14 => (s[..4].parse().map_err(|_| bad("DER: bad year"))?, &s[4..]),
        _ => return Err(bad("DER: unsupported time")),
    };
    let num = |r: std::ops::Range<usize>| -> Result<u8, CertError> {
        rest.get(r)
            .and_then(|x| x.parse().ok())
            .ok_or_else(|| bad("DER: bad time"))
    };
    let month = time::Month::try_from(num(0..2)?).map_err(|_| bad("DER: bad month"))?;
    let date = time::Date::from_calendar_date(year, month, num(2..4)?)
        .map_err(|_| bad("DER: bad date"))?;
    let t = time::Time::from_hms(num(4..6)?, num(6..8)?, num(8..10)?)
        .map_err(|_| bad("DER: bad time of day"))?;
    Ok(time::PrimitiveDateTime::new(date, t)
        .assume_utc()
        .unix_timestamp())
}

/// The first common name in an X.501 name.
fn common_name(name: &[u8]) -> Option<String> {
    const CN: &[u8] = &[0x55, 0x04, 0x03];
    let mut sets = name;
    while !sets.is_empty() {
        let (set, rest) = expect(sets, 0x31, "RDN").ok()?;
        sets = rest;
        let (atv, _) = expect(set, 0x30, "AttributeTypeAndValue").ok()?;
        let (oid, value) = expect(atv, 0x06, "OID").ok()?;
        if oid == CN {
            let (_, v, _) = tlv(value).ok()?;
            return String::from_utf8(v.to_vec()).ok();
        }
    }
    None
}

/// An X.509 certificate with the fields a federation reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Certificate {
    pub der: Vec<u8>,
    /// The RSA public key as PKCS#1 `RSAPublicKey` DER (what aws-lc-rs verifies with).
    pub rsa_public_key: Vec<u8>,
    /// `CN=…` of the subject (`ADFS Signing - adfs.contoso.com`).
    pub subject_cn: String,
    pub not_before: i64,
    pub not_after: i64,
}

impl Certificate {
    pub fn from_der(der: &[u8]) -> Result<Certificate, CertError> {
        let (cert, _) = expect(der, 0x30, "Certificate")?;
        let (tbs, _) = expect(cert, 0x30, "TBSCertificate")?;
        let mut at = tbs;
        if at.first() == Some(&0xa0) {
            at = tlv(at)?.2; // version
        }
        at = expect(at, 0x02, "serial number")?.1;
        at = expect(at, 0x30, "signature algorithm")?.1;
        at = expect(at, 0x30, "issuer")?.1;
        let (validity, rest) = expect(at, 0x30, "validity")?;
        let (t1, nb, v_rest) = tlv(validity)?;
        let (t2, na, _) = tlv(v_rest)?;
        let (subject, rest) = expect(rest, 0x30, "subject")?;
        let (spki, _) = expect(rest, 0x30, "subject public key info")?;
        let (_, spki_rest) = expect(spki, 0x30, "algorithm")?;
        let (bits, _) = expect(spki_rest, 0x03, "public key bit string")?;
        let key = match bits.split_first() {
            Some((0, key)) => key.to_vec(),
            _ => return Err(bad("DER: public key bit string has unused bits")),
        };
        Ok(Certificate {
            der: der.to_vec(),
            rsa_public_key: key,
            subject_cn: common_name(subject).unwrap_or_default(),
            not_before: der_time(t1, nb)?,
            not_after: der_time(t2, na)?,
        })
    }

    pub fn from_pem(pem: &str) -> Result<Certificate, CertError> {
        Self::from_der(&pem_block(pem, "CERTIFICATE")?)
    }

    /// From the standard base64 an `X509Certificate` element or `x5c` carries (whitespace
    /// allowed).
    pub fn from_base64(b64: &str) -> Result<Certificate, CertError> {
        let clean: String = b64.chars().filter(|c| !c.is_whitespace()).collect();
        let der = base64::engine::general_purpose::STANDARD
            .decode(clean)
            .map_err(|e| bad(format!("certificate base64: {e}")))?;
        Self::from_der(&der)
    }

    /// Standard base64 of the DER, as `X509Certificate` and `-SigningCertificate` carry it.
    pub fn base64(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(&self.der)
    }

    /// The SHA-1 thumbprint in upper-case hex, as `Get-AdfsCertificate` shows it.
    pub fn thumbprint(&self) -> String {
        let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY, &self.der);
        d.as_ref().iter().map(|b| format!("{b:02X}")).collect()
    }
}

/// The signature algorithms accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SigAlg {
    RsaSha256,
    RsaSha1,
}

/// RSASSA-PKCS1-v1_5 verification with `cert`'s key.
pub fn rsa_verify(alg: SigAlg, cert: &Certificate, msg: &[u8], sig: &[u8]) -> bool {
    use aws_lc_rs::signature::{
        UnparsedPublicKey, RSA_PKCS1_2048_8192_SHA1_FOR_LEGACY_USE_ONLY, RSA_PKCS1_2048_8192_SHA256,
    };
    let params = match alg {
        SigAlg::RsaSha256 => &RSA_PKCS1_2048_8192_SHA256,
        SigAlg::RsaSha1 => &RSA_PKCS1_2048_8192_SHA1_FOR_LEGACY_USE_ONLY,
    };
    UnparsedPublicKey::new(params, &cert.rsa_public_key)
        .verify(msg, sig)
        .is_ok()
}

/// A token-signing key: the RSA key pair (parsed once) and its certificate.
#[derive(Clone)]
pub struct SigningKey {
    pair: Arc<KeyPair>,
    pub cert: Certificate,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("subject", &self.cert.subject_cn)
            .field("thumbprint", &self.cert.thumbprint())
            .finish()
    }
}

impl SigningKey {
    /// From PKCS#8 `PRIVATE KEY` PEM and `CERTIFICATE` PEM; the key must match the certificate.
    pub fn from_pem(key_pem: &str, cert_pem: &str) -> Result<SigningKey, CertError> {
        let pkcs8 = pem_block(key_pem, "PRIVATE KEY")?;
        let pair = KeyPair::from_pkcs8(&pkcs8).map_err(|e| bad(format!("private key: {e}")))?;
        let cert = Certificate::from_pem(cert_pem)?;
        let probe = b"lab-kit key check";
        let key = SigningKey {
            pair: Arc::new(pair),
            cert,
        };
        let sig = key.sign_sha256(probe)?;
        if !rsa_verify(SigAlg::RsaSha256, &key.cert, probe, &sig) {
            return Err(bad("the private key does not match the certificate"));
        }
        Ok(key)
    }

    /// RSASSA-PKCS1-v1_5 with SHA-256.
    pub fn sign_sha256(&self, msg: &[u8]) -> Result<Vec<u8>, CertError> {
        let mut sig = vec![0u8; self.pair.public_modulus_len()];
        self.pair
            .sign(
                &aws_lc_rs::signature::RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                msg,
                &mut sig,
            )
            .map_err(|e| bad(format!("sign: {e}")))?;
        Ok(sig)
    }
}
