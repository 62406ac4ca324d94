//! The devices a real deployment puts between the clients and the services, and the routing
//! they decide: which host names the lab has ([`HostTable`]), what each device does to a request
//! ([`Device`], folded into [`Devices`]), and where a request for a `Host` goes ([`Route`]).
//!
//! Everything here is plain data and pure functions — no sockets, no locks — so a lab file, the
//! admin APIs and the unit tests below all use the same decisions, and the request path
//! (`network.rs`) only has to carry a request where [`Devices::route`] says.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Azure AD's host names; the network sends them to mock-aad.
pub const AAD_HOSTS: [&str; 4] = [
    "login.microsoftonline.com",
    "login.windows.net",
    "login.microsoft.com",
    "sts.windows.net",
];

/// A load balancer in front of an Exchange namespace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LoadBalancer {
    /// The namespace it answers for, e.g. `mail.contoso.com`.
    pub host: String,
    /// Terminate TLS and talk plain HTTP to Exchange (`X-Forwarded-Proto: http`).
    #[serde(default)]
    pub ssl_offload: bool,
    /// Exchange servers by name; requests go to the first. Empty: the organization's first server.
    #[serde(default)]
    pub targets: Vec<String>,
}

/// A reverse proxy (WAP) publishing `host` and forwarding it as `forward_to`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReverseProxy {
    pub host: String,
    /// The name the request carries to Exchange (`Host:`). Equal to `host`: pass-through.
    pub forward_to: String,
}

/// The segment the lab's clients sit on.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientSegment {
    /// Host names the segment cannot reach (e.g. `login.microsoftonline.com`).
    #[serde(default)]
    pub blocked: Vec<String>,
}

/// The state of the certificate a host name presents on TLS connections.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum CertState {
    /// Issued by the lab CA for the name, valid now.
    #[default]
    Valid,
    /// Issued by the lab CA for the name; its validity ended a year ago.
    Expired,
    /// Issued by the lab CA for another name (`wrong-name.hma-lab.invalid`).
    WrongName,
    /// Issued for the name by a second CA nobody trusts (a TLS-inspecting proxy's, say).
    Untrusted,
}

impl CertState {
    pub const NAMES: [&'static str; 4] = ["valid", "expired", "wrong_name", "untrusted"];
}

impl fmt::Display for CertState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CertState::Valid => "valid",
            CertState::Expired => "expired",
            CertState::WrongName => "wrong_name",
            CertState::Untrusted => "untrusted",
        })
    }
}

/// The certificate one lab host name presents (`- certificate: { host: …, state: expired }`).
/// Applies wherever the lab speaks TLS: the front door, and the scenario engine's client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Certificate {
    pub host: String,
    pub state: CertState,
}

/// One device on the path, as written in a lab file (`- load_balancer: { … }`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Device {
    LoadBalancer(LoadBalancer),
    ReverseProxy(ReverseProxy),
    ClientSegment(ClientSegment),
    Certificate(Certificate),
}

/// The lab file's `network:` section.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NetworkSpec {
    /// The Exchange namespaces the lab's DNS knows (`mail.contoso.com`, `autodiscover.contoso.com`,
    /// …). Server FQDNs are routed without being listed.
    #[serde(default)]
    pub exchange_namespaces: Vec<String>,
    /// Each device a one-key map: `- load_balancer: { … }`.
    #[serde(default, with = "serde_yaml_ng::with::singleton_map_recursive")]
    #[schemars(with = "Vec<Device>")]
    pub devices: Vec<Device>,
}

/// The devices in force, one place per kind.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Devices {
    pub load_balancers: Vec<LoadBalancer>,
    pub reverse_proxies: Vec<ReverseProxy>,
    pub client_segment: ClientSegment,
    /// Host names whose certificate is not valid (a `valid` entry is removed, not kept).
    pub certificates: Vec<Certificate>,
}

/// What names exist in the lab and where they lead.
#[derive(Debug, Clone, Default)]
pub struct HostTable {
    /// Exchange namespaces, lowercase.
    pub namespaces: Vec<String>,
    /// Exchange servers in organization order: (name, lowercase FQDN).
    pub servers: Vec<(String, String)>,
    /// The ADFS farm's host (`adfs.contoso.com`), lowercase, when the lab has a farm.
    pub adfs: Option<String>,
}

