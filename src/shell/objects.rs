//! The objects cmdlets return, built from the mocks' model with the real types' property order.
//!
//! `Format-List` prints properties in the order the .NET type declares them, and a wildcard
//! selection (`| FL server,*url*,*auth*`) keeps that order within each pattern — so the order
//! here is what makes the seed's outputs come out character for character. Each object carries
//! the subset of the real properties the lab models; nothing that would match `*url*` or
//! `*auth*` is added beyond the real ones, or the seed's selections would print extra lines.
//! On the Exchange Web Services vdir, `CertificateAuthentication` and
//! `LiveIdNegotiateAuthentication` are not stamped by setup and print empty (as in the seed);
//! the lab prints `LiveIdNegotiateAuthentication` as `True` only when it is enabled.

use mock_exchange::model::{
    AuthMethod, AuthServer, AuthServerType, EdgeServer, ExchangeVersion, Mailbox, Server, VdirKind,
    VirtualDirectory,
};

use super::backend::{OrgSummary, ServicePrincipal};
use super::value::{PsObject, Value};

fn methods(ms: &[AuthMethod]) -> Value {
    Value::multi(ms.iter().map(|m| m.as_str()))
}

/// The vdir's Identity: `EX1\mapi (Default Web Site)`.
pub fn vdir_identity(server: &Server, v: &VirtualDirectory) -> String {
    format!("{}\\{}", server.name, v.name)
}

/// Which default view a type has when printed without `Format-*`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    Table(&'static [&'static str]),
    List,
}

/// The default view of an object, by its type name.
pub fn default_view(type_name: &str) -> View {
    match type_name {
        t if t.ends_with("VirtualDirectory") => View::Table(&["Name", "Server"]),
        "Microsoft.Exchange.Data.Directory.SystemConfiguration.AuthServer" => View::Table(&[
            "Name",
            "IssuerIdentifier",
            "TokenIssuingEndpoint",
            "AuthMetadataUrl",
            "Enabled",
        ]),
        "Microsoft.Exchange.Data.Directory.Management.Mailbox" => {
            View::Table(&["Name", "Alias", "ServerName", "ProhibitSendQuota"])
        }
        "Microsoft.Exchange.Data.Directory.Management.ExchangeServer" => View::Table(&[
            "Name",
            "Site",
            "ServerRole",
            "Edition",
            "AdminDisplayVersion",
        ]),
        SIGNING_KEY => View::Table(&["Kid", "State"]),
        "System.Security.SecureString" => View::Table(&["Length"]),
        "Microsoft.Online.Administration.Domain" => {
            View::Table(&["Name", "Status", "Authentication"])
        }
        "Microsoft.Online.Administration.User" => {
            View::Table(&["UserPrincipalName", "DisplayName", "isLicensed"])
        }
        "Microsoft.IdentityManagement.PowerShell.ObjectModel.SchedulerOperationStatus" => {
            View::Table(&["Result"])
        }
        AAD_FAULT => View::Table(&["Id", "Endpoint", "Respond", "Remaining", "Hits"]),
        _ => View::List,
    }
}

pub fn vdir_type_name(kind: VdirKind) -> &'static str {
    match kind {
        VdirKind::Mapi => {
            "Microsoft.Exchange.Data.Directory.SystemConfiguration.ADMapiVirtualDirectory"
        }
        VdirKind::Ews => {
            "Microsoft.Exchange.Data.Directory.SystemConfiguration.ADWebServicesVirtualDirectory"
        }
        VdirKind::Oab => {
            "Microsoft.Exchange.Data.Directory.SystemConfiguration.ADOabVirtualDirectory"
        }
        VdirKind::Autodiscover => {
            "Microsoft.Exchange.Data.Directory.SystemConfiguration.ADAutodiscoverVirtualDirectory"
        }
        VdirKind::Eas => {
            "Microsoft.Exchange.Data.Directory.SystemConfiguration.ADMobileVirtualDirectory"
        }
        VdirKind::Owa => {
            "Microsoft.Exchange.Data.Directory.SystemConfiguration.ADOwaVirtualDirectory"
        }
        VdirKind::Ecp => {
            "Microsoft.Exchange.Data.Directory.SystemConfiguration.ADEcpVirtualDirectory"
        }
        VdirKind::Rpc => {
            "Microsoft.Exchange.Data.Directory.SystemConfiguration.ADRpcHttpVirtualDirectory"
        }
    }
}

