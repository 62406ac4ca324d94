//! Lab file semantic checks: each mistake named with file, line and what to do.

use mock_exchange::labfile::parse_str;

fn err(text: &str) -> String {
    match parse_str(text, "lab.yaml") {
        Ok(_) => panic!("expected an error for:\n{text}"),
        Err(e) => e.to_string(),
    }
}

const HEAD: &str = "version: 1\nname: X\ndomain: x.com\n";

fn server(name: &str, version: &str) -> String {
    format!("  - name: {name}\n    fqdn: {name}.x.com\n    version: \"{version}\"\n    vdirs:\n      - {{ kind: ews, name: EWS }}\n")
}

#[test]
fn duplicate_server() {
    let t = format!(
        "{HEAD}servers:\n{}{}",
        server("EX1", "2016"),
        server("EX1", "2013")
    );
    assert_eq!(err(&t), "lab.yaml:5:5: duplicate server 'EX1'");
}

#[test]
fn vdir_kind_twice() {
    let t = format!("{HEAD}servers:\n  - name: EX1\n    fqdn: ex1.x.com\n    version: \"2016\"\n    vdirs:\n      - kind: ews\n        name: a\n      - kind: ews\n        name: b\n");
    assert_eq!(
        err(&t),
        "lab.yaml:9:9: server 'EX1' has the Ews virtual directory twice"
    );
}

#[test]
fn mailbox_on_unknown_server_with_hint() {
    let t = format!(
        "{HEAD}servers:\n{}accounts:\n  - {{ sam: A, upn: a@x.com, sid: S-1-5-21-1, password: p }}\nmailboxes:\n  - primary_smtp_address: a@x.com\n    owner_sid: S-1-5-21-1\n    server: EX2\n    guid: 3b5a9c6e-2f4d-4c1a-9e7b-8d6f5a4c3b21\n    display_name: A\n",
        server("EX1", "2016")
    );
    assert_eq!(
        err(&t),
        "lab.yaml:15:5: mailbox 'a@x.com' is on unknown server 'EX2'; did you mean `EX1`?"
    );
}

#[test]
fn mailbox_owner_without_account() {
    let t = format!(
        "{HEAD}servers:\n{}mailboxes:\n  - primary_smtp_address: a@x.com\n    owner_sid: S-1-5-21-9\n    server: EX1\n    guid: 3b5a9c6e-2f4d-4c1a-9e7b-8d6f5a4c3b21\n    display_name: A\n",
        server("EX1", "2016")
    );
    assert_eq!(
        err(&t),
        "lab.yaml:12:16: mailbox 'a@x.com' is owned by SID S-1-5-21-9 but no account has that SID"
    );
}

#[test]
fn evosts_with_exchange_2010_needs_force() {
    let body = format!(
        "servers:\n{}{}auth_servers:\n  - name: EvoSts\n    type: AzureAD\n    auth_metadata_url: https://login.windows.net/x.com/federationmetadata/2007-06/federationmetadata.xml\n",
        server("EX1", "2016"),
        server("EX2010", "2010")
    );
    let e = err(&format!("{HEAD}{body}"));
    assert!(e.starts_with("lab.yaml:16:5: AuthServer 'EvoSts' (AzureAD) cannot exist while an Exchange 2010 server is in the organization"), "{e}");
    assert!(e.ends_with("; remove the Exchange 2010 server, or add `force: true` at the top level to model a forced configuration"), "{e}");
    let forced = parse_str(&format!("{HEAD}force: true\n{body}"), "lab.yaml")
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(forced.auth_servers.len(), 1);
}

#[test]
fn unknown_fields_name_the_place() {
    let t = format!("{HEAD}servers:\n  - name: EX1\n    fqdn: ex1.x.com\n    versoin: \"2016\"\n    vdirs: []\n");
    let e = err(&t);
    assert!(e.starts_with("lab.yaml:7:"), "{e}");
}
