//! Unit tests of the scenario format and the expectation matchers.

use super::checks::Check;
use super::expect::{header_match, text_match};
use super::format::{parse, LabRef};
use super::steps::{parse_duration, Action, ClientName, ConnectKind, Step};
use crate::client::Profile;

fn err(text: &str) -> String {
    match parse(text, "t.yaml", None, None) {
        Ok(_) => panic!("expected an error for:\n{text}"),
        Err(e) => e.to_string(),
    }
}

const HEAD: &str = "version: 1\nname: t\nlab: contoso\n";
/// What a scenario without `fix` must say it shows.
const SHOWS: &str = "demonstrates: Outlook's connection to Exchange\n";

#[test]
fn a_full_scenario_parses_into_its_steps() {
    let text = r#"version: 1
name: ssl-offloading
title: T
guide: "SSL Offloading"
lab: contoso
given:
  - cmdlet: Set-AuthServer EvoSts -IsDefaultAuthorizationEndpoint $false
  - network: { load_balancer: { host: mail.contoso.com, ssl_offload: true } }
  - network: { client_segment: { blocked: [login.microsoftonline.com] } }
  - clock: { advance: 2h }
when:
  - client: outlook-2013
    user: GregT@contoso.com
    action: reconnect
    settings: { EnableADAL: 1, Version: 1, mfa_code: "654321" }
  - request:
      method: POST
      url: https://mail.contoso.com/EWS/Exchange.asmx
      headers: { Authorization: Bearer }
  - token: { grant: refresh }
then:
  - status: 401
  - { step: 0, client_status: { authn: Bearer } }
  - header: { name: x-ms-diagnostics, starts_with: "2000003" }
  - claim: { name: amr, contains: mfa }
fix:
  - network: { load_balancer: { host: mail.contoso.com, ssl_offload: false } }
after_fix:
  - header: { name: x-ms-diagnostics, absent: true }
"#;
    let l = parse(text, "ssl-offloading.yaml", None, Some("ssl-offloading")).unwrap();
    let s = &l.scenario;
    assert_eq!(l.lab, LabRef::Builtin("contoso".into()));
    assert_eq!(s.given.len(), 4);
    assert!(
        matches!(&s.given[0], Action::Step(Step::Cmdlet(c)) if c.starts_with("Set-AuthServer EvoSts"))
    );
    assert!(matches!(&s.given[3], Action::Step(Step::Clock(c)) if c.advance.0 == 7200));
    match &s.when[0] {
        Action::Client(c) => {
            assert_eq!(c.client, ClientName::Profile(Profile::Outlook2013));
            assert_eq!(c.action, ConnectKind::Reconnect);
            assert_eq!(c.settings.enable_adal, Some(1));
            assert_eq!(c.settings.mfa_code.as_deref(), Some("654321"));
        }
        other => panic!("{other:?}"),
    }
    assert!(
        matches!(&s.when[1], Action::Request(r) if r.method == "POST" && r.headers["Authorization"] == "Bearer")
    );
    assert!(matches!(&s.then[0].check, Check::Status(401)));
    assert_eq!(s.then[1].step, Some(0));
    assert!(
        matches!(&s.then[1].check, Check::ClientStatus(m) if m.authn.as_deref() == Some("Bearer"))
    );
}

#[test]
fn unknown_field_names_the_place_and_the_nearest_name() {
    let text = format!(
        "{HEAD}when:\n  - client: outlook-2016\n    user: GregT@contoso.com\n    settngs: {{ EnableADAL: 1 }}\nthen:\n  - status: 401\ntwin:\n  - cmdlet: iisreset\n"
    );
    assert_eq!(
        err(&text),
        "t.yaml:7:5: when[0]: unknown field `settngs`, expected one of `client`, `user`, `action`, `settings`, `request`, `token`, `cmdlet`, `network`, `clock`; did you mean `settings`?"
    );
}

