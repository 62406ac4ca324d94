//! What an instructor does in class, as buttons: move the lab clock, `iisreset`, put a device
//! or a certificate fault in the way and take it out, run a cmdlet, export the HAR; and the
//! exercise panel when `hma-lab exercise start` serves this lab.
//!
//! Each control is a plain `<form>` whose submission the page's script sends as
//! `POST /dashboard/do/{action}` (form-encoded, with `X-HMA-Dashboard: 1`); [`act`] answers
//! JSON `{"ok":…,"output"|"error":…}`. The actions go through the same handles the admin API
//! uses (the lab clock, `Lab::apply`, the certificate store, the shared cmdlet [`Console`]), so
//! nothing here is a second way of changing the lab.
//!
//! The exercise panel reads the exercise's state file (`exercise.json`, beside `serve.json`)
//! and, when it names this lab's admin token, asks the exercise's control listener for its
//! status, a check or a hint, as `hma-lab exercise status|check|hint` do. It is read through
//! that file rather than the exercise module so the front door does not depend on the code
//! that runs it.
//!
//! [`Console`]: crate::frontdoor::console::Console

use std::time::Duration;

use hyper::StatusCode;
use serde_json::{json, Value as Json};

use super::markup::{esc, mark, rfc3339};
use super::parts::{same, Parts};
use crate::frontdoor::ca::CertFault;
use crate::lab::{Device, Devices};

/// The exercise's state file (`crate::exercise::control::STATE_FILE`).
const EXERCISE_FILE: &str = "exercise.json";

fn form(body: &[u8], key: &str) -> String {
    form_urlencoded::parse(body)
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.trim().to_string())
        .unwrap_or_default()
}

fn ok(output: impl Into<String>) -> (StatusCode, Json) {
    (
        StatusCode::OK,
        json!({ "ok": true, "output": output.into() }),
    )
}

fn bad(error: impl Into<String>) -> (StatusCode, Json) {
    (
        StatusCode::BAD_REQUEST,
        json!({ "ok": false, "error": error.into() }),
    )
}

async fn cmdlet(p: &Parts, line: &str) -> (StatusCode, Json) {
    match p.console.run(line).await {
        Ok(Ok(out)) => ok(if out.is_empty() {
            format!("{line}: done")
        } else {
            out
        }),
        Ok(Err(e)) => (StatusCode::OK, json!({ "ok": false, "error": e })),
        Err(e) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            json!({ "ok": false, "error": e }),
        ),
    }
}

fn device(p: &Parts, body: &[u8]) -> (StatusCode, Json) {
    let host = form(body, "host").to_ascii_lowercase();
    let change = form(body, "change");
    let lab = &p.lab;
    let done = |r: Result<(), String>, what: String| match r {
        Ok(()) => ok(what),
        Err(e) => bad(e),
    };
    match change.as_str() {
        "ssl-offload-on" | "ssl-offload-off" => {
            let on = change.ends_with("on");
            done(
                lab.set_ssl_offload(&host, on).map_err(|e| e.to_string()),
                format!("SSL offload {} at {host}'s load balancer", if on { "on" } else { "off" }),
            )
        }
        "block" => done(
            lab.block(&host).map_err(|e| e.to_string()),
            format!("the client segment blocks {host}"),
        ),
        "unblock" => done(
            lab.unblock(&host).map_err(|e| e.to_string()),
            format!("the client segment reaches {host} again"),
        ),
        "cert-expired" | "cert-wrong_name" | "cert-untrusted" | "cert-valid" => {
            let state = &change["cert-".len()..];
            let fault: Option<CertFault> = match serde_json::from_value(json!(state)) {
                Ok(CertFault::Valid) => None,
                Ok(f) => Some(f),
                Err(e) => return bad(e.to_string()),
            };
            done(
                p.certs.set_fault(&host, fault),
                format!("{host}'s certificate is {state}"),
            )
        }
        "json" => match serde_json::from_str::<Device>(&form(body, "device")) {
            Ok(d) => done(lab.apply(d).map_err(|e| e.to_string()), "device applied".into()),
            Err(e) => bad(format!(
                "not a device ({{\"load_balancer\":{{…}}}}, {{\"reverse_proxy\":{{…}}}}, {{\"client_segment\":{{…}}}}, {{\"certificate\":{{…}}}}): {e}"
            )),
        },
        "restore" => {
            let start: Devices = lab.file().devices();
            done(
                lab.network()
                    .update(|d| *d = start)
                    .map_err(|e| e.to_string()),
                "devices and certificates as the lab file starts them".into(),
            )
        }
        other => bad(format!("no device change `{other}`")),
    }
}

