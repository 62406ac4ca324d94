//! The cmdlet table: every command the lab knows, with its real parameter schema, and the
//! parameter binder.
//!
//! Binding follows PowerShell's rules because the seed's errors come from them: a parameter name
//! may be any unique prefix of a name or alias (`-IsDefault`), an unknown one fails with
//! `A parameter cannot be found that matches parameter name 'X'.` (that is why
//! `Set-MapiVirtualDirectory -OAuthAuthentication $true` fails: the real cmdlet has no such
//! parameter), values are converted to the parameter's type with PowerShell's messages, then
//! positional arguments fill the positional parameters in order, pipeline input binds to the
//! parameter that accepts it, and missing mandatory parameters are reported. Parameters the real
//! cmdlet has but the lab does not model are listed too, so that using them gives an honest
//! "not modelled" error instead of a false "cannot be found".

use std::collections::BTreeMap;

use super::error::{nearest, ShellError};
use super::value::Value;

/// A parameter's type, as far as conversion is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ty {
    Str,
    Strings,
    Bool,
    Switch,
    Int,
    Guid,
    Uri,
    /// Exchange `MultiValuedProperty<AuthenticationMethod>`.
    AuthMethods,
    /// An enum: its .NET type name and its names.
    Enum(&'static str, &'static [&'static str]),
    Object,
    Objects,
    Script,
}

impl Ty {
    fn dotnet(self) -> &'static str {
        match self {
            Ty::Str => "System.String",
            Ty::Strings => "System.String[]",
            Ty::Bool => "System.Boolean",
            Ty::Switch => "System.Management.Automation.SwitchParameter",
            Ty::Int => "System.Int32",
            Ty::Guid => "System.Guid",
            Ty::Uri => "System.Uri",
            Ty::AuthMethods => "Microsoft.Exchange.Data.MultiValuedProperty",
            Ty::Enum(t, _) => t,
            Ty::Object => "System.Object",
            Ty::Objects => "System.Object[]",
            Ty::Script => "System.Management.Automation.ScriptBlock",
        }
    }
}

/// How a parameter takes pipeline input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pipe {
    No,
    /// The whole input object (`-Identity` of `Set-*`, `-InputObject`).
    ByValue,
}

#[derive(Debug, Clone, Copy)]
pub struct ParamSpec {
    pub name: &'static str,
    pub aliases: &'static [&'static str],
    pub ty: Ty,
    pub position: Option<u8>,
    pub mandatory: bool,
    pub pipe: Pipe,
    /// Whether the lab acts on it (`false`: real parameter, not modelled).
    pub modeled: bool,
}

const fn p(name: &'static str, ty: Ty) -> ParamSpec {
    ParamSpec {
        name,
        aliases: &[],
        ty,
        position: None,
        mandatory: false,
        pipe: Pipe::No,
        modeled: true,
    }
}
const fn pos(mut s: ParamSpec, i: u8) -> ParamSpec {
    s.position = Some(i);
    s
}
const fn req(mut s: ParamSpec) -> ParamSpec {
    s.mandatory = true;
    s
}
const fn piped(mut s: ParamSpec) -> ParamSpec {
    s.pipe = Pipe::ByValue;
    s
}
const fn unmodeled(mut s: ParamSpec) -> ParamSpec {
    s.modeled = false;
    s
}
const fn alias(mut s: ParamSpec, a: &'static [&'static str]) -> ParamSpec {
    s.aliases = a;
    s
}

/// What a command does (dispatched by the evaluator).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    GetVdir(VdirType),
    SetVdir(VdirType),
    GetAuthServer,
    SetAuthServer,
    NewAuthServer,
    GetOrgConfig,
    SetOrgConfig,
    GetMailbox,
    GetExchangeServer,
    GetMsolSp,
    SetMsolSp,
    SetMsolUserPassword,
    SetMsolUser,
    RevokeAzureAd,
    RevokeMg,
    SetLabUserMfa,
    NewLabCa,
    /// Azure AD's token-signing keys (lab cmdlets over mock-aad's `/_admin/keys`).
    GetLabSigningKey,
    InvokeLabSigningKeyRollover,
    AddLabSigningKey,
    RemoveLabSigningKey,
    /// Azure AD's fault rules (lab cmdlets over mock-aad's `/_admin/faults`).
    AddLabAadFault,
    GetLabAadFault,
    RemoveLabAadFault,
    SetAdfsProperties,
    NewObject,
    NewItemProperty,
    SetItemProperty,
    FormatList,
    FormatTable,
    SelectObject,
    WhereObject,
    ForEachObject,
    WriteOutput,
    /// `Connect-MsolService`, `Connect-AzureAD`, `Connect-MgGraph`: the lab session is always
    /// signed in as the tenant's administrator.
    Connect,
    ImportModule,
    /// Native programs get their raw arguments.
    IisReset,
    Reg,
    Defaults,
}

/// The six virtual directory cmdlet families.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VdirType {
    Mapi,
    WebServices,
    Oab,
    Autodiscover,
    ActiveSync,
    Owa,
}

impl VdirType {
    pub fn kind(self) -> mock_exchange::model::VdirKind {
        use mock_exchange::model::VdirKind as K;
        match self {
            VdirType::Mapi => K::Mapi,
            VdirType::WebServices => K::Ews,
            VdirType::Oab => K::Oab,
            VdirType::Autodiscover => K::Autodiscover,
            VdirType::ActiveSync => K::Eas,
            VdirType::Owa => K::Owa,
        }
    }
}

/// Which common parameters a command has besides PowerShell's `[<CommonParameters>]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Extra {
    None,
    /// `-Confirm` and `-WhatIf` (cmdlets that change things).
    ShouldProcess,
}

#[derive(Debug, Clone, Copy)]
pub struct CmdletSpec {
    pub name: &'static str,
    pub aliases: &'static [&'static str],
    pub op: Op,
    pub params: &'static [ParamSpec],
    pub extra: Extra,
}

