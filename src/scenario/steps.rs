//! What a scenario does, as written: the set-up steps of `given:`, `fix:` and `twin:` ([`Step`]:
//! a cmdlet line, a network device, the clock) and the actions of `when:` ([`Action`]: a client,
//! a raw request, a token call), with the values they carry (client profiles, durations,
//! grants). Each is a map with one "kind" key and a few siblings, read into a struct of optional
//! fields and checked by hand ("exactly one kind") so serde places the error at its line; values
//! with their own vocabulary deserialize through checked newtypes for the same reason. The file
//! around them, and the checks that need all of it, are in [`super::format`].

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize};

use crate::client::Profile;
use crate::lab::{Certificate, ClientSegment, LoadBalancer, ReverseProxy};
use crate::shell::backend::OutlookVersion;

/// A set-up (or fix, or twin) step.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// One PowerShell line, verbatim.
    Cmdlet(String),
    Network(NetworkChange),
    Clock(ClockChange),
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct RawStep {
    cmdlet: Option<String>,
    network: Option<NetworkChange>,
    clock: Option<ClockChange>,
}

impl<'de> Deserialize<'de> for Step {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let r = RawStep::deserialize(d)?;
        let n = r.cmdlet.is_some() as u8 + r.network.is_some() as u8 + r.clock.is_some() as u8;
        if n != 1 {
            return Err(serde::de::Error::custom(
                "a step has exactly one of `cmdlet`, `network`, `clock`",
            ));
        }
        Ok(if let Some(c) = r.cmdlet {
            Step::Cmdlet(c)
        } else if let Some(n) = r.network {
            Step::Network(n)
        } else {
            Step::Clock(r.clock.unwrap_or(ClockChange { advance: Secs(0) }))
        })
    }
}

/// A change to one network device.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NetworkChange {
    LoadBalancer(LoadBalancer),
    ReverseProxy(ReverseProxy),
    ClientSegment(ClientSegment),
    Certificate(Certificate),
}

impl From<NetworkChange> for crate::lab::Device {
    fn from(n: NetworkChange) -> Self {
        use crate::lab::Device;
        match n {
            NetworkChange::LoadBalancer(l) => Device::LoadBalancer(l),
            NetworkChange::ReverseProxy(p) => Device::ReverseProxy(p),
            NetworkChange::ClientSegment(c) => Device::ClientSegment(c),
            NetworkChange::Certificate(c) => Device::Certificate(c),
        }
    }
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct RawNetwork {
    load_balancer: Option<LoadBalancer>,
    reverse_proxy: Option<ReverseProxy>,
    client_segment: Option<ClientSegment>,
    certificate: Option<Certificate>,
}

impl<'de> Deserialize<'de> for NetworkChange {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let r = RawNetwork::deserialize(d)?;
        match (
            r.load_balancer,
            r.reverse_proxy,
            r.client_segment,
            r.certificate,
        ) {
            (Some(l), None, None, None) => Ok(NetworkChange::LoadBalancer(l)),
            (None, Some(p), None, None) => Ok(NetworkChange::ReverseProxy(p)),
            (None, None, Some(c), None) => Ok(NetworkChange::ClientSegment(c)),
            (None, None, None, Some(c)) => Ok(NetworkChange::Certificate(c)),
            _ => Err(serde::de::Error::custom(
                "a network step has exactly one of `load_balancer`, `reverse_proxy`, `client_segment`, `certificate`",
            )),
        }
    }
}

/// `clock: { advance: 2h }`.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ClockChange {
    pub advance: Secs,
}

/// A duration in seconds, written `90`, `30s`, `5m`, `2h` or `91d`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Secs(pub i64);

impl<'de> Deserialize<'de> for Secs {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize, schemars::JsonSchema)]
        #[serde(untagged)]
        enum Raw {
            N(i64),
            S(String),
        }
        let s = match Raw::deserialize(d)? {
            Raw::N(n) if n >= 0 => return Ok(Secs(n)),
            Raw::N(n) => n.to_string(),
            Raw::S(s) => s,
        };
        parse_duration(&s).map(Secs).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "invalid duration `{s}`, expected a number of seconds or a number with s, m, h or d (e.g. `2h`)"
            ))
        })
    }
}

/// The longest duration a string may give (`36500d`): a century.
pub const MAX_DURATION_SECS: i64 = 100 * 365 * 86_400;

/// `2h` → 7200. Non-negative, at most a century.
pub fn parse_duration(s: &str) -> Option<i64> {
    let s = s.trim();
    let (num, mult) = match s.char_indices().last()? {
        (i, 's') => (&s[..i], 1),
        (i, 'm') => (&s[..i], 60),
        (i, 'h') => (&s[..i], 3600),
        (i, 'd') => (&s[..i], 86_400),
        _ => (s, 1),
    };
    let n: i64 = num.trim().parse().ok()?;
    let v = n.checked_mul(mult)?;
    (0..=MAX_DURATION_SECS).contains(&v).then_some(v)
}

