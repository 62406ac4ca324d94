//! The lab's network: one listener between the clients and the two services, routing by `Host`
//! through the devices a real deployment puts on the path.
//!
//! Azure AD's host names go to mock-aad; the Exchange namespaces and server FQDNs of the lab file
//! go to mock-exchange. On the way a request may meet a reverse proxy that translates its name
//! (WAP publishing `autodiscover.contoso.com` onto `mail.contoso.com`), a load balancer that picks
//! the Exchange server and may offload SSL (Exchange then sees `X-Forwarded-Proto: http`), and the
//! client segment's blocked destinations (the connection is closed without an answer, as near to
//! "the network cannot reach it" as a listener that has already accepted can get).
//!
//! The devices are plain data ([`Device`], [`Devices`]) read from the lab file and changed at run
//! time; every request reads them afresh, so a change applies to the next request. Routing is a
//! pure function ([`Devices::route`]) of the host table and the devices, separate from I/O, so
//! the TLS front door can put the same decisions behind real TLS by calling [`Network::handle`]
//! with the scheme the client actually spoke.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::client::conn::http1::SendRequest;
use hyper::header::{HeaderName, HeaderValue};
use hyper::{HeaderMap, Request, Response, StatusCode, Uri};
use hyper_util::rt::{TokioIo, TokioTimer};
use serde::{Deserialize, Serialize};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinSet;

/// Azure AD's host names; the network sends them to mock-aad.
pub const AAD_HOSTS: [&str; 4] = [
    "login.microsoftonline.com",
    "login.windows.net",
    "login.microsoft.com",
    "sts.windows.net",
];

/// Largest request body the network forwards (mock-exchange itself takes 4 MiB).
pub const MAX_BODY: usize = 8 * 1024 * 1024;

/// How long a client may take to send a request head.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a client may take to send a request body.
const BODY_READ_TIMEOUT: Duration = Duration::from_secs(60);

/// A load balancer in front of an Exchange namespace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReverseProxy {
    pub host: String,
    /// The name the request carries to Exchange (`Host:`). Equal to `host`: pass-through.
    pub forward_to: String,
}

/// The segment the lab's clients sit on.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientSegment {
    /// Host names the segment cannot reach (e.g. `login.microsoftonline.com`).
    #[serde(default)]
    pub blocked: Vec<String>,
}

/// The state of the certificate a host name presents on TLS connections.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Certificate {
    pub host: String,
    pub state: CertState,
}

/// One device on the path, as written in a lab file (`- load_balancer: { … }`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Device {
    LoadBalancer(LoadBalancer),
    ReverseProxy(ReverseProxy),
    ClientSegment(ClientSegment),
    Certificate(Certificate),
}

/// The lab file's `network:` section.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkSpec {
    /// The Exchange namespaces the lab's DNS knows (`mail.contoso.com`, `autodiscover.contoso.com`,
    /// …). Server FQDNs are routed without being listed.
    #[serde(default)]
    pub exchange_namespaces: Vec<String>,
    /// Each device a one-key map: `- load_balancer: { … }`.
    #[serde(default, with = "serde_yaml_ng::with::singleton_map_recursive")]
    pub devices: Vec<Device>,
}

