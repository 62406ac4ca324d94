//! The servers' lifecycle through the shell, against a running lab: `-ADPropertiesOnly` (the
//! directory) against IIS's view, `iisreset` per server, the Edge subscription cmdlets, the lab's
//! Hybrid Configuration Wizard, and the build of the shell's server deciding whether
//! `-OAuth2ClientProfileEnabled` exists. Exact error records, exact outputs.

use std::path::PathBuf;

use hma_lab::scenario::format::LabRef;
use hma_lab::scenario::runner::Ctx;

fn lab_file(name: &str) -> LabRef {
    LabRef::File(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("scenarios/labs")
            .join(name),
    )
}

async fn ok(ctx: &Ctx, line: &str) -> String {
    ctx.cmdlet(line)
        .await
        .unwrap_or_else(|e| panic!("{line}: {e}"))
}

async fn err(ctx: &Ctx, line: &str) -> String {
    match ctx.cmdlet(line).await {
        Ok(o) => panic!("{line}: expected an error, got {o}"),
        Err(e) => e,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ad_properties_only_reads_the_directory_and_the_plain_get_reads_iis() {
    let ctx = Ctx::start(&LabRef::Builtin("contoso".into()))
        .await
        .unwrap();
    ok(
        &ctx,
        "Set-OabVirtualDirectory 'EX1\\OAB (Default Web Site)' -OAuthAuthentication $false",
    )
    .await;
    assert_eq!(
        ok(
            &ctx,
            "(Get-OabVirtualDirectory -ADPropertiesOnly).OAuthAuthentication"
        )
        .await
        .trim(),
        "False"
    );
    assert_eq!(
        ok(&ctx, "(Get-OabVirtualDirectory).OAuthAuthentication")
            .await
            .trim(),
        "True"
    );
    // URLs are the directory's either way.
    ok(&ctx, "Set-OabVirtualDirectory 'EX1\\OAB (Default Web Site)' -InternalUrl https://mail.contoso.com/OAB").await;
    assert_eq!(
        ok(&ctx, "(Get-OabVirtualDirectory).InternalUrl")
            .await
            .trim(),
        "https://mail.contoso.com/OAB"
    );
    ok(&ctx, "iisreset").await;
    assert_eq!(
        ok(&ctx, "(Get-OabVirtualDirectory).OAuthAuthentication")
            .await
            .trim(),
        "False"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn iisreset_without_a_computer_name_resets_the_shells_server_only() {
    let ctx = Ctx::start(&lab_file("contoso-two-servers-hma.yaml"))
        .await
        .unwrap();
    ok(&ctx, "Get-MapiVirtualDirectory | Set-MapiVirtualDirectory -IISAuthenticationMethods Ntlm, Negotiate").await;
    ok(&ctx, "iisreset").await;
    let shown = ok(
        &ctx,
        "Get-MapiVirtualDirectory | FL Server,IISAuthenticationMethods",
    )
    .await;
    assert_eq!(
        shown.trim(),
        "Server : EX1\nIISAuthenticationMethods : {Ntlm, Negotiate}\n\nServer : EX2\nIISAuthenticationMethods : {Ntlm, OAuth, Negotiate}"
    );
    ok(&ctx, "iisreset EX2").await;
    let shown = ok(
        &ctx,
        "(Get-MapiVirtualDirectory -Server EX2).IISAuthenticationMethods -contains 'OAuth'",
    )
    .await;
    assert_eq!(shown.trim(), "False");
    let e = err(&ctx, "iisreset EX9").await;
    assert!(e.contains("EX9"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wizard_refuses_while_an_edge_2010_is_subscribed() {
    let ctx = Ctx::start(&lab_file("contoso-edge-2010.yaml"))
        .await
        .unwrap();
    let servers = ok(
        &ctx,
        "Get-ExchangeServer | FL Name,ServerRole,AdminDisplayVersion",
    )
    .await;
    assert_eq!(
        servers.trim(),
        "Name : EX1\nServerRole : Mailbox\nAdminDisplayVersion : Version 15.1 (Build 1415.2)\n\nName : EDGE2010\nServerRole : Edge\nAdminDisplayVersion : Version 14.3 (Build 123.4)"
    );
    assert_eq!(
        err(&ctx, "Invoke-LabHybridConfiguration").await,
        "Invoke-LabHybridConfiguration : Exchange 2010 was detected in the organization (EDGE2010); the EvoSts authentication server was not created. Remove the Exchange 2010 servers (Edge Transport servers included) and run the wizard again.\n\
         At line:1 char:1\n\
         + Invoke-LabHybridConfiguration\n\
         + ~~~~~~~~~~~~~~~~~~~~~~~~~~~~~\n    \
         + CategoryInfo          : InvalidOperation: (:) [Invoke-LabHybridConfiguration], exchange_2010_present\n    \
         + FullyQualifiedErrorId : exchange_2010_present,Invoke-LabHybridConfiguration\n"
    );
    assert_eq!(
        ok(&ctx, "(Get-EdgeSubscription).Name").await.trim(),
        "EDGE2010"
    );
    ok(&ctx, "Remove-EdgeSubscription EDGE2010 -Confirm:$false").await;
    assert_eq!(ok(&ctx, "Get-EdgeSubscription").await.trim(), "");
    let evosts = ok(
        &ctx,
        "Invoke-LabHybridConfiguration | FL Name,Type,IsDefaultAuthorizationEndpoint",
    )
    .await;
    assert_eq!(
        evosts.trim(),
        "Name : EvoSts\nType : AzureAD\nIsDefaultAuthorizationEndpoint : False"
    );
    let e = err(&ctx, "Remove-EdgeSubscription EDGE2010").await;
    assert!(e.starts_with("Remove-EdgeSubscription : The operation couldn't be performed because object 'EDGE2010' couldn't be found"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shell_on_2013_cu18_has_no_oauth2_client_profile_enabled_until_cu19() {
    let ctx = Ctx::start(&lab_file("contoso-2013-cu18.yaml"))
        .await
        .unwrap();
    assert_eq!(
        err(&ctx, "Set-OrganizationConfig -OAuth2ClientProfileEnabled $True").await,
        "Set-OrganizationConfig : A parameter cannot be found that matches parameter name 'OAuth2ClientProfileEnabled'.\n\
         At line:1 char:1\n\
         + Set-OrganizationConfig -OAuth2ClientProfileEnabled $True\n\
         + ~~~~~~~~~~~~~~~~~~~~~~\n    \
         + CategoryInfo          : InvalidArgument: (:) [Set-OrganizationConfig], ParameterBindingException\n    \
         + FullyQualifiedErrorId : NamedParameterNotFound,Set-OrganizationConfig\n\
         hma-lab hint: the shell runs on EX2 (Version 15.0 (Build 1347.2)); -OAuth2ClientProfileEnabled needs Exchange 2013 CU19+ or 2016 CU8+\n"
    );
    // Other parameters still bind.
    ok(&ctx, "Set-OrganizationConfig -MapiHttpEnabled $true").await;
    let e = err(&ctx, "Install-LabCumulativeUpdate EX2 -CumulativeUpdate 17").await;
    assert!(
        e.starts_with(
            "Install-LabCumulativeUpdate : EX2 already runs CU18; Setup cannot go back to CU17"
        ),
        "{e}"
    );
    let up = ok(
        &ctx,
        "Install-LabCumulativeUpdate EX2 -CumulativeUpdate 19 | FL Name,AdminDisplayVersion",
    )
    .await;
    assert_eq!(
        up.trim(),
        "Name : EX2\nAdminDisplayVersion : Version 15.0 (Build 1365.1)"
    );
    ok(
        &ctx,
        "Set-OrganizationConfig -OAuth2ClientProfileEnabled $True",
    )
    .await;
    assert_eq!(
        ok(&ctx, "(Get-OrganizationConfig).OAuth2ClientProfileEnabled")
            .await
            .trim(),
        "True"
    );
}
