//! The lab's certificate authority, its leaf certificates, and the certificate faults a host
//! name can be given.
//!
//! The CA (ECDSA P-256) is generated once and kept in the state directory (`ca.pem`, and
//! `ca-key.pem` with mode 0600), so a user trusts it once and every later run serves leafs that
//! chain to it. Loading rebuilds the issuer from the stored key and the fixed distinguished name
//! instead of parsing the certificate: leafs then carry the same issuer name and are signed by the
//! same key, which is all a verifier checks. Leaf keys are ECDSA P-256 too — generating one takes
//! well under a millisecond, so every lab host gets its own leaf at start and a fault's leaf is
//! made when the fault is set; no RSA key is ever generated.
//!
//! [`Certs`] is the rustls [`ResolvesServerCert`]: the SNI name picks the leaf (a fault in force
//! for that name picks the faulty one); a ClientHello without SNI (a client that dialled an IP
//! address) gets a leaf naming every lab host plus `localhost` and `127.0.0.1`.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose,
};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use serde::{Deserialize, Serialize};

/// The CA certificate's file name in the state directory.
pub const CA_FILE: &str = "ca.pem";
/// The CA key's file name in the state directory (mode 0600).
pub const CA_KEY_FILE: &str = "ca-key.pem";

/// What is wrong with the certificate a host name presents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CertFault {
    /// Validity ended a year ago.
    Expired,
    /// Issued by the lab CA for another name (`wrong-name.hma-lab.invalid`).
    WrongName,
    /// Issued for the right name by a second CA nobody trusts.
    Untrusted,
}

impl fmt::Display for CertFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CertFault::Expired => "expired",
            CertFault::WrongName => "wrong_name",
            CertFault::Untrusted => "untrusted",
        })
    }
}

/// The name a `wrong_name` leaf is issued for.
pub const WRONG_NAME: &str = "wrong-name.hma-lab.invalid";

/// Why the CA or a leaf could not be made.
#[derive(Debug, thiserror::Error)]
pub enum CaError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: not a usable CA key: {message}")]
    Key { path: PathBuf, message: String },
    #[error("certificate generation failed: {0}")]
    Gen(String),
}

fn gen_err(e: impl fmt::Display) -> CaError {
    CaError::Gen(e.to_string())
}

/// A CA that signs leafs.
pub struct Authority {
    issuer: Issuer<'static, KeyPair>,
    cert_pem: String,
}

fn ca_params(common_name: &str) -> CertificateParams {
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, "hma-lab");
    dn.push(DnType::CommonName, common_name);
    params.distinguished_name = dn;
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::days(1);
    params.not_after = now + time::Duration::days(3650);
    params
}

/// The lab CA's common name.
pub const CA_NAME: &str = "hma-lab Lab CA";

impl Authority {
    /// A fresh in-memory CA (the `untrusted` fault's issuer).
    pub fn generate(common_name: &str) -> Result<Authority, CaError> {
        let key = KeyPair::generate().map_err(gen_err)?;
        let params = ca_params(common_name);
        let cert = params.self_signed(&key).map_err(gen_err)?;
        Ok(Authority {
            cert_pem: cert.pem(),
            issuer: Issuer::new(params, key),
        })
    }