/// The devices in force, one place per kind.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
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
    /// Every host name a client can reach: Azure AD's, the namespaces, the server FQDNs.
    pub fn all(&self) -> Vec<String> {
        let mut v: Vec<String> = AAD_HOSTS.iter().map(|h| h.to_string()).collect();
        v.extend(self.namespaces.iter().cloned());
        v.extend(self.servers.iter().map(|(_, f)| f.clone()));
        v
    }
    pub fn knows(&self, host: &str) -> bool {
        is_aad_host(host) || self.is_namespace(host) || self.server_by_fqdn(host).is_some()
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
fn split_host(raw: &str) -> (String, Option<String>) {
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

/// Shared by the listener and the `Lab` handle.
struct Shared {
    hosts: HostTable,
    devices: RwLock<Devices>,
    aad_url: String,
    /// Exchange server name (uppercase) → `http://127.0.0.1:PORT`.
    exchange_urls: BTreeMap<String, String>,
}

/// One client connection: where it comes from, the scheme the client spoke, and its own
/// connections to the services behind the network.
///
/// Each client connection gets its own upstream connection per service, opened on first use and
/// closed with it — a load balancer that passes TLS through is a TCP relay, one server connection
/// per client connection. Connection-bound logons (NTLM/Negotiate) depend on it: a handshake
/// never spreads over two server connections, and one client's logon never serves another.
pub struct Conn {
    peer: SocketAddr,
    client_proto: &'static str,
    upstreams: Mutex<HashMap<String, SendRequest<Full<Bytes>>>>,
}

impl Conn {
    /// A connection from `peer` that spoke `client_proto` (`https` or `http`) to the lab's names.
    pub fn new(peer: SocketAddr, client_proto: &'static str) -> Conn {
        Conn {
            peer,
            client_proto,
            upstreams: Mutex::new(HashMap::new()),
        }
    }

    /// Sends on this connection's upstream to `base` (`http://127.0.0.1:PORT`), opening it when
    /// there is none or the service closed it. No lock is held while waiting.
    async fn send(
        &self,
        base: &str,
        req: Request<Full<Bytes>>,
    ) -> Result<Response<Incoming>, String> {
        let kept = self
            .upstreams
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(base);
        let mut sender = match kept {
            Some(mut s) => match s.ready().await {
                Ok(()) => s,
                Err(_) => connect(base).await?,
            },
            None => connect(base).await?,
        };
        let resp = match sender.try_send_request(req).await {
            Ok(r) => r,
            // Closed by the service before the request went out: once more, on a fresh one.
            Err(mut e) => match e.take_message() {
                Some(req) => {
                    sender = connect(base).await?;
                    sender.send_request(req).await.map_err(|e| e.to_string())?
                }
                None => return Err(e.into_error().to_string()),
            },
        };
        self.upstreams
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(base.to_string(), sender);
        Ok(resp)
    }
}

/// Opens an HTTP/1.1 connection to `base`; its driver task ends when the sender is dropped or
/// the service closes.
async fn connect(base: &str) -> Result<SendRequest<Full<Bytes>>, String> {
    let authority = base.trim_start_matches("http://").trim_end_matches('/');
    let stream = TcpStream::connect(authority)
        .await
        .map_err(|e| e.to_string())?;
    // Header names keep the case the service wrote (IIS's `Www-Authenticate`, Exchange's
    // `x-ms-diagnostics`): hyper records it in the response's extensions, which are passed on.
    let (sender, connection) = hyper::client::conn::http1::Builder::new()
        .preserve_header_case(true)
        .handshake(TokioIo::new(stream))
        .await
        .map_err(|e| e.to_string())?;
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::debug!(error = %e, "lab network: upstream connection ended");
        }
    });
    Ok(sender)
}

/// The network's state: the host table, the devices, where the services listen.
#[derive(Clone)]
pub struct Network(Arc<Shared>);

/// Why the network closed a connection without answering.
#[derive(Debug)]
pub struct Refused(pub String);

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} is unreachable from the client segment", self.0)
    }
}

impl std::error::Error for Refused {}

/// Hop-by-hop headers a proxy does not forward, plus those the network sets itself.
const HOP: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authorization",
    "proxy-authenticate",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

impl Network {
    /// The network for a lab: its names, its starting devices, and where mock-aad and each
    /// Exchange server (`(name, "http://127.0.0.1:PORT")`) listen.
    pub fn new(
        hosts: HostTable,
        devices: Devices,
        aad_url: String,
        exchange_urls: Vec<(String, String)>,
    ) -> Network {
        Network(Arc::new(Shared {
            hosts,
            devices: RwLock::new(devices),
            aad_url,
            exchange_urls: exchange_urls
                .into_iter()
                .map(|(n, u)| (n.to_ascii_uppercase(), u))
                .collect(),
        }))
    }

    pub fn hosts(&self) -> &HostTable {
        &self.0.hosts
    }

