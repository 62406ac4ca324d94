//! The lab's ADFS farm: a lab file's `adfs:` half started as mock-adfs and routed by host; behind
//! the front door, Windows integrated sign-in bound to the door's certificate (extended
//! protection passes on a direct connection, refuses the decrypting proxy's certificate until
//! `Set-AdfsProperties -ExtendedProtectionTokenCheck None`); the ADFS cmdlets' exact output
//! through the admin API's `POST /cmdlet`; `hma-lab serve`'s ready line.

use std::process::{Command, Stdio};
use std::sync::Arc;

use hma_lab::client::adfs::AdfsFailure;
use hma_lab::client::{Outlook, Profile, Settings, Transport};
use hma_lab::frontdoor::FrontDoor;
use hma_lab::lab::{Lab, LabFile};
use lab_kit::testkit::process::Started;
use lab_kit::Clock;
use serde_json::Value;

const START: &str = "https://adfs.contoso.com/adfs/ls/?client-request-id=5d5a2a5e-0000-4000-8000-000000000001&username=GregT%40contoso.com&wa=wsignin1.0&wtrealm=urn%3afederation%3aMicrosoftOnline&wctx=estsredirect%3d2%26estsrequest%3drQIIAX";

async fn federated() -> Lab {
    Lab::start_file(
        LabFile::builtin("contoso-federated").unwrap(),
        Clock::frozen_at_unix(1_510_864_576),
    )
    .await
    .unwrap()
}

async fn door() -> FrontDoor {
    FrontDoor::start_in_memory(Arc::new(federated().await))
        .await
        .unwrap()
}

/// One PowerShell line through the door's admin API: `Ok(output)` or `Err(error record)`.
async fn cmdlet(door: &FrontDoor, line: &str) -> Result<String, String> {
    let r: Value = reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap()
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
        Ok(r["output"].as_str().unwrap().to_string())
    } else {
        Err(r["error"].as_str().unwrap().to_string())
    }
}

fn greg(domain_joined: bool, transport: Transport) -> Outlook {
    let mut settings = Settings::contoso("GregT@contoso.com");
    settings.domain_joined = domain_joined;
    Outlook::new(Profile::Outlook2016, settings, transport)
}

