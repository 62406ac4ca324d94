//! AuthServer metadata: what Exchange knows about Azure AD, learned only over HTTP.
//!
//! An AzureAD AuthServer's `AuthMetadataUrl` serves a WS-Federation `federationmetadata.xml`.
//! Exchange reads its `entityID` (`https://sts.windows.net/{tid}/`, the issuer and the tenant) and
//! the certificates under `KeyDescriptor use="signing"`; a token's `kid`/`x5t` is the base64url
//! SHA-1 thumbprint of one of them. The certificates are kept as parsed RSA public keys
//! (PKCS#1, taken out of the certificate by a small DER walk — no X.509 library needed for that
//! one field). Fetching happens with no lock held; the cache is a plain map the caller swaps.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use quick_xml::events::Event;
use quick_xml::Reader;

/// Lab name mapping: metadata URLs on these hosts are fetched from `Config::aad_url`.
pub const AAD_HOSTS: [&str; 4] = [
    "login.windows.net",
    "login.microsoftonline.com",
    "login.microsoft.com",
    "sts.windows.net",
];

/// Real Exchange refreshes AuthServer metadata every 8 hours.
pub const REFRESH_SECONDS: i64 = 8 * 3600;

/// The least lab time between two metadata downloads caused by tokens whose `kid` no cached
/// document lists (per AuthServer), so a flood of forged tokens with random kids costs one
/// download, not one each.
///
/// Microsoft.IdentityModel's `ConfigurationManager<T>` rate-limits the same refresh:
/// `RequestRefresh()` (what a validator calls on an unknown signing key) only makes the next
/// `GetConfigurationAsync()` download when it is the first request or `RefreshInterval` has passed,
/// and `DefaultRefreshInterval` is 5 minutes ("5 minutes is the default time interval that must
/// pass for RequestRefresh() to obtain a new configuration": ConfigurationManager.cs in
/// AzureAD/azure-activedirectory-identitymodel-extensions-for-dotnet, and learn.microsoft.com,
/// `ConfigurationManager<T>.DefaultRefreshInterval`). That Exchange's own token validation uses
/// the same interval is inferred, not confirmed.
pub const UNKNOWN_KID_REFRESH_SECONDS: i64 = 5 * 60;

/// One trusted signing certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningCert {
    /// base64url(SHA-1(DER)) — the token header's `kid` and `x5t`.
    pub kid: String,
    /// The RSA public key, PKCS#1 `RSAPublicKey` DER.
    pub rsa_public_key: Vec<u8>,
}

/// What one metadata document says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Metadata {
    pub entity_id: String,
    /// The tenant id from `entityID` (`https://sts.windows.net/{tid}/`), if it has that shape.
    pub tenant_id: Option<String>,
    pub certs: Vec<SigningCert>,
    /// Lab time (unix seconds) of the fetch.
    pub fetched_at: i64,
}

impl Metadata {
    pub fn cert(&self, kid: &str) -> Option<&SigningCert> {
        self.certs.iter().find(|c| c.kid == kid)
    }
}

