//! Test helpers: a frozen-clock organization, a WS-Federation metadata stand-in built from
//! mock-aad's key set (so rollover in mock-aad reaches Exchange only over HTTP), token minting
//! with the seed's claim shape, and request/response helpers.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use lab_kit::testkit::http::oneshot;
use lab_kit::testkit::Golden;
use mock_aad::keys::SigningKey;
use mock_exchange::model::Organization;
use mock_exchange::{AppState, Clock, Config};
use serde_json::{json, Map, Value};

pub const TID: &str = "f31f3647-5d87-4b69-a0b6-73f62aeab14c";
pub const GREG_SID: &str = "S-1-5-21-2366433183-230171048-1893555995-1654";
/// 2017-12-19T12:00:00Z (the day CU8/CU19 shipped).
pub const T0: i64 = 1_513_684_800;

pub fn contoso() -> Organization {
    mock_exchange::labfile::parse_str(mock_exchange::CONTOSO_LAB, "contoso.yaml")
        .unwrap_or_else(|e| panic!("{e}"))
}

/// A stand-in for mock-aad's `federationmetadata.xml`, served from a mock-aad state's keys.
pub struct MetaServer {
    pub url: String,
    pub aad: mock_aad::AppState,
    pub hits: Arc<AtomicUsize>,
    /// Tenant id put in `entityID`.
    pub tid: String,
    /// When not 0, every request is answered with this status and no document.
    pub fail_status: Arc<std::sync::atomic::AtomicU16>,
    /// While set, each request waits for a permit of `gate` before it is answered, after
    /// signalling `arrived` (tests that need a download in flight; nothing sleeps).
    pub gated: Arc<std::sync::atomic::AtomicBool>,
    pub gate: Arc<tokio::sync::Semaphore>,
    pub arrived: Arc<tokio::sync::Notify>,
    _shutdown: tokio::sync::oneshot::Sender<()>,
}

impl MetaServer {
    pub async fn start(tid: &str) -> MetaServer {
        let aad = mock_aad::state(mock_aad::Config::contoso());
        let hits = Arc::new(AtomicUsize::new(0));
        let fail_status = Arc::new(std::sync::atomic::AtomicU16::new(0));
        let gated = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let gate = Arc::new(tokio::sync::Semaphore::new(0));
        let arrived = Arc::new(tokio::sync::Notify::new());
        let (h, a, t) = (hits.clone(), aad.clone(), tid.to_string());
        let (fs, gd, gt, ar) = (
            fail_status.clone(),
            gated.clone(),
            gate.clone(),
            arrived.clone(),
        );
        let router = Router::new().fallback(move |req: Request<Body>| {
            let (h, a, t) = (h.clone(), a.clone(), t.clone());
            let (fs, gd, gt, ar) = (fs.clone(), gd.clone(), gt.clone(), ar.clone());
            async move {
                h.fetch_add(1, Ordering::SeqCst);
                if gd.load(Ordering::SeqCst) {
                    ar.notify_one();
                    if let Ok(p) = gt.acquire().await {
                        p.forget();
                    }
                }
                let fail = fs.load(Ordering::SeqCst);
                if fail != 0 {
                    let status =
                        StatusCode::from_u16(fail).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                    return (status, String::new());
                }
                if !req
                    .uri()
                    .path()
                    .ends_with("/federationmetadata/2007-06/federationmetadata.xml")
                {
                    return (StatusCode::NOT_FOUND, String::new());
                }
                let certs: Vec<Vec<u8>> = a
                    .keys()
                    .published()
                    .map(|(k, _)| k.cert_der.clone())
                    .collect();
                (StatusCode::OK, mock_exchange::metadata::render(&t, &certs))
            }
        });
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let url = format!(
            "http://{}",
            listener.local_addr().unwrap_or_else(|e| panic!("{e}"))
        );
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = axum::serve(listener, router)
                .with_graceful_shutdown(async move {
                    let _ = rx.await;
                })
                .await;
        });
        MetaServer {
            url,
            aad,
            hits,
            tid: tid.to_string(),
            fail_status,
            gated,
            gate,
            arrived,
            _shutdown: tx,
        }
    }

    pub fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }

    pub fn active(&self) -> SigningKey {
        self.aad.keys().active().clone()
    }
}

