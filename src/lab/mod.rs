//! A whole lab in one handle: mock Azure AD, mock Exchange, the ADFS farm (mock-adfs) when the
//! lab file has one, and the network between them and the clients, started in-process from a lab
//! file.
//!
//! Shaped like a wiremock server: [`Lab::start`] binds everything on loopback port 0, a test acts
//! through [`Lab::http_client`] (which resolves every lab host name to the network) and asserts,
//! and dropping the [`Lab`] shuts every listener down. Nothing is global — each lab owns its
//! services, its [`Clock`] (one clock shared by every service) and its network devices — so any
//! number of labs run side by side in one process. Exchange reads Azure AD's metadata directly
//! from mock-aad (`aad_url`), the server-to-server path a client segment does not affect.

pub mod admin;
pub mod backend;
pub mod devices;
pub mod file;
mod identity;
pub mod network;
pub mod sync;

#[cfg(test)]
mod tests;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use lab_kit::{Clock, FileError};

pub use devices::{
    CertState, Certificate, ClientSegment, Device, Devices, LoadBalancer, NetworkError,
    NetworkSpec, ReverseProxy, Route,
};
pub use file::LabFile;
pub use network::{Conn, Network};

/// The client segment's DNS: every name is the network.
struct LabDns(SocketAddr);

impl reqwest::dns::Resolve for LabDns {
    fn resolve(&self, _name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let addr = self.0;
        Box::pin(async move { Ok(Box::new(std::iter::once(addr)) as reqwest::dns::Addrs) })
    }
}

/// Why a lab did not start.
#[derive(Debug, thiserror::Error)]
pub enum LabError {
    #[error("{0}")]
    File(#[from] FileError),
    #[error("{what}: {source}")]
    Io {
        what: &'static str,
        source: std::io::Error,
    },
}

/// A running lab. Dropping it shuts the services and the network down.
pub struct Lab {
    file: LabFile,
    clock: Clock,
    // Field order is drop order: the network stops before the services behind it.
    listener: network::Listener,
    network: Network,
    adfs: Option<mock_adfs::Handle>,
    exchange: mock_exchange::Handle,
    aad: mock_aad::Handle,
    http: reqwest::Client,
    admin: admin::Admin,
    sync: sync::DirSync,
}

impl Lab {
    /// Starts the lab described by the file at `path`, on a real-time clock.
    pub async fn start(path: impl AsRef<Path>) -> Result<Lab, LabError> {
        let file = LabFile::load(path.as_ref())?;
        Lab::start_file(file, Clock::system()).await
    }

    /// Starts a shipped lab (`contoso`, `contoso-pre-hma`, `contoso-federated`, `contoso-pta`) on a real-time
    /// clock.
    pub async fn builtin(name: &str) -> Result<Lab, LabError> {
        Lab::start_file(LabFile::builtin(name)?, Clock::system()).await
    }

