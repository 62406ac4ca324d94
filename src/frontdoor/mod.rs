//! The TLS front door: real clients reach a running [`Lab`] at the real host names over real
//! TLS, changed only by configuration.
//!
//! Three listeners sit in front of the lab's [`Network`]. The HTTPS listener terminates TLS with
//! a leaf chosen by SNI ([`ca::Certs`]) and hands each request to `Network::handle` with a
//! connection whose scheme is `https`, so the devices apply exactly as for the in-process lab
//! (an SSL-offloading load balancer makes Exchange see `http`, WAP translates names, the client
//! segment closes connections). The forward proxy takes `CONNECT host[:port]` to a lab host,
//! answers `200`, and looks at the tunnel's first byte: `0x16` is a TLS ClientHello and is
//! terminated — decrypted, as Fiddler does — with the proxy's own leaf from the lab CA
//! ([`Certs::pick_intercepted`]); anything else is msal-node 2.x's plain HTTP inside the
//! tunnel and is served as is. A CONNECT or absolute-form request for a host the lab does not
//! have is refused with `403` naming the lab's hosts — the lab never reaches the internet. The
//! admin listener ([`admin`]) is loopback-only and bearer-protected.
//!
//! Every exchange is recorded in the [`journal::Journal`]. Bad input closes only its own
//! connection: handshakes and the tunnel's first byte are bounded by a timeout, request heads by
//! hyper's header-read timeout, open connections by a semaphore, and every connection task lives
//! in a `JoinSet` that shutdown aborts.

