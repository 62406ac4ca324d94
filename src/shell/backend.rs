//! What the cmdlets read and change: one trait per service behind them, and the [`Backend`]
//! that hands the shell whichever services a session has.
//!
//! The shell knows PowerShell (parsing, binding, formatting); the backend knows the lab's state.
//! Each method is one cmdlet operation on the two mocks' data, in the mocks' own model types
//! (`mock_exchange::model`, `mock_aad::model`), so the concrete backend that calls the admin APIs
//! over HTTP (`crate::lab::backend`) is a thin mapping and a test backend is a few vectors.
//! Change structs serialize to the admin API's PATCH bodies (absent fields unchanged, `null`
//! clears). The traits are sync: a line of PowerShell is one short request/response exchange.
//!
//! The services are split the way the cmdlets are: [`ExchangeAdmin`] (the Exchange Management
//! Shell's cmdlets), [`DirectoryAdmin`] (MSOnline, AzureAD and Graph cmdlets, and the lab's user
//! settings), [`SigningKeys`] and [`FaultRules`] (the lab's cmdlets over mock Azure AD's keys
//! and fault rules), [`AdfsAdmin`] (the ADFS farm's cmdlets, over mock-adfs's admin API),
//! [`HybridIdentity`] (how each domain signs in, the on-premises Active Directory and Azure AD
//! Connect) and [`Machines`] (the client machines' settings). A backend offers
//! each through an accessor of [`Backend`] that answers `None` by default, so a test fake
//! implements only the service its test touches, and a cmdlet of a missing service answers
//! `… are not supported by this backend.`

use mock_aad::model::{CaRule, MfaState};
use mock_exchange::model::{
    AuthMethod, AuthServer, AuthServerType, EdgeServer, Mailbox, OrgConfig, Server,
};
use serde::Serialize;
use uuid::Uuid;

/// A failure reported by the backend; the shell turns it into the cmdlet's error record.
#[derive(Debug, Clone, PartialEq)]
pub struct BackendError {
    /// The message the real cmdlet prints (e.g. `The operation couldn't be performed because
    /// object 'X' couldn't be found on 'DC1.contoso.com'.`).
    pub message: String,
    /// `CategoryInfo` category, e.g. `NotSpecified`, `ObjectNotFound`, `InvalidOperation`.
    pub category: String,
    /// The error id / exception type name.
    pub error_id: String,
}

impl BackendError {
    pub fn new(category: &str, error_id: &str, message: impl Into<String>) -> Self {
        BackendError {
            message: message.into(),
            category: category.into(),
            error_id: error_id.into(),
        }
    }
}

pub type BResult<T> = Result<T, BackendError>;

/// The Exchange organization as `Get-OrganizationConfig` sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct OrgSummary {
    /// e.g. `Contoso`.
    pub name: String,
    /// e.g. `contoso.com`.
    pub domain: String,
    pub config: OrgConfig,
}

/// `Set-*VirtualDirectory` changes (field names as the mock-exchange admin API's vdir PATCH).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct VdirChange {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub internal_url: Option<Option<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_url: Option<Option<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iis_authentication_methods: Option<Vec<AuthMethod>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub internal_authentication_methods: Option<Vec<AuthMethod>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_authentication_methods: Option<Vec<AuthMethod>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub basic_authentication: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub windows_authentication: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oauth_authentication: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wssecurity_authentication: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub digest_authentication: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub adfs_authentication: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub live_id_basic_authentication: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub live_id_negotiate_authentication: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub forms_authentication: Option<bool>,
}

/// `Set-OrganizationConfig` changes.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct OrgConfigChange {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oauth2_client_profile_enabled: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mapi_http_enabled: Option<bool>,
}

/// `Set-AuthServer` changes (`-RefreshAuthMetadata` is [`ExchangeAdmin::refresh_auth_metadata`]).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct AuthServerChange {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth_metadata_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_default_authorization_endpoint: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
}

