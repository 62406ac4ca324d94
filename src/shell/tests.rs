//! Shell tests against a fake backend that holds the seed's environment and records every call.
//!
//! The seed's own text is the oracle where it can be: its command lines are collected from the
//! guide file and must all parse and run, and its `Format-List` and `select -ExpandProperty`
//! outputs are cut from the guide and compared character for character. Error records are
//! pinned by golden files under `tests/golden/shell/` (regenerate with `UPDATE_GOLDEN=1`).

use mock_aad::model::{CaAction, CaRule, MfaState};
use mock_exchange::model::{
    AuthMethod, AuthServer, AuthServerType, ExchangeVersion, Mailbox, OrgConfig, Server, VdirKind,
    VirtualDirectory,
};
use uuid::Uuid;

use super::backend::*;
use super::parser::{parse_line, strip_prompt};
use super::{Shell, ShellError};

const SEED_FILE: &str = "reference/000_ba63891cc771c263.txt";
const EXO: &str = "00000002-0000-0ff1-ce00-000000000000";

/// The guide, from the project's `shared/` folder (beside the checkout, or the workplace's).
fn seed_text() -> String {
    let candidates = [
        format!("{}/../shared/{SEED_FILE}", env!("CARGO_MANIFEST_DIR")),
        format!("{}/../../shared/{SEED_FILE}", env!("CARGO_MANIFEST_DIR")),
        format!("/work/shared/{SEED_FILE}"),
    ];
    candidates
        .iter()
        .find_map(|p| std::fs::read_to_string(p).ok())
        .unwrap_or_else(|| panic!("the seed guide is not at any of {candidates:?}"))
}

#[derive(Default)]
struct Fake {
    servers: Vec<Server>,
    auth_servers: Vec<AuthServer>,
    org: OrgConfig,
    mailboxes: Vec<Mailbox>,
    sps: Vec<ServicePrincipal>,
    calls: Vec<String>,
    outlook: Option<OutlookVersion>,
    membership: Membership,
}

use AuthMethod::*;

fn vd(kind: VdirKind, name: &str, url: Option<&str>) -> VirtualDirectory {
    VirtualDirectory {
        kind,
        name: name.into(),
        internal_url: url.map(str::to_string),
        external_url: url.map(str::to_string),
        iis_authentication_methods: vec![],
        internal_authentication_methods: vec![],
        external_authentication_methods: vec![],
        basic_authentication: false,
        windows_authentication: false,
        oauth_authentication: false,
        wssecurity_authentication: false,
        digest_authentication: false,
        adfs_authentication: false,
        live_id_basic_authentication: false,
        live_id_negotiate_authentication: false,
        forms_authentication: false,
    }
}

/// One server with the seed's vdir settings.
fn seed_server(name: &str) -> Server {
    let mut mapi = vd(
        VdirKind::Mapi,
        "mapi (Default Web Site)",
        Some("https://mail.contoso.com/mapi"),
    );
    mapi.iis_authentication_methods = vec![Ntlm, OAuth, Negotiate];
    mapi.internal_authentication_methods = vec![Ntlm, OAuth, Negotiate];
    mapi.external_authentication_methods = vec![Ntlm, OAuth, Negotiate];
    let mut ews = vd(
        VdirKind::Ews,
        "EWS (Default Web Site)",
        Some("https://mail.contoso.com/EWS/Exchange.asmx"),
    );
    ews.internal_authentication_methods = vec![Ntlm, WindowsIntegrated, WSSecurity, OAuth];
    ews.external_authentication_methods = vec![Ntlm, WindowsIntegrated, WSSecurity, OAuth];
    ews.wssecurity_authentication = true;
    ews.windows_authentication = true;
    ews.oauth_authentication = true;
    let mut oab = vd(
        VdirKind::Oab,
        "OAB (Default Web Site)",
        Some("https://mail.contoso.com/OAB"),
    );
    oab.internal_authentication_methods = vec![WindowsIntegrated, OAuth];
    oab.external_authentication_methods = vec![WindowsIntegrated, OAuth];
    oab.windows_authentication = true;
    oab.oauth_authentication = true;
    let mut ad = vd(
        VdirKind::Autodiscover,
        "Autodiscover (Default Web Site)",
        None,
    );
    let all = vec![Basic, Ntlm, WindowsIntegrated, WSSecurity, OAuth];
    ad.internal_authentication_methods = all.clone();
    ad.external_authentication_methods = all;
    ad.wssecurity_authentication = true;
    ad.basic_authentication = true;
    ad.windows_authentication = true;
    ad.oauth_authentication = true;
    let mut eas = vd(
        VdirKind::Eas,
        "Microsoft-Server-ActiveSync (Default Web Site)",
        Some("https://mail.contoso.com/Microsoft-Server-ActiveSync"),
    );
    eas.basic_authentication = true;
    let owa = vd(
        VdirKind::Owa,
        "owa (Default Web Site)",
        Some("https://mail.contoso.com/owa"),
    );
    Server {
        name: name.into(),
        fqdn: format!("{}.contoso.com", name.to_ascii_lowercase()),
        version: ExchangeVersion::Ex2016,
        cu: None,
        os: None,
        server_header: None,
        internal_hosts: vec![],
        vdirs: vec![mapi, ews, oab, ad, eas, owa],
    }
}

fn seed_spns() -> Vec<String> {
    let mut v = vec![
        "https://autodiscover.contoso.com/".to_string(),
        "https://mail.contoso.com/".to_string(),
    ];
    for s in [
        "*.outlook.com",
        "outlook.com",
        "mail.office365.com",
        "outlook.office365.com",
        "contoso.com",
        "autodiscover.contoso.com",
        "contoso.mail.onmicrosoft.com",
        "autodiscover.contoso.mail.onmicrosoft.com",
        "mail.contoso.com",
    ] {
        v.push(format!("{EXO}/{s}"));
    }
    v.push(EXO.to_string());
    v
}

fn auth_server(name: &str, kind: AuthServerType, default: bool) -> AuthServer {
    AuthServer {
        name: name.into(),
        kind,
        auth_metadata_url: format!("https://login.windows.net/contoso.com/federationmetadata/2007-06/federationmetadata.xml#{name}"),
        realm: None,
        is_default_authorization_endpoint: default,
        enabled: true,
        authorization_endpoint: "https://login.windows.net/common/oauth2/authorize".into(),
    }
}

impl Fake {
    fn seed() -> Fake {
        Fake {
            servers: vec![seed_server("EX1")],
            auth_servers: vec![
                auth_server("EvoSts", AuthServerType::AzureAD, false),
                auth_server("ADFS", AuthServerType::ADFS, false),
            ],
            org: OrgConfig::default(),
            mailboxes: vec![Mailbox {
                primary_smtp_address: "GregT@contoso.com".into(),
                owner_sid: "S-1-5-21-1".into(),
                server: "EX1".into(),
                guid: Uuid::from_u128(0x1234),
                display_name: "Greg Taylor".into(),
                items: Default::default(),
            }],
            sps: vec![ServicePrincipal {
                object_id: Uuid::from_u128(0xabc),
                app_principal_id: Uuid::parse_str(EXO).unwrap_or_default(),
                display_name: "Office 365 Exchange Online".into(),
                account_enabled: true,
                service_principal_names: seed_spns(),
            }],
            calls: Vec::new(),
            outlook: None,
            membership: Membership::default(),
        }
    }
    fn two_servers() -> Fake {
        let mut f = Fake::seed();
        let mut ex2 = seed_server("EX2");
        for v in &mut ex2.vdirs {
            if v.kind == VdirKind::Mapi {
                v.iis_authentication_methods = vec![Ntlm, Negotiate];
            }
        }
        f.servers.push(ex2);
        f
    }
    fn log(&mut self, s: String) -> BResult<()> {
        self.calls.push(s);
        Ok(())
    }
}

