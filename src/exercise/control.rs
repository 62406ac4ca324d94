//! The running exercise as a process: `hma-lab exercise start` holds one [`Session`] behind a
//! loopback control listener, and the other `hma-lab exercise` commands reach it from any
//! terminal through the state file `exercise.json` beside `serve.json`.
//!
//! The control listener is the exercise's, not the lab's: the lab's admin API is the trainee's
//! tool (`POST /cmdlet`), while `check`, `hint`, `solve`, `reset` and `stop`
//! act on the session. It answers loopback peers with the same bearer token as the admin API
//! (the lab-wide guard, [`lab_kit::admin`]); the state file is private (0600) like the CA key.
//! The commands' client ignores `HTTPS_PROXY`/`HTTP_PROXY`, which `hma-lab env` points at the
//! lab itself.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use serde_json::{json, Value as Json};
use tokio::sync::{Mutex, Notify};

use super::{CheckReport, Session};
use crate::cli::args::{CheckFormat, ExerciseCommand};
use crate::frontdoor::serve::{default_state_dir, SERVE_FILE};
use crate::frontdoor::Options;
use crate::scenario::steps::ClientName;

/// The state file, in the state directory.
pub const STATE_FILE: &str = "exercise.json";

/// What the control listener's connections share.
struct Running {
    /// `None` once the session has been shut down.
    session: Mutex<Option<Session>>,
    token: String,
    stop: Notify,
    /// A classroom's lab: only the trainer stops it.
    classroom: bool,
}

fn reply(status: StatusCode, v: &Json) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(v.to_string())));
    *r.status_mut() = status;
    r.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    r
}

fn ok_or_fail(res: Result<Json, String>) -> Response<Full<Bytes>> {
    match res {
        Ok(v) => reply(StatusCode::OK, &v),
        Err(e) => reply(StatusCode::CONFLICT, &json!({ "ok": false, "error": e })),
    }
}

fn query(uri: &hyper::Uri, key: &str) -> Option<String> {
    form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
}

fn to_json<T: serde::Serialize>(v: &T) -> Json {
    serde_json::to_value(v).unwrap_or(Json::Null)
}

async fn handle(
    state: &Running,
    peer: SocketAddr,
    req: Request<Incoming>,
) -> Response<Full<Bytes>> {
    if let Err(refusal) = lab_kit::admin::check(Some(peer), req.headers(), &state.token) {
        return reply(
            refusal.status(),
            &json!({ "ok": false, "error": refusal.message() }),
        );
    }
    let uri = req.uri().clone();
    let mut guard = state.session.lock().await;
    let Some(s) = guard.as_mut() else {
        return reply(
            StatusCode::CONFLICT,
            &json!({ "ok": false, "error": "the exercise has stopped" }),
        );
    };
    match (req.method().clone(), uri.path()) {
        (Method::GET, "/status") => reply(StatusCode::OK, &to_json(&s.status())),
        (Method::POST, "/check") => ok_or_fail(s.check().await.map(|r| to_json(&r))),
        (Method::POST, "/hint") => reply(StatusCode::OK, &json!({ "hint": s.hint() })),
        (Method::POST, "/solve") => ok_or_fail(s.solve().await.map(|st| json!({ "steps": st }))),
        (Method::POST, "/reset") => ok_or_fail(s.reset().await.map(|()| json!({ "ok": true }))),
        (Method::POST, "/outlook") => {
            let profile = query(&uri, "profile");
            let user = query(&uri, "user");
            let profile = match profile.as_deref().map(|p| (p, ClientName::from_arg(p))) {
                None => None,
                Some((_, Some(p))) => Some(p),
                Some((p, None)) => {
                    return reply(
                        StatusCode::BAD_REQUEST,
                        &json!({ "ok": false, "error": format!("no client profile `{p}`") }),
                    )
                }
            };
            ok_or_fail(
                s.outlook(profile, user)
                    .await
                    .map(|st| json!({ "ok": true, "status": crate::cli::shell::status_text(&st) })),
            )
        }
        (Method::POST, "/stop") if state.classroom => reply(
            StatusCode::CONFLICT,
            &json!({ "ok": false, "error": "this lab belongs to a classroom: the trainer stops it with `hma-lab classroom stop`" }),
        ),
        (Method::POST, "/stop") => {
            state.stop.notify_one();
            reply(StatusCode::OK, &json!({ "ok": true }))
        }
        (_, p) => reply(
            StatusCode::NOT_FOUND,
            &json!({ "ok": false, "error": format!("no exercise endpoint {p}") }),
        ),
    }
}

