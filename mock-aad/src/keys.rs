//! Token-signing keys: the published key set, the active key, rollover and retirement.
//!
//! Four RSA-2048 key pairs with self-signed certificates (`CN=accounts.accesscontrol.windows.net`,
//! as Azure AD's) ship in `keys/`, so starting a service never generates a key. Each key is parsed
//! once into an aws-lc-rs key pair and reused for every signature. A rollover makes the next key the
//! signing key while the old one stays published until it is retired — the window in which
//! relying parties (Exchange) must refresh their metadata. Past the shipped pool, rollover
//! generates a fresh key (an admin action, never on a start path).

use std::sync::{Arc, OnceLock};

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::KeyPair as _;
use aws_lc_rs::signature::RSA_PKCS1_SHA256;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivatePkcs8KeyDer};
use serde_json::{json, Map, Value};

const SHIPPED: [(&str, &str); 4] = [
    (
        include_str!("../keys/key1.pem"),
        include_str!("../keys/cert1.pem"),
    ),
    (
        include_str!("../keys/key2.pem"),
        include_str!("../keys/cert2.pem"),
    ),
    (
        include_str!("../keys/key3.pem"),
        include_str!("../keys/cert3.pem"),
    ),
    (
        include_str!("../keys/key4.pem"),
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
    pair: Arc<KeyPair>,
    /// The base64url JWT headers, made once: v1 (with `x5t`) and v2.
    header_v1: String,
    header_v2: String,
    /// Big-endian modulus and exponent, for JWKs.
    pub n: Vec<u8>,
    pub e: Vec<u8>,
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
        let digest =
            aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY, cert_der);
        let kid = URL_SAFE_NO_PAD.encode(digest.as_ref());
        Ok(SigningKey {
            header_v1: Self::header(&kid, true),
            header_v2: Self::header(&kid, false),
            kid,
            cert_der: cert_der.to_vec(),
            pair: Arc::new(pair),
            n,
            e,
        })
    }

    /// Generates a new RSA-2048 key with a self-signed certificate (rollover past the shipped pool).
    pub fn generate() -> Result<Self, KeyError> {
        let pair = KeyPair::generate(KeySize::Rsa2048)
            .map_err(|e| KeyError::Material(format!("generate: {e:?}")))?;
        let pkcs8 = pair
            .as_der()
            .map_err(|e| KeyError::Material(format!("export: {e:?}")))?;
        let der = PrivatePkcs8KeyDer::from(pkcs8.as_ref().to_vec());
        let rc_key = rcgen::KeyPair::from_pkcs8_der_and_sign_algo(&der, &rcgen::PKCS_RSA_SHA256)
            .map_err(|e| KeyError::Material(format!("rcgen key: {e}")))?;
        let mut params = rcgen::CertificateParams::default();
        params.distinguished_name.push(
            rcgen::DnType::CommonName,
            "accounts.accesscontrol.windows.net",
        );
        let cert = params
            .self_signed(&rc_key)
            .map_err(|e| KeyError::Material(format!("rcgen cert: {e}")))?;
        Self::from_der(pkcs8.as_ref(), cert.der())
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
        let mut sig = vec![0u8; self.pair.public_modulus_len()];
        let rng = aws_lc_rs::rand::SystemRandom::new();
        // Signing with a valid parsed key and a correctly sized buffer cannot fail.
        self.pair
            .sign(&RSA_PKCS1_SHA256, &rng, msg, &mut sig)
            .expect("RSA signing with a parsed key");
        sig
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
            SigningKey::from_pem(k, c).expect("shipped key material is valid")
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
