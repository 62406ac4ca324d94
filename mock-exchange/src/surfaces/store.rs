//! Mailbox contents (folders and items), seeded from the lab file's `mailboxes[].items`.
use std::sync::{Arc, Mutex};

use crate::model::Organization;

/// Shared, cheap-to-clone mailbox store.
#[derive(Clone, Default)]
pub struct MailStore {
    inner: Arc<Mutex<()>>,
}

impl MailStore {
    pub fn from_org(_org: &Organization) -> Self {
        MailStore {
            inner: Arc::new(Mutex::new(())),
        }
    }
}

impl std::fmt::Debug for MailStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let _ = &self.inner;
        f.write_str("MailStore")
    }
}