/// The options of `hma-lab exercise start`.
pub struct StartArgs {
    pub https: SocketAddr,
    pub proxy: SocketAddr,
    pub admin: SocketAddr,
    pub admin_token: Option<String>,
    pub state_dir: PathBuf,
}

/// One session served behind its own control listener, its state files written: what `hma-lab
/// exercise start` runs, and one trainee's lab in a classroom.
pub struct Hosted {
    running: Arc<Running>,
    accept: tokio::task::JoinHandle<()>,
    files: [PathBuf; 2],
    ready: Json,
}

/// Serves `handle` on a loopback listener until the task is aborted: the exercise's and the
/// classroom's control listeners, small JSON APIs behind the admin guard.
pub async fn serve_loopback<S, F, Fut>(listener: tokio::net::TcpListener, state: Arc<S>, handle: F)
where
    S: Send + Sync + 'static,
    F: Fn(Arc<S>, SocketAddr, Request<Incoming>) -> Fut + Clone + Send + Sync + 'static,
    Fut: std::future::Future<Output = Response<Full<Bytes>>> + Send + 'static,
{
    loop {
        let Ok((stream, peer)) = listener.accept().await else {
            // Out of descriptors: wait instead of spinning.
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        let state = state.clone();
        let handle = handle.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| {
                let fut = handle(state.clone(), peer, req);
                async move { Ok::<_, std::convert::Infallible>(fut.await) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(Duration::from_secs(30))
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

impl Hosted {
    /// Binds the control listener on loopback, writes `serve.json` and `exercise.json` (0600)
    /// in `state_dir`, and serves. On failure the session is shut down.
    pub async fn launch(
        session: Session,
        state_dir: &Path,
        classroom: bool,
    ) -> Result<Hosted, String> {
        let prepared = async {
            let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
                .await
                .map_err(|e| format!("cannot listen for exercise control: {e}"))?;
            let control = listener
                .local_addr()
                .map_err(|e| format!("cannot listen for exercise control: {e}"))?;
            let door = session.door().ok_or("the lab is not running")?;
            let mut ready = door.ready();
            ready["exercise"] = json!(session.shown_name());
            ready["control"] = json!(format!("http://{control}"));
            let mut saved = ready.clone();
            saved["pid"] = json!(std::process::id());
            saved["hosts"] = json!(door.lab().hosts());
            let files = [state_dir.join(SERVE_FILE), state_dir.join(STATE_FILE)];
            for path in &files {
                crate::frontdoor::ca::write_private(path, saved.to_string().as_bytes())
                    .map_err(|e| format!("{}: {e}", path.display()))?;
            }
            Ok::<_, String>((listener, ready, files, door.admin_token().to_string()))
        }
        .await;
        let (listener, ready, files, token) = match prepared {
            Ok(p) => p,
            Err(e) => {
                session.shutdown().await;
                return Err(e);
            }
        };
        let running = Arc::new(Running {
            session: Mutex::new(Some(session)),
            token,
            stop: Notify::new(),
            classroom,
        });
        let accept = tokio::spawn(serve_loopback(
            listener,
            running.clone(),
            |r: Arc<Running>, peer, req| async move { handle(&r, peer, req).await },
        ));
        Ok(Hosted {
            running,
            accept,
            files,
            ready,
        })
    }

    /// The ready line: the front door's, with `exercise` and `control`.
    pub fn ready(&self) -> &Json {
        &self.ready
    }

    /// Waits for a `stop` from the control listener.
    pub async fn stop_requested(&self) {
        self.running.stop.notified().await
    }

    /// The session's status, `None` once stopped.
    pub async fn status(&self) -> Option<super::Status> {
        self.running
            .session
            .lock()
            .await
            .as_ref()
            .map(|s| s.status())
    }

    /// Runs `f` on the session (a classroom test drives labs directly).
    pub async fn with_session<R>(&self, f: impl AsyncFnOnce(&mut Session) -> R) -> Option<R> {
        let mut guard = self.running.session.lock().await;
        match guard.as_mut() {
            Some(s) => Some(f(s).await),
            None => None,
        }
    }

    /// Stops the control listener, removes the state files, stops the lab.
    pub async fn shutdown(self) {
        self.accept.abort();
        for f in &self.files {
            let _ = std::fs::remove_file(f);
        }
        let session = self.running.session.lock().await.take();
        if let Some(s) = session {
            s.shutdown().await;
        }
    }
}

/// Runs `start` until `stop`, SIGINT or SIGTERM.
async fn start(loaded: crate::scenario::Loaded, hidden: bool, args: StartArgs) -> ExitCode {
    if let Ok(c) = Client::from_dir(&args.state_dir) {
        if c.call(Method::GET, "/status").await.is_ok() {
            eprintln!(
                "an exercise is already running with state directory {} (`hma-lab exercise stop` first)",
                args.state_dir.display()
            );
            return ExitCode::from(2);
        }
    }
    let opts = Options {
        https: args.https,
        proxy: args.proxy,
        admin: args.admin,
        admin_token: args.admin_token,
        ..Options::loopback(&args.state_dir)
    };
    let session = match Session::start(loaded, opts, hidden).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("the exercise did not start: {e}");
            return ExitCode::FAILURE;
        }
    };
    let briefing = session.meta().briefing.clone();
    let symptom = session.status().symptom;
    let hosted = match Hosted::launch(session, &args.state_dir, false).await {
        Ok(h) => h,
        Err(e) => {
            eprintln!("the exercise did not start: {e}");
            return ExitCode::FAILURE;
        }
    };
    let stop_signal = crate::frontdoor::serve::shutdown_signal();
    {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        if writeln!(out, "{}", hosted.ready())
            .and_then(|_| out.flush())
            .is_err()
        {
            hosted.shutdown().await;
            return ExitCode::FAILURE;
        }
    }
    eprintln!(
        "hma-lab exercise: the lab is up and broken.\n\nBriefing: {briefing}\n\n\
         What the user sees (the reference Outlook, now):\n{}\n\n\
         Work on it with `hma-lab shell --attach` (cmdlets on the lab's admin API), real clients\n\
         after `eval \"$(hma-lab env)\"`, `hma-lab explain` on captures;\n\
         `hma-lab exercise check` tells how far you are, `hint` helps, `stop` ends it.",
        indent(&symptom)
    );
    tokio::select! {
        _ = hosted.stop_requested() => {},
        _ = stop_signal => {},
    }
    // Let the `stop` reply leave before the lab goes.
    tokio::time::sleep(Duration::from_millis(50)).await;
    hosted.shutdown().await;
    ExitCode::SUCCESS
}

/// A command's way to the running exercise: its control URL and token, from the state file.
pub struct Client {
    /// `the exercise`, `the classroom`: how errors name it.
    what: String,
    url: String,
    token: String,
    http: reqwest::Client,
}

impl Client {
    /// Reads the state file in `dir`; the error names it and what to do.
    pub fn from_dir(dir: &Path) -> Result<Client, String> {
        Client::open(
            &dir.join(STATE_FILE),
            "an exercise",
            "No exercise is running with this state directory; start one with `hma-lab exercise start NAME`.",
        )
    }

    /// Reads a state file with `control` and `admin_token` (an exercise's, a classroom's);
    /// `what` names its kind, `missing` says what to do when there is none.
    pub fn open(path: &Path, what: &str, missing: &str) -> Result<Client, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("{}: {e}\n{missing}", path.display()))?;
        let bad = |why: String| {
            format!(
                "{}: not {what} state file ({why}); it is left from {what} that did not stop cleanly: remove it and start again",
                path.display()
            )
        };
        let v: Json = serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
        let url = v["control"]
            .as_str()
            .ok_or_else(|| bad("no `control`".into()))?;
        let token = v["admin_token"]
            .as_str()
            .ok_or_else(|| bad("no `admin_token`".into()))?;
        let http = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(300))
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Client {
            what: what.replacen("an ", "the ", 1).replacen("a ", "the ", 1),
            url: url.to_string(),
            token: token.to_string(),
            http,
        })
    }

    /// Calls one control endpoint; a refusal or a failed action is the error.
    pub async fn call(&self, method: Method, path: &str) -> Result<Json, String> {
        let m =
            reqwest::Method::from_bytes(method.as_str().as_bytes()).map_err(|e| e.to_string())?;
        let resp = self
            .http
            .request(m, format!("{}{path}", self.url))
            .bearer_auth(&self.token)
            .send()
            .await
            .map_err(|e| {
                format!(
                    "{} at {} does not answer ({e}); it has stopped: start it again",
                    self.what, self.url
                )
            })?;
        let ok = resp.status().is_success();
        let v: Json = resp.json().await.map_err(|e| e.to_string())?;
        if ok {
            Ok(v)
        } else {
            Err(v["error"]
                .as_str()
                .unwrap_or("the control listener refused")
                .to_string())
        }
    }
}

