//! The Exchange organization: servers, virtual directories with their authentication settings,
//! organization config, AuthServers, on-premises accounts and mailboxes.
//!
//! Plain data (serde, `deny_unknown_fields`), loaded from a lab file and changed at run time
//! through the admin API. Field names follow the Exchange Management Shell properties (snake_case
//! in files, PascalCase in cmdlet output) so that `Get-*VirtualDirectory | FL` can print them.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

fn yes() -> bool {
    true
}
fn one() -> u32 {
    1
}

/// A whole Exchange organization: what a mock-exchange lab file holds.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Organization {
    #[serde(default = "one")]
    #[schemars(extend("const" = 1))]
    pub version: u32,
    /// e.g. `Contoso`.
    pub name: String,
    /// The accepted (primary SMTP) domain, e.g. `contoso.com`.
    pub domain: String,
    pub servers: Vec<Server>,
    #[serde(default)]
    pub org_config: OrgConfig,
    #[serde(default)]
    pub auth_servers: Vec<AuthServer>,
    /// Edge Transport servers subscribed to the organization.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub edge_servers: Vec<EdgeServer>,
    /// Partner applications trusted besides the AuthServers (e.g. Skype for Business,
    /// `00000004-0000-0ff1-ce00-000000000000@contoso.com`), listed in `trusted_issuers`.
    #[serde(default)]
    pub partner_applications: Vec<PartnerApplication>,
    #[serde(default)]
    pub accounts: Vec<Account>,
    #[serde(default)]
    pub mailboxes: Vec<Mailbox>,
    /// How long a changed setting takes to reach the serving path without `iisreset`.
    #[serde(default = "default_settings_cache")]
    pub settings_cache_seconds: i64,
}

fn default_settings_cache() -> i64 {
    // Exchange caches vdir and org settings for several minutes; the guide warns that "not
    // enough time has passed". 15 minutes is a conservative, realistic value.
    900
}

/// Exchange versions the lab knows.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, schemars::JsonSchema)]
pub enum ExchangeVersion {
    /// Exchange 2016 (default CU8, build 15.1.1415.2).
    #[serde(rename = "2016")]
    Ex2016,
    /// Exchange 2013 (default CU19, build 15.0.1365.1).
    #[serde(rename = "2013")]
    Ex2013,
    /// Exchange 2010 SP3, build 14.3.123.4. No OAuth.
    #[serde(rename = "2010")]
    Ex2010,
}

/// `(major, minor, build, revision)`, e.g. `(15, 1, 1415, 2)`.
pub type Build = (u16, u16, u16, u16);

/// Cumulative updates the lab knows, with their builds (Microsoft's "Exchange Server build
/// numbers and release dates" table): `(version, CU, (major, minor, build, revision))`.
pub const CUMULATIVE_UPDATES: &[(ExchangeVersion, u16, Build)] = &[
    (ExchangeVersion::Ex2013, 17, (15, 0, 1320, 4)),
    (ExchangeVersion::Ex2013, 18, (15, 0, 1347, 2)),
    (ExchangeVersion::Ex2013, 19, (15, 0, 1365, 1)),
    (ExchangeVersion::Ex2013, 20, (15, 0, 1367, 3)),
    (ExchangeVersion::Ex2013, 21, (15, 0, 1395, 4)),
    (ExchangeVersion::Ex2013, 22, (15, 0, 1473, 3)),
    (ExchangeVersion::Ex2013, 23, (15, 0, 1497, 2)),
    (ExchangeVersion::Ex2016, 6, (15, 1, 1034, 26)),
    (ExchangeVersion::Ex2016, 7, (15, 1, 1261, 35)),
    (ExchangeVersion::Ex2016, 8, (15, 1, 1415, 2)),
    (ExchangeVersion::Ex2016, 9, (15, 1, 1466, 3)),
    (ExchangeVersion::Ex2016, 10, (15, 1, 1531, 3)),
    (ExchangeVersion::Ex2016, 11, (15, 1, 1591, 10)),
    (ExchangeVersion::Ex2016, 12, (15, 1, 1713, 5)),
];

