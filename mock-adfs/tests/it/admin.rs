//! The admin API: guard, properties, certificates and rollover, clock, healthz.

use lab_kit::saml::assertion::read_wresult;
use lab_kit::saml::{DsigError, SamlError};

use crate::common::*;

#[tokio::test]
async fn the_admin_api_needs_the_token() {
    let h = start().await;
    let r = request(&h, "GET", "/_admin/properties", &[], "").await;
    assert_eq!(r.status, 401);
    assert_eq!(
        r.header("www-authenticate"),
        Some("Bearer realm=\"mock-adfs admin\"")
    );
    assert_eq!(
        r.body,
        r#"{"error":"unauthorized","message":"missing or wrong admin token: send Authorization: Bearer <admin_token>"}"#
    );
    let r = request(
        &h,
        "GET",
        "/_admin/nothing",
        &[("Authorization", "Bearer wrong")],
        "",
    )
    .await;
    assert_eq!(r.status, 401);
    let (k, v) = admin(&h);
    let r = request(&h, "GET", "/_admin/nothing", &[(k, &v)], "").await;
    assert_eq!(r.status, 404);
    assert_eq!(
        r.body,
        r#"{"error":"not_found","message":"no such admin call"}"#
    );
}

#[tokio::test]
async fn properties_are_read_and_set_as_the_cmdlets_name_them() {
    let h = start().await;
    let (k, v) = admin(&h);
    let r = request(&h, "GET", "/_admin/properties", &[(k, &v)], "").await;
    assert_eq!(r.status, 200);
    let p: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(p["ExtendedProtectionTokenCheck"], "Allow");
    assert_eq!(p["HostName"], "adfs.contoso.com");
    assert_eq!(
        p["Identifier"],
        "http://adfs.contoso.com/adfs/services/trust"
    );
    let r = request(
        &h,
        "PATCH",
        "/_admin/properties",
        &[(k, &v)],
        r#"{"ExtendedProtectionTokenCheck":"require"}"#,
    )
    .await;
    let p: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(p["ExtendedProtectionTokenCheck"], "Require");
    let r = request(
        &h,
        "PATCH",
        "/_admin/properties",
        &[(k, &v)],
        r#"{"ExtendedProtectionTokenCheck":"Sometimes"}"#,
    )
    .await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.body,
        r#"{"error":"bad_request","message":"ExtendedProtectionTokenCheck 'Sometimes' is not one of None, Allow, Require"}"#
    );
    let r = request(&h, "PATCH", "/_admin/properties", &[(k, &v)], "{not json").await;
    assert_eq!(r.status, 400);
    assert!(r.body.contains("line 1, column 2"), "{}", r.body);
}

#[tokio::test]
async fn token_signing_rollover_switches_the_signing_certificate() {
    let h = start().await;
    let (k, v) = admin(&h);
    let list = |body: &str| serde_json::from_str::<serde_json::Value>(body).unwrap();
    let r = request(&h, "GET", "/_admin/certificates", &[(k, &v)], "").await;
    let before = list(&r.body);
    assert_eq!(before.as_array().unwrap().len(), 1);
    assert_eq!(before[0]["CertificateType"], "Token-Signing");
    assert_eq!(before[0]["IsPrimary"], true);
    assert_eq!(before[0]["Subject"], "CN=ADFS Signing - adfs.contoso.com");
    let old = mock_adfs::keys::shipped()[0].cert.clone();
    let new = mock_adfs::keys::shipped()[1].cert.clone();
    assert_eq!(before[0]["Thumbprint"], old.thumbprint());

    // Without -Urgent: published as secondary, not signing yet.
    let r = request(
        &h,
        "POST",
        "/_admin/certificates/update",
        &[(k, &v)],
        r#"{"CertificateType":"Token-Signing"}"#,
    )
    .await;
    let after = list(&r.body);
    assert_eq!(after[1]["Thumbprint"], new.thumbprint());
    assert_eq!(after[1]["IsPrimary"], false);
    assert_eq!(published_certs(&h).await, [old.clone(), new.clone()]);
    let cookie = forms_session(&h, "GregT@contoso.com").await;
    let page = request(&h, "GET", SIGN_IN, &[("Cookie", &cookie)], "")
        .await
        .body;
    let wresult = hidden(&page, "wresult").unwrap();
    assert!(read_wresult(&wresult, std::slice::from_ref(&old)).is_ok());

    // -Urgent: the new certificate signs at once; a party that trusts only the old one refuses.
    let r = request(
        &h,
        "POST",
        "/_admin/certificates/update",
        &[(k, &v)],
        r#"{"Urgent":true}"#,
    )
    .await;
    let after = list(&r.body);
    assert_eq!(after[0]["Thumbprint"], new.thumbprint());
    assert_eq!(after[0]["IsPrimary"], true);
    assert_eq!(after[1]["Thumbprint"], old.thumbprint());
    let page = request(&h, "GET", SIGN_IN, &[("Cookie", &cookie)], "")
        .await
        .body;
    let wresult = hidden(&page, "wresult").unwrap();
    assert_eq!(
        read_wresult(&wresult, std::slice::from_ref(&old)),
        Err(SamlError::Signature(DsigError::UntrustedKey {
            thumbprint: new.thumbprint()
        }))
    );
    assert_eq!(
        read_wresult(&wresult, &[old, new])
            .unwrap()
            .verified
            .trusted_index,
        1
    );

    let r = request(
        &h,
        "POST",
        "/_admin/certificates/update",
        &[(k, &v)],
        r#"{"CertificateType":"Token-Decrypting"}"#,
    )
    .await;
    assert_eq!(r.status, 400);
}

