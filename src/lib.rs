//! hma-lab's library: everything the `hma-lab` binary and integration suites build on.
//!
//! The two mocks live in their own crates (`mock-aad`, `mock-exchange`); this crate holds what
//! spans both. [`shell`] is the PowerShell subset administrators type in the field guide, run
//! against the lab's state through a backend trait, so scenario files, the interactive shell and
//! the admin API all accept the guide's lines verbatim.

pub mod shell;