/// Parses a WS-Federation metadata document.
pub fn parse(xml: &str, fetched_at: i64) -> Result<Metadata, String> {
    let mut reader = Reader::from_str(xml);
    let mut entity_id = None;
    // Depth of the KeyDescriptor use="signing" we are inside, if any.
    let mut depth = 0usize;
    let mut signing_at: Option<usize> = None;
    let mut in_cert = false;
    let mut certs: Vec<SigningCert> = Vec::new();
    let mut text = String::new();
    loop {
        match reader.read_event() {
            Err(e) => {
                return Err(format!(
                    "malformed XML at byte {}: {e}",
                    reader.buffer_position()
                ))
            }
            Ok(Event::Eof) => break,
            Ok(Event::Start(e)) => {
                depth += 1;
                let name = e.local_name();
                let local = name.as_ref();
                if local == b"EntityDescriptor" && entity_id.is_none() {
                    entity_id = attr(&e, b"entityID");
                }
                if local == b"KeyDescriptor" && signing_at.is_none() {
                    let usage = attr(&e, b"use");
                    if usage.as_deref().is_none_or(|u| u == "signing") {
                        signing_at = Some(depth);
                    }
                }
                if local == b"X509Certificate" && signing_at.is_some() {
                    in_cert = true;
                    text.clear();
                }
            }
            Ok(Event::Empty(e)) => {
                if e.local_name().as_ref() == b"EntityDescriptor" && entity_id.is_none() {
                    entity_id = attr(&e, b"entityID");
                }
            }
            Ok(Event::Text(t)) if in_cert => {
                text.push_str(&String::from_utf8_lossy(t.as_ref()));
            }
            Ok(Event::End(e)) => {
                if e.local_name().as_ref() == b"X509Certificate" && in_cert {
                    in_cert = false;
                    let b64: String = text.chars().filter(|c| !c.is_whitespace()).collect();
                    let der = STANDARD
                        .decode(b64.as_bytes())
                        .map_err(|e| format!("X509Certificate is not base64: {e}"))?;
                    let cert = cert_from_der(&der)?;
                    if !certs.iter().any(|c| c.kid == cert.kid) {
                        certs.push(cert);
                    }
                }
                if signing_at == Some(depth) {
                    signing_at = None;
                }
                depth = depth.saturating_sub(1);
            }
            Ok(_) => {}
        }
    }
    let entity_id = entity_id.ok_or_else(|| "no EntityDescriptor entityID".to_string())?;
    if certs.is_empty() {
        return Err("no signing certificate under KeyDescriptor use=\"signing\"".into());
    }
    let tenant_id = tenant_of_issuer(&entity_id);
    Ok(Metadata {
        entity_id,
        tenant_id,
        certs,
        fetched_at,
    })
}

/// `https://sts.windows.net/{tid}/` → `tid`.
pub fn tenant_of_issuer(iss: &str) -> Option<String> {
    tenant_in_issuer(iss).map(str::to_string)
}

/// [`tenant_of_issuer`], borrowed from `iss`.
pub fn tenant_in_issuer(iss: &str) -> Option<&str> {
    let rest = iss.strip_prefix("https://sts.windows.net/")?;
    let tid = rest.strip_suffix('/').unwrap_or(rest);
    (!tid.is_empty() && !tid.contains('/')).then_some(tid)
}

fn attr(e: &quick_xml::events::BytesStart<'_>, key: &[u8]) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| a.key.local_name().as_ref() == key)
        .and_then(|a| a.unescape_value().ok().map(|v| v.into_owned()))
}

/// Thumbprint and RSA public key of a DER certificate.
pub fn cert_from_der(der: &[u8]) -> Result<SigningCert, String> {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY, der);
    Ok(SigningCert {
        kid: URL_SAFE_NO_PAD.encode(digest.as_ref()),
        rsa_public_key: rsa_key_of_cert(der).ok_or("certificate has no RSA public key")?,
    })
}

/// One DER TLV: (tag, content, rest).
fn tlv(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (first as usize, rest)
    } else {
        let n = (first & 0x7f) as usize;
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | *b as usize);
        (len, &rest[n..])
    };
    if rest.len() < len {
        return None;
    }
    Some((tag, &rest[..len], &rest[len..]))
}

/// Certificate → tbsCertificate → subjectPublicKeyInfo → BIT STRING (PKCS#1 RSAPublicKey),
/// checking the algorithm is rsaEncryption (1.2.840.113549.1.1.1).
fn rsa_key_of_cert(der: &[u8]) -> Option<Vec<u8>> {
    const RSA_OID: [u8; 9] = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
    let (0x30, cert, _) = tlv(der)? else {
        return None;
    };
    let (0x30, mut tbs, _) = tlv(cert)? else {
        return None;
    };
    // Optional [0] version.
    if tbs.first() == Some(&0xa0) {
        tbs = tlv(tbs)?.2;
    }
    // serialNumber, signature, issuer, validity, subject.
    for _ in 0..5 {
        tbs = tlv(tbs)?.2;
    }
    let (0x30, spki, _) = tlv(tbs)? else {
        return None;
    };
    let (0x30, alg, rest) = tlv(spki)? else {
        return None;
    };
    let (0x06, oid, _) = tlv(alg)? else {
        return None;
    };
    if oid != RSA_OID {
        return None;
    }
    let (0x03, bits, _) = tlv(rest)? else {
        return None;
    };
    let (&unused, key) = bits.split_first()?;
    (unused == 0).then(|| key.to_vec())
}