/// The human rendering of a check.
pub fn render_check(r: &CheckReport) -> String {
    let passed = r.checks.iter().filter(|c| c.passed).count();
    let mut out = format!(
        "exercise {}: {passed} of {} checks pass, {} of {} points{}\n",
        r.exercise,
        r.checks.len(),
        r.score,
        r.max_score,
        if r.passed { " — fixed!" } else { "" }
    );
    for c in &r.checks {
        let pts = if c.points == 1 { "point" } else { "points" };
        out.push_str(&format!(
            "  {} {} ({} {pts})\n",
            if c.passed { "✓" } else { "✗" },
            c.check,
            c.points
        ));
        if !c.passed {
            out.push_str(&format!(
                "      expected: {}\n      seen:     {}\n",
                c.expected, c.seen
            ));
        }
    }
    if let Some(h) = &r.hint {
        out.push_str(&format!("hint {} of {}: {}\n", h.number, h.of, h.text));
    }
    out
}

/// `text` indented by four spaces, line by line.
pub fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("    {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

pub(crate) fn print(text: &str) -> bool {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|_| out.flush())
        .is_ok()
}

fn fail(e: impl std::fmt::Display) -> ExitCode {
    eprintln!("hma-lab exercise: {e}");
    ExitCode::from(2)
}

