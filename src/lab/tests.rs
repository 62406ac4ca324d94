//! Lab-file tests that need no socket: the shipped labs and their differences, and parse errors
//! placed at the offending value with the fix. Whole labs over real loopback sockets (routing,
//! devices, several labs, the clock, shutdown) are end-to-end tests: `tests/it/lab.rs`.

use super::*;

fn parse(text: &str) -> Result<LabFile, FileError> {
    LabFile::parse(text, "lab.yaml", None)
}

/// The shipped contoso lab with one textual change.
fn contoso_with(from: &str, to: &str) -> String {
    let text = file::BUILTIN_LABS[0].1;
    assert!(text.contains(from), "{from}");
    text.replacen(from, to, 1)
}

fn line_of(text: &str, needle: &str) -> usize {
    text.lines().position(|l| l.contains(needle)).unwrap() + 1
}

#[test]
fn the_shipped_labs_parse_with_their_differences() {
    let hma = LabFile::builtin("contoso").unwrap();
    let pre = LabFile::builtin("contoso-pre-hma").unwrap();
    let spns = |l: &LabFile| {
        l.directory.tenants[0]
            .applications
            .iter()
            .find(|a| a.app_id.to_string() == "00000002-0000-0ff1-ce00-000000000000")
            .unwrap()
            .service_principal_names
            .clone()
    };
    // The default lab: the guide's second listing (added names without their trailing slash);
    // before HMA: the first listing, without them in either spelling.
    assert!(spns(&hma).contains(&"https://mail.corp.contoso.com".to_string()));
    assert!(spns(&hma).contains(&"https://owa.contoso.com".to_string()));
    assert!(!spns(&pre)
        .iter()
        .any(|s| s.trim_end_matches('/') == "https://mail.corp.contoso.com"));
    let org = |l: &LabFile| l.organization.clone();
    assert!(org(&hma).org_config.oauth2_client_profile_enabled);
    assert!(!org(&pre).org_config.oauth2_client_profile_enabled);
    assert!(org(&hma).auth_servers[0].is_default_authorization_endpoint);
    assert!(!org(&pre).auth_servers[0].is_default_authorization_endpoint);
    let mapi = |l: &LabFile| {
        l.organization.servers[0]
            .vdir(mock_exchange::model::VdirKind::Mapi)
            .unwrap()
            .clone()
    };
    use mock_exchange::model::AuthMethod::{Negotiate, Ntlm, OAuth};
    assert_eq!(
        mapi(&hma).iis_authentication_methods,
        [Ntlm, OAuth, Negotiate]
    );
    assert_eq!(mapi(&pre).iis_authentication_methods, [Ntlm, Negotiate]);
    assert_eq!(
        mapi(&hma).internal_url.as_deref(),
        Some("https://mail.corp.contoso.com/mapi")
    );
    assert_eq!(hma.network, pre.network);
    let e = LabFile::builtin("contosso").unwrap_err();
    assert_eq!(
        e.to_string(),
        "contosso: no built-in lab named 'contosso' (built-in labs: contoso, contoso-pre-hma, contoso-federated, contoso-pta); did you mean `contoso`?"
    );
}

#[test]
fn unknown_fields_are_placed_and_named_at_any_depth() {
    let text = contoso_with("network:\n", "netwrk:\n");
    let e = parse(&text).unwrap_err();
    assert_eq!((e.line, e.column), (line_of(&text, "netwrk:"), 1));
    assert!(e.message.contains("unknown field `netwrk`"), "{e}");
    assert_eq!(e.hint.as_deref(), Some("did you mean `network`?"));

    // Deep inside the inline Exchange half.
    let text = contoso_with(
        "    oauth2_client_profile_enabled: true",
        "    oauth2_client_profile_enable: true",
    );
    let e = parse(&text).unwrap_err();
    let line = line_of(&text, "oauth2_client_profile_enable:");
    assert_eq!(
        e.to_string(),
        format!("lab.yaml:{line}:5: exchange.org_config: unknown field `oauth2_client_profile_enable`, expected `oauth2_client_profile_enabled` or `mapi_http_enabled`; did you mean `oauth2_client_profile_enabled`?")
    );

    // A device kind that does not exist.
    let text = contoso_with("    - client_segment: {", "    - client_segmnt: {");
    let e = parse(&text).unwrap_err();
    assert_eq!(e.line, line_of(&text, "client_segmnt"));
    assert_eq!(e.hint.as_deref(), Some("did you mean `client_segment`?"));
}

