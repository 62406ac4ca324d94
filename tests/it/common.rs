//! Helpers the lab-level tests share: run a cmdlet, get Greg's token through the lab network,
//! call EWS with a Bearer token.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hma_lab::scenario::runner::{Ctx, OFFICE_CLIENT_ID};
use serde_json::Value;

pub async fn cmdlet(ctx: &Ctx, line: &str) -> String {
    ctx.cmdlet(line)
        .await
        .unwrap_or_else(|e| panic!("{line}: {e}"))
        .trim_end()
        .to_string()
}

/// A password grant for Greg and mail.contoso.com: status and JSON body.
pub async fn password_grant(ctx: &Ctx) -> (u16, Value) {
    let form = [
        ("grant_type", "password"),
        ("client_id", OFFICE_CLIENT_ID),
        ("resource", "https://mail.contoso.com/"),
        ("username", "GregT@contoso.com"),
        ("password", "Contoso2017!"),
    ];
    let r = ctx
        .lab
        .http_client()
        .post(
            ctx.lab
                .url("login.microsoftonline.com", "/contoso.com/oauth2/token"),
        )
        .form(&form)
        .send()
        .await
        .unwrap();
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