impl ExchangeVersion {
    /// The CU a server of this version has when its lab file names none: the first with Hybrid
    /// Modern Authentication (2016 CU8, 2013 CU19); Exchange 2010 has service packs, not CUs.
    pub fn default_cu(self) -> Option<u16> {
        match self {
            ExchangeVersion::Ex2016 => Some(8),
            ExchangeVersion::Ex2013 => Some(19),
            ExchangeVersion::Ex2010 => None,
        }
    }

    /// The first CU that supports Hybrid Modern Authentication ("All servers must be Exchange
    /// 2013 (CU19+) and/or Exchange 2016 (CU8+)"); none for Exchange 2010.
    pub fn first_hma_cu(self) -> Option<u16> {
        self.default_cu()
    }

    /// The CUs of this version the lab knows.
    pub fn known_cus(self) -> impl Iterator<Item = u16> {
        CUMULATIVE_UPDATES
            .iter()
            .filter(move |(v, _, _)| *v == self)
            .map(|(_, cu, _)| *cu)
    }

    /// `(major, minor, build, revision)` of `cu` (the default CU when `None`); Exchange 2010
    /// SP3 has one build.
    pub fn build_of(self, cu: Option<u16>) -> (u16, u16, u16, u16) {
        if self == ExchangeVersion::Ex2010 {
            return (14, 3, 123, 4);
        }
        let cu = cu.or(self.default_cu());
        CUMULATIVE_UPDATES
            .iter()
            .find(|(v, c, _)| *v == self && Some(*c) == cu)
            .map(|(_, _, b)| *b)
            .unwrap_or(match self {
                ExchangeVersion::Ex2016 => (15, 1, 1415, 2),
                _ => (15, 0, 1365, 1),
            })
    }

    /// `(major, minor, build, revision)` of the default CU.
    pub fn build(self) -> (u16, u16, u16, u16) {
        self.build_of(None)
    }

    /// `Version 15.1 (Build 1415.2)` as `Get-ExchangeServer` prints AdminDisplayVersion.
    pub fn admin_display_version(self) -> String {
        display_version(self.build())
    }

    /// The Windows release this version runs on when the lab file names none: the guide's
    /// Exchange 2016 answers `Server: Microsoft-IIS/8.5`, i.e. Windows Server 2012 R2.
    pub fn default_os(self) -> WindowsVersion {
        match self {
            ExchangeVersion::Ex2016 | ExchangeVersion::Ex2013 => WindowsVersion::Ws2012R2,
            ExchangeVersion::Ex2010 => WindowsVersion::Ws2008R2,
        }
    }

    /// Whether this version can take OAuth at all (Exchange 2010 cannot).
    pub fn supports_hma(self) -> bool {
        !matches!(self, ExchangeVersion::Ex2010)
    }
}

/// `Version 15.1 (Build 1415.2)`.
fn display_version((a, b, c, d): (u16, u16, u16, u16)) -> String {
    format!("Version {a}.{b} (Build {c}.{d})")
}

/// The Windows Server release a server runs on; IIS's version, and so the `Server:` header,
/// follows it (not the Exchange version).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, schemars::JsonSchema)]
pub enum WindowsVersion {
    /// IIS 7.5.
    #[serde(rename = "Windows Server 2008 R2")]
    Ws2008R2,
    /// IIS 8.0.
    #[serde(rename = "Windows Server 2012")]
    Ws2012,
    /// IIS 8.5.
    #[serde(rename = "Windows Server 2012 R2")]
    Ws2012R2,
    /// IIS 10.0.
    #[serde(rename = "Windows Server 2016")]
    Ws2016,
}

