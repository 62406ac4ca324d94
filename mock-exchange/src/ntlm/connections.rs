//! Per-connection NTLM state: the handshakes waiting for their AUTHENTICATE message, the logons
//! that persist on a connection, and the listener wrapper that sees connections close.
//!
//! NTLM is connection-oriented: the CHALLENGE answers one TCP connection's NEGOTIATE, and IIS
//! keeps that connection logged on afterwards. So this state is keyed by (server, peer address),
//! and a logon is kept only for connections accepted through a [`TrackedListener`], whose close
//! is observed (otherwise a later connection reusing the peer port would inherit it). It is plain
//! data behind a mutex, shared through an `Arc` by the service state and the listeners; the logon
//! steps ([`super::logon`](mod@super::logon)) read and write it.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use axum::serve::{Listener, ListenerExt, TapIo};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::model::AuthMethod;

/// A pending challenge lives one minute of lab time.
pub const PENDING_TTL_SECONDS: i64 = 60;
/// At most this many handshakes are pending at once; the oldest give way.
pub const MAX_PENDING: usize = 4096;

/// The header scheme the client used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    Ntlm,
    Negotiate,
}

impl Scheme {
    pub fn word(self) -> &'static str {
        match self {
            Scheme::Ntlm => "NTLM",
            Scheme::Negotiate => "Negotiate",
        }
    }

    /// Whether the vdir side's methods offer this scheme (the same rule that writes the
    /// challenge set: WindowsIntegrated offers both).
    pub fn offered(self, methods: &[AuthMethod]) -> bool {
        let m = match self {
            Scheme::Ntlm => AuthMethod::Ntlm,
            Scheme::Negotiate => AuthMethod::Negotiate,
        };
        methods.contains(&m) || methods.contains(&AuthMethod::WindowsIntegrated)
    }
}

/// A handshake waiting for its type 3.
#[derive(Debug, Clone)]
pub struct Pending {
    pub scheme: Scheme,
    pub negotiate: Vec<u8>,
    pub challenge: Vec<u8>,
    pub server_challenge: [u8; 8],
    /// Lab time (unix seconds) the challenge was sent.
    pub created: i64,
}

/// Which connection a handshake belongs to: the listener's server and the peer's address
/// (unique per open TCP connection).
pub type ConnKey = (String, SocketAddr);

/// A connection on which NTLM succeeded: IIS keeps it authenticated (the default
/// `authPersistSingleRequest="false"`), so later requests on it need no `Authorization`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authed {
    pub sid: String,
    pub scheme: Scheme,
}

#[derive(Debug, Default)]
struct ConnState {
    pending: HashMap<ConnKey, Pending>,
    /// Connections accepted by a [`TrackedListener`] and not yet closed.
    open: HashSet<ConnKey>,
    authed: HashMap<ConnKey, Authed>,
}

/// Per-connection NTLM state: pending challenges (bounded, expiring after
/// [`PENDING_TTL_SECONDS`]) and, for connections whose close is observed (accepted through a
/// [`TrackedListener`]), the logon that persists on the connection.
#[derive(Debug, Default)]
pub struct Connections {
    inner: Mutex<ConnState>,
}

impl Connections {
    fn lock(&self) -> std::sync::MutexGuard<'_, ConnState> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn insert(&self, key: ConnKey, p: Pending, now: i64) {
        let mut st = self.lock();
        let map = &mut st.pending;
        if map.len() >= MAX_PENDING && !map.contains_key(&key) {
            map.retain(|_, v| now - v.created <= PENDING_TTL_SECONDS);
            while map.len() >= MAX_PENDING {
                let oldest = map
                    .iter()
                    .min_by_key(|(_, v)| v.created)
                    .map(|(k, _)| k.clone());
                match oldest {
                    Some(k) => {
                        map.remove(&k);
                    }
                    None => break,
                }
            }
        }
        map.insert(key, p);
    }

    /// Removes and returns the connection's pending challenge, if it has not expired.
    pub fn take(&self, key: &ConnKey, now: i64) -> Option<Pending> {
        let p = self.lock().pending.remove(key)?;
        (now - p.created <= PENDING_TTL_SECONDS && now >= p.created).then_some(p)
    }

    /// Number of pending handshakes.
    pub fn len(&self) -> usize {
        self.lock().pending.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of open connections that carry a persisted logon.
    pub fn authenticated(&self) -> usize {
        self.lock().authed.len()
    }

    /// `iisreset`: the worker process is gone, and with it every handshake and logon.
    pub fn clear(&self) {
        let mut st = self.lock();
        st.pending.clear();
        st.authed.clear();
    }

    /// A tracked connection was accepted.
    pub fn opened(&self, key: ConnKey) {
        let mut st = self.lock();
        st.authed.remove(&key);
        st.open.insert(key);
    }

    /// A tracked connection was closed: everything bound to it goes.
    pub fn closed(&self, key: &ConnKey) {
        let mut st = self.lock();
        st.open.remove(key);
        st.pending.remove(key);
        st.authed.remove(key);
    }

    /// Keeps a logon for the connection, only when its close will be observed (otherwise a
    /// later connection reusing the peer port would inherit it).
    pub fn remember(&self, key: ConnKey, a: Authed) {
        let mut st = self.lock();
        if st.open.contains(&key) {
            st.authed.insert(key, a);
        }
    }

    /// A new handshake on the connection replaces its logon.
    pub fn forget_logon(&self, key: &ConnKey) {
        self.lock().authed.remove(key);
    }

    pub fn logon_of(&self, key: &ConnKey) -> Option<Authed> {
        self.lock().authed.get(key).cloned()
    }
}