impl HostTable {
    pub fn is_namespace(&self, host: &str) -> bool {
        self.namespaces.iter().any(|n| n.eq_ignore_ascii_case(host))
    }
    pub fn server_by_fqdn(&self, host: &str) -> Option<&str> {
        self.servers
            .iter()
            .find(|(_, f)| f.eq_ignore_ascii_case(host))
            .map(|(n, _)| n.as_str())
    }
    pub fn server_by_name(&self, name: &str) -> Option<&str> {
        self.servers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(n, _)| n.as_str())
    }
    /// Whether `host` is the ADFS farm's.
    pub fn is_adfs(&self, host: &str) -> bool {
        self.adfs
            .as_deref()
            .is_some_and(|a| a.eq_ignore_ascii_case(host))
    }
    /// Every host name a client can reach: Azure AD's, the namespaces, the server FQDNs, the
    /// ADFS farm's.
    pub fn all(&self) -> Vec<String> {
        let mut v: Vec<String> = AAD_HOSTS.iter().map(|h| h.to_string()).collect();
        v.extend(self.namespaces.iter().cloned());
        v.extend(self.servers.iter().map(|(_, f)| f.clone()));
        v.extend(self.adfs.iter().cloned());
        v
    }
    pub fn knows(&self, host: &str) -> bool {
        is_aad_host(host)
            || self.is_namespace(host)
            || self.server_by_fqdn(host).is_some()
            || self.is_adfs(host)
    }
}

pub fn is_aad_host(host: &str) -> bool {
    AAD_HOSTS.iter().any(|h| h.eq_ignore_ascii_case(host))
}

/// A device that does not fit the lab, with the text to point at in a lab file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkError {
    pub message: String,
    /// Text of the offending value (to locate it in a file).
    pub needle: String,
    /// A suggestion (`did you mean `EX1`?`).
    pub hint: Option<String>,
}

impl fmt::Display for NetworkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if let Some(h) = &self.hint {
            write!(f, "; {h}")?;
        }
        Ok(())
    }
}

impl std::error::Error for NetworkError {}

fn net_err(needle: &str, message: String, candidates: &[&str]) -> NetworkError {
    NetworkError {
        message,
        needle: needle.to_string(),
        hint: lab_kit::labfile::nearest(needle, candidates).map(|n| format!("did you mean `{n}`?")),
    }
}

/// Where a request goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// Closed without an answer: the client segment cannot reach this host.
    Refused,
    /// To mock-aad.
    Aad { host_header: String },
    /// To mock-adfs (the lab's ADFS farm).
    Adfs { host_header: String },
    /// To an Exchange server.
    Exchange {
        server: String,
        host_header: String,
        /// The scheme Exchange is told the request arrived with.
        proto: &'static str,
    },
    /// No such host in the lab.
    Unknown,
}

impl Devices {
    /// Folds a lab file's device list (later entries for the same host replace earlier ones).
    pub fn from_list(list: &[Device]) -> Devices {
        let mut d = Devices::default();
        for dev in list {
            d.put(dev.clone());
        }
        d
    }

    /// Adds a device or replaces the one of its kind for the same host.
    pub fn put(&mut self, device: Device) {
        match device {
            Device::LoadBalancer(lb) => {
                self.load_balancers
                    .retain(|x| !x.host.eq_ignore_ascii_case(&lb.host));
                self.load_balancers.push(lb);
            }
            Device::ReverseProxy(rp) => {
                self.reverse_proxies
                    .retain(|x| !x.host.eq_ignore_ascii_case(&rp.host));
                self.reverse_proxies.push(rp);
            }
            Device::ClientSegment(cs) => self.client_segment = cs,
            Device::Certificate(c) => {
                self.certificates
                    .retain(|x| !x.host.eq_ignore_ascii_case(&c.host));
                if c.state != CertState::Valid {
                    self.certificates.push(Certificate {
                        host: c.host.trim_end_matches('.').to_ascii_lowercase(),
                        state: c.state,
                    });
                }
            }
        }
    }

    /// The certificate `host` presents now.
    pub fn cert_state(&self, host: &str) -> CertState {
        let host = host.trim_end_matches('.');
        self.certificates
            .iter()
            .find(|c| c.host.eq_ignore_ascii_case(host))
            .map(|c| c.state)
            .unwrap_or_default()
    }

    pub fn load_balancer(&self, host: &str) -> Option<&LoadBalancer> {
        self.load_balancers
            .iter()
            .find(|l| l.host.eq_ignore_ascii_case(host))
    }