/// `New-AuthServer`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NewAuthServer {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: AuthServerType,
    pub auth_metadata_url: String,
    pub is_default_authorization_endpoint: bool,
    pub enabled: bool,
}

/// A service principal as `Get-MsolServicePrincipal` shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct ServicePrincipal {
    pub object_id: Uuid,
    pub app_principal_id: Uuid,
    pub display_name: String,
    pub account_enabled: bool,
    pub service_principal_names: Vec<String>,
}

/// `Set-MsolServicePrincipal` changes.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ServicePrincipalChange {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_principal_names: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
}

/// A setting on a client machine (what Outlook reads at start).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ClientSetting {
    /// A Windows registry value. `key` has the long hive name
    /// (`HKEY_CURRENT_USER\SOFTWARE\Microsoft\Office\15.0\Common\Identity`).
    Registry {
        key: String,
        name: String,
        /// `REG_DWORD`, `REG_SZ`, …
        value_type: String,
        data: String,
    },
    /// A macOS preference written with `defaults write <domain> <key> -<type> <value>`.
    MacDefaults {
        domain: String,
        key: String,
        /// `bool`, `string`, `int`.
        value_type: String,
        value: String,
    },
}

/// ADFS `ExtendedProtectionTokenCheck` (`Set-AdfsProperties`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
pub enum ExtendedProtection {
    Require,
    Allow,
    None,
}

/// The farm as `Get-AdfsProperties` shows it (mock-adfs's `GET /_admin/properties`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AdfsProperties {
    /// The federation service name, `adfs.contoso.com`.
    pub host_name: String,
    /// The federation service identifier (issuer), `http://adfs.contoso.com/adfs/services/trust`.
    pub identifier: String,
    pub display_name: String,
    pub extended_protection_token_check: ExtendedProtection,
    #[serde(rename = "WIASupportedUserAgents")]
    pub wia_supported_user_agents: Vec<String>,
}

/// `Set-AdfsProperties` changes (mock-adfs's `PATCH /_admin/properties` body).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AdfsPropertiesChange {
    #[serde(
        rename = "ExtendedProtectionTokenCheck",
        skip_serializing_if = "Option::is_none"
    )]
    pub extended_protection_token_check: Option<ExtendedProtection>,
    #[serde(
        rename = "WIASupportedUserAgents",
        skip_serializing_if = "Option::is_none"
    )]
    pub wia_supported_user_agents: Option<Vec<String>>,
}

/// A farm certificate as `Get-AdfsCertificate` lists it (mock-adfs's `GET /_admin/certificates`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AdfsCertificate {
    /// `Token-Signing` (the lab's farm has no other kind).
    pub certificate_type: String,
    pub is_primary: bool,
    pub store_location: String,
    pub store_name: String,
    pub thumbprint: String,
    /// `CN=ADFS Signing - adfs.contoso.com`.
    pub subject: String,
    /// RFC 3339.
    pub not_before: String,
    pub not_after: String,
    /// The certificate's DER, base64.
    pub certificate: String,
}

/// One of Azure AD's published token-signing keys (`Get-LabSigningKey`), as mock-aad's admin API
/// `GET /_admin/keys` lists them.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct SigningKeyInfo {
    /// The JWT header `kid` (base64url SHA-1 of the certificate).
    pub kid: String,
    /// `active` (signs new tokens) or `published` (in the metadata, no longer or not yet signing).
    pub state: String,
}

/// A fault rule to add to Azure AD (`Add-LabAadFault`), as mock-aad's `POST /_admin/faults`
/// takes it: which requests it catches and how it answers them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewAadFault {
    /// `token`, `authorize`, `devicecode`, `discovery`, `keys`, `federation_metadata`,
    /// `userrealm`, `instance` or `any`.
    pub endpoint: String,
    pub user: Option<String>,
    pub client_id: Option<String>,
    pub resource: Option<String>,
    /// How many requests it catches (`None`: until removed).
    pub times: Option<u64>,
    /// A bare 5xx answer.
    pub status: Option<u16>,
    /// An Azure AD error (AADSTS code).
    pub aadsts: Option<u32>,
    /// A delay before the request goes on (or, with `status`/`aadsts`, before it fails).
    pub delay_ms: Option<u64>,
}

