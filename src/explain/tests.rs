//! Each capture the field guide prints is explained as the guide explains it; lab-made captures
//! (HAR, `curl -v`, Fiddler raw view with the request) cover the causes the guide describes in
//! prose only; scenario files are explained from their expectations; anything else is refused.

use std::path::{Path, PathBuf};

use super::*;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/explain")
        .join(name)
}

fn explain(name: &str) -> Explanation {
    match explain_file(&fixture(name)) {
        Ok(e) => e,
        Err(e) => panic!("{name}: {e}"),
    }
}

const SPN_FIX: [&str; 3] = [
    "$x= Get-MsolServicePrincipal -AppPrincipalId 00000002-0000-0ff1-ce00-000000000000",
    "$x.ServicePrincipalnames.Add(\"https://mail.contoso.com/\")",
    "Set-MSOLServicePrincipal -AppPrincipalId 00000002-0000-0ff1-ce00-000000000000 -ServicePrincipalNames $x.ServicePrincipalNames",
];

#[test]
fn seed_flighting_capture_is_oauth2_client_profile() {
    let e = explain("seed-flighting-4000000.txt");
    assert_eq!(e.id, "flighting");
    assert_eq!(e.section, "Auth_URI Failures");
    assert_eq!(
        e.fix,
        vec![
            "(Get-OrganizationConfig).OAuth2ClientProfileEnabled",
            "Set-OrganizationConfig -OAuth2ClientProfileEnabled $True"
        ]
    );
    assert_eq!(
        e.evidence,
        vec!["x-ms-diagnostics: 4000000;reason=\"Flighting is not enabled for domain 'gregt@contoso.com'.\";error_category=\"oauth_not_available\""]
    );
    assert!(e.advice.contains("iisreset"));
}

#[test]
fn seed_missing_spn_capture_gives_the_x_lines_with_the_url_from_the_error() {
    let e = explain("seed-missing-spn-aadsts50001.txt");
    assert_eq!(e.id, "missing-spn");
    assert_eq!(e.section, "Missing SPNs");
    assert_eq!(e.fix, SPN_FIX.to_vec());
    assert_eq!(
        e.evidence[1],
        "AADSTS50001: The application named https://mail.contoso.com/ was not found in the tenant named contoso.com."
    );
}

#[test]
fn missing_spn_url_is_taken_from_the_error_not_assumed() {
    let text = "Location: urn:ietf:wg:oauth:2.0:oob?error=invalid_resource&error_description=AADSTS50001%3a+The+application+named+https%3a%2f%2fowa.contoso.com%2f+was+not+found+in+the+tenant+named+contoso.com.\n";
    let e = explain_text("x", text).unwrap();
    assert_eq!(
        e.fix[1],
        "$x.ServicePrincipalnames.Add(\"https://owa.contoso.com/\")"
    );
}

#[test]
fn seed_name_mismatch_capture_is_a_name_translation_device() {
    let e = explain("seed-name-mismatch-2000003.txt");
    assert_eq!(e.id, "name-mismatch");
    assert_eq!(e.section, "Name Mismatches");
    assert!(e.fix.is_empty());
    assert!(
        e.cause.contains("https://autodiscover.contoso.com"),
        "{}",
        e.cause
    );
    assert!(e.cause.contains("mail.contoso.com"), "{}", e.cause);
    assert_eq!(
        e.evidence[1],
        "the request reached Exchange as mail.contoso.com (Basic realm)"
    );
    assert!(e.advice.contains("pass-through"));
}

#[test]
fn seed_ssl_offloading_capture_in_postman_arrows_is_ssl_offloading() {
    let e = explain("seed-ssl-offloading-2000003.txt");
    assert_eq!(e.id, "ssl-offloading");
    assert_eq!(e.section, "SSL Offloading");
    assert!(e.cause.contains("https://mail.contoso.com"));
    assert!(e.cause.contains("http://mail.contoso.com"));
}

#[test]
fn seed_user_not_synced_capture_is_2000005() {
    let e = explain("seed-user-not-synced-2000005.txt");
    assert_eq!(e.id, "user-not-synced");
    assert_eq!(e.section, "Who’s This?");
}

