//! The cmdlet shell: the PowerShell subset the field guide's administrators type, verbatim.
//!
//! A line goes through [`parser`] (a real grammar with PowerShell's two tokenizing modes and its
//! parse errors), then [`eval`] (variables, pipelines, script blocks, method calls) which binds
//! each command's arguments with [`binder`] (names, aliases, unique prefixes, types, positions,
//! pipeline input, mandatory parameters) against the tables of [`cmdlets`] — one file per
//! family, `cmdlets/vdir.rs` holding every `*-VirtualDirectory` cmdlet's parameters and
//! behaviour — which call the services of the [`backend::Backend`] the lab plugs in
//! (`crate::lab::backend`). Objects are [`value::PsObject`]s with the real types' property order
//! ([`objects`]), printed by [`format`] the way the seed shows `Format-List` output. Errors are
//! PowerShell's records ([`error`]), every one built in [`error::catalogue`], with a
//! nearest-name hint from the lab. [`lint`] checks a line without running it.
//!
//! ```
//! # use hma_lab::shell::parser::parse_line;
//! let script = parse_line("[PS] C:\\Windows\\system32> Set-AuthServer EvoSTS -IsDefaultAuthorizationEndpoint $true").unwrap();
//! assert_eq!(script.statements.len(), 1);
//! ```

pub mod ast;
pub mod backend;
pub mod binder;
pub mod cmdlets;
pub mod complete;
pub mod error;
pub mod eval;
pub mod format;
pub mod lint;
pub mod objects;
pub mod parser;
pub mod value;

#[cfg(test)]
mod collections_tests;
#[cfg(test)]
mod depth_tests;
#[cfg(test)]
mod faults_tests;
#[cfg(test)]
mod keys_tests;
#[cfg(test)]
mod test_support;
#[cfg(test)]
mod tests;

pub use backend::Backend;
pub use complete::complete;
pub use error::ShellError;
pub use eval::{Output, Shell};
pub use lint::lint;