/// Runs dashboard action `action` with its form body.
pub async fn act(p: &Parts, action: &str, body: &[u8]) -> (StatusCode, Json) {
    match action {
        "clock" => {
            let Ok(n) = form(body, "seconds").parse::<i64>() else {
                return bad("seconds=N (an integer) is required");
            };
            match p.lab.clock().try_advance_secs(n) {
                Ok(()) => {
                    let mut r = ok(format!(
                        "the lab clock is now {}",
                        rfc3339(p.lab.clock().now())
                    ));
                    r.1["clock"] = super::timeline::clock(p);
                    r
                }
                Err(e) => bad(e.to_string()),
            }
        }
        "iisreset" => cmdlet(p, "iisreset").await,
        "cmdlet" => {
            let line = form(body, "line");
            if line.is_empty() {
                return bad("type a cmdlet line first");
            }
            cmdlet(p, &line).await
        }
        "device" => device(p, body),
        "exercise-check" | "exercise-hint" => {
            let path = if action == "exercise-check" {
                "/check"
            } else {
                "/hint"
            };
            match exercise_call(p, reqwest::Method::POST, path).await {
                Ok(v) if action == "exercise-check" => (
                    StatusCode::OK,
                    json!({ "ok": true, "html": check_html(&v) }),
                ),
                Ok(v) => (
                    StatusCode::OK,
                    json!({ "ok": true, "html": hint_html(&v["hint"]) }),
                ),
                Err(e) => (StatusCode::CONFLICT, json!({ "ok": false, "error": e })),
            }
        }
        other => (
            StatusCode::NOT_FOUND,
            json!({ "ok": false, "error": format!("no dashboard action `{other}`") }),
        ),
    }
}

fn host_options(p: &Parts) -> String {
    let hosts = p.lab.hosts();
    let namespaces = &p.lab.network().hosts().namespaces;
    hosts
        .iter()
        .map(|h| {
            let sel = if namespaces.first() == Some(h) {
                " selected"
            } else {
                ""
            };
            format!("<option{sel}>{}</option>", esc(h))
        })
        .collect()
}

/// The controls panel.
pub fn render(p: &Parts) -> String {
    let hosts = host_options(p);
    format!(
        "<div class=\"controls\">\
<form data-action=\"clock\" class=\"ctl\"><fieldset><legend>Lab clock</legend>\
<button type=\"submit\" name=\"seconds\" value=\"300\">+5 min</button>\
<button type=\"submit\" name=\"seconds\" value=\"3600\">+1 h</button>\
<button type=\"submit\" name=\"seconds\" value=\"86400\">+1 day</button>\
<label for=\"secs\">seconds</label><input id=\"secs\" name=\"seconds\" type=\"number\" step=\"1\" value=\"600\" size=\"7\">\
<button type=\"submit\">Advance</button></fieldset></form>\
<form data-action=\"iisreset\" class=\"ctl\"><fieldset><legend>Exchange</legend>\
<button type=\"submit\">iisreset</button></fieldset></form>\
<form data-action=\"device\" class=\"ctl\"><fieldset><legend>Faults and devices</legend>\
<label for=\"dev-host\">Host</label><select id=\"dev-host\" name=\"host\">{hosts}</select>\
<label for=\"dev-change\">Change</label><select id=\"dev-change\" name=\"change\">\
<option value=\"ssl-offload-on\">SSL offload at the load balancer: on</option>\
<option value=\"ssl-offload-off\">SSL offload at the load balancer: off</option>\
<option value=\"cert-expired\">certificate: expired</option>\
<option value=\"cert-wrong_name\">certificate: wrong name</option>\
<option value=\"cert-untrusted\">certificate: untrusted CA</option>\
<option value=\"cert-valid\">certificate: valid</option>\
<option value=\"block\">client segment: block</option>\
<option value=\"unblock\">client segment: unblock</option>\
<option value=\"restore\">every device as the lab file starts it</option>\
</select><button type=\"submit\">Apply</button></fieldset></form>\
<form data-action=\"cmdlet\" class=\"ctl wide\"><fieldset><legend>Cmdlet</legend>\
<label for=\"line\">PS&gt;</label><input id=\"line\" name=\"line\" type=\"text\" size=\"48\" \
placeholder=\"Get-AuthServer | fl Name,IsDefaultAuthorizationEndpoint\" autocomplete=\"off\" spellcheck=\"false\">\
<button type=\"submit\">Run</button></fieldset></form>\
<p class=\"ctl\"><a class=\"button\" href=\"/dashboard/har\" download=\"hma-lab.har\">Export HAR</a></p>\
</div>"
    )
}

