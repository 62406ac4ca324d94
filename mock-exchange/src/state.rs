//! The service state: the configured organization (what the admin API reads and changes), the
//! *effective* snapshot each server's serving path uses (its settings cache: what its IIS and
//! worker process apply), AuthServer metadata, the validated-token cache, mailbox contents and
//! the listeners' addresses.
//!
//! The configured organization is the directory (Active Directory, what `-ADPropertiesOnly`
//! reads); each server takes its own snapshot of it and keeps it until its settings cache
//! expires or it is reset (`iisreset` on that server). So a change reaches every server only
//! after a reset on each — the guide's "You might need to run IISReset on Exchange more than
//! once".
//!
//! All locks are `std::sync` and held only for a copy or a swap; every network call (metadata
//! fetches, proxying) happens with no lock held.
//!
//! Metadata is downloaded on three paths: when none is cached or the cached document is older than
//! 8 hours (the periodic refresh), on `Set-AuthServer -RefreshAuthMetadata` (the admin API), and
//! when a token carries a `kid` no cached document lists. Only the last one can be driven by
//! anyone holding a forged token, so only it is rate-limited: one download per AuthServer per
//! [`metadata::UNKNOWN_KID_REFRESH_SECONDS`] of lab time. Requests that need it while it runs
//! wait for its outcome (a `watch` channel) instead of downloading again.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard, RwLockWriteGuard};

use lab_kit::Clock;
use serde_json::{Map, Value};
use tokio::sync::watch;

use crate::metadata::{self, FetchError, Metadata};
use crate::model::{AuthServer, AuthServerType, Organization};
use crate::surfaces::MailStore;

/// The serving path's view of the settings and when it was taken.
#[derive(Debug, Clone)]
pub struct Effective {
    pub org: Arc<Organization>,
    /// Lab time (unix seconds) the snapshot was taken.
    pub taken_at: i64,
}

/// One AuthServer's cached metadata (or why it could not be read).
#[derive(Debug, Clone)]
pub struct MetaSlot {
    /// The configured `AuthMetadataUrl` this slot was read for.
    pub url: String,
    /// The URL actually fetched (after the lab's AAD host mapping).
    pub fetched_url: String,
    pub result: Result<Metadata, String>,
    /// Lab time of the last attempt.
    pub attempted_at: i64,
    /// Real time of the last attempt: a failure is reused for one real second so a burst of
    /// requests does not refetch, whatever the lab clock does.
    pub(crate) attempted: std::time::Instant,
}

/// What an unknown-kid refresh resolves to, published to the requests that wait for it.
type KidOutcome = Option<Result<Metadata, String>>;

/// The last unknown-kid refresh of one AuthServer.
#[derive(Debug)]
pub(crate) struct KidRefresh {
    /// Lab time it started.
    started_at: i64,
    /// `None` while it downloads; the sender is gone if the request running it was dropped.
    outcome: watch::Receiver<KidOutcome>,
}

/// What a download left: the new document, or why it failed and the last good document kept.
type Download = Result<Metadata, (FetchError, Option<Metadata>)>;

/// The document a download left in use, or why there is none.
fn stored(d: Download) -> Result<Metadata, String> {
    match d {
        Ok(m) | Err((_, Some(m))) => Ok(m),
        Err((e, None)) => Err(e.to_string()),
    }
}

/// A download that failed, and whether a last good document is still in use.
#[derive(Debug, Clone)]
pub struct RefreshFailure {
    pub error: FetchError,
    pub kept_last_good: bool,
}

/// Validated tokens the serving path keeps at most.
pub const MAX_CACHED_TOKENS: usize = 4096;

/// Source of [`Shared`]'s `instance` numbers.
static NEXT_INSTANCE: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Tokens each thread keeps for itself in front of a lab's shared cache.
const NEAR_TOKENS_PER_THREAD: usize = 8;

thread_local! {
    static NEAR_TOKENS: std::cell::RefCell<NearTokens> = const {
        std::cell::RefCell::new(NearTokens { entries: Vec::new(), next: 0 })
    };
}

/// One thread's most recent validated tokens (of any lab in the process), replaced in turn.
/// An entry says no more than the lab's cache said when it was copied: the token was validated
/// and is good until `exp` (a cached token is accepted until it expires, as Exchange does),
/// unless the cache was emptied since (`iisreset`, a new epoch).
struct NearTokens {
    /// (lab instance, its token epoch when copied), token, claims.
    entries: Vec<((u64, u64), Box<str>, CachedToken)>,
    next: usize,
}

