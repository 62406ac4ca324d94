//! Azure AD fault rules through the lab cmdlets (`Add-LabAadFault`, `Get-LabAadFault`,
//! `Remove-LabAadFault`), on a running lab: the cmdlets write mock-aad's `/_admin/faults`, the
//! rule changes what Azure AD answers on the wire, and a failing federation-metadata download
//! leaves Exchange with stale metadata, so a new key's token is refused with 2000000 until the
//! download works again and the metadata is refreshed.

use hma_lab::scenario::format::LabRef;
use hma_lab::scenario::runner::Ctx;

use crate::common::{cmdlet, ews, password_grant, token};
use serde_json::{json, Value};

const K3: &str = "3IrvSM45EAEvk5uN81nzaPFx0X8";

/// mock-aad's own list of fault rules (`GET /_admin/faults`).
async fn admin_faults(ctx: &Ctx) -> Value {
    let aad = ctx.lab.aad();
    reqwest::Client::new()
        .get(format!("{}/_admin/faults", aad.url()))
        .bearer_auth(aad.admin_token())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fault_cmdlets_drive_mock_aads_fault_rules() {
    let ctx = Ctx::start(&LabRef::Builtin("contoso".into()))
        .await
        .unwrap();
    assert_eq!(cmdlet(&ctx, "Get-LabAadFault").await, "");

    // One failed password grant for Greg, then the grant passes again.
    assert_eq!(
        cmdlet(
            &ctx,
            "Add-LabAadFault -Endpoint token -User GregT@contoso.com -Times 1 -Aadsts 50126 | ft -HideTableHeaders"
        )
        .await,
        "1  token    AADSTS50126 1         0"
    );
    assert_eq!(
        admin_faults(&ctx).await,
        json!([{"id":1,"match":{"endpoint":"token","user":"GregT@contoso.com"},"times":1,"remaining":1,"hits":0,"respond":{"aadsts":50126}}])
    );
    let (status, body) = password_grant(&ctx).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"], "invalid_grant", "{body}");
    assert!(
        body["error_description"]
            .as_str()
            .unwrap_or("")
            .starts_with("AADSTS50126: "),
        "{body}"
    );
    assert_eq!(password_grant(&ctx).await.0, 200);
    assert_eq!(
        cmdlet(&ctx, "Get-LabAadFault | ft -HideTableHeaders").await,
        "1  token    AADSTS50126 0         1"
    );

    // A rule until removed: every federation-metadata download fails.
    assert_eq!(
        cmdlet(
            &ctx,
            "(Add-LabAadFault -Endpoint federation_metadata -Status 503).Id"
        )
        .await,
        "2"
    );
    assert_eq!(
        admin_faults(&ctx).await[1],
        json!({"id":2,"match":{"endpoint":"federation_metadata"},"times":null,"remaining":null,"hits":0,"respond":{"status":503}})
    );
    let r = ctx
        .lab
        .http_client()
        .get(ctx.lab.url(
            "login.windows.net",
            "/contoso.com/federationmetadata/2007-06/federationmetadata.xml",
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 503);

    // Removing one rule by id (piped) leaves the other; no id removes all.
    cmdlet(&ctx, "Get-LabAadFault 1 | Remove-LabAadFault").await;
    assert_eq!(cmdlet(&ctx, "(Get-LabAadFault).Id").await, "2");
    let e = ctx.cmdlet("Remove-LabAadFault 99").await.unwrap_err();
    assert!(
        e.starts_with("Remove-LabAadFault : no fault rule 99"),
        "{e}"
    );
    let e = ctx
        .cmdlet("Add-LabAadFault -Endpoint token -Aadsts 12345")
        .await
        .unwrap_err();
    assert!(e.starts_with("Add-LabAadFault : "), "{e}");
    cmdlet(&ctx, "Remove-LabAadFault").await;
    assert_eq!(admin_faults(&ctx).await, json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_key_is_refused_while_the_metadata_download_fails() {
    let ctx = Ctx::start(&LabRef::Builtin("contoso".into()))
        .await
        .unwrap();
    // Exchange validates a first token and so reads the metadata (first key, next key).
    let (at, _) = token(&ctx).await;
    assert_eq!(ews(&ctx, &at).await, (200, String::new()));

    cmdlet(
        &ctx,
        "Add-LabAadFault -Endpoint federation_metadata -Status 503",
    )
    .await;
    cmdlet(&ctx, "Invoke-LabSigningKeyRollover").await;
    cmdlet(&ctx, "Invoke-LabSigningKeyRollover").await;
    let (new_token, kid) = token(&ctx).await;
    assert_eq!(kid, K3);
    // The unknown kid makes Exchange refresh; the download fails and it keeps the old document.
    let refused = (
        401,
        "2000000;reason=\"The token has an invalid signature.\";error_category=\"invalid_signature\"".to_string(),
    );
    assert_eq!(ews(&ctx, &new_token).await, refused);
    // An explicit refresh cannot download it either, and says so (mock Exchange keeps the last
    // good document).
    let e = ctx
        .cmdlet("Set-AuthServer EvoSts -RefreshAuthMetadata")
        .await
        .unwrap_err();
    assert_eq!(
        e,
        "Set-AuthServer : Unable to access the authorization metadata document of the authorization server 'EvoSts' at 'https://login.windows.net/contoso.com/federationmetadata/2007-06/federationmetadata.xml'. Detailed information: \"The remote server returned an error: (503) Server Unavailable.\" The metadata that was read last is still used.\nAt line:1 char:1\n+ Set-AuthServer EvoSts -RefreshAuthMetadata\n+ ~~~~~~~~~~~~~~\n    + CategoryInfo          : NotSpecified: (:) [Set-AuthServer], metadata_unavailable\n    + FullyQualifiedErrorId : metadata_unavailable,Set-AuthServer\n"
    );
    assert_eq!(ews(&ctx, &new_token).await, refused);
    assert_eq!(
        cmdlet(&ctx, "(Get-LabAadFault).Hits").await,
        admin_faults(&ctx).await[0]["hits"].to_string()
    );
    assert!(admin_faults(&ctx).await[0]["hits"].as_u64().unwrap() >= 2);

    // The metadata URL is reachable again and the metadata is refreshed: the token is accepted.
    cmdlet(&ctx, "Remove-LabAadFault").await;
    cmdlet(&ctx, "Set-AuthServer EvoSts -RefreshAuthMetadata").await;
    assert_eq!(ews(&ctx, &new_token).await, (200, String::new()));
}