/// A fault rule as Azure AD lists it (`Get-LabAadFault`, mock-aad's `GET /_admin/faults`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AadFaultInfo {
    pub id: u64,
    pub rule: NewAadFault,
    /// Requests it will still catch (`None`: unlimited).
    pub remaining: Option<u64>,
    /// Requests it caught so far.
    pub hits: u64,
}

/// Exchange's side: the organization, its servers, virtual directories, auth servers and
/// mailboxes (Exchange Management Shell cmdlets and `iisreset`). Lookups by identity are the
/// shell's job (it matches names and wildcards the way each cmdlet does); the backend lists and
/// changes.
pub trait ExchangeAdmin {
    /// Every server with its virtual directories (`Get-ExchangeServer`, `Get-*VirtualDirectory`).
    fn exchange_servers(&mut self) -> BResult<Vec<Server>>;
    fn set_vdir(
        &mut self,
        server: &str,
        kind: mock_exchange::model::VdirKind,
        change: &VdirChange,
    ) -> BResult<()>;
    fn organization(&mut self) -> BResult<OrgSummary>;
    fn set_org_config(&mut self, change: &OrgConfigChange) -> BResult<()>;
    fn auth_servers(&mut self) -> BResult<Vec<AuthServer>>;
    fn new_auth_server(&mut self, new: &NewAuthServer) -> BResult<AuthServer>;
    fn set_auth_server(&mut self, name: &str, change: &AuthServerChange) -> BResult<()>;
    /// `Set-AuthServer -RefreshAuthMetadata`.
    fn refresh_auth_metadata(&mut self, name: &str) -> BResult<()>;
    fn mailboxes(&mut self) -> BResult<Vec<Mailbox>>;
    /// Setup `/mode:uninstall` on `server`: it leaves the organization (refused while it holds
    /// mailboxes).
    fn uninstall_server(&mut self, server: &str) -> BResult<()>;
    /// `New-MoveRequest`: the mailbox (by primary SMTP address) moves to `server`'s database.
    fn move_mailbox(&mut self, smtp: &str, server: &str) -> BResult<()>;
    /// `iisreset` on `server` (`None`: the server the shell session runs on).
    fn iisreset(&mut self, server: Option<&str>, noforce: bool) -> BResult<()>;
    /// Every server as its IIS applies it right now (what `Get-*VirtualDirectory` without
    /// `-ADPropertiesOnly` reads): a change not yet picked up by a server shows its old value.
    /// Default: the directory's view (a backend without a settings cache).
    fn applied_servers(&mut self) -> BResult<Vec<Server>> {
        self.exchange_servers()
    }
    /// The Edge Transport servers subscribed to the organization (`Get-EdgeSubscription`).
    fn edge_servers(&mut self) -> BResult<Vec<EdgeServer>> {
        Ok(Vec::new())
    }
    /// `Remove-EdgeSubscription`.
    fn remove_edge_subscription(&mut self, name: &str) -> BResult<()> {
        Err(not_offered(&format!(
            "removing the Edge subscription '{name}'"
        )))
    }
    /// The Hybrid Configuration Wizard's OAuth step: creates EvoSts (or finds it); refuses
    /// while Exchange 2010 (Edge included) is in the organization. Returns the AuthServer and
    /// whether it was created now.
    fn run_hybrid_configuration(&mut self) -> BResult<(AuthServer, bool)> {
        Err(not_offered("the Hybrid Configuration Wizard"))
    }
    /// `Enable-Mailbox`: a mailbox for the account `owner_sid` on `server` (`None`: the
    /// organization's first), addressed `smtp`. Returns it.
    fn enable_mailbox(
        &mut self,
        owner_sid: &str,
        smtp: &str,
        display_name: &str,
        server: Option<&str>,
    ) -> BResult<Mailbox> {
        let _ = (owner_sid, display_name, server);
        Err(not_offered(&format!("a new mailbox for {smtp}")))
    }
    /// Setup `/Mode:Upgrade` of `server` to cumulative update `cu`.
    fn install_cumulative_update(&mut self, server: &str, cu: u16) -> BResult<()> {
        Err(not_offered(&format!("CU{cu} on {server}")))
    }
}