impl WindowsVersion {
    /// The `Server:` header IIS on this release sends (Exchange's captures: `Microsoft-IIS/8.5
    /// Microsoft-HTTPAPI/2.0` on 2012 R2, `Microsoft-IIS/7.5` on 2008 R2).
    pub fn server_header(self) -> &'static str {
        match self {
            WindowsVersion::Ws2008R2 => "Microsoft-IIS/7.5",
            WindowsVersion::Ws2012 => "Microsoft-IIS/8.0 Microsoft-HTTPAPI/2.0",
            WindowsVersion::Ws2012R2 => "Microsoft-IIS/8.5 Microsoft-HTTPAPI/2.0",
            WindowsVersion::Ws2016 => "Microsoft-IIS/10.0 Microsoft-HTTPAPI/2.0",
        }
    }

    /// The name as the lab file writes it.
    pub fn name(self) -> &'static str {
        match self {
            WindowsVersion::Ws2008R2 => "Windows Server 2008 R2",
            WindowsVersion::Ws2012 => "Windows Server 2012",
            WindowsVersion::Ws2012R2 => "Windows Server 2012 R2",
            WindowsVersion::Ws2016 => "Windows Server 2016",
        }
    }
}

/// An Edge Transport server subscribed to the organization (`New-EdgeSubscription`). It serves
/// no client, but it is an Exchange server of its version: an Exchange 2010 Edge makes the
/// Hybrid Configuration Wizard skip EvoSts ("this includes Edge Transport servers").
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EdgeServer {
    /// e.g. `EDGE2010`.
    pub name: String,
    /// e.g. `edge2010.contoso.com`.
    pub fqdn: String,
    pub version: ExchangeVersion,
}

/// One Exchange server (Client Access + Mailbox roles).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Server {
    /// NetBIOS name, e.g. `EX1` (shown in `X-FEServer`).
    pub name: String,
    /// e.g. `ex1.contoso.com` (shown in `X-CalculatedBETarget`).
    pub fqdn: String,
    pub version: ExchangeVersion,
    /// The cumulative update (`19` = Exchange 2013 CU19); default: the version's first CU with
    /// Hybrid Modern Authentication. Exchange 2010 takes none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cu: Option<u16>,
    /// The Windows release (`Windows Server 2012 R2`); default per version
    /// ([`ExchangeVersion::default_os`]). IIS's `Server:` header follows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os: Option<WindowsVersion>,
    /// Overrides the `Server:` header (otherwise from `os`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_header: Option<String>,
    /// Host names this server answers as *internal* (e.g. `mail.corp.contoso.com`, `ex1.contoso.com`).
    /// A request arriving on any other host is treated as external.
    #[serde(default)]
    pub internal_hosts: Vec<String>,
    pub vdirs: Vec<VirtualDirectory>,
}

/// The kinds of virtual directory.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Hash, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum VdirKind {
    /// `/autodiscover`
    Autodiscover,
    /// `/EWS`
    Ews,
    /// `/mapi`
    Mapi,
    /// `/OAB`
    Oab,
    /// `/Microsoft-Server-ActiveSync`
    Eas,
    /// `/owa`
    Owa,
    /// `/ecp`
    Ecp,
    /// `/rpc` (Outlook Anywhere)
    Rpc,
}

impl VdirKind {
    /// The URL path prefix (matched case-insensitively).
    pub fn path(self) -> &'static str {
        match self {
            VdirKind::Autodiscover => "/autodiscover",
            VdirKind::Ews => "/ews",
            VdirKind::Mapi => "/mapi",
            VdirKind::Oab => "/oab",
            VdirKind::Eas => "/microsoft-server-activesync",
            VdirKind::Owa => "/owa",
            VdirKind::Ecp => "/ecp",
            VdirKind::Rpc => "/rpc",
        }
    }

    /// The vdir whose path prefixes `path` (case-insensitive), if any.
    pub fn for_path(path: &str) -> Option<VdirKind> {
        // `path` is `k.path()` or below it, ASCII case aside (no lowercase copy: every request
        // asks this).
        let under = |p: &str| {
            let (path, p) = (path.as_bytes(), p.as_bytes());
            path.len() >= p.len()
                && path[..p.len()].eq_ignore_ascii_case(p)
                && (path.len() == p.len() || path[p.len()] == b'/')
        };
        [
            VdirKind::Autodiscover,
            VdirKind::Ews,
            VdirKind::Mapi,
            VdirKind::Oab,
            VdirKind::Eas,
            VdirKind::Owa,
            VdirKind::Ecp,
            VdirKind::Rpc,
        ]
        .into_iter()
        .find(|k| under(k.path()))
    }
}

