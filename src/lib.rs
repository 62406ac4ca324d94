//! hma-lab as a library: what the `hma-lab` binary and integration suites build on.
//!
//! The two mocks live in their own crates (`mock-aad`, `mock-exchange`); this crate holds what
//! spans both. [`lab`] starts a whole lab — mock Azure AD, mock Exchange and the network between
//! them and the clients — from one lab file and hands back a handle to act on and assert against;
//! [`client`] is the reference Outlook client that connects through it the way Outlook does;
//! [`shell`] is the PowerShell subset administrators type in the field guide, run against the
//! lab's state through a backend trait, so scenario files, the interactive shell and the admin API
//! all accept the guide's lines verbatim; [`scenario`] plays scenario files (given / when / then /
//! fix, with broken twins) against fresh labs and reports; [`frontdoor`] puts a running lab behind
//! real TLS, a forward proxy and an admin API for real clients (`hma-lab serve`); [`exercise`] plays a scenario as a break/fix training lab and [`classroom`]
//! serves many of them, one per trainee, in one process; [`book`] renders
//! the book's generated reference pages from the code.

pub mod book;
pub mod classroom;
pub mod cli;
pub mod client;
pub mod exercise;
pub mod explain;
pub mod frontdoor;
pub mod lab;
pub mod scenario;
pub mod schemas;
pub mod shell;
