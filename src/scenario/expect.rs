//! Expectations checked against outcomes: each gives a [`CheckResult`] with what was expected,
//! what was seen and, when it failed, the exchange that differed.
//!
//! An expectation looks at the last outcome unless it names `step: N`. For `request` and `token`
//! outcomes `status`, `header`, `location`, `body`, `aadsts` and `error` read the one HTTP
//! exchange; for a client outcome they read the client's last exchange, while `aadsts` matches
//! any code seen in its trace, `error` the status detail, and `exchange` searches the whole
//! trace. `claim` reads the last access token obtained up to that action; `cmdlet` runs a line
//! against the lab now.

use serde::Serialize;
use serde_json::Value as Json;

use super::checks::{
    Check, ClaimMatch, CmdletCheck, ExchangeMatch, Expectation, HeaderMatch, Service, TextMatch,
};
use super::outcome::{Http, Outcome};
use crate::client::HttpExchange;

/// Characters of a body shown in a failure.
const BODY_EXCERPT: usize = 600;

/// One expectation's verdict.
#[derive(Debug, Clone, Serialize)]
pub struct CheckResult {
    /// The expectation as written, e.g. `header x-ms-diagnostics equals "2000003;…"`.
    pub expectation: String,
    pub passed: bool,
    pub expected: String,
    pub actual: String,
    /// The request/response (or client trace) the expectation looked at, when it failed.
    pub evidence: Option<String>,
}

/// The verdict of a `cmdlet` expectation on what its line gave when the runner ran it against
/// the lab: the console text, or the error record.
pub fn cmdlet_verdict(c: &CmdletCheck, got: &Result<String, String>) -> CheckResult {
    let desc = format!("cmdlet `{}`", c.run);
    let (passed, expected, actual) = match (got, &c.error) {
        (Err(err), Some(want)) => (
            err.contains(want.as_str()),
            format!("an error containing {want:?}"),
            err.clone(),
        ),
        (Ok(t), Some(want)) => (
            false,
            format!("an error containing {want:?}"),
            format!("no error; output {:?}", t.trim_end()),
        ),
        (Err(err), None) => {
            // A failing line's output is its error record; `output` may give the whole
            // record or its first line (`Cmdlet : message`).
            let rec = err.trim_end();
            let first = rec.lines().next().unwrap_or_default();
            let ok_out = c
                .output
                .as_ref()
                .is_some_and(|o| o.trim_end() == rec || o.trim_end() == first);
            let ok_has = c.contains.as_ref().is_none_or(|s| rec.contains(s.as_str()));
            (ok_out && ok_has, expected_output(c), format!("{rec:?}"))
        }
        (Ok(t), None) => {
            let t = t.trim_end();
            let ok_out = c.output.as_ref().is_none_or(|o| o.trim_end() == t);
            let ok_has = c.contains.as_ref().is_none_or(|s| t.contains(s.as_str()));
            (ok_out && ok_has, expected_output(c), format!("{t:?}"))
        }
    };
    CheckResult {
        expectation: desc,
        passed,
        expected,
        actual,
        evidence: None,
    }
}

/// The verdict of any other expectation, on the outcome it names (`step: N`, else the last).
pub fn check(e: &Expectation, outs: &[Outcome]) -> CheckResult {
    let step = e.step.unwrap_or(outs.len().saturating_sub(1));
    let at = if e.step.is_some() {
        format!(" (step {step})")
    } else {
        String::new()
    };
    let Some(o) = outs.get(step) else {
        return CheckResult {
            expectation: describe(&e.check) + &at,
            passed: false,
            expected: format!("an outcome at step {step}"),
            actual: format!("{} outcome(s)", outs.len()),
            evidence: None,
        };
    };
    let (passed, expected, actual) = evaluate(&e.check, o);
    let evidence = (!passed).then(|| evidence(&e.check, o));
    CheckResult {
        expectation: describe(&e.check) + &at,
        passed,
        expected,
        actual,
        evidence,
    }
}

fn expected_output(c: &CmdletCheck) -> String {
    match (&c.output, &c.contains) {
        (Some(o), _) => format!("output {:?}", o.trim_end()),
        (None, Some(s)) => format!("output containing {s:?}"),
        _ => "success".into(),
    }
}

