//! What the dashboard reads and drives (the admin API's handles), and the two secrets helpers
//! its login and the exercise panel share. A leaf module: every other part of the dashboard
//! depends on it, it depends on none of them.

use std::path::PathBuf;
use std::sync::Arc;

use crate::frontdoor::ca::Certs;
use crate::frontdoor::console::Console;
use crate::frontdoor::journal::Journal;
use crate::lab::Lab;

/// What the dashboard reads and drives: the admin API's handles.
pub struct Parts {
    pub lab: Arc<Lab>,
    pub journal: Journal,
    pub certs: Arc<Certs>,
    pub token: String,
    pub console: Arc<Console>,
    /// Where `exercise.json` is, when an exercise serves this lab.
    pub state_dir: PathBuf,
}

/// Whether two secrets are equal, in time independent of where they differ.
pub fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// A fresh login secret or session id: 32 random bytes, hex.
pub fn secret() -> String {
    let a = uuid::Uuid::new_v4().simple();
    let b = uuid::Uuid::new_v4().simple();
    format!("{a}{b}")
}