#[tokio::test]
async fn the_clock_moves_by_admin_call() {
    let h = start().await;
    let (k, v) = admin(&h);
    let r = request(
        &h,
        "POST",
        "/_admin/clock/advance?seconds=3600",
        &[(k, &v)],
        "",
    )
    .await;
    assert_eq!(r.status, 200);
    let c: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(c["offset_seconds"], 3600);
    let r = request(
        &h,
        "POST",
        "/_admin/clock/advance?seconds=x",
        &[(k, &v)],
        "",
    )
    .await;
    assert_eq!(r.status, 400);
    let r = request(
        &h,
        "POST",
        "/_admin/clock/advance?seconds=99999999999",
        &[(k, &v)],
        "",
    )
    .await;
    assert_eq!(r.status, 400);
}

#[tokio::test]
async fn the_farm_and_users_are_shown_and_edits_are_checked() {
    let h = start().await;
    let (k, v) = admin(&h);
    let r = request(&h, "GET", "/_admin/users", &[(k, &v)], "").await;
    let users: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(users[0]["UserPrincipalName"], "GregT@contoso.com");
    assert_eq!(users[0]["ImmutableID"], GREG_IMMUTABLE_ID);
    let r = request(&h, "GET", "/_admin/farm", &[(k, &v)], "").await;
    let mut farm: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    farm["users"][1]["upn"] = farm["users"][0]["upn"].clone();
    let r = request(&h, "PUT", "/_admin/farm", &[(k, &v)], &farm.to_string()).await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.body,
        r#"{"error":"bad_request","message":"users: upn `GregT@contoso.com` appears twice"}"#
    );
}

#[tokio::test]
async fn healthz_answers_without_a_token() {
    let h = start().await;
    let r = request(&h, "GET", "/healthz", &[], "").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.body, r#"{"status":"ok","service":"mock-adfs"}"#);
}

#[test]
fn the_binary_prints_one_ready_line_and_refuses_a_bad_lab() {
    use lab_kit::testkit::process::Started;
    let exe = env!("CARGO_BIN_EXE_mock-adfs");
    let started = Started::spawn(std::process::Command::new(exe).args(["--listen", "127.0.0.1:0"]));
    assert_eq!(started.field("event"), "ready");
    assert_eq!(started.field("service"), "mock-adfs");
    assert!(started.field("url").starts_with("http://127.0.0.1:"));
    let (code, _) = started.sigterm();
    assert_eq!(code, Some(0));

    let dir = lab_kit::testkit::temp_dir("adfs-lab");
    let lab = dir.join("bad.yaml");
    std::fs::write(&lab, "version: 1\nhost: adfs.contoso.com\ndomain: { netbios: CONTOSO, dns: contoso.com }\nusrs: []\n").unwrap();
    let out = std::process::Command::new(exe)
        .arg("--lab")
        .arg(&lab)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with(&format!("{}:4:1: ", lab.display())),
        "{err}"
    );
    assert!(err.contains("did you mean `users`?"), "{err}");
    let _ = std::fs::remove_dir_all(dir);
}
