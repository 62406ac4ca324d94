//! Server-side sign-in state: the pending page flows and the SSO sessions of the sign-in pages.
//!
//! Plain data, kept apart from the pages that walk it (`crate::web`) so the shared state can hold
//! it without depending on a handler. Where a browser's sign-in stands is never taken from the
//! page: every form carries only an opaque `flowToken`, the key of a [`Flow`] here, and a finished
//! sign-in leaves an [`SsoSession`] keyed by the `ESTSAUTH` cookie. Both maps are bounded (oldest
//! evicted first) so a flood of abandoned flows cannot exhaust memory.

use std::collections::{HashMap, VecDeque};

use uuid::Uuid;

/// How long a page may sit before its flow token expires (AADSTS50089).
pub const FLOW_TTL_SECS: i64 = 1800;
/// Lifetime of an SSO session without "Stay signed in?".
pub const SESSION_TTL_SECS: i64 = 24 * 3600;
/// Lifetime of an SSO session after "Stay signed in? Yes".
pub const PERSISTENT_TTL_SECS: i64 = 90 * 86_400;
/// At most this many pending flows and SSO sessions are kept; the oldest go first.
pub const MAX_ENTRIES: usize = 10_000;

/// A map that forgets its oldest entries beyond a capacity.
#[derive(Debug)]
struct Bounded<T> {
    map: HashMap<String, T>,
    order: VecDeque<String>,
    cap: usize,
}

impl<T> Bounded<T> {
    fn new(cap: usize) -> Self {
        Bounded {
            map: HashMap::new(),
            order: VecDeque::new(),
            cap: cap.max(1),
        }
    }

    fn insert(&mut self, key: String, value: T) {
        if self.map.insert(key.clone(), value).is_none() {
            self.order.push_back(key);
        }
        while self.map.len() > self.cap {
            match self.order.pop_front() {
                Some(old) => {
                    self.map.remove(&old);
                }
                None => break,
            }
        }
        // Removed keys stay in `order` until compaction; keep it from growing without bound.
        if self.order.len() > 2 * self.cap {
            let map = &self.map;
            self.order.retain(|k| map.contains_key(k));
        }
    }

    fn get(&self, key: &str) -> Option<&T> {
        self.map.get(key)
    }

    fn get_mut(&mut self, key: &str) -> Option<&mut T> {
        self.map.get_mut(key)
    }

    fn remove(&mut self, key: &str) -> Option<T> {
        self.map.remove(key)
    }

    fn len(&self) -> usize {
        self.map.len()
    }
}

/// Server-side sign-in state: pending page flows and SSO sessions.
#[derive(Debug)]
pub struct Sessions {
    flows: Bounded<Flow>,
    sso: Bounded<SsoSession>,
}

impl Default for Sessions {
    fn default() -> Self {
        Self::with_capacity(MAX_ENTRIES)
    }
}

impl Sessions {
    /// A store keeping at most `cap` flows and `cap` sessions.
    pub fn with_capacity(cap: usize) -> Self {
        Sessions {
            flows: Bounded::new(cap),
            sso: Bounded::new(cap),
        }
    }
    /// Pending sign-in flows.
    pub fn flow_count(&self) -> usize {
        self.flows.len()
    }
    /// Live SSO sessions.
    pub fn session_count(&self) -> usize {
        self.sso.len()
    }
    /// Stores (or replaces) a flow under its id.
    pub fn save_flow(&mut self, flow: &Flow) {
        self.flows.insert(flow.id.clone(), flow.clone());
    }
    pub fn flow(&self, id: &str) -> Option<&Flow> {
        self.flows.get(id)
    }
    pub fn remove_flow(&mut self, id: &str) -> Option<Flow> {
        self.flows.remove(id)
    }
    pub fn sso(&self, id: &str) -> Option<&SsoSession> {
        self.sso.get(id)
    }
    pub fn sso_mut(&mut self, id: &str) -> Option<&mut SsoSession> {
        self.sso.get_mut(id)
    }
    /// Starts an SSO session under the cookie value `id`.
    pub fn start_sso(&mut self, id: String, session: SsoSession) {
        self.sso.insert(id, session);
    }
    pub fn end_sso(&mut self, id: &str) -> Option<SsoSession> {
        self.sso.remove(id)
    }
}

