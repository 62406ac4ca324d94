//! The token forge (`POST /_admin/forge`): an Exchange access token for a user and resource with
//! exactly one chosen flaw, so a client developer sees what their code does when Exchange refuses
//! a token for each real reason without arranging the misconfiguration behind it.
//!
//! A forged token starts as the v1 user token Azure AD issues for the resource (the claim order
//! of [`super::claims`], a fixed `appid` of Microsoft Office) and then has one thing changed. The
//! flaws are data ([`Flaw::ALL`]), so the cmdlet, the book's table and its test enumerate the
//! same list. Two keys are involved besides the published ones: the shipped *attacker* key
//! (`keys/attacker-*.pem`, never published, parsed on first use — never generated on a start
//! path) signs the `unknown_signing_key` token under its own `kid` and the
//! `signed_by_attacker_key` token under the active key's `kid`.

use std::sync::OnceLock;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use uuid::Uuid;

use crate::config::Hosts;
use crate::keys::{KeySet, SigningKey};
use crate::model::{normalize_spn, Directory};

use super::claims::{pairwise_sub, v1_issuer};

/// The client a forged token names (`appid`): Microsoft Office, as Outlook signs in.
pub const FORGE_CLIENT: Uuid = uuid::uuid!("d3590ed6-52b3-4102-aeff-aad2292ab01c");
/// The tenant of the `wrong_issuer` and `wrong_tenant` tokens: one no AuthServer trusts.
pub const FOREIGN_TENANT: Uuid = uuid::uuid!("6e1c4a0f-2b7d-4f4e-9c1a-0b5d3e8f7a21");
/// A forged token lives an hour, like Azure AD's default.
const LIFETIME: i64 = 3600;

/// One way a token can be wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Flaw {
    /// No flaw: the token Azure AD would issue (the control row).
    None,
    /// `exp` an hour ago (past Exchange's five-minute skew).
    Expired,
    /// `nbf` an hour from now.
    NotYetValid,
    /// `aud` names another host of the same namespace (`autodiscover.` for `mail.`).
    WrongAudienceHost,
    /// `aud` with the other scheme (`http://` for `https://`).
    WrongAudienceScheme,
    /// `aud` is another service principal's name (Microsoft Graph's).
    AudienceOfAnotherSpn,
    /// `iss` and `tid` of a tenant no AuthServer trusts.
    WrongIssuer,
    /// `iss` right, `tid` another tenant.
    WrongTenant,
    /// Signed by a key Azure AD never published, under that key's own `kid`.
    UnknownSigningKey,
    /// Signed by the attacker key under the published active key's `kid`.
    SignedByAttackerKey,
    /// Header `alg` is `none` and the signature empty.
    AlgNone,
    /// One claim (the request's `claim`) removed.
    MissingClaim,
    /// No `onprem_sid`: the token of a cloud-only account (Exchange falls back on `upn`).
    CloudOnlyUser,
    /// A synced account without a mailbox: the domain's built-in Administrator (RID 500).
    UserWithoutMailbox,
}

impl Flaw {
    pub const ALL: [Flaw; 14] = [
        Flaw::None,
        Flaw::Expired,
        Flaw::NotYetValid,
        Flaw::WrongAudienceHost,
        Flaw::WrongAudienceScheme,
        Flaw::AudienceOfAnotherSpn,
        Flaw::WrongIssuer,
        Flaw::WrongTenant,
        Flaw::UnknownSigningKey,
        Flaw::SignedByAttackerKey,
        Flaw::AlgNone,
        Flaw::MissingClaim,
        Flaw::CloudOnlyUser,
        Flaw::UserWithoutMailbox,
    ];

    /// The API spelling (`wrong_audience_host`).
    pub fn name(self) -> &'static str {
        match self {
            Flaw::None => "none",
            Flaw::Expired => "expired",
            Flaw::NotYetValid => "not_yet_valid",
            Flaw::WrongAudienceHost => "wrong_audience_host",
            Flaw::WrongAudienceScheme => "wrong_audience_scheme",
            Flaw::AudienceOfAnotherSpn => "audience_of_another_spn",
            Flaw::WrongIssuer => "wrong_issuer",
            Flaw::WrongTenant => "wrong_tenant",
            Flaw::UnknownSigningKey => "unknown_signing_key",
            Flaw::SignedByAttackerKey => "signed_by_attacker_key",
            Flaw::AlgNone => "alg_none",
            Flaw::MissingClaim => "missing_claim",
            Flaw::CloudOnlyUser => "cloud_only_user",
            Flaw::UserWithoutMailbox => "user_without_mailbox",
        }
    }

    /// The cmdlet spelling (`WrongAudienceHost`).
    pub fn pascal(self) -> String {
        self.name()
            .split('_')
            .map(|w| {
                let mut c = w.chars();
                c.next()
                    .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                    .unwrap_or_default()
            })
            .collect()
    }

    /// Parses either spelling, ignoring case.
    pub fn parse(s: &str) -> Option<Flaw> {
        Flaw::ALL
            .into_iter()
            .find(|f| f.name().eq_ignore_ascii_case(s) || f.pascal().eq_ignore_ascii_case(s))
    }
}