impl Backend for Fake {
    fn exchange(&mut self) -> Option<&mut dyn ExchangeAdmin> {
        Some(self)
    }
    fn directory(&mut self) -> Option<&mut dyn DirectoryAdmin> {
        Some(self)
    }
    fn machines(&mut self) -> Option<&mut dyn Machines> {
        Some(self)
    }
    fn adfs(&mut self) -> Option<&mut dyn AdfsAdmin> {
        Some(self)
    }
}

impl ExchangeAdmin for Fake {
    fn exchange_servers(&mut self) -> BResult<Vec<Server>> {
        Ok(self.servers.clone())
    }
    fn set_vdir(&mut self, server: &str, kind: VdirKind, c: &VdirChange) -> BResult<()> {
        let json = serde_json::to_string(c).unwrap_or_default();
        let v = self
            .servers
            .iter_mut()
            .find(|s| s.name == server)
            .and_then(|s| s.vdirs.iter_mut().find(|v| v.kind == kind))
            .ok_or_else(|| BackendError::new("NotSpecified", "X", "no vdir"))?;
        if let Some(m) = &c.iis_authentication_methods {
            v.iis_authentication_methods = m.clone();
        }
        if let Some(m) = &c.internal_authentication_methods {
            v.internal_authentication_methods = m.clone();
        }
        if let Some(m) = &c.external_authentication_methods {
            v.external_authentication_methods = m.clone();
        }
        if let Some(b) = c.oauth_authentication {
            v.oauth_authentication = b;
        }
        if let Some(u) = &c.internal_url {
            v.internal_url = u.clone();
        }
        self.log(format!("set_vdir {server} {kind:?} {json}"))
    }
    fn organization(&mut self) -> BResult<OrgSummary> {
        Ok(OrgSummary {
            name: "Contoso".into(),
            domain: "contoso.com".into(),
            config: self.org.clone(),
        })
    }
    fn set_org_config(&mut self, c: &OrgConfigChange) -> BResult<()> {
        if let Some(b) = c.oauth2_client_profile_enabled {
            self.org.oauth2_client_profile_enabled = b;
        }
        if let Some(b) = c.mapi_http_enabled {
            self.org.mapi_http_enabled = b;
        }
        let json = serde_json::to_string(c).unwrap_or_default();
        self.log(format!("set_org_config {json}"))
    }
    fn auth_servers(&mut self) -> BResult<Vec<AuthServer>> {
        Ok(self.auth_servers.clone())
    }
    fn new_auth_server(&mut self, n: &NewAuthServer) -> BResult<AuthServer> {
        let a = AuthServer {
            name: n.name.clone(),
            kind: n.kind,
            auth_metadata_url: n.auth_metadata_url.clone(),
            realm: None,
            is_default_authorization_endpoint: n.is_default_authorization_endpoint,
            enabled: n.enabled,
            authorization_endpoint: "https://login.windows.net/common/oauth2/authorize".into(),
        };
        self.auth_servers.push(a.clone());
        self.calls.push(format!(
            "new_auth_server {}",
            serde_json::to_string(n).unwrap_or_default()
        ));
        Ok(a)
    }
    fn set_auth_server(&mut self, name: &str, c: &AuthServerChange) -> BResult<()> {
        if let Some(a) = self.auth_servers.iter_mut().find(|a| a.name == name) {
            if let Some(b) = c.is_default_authorization_endpoint {
                a.is_default_authorization_endpoint = b;
            }
        }
        let json = serde_json::to_string(c).unwrap_or_default();
        self.log(format!("set_auth_server {name} {json}"))
    }
    fn refresh_auth_metadata(&mut self, name: &str) -> BResult<()> {
        self.log(format!("refresh_auth_metadata {name}"))
    }
    fn mailboxes(&mut self) -> BResult<Vec<Mailbox>> {
        Ok(self.mailboxes.clone())
    }
    fn uninstall_server(&mut self, server: &str) -> BResult<()> {
        self.log(format!("uninstall_server {server}"))
    }
    fn move_mailbox(&mut self, smtp: &str, server: &str) -> BResult<()> {
        self.log(format!("move_mailbox {smtp} {server}"))
    }
    fn iisreset(&mut self, server: Option<&str>, noforce: bool) -> BResult<()> {
        self.log(format!("iisreset {server:?} noforce={noforce}"))
    }
}

impl DirectoryAdmin for Fake {
    fn service_principals(&mut self) -> BResult<Vec<ServicePrincipal>> {
        Ok(self.sps.clone())
    }
    fn set_service_principal(&mut self, app: Uuid, c: &ServicePrincipalChange) -> BResult<()> {
        if let Some(sp) = self.sps.iter_mut().find(|s| s.app_principal_id == app) {
            if let Some(n) = &c.service_principal_names {
                sp.service_principal_names = n.clone();
            }
        }
        let json = serde_json::to_string(c).unwrap_or_default();
        self.log(format!("set_service_principal {app} {json}"))
    }
    fn set_user_password(&mut self, upn: &str, pw: Option<&str>, force: bool) -> BResult<String> {
        self.calls
            .push(format!("set_user_password {upn} {pw:?} force={force}"));
        Ok(pw.unwrap_or("Generated1!").to_string())
    }
    fn set_conditional_access_enabled(&mut self, name: &str, enabled: bool) -> BResult<()> {
        self.log(format!("set_conditional_access_enabled {name} {enabled}"))
    }

    fn revoke_tenant_sessions(&mut self, unicorn: bool) -> BResult<()> {
        self.log(format!("revoke_tenant_sessions unicorn={unicorn}"))
    }

    fn revoke_user_sessions(&mut self, user: &str) -> BResult<()> {
        if user == "nobody@contoso.com" {
            return Err(BackendError::new(
                "ObjectNotFound",
                "Request_ResourceNotFound",
                format!("Resource '{user}' does not exist or one of its queried reference-property objects are not present."),
            ));
        }
        self.log(format!("revoke_user_sessions {user}"))
    }
    fn set_user_block_credential(&mut self, upn: &str, blocked: bool) -> BResult<()> {
        self.log(format!("set_user_block_credential {upn} {blocked}"))
    }
    fn set_user_mfa(&mut self, upn: &str, state: MfaState) -> BResult<()> {
        self.log(format!("set_user_mfa {upn} {state:?}"))
    }
    fn new_conditional_access_policy(&mut self, rule: &CaRule) -> BResult<()> {
        self.log(format!("new_ca {rule:?}"))
    }
}

impl AdfsAdmin for Fake {
    fn adfs_properties(&mut self) -> BResult<AdfsProperties> {
        Err(BackendError::new("NotSpecified", "X", "not in this fake"))
    }
    fn set_adfs_properties(&mut self, c: &AdfsPropertiesChange) -> BResult<AdfsProperties> {
        if let Some(mode) = c.extended_protection_token_check {
            self.log(format!("set_adfs_extended_protection {mode:?}"))?;
        }
        Ok(AdfsProperties {
            host_name: "adfs.contoso.com".into(),
            identifier: "http://adfs.contoso.com/adfs/services/trust".into(),
            display_name: "Contoso".into(),
            extended_protection_token_check: c
                .extended_protection_token_check
                .unwrap_or(ExtendedProtection::Allow),
            wia_supported_user_agents: Vec::new(),
        })
    }
    fn adfs_certificates(&mut self) -> BResult<Vec<AdfsCertificate>> {
        Ok(Vec::new())
    }
    fn update_adfs_certificate(&mut self, urgent: bool) -> BResult<Vec<AdfsCertificate>> {
        self.log(format!("update_adfs_certificate {urgent}"))?;
        Ok(Vec::new())
    }
}

impl Machines for Fake {
    fn set_client_setting(&mut self, s: &ClientSetting) -> BResult<()> {
        self.log(format!(
            "client {}",
            serde_json::to_string(s).unwrap_or_default()
        ))
    }
    fn install_outlook(&mut self, version: OutlookVersion) -> BResult<()> {
        self.outlook = Some(version);
        self.log(format!("install_outlook {}", version.year()))
    }
    fn installed_outlook(&mut self) -> BResult<Option<OutlookVersion>> {
        Ok(self.outlook)
    }
    fn ad_domain(&mut self) -> BResult<AdDomainName> {
        Ok(AdDomainName::contoso())
    }
    fn membership(&mut self) -> BResult<Membership> {
        Ok(self.membership.clone())
    }
    fn set_membership(&mut self, m: &Membership) -> BResult<()> {
        self.membership = m.clone();
        self.log(format!("membership {:?} {:?}", m.domain, m.logon_domain))
    }
}