#[test]
fn unknown_client_profile_points_at_the_value() {
    let text = format!(
        "{HEAD}when:\n  - client: outlook-2106\n    user: GregT@contoso.com\nthen:\n  - status: 401\ntwin:\n  - cmdlet: iisreset\n"
    );
    assert_eq!(
        err(&text),
        "t.yaml:5:13: when[0]: unknown variant `outlook-2106`, expected one of `outlook`, `outlook-2010`, `outlook-2013`, `outlook-2016`, `outlook-2016-mac`, `eas`, `native-eas` (client profile; `outlook` is the Outlook installed on the user's machine); did you mean `outlook-2016`?"
    );
}

#[test]
fn client_outlook_is_the_installed_outlook_read_when_the_action_runs() {
    use crate::shell::backend::OutlookVersion;
    let text = format!(
        "{HEAD}given:\n  - client: outlook\n    user: GregT@contoso.com\nwhen:\n  - client: outlook\n    user: GregT@contoso.com\nthen:\n  - status: 401\nfix:\n  - client: outlook\n    user: GregT@contoso.com\nafter_fix:\n  - status: 200\n"
    );
    let l = parse(&text, "t.yaml", None, Some("t")).unwrap();
    let s = &l.scenario;
    let sections = [&s.given, &s.when, s.fix.as_ref().unwrap()];
    for list in sections {
        assert!(
            matches!(&list[0], Action::Client(c) if c.client == ClientName::Installed),
            "{list:?}"
        );
    }
    let c = ClientName::Installed;
    assert_eq!(c.resolve(None), Profile::Outlook2016);
    assert_eq!(
        c.resolve(Some(OutlookVersion::Outlook2010)),
        Profile::Outlook2010
    );
    assert_eq!(
        c.resolve(Some(OutlookVersion::Outlook2013)),
        Profile::Outlook2013
    );
    // A fixed profile ignores what is installed.
    assert_eq!(
        ClientName::Profile(Profile::Outlook2016Mac).resolve(Some(OutlookVersion::Outlook2010)),
        Profile::Outlook2016Mac
    );
    assert_eq!(serde_json::to_string(&c).unwrap(), "\"outlook\"");
    // At a prompt: `outlook` in any case, or any profile spelling.
    assert_eq!(ClientName::from_arg("Outlook"), Some(ClientName::Installed));
    assert_eq!(
        ClientName::from_arg("Outlook 2013"),
        Some(ClientName::Profile(Profile::Outlook2013))
    );
    assert_eq!(ClientName::from_arg("outlook-2099"), None);
    // In a file only the exact names.
    assert_eq!(ClientName::parse("Outlook"), None);
}

#[test]
fn unknown_expectation_kind_suggests_the_nearest() {
    let text = format!(
        "{HEAD}when:\n  - client: outlook-2016\n    user: U@contoso.com\nthen:\n  - x_ms_diagnostic: 2000003\ntwin:\n  - cmdlet: iisreset\n"
    );
    let e = err(&text);
    assert!(
        e.starts_with("t.yaml:8:5: then[0]: unknown field `x_ms_diagnostic`, expected one of `step`, `status`, `header`"),
        "{e}"
    );
    let text = format!(
        "{HEAD}when:\n  - client: outlook-2016\n    user: U@contoso.com\nthen:\n  - statuss: 401\ntwin:\n  - cmdlet: iisreset\n"
    );
    assert!(
        err(&text).ends_with("did you mean `status`?"),
        "{}",
        err(&text)
    );
}

