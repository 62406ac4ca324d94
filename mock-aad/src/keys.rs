//! Token-signing keys: the published key set, the active key, rollover and retirement.
//!
//! Four RSA-2048 keys with self-signed certificates (`CN=accounts.accesscontrol.windows.net`,
//! as Azure AD's) ship in `keys/`, so starting a service never generates a key. They are
//! four-prime keys (RFC 8017 §3.2, private JWKs with `oth`, signed by [`crate::mprsa`]): to every
//! verifier they are ordinary RSA-2048 keys, and a signature costs about a third of a two-prime
//! one. Each key is parsed once and reused for every signature. A rollover makes the next key the
//! signing key while the old one stays published until it is retired — the window in which
//! relying parties (Exchange) must refresh their metadata. Past the shipped pool, rollover
//! generates a fresh four-prime key (an admin action, never on a start path). Two-prime PKCS #8
//! keys (AD FS's, the forge's attacker key) sign through aws-lc-rs.

use std::sync::{Arc, OnceLock};

use aws_lc_rs::rsa::KeyPair;
use aws_lc_rs::signature::KeyPair as _;
use aws_lc_rs::signature::RSA_PKCS1_SHA256;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivatePkcs8KeyDer};
use serde_json::{json, Map, Value};

use crate::mprsa::MultiPrimeKey;

/// The shipped keys: private JWK and certificate PEM (made by
/// `cargo run -p mock-aad --example make_signing_keys`).
const SHIPPED: [(&str, &str); 4] = [
    (
        include_str!("../keys/key1.jwk"),
        include_str!("../keys/cert1.pem"),
    ),
    (
        include_str!("../keys/key2.jwk"),
        include_str!("../keys/cert2.pem"),
    ),
    (
        include_str!("../keys/key3.jwk"),
        include_str!("../keys/cert3.pem"),
    ),
    (
        include_str!("../keys/key4.jwk"),
        include_str!("../keys/cert4.pem"),
    ),
];

/// Where a key is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyState {
    /// Signs new tokens and is published.
    Active,
    /// Published (tokens it signed still verify) but no longer signs.
    Published,
}

/// One signing key with its certificate.
#[derive(Clone)]
pub struct SigningKey {
    /// Base64url SHA-1 thumbprint of the certificate: both `kid` and `x5t`.
    pub kid: String,
    pub cert_der: Vec<u8>,
    signer: Signer,
    /// The base64url JWT headers, made once: v1 (with `x5t`) and v2.
    header_v1: String,
    header_v2: String,
    /// Big-endian modulus and exponent, for JWKs.
    pub n: Vec<u8>,
    pub e: Vec<u8>,
}

/// What makes the signatures of a key.
#[derive(Clone)]
enum Signer {
    /// A two-prime PKCS #8 key, through aws-lc-rs.
    Pair(Arc<KeyPair>),
    /// A multi-prime JWK key, through [`crate::mprsa`].
    MultiPrime(Arc<MultiPrimeKey>),
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .finish()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("bad key material: {0}")]
    Material(String),
    #[error("no key with kid '{0}'")]
    UnknownKid(String),
    #[error("the active signing key cannot be retired; roll over first")]
    RetireActive,
}

impl SigningKey {
    /// Builds a key from PKCS#8 and certificate PEM text.
    pub fn from_pem(key_pem: &str, cert_pem: &str) -> Result<Self, KeyError> {
        let key = PrivatePkcs8KeyDer::from_pem_slice(key_pem.as_bytes())
            .map_err(|e| KeyError::Material(format!("private key: {e}")))?;
        let cert = CertificateDer::from_pem_slice(cert_pem.as_bytes())
            .map_err(|e| KeyError::Material(format!("certificate: {e}")))?;
        Self::from_der(key.secret_pkcs8_der(), cert.as_ref())
    }

