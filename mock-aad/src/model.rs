//! The directory: tenants, domains, users, applications with their SPN registry, conditional
//! access rules and token lifetimes.
//!
//! This is plain data (serde, `deny_unknown_fields`), loaded from a lab file and changed at run time
//! through the admin API. Everything the token service decides is a function of this data plus the
//! grant store and the clock; nothing about a user or an application is hard-coded in handlers.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

/// The Exchange first-party application (Office 365 Exchange Online).
pub const EXCHANGE_APP_ID: Uuid = uuid::uuid!(lab_kit::wire::EXCHANGE_APP_ID);
/// The Microsoft Office public client (Outlook and the other Office desktop apps).
pub const OFFICE_APP_ID: Uuid = uuid::uuid!("d3590ed6-52b3-4102-aeff-aad2292ab01c");
/// Azure AD's own principal id, as it appears in `trusted_issuers` (`00000001-…@tid`).
pub const AAD_PRINCIPAL_ID: Uuid = uuid::uuid!("00000001-0000-0000-c000-000000000000");

fn yes() -> bool {
    true
}
fn one() -> u32 {
    1
}

/// A whole directory: what a mock-aad lab file holds.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Directory {
    /// Format version of the lab file; only `1` exists.
    #[serde(default = "one")]
    #[schemars(extend("const" = 1))]
    pub version: u32,
    /// Which era of Azure AD's error answers the whole directory speaks.
    #[serde(default, skip_serializing_if = "is_default")]
    pub era: Era,
    pub tenants: Vec<Tenant>,
}

/// The era of Azure AD's error answers, one per lab so a lab never mixes them.
///
/// The field guide's captures (2017) carry no `error_uri` in token and authorize errors; public
/// captures from 2019 on carry `https://login.microsoftonline.com/error?code=N`. The wording of
/// every text is the same in both eras (where a later capture has other wording, the lab keeps the
/// guide's; see the book's fidelity page).
#[derive(
    Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Era {
    /// The field guide's era: no `error_uri`. The default: the lab reproduces the guide.
    #[default]
    Guide,
    /// Today's endpoints: `error_uri` on every error that has an AADSTS code.
    Current,
}

/// One Azure AD tenant.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Tenant {
    pub tid: Uuid,
    pub display_name: String,
    /// The initial `*.onmicrosoft.com` domain plus custom domains.
    pub domains: Vec<Domain>,
    #[serde(default)]
    pub users: Vec<User>,
    /// Applications and their service principals (one object per appId in this tenant).
    #[serde(default)]
    pub applications: Vec<Application>,
    #[serde(default)]
    pub conditional_access: Vec<CaRule>,
    #[serde(default)]
    pub token_lifetimes: TokenLifetimes,
    /// Tenant-wide revocation: every refresh token issued before this instant is dead.
    #[serde(default, with = "time::serde::rfc3339::option")]
    #[schemars(schema_with = "lab_kit::schema::rfc3339_option")]
    pub tokens_valid_from: Option<OffsetDateTime>,
    /// How a refresh token killed by the tenant-wide revocation is answered.
    #[serde(default)]
    pub revocation_response: RevocationResponse,
    /// The pass-through authentication agent of the tenant's `pass_through` domains.
    #[serde(default, skip_serializing_if = "is_default")]
    pub pta_agent: AgentState,
}

fn is_default<T: Default + PartialEq>(v: &T) -> bool {
    *v == T::default()
}