#[test]
fn a_cmdlet_that_does_not_parse_is_placed_at_its_line_and_char() {
    let text = format!(
        "{HEAD}given:\n  - cmdlet: iisreset\n  - cmdlet: Set-MapiVirtualDirectory -Identity 'EX1\\mapi (Default Web Site)' -OAuthAuthentication $true\nwhen:\n  - client: outlook-2016\n    user: U@contoso.com\nthen:\n  - status: 401\ntwin:\n  - cmdlet: iisreset\n"
    );
    assert_eq!(
        err(&text),
        "t.yaml:6:78: cmdlet `Set-MapiVirtualDirectory -Identity 'EX1\\mapi (Default Web Site)' -OAuthAuthentication $true`: A parameter cannot be found that matches parameter name 'OAuthAuthentication'.; /mapi has no OAuth switch; list the methods explicitly: -IISAuthenticationMethods Ntlm, OAuth, Negotiate"
    );
    let text = format!(
        "{HEAD}given:\n  - cmdlet: Get-MapiVirtualDirectry\nwhen:\n  - client: outlook-2016\n    user: U@contoso.com\nthen:\n  - status: 401\ntwin:\n  - cmdlet: iisreset\n"
    );
    let e = err(&text);
    assert!(e.starts_with("t.yaml:5:13: cmdlet `Get-MapiVirtualDirectry`: The term 'Get-MapiVirtualDirectry' is not recognized"), "{e}");
    assert!(e.ends_with("did you mean Get-MapiVirtualDirectory?"), "{e}");
    // A syntax error inside the line: the column is the cmdlet's start plus PowerShell's char.
    let text = format!(
        "{HEAD}given:\n  - cmdlet: \"(Get-OrganizationConfig\"\nwhen:\n  - client: outlook-2016\n    user: U@contoso.com\nthen:\n  - status: 401\ntwin:\n  - cmdlet: iisreset\n"
    );
    let e = err(&text);
    assert!(e.starts_with("t.yaml:5:"), "{e}");
    assert!(e.contains("Missing closing ')'"), "{e}");
}

#[test]
fn a_cmdlet_check_may_assert_a_binding_error_but_must_parse() {
    let ok = format!(
        "{HEAD}when:\n  - client: outlook-2016\n    user: U@contoso.com\nthen:\n  - cmdlet: {{ run: \"Set-MapiVirtualDirectory -Identity x -OAuthAuthentication $true\", error: \"A parameter cannot be found\" }}\ntwin:\n  - cmdlet: iisreset\n{SHOWS}"
    );
    assert!(parse(&ok, "t.yaml", None, None).is_ok());
    let bad = format!(
        "{HEAD}when:\n  - client: outlook-2016\n    user: U@contoso.com\nthen:\n  - cmdlet: {{ run: \"Get-Mailbox | \", output: x }}\ntwin:\n  - cmdlet: iisreset\n"
    );
    assert!(
        err(&bad).contains("An empty pipe element is not allowed."),
        "{}",
        err(&bad)
    );
}

