//! `hma-lab exercise`: a broken lab served as `serve` serves one, checked against the live lab,
//! fixed by the trainee through the admin API and through `hma-lab shell --attach`, hinted,
//! solved and reset; random mode hides the scenario; bad state files and names are errors; every
//! scenario that can be an exercise is one, its briefing never names the cause, and each plays:
//! broken at start, fixed by its solution.

use std::path::Path;
use std::process::{Command, Output, Stdio};

use hma_lab::scenario::format::parse;
use lab_kit::testkit::process::Started;
use serde_json::{json, Value};

fn scenarios() -> String {
    format!("{}/scenarios", env!("CARGO_MANIFEST_DIR"))
}

fn start(dir: &Path, args: &[&str]) -> Started {
    Started::spawn(
        Command::new(env!("CARGO_BIN_EXE_hma-lab"))
            .args([
                "exercise",
                "start",
                "--scenarios",
                &scenarios(),
                "--state-dir",
            ])
            .arg(dir)
            .args(args)
            .stderr(Stdio::null()),
    )
}

fn ex(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hma-lab"))
        .arg("exercise")
        .args(args)
        .arg("--state-dir")
        .arg(dir)
        .output()
        .unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

async fn admin_cmdlet(ready: &Value, line: &str) -> Value {
    reqwest::Client::new()
        .post(format!("{}/cmdlet", ready["admin"].as_str().unwrap()))
        .bearer_auth(ready["admin_token"].as_str().unwrap())
        .body(line.to_string())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// The `after_fix` exchange check of no-authorization-uri, as reports word it.
const AUTODISCOVER_401: &str = r#"URL containing "/autodiscover/autodiscover.xml", status 401, header WWW-Authenticate equal to "Bearer client_id=\"00000002-0000-0ff1-ce00-000000000000\", trusted_issuers=\"00000001-0000-0000-c000-000000000000@f31f3647-5d87-4b69-a0b6-73f62aeab14c\", token_types=\"app_asserted_user_v1 service_asserted_app_v1\", authorization_uri=\"https://login.windows.net/common/oauth2/authorize\"""#;

/// start → check fails with the first hint and what it saw → the trainee's cmdlets through the
/// admin API → check passes with every point; json output exact; solve, reset, stop.
#[tokio::test]
async fn trainee_fixes_the_lab_through_the_admin_api_and_check_passes() {
    let dir = lab_kit::testkit::temp_dir("exercise");
    let lab = start(&dir, &["no-authorization-uri"]);
    assert_eq!(lab.ready["event"], "ready");
    assert_eq!(lab.ready["exercise"], "no-authorization-uri");
    assert!(dir.as_path().join("serve.json").is_file());
    assert!(dir.as_path().join("exercise.json").is_file());

    let status = ex(dir.as_path(), &["status"]);
    assert!(status.status.success(), "{}", stderr(&status));
    assert!(stdout(&status).starts_with(
        "exercise:   no-authorization-uri\ntitle:      EvoSts is not the default authorization endpoint, so the Bearer challenge has no authorization_uri\nbriefing:   Users were promised the new modern sign-in window, but Outlook 2016 still connects with their Windows password prompt as before.\ndifficulty: 1\nhints:      0 of 3 given\nchecks run: 0 (best score 0 of 3)\n"
    ), "{}", stdout(&status));

    let failing = ex(dir.as_path(), &["check", "--format", "json"]);
    assert_eq!(failing.status.code(), Some(1), "{}", stderr(&failing));
    let v: Value = serde_json::from_str(&stdout(&failing)).unwrap();
    assert_eq!(
        v,
        json!({
            "exercise": "no-authorization-uri",
            "passed": false,
            "score": 0,
            "max_score": 3,
            "checks": [
                {
                    "check": format!("exchange: {AUTODISCOVER_401}"),
                    "passed": false,
                    "points": 2,
                    "expected": format!("an exchange with {AUTODISCOVER_401}"),
                    "seen": "none of 9 exchanges matches",
                },
                {
                    "check": "client_status: { authn: Bearer, protocol: MAPI/HTTP, status: Established }",
                    "passed": false,
                    "points": 1,
                    "expected": "authn Bearer, protocol MAPI/HTTP, status Established",
                    "seen": "authn NTLM, protocol MAPI/HTTP, status Established, server mail.contoso.com",
                },
            ],
            "hint": {
                "number": 1,
                "of": 3,
                "text": "Look at the 401 challenge Autodiscover sends: what would tell Outlook where to sign in?",
            },
        })
    );
    // The human form gives the next hint.
    let human = ex(dir.as_path(), &["check"]);
    assert_eq!(human.status.code(), Some(1));
    assert!(
        stdout(&human)
            .starts_with("exercise no-authorization-uri: 0 of 2 checks pass, 0 of 3 points\n  ✗ "),
        "{}",
        stdout(&human)
    );
    assert!(stdout(&human).ends_with("hint 2 of 3: The Bearer challenge carries authorization_uri only when an AuthServer is the default authorization endpoint.\n"), "{}", stdout(&human));

    // The trainee's fix, as `hma-lab shell --attach` sends it.
    let r = admin_cmdlet(
        &lab.ready,
        "Set-AuthServer EvoSts -IsDefaultAuthorizationEndpoint $true",
    )
    .await;
    assert_eq!(r["ok"], true, "{r}");
    // Half the fix: Exchange has not reloaded its OAuth configuration yet.
    let half = ex(dir.as_path(), &["check", "--format", "json"]);
    assert_eq!(half.status.code(), Some(1));
    let r = admin_cmdlet(&lab.ready, "iisreset").await;
    assert_eq!(r["ok"], true, "{r}");

    let passing = ex(dir.as_path(), &["check", "--format", "json"]);
    assert!(passing.status.success(), "{}", stdout(&passing));
    let v: Value = serde_json::from_str(&stdout(&passing)).unwrap();
    assert_eq!(
        v,
        json!({
            "exercise": "no-authorization-uri",
            "passed": true,
            "score": 3,
            "max_score": 3,
            "checks": [
                {
                    "check": format!("exchange: {AUTODISCOVER_401}"),
                    "passed": true,
                    "points": 2,
                    "expected": format!("an exchange with {AUTODISCOVER_401}"),
                    "seen": "1 of 10 exchanges match",
                },
                {
                    "check": "client_status: { authn: Bearer, protocol: MAPI/HTTP, status: Established }",
                    "passed": true,
                    "points": 1,
                    "expected": "authn Bearer, protocol MAPI/HTTP, status Established",
                    "seen": "authn Bearer, protocol MAPI/HTTP, status Established, server mail.contoso.com",
                },
            ],
            "hint": null,
        })
    );

    // Reset: a fresh lab on the same addresses, broken again.
    let reset = ex(dir.as_path(), &["reset"]);
    assert!(reset.status.success(), "{}", stderr(&reset));
    let again = ex(dir.as_path(), &["check", "--format", "json"]);
    assert_eq!(again.status.code(), Some(1));
    // Solve applies the fix and shows it.
    let solve = ex(dir.as_path(), &["solve"]);
    assert_eq!(
        stdout(&solve),
        "the solution, applied to the lab:\n  Set-AuthServer EvoSts -IsDefaultAuthorizationEndpoint $true\n  iisreset\n    Attempting stop...\n    Internet services successfully stopped\n    Attempting start...\n    Internet services successfully restarted\n"
    );
    assert!(ex(dir.as_path(), &["check"]).status.success());
    let status = stdout(&ex(dir.as_path(), &["status"]));
    assert!(status.contains("hints:      3 of 3 given\n"), "{status}");
    assert!(status.contains(", solved by the trainer\n"), "{status}");

    let stop = ex(dir.as_path(), &["stop"]);
    assert_eq!(stdout(&stop), "the exercise has stopped\n");
    let mut child = lab;
    let code = child.child.wait().unwrap();
    assert!(code.success());
    assert!(!dir.as_path().join("exercise.json").exists());
    assert!(!dir.as_path().join("serve.json").exists());
    let _ = std::fs::remove_dir_all(&dir);
}

/// `--random` never tells which scenario: not in the ready line, the state file or `status`.
#[tokio::test]
async fn random_mode_hides_the_scenario() {
    let dir = lab_kit::testkit::temp_dir("exercise-random");
    let lab = start(&dir, &["--random", "--level", "3"]);
    assert_eq!(lab.ready["exercise"], "(random)");
    let state = std::fs::read_to_string(dir.as_path().join("exercise.json")).unwrap();
    let status = stdout(&ex(dir.as_path(), &["status"]));
    let check = stdout(&ex(dir.as_path(), &["check", "--format", "json"]));
    for name in ["oauth-missing-on-one-server", "flighting-not-enabled"] {
        assert!(!state.contains(name) && !status.contains(name) && !check.contains(name));
        assert!(!lab.ready.to_string().contains(name));
    }
    assert!(
        status.starts_with("exercise:   (random)\nbriefing:   "),
        "{status}"
    );
    assert!(!status.contains("title:"));
    let v: Value = serde_json::from_str(&check).unwrap();
    assert_eq!(v["exercise"], "(random)");
    assert_eq!(v["passed"], false);
    assert!(ex(dir.as_path(), &["stop"]).status.success());
    let mut lab = lab;
    assert!(lab.child.wait().unwrap().success());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn missing_or_bad_state_files_and_unknown_exercises_are_errors() {
    let dir = lab_kit::testkit::temp_dir("exercise-errors");
    let out = ex(dir.as_path(), &["check"]);
    assert_eq!(out.status.code(), Some(2));
    let path = dir.as_path().join("exercise.json");
    assert!(stderr(&out).starts_with(&format!("hma-lab exercise: {}: No such file or directory (os error 2)\nNo exercise is running with this state directory; start one with `hma-lab exercise start NAME`.\n", path.display())), "{}", stderr(&out));

    std::fs::write(&path, "{").unwrap();
    let out = ex(dir.as_path(), &["hint"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).starts_with(&format!("hma-lab exercise: {}: not an exercise state file (EOF while parsing an object at line 1 column 1); it is left from an exercise that did not stop cleanly: remove it and start again\n", path.display())), "{}", stderr(&out));

    std::fs::write(
        &path,
        r#"{"control":"http://127.0.0.1:9","admin_token":"x"}"#,
    )
    .unwrap();
    let out = ex(dir.as_path(), &["status"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("the exercise at http://127.0.0.1:9 does not answer ("),
        "{}",
        stderr(&out)
    );

    let out = Command::new(env!("CARGO_BIN_EXE_hma-lab"))
        .args([
            "exercise",
            "start",
            "missing-spm",
            "--scenarios",
            &scenarios(),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(stderr(&out), format!("hma-lab exercise: no exercise `missing-spm` in {}. Did you mean `missing-spn`? `hma-lab exercise list` shows the 52 there are.\n", scenarios()));

    // A scenario without `exercise:` is not one.
    let out = Command::new(env!("CARGO_BIN_EXE_hma-lab"))
        .args([
            "exercise",
            "start",
            "happy-path",
            "--scenarios",
            &scenarios(),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn every_exercise_has_a_fix_and_a_briefing_and_the_list_shows_them() {
    let all = hma_lab::exercise::library(Path::new(&scenarios())).unwrap();
    assert!(all.len() >= 8);
    for (l, m) in &all {
        assert!(
            l.scenario.fix.is_some() && !l.scenario.after_fix.is_empty(),
            "{}",
            l.scenario.name
        );
        assert!(!m.hints.is_empty() && m.hints.len() <= 3);
    }
    let out = Command::new(env!("CARGO_BIN_EXE_hma-lab"))
        .args(["exercise", "list", "--scenarios", &scenarios()])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(stdout(&out).contains(&format!("\n{:<48} ★★   Since this morning GregT's Outlook 2016 shows a sign-in window that closes by itself, and Outlook stays disconnected. Nothing changed on his PC.\n", "missing-spn")), "{}", stdout(&out));
    assert!(stdout(&out).ends_with("\n52 exercise(s)\n"));
}

const BASE: &str = "version: 1\nname: x\nlab: contoso\nwhen:\n  - client: outlook-2016\n    user: GregT@contoso.com\nthen:\n  - status: 200\nfix:\n  - cmdlet: iisreset\nafter_fix:\n  - status: 200\n";

fn lint(extra: &str) -> String {
    parse(&format!("{BASE}{extra}"), "x.yaml", None, None)
        .map(|_| String::new())
        .unwrap_err_or_default()
}

trait ErrText {
    fn unwrap_err_or_default(self) -> String;
}

impl ErrText for Result<String, lab_kit::FileError> {
    fn unwrap_err_or_default(self) -> String {
        match self {
            Ok(_) => String::new(),
            Err(e) => format!("{}:{}:{}: {}", e.file, e.line, e.column, e.message),
        }
    }
}

#[test]
fn exercise_metadata_errors_name_file_line_and_column() {
    assert_eq!(lint("exercise:\n  briefing: Outlook prompts\n  difficulty: 2\n  hints: [a, b]\n  points: [3]\n"), "");
    assert_eq!(
        lint("exercise:\n  briefing: Outlook prompts\n  difficulty: 4\n"),
        "x.yaml:15:3: exercise: difficulty 4 is out of range, expected 1, 2 or 3"
    );
    assert_eq!(
        lint("exercise:\n  briefing: Outlook prompts\n  difficulty: 1\n  hints: [a, b, c, d]\n"),
        "x.yaml:16:3: exercise: 4 hints, at most 3 (vague to precise)"
    );
    assert_eq!(
        lint("exercise:\n  briefing: Outlook prompts\n  difficulty: 1\n  points: [1, 2]\n"),
        "x.yaml:16:3: exercise: 2 points for 1 after_fix check(s); give one number per check, in order"
    );
    assert_eq!(
        lint("exercise:\n  briefing: ' '\n  difficulty: 1\n"),
        "x.yaml:14:3: exercise: `briefing` is empty; write the user's symptom (never its cause)"
    );
    let e = lint("exercise:\n  briefing: x\n  difficulty: 1\n  cause: y\n");
    assert!(e.starts_with("x.yaml:16:3: "), "{e}");
    assert!(e.contains("unknown field `cause`"), "{e}");
}

/// Sessions are plain values: two in one process, each with its own ports, token and lab; fixing
/// one leaves the other broken.
#[tokio::test]
async fn two_sessions_in_one_process_are_isolated() {
    use hma_lab::exercise::{find, Session};
    let dir = lab_kit::testkit::temp_dir("exercise-two");
    let dir_path = Path::new(&scenarios()).to_path_buf();
    let opts = hma_lab::frontdoor::Options::loopback(&dir);
    let mut a = Session::start(
        find(&dir_path, "oauth-missing-on-ews").unwrap(),
        opts.clone(),
        false,
    )
    .await
    .unwrap();
    let mut b = Session::start(find(&dir_path, "oauth-missing-on-ews").unwrap(), opts, true)
        .await
        .unwrap();
    let (sa, sb) = (a.status(), b.status());
    assert_ne!(sa.https, sb.https);
    assert_ne!(sa.admin, sb.admin);
    assert_ne!(
        a.door().unwrap().admin_token(),
        b.door().unwrap().admin_token()
    );
    assert_eq!(sb.exercise, "(random)");
    let steps = a.solve().await.unwrap();
    assert!(steps.iter().all(|s| s.ok));
    let ra = a.check().await.unwrap();
    let rb = b.check().await.unwrap();
    assert!(ra.passed, "{ra:?}");
    assert_eq!((ra.score, ra.max_score), (3, 3));
    assert!(!rb.passed);
    assert_eq!(rb.hint.as_ref().map(|h| h.number), Some(1));
    a.shutdown().await;
    b.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}

/// The trainee's side end to end: `start` prints the symptom (the reference Outlook on the
/// broken lab), `check` fails with the first hint, the fix typed into `hma-lab shell --attach`
/// (variables kept between lines, errors as the local shell prints them, `lab status` through
/// the exercise) makes `check` pass.
#[tokio::test]
async fn trainee_fixes_the_lab_through_shell_attach_and_check_passes() {
    let dir = lab_kit::testkit::temp_dir("exercise-attach");
    let lab = start(&dir, &["missing-spn"]);
    let status = stdout(&ex(dir.as_path(), &["status"]));
    assert!(
        status.contains(
            "symptom (the reference Outlook when the exercise started):\n    \
             outlook-2016 as GregT@contoso.com\n    \
             Server name       Status        Protocol   Authn\n    \
             ----------------  ------------  ---------  -----\n    \
             mail.contoso.com  Disconnected  MAPI/HTTP\n    \
             Detail: invalid_resource: AADSTS50001: The application named https://mail.contoso.com/ was not found in the tenant named contoso.com."
        ),
        "{status}"
    );
    let failing = ex(dir.as_path(), &["check"]);
    assert_eq!(failing.status.code(), Some(1));
    assert!(stdout(&failing).ends_with("hint 1 of 3: Outlook asks Azure AD for a token for the mailbox's host name. What does Azure AD answer?\n"), "{}", stdout(&failing));

    let script = "$x= Get-MsolServicePrincipal -AppPrincipalId 00000002-0000-0ff1-ce00-000000000000\n\
                  Get-Nothing\n\
                  $x.ServicePrincipalnames.Add(\"https://mail.contoso.com/\")\n\
                  Set-MSOLServicePrincipal -AppPrincipalId 00000002-0000-0ff1-ce00-000000000000 -ServicePrincipalNames $x.ServicePrincipalNames\n\
                  Get-AuthServer EvoSts | fl Name,IsDefaultAuthorizationEndpoint\n\
                  lab status\n";
    let mut child = Command::new(env!("CARGO_BIN_EXE_hma-lab"))
        .args(["shell", "--attach", "--state-dir"])
        .arg(dir.as_path())
        .env("RUST_LOG", "off")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(script.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    // One line failed (Get-Nothing): exit 1, its error record on stderr as the local shell has it.
    assert_eq!(out.status.code(), Some(1));
    let (_, _, local_err) = {
        let mut c = Command::new(env!("CARGO_BIN_EXE_hma-lab"))
            .args(["shell"])
            .env("RUST_LOG", "off")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        c.stdin.take().unwrap().write_all(b"Get-Nothing\n").unwrap();
        let o = c.wait_with_output().unwrap();
        (o.status.code(), stdout(&o), stderr(&o))
    };
    assert!(
        local_err.starts_with("Get-Nothing : The term 'Get-Nothing' is not recognized"),
        "{local_err}"
    );
    assert_eq!(stderr(&out), local_err);
    assert_eq!(
        stdout(&out),
        "Name                           : EvoSts\n\
         IsDefaultAuthorizationEndpoint : True\n\
         outlook-2016 as GregT@contoso.com\n\
         Server name       Status       Protocol   Authn\n\
         ----------------  -----------  ---------  ------\n\
         mail.contoso.com  Established  MAPI/HTTP  Bearer\n"
    );
    let passing = ex(dir.as_path(), &["check", "--format", "json"]);
    assert!(passing.status.success(), "{}", stdout(&passing));
    let v: Value = serde_json::from_str(&stdout(&passing)).unwrap();
    assert_eq!(
        (v["score"].as_u64(), v["max_score"].as_u64()),
        (Some(4), Some(4))
    );
    assert_eq!(v["hint"], Value::Null);

    assert!(ex(dir.as_path(), &["stop"]).status.success());
    let mut lab = lab;
    assert!(lab.child.wait().unwrap().success());
    // Attaching to a stopped lab says what to do.
    let out = Command::new(env!("CARGO_BIN_EXE_hma-lab"))
        .args(["shell", "--attach", "--state-dir"])
        .arg(dir.as_path())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).starts_with(&format!(
            "hma-lab shell: {}: No such file or directory (os error 2)\nNo lab is running with this state directory;",
            dir.as_path().join("serve.json").display()
        )),
        "{}",
        stderr(&out)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Identifiers a fix step names: cmdlet names (Verb-Noun), parameter and member names, registry
/// values, device keys — any word with an inner capital, a dash or an underscore, and `iisreset`.
/// E-mail addresses (the user, not the cause) are left out.
fn fix_words(step: &hma_lab::scenario::steps::Action) -> Vec<String> {
    use hma_lab::scenario::steps::{Action, Step};
    let text = match step {
        Action::Step(Step::Cmdlet(line)) => line.clone(),
        other => serde_json::to_string(other).unwrap(),
    };
    let text: String = text
        .split_whitespace()
        .filter(|w| !w.contains('@'))
        .collect::<Vec<_>>()
        .join(" ");
    let mut words = Vec::new();
    let mut cur = String::new();
    for c in text.chars().chain([' ']) {
        if c.is_ascii_alphanumeric() || c == '_' || (c == '-' && !cur.is_empty()) {
            cur.push(c);
        } else {
            let w = cur.trim_end_matches('-').to_string();
            cur.clear();
            let inner_capital = w.chars().skip(1).any(|c| c.is_ascii_uppercase())
                && w.chars().any(|c| c.is_ascii_lowercase());
            if w.len() >= 4
                && !w.chars().all(|c| c.is_ascii_hexdigit() || c == '-')
                && (inner_capital
                    || w.contains('-')
                    || w.contains('_')
                    || w.eq_ignore_ascii_case("iisreset"))
            {
                words.push(w);
            }
        }
    }
    words
}

#[test]
fn every_scenario_that_can_be_an_exercise_is_one_and_no_briefing_names_its_cause() {
    let dir = Path::new(&scenarios()).to_path_buf();
    let files = hma_lab::scenario::format::discover(&[dir]).unwrap();
    let mut exercises = 0;
    for f in files {
        let l = hma_lab::scenario::load(&f).unwrap();
        let s = &l.scenario;
        // A fix that is a user's action (sign in again) is not a trainee's admin fix.
        let admin_fix = s
            .fix
            .iter()
            .flatten()
            .all(|a| matches!(a, hma_lab::scenario::steps::Action::Step(_)));
        let breakable =
            !s.given.is_empty() && s.fix.is_some() && !s.after_fix.is_empty() && admin_fix;
        assert!(
            !breakable || s.exercise.is_some(),
            "{}: has given, fix and after_fix but no `exercise:` section",
            s.name
        );
        let Some(m) = &s.exercise else { continue };
        exercises += 1;
        assert!((1..=3).contains(&m.hints.len()), "{}: hints", s.name);
        assert_eq!(
            m.points.as_ref().map(Vec::len),
            Some(s.after_fix.len()),
            "{}: points per check",
            s.name
        );
        let briefing = m.briefing.to_ascii_lowercase();
        for step in s.fix.iter().flatten() {
            for w in fix_words(step) {
                assert!(
                    !briefing.contains(&w.to_ascii_lowercase()),
                    "{}: the briefing names `{w}` from the fix: {}",
                    s.name,
                    m.briefing
                );
            }
        }
    }
    assert_eq!(exercises, 52);
    // The rule itself finds what a briefing must not say.
    let step = hma_lab::scenario::steps::Action::Step(hma_lab::scenario::steps::Step::Cmdlet(
        "Set-AuthServer EvoSts -IsDefaultAuthorizationEndpoint $true".into(),
    ));
    assert_eq!(
        fix_words(&step),
        ["Set-AuthServer", "EvoSts", "IsDefaultAuthorizationEndpoint"]
    );
}

/// Every exercise plays: on the freshly broken lab at least one check fails (with a hint), and
/// the exercise's own solution makes every check pass.
#[tokio::test]
async fn every_exercise_is_broken_at_start_and_fixed_by_its_solution() {
    use hma_lab::exercise::{library, Session};
    let dir = lab_kit::testkit::temp_dir("exercise-all");
    let all = library(Path::new(&scenarios())).unwrap();
    let mut failures = Vec::new();
    for (l, _) in all {
        let name = l.scenario.name.clone();
        let mut s = Session::start(l, hma_lab::frontdoor::Options::loopback(&dir), false)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let before = s.check().await.unwrap();
        if before.passed || before.hint.is_none() || before.score >= before.max_score {
            failures.push(format!("{name}: passes before the fix: {before:?}"));
        }
        let steps = s.solve().await.unwrap();
        if let Some(st) = steps.iter().find(|st| !st.ok) {
            failures.push(format!("{name}: solution step failed: {st:?}"));
        }
        let after = s.check().await.unwrap();
        if !after.passed || after.score != after.max_score || after.hint.is_some() {
            failures.push(format!("{name}: fails after the solution: {after:?}"));
        }
        s.shutdown().await;
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// A client-side fix typed through the lab's admin API (`reg add` in `shell --attach`) reaches
/// the exercise's reference Outlook, as the machine's registry reaches Outlook.
#[tokio::test]
async fn a_registry_fix_through_the_admin_api_reaches_the_reference_outlook() {
    use hma_lab::exercise::{find, Session};
    let dir = lab_kit::testkit::temp_dir("exercise-reg");
    let mut s = Session::start(
        find(Path::new(&scenarios()), "outlook-2016-enable-adal-disabled").unwrap(),
        hma_lab::frontdoor::Options::loopback(&dir),
        false,
    )
    .await
    .unwrap();
    assert!(
        s.status()
            .symptom
            .ends_with("mail.contoso.com  Established  MAPI/HTTP  NTLM"),
        "{}",
        s.status().symptom
    );
    assert!(!s.check().await.unwrap().passed);
    let door = s.door().unwrap();
    let ready = door.ready();
    let r = admin_cmdlet(
        &ready,
        r"reg add HKCU\SOFTWARE\Microsoft\Office\16.0\Common\Identity /v EnableADAL /t REG_DWORD /d 1 /f",
    )
    .await;
    assert_eq!(r["ok"], true, "{r}");
    let after = s.check().await.unwrap();
    assert!(after.passed, "{after:?}");
    s.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}

/// The dashboard's exercise panel on an exercise's lab: the briefing and score from the session,
/// "Run the checks" with each check's verdict and the next hint, "Next hint" alone; on a plain
/// `serve` (no exercise) the panel is empty.
#[tokio::test]
async fn the_dashboard_shows_the_exercise_panel_and_runs_its_checks() {
    let dir = lab_kit::testkit::temp_dir("exercise-dash");
    let lab = start(&dir, &["no-authorization-uri"]);
    let admin = lab.ready["admin"].as_str().unwrap().to_string();
    let token = lab.ready["admin_token"].as_str().unwrap().to_string();
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let panel = http
        .get(format!("{admin}/dashboard/exercise"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(panel.status(), 200);
    let html = panel.text().await.unwrap();
    assert!(
        html.contains(
            "<b>no-authorization-uri</b>: EvoSts is not the default authorization endpoint"
        ),
        "{html}"
    );
    assert!(html.contains("<p class=\"briefing\"><b>Briefing:</b> Users were promised the new modern sign-in window, but Outlook 2016 still connects with their Windows password prompt as before.</p>"), "{html}");
    assert!(
        html.contains("Checks run: 0 · best score 0 of 3 · hints given 0 of 3"),
        "{html}"
    );
    // An action without the dashboard's header is refused (a cross-site form cannot send it).
    let r = http
        .post(format!("{admin}/dashboard/do/exercise-check"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let act = |action: &'static str| {
        http.post(format!("{admin}/dashboard/do/{action}"))
            .bearer_auth(&token)
            .header("X-HMA-Dashboard", "1")
            .send()
    };
    let r = act("exercise-check").await.unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["ok"], true);
    let html = v["html"].as_str().unwrap();
    assert!(
        html.starts_with("<p><b>0 of 3 points</b></p><ul class=\"checks\"><li>"),
        "{html}"
    );
    assert!(html.contains("(2 point(s))<br><span class=\"muted\">expected:</span> an exchange with URL containing &quot;/autodiscover/autodiscover.xml&quot;"), "{html}");
    assert!(html.contains("<span class=\"muted\">seen:</span> authn NTLM, protocol MAPI/HTTP, status Established, server mail.contoso.com"), "{html}");
    assert!(
        html.contains("<p class=\"hint\"><b>Hint 1 of 3:</b>"),
        "{html}"
    );
    let r = act("exercise-hint").await.unwrap();
    let v: Value = r.json().await.unwrap();
    assert!(
        v["html"]
            .as_str()
            .unwrap()
            .starts_with("<p class=\"hint\"><b>Hint 2 of 3:</b>"),
        "{v}"
    );
    // The fix, then the checks pass.
    for line in [
        "Set-AuthServer EvoSts -IsDefaultAuthorizationEndpoint $true",
        "iisreset",
    ] {
        assert_eq!(admin_cmdlet(&lab.ready, line).await["ok"], true, "{line}");
    }
    let v: Value = act("exercise-check").await.unwrap().json().await.unwrap();
    assert!(
        v["html"]
            .as_str()
            .unwrap()
            .starts_with("<p><b>3 of 3 points</b> — every check passes</p>"),
        "{v}"
    );
    let html = http
        .get(format!("{admin}/dashboard/exercise"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("Checks run: 2 · best score 3 of 3 · hints given 2 of 3"),
        "{html}"
    );
    drop(lab);
    let _ = std::fs::remove_dir_all(&dir);
}

/// `reset` keeps the lab's addresses even when another program is trying to take its ports:
/// the new front door answers on the old one's listening sockets, so there is no moment in
/// which a port is free. (Binding the addresses again once failed in CI with "Address already in
/// use": a socket of another test took the proxy port while the lab restarted.) A squatter binds
/// each address in a tight loop throughout the reset, as `serve` would, and never gets one.
#[tokio::test]
async fn reset_keeps_the_addresses_while_another_program_wants_the_ports() {
    use hma_lab::exercise::{find, Session};
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    let dir = lab_kit::testkit::temp_dir("exercise-reset-ports");
    let dir_path = Path::new(&scenarios()).to_path_buf();
    let mut s = Session::start(
        find(&dir_path, "no-authorization-uri").unwrap(),
        hma_lab::frontdoor::Options::loopback(&dir),
        false,
    )
    .await
    .unwrap();
    let before = s.status();
    let door = s.door().unwrap();
    let addrs = [door.https_addr(), door.proxy_addr(), door.admin_addr()];
    let token = door.admin_token().to_string();
    assert!(s.solve().await.unwrap().iter().all(|step| step.ok));
    assert!(s.check().await.unwrap().passed);

    let stop = Arc::new(AtomicBool::new(false));
    let squatter = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            // As `TcpListener::bind` binds (SO_REUSEADDR, listening): what a lab or a test
            // starting on this machine would do.
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_io()
                .build()
                .unwrap();
            let mut tries = 0u64;
            let mut won = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                for a in addrs {
                    if let Ok(l) = rt.block_on(tokio::net::TcpListener::bind(a)) {
                        won.push((a, l));
                    }
                }
                tries += 1;
            }
            (tries, won.into_iter().map(|(a, _)| a).collect::<Vec<_>>())
        })
    };
    let reset = s.reset().await;
    stop.store(true, Ordering::Relaxed);
    let (tries, won) = squatter.join().unwrap();
    assert_eq!(reset, Ok(()));
    assert!(tries > 0);
    assert_eq!(won, Vec::<std::net::SocketAddr>::new());

    // The same addresses and token, a fresh broken lab behind them.
    let door = s.door().unwrap();
    assert_eq!(
        [door.https_addr(), door.proxy_addr(), door.admin_addr()],
        addrs
    );
    assert_eq!(door.admin_token(), token);
    let after = s.status();
    assert_eq!(
        (&after.https, &after.proxy, &after.admin),
        (&before.https, &before.proxy, &before.admin)
    );
    assert!(!s.check().await.unwrap().passed);
    // The admin API answers on its old address.
    let r = reqwest::Client::new()
        .post(format!("http://{}/cmdlet", addrs[2]))
        .bearer_auth(&token)
        .body("Get-AuthServer EvoSts | fl IsDefaultAuthorizationEndpoint")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["ok"], true, "{v}");
    assert_eq!(
        v["output"].as_str().unwrap().trim(),
        "IsDefaultAuthorizationEndpoint : False"
    );
    s.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}
