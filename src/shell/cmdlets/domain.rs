//! How each Azure AD domain signs its users in: MSOnline's domain cmdlets (`Get-MsolDomain`,
//! `Set-MsolDomainAuthentication`, `Get-`/`Set-MsolDomainFederationSettings`), `Get-MsolUser`
//! (which shows who is synced: ImmutableId, LastDirSyncTime), and the lab's stand-ins for what
//! Azure AD Connect's wizard and the pass-through agent's host decide (`Set-LabDomainSignIn`,
//! `Set-LabPassThroughAgent`), over the backend's [`HybridIdentity`] service.
//!
//! The federation-settings parameters are one table shared by the two `Set-` cmdlets, as the
//! real cmdlets share them, and bind into one [`FederationSettings`] change.
//!
//! [`HybridIdentity`]: crate::shell::backend::HybridIdentity

use mock_aad::model::AgentState;

use super::kit::{cmdlet, sig, CmdletSpec, Cx, Run, R};
use crate::shell::backend::FederationSettings;
use crate::shell::binder::{p, pos, req, unmodeled, Bound, Extra, ParamSpec, Ty};
use crate::shell::error::catalogue;
use crate::shell::value::{PsObject, Value};

const AUTH: Ty = Ty::Enum(
    "Microsoft.Online.Administration.DomainAuthenticationType",
    &["Managed", "Federated"],
);
const PROTOCOL: Ty = Ty::Enum(
    "Microsoft.Online.Administration.AuthenticationProtocol",
    &["WsFed", "Samlp"],
);

const GET_DOMAIN: &[ParamSpec] = &[
    pos(p("DomainName", Ty::Str), 0),
    p("Authentication", AUTH),
    unmodeled(p("Status", Ty::Str)),
    unmodeled(p("TenantId", Ty::Guid)),
];
const GET_USER: &[ParamSpec] = &[
    p("UserPrincipalName", Ty::Str),
    p("DomainName", Ty::Str),
    p("All", Ty::Switch),
    unmodeled(p("ObjectId", Ty::Guid)),
    unmodeled(p("MaxResults", Ty::Int)),
    unmodeled(p("SearchString", Ty::Str)),
    unmodeled(p("TenantId", Ty::Guid)),
];
const SET_AUTH: &[ParamSpec] = &[
    req(p("DomainName", Ty::Str)),
    req(p("Authentication", AUTH)),
    p("IssuerUri", Ty::Str),
    p("PassiveLogOnUri", Ty::Str),
    p("ActiveLogOnUri", Ty::Str),
    p("MetadataExchangeUri", Ty::Str),
    p("LogOffUri", Ty::Str),
    p("SigningCertificate", Ty::Str),
    p("NextSigningCertificate", Ty::Str),
    p("FederationBrandName", Ty::Str),
    p("SupportsMfa", Ty::Bool),
    p("PreferredAuthenticationProtocol", PROTOCOL),
    unmodeled(p("PromptLoginBehavior", Ty::Str)),
    unmodeled(p("TenantId", Ty::Guid)),
];
const GET_FED: &[ParamSpec] = &[
    req(p("DomainName", Ty::Str)),
    unmodeled(p("TenantId", Ty::Guid)),
];
const SET_FED: &[ParamSpec] = &[
    req(p("DomainName", Ty::Str)),
    p("IssuerUri", Ty::Str),
    p("PassiveLogOnUri", Ty::Str),
    p("ActiveLogOnUri", Ty::Str),
    p("MetadataExchangeUri", Ty::Str),
    p("LogOffUri", Ty::Str),
    p("SigningCertificate", Ty::Str),
    p("NextSigningCertificate", Ty::Str),
    p("FederationBrandName", Ty::Str),
    p("SupportsMfa", Ty::Bool),
    p("PreferredAuthenticationProtocol", PROTOCOL),
    unmodeled(p("PromptLoginBehavior", Ty::Str)),
    unmodeled(p("TenantId", Ty::Guid)),
];
const SET_SIGN_IN: &[ParamSpec] = &[
    req(p("DomainName", Ty::Str)),
    req(p(
        "Method",
        Ty::Enum(
            "HmaLab.UserSignInMethod",
            &["PasswordHashSync", "PassThroughAuthentication"],
        ),
    )),
];
const SET_AGENT: &[ParamSpec] = &[req(pos(
    p(
        "State",
        Ty::Enum("HmaLab.AgentState", &["Up", "Down", "Slow"]),
    ),
    0,
))];