/// `POST /_admin/forge`.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ForgeRequest {
    /// The user's UPN.
    pub user: String,
    /// The resource (an SPN such as `https://mail.contoso.com/`), used verbatim as `aud`.
    pub resource: String,
    pub flaw: Flaw,
    /// The claim `missing_claim` removes.
    #[serde(default)]
    pub claim: Option<String>,
}

/// Why the forge refused (the admin API turns these into 400/404).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ForgeError {
    #[error("no user '{0}' in any tenant")]
    NoUser(String),
    #[error("no service principal in the user's tenant has the name '{0}'")]
    NoResource(String),
    #[error("the resource '{0}' is not an absolute http(s) URL; the audience flaws need one")]
    NotAUrl(String),
    #[error("flaw missing_claim needs \"claim\" (e.g. \"tid\", \"onprem_sid\", \"exp\")")]
    NoClaimNamed,
    #[error("the token has no claim '{0}'; it has: {1}")]
    NoSuchClaim(String, String),
    #[error("no other service principal of the tenant has a URL name to use as the audience")]
    NoOtherSpn,
    #[error("user '{0}' has no onprem_sid; user_without_mailbox needs a synced user")]
    NotSynced(String),
    #[error("\"claim\" is only for flaw missing_claim")]
    ClaimWithoutMissingClaim,
}

/// A forged token and what it holds.
#[derive(Debug, Clone, Serialize)]
pub struct Forged {
    pub access_token: String,
    pub token_type: &'static str,
    pub flaw: Flaw,
    pub header: Map<String, Value>,
    pub claims: Map<String, Value>,
}

fn attacker_key() -> &'static SigningKey {
    static KEY: OnceLock<SigningKey> = OnceLock::new();
    KEY.get_or_init(|| {
        SigningKey::from_pem(
            include_str!("../../keys/attacker-key.pem"),
            include_str!("../../keys/attacker-cert.pem"),
        )
        .expect("the shipped attacker key parses")
    })
}

/// `scheme`, `host` and the rest of an absolute http(s) URL.
fn split_url(url: &str) -> Option<(&str, &str, &str)> {
    let (scheme, rest) = url.split_once("://")?;
    if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
        return None;
    }
    let end = rest.find('/').unwrap_or(rest.len());
    let (host, tail) = rest.split_at(end);
    (!host.is_empty()).then_some((scheme, host, tail))
}

fn wrong_host(resource: &str) -> Result<String, ForgeError> {
    let (scheme, host, tail) =
        split_url(resource).ok_or_else(|| ForgeError::NotAUrl(resource.into()))?;
    let (first, rest) = host.split_once('.').unwrap_or((host, ""));
    let swapped = if first.eq_ignore_ascii_case("autodiscover") {
        "mail"
    } else {
        "autodiscover"
    };
    let dot = if rest.is_empty() { "" } else { "." };
    Ok(format!("{scheme}://{swapped}{dot}{rest}{tail}"))
}

fn wrong_scheme(resource: &str) -> Result<String, ForgeError> {
    let (scheme, host, tail) =
        split_url(resource).ok_or_else(|| ForgeError::NotAUrl(resource.into()))?;
    let other = if scheme.eq_ignore_ascii_case("https") {
        "http"
    } else {
        "https"
    };
    Ok(format!("{other}://{host}{tail}"))
}

fn sign(key: &SigningKey, kid: &str, claims: &Map<String, Value>) -> (Map<String, Value>, String) {
    let mut header = Map::new();
    header.insert("typ".into(), json!("JWT"));
    header.insert("alg".into(), json!("RS256"));
    header.insert("x5t".into(), json!(kid));
    header.insert("kid".into(), json!(kid));
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(Value::Object(header.clone()).to_string()),
        URL_SAFE_NO_PAD.encode(Value::Object(claims.clone()).to_string())
    );
    let sig = URL_SAFE_NO_PAD.encode(key.sign(input.as_bytes()));
    (header, format!("{input}.{sig}"))
}