pub mod admin;
pub mod ca;
pub mod console;
pub mod dashboard;
pub mod journal;
pub mod serve;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant, SystemTime};

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::header::HeaderValue;
use hyper::{HeaderMap, Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use lab_kit::body::read_body;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{oneshot, Semaphore};
use tokio::task::JoinSet;
use tokio_rustls::LazyConfigAcceptor;

use crate::lab::network::MAX_BODY;
use crate::lab::{Conn, Lab, Network};
pub use ca::{CertFault, Certs};
pub use journal::Journal;

/// Listen addresses, limits and timeouts of a front door.
#[derive(Debug, Clone)]
pub struct Options {
    pub https: SocketAddr,
    pub proxy: SocketAddr,
    pub admin: SocketAddr,
    /// Where the CA lives (created on first use).
    pub state_dir: PathBuf,
    pub journal_size: usize,
    /// Time allowed for a TLS handshake, and for a tunnel's first byte.
    pub handshake_timeout: Duration,
    /// Time allowed for a request head (also the keep-alive idle limit).
    pub header_timeout: Duration,
    /// Open client connections across the HTTPS and proxy listeners; more are closed on accept.
    pub max_connections: usize,
    /// Open connections to the admin listener, a budget of its own: a flood of idle client
    /// connections must not lock the instructor (or the test harness) out of the lab.
    pub admin_max_connections: usize,
    /// The admin API's bearer token; a random one when `None`.
    pub admin_token: Option<String>,
}

impl Options {
    /// Every listener on loopback port 0, CA in `state_dir`.
    pub fn loopback(state_dir: impl Into<PathBuf>) -> Options {
        let any = SocketAddr::from(([127, 0, 0, 1], 0));
        Options {
            https: any,
            proxy: any,
            admin: any,
            state_dir: state_dir.into(),
            journal_size: 1000,
            handshake_timeout: Duration::from_secs(10),
            header_timeout: Duration::from_secs(30),
            max_connections: 512,
            admin_max_connections: 64,
            admin_token: None,
        }
    }
}

/// Why a front door did not start.
#[derive(Debug, thiserror::Error)]
pub enum FrontDoorError {
    #[error(transparent)]
    Ca(#[from] ca::CaError),
    #[error("{0}")]
    AdminToken(#[from] lab_kit::admin::BadAdminToken),
    #[error("cannot listen on {addr} ({what}): {source}")]
    Listen {
        what: &'static str,
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// What every connection task shares.
struct Shared {
    network: Network,
    journal: Journal,
    certs: Arc<Certs>,
    tls_config: Arc<rustls::ServerConfig>,
    /// What the decrypting proxy presents inside a tunnel.
    proxy_tls_config: Arc<rustls::ServerConfig>,
    opts: Options,
    slots: Arc<Semaphore>,
    /// The admin listener's own connection budget.
    admin_slots: Arc<Semaphore>,
    tasks: Mutex<JoinSet<()>>,
}

impl Shared {
    fn spawn(&self, fut: impl std::future::Future<Output = ()> + Send + 'static) {
        let mut set = self.tasks.lock().unwrap_or_else(|p| p.into_inner());
        // Reap finished connections so the set stays as small as the open ones.
        while set.try_join_next().is_some() {}
        set.spawn(fut);
    }
}

/// A running front door. Dropping it stops the listeners; [`FrontDoor::shutdown`] also waits.
pub struct FrontDoor {
    shared: Arc<Shared>,
    https: SocketAddr,
    proxy: SocketAddr,
    admin: SocketAddr,
    admin_token: String,
    ca_path: PathBuf,
    stop: Vec<oneshot::Sender<()>>,
    /// The accept loops, in the order https, proxy, admin; each hands its listener back.
    loops: Vec<tokio::task::JoinHandle<TcpListener>>,
    machine: Arc<Mutex<crate::lab::backend::Machine>>,
    admin_state: Arc<admin::AdminState>,
    // Last: the lab stops after the listeners in front of it.
    lab: Arc<Lab>,
}

/// A stopped front door's three listening sockets, still bound: a new front door started on
/// them ([`FrontDoor::start_on`]) answers on the very addresses with no moment in which another
/// socket of the machine could take a port (a reset lab keeps its addresses), and connections
/// that arrive in between wait in the backlog instead of being refused.
pub struct Listeners {
    https: TcpListener,
    proxy: TcpListener,
    admin: TcpListener,
}

async fn bind(what: &'static str, addr: SocketAddr) -> Result<TcpListener, FrontDoorError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| FrontDoorError::Listen { what, addr, source })
}

impl FrontDoor {
    /// Puts a front door in front of `lab`: loads or creates the CA in the state directory,
    /// issues a leaf per lab host name, binds the three listeners.
    pub async fn start(lab: Lab, opts: Options) -> Result<FrontDoor, FrontDoorError> {
        FrontDoor::start_shared(Arc::new(lab), opts).await
    }

    /// [`FrontDoor::start`] in front of a lab the caller keeps a handle on (an exercise's
    /// checks drive the same lab the trainee's clients reach).
    pub async fn start_shared(lab: Arc<Lab>, opts: Options) -> Result<FrontDoor, FrontDoorError> {
        FrontDoor::start_on(lab, opts, None).await
    }

    /// [`FrontDoor::start_shared`] on the listeners of a front door stopped with
    /// [`FrontDoor::shutdown_keeping_listeners`] (`opts`' addresses are then not bound again),
    /// or on new ones bound to `opts`' addresses when `listeners` is `None`.
    pub async fn start_on(
        lab: Arc<Lab>,
        opts: Options,
        listeners: Option<Listeners>,
    ) -> Result<FrontDoor, FrontDoorError> {
        let (authority, _) = ca::Authority::load_or_create(&opts.state_dir)?;
        let ca_path = opts.state_dir.join(ca::CA_FILE);
        FrontDoor::start_with(lab, opts, authority, ca_path, listeners).await
    }

    /// A front door on loopback port 0 with a CA made in memory and written nowhere, for
    /// in-process use (the scenario engine's client trusts it through [`FrontDoor::ca_pem`]);
    /// every in-memory front door of the process shares that one CA.
    /// The lab stays shared with the caller.
    pub async fn start_in_memory(lab: Arc<Lab>) -> Result<FrontDoor, FrontDoorError> {
        let authority = ca::Authority::shared_in_memory()?;
        FrontDoor::start_with(lab, Options::loopback(""), authority, PathBuf::new(), None).await
    }

    async fn start_with(
        lab: Arc<Lab>,
        opts: Options,
        authority: ca::Authority,
        ca_path: PathBuf,
        listeners: Option<Listeners>,
    ) -> Result<FrontDoor, FrontDoorError> {
        let admin_token = match &opts.admin_token {
            Some(t) => lab_kit::admin::admin_token_arg(t)?,
            None => random_token(),
        };
        let certs = Arc::new(Certs::new(authority, lab.network().clone())?);
        let tls_config = Arc::new(certs.server_config()?);
        let proxy_tls_config = Arc::new(certs.proxy_server_config()?);
        // The farm's TLS endpoint is this door: extended protection binds Windows logons to the
        // certificate it presents for the farm's host.
        if let (Some(adfs), Some(host)) = (lab.adfs(), lab.network().hosts().adfs.as_deref()) {
            adfs.state().set_tls_certificate(certs.leaf_der(host));
        }
        let (https_l, proxy_l, admin_l) = match listeners {
            Some(l) => (l.https, l.proxy, l.admin),
            None => (
                bind("https", opts.https).await?,
                bind("proxy", opts.proxy).await?,
                bind("admin", opts.admin).await?,
            ),
        };
        let local = |l: &TcpListener, what, addr| {
            l.local_addr()
                .map_err(|source| FrontDoorError::Listen { what, addr, source })
        };
        let https = local(&https_l, "https", opts.https)?;
        let proxy = local(&proxy_l, "proxy", opts.proxy)?;
        let admin = local(&admin_l, "admin", opts.admin)?;
        let shared = Arc::new(Shared {
            network: lab.network().clone(),
            journal: Journal::new(opts.journal_size).on_clock(lab.clock().clone()),
            certs,
            tls_config,
            proxy_tls_config,
            slots: Arc::new(Semaphore::new(opts.max_connections.max(1))),
            admin_slots: Arc::new(Semaphore::new(opts.admin_max_connections.max(1))),
            opts: opts.clone(),
            tasks: Mutex::new(JoinSet::new()),
        });
        let machine = Arc::new(Mutex::new(crate::lab::backend::Machine::default()));
        let admin_state = Arc::new(admin::AdminState::new(
            lab.clone(),
            shared.journal.clone(),
            shared.certs.clone(),
            admin_token.clone(),
            machine.clone(),
            opts.state_dir.clone(),
        ));
        let mut stop = Vec::new();
        let mut loops = Vec::new();
        let (tx, rx) = oneshot::channel();
        stop.push(tx);
        loops.push(tokio::spawn(accept_loop(
            https_l,
            shared.clone(),
            rx,
            Kind::Https,
        )));
        let (tx, rx) = oneshot::channel();
        stop.push(tx);
        loops.push(tokio::spawn(accept_loop(
            proxy_l,
            shared.clone(),
            rx,
            Kind::Proxy,
        )));
        let (tx, rx) = oneshot::channel();
        stop.push(tx);
        loops.push(tokio::spawn(accept_loop(
            admin_l,
            shared.clone(),
            rx,
            Kind::Admin(admin_state.clone()),
        )));
        Ok(FrontDoor {
            shared,
            https,
            proxy,
            admin,
            admin_token,
            ca_path,
            stop,
            loops,
            machine,
            admin_state,
            lab,
        })
    }

    /// The client machine's settings the admin API's cmdlets write (`reg add`, `defaults
    /// write`): a reference client on this lab reads them, as Outlook reads its machine's.
    pub fn machine(&self) -> Arc<Mutex<crate::lab::backend::Machine>> {
        self.machine.clone()
    }

    pub fn https_addr(&self) -> SocketAddr {
        self.https
    }
    pub fn proxy_addr(&self) -> SocketAddr {
        self.proxy
    }
    pub fn admin_addr(&self) -> SocketAddr {
        self.admin
    }
    pub fn admin_token(&self) -> &str {
        &self.admin_token
    }
    /// The lab CA certificate (PEM) clients must trust.
    pub fn ca_path(&self) -> &Path {
        &self.ca_path
    }
    pub fn ca_pem(&self) -> &str {
        self.shared.certs.ca_pem()
    }
    pub fn certs(&self) -> &Certs {
        &self.shared.certs
    }
    pub fn journal(&self) -> &Journal {
        &self.shared.journal
    }
    pub fn lab(&self) -> &Lab {
        &self.lab
    }

    /// A link that opens the dashboard once (its login secret becomes a session cookie).
    pub fn dashboard_url(&self) -> String {
        self.admin_state.dashboard().login_url(self.admin)
    }

    /// The ready line's object; `adfs` (the farm's URL, reached through the door like every
    /// lab host) only when the lab has a farm. Each call mints a new one-time `dashboard` link.
    pub fn ready(&self) -> serde_json::Value {
        let mut v = serde_json::json!({
            "event": "ready",
            "https": format!("https://{}", self.https),
            "proxy": format!("http://{}", self.proxy),
            "ca": self.ca_path.display().to_string(),
            "admin": format!("http://{}", self.admin),
            "admin_token": self.admin_token,
            "dashboard": self.dashboard_url(),
        });
        if let Some(url) = self.adfs_url() {
            v["adfs"] = serde_json::Value::String(url);
        }
        v
    }

    /// `https://adfs.contoso.com` when the lab has an ADFS farm.
    pub fn adfs_url(&self) -> Option<String> {
        self.lab
            .network()
            .hosts()
            .adfs
            .as_ref()
            .map(|h| format!("https://{h}"))
    }

    /// Stops the listeners, aborts open connections and waits for them.
    pub async fn shutdown(self) {
        drop(self.shutdown_keeping_listeners().await);
    }

    /// [`FrontDoor::shutdown`], but hands back the listening sockets, still bound, for a new
    /// front door ([`FrontDoor::start_on`]); `None` when an accept loop had ended abnormally.
    pub async fn shutdown_keeping_listeners(mut self) -> Option<Listeners> {
        for tx in self.stop.drain(..) {
            let _ = tx.send(());
        }
        let mut back = Vec::with_capacity(3);
        for l in self.loops.drain(..) {
            back.push(l.await.ok());
        }
        let mut set =
            std::mem::take(&mut *self.shared.tasks.lock().unwrap_or_else(|p| p.into_inner()));
        set.abort_all();
        while set.join_next().await.is_some() {}
        match <[Option<TcpListener>; 3]>::try_from(back) {
            Ok([Some(https), Some(proxy), Some(admin)]) => Some(Listeners {
                https,
                proxy,
                admin,
            }),
            _ => None,
        }
    }
}

impl Drop for FrontDoor {
    fn drop(&mut self) {
        for tx in self.stop.drain(..) {
            let _ = tx.send(());
        }
        self.shared
            .tasks
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .abort_all();
    }
}

/// A fresh 256-bit hex token (the admin API's when none is given; a classroom's).
pub fn random_token() -> String {
    let a = uuid::Uuid::new_v4().simple().to_string();
    let b = uuid::Uuid::new_v4().simple().to_string();
    format!("{a}{b}")
}

#[derive(Clone)]
enum Kind {
    Https,
    Proxy,
    Admin(Arc<admin::AdminState>),
}

async fn accept_loop(
    listener: TcpListener,
    shared: Arc<Shared>,
    mut stop: oneshot::Receiver<()>,
    kind: Kind,
) -> TcpListener {
    loop {
        let accepted = tokio::select! {
            _ = &mut stop => break,
            a = listener.accept() => a,
        };
        let (stream, peer) = match accepted {
            Ok(x) => x,
            Err(e) => {
                tracing::warn!(error = %e, "front door: accept failed");
                continue;
            }
        };
        // Requests and answers go out as soon as they are written: with Nagle on, a message
        // written in two pieces waits for the peer's delayed ACK (40 ms on Linux) per exchange.
        let _ = stream.set_nodelay(true);
        let slots = match kind {
            Kind::Admin(_) => &shared.admin_slots,
            Kind::Https | Kind::Proxy => &shared.slots,
        };
        let Ok(permit) = slots.clone().try_acquire_owned() else {
            tracing::warn!(%peer, "front door: connection limit reached, closing");
            drop(stream);
            continue;
        };
        let s = shared.clone();
        let kind = kind.clone();
        shared.spawn(async move {
            let _permit = permit;
            match kind {
                Kind::Https => serve_tls(s, stream, peer, "https").await,
                Kind::Proxy => serve_proxy(s, stream, peer).await,
                Kind::Admin(state) => {
                    admin::serve(state, stream, peer, s.opts.header_timeout).await
                }
            }
        });
    }
    listener
}

/// Terminates TLS on `io` and serves the lab over it.
async fn serve_tls<S>(shared: Arc<Shared>, io: S, peer: SocketAddr, via: &'static str)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let started = SystemTime::now();
    let config = if via == "proxy-tls" {
        shared.proxy_tls_config.clone()
    } else {
        shared.tls_config.clone()
    };
    // The ClientHello first (for its SNI), then the handshake proper.
    let handshake = async move {
        let start = LazyConfigAcceptor::new(rustls::server::Acceptor::default(), io)
            .await
            .map_err(|e| (None, e))?;
        let sni = start.client_hello().server_name().map(str::to_string);
        start.into_stream(config).await.map_err(|e| (sni, e))
    };
    let tls = match tokio::time::timeout(shared.opts.handshake_timeout, handshake).await {
        Ok(Ok(t)) => t,
        Ok(Err((sni, e))) => {
            tracing::debug!(error = %e, %peer, "front door: TLS handshake failed");
            // A ClientHello that named a host: the journal shows the failed handshake (a
            // client rejecting a faulty certificate answers with an alert naming why).
            if let Some(sni) = sni {
                let empty = HeaderMap::new();
                shared.journal.record(journal::Exchange {
                    started,
                    time_ms: 0.0,
                    via,
                    client: peer.to_string(),
                    method: "TLS",
                    url: format!("https://{sni}/"),
                    http_version: "HTTP/1.1",
                    request_headers: &empty,
                    request_body: b"",
                    status: 0,
                    response_headers: &empty,
                    response_body: b"",
                    error: Some(format!("TLS handshake failed: {e}")),
                });
            }
            return;
        }
        Err(_) => {
            tracing::debug!(%peer, "front door: TLS handshake timed out");
            return;
        }
    };
    serve_http(shared, tls, peer, "https", via).await;
}

/// Serves HTTP/1.1 requests on `io` into the lab network.
async fn serve_http<S>(
    shared: Arc<Shared>,
    io: S,
    peer: SocketAddr,
    scheme: &'static str,
    via: &'static str,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let conn = Arc::new(Conn::new(peer, scheme));
    let timeout = shared.opts.header_timeout;
    let service = hyper::service::service_fn(move |req: Request<Incoming>| {
        let shared = shared.clone();
        let conn = conn.clone();
        async move { through(&shared, req, &conn, peer, scheme, via).await }
    });
    let served = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(timeout)
        .serve_connection(TokioIo::new(io), service)
        .await;
    if let Err(e) = served {
        tracing::debug!(error = %e, %peer, "front door: connection closed");
    }
}

/// `https://host/path` for the journal, from the request's Host (or absolute target).
fn full_url(scheme: &str, parts: &hyper::http::request::Parts) -> String {
    if parts.uri.scheme().is_some() {
        return parts.uri.to_string();
    }
    let host = parts
        .headers
        .get(hyper::header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let pq = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    format!("{scheme}://{host}{pq}")
}

fn version_text(v: hyper::Version) -> &'static str {
    match v {
        hyper::Version::HTTP_10 => "HTTP/1.0",
        _ => "HTTP/1.1",
    }
}

/// One request through the network, journalled. `Err` closes the connection unanswered.
async fn through(
    shared: &Shared,
    req: Request<Incoming>,
    conn: &Conn,
    peer: SocketAddr,
    scheme: &'static str,
    via: &'static str,
) -> Result<Response<Full<Bytes>>, crate::lab::network::Refused> {
    let t0 = Instant::now();
    let started = SystemTime::now();
    let (parts, body) = req.into_parts();
    let url = full_url(scheme, &parts);
    let body = match read_body(body, MAX_BODY, shared.opts.header_timeout * 2).await {
        Ok(b) => b,
        Err(e) => return Ok(text(e.status(), e.text())),
    };
    let method = parts.method.clone();
    let version = parts.version;
    let req_headers = parts.headers.clone();
    let req = Request::from_parts(parts, Full::new(body.clone()));
    let result = shared.network.handle(req, conn).await;
    let empty = HeaderMap::new();
    let (status, resp_headers, resp_body, error) = match &result {
        Ok(r) => {
            // `Full` yields its one chunk; this only reads it back for the journal.
            let bytes = r
                .body()
                .clone()
                .collect()
                .await
                .map(|c| c.to_bytes())
                .unwrap_or_default();
            (r.status().as_u16(), r.headers(), bytes, None)
        }
        Err(e) => (
            0,
            &empty,
            Bytes::new(),
            Some(format!("connection closed: {e}")),
        ),
    };
    shared.journal.record(journal::Exchange {
        started,
        time_ms: t0.elapsed().as_secs_f64() * 1000.0,
        via,
        client: peer.to_string(),
        method: method.as_str(),
        url,
        http_version: version_text(version),
        request_headers: &req_headers,
        request_body: &body,
        status,
        response_headers: resp_headers,
        response_body: &resp_body,
        error,
    });
    result
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

/// `host[:port]` → lowercase host without the port or a trailing dot.
fn host_of(authority: &str) -> String {
    let a = authority.trim();
    let host = if let Some(rest) = a.strip_prefix('[') {
        rest.split(']').next().unwrap_or("")
    } else {
        match a.rsplit_once(':') {
            Some((h, p)) if p.chars().all(|c| c.is_ascii_digit()) => h,
            _ => a,
        }
    };
    host.trim_end_matches('.').to_ascii_lowercase()
}

fn forbidden(shared: &Shared, host: &str) -> Response<Full<Bytes>> {
    text(
        StatusCode::FORBIDDEN,
        format!(
            "403 Forbidden: '{host}' is not a host of the lab; the lab never reaches the internet.\nLab hosts: {}\n",
            shared.network.hosts().all().join(", ")
        ),
    )
}

/// The forward proxy: CONNECT tunnels and absolute-form `http://` requests.
async fn serve_proxy(shared: Arc<Shared>, stream: TcpStream, peer: SocketAddr) {
    let timeout = shared.opts.header_timeout;
    let s = shared.clone();
    let conn = Arc::new(Conn::new(peer, "http"));
    let service = hyper::service::service_fn(move |req: Request<Incoming>| {
        let shared = s.clone();
        let conn = conn.clone();
        async move { proxy_request(shared, req, &conn, peer).await }
    });
    let served = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(timeout)
        .serve_connection(TokioIo::new(stream), service)
        .with_upgrades()
        .await;
    if let Err(e) = served {
        tracing::debug!(error = %e, %peer, "front door proxy: connection closed");
    }
}

async fn proxy_request(
    shared: Arc<Shared>,
    req: Request<Incoming>,
    conn: &Conn,
    peer: SocketAddr,
) -> Result<Response<Full<Bytes>>, crate::lab::network::Refused> {
    if req.method() == Method::CONNECT {
        let authority = req
            .uri()
            .authority()
            .map(|a| a.as_str().to_string())
            .or_else(|| {
                req.headers()
                    .get(hyper::header::HOST)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string)
            })
            .unwrap_or_default();
        let host = host_of(&authority);
        if !shared.network.hosts().knows(&host) {
            return Ok(forbidden(&shared, &host));
        }
        // The tunnel outlives the proxy connection's task, so it takes a slot of its own.
        let Ok(permit) = shared.slots.clone().try_acquire_owned() else {
            return Ok(text(
                StatusCode::SERVICE_UNAVAILABLE,
                "503 Service Unavailable: the front door is at its connection limit.\n".into(),
            ));
        };
        let s = shared.clone();
        let on_upgrade = hyper::upgrade::on(req);
        shared.spawn(async move {
            let _permit = permit;
            match on_upgrade.await {
                Ok(up) => tunnel(s, TokioIo::new(up), peer).await,
                Err(e) => tracing::debug!(error = %e, %peer, "front door proxy: upgrade failed"),
            }
        });
        return Ok(Response::new(Full::new(Bytes::new())));
    }
    // Absolute-form `GET http://host/path`: served through the network over plain HTTP.
    let host = req
        .uri()
        .host()
        .map(str::to_string)
        .or_else(|| {
            req.headers()
                .get(hyper::header::HOST)
                .and_then(|v| v.to_str().ok())
                .map(host_of)
        })
        .unwrap_or_default();
    let host = host_of(&host);
    if !shared.network.hosts().knows(&host) {
        return Ok(forbidden(&shared, &host));
    }
    through(&shared, req, conn, peer, "http", "proxy-http").await
}

/// Inside an established tunnel: TLS (first byte 0x16) or msal-node's plain HTTP.
async fn tunnel<S>(shared: Arc<Shared>, mut io: S, peer: SocketAddr)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let mut first = [0u8; 1];
    let read = tokio::time::timeout(shared.opts.handshake_timeout, io.read(&mut first)).await;
    match read {
        Ok(Ok(1)) => {}
        _ => return,
    }
    let io = Prefixed {
        first: Some(first[0]),
        inner: io,
    };
    if first[0] == 0x16 {
        serve_tls(shared, io, peer, "proxy-tls").await;
    } else {
        serve_http(shared, io, peer, "https", "proxy-plain").await;
    }
}

/// A stream with one already-read byte put back in front.
struct Prefixed<S> {
    first: Option<u8>,
    inner: S,
}

impl<S: AsyncRead + Unpin> AsyncRead for Prefixed<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        if let Some(b) = self.first {
            if buf.remaining() > 0 {
                buf.put_slice(&[b]);
                self.first = None;
                return Poll::Ready(Ok(()));
            }
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Prefixed<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_of_authorities() {
        assert_eq!(
            host_of("Login.MicrosoftOnline.com:443"),
            "login.microsoftonline.com"
        );
        assert_eq!(
            host_of("login.microsoftonline.com"),
            "login.microsoftonline.com"
        );
        assert_eq!(host_of("mail.contoso.com."), "mail.contoso.com");
        assert_eq!(host_of("[::1]:443"), "::1");
    }
}