const COMMON: &[ParamSpec] = &[
    alias(p("Verbose", Ty::Switch), &["vb"]),
    alias(p("Debug", Ty::Switch), &["db"]),
    alias(p("ErrorAction", Ty::Str), &["ea"]),
    alias(p("WarningAction", Ty::Str), &["wa"]),
    alias(p("InformationAction", Ty::Str), &["infa"]),
    alias(p("ErrorVariable", Ty::Str), &["ev"]),
    alias(p("WarningVariable", Ty::Str), &["wv"]),
    alias(p("InformationVariable", Ty::Str), &["iv"]),
    alias(p("OutVariable", Ty::Str), &["ov"]),
    alias(p("OutBuffer", Ty::Int), &["ob"]),
    alias(p("PipelineVariable", Ty::Str), &["pv"]),
];
const SHOULD_PROCESS: &[ParamSpec] = &[
    alias(p("WhatIf", Ty::Switch), &["wi"]),
    alias(p("Confirm", Ty::Switch), &["cf"]),
];

const AUTH_NAMES: &[&str] = &[
    "Basic",
    "Ntlm",
    "Negotiate",
    "WindowsIntegrated",
    "WSSecurity",
    "OAuth",
    "Digest",
    "Fba",
    "Adfs",
    "LiveIdBasic",
    "LiveIdNegotiate",
    "Certificate",
];
const EP_TOKEN: Ty = Ty::Enum(
    "Microsoft.Exchange.Data.Directory.SystemConfiguration.ExtendedProtectionTokenCheckingMode",
    &["None", "Allow", "Require"],
);

const GET_VDIR: &[ParamSpec] = &[
    pos(piped(p("Identity", Ty::Str)), 0),
    p("Server", Ty::Str),
    p("ADPropertiesOnly", Ty::Switch),
    p("DomainController", Ty::Str),
    unmodeled(p("ShowMailboxVirtualDirectories", Ty::Switch)),
];
const SET_MAPI: &[ParamSpec] = &[
    pos(req(piped(p("Identity", Ty::Str))), 0),
    unmodeled(p("ApplyDefaults", Ty::Bool)),
    p("DomainController", Ty::Str),
    unmodeled(p("ExtendedProtectionFlags", Ty::Strings)),
    unmodeled(p("ExtendedProtectionSPNList", Ty::Strings)),
    unmodeled(p("ExtendedProtectionTokenChecking", EP_TOKEN)),
    p("ExternalUrl", Ty::Uri),
    p("IISAuthenticationMethods", Ty::AuthMethods),
    p("InternalUrl", Ty::Uri),
];
const SET_EWS: &[ParamSpec] = &[
    pos(req(piped(p("Identity", Ty::Str))), 0),
    p("BasicAuthentication", Ty::Bool),
    unmodeled(p("CertificateAuthentication", Ty::Bool)),
    p("DigestAuthentication", Ty::Bool),
    p("DomainController", Ty::Str),
    unmodeled(p("ExtendedProtectionFlags", Ty::Strings)),
    unmodeled(p("ExtendedProtectionSPNList", Ty::Strings)),
    unmodeled(p("ExtendedProtectionTokenChecking", EP_TOKEN)),
    p("ExternalUrl", Ty::Uri),
    unmodeled(p("Force", Ty::Switch)),
    unmodeled(p("GzipLevel", Ty::Str)),
    unmodeled(p("InternalNLBBypassUrl", Ty::Uri)),
    p("InternalUrl", Ty::Uri),
    unmodeled(p("MRSProxyEnabled", Ty::Bool)),
    unmodeled(p("MRSProxyMaxConnections", Ty::Str)),
    p("OAuthAuthentication", Ty::Bool),
    p("WindowsAuthentication", Ty::Bool),
    p("WSSecurityAuthentication", Ty::Bool),
];
const SET_OAB: &[ParamSpec] = &[
    pos(req(piped(p("Identity", Ty::Str))), 0),
    p("BasicAuthentication", Ty::Bool),
    p("DomainController", Ty::Str),
    unmodeled(p("ExtendedProtectionFlags", Ty::Strings)),
    unmodeled(p("ExtendedProtectionSPNList", Ty::Strings)),
    unmodeled(p("ExtendedProtectionTokenChecking", EP_TOKEN)),
    p("ExternalUrl", Ty::Uri),
    p("InternalUrl", Ty::Uri),
    p("OAuthAuthentication", Ty::Bool),
    unmodeled(p("PollInterval", Ty::Int)),
    unmodeled(p("RequireSSL", Ty::Bool)),
    p("WindowsAuthentication", Ty::Bool),
];
const SET_AUTODISCOVER: &[ParamSpec] = &[
    pos(req(piped(p("Identity", Ty::Str))), 0),
    p("BasicAuthentication", Ty::Bool),
    p("DigestAuthentication", Ty::Bool),
    p("DomainController", Ty::Str),
    unmodeled(p("ExtendedProtectionFlags", Ty::Strings)),
    unmodeled(p("ExtendedProtectionSPNList", Ty::Strings)),
    unmodeled(p("ExtendedProtectionTokenChecking", EP_TOKEN)),
    p("ExternalUrl", Ty::Uri),
    p("InternalUrl", Ty::Uri),
    p("OAuthAuthentication", Ty::Bool),
    p("WindowsAuthentication", Ty::Bool),
    p("WSSecurityAuthentication", Ty::Bool),
];
const SET_EAS: &[ParamSpec] = &[
    pos(req(piped(p("Identity", Ty::Str))), 0),
    unmodeled(p("ActiveSyncServer", Ty::Str)),
    p("BasicAuthEnabled", Ty::Bool),
    unmodeled(p("ClientCertAuth", Ty::Str)),
    unmodeled(p("CompressionEnabled", Ty::Bool)),
    p("DomainController", Ty::Str),
    unmodeled(p("ExtendedProtectionFlags", Ty::Strings)),
    unmodeled(p("ExtendedProtectionSPNList", Ty::Strings)),
    unmodeled(p("ExtendedProtectionTokenChecking", EP_TOKEN)),
    p("ExternalAuthenticationMethods", Ty::AuthMethods),
    p("ExternalUrl", Ty::Uri),
    p("InternalAuthenticationMethods", Ty::AuthMethods),
    p("InternalUrl", Ty::Uri),
    unmodeled(p("Name", Ty::Str)),
    p("WindowsAuthEnabled", Ty::Bool),
];
const SET_OWA: &[ParamSpec] = &[
    pos(req(piped(p("Identity", Ty::Str))), 0),
    p("AdfsAuthentication", Ty::Bool),
    p("BasicAuthentication", Ty::Bool),
    p("DigestAuthentication", Ty::Bool),
    p("DomainController", Ty::Str),
    unmodeled(p("ExtendedProtectionFlags", Ty::Strings)),
    unmodeled(p("ExtendedProtectionSPNList", Ty::Strings)),
    unmodeled(p("ExtendedProtectionTokenChecking", EP_TOKEN)),
    p("ExternalUrl", Ty::Uri),
    p("FormsAuthentication", Ty::Bool),
    p("InternalUrl", Ty::Uri),
    unmodeled(p("LogonFormat", Ty::Str)),
    p("OAuthAuthentication", Ty::Bool),
    p("WindowsAuthentication", Ty::Bool),
];