/// Authentication methods as Exchange names them in `*AuthenticationMethods`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Hash, schemars::JsonSchema)]
pub enum AuthMethod {
    Basic,
    Ntlm,
    Negotiate,
    WindowsIntegrated,
    WSSecurity,
    OAuth,
    Digest,
    Fba,
    Adfs,
    LiveIdBasic,
    LiveIdNegotiate,
    Certificate,
}

impl AuthMethod {
    /// The spelling PowerShell prints (`{Ntlm, OAuth, Negotiate}`).
    pub fn as_str(self) -> &'static str {
        match self {
            AuthMethod::Basic => "Basic",
            AuthMethod::Ntlm => "Ntlm",
            AuthMethod::Negotiate => "Negotiate",
            AuthMethod::WindowsIntegrated => "WindowsIntegrated",
            AuthMethod::WSSecurity => "WSSecurity",
            AuthMethod::OAuth => "OAuth",
            AuthMethod::Digest => "Digest",
            AuthMethod::Fba => "Fba",
            AuthMethod::Adfs => "Adfs",
            AuthMethod::LiveIdBasic => "LiveIdBasic",
            AuthMethod::LiveIdNegotiate => "LiveIdNegotiate",
            AuthMethod::Certificate => "Certificate",
        }
    }

    /// Parses a cmdlet/lab spelling, case-insensitively.
    pub fn parse(s: &str) -> Option<AuthMethod> {
        let all = [
            AuthMethod::Basic,
            AuthMethod::Ntlm,
            AuthMethod::Negotiate,
            AuthMethod::WindowsIntegrated,
            AuthMethod::WSSecurity,
            AuthMethod::OAuth,
            AuthMethod::Digest,
            AuthMethod::Fba,
            AuthMethod::Adfs,
            AuthMethod::LiveIdBasic,
            AuthMethod::LiveIdNegotiate,
            AuthMethod::Certificate,
        ];
        all.into_iter()
            .find(|m| m.as_str().eq_ignore_ascii_case(s.trim()))
    }
}

/// One virtual directory on one server. The three method lists and the flags are stored as
/// Exchange stores them; [`crate`] derives the effective challenge set per side from them.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VirtualDirectory {
    pub kind: VdirKind,
    /// e.g. `mapi (Default Web Site)`.
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub internal_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_url: Option<String>,
    /// MAPI only: what IIS offers (`{Ntlm, OAuth, Negotiate}`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub iis_authentication_methods: Vec<AuthMethod>,
    #[serde(default)]
    pub internal_authentication_methods: Vec<AuthMethod>,
    #[serde(default)]
    pub external_authentication_methods: Vec<AuthMethod>,
    #[serde(default)]
    pub basic_authentication: bool,
    #[serde(default)]
    pub windows_authentication: bool,
    #[serde(default)]
    pub oauth_authentication: bool,
    #[serde(default)]
    pub wssecurity_authentication: bool,
    #[serde(default)]
    pub digest_authentication: bool,
    #[serde(default)]
    pub adfs_authentication: bool,
    #[serde(default)]
    pub live_id_basic_authentication: bool,
    #[serde(default)]
    pub live_id_negotiate_authentication: bool,
    /// OWA/ECP forms-based authentication.
    #[serde(default)]
    pub forms_authentication: bool,
}

/// `Get-OrganizationConfig` properties the lab uses.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OrgConfig {
    /// Enables OAuth for Outlook for Windows (`4000000` "Flighting is not enabled" when false).
    #[serde(default)]
    pub oauth2_client_profile_enabled: bool,
    #[serde(default = "yes")]
    pub mapi_http_enabled: bool,
}

impl Default for OrgConfig {
    fn default() -> Self {
        OrgConfig {
            oauth2_client_profile_enabled: false,
            mapi_http_enabled: true,
        }
    }
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, schemars::JsonSchema)]
pub enum AuthServerType {
    AzureAD,
    ADFS,
    Facebook,
    LiveId,
    MicrosoftACS,
}