    fn from_der(pkcs8: &[u8], cert_der: &[u8]) -> Result<Self, KeyError> {
        let pair = KeyPair::from_pkcs8(pkcs8).map_err(|e| KeyError::Material(format!("{e:?}")))?;
        let public = pair.public_key();
        let n = public.modulus().big_endian_without_leading_zero().to_vec();
        let e = public.exponent().big_endian_without_leading_zero().to_vec();
        Ok(Self::with_signer(
            Signer::Pair(Arc::new(pair)),
            n,
            e,
            cert_der,
        ))
    }

    /// Builds a key from a private JWK (RFC 7518 §6.3, with `oth` for a multi-prime key) and the
    /// certificate PEM that holds its public key.
    pub fn from_jwk(jwk: &str, cert_pem: &str) -> Result<Self, KeyError> {
        let jwk: Value = serde_json::from_str(jwk)
            .map_err(|e| KeyError::Material(format!("private key JWK: {e}")))?;
        let key = MultiPrimeKey::from_jwk(&jwk)
            .map_err(|e| KeyError::Material(format!("private key JWK: {e}")))?;
        let cert = CertificateDer::from_pem_slice(cert_pem.as_bytes())
            .map_err(|e| KeyError::Material(format!("certificate: {e}")))?;
        Self::from_multi_prime(key, cert.as_ref())
    }

    fn from_multi_prime(key: MultiPrimeKey, cert_der: &[u8]) -> Result<Self, KeyError> {
        // The certificate's subjectPublicKey holds the PKCS #1 public key verbatim.
        let public = key.public_der();
        if !cert_der.windows(public.len()).any(|w| w == public) {
            return Err(KeyError::Material(
                "certificate: it does not hold the private key's public key".into(),
            ));
        }
        let (n, e) = (key.n().to_vec(), key.e().to_vec());
        Ok(Self::with_signer(
            Signer::MultiPrime(Arc::new(key)),
            n,
            e,
            cert_der,
        ))
    }