/// A virtual directory as `Get-*VirtualDirectory` returns it.
pub fn vdir(server: &Server, v: &VirtualDirectory) -> PsObject {
    let o = PsObject::new(vdir_type_name(v.kind));
    let ver = Value::from(server.admin_display_version());
    let int = Value::from(v.internal_url.clone());
    let ext = Value::from(v.external_url.clone());
    let ia = methods(&v.internal_authentication_methods);
    let ea = methods(&v.external_authentication_methods);
    let tail = |o: PsObject| {
        o.with("Server", server.name.as_str())
            .with("InternalUrl", int.clone())
            .with("ExternalUrl", ext.clone())
            .with("Name", v.name.as_str())
            .with("Identity", vdir_identity(server, v))
    };
    match v.kind {
        VdirKind::Mapi => o
            .with(
                "IISAuthenticationMethods",
                methods(&v.iis_authentication_methods),
            )
            .with("ExtendedProtectionTokenChecking", "None")
            .with("AdminDisplayVersion", ver)
            .with("Server", server.name.as_str())
            .with("InternalUrl", int.clone())
            .with("InternalAuthenticationMethods", ia)
            .with("ExternalUrl", ext.clone())
            .with("ExternalAuthenticationMethods", ea)
            .with("Name", v.name.as_str())
            .with("Identity", vdir_identity(server, v)),
        VdirKind::Ews => tail(
            o.with("CertificateAuthentication", Value::Null)
                .with("InternalNLBBypassUrl", Value::Null)
                .with("GzipLevel", "Low")
                .with("MRSProxyEnabled", false)
                .with("InternalAuthenticationMethods", ia)
                .with("ExternalAuthenticationMethods", ea)
                .with(
                    "LiveIdNegotiateAuthentication",
                    if v.live_id_negotiate_authentication {
                        Value::Bool(true)
                    } else {
                        Value::Null
                    },
                )
                .with("WSSecurityAuthentication", v.wssecurity_authentication)
                .with("LiveIdBasicAuthentication", v.live_id_basic_authentication)
                .with("BasicAuthentication", v.basic_authentication)
                .with("DigestAuthentication", v.digest_authentication)
                .with("WindowsAuthentication", v.windows_authentication)
                .with("OAuthAuthentication", v.oauth_authentication)
                .with("AdfsAuthentication", v.adfs_authentication)
                .with("AdminDisplayVersion", ver),
        ),
        VdirKind::Oab => tail(
            o.with("PollInterval", 480)
                .with("RequireSSL", true)
                .with("BasicAuthentication", v.basic_authentication)
                .with("WindowsAuthentication", v.windows_authentication)
                .with("OAuthAuthentication", v.oauth_authentication)
                .with("AdminDisplayVersion", ver),
        )
        .insert_after("InternalUrl", "InternalAuthenticationMethods", ia)
        .insert_after("ExternalUrl", "ExternalAuthenticationMethods", ea),
        VdirKind::Autodiscover => tail(
            o.with("InternalAuthenticationMethods", ia)
                .with("ExternalAuthenticationMethods", ea)
                .with(
                    "LiveIdNegotiateAuthentication",
                    v.live_id_negotiate_authentication,
                )
                .with("WSSecurityAuthentication", v.wssecurity_authentication)
                .with("LiveIdBasicAuthentication", v.live_id_basic_authentication)
                .with("BasicAuthentication", v.basic_authentication)
                .with("DigestAuthentication", v.digest_authentication)
                .with("WindowsAuthentication", v.windows_authentication)
                .with("OAuthAuthentication", v.oauth_authentication)
                .with("AdfsAuthentication", v.adfs_authentication)
                .with("AdminDisplayVersion", ver),
        ),
        VdirKind::Eas => tail(
            o.with("BasicAuthEnabled", v.basic_authentication)
                .with("WindowsAuthEnabled", v.windows_authentication)
                .with("InternalAuthenticationMethods", ia)
                .with("ExternalAuthenticationMethods", ea)
                .with("AdminDisplayVersion", ver),
        ),
        VdirKind::Owa | VdirKind::Ecp | VdirKind::Rpc => tail(
            o.with("FormsAuthentication", v.forms_authentication)
                .with("InternalAuthenticationMethods", ia)
                .with("BasicAuthentication", v.basic_authentication)
                .with("WindowsAuthentication", v.windows_authentication)
                .with("DigestAuthentication", v.digest_authentication)
                .with("OAuthAuthentication", v.oauth_authentication)
                .with("AdfsAuthentication", v.adfs_authentication)
                .with("ExternalAuthenticationMethods", ea)
                .with("AdminDisplayVersion", ver),
        ),
    }
}

