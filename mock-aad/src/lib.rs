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
//!
//! Modules come in two layers, and the lower never uses the upper:
//! - data: [`config`], [`model`], [`labfile`], [`grants`], [`keys`], [`sessions`] (sign-in flows
//!   and SSO sessions), [`fault_rules`], [`resolve`] (base URL and `{tenant}` segment),
//!   [`federation`] (a federated IdP's SAML token checked against the directory), the
//!   [`aadsts`] catalogue (every AADSTS code, its text and constructor) with the error type it
//!   fills ([`error`]), and [`state`](mod@state), which holds them all;
//! - handlers: [`discovery`], [`token`], [`web`] (sign-in pages), [`admin`], and the [`faults`]
//!   middleware in front of them all.

pub mod aadsts;
pub mod admin;
pub mod config;
pub mod discovery;
pub mod error;
pub mod fault_rules;
pub mod faults;
pub mod federation;
pub mod grants;
pub mod keys;
pub mod labfile;
pub mod model;
pub mod mprsa;
pub mod resolve;
pub mod sessions;
pub mod signin;
pub mod state;
pub mod timefmt;
pub mod token;
pub mod util;
pub mod web;
pub mod wirecase;

use std::net::SocketAddr;

use axum::Router;
pub use lab_kit::Clock;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

pub use config::{
    Config, Hosts, CONTOSO_FEDERATED_LAB, CONTOSO_LAB, CONTOSO_PTA_LAB, SHIPPED_LABS,
};
pub use error::AadError;
pub use model::Directory;
pub use state::AppState;

/// Builds the shared state (no I/O).
pub fn state(config: Config) -> AppState {
    AppState::new(config)
}

/// The whole service as a router, for `oneshot` tests and for embedding.
pub fn app(state: AppState) -> Router {
    Router::new()
        .merge(discovery::routes())
        .merge(token::routes())
        .merge(web::routes())
        .nest("/_admin", admin::routes(state.clone()))
        .route("/healthz", lab_kit::serve::healthz("mock-aad"))
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
        // No Nagle: an answer written in pieces (head, then body) must not wait for the
        // client's delayed ACK, 40 ms per exchange on Linux.
        let listener =
            axum::serve::ListenerExt::tap_io(listener, |tcp: &mut tokio::net::TcpStream| {
                let _ = tcp.set_nodelay(true);
            });
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
