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
//! [`Certs`] is the rustls [`ResolvesServerCert`]: the SNI name picks the leaf. Which certificate
//! a name presents is lab state — a `certificate` device of the lab's [`Network`] (set from a lab
//! file, a scenario step or the admin API) — read on every handshake, so a change applies to the
//! next connection; a faulty leaf is made the first time it is needed and kept. A ClientHello
//! without SNI (a client that dialled an IP address) gets a leaf naming every lab host plus
//! `localhost` and `127.0.0.1`.
//!
//! A process that starts many labs (the scenario library starts two per scenario, each with an
//! in-memory CA) shares what does not differ between them: one in-memory lab CA
//! ([`Authority::shared_in_memory`]), one untrusted CA, and one valid leaf per (CA, names),
//! kept in a small bounded cache. Faulty leafs stay per lab.
//!
//! The forward proxy decrypts the tunnels it carries, as Fiddler does, and like Fiddler it shows
//! the client a certificate of its own: [`Certs::pick_intercepted`] gives each valid host a
//! second leaf (same CA, so a client that trusts the lab trusts it; another key, so another
//! `tls-server-end-point` channel binding). A host with a certificate fault presents the faulty
//! leaf either way. Extended protection at the ADFS farm tells the two apart.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::{Duration, SystemTime};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose,
};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

use crate::lab::{CertState, Certificate, Device, Network};

/// The CA certificate's file name in the state directory.
pub const CA_FILE: &str = "ca.pem";
/// The CA key's file name in the state directory (mode 0600).
pub const CA_KEY_FILE: &str = "ca-key.pem";

/// What is wrong with the certificate a host name presents: the lab network's device state
/// ([`CertState`]), read on every handshake.
pub use crate::lab::CertState as CertFault;

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

/// A CA that signs leafs. Clones share the key.
#[derive(Clone)]
pub struct Authority {
    issuer: Arc<Issuer<'static, KeyPair>>,
    cert_pem: String,
}

/// Valid leafs kept per process, by (CA certificate, names); at the cap the cache starts afresh.
const LEAF_CACHE_CAP: usize = 1024;

type LeafKey = (String, Vec<String>);

fn leaf_cache() -> &'static Mutex<HashMap<LeafKey, Arc<CertifiedKey>>> {
    static CACHE: OnceLock<Mutex<HashMap<LeafKey, Arc<CertifiedKey>>>> = OnceLock::new();
    CACHE.get_or_init(|| Mutex::new(HashMap::new()))
}

/// The process's one CA of `common_name`, made on first use.
fn shared(
    slot: &'static OnceLock<Result<Authority, String>>,
    common_name: &str,
) -> Result<Authority, CaError> {
    slot.get_or_init(|| Authority::generate(common_name).map_err(|e| e.to_string()))
        .clone()
        .map_err(CaError::Gen)
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
            issuer: Arc::new(Issuer::new(params, key)),
        })
    }

    /// The in-memory lab CA of this process, generated once and shared by every in-memory
    /// front door (no file holds it; each lab's clients trust it through the front door).
    pub fn shared_in_memory() -> Result<Authority, CaError> {
        static CA: OnceLock<Result<Authority, String>> = OnceLock::new();
        shared(&CA, CA_NAME)
    }

    /// The CA no client trusts (the `untrusted` fault's issuer), one per process.
    pub fn shared_untrusted() -> Result<Authority, CaError> {
        static ROGUE: OnceLock<Result<Authority, String>> = OnceLock::new();
        shared(&ROGUE, "hma-lab Untrusted CA")
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
                    issuer: Arc::new(Issuer::new(ca_params(CA_NAME), key)),
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

    /// A leaf valid from yesterday for a year; the same one for the same names all process
    /// long (see the module text).
    pub fn current_leaf(&self, names: &[String]) -> Result<Arc<CertifiedKey>, CaError> {
        let key = (self.cert_pem.clone(), names.to_vec());
        if let Some(hit) = leaf_cache()
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
        {
            return Ok(hit.clone());
        }
        let now = SystemTime::now();
        let leaf = self.leaf(
            names,
            now - Duration::from_secs(86_400),
            now + Duration::from_secs(365 * 86_400),
        )?;
        let mut cache = leaf_cache().lock().unwrap_or_else(|e| e.into_inner());
        if cache.len() >= LEAF_CACHE_CAP {
            cache.clear();
        }
        cache.insert(key, leaf.clone());
        Ok(leaf)
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
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        // `mode` applies only to a file it creates: narrow one that is already there first.
        if path.exists() {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
        }
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

/// The certificates the front door presents, by SNI name, with the lab network's certificate
/// states.
pub struct Certs {
    ca: Authority,
    rogue: Authority,
    network: Network,
    hosts: Vec<String>,
    leafs: HashMap<String, Arc<CertifiedKey>>,
    fallback: Arc<CertifiedKey>,
    /// Faulty leafs made so far, by (host, state).
    faulty: RwLock<HashMap<(String, CertState), Arc<CertifiedKey>>>,
    /// The proxy's own leafs (what a decrypting proxy shows the client), made on first use.
    intercepted: RwLock<HashMap<String, Arc<CertifiedKey>>>,
}

impl fmt::Debug for Certs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Certs").field("hosts", &self.hosts).finish()
    }
}

