//! The front door's admin API: the lab driven from outside while real clients use it.
//!
//! Its own listener, answering loopback peers that carry `Authorization: Bearer <admin_token>`
//! (the lab-wide guard, [`lab_kit::admin`]).
//! `POST /cmdlet` runs one PowerShell line in one long-lived shell session (so `$variables`
//! persist between calls) whose backend is the lab's `LabBackend` (`crate::lab::backend`) — the services'
//! own admin APIs, as an administrator's change reaches the real products. The shell is
//! synchronous and blocks on the runtime, so it runs on a blocking thread. The other endpoints
//! act on the lab handle directly: the clock, the network devices, the certificate faults, the
//! journal. `GET /stats` counts what the lab holds in memory (journal entries, mock-aad's grants),
//! read-only, so a soak can check that nothing grows without bound. `GET /openapi.json`
//! describes every call (OpenAPI 3.1, built from [`ROUTES`]).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::header::HeaderValue;
use hyper::{HeaderMap, Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use lab_kit::body::{read_body, BodyError};
use serde::Deserialize;
use serde_json::{json, Value as Json};
use tokio::net::TcpStream;

use lab_kit::openapi::Method::{Get, Post};
use lab_kit::openapi::{op, op_body, op_public, Op, RouteDoc};

use super::ca::{CertFault, Certs};
use super::console::Console;
use super::dashboard::{self, Dashboard};
use super::journal::Journal;
use crate::lab::{Device, Lab};

/// Largest admin request body.
const ADMIN_BODY_LIMIT: usize = 1024 * 1024;
/// How long an admin client may take to send its body.
const ADMIN_BODY_TIMEOUT: Duration = Duration::from_secs(60);

/// What the admin endpoints act on.
pub struct AdminState {
    lab: Arc<Lab>,
    journal: Journal,
    certs: Arc<Certs>,
    token: String,
    console: Arc<Console>,
    dashboard: Dashboard,
}

impl AdminState {
    pub fn new(
        lab: Arc<Lab>,
        journal: Journal,
        certs: Arc<Certs>,
        token: String,
        machine: Arc<std::sync::Mutex<crate::lab::backend::Machine>>,
        state_dir: std::path::PathBuf,
    ) -> AdminState {
        let console = Arc::new(Console::new(lab.clone(), machine));
        let dashboard = Dashboard::new(dashboard::Parts {
            lab: lab.clone(),
            journal: journal.clone(),
            certs: certs.clone(),
            token: token.clone(),
            console: console.clone(),
            state_dir,
        });
        AdminState {
            lab,
            journal,
            certs,
            token,
            console,
            dashboard,
        }
    }

    /// The dashboard served on this listener.
    pub fn dashboard(&self) -> &Dashboard {
        &self.dashboard
    }
}

pub(super) async fn serve(
    state: Arc<AdminState>,
    stream: TcpStream,
    peer: SocketAddr,
    timeout: Duration,
) {
    let service = hyper::service::service_fn(move |req: Request<Incoming>| {
        let state = state.clone();
        async move {
            let resp = if dashboard::owns(req.uri().path()) {
                state.dashboard.handle(peer, req).await
            } else {
                handle(&state, peer, req).await.map(BodyExt::boxed)
            };
            Ok::<_, std::convert::Infallible>(resp)
        }
    });
    let served = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(timeout)
        .serve_connection(TokioIo::new(stream), service)
        .await;
    if let Err(e) = served {
        tracing::debug!(error = %e, "front door admin: connection closed");
    }
}

fn json_resp(status: StatusCode, v: &Json) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(v.to_string())));
    *r.status_mut() = status;
    r.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

fn fail(status: StatusCode, msg: impl Into<String>) -> Response<Full<Bytes>> {
    json_resp(status, &json!({ "ok": false, "error": msg.into() }))
}

/// The lab-wide admin guard ([`lab_kit::admin`]): `None` admits the request, `Some` is the
/// refusal to send (403 for a peer off loopback, 401 with a Bearer challenge for a bad token).
fn refused(token: &str, peer: SocketAddr, headers: &HeaderMap) -> Option<Response<Full<Bytes>>> {
    let refusal = lab_kit::admin::check(Some(peer), headers, token).err()?;
    let mut r = fail(refusal.status(), refusal.message());
    if let Some(challenge) = refusal.challenge("hma-lab admin") {
        r.headers_mut()
            .insert(hyper::header::WWW_AUTHENTICATE, challenge);
    }
    Some(r)
}

