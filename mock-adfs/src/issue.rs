//! What the farm issues: the claims for a user (UPN, ImmutableID, inside-corporate-network and,
//! after MFA, `authnmethodsreferences`), the signed SAML assertion, and the WS-Trust responses
//! that carry it — the 2005 `RequestSecurityTokenResponse` (the `wresult` of passive sign-in and
//! the 2005 active endpoints) and the 1.3 response collection.
//!
//! Shapes follow ADFS's as captured (MSAL's RSTR fixture, AADInternals' `New-WSFedResponse`);
//! MSAL reads `TokenType` and `RequestedSecurityToken` by regex, so neither carries whitespace.

use lab_kit::saml::assertion::{
    instant, AM_PASSWORD, AM_WINDOWS, CLAIMS_NS, CORPNET_NS, LIVEID_NS, MS_CLAIMS_NS,
    MULTIPLE_AUTHN, WS_TRUST_13_NS, WS_TRUST_2005_NS,
};
use lab_kit::saml::xml::escape_text;
use lab_kit::saml::{AssertionSpec, Attribute, DsigError, SamlVersion};

use crate::model::{RelyingParty, User};
use crate::state::{AppState, Method};

pub const WSU_NS: &str =
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd";
pub const WSSE_NS: &str =
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd";
pub const WSP_NS: &str = "http://schemas.xmlsoap.org/ws/2004/09/policy";
pub const WSA_NS: &str = "http://www.w3.org/2005/08/addressing";
pub const SOAP12_NS: &str = "http://www.w3.org/2003/05/soap-envelope";

/// A signed assertion and its lifetime.
#[derive(Debug, Clone)]
pub struct Issued {
    pub xml: String,
    pub id: String,
    pub version: SamlVersion,
    pub created_ms: i64,
    pub expires_ms: i64,
    /// The `AppliesTo`/audience it was issued for.
    pub audience: String,
}

/// Everything that decides one token.
pub struct Request<'a> {
    pub user: &'a User,
    pub rp: &'a RelyingParty,
    pub audience: &'a str,
    pub method: Method,
    pub authn_ms: i64,
    pub mfa: bool,
    pub inside_corporate_network: bool,
    pub version: SamlVersion,
}

fn claim(namespace: &str, name: &str, value: &str) -> Attribute {
    Attribute {
        namespace: namespace.into(),
        name: name.into(),
        values: vec![value.into()],
    }
}

/// Builds and signs the assertion for `r` with the primary token-signing key.
pub fn assertion(s: &AppState, r: &Request<'_>) -> Result<Issued, DsigError> {
    let now = s.now_ms();
    let lifetime_ms = i64::from(r.rp.token_lifetime_minutes) * 60_000;
    let expires = now.saturating_add(lifetime_ms);
    let immutable_id = r.user.immutable_id();
    let mut attributes = vec![
        claim(CLAIMS_NS, "UPN", &r.user.upn),
        claim(LIVEID_NS, "ImmutableID", &immutable_id),
        claim(
            CORPNET_NS,
            "insidecorporatenetwork",
            if r.inside_corporate_network {
                "true"
            } else {
                "false"
            },
        ),
    ];
    if r.mfa {
        attributes.push(claim(
            MS_CLAIMS_NS,
            "authnmethodsreferences",
            MULTIPLE_AUTHN,
        ));
    }
    let id = format!("_{}", uuid::Uuid::new_v4());
    let spec = AssertionSpec {
        version: r.version,
        id: id.clone(),
        issuer: s.farm().issuer(),
        audience: r.audience.to_string(),
        issue_instant_ms: now,
        not_before_ms: now,
        not_on_or_after_ms: expires,
        name_id: immutable_id,
        attributes,
        authn_method: match r.method {
            Method::Password => AM_PASSWORD.into(),
            Method::Windows => AM_WINDOWS.into(),
        },
        authn_instant_ms: r.authn_ms,
    };
    let key = s.certs().signing_key();
    Ok(Issued {
        xml: lab_kit::saml::issue(&spec, key)?,
        id,
        version: r.version,
        created_ms: now,
        expires_ms: expires,
        audience: r.audience.to_string(),
    })
}

fn applies_to(address: &str) -> String {
    format!(
        "<wsp:AppliesTo xmlns:wsp=\"{WSP_NS}\"><wsa:EndpointReference xmlns:wsa=\"{WSA_NS}\">\
         <wsa:Address>{}</wsa:Address></wsa:EndpointReference></wsp:AppliesTo>",
        escape_text(address)
    )
}

