//! Helpers the end-to-end tests share, written once: start the shipped contoso lab, get Greg's
//! token through the lab network (ROPC, as an ADAL client would), run a cmdlet in a scenario
//! context, call EWS with a Bearer token. Generic test helpers (golden files, temp dirs, binaries'
//! ready lines) are the workspace kit's, `lab_kit::testkit`.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hma_lab::lab::Lab;
use hma_lab::scenario::runner::{Ctx, OFFICE_CLIENT_ID};
use serde_json::Value;

pub const OFFICE: &str = OFFICE_CLIENT_ID;
pub const TID: &str = "f31f3647-5d87-4b69-a0b6-73f62aeab14c";
pub const GREG: &str = "GregT@contoso.com";

/// EWS FindItem on Greg's inbox, as an EWS client posts it.
pub const FIND_INBOX: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types" xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages">
  <soap:Header><t:RequestServerVersion Version="Exchange2016"/></soap:Header>
  <soap:Body>
    <m:FindItem Traversal="Shallow">
      <m:ItemShape><t:BaseShape>Default</t:BaseShape></m:ItemShape>
      <m:ParentFolderIds><t:DistinguishedFolderId Id="inbox"/></m:ParentFolderIds>
    </m:FindItem>
  </soap:Body>
</soap:Envelope>"#;

/// The shipped contoso lab on a real-time clock.
pub async fn contoso() -> Lab {
    Lab::builtin("contoso").await.expect("contoso starts")
}

/// Greg's password grant (v1, `resource`) through the lab network at
/// `login.microsoftonline.com`; a transport error is returned, not raised.
pub async fn ropc(lab: &Lab, resource: &str) -> reqwest::Result<reqwest::Response> {
    lab.http_client()
        .post(lab.url("login.microsoftonline.com", "/contoso.com/oauth2/token"))
        .form(&[
            ("grant_type", "password"),
            ("client_id", OFFICE),
            ("resource", resource),
            ("username", GREG),
            ("password", "Contoso2017!"),
        ])
        .send()
        .await
}

/// [`ropc`], which must get an answer.
pub async fn token_for(lab: &Lab, resource: &str) -> reqwest::Response {
    ropc(lab, resource)
        .await
        .expect("the token endpoint answers")
}

/// Greg's access token for `resource` (the grant must succeed).
pub async fn access_token(lab: &Lab, resource: &str) -> String {
    let resp = token_for(lab, resource).await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.expect("JSON");
    body["access_token"]
        .as_str()
        .expect("an access token")
        .to_string()
}

pub async fn cmdlet(ctx: &Ctx, line: &str) -> String {
    ctx.cmdlet(line)
        .await
        .unwrap_or_else(|e| panic!("{line}: {e}"))
        .trim_end()
        .to_string()
}

/// A password grant for Greg and mail.contoso.com: status and JSON body.
pub async fn password_grant(ctx: &Ctx) -> (u16, Value) {
    let r = token_for(&ctx.lab, "https://mail.contoso.com/").await;
    let status = r.status().as_u16();
    (status, r.json().await.unwrap())
}

/// Greg's access token and its header's `kid`.
pub async fn token(ctx: &Ctx) -> (String, String) {
    let (status, body) = password_grant(ctx).await;
    assert_eq!(status, 200, "{body}");
    let at = body["access_token"].as_str().unwrap().to_string();
    let header = at.split('.').next().unwrap();
    let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap();
    (at, header["kid"].as_str().unwrap().to_string())
}

/// EWS GetFolder with `Authorization: Bearer <at>`: status and `x-ms-diagnostics`.
pub async fn ews(ctx: &Ctx, at: &str) -> (u16, String) {
    let body = r#"<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types" xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages"><soap:Body><m:GetFolder><m:FolderShape><t:BaseShape>IdOnly</t:BaseShape></m:FolderShape><m:FolderIds><t:DistinguishedFolderId Id="inbox"/></m:FolderIds></m:GetFolder></soap:Body></soap:Envelope>"#;
    let r = ctx
        .lab
        .http_client()
        .post(ctx.lab.url("mail.contoso.com", "/EWS/Exchange.asmx"))
        .header("content-type", "text/xml")
        .bearer_auth(at)
        .body(body)
        .send()
        .await
        .unwrap();
    let diag = r
        .headers()
        .get("x-ms-diagnostics")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    (r.status().as_u16(), diag)
}