#[test]
fn seed_password_changed_capture_is_aadsts50173_with_the_dates() {
    let e = explain("seed-password-changed-aadsts50173.txt");
    assert_eq!(e.id, "password-changed");
    assert_eq!(e.section, "Password Changed?");
    assert_eq!(
        e.evidence[1],
        "grant issued 2017-10-28T17:20:13.2960000Z, but the user's tokens are valid only from 2017-11-16T20:27:45.0000000Z"
    );
    assert!(e.advice.contains("signs in again"));
}

#[test]
fn seed_unicorn_capture_is_tenant_wide_revocation_not_a_password_change() {
    // The unicorn body carries error_codes [50173] too; the guide calls it its own thing.
    let e = explain("seed-unicorn-rampage.txt");
    assert_eq!(e.id, "tenant-revocation");
    assert_eq!(e.section, "Unicorn Rampage?");
    assert_eq!(
        e.evidence,
        vec!["HTTP 400 Bad Unicorn — \"error\":\"unicorn_rampage\""]
    );
}

#[test]
fn every_seed_capture_in_the_fixtures_is_recognised() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/explain");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let p = entry.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().to_string();
        if name.starts_with("seed-") {
            n += 1;
            assert!(explain_file(&p).is_ok(), "{name}");
        }
    }
    assert_eq!(n, 7);
}

#[test]
fn lab_captures_cover_the_prose_causes() {
    let cases = [
        (
            "lab-outlook-2013-no-bearer.txt",
            "client-no-bearer",
            "Client Failure",
        ),
        (
            "lab-no-authorization-uri.txt",
            "no-authorization-uri",
            "Auth_URI Failures",
        ),
        (
            "lab-adfs-default.txt",
            "other-auth-server",
            "Auth_URI Failures",
        ),
        (
            "lab-mapi-without-oauth.har",
            "oauth-missing-on-vdir",
            "Auth_URI Failures",
        ),
        (
            "lab-curl-certificate.txt",
            "certificate",
            "Something Went Wrong. How do I Troubleshoot HMA?",
        ),
    ];
    for (file, id, section) in cases {
        let e = explain(file);
        assert_eq!((e.id, e.section), (id, section), "{file}");
    }
    let e = explain("lab-outlook-2013-no-bearer.txt");
    assert_eq!(
        e.fix,
        vec![
            r"reg add HKCU\SOFTWARE\Microsoft\Office\15.0\Common\Identity /v EnableADAL /t REG_DWORD /d 1 /f",
            r"reg add HKCU\SOFTWARE\Microsoft\Office\15.0\Common\Identity /v Version /t REG_DWORD /d 1 /f",
        ]
    );
    let e = explain("lab-no-authorization-uri.txt");
    assert_eq!(
        e.fix,
        vec!["Set-AuthServer EvoSts -IsDefaultAuthorizationEndpoint $true"]
    );
    let e = explain("lab-adfs-default.txt");
    assert!(e
        .cause
        .contains("https://adfs.contoso.com/adfs/oauth2/authorize"));
    let e = explain("lab-mapi-without-oauth.har");
    assert_eq!(
        e.fix,
        vec![
            "Get-MapiVirtualDirectory | FL server,*url*,*auth*",
            "Get-MapiVirtualDirectory | Set-MapiVirtualDirectory -IISAuthenticationMethods Ntlm, OAuth, Negotiate"
        ]
    );
    assert!(e.cause.contains("/mapi on EX2"), "{}", e.cause);
}

#[test]
fn a_normal_handshake_is_not_a_failure() {
    let err = explain_file(&fixture("lab-normal-handshake.txt")).unwrap_err();
    assert!(
        matches!(err, ExplainError::Unrecognised { exchanges: 1, .. }),
        "{err}"
    );
}

#[test]
fn unknown_input_is_refused_with_a_clear_message() {
    let err = explain_text("notes.txt", "Outlook keeps asking for a password\n").unwrap_err();
    let msg = err.to_string();
    assert!(msg.starts_with("no cause from the guide's troubleshooting section recognised in notes.txt (0 HTTP exchange(s) read)."), "{msg}");
    assert!(explain_text("e", "").is_err());
    assert!(explain_text("e", "{\"log\":{\"entries\":[]}}").is_err());
    let err = explain_file(&fixture("does-not-exist.txt")).unwrap_err();
    assert!(err.to_string().starts_with("cannot read "), "{err}");
}