/// What a backend without a lab action answers.
fn not_offered(what: &str) -> BackendError {
    BackendError::new(
        "NotSpecified",
        "NotSupported",
        format!("This backend does not model {what}."),
    )
}

/// Azure AD's directory: service principals and users (MSOnline, AzureAD and Graph cmdlets,
/// `Set-LabUserMfa`, `New-LabConditionalAccessPolicy`).
pub trait DirectoryAdmin {
    fn service_principals(&mut self) -> BResult<Vec<ServicePrincipal>>;
    fn set_service_principal(
        &mut self,
        app_principal_id: Uuid,
        change: &ServicePrincipalChange,
    ) -> BResult<()>;
    /// Sets (or, when `new_password` is `None`, generates) a password; returns the password.
    fn set_user_password(
        &mut self,
        upn: &str,
        new_password: Option<&str>,
        force_change: bool,
    ) -> BResult<String>;
    /// Revokes every refresh token and session of a user (object id or UPN).
    fn revoke_user_sessions(&mut self, user: &str) -> BResult<()>;
    fn set_user_block_credential(&mut self, upn: &str, blocked: bool) -> BResult<()>;
    fn set_user_mfa(&mut self, upn: &str, state: MfaState) -> BResult<()>;
    fn new_conditional_access_policy(&mut self, rule: &CaRule) -> BResult<()>;
    /// Turns a conditional access rule on or off (by name).
    fn set_conditional_access_enabled(&mut self, name: &str, enabled: bool) -> BResult<()>;
    /// Revokes every refresh token of the tenant issued before now; `unicorn` answers later
    /// redemptions with the field guide's "Unicorn Rampage?" capture instead of AADSTS50173.
    fn revoke_tenant_sessions(&mut self, unicorn: bool) -> BResult<()>;
}

/// Azure AD's token-signing keys (the lab's key cmdlets over mock-aad's `/_admin/keys`).
pub trait SigningKeys {
    /// `Get-LabSigningKey`: every published key, the active one first.
    fn signing_keys(&mut self) -> BResult<Vec<SigningKeyInfo>>;
    /// `Invoke-LabSigningKeyRollover`: the next key signs from now on, the old one stays
    /// published. Returns the new active kid.
    fn roll_signing_key(&mut self) -> BResult<String>;
    /// `Add-LabSigningKey`: publishes the next key without signing with it. Returns its kid.
    fn add_signing_key(&mut self) -> BResult<String>;
    /// `Remove-LabSigningKey`: stops publishing a key that does not sign.
    fn retire_signing_key(&mut self, kid: &str) -> BResult<()>;
    /// `New-LabForgedToken`: an access token with one chosen flaw (mock-aad's
    /// `POST /_admin/forge`).
    fn forge_token(&mut self, req: &ForgeTokenRequest) -> BResult<ForgedToken> {
        let _ = req;
        Err(not_offered("forged tokens"))
    }
}

/// `New-LabForgedToken`, as mock-aad's `POST /_admin/forge` takes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ForgeTokenRequest {
    pub user: String,
    pub resource: String,
    /// The flaw's API spelling (`wrong_audience_host`).
    pub flaw: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub claim: Option<String>,
}

/// A forged token as mock-aad answers it.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
pub struct ForgedToken {
    pub access_token: String,
    pub flaw: String,
    pub claims: serde_json::Map<String, serde_json::Value>,
}

