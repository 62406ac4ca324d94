//! Lab files: every semantic error has its exact text, its file:line:column and a fix hint;
//! the fixtures under `tests/fixtures/` are the inputs.

use mock_aad::labfile;

fn fixture(name: &str) -> String {
    format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// The error text of a fixture, with the directory part of the path removed.
fn error_of(name: &str) -> String {
    let path = fixture(name);
    let e = labfile::load(&path).expect_err("the fixture is invalid");
    e.to_string().replacen(&path, name, 1)
}

#[test]
fn a_valid_lab_loads() {
    let dir = labfile::load(fixture("valid.yaml")).unwrap();
    let t = &dir.tenants[0];
    assert_eq!(t.display_name, "Fabrikam");
    assert_eq!(t.users[0].upn, "ann@fabrikam.com");
    assert_eq!(t.users[0].puid, "1003000000000001");
    assert_eq!(
        t.applications[1].granted[0].scopes,
        ["EWS.AccessAsUser.All"]
    );
    assert_eq!(t.conditional_access[0].name, "mfa-for-ann");
}

#[test]
fn the_shipped_contoso_lab_is_valid() {
    let dir = labfile::parse_str(mock_aad::CONTOSO_LAB, "contoso.yaml").unwrap();
    assert!(labfile::check(&dir).is_ok());
}

#[test]
fn version_must_be_1() {
    assert_eq!(
        error_of("bad-version.yaml"),
        "bad-version.yaml:2:1: version: unsupported lab file version 2; this build reads version 1; set `version: 1`"
    );
}

#[test]
fn duplicate_tid() {
    assert_eq!(
        error_of("dup-tid.yaml"),
        "dup-tid.yaml:9:5: tenants[1].tid: duplicate tenant id 11111111-1111-1111-1111-111111111111 (tenants[0] has it too); every tenant needs its own tid"
    );
}

#[test]
fn a_domain_in_two_tenants() {
    assert_eq!(
        error_of("dup-domain.yaml"),
        "dup-domain.yaml:13:11: tenants[1].domains[1].name: domain fabrikam.com is already used by tenants[0]; a domain belongs to one tenant and is listed once"
    );
}

#[test]
fn federated_domain_without_federation() {
    assert_eq!(
        error_of("federated-no-block.yaml"),
        "federated-no-block.yaml:9:9: tenants[0].domains[2]: federated domain corp.fabrikam.com has no `federation` block; add `federation: { issuer_uri, passive_log_on_uri, signing_certificate }`, or set `kind: managed`"
    );
}

#[test]
fn upn_without_at() {
    assert_eq!(
        error_of("upn-no-at.yaml"),
        "upn-no-at.yaml:10:9: tenants[0].users[0].upn: ann.fabrikam.com is not of the form user@domain; a UPN is <name>@<verified domain>, e.g. someone@fabrikam.com"
    );
}

#[test]
fn upn_outside_the_verified_domains() {
    assert_eq!(
        error_of("upn-wrong-domain.yaml"),
        "upn-wrong-domain.yaml:10:9: tenants[0].users[0].upn: domain fabrikan.com of ann@fabrikan.com is not a verified domain of tenant Fabrikam; did you mean `fabrikam.com`?"
    );
}

#[test]
fn duplicate_upn_compared_without_case() {
    assert_eq!(
        error_of("dup-upn.yaml"),
        "dup-upn.yaml:15:9: tenants[0].users[1].upn: duplicate user Ann@Fabrikam.com (users[0] has it too); UPNs are unique within a tenant, compared without case"
    );
}

#[test]
fn puid_must_be_16_hex_digits() {
    assert_eq!(
        error_of("bad-puid.yaml"),
        "bad-puid.yaml:12:9: tenants[0].users[0].puid: 1003BFFD9ACA40E is not 16 hexadecimal digits; a PUID looks like 1003BFFD9ACA40EE"
    );
}

#[test]
fn duplicate_oid() {
    assert_eq!(
        error_of("dup-oid.yaml"),
        "dup-oid.yaml:16:14: tenants[0].users[1].oid: duplicate object id 22222222-2222-2222-2222-222222222222 (users[0] has it too); every user needs its own oid"
    );
}

#[test]
fn duplicate_app_id() {
    assert_eq!(
        error_of("dup-app.yaml"),
        "dup-app.yaml:12:9: tenants[0].applications[1].app_id: duplicate application 00000002-0000-0ff1-ce00-000000000000 (applications[0] has it too); an application appears once per tenant; merge the two entries"
    );
}

#[test]
fn granted_names_an_unknown_resource() {
    assert_eq!(
        error_of("granted-unknown.yaml"),
        "granted-unknown.yaml:15:13: tenants[0].applications[1].granted[0].resource: no application 00000002-0000-0ff1-ce00-000000000001 in this tenant; did you mean `00000002-0000-0ff1-ce00-000000000000` (Office 365 Exchange Online)?"
    );
}

#[test]
fn duplicate_ca_rule_name() {
    assert_eq!(
        error_of("dup-ca-name.yaml"),
        "dup-ca-name.yaml:17:11: tenants[0].conditional_access[1].name: duplicate rule name Block-Ann; the admin API addresses rules by name; make them unique"
    );
}

#[test]
fn ca_rule_names_an_unknown_user() {
    assert_eq!(
        error_of("ca-unknown-user.yaml"),
        "ca-unknown-user.yaml:17:17: tenants[0].conditional_access[0].users[0]: no user anne@fabrikam.com in this tenant; did you mean `ann@fabrikam.com`?"
    );
}

#[test]
fn unknown_field_gets_place_and_nearest_name() {
    assert_eq!(
        error_of("unknown-field.yaml"),
        "unknown-field.yaml:14:9: tenants[0].users[0]: unknown field `passwrd`, expected one of `upn`, `oid`, `onprem_sid`, `puid`, `given_name`, `family_name`, `display_name`, `password`, `enabled`, `locked`, `mfa`, `tokens_valid_from`, `immutable_id`, `on_premises`, `consented_apps`; did you mean `password`?"
    );
}

#[test]
fn a_missing_file_is_a_file_error() {
    let e = labfile::load(fixture("no-such-lab.yaml")).unwrap_err();
    assert_eq!(e.line, 0);
    assert!(
        e.to_string().starts_with(&format!(
            "{}: cannot read the lab file: ",
            fixture("no-such-lab.yaml")
        )),
        "{e}"
    );
}

#[test]
fn problems_in_json_text_are_placed_too() {
    // The admin API checks `PUT /_admin/directory` bodies with the same rules.
    let text = r#"{"version":1,"tenants":[{"tid":"11111111-1111-1111-1111-111111111111","display_name":"F","domains":[{"name":"f.com"}],
"users":[{"upn":"a@f.com","oid":"22222222-2222-2222-2222-222222222222","puid":"XYZ","display_name":"A","password":"p"}]}]}"#;
    let dir: mock_aad::Directory = serde_json::from_str(text).unwrap();
    let p = labfile::check(&dir).unwrap_err();
    assert_eq!(p.kind, labfile::ProblemKind::Invalid);
    let e = p.into_file_error("body", text);
    assert_eq!(
        e.to_string(),
        "body:2:72: tenants[0].users[0].puid: XYZ is not 16 hexadecimal digits; a PUID looks like 1003BFFD9ACA40EE"
    );
}
