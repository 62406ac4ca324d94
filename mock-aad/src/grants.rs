//! The grant store: everything Azure AD remembers between requests.
//!
//! - Refresh tokens: opaque, stored server-side, bound to user + client + tenant, carrying the
//!   instant of the original sign-in (what AADSTS50173 compares with TokensValidFrom) and of last use
//!   (what AADSTS700082 measures). The sign-in instant keeps its sub-second part in 100 ns ticks
//!   (a .NET `DateTime` tick) because AADSTS50173 prints it with seven fraction digits
//!   (`2017-10-28T17:20:13.2960000Z`); the token claims (`iat`, `auth_time`) use whole seconds.
//! - Authorization codes: single use (AADSTS54005 on reuse), with the PKCE challenge and the
//!   nonce of the authorize request.
//! - Device codes: pending until the device page approves or declines them.
//!
//! The store is plain data behind one `Mutex` in [`crate::state::Shared`]; no lock is held
//! across an `.await`.

use std::collections::HashMap;

use time::OffsetDateTime;
use uuid::Uuid;

/// What a sign-in proved, carried from the sign-in into every token and refresh token it yields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthContext {
    pub tid: Uuid,
    pub user_oid: Uuid,
    /// `amr` values: `pwd`, plus `mfa` after the second factor.
    pub amr: Vec<String>,
    /// Unix seconds of the original interactive/password sign-in.
    pub auth_time: i64,
    /// The sub-second part of that instant, in 100 ns ticks (`0..10_000_000`).
    pub auth_ticks: u32,
}

/// 100 ns ticks in a second (.NET `TimeSpan.TicksPerSecond`).
pub const TICKS_PER_SECOND: u32 = 10_000_000;

/// Splits an instant into whole Unix seconds and the 100 ns ticks past them.
pub fn split_instant(t: OffsetDateTime) -> (i64, u32) {
    (t.unix_timestamp(), t.nanosecond() / 100)
}

impl AuthContext {
    /// A sign-in of `user_oid` in `tid` that happened at `at`.
    pub fn signed_in(tid: Uuid, user_oid: Uuid, amr: Vec<String>, at: OffsetDateTime) -> Self {
        let (auth_time, auth_ticks) = split_instant(at);
        AuthContext {
            tid,
            user_oid,
            amr,
            auth_time,
            auth_ticks,
        }
    }

    /// The sign-in instant to the tick: what AADSTS50173 and 700081 print as the grant's issue
    /// instant.
    pub fn auth_instant(&self) -> OffsetDateTime {
        let secs = OffsetDateTime::from_unix_timestamp(self.auth_time)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH);
        let ticks = self.auth_ticks.min(TICKS_PER_SECOND - 1);
        secs.replace_nanosecond(ticks * 100).unwrap_or(secs)
    }

    pub fn mfa_done(&self) -> bool {
        self.amr.iter().any(|a| a == "mfa")
    }
}

/// A stored refresh token.
#[derive(Debug, Clone)]
pub struct RefreshGrant {
    pub auth: AuthContext,
    pub client_id: Uuid,
    /// v1 resource or v2 scopes it was issued with (informational; AAD refresh tokens are
    /// multi-resource).
    pub scope: String,
    /// Unix seconds when this token value was issued (rotation issues a new value).
    pub issued_at: i64,
    /// Unix seconds of the last redemption (or issue).
    pub last_used: i64,
    /// Set by an admin revoke of this one token.
    pub revoked: bool,
}

/// An authorization code waiting to be redeemed.
#[derive(Debug, Clone)]
pub struct AuthCode {
    pub auth: AuthContext,
    pub client_id: Uuid,
    pub redirect_uri: String,
    /// v1 `resource` (authorize on /oauth2/authorize).
    pub resource: Option<String>,
    /// v2 `scope` (authorize on /oauth2/v2.0/authorize).
    pub scope: Option<String>,
    pub code_challenge: Option<String>,
    /// `S256` or `plain`.
    pub code_challenge_method: Option<String>,
    pub nonce: Option<String>,
    /// Unix seconds.
    pub expires_at: i64,
    pub redeemed: bool,
}

/// State of a device-flow request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeviceState {
    Pending,
    Approved(AuthContext),
    Declined,
}

/// A device code issued by `/devicecode`.
#[derive(Debug, Clone)]
pub struct DeviceCode {
    pub device_code: String,
    pub user_code: String,
    pub client_id: Uuid,
    /// The tenant segment of the devicecode request (tid or domain).
    pub tenant: String,
    pub resource: Option<String>,
    pub scope: Option<String>,
    pub expires_at: i64,
    pub state: DeviceState,
    /// `true` once the token endpoint has issued tokens for it.
    pub redeemed: bool,
}

/// All grants.
#[derive(Debug, Default)]
pub struct GrantStore {
    pub refresh: HashMap<String, RefreshGrant>,
    pub codes: HashMap<String, AuthCode>,
    /// Keyed by device_code.
    pub devices: HashMap<String, DeviceCode>,
}

impl GrantStore {
    /// Finds a pending device code by the user code typed on the device page (case-insensitive).
    pub fn device_by_user_code_mut(&mut self, user_code: &str) -> Option<&mut DeviceCode> {
        let want = user_code.trim().to_ascii_uppercase();
        self.devices
            .values_mut()
            .find(|d| d.user_code.eq_ignore_ascii_case(&want))
    }

    /// Marks every refresh token of a user as revoked (admin "revoke one user's tokens" is done via
    /// TokensValidFrom; this is for the single-token revoke API).
    pub fn revoke_token(&mut self, token: &str) -> bool {
        match self.refresh.get_mut(token) {
            Some(g) => {
                g.revoked = true;
                true
            }
            None => false,
        }
    }

    /// Number of live (not revoked) refresh tokens for a user.
    pub fn refresh_count_for(&self, oid: Uuid) -> usize {
        self.refresh
            .values()
            .filter(|g| g.auth.user_oid == oid && !g.revoked)
            .count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn a_sign_in_instant_is_kept_to_the_100_ns_tick() {
        let at = datetime!(2017-10-28 17:20:13.2960001 UTC);
        let a = AuthContext::signed_in(Uuid::nil(), Uuid::nil(), vec!["pwd".into()], at);
        assert_eq!((a.auth_time, a.auth_ticks), (1_509_211_213, 2_960_001));
        assert_eq!(a.auth_instant(), at);
        assert_eq!(
            crate::timefmt::aad_instant(a.auth_instant()),
            "2017-10-28T17:20:13.2960001Z"
        );
        // Below a tick is dropped, never rounded up.
        let (_, ticks) = split_instant(datetime!(2017-10-28 17:20:13.99999999 UTC));
        assert_eq!(ticks, 9_999_999);
        // An out-of-range tick count (hand-built state) still gives an instant in the same second.
        let odd = AuthContext {
            auth_ticks: u32::MAX,
            ..a
        };
        assert_eq!(odd.auth_instant().unix_timestamp(), 1_509_211_213);
    }
}