    fn with_signer(signer: Signer, n: Vec<u8>, e: Vec<u8>, cert_der: &[u8]) -> Self {
        let digest =
            aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY, cert_der);
        let kid = URL_SAFE_NO_PAD.encode(digest.as_ref());
        SigningKey {
            header_v1: Self::header(&kid, true),
            header_v2: Self::header(&kid, false),
            kid,
            cert_der: cert_der.to_vec(),
            signer,
            n,
            e,
        }
    }

    /// Generates a new four-prime RSA-2048 key with a self-signed certificate (rollover past the
    /// shipped pool, and the tool that made the shipped keys).
    pub fn generate() -> Result<Self, KeyError> {
        let key =
            MultiPrimeKey::generate().map_err(|e| KeyError::Material(format!("generate: {e}")))?;
        let mut params = rcgen::CertificateParams::default();
        params.distinguished_name.push(
            rcgen::DnType::CommonName,
            "accounts.accesscontrol.windows.net",
        );
        let now = time::OffsetDateTime::now_utc();
        params.not_before = now;
        params.not_after = now.saturating_add(time::Duration::days(20 * 365));
        let cert = params
            .self_signed(&CertSigner(&key))
            .map_err(|e| KeyError::Material(format!("rcgen cert: {e}")))?;
        Self::from_multi_prime(key, cert.der())
    }

    /// The private key as a JWK (a multi-prime key only; `None` for a PKCS #8 one).
    pub fn private_jwk(&self) -> Option<Value> {
        match &self.signer {
            Signer::MultiPrime(k) => k.to_jwk().ok(),
            Signer::Pair(_) => None,
        }
    }

    /// The certificate as PEM.
    pub fn cert_pem(&self) -> String {
        let b64 = STANDARD.encode(&self.cert_der);
        let mut pem = String::from("-----BEGIN CERTIFICATE-----\n");
        for line in b64.as_bytes().chunks(64) {
            pem.push_str(std::str::from_utf8(line).unwrap_or_default());
            pem.push('\n');
        }
        pem.push_str("-----END CERTIFICATE-----\n");
        pem
    }

    /// `x5c` entry: standard base64 of the certificate DER.
    pub fn x5c(&self) -> String {
        STANDARD.encode(&self.cert_der)
    }

    /// The JWK as Azure AD publishes it (`kty, use, kid, x5t, n, e, x5c[, issuer]`).
    pub fn jwk(&self, issuer: Option<&str>) -> Value {
        let mut m = Map::new();
        m.insert("kty".into(), json!("RSA"));
        m.insert("use".into(), json!("sig"));
        m.insert("kid".into(), json!(self.kid));
        m.insert("x5t".into(), json!(self.kid));
        m.insert("n".into(), json!(URL_SAFE_NO_PAD.encode(&self.n)));
        m.insert("e".into(), json!(URL_SAFE_NO_PAD.encode(&self.e)));
        m.insert("x5c".into(), json!([self.x5c()]));
        if let Some(iss) = issuer {
            m.insert("issuer".into(), json!(iss));
        }
        Value::Object(m)
    }

    /// Signs a JWT: header `{"typ":"JWT","alg":"RS256","x5t":kid,"kid":kid}` (v1 order; v2
    /// tokens omit `x5t`), the given claims in the given order.
    pub fn sign_jwt(&self, claims: &Map<String, Value>, with_x5t: bool) -> String {
        let h = if with_x5t {
            &self.header_v1
        } else {
            &self.header_v2
        };
        // A map of strings and numbers always serializes.
        let payload = serde_json::to_vec(claims).unwrap_or_default();
        let mut jwt = String::with_capacity(h.len() + payload.len() * 4 / 3 + 350);
        jwt.push_str(h);
        jwt.push('.');
        URL_SAFE_NO_PAD.encode_string(&payload, &mut jwt);
        let sig = self.sign(jwt.as_bytes());
        jwt.push('.');
        URL_SAFE_NO_PAD.encode_string(sig, &mut jwt);
        jwt
    }

    /// The encoded JWT header for this key (see [`SigningKey::sign_jwt`]).
    fn header(kid: &str, with_x5t: bool) -> String {
        let mut header = Map::new();
        header.insert("typ".into(), json!("JWT"));
        header.insert("alg".into(), json!("RS256"));
        if with_x5t {
            header.insert("x5t".into(), json!(kid));
        }
        header.insert("kid".into(), json!(kid));
        URL_SAFE_NO_PAD.encode(Value::Object(header).to_string())
    }

    /// RS256 (PKCS#1 v1.5, SHA-256) signature.
    pub fn sign(&self, msg: &[u8]) -> Vec<u8> {
        match &self.signer {
            Signer::Pair(pair) => {
                let mut sig = vec![0u8; pair.public_modulus_len()];
                let rng = aws_lc_rs::rand::SystemRandom::new();
                // Signing with a valid parsed key and a correctly sized buffer cannot fail.
                pair.sign(&RSA_PKCS1_SHA256, &rng, msg, &mut sig)
                    .expect("RSA signing with a parsed key");
                sig
            }
            // Fails only when aws-lc cannot allocate.
            Signer::MultiPrime(key) => key
                .sign_pkcs1_sha256(msg)
                .expect("RSA signing with a checked key"),
        }
    }
}

/// A multi-prime key as rcgen's signer of a self-signed certificate.
struct CertSigner<'a>(&'a MultiPrimeKey);

impl rcgen::PublicKeyData for CertSigner<'_> {
    fn der_bytes(&self) -> &[u8] {
        self.0.public_der()
    }

    fn algorithm(&self) -> &'static rcgen::SignatureAlgorithm {
        &rcgen::PKCS_RSA_SHA256
    }
}

impl rcgen::SigningKey for CertSigner<'_> {
    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, rcgen::Error> {
        self.0
            .sign_pkcs1_sha256(msg)
            .map_err(|_| rcgen::Error::RemoteKeyError)
    }
}

/// Shipped key `i`, parsed on first use and shared by every key set of the process after that
/// (a key pair is an `Arc`): a process that starts many labs (the scenario library starts two
/// per scenario) parses each PEM once.
fn shipped_key(i: usize) -> SigningKey {
    static PARSED: [OnceLock<SigningKey>; SHIPPED.len()] =
        [const { OnceLock::new() }; SHIPPED.len()];
    PARSED[i]
        .get_or_init(|| {
            let (k, c) = SHIPPED[i];
            SigningKey::from_jwk(k, c).expect("shipped key material is valid")
        })
        .clone()
}