/// The URL actually fetched: AAD hosts are mapped onto `aad_url` when the lab sets one.
pub fn effective_url(metadata_url: &str, aad_url: Option<&str>) -> String {
    let Some(base) = aad_url else {
        return metadata_url.to_string();
    };
    let Ok(u) = url::Url::parse(metadata_url) else {
        return metadata_url.to_string();
    };
    let host = u.host_str().unwrap_or_default().to_ascii_lowercase();
    if !AAD_HOSTS.contains(&host.as_str()) {
        return metadata_url.to_string();
    }
    let mut out = base.trim_end_matches('/').to_string();
    out.push_str(u.path());
    if let Some(q) = u.query() {
        out.push('?');
        out.push_str(q);
    }
    out
}

/// Why a metadata download failed. `Display` is the lab's own wording (what
/// `x-ms-diagnostics` and the admin API's `metadata.error` show);
/// [`web_exception_message`](Self::web_exception_message) is how .NET's `WebException` words it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FetchError {
    /// No HTTP answer: refused connection, unknown host, timeout.
    Transport {
        url: String,
        detail: String,
        timed_out: bool,
    },
    /// An HTTP answer that is not a success.
    Status { url: String, status: u16 },
    /// The body could not be read.
    Body { url: String, detail: String },
    /// The body is not a metadata document with signing keys.
    Document { url: String, detail: String },
}

impl std::fmt::Display for FetchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FetchError::Transport { url, detail, .. } => write!(f, "GET {url}: {detail}"),
            FetchError::Status { url, status } => write!(f, "GET {url}: HTTP {status}"),
            FetchError::Body { url, detail } => write!(f, "GET {url}: reading body: {detail}"),
            FetchError::Document { url, detail } => write!(f, "{url}: {detail}"),
        }
    }
}

impl FetchError {
    /// The failure as .NET Framework's `WebException.Message` states it (`The remote server
    /// returned an error: (503) Server Unavailable.`, `Unable to connect to the remote server`,
    /// `The operation has timed out`); a document that is not metadata is described plainly.
    pub fn web_exception_message(&self) -> String {
        match self {
            FetchError::Transport {
                timed_out: true, ..
            } => "The operation has timed out".into(),
            FetchError::Transport { .. } => "Unable to connect to the remote server".into(),
            FetchError::Status { status, .. } => {
                format!(
                    "The remote server returned an error: ({status}) {}.",
                    dotnet_status_text(*status)
                )
            }
            FetchError::Body { detail, .. } => {
                format!("The underlying connection was closed: {detail}")
            }
            FetchError::Document { detail, .. } => {
                format!("The metadata document is not valid: {detail}")
            }
        }
    }
}