/// A `when` action; each yields an outcome.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Client(ClientAction),
    Request(RequestAction),
    Token(TokenAction),
    /// A `cmdlet`, `network` or `clock` step between actions (e.g. connect, advance the clock,
    /// reconnect). It counts in `step: N` and yields an outcome without an HTTP exchange.
    Step(Step),
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAction {
    client: Option<ClientName>,
    user: Option<String>,
    #[serde(default)]
    action: Option<ConnectKind>,
    settings: Option<ClientSettings>,
    request: Option<RequestAction>,
    token: Option<TokenAction>,
    cmdlet: Option<String>,
    network: Option<NetworkChange>,
    clock: Option<ClockChange>,
}

impl<'de> Deserialize<'de> for Action {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let r = RawAction::deserialize(d)?;
        let n = r.client.is_some() as u8
            + r.request.is_some() as u8
            + r.token.is_some() as u8
            + r.cmdlet.is_some() as u8
            + r.network.is_some() as u8
            + r.clock.is_some() as u8;
        let steps = r.cmdlet.is_some() as u8 + r.network.is_some() as u8 + r.clock.is_some() as u8;
        if n != 1 {
            return Err(D::Error::custom(if steps == n {
                "a step has exactly one of `cmdlet`, `network`, `clock`"
            } else {
                "an action has exactly one of `client`, `request`, `token` (or a step: `cmdlet`, `network`, `clock`)"
            }));
        }
        if let Some(c) = r.client {
            let Some(user) = r.user else {
                return Err(D::Error::custom("a `client` action needs `user`"));
            };
            return Ok(Action::Client(ClientAction {
                client: c,
                user,
                action: r.action.unwrap_or_default(),
                settings: r.settings.unwrap_or_default(),
            }));
        }
        if r.user.is_some() || r.action.is_some() || r.settings.is_some() {
            return Err(D::Error::custom(
                "`user`, `action` and `settings` belong to a `client` action",
            ));
        }
        Ok(if let Some(q) = r.request {
            Action::Request(q)
        } else if let Some(t) = r.token {
            Action::Token(t)
        } else if let Some(c) = r.cmdlet {
            Action::Step(Step::Cmdlet(c))
        } else if let Some(n) = r.network {
            Action::Step(Step::Network(n))
        } else if let Some(c) = r.clock {
            Action::Step(Step::Clock(c))
        } else {
            return Err(D::Error::custom("unreachable action shape"));
        })
    }
}

/// A client as written in scenario files: a fixed profile (`outlook-2010`, …), or `outlook`,
/// the Outlook installed on the user's machine (`Install-LabOutlook`), read when the action runs
/// so a `fix` that upgrades Outlook changes what the replayed `when` starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientName {
    Profile(Profile),
    /// `outlook`: the machine's installed Outlook ([`OutlookVersion::DEFAULT`] when none was).
    Installed,
}

impl ClientName {
    /// The profile this client runs on a machine with `installed` (what `Install-LabOutlook`
    /// put there, `None`: nothing).
    pub fn resolve(self, installed: Option<OutlookVersion>) -> Profile {
        match self {
            ClientName::Profile(p) => p,
            ClientName::Installed => installed_profile(installed),
        }
    }

    /// `client:` names: a profile's name, or [`INSTALLED_OUTLOOK`].
    pub fn parse(s: &str) -> Option<ClientName> {
        if s == INSTALLED_OUTLOOK {
            return Some(ClientName::Installed);
        }
        CLIENT_NAMES
            .contains(&s)
            .then(|| Profile::parse(s))
            .flatten()
            .map(ClientName::Profile)
    }

    /// A client typed at a prompt (`lab status`, the exercise's `/outlook?profile=`): `outlook`,
    /// or any spelling [`Profile::parse`] knows (`Outlook 2016`, `outlook2013`, …).
    pub fn from_arg(s: &str) -> Option<ClientName> {
        if s.trim().eq_ignore_ascii_case(INSTALLED_OUTLOOK) {
            return Some(ClientName::Installed);
        }
        Profile::parse(s).map(ClientName::Profile)
    }

    /// The name as a scenario file writes it.
    pub fn name(self) -> &'static str {
        match self {
            ClientName::Profile(p) => p.name(),
            ClientName::Installed => INSTALLED_OUTLOOK,
        }
    }
}

/// The reference client's profile for an installed Outlook (`None`: the lab's default).
pub fn installed_profile(installed: Option<OutlookVersion>) -> Profile {
    match installed.unwrap_or(OutlookVersion::DEFAULT) {
        OutlookVersion::Outlook2010 => Profile::Outlook2010,
        OutlookVersion::Outlook2013 => Profile::Outlook2013,
        OutlookVersion::Outlook2016 => Profile::Outlook2016,
    }
}

impl From<Profile> for ClientName {
    fn from(p: Profile) -> Self {
        ClientName::Profile(p)
    }
}

