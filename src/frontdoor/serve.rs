//! `hma-lab serve` and `hma-lab env`: a lab behind the front door as a process, and the shell
//! lines that point a user's clients at it.
//!
//! `serve` prints exactly one JSON line on stdout when every listener is up (the contract a test
//! harness waits for), writes the same object to `serve.json` in the state directory for `env`,
//! and on SIGINT/SIGTERM stops, writes the HAR file if asked, removes `serve.json` and exits 0.
//! `env` reads `serve.json` and prints `export` lines: the proxy for HTTPS (and HTTP), the CA for
//! every client stack's trust variable, and `NO_PROXY` with any entry that would bypass the proxy
//! for a lab host taken out (the rest of the user's entries are kept).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use lab_kit::Clock;

use super::{FrontDoor, Options};
use crate::lab::{Lab, LabFile};

/// The file `serve` writes its addresses to, in the state directory.
pub const SERVE_FILE: &str = "serve.json";

/// `$XDG_STATE_HOME/hma-lab`, else `~/.local/state/hma-lab`, else `./.hma-lab`.
pub fn default_state_dir() -> PathBuf {
    if let Some(x) = std::env::var_os("XDG_STATE_HOME").filter(|v| !v.is_empty()) {
        return PathBuf::from(x).join("hma-lab");
    }
    if let Some(h) = std::env::var_os("HOME").filter(|v| !v.is_empty()) {
        return PathBuf::from(h).join(".local/state/hma-lab");
    }
    PathBuf::from(".hma-lab")
}

/// The arguments of `hma-lab serve`.
#[derive(Debug, Clone)]
pub struct ServeArgs {
    /// A shipped lab's name or a lab file's path (default `contoso`).
    pub lab: Option<String>,
    pub https: SocketAddr,
    pub proxy: SocketAddr,
    pub admin: SocketAddr,
    /// The admin API's bearer token; a random one when `None`.
    pub admin_token: Option<String>,
    pub state_dir: Option<PathBuf>,
    pub har: Option<PathBuf>,
    pub journal_size: usize,
}

fn load_lab(spec: Option<&str>) -> Result<LabFile, String> {
    let spec = spec.unwrap_or("contoso");
    let path = Path::new(spec);
    if path.exists() || spec.ends_with(".yaml") || spec.ends_with(".yml") {
        LabFile::load(path).map_err(|e| e.to_string())
    } else {
        LabFile::builtin(spec).map_err(|e| e.to_string())
    }
}