#[test]
fn scenario_files_are_explained_from_their_expectations() {
    let cases = [
        ("missing-spn.yaml", "missing-spn"),
        ("outlook-2013-without-enable-adal.yaml", "client-no-bearer"),
        ("outlook-2010-no-bearer.yaml", "client-no-bearer"),
        ("mac-disable-modern-auth.yaml", "client-no-bearer"),
        ("no-authorization-uri.yaml", "no-authorization-uri"),
        ("flighting-not-enabled.yaml", "flighting"),
        ("ssl-offloading.yaml", "ssl-offloading"),
        ("user-not-synced.yaml", "user-not-synced"),
        ("name-mismatch-reverse-proxy.yaml", "name-mismatch"),
        ("oauth-missing-on-ews.yaml", "oauth-missing-on-vdir"),
    ];
    for (file, id) in cases {
        let e = explain(&format!("scenarios/{file}"));
        assert_eq!(e.id, id, "{file}: {}", e.render());
    }
    assert_eq!(explain("scenarios/missing-spn.yaml").fix, SPN_FIX.to_vec());
    assert_eq!(
        explain("scenarios/mac-disable-modern-auth.yaml").fix,
        vec!["defaults write com.microsoft.Outlook DisableModernAuth -bool NO"]
    );
    assert!(explain("scenarios/outlook-2010-no-bearer.yaml")
        .fix
        .is_empty());
    assert_eq!(
        explain("scenarios/oauth-missing-on-ews.yaml").fix[1],
        "Get-WebServicesVirtualDirectory | Set-WebServicesVirtualDirectory -OAuthAuthentication $true"
    );
    assert_eq!(
        explain("scenarios/outlook-2016-enable-adal-disabled.yaml").fix,
        vec![
            r"reg add HKCU\SOFTWARE\Microsoft\Office\16.0\Common\Identity /v EnableADAL /t REG_DWORD /d 1 /f"
        ]
    );
    // The happy path has nothing to explain; after a rollback Outlook 2016 is on NTLM, which is
    // not a client failure (its registry was never touched).
    for file in ["happy-path.yaml", "rollback.yaml"] {
        assert!(
            matches!(
                explain_file(&fixture(&format!("scenarios/{file}"))),
                Err(ExplainError::Unrecognised { .. })
            ),
            "{file}"
        );
    }
}

#[test]
fn a_broken_scenario_file_gets_its_located_error() {
    let dir = std::env::temp_dir().join(format!("hma-explain-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("bad.yaml");
    std::fs::write(
        &p,
        "version: 1\nname: bad\nlab: contoso\nwhen:\n  - clinet: outlook-2016\n",
    )
    .unwrap();
    let err = explain_file(&p).unwrap_err();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(matches!(err, ExplainError::Scenario(_)), "{err}");
    assert!(err.to_string().contains("bad.yaml:5:"), "{err}");
}

#[test]
fn render_prints_cause_section_and_fix_verbatim() {
    let e = explain("seed-missing-spn-aadsts50001.txt");
    let text = e.render();
    assert!(
        text.starts_with("Cause: Azure AD does not know the resource https://mail.contoso.com/")
    );
    assert!(text.contains("\nGuide section: \"Missing SPNs\"\n"));
    assert!(text.contains(&format!(
        "\nFix:\n  {}\n  {}\n  {}\n",
        SPN_FIX[0], SPN_FIX[1], SPN_FIX[2]
    )));
    let e = explain("seed-user-not-synced-2000005.txt");
    assert!(e.render().contains("\nFix: no cmdlet fixes this.\n"));
}

#[test]
fn truncated_and_mangled_captures_never_panic() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/explain");
    for entry in std::fs::read_dir(&dir).unwrap() {
        let p = entry.unwrap().path();
        if !p.is_file() {
            continue;
        }
        let text = std::fs::read_to_string(&p).unwrap();
        for (i, _) in text.char_indices().step_by(5) {
            let _ = explain_text("cut", &text[..i]);
            let _ = explain_text("tail", &text[i..]);
        }
        let _ = explain_text("crlf", &text.replace('\n', "\r\n"));
        let _ = explain_text("quotes", &text.replace('"', ""));
    }
}