const AUTH_SERVER_TYPE: Ty = Ty::Enum(
    "Microsoft.Exchange.Data.Directory.SystemConfiguration.AuthServerType",
    &["MicrosoftACS", "Facebook", "LiveIdRps", "ADFS", "AzureAD"],
);

const GET_AUTH_SERVER: &[ParamSpec] = &[
    pos(piped(p("Identity", Ty::Str)), 0),
    p("DomainController", Ty::Str),
];
const SET_AUTH_SERVER: &[ParamSpec] = &[
    pos(req(piped(p("Identity", Ty::Str))), 0),
    p("AuthMetadataUrl", Ty::Str),
    p("DomainController", Ty::Str),
    p("Enabled", Ty::Bool),
    p("IsDefaultAuthorizationEndpoint", Ty::Bool),
    unmodeled(p("Name", Ty::Str)),
    p("RefreshAuthMetadata", Ty::Switch),
    unmodeled(p("TrustAnySSLCertificate", Ty::Switch)),
];
const NEW_AUTH_SERVER: &[ParamSpec] = &[
    pos(req(p("Name", Ty::Str)), 0),
    req(p("AuthMetadataUrl", Ty::Str)),
    p("DomainController", Ty::Str),
    p("Enabled", Ty::Bool),
    p("IsDefaultAuthorizationEndpoint", Ty::Bool),
    unmodeled(p("TrustAnySSLCertificate", Ty::Switch)),
    p("Type", AUTH_SERVER_TYPE),
];
const GET_ORG: &[ParamSpec] = &[
    pos(p("Identity", Ty::Str), 0),
    p("DomainController", Ty::Str),
];
const SET_ORG: &[ParamSpec] = &[
    unmodeled(p("ActivityBasedAuthenticationTimeoutEnabled", Ty::Bool)),
    unmodeled(p("ActivityBasedAuthenticationTimeoutInterval", Ty::Str)),
    p("DomainController", Ty::Str),
    unmodeled(p("EwsEnabled", Ty::Bool)),
    p("MapiHttpEnabled", Ty::Bool),
    p("OAuth2ClientProfileEnabled", Ty::Bool),
    unmodeled(p("RefreshSessionEnabled", Ty::Bool)),
];
const GET_MAILBOX: &[ParamSpec] = &[
    pos(piped(p("Identity", Ty::Str)), 0),
    unmodeled(p("Database", Ty::Str)),
    p("DomainController", Ty::Str),
    p("ResultSize", Ty::Str),
    p("Server", Ty::Str),
];
const GET_EXCHANGE_SERVER: &[ParamSpec] = &[
    pos(piped(p("Identity", Ty::Str)), 0),
    unmodeled(p("Domain", Ty::Str)),
    p("DomainController", Ty::Str),
    unmodeled(p("Status", Ty::Switch)),
];