/// A signed-in browser (the `ESTSAUTH` cookie's session).
#[derive(Debug, Clone)]
pub struct SsoSession {
    pub tid: Uuid,
    pub user_oid: Uuid,
    pub amr: Vec<String>,
    pub auth_time: i64,
    /// 100 ns ticks past `auth_time` (see [`crate::grants::AuthContext::auth_ticks`]).
    pub auth_ticks: u32,
    pub expires_at: i64,
    pub session_state: Uuid,
}

/// How an authorize answer goes back to the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseMode {
    Query,
    Fragment,
    FormPost,
}

/// A validated authorize request (client and redirect URI already checked).
#[derive(Debug, Clone)]
pub struct AuthRequest {
    pub v2: bool,
    pub client_id: Uuid,
    pub redirect_uri: String,
    pub resource: Option<String>,
    pub scope: Option<String>,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub mode: ResponseMode,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    pub correlation_id: Uuid,
    /// Whether the resource/scope was checked against a tenant (deferred for `/common` until
    /// the user names their tenant).
    pub resource_checked: bool,
}

/// What a flow signs the user in for.
#[derive(Debug, Clone)]
pub enum Purpose {
    Authorize(AuthRequest),
    Device {
        /// Key of the device code in the grant store, once the user code was entered.
        device_code: Option<String>,
        client_id: Option<Uuid>,
        resource: Option<String>,
        scope: Option<String>,
    },
}

/// The page a flow is on (what its next form post answers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    DeviceCode,
    Username,
    Password,
    /// Sent to a federated domain's IdP; the next post is its response to `login.srf`.
    Federated,
    Enroll,
    Mfa,
    Consent,
    Kmsi,
    DeviceConfirm,
}

/// One browser's sign-in in progress.
#[derive(Debug, Clone)]
pub struct Flow {
    pub id: String,
    pub purpose: Purpose,
    /// The `{tenant}` path segment the flow started on (`common`, a domain, a tid).
    pub seg: String,
    pub tid: Option<Uuid>,
    pub upn: Option<String>,
    pub user_oid: Option<Uuid>,
    pub amr: Vec<String>,
    pub auth_time: i64,
    /// 100 ns ticks past `auth_time` (see [`crate::grants::AuthContext::auth_ticks`]).
    pub auth_ticks: u32,
    pub step: Step,
    pub expires_at: i64,
    /// `prompt=consent`: show the consent page even when consent exists.
    pub force_consent: bool,
    pub consent_done: bool,
    /// A password was typed in this flow, so "Stay signed in?" is asked.
    pub show_kmsi: bool,
    /// The SSO session this flow continues (prompt absent with a cookie).
    pub sso_id: Option<String>,
}

impl Flow {
    /// The client application the flow signs in for (a device flow knows it once the user code
    /// was entered).
    pub fn client(&self) -> Option<Uuid> {
        match &self.purpose {
            Purpose::Authorize(r) => Some(r.client_id),
            Purpose::Device { client_id, .. } => *client_id,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_map_evicts_oldest() {
        let mut b = Bounded::new(3);
        for i in 0..10 {
            b.insert(format!("k{i}"), i);
        }
        assert_eq!(b.len(), 3);
        assert!(b.get("k6").is_none());
        assert_eq!(b.get("k9"), Some(&9));
        b.remove("k9");
        for i in 10..100 {
            b.insert(format!("k{i}"), i);
        }
        assert_eq!(b.len(), 3);
        assert!(b.order.len() <= 6);
    }
}