impl NearTokens {
    fn get(&self, lab: (u64, u64), token: &str, now: i64) -> Option<CachedToken> {
        self.entries
            .iter()
            .find(|(l, t, _)| *l == lab && &**t == token)
            .map(|(_, _, c)| c)
            .filter(|c| c.exp > now)
            .cloned()
    }

    fn put(&mut self, lab: (u64, u64), token: &str, cached: CachedToken) {
        let entry = (lab, Box::from(token), cached);
        if self.entries.len() < NEAR_TOKENS_PER_THREAD {
            self.entries.push(entry);
        } else {
            self.entries[self.next] = entry;
            self.next = (self.next + 1) % NEAR_TOKENS_PER_THREAD;
        }
    }
}

/// The token cache drops its expired entries each time it grows past a multiple of this.
pub const SWEEP_EVERY: usize = 256;

/// Claims of a token whose signature and issuer were verified, kept until `exp`.
#[derive(Debug, Clone)]
pub struct CachedToken {
    /// Shared, so a cache hit costs a reference count, not a copy of every claim (a thread's
    /// own copy, see [`CachedToken::own_copy`], keeps that count on one core).
    pub claims: Arc<Map<String, Value>>,
    /// The `aud` claim, read once.
    pub audience: Arc<crate::bearer::Audience>,
    pub exp: i64,
}

impl CachedToken {
    /// A copy whose claims and audience are new allocations, so its reference counts are not
    /// shared with the lab's cache (two cores counting on one cache line take turns).
    fn own_copy(&self) -> CachedToken {
        CachedToken {
            claims: Arc::new((*self.claims).clone()),
            audience: Arc::new((*self.audience).clone()),
            exp: self.exp,
        }
    }
}

pub struct Shared {
    pub clock: Clock,
    org: RwLock<Organization>,
    /// Per server (upper-case name): the snapshot its serving path uses.
    effective: RwLock<HashMap<String, Effective>>,
    pub(crate) metadata: RwLock<HashMap<String, MetaSlot>>,
    /// Unknown-kid refreshes by AuthServer name (lower case).
    pub(crate) kid_refresh: Mutex<HashMap<String, KidRefresh>>,
    /// Keyed by the whole token (over a kilobyte): hashed with foldhash (randomly seeded per
    /// process), which costs a fraction of SipHash on keys this long.
    pub(crate) tokens: Mutex<HashMap<String, CachedToken, foldhash::fast::RandomState>>,
    /// Tells this lab's entries in the per-thread token caches from another lab's.
    instance: u64,
    /// How many times the token cache was emptied (`iisreset`): a thread's copy taken before
    /// is no longer good.
    token_epoch: std::sync::atomic::AtomicU64,
    pub store: MailStore,
    pub admin_token: String,
    /// Shared by the front and back ends of this process only: proves a proxied request came
    /// from a front end, so a client cannot forge the identity header.
    pub(crate) proxy_secret: String,
    /// Server name (upper case) → `http://127.0.0.1:PORT` of its listener.
    pub(crate) listeners: RwLock<HashMap<String, String>>,
    pub aad_url: Option<String>,
    pub(crate) http: reqwest::Client,
    /// NTLM per connection: challenges waiting for their AUTHENTICATE message, and logons.
    pub ntlm: Arc<crate::ntlm::Connections>,
}