/// Azure AD's fault rules (the lab's fault cmdlets over mock-aad's `/_admin/faults`).
pub trait FaultRules {
    /// `Get-LabAadFault`: every rule, in the order they are tried.
    fn aad_faults(&mut self) -> BResult<Vec<AadFaultInfo>>;
    /// `Add-LabAadFault`: adds a rule; returns it as stored.
    fn add_aad_fault(&mut self, rule: &NewAadFault) -> BResult<AadFaultInfo>;
    /// `Remove-LabAadFault`: removes rule `id`, or every rule (`None`).
    fn remove_aad_fault(&mut self, id: Option<u64>) -> BResult<()>;
}

/// The ADFS farm (`Get-`/`Set-AdfsProperties`, `Get-`/`Update-AdfsCertificate`).
pub trait AdfsAdmin {
    fn adfs_properties(&mut self) -> BResult<AdfsProperties>;
    /// Applies the change; returns the properties after it.
    fn set_adfs_properties(&mut self, change: &AdfsPropertiesChange) -> BResult<AdfsProperties>;
    /// The token-signing certificates, the primary first.
    fn adfs_certificates(&mut self) -> BResult<Vec<AdfsCertificate>>;
    /// `Update-AdfsCertificate -CertificateType Token-Signing [-Urgent]`; the listing after it.
    fn update_adfs_certificate(&mut self, urgent: bool) -> BResult<Vec<AdfsCertificate>>;
}

/// A domain as `Get-MsolDomain` lists it (mock-aad's `GET …/msol-domains`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct MsolDomain {
    pub name: String,
    /// `Verified` or `Unverified`.
    pub status: String,
    /// `Managed` or `Federated`.
    pub authentication: String,
    /// Pass-through authentication checks this managed domain's synced passwords.
    #[serde(default)]
    pub pass_through: bool,
}

/// `Get-`/`Set-MsolDomainFederationSettings`' properties (absent: not shown / unchanged), in the
/// cmdlets' own names, which are mock-aad's admin API's.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct FederationSettings {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active_log_on_uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub federation_brand_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer_uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_off_uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata_exchange_uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_signing_certificate: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub passive_log_on_uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preferred_authentication_protocol: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signing_certificate: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supports_mfa: Option<bool>,
}

/// An on-premises Active Directory user as `Get-ADUser` shows it: Exchange's account (sam, UPN,
/// SID, password, enabled) plus what the lab's directory keeps beside it (objectGUID, names).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdUser {
    pub sam: String,
    pub upn: String,
    pub sid: String,
    pub object_guid: Uuid,
    pub given_name: String,
    pub surname: String,
    pub display_name: String,
    pub enabled: bool,
}

/// `New-ADUser`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewAdUser {
    /// `-Name` (the CN).
    pub name: String,
    pub sam: String,
    pub upn: String,
    pub given_name: String,
    pub surname: String,
    pub display_name: String,
    /// `-AccountPassword`; `None`: no password (the account cannot be enabled).
    pub password: Option<String>,
    pub enabled: bool,
}

/// `Start-ADSyncSyncCycle -PolicyType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
pub enum SyncPolicy {
    Delta,
    Initial,
}

/// `Get-ADSyncScheduler`'s state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncScheduler {
    /// Seconds between delta cycles (1800).
    pub interval_secs: i64,
    /// Unix seconds.
    pub next_cycle: i64,
    pub next_policy: SyncPolicy,
    pub enabled: bool,
}

/// What one sync cycle exported to Azure AD.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncRun {
    /// UPNs added or updated.
    pub exported: Vec<String>,
    /// UPNs removed (no longer on-premises).
    pub deleted: Vec<String>,
    /// UPNs whose password hash was written.
    pub passwords: Vec<String>,
    /// Export errors (`UPN: Azure AD's answer`): the cycle goes on with the other users, as
    /// the sync engine does (its errors are shown in the Synchronization Service Manager).
    pub errors: Vec<String>,
}

