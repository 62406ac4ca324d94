//! A federated IdP's token, checked the way Azure AD checks it: the SAML assertion ADFS posts to
//! `login.srf` inside a WS-Federation response (`wresult`), or the one a client redeems with a
//! SAML bearer grant.
//!
//! The order is Azure AD's (AADInternals' "Deep-dive to Azure Active Directory Identity
//! Federation"): the syntax first (AADSTS20012/50008), then the federation realm, found by the
//! assertion's *issuer* among the federated domains' `IssuerUri`s (AADSTS50107), then the key and
//! signature against that domain's SigningCertificate and NextSigningCertificate (AADSTS5000811
//! for a certificate the tenant does not hold, as after an unannounced ADFS rollover; AADSTS50006
//! for a token changed after signing), then audience and lifetime on the lab clock, and last the
//! user, found by ImmutableID only — the UPN claim is not looked at (AADSTS51004). A second factor
//! the IdP reports counts only when the domain says `SupportsMfa`.
//!
//! Pure data in, [`FederatedUser`] or an [`AadError`] out: `login.srf` and the token endpoint
//! both call [`sign_in`], so the two paths cannot disagree.

use lab_kit::saml::assertion::{AM_WINDOWS, SAML1_NS, SAML2_NS, WS_TRUST_13_NS, WS_TRUST_2005_NS};
use lab_kit::saml::xml::{self, Element};
use lab_kit::saml::{read_element, Certificate, DsigError, SamlError, SamlVersion};
use uuid::Uuid;

use crate::error::AadError;
use crate::model::{Directory, DomainKind, Federation, User};

/// The audience (AppliesTo) Azure AD answers to as a relying party.
pub const MICROSOFT_ONLINE: &str = "urn:federation:MicrosoftOnline";
/// The ADAL-era audience ADFS may still put in tokens for Azure AD.
pub const EXT_STS: &str = "https://login.microsoftonline.com/extSTS.srf";
/// Clock skew allowed on an assertion's `NotBefore`/`NotOnOrAfter`, in seconds.
pub const SKEW_SECS: i64 = 300;

/// How the token arrived: decides the error for unreadable input and the SAML version due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Carrier {
    /// A WS-Federation response posted to `login.srf` (SAML 1.1 only).
    Wresult,
    /// A SAML bearer grant of this version.
    Bearer(SamlVersion),
}

/// A user signed in by a federated IdP.
#[derive(Debug, Clone)]
pub struct FederatedUser {
    pub tid: Uuid,
    pub user: User,
    /// `pwd` or `wia`, plus `mfa` when the IdP did a second factor the domain honours.
    pub amr: Vec<String>,
    /// The IdP's authentication instant (Unix seconds).
    pub auth_time: i64,
}

fn namespace(v: SamlVersion) -> &'static str {
    match v {
        SamlVersion::V1_1 => SAML1_NS,
        SamlVersion::V2_0 => SAML2_NS,
    }
}

/// The assertion element a token text carries.
fn assertion_element(doc: &Element, carrier: Carrier) -> Result<&Element, AadError> {
    match carrier {
        Carrier::Bearer(_) => Ok(doc),
        Carrier::Wresult => doc
            .find(WS_TRUST_2005_NS, "RequestedSecurityToken")
            .or_else(|| doc.find(WS_TRUST_13_NS, "RequestedSecurityToken"))
            .and_then(|t| t.elements().next())
            .ok_or_else(AadError::wsfed_invalid),
    }
}

/// The issuer of an assertion, read before its signature is checked (the issuer names the
/// realm whose certificates check it).
fn issuer_of(el: &Element) -> Option<String> {
    if el.ns == SAML1_NS {
        el.attr("Issuer").map(str::to_string)
    } else {
        el.child(SAML2_NS, "Issuer").map(Element::text)
    }
}