const GET_MSOL_SP: &[ParamSpec] = &[
    p("AppPrincipalId", Ty::Guid),
    p("ServicePrincipalName", Ty::Str),
    p("ObjectId", Ty::Guid),
    p("All", Ty::Switch),
    unmodeled(p("MaxResults", Ty::Int)),
    unmodeled(p("SearchString", Ty::Str)),
    unmodeled(p("TenantId", Ty::Guid)),
];
const SET_MSOL_SP: &[ParamSpec] = &[
    unmodeled(p("AccountEnabled", Ty::Bool)),
    unmodeled(p("Addresses", Ty::Objects)),
    p("AppPrincipalId", Ty::Guid),
    p("DisplayName", Ty::Str),
    p("ObjectId", Ty::Guid),
    p("ServicePrincipalNames", Ty::Strings),
    unmodeled(p("TenantId", Ty::Guid)),
];
const SET_MSOL_PASSWORD: &[ParamSpec] = &[
    p("UserPrincipalName", Ty::Str),
    unmodeled(p("ObjectId", Ty::Guid)),
    p("NewPassword", Ty::Str),
    p("ForceChangePassword", Ty::Bool),
    unmodeled(p("ForceChangePasswordOnly", Ty::Bool)),
    unmodeled(p("TenantId", Ty::Guid)),
];
const SET_MSOL_USER: &[ParamSpec] = &[
    p("UserPrincipalName", Ty::Str),
    unmodeled(p("ObjectId", Ty::Guid)),
    p("BlockCredential", Ty::Bool),
    p("StrongAuthenticationRequirements", Ty::Objects),
    unmodeled(p("City", Ty::Str)),
    unmodeled(p("Department", Ty::Str)),
    unmodeled(p("DisplayName", Ty::Str)),
    unmodeled(p("FirstName", Ty::Str)),
    unmodeled(p("LastName", Ty::Str)),
    unmodeled(p("PasswordNeverExpires", Ty::Bool)),
    unmodeled(p("StrongAuthenticationMethods", Ty::Objects)),
    unmodeled(p("TenantId", Ty::Guid)),
    unmodeled(p("Title", Ty::Str)),
    unmodeled(p("UsageLocation", Ty::Str)),
];
const REVOKE_AZUREAD: &[ParamSpec] = &[req(piped(p("ObjectId", Ty::Str)))];
const REVOKE_MG: &[ParamSpec] = &[
    req(piped(p("UserId", Ty::Str))),
    unmodeled(p("Headers", Ty::Object)),
    p("PassThru", Ty::Switch),
];
const MFA_STATE: Ty = Ty::Enum("HmaLab.MfaState", &["None", "Enroll", "Required"]);
const SET_LAB_MFA: &[ParamSpec] = &[
    pos(req(p("UserPrincipalName", Ty::Str)), 0),
    req(p("State", MFA_STATE)),
];
const CA_ACTION: Ty = Ty::Enum("HmaLab.ConditionalAccessAction", &["Block", "RequireMfa"]);
const NEW_LAB_CA: &[ParamSpec] = &[
    pos(req(p("Name", Ty::Str)), 0),
    req(p("Users", Ty::Strings)),
    req(p("Applications", Ty::Strings)),
    req(p("Action", CA_ACTION)),
    p("Disabled", Ty::Switch),
];
const GET_LAB_KEY: &[ParamSpec] = &[pos(p("Kid", Ty::Str), 0)];
const INVOKE_LAB_ROLL: &[ParamSpec] = &[p("RetireOld", Ty::Switch)];
const ADD_LAB_KEY: &[ParamSpec] = &[];
const REMOVE_LAB_KEY: &[ParamSpec] = &[pos(req(piped(p("Kid", Ty::Str))), 0)];
const AAD_ENDPOINT: Ty = Ty::Enum(
    "HmaLab.AadEndpoint",
    &[
        "token",
        "authorize",
        "devicecode",
        "discovery",
        "keys",
        "federation_metadata",
        "userrealm",
        "instance",
        "any",
    ],
);
const ADD_LAB_FAULT: &[ParamSpec] = &[
    pos(req(p("Endpoint", AAD_ENDPOINT)), 0),
    p("User", Ty::Str),
    p("ClientId", Ty::Str),
    p("Resource", Ty::Str),
    p("Times", Ty::Int),
    p("Status", Ty::Int),
    p("Aadsts", Ty::Int),
    p("DelayMs", Ty::Int),
];
const GET_LAB_FAULT: &[ParamSpec] = &[pos(p("Id", Ty::Int), 0)];
const REMOVE_LAB_FAULT: &[ParamSpec] = &[pos(piped(p("Id", Ty::Str)), 0)];
const SET_ADFS: &[ParamSpec] = &[
    p(
        "ExtendedProtectionTokenCheck",
        Ty::Enum(
            "Microsoft.IdentityServer.Management.Resources.ExtendedProtectionTokenCheck",
            &["Require", "Allow", "None"],
        ),
    ),
    unmodeled(p("AuthenticationContextOrder", Ty::Strings)),
    unmodeled(p("HostName", Ty::Str)),
    unmodeled(p("EnableExtranetLockout", Ty::Bool)),
    unmodeled(p("ExtranetLockoutThreshold", Ty::Int)),
];
const NEW_OBJECT: &[ParamSpec] = &[
    pos(req(p("TypeName", Ty::Str)), 0),
    pos(unmodeled(p("ArgumentList", Ty::Objects)), 1),
    unmodeled(p("Property", Ty::Object)),
];
const ITEM_PROPERTY: &[ParamSpec] = &[
    pos(req(alias(p("Path", Ty::Strings), &["PSPath"])), 0),
    pos(req(p("Name", Ty::Str)), 1),
    pos(p("Value", Ty::Object), 2),
    alias(p("PropertyType", Ty::Str), &["Type"]),
    p("Force", Ty::Switch),
    p("PassThru", Ty::Switch),
];
const FORMAT_LIST: &[ParamSpec] = &[
    pos(p("Property", Ty::Strings), 0),
    piped(p("InputObject", Ty::Object)),
    unmodeled(p("GroupBy", Ty::Object)),
    unmodeled(p("View", Ty::Str)),
    unmodeled(p("Expand", Ty::Str)),
    unmodeled(p("Force", Ty::Switch)),
];
const FORMAT_TABLE: &[ParamSpec] = &[
    pos(p("Property", Ty::Strings), 0),
    piped(p("InputObject", Ty::Object)),
    p("AutoSize", Ty::Switch),
    p("Wrap", Ty::Switch),
    p("HideTableHeaders", Ty::Switch),
    unmodeled(p("GroupBy", Ty::Object)),
    unmodeled(p("View", Ty::Str)),
];
const SELECT_OBJECT: &[ParamSpec] = &[
    pos(p("Property", Ty::Strings), 0),
    piped(p("InputObject", Ty::Object)),
    p("ExpandProperty", Ty::Str),
    p("First", Ty::Int),
    p("Last", Ty::Int),
    p("Skip", Ty::Int),
    p("Unique", Ty::Switch),
    unmodeled(p("ExcludeProperty", Ty::Strings)),
];
const WHERE_OBJECT: &[ParamSpec] = &[
    pos(req(p("FilterScript", Ty::Script)), 0),
    piped(p("InputObject", Ty::Object)),
];
const FOREACH_OBJECT: &[ParamSpec] = &[
    pos(req(p("Process", Ty::Script)), 0),
    piped(p("InputObject", Ty::Object)),
];
const WRITE_OUTPUT: &[ParamSpec] = &[pos(piped(p("InputObject", Ty::Objects)), 0)];
const CONNECT_MSOL: &[ParamSpec] = &[
    p("Credential", Ty::Object),
    p("AdGraphAccessToken", Ty::Str),
    p("MsGraphAccessToken", Ty::Str),
    p("AzureEnvironment", Ty::Str),
];
const CONNECT_AZUREAD: &[ParamSpec] = &[
    p("Credential", Ty::Object),
    p("TenantId", Ty::Str),
    p("AccountId", Ty::Str),
    p("AzureEnvironmentName", Ty::Str),
];
const CONNECT_MG: &[ParamSpec] = &[
    pos(p("Scopes", Ty::Strings), 0),
    p("TenantId", Ty::Str),
    p("ClientId", Ty::Str),
    p("CertificateThumbprint", Ty::Str),
    p("NoWelcome", Ty::Switch),
];
const IMPORT_MODULE: &[ParamSpec] = &[
    pos(req(p("Name", Ty::Strings)), 0),
    p("Force", Ty::Switch),
    unmodeled(p("RequiredVersion", Ty::Str)),
];