    pub fn reverse_proxy(&self, host: &str) -> Option<&ReverseProxy> {
        self.reverse_proxies
            .iter()
            .find(|r| r.host.eq_ignore_ascii_case(host))
    }

    pub fn is_blocked(&self, host: &str) -> bool {
        self.client_segment
            .blocked
            .iter()
            .any(|b| b.eq_ignore_ascii_case(host))
    }

    /// Checks every device against the lab's names.
    pub fn check(&self, hosts: &HostTable) -> Result<(), NetworkError> {
        let namespaces: Vec<&str> = hosts.namespaces.iter().map(String::as_str).collect();
        let all = hosts.all();
        let all: Vec<&str> = all.iter().map(String::as_str).collect();
        let servers: Vec<&str> = hosts.servers.iter().map(|(n, _)| n.as_str()).collect();
        for lb in &self.load_balancers {
            if !hosts.is_namespace(&lb.host) {
                return Err(net_err(
                    &lb.host,
                    format!(
                        "load balancer host '{}' is not an Exchange namespace of the lab (exchange_namespaces: {})",
                        lb.host,
                        namespaces.join(", ")
                    ),
                    &namespaces,
                ));
            }
            for t in &lb.targets {
                if hosts.server_by_name(t).is_none() {
                    return Err(net_err(
                        t,
                        format!(
                            "load balancer for '{}' targets unknown server '{t}' (servers: {})",
                            lb.host,
                            servers.join(", ")
                        ),
                        &servers,
                    ));
                }
            }
        }
        for rp in &self.reverse_proxies {
            if !hosts.is_namespace(&rp.host) {
                return Err(net_err(
                    &rp.host,
                    format!(
                        "reverse proxy host '{}' is not an Exchange namespace of the lab (exchange_namespaces: {})",
                        rp.host,
                        namespaces.join(", ")
                    ),
                    &namespaces,
                ));
            }
            if !hosts.is_namespace(&rp.forward_to) && hosts.server_by_fqdn(&rp.forward_to).is_none()
            {
                return Err(net_err(
                    &rp.forward_to,
                    format!(
                        "reverse proxy for '{}' forwards to '{}', which is neither an Exchange namespace nor a server FQDN",
                        rp.host, rp.forward_to
                    ),
                    &all,
                ));
            }
        }
        for c in &self.certificates {
            if !hosts.knows(c.host.trim_end_matches('.')) {
                return Err(net_err(
                    &c.host,
                    format!(
                        "certificate host '{}' is not a host of the lab ({})",
                        c.host,
                        all.join(", ")
                    ),
                    &all,
                ));
            }
        }
        for b in &self.client_segment.blocked {
            if !hosts.knows(b) {
                return Err(net_err(
                    b,
                    format!(
                        "client segment blocks '{b}', which is not a host of the lab ({})",
                        all.join(", ")
                    ),
                    &all,
                ));
            }
        }
        Ok(())
    }

    /// Where a request for `host_header` (as the client sent it, port included) goes.
    pub fn route(&self, hosts: &HostTable, host_header: &str, client_proto: &'static str) -> Route {
        let (name, port) = split_host(host_header);
        if self.is_blocked(&name) {
            return Route::Refused;
        }
        // A reverse proxy publishes the name and forwards under another (one hop).
        let (name, host_header) = match self.reverse_proxy(&name) {
            Some(rp) => {
                let to = rp.forward_to.to_ascii_lowercase();
                let header = match port {
                    Some(p) => format!("{to}:{p}"),
                    None => to.clone(),
                };
                (to, header)
            }
            None => (name, host_header.to_string()),
        };
        if is_aad_host(&name) {
            return Route::Aad { host_header };
        }
        if hosts.is_adfs(&name) {
            return Route::Adfs { host_header };
        }
        if let Some(server) = hosts.server_by_fqdn(&name) {
            return Route::Exchange {
                server: server.to_string(),
                host_header,
                proto: client_proto,
            };
        }
        if hosts.is_namespace(&name) {
            let lb = self.load_balancer(&name);
            let server = lb
                .and_then(|l| l.targets.first())
                .and_then(|t| hosts.server_by_name(t))
                .or_else(|| hosts.servers.first().map(|(n, _)| n.as_str()));
            let Some(server) = server else {
                return Route::Unknown;
            };
            let proto = if lb.is_some_and(|l| l.ssl_offload) {
                "http"
            } else {
                client_proto
            };
            return Route::Exchange {
                server: server.to_string(),
                host_header,
                proto,
            };
        }
        Route::Unknown
    }
}