/// Mints the token `req` asks for at lab time `now`.
pub fn forge(
    dir: &Directory,
    keys: &KeySet,
    hosts: &Hosts,
    now: i64,
    req: &ForgeRequest,
) -> Result<Forged, ForgeError> {
    if req.claim.is_some() && req.flaw != Flaw::MissingClaim {
        return Err(ForgeError::ClaimWithoutMissingClaim);
    }
    let tenant = dir
        .tenant_of_upn(&req.user)
        .ok_or_else(|| ForgeError::NoUser(req.user.clone()))?;
    let user = tenant
        .user(&req.user)
        .ok_or_else(|| ForgeError::NoUser(req.user.clone()))?;
    let resource_app = tenant
        .resource(&req.resource)
        .ok_or_else(|| ForgeError::NoResource(req.resource.clone()))?;
    let (mut upn, mut sid) = (user.upn.clone(), user.onprem_sid.clone());
    if req.flaw == Flaw::UserWithoutMailbox {
        let s = sid.ok_or_else(|| ForgeError::NotSynced(user.upn.clone()))?;
        let domain_sid = s.rsplit_once('-').map(|(d, _)| d).unwrap_or(&s);
        sid = Some(format!("{domain_sid}-500"));
        let domain = user.upn.rsplit_once('@').map(|(_, d)| d).unwrap_or("");
        upn = format!("Administrator@{domain}");
    }
    if req.flaw == Flaw::CloudOnlyUser {
        sid = None;
    }
    let aud = match req.flaw {
        Flaw::WrongAudienceHost => wrong_host(&req.resource)?,
        Flaw::WrongAudienceScheme => wrong_scheme(&req.resource)?,
        Flaw::AudienceOfAnotherSpn => tenant
            .applications
            .iter()
            .filter(|a| a.app_id != resource_app.app_id)
            .flat_map(|a| a.service_principal_names.iter())
            .find(|spn| {
                split_url(spn).is_some() && normalize_spn(spn) != normalize_spn(&req.resource)
            })
            .cloned()
            .ok_or(ForgeError::NoOtherSpn)?,
        _ => req.resource.clone(),
    };
    let (nbf, exp) = match req.flaw {
        Flaw::Expired => (now - 2 * LIFETIME, now - LIFETIME),
        Flaw::NotYetValid => (now + LIFETIME, now + 2 * LIFETIME),
        _ => (now, now.saturating_add(LIFETIME)),
    };
    let tid = match req.flaw {
        Flaw::WrongIssuer | Flaw::WrongTenant => FOREIGN_TENANT,
        _ => tenant.tid,
    };
    let iss_tid = if req.flaw == Flaw::WrongIssuer {
        FOREIGN_TENANT
    } else {
        tenant.tid
    };
    let mut m = Map::new();
    m.insert("aud".into(), json!(aud));
    m.insert("iss".into(), json!(v1_issuer(hosts, iss_tid)));
    m.insert("iat".into(), json!(nbf));
    m.insert("nbf".into(), json!(nbf));
    m.insert("exp".into(), json!(exp));
    m.insert("acr".into(), json!("1"));
    m.insert("amr".into(), json!(["pwd"]));
    m.insert("appid".into(), json!(FORGE_CLIENT.to_string()));
    m.insert("appidacr".into(), json!("0"));
    m.insert("family_name".into(), json!(user.family_name));
    m.insert("given_name".into(), json!(user.given_name));
    m.insert("name".into(), json!(user.display_name));
    m.insert("oid".into(), json!(user.oid.to_string()));
    if let Some(sid) = sid {
        m.insert("onprem_sid".into(), json!(sid));
    }
    m.insert("puid".into(), json!(user.puid));
    m.insert("scp".into(), json!("EWS.AccessAsUser.All"));
    m.insert("sub".into(), json!(pairwise_sub(user.oid, FORGE_CLIENT)));
    m.insert("tid".into(), json!(tid.to_string()));
    m.insert("unique_name".into(), json!(upn));
    m.insert("upn".into(), json!(upn));
    m.insert("ver".into(), json!("1.0"));
    if req.flaw == Flaw::MissingClaim {
        let claim = req.claim.as_deref().ok_or(ForgeError::NoClaimNamed)?;
        if m.remove(claim).is_none() {
            let names: Vec<&str> = m.keys().map(String::as_str).collect();
            return Err(ForgeError::NoSuchClaim(claim.into(), names.join(", ")));
        }
    }
    let active = keys.active();
    let (header, access_token) = match req.flaw {
        Flaw::UnknownSigningKey => sign(attacker_key(), &attacker_key().kid, &m),
        Flaw::SignedByAttackerKey => sign(attacker_key(), &active.kid, &m),
        Flaw::AlgNone => {
            let mut h = Map::new();
            h.insert("typ".into(), json!("JWT"));
            h.insert("alg".into(), json!("none"));
            let t = format!(
                "{}.{}.",
                URL_SAFE_NO_PAD.encode(Value::Object(h.clone()).to_string()),
                URL_SAFE_NO_PAD.encode(Value::Object(m.clone()).to_string())
            );
            (h, t)
        }
        _ => sign(active, &active.kid, &m),
    };
    Ok(Forged {
        access_token,
        token_type: "Bearer",
        flaw: req.flaw,
        header,
        claims: m,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(flaw: Flaw) -> ForgeRequest {
        ForgeRequest {
            user: "GregT@contoso.com".into(),
            resource: "https://mail.contoso.com/".into(),
            flaw,
            claim: None,
        }
    }

    fn forge_one(r: &ForgeRequest) -> Result<Forged, ForgeError> {
        let cfg = crate::Config::contoso();
        forge(
            &cfg.directory,
            &KeySet::shipped(),
            &cfg.hosts,
            1_700_000_000,
            r,
        )
    }

    #[test]
    fn every_flaw_parses_in_both_spellings() {
        for f in Flaw::ALL {
            assert_eq!(Flaw::parse(f.name()), Some(f));
            assert_eq!(Flaw::parse(&f.pascal()), Some(f));
        }
        assert_eq!(Flaw::WrongAudienceHost.pascal(), "WrongAudienceHost");
        assert_eq!(Flaw::parse("nope"), None);
    }

    #[test]
    fn each_flaw_changes_what_it_names() {
        let good = forge_one(&req(Flaw::None)).unwrap();
        let keys = KeySet::shipped();
        assert!(super::super::verify_jwt(&keys, &good.access_token).is_ok());
        let c = |f| forge_one(&req(f)).unwrap().claims;
        assert_eq!(
            c(Flaw::WrongAudienceHost)["aud"],
            "https://autodiscover.contoso.com/"
        );
        assert_eq!(
            c(Flaw::WrongAudienceScheme)["aud"],
            "http://mail.contoso.com/"
        );
        assert_eq!(c(Flaw::Expired)["exp"], 1_700_000_000 - 3600);
        assert_eq!(c(Flaw::NotYetValid)["nbf"], 1_700_000_000 + 3600);
        assert!(!c(Flaw::CloudOnlyUser).contains_key("onprem_sid"));
        assert_eq!(
            c(Flaw::UserWithoutMailbox)["onprem_sid"],
            "S-1-5-21-2366433183-230171048-1893555995-500"
        );
        assert_eq!(
            super::super::verify_jwt(
                &keys,
                &forge_one(&req(Flaw::SignedByAttackerKey))
                    .unwrap()
                    .access_token
            ),
            Err(super::super::JwtError::BadSignature)
        );
        assert!(matches!(
            super::super::verify_jwt(
                &keys,
                &forge_one(&req(Flaw::UnknownSigningKey))
                    .unwrap()
                    .access_token
            ),
            Err(super::super::JwtError::UnknownKey(_))
        ));
        assert!(forge_one(&req(Flaw::AlgNone))
            .unwrap()
            .access_token
            .ends_with('.'));
    }

    #[test]
    fn refusals_name_the_problem() {
        let mut r = req(Flaw::MissingClaim);
        assert_eq!(forge_one(&r).err(), Some(ForgeError::NoClaimNamed));
        r.claim = Some("nope".into());
        assert!(matches!(forge_one(&r), Err(ForgeError::NoSuchClaim(c, _)) if c == "nope"));
        r.claim = Some("tid".into());
        assert!(!forge_one(&r).unwrap().claims.contains_key("tid"));
        let mut r = req(Flaw::UserWithoutMailbox);
        r.user = "AlexW@contoso.com".into();
        assert_eq!(
            forge_one(&r).err(),
            Some(ForgeError::NotSynced("AlexW@contoso.com".into()))
        );
        let mut r = req(Flaw::None);
        r.resource = "https://nowhere.example/".into();
        assert!(matches!(forge_one(&r), Err(ForgeError::NoResource(_))));
        r.resource = "https://mail.contoso.com/".into();
        r.user = "nobody@contoso.com".into();
        assert!(matches!(forge_one(&r), Err(ForgeError::NoUser(_))));
    }
}
