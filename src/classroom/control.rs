//! The classroom as a process: `hma-lab classroom start` holds a [`Classroom`] until `stop`,
//! SIGINT or SIGTERM, behind a loopback control listener of its own guarded by the trainer's
//! token; `classroom status` and `classroom stop` reach it through `classroom.json` in the
//! trainer's state directory. The trainees' labs each keep their own control listener and admin
//! token (`crate::exercise::control`), so a trainee's tools never carry the trainer's token.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::{Method, Request, Response, StatusCode};
use serde_json::{json, Value as Json};
use tokio::sync::Notify;

use super::{render_summary, trainee_dir, Classroom, Pick, Summary, CLASSROOM_FILE};
use crate::cli::args::{CheckFormat, ClassroomCommand};
use crate::exercise::control::{print, serve_loopback, Client};
use crate::frontdoor::serve::default_state_dir;

struct Running {
    /// `None` once stopped.
    room: tokio::sync::Mutex<Option<Classroom>>,
    token: String,
    stop: Notify,
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

async fn handle(
    state: Arc<Running>,
    peer: SocketAddr,
    req: Request<Incoming>,
) -> Response<Full<Bytes>> {
    if let Err(refusal) = lab_kit::admin::check(Some(peer), req.headers(), &state.token) {
        return reply(
            refusal.status(),
            &json!({ "ok": false, "error": refusal.message() }),
        );
    }
    match (req.method().clone(), req.uri().path()) {
        (Method::GET, "/status") => match state.room.lock().await.as_ref() {
            Some(room) => reply(StatusCode::OK, &json!({ "trainees": room.summary().await })),
            None => reply(
                StatusCode::CONFLICT,
                &json!({ "ok": false, "error": "the classroom has stopped" }),
            ),
        },
        (Method::POST, "/stop") => {
            state.stop.notify_one();
            reply(StatusCode::OK, &json!({ "ok": true }))
        }
        (_, p) => reply(
            StatusCode::NOT_FOUND,
            &json!({ "ok": false, "error": format!("no classroom endpoint {p}") }),
        ),
    }
}

fn fail(e: impl std::fmt::Display) -> ExitCode {
    eprintln!("hma-lab classroom: {e}");
    ExitCode::from(2)
}

fn client(dir: &Path) -> Result<Client, String> {
    Client::open(
        &dir.join(CLASSROOM_FILE),
        "a classroom",
        "No classroom is running with this state directory; start one with `hma-lab classroom start --trainees N`.",
    )
}

/// Runs one `hma-lab classroom` command.
pub async fn main(cmd: ClassroomCommand) -> ExitCode {
    let dir = |d: Option<PathBuf>| d.unwrap_or_else(default_state_dir);
    match cmd {
        ClassroomCommand::Start {
            trainees,
            exercise,
            random: _,
            level,
            scenarios,
            state_dir,
        } => {
            let how = match exercise {
                Some(n) => Pick::Named(n),
                None => Pick::Random { level },
            };
            start(&scenarios, &how, usize::from(trainees), &dir(state_dir)).await
        }
        ClassroomCommand::Status { format, state_dir } => {
            let v = match client(&dir(state_dir)) {
                Ok(c) => c.call(Method::GET, "/status").await,
                Err(e) => Err(e),
            };
            let v = match v {
                Ok(v) => v,
                Err(e) => return fail(e),
            };
            let lines: Vec<Summary> = match serde_json::from_value(v["trainees"].clone()) {
                Ok(l) => l,
                Err(e) => {
                    return fail(format!("the classroom answered an unreadable summary: {e}"))
                }
            };
            let text = match format {
                CheckFormat::Json => format!("{v}\n"),
                CheckFormat::Human => render_summary(&lines),
            };
            if print(&text) {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        ClassroomCommand::Stop { state_dir } => {
            let done = match client(&dir(state_dir)) {
                Ok(c) => c.call(Method::POST, "/stop").await,
                Err(e) => Err(e),
            };
            match done {
                Ok(_) => {
                    if print("the classroom has stopped\n") {
                        ExitCode::SUCCESS
                    } else {
                        ExitCode::FAILURE
                    }
                }
                Err(e) => fail(e),
            }
        }
    }
}

async fn start(scenarios: &Path, how: &Pick, n: usize, dir: &Path) -> ExitCode {
    if let Ok(c) = client(dir) {
        if c.call(Method::GET, "/status").await.is_ok() {
            return fail(format!(
                "a classroom is already running with state directory {} (`hma-lab classroom stop` first)",
                dir.display()
            ));
        }
    }
    if let Err(e) = std::fs::create_dir_all(dir) {
        return fail(format!("{}: {e}", dir.display()));
    }
    let started = std::time::Instant::now();
    let room = match Classroom::start(scenarios, how, n, dir).await {
        Ok(r) => r,
        Err(e) => return fail(e),
    };
    let elapsed = started.elapsed().as_millis();
    let listener = match tokio::net::TcpListener::bind(("127.0.0.1", 0)).await {
        Ok(l) => l,
        Err(e) => {
            room.shutdown().await;
            return fail(format!("cannot listen for classroom control: {e}"));
        }
    };
    let control = match listener.local_addr() {
        Ok(a) => format!("http://{a}"),
        Err(e) => {
            room.shutdown().await;
            return fail(format!("cannot listen for classroom control: {e}"));
        }
    };
    let token = crate::frontdoor::random_token();
    let ready = json!({
        "event": "ready",
        "classroom": control,
        "trainees": n,
        "state_dir": dir.display().to_string(),
        "start_ms": elapsed,
    });
    let mut saved = ready.clone();
    saved["control"] = json!(control);
    saved["admin_token"] = json!(token);
    saved["pid"] = json!(std::process::id());
    let state_path = dir.join(CLASSROOM_FILE);
    if let Err(e) = crate::frontdoor::ca::write_private(&state_path, saved.to_string().as_bytes()) {
        room.shutdown().await;
        return fail(format!("{}: {e}", state_path.display()));
    }
    if !print(&format!("{ready}\n")) {
        room.shutdown().await;
        let _ = std::fs::remove_file(&state_path);
        return ExitCode::FAILURE;
    }
    eprintln!(
        "hma-lab classroom: {n} labs are up and broken ({elapsed} ms, {} ms a lab).\n\
         Trainee K works in state directory {} (K = 1 to {n}):\n  \
         hma-lab shell --attach --trainee K      hma-lab exercise check --state-dir …/trainee-K\n\
         `hma-lab classroom status` shows every lab's progress; `hma-lab classroom stop` ends the class.",
        elapsed / n.max(1) as u128,
        trainee_dir(dir, 0).with_file_name("trainee-K").display(),
    );
    let running = Arc::new(Running {
        room: tokio::sync::Mutex::new(Some(room)),
        token,
        stop: Notify::new(),
    });
    let accept = tokio::spawn(serve_loopback(listener, running.clone(), handle));
    let stop_signal = crate::frontdoor::serve::shutdown_signal();
    tokio::select! {
        _ = running.stop.notified() => {},
        _ = stop_signal => {},
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    accept.abort();
    let _ = std::fs::remove_file(&state_path);
    let room = running.room.lock().await.take();
    if let Some(room) = room {
        room.shutdown().await;
    }
    ExitCode::SUCCESS
}
