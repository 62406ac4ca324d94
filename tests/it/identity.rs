//! Hybrid identity through the front door's admin API: the MSOnline domain cmdlets' exact
//! output over mock-aad, the on-premises directory's cmdlets, and Azure AD Connect on the lab
//! clock — a user created on-premises reaches Azure AD at the 30-minute delta cycle (a clock
//! advance through `POST /clock/advance`), an on-premises password at the next 2-minute
//! password hash pass.

use std::sync::Arc;

use hma_lab::frontdoor::FrontDoor;
use hma_lab::lab::{Lab, LabFile};
use lab_kit::Clock;
use serde_json::Value;

async fn door(lab: &str) -> FrontDoor {
    let lab = Lab::start_file(
        LabFile::builtin(lab).unwrap(),
        Clock::frozen_at_unix(1_510_864_576),
    )
    .await
    .unwrap();
    FrontDoor::start_in_memory(Arc::new(lab)).await.unwrap()
}

fn admin() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

/// One PowerShell line: `Ok(output)` or `Err(error record)`.
async fn cmdlet(door: &FrontDoor, line: &str) -> Result<String, String> {
    let r: Value = admin()
        .post(format!("http://{}/cmdlet", door.admin_addr()))
        .bearer_auth(door.admin_token())
        .body(line.to_string())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    if r["ok"] == true {
        Ok(r["output"].as_str().unwrap().trim_end().to_string())
    } else {
        Err(r["error"].as_str().unwrap().to_string())
    }
}