/// How the token endpoint answers a refresh token that a tenant-wide revocation killed.
#[derive(
    Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum RevocationResponse {
    /// AADSTS50173 like a per-user revocation.
    #[default]
    Standard,
    /// The field guide's "Unicorn Rampage" capture: `400 Bad Unicorn`, `unicorn_rampage`.
    Unicorn,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Domain {
    pub name: String,
    #[serde(default)]
    pub kind: DomainKind,
    #[serde(default = "yes")]
    pub verified: bool,
    /// `true` for the `<name>.onmicrosoft.com` domain created with the tenant.
    #[serde(default)]
    pub initial: bool,
    /// A managed domain whose synced users' passwords are checked on-premises by the tenant's
    /// pass-through authentication agent ([`Tenant::pta_agent`]) instead of in the cloud.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub pass_through: bool,
    /// The on-premises STS (federated domains only): `Get-MsolDomainFederationSettings`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub federation: Option<Federation>,
}

#[derive(
    Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum DomainKind {
    #[default]
    Managed,
    Federated,
}

/// Which protocol Azure AD speaks to a federated domain's IdP.
#[derive(
    Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq, schemars::JsonSchema,
)]
pub enum AuthProtocol {
    #[default]
    WsFed,
    Samlp,
}

/// A federated domain's settings, field for field `Get-MsolDomainFederationSettings` (ADFS or
/// another STS). The old names (`passive_url`, `metadata_url`, `active_url`, `brand_name`) are
/// still read.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Federation {
    /// The IdP's issuer (`http://adfs.contoso.com/adfs/services/trust`): an assertion's issuer
    /// names the federation realm it is checked against (AADSTS50107 when none has it).
    #[serde(default)]
    pub issuer_uri: String,
    /// Passive sign-in URL, e.g. `https://adfs.contoso.com/adfs/ls/`.
    #[serde(alias = "passive_url")]
    pub passive_log_on_uri: String,
    /// WS-Trust active endpoint (`…/adfs/services/trust/2005/usernamemixed`).
    #[serde(default, alias = "active_url")]
    pub active_log_on_uri: String,
    /// WS-Trust MEX URL, e.g. `https://adfs.contoso.com/adfs/services/trust/mex`.
    #[serde(default, alias = "metadata_url")]
    pub metadata_exchange_uri: String,
    #[serde(default)]
    pub log_off_uri: String,
    /// The IdP's token-signing certificate, base64 DER as the cmdlet shows it.
    #[serde(default)]
    pub signing_certificate: String,
    /// The certificate the IdP will roll over to (also trusted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_signing_certificate: Option<String>,
    /// Whether a second factor the IdP reports (`multipleauthn`) counts as MFA here.
    #[serde(default)]
    pub supports_mfa: bool,
    #[serde(default)]
    pub preferred_authentication_protocol: AuthProtocol,
    /// The STS's brand name shown on the sign-in page.
    #[serde(default, alias = "brand_name")]
    pub federation_brand_name: String,
}

/// The pass-through authentication agent, as the lab plays it.
#[derive(
    Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum AgentState {
    /// Answers at once.
    #[default]
    Up,
    /// No agent answers (AADSTS80001).
    Down,
    /// The agent answers after Azure AD stopped waiting (AADSTS80002).
    Slow,
}

/// The on-premises account of a synced user as a pass-through agent sees it in Active
/// Directory (the lab keeps it with the user; real Azure AD never holds it).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OnPremises {
    pub password: String,
    #[serde(default = "yes")]
    pub enabled: bool,
}

#[derive(
    Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum MfaState {
    /// Single-factor sign-in is enough (unless a CA rule asks for MFA).
    #[default]
    None,
    /// Per-user MFA is enforced and the user has a method registered.
    Required,
    /// MFA is enforced but the user has not registered yet: sign-in must enroll first.
    Enroll,
}

/// A directory user (synced from on-premises when `onprem_sid` is set, cloud-only otherwise).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct User {
    pub upn: String,
    pub oid: Uuid,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub onprem_sid: Option<String>,
    /// 16 hex digits, e.g. `1003BFFD9ACA40EE`.
    pub puid: String,
    #[serde(default)]
    pub given_name: String,
    #[serde(default)]
    pub family_name: String,
    pub display_name: String,
    pub password: String,
    #[serde(default = "yes")]
    pub enabled: bool,
    #[serde(default)]
    pub locked: bool,
    #[serde(default)]
    pub mfa: MfaState,
    /// Refresh tokens issued before this instant are revoked (password change, revoke-all).
    #[serde(default, with = "time::serde::rfc3339::option")]
    #[schemars(schema_with = "lab_kit::schema::rfc3339_option")]
    pub tokens_valid_from: Option<OffsetDateTime>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub immutable_id: Option<String>,
    /// The on-premises account behind a synced user (pass-through authentication checks it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_premises: Option<OnPremises>,
    /// Client applications this user has consented to (apps without admin consent).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub consented_apps: Vec<Uuid>,
}