    /// Starts a parsed lab on `clock` (e.g. `Clock::frozen_at_unix(..)`), shared by every service.
    pub async fn start_file(file: LabFile, clock: Clock) -> Result<Lab, LabError> {
        let loopback = SocketAddr::from(([127, 0, 0, 1], 0));
        let aad = mock_aad::start(mock_aad::Config {
            listen: loopback,
            directory: file.directory.clone(),
            clock: clock.clone(),
            ..mock_aad::Config::contoso()
        })
        .await
        .map_err(|source| LabError::Io {
            what: "mock-aad cannot listen",
            source,
        })?;
        let exchange = mock_exchange::start(mock_exchange::Config {
            listen: loopback,
            organization: file.organization.clone(),
            clock: clock.clone(),
            aad_url: Some(aad.url()),
            ..mock_exchange::Config::contoso()
        })
        .await
        .map_err(|source| LabError::Io {
            what: "mock-exchange cannot listen",
            source,
        })?;
        let adfs = match &file.adfs {
            None => None,
            Some(farm) => Some(
                mock_adfs::start(mock_adfs::Config {
                    listen: loopback,
                    farm: farm.clone(),
                    clock: clock.clone(),
                    admin_token: None,
                    // Set by a front door to its certificate for the farm's host; the plain-HTTP
                    // network has no TLS endpoint to bind to.
                    tls_certificate: None,
                })
                .await
                .map_err(|source| LabError::Io {
                    what: "mock-adfs cannot listen",
                    source,
                })?,
            ),
        };
        let network = Network::with_adfs(
            file.host_table(),
            file.devices(),
            aad.url(),
            exchange.server_urls(),
            adfs.as_ref().map(mock_adfs::Handle::url),
        );
        let listener = network::Listener::start(network.clone(), loopback)
            .await
            .map_err(|source| LabError::Io {
                what: "the lab network cannot listen",
                source,
            })?;
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .dns_resolver(Arc::new(LabDns(listener.addr())))
            .build()
            .map_err(|e| LabError::Io {
                what: "cannot build the lab's HTTP client",
                source: std::io::Error::other(e),
            })?;
        let admin = admin::Admin::of(&aad, &exchange, adfs.as_ref());
        let sync = sync::DirSync::new(
            &file.directory,
            &file.organization.accounts,
            file.adfs.as_ref(),
            admin.clone(),
            clock.clone(),
        );
        Ok(Lab {
            admin,
            sync,
            file,
            clock,
            listener,
            network,
            adfs,
            exchange,
            aad,
            http,
        })
    }

    /// The lab's name (from the file).
    pub fn name(&self) -> &str {
        &self.file.name
    }
    /// The lab as it was started (the services' and the network's current state may differ).
    pub fn file(&self) -> &LabFile {
        &self.file
    }
    pub fn aad(&self) -> &mock_aad::Handle {
        &self.aad
    }
    pub fn exchange(&self) -> &mock_exchange::Handle {
        &self.exchange
    }
    /// The ADFS farm, when the lab file has one.
    pub fn adfs(&self) -> Option<&mock_adfs::Handle> {
        self.adfs.as_ref()
    }
    /// The one clock every service reads; advancing it moves the whole lab.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }
    /// The services' admin APIs (what the shell's backend calls).
    pub fn admin(&self) -> &admin::Admin {
        &self.admin
    }
    /// Azure AD Connect and the on-premises directory.
    pub fn sync(&self) -> &sync::DirSync {
        &self.sync
    }
    /// Moves the lab clock by `secs` and runs the sync cycles that came due (a 30-minute delta
    /// cycle, a 2-minute password hash pass); what they exported.
    pub async fn advance_clock(&self, secs: i64) -> Result<crate::shell::backend::SyncRun, String> {
        self.clock
            .try_advance_secs(secs)
            .map_err(|e| e.to_string())?;
        self.sync.catch_up().await.map_err(|e| e.message)
    }
    /// Where the network listens (every lab host name resolves here).
    pub fn network_addr(&self) -> SocketAddr {
        self.listener.addr()
    }
    pub fn network(&self) -> &Network {
        &self.network
    }
    /// Every host name the lab answers for.
    pub fn hosts(&self) -> Vec<String> {
        self.network.hosts().all()
    }
    /// A client on the lab's client segment: every host name resolves to the network (a name
    /// the lab does not have gets the network's 502, never the internet; a URL without a port
    /// reaches the network's port), redirects are returned rather than followed, and no proxy
    /// is taken from the environment.
    pub fn http_client(&self) -> reqwest::Client {
        self.http.clone()
    }
    /// `http://{host}:{network port}{path}` — a URL [`Lab::http_client`] reaches through the
    /// network.
    pub fn url(&self, host: &str, path: &str) -> String {
        let sep = if path.starts_with('/') { "" } else { "/" };
        format!("http://{host}:{}{sep}{path}", self.network_addr().port())
    }

