//! A service binary under test: started with its stdout piped, its one JSON ready line read
//! (bounded wait), and stopped with SIGTERM the way a supervisor stops it, exit code returned.
//!
//! Every binary of the workspace (`hma-lab up`/`serve`, `mock-aad`, `mock-exchange`) keeps the
//! same contract: exactly one JSON line on stdout once it listens, exit 0 on SIGTERM. Blocking
//! `std::process` on purpose: it works from sync and async tests alike.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// How long a binary may take to print its ready line (a debug build on a busy machine).
const READY_WITHIN: Duration = Duration::from_secs(120);

/// A running binary that printed its ready line.
pub struct Started {
    pub child: Child,
    /// The ready line, parsed.
    pub ready: serde_json::Value,
    stdout: Option<BufReader<ChildStdout>>,
}

impl Started {
    /// Spawns `cmd` with stdout piped (stderr as `cmd` sets it) and
    /// waits for its first stdout line, which must be JSON.
    pub fn spawn(cmd: &mut Command) -> Started {
        let mut child = cmd
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
        let mut stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
        let (tx, rx) = mpsc::channel();
        let reader = std::thread::spawn(move || {
            let mut line = String::new();
            let r = stdout.read_line(&mut line);
            let _ = tx.send(());
            (r, line, stdout)
        });
        if rx.recv_timeout(READY_WITHIN).is_err() {
            let _ = child.kill();
            panic!("{cmd:?}: no ready line within {READY_WITHIN:?}");
        }
        let (r, line, stdout) = reader.join().expect("reader thread");
        r.unwrap_or_else(|e| panic!("{cmd:?}: reading stdout: {e}"));
        let ready = serde_json::from_str(line.trim_end())
            .unwrap_or_else(|e| panic!("{cmd:?}: ready line {line:?} is not JSON: {e}"));
        Started {
            child,
            ready,
            stdout: Some(stdout),
        }
    }

    /// `ready[key]` as a string (panics naming the key when it is missing).
    pub fn field(&self, key: &str) -> String {
        self.ready[key]
            .as_str()
            .unwrap_or_else(|| panic!("ready line has no string {key:?}: {}", self.ready))
            .to_string()
    }

    /// Sends SIGTERM, waits for the exit, and returns the exit code (`None`: killed by a signal)
    /// with whatever the binary wrote to stdout after its ready line.
    pub fn sigterm(mut self) -> (Option<i32>, String) {
        let code = sigterm(&mut self.child);
        let mut rest = String::new();
        if let Some(mut out) = self.stdout.take() {
            let _ = out.read_to_string(&mut rest);
        }
        (code, rest)
    }
}

impl Drop for Started {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Sends SIGTERM to `child` (through `kill`, no libc binding needed) and waits for its exit code.
pub fn sigterm(child: &mut Child) -> Option<i32> {
    let sent = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap_or_else(|e| panic!("kill -TERM: {e}"));
    assert!(sent.success(), "kill -TERM {} failed", child.id());
    child
        .wait()
        .unwrap_or_else(|e| panic!("waiting for {}: {e}", child.id()))
        .code()
}
