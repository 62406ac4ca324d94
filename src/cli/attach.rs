//! `hma-lab shell --attach`: the cmdlet shell on a lab that is already running — one `hma-lab
//! serve`, `hma-lab exercise start` or a classroom's trainee serves — instead of a lab of its own.
//!
//! The lab is found through the state directory's `serve.json` (its admin URL and token), so the
//! shell needs nothing but the directory the lab was started with. Each PowerShell entry is one
//! `POST /cmdlet` on the lab's admin API, whose long-lived session keeps `$variables` between
//! entries, and the answer is printed exactly as the local shell prints it (Format-List padded,
//! error records as rendered, `# hma-lab:` notes). The `lab` meta-commands map onto the admin
//! API's other endpoints (`lab clock` on `/clock/advance`, `lab network` on `/network`); `lab
//! status` needs the reference Outlook, which an exercise holds, so it is answered by the
//! exercise's control listener when the state directory has an `exercise.json` and refused, with
//! what to do instead, on a plain `serve`. The HTTP client ignores `HTTPS_PROXY`/`HTTP_PROXY`,
//! which `hma-lab env` points at the lab itself. Like the local shell it blocks on the runtime
//! for each call, so it runs on a blocking thread.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, UNIX_EPOCH};

use serde_json::Value as Json;
use tokio::runtime::Handle;

use super::shell::{
    classify, clock_arg, clock_line, devices_text, network_arg, status_args, Entry, Reply, Target,
    LAB_HELP,
};

/// The exercise's state file (the same name `crate::exercise::control` writes).
const EXERCISE_FILE: &str = "exercise.json";

/// A shell attached to a running lab over its admin API.
pub struct Attached {
    admin: String,
    token: String,
    /// The exercise's control URL, when the lab is an exercise (it runs `lab status`).
    control: Option<String>,
    dir: PathBuf,
    http: reqwest::Client,
    rt: Handle,
}

fn read_json(path: &Path, what: &str) -> Result<Json, String> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        format!(
            "{}: {e}\nNo lab is running with this state directory; start one with `hma-lab serve`, \
             `hma-lab exercise start` or `hma-lab classroom start` (or give its --state-dir).",
            path.display()
        )
    })?;
    serde_json::from_str(&text).map_err(|e| {
        format!(
            "{}: not {what} ({e}); remove it and start the lab again",
            path.display()
        )
    })
}

