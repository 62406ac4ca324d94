//! AADSTS codes of the grants a client redeems: refresh tokens (revocation, lifetimes),
//! authorization codes (reuse, PKCE) and device codes (polling).

use lab_kit::catalogue::Fidelity;
use time::OffsetDateTime;

use crate::aadsts::entry::{Entry, DEFAULTS};
use crate::error::AadError;
use crate::timefmt;

/// AADSTS50173: the grant predates the user's TokensValidFrom.
pub const AADSTS50173: Entry = Entry {
    code: 50173,
    error: "invalid_grant",
    message: "The provided grant has expired due to it being revoked. The user might have changed or reset their password. The grant was issued on '{issued}' and the TokensValidFrom date for this user is '{valid_from}'",
    when: "refresh token older than the user's or tenant's TokensValidFrom (password change, revocation); a tenant with `revocation_response: unicorn` answers the guide's `400 Bad Unicorn` / `unicorn_rampage` instead",
    source: Fidelity::GuideCapture,
    // TokensValidFrom is whole seconds, as the admin API sets it.
    fault: |c| AadError::grant_revoked(c.issued(), c.now().replace_nanosecond(0).unwrap_or(c.now())),
    ..DEFAULTS
};

/// AADSTS70008: authorization code or refresh token expired.
pub const AADSTS70008: Entry = Entry {
    code: 70008,
    error: "invalid_grant",
    message: "The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.",
    when: "authorization code past its lifetime",
    source: Fidelity::PublicCapture,
    fault: |_| AadError::code_expired(),
    ..DEFAULTS
};

/// AADSTS700081: refresh token past its maximum age.
pub const AADSTS700081: Entry = Entry {
    code: 700081,
    error: "invalid_grant",
    message: "The refresh token has expired due to maximum lifetime. The token was issued on {issued} and the maximum allowed lifetime for this application is {max_age}.",
    when: "refresh token older than the tenant's `refresh_token_max_age`",
    source: Fidelity::PublicCapture,
    fault: |c| AadError::refresh_max_age(c.issued(), c.max_age.unwrap_or(86_400)),
    ..DEFAULTS
};

/// AADSTS700082: refresh token unused for too long.
pub const AADSTS700082: Entry = Entry {
    code: 700082,
    error: "invalid_grant",
    message: "The refresh token has expired due to inactivity. The token was issued on {issued} and was inactive for {inactive}.",
    when: "refresh token unused longer than `refresh_token_max_inactive`",
    source: Fidelity::PublicCapture,
    fault: |c| AadError::refresh_inactive(c.issued(), c.max_inactive.unwrap_or(90 * 86_400)),
    ..DEFAULTS
};

/// AADSTS54005: authorization code redeemed twice.
pub const AADSTS54005: Entry = Entry {
    code: 54005,
    error: "invalid_grant",
    message: "OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.",
    when: "authorization code redeemed a second time",
    source: Fidelity::PublicCapture,
    fault: |_| AadError::code_redeemed(),
    ..DEFAULTS
};

/// AADSTS70000: scopes unauthorized or expired.
pub const AADSTS70000: Entry = Entry {
    code: 70000,
    error: "invalid_grant",
    message: "The request was denied because one or more scopes requested are unauthorized or expired. The user must first sign in and grant the client application access to the requested scope.",
    when: "grant issued to another client, or one revoked alone through the admin API",
    source: Fidelity::PublicCapture,
    fault: |_| AadError::scopes_unauthorized(),
    ..DEFAULTS
};

/// AADSTS9002313: malformed or unknown grant.
pub const AADSTS9002313: Entry = Entry {
    code: 9002313,
    error: "invalid_grant",
    message: "Invalid request. Request is malformed or invalid.",
    suberror: Some("bad_token"),
    when: "unknown or garbage refresh token or authorization code",
    source: Fidelity::PublicCapture,
    fault: |_| AadError::malformed_grant(),
    ..DEFAULTS
};

/// AADSTS50148: PKCE verifier does not match the challenge.
pub const AADSTS50148: Entry = Entry {
    code: 50148,
    error: "invalid_grant",
    message: "The code_verifier does not match the code_challenge supplied in the authorization request for PKCE.",
    when: "`code_verifier` missing or not matching the authorize request's challenge",
    source: Fidelity::Inferred,
    fault: |_| AadError::pkce_mismatch(),
    ..DEFAULTS
};

/// AADSTS70016: device flow still pending.
pub const AADSTS70016: Entry = Entry {
    code: 70016,
    error: "authorization_pending",
    message: "OAuth 2.0 device flow error. Authorization is pending. Continue polling.",
    when: "device code polled before the user finished signing in",
    source: Fidelity::PublicCapture,
    fault: |_| AadError::authorization_pending(),
    ..DEFAULTS
};

/// AADSTS70020: device code expired.
pub const AADSTS70020: Entry = Entry {
    code: 70020,
    error: "expired_token",
    message: "The provided value for the input parameter 'device_code' is not valid. This device code has expired.",
    when: "device code polled after its 15 minutes",
    source: Fidelity::PublicCapture,
    fault: |_| AadError::device_code_expired(),
    ..DEFAULTS
};