fn shell() -> Shell<Fake> {
    Shell::new(Fake::seed())
}

fn run(sh: &mut Shell<Fake>, line: &str) -> String {
    match sh.run(line) {
        Ok(o) => o.text,
        Err(e) => panic!("{line}: {}", e.render()),
    }
}

fn run_any<B: Backend>(sh: &mut Shell<B>, line: &str) -> String {
    match sh.run(line) {
        Ok(o) => o.text,
        Err(e) => panic!("{line}: {}", e.render()),
    }
}

/// Every cmdlet of the table is documented in the book's cmdlet and PowerShell pages.
#[test]
fn every_cmdlet_is_in_the_reference() {
    let doc = ["cmdlet-behaviour.md", "powershell.md"]
        .iter()
        .map(|page| {
            let path = format!("{}/docs/src/reference/{page}", env!("CARGO_MANIFEST_DIR"));
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
        })
        .collect::<String>();
    let mut missing = Vec::new();
    for name in super::cmdlets::command_names() {
        if !doc.contains(name) {
            missing.push(name.to_string());
        }
    }
    for spec in super::cmdlets::all() {
        for p in spec.sig.params {
            if !doc.contains(&format!("-{}", p.name)) {
                missing.push(format!("{} -{}", spec.name(), p.name));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "not in docs/src/reference/cmdlet-behaviour.md or powershell.md: {missing:?}"
    );
}

fn err(sh: &mut Shell<Fake>, line: &str) -> ShellError {
    match sh.run(line) {
        Ok(o) => panic!("{line}: expected an error, got {:?}", o.text),
        Err(e) => e,
    }
}

/// Compares with (or, with `UPDATE_GOLDEN=1`, writes) `tests/golden/shell/<name>`: the kit's.
fn golden(name: &str, actual: &str) {
    const GOLDEN: lab_kit::testkit::Golden = lab_kit::golden_dir!("tests/golden/shell");
    GOLDEN.check(name, actual);
}

// ------------------------------------------------------------------ the seed's command lines

/// The command lines of the seed, as they appear in the guide. A line whose list-item prose
/// was merged onto it by the web page (`… $x.ServicePrincipalNames - Repeat step 2 …`) is cut
/// at ` - ` followed by a capital letter; everything else is taken verbatim, prompt included.
fn seed_command_lines() -> Vec<String> {
    let starts = [
        "Get-",
        "Set-",
        "New-",
        "Revoke-",
        "$x",
        "(Get-",
        "defaults write",
        "iisreset",
    ];
    let mut out = Vec::new();
    for line in seed_text().lines() {
        let t = strip_prompt(line);
        // HTTP captures (`Set-Cookie: …`) are not commands
        let first_word = t.split_whitespace().next().unwrap_or_default();
        if !starts.iter().any(|s| t.starts_with(s)) || first_word.ends_with(':') {
            continue;
        }
        let mut cmd = line.to_string();
        if let Some(i) = cmd.find(" - ") {
            if cmd[i + 3..].starts_with(|c: char| c.is_ascii_uppercase()) {
                cmd.truncate(i);
            }
        }
        out.push(cmd);
    }
    out
}

/// The client-side lines the brief names (the seed only links to them).
const CLIENT_LINES: &[&str] = &[
    r"reg add HKCU\SOFTWARE\Microsoft\Office\15.0\Common\Identity /v EnableADAL /t REG_DWORD /d 1 /f",
    r"reg add HKCU\SOFTWARE\Microsoft\Office\15.0\Common\Identity /v Version /t REG_DWORD /d 1 /f",
    r"New-ItemProperty -Path HKCU:\SOFTWARE\Microsoft\Office\15.0\Common\Identity -Name EnableADAL -Value 1 -PropertyType DWord -Force",
    r"Set-ItemProperty -Path HKCU:\SOFTWARE\Microsoft\Office\15.0\Common\Identity -Name Version -Value 1",
    "defaults write com.microsoft.Outlook DisableModernAuth -bool NO",
    "iisreset /noforce",
    r"reg add HKCU\SOFTWARE\Microsoft\Office\15.0\Common\Identity /v Version /d 1 /f",
];

#[test]
fn every_seed_command_line_parses_and_runs() {
    let lines = seed_command_lines();
    // 27 lines in the guide (prompted repeats included); a change in extraction must show here.
    assert_eq!(lines.len(), 27, "{lines:#?}");
    // before the guide's steps: /mapi without OAuth, EvoSts not default, OAuth2 client profile off
    let mut fake = Fake::seed();
    for v in &mut fake.servers[0].vdirs {
        if v.kind == VdirKind::Mapi {
            v.iis_authentication_methods = vec![Ntlm, Negotiate];
        }
    }
    let mut sh = Shell::new(fake);
    for line in lines
        .iter()
        .map(String::as_str)
        .chain(CLIENT_LINES.iter().copied())
    {
        parse_line(line).unwrap_or_else(|e| panic!("{line}\n{}", e.render()));
        sh.run(line)
            .unwrap_or_else(|e| panic!("{line}\n{}", e.render()));
    }
    // the seed's state changes arrived at the backend
    let calls = sh.backend.calls.join("\n");
    assert!(calls.contains(
        r#"set_vdir EX1 Mapi {"iis_authentication_methods":["Ntlm","OAuth","Negotiate"],"internal_authentication_methods":["Ntlm","OAuth","Negotiate"],"external_authentication_methods":["Ntlm","OAuth","Negotiate"]}"#
    ));
    assert!(calls.contains(r#"set_auth_server EvoSts {"is_default_authorization_endpoint":true}"#));
    // the guide runs that line twice; the second time there is nothing to change
    assert_eq!(calls.matches("set_auth_server").count(), 1);
    assert!(calls.contains(r#"set_org_config {"oauth2_client_profile_enabled":true}"#));
    assert!(calls.contains("set_adfs_extended_protection None"));
    assert!(calls.contains("set_adfs_extended_protection Allow"));
    assert!(calls.contains(r#"client {"kind":"mac_defaults","domain":"com.microsoft.Outlook","key":"DisableModernAuth","value_type":"bool","value":"NO"}"#));
    assert!(calls.contains(r#"client {"kind":"registry","key":"HKEY_CURRENT_USER\\SOFTWARE\\Microsoft\\Office\\15.0\\Common\\Identity","name":"EnableADAL","value_type":"REG_DWORD","data":"1"}"#));
}

/// The lines following the seed's `[PS] …` line for `command` that look like `Name : Value`.
fn seed_block_after(command: &str) -> (String, String) {
    let text = seed_text();
    let lines: Vec<&str> = text.lines().collect();
    let i = lines
        .iter()
        .position(|l| l.starts_with("[PS]") && strip_prompt(l) == command)
        .unwrap_or_else(|| panic!("seed has no [PS] line for {command}"));
    let block: Vec<&str> = lines[i + 1..]
        .iter()
        .take_while(|l| {
            let mut parts = l.splitn(2, " :");
            let name = parts.next().unwrap_or_default();
            parts.next().is_some() && !name.is_empty() && !name.contains(' ')
        })
        .copied()
        .collect();
    assert!(block.len() >= 5, "{command}: {block:?}");
    (lines[i].to_string(), block.join("\n"))
}

#[test]
fn format_list_outputs_match_the_seed_character_for_character() {
    for cmd in [
        "Get-MapiVirtualDirectory | fl server,*url*,*auth*",
        "Get-WebServicesVirtualDirectory | fl server,*url*,*auth*",
        "Get-OabVirtualDirectory | fl server,*url*,*auth*",
        "Get-AutodiscoverVirtualDirectory | fl server,*auth*",
    ] {
        let (prompted, expected) = seed_block_after(cmd);
        let mut sh = shell();
        assert_eq!(run(&mut sh, &prompted), expected, "{prompted}");
    }
}

#[test]
fn select_expand_property_matches_the_seed_listing() {
    let text = seed_text();
    let lines: Vec<&str> = text.lines().collect();
    let cmd = format!(
        "Get-MsolServicePrincipal -AppPrincipalId {EXO} | select -ExpandProperty ServicePrincipalNames"
    );
    let i = lines
        .iter()
        .position(|l| l.starts_with("[PS]") && strip_prompt(l) == cmd)
        .unwrap_or_else(|| panic!("no listing"));
    // the listing ends at the bare app id, onto which the page merged the next paragraph
    let mut expected: Vec<String> = Vec::new();
    for l in &lines[i + 1..] {
        let spn = l.split(" - ").next().unwrap_or_default().to_string();
        let last = spn == EXO;
        expected.push(spn);
        if last {
            break;
        }
    }
    assert_eq!(expected.len(), 12);
    let mut sh = shell();
    assert_eq!(run(&mut sh, lines[i]), expected.join("\n"));
}

#[test]
fn adding_spns_through_a_variable_sets_the_whole_list() {
    let mut sh = shell();
    run(
        &mut sh,
        &format!("$x= Get-MsolServicePrincipal -AppPrincipalId {EXO}"),
    );
    run(
        &mut sh,
        "$x.ServicePrincipalnames.Add(\"https://mail.corp.contoso.com/\")",
    );
    run(
        &mut sh,
        "$x.ServicePrincipalnames.Add(\"https://owa.contoso.com/\")",
    );
    assert_eq!(run(&mut sh, "$x.ServicePrincipalNames.Count"), "14");
    run(
        &mut sh,
        &format!("Set-MSOLServicePrincipal -AppPrincipalId {EXO} -ServicePrincipalNames $x.ServicePrincipalNames"),
    );
    let mut spns = seed_spns();
    spns.push("https://mail.corp.contoso.com/".into());
    spns.push("https://owa.contoso.com/".into());
    let expected = format!(
        "set_service_principal {EXO} {}",
        serde_json::json!({ "service_principal_names": spns })
    );
    assert_eq!(sh.backend.calls, vec![expected]);
    // a list method that returns a value prints it, as List<string>.Remove does
    assert_eq!(
        run(
            &mut sh,
            "$x.ServicePrincipalNames.Remove(\"https://owa.contoso.com/\")"
        ),
        "True"
    );
    // an array literal is fixed-size
    let e = err(&mut sh, "$a = 1, 2; $a.Add(3)");
    assert_eq!(
        e.message,
        "Exception calling \"Add\" with \"1\" argument(s): \"Collection was of a fixed size.\""
    );
    let e = err(&mut sh, "$nothing.Add(1)");
    assert_eq!(
        e.message,
        "You cannot call a method on a null-valued expression."
    );
}

#[test]
fn where_filters_and_parenthesised_properties() {
    let mut sh = shell();
    assert_eq!(
        run(
            &mut sh,
            "Get-AuthServer | where {$_.Name -eq \"EvoSts\"} | fl Name,Type,IsDefault*"
        ),
        "Name : EvoSts\nType : AzureAD\nIsDefaultAuthorizationEndpoint : False"
    );
    assert_eq!(
        run(
            &mut sh,
            "(Get-OrganizationConfig).OAuth2ClientProfileEnabled"
        ),
        "False"
    );
    run(
        &mut sh,
        "Set-OrganizationConfig -OAuth2ClientProfileEnabled $True",
    );
    assert_eq!(
        run(
            &mut sh,
            "(Get-OrganizationConfig).OAuth2ClientProfileEnabled"
        ),
        "True"
    );
    assert_eq!(
        run(&mut sh, "Get-AuthServer | Where-Object { $_.Type -like 'a*' -and -not $_.IsDefaultAuthorizationEndpoint } | select -ExpandProperty Name"),
        "EvoSts\nADFS"
    );
    assert_eq!(
        run(
            &mut sh,
            "Get-AuthServer | ? { $_.Name -match '^ev' } | % { $_.Name.ToUpper() }"
        ),
        "EVOSTS"
    );
}

#[test]
fn default_output_is_a_table_for_exchange_objects() {
    let mut sh = shell();
    golden("get-authserver.txt", &run(&mut sh, "Get-AuthServer"));
    golden(
        "get-exchangeserver.txt",
        &run(&mut sh, "Get-ExchangeServer"),
    );
    golden("get-mailbox.txt", &run(&mut sh, "Get-Mailbox"));
    golden(
        "get-msolserviceprincipal.txt",
        &run(
            &mut sh,
            &format!("Get-MsolServicePrincipal -AppPrincipalId {EXO}"),
        ),
    );
    assert_eq!(
        run(&mut sh, "Get-MapiVirtualDirectory"),
        "Name                    Server\n----                    ------\nmapi (Default Web Site) EX1"
    );
}

#[test]
fn pipeline_input_binds_identity_on_every_server() {
    let mut sh = Shell::new(Fake::two_servers());
    assert_eq!(
        run(&mut sh, "Get-MapiVirtualDirectory | fl server,IIS*"),
        "Server : EX1\nIISAuthenticationMethods : {Ntlm, OAuth, Negotiate}\n\nServer : EX2\nIISAuthenticationMethods : {Ntlm, Negotiate}"
    );
    // EX1 has the methods already: Exchange warns and writes nothing there
    assert_eq!(
        run(
            &mut sh,
            "Get-MapiVirtualDirectory | Set-MapiVirtualDirectory -IISAuthenticationMethods Ntlm, OAuth, Negotiate",
        ),
        "WARNING: The command completed successfully but no settings of 'EX1\\mapi (Default Web Site)' have been modified."
    );
    assert_eq!(sh.backend.calls.len(), 1);
    assert!(sh.backend.calls[0].starts_with(
        "set_vdir EX2 Mapi {\"iis_authentication_methods\":[\"Ntlm\",\"OAuth\",\"Negotiate\"]"
    ));
    assert_eq!(
        run(&mut sh, "Get-MapiVirtualDirectory -Server EX2 | fl IIS*"),
        "IISAuthenticationMethods : {Ntlm, OAuth, Negotiate}"
    );
    // identity forms
    run(
        &mut sh,
        "Set-WebServicesVirtualDirectory 'EX2\\EWS (Default Web Site)' -OAuthAuthentication $false",
    );
    assert!(sh.backend.calls[1].starts_with("set_vdir EX2 Ews {\"oauth_authentication\":false"));
    let e = err(
        &mut sh,
        "Set-WebServicesVirtualDirectory 'EWS (Default Web Site)' -OAuthAuthentication $true",
    );
    assert_eq!(
        e.message,
        "The operation couldn't be performed because 'EWS (Default Web Site)' matches multiple entries."
    );
    let e = err(
        &mut sh,
        "Get-OwaVirtualDirectory -Identity 'EX9\\owa (Default Web Site)'",
    );
    assert_eq!(
        e.message,
        "The operation couldn't be performed because object 'EX9\\owa (Default Web Site)' couldn't be found on 'DC1.contoso.com'."
    );
    let e = err(&mut sh, "Get-OwaVirtualDirectory -Identity x -Server EX1");
    assert_eq!(
        e.message,
        "Parameter set cannot be resolved using the specified named parameters."
    );
    // the "@Add PowerShell thing" the guide warns about edits the current list
    run(&mut sh, "Set-MapiVirtualDirectory 'EX2\\mapi (Default Web Site)' -IISAuthenticationMethods @{Remove='OAuth'}");
    run(&mut sh, "Set-MapiVirtualDirectory 'EX2\\mapi (Default Web Site)' -IISAuthenticationMethods @{Add=\"OAuth\", 'Ntlm'}");
    assert_eq!(
        run(&mut sh, "Get-MapiVirtualDirectory -Server EX2 | fl IIS*"),
        "IISAuthenticationMethods : {Ntlm, Negotiate, OAuth}"
    );
    let e = err(&mut sh, "Set-MapiVirtualDirectory 'EX2\\mapi (Default Web Site)' -IISAuthenticationMethods @{Append='OAuth'}");
    assert!(
        e.message
            .ends_with("The key 'Append' is not Add or Remove."),
        "{}",
        e.message
    );
    let e = err(&mut sh, "Set-MapiVirtualDirectory 'EX2\\mapi (Default Web Site)' -IISAuthenticationMethods @{Add='OAuth'");
    assert_eq!(e.message, "The hash literal was incomplete.");
    // -WhatIf changes nothing
    let before = sh.backend.calls.len();
    assert_eq!(
        run(&mut sh, "Set-OabVirtualDirectory 'EX1\\OAB (Default Web Site)' -OAuthAuthentication $true -WhatIf"),
        "What if: Performing the operation \"Set-OabVirtualDirectory\" on target \"EX1\\OAB (Default Web Site)\"."
    );
    assert_eq!(sh.backend.calls.len(), before);
}

#[test]
fn parameters_bind_by_prefix_position_and_type() {
    let mut sh = shell();
    run(&mut sh, "Set-AuthServer EvoSTS -IsDefault $true");
    run(&mut sh, "Set-AuthServer -Identity EvoSts -Enabled:$false");
    run(&mut sh, "Set-AuthServer EvoSts -RefreshAuthMetadata");
    run(
        &mut sh,
        "Set-AuthServer EvoSts -isdefaultauthorizationendpoint 0",
    );
    assert_eq!(
        sh.backend.calls,
        vec![
            r#"set_auth_server EvoSts {"is_default_authorization_endpoint":true}"#,
            r#"set_auth_server EvoSts {"enabled":false}"#,
            "refresh_auth_metadata EvoSts",
            r#"set_auth_server EvoSts {"is_default_authorization_endpoint":false}"#,
        ]
    );
    let out = run(
        &mut sh,
        "New-AuthServer -Name EvoSts2 -AuthMetadataUrl https://login.windows.net/contoso.com/federationmetadata/2007-06/federationmetadata.xml -Type AzureAD",
    );
    assert!(out.starts_with("Name    IssuerIdentifier"), "{out}");
    assert!(sh.backend.calls[4].contains("\"type\":\"AzureAD\""));
}

#[test]
fn binding_errors_are_powershells() {
    let mut sh = shell();
    let e = err(&mut sh, "Set-MapiVirtualDirectory -Identity 'EX1\\mapi (Default Web Site)' -OAuthAuthentication $true");
    assert_eq!(
        e.message,
        "A parameter cannot be found that matches parameter name 'OAuthAuthentication'."
    );
    assert_eq!(
        e.error_id,
        "NamedParameterNotFound,Set-MapiVirtualDirectory"
    );
    assert_eq!(e.column, 66);
    golden("error-mapi-oauthauthentication.txt", &e.render());
    // the other vdirs have it
    run(&mut sh, "Get-WebServicesVirtualDirectory | Set-WebServicesVirtualDirectory -OAuthAuthentication $true");
    run(
        &mut sh,
        "Get-OABVirtualDirectory | Set-OABVirtualDirectory -OAuthAuthentication $true",
    );
    run(&mut sh, "Get-AutodiscoverVirtualDirectory | Set-AutodiscoverVirtualDirectory -OAuthAuthentication $true");
    run(
        &mut sh,
        "Get-OwaVirtualDirectory | Set-OwaVirtualDirectory -OAuthAuthentication $true",
    );
    let e = err(&mut sh, "Get-ActiveSyncVirtualDirectory | Set-ActiveSyncVirtualDirectory -OAuthAuthentication $true");
    assert_eq!(
        e.message,
        "A parameter cannot be found that matches parameter name 'OAuthAuthentication'."
    );

    let e = err(&mut sh, "Get-Foo");
    assert_eq!(e.message, "The term 'Get-Foo' is not recognized as the name of a cmdlet, function, script file, or operable program. Check the spelling of the name, or if a path was included, verify that the path is correct and try again.");
    let e = err(&mut sh, "Get-MapiVirtualDirectroy | fl");
    assert_eq!(
        e.hint.as_deref(),
        Some("did you mean Get-MapiVirtualDirectory?")
    );
    golden("error-unknown-cmdlet.txt", &e.render());

    let e = err(
        &mut sh,
        "Set-AuthServer EvoSts -IsDefaultAuthorizationEndpoint maybe",
    );
    assert_eq!(e.message, "Cannot process argument transformation on parameter 'IsDefaultAuthorizationEndpoint'. Cannot convert value \"System.String\" to type \"System.Boolean\". Boolean parameters accept only Boolean values and numbers, such as $True, $False, 1 or 0.");
    golden("error-bool-conversion.txt", &e.render());
    let j = serde_json::to_value(&e).unwrap_or_default();
    assert_eq!(j["kind"], "runtime");
    assert_eq!(
        j["error_id"],
        "ParameterArgumentTransformationError,Set-AuthServer"
    );
    assert_eq!(j["column"], 23);

    let e = err(&mut sh, "Set-AuthServer EvoSts -E $true");
    assert_eq!(e.message, "Parameter cannot be processed because the parameter name 'E' is ambiguous. Possible matches include: -Enabled -ErrorAction -ErrorVariable.");

    let e = err(&mut sh, "Set-AuthServer -Enabled $true");
    assert_eq!(
        e.message,
        "Cannot process command because of one or more missing mandatory parameters: Identity."
    );
    let e = err(&mut sh, "Set-AuthServer EvoSts extra");
    assert_eq!(
        e.message,
        "A positional parameter cannot be found that accepts argument 'extra'."
    );
    let e = err(&mut sh, "Set-AuthServer EvoSts -Enabled");
    assert_eq!(e.message, "Missing an argument for parameter 'Enabled'. Specify a parameter of type 'System.Boolean' and try again.");
    let e = err(
        &mut sh,
        "Set-AuthServer EvoSts -Enabled $true -Enabled $false",
    );
    assert!(e.message.starts_with(
        "Cannot bind parameter because parameter 'Enabled' is specified more than once."
    ));
    let e = err(&mut sh, "Get-MsolServicePrincipal -AppPrincipalId nope");
    assert_eq!(e.message, "Cannot bind parameter 'AppPrincipalId'. Cannot convert value \"nope\" to type \"System.Guid\". Error: \"Guid should contain 32 digits with 4 dashes (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx).\"");
    let e = err(&mut sh, "Set-MapiVirtualDirectory 'EX1\\mapi (Default Web Site)' -IISAuthenticationMethods Ntlm, Kerbero");
    assert!(e.message.starts_with("Cannot bind parameter 'IISAuthenticationMethods'. Cannot convert value \"Kerbero\" to type \"Microsoft.Exchange.Data.Directory.SystemConfiguration.AuthenticationMethod\"."), "{}", e.message);
    let e = err(
        &mut sh,
        "Set-WebServicesVirtualDirectory 'EX1\\EWS (Default Web Site)' -GzipLevel High",
    );
    assert_eq!(e.message, "The lab does not model the -GzipLevel parameter of Set-WebServicesVirtualDirectory (the real cmdlet has it).");
    let e = err(
        &mut sh,
        "Get-MsolServicePrincipal -AppPrincipalId 00000003-0000-0000-c000-000000000000",
    );
    assert_eq!(e.message, "Service principal was not found.");
    let e = err(&mut sh, "Get-Mailbox | select -ExpandProperty Nope");
    assert_eq!(e.message, "Property \"Nope\" cannot be found.");
    let e = err(&mut sh, "Get-AuthServer | where Name");
    assert!(e
        .message
        .starts_with("Cannot bind parameter 'FilterScript'."));
    let e = err(
        &mut sh,
        "Revoke-AzureADUserAllRefreshToken -ObjectId nobody@contoso.com",
    );
    assert!(e
        .message
        .starts_with("Resource 'nobody@contoso.com' does not exist"));
    // no input objects: a pipeline-bound Set- cmdlet does not run (and does not complain)
    let before = sh.backend.calls.len();
    assert_eq!(
        run(
            &mut sh,
            "Get-AuthServer | where {$_.Name -eq 'Nope'} | Set-AuthServer -Enabled $false"
        ),
        ""
    );
    assert_eq!(sh.backend.calls.len(), before);
    let e = err(&mut sh, "Get-Mailbox | Get-OrganizationConfig -Identity x");
    assert!(e
        .message
        .starts_with("The input object cannot be bound to any parameters"));
}

#[test]
fn parse_errors_render_with_line_and_char() {
    let mut sh = shell();
    let e = err(&mut sh, "Get-AuthServer | where {$_.Name -eq \"EvoSts\"");
    golden("error-missing-brace.txt", &e.render());
    let e = err(
        &mut sh,
        "[PS] C:\\Windows\\system32> (Get-OrganizationConfig.OAuth2ClientProfileEnabled",
    );
    assert_eq!(e.message, "Missing closing ')' in expression.");
    assert_eq!(e.line, "(Get-OrganizationConfig.OAuth2ClientProfileEnabled");
}

#[test]
fn azure_ad_cmdlets_reach_the_backend() {
    let mut sh = shell();
    assert_eq!(
        run(&mut sh, "Set-MsolUserPassword -UserPrincipalName gregt@contoso.com -NewPassword 'P@ssw0rd2' -ForceChangePassword $false"),
        "P@ssw0rd2"
    );
    assert_eq!(
        run(
            &mut sh,
            "Set-MsolUserPassword -UserPrincipalName gregt@contoso.com"
        ),
        "Generated1!"
    );
    run(
        &mut sh,
        "Revoke-AzureADUserAllRefreshToken -ObjectId gregt@contoso.com",
    );
    assert_eq!(
        run(
            &mut sh,
            "Revoke-MgUserSignInSession -UserId gregt@contoso.com"
        ),
        "True"
    );
    run(
        &mut sh,
        "Set-MsolUser -UserPrincipalName gregt@contoso.com -BlockCredential $true",
    );
    run(
        &mut sh,
        "Set-LabUserMfa -UserPrincipalName gregt@contoso.com -State Required",
    );
    run(&mut sh, "$st = New-Object -TypeName Microsoft.Online.Administration.StrongAuthenticationRequirement");
    run(&mut sh, "$st.RelyingParty = \"*\"");
    run(&mut sh, "$st.State = \"Enabled\"");
    run(&mut sh, "$sta = @($st)");
    run(
        &mut sh,
        "Set-MsolUser -UserPrincipalName gregt@contoso.com -StrongAuthenticationRequirements $sta",
    );
    run(
        &mut sh,
        "Set-MsolUser -UserPrincipalName gregt@contoso.com -StrongAuthenticationRequirements @()",
    );
    run(&mut sh, "New-LabConditionalAccessPolicy -Name 'Block EXO' -Users gregt@contoso.com -Applications 00000002-0000-0ff1-ce00-000000000000 -Action Block");
    let rule = CaRule {
        name: "Block EXO".into(),
        enabled: true,
        users: vec!["gregt@contoso.com".into()],
        apps: vec![EXO.into()],
        action: CaAction::Block,
    };
    assert_eq!(
        sh.backend.calls,
        vec![
            "set_user_password gregt@contoso.com Some(\"P@ssw0rd2\") force=false".to_string(),
            "set_user_password gregt@contoso.com None force=true".into(),
            "revoke_user_sessions gregt@contoso.com".into(),
            "revoke_user_sessions gregt@contoso.com".into(),
            "set_user_block_credential gregt@contoso.com true".into(),
            "set_user_mfa gregt@contoso.com Required".into(),
            "set_user_mfa gregt@contoso.com Enroll".into(),
            "set_user_mfa gregt@contoso.com None".into(),
            format!("new_ca {rule:?}"),
        ]
    );
    // connecting is accepted (the lab session is always the tenant's administrator)
    let before = sh.backend.calls.len();
    assert_eq!(
        run(&mut sh, "Import-Module MSOnline; Connect-MsolService"),
        ""
    );
    assert_eq!(
        run(
            &mut sh,
            "Connect-MgGraph -Scopes User.ReadWrite.All -NoWelcome"
        ),
        ""
    );
    assert_eq!(sh.backend.calls.len(), before);
    let e = err(&mut sh, "Import-Module NotAModule");
    assert_eq!(e.message, "The specified module 'NotAModule' was not loaded because no valid module file was found in any module directory.");
    let e = err(&mut sh, "Set-LabUserMfa gregt@contoso.com -State Sometimes");
    assert!(e
        .message
        .starts_with("Cannot bind parameter 'State'. Cannot convert value \"Sometimes\""));
}

#[test]
fn client_side_lines_and_iisreset() {
    let mut sh = shell();
    assert_eq!(
        run(&mut sh, CLIENT_LINES[0]),
        "The operation completed successfully."
    );
    golden("new-itemproperty.txt", &run(&mut sh, CLIENT_LINES[2]));
    assert_eq!(run(&mut sh, CLIENT_LINES[3]), "");
    assert_eq!(run(&mut sh, CLIENT_LINES[4]), "");
    assert_eq!(
        run(&mut sh, "iisreset /noforce"),
        "Attempting stop...\nInternet services successfully stopped\nAttempting start...\nInternet services successfully restarted"
    );
    run(&mut sh, "iisreset EX1");
    assert_eq!(sh.backend.calls[4], "iisreset None noforce=true");
    assert_eq!(sh.backend.calls[5], "iisreset Some(\"EX1\") noforce=false");
    let e = err(&mut sh, "reg add HKCU\\Software\\X /v");
    assert_eq!(
        e.message,
        "ERROR: Invalid syntax.\nType \"REG ADD /?\" for usage."
    );
    let e = err(&mut sh, "reg add HKXX\\Software\\X /v A /d 1");
    assert!(e.message.starts_with("ERROR: Invalid key name."));
    let e = err(
        &mut sh,
        "defaults write com.microsoft.Outlook DisableModernAuth -bool MAYBE",
    );
    assert!(e.message.starts_with("The lab models only 'defaults write"));
}

#[test]
fn install_lab_outlook_sets_the_machine_s_outlook_and_get_lab_outlook_shows_it() {
    let mut sh = shell();
    // Nothing installed: the lab's default, Outlook 2016, and where it comes from.
    assert_eq!(
        run(&mut sh, "Get-LabOutlook"),
        "Product : Microsoft Outlook 2016\nVersion : 2016\nSource : Default"
    );
    assert_eq!(
        run(&mut sh, "Install-LabOutlook -Version 2010"),
        "Product : Microsoft Outlook 2010\nVersion : 2010\nSource : Install-LabOutlook"
    );
    assert_eq!(sh.backend.outlook, Some(OutlookVersion::Outlook2010));
    assert_eq!(run(&mut sh, "(Get-LabOutlook).Version"), "2010");
    // Positional, and -WhatIf changes nothing.
    run(&mut sh, "Install-LabOutlook 2013");
    assert_eq!(sh.backend.outlook, Some(OutlookVersion::Outlook2013));
    assert_eq!(
        run(&mut sh, "Install-LabOutlook 2016 -WhatIf"),
        "What if: Performing the operation \"Install-LabOutlook\" on target \"Microsoft Outlook 2016\"."
    );
    assert_eq!(sh.backend.outlook, Some(OutlookVersion::Outlook2013));
    assert_eq!(
        sh.backend.calls,
        vec!["install_outlook 2010", "install_outlook 2013"]
    );
    // A version the lab has no client for is PowerShell's enumeration error, with the list.
    let e = err(&mut sh, "Install-LabOutlook -Version 2019");
    assert_eq!(
        e.message,
        "Cannot bind parameter 'Version'. Cannot convert value \"2019\" to type \"HmaLab.OutlookVersion\". Error: \"Unable to match the identifier name 2019 to a valid enumerator name. Specify one of the following enumerator names and try again:\n2010, 2013, 2016\""
    );
    assert_eq!(sh.backend.outlook, Some(OutlookVersion::Outlook2013));
    // The cmdlet's names and the backend's versions agree.
    for (v, year) in OutlookVersion::ALL {
        assert_eq!(OutlookVersion::parse(year), Some(v));
        assert_eq!(OutlookVersion::parse(&format!("Outlook {year}")), Some(v));
        assert_eq!(v.year(), year);
    }
    assert_eq!(OutlookVersion::parse("2019"), None);
}

#[test]
fn add_computer_joins_the_lab_domain_from_the_next_restart_and_remove_computer_leaves_it() {
    let mut sh = shell();
    let joined = |d: Option<&str>, logon: Option<&str>| Membership {
        domain: d.map(str::to_string),
        logon_domain: logon.map(str::to_string),
    };
    // -Credential is mandatory, as in the real cmdlet's domain parameter set.
    let e = err(&mut sh, "Add-Computer -DomainName contoso.com");
    assert!(e.message.contains("Credential"), "{}", e.message);
    assert_eq!(sh.backend.membership, Membership::default());
    // Any other domain: Windows finds no domain controller for it.
    let e = err(
        &mut sh,
        r"Add-Computer -DomainName fabrikam.com -Credential FABRIKAM\Admin",
    );
    assert_eq!(
        e.message,
        "Computer 'GREGT-PC' failed to join domain 'fabrikam.com' from its current workgroup 'WORKGROUP' with following error message: The specified domain either does not exist or could not be contacted."
    );
    assert_eq!(
        e.error_id,
        "FailToJoinDomainFromWorkgroup,Microsoft.PowerShell.Commands.AddComputerCommand"
    );
    assert_eq!(
        e.category,
        "OperationStopped: (GREGT-PC:String) [Add-Computer], InvalidOperationException"
    );
    // -WhatIf changes nothing.
    assert_eq!(
        run(
            &mut sh,
            r"Add-Computer contoso.com -Credential CONTOSO\Administrator -WhatIf"
        ),
        "What if: Performing the operation \"Add-Computer\" on target \"GREGT-PC\"."
    );
    assert_eq!(sh.backend.membership, Membership::default());
    // The join is recorded at once; the logon changes at the restart.
    assert_eq!(
        run(
            &mut sh,
            r"Add-Computer -DomainName contoso.com -Credential CONTOSO\Administrator"
        ),
        "WARNING: The changes will take effect after you restart the computer GREGT-PC."
    );
    assert_eq!(sh.backend.membership, joined(Some("contoso.com"), None));
    let e = err(
        &mut sh,
        r"Add-Computer -DomainName CONTOSO -Credential CONTOSO\Administrator",
    );
    assert_eq!(
        e.message,
        "Cannot add computer 'GREGT-PC' to domain 'CONTOSO' because it is already in that domain."
    );
    assert_eq!(
        e.error_id,
        "AddComputerToSameDomain,Microsoft.PowerShell.Commands.AddComputerCommand"
    );
    assert_eq!(run(&mut sh, "Restart-Computer"), "");
    assert_eq!(
        sh.backend.membership,
        joined(Some("contoso.com"), Some("contoso.com"))
    );
    // Leaving: the same restart rule; -Restart restarts at once (no warning).
    assert_eq!(
        run(
            &mut sh,
            r"Remove-Computer -UnjoinDomainCredential CONTOSO\Administrator -Force"
        ),
        "WARNING: The changes will take effect after you restart the computer GREGT-PC."
    );
    assert_eq!(sh.backend.membership, joined(None, Some("contoso.com")));
    run(&mut sh, "Restart-Computer -Force");
    assert_eq!(sh.backend.membership, Membership::default());
    let e = err(&mut sh, "Remove-Computer -Force");
    assert_eq!(e.message, "The computer 'GREGT-PC' is not in a domain.");
    assert_eq!(
        e.error_id,
        "ComputerNotInDomain,Microsoft.PowerShell.Commands.RemoveComputerCommand"
    );
    // The NetBIOS name joins too, -Restart applies it, -PassThru shows the change.
    assert_eq!(
        run(
            &mut sh,
            r"Add-Computer CONTOSO -Credential CONTOSO\Administrator -Restart -PassThru | Format-List"
        ),
        "HasSucceeded : True\nComputerName : GREGT-PC"
    );
    assert_eq!(
        sh.backend.membership,
        joined(Some("contoso.com"), Some("contoso.com"))
    );
    // A computer in the domain asked to join another: the same lookup failure, from its domain.
    let e = err(
        &mut sh,
        r"Add-Computer fabrikam.com -Credential CONTOSO\Administrator",
    );
    assert_eq!(
        e.message,
        "Computer 'GREGT-PC' failed to join domain 'fabrikam.com' from its current domain 'contoso.com' with following error message: The specified domain either does not exist or could not be contacted."
    );
    assert_eq!(
        sh.backend.calls,
        vec![
            "membership Some(\"contoso.com\") None",
            "membership Some(\"contoso.com\") Some(\"contoso.com\")",
            "membership None Some(\"contoso.com\")",
            "membership None None",
            "membership Some(\"contoso.com\") Some(\"contoso.com\")",
        ]
    );
}

#[test]
fn plus_adds_numbers_joins_text_and_appends_to_collections() {
    let mut sh = shell();
    assert_eq!(run(&mut sh, "1 + 2"), "3");
    assert_eq!(run(&mut sh, "\"a\" + 1"), "a1");
    assert_eq!(run(&mut sh, "2 + \"40\""), "42");
    // `,` binds tighter than `+`: one item appended, or a collection's items.
    assert_eq!(run(&mut sh, "(1,2 + 3).Count"), "3");
    assert_eq!(
        run(&mut sh, "$a = \"x\", \"y\"; ($a + (\"z\", \"w\")).Count"),
        "4"
    );
    assert_eq!(
        run(
            &mut sh,
            "$b = \"MSIPC\", \"Edge/\"; ($b + \"Trident/7.0\")[2]"
        ),
        "Trident/7.0"
    );
    assert_eq!(run(&mut sh, "($null + 5)"), "5");
    let e = err(&mut sh, "1 + \"x\"");
    assert_eq!(
        e.message,
        "Cannot convert value \"x\" to type \"System.Int32\". Error: \"Input string was not in a correct format.\""
    );
    assert_eq!(e.error_id, "InvalidCastFromStringToInteger");
    let e = err(&mut sh, "1 +");
    assert_eq!(
        e.message,
        "You must provide a value expression following the '+' operator."
    );
    let e = err(&mut sh, "$true + 1");
    assert_eq!(e.error_id, "LabNotModeled");
}

#[test]
fn expressions_follow_powershell_semantics() {
    let mut sh = shell();
    run(&mut sh, "$name = 'EvoSts'; $n = 3");
    assert_eq!(
        run(&mut sh, "\"AuthServer $name has ${n} tries, `$name stays\""),
        "AuthServer EvoSts has 3 tries, $name stays"
    );
    assert_eq!(run(&mut sh, "$name -eq 'evosts'"), "True");
    assert_eq!(run(&mut sh, "$name -ceq 'evosts'"), "False");
    assert_eq!(run(&mut sh, "$name -like 'Evo*' -and $n -gt 2"), "True");
    assert_eq!(run(&mut sh, "$name -clike 'evo*'"), "False");
    assert_eq!(run(&mut sh, "$name -notmatch 'sts$'"), "False");
    assert_eq!(run(&mut sh, "'a','b','c' -contains 'B'"), "True");
    assert_eq!(run(&mut sh, "'b' -in 'a','c'"), "False");
    assert_eq!(run(&mut sh, "1,2,3,2 -eq 2"), "2\n2");
    assert_eq!(run(&mut sh, "(Get-MapiVirtualDirectory).Server"), "EX1");
    assert_eq!(
        run(
            &mut sh,
            "$list = Get-AuthServer; $list[1].Name; $list.Count"
        ),
        "ADFS\n2"
    );
    assert_eq!(run(&mut sh, "$true -eq 'false'"), "True");
    assert_eq!(run(&mut sh, "-not $null"), "True");
    let e = err(&mut sh, "$true = 1");
    assert_eq!(
        e.message,
        "Cannot overwrite variable true because it is read-only or constant."
    );
    let e = err(&mut sh, "'x' -match '('");
    assert_eq!(e.message, "The regular expression pattern ( is not valid.");
    let e = err(&mut sh, "$name.Frobnicate()");
    assert_eq!(e.message, "Method invocation failed because [System.String] does not contain a method named 'Frobnicate'.");
    // select -Property makes new objects, Format-Table picks columns
    assert_eq!(
        run(&mut sh, "Get-AuthServer | select Name,Enabled | ft"),
        "Name   Enabled\n----   -------\nEvoSts True\nADFS   True"
    );
    assert_eq!(
        run(
            &mut sh,
            "Get-AuthServer | select -First 1 -ExpandProperty Name"
        ),
        "EvoSts"
    );
    // the trailing '>' of the guide's OAB line is noted, not silently dropped
    let out = sh
        .run("Get-OABVirtualDirectory | FL server,*url*>")
        .unwrap_or_default();
    assert_eq!(out.notes, vec![super::parser::TRAILING_GT_NOTE.to_string()]);
    assert_eq!(out.text, "Server : EX1\nInternalUrl : https://mail.contoso.com/OAB\nExternalUrl : https://mail.contoso.com/OAB");
    // identities that do not exist get the nearest one as a hint
    let e = err(
        &mut sh,
        "Set-AuthServer EvoSs -IsDefaultAuthorizationEndpoint $true",
    );
    assert_eq!(e.message, "The operation couldn't be performed because object 'EvoSs' couldn't be found on 'DC1.contoso.com'.");
    assert_eq!(e.hint.as_deref(), Some("did you mean 'EvoSts'?"));
    let e = err(&mut sh, "Set-LabUserMfa gregt@contoso.com -State Requird");
    assert_eq!(e.hint.as_deref(), Some("did you mean Required?"));
}

#[test]
fn lint_checks_commands_and_parameter_names_without_running() {
    for line in seed_command_lines() {
        super::lint(&line).unwrap_or_else(|e| panic!("{line}\n{}", e.render()));
    }
    let e = super::lint(
        "Get-MapiVirtualDirectory | Set-MapiVirtualDirectory -OAuthAuthentication $true",
    )
    .err()
    .map(|e| (e.message, e.column));
    assert_eq!(
        e,
        Some((
            "A parameter cannot be found that matches parameter name 'OAuthAuthentication'."
                .to_string(),
            53
        ))
    );
    let e = super::lint("Get-AuthServer | where { Get-Nothing }")
        .err()
        .map(|e| e.error_id);
    assert_eq!(e.as_deref(), Some("CommandNotFoundException"));
    let e = super::lint("$x = (Set-AuthServer EvoSts -Foo 1)")
        .err()
        .map(|e| e.error_id);
    assert_eq!(e.as_deref(), Some("NamedParameterNotFound,Set-AuthServer"));
    // values are not checked: they may come from earlier lines
    assert!(super::lint("Set-AuthServer $name -Enabled $maybe").is_ok());
}

#[test]
fn newlines_end_statements_except_where_an_operand_must_follow() {
    let mut sh = shell();
    assert_eq!(
        run(&mut sh, "Get-AuthServer | select -First 1 -ExpandProperty Name\n(Get-OrganizationConfig).MapiHttpEnabled # done\n"),
        "EvoSts\nTrue"
    );
    assert_eq!(
        run(&mut sh, "Get-AuthServer |\n  where {\n    $_.Name -eq 'ADFS'\n  } |\n  select -ExpandProperty Name"),
        "ADFS"
    );
    assert_eq!(run(&mut sh, "$a = 1,\n 2\n$a.Count"), "2");
    assert_eq!(
        run(
            &mut sh,
            "Get-AuthServer `\n  -Identity EvoSts | select -ExpandProperty Name"
        ),
        "EvoSts"
    );
    // a second command on the next line is not an argument of the first
    let e = err(&mut sh, "Get-Mailbox\nGet-Foo");
    assert_eq!(e.error_id, "CommandNotFoundException");
    assert_eq!((e.line_no, e.column, e.line.as_str()), (2, 1, "Get-Foo"));
    assert!(e
        .render()
        .contains("At line:2 char:1\n+ Get-Foo\n+ ~~~~~~~\n"));
    let e = err(&mut sh, "$a = 1\n$a -eq");
    assert_eq!((e.line_no, e.column), (2, 7));
}

#[test]
fn set_cmdlets_that_change_nothing_warn_like_exchange() {
    let mut sh = shell();
    let out = sh
        .run("Set-AuthServer EvoSts -Enabled $true; Set-OrganizationConfig -MapiHttpEnabled $true")
        .unwrap_or_default();
    assert_eq!(
        out.text,
        "WARNING: The command completed successfully but no settings of 'EvoSts' have been modified.\nWARNING: The command completed successfully but no settings of 'Contoso' have been modified."
    );
    assert_eq!(out.warnings.len(), 2);
    assert!(sh.backend.calls.is_empty());
    // a refresh always does something
    assert_eq!(
        run(&mut sh, "Set-AuthServer EvoSts -RefreshAuthMetadata"),
        ""
    );
    assert_eq!(sh.backend.calls, vec!["refresh_auth_metadata EvoSts"]);
}

#[test]
fn a_shell_can_live_in_shared_server_state() {
    fn send<T: Send + 'static>() {}
    send::<Shell<Fake>>();
    send::<Shell<Box<dyn Backend + Send>>>();
    // a boxed and a borrowed backend work the same
    let mut sh: Shell<Box<dyn Backend + Send>> = Shell::new(Box::new(Fake::seed()));
    assert_eq!(
        run_any(&mut sh, "(Get-OrganizationConfig).MapiHttpEnabled"),
        "True"
    );
    let mut fake = Fake::seed();
    {
        let mut sh = Shell::new(&mut fake);
        run_any(&mut sh, "Set-OrganizationConfig -MapiHttpEnabled $false");
    }
    assert!(!fake.org.mapi_http_enabled);
    send::<super::Output>();
    send::<ShellError>();
}

#[test]
fn padded_list_style_aligns_names() {
    let mut sh = shell();
    sh.style = super::format::ListStyle::Padded;
    assert_eq!(
        run(&mut sh, "Get-MapiVirtualDirectory | fl server,*url*"),
        "Server      : EX1\nInternalUrl : https://mail.contoso.com/mapi\nExternalUrl : https://mail.contoso.com/mapi"
    );
}

#[test]
fn hostile_input_never_panics() {
    let mut sh = shell();
    for line in [
        "",
        "   ",
        "|",
        "$",
        "$(",
        "@(",
        "{",
        "}",
        ")",
        "((((",
        "'",
        "\"",
        "-",
        "--%",
        "$x.",
        "$x.(",
        "$x[",
        "$x[0",
        "Get-Mailbox -",
        "Get-Mailbox -:",
        "fl -Property",
        "$x = $x = 1",
        "1 -eq",
        "-not",
        "!",
        "Set-AuthServer EvoSts -IsDefault:",
        "where {$_ -match '('}",
        "Get-AuthServer | where {$_.Name -match '('}",
        "\u{201C}",
        "`",
        "# c",
        "<# x",
        "a`",
        "reg",
        "defaults",
        "New-ItemProperty -Path C:\\x -Name a -Value 1",
    ] {
        let _ = sh.run(line);
    }
    let e = sh.run(&"a".repeat(70_000)).err().map(|e| e.error_id);
    assert_eq!(e.as_deref(), Some("LabScriptTooLong"));
    for hostile in [
        "(".repeat(200),
        "!".repeat(5000) + "1",
        "{".repeat(300),
        "@(".repeat(100),
    ] {
        let e = sh.run(&hostile).err().map(|e| e.error_id);
        assert!(e.is_some(), "{hostile:.20}");
    }
}