/// An application and its service principal in this tenant. Clients and resources are both
/// applications; a resource is found by appId, by an identifier in `service_principal_names`, or
/// (for `https://host/...` resources) by a matching `https://host/` SPN.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Application {
    pub app_id: Uuid,
    pub display_name: String,
    /// Public clients (desktop, mobile) cannot hold a secret.
    #[serde(default)]
    pub public_client: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub secrets: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub redirect_uris: Vec<String>,
    /// Delegated permissions this application exposes as a resource (`scp` values).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scopes: Vec<String>,
    /// Application permissions this application exposes (`roles` values of app tokens).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub app_roles: Vec<String>,
    /// `1` (default) or `2`: which access-token format this resource accepts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_token_accepted_version: Option<u8>,
    /// The SPN registry: identifiers this principal answers to as a resource.
    #[serde(default)]
    pub service_principal_names: Vec<String>,
    /// Whether an administrator consented for the whole tenant (first-party apps: yes).
    #[serde(default = "yes")]
    pub admin_consent: bool,
    /// Delegated permissions this application (as a client) was granted on other resources.
    /// A v1 request (`resource=`) gets `scp` = the scopes granted on that resource; when none are
    /// listed, every scope the resource exposes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub granted: Vec<Grant>,
}

/// Scopes a client application holds on one resource application.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Grant {
    pub resource: Uuid,
    pub scopes: Vec<String>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CaAction {
    /// AADSTS53003.
    Block,
    /// AADSTS50076 until MFA is done in the session.
    RequireMfa,
}

/// A conditional-access rule. `users` holds UPNs or `*`; `apps` holds client or resource appIds,
/// resource identifiers, or `*`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CaRule {
    pub name: String,
    #[serde(default = "yes")]
    pub enabled: bool,
    pub users: Vec<String>,
    pub apps: Vec<String>,
    pub action: CaAction,
}

/// Token lifetimes, in seconds.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenLifetimes {
    #[serde(default = "TokenLifetimes::default_access")]
    pub access_token: i64,
    /// A refresh token unused for longer than this fails with AADSTS700082 (default 90 days).
    #[serde(default = "TokenLifetimes::default_inactive")]
    pub refresh_token_max_inactive: i64,
    /// A refresh token older than this (from the original sign-in) fails with AADSTS700081.
    /// `None` = until revoked (Azure AD's default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token_max_age: Option<i64>,
    /// Authorization codes live this long (Azure AD: about 10 minutes).
    #[serde(default = "TokenLifetimes::default_code")]
    pub authorization_code: i64,
    /// Device codes live this long (900 s).
    #[serde(default = "TokenLifetimes::default_device")]
    pub device_code: i64,
}

impl TokenLifetimes {
    fn default_access() -> i64 {
        3599
    }
    fn default_inactive() -> i64 {
        90 * 86_400
    }
    fn default_code() -> i64 {
        600
    }
    fn default_device() -> i64 {
        900
    }
}

impl Default for TokenLifetimes {
    fn default() -> Self {
        TokenLifetimes {
            access_token: Self::default_access(),
            refresh_token_max_inactive: Self::default_inactive(),
            refresh_token_max_age: None,
            authorization_code: Self::default_code(),
            device_code: Self::default_device(),
        }
    }
}

impl Directory {
    /// The tenant named by a path segment: its tid, or any of its verified domains.
    /// (`common`/`organizations` are resolved by the caller from the user.)
    pub fn tenant(&self, id_or_domain: &str) -> Option<&Tenant> {
        self.tenants.iter().find(|t| t.matches(id_or_domain))
    }