impl Serialize for ClientName {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

/// `client: outlook`, the Outlook installed on the user's machine.
pub const INSTALLED_OUTLOOK: &str = "outlook";

/// The profile names a scenario may use (and [`INSTALLED_OUTLOOK`]).
pub const CLIENT_NAMES: [&str; 6] = [
    "outlook-2010",
    "outlook-2013",
    "outlook-2016",
    "outlook-2016-mac",
    "eas",
    "native-eas",
];

impl<'de> Deserialize<'de> for ClientName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        match ClientName::parse(&s) {
            Some(c) => Ok(c),
            None => {
                let list = std::iter::once(INSTALLED_OUTLOOK)
                    .chain(CLIENT_NAMES)
                    .map(|n| format!("`{n}`"))
                    .collect::<Vec<_>>()
                    .join(", ");
                // "unknown variant" lets lab_kit add the nearest-name hint.
                Err(serde::de::Error::custom(format!(
                    "unknown variant `{s}`, expected one of {list} (client profile; `outlook` is the Outlook installed on the user's machine)"
                )))
            }
        }
    }
}

/// `connect` (a first start: no cached tokens), `reconnect` (cached tokens, silent refresh),
/// `restart` (Outlook closed and started again: new connections, Autodiscover and handshake
/// anew, cached tokens kept) or `sync` (Outlook still running: its mailbox request again with
/// the authentication it started with).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ConnectKind {
    #[default]
    Connect,
    Reconnect,
    Restart,
    Sync,
}

impl ConnectKind {
    /// The name as a scenario file writes it.
    pub fn name(self) -> &'static str {
        match self {
            ConnectKind::Connect => "connect",
            ConnectKind::Reconnect => "reconnect",
            ConnectKind::Restart => "restart",
            ConnectKind::Sync => "sync",
        }
    }
}

/// A client's settings for one action (machine settings set by cmdlets apply first).
#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientSettings {
    /// `HKCU\…\Common\Identity\EnableADAL` (REG_DWORD).
    #[serde(rename = "EnableADAL", default)]
    pub enable_adal: Option<u32>,
    /// `HKCU\…\Common\Identity\Version` (REG_DWORD).
    #[serde(rename = "Version", default)]
    pub version: Option<u32>,
    /// Outlook for Mac's `DisableModernAuth`.
    #[serde(rename = "DisableModernAuth", default)]
    pub disable_modern_auth: Option<bool>,
    #[serde(default)]
    pub mfa_code: Option<String>,
    #[serde(default)]
    pub password: Option<String>,
    /// The on-premises (NTLM/Basic) password, when different.
    #[serde(default)]
    pub onprem_password: Option<String>,
    /// The user cancels every sign-in window.
    #[serde(default)]
    pub cancel_password_prompt: Option<bool>,
    /// Answer to "Stay signed in?".
    #[serde(default)]
    pub kmsi: Option<bool>,
    /// A domain-joined Windows machine: at the company's ADFS farm the browser signs in with
    /// the Windows logon (integrated, no page) instead of the forms page.
    #[serde(default)]
    pub domain_joined: Option<bool>,
    /// Outlook traced through the lab's recording proxy, which decrypts TLS as Fiddler does
    /// (HTTPS_PROXY): every `https://` connection shows the proxy's certificate.
    #[serde(default)]
    pub through_proxy: Option<bool>,
}

/// One client action.
#[derive(Debug, Clone, Serialize)]
pub struct ClientAction {
    pub client: ClientName,
    pub user: String,
    pub action: ConnectKind,
    pub settings: ClientSettings,
}

/// One raw HTTP exchange through the lab network.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestAction {
    #[serde(default = "get")]
    pub method: String,
    pub url: String,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    #[serde(default)]
    pub body: Option<String>,
    #[serde(default)]
    pub bearer: Option<BearerSpec>,
}

fn get() -> String {
    "GET".into()
}

/// Get a token first (v1 password grant, Office client) and send it as `Authorization: Bearer`.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BearerSpec {
    pub user: String,
    pub resource: String,
    /// Default: the lab's Contoso password.
    #[serde(default)]
    pub password: Option<String>,
}

/// `password` | `refresh` | `client_credentials`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Grant {
    Password,
    Refresh,
    ClientCredentials,
}

/// One call to mock Azure AD's token endpoint.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenAction {
    pub grant: Grant,
    #[serde(default)]
    pub user: Option<String>,
    #[serde(default)]
    pub password: Option<String>,
    /// v1 endpoint.
    #[serde(default)]
    pub resource: Option<String>,
    /// v2 endpoint.
    #[serde(default)]
    pub scope: Option<String>,
    /// Default: the Office client (`d3590ed6-…`).
    #[serde(default)]
    pub client_id: Option<String>,
    #[serde(default)]
    pub client_secret: Option<String>,
    /// Tenant segment of the endpoint. Default: the user's domain, else `common`.
    #[serde(default)]
    pub tenant: Option<String>,
}