    /// A copy of the devices in force.
    pub fn devices(&self) -> Devices {
        self.0
            .devices
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Changes the devices; the change is checked first and applies to the next request.
    pub fn update(&self, change: impl FnOnce(&mut Devices)) -> Result<(), NetworkError> {
        // One write lock around read-modify-check-write: concurrent changes never lose each other.
        let mut devices = self.0.devices.write().unwrap_or_else(|p| p.into_inner());
        let mut next = devices.clone();
        change(&mut next);
        next.check(&self.0.hosts)?;
        *devices = next;
        Ok(())
    }

    /// The certificate `host` presents now (read on every TLS handshake).
    pub fn cert_state(&self, host: &str) -> CertState {
        let devices = self.0.devices.read().unwrap_or_else(|p| p.into_inner());
        devices.cert_state(host)
    }

    /// Where `host_header` goes now.
    pub fn route(&self, host_header: &str, client_proto: &'static str) -> Route {
        let devices = self.0.devices.read().unwrap_or_else(|p| p.into_inner());
        devices.route(&self.0.hosts, host_header, client_proto)
    }

    /// Handles one request that arrived on the client connection `conn`. `Err` means: close
    /// the connection without answering (hyper drops a connection whose service fails, sending
    /// nothing).
    pub async fn handle<B>(
        &self,
        req: Request<B>,
        conn: &Conn,
    ) -> Result<Response<Full<Bytes>>, Refused>
    where
        B: hyper::body::Body,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let (peer, client_proto) = (conn.peer, conn.client_proto);
        let (mut parts, body) = req.into_parts();
        let host_header = parts
            .headers
            .get(hyper::header::HOST)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
            .or_else(|| parts.uri.authority().map(|a| a.as_str().to_string()));
        let Some(host_header) = host_header else {
            return Ok(text(
                StatusCode::BAD_REQUEST,
                "400 Bad Request: the request has no Host header.\n".into(),
            ));
        };
        let route = self.route(&host_header, client_proto);
        let (base, host_header, proto) = match route {
            Route::Refused => return Err(Refused(split_host(&host_header).0)),
            Route::Unknown => return Ok(self.unknown_host(&host_header)),
            Route::Aad { host_header } => (self.0.aad_url.clone(), host_header, client_proto),
            Route::Exchange {
                server,
                host_header,
                proto,
            } => match self.0.exchange_urls.get(&server.to_ascii_uppercase()) {
                Some(u) => (u.clone(), host_header, proto),
                None => {
                    return Ok(text(
                        StatusCode::BAD_GATEWAY,
                        format!("502 Bad Gateway: Exchange server '{server}' has no listener.\n"),
                    ))
                }
            },
        };
        // The services' admin APIs are for the lab, not for clients on the network.
        if parts.uri.path().starts_with("/_admin") {
            return Ok(text(StatusCode::NOT_FOUND, "404 Not Found\n".into()));
        }
        let collected =
            tokio::time::timeout(BODY_READ_TIMEOUT, Limited::new(body, MAX_BODY).collect()).await;
        let Ok(collected) = collected else {
            return Ok(text(
                StatusCode::REQUEST_TIMEOUT,
                "408 Request Timeout: the request body did not arrive in time.\n".into(),
            ));
        };
        let body = match collected {
            Ok(c) => c.to_bytes(),
            Err(e) => {
                let too_big = e
                    .downcast_ref::<http_body_util::LengthLimitError>()
                    .is_some();
                return Ok(if too_big {
                    text(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        format!("413 Payload Too Large: the lab network forwards at most {MAX_BODY} bytes.\n"),
                    )
                } else {
                    text(
                        StatusCode::BAD_REQUEST,
                        "400 Bad Request: the request body could not be read.\n".into(),
                    )
                });
            }
        };
        let pq = parts
            .uri
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_else(|| "/".into());
        let Ok(uri) = pq.parse::<Uri>() else {
            return Ok(text(
                StatusCode::BAD_REQUEST,
                "400 Bad Request: malformed request target.\n".into(),
            ));
        };
        let mut headers = HeaderMap::new();
        let forwarded_for = forwarded_for(&parts.headers, peer);
        for (name, value) in parts.headers.drain().filter_map(|(n, v)| n.map(|n| (n, v))) {
            let lower = name.as_str();
            if HOP.contains(&lower)
                || matches!(lower, "host" | "x-forwarded-proto" | "x-forwarded-for")
            {
                continue;
            }
            headers.append(name, value);
        }
        let Ok(host_value) = HeaderValue::from_str(&host_header) else {
            return Ok(text(
                StatusCode::BAD_REQUEST,
                "400 Bad Request: malformed Host header.\n".into(),
            ));
        };
        let mut out_headers = HeaderMap::new();
        out_headers.insert(hyper::header::HOST, host_value);
        out_headers.extend(headers);
        out_headers.insert(
            HeaderName::from_static("x-forwarded-proto"),
            HeaderValue::from_static(proto),
        );
        if let Ok(v) = HeaderValue::from_str(&forwarded_for) {
            out_headers.insert(HeaderName::from_static("x-forwarded-for"), v);
        }
        let mut up = Request::new(Full::new(body));
        *up.method_mut() = parts.method.clone();
        *up.uri_mut() = uri;
        *up.headers_mut() = out_headers;
        let resp = match conn.send(&base, up).await {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(error = %e, "lab network: upstream unreachable");
                return Ok(text(
                    StatusCode::BAD_GATEWAY,
                    format!(
                        "502 Bad Gateway: the service behind '{host_header}' did not answer.\n"
                    ),
                ));
            }
        };
        let (rparts, rbody) = resp.into_parts();
        let bytes = match rbody.collect().await {
            Ok(c) => c.to_bytes(),
            Err(e) => {
                tracing::warn!(error = %e, "lab network: upstream body failed");
                return Ok(text(
                    StatusCode::BAD_GATEWAY,
                    format!("502 Bad Gateway: the service behind '{host_header}' broke off its answer.\n"),
                ));
            }
        };
        let chunked = rparts
            .headers
            .contains_key(hyper::header::TRANSFER_ENCODING);
        let closing = rparts
            .headers
            .get_all(hyper::header::CONNECTION)
            .iter()
            .any(|v| {
                v.to_str()
                    .is_ok_and(|v| v.to_ascii_lowercase().contains("close"))
            });
        let mut out = Response::new(Full::new(bytes));
        *out.status_mut() = rparts.status;
        *out.extensions_mut() = rparts.extensions;
        let h = out.headers_mut();
        for (name, value) in &rparts.headers {
            if HOP.contains(&name.as_str()) || (chunked && name == hyper::header::CONTENT_LENGTH) {
                continue;
            }
            h.append(name.clone(), value.clone());
        }
        if closing {
            // The service ended its connection; so does the relay towards the client.
            h.insert(hyper::header::CONNECTION, HeaderValue::from_static("close"));
        }
        Ok(out)
    }

    fn unknown_host(&self, host_header: &str) -> Response<Full<Bytes>> {
        let (name, _) = split_host(host_header);
        text(
            StatusCode::BAD_GATEWAY,
            format!(
                "502 Bad Gateway: the lab has no host named '{name}'.\nLab hosts: {}\n",
                self.0.hosts.all().join(", ")
            ),
        )
    }
}

