//! Mock ADFS for hma-lab: the on-premises security token service of a federated domain.
//!
//! A library first: [`start`] binds a listener (port 0 by default) and serves what Azure AD,
//! browsers and MSAL need from an ADFS farm — federation metadata and MEX ([`metadata`]),
//! passive WS-Federation sign-in with the forms page, Windows integrated sign-in and an MFA step
//! ([`passive`], [`wia`]), active WS-Trust 1.3 and 2005 ([`trust`]) — plus a loopback-only admin
//! API ([`admin`]), and returns a [`Handle`] that shuts the service down when dropped. The
//! binary (`src/bin`) is a thin clap wrapper.
//!
//! It talks to Azure AD only as a real farm does: the browser carries its signed assertions to
//! `login.srf`, and Azure AD trusts it through its domain federation settings. The SAML
//! assertions and XML signatures are `lab_kit::saml`, the code mock Azure AD verifies with.
//!
//! Modules, lower layer first (the lower never uses the upper): data — [`config`], [`model`],
//! [`labfile`], [`keys`] (token-signing certificates and rollover), [`state`](mod@state);
//! building — [`issue`] (claims, assertions, WS-Trust responses), [`pages`] (HTML), [`wia`]
//! (the Windows logon and extended protection); handlers — [`metadata`], [`passive`],
//! [`trust`], [`admin`].

pub mod admin;
pub mod config;
pub mod issue;
pub mod keys;
pub mod labfile;
pub mod metadata;
pub mod model;
pub mod pages;
pub mod passive;
pub mod state;
pub mod trust;
pub mod wia;

use std::net::SocketAddr;

use axum::Router;
pub use lab_kit::Clock;
use tokio::net::TcpListener;

pub use config::{Config, CONTOSO_LAB};
pub use model::Farm;
pub use state::AppState;

/// Largest request body any route reads.
pub const MAX_BODY: usize = 256 * 1024;

/// Builds the shared state (no I/O).
pub fn state(config: Config) -> AppState {
    AppState::new(config)
}

/// The whole service as a router, for `oneshot` tests and for embedding.
pub fn app(state: AppState) -> Router {
    Router::new()
        .merge(metadata::routes())
        .merge(passive::routes())
        .merge(trust::routes())
        .nest("/_admin", admin::routes(state.clone()))
        .route("/healthz", lab_kit::serve::healthz("mock-adfs"))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY))
        .with_state(state)
}

/// A running mock-adfs. Dropping it shuts the service down.
pub struct Handle {
    running: lab_kit::serve::Running,
    state: AppState,
}

impl Handle {
    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.running.addr())
    }
    pub fn addr(&self) -> SocketAddr {
        self.running.addr()
    }
    pub fn admin_token(&self) -> &str {
        &self.state.admin_token
    }
    /// In-process access to the service state (what the admin API changes).
    pub fn state(&self) -> &AppState {
        &self.state
    }
    /// Stops accepting, finishes in-flight requests, and waits for the server task.
    pub async fn shutdown(self) {
        self.running.shutdown().await;
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
    let state = state(config);
    // Parse the shipped keys now, not on the first sign-in.
    let _ = keys::shipped();
    let running = lab_kit::serve::Running::spawn(listener, app(state.clone()), limits)?;
    Ok(Handle { running, state })
}
