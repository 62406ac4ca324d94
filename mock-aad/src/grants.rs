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
//!
//! The store is bounded, because a lab runs for hours in other people's suites: a grant that can
//! no longer be redeemed — its refresh token inactive or too old, revoked by TokensValidFrom or
//! the admin API, a code past its lifetime, a device code expired — is kept [`DEAD_KEPT_FOR`]
//! more (redeeming it meanwhile still gets its real error, e.g. AADSTS700082 or 50173) and then
//! swept; and each map has a cap ([`MAX_REFRESH`], [`MAX_CODES`], [`MAX_DEVICES`]) past which the
//! least recently used entries go first. A used refresh token is not invalidated by the new one it
//! yields (Azure AD lets it be redeemed again until it expires), so it leaves by the same rules.

use std::collections::HashMap;

use lab_kit::bounded::evict_lowest;

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

/// How long, in lab seconds, a grant that can no longer be redeemed is remembered.
pub const DEAD_KEPT_FOR: i64 = 7 * 86_400;
/// Refresh grants kept at most; past it the least recently used go.
pub const MAX_REFRESH: usize = 50_000;
/// Authorization codes kept at most.
pub const MAX_CODES: usize = 10_000;
/// Device codes kept at most.
pub const MAX_DEVICES: usize = 10_000;
/// Sweeps run at most once per lab hour, unless a map is at its cap.
const SWEEP_EVERY: i64 = 3600;

/// When a refresh grant stopped being redeemable (Unix seconds), as the directory says.
pub trait Liveness {
    fn refresh_dead_since(&self, g: &RefreshGrant) -> Option<i64>;
}

/// When each refresh grant stopped being redeemable, read off the directory once per sweep: the
/// tenant's lifetimes and TokensValidFrom, the user's TokensValidFrom.
pub struct DirectoryLiveness {
    tenants: HashMap<Uuid, (crate::model::TokenLifetimes, Option<i64>)>,
    users: HashMap<Uuid, Option<i64>>,
}

impl DirectoryLiveness {
    pub fn of(dir: &crate::model::Directory) -> Self {
        let unix = |t: &Option<OffsetDateTime>| t.map(|t| t.unix_timestamp());
        DirectoryLiveness {
            tenants: dir
                .tenants
                .iter()
                .map(|t| {
                    (
                        t.tid,
                        (t.token_lifetimes.clone(), unix(&t.tokens_valid_from)),
                    )
                })
                .collect(),
            users: dir
                .tenants
                .iter()
                .flat_map(|t| t.users.iter().map(|u| (u.oid, unix(&u.tokens_valid_from))))
                .collect(),
        }
    }
}

impl Liveness for DirectoryLiveness {
    fn refresh_dead_since(&self, g: &RefreshGrant) -> Option<i64> {
        let (Some((lifetimes, tenant_vf)), Some(user_vf)) = (
            self.tenants.get(&g.auth.tid),
            self.users.get(&g.auth.user_oid),
        ) else {
            // Its tenant or user is gone: nothing can redeem it any more.
            return Some(g.last_used);
        };
        let signed_in = g.auth.auth_time;
        [
            g.revoked.then_some(g.last_used),
            Some(
                g.last_used
                    .saturating_add(lifetimes.refresh_token_max_inactive),
            ),
            lifetimes
                .refresh_token_max_age
                .map(|a| signed_in.saturating_add(a)),
            user_vf.filter(|vf| signed_in < *vf),
            tenant_vf.filter(|vf| signed_in < *vf),
        ]
        .into_iter()
        .flatten()
        .min()
    }
}

/// All grants.
#[derive(Debug, Default)]
pub struct GrantStore {
    pub refresh: HashMap<String, RefreshGrant>,
    pub codes: HashMap<String, AuthCode>,
    /// Keyed by device_code.
    pub devices: HashMap<String, DeviceCode>,
    /// How fast each device code is polled, keyed by device_code.
    polls: HashMap<String, PollPace>,
    /// Lab time of the last sweep.
    last_sweep: i64,
}

/// The pace of one device code's polling.
#[derive(Debug, Clone, Copy, Default)]
struct PollPace {
    /// Lab time of the last poll, in microseconds.
    last_us: i64,
    /// Polls in a row that came sooner than half the interval after the one before.
    early: u32,
}

/// Early polls in a row Azure AD's loop detection lets through before it answers AADSTS50196.
pub const EARLY_POLLS_TOLERATED: u32 = 10;