/// Cheap-to-clone handle on the shared state.
#[derive(Clone)]
pub struct AppState(pub Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

impl AppState {
    pub fn new(
        org: Organization,
        clock: Clock,
        aad_url: Option<String>,
        admin_token: String,
    ) -> Self {
        let store = MailStore::from_org(&org);
        let snapshot = Effective {
            org: Arc::new(org.clone()),
            taken_at: clock.unix(),
        };
        let effective = org
            .servers
            .iter()
            .map(|s| (s.name.to_ascii_uppercase(), snapshot.clone()))
            .collect();
        // Redirects are relayed to the client when proxying (OWA's logon redirect), never followed.
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_default();
        AppState(Arc::new(Shared {
            clock,
            org: RwLock::new(org),
            effective: RwLock::new(effective),
            metadata: RwLock::new(HashMap::new()),
            kid_refresh: Mutex::new(HashMap::new()),
            tokens: Mutex::new(HashMap::default()),
            instance: NEXT_INSTANCE.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            token_epoch: Default::default(),
            store,
            admin_token,
            proxy_secret: random_hex(32),
            listeners: RwLock::new(HashMap::new()),
            aad_url,
            http,
            ntlm: Default::default(),
        }))
    }
}

impl Shared {
    /// The configured organization (what `Get-*` cmdlets show).
    pub fn org(&self) -> RwLockReadGuard<'_, Organization> {
        self.org.read().unwrap_or_else(|p| p.into_inner())
    }

    pub fn org_mut(&self) -> RwLockWriteGuard<'_, Organization> {
        self.org.write().unwrap_or_else(|p| p.into_inner())
    }

    /// What `server`'s serving path sees: its snapshot, refreshed from the configured
    /// organization once `settings_cache_seconds` of lab time have passed since it was taken.
    pub fn effective_for(&self, server: &str) -> Arc<Organization> {
        let now = self.clock.unix();
        // Server names are kept uppercase; most callers already spell them so.
        let key: std::borrow::Cow<'_, str> = if server.bytes().any(|b| b.is_ascii_lowercase()) {
            server.to_ascii_uppercase().into()
        } else {
            server.into()
        };
        {
            let map = self.effective.read().unwrap_or_else(|p| p.into_inner());
            if let Some(eff) = map.get(&*key) {
                if now - eff.taken_at < eff.org.settings_cache_seconds.max(0) {
                    return eff.org.clone();
                }
            }
        }
        self.reload_effective(&key, now)
    }

    /// Copies the directory's accounts and mailboxes into every server's snapshot: recipients
    /// are read from Active Directory as they are, only settings wait for the cache or an
    /// `iisreset` (a new account and mailbox work at once, as after `New-ADUser` and
    /// `Enable-Mailbox`).
    pub fn refresh_recipients(&self) {
        let (accounts, mailboxes) = {
            let org = self.org();
            (org.accounts.clone(), org.mailboxes.clone())
        };
        let mut map = self.effective.write().unwrap_or_else(|p| p.into_inner());
        for eff in map.values_mut() {
            let mut o = (*eff.org).clone();
            o.accounts = accounts.clone();
            o.mailboxes = mailboxes.clone();
            eff.org = Arc::new(o);
        }
    }

    /// The first server's view (the one `GET /_admin/effective` shows without `?server=`).
    pub fn effective(&self) -> Arc<Organization> {
        let first = self.first_server();
        self.effective_for(&first)
    }

    /// The organization's first server (where the lab's Exchange Management Shell runs).
    pub fn first_server(&self) -> String {
        self.org()
            .servers
            .first()
            .map(|s| s.name.clone())
            .unwrap_or_default()
    }

    /// `server`'s snapshot as it is, without refreshing.
    pub fn effective_snapshot_of(&self, server: &str) -> Option<Effective> {
        self.effective
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(&server.to_ascii_uppercase())
            .cloned()
    }

    /// The first server's snapshot as it is, without refreshing.
    pub fn effective_snapshot(&self) -> Effective {
        let first = self.first_server();
        self.effective_snapshot_of(&first)
            .unwrap_or_else(|| Effective {
                org: Arc::new(self.org().clone()),
                taken_at: self.clock.unix(),
            })
    }

    fn reload_effective(&self, key: &str, now: i64) -> Arc<Organization> {
        let org = Arc::new(self.org().clone());
        let mut map = self.effective.write().unwrap_or_else(|p| p.into_inner());
        map.insert(
            key.to_string(),
            Effective {
                org: org.clone(),
                taken_at: now,
            },
        );
        org
    }

    /// `iisreset` on every server: see [`Shared::iisreset_server`].
    pub fn iisreset(&self) {
        let names: Vec<String> = self.org().servers.iter().map(|s| s.name.clone()).collect();
        for n in names {
            self.iisreset_server(&n);
        }
    }

    /// `iisreset` on one server: its worker processes restart — it re-reads the settings, and
    /// the in-memory caches (validated tokens, NTLM logons on open connections) are gone.
    /// AuthServer metadata lives in the directory, not the worker process, so it survives.
    /// Other servers keep their snapshots.
    pub fn iisreset_server(&self, server: &str) {
        self.reload_effective(&server.to_ascii_uppercase(), self.clock.unix());
        {
            let mut tokens = self.tokens.lock().unwrap_or_else(|p| p.into_inner());
            tokens.clear();
            // Under the lock, so no copy taken from the old cache can carry the new epoch.
            self.token_epoch
                .fetch_add(1, std::sync::atomic::Ordering::Release);
        }
        self.ntlm.clear();
    }

    /// The listener URL of a server, when it runs.
    pub fn listener(&self, server: &str) -> Option<String> {
        self.listeners
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(&server.to_ascii_uppercase())
            .cloned()
    }

    /// Cached metadata slot of an AuthServer.
    pub fn metadata_slot(&self, name: &str) -> Option<MetaSlot> {
        self.metadata
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(&name.to_ascii_lowercase())
            .cloned()
    }

    /// The metadata of `auth_server`: cached unless `force`, older than 8 hours of lab time, or
    /// read for another URL. A failed refresh keeps the last good document (as Exchange keeps
    /// the certificates stored on the AuthServer object).
    pub async fn metadata_for(
        &self,
        auth_server: &AuthServer,
        force: bool,
    ) -> Result<Metadata, String> {
        if !force {
            if let Some(cached) = self.cached_metadata(auth_server) {
                return cached;
            }
        }
        stored(self.download_metadata(auth_server).await)
    }

    /// The cached answer for `auth_server`, unless it is due for download: none cached, read for
    /// another URL, older than 8 hours (and no download tried in the last refresh interval), or a
    /// failure older than one real second (a burst of requests does not refetch a failure,
    /// whatever the lab clock does).
    fn cached_metadata(&self, auth_server: &AuthServer) -> Option<Result<Metadata, String>> {
        let slot = self.metadata_slot(&auth_server.name)?;
        if slot.url != auth_server.auth_metadata_url {
            return None;
        }
        let now = self.clock.unix();
        match slot.result {
            Ok(m) if now - m.fetched_at < metadata::REFRESH_SECONDS => Some(Ok(m)),
            // A due refresh that failed (the last good document kept) is tried again only after
            // the refresh interval, as IdentityModel's ConfigurationManager does after a failure.
            Ok(m)
                if (0..metadata::UNKNOWN_KID_REFRESH_SECONDS)
                    .contains(&(now - slot.attempted_at)) =>
            {
                Some(Ok(m))
            }
            Err(e) if slot.attempted.elapsed() < std::time::Duration::from_secs(1) => Some(Err(e)),
            _ => None,
        }
    }

    /// `Set-AuthServer -RefreshAuthMetadata`: downloads now. A failed download is reported even
    /// when the last good document is kept (and keeps serving tokens).
    pub async fn refresh_metadata_now(
        &self,
        auth_server: &AuthServer,
    ) -> Result<Metadata, RefreshFailure> {
        self.download_metadata(auth_server)
            .await
            .map_err(|(error, kept)| RefreshFailure {
                error,
                kept_last_good: kept.is_some(),
            })
    }

    /// The refresh a token whose `kid` no cached document lists asks for: at most one download
    /// per AuthServer per [`metadata::UNKNOWN_KID_REFRESH_SECONDS`] of lab time. A request that
    /// comes while that download runs waits for it; one that comes later in the interval gets
    /// the cached document (which the periodic refresh still renews when it is due).
    pub async fn metadata_for_unknown_kid(
        &self,
        auth_server: &AuthServer,
    ) -> Result<Metadata, String> {
        enum Role {
            Lead(watch::Sender<KidOutcome>),
            Wait(watch::Receiver<KidOutcome>),
            Limited,
        }
        let key = auth_server.name.to_ascii_lowercase();
        let now = self.clock.unix();
        let role = {
            let mut map = self.kid_refresh.lock().unwrap_or_else(|p| p.into_inner());
            match map.get(&key) {
                // Within the interval (a clock moved back starts a new one).
                Some(r)
                    if (0..metadata::UNKNOWN_KID_REFRESH_SECONDS)
                        .contains(&(now - r.started_at)) =>
                {
                    let running = r.outcome.borrow().is_none() && r.outcome.has_changed().is_ok();
                    if running {
                        Role::Wait(r.outcome.clone())
                    } else {
                        Role::Limited
                    }
                }
                _ => {
                    let (tx, rx) = watch::channel(None);
                    map.insert(
                        key,
                        KidRefresh {
                            started_at: now,
                            outcome: rx,
                        },
                    );
                    Role::Lead(tx)
                }
            }
        };
        match role {
            Role::Lead(tx) => {
                let result = stored(self.download_metadata(auth_server).await);
                tx.send_replace(Some(result.clone()));
                result
            }
            Role::Wait(mut rx) => {
                let outcome = match rx.wait_for(Option::is_some).await {
                    Ok(v) => v.clone(),
                    // The request running the download was dropped before it finished.
                    Err(_) => None,
                };
                match outcome {
                    Some(result) => result,
                    None => self.metadata_for(auth_server, false).await,
                }
            }
            Role::Limited => self.metadata_for(auth_server, false).await,
        }
    }

    /// Downloads the metadata of `auth_server` (no lock held meanwhile) and stores the outcome:
    /// the document, or on failure the last good one read for the same URL.
    async fn download_metadata(&self, auth_server: &AuthServer) -> Download {
        let key = auth_server.name.to_ascii_lowercase();
        let now = self.clock.unix();
        let previous = self.metadata_slot(&key);
        let url = metadata::effective_url(&auth_server.auth_metadata_url, self.aad_url.as_deref());
        let fetched = metadata::fetch(&self.http, &url, now).await;
        let download = fetched.map_err(|e| {
            let kept = previous
                .filter(|prev| prev.url == auth_server.auth_metadata_url)
                .and_then(|prev| prev.result.ok());
            if kept.is_some() {
                tracing::warn!(auth_server = %auth_server.name, error = %e, "metadata refresh failed; keeping the last good document");
            }
            (e, kept)
        });
        self.metadata
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(
                key,
                MetaSlot {
                    url: auth_server.auth_metadata_url.clone(),
                    fetched_url: url,
                    result: stored(download.clone()),
                    attempted_at: now,
                    attempted: std::time::Instant::now(),
                },
            );
        download
    }

    /// The tenant id an AuthServer stands for: its configured realm, else its metadata's
    /// `entityID` (fetched if not cached).
    pub async fn tenant_of(&self, auth_server: &AuthServer) -> Option<String> {
        if let Some(r) = &auth_server.realm {
            return Some(r.clone());
        }
        self.metadata_for(auth_server, false)
            .await
            .ok()
            .and_then(|m| m.tenant_id)
    }

    /// The claims of `token` if it was validated before and has not expired: from this thread's
    /// few most recent tokens (no lock, and reference counts only this thread touches), else
    /// from the lab's cache (then kept for this thread too).
    pub(crate) fn cached_token(&self, token: &str, now: i64) -> Option<CachedToken> {
        let lab = (
            self.instance,
            self.token_epoch.load(std::sync::atomic::Ordering::Acquire),
        );
        if let Some(hit) = NEAR_TOKENS.with(|near| near.borrow().get(lab, token, now)) {
            return Some(hit);
        }
        let (shared, lab) = {
            let mut map = self.tokens.lock().unwrap_or_else(|p| p.into_inner());
            // Read again under the lock: the copy belongs to the cache as it is now.
            let lab = (
                self.instance,
                self.token_epoch.load(std::sync::atomic::Ordering::Acquire),
            );
            match map.get(token) {
                Some(c) if c.exp > now => (c.clone(), lab),
                Some(_) => {
                    map.remove(token);
                    return None;
                }
                None => return None,
            }
        };
        let own = shared.own_copy();
        NEAR_TOKENS.with(|near| near.borrow_mut().put(lab, token, own.clone()));
        Some(own)
    }

    /// Keeps a validated token until it expires. The cache is bounded: at
    /// [`MAX_CACHED_TOKENS`] the expired ones go, then the soonest to expire until a tenth is
    /// free, so the next sweep is a tenth of the cap away (an evicted token is simply validated
    /// again on its next use; a soak once grew it without end). Below the cap, the expired go
    /// each time the cache grows past a multiple of [`SWEEP_EVERY`], so a lab whose clock moves
    /// on (or whose clients stop reusing tokens) does not sit at the cap.
    pub(crate) fn cache_token(&self, token: &str, cached: CachedToken) {
        let mut map = self.tokens.lock().unwrap_or_else(|p| p.into_inner());
        if !map.is_empty() && map.len().is_multiple_of(SWEEP_EVERY) && map.len() < MAX_CACHED_TOKENS
        {
            let now = self.clock.unix();
            map.retain(|_, c| c.exp > now);
        }
        if map.len() >= MAX_CACHED_TOKENS {
            let now = self.clock.unix();
            map.retain(|_, c| c.exp > now);
            lab_kit::bounded::evict_lowest(&mut map, MAX_CACHED_TOKENS, |c| c.exp);
        }
        map.insert(token.to_string(), cached);
    }
}