macro_rules! vdir {
    ($get:literal, $set:literal, $t:expr, $sp:expr) => {
        [
            CmdletSpec {
                name: $get,
                aliases: &[],
                op: Op::GetVdir($t),
                params: GET_VDIR,
                extra: Extra::None,
            },
            CmdletSpec {
                name: $set,
                aliases: &[],
                op: Op::SetVdir($t),
                params: $sp,
                extra: Extra::ShouldProcess,
            },
        ]
    };
}

const fn c(name: &'static str, op: Op, params: &'static [ParamSpec], extra: Extra) -> CmdletSpec {
    CmdletSpec {
        name,
        aliases: &[],
        op,
        params,
        extra,
    }
}
const fn ca(
    name: &'static str,
    aliases: &'static [&'static str],
    op: Op,
    params: &'static [ParamSpec],
) -> CmdletSpec {
    CmdletSpec {
        name,
        aliases,
        op,
        params,
        extra: Extra::None,
    }
}

const VDIRS: [[CmdletSpec; 2]; 6] = [
    vdir!(
        "Get-MapiVirtualDirectory",
        "Set-MapiVirtualDirectory",
        VdirType::Mapi,
        SET_MAPI
    ),
    vdir!(
        "Get-WebServicesVirtualDirectory",
        "Set-WebServicesVirtualDirectory",
        VdirType::WebServices,
        SET_EWS
    ),
    vdir!(
        "Get-OabVirtualDirectory",
        "Set-OabVirtualDirectory",
        VdirType::Oab,
        SET_OAB
    ),
    vdir!(
        "Get-AutodiscoverVirtualDirectory",
        "Set-AutodiscoverVirtualDirectory",
        VdirType::Autodiscover,
        SET_AUTODISCOVER
    ),
    vdir!(
        "Get-ActiveSyncVirtualDirectory",
        "Set-ActiveSyncVirtualDirectory",
        VdirType::ActiveSync,
        SET_EAS
    ),
    vdir!(
        "Get-OwaVirtualDirectory",
        "Set-OwaVirtualDirectory",
        VdirType::Owa,
        SET_OWA
    ),
];

const OTHERS: &[CmdletSpec] = &[
    c(
        "Get-AuthServer",
        Op::GetAuthServer,
        GET_AUTH_SERVER,
        Extra::None,
    ),
    c(
        "Set-AuthServer",
        Op::SetAuthServer,
        SET_AUTH_SERVER,
        Extra::ShouldProcess,
    ),
    c(
        "New-AuthServer",
        Op::NewAuthServer,
        NEW_AUTH_SERVER,
        Extra::ShouldProcess,
    ),
    c(
        "Get-OrganizationConfig",
        Op::GetOrgConfig,
        GET_ORG,
        Extra::None,
    ),
    c(
        "Set-OrganizationConfig",
        Op::SetOrgConfig,
        SET_ORG,
        Extra::ShouldProcess,
    ),
    c("Get-Mailbox", Op::GetMailbox, GET_MAILBOX, Extra::None),
    c(
        "Get-ExchangeServer",
        Op::GetExchangeServer,
        GET_EXCHANGE_SERVER,
        Extra::None,
    ),
    c(
        "Get-MsolServicePrincipal",
        Op::GetMsolSp,
        GET_MSOL_SP,
        Extra::None,
    ),
    c(
        "Set-MsolServicePrincipal",
        Op::SetMsolSp,
        SET_MSOL_SP,
        Extra::None,
    ),
    c(
        "Set-MsolUserPassword",
        Op::SetMsolUserPassword,
        SET_MSOL_PASSWORD,
        Extra::None,
    ),
    c("Set-MsolUser", Op::SetMsolUser, SET_MSOL_USER, Extra::None),
    c(
        "Revoke-AzureADUserAllRefreshToken",
        Op::RevokeAzureAd,
        REVOKE_AZUREAD,
        Extra::None,
    ),
    c(
        "Revoke-MgUserSignInSession",
        Op::RevokeMg,
        REVOKE_MG,
        Extra::ShouldProcess,
    ),
    c(
        "Set-LabUserMfa",
        Op::SetLabUserMfa,
        SET_LAB_MFA,
        Extra::None,
    ),
    c(
        "New-LabConditionalAccessPolicy",
        Op::NewLabCa,
        NEW_LAB_CA,
        Extra::None,
    ),
    c(
        "Get-LabSigningKey",
        Op::GetLabSigningKey,
        GET_LAB_KEY,
        Extra::None,
    ),
    c(
        "Invoke-LabSigningKeyRollover",
        Op::InvokeLabSigningKeyRollover,
        INVOKE_LAB_ROLL,
        Extra::ShouldProcess,
    ),
    c(
        "Add-LabSigningKey",
        Op::AddLabSigningKey,
        ADD_LAB_KEY,
        Extra::ShouldProcess,
    ),
    c(
        "Remove-LabSigningKey",
        Op::RemoveLabSigningKey,
        REMOVE_LAB_KEY,
        Extra::ShouldProcess,
    ),
    c(
        "Add-LabAadFault",
        Op::AddLabAadFault,
        ADD_LAB_FAULT,
        Extra::ShouldProcess,
    ),
    c(
        "Get-LabAadFault",
        Op::GetLabAadFault,
        GET_LAB_FAULT,
        Extra::None,
    ),
    c(
        "Remove-LabAadFault",
        Op::RemoveLabAadFault,
        REMOVE_LAB_FAULT,
        Extra::ShouldProcess,
    ),
    c(
        "Set-AdfsProperties",
        Op::SetAdfsProperties,
        SET_ADFS,
        Extra::ShouldProcess,
    ),
    c("New-Object", Op::NewObject, NEW_OBJECT, Extra::None),
    c(
        "New-ItemProperty",
        Op::NewItemProperty,
        ITEM_PROPERTY,
        Extra::ShouldProcess,
    ),
    c(
        "Set-ItemProperty",
        Op::SetItemProperty,
        ITEM_PROPERTY,
        Extra::ShouldProcess,
    ),
    ca("Format-List", &["fl"], Op::FormatList, FORMAT_LIST),
    ca("Format-Table", &["ft"], Op::FormatTable, FORMAT_TABLE),
    ca(
        "Select-Object",
        &["select"],
        Op::SelectObject,
        SELECT_OBJECT,
    ),
    ca(
        "Where-Object",
        &["where", "?"],
        Op::WhereObject,
        WHERE_OBJECT,
    ),
    ca(
        "ForEach-Object",
        &["foreach", "%"],
        Op::ForEachObject,
        FOREACH_OBJECT,
    ),
    ca(
        "Write-Output",
        &["echo", "write"],
        Op::WriteOutput,
        WRITE_OUTPUT,
    ),
    c(
        "Connect-MsolService",
        Op::Connect,
        CONNECT_MSOL,
        Extra::None,
    ),
    c("Connect-AzureAD", Op::Connect, CONNECT_AZUREAD, Extra::None),
    c("Connect-MgGraph", Op::Connect, CONNECT_MG, Extra::None),
    ca("Import-Module", &["ipmo"], Op::ImportModule, IMPORT_MODULE),
];