/// Runs `hma-lab serve` until SIGINT/SIGTERM.
pub async fn serve(args: ServeArgs) -> ExitCode {
    let file = match load_lab(args.lab.as_deref()) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let lab = match Lab::start_file(file, Clock::system()).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("the lab did not start: {e}");
            return ExitCode::FAILURE;
        }
    };
    let state_dir = args.state_dir.clone().unwrap_or_else(default_state_dir);
    let opts = Options {
        https: args.https,
        proxy: args.proxy,
        admin: args.admin,
        admin_token: args.admin_token.clone(),
        journal_size: args.journal_size,
        ..Options::loopback(&state_dir)
    };
    let door = match FrontDoor::start(lab, opts).await {
        Ok(d) => d,
        Err(e) => {
            eprintln!("the front door did not start: {e}");
            return ExitCode::FAILURE;
        }
    };
    let stop = shutdown_signal();
    let mut ready = door.ready();
    let serve_path = state_dir.join(SERVE_FILE);
    let mut saved = ready.clone();
    saved["pid"] = serde_json::json!(std::process::id());
    saved["hosts"] = serde_json::json!(door.lab().hosts());
    if let Err(e) = super::ca::write_private(&serve_path, saved.to_string().as_bytes()) {
        eprintln!("{}: {e}", serve_path.display());
        return ExitCode::FAILURE;
    }
    {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        if let Some(o) = ready.as_object_mut() {
            o.retain(|k, _| k != "pid");
        }
        if writeln!(out, "{ready}").and_then(|_| out.flush()).is_err() {
            return ExitCode::FAILURE;
        }
    }
    eprintln!(
        "hma-lab serve: lab '{}' behind TLS at {} and the proxy at {}.{}\n\
         Point your clients at it with:  eval \"$(hma-lab env{})\"",
        door.lab().name(),
        door.https_addr(),
        door.proxy_addr(),
        match door.adfs_url() {
            Some(u) => format!("\nADFS farm: {u}/adfs/ls/ (federation metadata at {u}/FederationMetadata/2007-06/FederationMetadata.xml)."),
            None => String::new(),
        },
        match &args.state_dir {
            Some(d) => format!(" --state-dir {}", d.display()),
            None => String::new(),
        }
    );
    stop.await;
    let har = door.journal().to_har();
    door.shutdown().await;
    let _ = std::fs::remove_file(&serve_path);
    if let Some(path) = args.har {
        if let Err(e) = crate::frontdoor::journal::write_private(&path, &har) {
            eprintln!("{}: {e}", path.display());
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}

/// Resolves on SIGINT or SIGTERM. Installed before the ready line, so a signal sent as soon as
/// the line is read is never missed.
pub fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    let term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    #[cfg(unix)]
    let int = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt()).ok();
    async move {
        #[cfg(unix)]
        {
            let (mut term, mut int) = (term, int);
            let t = async {
                match term.as_mut() {
                    Some(s) => {
                        s.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            let i = async {
                match int.as_mut() {
                    Some(s) => {
                        s.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                _ = t => {},
                _ = i => {},
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

/// POSIX-shell single-quoting.
fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// Whether a `NO_PROXY` entry would send `host` around the proxy.
fn bypasses(entry: &str, host: &str) -> bool {
    let e = entry.trim().to_ascii_lowercase();
    let e = e.split(':').next().unwrap_or("");
    if e == "*" {
        return true;
    }
    let e = e.trim_start_matches('*').trim_start_matches('.');
    !e.is_empty() && (host == e || host.ends_with(&format!(".{e}")))
}

/// The `export` lines for the lab described by `serve.json` text, keeping the entries of
/// `no_proxy` (the user's current `NO_PROXY`) that do not cover a lab host.
pub fn env_lines(serve_json: &str, no_proxy: &str) -> Result<String, String> {
    let v: serde_json::Value =
        serde_json::from_str(serve_json).map_err(|e| format!("unreadable: {e}"))?;
    let proxy = v["proxy"].as_str().ok_or("no `proxy` in it")?;
    let ca = v["ca"].as_str().ok_or("no `ca` in it")?;
    let hosts: Vec<String> = v["hosts"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|h| h.as_str().map(str::to_ascii_lowercase))
                .collect()
        })
        .unwrap_or_default();
    let kept: Vec<&str> = no_proxy
        .split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty() && !hosts.iter().any(|h| bypasses(e, h)))
        .collect();
    let no_proxy = kept.join(",");
    let mut out = String::new();
    for (k, val) in [
        ("HTTPS_PROXY", proxy),
        ("https_proxy", proxy),
        ("HTTP_PROXY", proxy),
        ("http_proxy", proxy),
        ("REQUESTS_CA_BUNDLE", ca),
        ("SSL_CERT_FILE", ca),
        ("NODE_EXTRA_CA_CERTS", ca),
        ("CURL_CA_BUNDLE", ca),
        ("NO_PROXY", no_proxy.as_str()),
        ("no_proxy", no_proxy.as_str()),
    ] {
        out.push_str(&format!("export {k}={}\n", sh_quote(val)));
    }
    Ok(out)
}

/// Runs `hma-lab env`.
pub fn env(state_dir: Option<PathBuf>) -> ExitCode {
    let dir = state_dir.unwrap_or_else(default_state_dir);
    let path = dir.join(SERVE_FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) => {
            eprintln!(
                "{}: {e}\nIs `hma-lab serve` running with this state directory?",
                path.display()
            );
            return ExitCode::FAILURE;
        }
    };
    let current = std::env::var("NO_PROXY")
        .or_else(|_| std::env::var("no_proxy"))
        .unwrap_or_default();
    match env_lines(&text, &current) {
        Ok(lines) => {
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            if out.write_all(lines.as_bytes()).is_err() {
                return ExitCode::FAILURE;
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{}: {e}", path.display());
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_lines_point_every_stack_at_the_lab_and_clear_no_proxy_for_lab_hosts() {
        let json = r#"{"proxy":"http://127.0.0.1:4000","ca":"/s/ca.pem","hosts":["login.microsoftonline.com","mail.contoso.com"]}"#;
        let out = env_lines(
            json,
            "localhost,.contoso.com,*.microsoftonline.com,10.0.0.1",
        )
        .unwrap();
        assert_eq!(
            out,
            "export HTTPS_PROXY='http://127.0.0.1:4000'\n\
             export https_proxy='http://127.0.0.1:4000'\n\
             export HTTP_PROXY='http://127.0.0.1:4000'\n\
             export http_proxy='http://127.0.0.1:4000'\n\
             export REQUESTS_CA_BUNDLE='/s/ca.pem'\n\
             export SSL_CERT_FILE='/s/ca.pem'\n\
             export NODE_EXTRA_CA_CERTS='/s/ca.pem'\n\
             export CURL_CA_BUNDLE='/s/ca.pem'\n\
             export NO_PROXY='localhost,10.0.0.1'\n\
             export no_proxy='localhost,10.0.0.1'\n"
        );
        assert!(env_lines("{", "").is_err());
    }
}