impl GrantStore {
    /// Whether a sweep is due at lab time `now` (the caller then gathers what [`Self::sweep`]
    /// needs from the directory without holding this store's lock).
    pub fn sweep_due(&self, now: i64) -> bool {
        now.saturating_sub(self.last_sweep) >= SWEEP_EVERY
            || self.refresh.len() >= MAX_REFRESH
            || self.codes.len() >= MAX_CODES
            || self.devices.len() >= MAX_DEVICES
    }

    /// Drops every grant dead for longer than [`DEAD_KEPT_FOR`], then the least recently used of a
    /// map still at its cap.
    pub fn sweep(&mut self, now: i64, live: &impl Liveness) {
        self.last_sweep = now;
        let gone = |dead: Option<i64>| dead.is_some_and(|d| now.saturating_sub(d) > DEAD_KEPT_FOR);
        self.refresh
            .retain(|_, g| !gone(live.refresh_dead_since(g)));
        self.codes.retain(|_, c| !gone(Some(c.expires_at)));
        self.devices.retain(|_, d| !gone(Some(d.expires_at)));
        let devices = &self.devices;
        self.polls.retain(|dc, _| devices.contains_key(dc));
        evict_lowest(&mut self.refresh, MAX_REFRESH, |g| g.last_used);
        evict_lowest(&mut self.codes, MAX_CODES, |c| c.expires_at);
        evict_lowest(&mut self.devices, MAX_DEVICES, |d| d.expires_at);
    }

    /// Records a poll of `device_code` at lab time `now_us`; `true` when it is one of more than
    /// [`EARLY_POLLS_TOLERATED`] polls in a row that each came sooner than half of `interval`
    /// seconds after the previous one (a client ignoring `interval`, as a loop would).
    pub fn poll_too_fast(&mut self, device_code: &str, now_us: i64, interval: i64) -> bool {
        let half = interval.saturating_mul(500_000);
        let pace = self.polls.entry(device_code.to_string()).or_default();
        let early = pace.last_us != 0 && now_us.saturating_sub(pace.last_us) < half;
        pace.early = if early {
            pace.early.saturating_add(1)
        } else {
            0
        };
        pace.last_us = now_us;
        pace.early > EARLY_POLLS_TOLERATED
    }

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

    /// Dead when unused for 90 days, or revoked.
    struct Ninety;
    impl Liveness for Ninety {
        fn refresh_dead_since(&self, g: &RefreshGrant) -> Option<i64> {
            if g.revoked {
                return Some(g.last_used);
            }
            Some(g.last_used + 90 * 86_400)
        }
    }

    fn grant(last_used: i64) -> RefreshGrant {
        RefreshGrant {
            auth: AuthContext::signed_in(
                Uuid::nil(),
                Uuid::nil(),
                vec!["pwd".into()],
                OffsetDateTime::UNIX_EPOCH,
            ),
            client_id: Uuid::nil(),
            scope: String::new(),
            issued_at: last_used,
            last_used,
            revoked: false,
        }
    }

    #[test]
    fn dead_grants_are_kept_a_week_then_swept() {
        let mut g = GrantStore::default();
        g.refresh.insert("old".into(), grant(0));
        g.refresh.insert("new".into(), grant(50 * 86_400));
        let mut revoked = grant(50 * 86_400);
        revoked.revoked = true;
        g.refresh.insert("revoked".into(), revoked);
        // 91 days: "old" is dead but still answers with its expiry error for a week.
        g.sweep(91 * 86_400, &Ninety);
        assert!(g.refresh.contains_key("old"));
        g.sweep(98 * 86_400, &Ninety);
        assert!(!g.refresh.contains_key("old"));
        assert!(g.refresh.contains_key("new"));
        assert!(!g.refresh.contains_key("revoked"));
        assert!(!g.sweep_due(98 * 86_400 + 10));
        assert!(g.sweep_due(98 * 86_400 + 3600));
    }

    #[test]
    fn a_full_store_drops_the_least_recently_used_first() {
        let mut g = GrantStore::default();
        for i in 0..MAX_REFRESH as i64 {
            g.refresh.insert(format!("t{i}"), grant(i));
        }
        assert!(g.sweep_due(0));
        g.sweep(MAX_REFRESH as i64, &Ninety);
        assert_eq!(g.refresh.len(), MAX_REFRESH - MAX_REFRESH / 10);
        assert!(!g.refresh.contains_key("t0"));
        assert!(g.refresh.contains_key(&format!("t{}", MAX_REFRESH - 1)));
        assert!(!g.sweep_due(MAX_REFRESH as i64));
    }

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