#[test]
fn a_scenario_has_a_fix_or_demonstrates_a_working_mechanism_with_a_twin() {
    let body = "when:\n  - client: outlook-2016\n    user: U@contoso.com\nthen:\n  - status: 401\n";
    let twin = "twin:\n  - cmdlet: iisreset\n";
    let fix = "fix:\n  - cmdlet: iisreset\nafter_fix:\n  - status: 200\n";
    // Neither `fix` nor `demonstrates`.
    assert_eq!(
        err(&format!("{HEAD}{body}{twin}")),
        "t.yaml:2:1: the scenario has no `fix`: add `fix` and `after_fix` (what repairs the broken state, and the checks after it), or, when nothing in it is broken, `demonstrates:` with the mechanism it shows working; e.g. `demonstrates: Exchange's metadata refresh picking up a rolled signing key`"
    );
    // Both.
    assert_eq!(
        err(&format!("{HEAD}{body}{fix}{SHOWS}")),
        "t.yaml:13:1: demonstrates: a scenario with `fix` shows something broken and its remedy, not a working mechanism; remove `demonstrates` (its `fix` and `after_fix` say what the scenario shows)"
    );
    // `demonstrates` without a twin: nothing could make it fail.
    assert_eq!(
        err(&format!("{HEAD}{body}{SHOWS}")),
        "t.yaml:9:1: the scenario has no twin: a scenario that demonstrates a working mechanism needs an explicit `twin` (what breaks it), so it cannot pass vacuously; add `twin:` with the steps that break the mechanism"
    );
    // Blank.
    assert_eq!(
        err(&format!("{HEAD}{body}{twin}demonstrates: \" \"\n")),
        "t.yaml:11:1: demonstrates: empty; say in one sentence what mechanism the scenario shows working"
    );
    // Not an exercise.
    let exercise = "exercise:\n  briefing: Greg cannot connect.\n  difficulty: 1\n";
    assert_eq!(
        err(&format!("{HEAD}{body}{twin}{SHOWS}{exercise}")),
        "t.yaml:12:1: exercise: a scenario that demonstrates a working mechanism has nothing for a trainee to fix; an exercise needs `fix` and `after_fix`"
    );
    // Each accepted form.
    let shown = parse(&format!("{HEAD}{body}{twin}{SHOWS}"), "t.yaml", None, None).unwrap();
    assert_eq!(
        shown.scenario.demonstrates.as_deref(),
        Some("Outlook's connection to Exchange")
    );
    let fixed = parse(&format!("{HEAD}{body}{fix}"), "t.yaml", None, None).unwrap();
    assert!(fixed.scenario.demonstrates.is_none() && fixed.scenario.fix.is_some());
}

#[test]
fn structural_rules() {
    // Two kinds in one step.
    let e = err(&format!(
        "{HEAD}given:\n  - {{ cmdlet: iisreset, clock: {{ advance: 1h }} }}\nwhen:\n  - client: outlook-2016\n    user: U@contoso.com\nthen:\n  - status: 401\ntwin:\n  - cmdlet: iisreset\n"
    ));
    assert!(
        e.contains("a step has exactly one of `cmdlet`, `network`, `clock`"),
        "{e}"
    );
    // A client without a user.
    let e = err(&format!(
        "{HEAD}when:\n  - client: outlook-2016\nthen:\n  - status: 401\ntwin:\n  - cmdlet: iisreset\n"
    ));
    assert!(e.contains("a `client` action needs `user`"), "{e}");
    // A step index past `when`.
    let e = err(&format!(
        "{HEAD}when:\n  - client: outlook-2016\n    user: U@contoso.com\nthen:\n  - {{ step: 3, status: 401 }}\ntwin:\n  - cmdlet: iisreset\n"
    ));
    assert!(e.contains("`step: 3` but `when` has 1 action(s)"), "{e}");
    // A header without a matcher.
    let e = err(&format!(
        "{HEAD}when:\n  - client: outlook-2016\n    user: U@contoso.com\nthen:\n  - header: {{ name: x-ms-diagnostics }}\ntwin:\n  - cmdlet: iisreset\n"
    ));
    assert!(
        e.contains("header `x-ms-diagnostics` needs a matcher"),
        "{e}"
    );
    // fix without after_fix.
    let e = err(&format!(
        "{HEAD}when:\n  - client: outlook-2016\n    user: U@contoso.com\nthen:\n  - status: 401\nfix:\n  - cmdlet: iisreset\n"
    ));
    assert!(e.contains("needs `after_fix`"), "{e}");
    // Unknown built-in lab.
    let e = err("version: 1\nname: t\nlab: contosso\nwhen:\n  - client: outlook-2016\n    user: U@contoso.com\nthen:\n  - status: 401\ntwin:\n  - cmdlet: iisreset\n");
    assert_eq!(e, "t.yaml:3:1: lab: no built-in lab named 'contosso' (built-in labs: contoso, contoso-pre-hma, contoso-federated, contoso-pta); did you mean `contoso`?");
    // The file stem must be the name.
    let text = format!(
        "{HEAD}when:\n  - client: outlook-2016\n    user: U@contoso.com\nthen:\n  - status: 401\ntwin:\n  - cmdlet: iisreset\n"
    );
    let e = parse(&text, "other.yaml", None, Some("other"))
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        "other.yaml:2:1: name: `t` differs from the file name `other`; name the file `t.yaml` or set `name: other`"
    );
    // Bad duration.
    let e = err(&format!(
        "{HEAD}given:\n  - clock: {{ advance: 2y }}\nwhen:\n  - client: outlook-2016\n    user: U@contoso.com\nthen:\n  - status: 401\ntwin:\n  - cmdlet: iisreset\n"
    ));
    assert_eq!(
        e,
        "t.yaml:5:23: given[0].clock: invalid duration `2y`, expected a number of seconds or a number with s, m, h or d (e.g. `2h`)"
    );
}