    pub fn tenant_mut(&mut self, id_or_domain: &str) -> Option<&mut Tenant> {
        self.tenants.iter_mut().find(|t| t.matches(id_or_domain))
    }

    /// The tenant whose verified domains contain the UPN's domain suffix.
    pub fn tenant_of_upn(&self, upn: &str) -> Option<&Tenant> {
        let domain = upn.rsplit_once('@')?.1;
        self.tenants.iter().find(|t| t.domain(domain).is_some())
    }
}

impl Tenant {
    /// Whether `id_or_domain` is this tenant's tid or one of its verified domains.
    pub fn matches(&self, id_or_domain: &str) -> bool {
        if let Ok(id) = Uuid::parse_str(id_or_domain) {
            return id == self.tid;
        }
        self.domains
            .iter()
            .any(|d| d.verified && d.name.eq_ignore_ascii_case(id_or_domain))
    }

    pub fn domain(&self, name: &str) -> Option<&Domain> {
        self.domains
            .iter()
            .find(|d| d.verified && d.name.eq_ignore_ascii_case(name))
    }

    /// The default name shown in messages ("…in the tenant named contoso.com"): the first
    /// verified custom (non-`onmicrosoft.com`) domain, else the initial domain.
    pub fn primary_domain(&self) -> &str {
        self.domains
            .iter()
            .find(|d| {
                d.verified
                    && !d.initial
                    && !d.name.to_ascii_lowercase().ends_with(".onmicrosoft.com")
            })
            .or_else(|| self.domains.iter().find(|d| d.initial))
            .map(|d| d.name.as_str())
            .unwrap_or("")
    }

    pub fn user(&self, upn: &str) -> Option<&User> {
        self.users.iter().find(|u| u.upn.eq_ignore_ascii_case(upn))
    }

    pub fn user_mut(&mut self, upn: &str) -> Option<&mut User> {
        self.users
            .iter_mut()
            .find(|u| u.upn.eq_ignore_ascii_case(upn))
    }

    pub fn user_by_oid(&self, oid: Uuid) -> Option<&User> {
        self.users.iter().find(|u| u.oid == oid)
    }

    /// The synced user whose sourceAnchor is `immutable_id` (compared exactly, as base64 is).
    pub fn user_by_immutable_id(&self, immutable_id: &str) -> Option<&User> {
        self.users
            .iter()
            .find(|u| u.immutable_id.as_deref() == Some(immutable_id))
    }

    /// The domain a UPN is in (verified domains only).
    pub fn domain_of_upn(&self, upn: &str) -> Option<&Domain> {
        self.domain(upn.rsplit_once('@')?.1)
    }

    /// Who checks `user`'s password: the IdP of a federated domain, the pass-through agent for
    /// a synced user of a `pass_through` domain, else Azure AD itself (cloud-only users, and
    /// password hash sync).
    pub fn password_authority(&self, user: &User) -> PasswordAuthority {
        match self.domain_of_upn(&user.upn) {
            Some(d) if d.kind == DomainKind::Federated => PasswordAuthority::Federated,
            Some(d) if d.pass_through && user.on_premises.is_some() => {
                PasswordAuthority::PassThrough
            }
            _ => PasswordAuthority::Cloud,
        }
    }

    pub fn app(&self, app_id: Uuid) -> Option<&Application> {
        self.applications.iter().find(|a| a.app_id == app_id)
    }

    pub fn app_mut(&mut self, app_id: Uuid) -> Option<&mut Application> {
        self.applications.iter_mut().find(|a| a.app_id == app_id)
    }

