//! The lab's network: one listener between the clients and the two services, carrying each
//! request where the devices on the path send it.
//!
//! Azure AD's host names go to mock-aad; the Exchange namespaces and server FQDNs of the lab file
//! go to mock-exchange; the ADFS farm's host, when the lab has one, goes to mock-adfs. On the way a request may meet a reverse proxy that translates its name
//! (WAP publishing `autodiscover.contoso.com` onto `mail.contoso.com`), a load balancer that picks
//! the Exchange server and may offload SSL (Exchange then sees `X-Forwarded-Proto: http`), and the
//! client segment's blocked destinations (the connection is closed without an answer, as near to
//! "the network cannot reach it" as a listener that has already accepted can get).
//!
//! This module is the request path: the listener, each client connection with its own upstream
//! connections ([`Conn`]), and the forwarding itself ([`Network::handle`]). What the devices are
//! and where they route is plain data in [`super::devices`]; every request reads the devices
//! afresh, so a change applies to the next request, and the TLS front door puts the same
//! decisions behind real TLS by calling [`Network::handle`] with the scheme the client spoke.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::client::conn::http1::SendRequest;
use hyper::header::{HeaderName, HeaderValue};
use hyper::{HeaderMap, Request, Response, StatusCode, Uri};
use hyper_util::rt::{TokioIo, TokioTimer};
use lab_kit::body::read_body;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinSet;

use super::devices::{split_host, CertState, Devices, NetworkError, Route};
// The lab's names as the network routes them; callers that hold the network reach them here.
pub use super::devices::{HostTable, AAD_HOSTS};

/// Largest request body the network forwards (mock-exchange itself takes 4 MiB).
pub const MAX_BODY: usize = 8 * 1024 * 1024;

/// How long a client may take to send a request head.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a client may take to send a request body.
const BODY_READ_TIMEOUT: Duration = Duration::from_secs(60);

/// Shared by the listener and the `Lab` handle.
struct Shared {
    hosts: HostTable,
    devices: RwLock<Devices>,
    aad_url: String,
    /// Exchange server name (uppercase) → `http://127.0.0.1:PORT`.
    exchange_urls: BTreeMap<String, String>,
    /// Where mock-adfs listens, when the lab has a farm.
    adfs_url: Option<String>,
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
    // No Nagle: a request written in pieces must not wait for the service's delayed ACK.
    let _ = stream.set_nodelay(true);
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
        Network::with_adfs(hosts, devices, aad_url, exchange_urls, None)
    }

    /// [`Network::new`] for a lab with an ADFS farm: `hosts.adfs` goes to `adfs_url`.
    pub fn with_adfs(
        hosts: HostTable,
        devices: Devices,
        aad_url: String,
        exchange_urls: Vec<(String, String)>,
        adfs_url: Option<String>,
    ) -> Network {
        Network(Arc::new(Shared {
            hosts,
            devices: RwLock::new(devices),
            aad_url,
            exchange_urls: exchange_urls
                .into_iter()
                .map(|(n, u)| (n.to_ascii_uppercase(), u))
                .collect(),
            adfs_url,
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
        B: hyper::body::Body<Data = Bytes>,
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
            Route::Adfs { host_header } => match &self.0.adfs_url {
                Some(u) => (u.clone(), host_header, client_proto),
                None => return Ok(self.unknown_host(&host_header)),
            },
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
        let body = match read_body(body, MAX_BODY, BODY_READ_TIMEOUT).await {
            Ok(b) => b,
            Err(e) => return Ok(text(e.status(), e.text())),
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
                // No Nagle: an answer written in pieces must not wait for the client's delayed ACK.
                let _ = stream.set_nodelay(true);
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