/// The exercise serving this lab: its control URL and the token, from the state file.
fn exercise_control(p: &Parts) -> Option<String> {
    let text = std::fs::read_to_string(p.state_dir.join(EXERCISE_FILE)).ok()?;
    let v: Json = serde_json::from_str(&text).ok()?;
    let token = v["admin_token"].as_str()?;
    // Another lab's exercise in the same state directory is not ours to show.
    if !same(token, &p.token) {
        return None;
    }
    v["control"].as_str().map(str::to_string)
}

async fn exercise_call(p: &Parts, method: reqwest::Method, path: &str) -> Result<Json, String> {
    let url = exercise_control(p).ok_or("no exercise is running on this lab")?;
    let http = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(300))
        .build()
        .map_err(|e| e.to_string())?;
    let resp = http
        .request(method, format!("{url}{path}"))
        .bearer_auth(&p.token)
        .send()
        .await
        .map_err(|e| format!("the exercise does not answer: {e}"))?;
    let status = resp.status();
    let v: Json = resp.json().await.map_err(|e| e.to_string())?;
    if status.is_success() {
        Ok(v)
    } else {
        Err(v["error"]
            .as_str()
            .unwrap_or("the exercise refused")
            .to_string())
    }
}

fn hint_html(h: &Json) -> String {
    match h {
        Json::Object(_) => format!(
            "<p class=\"hint\"><b>Hint {} of {}:</b> {}</p>",
            h["number"],
            h["of"],
            esc(h["text"].as_str().unwrap_or_default())
        ),
        _ => "<p class=\"muted\">This exercise has no hints.</p>".into(),
    }
}

fn check_html(r: &Json) -> String {
    let mut s = format!(
        "<p><b>{} of {} points</b>{}</p><ul class=\"checks\">",
        r["score"],
        r["max_score"],
        if r["passed"].as_bool() == Some(true) {
            " — every check passes"
        } else {
            ""
        }
    );
    for c in r["checks"].as_array().into_iter().flatten() {
        let passed = c["passed"].as_bool() == Some(true);
        s.push_str(&format!(
            "<li>{} {} ({} point(s)){}</li>",
            mark(passed),
            esc(c["check"].as_str().unwrap_or_default()),
            c["points"],
            if passed {
                String::new()
            } else {
                format!(
                    "<br><span class=\"muted\">expected:</span> {}<br><span class=\"muted\">seen:</span> {}",
                    esc(c["expected"].as_str().unwrap_or_default()),
                    esc(c["seen"].as_str().unwrap_or_default())
                )
            }
        ));
    }
    s.push_str("</ul>");
    if !r["hint"].is_null() {
        s.push_str(&hint_html(&r["hint"]));
    }
    s
}

/// The exercise panel's HTML, empty when no exercise serves this lab.
pub async fn exercise_panel(p: &Parts) -> String {
    if exercise_control(p).is_none() {
        return String::new();
    }
    let st = match exercise_call(p, reqwest::Method::GET, "/status").await {
        Ok(v) => v,
        Err(e) => return format!("<p class=\"fail\">{}</p>", esc(&e)),
    };
    let stars = "★".repeat(st["difficulty"].as_u64().unwrap_or(0).min(5) as usize);
    format!(
        "<p><b>{}</b>{} <span aria-label=\"difficulty {}\">{stars}</span></p>\
<p class=\"briefing\"><b>Briefing:</b> {}</p>\
<p>Checks run: {} · best score {} of {} · hints given {} of {}{}</p>\
<form data-action=\"exercise-check\" class=\"ctl\" data-target=\"exercise-result\"><button type=\"submit\">Run the checks</button></form> \
<form data-action=\"exercise-hint\" class=\"ctl\" data-target=\"exercise-result\"><button type=\"submit\">Next hint</button></form>",
        esc(st["exercise"].as_str().unwrap_or_default()),
        st["title"]
            .as_str()
            .map(|t| format!(": {}", esc(t)))
            .unwrap_or_default(),
        st["difficulty"],
        esc(st["briefing"].as_str().unwrap_or_default()),
        st["checks_run"],
        st["best_score"],
        st["max_score"],
        st["hints_given"],
        st["hints"],
        if st["solved"].as_bool() == Some(true) { " · solved by the trainer" } else { "" },
    )
}
