//! The shared state of a running mock-adfs: the farm, the token-signing certificates, the TLS
//! certificate extended protection binds to, the sign-in sessions, the NTLM handshakes in
//! flight, the clock and the admin token. One `Clone` struct of `Arc`s; every lock is held for a
//! read or a small edit and never across an `.await`.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard, RwLockWriteGuard};

use lab_kit::Clock;

use crate::config::Config;
use crate::keys::TokenSigning;
use crate::model::Farm;

/// How a session's user proved who they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// The forms page (or a UsernameToken).
    Password,
    /// Windows integrated (Negotiate/NTLM).
    Windows,
}

/// A signed-in browser (the `MSISAuth` cookie).
#[derive(Debug, Clone)]
pub struct Session {
    pub upn: String,
    pub method: Method,
    /// Unix milliseconds of the primary sign-in.
    pub authn_ms: i64,
    pub mfa_done: bool,
    /// Lab time (unix seconds) after which the cookie is not honoured.
    pub expires: i64,
}

/// A Windows logon waiting for its AUTHENTICATE message, per TCP connection.
#[derive(Debug, Clone)]
pub struct Pending {
    pub challenge: [u8; 8],
    /// Lab time (unix seconds) the challenge was sent.
    pub created: i64,
}

/// Sessions live eight hours of lab time (ADFS's default SSO lifetime, 480 minutes).
pub const SESSION_SECONDS: i64 = 8 * 3600;
/// At most this many sessions or pending handshakes are kept; the oldest give way.
pub const MAX_ENTRIES: usize = 4096;
/// A challenge is answered within a minute of lab time or forgotten.
pub const PENDING_SECONDS: i64 = 60;

#[derive(Clone)]
pub struct AppState {
    farm: Arc<RwLock<Farm>>,
    certs: Arc<RwLock<TokenSigning>>,
    tls_certificate: Arc<RwLock<Option<Vec<u8>>>>,
    pub sessions: Arc<Mutex<HashMap<String, Session>>>,
    pub pending: Arc<Mutex<HashMap<SocketAddr, Pending>>>,
    pub clock: Clock,
    pub admin_token: Arc<str>,
}

fn random_token() -> String {
    use base64::Engine;
    use rand::RngCore;
    let mut b = [0u8; 24];
    rand::rng().fill_bytes(&mut b);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

impl AppState {
    pub fn new(config: Config) -> AppState {
        AppState {
            farm: Arc::new(RwLock::new(config.farm)),
            certs: Arc::new(RwLock::new(TokenSigning::default())),
            tls_certificate: Arc::new(RwLock::new(config.tls_certificate)),
            sessions: Arc::default(),
            pending: Arc::default(),
            clock: config.clock,
            admin_token: config.admin_token.unwrap_or_else(random_token).into(),
        }
    }

    pub fn farm(&self) -> RwLockReadGuard<'_, Farm> {
        self.farm.read().unwrap_or_else(|e| e.into_inner())
    }
    pub fn farm_mut(&self) -> RwLockWriteGuard<'_, Farm> {
        self.farm.write().unwrap_or_else(|e| e.into_inner())
    }
    pub fn certs(&self) -> TokenSigning {
        *self.certs.read().unwrap_or_else(|e| e.into_inner())
    }
    pub fn certs_mut(&self) -> RwLockWriteGuard<'_, TokenSigning> {
        self.certs.write().unwrap_or_else(|e| e.into_inner())
    }
    pub fn tls_certificate(&self) -> Option<Vec<u8>> {
        self.tls_certificate
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
    pub fn set_tls_certificate(&self, der: Option<Vec<u8>>) {
        *self
            .tls_certificate
            .write()
            .unwrap_or_else(|e| e.into_inner()) = der;
    }

    /// Lab time in unix milliseconds.
    pub fn now_ms(&self) -> i64 {
        self.clock.unix_micros() / 1000
    }

    /// Starts a session; returns its cookie value.
    pub fn open_session(&self, upn: &str, method: Method, mfa_done: bool) -> String {
        let token = random_token();
        let now = self.clock.unix();
        let mut sessions = self.sessions.lock().unwrap_or_else(|e| e.into_inner());
        sessions.retain(|_, s| s.expires > now);
        lab_kit::bounded::evict_lowest(&mut sessions, MAX_ENTRIES, |s| s.expires);
        sessions.insert(
            token.clone(),
            Session {
                upn: upn.to_string(),
                method,
                authn_ms: self.now_ms(),
                mfa_done,
                expires: now.saturating_add(SESSION_SECONDS),
            },
        );
        token
    }

    /// The live session for a cookie value.
    pub fn session(&self, token: &str) -> Option<Session> {
        let now = self.clock.unix();
        let sessions = self.sessions.lock().unwrap_or_else(|e| e.into_inner());
        sessions.get(token).filter(|s| s.expires > now).cloned()
    }

    /// Marks a session's second factor done.
    pub fn complete_mfa(&self, token: &str) {
        let mut sessions = self.sessions.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(s) = sessions.get_mut(token) {
            s.mfa_done = true;
        }
    }

    pub fn end_session(&self, token: &str) {
        let mut sessions = self.sessions.lock().unwrap_or_else(|e| e.into_inner());
        sessions.remove(token);
    }
}
