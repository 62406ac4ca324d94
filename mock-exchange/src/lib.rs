//! Mock on-premises Exchange 2013/2016 for hma-lab.
//!
//! A library first: [`start`] gives every server of the organization its own listener (a real
//! server is its own host) — the first one is where the lab's namespace points, and also serves
//! the loopback-only admin API under `/_admin` — and returns a [`Handle`] that shuts them all
//! down when dropped. Every request goes through [`pipeline`]: request context, challenges and
//! `x-ms-diagnostics` ([`respond`], [`diag`]), the bearer pipeline ([`bearer`], with Azure AD
//! learned only over HTTP from AuthServer metadata, [`metadata`]), front end → back end
//! proxying, and finally the protocol [`surfaces`]. The binary is a thin clap wrapper.

pub mod admin;
pub mod bearer;
pub mod diag;
pub mod labfile;
pub mod metadata;
pub mod model;
pub mod ntlm;
pub mod pipeline;
pub mod respond;
pub mod state;
pub mod surfaces;
pub mod wirecase;

use std::net::SocketAddr;

use axum::Router;
pub use lab_kit::Clock;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

pub use model::Organization;
pub use state::AppState;

/// The default lab (organization Contoso with EX1, the field guide's values).
pub const CONTOSO_LAB: &str = include_str!("../labs/contoso.yaml");

/// How to start the service.
#[derive(Debug, Clone)]
pub struct Config {
    /// The first server's address; `127.0.0.1:0` picks a free port. Every other server gets a
    /// free port on the same IP.
    pub listen: SocketAddr,
    pub organization: Organization,
    pub clock: Clock,
    /// Base URL of mock-aad. Metadata URLs on Azure AD hosts (`login.windows.net`, …) are
    /// fetched from here (the lab's name mapping); `None` fetches them as written.
    pub aad_url: Option<String>,
    /// The admin API bearer token; a random one when `None`.
    pub admin_token: Option<String>,
}

impl Config {
    /// The default lab on a free loopback port with a real-time clock.
    pub fn contoso() -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            organization: contoso_organization(),
            clock: Clock::system(),
            aad_url: None,
            admin_token: None,
        }
    }
}

/// The shipped `contoso` organization, parsed once per process and cloned for each caller: a
/// service starts without parsing YAML (the scenario engine starts two labs per scenario).
pub fn contoso_organization() -> Organization {
    static PARSED: std::sync::OnceLock<Organization> = std::sync::OnceLock::new();
    PARSED
        .get_or_init(|| {
            labfile::parse_str(CONTOSO_LAB, "contoso.yaml").expect("the shipped contoso lab parses")
        })
        .clone()
}

/// Builds the shared state (no I/O).
pub fn state(config: &Config) -> AppState {
    let token = config
        .admin_token
        .clone()
        .unwrap_or_else(|| state::random_hex(24));
    AppState::new(
        config.organization.clone(),
        config.clock.clone(),
        config.aad_url.clone(),
        token,
    )
}

/// One server's listener as a router (the first server's also carries `/_admin`), for
/// `oneshot` tests and embedding: the [`ServerService`] a listener serves.
pub fn app(state: AppState, server_name: &str) -> Router {
    Router::new().fallback_service(ServerService::new(state, server_name))
}

/// What one server's listener answers: `/healthz` and (on the first server) the admin API
/// under `/_admin` through their router, and every other request straight to the [`pipeline`],
/// its header names then spelled as IIS spells them ([`wirecase`]). The client traffic never
/// goes through a router, whose per-request path lookup, boxed services and middleware were a
/// seventh of a Bearer EWS request.
#[derive(Clone)]
pub struct ServerService {
    front: pipeline::Front,
    /// Whether `/_admin` is served here (the first server only).
    admin: bool,
    rest: Router,
}

impl ServerService {
    pub fn new(state: AppState, server_name: &str) -> ServerService {
        let admin = state
            .org()
            .servers
            .first()
            .is_some_and(|s| s.name.eq_ignore_ascii_case(server_name));
        let front = pipeline::Front {
            state: state.clone(),
            server: server_name.into(),
        };
        let mut rest = Router::new();
        if admin {
            rest = rest.nest_service("/_admin", admin::routes(state));
        }
        let rest = rest
            .route("/healthz", lab_kit::serve::healthz("mock-exchange"))
            .layer(axum::middleware::from_fn(wirecase::layer));
        ServerService { front, admin, rest }
    }