/// Runs one `hma-lab exercise` command.
pub async fn main(cmd: ExerciseCommand) -> ExitCode {
    let dir = |d: Option<PathBuf>| d.unwrap_or_else(default_state_dir);
    let (state_dir, method, path) = match cmd {
        ExerciseCommand::List { scenarios } => return list(&scenarios),
        ExerciseCommand::Start {
            name,
            random,
            level,
            scenarios,
            https,
            proxy,
            admin,
            admin_token,
            state_dir,
        } => {
            let loaded = match (&name, random) {
                (Some(n), false) => super::find(&scenarios, n),
                _ => super::pick_random(&scenarios, level),
            };
            let loaded = match loaded {
                Ok(l) => l,
                Err(e) => return fail(e),
            };
            let args = StartArgs {
                https,
                proxy,
                admin,
                admin_token,
                state_dir: dir(state_dir),
            };
            return start(loaded, random, args).await;
        }
        ExerciseCommand::Status { state_dir } => (state_dir, Method::GET, "/status"),
        ExerciseCommand::Check { state_dir, format } => {
            return check(&dir(state_dir), format).await;
        }
        ExerciseCommand::Hint { state_dir } => (state_dir, Method::POST, "/hint"),
        ExerciseCommand::Solve { state_dir } => (state_dir, Method::POST, "/solve"),
        ExerciseCommand::Reset { state_dir } => (state_dir, Method::POST, "/reset"),
        ExerciseCommand::Stop { state_dir } => (state_dir, Method::POST, "/stop"),
    };
    let client = match Client::from_dir(&dir(state_dir)) {
        Ok(c) => c,
        Err(e) => return fail(e),
    };
    let v = match client.call(method, path).await {
        Ok(v) => v,
        Err(e) => return fail(e),
    };
    let text = match path {
        "/status" => render_status(&v),
        "/hint" => match v["hint"].as_object() {
            Some(h) => format!(
                "hint {} of {}: {}\n",
                h["number"],
                h["of"],
                h["text"].as_str().unwrap_or("")
            ),
            None => "this exercise has no hints\n".into(),
        },
        "/solve" => {
            let mut t = String::from("the solution, applied to the lab:\n");
            for s in v["steps"].as_array().into_iter().flatten() {
                let mark = if s["ok"] == true { " " } else { "✗" };
                t.push_str(&format!("{mark} {}\n", s["text"].as_str().unwrap_or("")));
                if let Some(d) = s["detail"].as_str() {
                    for l in d.lines() {
                        t.push_str(&format!("    {l}\n"));
                    }
                }
            }
            t
        }
        "/reset" => "the lab is fresh and broken again, on the same addresses\n".into(),
        _ => "the exercise has stopped\n".into(),
    };
    if print(&text) {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

async fn check(dir: &Path, format: CheckFormat) -> ExitCode {
    let client = match Client::from_dir(dir) {
        Ok(c) => c,
        Err(e) => return fail(e),
    };
    let v = match client.call(Method::POST, "/check").await {
        Ok(v) => v,
        Err(e) => return fail(e),
    };
    let report: CheckReport = match serde_json::from_value(v.clone()) {
        Ok(r) => r,
        Err(e) => return fail(format!("the exercise answered an unreadable check: {e}")),
    };
    let text = match format {
        CheckFormat::Json => format!("{v}\n"),
        CheckFormat::Human => render_check(&report),
    };
    if !print(&text) {
        return ExitCode::FAILURE;
    }
    if report.passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn render_status(v: &Json) -> String {
    let s = |k: &str| v[k].as_str().unwrap_or("").to_string();
    let mut out = format!("exercise:   {}\n", s("exercise"));
    if let Some(t) = v["title"].as_str() {
        out.push_str(&format!("title:      {t}\n"));
    }
    out.push_str(&format!(
        "briefing:   {}\ndifficulty: {}\nhints:      {} of {} given\nchecks run: {} (best score {} of {}){}\n\
         https:      {}\nproxy:      {}\nadmin:      {}\nca:         {}\n\
         symptom (the reference Outlook when the exercise started):\n{}\n",
        s("briefing"),
        v["difficulty"],
        v["hints_given"],
        v["hints"],
        v["checks_run"],
        v["best_score"],
        v["max_score"],
        if v["solved"] == true { ", solved by the trainer" } else { "" },
        s("https"),
        s("proxy"),
        s("admin"),
        s("ca"),
        indent(&s("symptom")),
    ));
    out
}

fn list(dir: &Path) -> ExitCode {
    let all = match super::library(dir) {
        Ok(a) => a,
        Err(e) => return fail(e),
    };
    let w = all
        .iter()
        .map(|(l, _)| l.scenario.name.chars().count())
        .max()
        .unwrap_or(0);
    let mut text = String::new();
    for (l, m) in &all {
        text.push_str(&format!(
            "{:<w$} {:<3}  {}\n",
            l.scenario.name,
            "★".repeat(m.difficulty as usize),
            m.briefing
        ));
    }
    text.push_str(&format!("{} exercise(s)\n", all.len()));
    if print(&text) {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