pub(super) const CMDLETS: &[CmdletSpec] = &[
    cmdlet(
        sig("Get-MsolDomain", GET_DOMAIN, Extra::None),
        "Lists the tenant's domains with their status and authentication (Managed or Federated).",
        Run::Each(get_domain),
    ),
    cmdlet(
        sig("Get-MsolUser", GET_USER, Extra::None),
        "Lists Azure AD's users (of one domain with -DomainName), or finds one; ImmutableId and LastDirSyncTime show who is synced.",
        Run::Each(get_user),
    ),
    cmdlet(
        sig("Set-MsolDomainAuthentication", SET_AUTH, Extra::None),
        "Makes a domain Federated (with its IdP's settings) or Managed again.",
        Run::Each(set_authentication),
    ),
    cmdlet(
        sig("Get-MsolDomainFederationSettings", GET_FED, Extra::None),
        "Shows a federated domain's IdP settings: URIs, signing certificates, SupportsMfa.",
        Run::Each(get_federation),
    ),
    cmdlet(
        sig("Set-MsolDomainFederationSettings", SET_FED, Extra::None),
        "Changes a federated domain's IdP settings (e.g. -SigningCertificate after an ADFS rollover, -SupportsMfa).",
        Run::Each(set_federation),
    ),
    cmdlet(
        sig("Set-LabDomainSignIn", SET_SIGN_IN, Extra::None),
        "Chooses how a managed domain's synced users sign in (Azure AD Connect's user sign-in page): password hash sync or pass-through authentication.",
        Run::Each(set_sign_in),
    ),
    cmdlet(
        sig("Set-LabPassThroughAgent", SET_AGENT, Extra::None),
        "Puts the pass-through authentication agent Up, Down (AADSTS80001) or Slow (AADSTS80002).",
        Run::Each(set_agent),
    ),
];

fn domain_object(d: &crate::shell::backend::MsolDomain) -> Value {
    Value::Object(
        PsObject::new("Microsoft.Online.Administration.Domain")
            .with("Name", d.name.as_str())
            .with("Status", d.status.as_str())
            .with("Authentication", d.authentication.as_str()),
    )
}

/// `Get-MsolDomain -DomainName x` for a name the tenant does not have.
fn no_domain(cmd: &str, name: &str) -> crate::shell::error::ShellError {
    catalogue::msol_not_found(
        cmd,
        "DomainNotFoundException",
        format!("Domain {name} does not exist."),
    )
}

fn get_domain(cx: &mut Cx<'_>, b: &Bound) -> R<Vec<Value>> {
    let cmd = cx.cmd;
    let be = cx.backend_error();
    let mut list = cx.identity()?.msol_domains().map_err(be)?;
    if let Some(name) = b.str("DomainName") {
        list.retain(|d| d.name.eq_ignore_ascii_case(&name));
        if list.is_empty() {
            return Err(no_domain(cmd, &name));
        }
    }
    if let Some(a) = b.str("Authentication") {
        list.retain(|d| d.authentication.eq_ignore_ascii_case(&a));
    }
    Ok(list.iter().map(domain_object).collect())
}

fn user_object(u: &mock_aad::model::User) -> Value {
    let synced = u.immutable_id.is_some();
    Value::Object(
        PsObject::new("Microsoft.Online.Administration.User")
            .with("UserPrincipalName", u.upn.as_str())
            .with("DisplayName", u.display_name.as_str())
            .with("isLicensed", true)
            .with("BlockCredential", !u.enabled)
            .with("FirstName", u.given_name.as_str())
            .with("LastName", u.family_name.as_str())
            .with(
                "ImmutableId",
                u.immutable_id.as_deref().map_or(Value::Null, Value::from),
            )
            .with("ObjectId", u.oid.to_string())
            .with(
                "OnPremisesSecurityIdentifier",
                u.onprem_sid.as_deref().map_or(Value::Null, Value::from),
            )
            .with(
                "DirSyncEnabled",
                if synced {
                    Value::Bool(true)
                } else {
                    Value::Null
                },
            ),
    )
}

fn get_user(cx: &mut Cx<'_>, b: &Bound) -> R<Vec<Value>> {
    let cmd = cx.cmd;
    let be = cx.backend_error();
    let domain = b.str("DomainName");
    let mut list = cx.identity()?.msol_users(domain.as_deref()).map_err(|e| {
        if e.category == "ObjectNotFound" {
            no_domain(cmd, domain.as_deref().unwrap_or_default())
        } else {
            be(e)
        }
    })?;
    if let Some(upn) = b.str("UserPrincipalName") {
        list.retain(|u| u.upn.eq_ignore_ascii_case(&upn));
        if list.is_empty() {
            return Err(catalogue::msol_not_found(
                cmd,
                "UserNotFoundException",
                format!("User Not Found.  User: {upn}."),
            ));
        }
    }
    Ok(list.iter().map(user_object).collect())
}

