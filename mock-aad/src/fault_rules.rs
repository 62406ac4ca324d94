//! Fault rules: which requests a scripted failure catches, how often, and what it answers.
//!
//! A [`Rule`] says which requests it catches ([`Match`]: endpoint, grant type, user, client,
//! resource), how many times (`times`, or until removed) and what happens instead ([`Respond`]):
//! an AADSTS error of the catalogue ([`crate::aadsts`]), a bare 5xx, or a delay after which the
//! request goes on to the real handler. Rules are tried in insertion order; the first one with a
//! count left is taken and its count decremented under one lock, so concurrent requests never use
//! a count twice.
//!
//! Plain data behind one lock in the shared state; the middleware that applies the rules to
//! requests is [`crate::faults`].

use std::collections::HashSet;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::aadsts;

/// The largest body the middleware buffers to match a rule (the router's own limit).
pub const BODY_LIMIT: usize = 256 * 1024;
/// The longest delay a rule may ask for.
pub const MAX_DELAY_MS: u64 = 600_000;

/// Which service endpoint a request is for.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Endpoint {
    Token,
    Authorize,
    Devicecode,
    /// The v1 and v2 OpenID configuration documents.
    Discovery,
    /// JWKS (`/common/discovery/keys`, `/{t}/discovery/v2.0/keys`).
    Keys,
    FederationMetadata,
    Userrealm,
    Instance,
    /// Any path (admin paths excepted).
    #[default]
    Any,
}

impl Endpoint {
    /// Classifies a request path. `None` for the admin API (never faulted); `Some(Any)` for a
    /// path that is none of the named endpoints (only `endpoint: any` rules catch it).
    pub fn classify(path: &str) -> Option<Endpoint> {
        let p = path.to_ascii_lowercase();
        let p = p.trim_end_matches('/');
        if p == "/_admin" || p.starts_with("/_admin/") {
            return None;
        }
        let segs: Vec<&str> = p.split('/').filter(|s| !s.is_empty()).collect();
        let rest: &[&str] = segs.get(1..).unwrap_or(&[]);
        let e = match rest {
            ["oauth2", "token"] | ["oauth2", "v2.0", "token"] => Endpoint::Token,
            ["oauth2", "authorize"] | ["oauth2", "v2.0", "authorize"] => Endpoint::Authorize,
            ["oauth2", "devicecode"] | ["oauth2", "v2.0", "devicecode"] => Endpoint::Devicecode,
            [".well-known", "openid-configuration"]
            | ["v2.0", ".well-known", "openid-configuration"] => Endpoint::Discovery,
            ["discovery", "keys"] | ["discovery", "v2.0", "keys"] => Endpoint::Keys,
            ["discovery", "instance"] => Endpoint::Instance,
            ["userrealm", ..] => Endpoint::Userrealm,
            ["federationmetadata", "2007-06", "federationmetadata.xml"] => {
                Endpoint::FederationMetadata
            }
            _ if segs.first() == Some(&"getuserrealm.srf") => Endpoint::Userrealm,
            _ => Endpoint::Any,
        };
        Some(e)
    }
}

/// Which requests a rule catches. Every field that is set must match.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Match {
    #[serde(default)]
    pub endpoint: Endpoint,
    /// `password`, `refresh_token`, … or the full URN (`urn:ietf:params:oauth:grant-type:device_code`
    /// is also matched by `device_code`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant_type: Option<String>,
    /// A UPN: the `username` of a password grant, the `login_hint` of an authorize request, or the
    /// user a refresh token, authorization code or device code belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// `client_id` (form, query, or HTTP Basic credentials).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// Contained (without ASCII case) in the v1 `resource` or the v2 `scope`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
}

impl Match {
    pub fn matches(&self, req: &RequestInfo) -> bool {
        if self.endpoint != Endpoint::Any && self.endpoint != req.endpoint {
            return false;
        }
        if let Some(want) = &self.grant_type {
            let Some(got) = req.grant_type.as_deref() else {
                return false;
            };
            let short = got.rsplit(':').next().unwrap_or(got);
            if !want.eq_ignore_ascii_case(got) && !want.eq_ignore_ascii_case(short) {
                return false;
            }
        }
        if let Some(want) = &self.user {
            if !req
                .user
                .as_deref()
                .is_some_and(|u| u.eq_ignore_ascii_case(want))
            {
                return false;
            }
        }
        if let Some(want) = &self.client_id {
            if !req
                .client_id
                .as_deref()
                .is_some_and(|c| c.trim().eq_ignore_ascii_case(want.trim()))
            {
                return false;
            }
        }
        if let Some(want) = &self.resource {
            let want = want.to_ascii_lowercase();
            let hit = [&req.resource, &req.scope]
                .into_iter()
                .flatten()
                .any(|v| v.to_ascii_lowercase().contains(&want));
            if !hit {
                return false;
            }
        }
        true
    }
}

/// What a rule does to a request it catches.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Respond {
    /// Answer with this AADSTS error ([`aadsts::error_for_code`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aadsts: Option<u32>,
    /// Answer with this 5xx status (`temporarily_unavailable`, `AadError::server_error`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Wait this long (real time) first; alone, the request then goes on to the service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay_ms: Option<u64>,
    /// With `aadsts`/`status`: each user (else client) gets the error once, then passes — a
    /// step-up challenge that is satisfied by retrying. Counts are only used by failed requests.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub then_pass: bool,
}

