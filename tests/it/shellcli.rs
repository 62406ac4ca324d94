//! `hma-lab shell` and `hma-lab explain`: the binary fed a script on stdin (output, error records,
//! exit codes), the session library on a running lab (continuation lines, `lab status`,
//! `lab clock`), and `explain` on the guide's captures and on responses the mocks really send.

use std::io::Write;
use std::process::{Command, Stdio};

use hma_lab::cli::shell::{needs_more, run_lines, Console, Reply, Session};
use hma_lab::client::{ConnectionStatus, Profile};
use hma_lab::lab::{Lab, LabFile};
use lab_kit::Clock;

fn hma_lab(args: &[&str], stdin: &str) -> (i32, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_hma-lab"))
        .args(args)
        .env("RUST_LOG", "off")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("hma-lab runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn fixture(name: &str) -> String {
    format!(
        "{}/tests/fixtures/explain/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

#[test]
fn shell_reads_stdin_prints_like_powershell_and_exits_0() {
    let script = "Get-MapiVirtualDirectory | FL server,*url*,*auth*\n\
                  Get-AuthServer |\n  where {$_.Name -eq \"EvoSts\"} |\n  FL Name,IsDefaultAuthorizationEndpoint\n\
                  lab status\n";
    let (code, out, err) = hma_lab(&["shell", "--lab", "contoso"], script);
    assert_eq!(err, "");
    assert_eq!(code, 0);
    assert_eq!(
        out,
        "Server                        : EX1\n\
         InternalUrl                   : https://mail.corp.contoso.com/mapi\n\
         ExternalUrl                   : https://mail.contoso.com/mapi\n\
         IISAuthenticationMethods      : {Ntlm, OAuth, Negotiate}\n\
         InternalAuthenticationMethods : {Ntlm, OAuth, Negotiate}\n\
         ExternalAuthenticationMethods : {Ntlm, OAuth, Negotiate}\n\
         Name                           : EvoSts\n\
         IsDefaultAuthorizationEndpoint : True\n\
         outlook-2016 as GregT@contoso.com\n\
         Server name       Status       Protocol   Authn\n\
         ----------------  -----------  ---------  ------\n\
         mail.contoso.com  Established  MAPI/HTTP  Bearer\n"
    );
}

#[test]
fn shell_prints_the_error_record_without_colour_and_exits_1() {
    let script = "Set-MapiVirtualDirectory -Identity 'EX1\\mapi (Default Web Site)' -OAuthAuthentication $true\n\
                  Set-OrganizationConfig -OAuth2ClientProfileEnabled $false\n\
                  (Get-OrganizationConfig).OAuth2ClientProfileEnabled\n\
                  iisreset\n\
                  lab status\n";
    let (code, out, err) = hma_lab(&["shell"], script);
    assert_eq!(code, 1);
    assert_eq!(
        err,
        "Set-MapiVirtualDirectory : A parameter cannot be found that matches parameter name 'OAuthAuthentication'.\n\
         At line:1 char:66\n\
         + Set-MapiVirtualDirectory -Identity 'EX1\\mapi (Default Web Site)' -OAuthAuthentication $true\n\
         +                                                                  ~~~~~~~~~~~~~~~~~~~~\n    \
         + CategoryInfo          : InvalidArgument: (:) [Set-MapiVirtualDirectory], ParameterBindingException\n    \
         + FullyQualifiedErrorId : NamedParameterNotFound,Set-MapiVirtualDirectory\n\
         hma-lab hint: /mapi has no OAuth switch; list the methods explicitly: -IISAuthenticationMethods Ntlm, OAuth, Negotiate\n"
    );
    assert!(!err.contains('\x1b'));
    // The lines after the failing one still ran: Outlook for Windows is refused OAuth now.
    assert_eq!(
        out,
        "False\n\
         Attempting stop...\n\
         Internet services successfully stopped\n\
         Attempting start...\n\
         Internet services successfully restarted\n\
         outlook-2016 as GregT@contoso.com\n\
         Server name       Status       Protocol   Authn\n\
         ----------------  -----------  ---------  -----\n\
         mail.contoso.com  Established  MAPI/HTTP  NTLM\n"
    );
}

#[test]
fn shell_echo_writes_a_transcript_and_exit_stops_reading() {
    let script = "(Get-OrganizationConfig).OAuth2ClientProfileEnabled\nexit\nGet-Nothing\n";
    let (code, out, err) = hma_lab(&["shell", "--echo"], script);
    assert_eq!((code, err.as_str()), (0, ""));
    assert_eq!(
        out,
        "[PS] C:\\Windows\\system32> (Get-OrganizationConfig).OAuth2ClientProfileEnabled\nTrue\n\
         [PS] C:\\Windows\\system32> exit\n"
    );
}

#[test]
fn shell_refuses_an_unknown_lab() {
    let (code, out, err) = hma_lab(&["shell", "--lab", "fabrikam"], "");
    assert_eq!((code, out.as_str()), (2, ""));
    assert!(err.starts_with("hma-lab shell: fabrikam"), "{err}");
}

#[test]
fn continuation_is_asked_for_open_statements_only() {
    assert!(needs_more("Get-MapiVirtualDirectory |"));
    assert!(needs_more("Get-AuthServer | where {$_.Name -eq \"EvoSts\""));
    assert!(needs_more(
        "Set-MapiVirtualDirectory -IISAuthenticationMethods Ntlm,"
    ));
    assert!(needs_more("$x = (Get-OrganizationConfig"));
    assert!(needs_more("Write-Output 'abc"));
    assert!(needs_more("Get-Mailbox `"));
    assert!(!needs_more("Get-MapiVirtualDirectory | FL server"));
    assert!(!needs_more(
        "Set-AuthServer EvoSts -IsDefaultAuthorizationEndpoint $true"
    ));
    assert!(!needs_more("Get-Foo )"));
    assert!(!needs_more("lab status ("));
    assert!(!needs_more(""));
}

/// Runs `f` on a blocking thread with a session on a fresh contoso lab (frozen clock).
async fn with_session<T: Send + 'static>(f: impl FnOnce(&mut Session) -> T + Send + 'static) -> T {
    let lab = Lab::start_file(
        LabFile::builtin("contoso").unwrap(),
        Clock::frozen_at_unix(hma_lab::scenario::runner::LAB_EPOCH),
    )
    .await
    .unwrap();
    let rt = tokio::runtime::Handle::current();
    let (t, lab) = tokio::task::spawn_blocking(move || {
        let mut s = Session::new(lab, rt);
        let t = f(&mut s);
        (t, s.into_lab())
    })
    .await
    .unwrap();
    lab.expect("the session gives the lab back")
        .shutdown()
        .await;
    t
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_runs_lines_with_continuations_and_reports_failure() {
    let (ok, out, err) = with_session(|s| {
        let input =
            "$x= Get-MsolServicePrincipal -AppPrincipalId 00000002-0000-0ff1-ce00-000000000000\n\
                     $x.ServicePrincipalNames |\n\
                     select -First 1\n\
                     Get-Foo\n\
                     lab clock +1h\n";
        let mut out = Vec::new();
        let mut err = Vec::new();
        let mut console = Console {
            out: &mut out,
            err: &mut err,
            color: true,
            echo: false,
        };
        let ok = run_lines(s, &mut input.as_bytes(), &mut console);
        (
            ok,
            String::from_utf8(out).unwrap(),
            String::from_utf8(err).unwrap(),
        )
    })
    .await;
    assert!(!ok);
    assert_eq!(
        out,
        "https://autodiscover.contoso.com/\nLab clock: 2017-11-16 21:36:16 UTC (+3600s from the start)\n"
    );
    // On a terminal, errors are red, line by line.
    assert!(
        err.starts_with(
            "\x1b[91mGet-Foo : The term 'Get-Foo' is not recognized as the name of a cmdlet"
        ),
        "{err:?}"
    );
    assert!(err
        .lines()
        .all(|l| l.starts_with("\x1b[91m") && l.ends_with("\x1b[0m")));
}

fn sent_bearer(s: &ConnectionStatus) -> bool {
    s.exchanges.iter().any(|x| {
        x.authorization
            .as_deref()
            .is_some_and(|a| a.starts_with("Bearer"))
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lab_status_follows_the_client_settings_the_shell_writes() {
    let (before, after, replies) = with_session(|s| {
        let before = s.status(Profile::Outlook2013, "GregT@contoso.com").unwrap();
        let replies: Vec<Reply> = [
            r"reg add HKCU\SOFTWARE\Microsoft\Office\15.0\Common\Identity /v EnableADAL /t REG_DWORD /d 1 /f",
            r"reg add HKCU\SOFTWARE\Microsoft\Office\15.0\Common\Identity /v Version /t REG_DWORD /d 1 /f",
            "lab status outlook-2013 GregT@contoso.com",
            "lab status outlook-2099",
            "lab rewind",
        ]
        .iter()
        .map(|l| s.execute(l))
        .collect();
        let after = s.status(Profile::Outlook2013, "GregT@contoso.com").unwrap();
        (before, after, replies)
    })
    .await;
    // Outlook 2013 without the keys never tries Bearer; with them it connects with Bearer.
    assert!(!sent_bearer(&before), "{before:?}");
    assert_eq!(
        (before.status.as_str(), before.authn.as_deref()),
        ("Established", Some("NTLM"))
    );
    assert!(sent_bearer(&after));
    assert_eq!(
        (
            after.status.as_str(),
            after.protocol.as_str(),
            after.authn.as_deref()
        ),
        ("Established", "MAPI/HTTP", Some("Bearer"))
    );
    assert_eq!(
        replies[2],
        Reply::Ok(
            "outlook-2013 as GregT@contoso.com\n\
             Server name       Status       Protocol   Authn\n\
             ----------------  -----------  ---------  ------\n\
             mail.contoso.com  Established  MAPI/HTTP  Bearer"
                .into()
        )
    );
    assert!(
        matches!(&replies[3], Reply::Err(e) if e.starts_with("lab status: 'outlook-2099' is neither a client profile"))
    );
    assert!(
        matches!(&replies[4], Reply::Err(e) if e.starts_with("lab: unknown lab command 'rewind'."))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lab_status_runs_the_outlook_installed_on_the_machine() {
    let replies: Vec<Reply> = with_session(|s| {
        [
            "lab status",
            "Install-LabOutlook -Version 2010",
            "lab status",
            "lab status outlook GregT@contoso.com",
            "lab status outlook-2016",
        ]
        .iter()
        .map(|l| s.execute(l))
        .collect()
    })
    .await;
    let bearer = |who: &str| {
        Reply::Ok(format!(
            "{who} as GregT@contoso.com\n\
             Server name       Status       Protocol   Authn\n\
             ----------------  -----------  ---------  ------\n\
             mail.contoso.com  Established  MAPI/HTTP  Bearer"
        ))
    };
    let rpc_ntlm = Reply::Ok(
        "outlook-2010 as GregT@contoso.com\n\
         Server name       Status       Protocol  Authn\n\
         ----------------  -----------  --------  -----\n\
         mail.contoso.com  Established  RPC/HTTP  NTLM"
            .into(),
    );
    // Nothing installed: Outlook 2016. After Install-LabOutlook 2010, `lab status` (and
    // `outlook`) is Outlook 2010 on RPC/HTTP; a named profile is still that profile.
    assert_eq!(replies[0], bearer("outlook-2016"));
    assert!(
        matches!(&replies[1], Reply::Ok(t) if t.contains("Microsoft Outlook 2010")),
        "{:?}",
        replies[1]
    );
    assert_eq!(replies[2], rpc_ntlm);
    assert_eq!(replies[3], replies[2]);
    assert_eq!(replies[4], bearer("outlook-2016"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lab_status_shows_why_a_client_is_disconnected() {
    let status = with_session(|s| {
        s.execute("$x= Get-MsolServicePrincipal -AppPrincipalId 00000002-0000-0ff1-ce00-000000000000");
        s.execute("$x.ServicePrincipalNames.Remove(\"https://mail.contoso.com/\")");
        s.execute("$x.ServicePrincipalNames.Remove(\"00000002-0000-0ff1-ce00-000000000000/mail.contoso.com\")");
        s.execute("Set-MsolServicePrincipal -AppPrincipalId 00000002-0000-0ff1-ce00-000000000000 -ServicePrincipalNames $x.ServicePrincipalNames");
        s.status(Profile::Outlook2016, "GregT@contoso.com").unwrap()
    })
    .await;
    let text = hma_lab::cli::shell::status_text(&status);
    assert_eq!(status.status, "Disconnected");
    assert!(text.contains("\nDetail: "), "{text}");
    assert!(status.aadsts_codes().contains(&50001), "{text}");
}

#[test]
fn explain_names_cause_section_and_fix_of_each_seed_capture() {
    let cases = [
        (
            "seed-flighting-4000000.txt",
            "Auth_URI Failures",
            "Set-OrganizationConfig -OAuth2ClientProfileEnabled $True",
        ),
        (
            "seed-missing-spn-aadsts50001.txt",
            "Missing SPNs",
            "$x.ServicePrincipalnames.Add(\"https://mail.contoso.com/\")",
        ),
        ("seed-name-mismatch-2000003.txt", "Name Mismatches", ""),
        ("seed-ssl-offloading-2000003.txt", "SSL Offloading", ""),
        ("seed-user-not-synced-2000005.txt", "Who’s This?", ""),
        (
            "seed-password-changed-aadsts50173.txt",
            "Password Changed?",
            "",
        ),
        ("seed-unicorn-rampage.txt", "Unicorn Rampage?", ""),
    ];
    for (file, section, fix) in cases {
        let (code, out, err) = hma_lab(&["explain", &fixture(file)], "");
        assert_eq!((code, err.as_str()), (0, ""), "{file}");
        assert!(out.starts_with("Cause: "), "{file}: {out}");
        assert!(
            out.contains(&format!("\nGuide section: \"{section}\"\n")),
            "{file}: {out}"
        );
        if fix.is_empty() {
            assert!(
                out.contains("\nFix: no cmdlet fixes this.\n"),
                "{file}: {out}"
            );
        } else {
            assert!(out.contains(&format!("\n  {fix}\n")), "{file}: {out}");
        }
    }
}

#[test]
fn explain_exits_1_with_a_clear_message_on_unknown_input() {
    let (code, out, err) = hma_lab(&["explain", &fixture("lab-normal-handshake.txt")], "");
    assert_eq!((code, out.as_str()), (1, ""));
    assert!(
        err.starts_with(
            "hma-lab explain: no cause from the guide's troubleshooting section recognised in "
        ),
        "{err}"
    );
    let (code, _, err) = hma_lab(&["explain", "/nonexistent/capture.txt"], "");
    assert_eq!(code, 1);
    assert!(
        err.starts_with("hma-lab explain: cannot read /nonexistent/capture.txt: "),
        "{err}"
    );
}

/// A response as `curl -i` prints it.
async fn curl_i(resp: reqwest::Response) -> String {
    let mut s = format!(
        "HTTP/1.1 {} {}\r\n",
        resp.status().as_u16(),
        resp.status().canonical_reason().unwrap_or("")
    );
    for (k, v) in resp.headers() {
        s.push_str(&format!("{k}: {}\r\n", v.to_str().unwrap_or("")));
    }
    s.push_str("\r\n");
    s.push_str(&resp.text().await.unwrap_or_default());
    s
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn explain_reads_what_the_mocks_really_answer() {
    let lab = Lab::start_file(
        LabFile::builtin("contoso").unwrap(),
        Clock::frozen_at_unix(hma_lab::scenario::runner::LAB_EPOCH),
    )
    .await
    .unwrap();
    let http = lab.http_client();
    let autodiscover = lab.url("autodiscover.contoso.com", "/autodiscover/autodiscover.xml");
    let ask = || {
        http.post(&autodiscover)
            .header("Authorization", "Bearer")
            .header("User-Agent", Profile::Outlook2016.user_agent())
            .send()
    };
    // Healthy: the normal challenge is not a failure.
    let text = curl_i(ask().await.unwrap()).await;
    assert!(
        hma_lab::explain::explain_text("ok", &text).is_err(),
        "{text}"
    );

    let rt = tokio::runtime::Handle::current();
    let lab = tokio::task::spawn_blocking(move || {
        let mut s = Session::new(lab, rt);
        assert_eq!(
            s.execute("Set-OrganizationConfig -OAuth2ClientProfileEnabled $false"),
            Reply::Ok(String::new())
        );
        s.execute("iisreset");
        s.into_lab().expect("the session gives the lab back")
    })
    .await
    .unwrap();
    let text = curl_i(ask().await.unwrap()).await;
    let e = hma_lab::explain::explain_text("flighting", &text).unwrap();
    assert_eq!(
        (e.id, e.section),
        ("flighting", "Auth_URI Failures"),
        "{text}"
    );

    let rt = tokio::runtime::Handle::current();
    let lab = tokio::task::spawn_blocking(move || {
        let mut s = Session::new(lab, rt);
        s.execute("Set-OrganizationConfig -OAuth2ClientProfileEnabled $true");
        s.execute("Set-AuthServer EvoSts -IsDefaultAuthorizationEndpoint $false");
        s.execute("iisreset");
        s.into_lab().expect("the session gives the lab back")
    })
    .await
    .unwrap();
    let text = curl_i(ask().await.unwrap()).await;
    let e = hma_lab::explain::explain_text("no-uri", &text).unwrap();
    assert_eq!(e.id, "no-authorization-uri", "{text}");
    assert_eq!(
        e.fix,
        vec!["Set-AuthServer EvoSts -IsDefaultAuthorizationEndpoint $true"]
    );
    lab.shutdown().await;
}

/// A trainee breaks the lab's certificate with `lab network` and meets it the way Outlook does:
/// `lab status` goes over real TLS through the lab's front door.
#[tokio::test]
async fn lab_network_changes_devices_and_lab_status_meets_them_over_tls() {
    let (shown, expired, fixed, bad) = with_session(|s| {
        let shown = s.execute("lab network");
        let expired = [
            s.execute("lab network { certificate: { host: mail.contoso.com, state: expired } }"),
            s.execute("lab status"),
        ];
        let fixed = [
            s.execute("lab network { certificate: { host: mail.contoso.com, state: valid } }"),
            s.execute("lab status"),
        ];
        let bad = [
            s.execute("lab network { certificate: { host: mail.contoso.co, state: expired } }"),
            s.execute("lab network { certificat: { host: mail.contoso.com, state: expired } }"),
        ];
        (shown, expired, fixed, bad)
    })
    .await;
    const LB: &str =
        "load_balancer: { host: mail.contoso.com, ssl_offload: false, targets: [EX1] }";
    assert_eq!(
        shown,
        Reply::Ok(format!("{LB}\nclient_segment: {{ blocked: [] }}"))
    );
    assert_eq!(
        expired[0],
        Reply::Ok(format!(
            "{LB}\nclient_segment: {{ blocked: [] }}\ncertificate: {{ host: mail.contoso.com, state: expired }}"
        ))
    );
    let Reply::Ok(status) = &expired[1] else {
        panic!("{:?}", expired[1]);
    };
    assert!(
        status.starts_with(
            "outlook-2016 as GregT@contoso.com\n\
             Server name       Status        Protocol   Authn\n\
             ----------------  ------------  ---------  -----\n\
             mail.contoso.com  Disconnected  MAPI/HTTP\n\
             Detail: Security Alert: The security certificate has expired or is not yet valid. (mail.contoso.com: invalid peer certificate: certificate expired"
        ),
        "{status}"
    );
    assert_eq!(
        fixed[0],
        Reply::Ok(format!("{LB}\nclient_segment: {{ blocked: [] }}"))
    );
    assert_eq!(
        fixed[1],
        Reply::Ok(
            "outlook-2016 as GregT@contoso.com\n\
             Server name       Status       Protocol   Authn\n\
             ----------------  -----------  ---------  ------\n\
             mail.contoso.com  Established  MAPI/HTTP  Bearer"
                .into()
        )
    );
    let Reply::Err(e) = &bad[0] else {
        panic!("{:?}", bad[0]);
    };
    assert!(
        e.starts_with("lab network: certificate host 'mail.contoso.co' is not a host of the lab (")
            && e.ends_with("; did you mean `mail.contoso.com`?"),
        "{e}"
    );
    let Reply::Err(e) = &bad[1] else {
        panic!("{:?}", bad[1]);
    };
    assert!(
        e.starts_with("lab network: unknown field `certificat`"),
        "{e}"
    );
    assert!(e.ends_with("; did you mean `certificate`?"), "{e}");
}

/// The field guide's text (its two `Get-MsolServicePrincipal` listings).
fn guide_text() -> String {
    let file = "reference/000_ba63891cc771c263.txt";
    [
        format!("{}/../shared/{file}", env!("CARGO_MANIFEST_DIR")),
        format!("{}/../../shared/{file}", env!("CARGO_MANIFEST_DIR")),
        format!("/work/shared/{file}"),
    ]
    .iter()
    .find_map(|p| std::fs::read_to_string(p).ok())
    .unwrap_or_else(|| panic!("the field guide is not readable"))
}

/// The `n`th listing after the guide's `… | select -ExpandProperty ServicePrincipalNames` prompt:
/// its lines up to the bare application id (the page merged the next paragraph onto it).
fn guide_spn_listing(n: usize) -> Vec<String> {
    let text = guide_text();
    let lines: Vec<&str> = text.lines().collect();
    let starts: Vec<usize> = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| {
            l.starts_with("[PS]") && l.ends_with("| select -ExpandProperty ServicePrincipalNames")
        })
        .map(|(i, _)| i)
        .collect();
    let mut out = Vec::new();
    for l in &lines[starts[n] + 1..] {
        let spn = l.split(" - ").next().unwrap_or_default().trim().to_string();
        let last = spn == "00000002-0000-0ff1-ce00-000000000000";
        out.push(spn);
        if last {
            break;
        }
    }
    out
}

/// The guide's SPN steps on the lab before HMA: the first listing, the two `.Add(…)` lines and
/// `Set-MSOLServicePrincipal`, then the second listing — both exactly as the guide prints them
/// (the added names after the other URLs, without their trailing slash).
#[test]
fn the_guide_spn_steps_list_the_names_as_the_guide_does() {
    let list = "Get-MsolServicePrincipal -AppPrincipalId 00000002-0000-0ff1-ce00-000000000000 | select -ExpandProperty ServicePrincipalNames\n";
    let script = format!(
        "{list}$x= Get-MsolServicePrincipal -AppPrincipalId 00000002-0000-0ff1-ce00-000000000000\n\
         $x.ServicePrincipalnames.Add(\"https://mail.corp.contoso.com/\")\n\
         $x.ServicePrincipalnames.Add(\"https://owa.contoso.com/\")\n\
         Set-MSOLServicePrincipal -AppPrincipalId 00000002-0000-0ff1-ce00-000000000000 -ServicePrincipalNames $x.ServicePrincipalNames\n\
         {list}"
    );
    let (code, out, err) = hma_lab(&["shell", "--lab", "contoso-pre-hma"], &script);
    assert_eq!((code, err.as_str()), (0, ""));
    let first = guide_spn_listing(0);
    let second = guide_spn_listing(1);
    assert_eq!(first.len(), 12);
    assert_eq!(second.len(), 14);
    assert!(second.contains(&"https://mail.corp.contoso.com".to_string()));
    let want = format!("{}\n{}\n", first.join("\n"), second.join("\n"));
    assert_eq!(out, want);
}

/// The default lab (HMA enabled, the guide's steps done) registers what the guide's second
/// listing shows.
#[test]
fn the_default_lab_registers_the_guides_second_listing() {
    let (code, out, _) = hma_lab(
        &["shell", "--lab", "contoso"],
        "Get-MsolServicePrincipal -AppPrincipalId 00000002-0000-0ff1-ce00-000000000000 | select -ExpandProperty ServicePrincipalNames\n",
    );
    assert_eq!(code, 0);
    assert_eq!(out, format!("{}\n", guide_spn_listing(1).join("\n")));
}