/// A TCP listener whose connections report their close to [`Connections`], so a logon can
/// persist on a connection (as IIS keeps an NTLM connection authenticated) and never outlive
/// it. Built by [`track`].
pub struct TrackedListener {
    inner: tokio::net::TcpListener,
    conns: Arc<Connections>,
    server: String,
}

/// The accepted stream: a `TcpStream` that tells [`Connections`] when it is dropped (before
/// the socket closes, so no new connection can reuse the peer address first).
pub struct TrackedStream {
    io: tokio::net::TcpStream,
    conns: Arc<Connections>,
    key: ConnKey,
}

/// Wraps a server's listener for `axum::serve(…, into_make_service_with_connect_info::<SocketAddr>())`
/// (the `tap_io` wrapper is what gives `ConnectInfo<SocketAddr>` for a custom listener).
pub fn track(
    listener: tokio::net::TcpListener,
    conns: Arc<Connections>,
    server: &str,
) -> TapIo<TrackedListener, fn(&mut TrackedStream)> {
    fn nothing(_: &mut TrackedStream) {}
    TrackedListener {
        inner: listener,
        conns,
        server: server.to_ascii_uppercase(),
    }
    .tap_io(nothing as fn(&mut TrackedStream))
}

impl Listener for TrackedListener {
    type Io = TrackedStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (TrackedStream, SocketAddr) {
        let (io, addr) = Listener::accept(&mut self.inner).await;
        // No Nagle: an answer written in pieces (head, then body) must not wait for the
        // client's delayed ACK, 40 ms per exchange on Linux.
        let _ = io.set_nodelay(true);
        let key: ConnKey = (self.server.clone(), addr);
        self.conns.opened(key.clone());
        (
            TrackedStream {
                io,
                conns: self.conns.clone(),
                key,
            },
            addr,
        )
    }

    fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.inner.local_addr()
    }
}

impl TrackedStream {
    /// For tests: a tracked stream over an existing connection.
    pub fn new(
        io: tokio::net::TcpStream,
        conns: Arc<Connections>,
        server: &str,
    ) -> std::io::Result<Self> {
        let key: ConnKey = (server.to_ascii_uppercase(), io.peer_addr()?);
        conns.opened(key.clone());
        Ok(TrackedStream { io, conns, key })
    }
}

impl Drop for TrackedStream {
    fn drop(&mut self) {
        self.conns.closed(&self.key);
    }
}

impl AsyncRead for TrackedStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl AsyncWrite for TrackedStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }
    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pending_store_is_bounded_and_expires() {
        let store = Connections::default();
        let p = |created| Pending {
            scheme: Scheme::Ntlm,
            negotiate: vec![],
            challenge: vec![],
            server_challenge: [0; 8],
            created,
        };
        for i in 0..(MAX_PENDING + 50) {
            let addr = SocketAddr::from(([127, 0, 0, 1], (i % 65536) as u16));
            let key = (format!("EX{}", i / 65536), addr);
            store.insert(key, p(0), 0);
        }
        assert_eq!(store.len(), MAX_PENDING);
        let key = ("EX1".to_string(), SocketAddr::from(([10, 0, 0, 1], 1)));
        store.insert(key.clone(), p(1000), 1000);
        assert!(store.take(&key, 1000 + PENDING_TTL_SECONDS + 1).is_none());
        store.insert(key.clone(), p(1000), 1000);
        assert!(store.take(&key, 1000 + PENDING_TTL_SECONDS).is_some());
        assert!(store.take(&key, 1000).is_none(), "taken once");
    }
}
