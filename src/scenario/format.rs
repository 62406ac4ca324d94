//! The scenario file format, version 1: types, parsing and validation.
//!
//! A scenario is YAML read with `lab_kit::parse_yaml` into `deny_unknown_fields` structs, so a
//! misspelt field or expectation kind is reported at its file:line:col with the nearest valid
//! name. Steps, actions and expectations are written as maps with one "kind" key plus a few
//! siblings (`client:` with `user:`, an expectation with `step:`), so they are structs of
//! optional fields checked by `TryFrom` ("exactly one kind"): serde then places those errors
//! too. Values with their own vocabulary (client profiles, durations, grants) deserialize
//! through checked newtypes for the same reason. What needs the whole file — cmdlet lines
//! (linted with the shell's parser, the error placed at the cmdlet's own line and column), the
//! lab reference, the file stem, the twin rule — is checked after parsing, in [`validate`].

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use lab_kit::FileError;
use serde::{Deserialize, Deserializer, Serialize};

use crate::client::Profile;
use crate::lab::{Certificate, ClientSegment, LoadBalancer, ReverseProxy};

/// One scenario file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub version: u32,
    pub name: String,
    #[serde(default)]
    pub title: String,
    /// The field guide section it reproduces (exact heading text).
    #[serde(default)]
    pub guide: String,
    /// A built-in lab name, or a path relative to the scenario file.
    pub lab: String,
    #[serde(default)]
    pub given: Vec<Step>,
    pub when: Vec<Action>,
    #[serde(default)]
    pub then: Vec<Expectation>,
    #[serde(default)]
    pub fix: Option<Vec<Step>>,
    #[serde(default)]
    pub after_fix: Vec<Expectation>,
    #[serde(default)]
    pub twin: Option<Vec<Step>>,
}

