//! Bad input never panics: malformed SOAP, huge bodies, garbage NTLM tokens, odd queries.

use crate::common::*;
use crate::trust::request_failed;

#[tokio::test]
async fn malformed_soap_is_a_fault_never_a_panic() {
    let h = start().await;
    let path = "/adfs/services/trust/13/usernamemixed";
    let deep = "<a>".repeat(5000) + &"</a>".repeat(5000);
    let bomb = "<!DOCTYPE s [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;\">]><s:Envelope xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\"><s:Body>&b;</s:Body></s:Envelope>";
    let cases = [
        "",
        "not xml at all",
        "<s:Envelope xmlns:s='http://www.w3.org/2003/05/soap-envelope'><s:Body>",
        "<s:Envelope xmlns:s='http://www.w3.org/2003/05/soap-envelope'><s:Body/></s:Envelope>",
        "<Envelope/>",
        "<x:Envelope xmlns:y='urn:y'/>",
        "<s:Envelope xmlns:s='http://www.w3.org/2003/05/soap-envelope'><s:Body><t:RequestSecurityToken xmlns:t='http://docs.oasis-open.org/ws-sx/ws-trust/200512'/></s:Body></s:Envelope>",
        &deep,
        bomb,
        "\u{0}\u{1}\u{2}<<>>&&&",
    ];
    for body in cases {
        let r = request(
            &h,
            "POST",
            path,
            &[("Content-Type", "application/soap+xml")],
            body,
        )
        .await;
        assert_eq!(r.status, 500, "{body:.60}");
        assert!(
            r.body.ends_with(&request_failed()),
            "{body:.60}: {}",
            r.body
        );
    }
}

#[tokio::test]
async fn huge_bodies_are_refused_with_413() {
    let h = start().await;
    let big = "x".repeat(300 * 1024);
    for path in ["/adfs/services/trust/13/usernamemixed", SIGN_IN] {
        let r = request(&h, "POST", path, &[], &big).await;
        assert_eq!(r.status, 413, "{path}");
    }
}

#[tokio::test]
async fn garbage_windows_tokens_are_challenged_again() {
    let h = start().await;
    for auth in [
        "Negotiate",
        "Negotiate !!!notbase64",
        "Negotiate YIIBhgYGKwYBBQUCoIIBejCCAXagMDAuBgkqhkiC9xIBAgIGCSqGSIb3EgECAgYKKwYBBAGCNwICHgYKKwYBBAGCNwICCg==",
        "NTLM TlRMTVNTUAADAAAA",
        "NTLM TlRMTVNTUAABAAAA",
        "NTLM TlRMTVNTUAAHAAAAAAAAAAAAAAA=",
        "Basic R3JlZ1Q6Q29udG9zbzIwMTch",
    ] {
        let r = request(&h, "GET", SIGN_IN, &[("User-Agent", IE11), ("Authorization", auth)], "").await;
        assert_eq!(r.status, 401, "{auth}");
        assert_eq!(r.headers_named("www-authenticate"), ["Negotiate", "NTLM"], "{auth}");
    }
    let long = format!("NTLM {}", "A".repeat(20_000));
    let r = request(
        &h,
        "GET",
        SIGN_IN,
        &[("User-Agent", IE11), ("Authorization", &long)],
        "",
    )
    .await;
    assert_eq!(r.status, 401);
}

#[tokio::test]
async fn odd_sign_in_requests_get_pages_not_errors() {
    let h = start().await;
    let long = "x".repeat(6000);
    let paths = [
        "/adfs/ls/?wa=wsignin1.0".to_string(),
        "/adfs/ls/?wa=wsignin1.0&wtrealm=%ff%fe".to_string(),
        format!("/adfs/ls/?wa=wsignin1.0&wtrealm=urn%3afederation%3aMicrosoftOnline&wctx={long}"),
        "/adfs/ls/?wa=wsignin1.0&wtrealm=urn%3afederation%3aMicrosoftOnline&username=%3Cscript%3E"
            .to_string(),
        "/adfs/ls?wa=&&&==".to_string(),
    ];
    for p in &paths {
        let r = request(&h, "GET", p, &[], "").await;
        assert!(r.status == 200 || r.status == 400, "{p:.80}: {}", r.status);
        assert!(!r.body.contains("<script>"), "escaped");
    }
    let r = request(
        &h,
        "POST",
        SIGN_IN,
        &[("Cookie", "MSISAuth=forged")],
        "AuthMethod=AzureMfaAuthentication&VerificationCode=123456",
    )
    .await;
    assert_eq!(r.status, 200);
    assert!(r.body.contains("id=\"userNameInput\""));
}
