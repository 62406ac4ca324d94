//! The `mock-aad` binary contract: one JSON ready line on stdout, a working service behind it,
//! exit 0 on SIGTERM, exit 2 with `file:line:column: …` on stderr for a bad lab file.

use std::process::Stdio;

use lab_kit::testkit::process::Started;
use serde_json::Value;
use tokio::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_mock-aad");

fn fixture(name: &str) -> String {
    format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// Starts the binary and reads its ready line (bounded wait: a hung start fails the test).
fn start(args: &[&str]) -> Started {
    Started::spawn(
        std::process::Command::new(BIN)
            .args(args)
            .env("RUST_LOG", "warn")
            .stderr(Stdio::null()),
    )
}

/// SIGTERM: exit 0 and nothing on stdout after the ready line.
fn terminate(bin: Started) {
    let (code, rest) = bin.sigterm();
    assert_eq!(code, Some(0), "graceful shutdown exits 0");
    assert_eq!(rest, "", "exactly one line on stdout");
}

#[tokio::test]
async fn ready_line_then_serves_then_exits_0_on_sigterm() {
    let bin = start(&["--admin-token", "bin-test-token"]);
    let ready = &bin.ready;
    let keys: Vec<&str> = ready
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, ["event", "service", "url", "admin_token"]);
    assert_eq!(ready["event"], "ready");
    assert_eq!(ready["service"], "mock-aad");
    assert_eq!(ready["admin_token"], "bin-test-token");
    let url = ready["url"].as_str().unwrap();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");

    let http = reqwest::Client::new();
    let resp = http
        .get(format!(
            "{url}/_admin/tenants/contoso.com/users/GregT@contoso.com"
        ))
        .bearer_auth("bin-test-token")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let user: Value = resp.json().await.unwrap();
    assert_eq!(user["puid"], "1003BFFD9ACA40EE");
    let resp = http
        .get(format!("{url}/_admin/clock"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);

    // A fault set over the socket answers the next token request over the socket.
    let resp = http
        .post(format!("{url}/_admin/faults"))
        .bearer_auth("bin-test-token")
        .body(r#"{"match":{"endpoint":"token","user":"GregT@contoso.com"},"respond":{"aadsts":50053}}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let resp = http
        .post(format!("{url}/contoso.com/oauth2/v2.0/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=password&client_id=d3590ed6-52b3-4102-aeff-aad2292ab01c&username=GregT%40contoso.com&password=x&scope=openid")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    assert_eq!(
        resp.headers()["content-type"],
        "application/json; charset=utf-8"
    );
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error_codes"], serde_json::json!([50053]));

    terminate(bin);
}

#[tokio::test]
async fn a_lab_file_and_a_random_admin_token() {
    let bin = start(&["--lab", &fixture("valid.yaml"), "--listen", "127.0.0.1:0"]);
    let ready = &bin.ready;
    let token = ready["admin_token"].as_str().unwrap();
    assert!(token.len() >= 32, "{token}");
    let url = ready["url"].as_str().unwrap();
    let resp = reqwest::Client::new()
        .get(format!("{url}/_admin/tenants"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let tenants: Value = resp.json().await.unwrap();
    assert_eq!(tenants[0]["display_name"], "Fabrikam");
    terminate(bin);
}

#[tokio::test]
async fn a_bad_lab_file_exits_2_with_file_line_column() {
    let path = fixture("bad-puid.yaml");
    let out = Command::new(BIN)
        .args(["--lab", &path])
        .env("RUST_LOG", "warn")
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(out.stdout, b"", "no ready line");
    assert_eq!(
        String::from_utf8(out.stderr).unwrap(),
        format!("{path}:12:9: tenants[0].users[0].puid: 1003BFFD9ACA40E is not 16 hexadecimal digits; a PUID looks like 1003BFFD9ACA40EE\n")
    );

    let path = fixture("unknown-field.yaml");
    let out = Command::new(BIN)
        .args(["--lab", &path])
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.starts_with(&format!(
            "{path}:14:9: tenants[0].users[0]: unknown field `passwrd`"
        )),
        "{err}"
    );
    assert!(err.ends_with("did you mean `password`?\n"), "{err}");

    let path = fixture("missing.yaml");
    let out = Command::new(BIN)
        .args(["--lab", &path])
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8(out.stderr)
        .unwrap()
        .starts_with(&format!("{path}: cannot read the lab file: ")));
}

#[tokio::test]
async fn an_empty_admin_token_is_refused() {
    for token in ["", "two words"] {
        let out = Command::new(BIN)
            .args(["--admin-token", token])
            .output()
            .await
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{token:?}");
        assert_eq!(out.stdout, b"", "no ready line");
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(err.contains("--admin-token"), "{err}");
        assert!(err.contains("the admin token must"), "{err}");
    }
}
