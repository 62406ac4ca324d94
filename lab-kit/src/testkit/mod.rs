//! The workspace's test kit: what the tests of every crate need and no crate's tests should
//! write twice. It is compiled only with the `testkit` feature, which each crate turns on through
//! its dev-dependency on `lab-kit`, so no service binary carries it.
//!
//! Shaped as small free-standing pieces, each a module, because a test picks one or two:
//! [`golden`] (golden files with one update switch, `UPDATE_GOLDEN=1`, and a line diff on
//! mismatch), [`diff`] (that diff), [`http`] (one request through a router without a socket, the
//! answer as plain data), [`process`] (a service binary's JSON ready line and its SIGTERM exit),
//! [`clients`] (real-client tests that run or say `SKIPPED`, and fail under `CI` when their client
//! is missing) and [`temp_dir`]. Starting labs and getting tokens need the services, so those
//! helpers live with the tests that have them (`tests/it/common.rs` of each crate), not here.

pub mod clients;
pub mod diff;
pub mod golden;
pub mod http;
pub mod openapi;
pub mod process;

pub use golden::Golden;

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

/// A fresh, empty directory under the system temp dir, unique in the process and across runs
/// (`hma-<tag>-<pid>-<n>`). Tests remove it when they are done; a failed test leaves it behind
/// for inspection.
pub fn temp_dir(tag: &str) -> PathBuf {
    static N: AtomicU64 = AtomicU64::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("hma-{tag}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    dir
}

/// The workspace root (the folder holding `lab-kit/`), for tests that look for installed clients.
pub fn workspace_root() -> PathBuf {
    let kit = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    kit.parent().unwrap_or(kit).to_path_buf()
}