    /// The lab CA from `dir`, generated and written there on first use. Returns whether it was
    /// created now.
    pub fn load_or_create(dir: &Path) -> Result<(Authority, bool), CaError> {
        let cert_path = dir.join(CA_FILE);
        let key_path = dir.join(CA_KEY_FILE);
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| CaError::Io { path, source }
        };
        if cert_path.exists() && key_path.exists() {
            let key_pem = std::fs::read_to_string(&key_path).map_err(io(&key_path))?;
            let cert_pem = std::fs::read_to_string(&cert_path).map_err(io(&cert_path))?;
            let key = KeyPair::from_pem(&key_pem).map_err(|e| CaError::Key {
                path: key_path.clone(),
                message: e.to_string(),
            })?;
            return Ok((
                Authority {
                    issuer: Issuer::new(ca_params(CA_NAME), key),
                    cert_pem,
                },
                false,
            ));
        }
        create_private_dir(dir).map_err(io(dir))?;
        let ca = Authority::generate(CA_NAME)?;
        write_private(&key_path, ca.issuer.key().serialize_pem().as_bytes())
            .map_err(io(&key_path))?;
        std::fs::write(&cert_path, ca.cert_pem.as_bytes()).map_err(io(&cert_path))?;
        Ok((ca, true))
    }

    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    /// A leaf for `names` (DNS names or IP addresses) valid over `[not_before, not_after]`.
    pub fn leaf(
        &self,
        names: &[String],
        not_before: SystemTime,
        not_after: SystemTime,
    ) -> Result<Arc<CertifiedKey>, CaError> {
        let mut params = CertificateParams::new(names.to_vec()).map_err(gen_err)?;
        let mut dn = DistinguishedName::new();
        dn.push(
            DnType::CommonName,
            names.first().cloned().unwrap_or_default(),
        );
        params.distinguished_name = dn;
        params.not_before = not_before.into();
        params.not_after = not_after.into();
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.use_authority_key_identifier_extension = true;
        let key = KeyPair::generate().map_err(gen_err)?;
        let cert = params.signed_by(&key, &self.issuer).map_err(gen_err)?;
        let der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        let signing = rustls::crypto::aws_lc_rs::sign::any_supported_type(&der).map_err(gen_err)?;
        Ok(Arc::new(CertifiedKey::new(
            vec![CertificateDer::from(cert.der().to_vec())],
            signing,
        )))
    }

    /// A leaf valid from yesterday for a year.
    pub fn current_leaf(&self, names: &[String]) -> Result<Arc<CertifiedKey>, CaError> {
        let now = SystemTime::now();
        self.leaf(
            names,
            now - Duration::from_secs(86_400),
            now + Duration::from_secs(365 * 86_400),
        )
    }
}

fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

/// Writes `bytes` to a file only its owner can read.
pub fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(path)?;
        f.write_all(bytes)
    }
    #[cfg(not(unix))]
    {
        std::fs::write(path, bytes)
    }
}

/// The certificates the front door presents, by SNI name, with the faults in force.
pub struct Certs {
    ca: Authority,
    rogue: Authority,
    hosts: Vec<String>,
    leafs: HashMap<String, Arc<CertifiedKey>>,
    fallback: Arc<CertifiedKey>,
    faults: RwLock<HashMap<String, (CertFault, Arc<CertifiedKey>)>>,
}

impl fmt::Debug for Certs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Certs").field("hosts", &self.hosts).finish()
    }
}

impl Certs {
    /// A leaf for each of `hosts` (lowercase DNS names) signed by `ca`, plus the no-SNI leaf.
    pub fn new(ca: Authority, hosts: &[String]) -> Result<Certs, CaError> {
        let mut leafs = HashMap::new();
        let mut names: Vec<String> = Vec::new();
        for h in hosts {
            let h = h.to_ascii_lowercase();
            if leafs.contains_key(&h) {
                continue;
            }
            leafs.insert(h.clone(), ca.current_leaf(std::slice::from_ref(&h))?);
            names.push(h);
        }
        let mut all = names.clone();
        all.push("localhost".into());
        all.push("127.0.0.1".into());
        let fallback = ca.current_leaf(&all)?;
        Ok(Certs {
            ca,
            rogue: Authority::generate("hma-lab Untrusted CA")?,
            hosts: names,
            leafs,
            fallback,
            faults: RwLock::new(HashMap::new()),
        })
    }

    pub fn ca_pem(&self) -> &str {
        self.ca.cert_pem()
    }

    /// The host names with a leaf of their own.
    pub fn hosts(&self) -> &[String] {
        &self.hosts
    }