/// Hybrid identity: how each Azure AD domain signs in (MSOnline's domain cmdlets, the lab's
/// pass-through agent), the on-premises Active Directory (`*-ADUser`, `*-ADAccount*`) and Azure
/// AD Connect (`Start-ADSyncSyncCycle`, `Get-ADSyncScheduler`).
pub trait HybridIdentity {
    fn msol_domains(&mut self) -> BResult<Vec<MsolDomain>>;
    /// `Set-MsolDomainAuthentication`: `federated` with its settings, or back to managed
    /// (`pass_through` chooses pass-through authentication for a managed domain).
    fn set_domain_authentication(
        &mut self,
        domain: &str,
        federated: bool,
        pass_through: bool,
        settings: &FederationSettings,
    ) -> BResult<MsolDomain>;
    fn federation_settings(&mut self, domain: &str) -> BResult<FederationSettings>;
    fn set_federation_settings(
        &mut self,
        domain: &str,
        change: &FederationSettings,
    ) -> BResult<FederationSettings>;
    /// Azure AD's users, or those of one domain (`Get-MsolUser [-DomainName]`).
    fn msol_users(&mut self, domain: Option<&str>) -> BResult<Vec<mock_aad::model::User>>;
    /// The pass-through agent device: `up`, `down` or `slow`.
    fn set_pta_agent(&mut self, state: mock_aad::model::AgentState) -> BResult<()>;
    fn ad_users(&mut self) -> BResult<Vec<AdUser>>;
    fn new_ad_user(&mut self, new: &NewAdUser) -> BResult<AdUser>;
    /// `Set-ADAccountPassword -Reset`; `identity` is a sam, UPN or SID.
    fn set_ad_password(&mut self, identity: &str, password: &str) -> BResult<()>;
    fn set_ad_enabled(&mut self, identity: &str, enabled: bool) -> BResult<()>;
    fn start_sync_cycle(&mut self, policy: SyncPolicy) -> BResult<SyncRun>;
    fn sync_scheduler(&mut self) -> BResult<SyncScheduler>;
}

/// An Outlook for Windows the client machine can have installed (`Install-LabOutlook`): the
/// versions the reference client models.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
pub enum OutlookVersion {
    Outlook2010,
    Outlook2013,
    Outlook2016,
}

impl OutlookVersion {
    /// Every version, oldest first, with the year `Install-LabOutlook -Version` takes.
    pub const ALL: [(OutlookVersion, &'static str); 3] = [
        (OutlookVersion::Outlook2010, "2010"),
        (OutlookVersion::Outlook2013, "2013"),
        (OutlookVersion::Outlook2016, "2016"),
    ];

    /// The Outlook a machine runs when nothing was installed: Outlook 2016, the field guide's.
    pub const DEFAULT: OutlookVersion = OutlookVersion::Outlook2016;

    /// `2010`, `2013`, `2016`.
    pub fn year(self) -> &'static str {
        OutlookVersion::ALL
            .iter()
            .find(|(v, _)| *v == self)
            .map_or("2016", |(_, y)| y)
    }

    /// `2016` → Outlook 2016 (also `Outlook 2016`, `outlook-2016`).
    pub fn parse(s: &str) -> Option<OutlookVersion> {
        let s = s.trim().to_ascii_lowercase();
        let year = s
            .strip_prefix("outlook")
            .unwrap_or(&s)
            .trim_start_matches([' ', '-']);
        OutlookVersion::ALL
            .iter()
            .find(|(_, y)| *y == year)
            .map(|(v, _)| *v)
    }
}

/// The on-premises Active Directory domain the lab's machines can join: the one the lab's
/// accounts (`CONTOSO\GregT`) and its ADFS farm belong to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct AdDomainName {
    /// NetBIOS name, `CONTOSO`.
    pub netbios: String,
    /// DNS name, `contoso.com`.
    pub dns: String,
}

impl AdDomainName {
    /// The lab's directory when the lab file names no farm: `contoso.com` (`CONTOSO`), where
    /// the lab's accounts live (`DC=contoso,DC=com`).
    pub fn contoso() -> AdDomainName {
        AdDomainName {
            netbios: "CONTOSO".into(),
            dns: "contoso.com".into(),
        }
    }