/// .NET Framework's `HttpStatusCode` descriptions where they differ from RFC 9110's reason
/// phrases (`503 Server Unavailable`), else the standard phrase.
fn dotnet_status_text(status: u16) -> String {
    match status {
        503 => "Server Unavailable".into(),
        _ => reqwest::StatusCode::from_u16(status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or("Unknown")
            .to_string(),
    }
}

/// Fetches and parses one metadata document (no lock may be held by the caller).
pub async fn fetch(
    client: &reqwest::Client,
    url: &str,
    fetched_at: i64,
) -> Result<Metadata, FetchError> {
    let resp = client
        .get(url)
        .send()
        .await
        .map_err(|e| FetchError::Transport {
            url: url.to_string(),
            detail: e.to_string(),
            timed_out: e.is_timeout(),
        })?;
    let status = resp.status();
    if !status.is_success() {
        return Err(FetchError::Status {
            url: url.to_string(),
            status: status.as_u16(),
        });
    }
    let body = resp.text().await.map_err(|e| FetchError::Body {
        url: url.to_string(),
        detail: e.to_string(),
    })?;
    parse(&body, fetched_at).map_err(|detail| FetchError::Document {
        url: url.to_string(),
        detail,
    })
}

/// A WS-Federation metadata document for the given tenant and certificates (DER). Used by tests
/// and by anyone needing a stand-in metadata server; the shape is Azure AD's.
pub fn render(tenant_id: &str, certs_der: &[Vec<u8>]) -> String {
    let mut keys = String::new();
    for der in certs_der {
        keys.push_str(&format!(
            "<KeyDescriptor use=\"signing\"><KeyInfo xmlns=\"http://www.w3.org/2000/09/xmldsig#\"><X509Data><X509Certificate>{}</X509Certificate></X509Data></KeyInfo></KeyDescriptor>",
            STANDARD.encode(der)
        ));
    }
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?><EntityDescriptor ID=\"_lab\" entityID=\"https://sts.windows.net/{tenant_id}/\" xmlns=\"urn:oasis:names:tc:SAML:2.0:metadata\"><RoleDescriptor xsi:type=\"fed:SecurityTokenServiceType\" protocolSupportEnumeration=\"http://docs.oasis-open.org/wsfed/federation/200706\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xmlns:fed=\"http://docs.oasis-open.org/wsfed/federation/200706\">{keys}</RoleDescriptor></EntityDescriptor>"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_aad_hosts_onto_the_lab_url() {
        assert_eq!(
            effective_url(
                "https://login.windows.net/contoso.com/federationmetadata/2007-06/federationmetadata.xml",
                Some("http://127.0.0.1:9/")
            ),
            "http://127.0.0.1:9/contoso.com/federationmetadata/2007-06/federationmetadata.xml"
        );
        assert_eq!(
            effective_url("https://adfs.contoso.com/x.xml", Some("http://127.0.0.1:9")),
            "https://adfs.contoso.com/x.xml"
        );
        assert_eq!(
            effective_url("https://login.windows.net/a", None),
            "https://login.windows.net/a"
        );
    }

    #[test]
    fn rejects_documents_without_signing_keys_or_entity() {
        assert!(parse(
            "<EntityDescriptor entityID=\"https://sts.windows.net/t/\"/>",
            0
        )
        .is_err());
        assert!(parse("<a><b></a>", 0).is_err());
        assert!(parse(
            "<KeyDescriptor use=\"signing\"><X509Certificate>!!</X509Certificate></KeyDescriptor>",
            0
        )
        .is_err());
        assert_eq!(
            tenant_of_issuer("https://sts.windows.net/abc/"),
            Some("abc".into())
        );
        assert_eq!(tenant_of_issuer("https://evil/abc/"), None);
    }

    /// Azure AD's shape: BOM, declaration, a document Signature whose certificate is NOT a
    /// signing key, the signing keys repeated in several role descriptors, `use="encryption"`
    /// keys ignored.
    #[test]
    fn reads_azure_ad_shaped_metadata() {
        let keys = mock_aad::keys::KeySet::shipped();
        let published: Vec<_> = keys.published().map(|(k, _)| k.clone()).collect();
        let other = mock_aad::keys::SigningKey::from_jwk(
            include_str!("../../mock-aad/keys/key3.jwk"),
            include_str!("../../mock-aad/keys/cert3.pem"),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let key = |der: &[u8], usage: &str| {
            format!(
                "<KeyDescriptor use=\"{usage}\"><KeyInfo xmlns=\"http://www.w3.org/2000/09/xmldsig#\"><X509Data><X509Certificate>\n{}\n</X509Certificate></X509Data></KeyInfo></KeyDescriptor>",
                STANDARD.encode(der)
            )
        };
        let signing: String = published
            .iter()
            .map(|k| key(&k.cert_der, "signing"))
            .collect();
        let doc = format!(
            "{}<?xml version=\"1.0\" encoding=\"utf-8\"?><EntityDescriptor ID=\"_x\" entityID=\"https://sts.windows.net/t1/\" xmlns=\"urn:oasis:names:tc:SAML:2.0:metadata\"><Signature xmlns=\"http://www.w3.org/2000/09/xmldsig#\"><KeyInfo><X509Data><X509Certificate>{}</X509Certificate></X509Data></KeyInfo></Signature><RoleDescriptor>{signing}{}</RoleDescriptor><SPSSODescriptor>{signing}</SPSSODescriptor><IDPSSODescriptor>{signing}</IDPSSODescriptor></EntityDescriptor>",
            '\u{feff}',
            STANDARD.encode(&other.cert_der),
            key(&other.cert_der, "encryption"),
        );
        let m = parse(&doc, 7).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(m.entity_id, "https://sts.windows.net/t1/");
        assert_eq!(m.tenant_id.as_deref(), Some("t1"));
        assert_eq!(m.fetched_at, 7);
        let kids: Vec<&str> = m.certs.iter().map(|c| c.kid.as_str()).collect();
        let expected: Vec<&str> = published.iter().map(|k| k.kid.as_str()).collect();
        assert_eq!(kids, expected);
        assert!(m.cert(&other.kid).is_none());
        // The key taken from the certificate verifies what the private key signed.
        let msg = b"signing input";
        let sig = published[0].sign(msg);
        aws_lc_rs::signature::UnparsedPublicKey::new(
            &aws_lc_rs::signature::RSA_PKCS1_2048_8192_SHA256,
            &m.certs[0].rsa_public_key,
        )
        .verify(msg, &sig)
        .unwrap_or_else(|e| panic!("{e:?}"));
        // And render() round-trips.
        let ders: Vec<Vec<u8>> = published.iter().map(|k| k.cert_der.clone()).collect();
        assert_eq!(
            parse(&render("t2", &ders), 0).map(|m| m.certs),
            Ok(m.certs.clone())
        );
    }

    #[test]
    fn fetch_failures_are_worded_as_dotnet_words_them() {
        let url = "http://127.0.0.1:9/x.xml".to_string();
        let cases = [
            (
                FetchError::Status {
                    url: url.clone(),
                    status: 503,
                },
                "The remote server returned an error: (503) Server Unavailable.",
                "GET http://127.0.0.1:9/x.xml: HTTP 503",
            ),
            (
                FetchError::Status {
                    url: url.clone(),
                    status: 407,
                },
                "The remote server returned an error: (407) Proxy Authentication Required.",
                "GET http://127.0.0.1:9/x.xml: HTTP 407",
            ),
            (
                FetchError::Transport {
                    url: url.clone(),
                    detail: "connection refused".into(),
                    timed_out: false,
                },
                "Unable to connect to the remote server",
                "GET http://127.0.0.1:9/x.xml: connection refused",
            ),
            (
                FetchError::Transport {
                    url: url.clone(),
                    detail: "timed out".into(),
                    timed_out: true,
                },
                "The operation has timed out",
                "GET http://127.0.0.1:9/x.xml: timed out",
            ),
            (
                FetchError::Document {
                    url,
                    detail: "no EntityDescriptor entityID".into(),
                },
                "The metadata document is not valid: no EntityDescriptor entityID",
                "http://127.0.0.1:9/x.xml: no EntityDescriptor entityID",
            ),
        ];
        for (e, dotnet, lab) in cases {
            assert_eq!(e.web_exception_message(), dotnet);
            assert_eq!(e.to_string(), lab);
        }
    }

    #[test]
    fn truncated_der_is_refused_without_panic() {
        for n in 0..40 {
            let der = vec![0x30u8; n];
            assert!(rsa_key_of_cert(&der).is_none());
        }
        assert!(tlv(&[0x30, 0x84, 0xff, 0xff, 0xff, 0xff]).is_none());
    }
}