/// (passed, expected, actual) of a non-cmdlet check on one outcome.
pub fn evaluate(c: &Check, o: &Outcome) -> (bool, String, String) {
    let no_http = || (false, "an HTTP exchange".to_string(), "none".to_string());
    match c {
        Check::Status(want) => match &o.http {
            Some(h) => (h.status == *want, want.to_string(), status_text(h.status)),
            None => no_http(),
        },
        Check::Reason(want) => match &o.http {
            Some(h) => (h.reason == *want, want.clone(), h.reason.clone()),
            None => no_http(),
        },
        Check::Header(m) => match &o.http {
            Some(h) => header_match(m, &h.header_values(&m.name)),
            None => no_http(),
        },
        Check::Location(t) => {
            let loc = o
                .http
                .as_ref()
                .and_then(|h| h.header_values("location").first().map(|s| s.to_string()));
            match loc {
                Some(l) => text_match(t, &l),
                None => (false, text_expected(t), "no Location header".into()),
            }
        }
        Check::Body(t) => match &o.http {
            Some(h) if o.client.is_none() => {
                let (ok, exp, _) = text_match(t, &h.body);
                (ok, exp, excerpt(&h.body))
            }
            _ => (
                false,
                text_expected(t),
                "no response body (a client outcome keeps headers only; use `exchange:`)".into(),
            ),
        },
        Check::Aadsts(want) => {
            if let Some(c) = &o.client {
                let codes = c.aadsts_codes();
                let actual = if codes.is_empty() {
                    "no AADSTS code in the client's trace".to_string()
                } else {
                    format!("codes {codes:?}")
                };
                (codes.contains(want), format!("AADSTS{want}"), actual)
            } else {
                let got = o.http.as_ref().and_then(aadsts_of);
                (
                    got == Some(*want),
                    format!("AADSTS{want}"),
                    got.map(|g| format!("AADSTS{g}"))
                        .unwrap_or_else(|| "no AADSTS code".into()),
                )
            }
        }
        Check::Error(want) => {
            if let Some(c) = &o.client {
                let d = c.detail.clone().unwrap_or_default();
                (
                    d.contains(want.as_str()),
                    format!("status detail containing {want:?}"),
                    format!("{d:?}"),
                )
            } else {
                let got = o.http.as_ref().and_then(error_of);
                (
                    got.as_deref() == Some(want.as_str()),
                    want.clone(),
                    got.unwrap_or_else(|| "no `error`".into()),
                )
            }
        }
        Check::ClientStatus(m) => match &o.client {
            None => (
                false,
                "a client outcome".into(),
                "not a client action".into(),
            ),
            Some(c) => {
                let mut ok = true;
                let mut exp = Vec::new();
                let authn = c.authn.clone().unwrap_or_else(|| "none".into());
                let actual = format!(
                    "authn {authn}, protocol {}, status {}, server {}{}",
                    nz(&c.protocol),
                    c.status,
                    nz(&c.server),
                    c.detail
                        .as_ref()
                        .map(|d| format!(", detail {d:?}"))
                        .unwrap_or_default()
                );
                let mut field = |name: &str, want: &Option<String>, got: &str| {
                    if let Some(w) = want {
                        exp.push(format!("{name} {w}"));
                        ok &= w.eq_ignore_ascii_case(got);
                    }
                };
                field("authn", &m.authn, &authn);
                field("protocol", &m.protocol, &c.protocol);
                field("status", &m.status, &c.status);
                field("server", &m.server, &c.server);
                if let Some(d) = &m.detail_contains {
                    exp.push(format!("detail containing {d:?}"));
                    ok &= c.detail.as_deref().is_some_and(|x| x.contains(d.as_str()));
                }
                (ok, exp.join(", "), actual)
            }
        },
        Check::Exchange(m) => match &o.client {
            None => (
                false,
                "a client outcome".into(),
                "not a client action".into(),
            ),
            Some(c) => {
                let hits = c.exchanges.iter().filter(|x| exchange_match(m, x)).count();
                let actual = if hits == 0 {
                    format!("none of {} exchanges matches", c.exchanges.len())
                } else {
                    format!("{hits} of {} exchanges match", c.exchanges.len())
                };
                (
                    hits > 0,
                    format!("an exchange with {}", exchange_desc(m)),
                    actual,
                )
            }
        },
        Check::NoExchange(m) => match &o.client {
            None => (
                false,
                "a client outcome".into(),
                "not a client action".into(),
            ),
            Some(c) => {
                let hits: Vec<&HttpExchange> = c
                    .exchanges
                    .iter()
                    .filter(|x| exchange_match(m, x))
                    .collect();
                let actual = match hits.first() {
                    None => format!("none of {} exchanges matches", c.exchanges.len()),
                    Some(x) => format!(
                        "{} of {} match, the first [{}] {} {} {}",
                        hits.len(),
                        c.exchanges.len(),
                        x.step,
                        x.method,
                        x.url,
                        x.authorization.as_deref().unwrap_or("(no auth)")
                    ),
                };
                (
                    hits.is_empty(),
                    format!("no exchange with {}", exchange_desc(m)),
                    actual,
                )
            }
        },
        Check::Claim(m) => claim_match(m, o.claims.as_ref()),
        Check::Cmdlet(_) => (false, "(checked by the runner)".into(), String::new()),
    }
}