/// The AuthServers whose tokens the serving path trusts (enabled, AzureAD).
pub fn trusted_auth_servers(org: &Organization) -> impl Iterator<Item = &AuthServer> {
    org.auth_servers
        .iter()
        .filter(|a| a.enabled && a.kind == AuthServerType::AzureAD)
}

pub fn random_hex(bytes: usize) -> String {
    use rand::RngCore;
    let mut buf = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buf);
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod cache_tests {
    use super::*;

    #[test]
    fn the_token_cache_is_bounded_and_drops_the_expired_first() {
        let s = crate::state(&crate::Config {
            clock: Clock::frozen_at_unix(1_000_000),
            ..crate::Config::contoso()
        });
        let cached = |exp| CachedToken {
            claims: Map::new().into(),
            audience: crate::bearer::Audience::App.into(),
            exp,
        };
        // Expired ones, then live ones expiring later and later.
        for i in 0..100 {
            s.cache_token(&format!("old{i}"), cached(999_000));
        }
        for i in 0..(2 * MAX_CACHED_TOKENS) {
            s.cache_token(&format!("t{i}"), cached(1_000_000 + 3600 + i as i64));
        }
        let len = s.tokens.lock().unwrap().len();
        assert!(len <= MAX_CACHED_TOKENS, "{len}");
        assert!(s.cached_token("old0", 1_000_000).is_none());
        let last = format!("t{}", 2 * MAX_CACHED_TOKENS - 1);
        assert!(
            s.cached_token(&last, 1_000_000).is_some(),
            "the newest stays"
        );
        assert!(
            s.cached_token("t0", 1_000_000).is_none(),
            "the soonest to expire went"
        );
    }

    #[test]
    fn a_threads_copy_of_a_token_serves_only_its_own_lab_and_only_until_exp() {
        let lab = |at| {
            crate::state(&crate::Config {
                clock: Clock::frozen_at_unix(at),
                ..crate::Config::contoso()
            })
        };
        let (a, b) = (lab(1_000_000), lab(1_000_000));
        let cached = CachedToken {
            claims: Map::from_iter([("upn".to_string(), "greg@contoso.com".into())]).into(),
            audience: crate::bearer::Audience::App.into(),
            exp: 1_003_600,
        };
        a.cache_token("tok", cached.clone());
        // The first hit copies it for this thread; the second is served from that copy.
        for _ in 0..2 {
            let hit = a.cached_token("tok", 1_000_000).expect("validated before");
            assert_eq!(hit.claims, cached.claims);
            assert!(
                !Arc::ptr_eq(&hit.claims, &cached.claims),
                "the thread's own copy"
            );
        }
        assert!(
            b.cached_token("tok", 1_000_000).is_none(),
            "another lab in the process never validated it"
        );
        // Many other tokens push it out of the thread's few; the lab's cache still has it.
        for i in 0..2 * NEAR_TOKENS_PER_THREAD {
            a.cache_token(&format!("other{i}"), cached.clone());
            assert!(a.cached_token(&format!("other{i}"), 1_000_000).is_some());
        }
        assert!(a.cached_token("tok", 1_000_000).is_some());
        assert!(NEAR_TOKENS.with(|n| n.borrow().entries.len()) <= NEAR_TOKENS_PER_THREAD);
        // iisreset empties the worker's cache: this thread's copy goes with it.
        assert!(a.cached_token("tok", 1_000_000).is_some());
        a.iisreset();
        assert!(
            a.cached_token("tok", 1_000_000).is_none(),
            "validated again after iisreset"
        );
        a.cache_token("tok", cached.clone());
        assert!(a.cached_token("tok", 1_000_000).is_some());
        // Evicted from the lab's cache (not emptied): this thread's copy still answers, until
        // it expires.
        a.tokens.lock().unwrap().clear();
        assert!(a.cached_token("tok", 1_000_000).is_some());
        assert!(
            a.cached_token("tok", 1_003_600).is_none(),
            "expired, though this thread still holds it"
        );
    }

    #[test]
    fn expired_tokens_go_long_before_the_cap() {
        let s = crate::state(&crate::Config {
            clock: Clock::frozen_at_unix(1_000_000),
            ..crate::Config::contoso()
        });
        let cached = |exp| CachedToken {
            claims: Map::new().into(),
            audience: crate::bearer::Audience::App.into(),
            exp,
        };
        for i in 0..SWEEP_EVERY {
            s.cache_token(&format!("old{i}"), cached(999_000));
        }
        for i in 0..10 {
            s.cache_token(&format!("new{i}"), cached(1_003_600));
        }
        let map = s.tokens.lock().unwrap();
        assert_eq!(map.len(), 10, "only the live ones are left");
        assert!(!map.contains_key("old0"));
    }
}
