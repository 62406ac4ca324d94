//! The dashboard: a live view of a served lab for the instructor, on the admin listener.
//!
//! Server-rendered HTML plus one small vanilla script, everything embedded in the binary
//! (`include_str!`), so the page works offline and loads at once. The page is a shell; its
//! panels are HTML fragments fetched from the routes below, and the timeline arrives as
//! server-sent events ([`timeline`]) of JSON rows the script turns into table rows with
//! `textContent` (no markup from the lab is ever parsed). One click on a row fetches the
//! exchange's detail ([`inspect`]): headers, body, decoded tokens with Exchange's checks, and
//! `explain`'s verdict. The lab state ([`labstate`]) and the instructor's controls
//! ([`controls`]) complete it.
//!
//! Access is the admin API's: loopback peers only, and either `Authorization: Bearer
//! <admin_token>` or a session cookie (`HttpOnly; SameSite=Strict; Path=/`). The cookie is
//! obtained with a one-time login secret carried by the ready line's `dashboard` URL, or by
//! typing the admin token into the login page. A state-changing request must also carry
//! `X-HMA-Dashboard: 1`, which a cross-site form cannot send. Secrets are never shown: the
//! journal redacts them when it records, and the state panel lists no password or secret.

mod controls;
mod inspect;
mod labstate;
mod markup;
mod page;
mod parts;
mod timeline;

use std::collections::VecDeque;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Frame, Incoming};
use hyper::header::{self, HeaderValue};
use hyper::{HeaderMap, Method, Request, Response, StatusCode};
use lab_kit::body::read_body;
use tokio::sync::{mpsc, Semaphore};

pub use parts::Parts;
use parts::{same, secret};

/// The session cookie's name.
pub const COOKIE: &str = "hma_lab_dashboard";
/// The header every state-changing request carries.
pub const ACTION_HEADER: &str = "x-hma-dashboard";
/// Where the dashboard lives on the admin listener.
pub const PREFIX: &str = "/dashboard";

/// Login secrets not yet used, and sessions, kept at most.
const MAX_LOGINS: usize = 16;
const MAX_SESSIONS: usize = 32;
/// Timelines open at once (each holds an admin connection).
const MAX_STREAMS: usize = 16;
/// Largest request body a dashboard route reads.
const BODY_LIMIT: usize = 64 * 1024;

/// A dashboard response body: a whole page or an endless event stream.
pub type Body = BoxBody<Bytes, Infallible>;

/// The dashboard of one front door.
pub struct Dashboard {
    parts: Arc<Parts>,
    logins: Mutex<VecDeque<String>>,
    sessions: Mutex<VecDeque<String>>,
    streams: Arc<Semaphore>,
}

/// Whether `path` is the dashboard's.
pub fn owns(path: &str) -> bool {
    path == PREFIX || path.starts_with("/dashboard/")
}

fn remember(list: &Mutex<VecDeque<String>>, value: String, cap: usize) {
    let mut l = list.lock().unwrap_or_else(|p| p.into_inner());
    if l.len() >= cap {
        l.pop_front();
    }
    l.push_back(value);
}

/// The value of cookie `name` in a request's `Cookie` headers.
fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

fn query(req: &Request<Incoming>, key: &str) -> Option<String> {
    form_urlencoded::parse(req.uri().query().unwrap_or("").as_bytes())
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
}

/// A whole response.
pub(crate) fn full(
    status: StatusCode,
    content_type: &'static str,
    body: impl Into<Bytes>,
) -> Response<Body> {
    let mut r = Response::new(Full::new(body.into()).boxed());
    *r.status_mut() = status;
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        "content-security-policy",
        HeaderValue::from_static(
            "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'",
        ),
    );
    r
}

fn json(status: StatusCode, v: &serde_json::Value) -> Response<Body> {
    full(status, "application/json", v.to_string())
}

fn redirect_home(set_cookie: Option<String>) -> Response<Body> {
    let mut r = full(StatusCode::SEE_OTHER, "text/plain; charset=utf-8", "");
    r.headers_mut()
        .insert(header::LOCATION, HeaderValue::from_static(PREFIX));
    if let Some(c) = set_cookie.and_then(|c| HeaderValue::from_str(&c).ok()) {
        r.headers_mut().insert(header::SET_COOKIE, c);
    }
    r
}

/// A response body fed by a channel: the event stream.
struct Channel(mpsc::Receiver<Bytes>);

impl hyper::body::Body for Channel {
    type Data = Bytes;
    type Error = Infallible;
    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        self.0.poll_recv(cx).map(|o| o.map(|b| Ok(Frame::data(b))))
    }
}

/// Who is asking.
enum Access {
    Admitted,
    /// Not from loopback: nothing, not even the login page.
    Remote,
    /// Loopback without a token or session: the login page.
    Anonymous,
}