/// An `AuthServer` object (`Get-AuthServer`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AuthServer {
    /// e.g. `EvoSts` (the Hybrid Configuration Wizard's name for Azure AD).
    pub name: String,
    #[serde(rename = "type")]
    pub kind: AuthServerType,
    /// Where the server's metadata (signing certificates, issuer) is read from over HTTP,
    /// e.g. `https://login.windows.net/contoso.com/federationmetadata/2007-06/federationmetadata.xml`.
    pub auth_metadata_url: String,
    /// Tenant id the metadata names (filled after a metadata refresh, or given).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub realm: Option<String>,
    /// Puts `authorization_uri` into Bearer challenges.
    #[serde(default)]
    pub is_default_authorization_endpoint: bool,
    #[serde(default = "yes")]
    pub enabled: bool,
    /// The authorize endpoint advertised as `authorization_uri`.
    #[serde(default = "default_authorization_endpoint")]
    pub authorization_endpoint: String,
}

fn default_authorization_endpoint() -> String {
    "https://login.windows.net/common/oauth2/authorize".into()
}

/// A partner application trusted for OAuth (listed in `trusted_issuers`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PartnerApplication {
    pub name: String,
    pub application_identifier: String,
    /// `contoso.com` or a tenant id.
    pub realm: String,
    #[serde(default = "yes")]
    pub enabled: bool,
}

/// An on-premises Active Directory account.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Account {
    /// `sAMAccountName`, e.g. `GregT` (Basic/NTLM log in as `CONTOSO\GregT` or the UPN).
    pub sam: String,
    pub upn: String,
    /// The account's SID — the `onprem_sid` claim of a synced user.
    pub sid: String,
    pub password: String,
    #[serde(default)]
    pub display_name: String,
    #[serde(default = "yes")]
    pub enabled: bool,
}

/// A mailbox, owned by an account, homed on a server.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Mailbox {
    pub primary_smtp_address: String,
    /// SID of the owning account.
    pub owner_sid: String,
    /// The server name (`EX1`) that hosts the database.
    pub server: String,
    pub guid: Uuid,
    pub display_name: String,
    /// Items present when the lab starts.
    #[serde(default)]
    pub items: std::sync::Arc<Vec<SeedItem>>,
}

/// An item a mailbox starts with.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SeedItem {
    /// Distinguished folder: `inbox`, `sentitems`, `drafts`, `deleteditems`, `calendar`, `contacts`.
    #[serde(default = "default_folder")]
    pub folder: String,
    pub subject: String,
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: Vec<String>,
    #[serde(default)]
    pub body: String,
    /// RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub received: Option<String>,
    #[serde(default)]
    pub is_read: bool,
}

fn default_folder() -> String {
    "inbox".into()
}

impl Organization {
    pub fn server(&self, name: &str) -> Option<&Server> {
        self.servers
            .iter()
            .find(|s| s.name.eq_ignore_ascii_case(name) || s.fqdn.eq_ignore_ascii_case(name))
    }

    pub fn server_mut(&mut self, name: &str) -> Option<&mut Server> {
        self.servers
            .iter_mut()
            .find(|s| s.name.eq_ignore_ascii_case(name) || s.fqdn.eq_ignore_ascii_case(name))
    }

    pub fn account_by_sid(&self, sid: &str) -> Option<&Account> {
        account_by_sid(&self.accounts, sid)
    }

    pub fn account_by_upn(&self, upn: &str) -> Option<&Account> {
        self.accounts
            .iter()
            .find(|a| a.upn.eq_ignore_ascii_case(upn))
    }

    /// An account by `DOMAIN\sam`, `sam` or UPN (Basic/NTLM user names).
    pub fn account_by_logon(&self, logon: &str) -> Option<&Account> {
        account_by_logon(&self.accounts, logon)
    }

    pub fn mailbox_of_sid(&self, sid: &str) -> Option<&Mailbox> {
        self.mailboxes
            .iter()
            .find(|m| m.owner_sid.eq_ignore_ascii_case(sid))
    }

    pub fn mailbox_by_smtp(&self, smtp: &str) -> Option<&Mailbox> {
        self.mailboxes
            .iter()
            .find(|m| m.primary_smtp_address.eq_ignore_ascii_case(smtp))
    }

