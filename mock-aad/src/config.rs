//! How a mock-aad is started: where it listens, its directory and clock, the host names it puts in
//! issuers and the admin token.
//!
//! Plain data with no dependency on the handlers, so the shared state and every handler can read
//! it; the crate root re-exports [`Config`], [`Hosts`] and [`CONTOSO_LAB`].

use std::net::SocketAddr;

use lab_kit::Clock;

use crate::labfile;
use crate::model::Directory;

/// The default lab's directory (tenant contoso.com with the field guide's values).
pub const CONTOSO_LAB: &str = include_str!("../labs/contoso.yaml");
/// The contoso directory with contoso.com federated to mock-adfs's farm `adfs.contoso.com`.
pub const CONTOSO_FEDERATED_LAB: &str = include_str!("../labs/contoso-federated.yaml");
/// The contoso directory with pass-through authentication for contoso.com.
pub const CONTOSO_PTA_LAB: &str = include_str!("../labs/contoso-pta.yaml");
/// Every shipped directory: (name, text).
pub const SHIPPED_LABS: [(&str, &str); 3] = [
    ("contoso", CONTOSO_LAB),
    ("contoso-federated", CONTOSO_FEDERATED_LAB),
    ("contoso-pta", CONTOSO_PTA_LAB),
];

/// Host names Azure AD puts in issuers and authority URLs. Configuration, so a lab behind a
/// different front door can rename them; the defaults are the real ones.
#[derive(Debug, Clone)]
pub struct Hosts {
    /// `login.microsoftonline.com`: v2 issuer, `error_uri`, instance discovery.
    pub login: String,
    /// `sts.windows.net`: v1 issuer host.
    pub sts: String,
    /// `login.windows.net`: the authority Exchange advertises, cookie domain.
    pub login_windows: String,
}

impl Default for Hosts {
    fn default() -> Self {
        Hosts {
            login: "login.microsoftonline.com".into(),
            sts: "sts.windows.net".into(),
            login_windows: "login.windows.net".into(),
        }
    }
}

/// How to start the service.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where to listen; `127.0.0.1:0` picks a free port.
    pub listen: SocketAddr,
    pub directory: Directory,
    pub clock: Clock,
    pub hosts: Hosts,
    /// The admin API bearer token; a random one when `None`.
    pub admin_token: Option<String>,
    /// Base URL put in discovery documents and sign-in pages. When `None`, each document is built
    /// from the request (`X-Forwarded-Proto` or `http`, and the `Host` header), so the service
    /// answers correctly under any name it is reached by.
    pub public_base: Option<String>,
}

impl Config {
    /// The default lab (`contoso`) on a free loopback port with a real-time clock.
    pub fn contoso() -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            directory: contoso_directory(),
            clock: Clock::system(),
            hosts: Hosts::default(),
            admin_token: None,
            public_base: None,
        }
    }
}

/// The shipped `contoso` directory, parsed once per process and cloned for each caller: a
/// service starts without parsing YAML (the scenario engine starts two labs per scenario).
pub fn contoso_directory() -> Directory {
    static PARSED: std::sync::OnceLock<Directory> = std::sync::OnceLock::new();
    PARSED
        .get_or_init(|| {
            labfile::parse_str(CONTOSO_LAB, "contoso.yaml").expect("the shipped contoso lab parses")
        })
        .clone()
}