/// `http://127.0.0.1:PORT` of a port nothing listens on (bound, then released).
pub async fn dead_url() -> String {
    let dead = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    format!(
        "http://{}",
        dead.local_addr().unwrap_or_else(|e| panic!("{e}"))
    )
}

/// A lab whose clock is frozen at [`T0`] and whose AuthServer metadata comes from `meta`.
pub struct Lab {
    pub state: AppState,
    pub clock: Clock,
}

impl Lab {
    pub fn new(org: Organization, aad_url: Option<&str>) -> Lab {
        let clock = Clock::frozen_at_unix(T0);
        let config = Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            organization: org,
            clock: clock.clone(),
            aad_url: aad_url.map(str::to_string),
            admin_token: Some("admin-secret".into()),
        };
        Lab {
            state: mock_exchange::state(&config),
            clock,
        }
    }

    pub fn app(&self, server: &str) -> Router {
        mock_exchange::app(self.state.clone(), server)
    }

    pub async fn send(&self, server: &str, req: Request<Body>) -> Resp {
        send(self.app(server), req).await
    }
}

/// A response as plain data.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    /// In wire order, names lowercase.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
}

pub async fn send(app: Router, req: Request<Body>) -> Resp {
    let r = oneshot(app, req).await;
    let status = r.status.as_u16();
    let headers = r
        .headers
        .iter()
        .map(|(n, v)| {
            (
                n.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    Resp {
        status,
        headers,
        body: String::from_utf8_lossy(&r.body).into_owned(),
    }
}

/// A request builder with a Host header.
pub fn req(method: &str, host: &str, path: &str) -> axum::http::request::Builder {
    Request::builder()
        .method(method)
        .uri(path)
        .header("host", host)
}

pub fn empty(b: axum::http::request::Builder) -> Request<Body> {
    b.body(Body::empty()).unwrap_or_else(|e| panic!("{e}"))
}

/// The seed's access token claims (ver 1.0) for `aud`, issued now.
pub fn claims(aud: &str, tid: &str, now: i64) -> Map<String, Value> {
    let v = json!({
        "aud": aud,
        "iss": format!("https://sts.windows.net/{tid}/"),
        "iat": now,
        "nbf": now,
        "exp": now + 3600,
        "acr": "1",
        "amr": ["pwd"],
        "appid": "d3590ed6-52b3-4102-aeff-aad2292ab01c",
        "appidacr": "0",
        "family_name": "Taylor",
        "given_name": "Greg",
        "ipaddr": "100.100.100.100",
        "name": "Greg Taylor",
        "oid": "7f199a96-50b1-4675-9db0-57b362c5d564",
        "onprem_sid": GREG_SID,
        "platf": "3",
        "puid": "1003BFFD9ACA40EE",
        "scp": "Calendars.ReadWrite Contacts.ReadWrite Mail.ReadWrite Mail.Send user_impersonation",
        "sub": "32Q7MW8A7kNX5dPed4_XkHP4YwuC6rA8yBwnoROnSlU",
        "tid": tid,
        "unique_name": "GregT@contoso.com",
        "upn": "GregT@contoso.com",
        "ver": "1.0"
    });
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// An unpublished mock-aad key (shipped key 3), to sign tokens Exchange must not trust.
pub fn unpublished_key() -> SigningKey {
    SigningKey::from_jwk(
        include_str!("../../../mock-aad/keys/key3.jwk"),
        include_str!("../../../mock-aad/keys/cert3.pem"),
    )
    .unwrap_or_else(|e| panic!("{e}"))
}

/// `mock-exchange/tests/golden/` (`UPDATE_GOLDEN=1` rewrites).
pub const GOLDEN: Golden = lab_kit::golden_dir!("tests/golden");
