//! AADSTS codes of hybrid identity: a federated IdP's token (the WS-Federation response posted to
//! `login.srf` and the SAML bearer grants) and pass-through authentication's agent.
//!
//! The order Azure AD checks a federated token in (syntax, realm by issuer, key and signature,
//! user by ImmutableID) is `crate::federation`'s; here are only the codes and texts. The
//! pass-through texts are the error-code reference's descriptions without their name prefix,
//! as Azure AD's wire messages drop it (documented, not captured).

use lab_kit::catalogue::Fidelity;

use crate::aadsts::entry::{fill, Entry, DEFAULTS};
use crate::error::AadError;

/// AADSTS50107: no federated domain has the token's issuer as its IssuerUri.
pub const AADSTS50107: Entry = Entry {
    code: 50107,
    error: "invalid_request",
    message: "The requested federation realm object '{issuer}' does not exist.",
    when: "a federated token whose issuer is no federated domain's `issuer_uri` (in the tenant the request names)",
    source: Fidelity::PublicCapture,
    fault: |_| AadError::realm_not_found("http://adfs.contoso.com/adfs/services/trust"),
    ..DEFAULTS
};

/// AADSTS50008: the SAML token cannot be read or does not say what Azure AD needs.
pub const AADSTS50008: Entry = Entry {
    code: 50008,
    error: "invalid_grant",
    message: "SAML assertion is missing or misconfigured in the token. Contact your federation provider.",
    when: "a federated token that is not a SAML assertion, lacks a part, names another audience than `urn:federation:MicrosoftOnline`, or has another SAML version than the grant (then the captured `Cannot read SecurityToken. Expected element is (Assertion, …) the actual element is (Assertion, …).`)",
    source: Fidelity::Documented,
    fault: |_| AadError::saml_invalid(),
    ..DEFAULTS
};

/// AADSTS50008's captured sentence for an assertion of the other SAML version.
const WRONG_VERSION: &str = "Cannot read SecurityToken. Expected element is (Assertion, {expected}) the actual element is (Assertion, {actual}).";

/// AADSTS5000811: signed with a certificate the domain's federation settings do not hold.
pub const AADSTS5000811: Entry = Entry {
    code: 5000811,
    error: "invalid_grant",
    message: "Unable to verify token signature. The signing key identifier does not match any valid registered keys.",
    when: "a federated token signed with a certificate that is neither the domain's `signing_certificate` nor its `next_signing_certificate` (the IdP rolled its certificate and the tenant was not updated)",
    source: Fidelity::PublicCapture,
    fault: |_| AadError::saml_unknown_key(),
    ..DEFAULTS
};

/// AADSTS50006: the signature does not verify (the token was changed after signing).
pub const AADSTS50006: Entry = Entry {
    code: 50006,
    error: "invalid_grant",
    message: "Signature verification failed because of an invalid signature.",
    when: "a federated token changed after it was signed (digest or signature value wrong)",
    source: Fidelity::Documented,
    fault: |_| AadError::saml_bad_signature(),
    ..DEFAULTS
};

/// AADSTS51004: no user has the token's ImmutableID.
pub const AADSTS51004: Entry = Entry {
    code: 51004,
    error: "invalid_grant",
    message: "The user account doesn't exist in the directory.",
    when: "a federated token whose ImmutableID no user of the realm's tenant has (not yet synced)",
    source: Fidelity::Documented,
    fault: |_| AadError::immutable_id_unknown(),
    ..DEFAULTS
};

/// AADSTS20012: the WS-Federation response is not XML.
pub const AADSTS20012: Entry = Entry {
    code: 20012,
    error: "invalid_request",
    message: "There's an issue with your federated Identity Provider. Contact your IDP to resolve this issue.",
    when: "`login.srf` with a `wresult` that is not XML or holds no token",
    source: Fidelity::Documented,
    fault: |_| AadError::wsfed_invalid(),
    ..DEFAULTS
};