#[test]
fn wiring_errors_point_at_the_value() {
    // A vdir URL on a name the network does not route.
    let text = contoso_with(
        "external_url: https://mail.contoso.com/mapi",
        "external_url: https://mail.contoso.con/mapi",
    );
    let e = parse(&text).unwrap_err();
    let line = line_of(&text, "https://mail.contoso.con/mapi");
    assert_eq!(
        e.to_string(),
        format!("lab.yaml:{line}:25: mapi (Default Web Site) on EX1 uses host 'mail.contoso.con', which the lab network does not route; add it to network.exchange_namespaces; did you mean `mail.contoso.com`?")
    );

    // An AzureAD AuthServer whose metadata is not on an Azure AD host.
    let text = contoso_with(
        "auth_metadata_url: https://login.windows.net/contoso.com/",
        "auth_metadata_url: https://adfs.contoso.com/contoso.com/",
    );
    let e = parse(&text).unwrap_err();
    assert_eq!(e.line, line_of(&text, "https://adfs.contoso.com/"));
    assert_eq!(
        e.message,
        "AuthServer 'EvoSts' (AzureAD) reads its metadata from 'adfs.contoso.com', which is not an Azure AD host (login.microsoftonline.com, login.windows.net, login.microsoft.com, sts.windows.net)"
    );

    // …or for a tenant the directory does not have.
    let text = contoso_with(
        "https://login.windows.net/contoso.com/",
        "https://login.windows.net/fabrikam.com/",
    );
    let e = parse(&text).unwrap_err();
    assert_eq!(e.line, line_of(&text, "fabrikam.com"));
    assert!(e.message.contains("tenant 'fabrikam.com'"), "{e}");

    // A load balancer in front of a server that does not exist.
    let text = contoso_with("targets: [EX1]", "targets: [EX01]");
    let e = parse(&text).unwrap_err();
    let line = line_of(&text, "EX01");
    assert_eq!(
        e.to_string(),
        format!("lab.yaml:{line}:78: load balancer for 'mail.contoso.com' targets unknown server 'EX01' (servers: EX1); did you mean `EX1`?")
    );

    // A blocked name that is not in the lab.
    let text = contoso_with("blocked: []", "blocked: [login.microsoftonline.co]");
    let e = parse(&text).unwrap_err();
    assert_eq!(e.line, line_of(&text, "login.microsoftonline.co]"));
    assert_eq!(
        e.hint.as_deref(),
        Some("did you mean `login.microsoftonline.com`?")
    );

    // An Exchange-half semantic error (mock-exchange's own checks) on an inline half.
    let text = contoso_with(
        "      server: EX1\n      guid: 3b5a",
        "      server: EX9\n      guid: 3b5a",
    );
    let e = parse(&text).unwrap_err();
    assert_eq!(e.line, line_of(&text, "server: EX9"));
    assert_eq!(
        e.message,
        "mailbox 'GregT@contoso.com' is on unknown server 'EX9'"
    );

    // Versions.
    let text = contoso_with("version: 1\nname: contoso", "version: 2\nname: contoso");
    let e = parse(&text).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "lab.yaml:{}:1: unsupported lab file version 2; expected 1",
            line_of(&text, "version: 2")
        )
    );
}

#[test]
fn certificate_states_are_lab_file_devices_checked_against_the_lab_hosts() {
    let text = contoso_with(
        "    - client_segment: { blocked: [] }",
        "    - client_segment: { blocked: [] }\n    - certificate: { host: Mail.Contoso.com, state: expired }\n    - certificate: { host: login.windows.net, state: untrusted }",
    );
    let lab = parse(&text).unwrap();
    let d = lab.devices();
    assert_eq!(d.cert_state("mail.contoso.com"), CertState::Expired);
    assert_eq!(d.cert_state("LOGIN.WINDOWS.NET."), CertState::Untrusted);
    assert_eq!(d.cert_state("autodiscover.contoso.com"), CertState::Valid);

    // A host the lab does not have: placed at the value, with the nearest lab host.
    let text = contoso_with(
        "    - client_segment: { blocked: [] }",
        "    - client_segment: { blocked: [] }\n    - certificate: { host: mail.contoso.con, state: expired }",
    );
    let e = parse(&text).unwrap_err();
    assert_eq!(e.line, line_of(&text, "mail.contoso.con"));
    assert!(
        e.message
            .starts_with("certificate host 'mail.contoso.con' is not a host of the lab ("),
        "{e}"
    );
    assert_eq!(e.hint.as_deref(), Some("did you mean `mail.contoso.com`?"));

    // A state that does not exist.
    let text = contoso_with(
        "    - client_segment: { blocked: [] }",
        "    - client_segment: { blocked: [] }\n    - certificate: { host: mail.contoso.com, state: expird }",
    );
    let e = parse(&text).unwrap_err();
    assert_eq!(e.line, line_of(&text, "expird"));
    assert!(e.message.contains("unknown variant `expird`"), "{e}");
    assert_eq!(e.hint.as_deref(), Some("did you mean `expired`?"));

    // Setting `valid` removes the entry rather than keeping it.
    let mut d = Devices::default();
    d.put(Device::Certificate(Certificate {
        host: "mail.contoso.com".into(),
        state: CertState::WrongName,
    }));
    d.put(Device::Certificate(Certificate {
        host: "MAIL.contoso.com".into(),
        state: CertState::Valid,
    }));
    assert!(d.certificates.is_empty());
}