trait InsertAfter {
    fn insert_after(self, after: &str, name: &str, v: Value) -> Self;
}
impl InsertAfter for PsObject {
    fn insert_after(mut self, after: &str, name: &str, v: Value) -> Self {
        let at = self
            .props
            .iter()
            .position(|(n, _)| n == after)
            .map(|i| i + 1)
            .unwrap_or(self.props.len());
        self.props.insert(at, (name.to_string(), v));
        self
    }
}

/// `Get-AuthServer`.
pub fn auth_server(a: &AuthServer) -> PsObject {
    let kind = match a.kind {
        AuthServerType::AzureAD => "AzureAD",
        AuthServerType::ADFS => "ADFS",
        AuthServerType::Facebook => "Facebook",
        AuthServerType::LiveId => "LiveIdRps",
        AuthServerType::MicrosoftACS => "MicrosoftACS",
    };
    let issuer = match a.kind {
        AuthServerType::AzureAD | AuthServerType::MicrosoftACS => {
            Value::from("00000001-0000-0000-c000-000000000000")
        }
        _ => Value::Null,
    };
    PsObject::new("Microsoft.Exchange.Data.Directory.SystemConfiguration.AuthServer")
        .with("Name", a.name.as_str())
        .with("IssuerIdentifier", issuer)
        .with("TokenIssuingEndpoint", Value::Null)
        .with("AuthorizationEndpoint", a.authorization_endpoint.as_str())
        .with("AuthMetadataUrl", a.auth_metadata_url.as_str())
        .with(
            "IsDefaultAuthorizationEndpoint",
            a.is_default_authorization_endpoint,
        )
        .with("Type", kind)
        .with("Realm", Value::from(a.realm.clone()))
        .with("Enabled", a.enabled)
        .with("Identity", a.name.as_str())
}

/// `Get-OrganizationConfig`.
pub fn org_config(o: &OrgSummary) -> PsObject {
    PsObject::new("Microsoft.Exchange.Data.Directory.Management.OrganizationConfig")
        .with("Name", o.name.as_str())
        .with("MapiHttpEnabled", o.config.mapi_http_enabled)
        .with(
            "OAuth2ClientProfileEnabled",
            o.config.oauth2_client_profile_enabled,
        )
        .with("Identity", o.name.as_str())
}

/// `Get-Mailbox`.
pub fn mailbox(m: &Mailbox) -> PsObject {
    let alias = m
        .primary_smtp_address
        .split('@')
        .next()
        .unwrap_or_default()
        .to_string();
    PsObject::new("Microsoft.Exchange.Data.Directory.Management.Mailbox")
        .with("Name", alias.as_str())
        .with("Alias", alias.as_str())
        .with("DisplayName", m.display_name.as_str())
        .with("PrimarySmtpAddress", m.primary_smtp_address.as_str())
        .with("ServerName", m.server.to_ascii_lowercase())
        .with("ExchangeGuid", m.guid.to_string())
        .with("ProhibitSendQuota", "Unlimited")
        .with("Identity", alias.as_str())
}

/// `Get-ExchangeServer`.
pub fn exchange_server(s: &Server, domain: &str) -> PsObject {
    let role = match s.version {
        ExchangeVersion::Ex2016 => "Mailbox",
        ExchangeVersion::Ex2013 | ExchangeVersion::Ex2010 => "Mailbox, ClientAccess",
    };
    PsObject::new("Microsoft.Exchange.Data.Directory.Management.ExchangeServer")
        .with("Name", s.name.as_str())
        .with("Fqdn", s.fqdn.as_str())
        .with("Edition", "Standard")
        .with("AdminDisplayVersion", s.admin_display_version())
        .with("ServerRole", role)
        .with(
            "Site",
            format!("{domain}/Configuration/Sites/Default-First-Site-Name"),
        )
        .with("Identity", s.name.as_str())
}

