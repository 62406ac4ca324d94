//! Serving a service's router with the limits every lab listener needs.
//!
//! `axum::serve` has no header-read or idle timeout and no connection cap: an idle connection
//! once stayed open 150 s, and 200 slowloris connections held a service for a minute. Every lab
//! service (mock Azure AD, each mock Exchange server) is served here instead, on hyper's HTTP/1.1
//! connection with a watchdog: a connection that has no request in progress and has not begun or
//! finished one for [`Limits::header_timeout`] is closed (a silent connection, a slowloris head
//! that never ends, an idle keep-alive connection), and at most [`Limits::max_connections`]
//! connections are open at once — one more is closed on accept.
//!
//! The watchdog is one interval timer per connection, looked at every `header_timeout`: a
//! connection goes between one and two timeouts after its last request (a silent one after
//! exactly one). hyper's own `header_read_timeout` arms a timer for every request head, which
//! takes the runtime's timer lock twice per request, a measurable share of a short answer.
//! The listener may be any `axum::serve::Listener` whose address is a `SocketAddr` (mock
//! Exchange wraps its listener to follow NTLM's connection-bound state); each request carries
//! `ConnectInfo<SocketAddr>` as with `into_make_service_with_connect_info`.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::serve::Listener;
use axum::Router;
use hyper::body::{Frame, Incoming, SizeHint};
use hyper::Request;
use hyper_util::rt::TokioIo;
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinSet;
use tower::ServiceExt;

/// The body of `GET /healthz`, which every lab service answers with `200` and
/// `Content-Type: application/json`, without a token, for supervisors and CI service containers:
/// `{"status":"ok","service":"mock-aad"}`.
pub fn healthz_body(service: &str) -> String {
    format!("{{\"status\":\"ok\",\"service\":\"{service}\"}}")
}

/// The `GET /healthz` route of a service's router.
pub fn healthz<S: Clone + Send + Sync + 'static>(
    service: &'static str,
) -> axum::routing::MethodRouter<S> {
    axum::routing::get(move || async move {
        (
            [(axum::http::header::CONTENT_TYPE, "application/json")],
            healthz_body(service),
        )
    })
}

/// A listener's limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Connections open at once; one more is closed as soon as it is accepted.
    pub max_connections: usize,
    /// Time a connection may go without a request in progress before it is closed: for its
    /// first request head, a head that never ends, or an idle keep-alive connection's next
    /// request (at most twice this after the last request ended).
    pub header_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_connections: 512,
            header_timeout: Duration::from_secs(30),
        }
    }
}

/// What a connection's requests have done, for its watchdog (one connection's task touches it).
#[derive(Default)]
struct Activity {
    /// Requests begun plus requests ended.
    events: AtomicU64,
    /// Requests begun and not yet answered.
    in_flight: AtomicU64,
}

/// One request in progress on a connection; its end is counted when it is dropped (answered, or
/// abandoned with the connection).
struct InFlight(Arc<Activity>);

impl InFlight {
    fn begin(activity: &Arc<Activity>) -> Self {
        activity.events.fetch_add(1, Ordering::Relaxed);
        activity.in_flight.fetch_add(1, Ordering::Relaxed);
        InFlight(activity.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
        self.0.events.fetch_add(1, Ordering::Relaxed);
    }
}

/// An answer's body, which keeps its request counted as in progress until hyper has taken all of
/// it (or dropped it with the connection): a body that takes longer than the timeout to produce
/// is not cut.
struct Counted {
    body: axum::body::Body,
    _in_flight: InFlight,
}

impl hyper::body::Body for Counted {
    type Data = hyper::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.get_mut().body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// Serves `router` (a [`Router`], or any service that answers as one) on `listener` until
/// `shutdown` resolves, then lets open connections finish their current request and waits for
/// them.
pub async fn serve<L, S>(
    mut listener: L,
    router: S,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send,
) where
    L: Listener<Addr = SocketAddr>,
    S: tower::Service<
            Request<Incoming>,
            Response = axum::response::Response,
            Error = std::convert::Infallible,
        > + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut tasks = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        let (io, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => accepted,
        };
        // Reap finished connections so the set stays as small as the open connections.
        while tasks.try_join_next().is_some() {}
        let Ok(permit) = slots.clone().try_acquire_owned() else {
            tracing::warn!(%peer, "connection limit reached, closing");
            drop(io);
            continue;
        };
        let router = router.clone();
        let mut stop = stop_rx.clone();
        tasks.spawn(async move {
            let _permit = permit;
            let activity = Arc::new(Activity::default());
            let counted = activity.clone();
            let service = hyper::service::service_fn(move |mut req: Request<Incoming>| {
                req.extensions_mut().insert(ConnectInfo(peer));
                let guard = InFlight::begin(&counted);
                let answer = router.clone().oneshot(req);
                async move {
                    // Counted until hyper has taken the whole answer, however long its body.
                    let resp = answer.await?;
                    Ok::<_, std::convert::Infallible>(resp.map(|body| Counted {
                        body,
                        _in_flight: guard,
                    }))
                }
            });
            let conn = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(io), service);
            tokio::pin!(conn);
            let period = limits.header_timeout.max(Duration::from_millis(1));
            let mut watchdog =
                tokio::time::interval_at(tokio::time::Instant::now() + period, period);
            watchdog.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            // Requests begun or ended as of the watchdog's last look.
            let mut seen = 0;
            let served = loop {
                tokio::select! {
                    r = conn.as_mut() => break r,
                    () = async { let _ = stop.wait_for(|s| *s).await; } => {
                        conn.as_mut().graceful_shutdown();
                        break conn.await;
                    }
                    _ = watchdog.tick() => {
                        let events = activity.events.load(Ordering::Relaxed);
                        if activity.in_flight.load(Ordering::Relaxed) == 0 && events == seen {
                            tracing::debug!(%peer, "no request within the header timeout, closing");
                            break Ok(());
                        }
                        seen = events;
                    }
                }
            };
            if let Err(e) = served {
                tracing::debug!(error = %e, %peer, "connection closed");
            }
        });
    }
    drop(listener);
    let _ = stop_tx.send(true);
    while tasks.join_next().await.is_some() {}
}