/// `X-Forwarded-For` with the peer appended, as proxies do.
fn forwarded_for(headers: &HeaderMap, peer: SocketAddr) -> String {
    let prior: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    let ip = peer.ip().to_string();
    if prior.is_empty() {
        ip
    } else {
        format!("{}, {ip}", prior.join(", "))
    }
}

fn text(status: StatusCode, body: String) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = status;
    r.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

/// The running listener. Dropping it stops accepting and aborts open connections.
pub struct Listener {
    addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Listener {
    /// Binds `listen` and serves `network` over plain HTTP. The lab's clients are taken to have
    /// spoken TLS to the names (`X-Forwarded-Proto: https` unless a device offloads SSL), which
    /// the front door will make literally true.
    pub async fn start(network: Network, listen: SocketAddr) -> std::io::Result<Listener> {
        let listener = TcpListener::bind(listen).await?;
        let addr = listener.local_addr()?;
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(accept_loop(listener, network, rx));
        Ok(Listener {
            addr,
            shutdown: Some(tx),
            task: Some(task),
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting, closes open connections and waits for the listener task.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

async fn accept_loop(listener: TcpListener, network: Network, mut stop: oneshot::Receiver<()>) {
    let mut conns = JoinSet::new();
    loop {
        tokio::select! {
            _ = &mut stop => break,
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(x) => x,
                    Err(e) => {
                        tracing::warn!(error = %e, "lab network: accept failed");
                        continue;
                    }
                };
                let network = network.clone();
                conns.spawn(async move {
                    let conn = Arc::new(Conn::new(peer, "https"));
                    let service = hyper::service::service_fn(move |req: Request<Incoming>| {
                        let network = network.clone();
                        let conn = conn.clone();
                        async move { network.handle(req, &conn).await }
                    });
                    let served = hyper::server::conn::http1::Builder::new()
                        .timer(TokioTimer::new())
                        .header_read_timeout(HEADER_READ_TIMEOUT)
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                    if let Err(e) = served {
                        tracing::debug!(error = %e, %peer, "lab network: connection closed");
                    }
                });
            }
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    }
    // Dropping the set aborts every open connection.
    conns.abort_all();
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