    pub fn mailbox_by_guid(&self, guid: Uuid) -> Option<&Mailbox> {
        self.mailboxes.iter().find(|m| m.guid == guid)
    }

    /// The AuthServer that is the default authorization endpoint (enabled), if any.
    pub fn default_auth_server(&self) -> Option<&AuthServer> {
        self.auth_servers
            .iter()
            .find(|a| a.enabled && a.is_default_authorization_endpoint)
    }

    /// Whether any server runs Exchange 2010 (the Hybrid wizard then creates no EvoSts).
    pub fn has_exchange_2010(&self) -> bool {
        !self.exchange_2010_names().is_empty()
    }

    /// The Exchange 2010 servers of the organization, Edge Transport servers included.
    pub fn exchange_2010_names(&self) -> Vec<String> {
        let servers = self
            .servers
            .iter()
            .filter(|s| s.version == ExchangeVersion::Ex2010)
            .map(|s| s.name.clone());
        let edges = self
            .edge_servers
            .iter()
            .filter(|e| e.version == ExchangeVersion::Ex2010)
            .map(|e| e.name.clone());
        servers.chain(edges).collect()
    }
}

impl Server {
    pub fn vdir(&self, kind: VdirKind) -> Option<&VirtualDirectory> {
        self.vdirs.iter().find(|v| v.kind == kind)
    }

    pub fn vdir_mut(&mut self, kind: VdirKind) -> Option<&mut VirtualDirectory> {
        self.vdirs.iter_mut().find(|v| v.kind == kind)
    }

    /// Whether `host` is one of this server's internal names.
    pub fn is_internal_host(&self, host: &str) -> bool {
        let host = host.split(':').next().unwrap_or(host);
        host.eq_ignore_ascii_case(&self.fqdn)
            || host.eq_ignore_ascii_case(&self.name)
            || self
                .internal_hosts
                .iter()
                .any(|h| h.eq_ignore_ascii_case(host))
    }

    /// The Windows release it runs on.
    pub fn os(&self) -> WindowsVersion {
        self.os.unwrap_or(self.version.default_os())
    }

    /// The `Server:` header value: IIS's, from the Windows release.
    pub fn server_header(&self) -> &str {
        self.server_header
            .as_deref()
            .unwrap_or_else(|| self.os().server_header())
    }

    /// The installed cumulative update (the version's default when the lab names none).
    pub fn cu(&self) -> Option<u16> {
        self.cu.or(self.version.default_cu())
    }

    /// `(major, minor, build, revision)` of the installed CU.
    pub fn build(&self) -> (u16, u16, u16, u16) {
        self.version.build_of(self.cu())
    }

    /// `Version 15.0 (Build 1347.2)`, as `Get-ExchangeServer` prints AdminDisplayVersion.
    pub fn admin_display_version(&self) -> String {
        display_version(self.build())
    }

    /// Whether the build has Hybrid Modern Authentication (2013 CU19+, 2016 CU8+): an older
    /// build never advertises `authorization_uri` and has no `OAuth2ClientProfileEnabled`.
    pub fn hma_build(&self) -> bool {
        match (self.cu(), self.version.first_hma_cu()) {
            (Some(cu), Some(first)) => cu >= first,
            _ => false,
        }
    }
}

/// An account by SID (case-insensitive), among `accounts`.
pub fn account_by_sid<'a>(accounts: &'a [Account], sid: &str) -> Option<&'a Account> {
    accounts.iter().find(|a| a.sid.eq_ignore_ascii_case(sid))
}