/// A set-up (or fix, or twin) step.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// One PowerShell line, verbatim.
    Cmdlet(String),
    Network(NetworkChange),
    Clock(ClockChange),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStep {
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNetwork {
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
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClockChange {
    pub advance: Secs,
}

/// A duration in seconds, written `90`, `30s`, `5m`, `2h` or `91d`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Secs(pub i64);

impl<'de> Deserialize<'de> for Secs {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
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
    (0..=100 * 365 * 86_400).contains(&v).then_some(v)
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAction {
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
        if n != 1 {
            return Err(D::Error::custom(
                "a `when` action has exactly one of `client`, `request`, `token` (or a step: `cmdlet`, `network`, `clock`)",
            ));
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

/// A client profile name as written in scenario files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ClientName(#[serde(serialize_with = "ser_profile")] pub Profile);

fn ser_profile<S: serde::Serializer>(p: &Profile, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(p.name())
}

/// The profile names a scenario may use.
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
        let p = CLIENT_NAMES
            .iter()
            .any(|n| *n == s)
            .then(|| Profile::parse(&s))
            .flatten();
        match p {
            Some(p) => Ok(ClientName(p)),
            None => {
                let list = CLIENT_NAMES
                    .iter()
                    .map(|n| format!("`{n}`"))
                    .collect::<Vec<_>>()
                    .join(", ");
                // "unknown variant" lets lab_kit add the nearest-name hint.
                Err(serde::de::Error::custom(format!(
                    "unknown variant `{s}`, expected one of {list} (client profile)"
                )))
            }
        }
    }
}

/// `connect` (a first start: no cached tokens) or `reconnect` (cached tokens, silent refresh).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConnectKind {
    #[default]
    Connect,
    Reconnect,
}

/// A client's settings for one action (machine settings set by cmdlets apply first).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
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
#[derive(Debug, Clone, Serialize, Deserialize)]
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
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BearerSpec {
    pub user: String,
    pub resource: String,
    /// Default: the lab's Contoso password.
    #[serde(default)]
    pub password: Option<String>,
}

/// `password` | `refresh` | `client_credentials`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Grant {
    Password,
    Refresh,
    ClientCredentials,
}

/// One call to mock Azure AD's token endpoint.
#[derive(Debug, Clone, Serialize, Deserialize)]
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

/// One expectation, on the last outcome unless `step` names one (0-based index into `when`).
#[derive(Debug, Clone, Serialize)]
pub struct Expectation {
    pub step: Option<usize>,
    pub check: Check,
}

/// What an expectation checks.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Check {
    Status(u16),
    Header(HeaderMatch),
    Aadsts(u32),
    Error(String),
    Location(TextMatch),
    Body(TextMatch),
    ClientStatus(ClientStatusMatch),
    Exchange(ExchangeMatch),
    Claim(ClaimMatch),
    Cmdlet(CmdletCheck),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExpectation {
    step: Option<usize>,
    status: Option<u16>,
    header: Option<HeaderMatch>,
    aadsts: Option<u32>,
    error: Option<String>,
    location: Option<TextMatch>,
    body: Option<TextMatch>,
    client_status: Option<ClientStatusMatch>,
    exchange: Option<ExchangeMatch>,
    claim: Option<ClaimMatch>,
    cmdlet: Option<CmdletCheck>,
}

/// The expectation kinds, for messages.
pub const EXPECTATION_KINDS: [&str; 10] = [
    "status",
    "header",
    "aadsts",
    "error",
    "location",
    "body",
    "client_status",
    "exchange",
    "claim",
    "cmdlet",
];

impl<'de> Deserialize<'de> for Expectation {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let r = RawExpectation::deserialize(d)?;
        let mut checks = Vec::new();
        if let Some(v) = r.status {
            checks.push(Check::Status(v));
        }
        if let Some(v) = r.header {
            checks.push(Check::Header(v));
        }
        if let Some(v) = r.aadsts {
            checks.push(Check::Aadsts(v));
        }
        if let Some(v) = r.error {
            checks.push(Check::Error(v));
        }
        if let Some(v) = r.location {
            checks.push(Check::Location(v));
        }
        if let Some(v) = r.body {
            checks.push(Check::Body(v));
        }
        if let Some(v) = r.client_status {
            checks.push(Check::ClientStatus(v));
        }
        if let Some(v) = r.exchange {
            checks.push(Check::Exchange(v));
        }
        if let Some(v) = r.claim {
            checks.push(Check::Claim(v));
        }
        if let Some(v) = r.cmdlet {
            checks.push(Check::Cmdlet(v));
        }
        if checks.len() != 1 {
            return Err(serde::de::Error::custom(format!(
                "an expectation has exactly one kind (one of {}), plus an optional `step`",
                EXPECTATION_KINDS.join(", ")
            )));
        }
        Ok(Expectation {
            step: r.step,
            check: checks.remove(0),
        })
    }
}

/// `header: { name: …, equals|contains|not_contains|starts_with|absent: … }`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeaderMatch {
    pub name: String,
    #[serde(default)]
    pub equals: Option<String>,
    #[serde(default)]
    pub contains: Option<String>,
    #[serde(default)]
    pub not_contains: Option<String>,
    #[serde(default)]
    pub starts_with: Option<String>,
    #[serde(default)]
    pub absent: Option<bool>,
}

impl HeaderMatch {
    fn check_shape(&self) -> Result<(), String> {
        let n = self.equals.is_some() as u8
            + self.contains.is_some() as u8
            + self.not_contains.is_some() as u8
            + self.starts_with.is_some() as u8
            + self.absent.is_some() as u8;
        if n == 0 {
            return Err(format!(
                "header `{}` needs a matcher: equals, contains, not_contains, starts_with or absent",
                self.name
            ));
        }
        Ok(())
    }
}

/// A text matcher: every given condition must hold.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TextMatch {
    #[serde(default)]
    pub equals: Option<String>,
    #[serde(default)]
    pub contains: Option<String>,
    #[serde(default)]
    pub not_contains: Option<String>,
    #[serde(default)]
    pub starts_with: Option<String>,
}