/// The federation parameters given, as one change.
fn settings_of(b: &Bound) -> FederationSettings {
    FederationSettings {
        active_log_on_uri: b.str("ActiveLogOnUri"),
        federation_brand_name: b.str("FederationBrandName"),
        issuer_uri: b.str("IssuerUri"),
        log_off_uri: b.str("LogOffUri"),
        metadata_exchange_uri: b.str("MetadataExchangeUri"),
        next_signing_certificate: b.str("NextSigningCertificate"),
        passive_log_on_uri: b.str("PassiveLogOnUri"),
        preferred_authentication_protocol: b.str("PreferredAuthenticationProtocol"),
        signing_certificate: b.str("SigningCertificate").map(|c| one_line(&c)),
        supports_mfa: b.bool("SupportsMfa"),
    }
}

/// A certificate pasted with its PEM armour or line breaks, as the base64 the cmdlet stores.
fn one_line(cert: &str) -> String {
    cert.lines()
        .filter(|l| !l.starts_with("-----"))
        .flat_map(|l| l.split_whitespace())
        .collect()
}

fn required_domain(cmd: &str, b: &Bound) -> R<String> {
    b.str("DomainName")
        .ok_or_else(|| catalogue::missing_mandatory(cmd, &["DomainName"]))
}

fn set_authentication(cx: &mut Cx<'_>, b: &Bound) -> R<Vec<Value>> {
    let cmd = cx.cmd;
    let be = cx.backend_error();
    let domain = required_domain(cmd, b)?;
    let federated = b
        .str("Authentication")
        .is_some_and(|a| a.eq_ignore_ascii_case("Federated"));
    cx.identity()?
        .set_domain_authentication(&domain, federated, false, &settings_of(b))
        .map_err(be)?;
    Ok(Vec::new())
}

fn federation_object(f: &FederationSettings) -> Value {
    let s = |v: &Option<String>| v.as_deref().map_or(Value::Null, Value::from);
    Value::Object(
        PsObject::new("Microsoft.Online.Administration.DomainFederationSettings")
            .with("ActiveLogOnUri", s(&f.active_log_on_uri))
            .with("DefaultInteractiveAuthenticationMethod", Value::Null)
            .with("FederationBrandName", s(&f.federation_brand_name))
            .with("IssuerUri", s(&f.issuer_uri))
            .with("LogOffUri", s(&f.log_off_uri))
            .with("MetadataExchangeUri", s(&f.metadata_exchange_uri))
            .with("NextSigningCertificate", s(&f.next_signing_certificate))
            .with("OpenIdConnectDiscoveryEndpoint", Value::Null)
            .with("PassiveLogOnUri", s(&f.passive_log_on_uri))
            .with(
                "PreferredAuthenticationProtocol",
                s(&f.preferred_authentication_protocol),
            )
            .with("PromptLoginBehavior", Value::Null)
            .with("SigningCertificate", s(&f.signing_certificate))
            .with("SigningCertificateUpdateStatus", Value::Null)
            .with(
                "SupportsMfa",
                f.supports_mfa.map_or(Value::Null, Value::Bool),
            ),
    )
}

fn get_federation(cx: &mut Cx<'_>, b: &Bound) -> R<Vec<Value>> {
    let cmd = cx.cmd;
    let be = cx.backend_error();
    let domain = required_domain(cmd, b)?;
    let f = cx.identity()?.federation_settings(&domain).map_err(be)?;
    Ok(vec![federation_object(&f)])
}

fn set_federation(cx: &mut Cx<'_>, b: &Bound) -> R<Vec<Value>> {
    let cmd = cx.cmd;
    let be = cx.backend_error();
    let domain = required_domain(cmd, b)?;
    cx.identity()?
        .set_federation_settings(&domain, &settings_of(b))
        .map_err(be)?;
    Ok(Vec::new())
}

fn set_sign_in(cx: &mut Cx<'_>, b: &Bound) -> R<Vec<Value>> {
    let cmd = cx.cmd;
    let be = cx.backend_error();
    let domain = required_domain(cmd, b)?;
    let pta = b.str("Method").as_deref() == Some("PassThroughAuthentication");
    cx.identity()?
        .set_domain_authentication(&domain, false, pta, &FederationSettings::default())
        .map_err(be)?;
    Ok(Vec::new())
}

fn set_agent(cx: &mut Cx<'_>, b: &Bound) -> R<Vec<Value>> {
    let be = cx.backend_error();
    let state = match b.str("State").as_deref() {
        Some("Down") => AgentState::Down,
        Some("Slow") => AgentState::Slow,
        _ => AgentState::Up,
    };
    cx.identity()?.set_pta_agent(state).map_err(be)?;
    Ok(Vec::new())
}