async fn advance(door: &FrontDoor, secs: i64) {
    let r = admin()
        .post(format!(
            "http://{}/clock/advance?seconds={secs}",
            door.admin_addr()
        ))
        .bearer_auth(door.admin_token())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

/// A v1 password grant through the lab network: the status and the AADSTS code, if any.
async fn password_grant(door: &FrontDoor, user: &str, password: &str) -> (u16, Option<u64>) {
    let lab = door.lab();
    let r = lab
        .http_client()
        .post(lab.url("login.microsoftonline.com", "/contoso.com/oauth2/token"))
        .form(&[
            ("grant_type", "password"),
            ("client_id", "d3590ed6-52b3-4102-aeff-aad2292ab01c"),
            ("resource", "https://mail.contoso.com/"),
            ("username", user),
            ("password", password),
        ])
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let body: Value = r.json().await.unwrap_or_default();
    (status, body["error_codes"][0].as_u64())
}

#[tokio::test]
async fn msol_domain_cmdlets_read_and_change_the_domains() {
    let door = door("contoso-federated").await;
    assert_eq!(
        cmdlet(&door, "Get-MsolDomain").await.unwrap(),
        "Name                         Status   Authentication\n\
         ----                         ------   --------------\n\
         contoso.onmicrosoft.com      Verified Managed\n\
         contoso.mail.onmicrosoft.com Verified Managed\n\
         contoso.com                  Verified Federated"
    );
    assert_eq!(
        cmdlet(
            &door,
            "(Get-MsolDomainFederationSettings -DomainName contoso.com).PassiveLogOnUri"
        )
        .await
        .unwrap(),
        "https://adfs.contoso.com/adfs/ls/"
    );
    let e = cmdlet(&door, "Get-MsolDomain -DomainName nope.com")
        .await
        .unwrap_err();
    assert!(
        e.starts_with("Get-MsolDomain : Domain nope.com does not exist.\n"),
        "{e}"
    );
    assert!(e.contains("FullyQualifiedErrorId : Microsoft.Online.Administration.Automation.DomainNotFoundException,Get-MsolDomain"), "{e}");

    cmdlet(
        &door,
        "Set-MsolDomainFederationSettings -DomainName contoso.com -SupportsMfa $true",
    )
    .await
    .unwrap();
    assert_eq!(
        cmdlet(
            &door,
            "(Get-MsolDomainFederationSettings -DomainName contoso.com).SupportsMfa"
        )
        .await
        .unwrap(),
        "True"
    );
    cmdlet(
        &door,
        "Set-MsolDomainAuthentication -DomainName contoso.com -Authentication Managed",
    )
    .await
    .unwrap();
    assert_eq!(
        cmdlet(
            &door,
            "(Get-MsolDomain -DomainName contoso.com).Authentication"
        )
        .await
        .unwrap(),
        "Managed"
    );
    // Managed again: Azure AD checks the password hash sync wrote.
    assert_eq!(
        password_grant(&door, "GregT@contoso.com", "Contoso2017!").await,
        (200, None)
    );
    assert_eq!(
        cmdlet(&door, "Get-MsolUser -DomainName contoso.onmicrosoft.com")
            .await
            .unwrap(),
        ""
    );
}

#[tokio::test]
async fn a_new_user_reaches_azure_ad_at_the_scheduled_delta_cycle() {
    let door = door("contoso").await;
    assert_eq!(
        cmdlet(&door, "(Get-ADSyncScheduler).NextSyncCycleStartTimeInUTC")
            .await
            .unwrap(),
        "11/16/2017 9:06:16 PM"
    );
    cmdlet(
        &door,
        "New-ADUser -Name 'Adele Vance' -SamAccountName AdeleV -UserPrincipalName AdeleV@contoso.com -AccountPassword (ConvertTo-SecureString 'Contoso2017!' -AsPlainText -Force) -Enabled $true",
    )
    .await
    .unwrap();
    assert_eq!(
        cmdlet(&door, "(Get-ADUser AdeleV).SID").await.unwrap(),
        "S-1-5-21-2366433183-230171048-1893555995-1659"
    );
    let e = cmdlet(&door, "Get-MsolUser -UserPrincipalName AdeleV@contoso.com")
        .await
        .unwrap_err();
    assert!(
        e.starts_with("Get-MsolUser : User Not Found.  User: AdeleV@contoso.com.\n"),
        "{e}"
    );
    assert_eq!(
        password_grant(&door, "AdeleV@contoso.com", "Contoso2017!").await,
        (400, Some(50034))
    );

    // 29 minutes: no cycle yet.
    advance(&door, 29 * 60).await;
    assert_eq!(
        password_grant(&door, "AdeleV@contoso.com", "Contoso2017!").await,
        (400, Some(50034))
    );
    // The 30th minute crosses the boundary: the delta cycle exports her.
    advance(&door, 60).await;
    assert_eq!(
        password_grant(&door, "AdeleV@contoso.com", "Contoso2017!").await,
        (200, None)
    );
    assert_eq!(
        cmdlet(
            &door,
            "(Get-MsolUser -UserPrincipalName AdeleV@contoso.com).OnPremisesSecurityIdentifier"
        )
        .await
        .unwrap(),
        "S-1-5-21-2366433183-230171048-1893555995-1659"
    );
    assert_eq!(
        cmdlet(&door, "(Get-ADSyncScheduler).NextSyncCycleStartTimeInUTC")
            .await
            .unwrap(),
        "11/16/2017 9:36:16 PM"
    );

    // Disabled on-premises: Azure AD blocks her at the next delta cycle only.
    cmdlet(&door, "Disable-ADAccount AdeleV").await.unwrap();
    assert_eq!(
        password_grant(&door, "AdeleV@contoso.com", "Contoso2017!").await,
        (200, None)
    );
    cmdlet(&door, "Start-ADSyncSyncCycle").await.unwrap();
    assert_eq!(
        password_grant(&door, "AdeleV@contoso.com", "Contoso2017!").await,
        (400, Some(50057))
    );
}

#[tokio::test]
async fn secure_strings_and_ad_errors_are_powershells() {
    let door = door("contoso").await;
    let e = cmdlet(&door, "ConvertTo-SecureString 'x' -AsPlainText")
        .await
        .unwrap_err();
    assert!(e.starts_with("ConvertTo-SecureString : The system cannot protect plain text input. To suppress this warning and convert the plain text to a SecureString, reissue the command specifying the Force parameter."), "{e}");
    let e = cmdlet(
        &door,
        "Set-ADAccountPassword GregT -Reset -NewPassword 'plain'",
    )
    .await
    .unwrap_err();
    assert!(e.starts_with("Set-ADAccountPassword : Cannot bind parameter 'NewPassword'. Cannot convert the \"plain\" value of type \"System.String\" to type \"System.Security.SecureString\".\n"), "{e}");
    let e = cmdlet(&door, "Get-ADUser nobody").await.unwrap_err();
    assert!(e.starts_with("Get-ADUser : Cannot find an object with identity: 'nobody' under: 'DC=contoso,DC=com'.\n"), "{e}");
    assert!(
        e.contains(
            "CategoryInfo          : ObjectNotFound: (:) [Get-ADUser], ADIdentityNotFoundException"
        ),
        "{e}"
    );
    let e = cmdlet(&door, "New-ADUser -Name Nopass -Enabled $true")
        .await
        .unwrap_err();
    assert!(e.starts_with("New-ADUser : The password does not meet the length, complexity, or history requirement of the domain.\n"), "{e}");
    assert_eq!(
        cmdlet(
            &door,
            "Get-ADUser -Filter * | Select-Object -ExpandProperty SamAccountName"
        )
        .await
        .unwrap(),
        "GregT\nMeganB\nPattiF\nLeeG\nNestorW"
    );
    assert_eq!(
        cmdlet(&door, "ConvertTo-SecureString 'abc' -AsPlainText -Force")
            .await
            .unwrap(),
        "Length\n------\n3"
    );
}