impl TextMatch {
    fn is_empty(&self) -> bool {
        self.equals.is_none()
            && self.contains.is_none()
            && self.not_contains.is_none()
            && self.starts_with.is_none()
    }
}

/// `client_status: { authn, protocol, status, server }` (each optional; `authn: none` means not
/// connected).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientStatusMatch {
    #[serde(default)]
    pub authn: Option<String>,
    #[serde(default)]
    pub protocol: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub server: Option<String>,
    /// Substring of the status detail (why it is disconnected).
    #[serde(default)]
    pub detail_contains: Option<String>,
}

/// Some HTTP exchange in the client's trace matches every given condition.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExchangeMatch {
    #[serde(default)]
    pub url_contains: Option<String>,
    /// The client's step name (`autodiscover`, `mapi`, `rpc`, `ews`, `eas`, `aad-authorize`, …).
    #[serde(default)]
    pub step: Option<String>,
    #[serde(default)]
    pub method: Option<String>,
    #[serde(default)]
    pub status: Option<u16>,
    /// Authorization scheme sent (`Bearer`, `Bearer (empty)`, `NTLM`, `Negotiate`, `Basic`).
    #[serde(default)]
    pub authorization: Option<String>,
    #[serde(default)]
    pub header: Option<HeaderMatch>,
    #[serde(default)]
    pub aadsts: Option<u32>,
    /// Substring of the transport error when no response arrived (a refused connection, a
    /// certificate the client rejected: `The security certificate has expired`).
    #[serde(default)]
    pub error_contains: Option<String>,
}

/// A claim of the last access token obtained.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClaimMatch {
    pub name: String,
    #[serde(default)]
    pub equals: Option<String>,
    /// A string claim contains the text, or an array claim has the element.
    #[serde(default)]
    pub contains: Option<String>,
    #[serde(default)]
    pub absent: Option<bool>,
}

/// Run a cmdlet line against the lab and compare its console output.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CmdletCheck {
    pub run: String,
    /// The whole output, trailing whitespace ignored.
    #[serde(default)]
    pub output: Option<String>,
    #[serde(default)]
    pub contains: Option<String>,
    /// The line fails and its PowerShell error message contains this.
    #[serde(default)]
    pub error: Option<String>,
}

/// A parsed, validated scenario and where it came from.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub path: PathBuf,
    pub scenario: Scenario,
    /// The lab to start: a built-in name or a resolved path.
    pub lab: LabRef,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LabRef {
    Builtin(String),
    File(PathBuf),
}

impl fmt::Display for LabRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LabRef::Builtin(n) => write!(f, "{n}"),
            LabRef::File(p) => write!(f, "{}", p.display()),
        }
    }
}

/// Reads, parses and validates a scenario file.
pub fn load(path: &Path) -> Result<Loaded, FileError> {
    let name = path.display().to_string();
    let text = lab_kit::labfile::read_text(path, "scenario file")?;
    parse(
        &text,
        &name,
        path.parent(),
        path.file_stem().and_then(|s| s.to_str()),
    )
}

/// Parses and validates scenario text named `file` in errors; `dir` resolves a lab path and
/// `stem` (when given) must equal `name`.
pub fn parse(
    text: &str,
    file: &str,
    dir: Option<&Path>,
    stem: Option<&str>,
) -> Result<Loaded, FileError> {
    let scenario: Scenario = lab_kit::parse_yaml(text, file).map_err(|e| place_value(e, text))?;
    let lab = validate(&scenario, text, file, dir, stem)?;
    Ok(Loaded {
        path: PathBuf::from(file),
        scenario,
        lab,
    })
}

