//! The grant store: everything Azure AD remembers between requests.
//!
//! - Refresh tokens: opaque, stored server-side, bound to user + client + tenant, carrying the
//!   instant of the original sign-in (what AADSTS50173 compares with TokensValidFrom) and of last use
//!   (what AADSTS700082 measures).
//! - Authorization codes: single use (AADSTS54005 on reuse), with the PKCE challenge and the
//!   nonce of the authorize request.
//! - Device codes: pending until the device page approves or declines them.
//!
//! The store is plain data behind one `Mutex` in [`crate::state::Shared`]; no lock is held
//! across an `.await`.

use std::collections::HashMap;

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
}

impl AuthContext {
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