#[test]
fn steps_may_sit_between_actions() {
    let text = format!(
        "{HEAD}when:\n  - client: outlook-2016\n    user: U@contoso.com\n  - clock: {{ advance: 2h }}\n  - cmdlet: Revoke-AzureADUserAllRefreshToken -ObjectId U@contoso.com\n  - client: outlook-2016\n    user: U@contoso.com\n    action: reconnect\nthen:\n  - {{ step: 3, status: 401 }}\ntwin:\n  - cmdlet: iisreset\n{SHOWS}"
    );
    let l = parse(&text, "t.yaml", None, None).unwrap();
    assert_eq!(l.scenario.when.len(), 4);
    assert!(matches!(&l.scenario.when[1], Action::Step(Step::Clock(c)) if c.advance.0 == 7200));
    assert!(matches!(&l.scenario.when[2], Action::Step(Step::Cmdlet(_))));
    // Such a cmdlet is linted like a `given` one.
    let bad = text.replace("-ObjectId", "-ObjectIdd");
    assert!(err(&bad).starts_with("t.yaml:8:47: "), "{}", err(&bad));
    assert!(
        err(&bad).contains("A parameter cannot be found that matches parameter name 'ObjectIdd'.")
    );
}

#[test]
fn durations() {
    assert_eq!(parse_duration("90"), Some(90));
    assert_eq!(parse_duration("30s"), Some(30));
    assert_eq!(parse_duration("5m"), Some(300));
    assert_eq!(parse_duration("2h"), Some(7200));
    assert_eq!(parse_duration("91d"), Some(91 * 86_400));
    assert_eq!(parse_duration("-1h"), None);
    assert_eq!(parse_duration("h"), None);
    assert_eq!(parse_duration("99999999999d"), None);
}

#[test]
fn header_matchers_follow_the_contract() {
    use super::checks::HeaderMatch;
    let m = |equals: Option<&str>,
             contains: Option<&str>,
             not_contains: Option<&str>,
             starts: Option<&str>,
             absent: Option<bool>| HeaderMatch {
        name: "WWW-Authenticate".into(),
        equals: equals.map(Into::into),
        contains: contains.map(Into::into),
        not_contains: not_contains.map(Into::into),
        starts_with: starts.map(Into::into),
        absent,
    };
    let values = ["Bearer authorization_uri=\"x\"", "NTLM"];
    assert!(header_match(&m(Some("NTLM"), None, None, None, None), &values).0);
    assert!(!header_match(&m(Some("NTL"), None, None, None, None), &values).0);
    assert!(
        header_match(
            &m(None, Some("authorization_uri="), None, None, None),
            &values
        )
        .0
    );
    assert!(
        !header_match(
            &m(None, None, Some("authorization_uri="), None, None),
            &values
        )
        .0
    );
    assert!(header_match(&m(None, None, Some("Basic"), None, None), &values).0);
    assert!(header_match(&m(None, None, Some("Basic"), None, None), &[]).0);
    assert!(header_match(&m(None, None, None, Some("Bearer"), None), &values).0);
    assert!(!header_match(&m(None, None, None, None, Some(true)), &values).0);
    assert!(header_match(&m(None, None, None, None, Some(true)), &[]).0);
    assert!(header_match(&m(None, None, None, None, Some(false)), &values).0);
    let (_, expected, actual) = header_match(&m(None, Some("x"), None, None, None), &[]);
    assert_eq!(expected, "WWW-Authenticate containing \"x\"");
    assert_eq!(actual, "absent");
}