/// An Edge Transport server as `Get-ExchangeServer` lists it (known through its subscription).
pub fn edge_server(e: &EdgeServer, domain: &str) -> PsObject {
    let (a, b, c, d) = e.version.build();
    PsObject::new("Microsoft.Exchange.Data.Directory.Management.ExchangeServer")
        .with("Name", e.name.as_str())
        .with("Fqdn", e.fqdn.as_str())
        .with("Edition", "Standard")
        .with(
            "AdminDisplayVersion",
            format!("Version {a}.{b} (Build {c}.{d})"),
        )
        .with("ServerRole", "Edge")
        .with(
            "Site",
            format!("{domain}/Configuration/Sites/Default-First-Site-Name"),
        )
        .with("Identity", e.name.as_str())
}

/// `Get-EdgeSubscription`.
pub fn edge_subscription(e: &EdgeServer, domain: &str) -> PsObject {
    PsObject::new("Microsoft.Exchange.Management.SystemConfigurationTasks.EdgeSubscription")
        .with("Name", e.name.as_str())
        .with(
            "Site",
            format!("{domain}/Configuration/Sites/Default-First-Site-Name"),
        )
        .with("Domain", domain)
        .with("Identity", e.name.as_str())
}

/// `Get-MsolServicePrincipal`.
pub fn service_principal(sp: &ServicePrincipal) -> PsObject {
    PsObject::new("Microsoft.Online.Administration.ServicePrincipal")
        .with(
            "ExtensionData",
            "System.Runtime.Serialization.ExtensionDataObject",
        )
        .with("AccountEnabled", sp.account_enabled)
        .with("Addresses", Value::multi(Vec::<String>::new()))
        .with("AppPrincipalId", sp.app_principal_id.to_string())
        .with("DisplayName", sp.display_name.as_str())
        .with("ObjectId", sp.object_id.to_string())
        .with(
            "ServicePrincipalNames",
            Value::multi(sp.service_principal_names.iter().cloned()),
        )
        .with("TrustedForDelegation", false)
}

/// `New-Object -TypeName Microsoft.Online.Administration.StrongAuthenticationRequirement`.
pub fn strong_auth_requirement() -> PsObject {
    PsObject::new("Microsoft.Online.Administration.StrongAuthenticationRequirement")
        .with(
            "ExtensionData",
            "System.Runtime.Serialization.ExtensionDataObject",
        )
        .with("RelyingParty", Value::Null)
        .with("RememberDevicesNotIssuedBefore", Value::Null)
        .with("State", Value::Null)
}

/// The type name of `Get-LabSigningKey` objects.
pub const SIGNING_KEY: &str = "HmaLab.SigningKey";

/// `Get-LabSigningKey`: one of Azure AD's published token-signing keys. `Identity` is the kid,
/// so a key piped to `Remove-LabSigningKey` names itself.
pub fn signing_key(k: &super::backend::SigningKeyInfo) -> PsObject {
    let state = match k.state.as_str() {
        "active" => "Active",
        "published" => "Published",
        other => other,
    };
    PsObject::new(SIGNING_KEY)
        .with("Kid", k.kid.as_str())
        .with("State", state)
        .with("Identity", k.kid.as_str())
}

pub const AAD_FAULT: &str = "HmaLab.AadFault";

/// `Get-LabAadFault`: one of Azure AD's fault rules. `Identity` is its id, so a rule piped to
/// `Remove-LabAadFault` names itself; `Respond` sums up the answer (`status 503`, `AADSTS50126`,
/// `delay 1500 ms`) and `Remaining` is `Unlimited` for a rule that lasts until removed.
pub fn aad_fault(f: &super::backend::AadFaultInfo) -> PsObject {
    let r = &f.rule;
    let mut respond = Vec::new();
    if let Some(ms) = r.delay_ms {
        respond.push(format!("delay {ms} ms"));
    }
    if let Some(s) = r.status {
        respond.push(format!("status {s}"));
    }
    if let Some(c) = r.aadsts {
        respond.push(format!("AADSTS{c}"));
    }
    let count = |n: Option<u64>| match n {
        Some(n) => Value::Int(i64::try_from(n).unwrap_or(i64::MAX)),
        None => Value::Str("Unlimited".into()),
    };
    let int = |n: Option<i64>| n.map(Value::Int).unwrap_or(Value::Null);
    PsObject::new(AAD_FAULT)
        .with("Id", Value::Int(i64::try_from(f.id).unwrap_or(i64::MAX)))
        .with("Endpoint", r.endpoint.as_str())
        .with("User", r.user.clone())
        .with("ClientId", r.client_id.clone())
        .with("Resource", r.resource.clone())
        .with("Respond", respond.join(", "))
        .with("Status", int(r.status.map(i64::from)))
        .with("Aadsts", int(r.aadsts.map(i64::from)))
        .with(
            "DelayMs",
            int(r.delay_ms.and_then(|n| i64::try_from(n).ok())),
        )
        .with("Times", count(r.times))
        .with("Remaining", count(f.remaining))
        .with(
            "Hits",
            Value::Int(i64::try_from(f.hits).unwrap_or(i64::MAX)),
        )
        .with("Identity", f.id.to_string())
}

