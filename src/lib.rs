//! hma-lab as a library: what an integration suite drives in-process.
//!
//! [`lab`] starts a whole lab — mock Azure AD, mock Exchange and the network between them and
//! the clients — from one lab file and hands back a handle to act on and assert against;
//! [`client`] is the reference Outlook client that connects through it the way Outlook does;
//! [`shell`] is the PowerShell subset administrators type in the field guide, run against the
//! lab's state through a backend trait; [`scenario`] plays scenario files (given / when /
//! then / fix) against fresh labs and reports; [`frontdoor`] puts a running lab behind real TLS,
//! a forward proxy and an admin API for real clients (`hma-lab serve`). The `hma-lab` binary is a thin command line over the
//! same pieces.

pub mod client;
pub mod frontdoor;
pub mod lab;
pub mod scenario;
pub mod shell;
