//! Autodiscover tests: POX, SOAP and JSON answers for the field guide's mailboxes, pinned with
//! golden files, and each protocol's error shape.

use axum::http::{Method, StatusCode};

use super::*;
use crate::model::ExchangeVersion;
use crate::surfaces::testing::*;
use crate::surfaces::xml::{self, NS_AUTOD, NS_SOAP};

const POX_REQ: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006">
  <Request>
<EMailAddress>GregT@contoso.com</EMailAddress>
<AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema>
  </Request>
</Autodiscover>"#;

async fn pox_call(ctx: &SurfaceCtx, headers: &[(&str, &str)], body: &str) -> Answer {
    call(
        ctx,
        VdirKind::Autodiscover,
        Method::POST,
        "/Autodiscover/Autodiscover.xml",
        headers,
        body.to_string(),
    )
    .await
}

#[test]
fn server_version_is_packed_like_outlook_expects() {
    assert_eq!(server_version_hex(ExchangeVersion::Ex2016), "73C18587");
    assert_eq!(server_version_hex(ExchangeVersion::Ex2013), "73C08555");
    // The documented Exchange 2007 example 72008287 decodes to 8.0.647 with this layout.
    assert_eq!(0x7200_8287u32 & 0x7fff, 647);
}

#[tokio::test]
async fn pox_outlook_with_mapi_http() {
    let ctx = greg();
    let a = pox_call(&ctx, &[("X-MapiHttpCapability", "1")], POX_REQ).await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.header("content-type"), Some("text/xml; charset=utf-8"));
    assert_eq!(a.header("x-soap-enabled"), Some("True"));
    assert_eq!(a.header("x-oauth-enabled"), Some("True"));
    let t = a.text();
    assert!(t.contains("<Protocol Type=\"mapiHttp\" Version=\"1\">"));
    assert!(t.contains(&format!(
        "<InternalUrl>https://mail.contoso.com/mapi/emsmdb/?MailboxId={GREG_GUID}@contoso.com</InternalUrl>"
    )));
    assert!(
        t.contains("<ConnectingSID>S-1-5-21-2366433183-230171048-1893555995-1654</ConnectingSID>")
    );
    golden("autodiscover_pox_mapihttp.xml", &a.body);
}

#[tokio::test]
async fn pox_without_capability_or_when_disabled_has_no_mapi_http() {
    let ctx = greg();
    let a = pox_call(&ctx, &[], POX_REQ).await;
    assert!(!a.text().contains("mapiHttp"));
    assert!(a.text().contains("<Type>EXPR</Type>"));
    golden("autodiscover_pox.xml", &a.body);

    let mut org = org();
    org.org_config.mapi_http_enabled = false;
    let ctx = ctx_for(org, Some(0));
    let a = pox_call(&ctx, &[("X-MapiHttpCapability", "1")], POX_REQ).await;
    assert!(!a.text().contains("mapiHttp"));

    // A mailbox on Exchange 2010: no MAPI/HTTP, and the 2010 ServerVersion.
    let ctx = ctx_for(org_with(ExchangeVersion::Ex2010), Some(0));
    let a = pox_call(&ctx, &[("X-MapiHttpCapability", "1")], POX_REQ).await;
    assert!(!a.text().contains("mapiHttp"));
    assert!(a.text().contains(&format!(
        "<ServerVersion>{}</ServerVersion>",
        server_version_hex(ExchangeVersion::Ex2010)
    )));
}

#[tokio::test]
async fn pox_errors() {
    let ctx = greg();
    let a = pox_call(&ctx, &[], &POX_REQ.replace("GregT@", "Nobody@")).await;
    assert_eq!(a.status, StatusCode::OK);
    golden("autodiscover_pox_500.xml", &a.body);
    assert!(a.text().contains("<ErrorCode>500</ErrorCode>"));
    assert!(a
        .text()
        .contains("<Message>The email address can't be found.</Message>"));

    let a = pox_call(&ctx, &[], "<Autodiscover><oops").await;
    golden("autodiscover_pox_600.xml", &a.body);
    assert!(a.text().contains("<ErrorCode>600</ErrorCode>"));
    assert!(a.text().contains("<Message>Invalid Request</Message>"));

    let a = call(
        &ctx,
        VdirKind::Autodiscover,
        Method::GET,
        "/autodiscover/autodiscover.xml",
        &[],
        "",
    )
    .await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(
        a.body,
        std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/golden/surfaces/autodiscover_pox_600.xml"
        ))
        .unwrap()
    );
    assert_eq!(a.header("x-soap-enabled"), Some("True"));
}

