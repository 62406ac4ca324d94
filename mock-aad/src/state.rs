//! Shared service state: configuration, the clock, the directory, keys, grants and faults.
//!
//! One `Clone` handle ([`AppState`]) wraps an `Arc<Shared>`. Each piece of mutable state sits
//! behind its own `std::sync` lock, taken briefly inside a handler and never held across an
//! `.await`.

use std::sync::{Arc, Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};

use lab_kit::Clock;
use time::OffsetDateTime;

use crate::faults::Faults;
use crate::grants::GrantStore;
use crate::keys::KeySet;
use crate::model::Directory;
use crate::web::Sessions;
use crate::Config;

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
    /// The lab time.
    pub fn now(&self) -> OffsetDateTime {
        OffsetDateTime::from(self.clock.now())
    }
    /// The lab time in Unix seconds.
    pub fn unix(&self) -> i64 {
        self.clock.unix()
    }
}