/// `Mail.Contoso.com:8080` → (`mail.contoso.com`, Some("8080")).
pub(super) fn split_host(raw: &str) -> (String, Option<String>) {
    let raw = raw.trim();
    if let Some(rest) = raw.strip_prefix('[') {
        let (inside, after) = rest.split_once(']').unwrap_or((rest, ""));
        let port = after.strip_prefix(':').map(str::to_string);
        return (format!("[{}]", inside.to_ascii_lowercase()), port);
    }
    let (name, port) = match raw.rsplit_once(':') {
        Some((n, p)) if !n.contains(':') && p.chars().all(|c| c.is_ascii_digit()) => {
            (n, Some(p.to_string()))
        }
        _ => (raw, None),
    };
    (name.trim_end_matches('.').to_ascii_lowercase(), port)
}

#[cfg(test)]
mod unit {
    use super::*;

    fn table() -> HostTable {
        HostTable {
            namespaces: vec!["mail.contoso.com".into(), "autodiscover.contoso.com".into()],
            servers: vec![
                ("EX1".into(), "ex1.contoso.com".into()),
                ("EX2".into(), "ex2.contoso.com".into()),
            ],
            adfs: None,
        }
    }

    #[test]
    fn routes_by_name_through_the_devices() {
        let t = table();
        let mut d = Devices::default();
        assert_eq!(
            d.route(&t, "Login.MicrosoftOnline.com:8443", "https"),
            Route::Aad {
                host_header: "Login.MicrosoftOnline.com:8443".into()
            }
        );
        assert_eq!(
            d.route(&t, "mail.contoso.com", "https"),
            Route::Exchange {
                server: "EX1".into(),
                host_header: "mail.contoso.com".into(),
                proto: "https"
            }
        );
        assert_eq!(
            d.route(&t, "ex2.contoso.com:1", "https"),
            Route::Exchange {
                server: "EX2".into(),
                host_header: "ex2.contoso.com:1".into(),
                proto: "https"
            }
        );
        assert_eq!(d.route(&t, "example.com", "https"), Route::Unknown);
        d.put(Device::LoadBalancer(LoadBalancer {
            host: "mail.contoso.com".into(),
            ssl_offload: true,
            targets: vec!["ex2".into()],
        }));
        d.put(Device::ReverseProxy(ReverseProxy {
            host: "autodiscover.contoso.com".into(),
            forward_to: "mail.contoso.com".into(),
        }));
        assert_eq!(
            d.route(&t, "autodiscover.contoso.com:99", "https"),
            Route::Exchange {
                server: "EX2".into(),
                host_header: "mail.contoso.com:99".into(),
                proto: "http"
            }
        );
        d.put(Device::ClientSegment(ClientSegment {
            blocked: vec!["AUTODISCOVER.contoso.com".into()],
        }));
        assert_eq!(
            d.route(&t, "autodiscover.contoso.com", "https"),
            Route::Refused
        );
        assert!(d.check(&t).is_ok());
    }

    #[test]
    fn device_checks_name_the_bad_value_and_the_nearest_good_one() {
        let t = table();
        let mut d = Devices::default();
        d.put(Device::LoadBalancer(LoadBalancer {
            host: "mail.contoso.com".into(),
            ssl_offload: false,
            targets: vec!["EX11".into()],
        }));
        let e = d.check(&t).unwrap_err();
        assert_eq!(
            e.to_string(),
            "load balancer for 'mail.contoso.com' targets unknown server 'EX11' (servers: EX1, EX2); did you mean `EX1`?"
        );
        let mut d = Devices::default();
        d.put(Device::ClientSegment(ClientSegment {
            blocked: vec!["login.microsoftonline.co".into()],
        }));
        let e = d.check(&t).unwrap_err();
        assert_eq!(e.needle, "login.microsoftonline.co");
        assert_eq!(
            e.hint.as_deref(),
            Some("did you mean `login.microsoftonline.com`?")
        );
    }

    #[test]
    fn host_headers_split_port_and_trailing_dot() {
        assert_eq!(
            split_host("Mail.Contoso.com.:443"),
            ("mail.contoso.com".into(), Some("443".into()))
        );
        assert_eq!(
            split_host("mail.contoso.com"),
            ("mail.contoso.com".into(), None)
        );
        assert_eq!(split_host("[::1]:80").1, Some("80".into()));
    }
}