    /// Finds the resource principal for a v1 `resource` value or a v2 scope's resource part.
    ///
    /// Matching follows Azure AD: an appId GUID matches that application; otherwise the value
    /// must equal one of the principal's SPNs, ignoring ASCII case and one trailing `/`
    /// (`https://mail.contoso.com` and `https://mail.contoso.com/` are the same SPN). A resource
    /// with a path (`https://mail.contoso.com/EWS`) matches the SPN of its scheme+host.
    pub fn resource(&self, resource: &str) -> Option<&Application> {
        if let Ok(id) = Uuid::parse_str(resource) {
            return self.app(id);
        }
        let want = normalize_spn(resource);
        let host_only = origin_of(resource).map(|o| normalize_spn(&o));
        self.applications.iter().find(|a| {
            a.service_principal_names.iter().any(|spn| {
                let have = normalize_spn(spn);
                have == want || host_only.as_deref() == Some(have.as_str())
            })
        })
    }
}

/// Who checks a user's password ([`Tenant::password_authority`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordAuthority {
    Cloud,
    PassThrough,
    Federated,
}

/// SPN comparison form: lowercase, without one trailing slash.
pub fn normalize_spn(s: &str) -> String {
    let s = s.trim();
    s.strip_suffix('/').unwrap_or(s).to_ascii_lowercase()
}

/// `scheme://host[:port]` of an absolute URL with a path, if it has one.
fn origin_of(s: &str) -> Option<String> {
    let (scheme, rest) = s.split_once("://")?;
    let host = rest.split('/').next()?;
    if host.is_empty() || rest.len() == host.len() {
        return None;
    }
    Some(format!("{scheme}://{host}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tenant() -> Tenant {
        Tenant {
            tid: uuid::uuid!("f31f3647-5d87-4b69-a0b6-73f62aeab14c"),
            display_name: "Contoso".into(),
            domains: vec![
                Domain {
                    name: "contoso.onmicrosoft.com".into(),
                    kind: DomainKind::Managed,
                    verified: true,
                    initial: true,
                    pass_through: false,
                    federation: None,
                },
                Domain {
                    name: "contoso.com".into(),
                    kind: DomainKind::Managed,
                    verified: true,
                    initial: false,
                    pass_through: false,
                    federation: None,
                },
            ],
            users: vec![],
            applications: vec![Application {
                app_id: EXCHANGE_APP_ID,
                display_name: "Office 365 Exchange Online".into(),
                public_client: false,
                secrets: vec![],
                redirect_uris: vec![],
                scopes: vec![],
                app_roles: vec![],
                access_token_accepted_version: None,
                service_principal_names: vec![
                    "https://mail.contoso.com/".into(),
                    "https://owa.contoso.com".into(),
                ],
                admin_consent: true,
                granted: vec![],
            }],
            conditional_access: vec![],
            token_lifetimes: TokenLifetimes::default(),
            tokens_valid_from: None,
            revocation_response: RevocationResponse::Standard,
            pta_agent: AgentState::Up,
        }
    }

    #[test]
    fn resource_matches_spn_with_or_without_trailing_slash() {
        let t = tenant();
        assert!(t.resource("https://mail.contoso.com/").is_some());
        assert!(t.resource("https://mail.contoso.com").is_some());
        assert!(t.resource("HTTPS://MAIL.contoso.com").is_some());
        assert!(t.resource("https://owa.contoso.com/").is_some());
        assert!(t
            .resource("https://mail.contoso.com/EWS/Exchange.asmx")
            .is_some());
        assert!(t.resource("https://mail.corp.contoso.com/").is_none());
        assert!(t.resource("http://mail.contoso.com/").is_none());
        assert!(t.resource("00000002-0000-0ff1-ce00-000000000000").is_some());
    }

    #[test]
    fn tenant_matches_tid_and_verified_domains() {
        let t = tenant();
        assert!(t.matches("f31f3647-5d87-4b69-a0b6-73f62aeab14c"));
        assert!(t.matches("CONTOSO.com"));
        assert!(t.matches("contoso.onmicrosoft.com"));
        assert!(!t.matches("fabrikam.com"));
        assert_eq!(t.primary_domain(), "contoso.com");
    }
}