    /// Sets (`Some`) or clears (`None`) the fault `host` presents from the next handshake on.
    pub fn set_fault(&self, host: &str, fault: Option<CertFault>) -> Result<(), String> {
        let host = host.trim().trim_end_matches('.').to_ascii_lowercase();
        if !self.leafs.contains_key(&host) {
            return Err(format!(
                "'{host}' is not a host of the lab ({})",
                self.hosts.join(", ")
            ));
        }
        let Some(fault) = fault else {
            self.faults
                .write()
                .unwrap_or_else(|p| p.into_inner())
                .remove(&host);
            return Ok(());
        };
        let now = SystemTime::now();
        let year = Duration::from_secs(365 * 86_400);
        let leaf = match fault {
            CertFault::Expired => {
                self.ca
                    .leaf(std::slice::from_ref(&host), now - 2 * year, now - year)
            }
            CertFault::WrongName => self.ca.current_leaf(&[WRONG_NAME.to_string()]),
            CertFault::Untrusted => self.rogue.current_leaf(std::slice::from_ref(&host)),
        }
        .map_err(|e| e.to_string())?;
        self.faults
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(host, (fault, leaf));
        Ok(())
    }

    /// The faults in force, by host.
    pub fn faults(&self) -> Vec<(String, CertFault)> {
        let mut v: Vec<(String, CertFault)> = self
            .faults
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .map(|(h, (f, _))| (h.clone(), *f))
            .collect();
        v.sort();
        v
    }

    /// The leaf for an SNI name (`None`: no SNI).
    pub fn pick(&self, sni: Option<&str>) -> Arc<CertifiedKey> {
        let Some(name) = sni else {
            return self.fallback.clone();
        };
        let name = name.trim_end_matches('.').to_ascii_lowercase();
        if let Some((_, leaf)) = self
            .faults
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(&name)
        {
            return leaf.clone();
        }
        self.leafs
            .get(&name)
            .cloned()
            .unwrap_or_else(|| self.fallback.clone())
    }

    /// A rustls server configuration presenting these certificates (HTTP/1.1 only).
    pub fn server_config(self: &Arc<Self>) -> Result<rustls::ServerConfig, CaError> {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut cfg = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(gen_err)?
            .with_no_client_auth()
            .with_cert_resolver(Arc::new(Resolver(self.clone())));
        cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(cfg)
    }
}

#[derive(Debug)]
struct Resolver(Arc<Certs>);

impl ResolvesServerCert for Resolver {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.0.pick(hello.server_name()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ca_is_created_once_and_reused_with_a_private_key_file() {
        let dir = std::env::temp_dir().join(format!("hma-lab-ca-{}", uuid::Uuid::new_v4()));
        let (a, created) = Authority::load_or_create(&dir).unwrap();
        assert!(created);
        let (b, created) = Authority::load_or_create(&dir).unwrap();
        assert!(!created);
        assert_eq!(a.cert_pem(), b.cert_pem());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.join(CA_KEY_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn faults_apply_to_known_hosts_only() {
        let certs = Certs::new(
            Authority::generate(CA_NAME).unwrap(),
            &["mail.contoso.com".to_string()],
        )
        .unwrap();
        let plain = certs.pick(Some("mail.contoso.com"));
        certs
            .set_fault("Mail.Contoso.com", Some(CertFault::Expired))
            .unwrap();
        assert_eq!(
            certs.faults(),
            vec![("mail.contoso.com".to_string(), CertFault::Expired)]
        );
        assert!(!Arc::ptr_eq(&plain, &certs.pick(Some("mail.contoso.com"))));
        certs.set_fault("mail.contoso.com", None).unwrap();
        assert!(Arc::ptr_eq(&plain, &certs.pick(Some("mail.contoso.com"))));
        let e = certs
            .set_fault("www.example.com", Some(CertFault::Untrusted))
            .unwrap_err();
        assert_eq!(
            e,
            "'www.example.com' is not a host of the lab (mail.contoso.com)"
        );
    }
}