/// A rule as posted to `POST /_admin/faults`.
#[derive(Debug, Clone, PartialEq, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRule {
    #[serde(default, rename = "match")]
    pub matcher: Match,
    /// How many requests the rule catches: absent = 1, `null` = until removed.
    #[serde(default = "default_times", deserialize_with = "times_or_null")]
    #[schemars(with = "Option<u64>")]
    pub times: Option<u64>,
    pub respond: Respond,
}

fn default_times() -> Option<u64> {
    Some(1)
}

fn times_or_null<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    Option::<u64>::deserialize(d)
}

/// A stored rule.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rule {
    pub id: u64,
    #[serde(rename = "match")]
    pub matcher: Match,
    /// As created (`null` = until removed).
    pub times: Option<u64>,
    /// Requests it will still catch (`null` = unlimited).
    pub remaining: Option<u64>,
    /// Requests it caught so far.
    pub hits: u64,
    pub respond: Respond,
    /// Principals that already got their one error (`then_pass`).
    #[serde(skip)]
    passed: HashSet<String>,
}

/// All fault rules, in insertion order.
#[derive(Debug, Default)]
pub struct Faults {
    rules: Vec<Rule>,
    next_id: u64,
}

impl Faults {
    /// Validates and adds a rule; returns it.
    pub fn add(&mut self, new: NewRule) -> Result<Rule, String> {
        let r = &new.respond;
        if r.aadsts.is_some() && r.status.is_some() {
            return Err("respond: give either `aadsts` or `status`, not both".into());
        }
        if r.aadsts.is_none() && r.status.is_none() && r.delay_ms.is_none() {
            return Err("respond: give `aadsts`, `status` or `delay_ms`".into());
        }
        if let Some(code) = r.aadsts {
            if aadsts::entry(code).is_none() {
                return Err(format!(
                    "respond.aadsts: unknown code {code}; known codes: {}",
                    aadsts::KNOWN_CODES
                        .iter()
                        .map(u32::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
        }
        if let Some(s) = r.status {
            if !(500..=599).contains(&s) {
                return Err(format!(
                    "respond.status: {s} is not a 5xx status (use `aadsts` for 4xx errors)"
                ));
            }
        }
        if let Some(d) = r.delay_ms {
            if d > MAX_DELAY_MS {
                return Err(format!(
                    "respond.delay_ms: {d} is longer than the limit of {MAX_DELAY_MS}"
                ));
            }
        }
        if r.then_pass && r.aadsts.is_none() && r.status.is_none() {
            return Err("respond.then_pass: only meaningful with `aadsts` or `status`".into());
        }
        if new.times == Some(0) {
            return Err("times: must be at least 1 (or null for until removed)".into());
        }
        self.next_id += 1;
        let rule = Rule {
            id: self.next_id,
            matcher: new.matcher,
            times: new.times,
            remaining: new.times,
            hits: 0,
            respond: new.respond,
            passed: HashSet::new(),
        };
        self.rules.push(rule.clone());
        Ok(rule)
    }

    pub fn list(&self) -> &[Rule] {
        &self.rules
    }

    /// Removes one rule; `false` if there is none with that id.
    pub fn remove(&mut self, id: u64) -> bool {
        let before = self.rules.len();
        self.rules.retain(|r| r.id != id);
        self.rules.len() != before
    }

    /// Removes every rule; returns how many there were.
    pub fn clear(&mut self) -> usize {
        let n = self.rules.len();
        self.rules.clear();
        n
    }

    /// The rules that can still catch a request.
    pub fn live(&self) -> impl Iterator<Item = &Rule> {
        self.rules.iter().filter(|r| r.remaining != Some(0))
    }

    /// Takes the first live rule that matches, counting the hit. `None` when no rule applies.
    pub fn take(&mut self, req: &RequestInfo) -> Option<Respond> {
        for rule in self.rules.iter_mut() {
            if rule.remaining == Some(0) || !rule.matcher.matches(req) {
                continue;
            }
            if rule.respond.then_pass {
                let who = req
                    .user
                    .clone()
                    .or_else(|| req.client_id.clone())
                    .unwrap_or_default()
                    .to_ascii_lowercase();
                if !rule.passed.insert(who) {
                    continue;
                }
            }
            if let Some(n) = rule.remaining.as_mut() {
                *n -= 1;
            }
            rule.hits += 1;
            return Some(rule.respond.clone());
        }
        None
    }
}

/// What the middleware learned about a request: what rules match on, and what an injected
/// error is worded with.
#[derive(Debug, Clone, Default)]
pub struct RequestInfo {
    pub endpoint: Endpoint,
    pub tenant: String,
    pub v1: bool,
    pub grant_type: Option<String>,
    pub user: Option<String>,
    pub client_id: Option<String>,
    pub resource: Option<String>,
    pub scope: Option<String>,
    pub redirect_uri: Option<String>,
    /// Authorize requests: where and how an error goes back to the client.
    pub state: Option<String>,
    pub response_mode: Option<String>,
    pub response_type: Option<String>,
    /// The refresh token, authorization code or device code presented.
    pub grant: Option<GrantValue>,
    /// When the presented refresh token was issued (for 50173/700081/700082 texts).
    pub grant_issued: Option<OffsetDateTime>,
}

/// A grant presented in a request, resolved to its user so `match.user` catches it.
#[derive(Debug, Clone)]
pub enum GrantValue {
    Refresh(String),
    Code(String),
    Device(String),
}
