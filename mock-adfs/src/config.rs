//! How a mock-adfs is started: where it listens, its farm and clock, the admin token, and the
//! certificate its TLS endpoint presents (what extended protection binds Windows logons to).
//!
//! Plain data with no dependency on the handlers; the crate root re-exports it.

use std::net::SocketAddr;

use lab_kit::Clock;

use crate::labfile;
use crate::model::Farm;

/// The default lab's farm (adfs.contoso.com for contoso.com).
pub const CONTOSO_LAB: &str = include_str!("../labs/contoso.yaml");

/// How to start the service.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where to listen; `127.0.0.1:0` picks a free port.
    pub listen: SocketAddr,
    pub farm: Farm,
    pub clock: Clock,
    /// The admin API bearer token; a random one when `None`.
    pub admin_token: Option<String>,
    /// DER of the certificate the farm's TLS endpoint presents (the front door's certificate for
    /// the farm's host). Extended protection compares a Windows logon's channel binding with the
    /// binding of this certificate; `None` (no TLS endpoint known) matches no binding.
    pub tls_certificate: Option<Vec<u8>>,
}

impl Config {
    /// The default farm on a free loopback port with a real-time clock.
    pub fn contoso() -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            farm: contoso_farm(),
            clock: Clock::system(),
            admin_token: None,
            tls_certificate: None,
        }
    }
}

/// The shipped farm, parsed once per process.
pub fn contoso_farm() -> Farm {
    static PARSED: std::sync::OnceLock<Farm> = std::sync::OnceLock::new();
    PARSED
        .get_or_init(|| {
            labfile::parse_str(CONTOSO_LAB, "contoso.yaml").expect("the shipped farm parses")
        })
        .clone()
}