/// Native programs (raw arguments, no binding).
const NATIVES: &[(&str, Op)] = &[
    ("iisreset", Op::IisReset),
    ("iisreset.exe", Op::IisReset),
    ("reg", Op::Reg),
    ("reg.exe", Op::Reg),
    ("defaults", Op::Defaults),
];

/// Every cmdlet spec.
pub fn all() -> impl Iterator<Item = &'static CmdletSpec> {
    VDIRS
        .iter()
        .flat_map(|pair| pair.iter())
        .chain(OTHERS.iter())
}

/// What a command name resolves to.
pub enum Resolved {
    Cmdlet(&'static CmdletSpec),
    Native(Op),
}

/// Resolves a command name (case-insensitive; aliases included).
pub fn resolve(name: &str) -> Option<Resolved> {
    if let Some((_, op)) = NATIVES.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)) {
        return Some(Resolved::Native(*op));
    }
    all()
        .find(|c| {
            c.name.eq_ignore_ascii_case(name)
                || c.aliases.iter().any(|a| a.eq_ignore_ascii_case(name))
        })
        .map(Resolved::Cmdlet)
}

/// Every command name the shell accepts (for completion and hints).
pub fn command_names() -> Vec<&'static str> {
    let mut v: Vec<&'static str> = all().map(|c| c.name).collect();
    v.extend(NATIVES.iter().map(|(n, _)| *n));
    v
}

impl CmdletSpec {
    /// The cmdlet's own parameters followed by the common ones.
    pub fn all_params(&self) -> Vec<&'static ParamSpec> {
        let mut v: Vec<&'static ParamSpec> = self.params.iter().collect();
        if self.extra == Extra::ShouldProcess {
            v.extend(SHOULD_PROCESS.iter());
        }
        v.extend(COMMON.iter());
        v
    }

    pub fn accepts_pipeline(&self) -> bool {
        self.params.iter().any(|p| p.pipe == Pipe::ByValue)
    }
}

/// Arguments bound to parameters, by canonical name.
#[derive(Debug, Default, Clone)]
pub struct Bound {
    pub values: BTreeMap<&'static str, Value>,
}

impl Bound {
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.values.get(name)
    }
    pub fn has(&self, name: &str) -> bool {
        self.values.contains_key(name)
    }
    pub fn str(&self, name: &str) -> Option<String> {
        self.values.get(name).map(Value::to_plain_string)
    }
    pub fn bool(&self, name: &str) -> Option<bool> {
        self.values.get(name).map(Value::truthy)
    }
    pub fn switch(&self, name: &str) -> bool {
        self.bool(name).unwrap_or(false)
    }
    pub fn strings(&self, name: &str) -> Option<Vec<String>> {
        self.values
            .get(name)
            .map(|v| v.enumerate().iter().map(Value::to_plain_string).collect())
    }
}

/// An argument after evaluation: a named parameter (with its value if given with `:`), or a
/// value; `pos`/`width` locate it for errors.
pub enum EvArg {
    Param {
        name: String,
        value: Option<Value>,
        pos: usize,
        width: usize,
    },
    Value {
        value: Value,
        text: String,
        pos: usize,
    },
}

fn binding_error(
    cmd: &str,
    category: &str,
    exc: &str,
    id: &str,
    msg: impl Into<String>,
) -> ShellError {
    ShellError::runtime(
        Some(cmd),
        format!("{category}: (:) [{cmd}], {exc}"),
        &format!("{id},{cmd}"),
        msg,
    )
}