fn nz(s: &str) -> &str {
    if s.is_empty() {
        "-"
    } else {
        s
    }
}

fn status_text(s: u16) -> String {
    if s == 0 {
        "no response".into()
    } else {
        s.to_string()
    }
}

fn excerpt(s: &str) -> String {
    let e: String = s.chars().take(BODY_EXCERPT).collect();
    if s.chars().count() > BODY_EXCERPT {
        format!("{e:?} …")
    } else {
        format!("{e:?}")
    }
}

/// Header matching: names without case; any value for positive matchers, none for negatives.
pub fn header_match(m: &HeaderMatch, values: &[&str]) -> (bool, String, String) {
    let mut ok = true;
    let mut exp = Vec::new();
    if let Some(w) = &m.equals {
        exp.push(format!("equal to {w:?}"));
        ok &= values.iter().any(|v| v == w);
    }
    if let Some(w) = &m.contains {
        exp.push(format!("containing {w:?}"));
        ok &= values.iter().any(|v| v.contains(w.as_str()));
    }
    if let Some(w) = &m.starts_with {
        exp.push(format!("starting with {w:?}"));
        ok &= values.iter().any(|v| v.starts_with(w.as_str()));
    }
    if let Some(w) = &m.not_contains {
        exp.push(format!("no value containing {w:?}"));
        ok &= !values.iter().any(|v| v.contains(w.as_str()));
    }
    if let Some(a) = m.absent {
        if a {
            exp.push("absent".into());
            ok &= values.is_empty();
        } else {
            exp.push("present".into());
            ok &= !values.is_empty();
        }
    }
    let actual = if values.is_empty() {
        "absent".to_string()
    } else {
        values
            .iter()
            .map(|v| format!("{v:?}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    (ok, format!("{} {}", m.name, exp.join(" and ")), actual)
}

fn text_expected(t: &TextMatch) -> String {
    let mut exp = Vec::new();
    if let Some(w) = &t.equals {
        exp.push(format!("equal to {w:?}"));
    }
    if let Some(w) = &t.starts_with {
        exp.push(format!("starting with {w:?}"));
    }
    if let Some(w) = &t.contains {
        exp.push(format!("containing {w:?}"));
    }
    if let Some(w) = &t.not_contains {
        exp.push(format!("not containing {w:?}"));
    }
    exp.join(" and ")
}

/// Every given condition must hold.
pub fn text_match(t: &TextMatch, got: &str) -> (bool, String, String) {
    let ok = t.equals.as_ref().is_none_or(|w| got == w)
        && t.starts_with
            .as_ref()
            .is_none_or(|w| got.starts_with(w.as_str()))
        && t.contains.as_ref().is_none_or(|w| got.contains(w.as_str()))
        && t.not_contains
            .as_ref()
            .is_none_or(|w| !got.contains(w.as_str()));
    (ok, text_expected(t), format!("{got:?}"))
}

/// The AADSTS code of an answer: the token error body, else the redirect's `error_description`.
pub fn aadsts_of(h: &Http) -> Option<u32> {
    let json: Json = serde_json::from_str(&h.body).unwrap_or(Json::Null);
    if let Some(c) = json
        .get("error_codes")
        .and_then(Json::as_array)
        .and_then(|a| a.first())
        .and_then(Json::as_u64)
    {
        return u32::try_from(c).ok();
    }
    crate::client::http::aadsts_in(&h.body).or_else(|| {
        h.header_values("location")
            .first()
            .and_then(|l| crate::client::http::aadsts_in(&percent_decode(l)))
    })
}

/// The OAuth `error`: the JSON body's, else the redirect's `error=` parameter.
pub fn error_of(h: &Http) -> Option<String> {
    let json: Json = serde_json::from_str(&h.body).unwrap_or(Json::Null);
    if let Some(e) = json.get("error").and_then(Json::as_str) {
        return Some(e.to_string());
    }
    let loc = h.header_values("location").first()?.to_string();
    let q = loc.split_once('?')?.1;
    url::form_urlencoded::parse(q.as_bytes())
        .find(|(k, _)| k == "error")
        .map(|(_, v)| v.into_owned())
}

fn percent_decode(s: &str) -> String {
    url::form_urlencoded::parse(s.replace('+', "%2B").as_bytes())
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// The `authorization:` value that matches a request sent without an Authorization header.
pub const NO_AUTHORIZATION: &str = "none";

fn exchange_match(m: &ExchangeMatch, x: &HttpExchange) -> bool {
    let service = if x.step.starts_with("aad") {
        Service::AzureAd
    } else {
        Service::Exchange
    };
    m.to.is_none_or(|t| t == service)
        && m.scheme.as_ref().is_none_or(|s| {
            x.authorization
                .as_deref()
                .and_then(|a| a.split_whitespace().next())
                .is_some_and(|w| w.eq_ignore_ascii_case(s))
        })
        && m.reason
            .as_ref()
            .is_none_or(|r| x.status != 0 && x.reason == *r)
        && m.url_contains
            .as_ref()
            .is_none_or(|u| x.url.to_ascii_lowercase().contains(&u.to_ascii_lowercase()))
        && m.step
            .as_ref()
            .is_none_or(|s| x.step.eq_ignore_ascii_case(s))
        && m.method
            .as_ref()
            .is_none_or(|s| x.method.eq_ignore_ascii_case(s))
        && m.status.is_none_or(|s| x.status == s)
        && m.authorization
            .as_ref()
            .is_none_or(|a| match x.authorization.as_deref() {
                Some(g) => g.eq_ignore_ascii_case(a),
                // `authorization: none`: the request carried no Authorization header.
                None => a.eq_ignore_ascii_case(NO_AUTHORIZATION),
            })
        && m.aadsts.is_none_or(|c| x.aadsts == Some(c))
        && m.error_contains
            .as_ref()
            .is_none_or(|e| x.error.as_deref().is_some_and(|g| g.contains(e.as_str())))
        && m.header.as_ref().is_none_or(|h| {
            let values: Vec<&str> = x
                .response_headers
                .iter()
                .filter(|(k, _)| k.eq_ignore_ascii_case(&h.name))
                .map(|(_, v)| v.as_str())
                .collect();
            header_match(h, &values).0
        })
}

fn exchange_desc(m: &ExchangeMatch) -> String {
    let mut p = Vec::new();
    match m.to {
        Some(Service::Exchange) => p.push("to Exchange".to_string()),
        Some(Service::AzureAd) => p.push("to Azure AD".to_string()),
        None => {}
    }
    if let Some(s) = &m.scheme {
        p.push(format!("Authorization scheme {s}"));
    }
    if let Some(r) = &m.reason {
        p.push(format!("reason phrase {r:?}"));
    }
    if let Some(u) = &m.url_contains {
        p.push(format!("URL containing {u:?}"));
    }
    if let Some(s) = &m.step {
        p.push(format!("step {s}"));
    }
    if let Some(s) = &m.method {
        p.push(format!("method {s}"));
    }
    if let Some(s) = m.status {
        p.push(format!("status {s}"));
    }
    if let Some(a) = &m.authorization {
        p.push(format!("Authorization {a}"));
    }
    if let Some(c) = m.aadsts {
        p.push(format!("AADSTS{c}"));
    }
    if let Some(h) = &m.header {
        p.push(format!("header {}", header_match(h, &[]).1));
    }
    if let Some(e) = &m.error_contains {
        p.push(format!("error containing {e:?}"));
    }
    p.join(", ")
}

fn claim_match(m: &ClaimMatch, claims: Option<&Json>) -> (bool, String, String) {
    let mut exp = Vec::new();
    let Some(claims) = claims else {
        return (
            m.absent == Some(true),
            format!("claim {}", m.name),
            "no access token was obtained".into(),
        );
    };
    let v = claims.get(&m.name);
    let mut ok = true;
    if let Some(w) = &m.equals {
        exp.push(format!("equal to {w:?}"));
        ok &= match v {
            Some(Json::String(s)) => s == w,
            Some(other) => *other == serde_json::from_str::<Json>(w).unwrap_or(Json::Null),
            None => false,
        };
    }
    if let Some(w) = &m.contains {
        exp.push(format!("containing {w:?}"));
        ok &= match v {
            Some(Json::String(s)) => s.contains(w.as_str()),
            Some(Json::Array(a)) => a.iter().any(|x| x.as_str() == Some(w.as_str())),
            _ => false,
        };
    }
    if let Some(a) = m.absent {
        exp.push(if a { "absent".into() } else { "present".into() });
        ok &= v.is_none() == a;
    }
    let actual = v.map(|x| x.to_string()).unwrap_or_else(|| "absent".into());
    (
        ok,
        format!("claim {} {}", m.name, exp.join(" and ")),
        actual,
    )
}

/// The expectation as a short text.
pub fn describe(c: &Check) -> String {
    match c {
        Check::Status(s) => format!("status: {s}"),
        Check::Reason(r) => format!("reason: {r}"),
        Check::Header(h) => format!("header: {}", header_match(h, &[]).1),
        Check::Aadsts(a) => format!("aadsts: {a}"),
        Check::Error(e) => format!("error: {e}"),
        Check::Location(t) => format!("location: {}", text_expected(t)),
        Check::Body(t) => format!("body: {}", text_expected(t)),
        Check::ClientStatus(m) => {
            let mut p = Vec::new();
            for (n, v) in [
                ("authn", &m.authn),
                ("protocol", &m.protocol),
                ("status", &m.status),
                ("server", &m.server),
                ("detail_contains", &m.detail_contains),
            ] {
                if let Some(v) = v {
                    p.push(format!("{n}: {v}"));
                }
            }
            format!("client_status: {{ {} }}", p.join(", "))
        }
        Check::Exchange(m) => format!("exchange: {}", exchange_desc(m)),
        Check::NoExchange(m) => format!("no_exchange: {}", exchange_desc(m)),
        Check::Claim(m) => {
            let mut p = Vec::new();
            if let Some(w) = &m.equals {
                p.push(format!("equal to {w:?}"));
            }
            if let Some(w) = &m.contains {
                p.push(format!("containing {w:?}"));
            }
            if let Some(a) = m.absent {
                p.push(if a { "absent".into() } else { "present".into() });
            }
            format!("claim: {} {}", m.name, p.join(" and "))
        }
        Check::Cmdlet(c) => format!("cmdlet: {}", c.run),
    }
}

/// What a failed expectation looked at.
fn evidence(c: &Check, o: &Outcome) -> String {
    let mut s = format!("outcome of `{}`\n", o.label);
    if let Some(n) = &o.note {
        s.push_str(&format!("note: {n}\n"));
    }
    match (c, &o.client) {
        (
            Check::Exchange(_) | Check::NoExchange(_) | Check::Aadsts(_) | Check::ClientStatus(_),
            Some(cs),
        ) => {
            for x in &cs.exchanges {
                s.push_str(&format!(
                    "  [{}] {} {} {} → {}{}{}{}\n",
                    x.step,
                    x.method,
                    x.url,
                    x.authorization.as_deref().unwrap_or("(no auth)"),
                    status_text(x.status),
                    x.error
                        .as_ref()
                        .map(|e| format!(" ({e})"))
                        .unwrap_or_default(),
                    x.x_ms_diagnostics
                        .as_ref()
                        .map(|d| format!(" x-ms-diagnostics: {d}"))
                        .unwrap_or_default(),
                    x.aadsts.map(|a| format!(" AADSTS{a}")).unwrap_or_default(),
                ));
            }
        }
        (Check::Claim(_), _) => {
            if let Some(c) = &o.claims {
                s.push_str(&format!("claims: {c}\n"));
            }
        }
        _ => {
            if let Some(h) = &o.http {
                s.push_str(&h.render(BODY_EXCERPT));
            }
        }
    }
    s
}