    /// The URL on the lab network for a URL a service handed out (an `authorization_uri`, a
    /// discovery document's endpoint, a redirect), so a client can follow it over the
    /// plain-HTTP network: `https://login.windows.net/common/oauth2/authorize` becomes
    /// `http://login.windows.net:{network port}/common/oauth2/authorize`. `None` for a URL that
    /// is not on a lab host.
    pub fn reach(&self, url: &str) -> Option<String> {
        let u = url::Url::parse(url).ok()?;
        if !matches!(u.scheme(), "http" | "https") {
            return None;
        }
        let host = u.host_str()?;
        if !self.network.hosts().knows(host) {
            return None;
        }
        let mut path = u.path().to_string();
        if let Some(q) = u.query() {
            path.push('?');
            path.push_str(q);
        }
        Some(self.url(host, &path))
    }

    /// The devices in force.
    pub fn devices(&self) -> Devices {
        self.network.devices()
    }
    /// Adds a device, or replaces the one of its kind for the same host (the client segment is
    /// replaced whole). Takes effect on the next request.
    pub fn apply(&self, device: Device) -> Result<(), NetworkError> {
        self.network.update(|d| d.put(device))
    }
    /// Turns SSL offloading on or off at `host`'s load balancer (adding one that targets the
    /// first server when there is none).
    pub fn set_ssl_offload(&self, host: &str, on: bool) -> Result<(), NetworkError> {
        self.network.update(|d| {
            let mut lb = d.load_balancer(host).cloned().unwrap_or(LoadBalancer {
                host: host.to_string(),
                ssl_offload: false,
                targets: Vec::new(),
            });
            lb.ssl_offload = on;
            d.put(Device::LoadBalancer(lb));
        })
    }
    /// Points `host`'s load balancer at `targets` (server names, first preferred).
    pub fn set_lb_targets(&self, host: &str, targets: &[&str]) -> Result<(), NetworkError> {
        self.network.update(|d| {
            let mut lb = d.load_balancer(host).cloned().unwrap_or(LoadBalancer {
                host: host.to_string(),
                ssl_offload: false,
                targets: Vec::new(),
            });
            lb.targets = targets.iter().map(|t| t.to_string()).collect();
            d.put(Device::LoadBalancer(lb));
        })
    }
    /// Publishes `host` through a reverse proxy that forwards it as `forward_to`.
    pub fn set_reverse_proxy(&self, host: &str, forward_to: &str) -> Result<(), NetworkError> {
        self.apply(Device::ReverseProxy(ReverseProxy {
            host: host.to_string(),
            forward_to: forward_to.to_string(),
        }))
    }
    /// Takes the reverse proxy for `host` off the path; whether there was one.
    pub fn remove_reverse_proxy(&self, host: &str) -> bool {
        let had = self.devices().reverse_proxy(host).is_some();
        // Removing a device cannot make the set invalid.
        let _ = self.network.update(|d| {
            d.reverse_proxies
                .retain(|r| !r.host.eq_ignore_ascii_case(host))
        });
        had
    }
    /// The client segment can no longer reach `host`.
    pub fn block(&self, host: &str) -> Result<(), NetworkError> {
        self.network.update(|d| {
            if !d.is_blocked(host) {
                d.client_segment.blocked.push(host.to_string());
            }
        })
    }
    /// The client segment can reach `host` again.
    pub fn unblock(&self, host: &str) -> Result<(), NetworkError> {
        self.network.update(|d| {
            d.client_segment
                .blocked
                .retain(|b| !b.eq_ignore_ascii_case(host))
        })
    }

    /// Stops the network, then the services, and waits for them.
    pub async fn shutdown(self) {
        let Lab {
            listener,
            adfs,
            exchange,
            aad,
            ..
        } = self;
        listener.shutdown().await;
        if let Some(adfs) = adfs {
            adfs.shutdown().await;
        }
        exchange.shutdown().await;
        aad.shutdown().await;
    }
}