/// Finds a parameter by exact name/alias, else by unique prefix.
pub fn find_param(spec: &CmdletSpec, typed: &str) -> Result<&'static ParamSpec, ShellError> {
    let params = spec.all_params();
    if let Some(p) = params.iter().find(|p| {
        p.name.eq_ignore_ascii_case(typed)
            || p.aliases.iter().any(|a| a.eq_ignore_ascii_case(typed))
    }) {
        return Ok(p);
    }
    let lower = typed.to_ascii_lowercase();
    let matches: Vec<&&'static ParamSpec> = params
        .iter()
        .filter(|p| {
            p.name.to_ascii_lowercase().starts_with(&lower)
                || p.aliases
                    .iter()
                    .any(|a| a.to_ascii_lowercase().starts_with(&lower))
        })
        .collect();
    match matches.len() {
        1 => Ok(matches[0]),
        0 => {
            let mapi_oauth = spec.op == Op::SetVdir(VdirType::Mapi)
                && typed.eq_ignore_ascii_case("OAuthAuthentication");
            let hint = if mapi_oauth {
                Some("/mapi has no OAuth switch; list the methods explicitly: -IISAuthenticationMethods Ntlm, OAuth, Negotiate".to_string())
            } else {
                None
            };
            let hint = hint
                .or_else(|| {
                    nearest(typed, params.iter().map(|p| p.name)).map(|n| {
                        format!(
                            "did you mean -{n}? {} takes: {}",
                            spec.name,
                            own_names(spec)
                        )
                    })
                })
                .or_else(|| Some(format!("{} takes: {}", spec.name, own_names(spec))));
            Err(binding_error(
                spec.name,
                "InvalidArgument",
                "ParameterBindingException",
                "NamedParameterNotFound",
                format!("A parameter cannot be found that matches parameter name '{typed}'."),
            )
            .with_hint(hint))
        }
        _ => {
            let list: Vec<String> = matches.iter().map(|p| format!("-{}", p.name)).collect();
            Err(binding_error(
                spec.name,
                "InvalidArgument",
                "ParameterBindingException",
                "AmbiguousParameter",
                format!(
                    "Parameter cannot be processed because the parameter name '{typed}' is ambiguous. Possible matches include: {}.",
                    list.join(" ")
                ),
            ))
        }
    }
}