impl Attached {
    /// Reads `serve.json` (and `exercise.json` when there is one) in `dir`.
    pub fn from_dir(dir: &Path, rt: Handle) -> Result<Attached, String> {
        let serve = dir.join(crate::frontdoor::serve::SERVE_FILE);
        let v = read_json(&serve, "a serve state file")?;
        let field = |k: &str| {
            v[k].as_str().map(str::to_string).ok_or_else(|| {
                format!(
                    "{}: not a serve state file (no `{k}`); remove it and start the lab again",
                    serve.display()
                )
            })
        };
        let admin = field("admin")?;
        let token = field("admin_token")?;
        let exercise = dir.join(EXERCISE_FILE);
        let control = if exercise.is_file() {
            let e = read_json(&exercise, "an exercise state file")?;
            // Only the exercise of this very lab (same token) runs its reference Outlook.
            (e["admin_token"].as_str() == Some(token.as_str()))
                .then(|| e["control"].as_str().map(str::to_string))
                .flatten()
        } else {
            None
        };
        let http = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(300))
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Attached {
            admin,
            token,
            control,
            dir: dir.to_path_buf(),
            http,
            rt,
        })
    }

    /// One call: the JSON answer of a 2xx, else the error the lab gave.
    fn call(
        &self,
        method: reqwest::Method,
        url: String,
        body: Option<String>,
    ) -> Result<Json, String> {
        let mut req = self.http.request(method, &url).bearer_auth(&self.token);
        if let Some(b) = body {
            req = req.body(b);
        }
        self.rt.block_on(async {
            let resp = req.send().await.map_err(|e| {
                format!(
                    "the lab at {} does not answer ({e}); it has stopped: start it again and re-attach",
                    self.admin
                )
            })?;
            let ok = resp.status().is_success();
            let status = resp.status();
            let v: Json = resp
                .json()
                .await
                .map_err(|e| format!("the lab answered {status} with no JSON: {e}"))?;
            if ok {
                Ok(v)
            } else {
                Err(v["error"]
                    .as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| format!("the lab refused ({status})")))
            }
        })
    }

    fn cmdlet(&self, line: &str) -> Reply {
        let url = format!("{}/cmdlet?style=console", self.admin);
        match self.call(reqwest::Method::POST, url, Some(line.to_string())) {
            Err(e) => Reply::Err(format!("hma-lab shell: {e}")),
            Ok(v) if v["ok"] == true => {
                let mut text = v["output"].as_str().unwrap_or("").to_string();
                for n in v["notes"].as_array().into_iter().flatten() {
                    if !text.is_empty() {
                        text.push('\n');
                    }
                    text.push_str(&format!("# hma-lab: {}", n.as_str().unwrap_or("")));
                }
                Reply::Ok(text)
            }
            Ok(v) => Reply::Err(v["error"].as_str().unwrap_or("").trim_end().to_string()),
        }
    }

    fn clock(&self, secs: i64) -> Result<String, String> {
        let url = format!("{}/clock/advance?seconds={secs}", self.admin);
        let v = self
            .call(reqwest::Method::POST, url, None)
            .map_err(|e| format!("lab clock: {e}"))?;
        let now = v["now"].as_i64().unwrap_or(0);
        let now = UNIX_EPOCH + Duration::from_secs(u64::try_from(now).unwrap_or(0));
        Ok(clock_line(now, v["offset_secs"].as_i64().unwrap_or(0)))
    }

    fn lab_command(&self, args: &[&str]) -> Result<String, String> {
        match args.first().map(|s| s.to_ascii_lowercase()).as_deref() {
            Some("status") => {
                let (profile, user) = status_args(&args[1..])?;
                let Some(control) = &self.control else {
                    return Err(format!(
                        "lab status: the lab in {} is not an exercise, so no reference Outlook runs \
                         on it; point a real client at it (`eval \"$(hma-lab env)\"`) or start it \
                         with `hma-lab exercise start`",
                        self.dir.display()
                    ));
                };
                let q: String = form_urlencoded::Serializer::new(String::new())
                    .append_pair("profile", profile.name())
                    .append_pair("user", &user)
                    .finish();
                let v = self
                    .call(
                        reqwest::Method::POST,
                        format!("{control}/outlook?{q}"),
                        None,
                    )
                    .map_err(|e| format!("lab status: {e}"))?;
                Ok(v["status"].as_str().unwrap_or("").to_string())
            }
            Some("network") => {
                let url = format!("{}/network", self.admin);
                let v = if args.len() > 1 {
                    let device = serde_json::to_string(&network_arg(&args[1..])?)
                        .map_err(|e| format!("lab network: {e}"))?;
                    self.call(reqwest::Method::POST, url, Some(device))
                } else {
                    self.call(reqwest::Method::GET, url, None)
                }
                .map_err(|e| format!("lab network: {e}"))?;
                let devices: crate::lab::Devices = serde_json::from_value(v["devices"].clone())
                    .map_err(|e| {
                        format!("lab network: the lab answered unreadable devices: {e}")
                    })?;
                Ok(devices_text(&devices))
            }
            Some("clock") => match args.get(1) {
                None => self.clock(0),
                Some(d) => self.clock(clock_arg(d)?),
            },
            Some("help") | None => Ok(LAB_HELP.to_string()),
            Some(other) => Err(format!("lab: unknown lab command '{other}'.\n{LAB_HELP}")),
        }
    }
}

impl Target for Attached {
    fn execute(&mut self, entry: &str) -> Reply {
        match classify(entry) {
            Entry::Empty => Reply::Ok(String::new()),
            Entry::Exit => Reply::Exit,
            Entry::Lab(args) => match self.lab_command(&args) {
                Ok(t) => Reply::Ok(t),
                Err(e) => Reply::Err(e),
            },
            Entry::PowerShell => self.cmdlet(entry),
        }
    }

    fn banner(&self) -> String {
        format!("hma-lab shell attached to the lab at {}", self.admin)
    }
}

/// `hma-lab shell --attach [--state-dir DIR] [--echo]`.
pub async fn main(dir: PathBuf, echo: bool) -> ExitCode {
    let rt = Handle::current();
    let joined = tokio::task::spawn_blocking(move || {
        let mut attached = Attached::from_dir(&dir, rt)?;
        Ok::<bool, String>(super::shell::drive(&mut attached, echo))
    })
    .await;
    match joined {
        Ok(Ok(true)) => ExitCode::SUCCESS,
        Ok(Ok(false)) => ExitCode::FAILURE,
        Ok(Err(e)) => {
            eprintln!("hma-lab shell: {e}");
            ExitCode::from(2)
        }
        Err(e) => {
            eprintln!("hma-lab shell: {e}");
            ExitCode::FAILURE
        }
    }
}
