//! Active WS-Trust 1.3 and 2005, as MSAL Python's federated username/password flow sends it.

use lab_kit::saml::assertion::{read_assertion, AM_PASSWORD, AM_WINDOWS};
use lab_kit::saml::SamlVersion;

use crate::common::*;

const T13: &str = "http://docs.oasis-open.org/ws-sx/ws-trust/200512";
const T2005: &str = "http://schemas.xmlsoap.org/ws/2005/02/trust";

/// MSAL Python's RST (msal/wstrust_request.py), single quotes and all.
fn rst(endpoint: &str, wst: &str, user: &str, password: &str, token_type: Option<&str>) -> String {
    let (action, key_type, request_type) = if wst == T13 {
        (
            format!("{T13}/RST/Issue"),
            format!("{T13}/Bearer"),
            format!("{T13}/Issue"),
        )
    } else {
        (
            format!("{T2005}/RST/Issue"),
            "http://schemas.xmlsoap.org/ws/2005/05/identity/NoProofKey".to_string(),
            format!("{T2005}/Issue"),
        )
    };
    let tt = token_type
        .map(|t| format!("<wst:TokenType>{t}</wst:TokenType>"))
        .unwrap_or_default();
    let security = if user.is_empty() {
        String::new()
    } else {
        format!(
            "<wsse:Security s:mustUnderstand='1' xmlns:wsse='http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd'>\
             <wsu:Timestamp wsu:Id='_0'><wsu:Created>2026-01-01T00:00:00Z</wsu:Created><wsu:Expires>2026-01-01T00:10:00Z</wsu:Expires></wsu:Timestamp>\
             <wsse:UsernameToken wsu:Id='ADALUsernameToken'><wsse:Username>{user}</wsse:Username><wsse:Password>{password}</wsse:Password></wsse:UsernameToken></wsse:Security>"
        )
    };
    format!(
        "<s:Envelope xmlns:s='http://www.w3.org/2003/05/soap-envelope' xmlns:wsa='http://www.w3.org/2005/08/addressing' \
         xmlns:wsu='http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd'><s:Header>\
         <wsa:Action s:mustUnderstand='1'>{action}</wsa:Action><wsa:MessageID>urn:uuid:0d6a7d3f-6a4b-4a55-b0a1-3c2f1e0d9c8b</wsa:MessageID>\
         <wsa:ReplyTo><wsa:Address>http://www.w3.org/2005/08/addressing/anonymous</wsa:Address></wsa:ReplyTo>\
         <wsa:To s:mustUnderstand='1'>https://adfs.contoso.com{endpoint}</wsa:To>{security}</s:Header><s:Body>\
         <wst:RequestSecurityToken xmlns:wst='{wst}'><wsp:AppliesTo xmlns:wsp='http://schemas.xmlsoap.org/ws/2004/09/policy'>\
         <wsa:EndpointReference><wsa:Address>urn:federation:MicrosoftOnline</wsa:Address></wsa:EndpointReference></wsp:AppliesTo>\
         <wst:KeyType>{key_type}</wst:KeyType><wst:RequestType>{request_type}</wst:RequestType>{tt}</wst:RequestSecurityToken></s:Body></s:Envelope>"
    )
}

const SOAP: (&str, &str) = ("Content-Type", "application/soap+xml; charset=utf-8");

/// MSAL's reading: the first TokenType and RequestedSecurityToken inner text, untrimmed.
fn msal_read(body: &str) -> (String, String) {
    let inner = |tag: &str| {
        let open = body.find(&format!(":{tag}>")).unwrap() + tag.len() + 2;
        let close = body[open..].find(&format!(":{tag}>")).unwrap() + open;
        let close = body[..close].rfind("</").unwrap();
        body[open..close].to_string()
    };
    (inner("TokenType"), inner("RequestedSecurityToken"))
}

#[tokio::test]
async fn ws_trust_13_usernamemixed_returns_an_rstr_msal_can_use() {
    let h = start().await;
    let path = "/adfs/services/trust/13/usernamemixed";
    let r = request(
        &h,
        "POST",
        path,
        &[SOAP],
        &rst(path, T13, "GregT@contoso.com", PASSWORD, None),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.header("content-type"),
        Some("application/soap+xml; charset=utf-8")
    );
    assert!(r.body.contains("<a:Action s:mustUnderstand=\"1\">http://docs.oasis-open.org/ws-sx/ws-trust/200512/RSTRC/IssueFinal</a:Action>"));
    assert!(r
        .body
        .contains("<a:RelatesTo>urn:uuid:0d6a7d3f-6a4b-4a55-b0a1-3c2f1e0d9c8b</a:RelatesTo>"));
    assert!(r.body.contains(
        "<trust:KeyType>http://docs.oasis-open.org/ws-sx/ws-trust/200512/Bearer</trust:KeyType>"
    ));
    let (token_type, token) = msal_read(&r.body);
    assert_eq!(token_type, "urn:oasis:names:tc:SAML:1.0:assertion");
    let a = read_assertion(&token, &published_certs(&h).await).unwrap();
    assert_eq!(a.version, SamlVersion::V1_1);
    assert_eq!(a.audiences, ["urn:federation:MicrosoftOnline"]);
    assert_eq!(a.upn(), Some("GregT@contoso.com"));
    assert_eq!(a.immutable_id(), Some(GREG_IMMUTABLE_ID));
    assert_eq!(a.authn_method.as_deref(), Some(AM_PASSWORD));
}