    /// Whether `path` is the router's: `/healthz`, or `/_admin` and below where it is served
    /// (as a router matches them: exactly, case-sensitively).
    fn routed(&self, path: &str) -> bool {
        path == "/healthz"
            || (self.admin
                && path
                    .strip_prefix("/_admin")
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with('/')))
    }
}

impl<B> tower::Service<axum::http::Request<B>> for ServerService
where
    B: axum::body::HttpBody<Data = axum::body::Bytes> + Send + 'static,
    B::Error: Into<axum::BoxError>,
{
    type Response = axum::response::Response;
    type Error = std::convert::Infallible;
    type Future = std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<Self::Response, Self::Error>> + Send>,
    >;

    fn poll_ready(
        &mut self,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: axum::http::Request<B>) -> Self::Future {
        use tower::ServiceExt;
        if self.routed(req.uri().path()) {
            let rest = self.rest.clone();
            return Box::pin(rest.oneshot(req));
        }
        let front = self.front.clone();
        Box::pin(async move {
            let resp = pipeline::handle(axum::extract::State(front), req).await;
            Ok(wirecase::finish(resp).await)
        })
    }
}

/// A running mock-exchange. Dropping it shuts every listener down.
pub struct Handle {
    servers: Vec<(String, SocketAddr)>,
    state: AppState,
    shutdown: Vec<oneshot::Sender<()>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Handle {
    /// The first server's URL (where the lab's namespace points).
    pub fn url(&self) -> String {
        self.servers
            .first()
            .map(|(_, a)| format!("http://{a}"))
            .unwrap_or_default()
    }
    /// `http://127.0.0.1:PORT` of a server by name (case-insensitive).
    pub fn server_url(&self, name: &str) -> Option<String> {
        self.servers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, a)| format!("http://{a}"))
    }
    /// Every server's name and URL, in organization order.
    pub fn server_urls(&self) -> Vec<(String, String)> {
        self.servers
            .iter()
            .map(|(n, a)| (n.clone(), format!("http://{a}")))
            .collect()
    }
    pub fn admin_token(&self) -> &str {
        &self.state.admin_token
    }
    /// In-process access to the service state (what the admin API changes).
    pub fn state(&self) -> &AppState {
        &self.state
    }
    /// Stops accepting, finishes in-flight requests and waits for the listeners.
    pub async fn shutdown(mut self) {
        for tx in self.shutdown.drain(..) {
            let _ = tx.send(());
        }
        for t in self.tasks.drain(..) {
            let _ = t.await;
        }
    }
}

impl Drop for Handle {
    fn drop(&mut self) {
        for tx in self.shutdown.drain(..) {
            let _ = tx.send(());
        }
    }
}

/// Starts one listener per server of `config.organization`.
pub async fn start(config: Config) -> std::io::Result<Handle> {
    start_with_limits(config, lab_kit::serve::Limits::default()).await
}

/// [`start`] with other connection limits (a header timeout, a connection cap per server).
pub async fn start_with_limits(
    config: Config,
    limits: lab_kit::serve::Limits,
) -> std::io::Result<Handle> {
    let state = state(&config);
    let names: Vec<String> = state.org().servers.iter().map(|s| s.name.clone()).collect();
    let mut listeners = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let addr = if i == 0 {
            config.listen
        } else {
            SocketAddr::new(config.listen.ip(), 0)
        };
        let l = TcpListener::bind(addr).await?;
        let a = l.local_addr()?;
        state
            .listeners
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(name.to_ascii_uppercase(), format!("http://{a}"));
        listeners.push((name.clone(), a, l));
    }
    let mut handle = Handle {
        servers: Vec::new(),
        state: state.clone(),
        shutdown: Vec::new(),
        tasks: Vec::new(),
    };
    for (name, addr, listener) in listeners {
        let service = ServerService::new(state.clone(), &name);
        let (tx, rx) = oneshot::channel::<()>();
        let (state_for_conn, name_for_conn) = (state.clone(), name.clone());
        let task = tokio::spawn(async move {
            let tracked = ntlm::track(listener, state_for_conn.ntlm.clone(), &name_for_conn);
            lab_kit::serve::serve(tracked, service, limits, async move {
                let _ = rx.await;
            })
            .await;
        });
        handle.servers.push((name, addr));
        handle.shutdown.push(tx);
        handle.tasks.push(task);
    }
    Ok(handle)
}
