//! The scenario engine end to end: fixture scenarios (passing, failing, vacuous, malformed) run
//! against real labs, the three report formats, `hma-lab run`/`lint` exit codes through the
//! binary, and the whole scenario library in `scenarios/` (twins included), which is how the
//! library is part of `make test`.

use std::path::{Path, PathBuf};
use std::process::Command;

use hma_lab::scenario::{report::human_scenario, run_paths, Report, RunOptions};

fn fixtures(sub: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/scenarios")
        .join(sub)
}

async fn run(sub: &str) -> Report {
    run_paths(&[fixtures(sub)], &RunOptions::default(), None)
        .await
        .expect("fixtures are readable")
}

fn hma_lab(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_hma-lab"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("RUST_LOG", "error")
        .output()
        .expect("the binary runs")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passing_fixtures_pass_with_their_twins_failing() {
    let r = run("pass").await;
    assert_eq!(r.total, 4, "{}", r.human());
    assert!(r.all_passed(), "{}", r.human());
    for s in &r.scenarios {
        assert!(!s.twins.is_empty(), "{}", s.name);
        for t in &s.twins {
            assert!(t.ok, "{}: {}", s.name, t.summary);
            assert!(t.phase.as_ref().is_some_and(|p| p.failed_checks() > 0));
        }
    }
    let happy = r.scenarios.iter().find(|s| s.name == "happy-path").unwrap();
    let text = human_scenario(happy);
    assert!(text.starts_with("✓ happy-path — HMA correctly enabled, Outlook 2016 connects with Bearer\n  guide: Hybrid Modern Authentication\n"), "{text}");
    assert!(text.contains("    ✓ client outlook-2016 GregT@contoso.com connect\n        Established — server mail.contoso.com, protocol MAPI/HTTP, authn Bearer\n"), "{text}");
    assert!(
        text.contains("    ✓ cmdlet `(Get-OrganizationConfig).OAuth2ClientProfileEnabled`\n"),
        "{text}"
    );
    assert!(
        text.contains("  ✓ twin (explicit): `then` fails as it must (3 of 4 expectations fail)\n"),
        "{text}"
    );
    let ssl = r
        .scenarios
        .iter()
        .find(|s| s.name == "ssl-offload-request")
        .unwrap();
    assert_eq!(ssl.twins[0].kind, "automatic");
    assert!(ssl.after_fix.as_ref().is_some_and(|p| p.checks_ok()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_scenario_reports_expected_actual_and_the_exchange() {
    let r = run("fail").await;
    assert_eq!((r.total, r.failed), (1, 1));
    let s = &r.scenarios[0];
    assert!(!s.passed);
    let text = human_scenario(s);
    let want = concat!(
        "    ✗ header: x-ms-diagnostics equal to \"2000005;reason=\\\"wrong on purpose\\\"\"\n",
        "        expected: x-ms-diagnostics equal to \"2000005;reason=\\\"wrong on purpose\\\"\"\n",
        "        actual:   \"2000003;reason=\\\"The hostname component of the audience claim value is invalid. Expected 'https://mail.contoso.com'. Actual 'http://mail.contoso.com'.\\\";error_category=\\\"invalid_resource\\\"\"\n",
        "        | outcome of `request POST https://mail.contoso.com/EWS/Exchange.asmx (bearer for GregT@contoso.com → https://mail.contoso.com/)`\n",
        "        | > POST https://mail.contoso.com/EWS/Exchange.asmx\n",
        "        | > Authorization: Bearer …\n",
        "        | < 401 Unauthorized\n",
    );
    assert!(text.contains(want), "{text}");
    assert!(text.contains("        | < x-ms-diagnostics: 2000003;reason=\"The hostname component of the audience claim value is invalid."), "{text}");
    // The passing expectation is listed as passing; the twin still did its job.
    assert!(text.contains("    ✓ status: 401\n"), "{text}");
    assert!(s.twins.iter().all(|t| t.ok));
    let lines = s.failure_lines();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].starts_with("then: header: x-ms-diagnostics equal to"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_twin_that_passes_then_is_reported_as_vacuous() {
    let r = run("vacuous").await;
    let s = &r.scenarios[0];
    assert!(!s.passed);
    // The main run passed: only the twin makes it fail.
    assert!(s
        .main
        .as_ref()
        .is_some_and(|p| p.checks_ok() && p.steps_ok()));
    assert_eq!(s.twins.len(), 1);
    assert!(!s.twins[0].ok);
    assert_eq!(
        s.twins[0].summary,
        "passes vacuously: with given + twin every `then` expectation still holds (1 of 1)"
    );
    assert!(human_scenario(s).contains(
        "  ✗ twin (explicit): passes vacuously: with given + twin every `then` expectation still holds (1 of 1)\n"
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_files_are_failed_scenarios_with_located_errors() {
    let r = run("bad").await;
    assert_eq!(r.total, 6);
    assert_eq!(r.failed, 6);
    let by = |n: &str| {
        r.scenarios
            .iter()
            .find(|s| s.name == n)
            .unwrap()
            .error
            .clone()
            .unwrap()
    };
    assert!(by("bad-profile")
        .contains("bad-profile.yaml:6:13: when[0]: unknown variant `outlook-2106`"));
    assert!(by("bad-cmdlet").contains("bad-cmdlet.yaml:7:78: cmdlet `Set-MapiVirtualDirectory"));
    assert!(by("no-twin").contains("the scenario has no twin"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_and_junit_reports() {
    let mut r = run("pass").await;
    let fail = run("fail").await;
    r.scenarios.extend(fail.scenarios);
    let r = Report::new(r.scenarios, 1);
    // JSON: one document with per-scenario results.
    let j: serde_json::Value = serde_json::from_str(&r.json()).unwrap();
    assert_eq!(j["total"], 5);
    assert_eq!(j["passed"], 4);
    assert_eq!(j["failed"], 1);
    let sc = j["scenarios"].as_array().unwrap();
    let failed = sc
        .iter()
        .find(|s| s["name"] == "wrong-diagnostics")
        .unwrap();
    assert_eq!(failed["passed"], false);
    assert_eq!(failed["guide"], "SSL Offloading");
    let checks = failed["main"]["checks"].as_array().unwrap();
    assert_eq!(checks[0]["passed"], true);
    assert_eq!(checks[1]["passed"], false);
    assert!(checks[1]["actual"]
        .as_str()
        .unwrap()
        .starts_with("\"2000003;"));
    assert!(checks[1]["evidence"].as_str().unwrap().contains("< 401"));
    assert_eq!(failed["twins"][0]["kind"], "automatic");
    assert_eq!(failed["twins"][0]["ok"], true);
    assert_eq!(failed["main"]["steps"][0]["section"], "given");
    // JUnit: well-formed XML, one testcase per scenario, a failure for the failing one.
    let xml = r.junit();
    let mut reader = quick_xml::Reader::from_str(&xml);
    let (mut cases, mut failures) = (Vec::new(), 0);
    loop {
        match reader.read_event() {
            Ok(quick_xml::events::Event::Start(e)) | Ok(quick_xml::events::Event::Empty(e))
                if e.name().as_ref() == b"testcase" =>
            {
                let name = e
                    .try_get_attribute("name")
                    .unwrap()
                    .unwrap()
                    .unescape_value()
                    .unwrap()
                    .into_owned();
                cases.push(name);
            }
            Ok(quick_xml::events::Event::Start(e)) if e.name().as_ref() == b"failure" => {
                failures += 1;
                let msg = e
                    .try_get_attribute("message")
                    .unwrap()
                    .unwrap()
                    .unescape_value()
                    .unwrap()
                    .into_owned();
                assert!(
                    msg.starts_with("then: header: x-ms-diagnostics equal to \"2000005;"),
                    "{msg}"
                );
            }
            Ok(quick_xml::events::Event::Eof) => break,
            Ok(_) => {}
            Err(e) => panic!("JUnit XML is not well-formed: {e}\n{xml}"),
        }
    }
    cases.sort();
    assert_eq!(
        cases,
        [
            "happy-path",
            "password-changed-between-actions",
            "ssl-offload-request",
            "token-missing-spn",
            "wrong-diagnostics"
        ]
    );
    assert_eq!(failures, 1);
    assert!(xml.contains("<testsuite name=\"scenarios\" tests=\"5\" failures=\"1\""));
}

#[test]
fn run_and_lint_exit_codes() {
    let pass = fixtures("pass");
    let fail = fixtures("fail");
    let bad = fixtures("bad");
    let out = hma_lab(&["run", pass.to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.ends_with(" ms)\n"), "{text}");
    assert!(text.contains("4 scenario(s): 4 passed, 0 failed"), "{text}");
    let out = hma_lab(&["run", fail.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    // The vacuous twin alone fails the run.
    let out = hma_lab(&["run", fixtures("vacuous").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    // --filter narrows, --format json prints the document, --out writes both reports.
    let dir = std::env::temp_dir().join(format!("hma-lab-engine-{}", std::process::id()));
    let out = hma_lab(&[
        "run",
        pass.to_str().unwrap(),
        fail.to_str().unwrap(),
        "--filter",
        "HAPPY",
        "--format",
        "json",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0));
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(j["total"], 1);
    assert_eq!(j["scenarios"][0]["name"], "happy-path");
    assert!(dir.join("report.json").is_file());
    let junit = std::fs::read_to_string(dir.join("junit.xml")).unwrap();
    assert!(junit.contains("<testcase name=\"happy-path\""));
    let _ = std::fs::remove_dir_all(&dir);
    // lint: 0 on good files, 1 with the located errors on bad ones.
    let out = hma_lab(&["lint", pass.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    let out = hma_lab(&["lint", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("unknown-field.yaml:8:5: when[0]: unknown field `settngs`"),
        "{text}"
    );
    assert!(
        text.ends_with("6 file(s) checked, 6 with errors\n"),
        "{text}"
    );
    // A lab file referenced by a scenario is checked too, its error placed in the lab file.
    let out = hma_lab(&["lint", fixtures("bad-lab-file").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("bad-lab-file/broken.lab.yml:7:3: lab of ")
            && text.contains("uses-broken-lab.yaml: exchange: unknown field `nme`"),
        "{text}"
    );
    // A path that does not exist.
    let out = hma_lab(&["run", "no/such/dir"]);
    assert_eq!(out.status.code(), Some(2));
}

/// The scenario library: every file in `scenarios/` passes, twins included.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scenario_library_passes() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let r = run_paths(&[dir], &RunOptions::default(), None)
        .await
        .expect("scenarios/ is readable");
    let failures: Vec<String> = r
        .scenarios
        .iter()
        .filter(|s| !s.passed)
        .map(human_scenario)
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} scenarios failed:\n{}",
        failures.len(),
        r.total,
        failures.join("\n")
    );
}

/// The cmdlet backend changes the running lab through the admin APIs, and what it changed is
/// what the next requests meet.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cmdlets_change_the_running_lab() {
    use hma_lab::scenario::format::LabRef;
    use hma_lab::scenario::runner::Ctx;
    let ctx = Ctx::start(&LabRef::Builtin("contoso".into()))
        .await
        .unwrap();
    let run = |line: &'static str| {
        let ctx = &ctx;
        async move {
            ctx.cmdlet(line)
                .await
                .unwrap_or_else(|e| panic!("{line}: {e}"))
        }
    };
    // Exchange: org config, vdirs, AuthServers read back through the admin API.
    assert_eq!(
        run("(Get-OrganizationConfig).OAuth2ClientProfileEnabled")
            .await
            .trim(),
        "True"
    );
    run("Set-OrganizationConfig -OAuth2ClientProfileEnabled $false").await;
    assert_eq!(
        run("(Get-OrganizationConfig).OAuth2ClientProfileEnabled")
            .await
            .trim(),
        "False"
    );
    run("Get-MapiVirtualDirectory | Set-MapiVirtualDirectory -IISAuthenticationMethods Ntlm, Negotiate").await;
    // The directory has the change at once; IIS on EX1 applies it after its reset.
    let mapi = run("Get-MapiVirtualDirectory -ADPropertiesOnly | FL server,iisauth*").await;
    assert!(
        mapi.contains("IISAuthenticationMethods : {Ntlm, Negotiate}"),
        "{mapi}"
    );
    assert!(!mapi.contains("OAuth"), "{mapi}");
    let iis = run("Get-MapiVirtualDirectory | FL server,iisauth*").await;
    assert!(
        iis.contains("IISAuthenticationMethods : {Ntlm, OAuth, Negotiate}"),
        "{iis}"
    );
    run("Set-AuthServer EvoSts -IsDefaultAuthorizationEndpoint $false").await;
    assert_eq!(
        run("(Get-AuthServer EvoSts).IsDefaultAuthorizationEndpoint")
            .await
            .trim(),
        "False"
    );
    let reset = run("iisreset").await;
    assert!(
        reset.contains("Internet services successfully restarted"),
        "{reset}"
    );
    let iis = run("Get-MapiVirtualDirectory | FL server,iisauth*").await;
    assert!(
        iis.contains("IISAuthenticationMethods : {Ntlm, Negotiate}"),
        "{iis}"
    );
    // Azure AD: service principal names, read back and effective on the token endpoint.
    run("$x = Get-MsolServicePrincipal -AppPrincipalId 00000002-0000-0ff1-ce00-000000000000").await;
    run("$x.ServicePrincipalNames.Remove(\"https://mail.contoso.com/\")").await;
    run("Set-MsolServicePrincipal -AppPrincipalId 00000002-0000-0ff1-ce00-000000000000 -ServicePrincipalNames $x.ServicePrincipalNames").await;
    let spns = run("Get-MsolServicePrincipal -AppPrincipalId 00000002-0000-0ff1-ce00-000000000000 | select -ExpandProperty ServicePrincipalNames").await;
    assert!(
        !spns
            .lines()
            .any(|l| l.trim() == "https://mail.contoso.com/"),
        "{spns}"
    );
    let form = [
        ("grant_type", "password"),
        ("client_id", hma_lab::scenario::runner::OFFICE_CLIENT_ID),
        ("resource", "https://mail.contoso.com/"),
        ("username", "GregT@contoso.com"),
        ("password", "Contoso2017!"),
    ];
    let r = ctx
        .lab
        .http_client()
        .post(
            ctx.lab
                .url("login.microsoftonline.com", "/contoso.com/oauth2/token"),
        )
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    assert!(r.text().await.unwrap().contains("AADSTS50001"));
    // A PowerShell error comes back as the error record.
    let e = ctx
        .cmdlet("Set-MsolUserPassword -UserPrincipalName nobody@contoso.com -NewPassword 'x'")
        .await
        .unwrap_err();
    assert!(e.starts_with("Set-MsolUserPassword : "), "{e}");
}

#[test]
fn run_out_writes_each_main_runs_har_which_explain_reads() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let dir = std::env::temp_dir().join(format!("hma-lab-har-{}", std::process::id()));
    let out = hma_lab(&[
        "run",
        root.join("certificate-wrong-name.yaml").to_str().unwrap(),
        root.join("ssl-offloading.yaml").to_str().unwrap(),
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    // The main run's exchanges through the lab's TLS front door, with the failed handshake.
    let har: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("har/certificate-wrong-name.har")).unwrap())
            .unwrap();
    assert_eq!(har["log"]["version"], "1.2");
    let entries = har["log"]["entries"].as_array().unwrap();
    let tls: Vec<&serde_json::Value> = entries
        .iter()
        .filter(|e| e["request"]["method"] == "TLS")
        .collect();
    assert!(!tls.is_empty(), "{har}");
    assert_eq!(
        tls[0]["request"]["url"],
        "https://autodiscover.contoso.com/"
    );
    assert_eq!(
        tls[0]["comment"],
        "TLS handshake failed: received fatal alert: BadCertificate"
    );
    // After the fix, the same lab answered Autodiscover over TLS.
    assert!(entries.iter().any(|e| {
        e["request"]["url"]
            .as_str()
            .unwrap()
            .starts_with("https://autodiscover.contoso.com/autodiscover/autodiscover.xml")
            && e["response"]["status"] == 200
    }));
    let explained = hma_lab(&[
        "explain",
        dir.join("har/certificate-wrong-name.har").to_str().unwrap(),
    ]);
    let text = String::from_utf8_lossy(&explained.stdout);
    assert_eq!(explained.status.code(), Some(0), "{text}");
    assert!(
        text.starts_with("Cause: The client does not trust a certificate on the way"),
        "{text}"
    );
    // Response header names as they went on the wire (each service's spelling).
    let har: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("har/ssl-offloading.har")).unwrap())
            .unwrap();
    let names = |pred: &dyn Fn(&str) -> bool| -> Vec<String> {
        let mut v: Vec<String> = har["log"]["entries"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| pred(e["request"]["url"].as_str().unwrap()))
            .flat_map(|e| e["response"]["headers"].as_array().unwrap().clone())
            .map(|h| h["name"].as_str().unwrap().to_string())
            .collect();
        v.sort();
        v.dedup();
        v
    };
    let exchange = names(&|u| u.starts_with("https://mail.contoso.com/mapi/"));
    for n in [
        "WWW-Authenticate",
        "Www-Authenticate",
        "x-ms-diagnostics",
        "request-id",
        "X-FEServer",
        "X-Powered-By",
    ] {
        assert!(exchange.contains(&n.to_string()), "{n} not in {exchange:?}");
    }
    let aad = names(&|u| u.starts_with("https://login.windows.net/common/oauth2/token"));
    for n in ["Cache-Control", "Pragma", "x-ms-request-id", "P3P"] {
        assert!(aad.contains(&n.to_string()), "{n} not in {aad:?}");
    }
    let explained = hma_lab(&[
        "explain",
        dir.join("har/ssl-offloading.har").to_str().unwrap(),
    ]);
    let text = String::from_utf8_lossy(&explained.stdout);
    assert!(text.starts_with("Cause: SSL offloading:"), "{text}");
    assert!(
        text.contains("Expected 'https://mail.contoso.com'. Actual 'http://mail.contoso.com'."),
        "{text}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_domain_join_takes_effect_for_clients_started_after_the_restart() {
    let r = run("machine").await;
    let s = &r.scenarios[0];
    assert!(s.passed, "{}", human_scenario(s));
    let text = human_scenario(s);
    // The cmdlets ran in `when`, between the clients, and the join's warning was reported.
    assert!(
        text.contains("✓ Add-Computer -DomainName contoso.com -Credential CONTOSO\\Administrator"),
        "{text}"
    );
    assert_eq!(s.twins.len(), 1);
    assert!(s.twins[0].ok, "{}", s.twins[0].summary);
    assert_eq!(
        s.twins[0].summary,
        "`then` fails as it must (4 of 10 expectations fail)"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_outlook_reads_its_own_office_versions_identity_key() {
    let r = run("machine-registry").await;
    let s = &r.scenarios[0];
    assert!(s.passed, "{}", human_scenario(s));
    assert_eq!(s.twins.len(), 1);
    assert!(s.twins[0].ok, "{}", s.twins[0].summary);
    assert_eq!(
        s.twins[0].summary,
        "`then` fails as it must (3 of 5 expectations fail)"
    );
}
