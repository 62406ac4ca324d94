//! Shared service state: configuration, the clock, the directory, keys, grants, fault rules and
//! sign-in sessions.
//!
//! One `Clone` handle ([`AppState`]) wraps an `Arc<Shared>`. Each piece of mutable state sits
//! behind its own `std::sync` lock, taken briefly inside a handler and never held across an
//! `.await`. This module depends on data modules only (never on a handler), so every handler can
//! use it without a cycle.

use std::sync::{Arc, Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};

use lab_kit::Clock;
use time::OffsetDateTime;

use crate::config::Config;
use crate::fault_rules::Faults;
use crate::grants::GrantStore;
use crate::keys::KeySet;
use crate::model::Directory;
use crate::sessions::Sessions;
use crate::util::random_b64url;

/// Everything a handler can reach.
pub struct Shared {
    pub config: Config,
    pub clock: Clock,
    pub admin_token: String,
    pub dir: RwLock<Directory>,
    pub keys: RwLock<KeySet>,
    pub grants: Mutex<GrantStore>,
    pub faults: Mutex<Faults>,
    pub sessions: Mutex<Sessions>,
}

/// The router state.
#[derive(Clone)]
pub struct AppState(pub Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

impl AppState {
    /// Builds the shared state (no I/O); the admin token is random unless configured.
    pub fn new(config: Config) -> AppState {
        let admin_token = config
            .admin_token
            .clone()
            .unwrap_or_else(|| random_b64url(24));
        AppState(Arc::new(Shared {
            clock: config.clock.clone(),
            dir: RwLock::new(config.directory.clone()),
            keys: RwLock::new(KeySet::shipped()),
            grants: Mutex::new(GrantStore::default()),
            faults: Mutex::new(Faults::default()),
            sessions: Mutex::new(Sessions::default()),
            admin_token,
            config,
        }))
    }
}

fn unpoison<T>(r: Result<T, std::sync::PoisonError<T>>) -> T {
    r.unwrap_or_else(|e| e.into_inner())
}

impl Shared {
    pub fn dir(&self) -> RwLockReadGuard<'_, Directory> {
        unpoison(self.dir.read())
    }
    pub fn dir_mut(&self) -> RwLockWriteGuard<'_, Directory> {
        unpoison(self.dir.write())
    }
    pub fn keys(&self) -> RwLockReadGuard<'_, KeySet> {
        unpoison(self.keys.read())
    }
    pub fn keys_mut(&self) -> RwLockWriteGuard<'_, KeySet> {
        unpoison(self.keys.write())
    }
    pub fn grants(&self) -> MutexGuard<'_, GrantStore> {
        unpoison(self.grants.lock())
    }
    pub fn faults(&self) -> MutexGuard<'_, Faults> {
        unpoison(self.faults.lock())
    }
    pub fn sessions(&self) -> MutexGuard<'_, Sessions> {
        unpoison(self.sessions.lock())
    }
    /// Sweeps the grant store when due (see [`crate::grants`]): call before adding a grant.
    /// The directory is read first and the store locked after, never both at once.
    pub fn sweep_grants(&self) {
        let now = self.unix();
        if !self.grants().sweep_due(now) {
            return;
        }
        let live = crate::grants::DirectoryLiveness::of(&self.dir());
        self.grants().sweep(now, &live);
    }
    /// The lab time.
    /// The era of the directory's error answers.
    pub fn era(&self) -> crate::model::Era {
        self.dir().era
    }

    pub fn now(&self) -> OffsetDateTime {
        OffsetDateTime::from(self.clock.now())
    }
    /// The lab time in Unix seconds.
    pub fn unix(&self) -> i64 {
        self.clock.unix()
    }
}
