//! AADSTS codes of the on-behalf-of grant's assertion: malformed, failing validation (signature,
//! issuer, audience, not a user token) or expired.

use lab_kit::catalogue::Fidelity;
use time::OffsetDateTime;

use crate::aadsts::entry::{fill, Entry, DEFAULTS};
use crate::error::AadError;
use crate::timefmt;

/// AADSTS50027: an assertion that is not a well-formed JWT.
pub const AADSTS50027: Entry = Entry {
    code: 50027,
    error: "invalid_request",
    message: "JWT token is invalid or malformed.",
    when: "on-behalf-of `assertion` is not a JWT (or has no `tid`)",
    source: Fidelity::PublicCapture,
    fault: |_| AadError::assertion_malformed(),
    ..DEFAULTS
};

/// AADSTS50013: an assertion that fails validation. The row's text is the signature failure;
/// the other checks have their own sentences below.
pub const AADSTS50013: Entry = Entry {
    code: 50013,
    error: "invalid_grant",
    message: "Assertion failed signature validation. [Reason - The provided signature value did not match the expected signature value.]",
    when: "on-behalf-of assertion with a bad signature; an unknown key, a foreign issuer, another audience or an app token get their own sentence under the same code",
    source: Fidelity::Inferred,
    fault: |_| AadError::assertion_bad_signature(),
    ..DEFAULTS
};

/// AADSTS50013's sentence for a key the service does not publish.
const UNKNOWN_KEY: &str = "Assertion failed signature validation. [Reason - The key was not found., Thumbprint of key used by client: '{kid}']";
/// AADSTS50013's sentence for an issuer that is not the tenant's.
const BAD_ISSUER: &str = "Assertion contains an invalid issuer.";
/// AADSTS50013's sentence for an assertion issued to another application.
const WRONG_AUDIENCE: &str = "Assertion audience does not match the Client app presenting the assertion. The audience in the assertion was '{aud}' and the expected audience is '{client_id}' or one of the Application Id URIs of this application with App ID {client_id}({app_name}). The downstream client must request a token for the expected audience (the application that made the OBO request) and this application should use that token as the assertion.";
/// AADSTS50013's sentence for an app-only token.
const NOT_USER: &str =
    "Assertion is not a user token; on-behalf-of needs a delegated (user) token.";

/// AADSTS500133: an assertion past its expiry.
pub const AADSTS500133: Entry = Entry {
    code: 500133,
    error: "invalid_grant",
    message: "Assertion is not within its valid time range. Ensure that the access token is not expired before using it for user assertion, or request a new token. Current time: {now}, expiry time of assertion {exp}.",
    when: "on-behalf-of assertion past its `exp`, or with an `nbf` more than five minutes ahead (same sentence; the not-yet-valid case is inferred); a federated SAML token outside its lifetime (five minutes of skew) gets the 2019 sentence `Assertion is not within its valid time range.`",
    source: Fidelity::PublicCapture,
    fault: |c| AadError::assertion_expired(c.now(), c.now() - time::Duration::hours(1)),
    ..DEFAULTS
};

/// AADSTS500133's 2019 sentence, used for SAML tokens (no access-token advice in it).
const SAML_EXPIRED: &str = "Assertion is not within its valid time range.";

/// This family's rows, in the order the catalogue lists them.
pub const ROWS: &[Entry] = &[AADSTS50027, AADSTS50013, AADSTS500133];

impl AadError {
    /// AADSTS50027: an on-behalf-of assertion that is not a well-formed JWT.
    pub fn assertion_malformed() -> Self {
        AADSTS50027.error(&[])
    }

    /// AADSTS50013: the assertion's signature does not verify.
    pub fn assertion_bad_signature() -> Self {
        AADSTS50013.error(&[])
    }

    /// AADSTS50013: the assertion is signed with a key the service does not publish.
    pub fn assertion_unknown_key(kid: &str) -> Self {
        AADSTS50013.with_message(fill(UNKNOWN_KEY, &[("kid", kid)]))
    }

    /// AADSTS50013: the assertion's issuer is not the tenant's.
    pub fn assertion_bad_issuer() -> Self {
        AADSTS50013.with_message(BAD_ISSUER)
    }

    /// AADSTS50013: the assertion was issued to another application than the one presenting it.
    pub fn assertion_wrong_audience(aud: &str, client_id: &str, app_name: &str) -> Self {
        AADSTS50013.with_message(fill(
            WRONG_AUDIENCE,
            &[
                ("aud", aud),
                ("client_id", client_id),
                ("app_name", app_name),
            ],
        ))
    }

    /// AADSTS50013: the assertion is an app-only token.
    pub fn assertion_not_user() -> Self {
        AADSTS50013.with_message(NOT_USER)
    }

    /// AADSTS500133 in its shorter 2019 wording: a federated SAML token outside its
    /// `NotBefore`/`NotOnOrAfter`.
    pub fn saml_expired() -> Self {
        AADSTS500133.with_message(SAML_EXPIRED)
    }

    /// AADSTS500133: an on-behalf-of assertion past its expiry.
    pub fn assertion_expired(now: OffsetDateTime, exp: OffsetDateTime) -> Self {
        AADSTS500133.error(&[
            ("now", &timefmt::aad_instant(now)),
            ("exp", &timefmt::aad_instant(exp)),
        ])
    }
}