    /// Whether `name` (as `Add-Computer -DomainName` takes it: DNS or NetBIOS name, any case)
    /// names this domain.
    pub fn is_named(&self, name: &str) -> bool {
        let name = name.trim().trim_end_matches('.');
        name.eq_ignore_ascii_case(&self.dns) || name.eq_ignore_ascii_case(&self.netbios)
    }
}

/// The user's Windows machine's domain membership (`Add-Computer`, `Remove-Computer`,
/// `Restart-Computer`). As on Windows, a join or a leave is recorded at once but the machine's
/// logon changes only at the next restart: until then `logon_domain` is the one the machine
/// started with, and the reference client signs in as that machine.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Membership {
    /// The domain (DNS name) the machine is a member of; `None`: the `WORKGROUP` workgroup.
    pub domain: Option<String>,
    /// The domain the running Windows logon belongs to (`domain` as it was at the last
    /// restart); `None`: a local logon, no Windows integrated sign-in.
    pub logon_domain: Option<String>,
}

impl Membership {
    /// A change waits for a restart.
    pub fn restart_pending(&self) -> bool {
        self.domain != self.logon_domain
    }
}

/// The client machines' settings (`*-ItemProperty`, `reg`, `defaults`), the Outlook installed
/// on the user's Windows machine (`Install-LabOutlook`) and its domain membership
/// (`Add-Computer`, `Remove-Computer`, `Restart-Computer`).
pub trait Machines {
    fn set_client_setting(&mut self, setting: &ClientSetting) -> BResult<()>;
    /// Installs `version` in place of the Outlook the machine has (an upgrade or a downgrade).
    fn install_outlook(&mut self, version: OutlookVersion) -> BResult<()>;
    /// The Outlook installed with [`Machines::install_outlook`], `None` when none was.
    fn installed_outlook(&mut self) -> BResult<Option<OutlookVersion>>;
    /// The on-premises domain the machine can join.
    fn ad_domain(&mut self) -> BResult<AdDomainName>;
    /// The Windows machine's domain membership.
    fn membership(&mut self) -> BResult<Membership>;
    /// Replaces the membership (the cmdlets decide what a join, a leave or a restart makes it).
    fn set_membership(&mut self, m: &Membership) -> BResult<()>;
}

/// The services a session's backend offers; each answers `None` (not offered) by default.
pub trait Backend {
    fn exchange(&mut self) -> Option<&mut dyn ExchangeAdmin> {
        None
    }
    fn directory(&mut self) -> Option<&mut dyn DirectoryAdmin> {
        None
    }
    fn keys(&mut self) -> Option<&mut dyn SigningKeys> {
        None
    }
    fn faults(&mut self) -> Option<&mut dyn FaultRules> {
        None
    }
    fn machines(&mut self) -> Option<&mut dyn Machines> {
        None
    }
    fn adfs(&mut self) -> Option<&mut dyn AdfsAdmin> {
        None
    }
    fn identity(&mut self) -> Option<&mut dyn HybridIdentity> {
        None
    }
}

/// A boxed or borrowed backend is a backend (so a lab can hold `Shell<Box<dyn Backend + Send>>`
/// or lend its backend to a short-lived shell).
macro_rules! forward {
    ($($t:ty),*) => {$(
        impl<B: Backend + ?Sized> Backend for $t {
            fn exchange(&mut self) -> Option<&mut dyn ExchangeAdmin> {
                (**self).exchange()
            }
            fn directory(&mut self) -> Option<&mut dyn DirectoryAdmin> {
                (**self).directory()
            }
            fn keys(&mut self) -> Option<&mut dyn SigningKeys> {
                (**self).keys()
            }
            fn faults(&mut self) -> Option<&mut dyn FaultRules> {
                (**self).faults()
            }
            fn machines(&mut self) -> Option<&mut dyn Machines> {
                (**self).machines()
            }
            fn adfs(&mut self) -> Option<&mut dyn AdfsAdmin> {
                (**self).adfs()
            }
            fn identity(&mut self) -> Option<&mut dyn HybridIdentity> {
                (**self).identity()
            }
        }
    )*};
}
forward!(Box<B>, &mut B);
