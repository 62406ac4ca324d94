//! What every hma-lab service shares, and nothing else: the lab [`Clock`] and lab-file parsing
//! with errors that name file, line, column and the fix ([`labfile`]). No shared *state* lives
//! here — each service owns its own and exposes it through its admin API. With the `testkit`
//! feature (tests only), `testkit` is the workspace's test kit.

pub mod catalogue;
pub mod clock;
pub mod labfile;
#[cfg(any(test, feature = "testkit"))]
pub mod testkit;
pub mod wire;
pub mod wirecase;

pub use clock::Clock;
pub use labfile::{parse_yaml, FileError};
