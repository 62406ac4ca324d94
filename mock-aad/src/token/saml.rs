//! The SAML bearer grants (`urn:ietf:params:oauth:grant-type:saml1_1-bearer` and `saml2-bearer`):
//! a federated user's client (MSAL's username/password flow, after its WS-Trust round trip to
//! the IdP) trades the IdP's assertion for Azure AD tokens.
//!
//! The assertion is checked exactly as `login.srf` checks a WS-Federation response
//! ([`crate::federation::sign_in`]); then the grant goes on as the password grant does (client,
//! resource or scope, MFA and conditional access, consent) and issues the same tokens. MSAL sends
//! the assertion as unpadded base64url, AADInternals and older clients as standard base64: both
//! are read.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use lab_kit::saml::SamlVersion;
use serde_json::Value;

use crate::error::AadError;
use crate::federation::{self, Carrier};
use crate::grants::AuthContext;
use crate::signin;
use crate::token::issue::issue_user;
use crate::token::request::{Ctx, PathTenant};

/// `grant_type` of a SAML 1.1 assertion (what ADFS issues by default).
pub const SAML11_BEARER_GRANT: &str = "urn:ietf:params:oauth:grant-type:saml1_1-bearer";
/// `grant_type` of a SAML 2.0 assertion.
pub const SAML2_BEARER_GRANT: &str = "urn:ietf:params:oauth:grant-type:saml2-bearer";

/// The assertion's text from either base64 alphabet, padded or not.
fn decode_assertion(raw: &str) -> Option<String> {
    let clean: String = raw
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '=')
        .map(|c| match c {
            '+' => '-',
            '/' => '_',
            c => c,
        })
        .collect();
    let bytes = URL_SAFE_NO_PAD.decode(clean).ok()?;
    String::from_utf8(bytes).ok()
}

/// A SAML bearer grant of `version`.
pub(super) fn grant_saml_bearer(
    c: &Ctx,
    path: PathTenant,
    version: SamlVersion,
) -> Result<Value, AadError> {
    c.client_id_present()?;
    let raw = c.required("assertion")?;
    let text = decode_assertion(raw).ok_or_else(AadError::saml_invalid)?;
    let only = match &path {
        PathTenant::Specific(t) => Some(t.tid),
        PathTenant::Common => None,
    };
    let fed = federation::sign_in(&c.s.dir(), only, &text, Carrier::Bearer(version), c.now)?;
    let tenant = c.grant_tenant(&path, fed.tid, AadError::saml_invalid)?;
    let tname = c.tenant_name(&tenant);
    let client = c.client(&tenant, &tname, false)?;
    let target = c.target(&tenant, &tname, &client.app, None)?;
    let auth = AuthContext {
        tid: tenant.tid,
        user_oid: fed.user.oid,
        amr: fed.amr,
        auth_time: fed.auth_time,
        auth_ticks: 0,
    };
    c.second_factor(&tenant, &fed.user, &client, &target, &auth)?;
    if !signin::has_consent(&tenant, &fed.user, client.app.app_id) {
        return Err(AadError::consent_required(
            &client.app.app_id.to_string(),
            &client.app.display_name,
        ));
    }
    Ok(issue_user(
        c, &tenant, &fed.user, &client, &target, &auth, None,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assertion_decodes_from_either_alphabet() {
        let text = "<a b='?>~'/>";
        let std = base64::engine::general_purpose::STANDARD.encode(text);
        let url = URL_SAFE_NO_PAD.encode(text);
        assert_ne!(std.trim_end_matches('='), url);
        assert_eq!(decode_assertion(&std).as_deref(), Some(text));
        assert_eq!(decode_assertion(&url).as_deref(), Some(text));
        assert_eq!(decode_assertion("!!"), None);
    }
}