/// The published keys; exactly one is active.
#[derive(Debug, Clone)]
pub struct KeySet {
    keys: Vec<SigningKey>,
    active: usize,
    /// Index of the next shipped key a rollover takes.
    next_shipped: usize,
}

impl KeySet {
    /// The default set: shipped key 1 active, key 2 published (Azure AD always lists more than
    /// one key, so a relying party that caches the whole set survives a rollover).
    pub fn shipped() -> Self {
        let keys = (0..2).map(shipped_key).collect();
        KeySet {
            keys,
            active: 0,
            next_shipped: 2,
        }
    }

    pub fn active(&self) -> &SigningKey {
        &self.keys[self.active]
    }

    /// Every published key, active first.
    pub fn published(&self) -> impl Iterator<Item = (&SigningKey, KeyState)> {
        let active = self.active;
        std::iter::once((&self.keys[active], KeyState::Active)).chain(
            self.keys
                .iter()
                .enumerate()
                .filter(move |(i, _)| *i != active)
                .map(|(_, k)| (k, KeyState::Published)),
        )
    }

    pub fn get(&self, kid: &str) -> Option<&SigningKey> {
        self.keys.iter().find(|k| k.kid == kid)
    }

    /// Makes a new key the signing key. The old one stays published. Returns the new kid.
    ///
    /// The next key is the first published-but-inactive key added after the active one; if none,
    /// the next shipped key; past the pool, a generated one.
    pub fn roll(&mut self) -> Result<String, KeyError> {
        if self.active + 1 < self.keys.len() {
            self.active += 1;
        } else {
            let key = if self.next_shipped < SHIPPED.len() {
                let key = shipped_key(self.next_shipped);
                self.next_shipped += 1;
                key
            } else {
                SigningKey::generate()?
            };
            self.keys.push(key);
            self.active = self.keys.len() - 1;
        }
        Ok(self.active().kid.clone())
    }

    /// Publishes an additional key that does not sign yet (the state before a rollover).
    pub fn add_next(&mut self) -> Result<String, KeyError> {
        let key = if self.next_shipped < SHIPPED.len() {
            let key = shipped_key(self.next_shipped);
            self.next_shipped += 1;
            key
        } else {
            SigningKey::generate()?
        };
        let kid = key.kid.clone();
        self.keys.push(key);
        Ok(kid)
    }