/// AADSTS90081: the WS-Federation message is not a sign-in response.
pub const AADSTS90081: Entry = Entry {
    code: 90081,
    error: "invalid_request",
    message: "An error occurred when the service tried to process a WS-Federation message. The message is not valid.",
    when: "`login.srf` without `wa=wsignin1.0`",
    source: Fidelity::Documented,
    fault: |_| AadError::wsfed_message_invalid(),
    ..DEFAULTS
};

/// AADSTS90013: the WS-Federation response carries no token.
pub const AADSTS90013: Entry = Entry {
    code: 90013,
    error: "invalid_request",
    message: "Invalid input received from the user.",
    when: "`login.srf` without `wresult`",
    source: Fidelity::Inferred,
    fault: |_| AadError::wsfed_no_result(),
    ..DEFAULTS
};

/// AADSTS80001: no pass-through agent answered.
pub const AADSTS80001: Entry = Entry {
    code: 80001,
    error: "invalid_grant",
    message: "The Authentication Agent is unable to connect to Active Directory. Make sure that agent servers are members of the same AD forest as the users whose passwords need to be validated and they are able to connect to Active Directory.",
    when: "pass-through user's password while the tenant's `pta_agent` is `down`",
    source: Fidelity::Documented,
    fault: |_| AadError::pta_unavailable(),
    ..DEFAULTS
};

/// AADSTS80002: the pass-through agent answered too late.
pub const AADSTS80002: Entry = Entry {
    code: 80002,
    error: "invalid_grant",
    message: "Password validation request timed out. Make sure that Active Directory is available and responding to requests from the agents.",
    when: "pass-through user's password while the tenant's `pta_agent` is `slow`",
    source: Fidelity::Documented,
    fault: |_| AadError::pta_timed_out(),
    ..DEFAULTS
};

/// This family's rows, in the order the catalogue lists them.
pub const ROWS: &[Entry] = &[
    AADSTS20012,
    AADSTS90081,
    AADSTS90013,
    AADSTS50107,
    AADSTS50008,
    AADSTS5000811,
    AADSTS50006,
    AADSTS51004,
    AADSTS80001,
    AADSTS80002,
];

impl AadError {
    /// AADSTS50107: no federation realm has `issuer`.
    pub fn realm_not_found(issuer: &str) -> Self {
        AADSTS50107.error(&[("issuer", issuer)])
    }

    /// AADSTS50008: the SAML token is missing or misconfigured.
    pub fn saml_invalid() -> Self {
        AADSTS50008.error(&[])
    }

    /// AADSTS50008: an assertion of namespace `actual` where `expected` was due.
    pub fn saml_wrong_version(expected: &str, actual: &str) -> Self {
        AADSTS50008.with_message(fill(
            WRONG_VERSION,
            &[("expected", expected), ("actual", actual)],
        ))
    }

    /// AADSTS5000811: signed with a certificate the tenant does not hold for the realm.
    pub fn saml_unknown_key() -> Self {
        AADSTS5000811.error(&[])
    }

    /// AADSTS50006: the signature does not verify.
    pub fn saml_bad_signature() -> Self {
        AADSTS50006.error(&[])
    }

    /// AADSTS51004: no user with the token's ImmutableID.
    pub fn immutable_id_unknown() -> Self {
        AADSTS51004.error(&[])
    }

    /// AADSTS20012: the WS-Federation response cannot be read.
    pub fn wsfed_invalid() -> Self {
        AADSTS20012.error(&[])
    }

    /// AADSTS90081: not a WS-Federation sign-in response.
    pub fn wsfed_message_invalid() -> Self {
        AADSTS90081.error(&[])
    }

    /// AADSTS90013: no `wresult`.
    pub fn wsfed_no_result() -> Self {
        AADSTS90013.error(&[])
    }

    /// AADSTS80001: no pass-through agent available.
    pub fn pta_unavailable() -> Self {
        AADSTS80001.error(&[])
    }

    /// AADSTS80002: the pass-through agent timed out.
    pub fn pta_timed_out() -> Self {
        AADSTS80002.error(&[])
    }
}