#[tokio::test]
async fn pox_mobilesync_schema() {
    let ctx = greg();
    let body = POX_REQ
        .replace("outlook/requestschema", "mobilesync/requestschema")
        .replace(
            "outlook/responseschema/2006a",
            "mobilesync/responseschema/2006",
        );
    let a = pox_call(&ctx, &[], &body).await;
    assert!(a.text().contains("<Type>MobileSync</Type>"));
    assert!(a
        .text()
        .contains("<Url>https://mail.contoso.com/Microsoft-Server-ActiveSync</Url>"));
}

/// The body exchangelib 5.x builds (services/get_user_settings.py, lxml serialization).
fn exchangelib_gus(user: &str, settings: &[&str]) -> String {
    let s: String = settings
        .iter()
        .map(|s| format!("<a:Setting>{s}</a:Setting>"))
        .collect();
    format!(
        "<?xml version='1.0' encoding='utf-8'?>\n<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\" xmlns:t=\"http://schemas.microsoft.com/exchange/services/2006/types\" xmlns:a=\"http://schemas.microsoft.com/exchange/2010/Autodiscover\" xmlns:wsa=\"http://www.w3.org/2005/08/addressing\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"><s:Header><a:RequestedServerVersion>Exchange2016</a:RequestedServerVersion><wsa:Action>http://schemas.microsoft.com/exchange/2010/Autodiscover/Autodiscover/GetUserSettings</wsa:Action><wsa:To>https://mail.contoso.com/autodiscover/autodiscover.svc</wsa:To></s:Header><s:Body><a:GetUserSettingsRequestMessage><a:Request><a:Users><a:User><a:Mailbox>{user}</a:Mailbox></a:User></a:Users><a:RequestedSettings>{s}</a:RequestedSettings></a:Request></a:GetUserSettingsRequestMessage></s:Body></s:Envelope>"
    )
}

#[tokio::test]
async fn soap_get_user_settings_as_exchangelib_asks() {
    let ctx = greg();
    let body = exchangelib_gus(
        "GregT@contoso.com",
        &[
            "AutoDiscoverSMTPAddress",
            "ExternalEwsUrl",
            "EwsSupportedSchemas",
            "UserDisplayName",
            "UserDN",
            "MapiHttpEnabled",
            "ExternalMapiHttpMailboxStoreUrl",
            "InternalPop3Connections",
            "NoSuchSetting",
        ],
    );
    let a = call(
        &ctx,
        VdirKind::Autodiscover,
        Method::POST,
        "/autodiscover/autodiscover.svc",
        &[("content-type", "text/xml; charset=utf-8")],
        body,
    )
    .await;
    assert_eq!(a.status, StatusCode::OK);
    let t = a.text();
    assert!(t.contains("<h:MajorVersion>15</h:MajorVersion><h:MinorVersion>1</h:MinorVersion><h:MajorBuildNumber>1415</h:MajorBuildNumber><h:MinorBuildNumber>2</h:MinorBuildNumber>"));
    assert!(t.contains(
        "<Name>ExternalEwsUrl</Name><Value>https://mail.contoso.com/EWS/Exchange.asmx</Value>"
    ));
    assert!(t.contains("<Value>Exchange2007, Exchange2007_SP1, Exchange2010, Exchange2010_SP1, Exchange2010_SP2, Exchange2013, Exchange2013_SP1, Exchange2016</Value>"));
    assert!(t.contains("<ErrorCode>SettingIsNotAvailable</ErrorCode>"));
    assert!(t.contains("<ErrorCode>InvalidSetting</ErrorCode>"));
    // The answer is well-formed and has the shape exchangelib walks.
    let root = xml::parse(&a.body).unwrap();
    let ur = root
        .path(&[
            (NS_SOAP, "Body"),
            (NS_AUTOD, "GetUserSettingsResponseMessage"),
            (NS_AUTOD, "Response"),
            (NS_AUTOD, "UserResponses"),
            (NS_AUTOD, "UserResponse"),
        ])
        .unwrap();
    assert_eq!(ur.child_text(NS_AUTOD, "ErrorCode"), Some("NoError"));
    golden("autodiscover_soap_gus.xml", &a.body);
}