impl Certs {
    /// A leaf for each host of `network` signed by `ca`, plus the no-SNI leaf.
    pub fn new(ca: Authority, network: Network) -> Result<Certs, CaError> {
        let mut leafs = HashMap::new();
        let mut names: Vec<String> = Vec::new();
        for h in network.hosts().all() {
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
            rogue: Authority::shared_untrusted()?,
            network,
            hosts: names,
            leafs,
            fallback,
            faulty: RwLock::new(HashMap::new()),
            intercepted: RwLock::new(HashMap::new()),
        })
    }

    /// The DER of the valid leaf `host` presents on the HTTPS listener (what a TLS endpoint's
    /// channel binding is computed from).
    pub fn leaf_der(&self, host: &str) -> Option<Vec<u8>> {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        self.leafs
            .get(&host)
            .and_then(|l| l.cert.first())
            .map(|c| c.to_vec())
    }

    /// The leaf the decrypting proxy shows for an SNI name: its own leaf for a host whose
    /// certificate is valid, else what [`Certs::pick`] gives.
    pub fn pick_intercepted(&self, sni: Option<&str>) -> Option<Arc<CertifiedKey>> {
        let name = sni.map(|n| n.trim_end_matches('.').to_ascii_lowercase());
        let Some(name) = name.filter(|n| self.leafs.contains_key(n)) else {
            return self.pick(sni);
        };
        if self.network.cert_state(&name) != CertState::Valid {
            return self.pick(sni);
        }
        if let Some(l) = self
            .intercepted
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(&name)
        {
            return Some(l.clone());
        }
        // Not `current_leaf`: that is the process-wide valid leaf the door itself presents, and
        // the proxy's must have a key of its own.
        let now = SystemTime::now();
        let fresh = self.ca.leaf(
            std::slice::from_ref(&name),
            now - Duration::from_secs(86_400),
            now + Duration::from_secs(365 * 86_400),
        );
        match fresh {
            Ok(leaf) => Some(
                self.intercepted
                    .write()
                    .unwrap_or_else(|p| p.into_inner())
                    .entry(name)
                    .or_insert(leaf)
                    .clone(),
            ),
            Err(e) => {
                tracing::warn!(error = %e, host = %name, "front door: no proxy leaf");
                None
            }
        }
    }

    pub fn ca_pem(&self) -> &str {
        self.ca.cert_pem()
    }

    /// The host names with a leaf of their own.
    pub fn hosts(&self) -> &[String] {
        &self.hosts
    }

    /// Sets the certificate `host` presents from the next handshake on (`None`: a valid one).
    pub fn set_fault(&self, host: &str, fault: Option<CertFault>) -> Result<(), String> {
        let host = host.trim().trim_end_matches('.').to_ascii_lowercase();
        if !self.leafs.contains_key(&host) {
            return Err(format!(
                "'{host}' is not a host of the lab ({})",
                self.hosts.join(", ")
            ));
        }
        let state = fault.unwrap_or_default();
        self.network
            .update(|d| d.put(Device::Certificate(Certificate { host, state })))
            .map_err(|e| e.to_string())
    }

    /// The faults in force, by host.
    pub fn faults(&self) -> Vec<(String, CertFault)> {
        let mut v: Vec<(String, CertFault)> = self
            .network
            .devices()
            .certificates
            .into_iter()
            .map(|c| (c.host, c.state))
            .collect();
        v.sort();
        v
    }

    /// A leaf presenting `state` for `host`, made on first use.
    fn faulty_leaf(&self, host: &str, state: CertState) -> Result<Arc<CertifiedKey>, CaError> {
        let key = (host.to_string(), state);
        if let Some(l) = self
            .faulty
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(&key)
        {
            return Ok(l.clone());
        }
        let now = SystemTime::now();
        let year = Duration::from_secs(365 * 86_400);
        let names = [host.to_string()];
        let leaf = match state {
            CertState::Valid => self
                .leafs
                .get(host)
                .cloned()
                .ok_or_else(|| CaError::Gen(format!("'{host}' has no leaf")))?,
            CertState::Expired => self.ca.leaf(&names, now - 2 * year, now - year)?,
            CertState::WrongName => self.ca.current_leaf(&[WRONG_NAME.to_string()])?,
            CertState::Untrusted => self.rogue.current_leaf(&names)?,
        };
        self.faulty
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .entry(key)
            .or_insert(leaf.clone());
        Ok(leaf)
    }

    /// The leaf for an SNI name (`None`: no SNI); `None` when a faulty leaf cannot be made.
    pub fn pick(&self, sni: Option<&str>) -> Option<Arc<CertifiedKey>> {
        let Some(name) = sni else {
            return Some(self.fallback.clone());
        };
        let name = name.trim_end_matches('.').to_ascii_lowercase();
        let Some(leaf) = self.leafs.get(&name) else {
            return Some(self.fallback.clone());
        };
        match self.network.cert_state(&name) {
            CertState::Valid => Some(leaf.clone()),
            state => match self.faulty_leaf(&name, state) {
                Ok(l) => Some(l),
                Err(e) => {
                    tracing::warn!(error = %e, host = %name, "front door: no {state} leaf");
                    None
                }
            },
        }
    }

    /// A rustls server configuration presenting these certificates (HTTP/1.1 only).
    pub fn server_config(self: &Arc<Self>) -> Result<rustls::ServerConfig, CaError> {
        self.config_with(false)
    }

    /// The same for the decrypting proxy, presenting [`Certs::pick_intercepted`]'s leafs.
    pub fn proxy_server_config(self: &Arc<Self>) -> Result<rustls::ServerConfig, CaError> {
        self.config_with(true)
    }

    fn config_with(self: &Arc<Self>, intercepting: bool) -> Result<rustls::ServerConfig, CaError> {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut cfg = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(gen_err)?
            .with_no_client_auth()
            .with_cert_resolver(Arc::new(Resolver(self.clone(), intercepting)));
        cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(cfg)
    }
}