/// The certificates a realm trusts: its SigningCertificate and NextSigningCertificate.
fn trusted(f: &Federation) -> Vec<Certificate> {
    std::iter::once(f.signing_certificate.as_str())
        .chain(f.next_signing_certificate.as_deref())
        .filter(|c| !c.trim().is_empty())
        .filter_map(|c| Certificate::from_base64(c).ok())
        .collect()
}

/// Checks a federated token and finds its user. `only_tenant` limits the realm lookup to the
/// tenant a request named; `now` is the lab time in Unix seconds.
pub fn sign_in(
    dir: &Directory,
    only_tenant: Option<Uuid>,
    text: &str,
    carrier: Carrier,
    now: i64,
) -> Result<FederatedUser, AadError> {
    let unreadable = match carrier {
        Carrier::Wresult => AadError::wsfed_invalid,
        Carrier::Bearer(_) => AadError::saml_invalid,
    };
    let doc = xml::parse(text).map_err(|_| unreadable())?;
    let el = assertion_element(&doc.root, carrier)?;
    let due = match carrier {
        Carrier::Wresult => SamlVersion::V1_1,
        Carrier::Bearer(v) => v,
    };
    let actual = match (el.ns.as_str(), el.local.as_str()) {
        (SAML1_NS, "Assertion") => SamlVersion::V1_1,
        (SAML2_NS, "Assertion") => SamlVersion::V2_0,
        _ => return Err(AadError::saml_invalid()),
    };
    if actual != due {
        return Err(AadError::saml_wrong_version(
            namespace(due),
            namespace(actual),
        ));
    }
    let issuer = issuer_of(el).ok_or_else(AadError::saml_invalid)?;
    let (tenant, federation) = dir
        .tenants
        .iter()
        .filter(|t| only_tenant.is_none_or(|id| id == t.tid))
        .find_map(|t| {
            t.domains
                .iter()
                .filter(|d| d.verified && d.kind == DomainKind::Federated)
                .filter_map(|d| d.federation.as_ref())
                .find(|f| !f.issuer_uri.is_empty() && f.issuer_uri == issuer)
                .map(|f| (t, f))
        })
        .ok_or_else(|| AadError::realm_not_found(&issuer))?;
    let assertion = read_element(el, &trusted(federation)).map_err(|e| match e {
        SamlError::Signature(DsigError::UntrustedKey { .. }) => AadError::saml_unknown_key(),
        SamlError::Signature(DsigError::DigestMismatch | DsigError::BadSignature) => {
            AadError::saml_bad_signature()
        }
        _ => AadError::saml_invalid(),
    })?;
    if !assertion
        .audiences
        .iter()
        .any(|a| a == MICROSOFT_ONLINE || a == EXT_STS)
    {
        return Err(AadError::saml_invalid());
    }
    let (Some(not_before), Some(not_after)) = (assertion.not_before, assertion.not_on_or_after)
    else {
        return Err(AadError::saml_invalid());
    };
    if now.saturating_add(SKEW_SECS) < not_before || now >= not_after.saturating_add(SKEW_SECS) {
        return Err(AadError::saml_expired());
    }
    let immutable_id = assertion
        .immutable_id()
        .map(str::to_string)
        .or_else(|| assertion.name_id.clone())
        .ok_or_else(AadError::saml_invalid)?;
    let user = tenant
        .user_by_immutable_id(&immutable_id)
        .ok_or_else(AadError::immutable_id_unknown)?
        .clone();
    if !user.enabled {
        return Err(AadError::account_disabled());
    }
    let mut amr = vec![if assertion.authn_method.as_deref() == Some(AM_WINDOWS) {
        "wia".to_string()
    } else {
        "pwd".to_string()
    }];
    if federation.supports_mfa && assertion.multiple_authn() {
        amr.push("mfa".to_string());
    }
    Ok(FederatedUser {
        tid: tenant.tid,
        user,
        amr,
        auth_time: assertion.authn_instant.unwrap_or(now),
    })
}