#[tokio::test]
async fn ws_trust_2005_usernamemixed_returns_the_2005_rstr() {
    let h = start().await;
    let path = "/adfs/services/trust/2005/usernamemixed";
    let r = request(
        &h,
        "POST",
        path,
        &[SOAP],
        &rst(path, T2005, "GregT@contoso.com", PASSWORD, None),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("<a:Action s:mustUnderstand=\"1\">http://schemas.xmlsoap.org/ws/2005/02/trust/RSTR/Issue</a:Action>"));
    assert!(r.body.contains(
        "<t:RequestSecurityTokenResponse xmlns:t=\"http://schemas.xmlsoap.org/ws/2005/02/trust\">"
    ));
    assert!(r.body.contains(
        "<t:KeyType>http://schemas.xmlsoap.org/ws/2005/05/identity/NoProofKey</t:KeyType>"
    ));
    let (token_type, token) = msal_read(&r.body);
    assert_eq!(token_type, "urn:oasis:names:tc:SAML:1.0:assertion");
    let a = read_assertion(&token, &published_certs(&h).await).unwrap();
    assert_eq!(a.upn(), Some("GregT@contoso.com"));
}

#[tokio::test]
async fn a_saml2_token_type_gets_a_saml2_assertion() {
    let h = start().await;
    let path = "/adfs/services/trust/13/usernamemixed";
    let body = rst(
        path,
        T13,
        "GregT@contoso.com",
        PASSWORD,
        Some("urn:oasis:names:tc:SAML:2.0:assertion"),
    );
    let r = request(&h, "POST", path, &[SOAP], &body).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let (token_type, token) = msal_read(&r.body);
    assert_eq!(token_type, "urn:oasis:names:tc:SAML:2.0:assertion");
    let a = read_assertion(&token, &published_certs(&h).await).unwrap();
    assert_eq!(a.version, SamlVersion::V2_0);
    assert_eq!(a.issuer, "http://adfs.contoso.com/adfs/services/trust");
    assert_eq!(a.immutable_id(), Some(GREG_IMMUTABLE_ID));
}

fn fault(subcode_ns: &str, subcode: &str, reason: &str) -> String {
    format!(
        "<s:Body><s:Fault><s:Code><s:Value>s:Sender</s:Value><s:Subcode><s:Value xmlns:a=\"{subcode_ns}\">a:{subcode}</s:Value></s:Subcode></s:Code><s:Reason><s:Text xml:lang=\"en-US\">{reason}</s:Text></s:Reason></s:Fault></s:Body></s:Envelope>"
    )
}

pub fn request_failed() -> String {
    fault(
        T13,
        "RequestFailed",
        "MSIS3127: The specified request failed.",
    )
}

#[tokio::test]
async fn bad_credentials_are_a_failed_authentication_fault() {
    let h = start().await;
    let path = "/adfs/services/trust/13/usernamemixed";
    let expected = fault(
        "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd",
        "FailedAuthentication",
        "ID3242: The security token could not be authenticated or authorized.",
    );
    for (user, pw) in [
        ("GregT@contoso.com", "wrong"),
        ("nobody@contoso.com", PASSWORD),
        ("PattiF@contoso.com", PASSWORD),
        ("", ""),
    ] {
        let r = request(&h, "POST", path, &[SOAP], &rst(path, T13, user, pw, None)).await;
        assert_eq!(r.status, 500, "{user}");
        assert!(r.body.contains("<a:Action s:mustUnderstand=\"1\">http://www.w3.org/2005/08/addressing/soap/fault</a:Action>"));
        assert!(r.body.ends_with(&expected), "{user}: {}", r.body);
    }
}

#[tokio::test]
async fn a_request_adfs_cannot_serve_is_msis3127() {
    let h = start().await;
    let path = "/adfs/services/trust/13/usernamemixed";
    // The 2005 RST at the 1.3 endpoint.
    let r = request(
        &h,
        "POST",
        path,
        &[SOAP],
        &rst(path, T2005, "GregT@contoso.com", PASSWORD, None),
    )
    .await;
    assert_eq!(r.status, 500);
    assert!(r.body.ends_with(&request_failed()));
    // An unknown relying party.
    let body = rst(path, T13, "GregT@contoso.com", PASSWORD, None)
        .replace("urn:federation:MicrosoftOnline", "urn:other");
    let r = request(&h, "POST", path, &[SOAP], &body).await;
    assert!(r.body.ends_with(&request_failed()));
    // A user who must do MFA.
    let r = request(
        &h,
        "POST",
        path,
        &[SOAP],
        &rst(path, T13, "MeganB@contoso.com", PASSWORD, None),
    )
    .await;
    assert_eq!(r.status, 500);
    assert!(r.body.ends_with(&request_failed()));
}

#[tokio::test]
async fn windowstransport_takes_a_windows_logon_first() {
    let h = start().await;
    for (path, wst) in [
        ("/adfs/services/trust/13/windowstransport", T13),
        ("/adfs/services/trust/2005/windowstransport", T2005),
    ] {
        let body = rst(path, wst, "", "", None);
        let r = request(&h, "POST", path, &[SOAP], &body).await;
        assert_eq!(r.status, 401);
        assert_eq!(r.headers_named("www-authenticate"), ["Negotiate", "NTLM"]);
        let mut conn = Conn::open(h.addr()).await;
        let r = windows_logon(&mut conn, "POST", path, &[SOAP], &body, None).await;
        assert_eq!(r.status, 200, "{}", r.body);
        let (_, token) = msal_read(&r.body);
        let a = read_assertion(&token, &published_certs(&h).await).unwrap();
        assert_eq!(a.upn(), Some("GregT@contoso.com"));
        assert_eq!(a.authn_method.as_deref(), Some(AM_WINDOWS));
    }
}