fn own_names(spec: &CmdletSpec) -> String {
    spec.params
        .iter()
        .map(|p| format!("-{}", p.name))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Converts `v` to the parameter's type with PowerShell's messages.
pub fn convert(spec: &CmdletSpec, p: &ParamSpec, v: Value) -> Result<Value, ShellError> {
    let cmd = spec.name;
    let cannot = |shown: &str, extra: &str| {
        binding_error(
            cmd,
            "InvalidArgument",
            "ParameterBindingException",
            "CannotConvertArgumentNoMessage",
            format!(
                "Cannot bind parameter '{}'. Cannot convert value \"{shown}\" to type \"{}\".{extra}",
                p.name,
                p.ty.dotnet()
            ),
        )
    };
    match p.ty {
        Ty::Bool | Ty::Switch => match &v {
            Value::Bool(_) => Ok(v),
            Value::Int(i) => Ok(Value::Bool(*i != 0)),
            Value::Null if p.ty == Ty::Switch => Ok(Value::Bool(false)),
            other => Err(binding_error(
                cmd,
                "InvalidData",
                "ParameterBindingArgumentTransformationException",
                "ParameterArgumentTransformationError",
                format!(
                    "Cannot process argument transformation on parameter '{}'. Cannot convert value \"{}\" to type \"System.Boolean\". Boolean parameters accept only Boolean values and numbers, such as $True, $False, 1 or 0.",
                    p.name,
                    other.type_name()
                ),
            )),
        },
        Ty::Int => match &v {
            Value::Int(_) => Ok(v),
            other => {
                let s = other.to_plain_string();
                s.trim().parse::<i64>().map(Value::Int).map_err(|_| {
                    cannot(&s, " Error: \"Input string was not in a correct format.\"")
                })
            }
        },
        Ty::Guid => {
            let s = v.to_plain_string();
            let s = s.trim().trim_start_matches('{').trim_end_matches('}');
            uuid::Uuid::parse_str(s)
                .map(|u| Value::Str(u.to_string()))
                .map_err(|_| {
                    cannot(
                        &v.to_plain_string(),
                        " Error: \"Guid should contain 32 digits with 4 dashes (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx).\"",
                    )
                })
        }
        Ty::Uri => match &v {
            Value::Null => Ok(Value::Null),
            other => {
                let s = other.to_plain_string();
                if s.is_empty() {
                    return Ok(Value::Null);
                }
                match url::Url::parse(&s) {
                    Ok(_) => Ok(Value::Str(s)),
                    Err(_) => Err(cannot(
                        &s,
                        " Error: \"Invalid URI: The format of the URI could not be determined.\"",
                    )),
                }
            }
        },
        Ty::AuthMethods => {
            // `@{Add=…; Remove=…}` edits the current list; check its keys and values here
            let (items, edit) = match &v {
                Value::Object(o) if o.type_name == super::eval::HASHTABLE => {
                    if let Some((k, _)) = o
                        .props
                        .iter()
                        .find(|(k, _)| !k.eq_ignore_ascii_case("Add") && !k.eq_ignore_ascii_case("Remove"))
                    {
                        return Err(binding_error(
                            cmd,
                            "InvalidArgument",
                            "ParameterBindingException",
                            "CannotConvertArgumentNoMessage",
                            format!("Cannot bind parameter '{}'. Cannot convert the \"System.Collections.Hashtable\" value of type \"System.Collections.Hashtable\" to type \"Microsoft.Exchange.Data.MultiValuedProperty\". The key '{k}' is not Add or Remove.", p.name),
                        ));
                    }
                    (o.props.iter().flat_map(|(_, x)| x.enumerate()).collect::<Vec<_>>(), true)
                }
                _ => (v.enumerate(), false),
            };
            let mut out = Vec::new();
            for item in items {
                let s = item.to_plain_string();
                for part in s.split(',').map(str::trim).filter(|x| !x.is_empty()) {
                    match mock_exchange::model::AuthMethod::parse(part) {
                        Some(m) => out.push(Value::Str(m.as_str().to_string())),
                        None => {
                            return Err(binding_error(
                                cmd,
                                "InvalidArgument",
                                "ParameterBindingException",
                                "CannotConvertArgumentNoMessage",
                                format!(
                                    "Cannot bind parameter '{}'. Cannot convert value \"{part}\" to type \"Microsoft.Exchange.Data.Directory.SystemConfiguration.AuthenticationMethod\". Error: \"Unable to match the identifier name {part} to a valid enumerator name. Specify one of the following enumerator names and try again:\n{}\"",
                                    p.name,
                                    AUTH_NAMES.join(", ")
                                ),
                            ))
                        }
                    }
                }
            }
            if edit {
                return Ok(v);
            }
            Ok(Value::Array(out))
        }
        Ty::Enum(tname, names) => {
            let s = v.to_plain_string();
            match names.iter().find(|n| n.eq_ignore_ascii_case(s.trim())) {
                Some(n) => Ok(Value::Str((*n).to_string())),
                None => Err(binding_error(
                    cmd,
                    "InvalidArgument",
                    "ParameterBindingException",
                    "CannotConvertArgumentNoMessage",
                    format!(
                        "Cannot bind parameter '{}'. Cannot convert value \"{s}\" to type \"{tname}\". Error: \"Unable to match the identifier name {s} to a valid enumerator name. Specify one of the following enumerator names and try again:\n{}\"",
                        p.name,
                        names.join(", ")
                    ),
                )
                .with_hint(nearest(&s, names.iter().copied()).map(|n| format!("did you mean {n}?")))),
            }
        }
        Ty::Str => match &v {
            Value::Null => Ok(Value::Null),
            other => Ok(Value::Str(other.to_plain_string())),
        },
        Ty::Strings => Ok(Value::Array(
            v.enumerate()
                .into_iter()
                .map(|x| Value::Str(x.to_plain_string()))
                .collect(),
        )),
        Ty::Script => match &v {
            Value::Script(_) => Ok(v),
            other => Err(binding_error(
                cmd,
                "InvalidArgument",
                "ParameterBindingException",
                "CannotConvertArgument",
                format!(
                    "Cannot bind parameter '{}'. Cannot convert the \"{}\" value of type \"{}\" to type \"System.Management.Automation.ScriptBlock\".",
                    p.name,
                    other.to_plain_string(),
                    other.type_name()
                ),
            )),
        },
        Ty::Object => Ok(v),
        Ty::Objects => Ok(Value::Array(v.enumerate())),
    }
}

/// Binds evaluated arguments; pipeline input is bound separately ([`bind_pipeline`]).
pub fn bind(spec: &CmdletSpec, args: Vec<EvArg>, line: &str) -> Result<Bound, ShellError> {
    let mut bound = Bound::default();
    let mut positional: Vec<(Value, String, usize)> = Vec::new();
    let mut iter = args.into_iter().peekable();
    while let Some(a) = iter.next() {
        match a {
            EvArg::Param {
                name,
                value,
                pos,
                width,
            } => {
                let p = find_param(spec, &name).map_err(|e| e.at(line, pos, width))?;
                if bound.has(p.name) {
                    return Err(binding_error(
                        spec.name,
                        "InvalidArgument",
                        "ParameterBindingException",
                        "ParameterAlreadyBound",
                        format!("Cannot bind parameter because parameter '{}' is specified more than once. To provide multiple values to parameters that can accept multiple values, use the array syntax. For example, \"-parameter value1,value2,value3\".", p.name),
                    )
                    .at(line, pos, width));
                }
                let raw = match value {
                    Some(v) => v,
                    None if p.ty == Ty::Switch => Value::Bool(true),
                    None => match iter.next_if(|n| matches!(n, EvArg::Value { .. })) {
                        Some(EvArg::Value { value, .. }) => value,
                        _ => {
                            return Err(binding_error(
                                spec.name,
                                "InvalidArgument",
                                "ParameterBindingException",
                                "MissingArgument",
                                format!(
                                    "Missing an argument for parameter '{}'. Specify a parameter of type '{}' and try again.",
                                    p.name,
                                    p.ty.dotnet()
                                ),
                            )
                            .at(line, pos, width))
                        }
                    },
                };
                let v = convert(spec, p, raw).map_err(|e| e.at(line, pos, width))?;
                bound.values.insert(p.name, v);
            }
            EvArg::Value { value, text, pos } => positional.push((value, text, pos)),
        }
    }
    let mut slots: Vec<&'static ParamSpec> = spec
        .params
        .iter()
        .filter(|p| p.position.is_some())
        .collect();
    slots.sort_by_key(|p| p.position);
    for (value, text, pos) in positional {
        let slot = slots.iter().find(|p| !bound.has(p.name)).copied();
        match slot {
            Some(p) => {
                let v = convert(spec, p, value).map_err(|e| e.at(line, pos, 1))?;
                bound.values.insert(p.name, v);
            }
            None => {
                return Err(binding_error(
                    spec.name,
                    "InvalidArgument",
                    "ParameterBindingException",
                    "PositionalParameterNotFound",
                    format!(
                        "A positional parameter cannot be found that accepts argument '{text}'."
                    ),
                )
                .at(line, pos, text.chars().count()))
            }
        }
    }
    Ok(bound)
}

/// Binds one pipeline input object to the parameter that takes pipeline input.
pub fn bind_pipeline(spec: &CmdletSpec, bound: &Bound, input: &Value) -> Option<Bound> {
    let p = spec.params.iter().find(|p| p.pipe == Pipe::ByValue)?;
    let mut b = bound.clone();
    if !b.has(p.name) {
        b.values.insert(p.name, input.clone());
    }
    Some(b)
}

/// Fails with PowerShell's non-interactive message if a mandatory parameter is unbound.
pub fn check_mandatory(spec: &CmdletSpec, bound: &Bound) -> Result<(), ShellError> {
    let missing: Vec<&str> = spec
        .params
        .iter()
        .filter(|p| p.mandatory && !bound.has(p.name))
        .map(|p| p.name)
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(binding_error(
        spec.name,
        "InvalidArgument",
        "ParameterBindingException",
        "MissingMandatoryParameter",
        format!(
            "Cannot process command because of one or more missing mandatory parameters: {}.",
            missing.join(" ")
        ),
    ))
}

/// The lab's error for a real parameter it does not act on.
pub fn check_modeled(spec: &CmdletSpec, bound: &Bound) -> Result<(), ShellError> {
    for p in spec.params {
        if !p.modeled && bound.has(p.name) {
            return Err(ShellError::runtime(
                Some(spec.name),
                format!("NotImplemented: (:) [{}], LabNotModeled", spec.name),
                "LabParameterNotModeled",
                format!(
                    "The lab does not model the -{} parameter of {} (the real cmdlet has it).",
                    p.name, spec.name
                ),
            ));
        }
    }
    Ok(())
}