fn query(req: &Request<Incoming>, key: &str) -> Option<String> {
    form_urlencoded::parse(req.uri().query().unwrap_or("").as_bytes())
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct CertChange {
    host: String,
    /// `expired`, `wrong_name`, `untrusted`, or null/absent to clear.
    #[serde(default)]
    fault: Option<CertFault>,
}

/// Every admin route with its description: the OpenAPI document is built from this table, the
/// dispatcher below refuses a method the table does not list for a path with 405, and a test
/// (`tests/it/openapi.rs`) checks that the dispatcher's arms and the table name the same calls.
pub const ROUTES: &[(&str, &[Op])] = &[
    (
        "/healthz",
        &[op_public(
            Get,
            "Health check for supervisors: loopback peers, no token",
            &[200, 403],
        )],
    ),
    (
        "/cmdlet",
        &[op(
            Post,
            "Run one PowerShell line (the body, text) in the lab's long-lived shell session",
            &[200, 400, 413],
        )],
    ),
    (
        "/clock/advance",
        &[op(Post, "Move the lab clock by ?seconds=N", &[200, 400])],
    ),
    (
        "/journal",
        &[op(
            Get,
            "The journal of exchanges (?format=har: as HAR 1.2)",
            &[200],
        )],
    ),
    ("/stats", &[op(Get, "What the lab holds in memory", &[200])]),
    (
        "/network",
        &[
            op(Get, "The network devices in force", &[200]),
            op_body::<Device>(Post, "Put a network device in place", &[200, 400, 413]),
        ],
    ),
    (
        "/certificates",
        &[
            op(Get, "The certificate faults in force", &[200]),
            op_body::<CertChange>(
                Post,
                "Give a host's certificate a fault, or clear it (fault: null)",
                &[200, 400, 413],
            ),
        ],
    ),
];

const TITLE: &str = "hma-lab serve admin API";

/// The routes of [`ROUTES`] and `GET /openapi.json`.
pub fn route_docs() -> Vec<RouteDoc> {
    let mut routes = RouteDoc::from_table(ROUTES);
    routes.push(RouteDoc {
        path: lab_kit::openapi::DOCUMENT_PATH.to_string(),
        ops: vec![op(
            Get,
            "This document: the admin API as OpenAPI 3.1",
            &[200],
        )],
    });
    routes
}

/// The admin API's OpenAPI 3.1 document (served at `/openapi.json`).
pub fn openapi() -> Json {
    lab_kit::openapi::document(TITLE, "/", &route_docs())
}

async fn handle(
    state: &AdminState,
    peer: SocketAddr,
    req: Request<Incoming>,
) -> Response<Full<Bytes>> {
    // Supervisors and CI service containers ask without a token (loopback peers only).
    if req.method() == Method::GET && req.uri().path() == "/healthz" {
        if !lab_kit::admin::is_local(Some(peer)) {
            return fail(
                StatusCode::FORBIDDEN,
                "the admin API answers loopback clients only",
            );
        }
        let mut r = Response::new(Full::new(Bytes::from(lab_kit::serve::healthz_body(
            "hma-lab",
        ))));
        r.headers_mut().insert(
            hyper::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        return r;
    }
    if let Some(r) = refused(&state.token, peer, req.headers()) {
        return r;
    }
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let format = query(&req, "format");
    let seconds = query(&req, "seconds");
    // `style=console`: Format-List padded as a console prints it (`hma-lab shell --attach`).
    let style = match query(&req, "style").as_deref() {
        Some("console") => crate::shell::format::ListStyle::Padded,
        _ => crate::shell::format::ListStyle::Seed,
    };
    let body = match read_body(req.into_body(), ADMIN_BODY_LIMIT, ADMIN_BODY_TIMEOUT).await {
        Ok(b) => b,
        Err(e @ BodyError::TooLarge { .. }) => {
            return fail(
                e.status(),
                format!("the admin API takes at most {ADMIN_BODY_LIMIT} bytes"),
            )
        }
        Err(e) => return fail(e.status(), e.text().trim_end()),
    };
    match (method, path.as_str()) {
        (Method::POST, "/cmdlet") => {
            let Ok(line) = String::from_utf8(body.to_vec()) else {
                return fail(StatusCode::BAD_REQUEST, "the cmdlet line is not UTF-8");
            };
            match state.console.run_styled(&line, style).await {
                Ok(Ok((out, notes))) => json_resp(
                    StatusCode::OK,
                    &json!({ "ok": true, "output": out, "notes": notes }),
                ),
                Ok(Err(e)) => json_resp(StatusCode::OK, &json!({ "ok": false, "error": e })),
                Err(e) => fail(StatusCode::INTERNAL_SERVER_ERROR, e),
            }
        }
        (Method::POST, "/clock/advance") => {
            let Some(n) = seconds.and_then(|s| s.parse::<i64>().ok()) else {
                return fail(
                    StatusCode::BAD_REQUEST,
                    "seconds=N (an integer) is required",
                );
            };
            if let Err(e) = state.lab.advance_clock(n).await {
                return fail(StatusCode::BAD_REQUEST, e);
            }
            json_resp(
                StatusCode::OK,
                &json!({ "ok": true, "now": state.lab.clock().unix(), "offset_secs": state.lab.clock().offset_secs() }),
            )
        }
        (Method::GET, "/journal") => {
            if format.as_deref() == Some("har") {
                json_resp(StatusCode::OK, &state.journal.to_har())
            } else {
                json_resp(StatusCode::OK, &state.journal.to_json())
            }
        }
        (Method::GET, "/stats") => json_resp(StatusCode::OK, &stats(state)),
        (Method::GET, "/openapi.json") => json_resp(StatusCode::OK, &openapi()),
        (Method::GET, "/network") => json_resp(
            StatusCode::OK,
            &json!({ "ok": true, "devices": state.lab.devices() }),
        ),
        (Method::POST, "/network") => {
            let device: Device = match serde_json::from_slice(&body) {
                Ok(d) => d,
                Err(e) => {
                    return fail(
                        StatusCode::BAD_REQUEST,
                        format!("not a device ({{\"load_balancer\":{{…}}}}, {{\"reverse_proxy\":{{…}}}}, {{\"client_segment\":{{…}}}}, {{\"certificate\":{{…}}}}): {e}"),
                    )
                }
            };
            match state.lab.apply(device) {
                Ok(()) => json_resp(
                    StatusCode::OK,
                    &json!({ "ok": true, "devices": state.lab.devices() }),
                ),
                Err(e) => fail(StatusCode::BAD_REQUEST, e.to_string()),
            }
        }
        (Method::GET, "/certificates") => json_resp(StatusCode::OK, &certs_json(&state.certs)),
        (Method::POST, "/certificates") => {
            let change: CertChange = match serde_json::from_slice(&body) {
                Ok(c) => c,
                Err(e) => {
                    return fail(
                        StatusCode::BAD_REQUEST,
                        format!("expected {{\"host\":\"…\",\"fault\":\"expired\"|\"wrong_name\"|\"untrusted\"|null}}: {e}"),
                    )
                }
            };
            match state.certs.set_fault(&change.host, change.fault) {
                Ok(()) => json_resp(StatusCode::OK, &certs_json(&state.certs)),
                Err(e) => fail(StatusCode::BAD_REQUEST, e),
            }
        }
        (_, p) if route_docs().iter().any(|r| r.path == p) => {
            fail(StatusCode::METHOD_NOT_ALLOWED, "method not allowed")
        }
        _ => fail(StatusCode::NOT_FOUND, format!("no admin endpoint {path}")),
    }
}

/// `{"ok":true,"journal":{"entries":n,"cap":n},"grants":{"refresh":n,"codes":n,"devices":n}}`.
fn stats(state: &AdminState) -> Json {
    let (entries, cap) = state.journal.counts();
    let aad = state.lab.aad().state();
    let (refresh, codes, devices) = {
        let g = aad.grants();
        (g.refresh.len(), g.codes.len(), g.devices.len())
    };
    json!({
        "ok": true,
        "journal": { "entries": entries, "cap": cap },
        "grants": { "refresh": refresh, "codes": codes, "devices": devices },
    })
}

fn certs_json(certs: &Certs) -> Json {
    let faults: serde_json::Map<String, Json> = certs
        .faults()
        .into_iter()
        .map(|(h, f)| (h, Json::String(f.to_string())))
        .collect();
    json!({ "ok": true, "hosts": certs.hosts(), "faults": faults })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auth(v: &'static str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(hyper::header::AUTHORIZATION, HeaderValue::from_static(v));
        h
    }

    async fn json_of(r: Response<Full<Bytes>>) -> Json {
        let bytes = r.into_body().collect().await.unwrap().to_bytes();
        serde_json::from_slice(&bytes).unwrap()
    }

    #[tokio::test]
    async fn the_guard_answers_403_off_loopback_and_401_with_a_challenge() {
        let local: SocketAddr = "127.0.0.1:5000".parse().unwrap();
        let mapped: SocketAddr = "[::ffff:127.0.0.1]:5000".parse().unwrap();
        let remote: SocketAddr = "192.168.1.20:5000".parse().unwrap();
        assert!(refused("t0k", local, &auth("Bearer t0k")).is_none());
        assert!(refused("t0k", mapped, &auth("BEARER t0k")).is_none());

        let r = refused("t0k", remote, &auth("Bearer t0k")).unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        assert!(r.headers().get(hyper::header::WWW_AUTHENTICATE).is_none());
        assert_eq!(
            json_of(r).await,
            json!({"ok": false, "error": "the admin API answers loopback clients only"})
        );

        for h in [HeaderMap::new(), auth("Bearer t0K"), auth("Bearert0k")] {
            let r = refused("t0k", local, &h).unwrap();
            assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
            assert_eq!(
                r.headers()[hyper::header::WWW_AUTHENTICATE],
                "Bearer realm=\"hma-lab admin\""
            );
        }
    }
}
