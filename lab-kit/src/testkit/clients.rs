//! Real-client tests: a test that drives a real client library (exchangelib, ews-javascript-api,
//! …) either runs it or says plainly that it did not.
//!
//! [`require`] is the one gate: given what the probe found, it returns the client to run, or
//! prints `SKIPPED <test>: <why> (make clients)` straight to the terminal (past the test
//! harness's output capture, so `cargo test` shows it without `--nocapture`) and returns `None`.
//! When the environment variable `CI` is set, a missing client fails the test instead: CI installs
//! the clients with `make clients` first, so a missing one there is a broken setup, not a skip.
//! The probes look where `make clients` installs: `.venv/` and `tests/clients/node_modules/`.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use super::workspace_root;

/// Whether `CI` is set (to anything but the empty string).
pub fn in_ci() -> bool {
    std::env::var_os("CI").is_some_and(|v| !v.is_empty())
}

/// The client `found`, or `None` after reporting `test` skipped (a panic under `CI`).
#[track_caller]
pub fn require<T>(test: &str, found: Result<T, String>) -> Option<T> {
    match found {
        Ok(client) => {
            say(&format!("REAL CLIENT {test}: running"));
            Some(client)
        }
        Err(why) if in_ci() => panic!(
            "{test}: {why}; CI is set, so a missing real client is a failure (install the clients with `make clients`)"
        ),
        Err(why) => {
            say(&format!("SKIPPED {test}: {why} (make clients)"));
            None
        }
    }
}

/// Writes one line to the process's stderr directly: `eprintln!` would be captured by libtest.
fn say(line: &str) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{line}");
    let _ = err.flush();
}

/// A Python interpreter that can `import module`: the workspace's `.venv` first (where
/// `make clients` installs), then `python3` on `PATH`.
pub fn python_with(module: &str) -> Result<PathBuf, String> {
    let venv = workspace_root().join(".venv/bin/python");
    let candidates = [venv, PathBuf::from("python3")];
    for python in candidates {
        let ok = Command::new(&python)
            .args(["-c", &format!("import {module}")])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if ok {
            return Ok(python);
        }
    }
    Err(format!(
        "no Python with `{module}` (looked in .venv/bin/python and python3 on PATH)"
    ))
}

/// A folder whose `node_modules/` holds `package`, with `node` on `PATH`: `$HMA_EWSJS_DIR` when
/// set, else `tests/clients` (where `make clients` runs `npm ci`).
pub fn node_with(package: &str) -> Result<PathBuf, String> {
    let node = Command::new("node")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !node {
        return Err("`node` is not on PATH".into());
    }
    let dir = std::env::var_os("HMA_EWSJS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("tests/clients"));
    if dir.join("node_modules").join(package).is_dir() {
        Ok(dir)
    } else {
        Err(format!(
            "`{package}` is not installed in {}/node_modules",
            dir.display()
        ))
    }
}