#[tokio::test]
async fn the_farm_is_a_lab_host_routed_to_mock_adfs() {
    let lab = federated().await;
    assert!(lab.adfs().is_some());
    assert!(lab.hosts().contains(&"adfs.contoso.com".to_string()));
    let r = lab
        .http_client()
        .get(lab.url(
            "adfs.contoso.com",
            "/FederationMetadata/2007-06/FederationMetadata.xml",
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body = r.text().await.unwrap();
    assert!(
        body.contains("entityID=\"http://adfs.contoso.com/adfs/services/trust\""),
        "{body}"
    );
    // Its admin API is not on the client segment.
    let r = lab
        .http_client()
        .get(lab.url("adfs.contoso.com", "/_admin/properties"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    // A lab without a farm has no such host.
    let plain = Lab::builtin("contoso").await.unwrap();
    assert!(plain.adfs().is_none());
    let r = plain
        .http_client()
        .get(plain.url("adfs.contoso.com", "/adfs/ls/"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 502);
}

#[test]
fn a_farm_half_is_checked_like_the_others() {
    let text = LabFile::builtin("contoso-federated").unwrap();
    assert_eq!(text.adfs.as_ref().unwrap().host, "adfs.contoso.com");
    let base = include_str!("../../scenarios/labs/contoso-federated.yaml");
    // The farm may not take a name the lab already routes.
    let clash = base.replace("  host: adfs.contoso.com", "  host: mail.contoso.com");
    let e = LabFile::parse(&clash, "lab.yaml", None).unwrap_err();
    let line = clash
        .lines()
        .position(|l| l == "  host: mail.contoso.com")
        .unwrap()
        + 1;
    assert_eq!(
        e.to_string(),
        format!("lab.yaml:{line}:3: the ADFS farm's host 'mail.contoso.com' is an Exchange namespace; give the farm a name of its own (e.g. adfs.contoso.com)")
    );
    // A field of the farm's own model, misspelt, is placed and named.
    let typo = base.replace("  relying_parties:", "  relying_partys:");
    let e = LabFile::parse(&typo, "lab.yaml", None).unwrap_err();
    assert_eq!(
        e.line,
        typo.lines().position(|l| l == "  relying_partys:").unwrap() + 1
    );
    assert!(e.message.contains("unknown field `relying_partys`"), "{e}");
    assert_eq!(e.hint.as_deref(), Some("did you mean `relying_parties`?"));
    // The farm's own rules.
    let dup = base.replace("sam: LeeG,", "sam: GregT,");
    let e = LabFile::parse(&dup, "lab.yaml", None).unwrap_err();
    assert!(
        e.message.contains("users: sam `GregT` appears twice"),
        "{e}"
    );
    // The shipped half by reference.
    let lab = "version: 1\nname: x\naad: { builtin: contoso }\nexchange: { builtin: contoso }\nadfs: { builtin: contoso }\nnetwork:\n  exchange_namespaces: [mail.contoso.com]\n";
    let f = LabFile::parse(lab, "lab.yaml", None).unwrap();
    assert_eq!(f.adfs.unwrap().users.len(), 5);
}

#[tokio::test]
async fn extended_protection_refuses_the_decrypting_proxy_until_it_is_relaxed() {
    let door = door().await;
    let direct = || Transport::for_front_door(&door).unwrap();
    let proxied = || Transport::through_proxy(&door).unwrap();
    assert_eq!(
        cmdlet(
            &door,
            "Set-AdfsProperties -ExtendedProtectionTokenCheck Require"
        )
        .await,
        Ok(String::new())
    );

    // Direct to the door: the binding names the door's certificate for adfs.contoso.com.
    let (r, exchanges) = greg(true, direct()).adfs_sign_in(START).await;
    let post = r.unwrap();
    assert_eq!(
        post.action,
        "https://login.microsoftonline.com:443/login.srf"
    );
    assert_eq!(post.wa, "wsignin1.0");
    assert_eq!(
        post.wctx.as_deref(),
        Some("estsredirect=2&estsrequest=rQIIAX")
    );
    assert!(
        post.wresult
            .starts_with("<t:RequestSecurityTokenResponse xmlns:t=\"http://schemas.xmlsoap.org/ws/2005/02/trust\">"),
        "{}",
        post.wresult
    );
    for needle in [
        "AttributeName=\"UPN\" AttributeNamespace=\"http://schemas.xmlsoap.org/claims\"><saml:AttributeValue>GregT@contoso.com<",
        "<saml:AttributeValue>lDqpPb8kwEiZBjI1g9Tz4A==</saml:AttributeValue>",
        "AuthenticationMethod=\"urn:federation:authentication:windows\"",
    ] {
        assert!(post.wresult.contains(needle), "{needle}\n{}", post.wresult);
    }
    let statuses: Vec<u16> = exchanges.iter().map(|e| e.status).collect();
    assert_eq!(statuses, [401, 401, 200]);
    assert_eq!(exchanges[0].www_authenticate, ["Negotiate", "NTLM"]);
    assert_eq!(exchanges[1].authorization.as_deref(), Some("Negotiate"));

    // Through the recording proxy, which decrypts and shows its own certificate.
    let (r, exchanges) = greg(true, proxied()).adfs_sign_in(START).await;
    assert_eq!(r, Err(AdfsFailure::WindowsLogonRefused));
    let statuses: Vec<u16> = exchanges.iter().map(|e| e.status).collect();
    assert_eq!(statuses, [401, 401, 401]);
    assert_eq!(exchanges[2].www_authenticate, ["Negotiate", "NTLM"]);
    let via: Vec<String> = door.journal().to_json()["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| {
            e["url"]
                .as_str()
                .unwrap_or("")
                .starts_with("https://adfs.contoso.com/")
        })
        .map(|e| e["via"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(
        via,
        [
            "https",
            "https",
            "https",
            "proxy-tls",
            "proxy-tls",
            "proxy-tls"
        ]
    );

    // ADFS's default, Allow, refuses a mismatching binding too; the guide's relaxation lets it in.
    assert_eq!(
        cmdlet(
            &door,
            "Set-AdfsProperties -ExtendedProtectionTokenCheck Allow"
        )
        .await,
        Ok(String::new())
    );
    let (r, _) = greg(true, proxied()).adfs_sign_in(START).await;
    assert_eq!(r, Err(AdfsFailure::WindowsLogonRefused));
    assert_eq!(
        cmdlet(
            &door,
            "Set-AdfsProperties -ExtendedProtectionTokenCheck none"
        )
        .await,
        Ok(String::new())
    );
    let (r, exchanges) = greg(true, proxied()).adfs_sign_in(START).await;
    let post = r.unwrap();
    assert_eq!(
        post.action,
        "https://login.microsoftonline.com:443/login.srf"
    );
    assert!(post.wresult.contains("lDqpPb8kwEiZBjI1g9Tz4A=="));
    assert_eq!(exchanges.last().unwrap().status, 200);

    // A machine outside the domain gets the forms page, which extended protection never
    // concerns, even through the proxy with Require.
    cmdlet(
        &door,
        "Set-AdfsProperties -ExtendedProtectionTokenCheck Require",
    )
    .await
    .unwrap();
    let (r, exchanges) = greg(false, proxied()).adfs_sign_in(START).await;
    assert!(r
        .unwrap()
        .wresult
        .contains("AuthenticationMethod=\"urn:oasis:names:tc:SAML:1.0:am:password\""));
    let steps: Vec<(String, u16)> = exchanges
        .iter()
        .map(|e| (e.method.clone(), e.status))
        .collect();
    assert_eq!(
        steps,
        [
            ("GET".into(), 200),
            ("POST".into(), 302),
            ("GET".into(), 200)
        ]
    );
    door.shutdown().await;
}

#[tokio::test]
async fn the_adfs_cmdlets_read_and_change_the_farm() {
    let door = door().await;
    assert_eq!(
        cmdlet(&door, "Get-AdfsProperties").await.unwrap(),
        "AutoCertificateRollover : True\n\
         DisplayName : Contoso\n\
         ExtendedProtectionTokenCheck : Allow\n\
         FederationPassiveAddress : /adfs/ls/\n\
         HostName : adfs.contoso.com\n\
         HttpPort : 80\n\
         HttpsPort : 443\n\
         Identifier : http://adfs.contoso.com/adfs/services/trust\n\
         SsoLifetime : 480\n\
         WIASupportedUserAgents : {MSAuthHost/1.0/In-Domain, MSIE 6.0, MSIE 7.0, MSIE 8.0, MSIE 9.0, MSIE 10.0, Trident/7.0, MSIPC, Windows Rights Management Client, MS_WorkFoldersClient, Edge/}"
    );
    cmdlet(
        &door,
        "Set-AdfsProperties -ExtendedProtectionTokenCheck Require",
    )
    .await
    .unwrap();
    assert_eq!(
        cmdlet(&door, "(Get-AdfsProperties).ExtendedProtectionTokenCheck").await,
        Ok("Require".into())
    );
    let listing = cmdlet(&door, "Get-AdfsCertificate -CertificateType Token-Signing")
        .await
        .unwrap();
    assert_eq!(
        listing,
        "Certificate : [Subject]\n\
         \x20               CN=ADFS Signing - adfs.contoso.com\n\
         \n\
         \x20             [Issuer]\n\
         \x20               CN=ADFS Signing - adfs.contoso.com\n\
         \n\
         \x20             [Serial Number]\n\
         \x20               6578878013A59DE505A3917BB081BCF7F99DA96D\n\
         \n\
         \x20             [Not Before]\n\
         \x20               1/1/2017 12:00:00 AM\n\
         \n\
         \x20             [Not After]\n\
         \x20               1/1/2047 12:00:00 AM\n\
         \n\
         \x20             [Thumbprint]\n\
         \x20               DCE49F9017F154DFDAAE57F699DCDFA7C2D5339B\n\
         CertificateType : Token-Signing\n\
         IsPrimary : True\n\
         StoreLocation : CurrentUser\n\
         StoreName : My\n\
         Thumbprint : DCE49F9017F154DFDAAE57F699DCDFA7C2D5339B"
    );
    // Token-decrypting and service-communications certificates: the lab's farm has none.
    assert_eq!(
        cmdlet(&door, "Get-AdfsCertificate Token-Decrypting").await,
        Ok(String::new())
    );
    assert_eq!(
        cmdlet(&door, "Update-AdfsCertificate -CertificateType Token-Signing -Urgent -WhatIf").await,
        Ok("What if: Performing the operation \"Update-AdfsCertificate\" on target \"Token-Signing\".".into())
    );
    assert_eq!(
        cmdlet(
            &door,
            "Update-AdfsCertificate -CertificateType Token-Signing -Urgent -PassThru | Format-Table CertificateType,IsPrimary,Thumbprint"
        )
        .await,
        Ok("CertificateType IsPrimary Thumbprint\n\
            --------------- --------- ----------\n\
            Token-Signing   True      647231455AABE1007AED399626DB8C9F829F08C5\n\
            Token-Signing   False     DCE49F9017F154DFDAAE57F699DCDFA7C2D5339B"
            .to_string())
    );
    // The rollover is the farm's: its metadata now publishes both certificates.
    assert_eq!(
        door.lab()
            .adfs()
            .unwrap()
            .state()
            .certs()
            .signing_key()
            .cert
            .thumbprint(),
        "647231455AABE1007AED399626DB8C9F829F08C5"
    );
    assert_eq!(
        cmdlet(&door, "Get-AdfsCertificate -CertificateType Token-Sign").await,
        Err("Get-AdfsCertificate : Cannot validate argument on parameter 'CertificateType'. The argument \"Token-Sign\" does not belong to the set \"Service-Communications,Token-Decrypting,Token-Signing\" specified by the ValidateSet attribute. Supply an argument that is in the set and then try the command again.\nAt line:1 char:1\n+ Get-AdfsCertificate -CertificateType Token-Sign\n+ ~~~~~~~~~~~~~~~~~~~\n    + CategoryInfo          : InvalidData: (:) [Get-AdfsCertificate], ParameterBindingValidationException\n    + FullyQualifiedErrorId : ParameterArgumentValidationError,Get-AdfsCertificate\n".into())
    );
    door.shutdown().await;
}

#[tokio::test]
async fn the_adfs_cmdlets_in_a_lab_without_a_farm_say_so() {
    let lab = Lab::builtin("contoso").await.unwrap();
    let door = FrontDoor::start_in_memory(Arc::new(lab)).await.unwrap();
    assert_eq!(door.ready().get("adfs"), None);
    assert_eq!(
        cmdlet(&door, "Set-AdfsProperties -ExtendedProtectionTokenCheck None").await,
        Err("Set-AdfsProperties : The lab has no ADFS farm (a lab file's `adfs:` adds one, as the shipped contoso-federated lab does).\nAt line:1 char:1\n+ Set-AdfsProperties -ExtendedProtectionTokenCheck None\n+ ~~~~~~~~~~~~~~~~~~\n    + CategoryInfo          : ObjectNotFound: (:) [Set-AdfsProperties], NoAdfsFarm\n    + FullyQualifiedErrorId : NoAdfsFarm,Set-AdfsProperties\n".into())
    );
    door.shutdown().await;
}

#[test]
fn serve_names_the_farm_in_its_ready_line() {
    let state = std::env::temp_dir().join(format!("hma-lab-adfs-{}", uuid::Uuid::new_v4()));
    let serve = Started::spawn(
        Command::new(env!("CARGO_BIN_EXE_hma-lab"))
            .args(["serve", "--lab", "contoso-federated", "--state-dir"])
            .arg(&state)
            .stderr(Stdio::null()),
    );
    let ready = serve.ready.clone();
    let keys: Vec<&String> = ready.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "event",
            "https",
            "proxy",
            "ca",
            "admin",
            "admin_token",
            "dashboard",
            "adfs"
        ]
    );
    assert_eq!(ready["adfs"], "https://adfs.contoso.com");
    let (code, rest) = serve.sigterm();
    assert!(rest.is_empty(), "{rest}");
    assert_eq!(code, Some(0));
    let _ = std::fs::remove_dir_all(&state);
}
