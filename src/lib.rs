//! hma-lab: an offline lab for Exchange Hybrid Modern Authentication.
//!
//! The two services live in their own crates (`mock-aad`, `mock-exchange`); this crate holds
//! what ties them into a lab a person can drive: the reference Outlook client ([`client`]) and,
//! alongside it, the lab, the cmdlet shell and the scenario engine. The `hma-lab` binary is a
//! thin clap wrapper over this library.

pub mod client;
