//! The `hma-lab` binary: `hma-lab up` prints one ready line and serves both mocks until SIGTERM.

use std::process::{Command, Stdio};

use lab_kit::testkit::process::Started;

#[tokio::test]
async fn up_prints_a_ready_line_and_stops_on_sigterm() {
    let up = Started::spawn(
        Command::new(env!("CARGO_BIN_EXE_hma-lab"))
            .arg("up")
            .stderr(Stdio::null()),
    );
    let ready = &up.ready;
    assert_eq!(ready["event"], "ready");
    let aad = ready["aad"].as_str().unwrap();
    let exchange = ready["exchange"].as_str().unwrap();
    assert!(aad.starts_with("http://127.0.0.1:"));
    assert!(exchange.starts_with("http://127.0.0.1:"));
    assert_eq!(ready["exchange_servers"]["EX1"], exchange);
    assert!(!ready["aad_admin_token"].as_str().unwrap().is_empty());

    let doc: serde_json::Value = reqwest::get(format!(
        "{aad}/contoso.com/v2.0/.well-known/openid-configuration"
    ))
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(
        doc["issuer"],
        "https://login.microsoftonline.com/f31f3647-5d87-4b69-a0b6-73f62aeab14c/v2.0"
    );
    let resp = reqwest::Client::new()
        .get(format!("{exchange}/mapi/emsmdb/"))
        .header("Host", "mail.contoso.com")
        .header("Authorization", "Bearer")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);

    assert_eq!(ready.get("adfs"), None);
    let (exit, _) = up.sigterm();
    assert_eq!(exit, Some(0));
}

/// `up --adfs` adds the farm to the ready line, on the lab's clock, serving its metadata.
#[tokio::test]
async fn up_with_adfs_names_the_farm() {
    let up = Started::spawn(
        Command::new(env!("CARGO_BIN_EXE_hma-lab"))
            .args(["up", "--adfs"])
            .stderr(Stdio::null()),
    );
    let ready = &up.ready;
    let keys: Vec<&String> = ready.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "event",
            "aad",
            "aad_admin_token",
            "exchange",
            "exchange_servers",
            "exchange_admin_token",
            "adfs",
            "adfs_admin_token"
        ]
    );
    let adfs = ready["adfs"].as_str().unwrap();
    assert!(adfs.starts_with("http://127.0.0.1:"), "{adfs}");
    let body = reqwest::get(format!(
        "{adfs}/FederationMetadata/2007-06/FederationMetadata.xml"
    ))
    .await
    .unwrap()
    .text()
    .await
    .unwrap();
    assert!(
        body.contains("entityID=\"http://adfs.contoso.com/adfs/services/trust\""),
        "{body}"
    );
    let (exit, _) = up.sigterm();
    assert_eq!(exit, Some(0));
}

/// `--version` names the git revision the binary was built from; `completions` and `man` are
/// generated from the clap definitions and name every subcommand.
#[test]
fn version_completions_and_man_page() {
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_hma-lab"))
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let version = run(&["--version"]);
    assert_eq!(
        version,
        format!("hma-lab {}\n", hma_lab::cli::args::VERSION)
    );
    let rev = version
        .trim_end()
        .strip_suffix(')')
        .and_then(|v| v.rsplit_once("(rev "))
        .map(|(_, r)| r.to_string())
        .unwrap();
    assert!(
        rev == "unknown" || (rev.len() == 12 && rev.bytes().all(|b| b.is_ascii_hexdigit())),
        "{version}"
    );
    let subcommands = [
        "run",
        "serve",
        "shell",
        "explain",
        "lint",
        "env",
        "up",
        "completions",
        "man",
    ];
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let script = run(&["completions", shell]);
        for sub in subcommands {
            assert!(script.contains(sub), "{shell} completion lacks {sub}");
        }
    }
    let man = run(&["man"]);
    assert!(man.contains(".TH hma-lab 1"), "{man}");
    for sub in subcommands {
        assert!(man.contains(sub), "man page lacks {sub}");
    }
}