/// AADSTS70019: the user declined the device flow (the lab's code for `authorization_declined`).
pub const AADSTS70019: Entry = Entry {
    code: 70019,
    error: "authorization_declined",
    message: "The end user denied the authorization request.",
    when: "Cancel on the device-code confirmation page",
    source: Fidelity::Documented,
    fault: |_| AadError::authorization_declined(),
    ..DEFAULTS
};

/// AADSTS70018: unknown device code.
pub const AADSTS70018: Entry = Entry {
    code: 70018,
    error: "bad_verification_code",
    message: "Invalid verification code entered.",
    when: "unknown or already redeemed device code",
    source: Fidelity::Documented,
    fault: |_| AadError::bad_verification_code(),
    ..DEFAULTS
};

/// AADSTS50196: Azure AD's loop detection, met by a device-code client that polls far faster
/// than the `interval` it was given (RFC 8628's `slow_down` is not what Azure AD answers).
pub const AADSTS50196: Entry = Entry {
    code: 50196,
    error: "invalid_grant",
    message: "The server terminated an operation because it encountered a client request loop. Please contact your app vendor.",
    when: "a device code polled more than 10 times in a row sooner than half its `interval` after the previous poll (the threshold and the `error` value are the lab's; the message is Azure AD's)",
    source: Fidelity::PublicCapture,
    fault: |_| AadError::client_request_loop(),
    ..DEFAULTS
};

/// This family's rows, in the order the catalogue lists them.
pub const ROWS: &[Entry] = &[
    AADSTS50173,
    AADSTS70008,
    AADSTS700081,
    AADSTS700082,
    AADSTS54005,
    AADSTS70000,
    AADSTS9002313,
    AADSTS50148,
    AADSTS70016,
    AADSTS50196,
    AADSTS70020,
    AADSTS70019,
    AADSTS70018,
];

impl AadError {
    /// AADSTS50173: the grant predates the user's TokensValidFrom, with the field guide's
    /// "Password Changed?" wording; in the guide's era (the default) exactly its capture, without
    /// `error_uri` (a 2021 capture has one, and longer wording known only in part).
    pub fn grant_revoked(issued: OffsetDateTime, valid_from: OffsetDateTime) -> Self {
        AADSTS50173.error(&[
            ("issued", &timefmt::aad_instant(issued)),
            ("valid_from", &timefmt::aad_instant(valid_from)),
        ])
    }

    /// AADSTS50173 as the field guide's "Unicorn Rampage" answer to a tenant-wide revocation:
    /// `400 Bad Unicorn`, `unicorn_rampage`, a description without the AADSTS prefix and no
    /// `error_uri` in either era (the answer exists only in the guide).
    pub fn unicorn_rampage(valid_from: OffsetDateTime) -> Self {
        let mut e = AADSTS50173.with_message("").with_error("unicorn_rampage");
        e.reason = Some("Bad Unicorn");
        e.raw_description = Some(format!(
            "The Unicorns are on a rampage. It\u{2019}s time go home\u{201d} '{}'",
            timefmt::aad_instant(valid_from)
        ));
        e.with_error_uri = false;
        e.cache_control = Some("no-cache, no-store, not-bloody-safe");
        e
    }

    /// AADSTS70008: authorization code or refresh token expired.
    pub fn code_expired() -> Self {
        AADSTS70008.error(&[])
    }

    /// AADSTS700081: refresh token past its maximum age.
    pub fn refresh_max_age(issued: OffsetDateTime, max_age_secs: i64) -> Self {
        AADSTS700081.error(&[
            ("issued", &timefmt::aad_instant(issued)),
            ("max_age", &timefmt::dotnet_timespan(max_age_secs)),
        ])
    }

    /// AADSTS700082: refresh token unused for too long.
    pub fn refresh_inactive(issued: OffsetDateTime, inactive_secs: i64) -> Self {
        AADSTS700082.error(&[
            ("issued", &timefmt::aad_instant(issued)),
            ("inactive", &timefmt::dotnet_timespan(inactive_secs)),
        ])
    }

    /// AADSTS54005: authorization code redeemed twice.
    pub fn code_redeemed() -> Self {
        AADSTS54005.error(&[])
    }

    /// AADSTS70000: scopes unauthorized or expired.
    pub fn scopes_unauthorized() -> Self {
        AADSTS70000.error(&[])
    }

    /// AADSTS9002313: malformed or unknown grant.
    pub fn malformed_grant() -> Self {
        AADSTS9002313.error(&[])
    }

    /// AADSTS50148: PKCE mismatch.
    pub fn pkce_mismatch() -> Self {
        AADSTS50148.error(&[])
    }

    /// AADSTS70016: device flow still pending.
    pub fn authorization_pending() -> Self {
        AADSTS70016.error(&[])
    }

    /// AADSTS50196: a client polling in a loop.
    pub fn client_request_loop() -> Self {
        AADSTS50196.error(&[])
    }

    /// AADSTS70020: device code expired.
    pub fn device_code_expired() -> Self {
        AADSTS70020.error(&[])
    }

    /// AADSTS70019: the user declined the device flow.
    pub fn authorization_declined() -> Self {
        AADSTS70019.error(&[])
    }

    /// AADSTS70018: unknown device code.
    pub fn bad_verification_code() -> Self {
        AADSTS70018.error(&[])
    }
}