fn lifetime(prefix: &str, t: &Issued) -> String {
    format!(
        "<{prefix}:Lifetime><wsu:Created xmlns:wsu=\"{WSU_NS}\">{}</wsu:Created><wsu:Expires \
         xmlns:wsu=\"{WSU_NS}\">{}</wsu:Expires></{prefix}:Lifetime>",
        instant(t.created_ms),
        instant(t.expires_ms)
    )
}

/// The WS-Trust 2005 `RequestSecurityTokenResponse` (what `wresult` carries).
pub fn rstr_2005(t: &Issued) -> String {
    format!(
        "<t:RequestSecurityTokenResponse xmlns:t=\"{WS_TRUST_2005_NS}\">{}{}\
         <t:RequestedSecurityToken>{}</t:RequestedSecurityToken><t:TokenType>{}</t:TokenType>\
         <t:RequestType>http://schemas.xmlsoap.org/ws/2005/02/trust/Issue</t:RequestType>\
         <t:KeyType>http://schemas.xmlsoap.org/ws/2005/05/identity/NoProofKey</t:KeyType>\
         </t:RequestSecurityTokenResponse>",
        lifetime("t", t),
        applies_to(&t.audience),
        t.xml,
        t.version.token_type()
    )
}

fn token_reference(t: &Issued) -> String {
    let (profile, value_type) = match t.version {
        SamlVersion::V1_1 => (
            "http://docs.oasis-open.org/wss/oasis-wss-saml-token-profile-1.1#SAMLV1.1",
            "http://docs.oasis-open.org/wss/oasis-wss-saml-token-profile-1.0#SAMLAssertionID",
        ),
        SamlVersion::V2_0 => (
            "http://docs.oasis-open.org/wss/oasis-wss-saml-token-profile-1.1#SAMLV2.0",
            "http://docs.oasis-open.org/wss/oasis-wss-saml-token-profile-1.1#SAMLID",
        ),
    };
    format!(
        "<o:SecurityTokenReference k:TokenType=\"{profile}\" xmlns:k=\"http://docs.oasis-open.org/\
         wss/oasis-wss-wssecurity-secext-1.1.xsd\" xmlns:o=\"{WSSE_NS}\"><o:KeyIdentifier \
         ValueType=\"{value_type}\">{}</o:KeyIdentifier></o:SecurityTokenReference>",
        t.id
    )
}

/// The WS-Trust 1.3 `RequestSecurityTokenResponseCollection`.
pub fn rstr_13(t: &Issued) -> String {
    let r = token_reference(t);
    format!(
        "<trust:RequestSecurityTokenResponseCollection xmlns:trust=\"{WS_TRUST_13_NS}\">\
         <trust:RequestSecurityTokenResponse>{}{}<trust:RequestedSecurityToken>{}\
         </trust:RequestedSecurityToken><trust:RequestedAttachedReference>{r}\
         </trust:RequestedAttachedReference><trust:RequestedUnattachedReference>{r}\
         </trust:RequestedUnattachedReference><trust:TokenType>{}</trust:TokenType>\
         <trust:RequestType>{WS_TRUST_13_NS}/Issue</trust:RequestType><trust:KeyType>\
         {WS_TRUST_13_NS}/Bearer</trust:KeyType></trust:RequestSecurityTokenResponse>\
         </trust:RequestSecurityTokenResponseCollection>",
        lifetime("trust", t),
        applies_to(&t.audience),
        t.xml,
        t.version.token_type()
    )
}

/// A SOAP 1.2 envelope with ADFS's header (action, optional `RelatesTo`, a five-minute
/// timestamp) around `body`.
pub fn envelope(action: &str, relates_to: Option<&str>, now_ms: i64, body: &str) -> String {
    let relates = relates_to
        .map(|m| format!("<a:RelatesTo>{}</a:RelatesTo>", escape_text(m)))
        .unwrap_or_default();
    format!(
        "<s:Envelope xmlns:s=\"{SOAP12_NS}\" xmlns:a=\"{WSA_NS}\" xmlns:u=\"{WSU_NS}\"><s:Header>\
         <a:Action s:mustUnderstand=\"1\">{action}</a:Action>{relates}<o:Security \
         s:mustUnderstand=\"1\" xmlns:o=\"{WSSE_NS}\"><u:Timestamp u:Id=\"_0\"><u:Created>{}\
         </u:Created><u:Expires>{}</u:Expires></u:Timestamp></o:Security></s:Header><s:Body>\
         {body}</s:Body></s:Envelope>",
        instant(now_ms),
        instant(now_ms.saturating_add(300_000))
    )
}