/// A service served in the background on a bound listener: its address, and shutdown on drop
/// (or awaited with [`Running::shutdown`]). What a service's `Handle` wraps.
pub struct Running {
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Running {
    /// Serves `router` on `listener` (with `TCP_NODELAY` on every connection, so an answer
    /// written in pieces never waits for a delayed ACK) until shut down.
    pub fn spawn(
        listener: tokio::net::TcpListener,
        router: Router,
        limits: Limits,
    ) -> std::io::Result<Running> {
        let addr = listener.local_addr()?;
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let listener =
                axum::serve::ListenerExt::tap_io(listener, |tcp: &mut tokio::net::TcpStream| {
                    let _ = tcp.set_nodelay(true);
                });
            serve(listener, router, limits, async move {
                let _ = rx.await;
            })
            .await;
        });
        Ok(Running {
            addr,
            stop: Some(tx),
            task: Some(task),
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting, finishes in-flight requests, and waits for the server task.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }
}

/// Installs the SIGINT/SIGTERM handlers now (before a binary prints its ready line, so a signal
/// sent right after it is never missed) and returns a future that resolves on either.
pub fn shutdown_signal() -> std::io::Result<impl Future<Output = ()>> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = signal(SignalKind::terminate())?;
        let mut int = signal(SignalKind::interrupt())?;
        Ok(async move {
            tokio::select! {
                _ = int.recv() => {}
                _ = term.recv() => {}
            }
        })
    }
    #[cfg(not(unix))]
    {
        Ok(async {
            let _ = tokio::signal::ctrl_c().await;
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::routing::get;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream};
    use tokio::sync::oneshot;

    async fn start(
        limits: Limits,
    ) -> (SocketAddr, oneshot::Sender<()>, tokio::task::JoinHandle<()>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let router = Router::new().route(
            "/",
            get(|ConnectInfo(peer): ConnectInfo<SocketAddr>| async move { peer.to_string() }),
        );
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(serve(listener, router, limits, async move {
            let _ = rx.await;
        }));
        (addr, tx, task)
    }

    /// Reads until the server closes; `None` if it is still open after `within`.
    async fn closed_within(s: &mut TcpStream, within: Duration) -> Option<Vec<u8>> {
        let mut out = Vec::new();
        tokio::time::timeout(within, s.read_to_end(&mut out))
            .await
            .ok()
            .map(|_| out)
    }

    #[tokio::test]
    async fn a_silent_connection_is_closed_after_the_header_timeout() {
        let (addr, _stop, _) = start(Limits {
            max_connections: 8,
            header_timeout: Duration::from_millis(200),
        })
        .await;
        let mut idle = TcpStream::connect(addr).await.unwrap();
        assert!(closed_within(&mut idle, Duration::from_secs(10))
            .await
            .is_some());
        // Half a request head is no better.
        let mut slow = TcpStream::connect(addr).await.unwrap();
        slow.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n")
            .await
            .unwrap();
        assert!(closed_within(&mut slow, Duration::from_secs(10))
            .await
            .is_some());
    }

    #[tokio::test]
    async fn an_idle_keep_alive_connection_is_closed_after_the_header_timeout() {
        let (addr, _stop, _) = start(Limits {
            max_connections: 8,
            header_timeout: Duration::from_millis(200),
        })
        .await;
        let mut s = TcpStream::connect(addr).await.unwrap();
        let local = s.local_addr().unwrap();
        s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        let out = closed_within(&mut s, Duration::from_secs(10))
            .await
            .unwrap();
        let out = String::from_utf8_lossy(&out);
        assert!(out.starts_with("HTTP/1.1 200 OK"), "{out}");
        assert!(
            out.ends_with(&local.to_string()),
            "ConnectInfo is the peer: {out}"
        );
    }

    /// A response body made of the parts a channel brings, as they come.
    struct Trickle(tokio::sync::mpsc::Receiver<hyper::body::Bytes>);

    impl hyper::body::Body for Trickle {
        type Data = hyper::body::Bytes;
        type Error = std::convert::Infallible;

        fn poll_frame(
            self: Pin<&mut Self>,
            cx: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
            self.get_mut()
                .0
                .poll_recv(cx)
                .map(|part| part.map(|b| Ok(Frame::data(b))))
        }
    }

    #[tokio::test]
    async fn a_long_request_a_slow_body_and_a_busy_connection_are_not_cut() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let router = Router::new()
            .route("/", get(|| async { "quick" }))
            .route(
                "/slow",
                get(|| async {
                    tokio::time::sleep(Duration::from_millis(700)).await;
                    "slow"
                }),
            )
            .route(
                "/trickle",
                get(|| async {
                    // A body whose parts come 300 ms apart, for 900 ms.
                    let (tx, rx) = tokio::sync::mpsc::channel(1);
                    tokio::spawn(async move {
                        for part in ["part ", "part ", "end"] {
                            tokio::time::sleep(Duration::from_millis(300)).await;
                            let _ = tx
                                .send(hyper::body::Bytes::from_static(part.as_bytes()))
                                .await;
                        }
                    });
                    axum::body::Body::new(Trickle(rx))
                }),
            );
        let (_stop, rx) = oneshot::channel::<()>();
        let limits = Limits {
            max_connections: 8,
            header_timeout: Duration::from_millis(200),
        };
        tokio::spawn(serve(listener, router, limits, async move {
            let _ = rx.await;
        }));
        async fn ask(s: &mut TcpStream, path: &str, body: &str) {
            s.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes())
                .await
                .unwrap();
            let mut got = Vec::new();
            let mut buf = [0u8; 512];
            while !String::from_utf8_lossy(&got).ends_with(body) {
                let n = s.read(&mut buf).await.unwrap();
                assert!(n > 0, "closed while answering {path}: {got:?}");
                got.extend_from_slice(&buf[..n]);
            }
        }
        let mut s = TcpStream::connect(addr).await.unwrap();
        // In progress for more than three timeouts: answered, on the same connection.
        ask(&mut s, "/slow", "slow").await;
        // A body still coming after four timeouts: all of it, on the same connection.
        ask(&mut s, "/trickle", "end\r\n0\r\n\r\n").await;
        // A request every 120 ms (more than half a timeout apart) for two seconds.
        for _ in 0..16 {
            tokio::time::sleep(Duration::from_millis(120)).await;
            ask(&mut s, "/", "quick").await;
        }
        // Then idle: closed within two timeouts.
        assert!(closed_within(&mut s, Duration::from_secs(10))
            .await
            .is_some());
    }

    #[tokio::test]
    async fn connections_beyond_the_cap_are_closed_on_accept_until_one_ends() {
        let (addr, _stop, _) = start(Limits {
            max_connections: 2,
            header_timeout: Duration::from_secs(60),
        })
        .await;
        let a = TcpStream::connect(addr).await.unwrap();
        let _b = TcpStream::connect(addr).await.unwrap();
        let mut c = TcpStream::connect(addr).await.unwrap();
        let out = closed_within(&mut c, Duration::from_secs(10)).await;
        assert_eq!(
            out,
            Some(Vec::new()),
            "closed unanswered, long before the header timeout"
        );
        drop(a);
        let mut served = false;
        for _ in 0..200 {
            let mut d = TcpStream::connect(addr).await.unwrap();
            d.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                .await
                .unwrap();
            let out = closed_within(&mut d, Duration::from_secs(10))
                .await
                .unwrap();
            if out.starts_with(b"HTTP/1.1 200 OK") {
                served = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(served, "the freed slot serves again");
    }

    #[tokio::test]
    async fn shutdown_stops_accepting_and_ends_idle_connections() {
        let (addr, stop, task) = start(Limits::default()).await;
        let mut idle = TcpStream::connect(addr).await.unwrap();
        idle.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        let mut head = [0u8; 15];
        idle.read_exact(&mut head).await.unwrap();
        stop.send(()).unwrap();
        tokio::time::timeout(Duration::from_secs(10), task)
            .await
            .expect("serve returns")
            .unwrap();
        assert!(closed_within(&mut idle, Duration::from_secs(10))
            .await
            .is_some());
        assert!(TcpStream::connect(addr).await.is_err());
    }
}