#[tokio::test]
async fn soap_errors() {
    let ctx = greg();
    let a = call(
        &ctx,
        VdirKind::Autodiscover,
        Method::POST,
        "/autodiscover/autodiscover.svc",
        &[],
        exchangelib_gus("nobody@contoso.com", &["ExternalEwsUrl"]),
    )
    .await;
    assert!(a.text().contains("<UserResponse><ErrorCode>InvalidUser</ErrorCode><ErrorMessage>Invalid user: 'nobody@contoso.com'</ErrorMessage>"));
    golden("autodiscover_soap_invalid_user.xml", &a.body);

    let a = call(
        &ctx,
        VdirKind::Autodiscover,
        Method::POST,
        "/autodiscover/autodiscover.svc",
        &[],
        "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body>",
    )
    .await;
    assert_eq!(a.status, StatusCode::INTERNAL_SERVER_ERROR);
    golden("autodiscover_soap_fault.xml", &a.body);

    let empty = exchangelib_gus("GregT@contoso.com", &[]);
    let a = call(
        &ctx,
        VdirKind::Autodiscover,
        Method::POST,
        "/autodiscover/autodiscover.svc",
        &[],
        empty,
    )
    .await;
    assert!(a.text().contains("<Response xmlns:i=\"http://www.w3.org/2001/XMLSchema-instance\"><ErrorCode>InvalidRequest</ErrorCode>"));
}

async fn v2(ctx: &SurfaceCtx, uri: &str) -> (StatusCode, String) {
    let a = call(ctx, VdirKind::Autodiscover, Method::GET, uri, &[], "").await;
    assert_eq!(
        a.header("content-type"),
        Some("application/json; charset=utf-8")
    );
    (a.status, a.text())
}

#[tokio::test]
async fn json_v2_answers_and_errors() {
    let ctx = ctx_for(org(), None);
    assert_eq!(
        v2(
            &ctx,
            "/autodiscover/autodiscover.json/v1.0/GregT@contoso.com?Protocol=EWS"
        )
        .await,
        (
            StatusCode::OK,
            r#"{"Protocol":"EWS","Url":"https://mail.contoso.com/EWS/Exchange.asmx"}"#.into()
        )
    );
    assert_eq!(
        v2(&ctx, "/autodiscover/autodiscover.json?Email=GregT%40contoso.com&Protocol=activesync&RedirectCount=3").await.1,
        r#"{"Protocol":"activesync","Url":"https://mail.contoso.com/Microsoft-Server-ActiveSync"}"#
    );
    assert_eq!(
        v2(
            &ctx,
            "/autodiscover/autodiscover.json/v1.0/GregT@contoso.com?Protocol=AutodiscoverV1"
        )
        .await
        .1,
        r#"{"Protocol":"AutodiscoverV1","Url":"https://mail.contoso.com/autodiscover/autodiscover.xml"}"#
    );
    assert_eq!(
        v2(
            &ctx,
            "/autodiscover/autodiscover.json/v1.0/GregT@contoso.com?Protocol=Foo"
        )
        .await
        .1,
        r#"{"ErrorCode":"ProtocolNotSupported","ErrorMessage":"Protocol: The protocol 'Foo' is not supported. Supported protocols are: 'ActiveSync,AutodiscoverV1,Ews'."}"#
    );
    assert_eq!(
        v2(
            &ctx,
            "/autodiscover/autodiscover.json/v1.0/GregT@contoso.com"
        )
        .await
        .1,
        r#"{"ErrorCode":"MissingProtocol","ErrorMessage":"A valid value must be provided for the query parameter 'Protocol'."}"#
    );
    assert_eq!(
        v2(&ctx, "/autodiscover/autodiscover.json?Protocol=Ews")
            .await
            .1,
        r#"{"ErrorCode":"MandatoryParameterMissing","ErrorMessage":"The get request sent does not match the valid format."}"#
    );
}

#[tokio::test]
async fn unknown_autodiscover_path_is_404() {
    let ctx = greg();
    let a = call(
        &ctx,
        VdirKind::Autodiscover,
        Method::GET,
        "/autodiscover/nope.aspx",
        &[],
        "",
    )
    .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
}
