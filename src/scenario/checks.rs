//! What a scenario checks, as written: the expectations of `then:` and `after_fix:`
//! ([`Expectation`], one [`Check`] each) and their matchers (headers, text, client status, trace
//! exchanges, token claims, cmdlet output). Read like the steps: one "kind" key per map, checked
//! by hand so serde places the error. Plain data here; [`super::expect`] judges them on what the
//! run produced.

use serde::{Deserialize, Deserializer, Serialize};

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
    /// The status line's reason phrase (`Bad Unicorn`).
    Reason(String),
    Header(HeaderMatch),
    Aadsts(u32),
    Error(String),
    Location(TextMatch),
    Body(TextMatch),
    ClientStatus(ClientStatusMatch),
    Exchange(ExchangeMatch),
    /// No exchange of the client's trace matches every condition (an absence: "no request to
    /// Exchange carried `Authorization: Bearer`").
    NoExchange(ExchangeMatch),
    Claim(ClaimMatch),
    Cmdlet(CmdletCheck),
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct RawExpectation {
    step: Option<usize>,
    status: Option<u16>,
    header: Option<HeaderMatch>,
    aadsts: Option<u32>,
    error: Option<String>,
    location: Option<TextMatch>,
    body: Option<TextMatch>,
    client_status: Option<ClientStatusMatch>,
    exchange: Option<ExchangeMatch>,
    no_exchange: Option<ExchangeMatch>,
    claim: Option<ClaimMatch>,
    cmdlet: Option<CmdletCheck>,
    reason: Option<String>,
}

/// The expectation kinds, for messages.
pub const EXPECTATION_KINDS: [&str; 12] = [
    "status",
    "reason",
    "header",
    "aadsts",
    "error",
    "location",
    "body",
    "client_status",
    "exchange",
    "no_exchange",
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
        if let Some(v) = r.reason {
            checks.push(Check::Reason(v));
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
        if let Some(v) = r.no_exchange {
            checks.push(Check::NoExchange(v));
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
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
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
    /// Err when no matcher is given (the file's validation places the message).
    pub(super) fn check_shape(&self) -> Result<(), String> {
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
#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
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
    /// No condition given.
    pub(super) fn is_empty(&self) -> bool {
        self.equals.is_none()
            && self.contains.is_none()
            && self.not_contains.is_none()
            && self.starts_with.is_none()
    }
}

/// `client_status: { authn, protocol, status, server }` (each optional; `authn: none` means not
/// connected).
#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
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
#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExchangeMatch {
    /// Which service the request went to: `exchange` (any step that is not Azure AD's) or
    /// `azure_ad` (the `aad-*` steps).
    #[serde(default)]
    pub to: Option<Service>,
    #[serde(default)]
    pub url_contains: Option<String>,
    /// The client's step name (`autodiscover`, `mapi`, `rpc`, `ews`, `eas`, `aad-authorize`, …).
    #[serde(default)]
    pub step: Option<String>,
    #[serde(default)]
    pub method: Option<String>,
    #[serde(default)]
    pub status: Option<u16>,
    /// Authorization sent, exactly (`Bearer`, `Bearer (empty)`, `NTLM`, `Negotiate`, `Basic`),
    /// or `none`: the request carried no Authorization header.
    #[serde(default)]
    pub authorization: Option<String>,
    /// The scheme word of the Authorization sent: `Bearer` matches a token and an empty Bearer.
    #[serde(default)]
    pub scheme: Option<String>,
    /// The reason phrase of the answer's status line (`Bad Unicorn`).
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub header: Option<HeaderMatch>,
    #[serde(default)]
    pub aadsts: Option<u32>,
    /// Substring of the transport error when no response arrived (a refused connection, a
    /// certificate the client rejected: `The security certificate has expired`).
    #[serde(default)]
    pub error_contains: Option<String>,
}

/// The service an exchange of the client's trace went to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Service {
    Exchange,
    AzureAd,
}

impl ExchangeMatch {
    /// Whether no condition is given (an absence of "any exchange" can never hold).
    pub(super) fn is_empty(&self) -> bool {
        self.to.is_none()
            && self.url_contains.is_none()
            && self.step.is_none()
            && self.method.is_none()
            && self.status.is_none()
            && self.authorization.is_none()
            && self.scheme.is_none()
            && self.reason.is_none()
            && self.header.is_none()
            && self.aadsts.is_none()
            && self.error_contains.is_none()
    }
}

/// A claim of the last access token obtained.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
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
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
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