impl Dashboard {
    pub fn new(parts: Parts) -> Dashboard {
        Dashboard {
            parts: Arc::new(parts),
            logins: Mutex::new(VecDeque::new()),
            sessions: Mutex::new(VecDeque::new()),
            streams: Arc::new(Semaphore::new(MAX_STREAMS)),
        }
    }

    /// A link that opens the dashboard at `admin` once: its secret becomes a session cookie.
    pub fn login_url(&self, admin: SocketAddr) -> String {
        let secret = secret();
        remember(&self.logins, secret.clone(), MAX_LOGINS);
        format!("http://{admin}{PREFIX}?login={secret}")
    }

    /// Takes a login secret out of the list: true when it was there.
    fn redeem(&self, secret: &str) -> bool {
        let mut l = self.logins.lock().unwrap_or_else(|p| p.into_inner());
        match l.iter().position(|s| same(s, secret)) {
            Some(i) => {
                l.remove(i);
                true
            }
            None => false,
        }
    }

    /// A new session; the `Set-Cookie` value that carries it.
    fn open_session(&self) -> String {
        let id = secret();
        remember(&self.sessions, id.clone(), MAX_SESSIONS);
        format!("{COOKIE}={id}; HttpOnly; SameSite=Strict; Path=/")
    }

    fn access(&self, peer: SocketAddr, headers: &HeaderMap) -> Access {
        if !lab_kit::admin::is_local(Some(peer)) {
            return Access::Remote;
        }
        if lab_kit::admin::bearer_matches(headers, &self.parts.token) {
            return Access::Admitted;
        }
        let known = cookie(headers, COOKIE).is_some_and(|c| {
            self.sessions
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .iter()
                .any(|s| same(s, &c))
        });
        if known {
            Access::Admitted
        } else {
            Access::Anonymous
        }
    }

    /// Serves one dashboard request (the path is one [`owns`] accepts).
    pub async fn handle(&self, peer: SocketAddr, req: Request<Incoming>) -> Response<Body> {
        let path = req.uri().path().to_string();
        let method = req.method().clone();
        match self.access(peer, req.headers()) {
            Access::Remote => {
                return json(
                    StatusCode::FORBIDDEN,
                    &serde_json::json!({"ok": false, "error": "the admin API answers loopback clients only"}),
                )
            }
            Access::Anonymous => return self.anonymous(method, &path, req).await,
            Access::Admitted => {}
        }
        if method == Method::GET && path == PREFIX {
            if let Some(secret) = query(&req, "login") {
                // Already in: a used link just drops its secret and goes home.
                self.redeem(&secret);
                return redirect_home(None);
            }
        }
        let p = &self.parts;
        match (method.clone(), path.as_str()) {
            (Method::GET, PREFIX) => {
                full(StatusCode::OK, "text/html; charset=utf-8", page::page(p))
            }
            (Method::GET, "/dashboard/app.js") => full(
                StatusCode::OK,
                "text/javascript; charset=utf-8",
                include_str!("assets/dashboard.js"),
            ),
            (Method::GET, "/dashboard/app.css") => full(
                StatusCode::OK,
                "text/css; charset=utf-8",
                include_str!("assets/dashboard.css"),
            ),
            (Method::GET, "/dashboard/events") => self.events(&req),
            (Method::GET, "/dashboard/state") => full(
                StatusCode::OK,
                "text/html; charset=utf-8",
                labstate::render(p),
            ),
            (Method::GET, "/dashboard/exercise") => full(
                StatusCode::OK,
                "text/html; charset=utf-8",
                controls::exercise_panel(p).await,
            ),
            (Method::GET, "/dashboard/har") => {
                let mut r = json(StatusCode::OK, &p.journal.to_har());
                r.headers_mut().insert(
                    header::CONTENT_DISPOSITION,
                    HeaderValue::from_static("attachment; filename=\"hma-lab.har\""),
                );
                r
            }
            (Method::GET, x) if x.starts_with("/dashboard/entry/") => {
                let found = x["/dashboard/entry/".len()..]
                    .parse::<u64>()
                    .ok()
                    .and_then(|id| p.journal.get(id));
                match found {
                    Some(e) => full(
                        StatusCode::OK,
                        "text/html; charset=utf-8",
                        inspect::render(p, &e),
                    ),
                    None => full(
                        StatusCode::NOT_FOUND,
                        "text/html; charset=utf-8",
                        "<p class=\"muted\">That exchange is no longer in the journal.</p>",
                    ),
                }
            }
            (Method::POST, "/dashboard/logout") => {
                if let Some(c) = cookie(req.headers(), COOKIE) {
                    let mut s = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
                    s.retain(|x| !same(x, &c));
                }
                let mut r = redirect_home(None);
                r.headers_mut().insert(
                    header::SET_COOKIE,
                    HeaderValue::from_static(
                        "hma_lab_dashboard=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0",
                    ),
                );
                r
            }
            (Method::POST, x) if x.starts_with("/dashboard/do/") => {
                if req
                    .headers()
                    .get(ACTION_HEADER)
                    .and_then(|v| v.to_str().ok())
                    != Some("1")
                {
                    return json(
                        StatusCode::FORBIDDEN,
                        &serde_json::json!({"ok": false, "error": format!("a dashboard action carries {ACTION_HEADER}: 1")}),
                    );
                }
                let action = x["/dashboard/do/".len()..].to_string();
                let body =
                    match read_body(req.into_body(), BODY_LIMIT, Duration::from_secs(30)).await {
                        Ok(b) => b,
                        Err(e) => {
                            return json(
                                e.status(),
                                &serde_json::json!({"ok": false, "error": e.text().trim_end()}),
                            )
                        }
                    };
                let (status, v) = controls::act(p, &action, &body).await;
                json(status, &v)
            }
            _ => full(
                StatusCode::NOT_FOUND,
                "text/plain; charset=utf-8",
                format!("no dashboard page {path}\n"),
            ),
        }
    }

