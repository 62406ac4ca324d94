//! Mock Azure AD for hma-lab.
//!
//! A library first: [`start`] binds a listener (port 0 by default), serves the Azure AD endpoints
//! a client or Exchange needs — discovery documents, JWKS, federation metadata, the v1 and v2
//! authorize/token/devicecode endpoints, sign-in pages — plus a loopback-only admin API, and
//! returns a [`Handle`] that shuts the service down when dropped. The binary (`src/bin`) is a thin
//! clap wrapper around it.
//!
//! Everything the service decides is a function of the [`model::Directory`], the
//! [`grants::GrantStore`], the signing [`keys::KeySet`] and the lab [`Clock`]; the admin API and
//! fault rules change that data, never the code path.

pub mod admin;
pub mod discovery;
pub mod error;
pub mod faults;
pub mod grants;
pub mod keys;
pub mod labfile;
pub mod model;
pub mod signin;
pub mod state;
pub mod timefmt;
pub mod token;
pub mod util;
pub mod web;
pub mod wirecase;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, RwLock};

use axum::Router;
pub use lab_kit::Clock;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

pub use error::AadError;
pub use model::Directory;
pub use state::AppState;

/// The default lab's directory (tenant contoso.com with the field guide's values).
pub const CONTOSO_LAB: &str = include_str!("../labs/contoso.yaml");

/// Host names Azure AD puts in issuers and authority URLs. Configuration, so a lab behind a
/// different front door can rename them; the defaults are the real ones.
#[derive(Debug, Clone)]
pub struct Hosts {
    /// `login.microsoftonline.com`: v2 issuer, `error_uri`, instance discovery.
    pub login: String,
    /// `sts.windows.net`: v1 issuer host.
    pub sts: String,
    /// `login.windows.net`: the authority Exchange advertises, cookie domain.
    pub login_windows: String,
}

impl Default for Hosts {
    fn default() -> Self {
        Hosts {
            login: "login.microsoftonline.com".into(),
            sts: "sts.windows.net".into(),
            login_windows: "login.windows.net".into(),
        }
    }
}

/// How to start the service.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where to listen; `127.0.0.1:0` picks a free port.
    pub listen: SocketAddr,
    pub directory: Directory,
    pub clock: Clock,
    pub hosts: Hosts,
    /// The admin API bearer token; a random one when `None`.
    pub admin_token: Option<String>,
    /// Base URL put in discovery documents and sign-in pages. When `None`, each document is built
    /// from the request (`X-Forwarded-Proto` or `http`, and the `Host` header), so the service
    /// answers correctly under any name it is reached by.
    pub public_base: Option<String>,
}

impl Config {
    /// The default lab (`contoso`) on a free loopback port with a real-time clock.
    pub fn contoso() -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            directory: labfile::parse_str(CONTOSO_LAB, "contoso.yaml")
                .expect("the shipped contoso lab parses"),
            clock: Clock::system(),
            hosts: Hosts::default(),
            admin_token: None,
            public_base: None,
        }
    }
}

/// Builds the shared state (no I/O).
pub fn state(config: Config) -> AppState {
    let admin_token = config
        .admin_token
        .clone()
        .unwrap_or_else(|| util::random_b64url(24));
    AppState(Arc::new(state::Shared {
        clock: config.clock.clone(),
        dir: RwLock::new(config.directory.clone()),
        keys: RwLock::new(keys::KeySet::shipped()),
        grants: Mutex::new(grants::GrantStore::default()),
        faults: Mutex::new(faults::Faults::default()),
        sessions: Mutex::new(web::Sessions::default()),
        admin_token,
        config,
    }))
}

/// The whole service as a router, for `oneshot` tests and for embedding.
pub fn app(state: AppState) -> Router {
    Router::new()
        .merge(discovery::routes())
        .merge(token::routes())
        .merge(web::routes())
        .nest("/_admin", admin::routes(state.clone()))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            faults::inject,
        ))
        .layer(axum::extract::DefaultBodyLimit::max(256 * 1024))
        .layer(axum::middleware::from_fn(wirecase::layer))
        .with_state(state)
}

/// A running mock-aad. Dropping it shuts the service down.
pub struct Handle {
    addr: SocketAddr,
    state: AppState,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Handle {
    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
    pub fn admin_token(&self) -> &str {
        &self.state.admin_token
    }
    /// In-process access to the service state (what the admin API changes).
    pub fn state(&self) -> &AppState {
        &self.state
    }
    /// Stops accepting, finishes in-flight requests, and waits for the server task.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Handle {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// Starts the service on `config.listen`.
pub async fn start(config: Config) -> std::io::Result<Handle> {
    start_with_limits(config, lab_kit::serve::Limits::default()).await
}

/// [`start`] with other connection limits (a header timeout, a connection cap).
pub async fn start_with_limits(
    config: Config,
    limits: lab_kit::serve::Limits,
) -> std::io::Result<Handle> {
    let listener = TcpListener::bind(config.listen).await?;
    let addr = listener.local_addr()?;
    let state = state(config);
    let router = app(state.clone());
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        lab_kit::serve::serve(listener, router, limits, async move {
            let _ = rx.await;
        })
        .await;
    });
    Ok(Handle {
        addr,
        state,
        shutdown: Some(tx),
        task: Some(task),
    })
}
