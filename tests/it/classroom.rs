//! `hma-lab classroom`: twenty trainees' labs in one process, each answering on its own ports
//! with its own admin token, clock and CA; a cmdlet or a clock step in one lab leaves the others
//! as they were; the trainer's summary follows each trainee's progress; the binary's start,
//! status (human and json), a trainee's tools through `--trainee K`, and stop.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Stdio};

use hma_lab::classroom::{trainee_dir, Classroom, Pick};
use lab_kit::testkit::process::Started;
use serde_json::Value;

fn scenarios() -> String {
    format!("{}/scenarios", env!("CARGO_MANIFEST_DIR"))
}

async fn cmdlet(http: &reqwest::Client, admin: &str, token: &str, line: &str) -> (u16, Value) {
    let r = http
        .post(format!("{admin}/cmdlet"))
        .bearer_auth(token)
        .body(line.to_string())
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap())
}

const EVOSTS_DEFAULT: &str = "(Get-AuthServer EvoSts).IsDefaultAuthorizationEndpoint";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_labs_in_one_process_answer_and_are_isolated() {
    let base = lab_kit::testkit::temp_dir("classroom");
    let room = Classroom::start(
        Path::new(&scenarios()),
        &Pick::Named("no-authorization-uri".into()),
        20,
        &base,
    )
    .await
    .unwrap();
    assert_eq!(room.trainees().len(), 20);
    let http = reqwest::Client::builder().no_proxy().build().unwrap();

    // Every lab has its own ports, admin token, state directory and CA.
    let mut ports = BTreeSet::new();
    let mut tokens = BTreeSet::new();
    let mut cas = BTreeSet::new();
    let mut admins = Vec::new();
    for (i, t) in room.trainees().iter().enumerate() {
        assert_eq!(t.number, i + 1);
        assert_eq!(t.dir, trainee_dir(&base, i + 1));
        let ready = t.hosted.ready();
        for k in ["https", "proxy", "admin", "control"] {
            assert!(
                ports.insert(ready[k].as_str().unwrap().to_string()),
                "{k} shared"
            );
        }
        let token = ready["admin_token"].as_str().unwrap().to_string();
        assert!(tokens.insert(token.clone()));
        let ca = std::fs::read_to_string(t.dir.join("ca.pem")).unwrap();
        assert!(cas.insert(ca));
        assert_eq!(ready["exercise"], "no-authorization-uri");
        assert!(t.dir.join("serve.json").is_file() && t.dir.join("exercise.json").is_file());
        // Loosely: a lab (listeners, break, the reference Outlook's symptom) starts in seconds
        // at worst even on a loaded debug build; the real figure is in the summary and bench/.
        assert!(
            t.start_ms < 10_000,
            "trainee {} took {} ms",
            t.number,
            t.start_ms
        );
        admins.push((ready["admin"].as_str().unwrap().to_string(), token));
    }

    // Every lab answers, broken.
    for (admin, token) in &admins {
        let (status, v) = cmdlet(&http, admin, token, EVOSTS_DEFAULT).await;
        assert_eq!(
            (status, &v["ok"], v["output"].as_str()),
            (200, &Value::Bool(true), Some("False"))
        );
    }
    // Another lab's token is refused.
    let (status, v) = cmdlet(&http, &admins[0].0, &admins[1].1, EVOSTS_DEFAULT).await;
    assert_eq!(status, 401, "{v}");

    // Trainee 3 fixes their lab; trainee 4 moves their clock. Nobody else's lab changes.
    let (_, v) = cmdlet(
        &http,
        &admins[2].0,
        &admins[2].1,
        "Set-AuthServer EvoSts -IsDefaultAuthorizationEndpoint $true",
    )
    .await;
    assert_eq!(v["ok"], true, "{v}");
    let (_, v) = cmdlet(&http, &admins[2].0, &admins[2].1, "iisreset").await;
    assert_eq!(v["ok"], true, "{v}");
    let moved: Value = http
        .post(format!("{}/clock/advance?seconds=3600", admins[3].0))
        .bearer_auth(&admins[3].1)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(moved["offset_secs"], 3600);
    for (i, (admin, token)) in admins.iter().enumerate() {
        let (_, v) = cmdlet(&http, admin, token, EVOSTS_DEFAULT).await;
        let want = if i == 2 { "True" } else { "False" };
        assert_eq!(v["output"].as_str(), Some(want), "trainee {}", i + 1);
        let clock: Value = http
            .post(format!("{admin}/clock/advance?seconds=0"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(
            clock["offset_secs"],
            if i == 3 { 3600 } else { 0 },
            "trainee {}",
            i + 1
        );
    }

    // The trainer's summary follows the checks: trainee 3 fixed, trainee 5 checked and hinted.
    for k in [3, 5] {
        room.trainee(k)
            .unwrap()
            .hosted
            .with_session(async |s| s.check().await.unwrap())
            .await
            .unwrap();
    }
    let summary = room.summary().await;
    assert_eq!(summary.len(), 20);
    let line = |k: usize| summary.iter().find(|l| l.trainee == k).unwrap();
    assert!(line(3).passed);
    assert_eq!(
        (line(3).best_score, line(3).max_score, line(3).hints_given),
        (3, 3, 0)
    );
    assert!(!line(5).passed);
    assert_eq!(
        (line(5).checks_run, line(5).best_score, line(5).hints_given),
        (1, 0, 1)
    );
    assert_eq!((line(6).checks_run, line(6).hints_given), (0, 0));
    assert!(summary
        .iter()
        .all(|l| l.exercise == "no-authorization-uri" && !l.hidden));
    let table = hma_lab::classroom::render_summary(&summary);
    assert!(
        table.starts_with("trainee  exercise              checks  points    hints  admin\n"),
        "{table}"
    );
    assert!(
        table.contains(&format!(
            "\n3        no-authorization-uri  1       3/3 ✓     0/3    {}\n",
            admins[2].0
        )),
        "{table}"
    );
    assert!(
        table.ends_with("\n1 of 20 labs fixed (✓: every check passed; S: solved by the trainer)\n"),
        "{table}"
    );

    room.shutdown().await;
    for k in 1..=20 {
        assert!(!trainee_dir(&base, k).join("serve.json").exists());
    }
    // The labs are gone.
    assert!(cmdlet_fails(&http, &admins[0].0, &admins[0].1).await);
    let _ = std::fs::remove_dir_all(&base);
}

async fn cmdlet_fails(http: &reqwest::Client, admin: &str, token: &str) -> bool {
    http.post(format!("{admin}/cmdlet"))
        .bearer_auth(token)
        .body(EVOSTS_DEFAULT)
        .send()
        .await
        .is_err()
}

fn hma_lab(args: &[&str], dir: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_hma-lab"))
        .args(args)
        .arg("--state-dir")
        .arg(dir)
        .env("RUST_LOG", "off")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

/// The binary: random exercises hidden from trainees but named to the trainer, a trainee's
/// shell through `--trainee K`, a trainee cannot stop their lab, json for a learning platform.
#[test]
fn the_classroom_command_serves_trainees_and_the_trainer() {
    let dir = lab_kit::testkit::temp_dir("classroom-cli");
    let started = Started::spawn(
        Command::new(env!("CARGO_BIN_EXE_hma-lab"))
            .args([
                "classroom",
                "start",
                "--trainees",
                "3",
                "--random",
                "--scenarios",
                &scenarios(),
                "--state-dir",
            ])
            .arg(&dir)
            .stderr(Stdio::null()),
    );
    assert_eq!(started.ready["event"], "ready");
    assert_eq!(started.ready["trainees"], 3);
    assert!(dir.join("classroom.json").is_file());

    let status = hma_lab(&["classroom", "status", "--format", "json"], &dir);
    assert!(status.status.success());
    let v: Value = serde_json::from_slice(&status.stdout).unwrap();
    let lines = v["trainees"].as_array().unwrap();
    assert_eq!(lines.len(), 3);
    let names: Vec<String> = lines
        .iter()
        .map(|l| l["exercise"].as_str().unwrap().to_string())
        .collect();
    for l in lines {
        assert_eq!(l["hidden"], true);
        assert_eq!(l["checks_run"], 0);
    }
    // The trainee's own reports do not name the exercise.
    let t2 = trainee_dir(&dir, 2);
    let check = hma_lab(&["exercise", "check", "--format", "json"], &t2);
    assert_eq!(check.status.code(), Some(1));
    let c: Value = serde_json::from_slice(&check.stdout).unwrap();
    assert_eq!(c["exercise"], "(random)");
    assert!(!String::from_utf8_lossy(&check.stdout).contains(&names[1]));
    // The trainee's shell, by number.
    let mut shell = Command::new(env!("CARGO_BIN_EXE_hma-lab"))
        .args(["shell", "--attach", "--trainee", "2", "--state-dir"])
        .arg(&dir)
        .env("RUST_LOG", "off")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    shell
        .stdin
        .take()
        .unwrap()
        .write_all(b"lab clock\nlab clock +1h\n")
        .unwrap();
    let out = shell.wait_with_output().unwrap();
    // A random exercise's break may have moved the clock already: the step is one hour on.
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let offsets: Vec<i64> = text
        .lines()
        .map(|l| {
            assert!(l.starts_with("Lab clock: 2017-11-1"), "{text}");
            let n = l.rsplit_once("(+").unwrap().1;
            n.strip_suffix("s from the start)")
                .unwrap()
                .parse()
                .unwrap()
        })
        .collect();
    assert_eq!(offsets.len(), 2, "{text}");
    assert_eq!(offsets[1] - offsets[0], 3600, "{text}");
    assert!(out.status.success());
    // Only the trainer stops a classroom's lab.
    let stop = hma_lab(&["exercise", "stop"], &t2);
    assert_eq!(stop.status.code(), Some(2));
    assert_eq!(String::from_utf8_lossy(&stop.stderr), "hma-lab exercise: this lab belongs to a classroom: the trainer stops it with `hma-lab classroom stop`\n");

    let human = hma_lab(&["classroom", "status"], &dir);
    let text = String::from_utf8_lossy(&human.stdout).into_owned();
    assert!(
        text.contains(&format!("\n2        {} (hidden)", names[1])),
        "{text}"
    );
    assert!(
        text.ends_with("\n0 of 3 labs fixed (✓: every check passed; S: solved by the trainer)\n"),
        "{text}"
    );

    let stop = hma_lab(&["classroom", "stop"], &dir);
    assert_eq!(
        String::from_utf8_lossy(&stop.stdout),
        "the classroom has stopped\n"
    );
    let mut started = started;
    assert!(started.child.wait().unwrap().success());
    assert!(!dir.join("classroom.json").exists());
    assert!(!t2.join("exercise.json").exists());
    let again = hma_lab(&["classroom", "status"], &dir);
    assert_eq!(again.status.code(), Some(2));
    let _ = std::fs::remove_dir_all(&dir);
}