    /// Stops publishing a key. Tokens it signed no longer verify once relying parties refresh.
    pub fn retire(&mut self, kid: &str) -> Result<(), KeyError> {
        let idx = self
            .keys
            .iter()
            .position(|k| k.kid == kid)
            .ok_or_else(|| KeyError::UnknownKid(kid.to_string()))?;
        if idx == self.active {
            return Err(KeyError::RetireActive);
        }
        self.keys.remove(idx);
        if idx < self.active {
            self.active -= 1;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_keys_parse_and_sign_verifiably() {
        let set = KeySet::shipped();
        let key = set.active();
        assert_eq!(key.kid.len(), 27, "kid is a 27-char base64url SHA-1");
        assert_eq!(key.e, vec![1, 0, 1]);
        let mut claims = Map::new();
        claims.insert("aud".into(), json!("https://mail.contoso.com/"));
        let jwt = key.sign_jwt(&claims, true);
        let parts: Vec<&str> = jwt.split('.').collect();
        assert_eq!(parts.len(), 3);
        let header: Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
        assert_eq!(
            header.to_string(),
            format!(
                r#"{{"typ":"JWT","alg":"RS256","x5t":"{0}","kid":"{0}"}}"#,
                key.kid
            )
        );
        let public = aws_lc_rs::signature::RsaPublicKeyComponents {
            n: &key.n,
            e: &key.e,
        };
        let sig = URL_SAFE_NO_PAD.decode(parts[2]).unwrap();
        public
            .verify(
                &aws_lc_rs::signature::RSA_PKCS1_2048_8192_SHA256,
                format!("{}.{}", parts[0], parts[1]).as_bytes(),
                &sig,
            )
            .expect("signature verifies with the published n/e");
    }

    #[test]
    fn shipped_keys_are_four_prime_and_their_certificates_hold_them() {
        for (i, (jwk, cert)) in SHIPPED.iter().enumerate() {
            let key = SigningKey::from_jwk(jwk, cert).unwrap();
            let private = key.private_jwk().unwrap();
            assert_eq!(private["oth"].as_array().unwrap().len(), 2, "key {}", i + 1);
            assert_eq!(key.n.len(), 256);
            // The JWK read back is the file's key.
            let file: Value = serde_json::from_str(jwk).unwrap();
            assert_eq!(private, file, "key {}", i + 1);
            assert_eq!(key.cert_pem(), *cert, "key {}", i + 1);
        }
        // A certificate of another key is refused: its kid would name a key that did not sign.
        assert_eq!(
            SigningKey::from_jwk(SHIPPED[0].0, SHIPPED[1].1)
                .unwrap_err()
                .to_string(),
            "bad key material: certificate: it does not hold the private key's public key"
        );
        assert!(SigningKey::from_jwk("{", SHIPPED[0].1)
            .unwrap_err()
            .to_string()
            .starts_with("bad key material: private key JWK: "));
    }

    /// A signature of `key` verifies with its published `n` and `e`, and only for its message.
    fn assert_signs_verifiably(key: &SigningKey) {
        let public = aws_lc_rs::signature::RsaPublicKeyComponents {
            n: &key.n,
            e: &key.e,
        };
        let alg = &aws_lc_rs::signature::RSA_PKCS1_2048_8192_SHA256;
        let sig = key.sign(b"m");
        public.verify(alg, b"m", &sig).unwrap();
        assert!(public.verify(alg, b"n", &sig).is_err());
    }

    #[test]
    fn a_generated_key_is_four_prime_with_a_self_signed_certificate_of_azure_ads_name() {
        let key = SigningKey::generate().unwrap();
        assert_eq!(
            key.private_jwk().unwrap()["oth"].as_array().unwrap().len(),
            2
        );
        let again =
            SigningKey::from_jwk(&key.private_jwk().unwrap().to_string(), &key.cert_pem()).unwrap();
        assert_eq!(again.kid, key.kid);
        let cn = b"accounts.accesscontrol.windows.net";
        assert!(key.cert_der.windows(cn.len()).any(|w| w == cn));
        assert_signs_verifiably(&key);
    }

    #[test]
    fn a_two_prime_pkcs8_key_still_signs_through_aws_lc() {
        let key = SigningKey::from_pem(
            include_str!("../keys/attacker-key.pem"),
            include_str!("../keys/attacker-cert.pem"),
        )
        .unwrap();
        assert!(key.private_jwk().is_none());
        assert_signs_verifiably(&key);
    }

    #[test]
    fn rollover_keeps_old_key_published_until_retired() {
        let mut set = KeySet::shipped();
        let old = set.active().kid.clone();
        let new = set.roll().unwrap();
        assert_ne!(old, new);
        assert_eq!(set.active().kid, new);
        assert!(set.get(&old).is_some());
        assert!(matches!(set.retire(&new), Err(KeyError::RetireActive)));
        set.retire(&old).unwrap();
        assert!(set.get(&old).is_none());
        let kids: Vec<_> = set.published().map(|(k, _)| k.kid.clone()).collect();
        assert_eq!(kids[0], new);
    }

    #[test]
    fn rollover_past_the_shipped_pool_generates() {
        let mut set = KeySet::shipped();
        let mut seen = std::collections::HashSet::new();
        seen.insert(set.active().kid.clone());
        for _ in 0..4 {
            assert!(seen.insert(set.roll().unwrap()));
        }
        assert_eq!(set.published().count(), 5);
    }
}