/// Picks by SNI; the flag says whether for the decrypting proxy.
#[derive(Debug)]
struct Resolver(Arc<Certs>, bool);

impl ResolvesServerCert for Resolver {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        if self.1 {
            self.0.pick_intercepted(hello.server_name())
        } else {
            self.0.pick(hello.server_name())
        }
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

    fn contoso_network() -> Network {
        let file = crate::lab::LabFile::builtin("contoso").unwrap();
        Network::new(
            file.host_table(),
            file.devices(),
            "http://127.0.0.1:1".into(),
            Vec::new(),
        )
    }

    #[test]
    fn faults_are_network_state_and_apply_to_known_hosts_only() {
        let network = contoso_network();
        let certs = Certs::new(Authority::generate(CA_NAME).unwrap(), network.clone()).unwrap();
        let plain = certs.pick(Some("mail.contoso.com")).unwrap();
        certs
            .set_fault("Mail.Contoso.com", Some(CertFault::Expired))
            .unwrap();
        assert_eq!(
            certs.faults(),
            vec![("mail.contoso.com".to_string(), CertFault::Expired)]
        );
        assert_eq!(network.cert_state("mail.contoso.com"), CertState::Expired);
        let expired = certs.pick(Some("mail.contoso.com")).unwrap();
        assert!(!Arc::ptr_eq(&plain, &expired));
        // Made once, then reused.
        assert!(Arc::ptr_eq(
            &expired,
            &certs.pick(Some("mail.contoso.com.")).unwrap()
        ));
        // A device change made elsewhere (lab file, scenario step) is what the next handshake sees.
        network
            .update(|d| {
                d.put(Device::Certificate(Certificate {
                    host: "mail.contoso.com".into(),
                    state: CertState::Valid,
                }))
            })
            .unwrap();
        assert!(certs.faults().is_empty());
        assert!(Arc::ptr_eq(
            &plain,
            &certs.pick(Some("mail.contoso.com")).unwrap()
        ));
        certs
            .set_fault("autodiscover.contoso.com", Some(CertFault::WrongName))
            .unwrap();
        certs.set_fault("autodiscover.contoso.com", None).unwrap();
        assert!(certs.faults().is_empty());
        // The decrypting proxy shows a leaf of its own for a valid host, the fault otherwise.
        let door = certs.pick(Some("mail.contoso.com")).unwrap();
        let proxy = certs.pick_intercepted(Some("Mail.Contoso.com")).unwrap();
        assert!(!Arc::ptr_eq(&door, &proxy));
        assert_ne!(door.cert[0], proxy.cert[0]);
        assert!(Arc::ptr_eq(
            &proxy,
            &certs.pick_intercepted(Some("mail.contoso.com")).unwrap()
        ));
        assert_eq!(
            certs.leaf_der("mail.contoso.com").unwrap(),
            door.cert[0].to_vec()
        );
        certs
            .set_fault("mail.contoso.com", Some(CertFault::Expired))
            .unwrap();
        assert!(Arc::ptr_eq(
            &certs.pick(Some("mail.contoso.com")).unwrap(),
            &certs.pick_intercepted(Some("mail.contoso.com")).unwrap()
        ));
        certs.set_fault("mail.contoso.com", None).unwrap();
        let e = certs
            .set_fault("www.example.com", Some(CertFault::Untrusted))
            .unwrap_err();
        assert!(
            e.starts_with(
                "'www.example.com' is not a host of the lab (login.microsoftonline.com, "
            ),
            "{e}"
        );
    }
}