/// An account by `DOMAIN\sam`, `sam` or UPN (Basic/NTLM user names), among `accounts`.
pub fn account_by_logon<'a>(accounts: &'a [Account], logon: &str) -> Option<&'a Account> {
    let sam = logon.rsplit_once('\\').map(|(_, s)| s).unwrap_or(logon);
    accounts
        .iter()
        .find(|a| a.upn.eq_ignore_ascii_case(logon) || a.sam.eq_ignore_ascii_case(sam))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vdir_for_path_is_case_insensitive_and_prefix_exact() {
        assert_eq!(
            VdirKind::for_path("/EWS/Exchange.asmx"),
            Some(VdirKind::Ews)
        );
        assert_eq!(VdirKind::for_path("/mapi/emsmdb/"), Some(VdirKind::Mapi));
        assert_eq!(
            VdirKind::for_path("/Autodiscover/Autodiscover.xml"),
            Some(VdirKind::Autodiscover)
        );
        assert_eq!(
            VdirKind::for_path("/Microsoft-Server-ActiveSync"),
            Some(VdirKind::Eas)
        );
        assert_eq!(VdirKind::for_path("/ewsx"), None);
        assert_eq!(VdirKind::for_path("/EWS"), Some(VdirKind::Ews));
        assert_eq!(VdirKind::for_path("/ews\u{e9}/x"), None);
        assert_eq!(VdirKind::for_path("/\u{e9}ws"), None);
        assert_eq!(VdirKind::for_path("/eW"), None);
        assert_eq!(VdirKind::for_path("/"), None);
    }

    #[test]
    fn auth_method_round_trips_powershell_spelling() {
        assert_eq!(AuthMethod::parse("ntlm"), Some(AuthMethod::Ntlm));
        assert_eq!(AuthMethod::parse(" OAuth"), Some(AuthMethod::OAuth));
        assert_eq!(AuthMethod::WSSecurity.as_str(), "WSSecurity");
        assert_eq!(AuthMethod::parse("Kerberos"), None);
    }

    #[test]
    fn the_cu_decides_the_build_and_hma_and_the_os_decides_iis() {
        let mut s = Server {
            name: "EX2".into(),
            fqdn: "ex2.contoso.com".into(),
            version: ExchangeVersion::Ex2013,
            cu: Some(18),
            os: None,
            server_header: None,
            internal_hosts: vec![],
            vdirs: vec![],
        };
        assert_eq!(s.admin_display_version(), "Version 15.0 (Build 1347.2)");
        assert!(!s.hma_build());
        assert_eq!(s.server_header(), "Microsoft-IIS/8.5 Microsoft-HTTPAPI/2.0");
        s.cu = Some(19);
        assert_eq!(s.admin_display_version(), "Version 15.0 (Build 1365.1)");
        assert!(s.hma_build());
        s.version = ExchangeVersion::Ex2016;
        s.cu = Some(7);
        assert_eq!(s.admin_display_version(), "Version 15.1 (Build 1261.35)");
        assert!(!s.hma_build());
        s.cu = None;
        assert!(s.hma_build(), "default CU8");
        // The guide's Exchange 2016 runs on Windows Server 2012 R2: IIS 8.5.
        assert_eq!(s.server_header(), "Microsoft-IIS/8.5 Microsoft-HTTPAPI/2.0");
        s.os = Some(WindowsVersion::Ws2016);
        assert_eq!(
            s.server_header(),
            "Microsoft-IIS/10.0 Microsoft-HTTPAPI/2.0"
        );
        s.version = ExchangeVersion::Ex2010;
        s.os = None;
        assert_eq!(s.server_header(), "Microsoft-IIS/7.5");
        assert!(!s.hma_build());
    }

    #[test]
    fn an_edge_2010_counts_as_exchange_2010() {
        let mut org: Organization =
            serde_yaml_ng::from_str("name: Contoso\ndomain: contoso.com\nservers: []\n").unwrap();
        assert!(!org.has_exchange_2010());
        org.edge_servers.push(EdgeServer {
            name: "EDGE2010".into(),
            fqdn: "edge2010.contoso.com".into(),
            version: ExchangeVersion::Ex2010,
        });
        assert_eq!(org.exchange_2010_names(), vec!["EDGE2010".to_string()]);
    }

    #[test]
    fn builds_are_the_field_versions() {
        assert_eq!(ExchangeVersion::Ex2016.build(), (15, 1, 1415, 2));
        assert_eq!(ExchangeVersion::Ex2013.build(), (15, 0, 1365, 1));
        assert_eq!(ExchangeVersion::Ex2010.build(), (14, 3, 123, 4));
        assert_eq!(
            ExchangeVersion::Ex2016.admin_display_version(),
            "Version 15.1 (Build 1415.2)"
        );
    }
}
