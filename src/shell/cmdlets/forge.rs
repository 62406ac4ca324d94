//! `New-LabForgedToken`: the token forge from the shell. It asks mock Azure AD (through the
//! [`SigningKeys`](crate::shell::backend::SigningKeys) service, over `POST /_admin/forge`) for an
//! access token for a user and resource with one chosen flaw, and answers an object holding the
//! token, so `$t = New-LabForgedToken …` feeds a client under test. The flaw names are the forge's
//! own ([`mock_aad::token::forge::Flaw`]) in PowerShell's spelling; a test keeps the two lists equal.

use super::kit::{cmdlet, sig, CmdletSpec, Cx, Run, R};
use crate::shell::backend::ForgeTokenRequest;
use crate::shell::binder::{p, pos, req, Bound, Extra, ParamSpec, Ty};
use crate::shell::value::{PsObject, Value};

/// Every flaw, as `Flaw::pascal` spells it.
pub(crate) const FLAW_NAMES: &[&str] = &[
    "None",
    "Expired",
    "NotYetValid",
    "WrongAudienceHost",
    "WrongAudienceScheme",
    "AudienceOfAnotherSpn",
    "WrongIssuer",
    "WrongTenant",
    "UnknownSigningKey",
    "SignedByAttackerKey",
    "AlgNone",
    "MissingClaim",
    "CloudOnlyUser",
    "UserWithoutMailbox",
];
const FLAW: Ty = Ty::Enum("HmaLab.TokenFlaw", FLAW_NAMES);
const NEW_LAB_FORGED: &[ParamSpec] = &[
    pos(req(p("User", Ty::Str)), 0),
    req(p("Resource", Ty::Str)),
    req(p("Flaw", FLAW)),
    p("Claim", Ty::Str),
];

pub(super) const CMDLETS: &[CmdletSpec] = &[cmdlet(
    sig("New-LabForgedToken", NEW_LAB_FORGED, Extra::None),
    "Mints an access token for a user and resource with one flaw (expired, wrong audience, attacker key, …) to replay at Exchange.",
    Run::Each(new_forged),
)];

fn new_forged(cx: &mut Cx<'_>, b: &Bound) -> R<Vec<Value>> {
    let be = cx.backend_error();
    let flaw = b.str("Flaw").unwrap_or_default();
    let api = mock_aad::token::forge::Flaw::parse(&flaw)
        .map(|f| f.name().to_string())
        .unwrap_or(flaw);
    let request = ForgeTokenRequest {
        user: b.str("User").unwrap_or_default(),
        resource: b.str("Resource").unwrap_or_default(),
        flaw: api,
        claim: b.str("Claim"),
    };
    let t = cx.keys()?.forge_token(&request).map_err(be)?;
    let claim = |k: &str| {
        t.claims
            .get(k)
            .map(|v| {
                v.as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| v.to_string())
            })
            .unwrap_or_default()
    };
    let flaw_name = mock_aad::token::forge::Flaw::parse(&t.flaw)
        .map(|f| f.pascal())
        .unwrap_or(t.flaw.clone());
    let o = PsObject::new("HmaLab.ForgedToken")
        .with("Flaw", flaw_name)
        .with("User", request.user.as_str())
        .with("Audience", claim("aud"))
        .with("Issuer", claim("iss"))
        .with("Expires", claim("exp"))
        .with("AccessToken", t.access_token.as_str());
    Ok(vec![Value::Object(o)])
}

#[cfg(test)]
mod tests {
    #[test]
    fn flaw_names_are_the_forges() {
        let forge: Vec<String> = mock_aad::token::forge::Flaw::ALL
            .iter()
            .map(|f| f.pascal())
            .collect();
        assert_eq!(forge, super::FLAW_NAMES);
    }
}
