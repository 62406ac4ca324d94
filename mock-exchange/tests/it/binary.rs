//! The binary contract: one JSON ready line, SIGTERM → exit 0, a bad lab → exit 2 with the error.

use std::process::{Command, Stdio};

use lab_kit::testkit::process::Started;
use lab_kit::testkit::temp_dir;

#[test]
fn ready_line_and_graceful_sigterm() {
    let bin = Started::spawn(
        Command::new(env!("CARGO_BIN_EXE_mock-exchange"))
            .args(["--admin-token", "t0k"])
            .stderr(Stdio::null()),
    );
    let v = &bin.ready;
    let keys: Vec<&str> = v
        .as_object()
        .map(|o| o.keys().map(String::as_str).collect())
        .unwrap_or_default();
    assert_eq!(keys, ["event", "service", "url", "admin_token", "servers"]);
    assert_eq!(v["event"], "ready");
    assert_eq!(v["service"], "mock-exchange");
    assert_eq!(v["admin_token"], "t0k");
    assert_eq!(v["servers"]["EX1"], v["url"]);
    assert!(v["url"]
        .as_str()
        .is_some_and(|u| u.starts_with("http://127.0.0.1:")));
    let (code, _) = bin.sigterm();
    assert_eq!(code, Some(0));
}

#[test]
fn a_bad_lab_exits_2_with_file_line_column() {
    let dir = temp_dir("mock-exchange-bad-lab");
    let lab = dir.join("bad.yaml");
    std::fs::write(&lab, "version: 1\nname: X\ndomain: x.com\nservers:\n  - name: EX1\n    fqdn: ex1.x.com\n    versoin: \"2016\"\n    vdirs: []\n")
        .unwrap_or_else(|e| panic!("{e}"));
    let out = Command::new(env!("CARGO_BIN_EXE_mock-exchange"))
        .args(["--lab", lab.to_str().unwrap_or_default()])
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.starts_with(&format!("{}:7:", lab.display())), "{err}");
    assert!(err.contains("versoin"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_empty_admin_token_is_refused() {
    let out = Command::new(env!("CARGO_BIN_EXE_mock-exchange"))
        .args(["--admin-token", ""])
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--admin-token"), "{err}");
    assert!(err.contains("the admin token must not be empty"), "{err}");
}