    /// Requests without a token or session: the login page, the login link, the login form.
    async fn anonymous(
        &self,
        method: Method,
        path: &str,
        req: Request<Incoming>,
    ) -> Response<Body> {
        let login_page =
            |status, note: &str| full(status, "text/html; charset=utf-8", page::login_page(note));
        match (method, path) {
            (Method::GET, PREFIX) => match query(&req, "login") {
                Some(secret) if self.redeem(&secret) => redirect_home(Some(self.open_session())),
                Some(_) => login_page(
                    StatusCode::UNAUTHORIZED,
                    "That login link was used already (each one opens the dashboard once). Enter the admin token from the ready line.",
                ),
                None => login_page(StatusCode::UNAUTHORIZED, ""),
            },
            (Method::POST, "/dashboard/login") => {
                let body = read_body(req.into_body(), BODY_LIMIT, Duration::from_secs(30))
                    .await
                    .unwrap_or_default();
                let token = form_urlencoded::parse(&body)
                    .find(|(k, _)| k == "token")
                    .map(|(_, v)| v.trim().to_string())
                    .unwrap_or_default();
                if !self.parts.token.is_empty() && same(&token, &self.parts.token) {
                    redirect_home(Some(self.open_session()))
                } else {
                    login_page(StatusCode::UNAUTHORIZED, "That is not this lab's admin token.")
                }
            }
            _ => {
                let mut r = json(
                    StatusCode::UNAUTHORIZED,
                    &serde_json::json!({"ok": false, "error": "sign in to the dashboard (the ready line's dashboard link, or the admin token)"}),
                );
                r.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"hma-lab admin\""),
                );
                r
            }
        }
    }

    /// `GET /dashboard/events`: the timeline as server-sent events.
    fn events(&self, req: &Request<Incoming>) -> Response<Body> {
        let Ok(permit) = self.streams.clone().try_acquire_owned() else {
            return full(
                StatusCode::SERVICE_UNAVAILABLE,
                "text/plain; charset=utf-8",
                format!("at most {MAX_STREAMS} timelines are open at once\n"),
            );
        };
        let after = req
            .headers()
            .get("last-event-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
            .or_else(|| query(req, "after"))
            .and_then(|v| v.trim().parse::<u64>().ok())
            .unwrap_or(0);
        let (tx, rx) = mpsc::channel(64);
        let parts = Arc::downgrade(&self.parts);
        tokio::spawn(async move {
            let _permit = permit;
            timeline::stream(parts, after, tx).await;
        });
        let mut r = Response::new(Channel(rx).boxed());
        let h = r.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/event-stream"),
        );
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_session_cookie_is_found_among_others() {
        let mut h = HeaderMap::new();
        h.append(
            header::COOKIE,
            HeaderValue::from_static("a=1; hma_lab_dashboard=abc ;b=2"),
        );
        assert_eq!(cookie(&h, COOKIE).as_deref(), Some("abc"));
        let mut h = HeaderMap::new();
        h.append(header::COOKIE, HeaderValue::from_static("x=1"));
        h.append(
            header::COOKIE,
            HeaderValue::from_static("hma_lab_dashboard=def"),
        );
        assert_eq!(cookie(&h, COOKIE).as_deref(), Some("def"));
        assert_eq!(cookie(&HeaderMap::new(), COOKIE), None);
        assert!(owns("/dashboard") && owns("/dashboard/events"));
        assert!(!owns("/dashboards") && !owns("/journal"));
    }

    #[test]
    fn secrets_compare_whole() {
        assert!(same("abc", "abc"));
        assert!(!same("abc", "abd") && !same("abc", "ab") && !same("", "a"));
    }
}