/// serde places an error about a value (an unknown client profile, a bad duration) at the start
/// of the map holding it; move it onto the value itself when it is found from that line on.
fn place_value(mut e: FileError, text: &str) -> FileError {
    let value = ["unknown variant `", "invalid duration `"]
        .iter()
        .find_map(|p| e.message.split_once(p).map(|(_, r)| r))
        .and_then(|r| r.split('`').next())
        .map(str::to_string);
    if let Some(v) = value.filter(|v| !v.is_empty()) {
        if e.line > 0 {
            if let Some((l, c)) = locate_from(text, &v, e.line) {
                e.line = l;
                e.column = c;
            }
        }
    }
    e
}

/// The checks that need the whole file.
pub fn validate(
    s: &Scenario,
    text: &str,
    file: &str,
    dir: Option<&Path>,
    stem: Option<&str>,
) -> Result<LabRef, FileError> {
    let err = |needle: Option<&str>, msg: String| FileError::semantic(file, text, needle, msg);
    if s.version != 1 {
        return Err(err(
            Some("version:"),
            format!("version: unsupported version {}, expected 1", s.version),
        ));
    }
    if let Some(stem) = stem {
        if stem != s.name {
            return Err(err(
                Some("name:"),
                format!("name: `{}` differs from the file name `{stem}`", s.name),
            )
            .with_hint(format!(
                "name the file `{}.yaml` or set `name: {stem}`",
                s.name
            )));
        }
    }
    if s.when.is_empty() {
        return Err(err(
            Some("when:"),
            "when: at least one action is needed".into(),
        ));
    }
    // Lab reference.
    let lab = if s.lab.contains('/') || s.lab.ends_with(".yaml") || s.lab.ends_with(".yml") {
        let p = dir
            .map(|d| d.join(&s.lab))
            .unwrap_or_else(|| PathBuf::from(&s.lab));
        if !p.is_file() {
            return Err(err(
                Some("lab:"),
                format!("lab: no lab file at {}", p.display()),
            ));
        }
        // The lab file is checked too; its error names its own file and place.
        crate::lab::LabFile::load(&p).map_err(|mut e| {
            e.message = format!("lab of {file}: {}", e.message);
            e
        })?;
        LabRef::File(p)
    } else {
        crate::lab::LabFile::builtin(&s.lab).map_err(|e| {
            let mut fe = err(Some("lab:"), format!("lab: {}", e.message));
            fe.hint = e.hint;
            fe
        })?;
        LabRef::Builtin(s.lab.clone())
    };
    // Cmdlet lines, in file order.
    let mut from_line = 0usize;
    // (line, full lint): set-up lines must name real cmdlets and parameters; a `cmdlet` check
    // may assert PowerShell's own error, so its line only has to parse.
    let mut cmdlets: Vec<(&str, bool)> = Vec::new();
    fn step_lines<'a>(steps: &'a [Step], out: &mut Vec<(&'a str, bool)>) {
        for st in steps {
            if let Step::Cmdlet(c) = st {
                out.push((c.as_str(), true));
            }
        }
    }
    fn check_lines<'a>(list: &'a [Expectation], out: &mut Vec<(&'a str, bool)>) {
        for e in list {
            if let Check::Cmdlet(c) = &e.check {
                out.push((c.run.as_str(), false));
            }
        }
    }
    // In the usual file order, so each is found after the one before.
    step_lines(&s.given, &mut cmdlets);
    for a in &s.when {
        if let Action::Step(Step::Cmdlet(c)) = a {
            cmdlets.push((c.as_str(), true));
        }
    }
    check_lines(&s.then, &mut cmdlets);
    step_lines(s.fix.as_deref().unwrap_or_default(), &mut cmdlets);
    check_lines(&s.after_fix, &mut cmdlets);
    step_lines(s.twin.as_deref().unwrap_or_default(), &mut cmdlets);
    for (line, full) in cmdlets {
        let here = locate_from(text, line, from_line).or_else(|| locate_from(text, line, 1));
        if let Some((l, _)) = here {
            from_line = l;
        }
        let checked = if full {
            crate::shell::lint(line)
        } else {
            crate::shell::parser::parse_line(line).map(drop)
        };
        if let Err(e) = checked {
            let (l, c) = match here {
                Some((l, c)) => {
                    let stripped_off = line.chars().count()
                        - crate::shell::parser::strip_prompt(line).chars().count();
                    (l, c + stripped_off + e.column.saturating_sub(1))
                }
                None => (0, 0),
            };
            let mut fe = FileError {
                file: file.to_string(),
                line: l,
                column: c,
                message: format!("cmdlet `{line}`: {}", e.message),
                hint: e.hint.clone(),
            };
            if fe.hint.is_none() {
                fe.hint = Some(
                    "the line must parse as PowerShell and name a known cmdlet and its parameters"
                        .into(),
                );
            }
            return Err(fe);
        }
    }
    // Header and text matchers need a condition; `step` must exist.
    for (section, list) in [("then", &s.then), ("after_fix", &s.after_fix)] {
        for e in list {
            if let Some(st) = e.step {
                if st >= s.when.len() {
                    return Err(err(
                        Some(&format!("step: {st}")),
                        format!(
                            "{section}: `step: {st}` but `when` has {} action(s) (0-based)",
                            s.when.len()
                        ),
                    ));
                }
            }
            let shape = match &e.check {
                Check::Header(h) => h.check_shape(),
                Check::Exchange(x) => x.header.as_ref().map_or(Ok(()), |h| h.check_shape()),
                Check::Location(t) | Check::Body(t) if t.is_empty() => {
                    Err("a text matcher needs equals, contains, not_contains or starts_with".into())
                }
                Check::Claim(c)
                    if c.equals.is_none() && c.contains.is_none() && c.absent.is_none() =>
                {
                    Err(format!(
                        "claim `{}` needs equals, contains or absent",
                        c.name
                    ))
                }
                Check::Cmdlet(c)
                    if c.output.is_none() && c.contains.is_none() && c.error.is_none() =>
                {
                    Err(format!(
                        "cmdlet check `{}` needs output, contains or error",
                        c.run
                    ))
                }
                _ => Ok(()),
            };
            if let Err(m) = shape {
                return Err(err(Some(section), format!("{section}: {m}")));
            }
        }
    }
    if s.fix.is_some() && s.after_fix.is_empty() {
        return Err(err(
            Some("fix:"),
            "after_fix: a scenario with `fix` needs `after_fix` expectations".into(),
        ));
    }
    if s.fix.is_none() && s.twin.is_none() {
        return Err(err(
            Some("name:"),
            "the scenario has no twin: add `fix` (the automatic twin runs given + fix + when) or an explicit `twin`, so it cannot pass vacuously".into(),
        ));
    }
    if s.then.is_empty() {
        return Err(err(
            Some("then:"),
            "then: at least one expectation is needed".into(),
        ));
    }
    Ok(lab)
}

/// 1-based (line, column) of the first occurrence of `needle` at or after 1-based line `from`.
fn locate_from(text: &str, needle: &str, from: usize) -> Option<(usize, usize)> {
    let probe: String = needle.chars().take(60).collect();
    let probe = probe.trim();
    if probe.is_empty() {
        return None;
    }
    text.lines()
        .enumerate()
        .skip(from.saturating_sub(1))
        .find_map(|(i, l)| l.find(probe).map(|c| (i + 1, l[..c].chars().count() + 1)))
}

/// Every `*.yaml` under `paths` (directories recursively, `labs/` skipped), sorted.
pub fn discover(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            walk(p, &mut out).map_err(|e| format!("{}: {e}", p.display()))?;
        } else if p.is_file() {
            out.push(p.clone());
        } else {
            return Err(format!("{}: no such file or directory", p.display()));
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.path());
    for e in entries {
        let p = e.path();
        if p.is_dir() {
            if p.file_name().is_some_and(|n| n == "labs") {
                continue;
            }
            walk(&p, out)?;
        } else if p.extension().is_some_and(|x| x == "yaml") {
            out.push(p);
        }
    }
    Ok(())
}