#[test]
fn text_matchers_need_every_condition() {
    use super::checks::TextMatch;
    let t = TextMatch {
        starts_with: Some("urn:ietf:wg:oauth:2.0:oob?error=invalid_resource".into()),
        contains: Some("AADSTS50001".into()),
        ..TextMatch::default()
    };
    assert!(
        text_match(
            &t,
            "urn:ietf:wg:oauth:2.0:oob?error=invalid_resource&error_description=AADSTS50001%3a"
        )
        .0
    );
    assert!(!text_match(&t, "urn:ietf:wg:oauth:2.0:oob?error=invalid_resource").0);
}

#[test]
fn junit_text_is_escaped_and_control_characters_dropped() {
    use super::report::xml;
    assert_eq!(
        xml("a<b & \"c\" 'd'>\u{1}\n"),
        "a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt;\u{FFFD}\n"
    );
}

#[test]
fn reason_and_no_exchange_parse_and_an_empty_absence_is_refused_at_its_place() {
    let text = format!(
        "{HEAD}twin:\n  - cmdlet: iisreset\nwhen:\n  - client: outlook-2010\n    user: U@contoso.com\nthen:\n  - reason: Bad Unicorn\n  - no_exchange: {{ to: exchange, scheme: Bearer }}\n  - exchange: {{ to: azure_ad, reason: Bad Unicorn }}\n{SHOWS}"
    );
    let l = parse(&text, "t.yaml", None, None).unwrap();
    let t = &l.scenario.then;
    assert!(matches!(&t[0].check, Check::Reason(r) if r == "Bad Unicorn"));
    assert!(matches!(&t[1].check, Check::NoExchange(m)
        if m.to == Some(super::checks::Service::Exchange) && m.scheme.as_deref() == Some("Bearer")));
    assert!(matches!(&t[2].check, Check::Exchange(m)
        if m.to == Some(super::checks::Service::AzureAd) && m.reason.as_deref() == Some("Bad Unicorn")));
    // An absence of "any exchange at all" is refused, placed on its key.
    let text = format!(
        "{HEAD}twin:\n  - cmdlet: iisreset\nwhen:\n  - client: outlook-2010\n    user: U@contoso.com\nthen:\n  - no_exchange: {{}}\n"
    );
    assert_eq!(
        err(&text),
        "t.yaml:10:5: then: no_exchange needs at least one condition (to, scheme, url_contains, …): an absence of any exchange at all is not a check"
    );
    // A misspelt field inside it, and a service that does not exist, are placed too.
    let text = format!(
        "{HEAD}twin:\n  - cmdlet: iisreset\nwhen:\n  - client: outlook-2010\n    user: U@contoso.com\nthen:\n  - no_exchange: {{ to: exchange, shceme: Bearer }}\n"
    );
    let e = err(&text);
    assert!(e.starts_with("t.yaml:10:"), "{e}");
    assert!(
        e.contains("unknown field `shceme`") && e.ends_with("did you mean `scheme`?"),
        "{e}"
    );
    let text = format!(
        "{HEAD}twin:\n  - cmdlet: iisreset\nwhen:\n  - client: outlook-2010\n    user: U@contoso.com\nthen:\n  - no_exchange: {{ to: exchnage }}\n"
    );
    let e = err(&text);
    assert!(e.starts_with("t.yaml:10:"), "{e}");
    assert!(e.contains("unknown variant `exchnage`"), "{e}");
}
