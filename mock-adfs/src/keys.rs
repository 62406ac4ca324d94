//! The token-signing certificates: which shipped key signs (primary), which is only published
//! (secondary), and the rollover `Update-AdfsCertificate` performs.
//!
//! Two RSA-2048 keys with self-signed certificates (`CN=ADFS Signing - adfs.contoso.com`) ship
//! in `keys/` and are parsed once per process; starting the service never generates a key.
//! A rollover alternates between them: without `-Urgent` the other certificate is added as
//! secondary (published in federation metadata, not signing yet — ADFS's AutoCertificateRollover
//! stage); with `-Urgent` it becomes primary at once and the old one stays published as
//! secondary. Azure AD learns of the change only when its domain federation settings are
//! updated, so tokens signed after an urgent rollover fail there until then.

use std::sync::OnceLock;

use lab_kit::saml::SigningKey;
use serde_json::{json, Value};

const SHIPPED: [(&str, &str); 2] = [
    (
        include_str!("../keys/token-signing1.key.pem"),
        include_str!("../keys/token-signing1.cert.pem"),
    ),
    (
        include_str!("../keys/token-signing2.key.pem"),
        include_str!("../keys/token-signing2.cert.pem"),
    ),
];

/// The shipped keys, parsed once.
pub fn shipped() -> &'static [SigningKey] {
    static KEYS: OnceLock<Vec<SigningKey>> = OnceLock::new();
    KEYS.get_or_init(|| {
        SHIPPED
            .iter()
            .map(|(k, c)| SigningKey::from_pem(k, c).expect("a shipped token-signing key parses"))
            .collect()
    })
}

/// Which shipped key is primary and which (if any) secondary; the first signs by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TokenSigning {
    pub primary: usize,
    pub secondary: Option<usize>,
}

impl TokenSigning {
    /// The key that signs.
    pub fn signing_key(&self) -> &'static SigningKey {
        &shipped()[self.primary]
    }

    /// The published certificates' keys: primary first.
    pub fn published(&self) -> Vec<&'static SigningKey> {
        let keys = shipped();
        std::iter::once(self.primary)
            .chain(self.secondary)
            .map(|i| &keys[i])
            .collect()
    }

    /// `Update-AdfsCertificate -CertificateType Token-Signing [-Urgent]`.
    pub fn update(&mut self, urgent: bool) {
        let next = (self.primary + 1) % shipped().len();
        if urgent {
            self.secondary = Some(self.primary);
            self.primary = next;
        } else {
            self.secondary = Some(next);
        }
    }

    /// `Get-AdfsCertificate -CertificateType Token-Signing`, in the cmdlet's property names.
    pub fn listing(&self) -> Value {
        let keys = shipped();
        let row = |i: usize, primary: bool| {
            let c = &keys[i].cert;
            json!({
                "CertificateType": "Token-Signing",
                "IsPrimary": primary,
                "StoreLocation": "CurrentUser",
                "StoreName": "My",
                "Thumbprint": c.thumbprint(),
                "Subject": format!("CN={}", c.subject_cn),
                "NotBefore": rfc3339(c.not_before),
                "NotAfter": rfc3339(c.not_after),
                "Certificate": c.base64(),
            })
        };
        Value::Array(
            std::iter::once(row(self.primary, true))
                .chain(self.secondary.map(|i| row(i, false)))
                .collect(),
        )
    }
}

/// Unix seconds as RFC 3339 (`2017-01-01T00:00:00Z`).
pub fn rfc3339(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}