/// `Get-AdfsProperties`: the properties the lab's farm models, in the order of ADFS's
/// `ServiceProperties` (the real object has many more; the lab prints only what it has).
pub fn adfs_properties(a: &super::backend::AdfsProperties) -> PsObject {
    use super::backend::ExtendedProtection as Ep;
    let ep = match a.extended_protection_token_check {
        Ep::Require => "Require",
        Ep::Allow => "Allow",
        Ep::None => "None",
    };
    PsObject::new("Microsoft.IdentityServer.Management.Resources.ServiceProperties")
        .with("AutoCertificateRollover", true)
        .with("DisplayName", a.display_name.as_str())
        .with("ExtendedProtectionTokenCheck", ep)
        .with("FederationPassiveAddress", "/adfs/ls/")
        .with("HostName", a.host_name.as_str())
        .with("HttpPort", Value::Int(80))
        .with("HttpsPort", Value::Int(443))
        .with("Identifier", a.identifier.as_str())
        .with("SsoLifetime", Value::Int(480))
        .with(
            "WIASupportedUserAgents",
            Value::multi(a.wia_supported_user_agents.iter().cloned()),
        )
}

/// The serial number (hex, as .NET prints it) of a DER certificate.
fn serial_hex(der: &[u8]) -> Option<String> {
    // (tag, content, rest) of one DER element; short and long lengths.
    fn tlv(b: &[u8]) -> Option<(u8, &[u8], &[u8])> {
        let (&tag, b) = b.split_first()?;
        let (&first, mut b) = b.split_first()?;
        let len = if first < 0x80 {
            usize::from(first)
        } else {
            let n = usize::from(first & 0x7f);
            if n == 0 || n > 4 || b.len() < n {
                return None;
            }
            let len = b[..n]
                .iter()
                .fold(0usize, |a, x| (a << 8) | usize::from(*x));
            b = &b[n..];
            len
        };
        (b.len() >= len).then(|| (tag, &b[..len], &b[len..]))
    }
    let (_, cert, _) = tlv(der)?;
    let (_, tbs, _) = tlv(cert)?;
    let (tag, content, rest) = tlv(tbs)?;
    let serial = if tag == 0xa0 { tlv(rest)?.1 } else { content };
    Some(serial.iter().map(|b| format!("{b:02X}")).collect())
}

/// `Get-AdfsCertificate`: a `ServiceCertificate`. `Certificate` prints as .NET's verbose
/// `X509Certificate` text (subject, issuer — the same, it is self-signed — serial, validity,
/// thumbprint).
pub fn adfs_certificate(c: &super::backend::AdfsCertificate) -> PsObject {
    use base64::Engine;
    let date = |s: &str| {
        time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
            .map(super::value::format_datetime)
            .unwrap_or_else(|_| s.to_string())
    };
    let serial = base64::engine::general_purpose::STANDARD
        .decode(c.certificate.as_bytes())
        .ok()
        .and_then(|der| serial_hex(&der))
        .unwrap_or_default();
    let text = format!(
        "[Subject]\n  {s}\n\n[Issuer]\n  {s}\n\n[Serial Number]\n  {serial}\n\n[Not Before]\n  {nb}\n\n[Not After]\n  {na}\n\n[Thumbprint]\n  {t}",
        s = c.subject,
        nb = date(&c.not_before),
        na = date(&c.not_after),
        t = c.thumbprint,
    );
    PsObject::new("Microsoft.IdentityServer.Management.Resources.ServiceCertificate")
        .with("Certificate", text)
        .with("CertificateType", c.certificate_type.as_str())
        .with("IsPrimary", c.is_primary)
        .with("StoreLocation", c.store_location.as_str())
        .with("StoreName", c.store_name.as_str())
        .with("Thumbprint", c.thumbprint.as_str())
}
