//! The farm as data: the federation service's name and identifier, the Active Directory domain
//! whose accounts sign in, the farm properties `Get-AdfsProperties` shows, the relying-party
//! trusts and the users. Plain serde data with `deny_unknown_fields`, so a lab file is exactly
//! this and the admin API shows and edits the same shapes.

use base64::Engine;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The whole farm, as a lab file writes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Farm {
    #[schemars(extend("const" = 1))]
    pub version: u32,
    /// The federation service name (`adfs.contoso.com`): the host in every URL the farm
    /// publishes, whatever `Host` a request arrived with.
    pub host: String,
    /// The name on the sign-in page (`Contoso`).
    #[serde(default = "default_display_name")]
    pub display_name: String,
    /// The federation service identifier (issuer); default `http://{host}/adfs/services/trust`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identifier: Option<String>,
    pub domain: AdDomain,
    #[serde(default)]
    pub properties: Properties,
    #[serde(default = "default_relying_parties")]
    pub relying_parties: Vec<RelyingParty>,
    #[serde(default)]
    pub users: Vec<User>,
}

fn default_display_name() -> String {
    "Contoso".into()
}

/// The Active Directory domain the farm is joined to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AdDomain {
    /// NetBIOS name (`CONTOSO`): `CONTOSO\GregT` signs in, NTLM names it.
    pub netbios: String,
    /// DNS name (`contoso.com`).
    pub dns: String,
}

/// `Set-AdfsProperties -ExtendedProtectionTokenCheck`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, schemars::JsonSchema,
)]
pub enum ExtendedProtection {
    /// Not enforced: no channel binding is checked.
    #[serde(alias = "none")]
    None,
    /// The default: a channel binding the client sends must match; a client that sends none
    /// (not patched for extended protection) is let through.
    #[default]
    #[serde(alias = "allow")]
    Allow,
    /// Fully hardened: every Windows logon must carry the binding of this farm's TLS endpoint.
    #[serde(alias = "require")]
    Require,
}

impl ExtendedProtection {
    /// Parses a PowerShell value, without case (`none`, `Allow`, `REQUIRE`).
    pub fn parse(s: &str) -> Option<ExtendedProtection> {
        match s.to_ascii_lowercase().as_str() {
            "none" => Some(ExtendedProtection::None),
            "allow" => Some(ExtendedProtection::Allow),
            "require" => Some(ExtendedProtection::Require),
            _ => None,
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            ExtendedProtection::None => "None",
            ExtendedProtection::Allow => "Allow",
            ExtendedProtection::Require => "Require",
        }
    }
}

/// What `Get-AdfsProperties` shows and `Set-AdfsProperties` changes (the part the lab models).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Properties {
    #[serde(default)]
    pub extended_protection_token_check: ExtendedProtection,
    /// `Get-AdfsProperties WIASupportedUserAgents`: a browser whose `User-Agent` contains one of
    /// these, on the intranet, is offered Windows integrated sign-in instead of the forms page.
    #[serde(default = "default_wia_agents")]
    pub wia_supported_user_agents: Vec<String>,
}

impl Default for Properties {
    fn default() -> Self {
        Properties {
            extended_protection_token_check: ExtendedProtection::Allow,
            wia_supported_user_agents: default_wia_agents(),
        }
    }
}

/// ADFS 2016's default list, with its one regular expression (`=~Windows\s*NT.*Edge`) written as
/// the substring `Edge/` (the lab matches substrings).
pub fn default_wia_agents() -> Vec<String> {
    [
        "MSAuthHost/1.0/In-Domain",
        "MSIE 6.0",
        "MSIE 7.0",
        "MSIE 8.0",
        "MSIE 9.0",
        "MSIE 10.0",
        "Trident/7.0",
        "MSIPC",
        "Windows Rights Management Client",
        "MS_WorkFoldersClient",
        "Edge/",
    ]
    .map(String::from)
    .to_vec()
}

/// A relying-party trust.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RelyingParty {
    pub name: String,
    /// `wtrealm` / `AppliesTo` values naming it; the first is the audience of passive tokens.
    pub identifiers: Vec<String>,
    /// Where passive sign-in posts the token (`WSFedEndpoint`).
    pub ws_fed_endpoint: String,
    /// An additional-authentication rule: every user must do MFA at the farm for this party.
    #[serde(default)]
    pub require_mfa: bool,
    /// Token lifetime in minutes (1 to 1440).
    #[serde(default = "default_lifetime")]
    pub token_lifetime_minutes: u32,
    #[serde(default = "yes")]
    pub enabled: bool,
}

fn yes() -> bool {
    true
}

fn default_lifetime() -> u32 {
    60
}

/// The one relying party Azure AD needs, as `Convert-MsolDomainToFederated` creates it.
pub fn office365() -> RelyingParty {
    RelyingParty {
        name: "Microsoft Office 365 Identity Platform".into(),
        identifiers: vec![
            "urn:federation:MicrosoftOnline".into(),
            "https://login.microsoftonline.com/extSTS.srf".into(),
        ],
        ws_fed_endpoint: "https://login.microsoftonline.com/login.srf".into(),
        require_mfa: false,
        token_lifetime_minutes: 60,
        enabled: true,
    }
}

fn default_relying_parties() -> Vec<RelyingParty> {
    vec![office365()]
}

/// Whether a user must do MFA at the farm.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Mfa {
    #[default]
    None,
    Required,
}

/// An on-premises account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "AdfsUser")]
#[serde(deny_unknown_fields)]
pub struct User {
    pub upn: String,
    /// sAMAccountName (`GregT`).
    pub sam: String,
    /// objectGUID; its bytes in .NET order, base64, are the ImmutableID.
    pub object_guid: Uuid,
    pub password: String,
    #[serde(default)]
    pub display_name: String,
    #[serde(default = "yes")]
    pub enabled: bool,
    #[serde(default)]
    pub mfa: Mfa,
}

impl User {
    /// `[Convert]::ToBase64String($guid.ToByteArray())`: the sourceAnchor Azure AD Connect
    /// writes as the ImmutableID.
    pub fn immutable_id(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(self.object_guid.to_bytes_le())
    }
}

impl Farm {
    /// The issuer every token carries.
    pub fn issuer(&self) -> String {
        self.identifier
            .clone()
            .unwrap_or_else(|| format!("http://{}/adfs/services/trust", self.host))
    }

    /// `https://{host}`.
    pub fn base(&self) -> String {
        format!("https://{}", self.host)
    }

    /// The enabled relying party with this identifier.
    pub fn relying_party(&self, identifier: &str) -> Option<&RelyingParty> {
        self.relying_parties
            .iter()
            .find(|rp| rp.enabled && rp.identifiers.iter().any(|i| i == identifier))
    }

    /// The user a logon name names: a UPN, `NETBIOS\sam`, `dns\sam` or a bare sam (no case).
    pub fn user_by_logon(&self, name: &str) -> Option<&User> {
        let name = name.trim();
        if name.contains('@') {
            return self.users.iter().find(|u| u.upn.eq_ignore_ascii_case(name));
        }
        let sam = match name.split_once('\\') {
            Some((d, s)) if self.names_domain(d) => s,
            Some(_) => return None,
            None => name,
        };
        self.users.iter().find(|u| u.sam.eq_ignore_ascii_case(sam))
    }

    /// Whether `d` names the farm's domain (NetBIOS or DNS, no case; empty for a UPN logon).
    pub fn names_domain(&self, d: &str) -> bool {
        d.is_empty()
            || d.eq_ignore_ascii_case(&self.domain.netbios)
            || d.eq_ignore_ascii_case(&self.domain.dns)
    }
}
