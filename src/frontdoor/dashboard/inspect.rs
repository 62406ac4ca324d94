//! One exchange opened: the request and the answer as the journal keeps them (redacted), each
//! token decoded with the checks Exchange makes on it, and `hma-lab explain`'s verdict.
//!
//! The audience and lifetime checks are Exchange's own code (`mock_exchange::bearer`), run on
//! the token's claims against where the devices deliver the request now (an SSL-offloading load
//! balancer makes Exchange see `http`) and the lab time the exchange was recorded at. The
//! issuer check is the one the bearer pipeline makes after the signature: the token's tenant
//! must be the realm (or metadata tenant) of an enabled Azure AD AuthServer. The verdict comes
//! from the explain engine's tree (`crate::explain::tree`), fed this one exchange as a capture
//! (the journal has already redacted it).

use serde_json::Value as Json;

use super::markup::{esc, mark, rfc3339, table};
use super::parts::Parts;
use super::timeline::route_of;
use crate::explain::capture;
use crate::explain::tree;
use crate::frontdoor::journal::{DecodedToken, Entry};
use crate::lab::Route;
use mock_exchange::bearer::{check_audience, check_lifetime, Arrival};
use mock_exchange::metadata::tenant_of_issuer;

/// One of Exchange's checks on a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub name: &'static str,
    pub passed: bool,
    /// What was compared, and Exchange's diagnostic when it failed.
    pub detail: String,
}

fn claim_str<'a>(claims: &'a Json, k: &str) -> &'a str {
    claims.get(k).and_then(Json::as_str).unwrap_or_default()
}

/// Where Exchange believes a request for `host` arrived (scheme and host), or `None` when the
/// devices do not deliver it to Exchange.
fn arrival(p: &Parts, host: &str) -> Option<Arrival> {
    let network = p.lab.network();
    match network.devices().route(network.hosts(), host, "https") {
        Route::Exchange {
            host_header, proto, ..
        } => Some(Arrival {
            scheme: proto.to_string(),
            host: host_header
                .split(':')
                .next()
                .unwrap_or_default()
                .to_ascii_lowercase(),
        }),
        _ => None,
    }
}

/// The audience, issuer and lifetime checks on a token presented at `at`, at lab time `now`.
pub fn checks(p: &Parts, claims: &Json, at: &Arrival, now: i64) -> Vec<Check> {
    let empty = serde_json::Map::new();
    let map = claims.as_object().unwrap_or(&empty);
    let aud = match claims.get("aud") {
        Some(Json::String(s)) => s.clone(),
        Some(other) => other.to_string(),
        None => String::new(),
    };
    let audience = match check_audience(map, at) {
        Ok(()) => Check {
            name: "audience",
            passed: true,
            detail: format!("aud {aud} matches {}://{}", at.scheme, at.host),
        },
        Err(d) => Check {
            name: "audience",
            passed: false,
            detail: format!(
                "aud {aud}, request arrived as {}://{}: {}",
                at.scheme,
                at.host,
                d.header_value()
            ),
        },
    };
    let iss = claim_str(claims, "iss");
    let tenant = tenant_of_issuer(iss);
    let state = p.lab.exchange().state();
    let trusted: Vec<String> = mock_exchange::state::trusted_auth_servers(&state.org())
        .filter_map(|a| {
            a.realm.clone().or_else(|| {
                state
                    .metadata_slot(&a.name)
                    .and_then(|s| s.result.ok())
                    .and_then(|m| m.tenant_id)
            })
        })
        .collect();
    let issuer_ok = tenant
        .as_ref()
        .is_some_and(|t| trusted.iter().any(|x| x.eq_ignore_ascii_case(t)));
    let issuer = Check {
        name: "issuer",
        passed: issuer_ok,
        detail: if trusted.is_empty() {
            format!("iss {iss}; no enabled Azure AD AuthServer names a tenant")
        } else {
            format!("iss {iss}; trusted tenant(s) {}", trusted.join(", "))
        },
    };
    let span = |k: &str| {
        claims
            .get(k)
            .and_then(Json::as_i64)
            .and_then(|t| time::OffsetDateTime::from_unix_timestamp(t).ok())
            .map(|t| rfc3339(t.into()))
            .unwrap_or_else(|| "—".into())
    };
    let lifetime = match check_lifetime(map, now) {
        Ok(()) => Check {
            name: "lifetime",
            passed: true,
            detail: format!("valid {} to {} (5 min skew)", span("nbf"), span("exp")),
        },
        Err(d) => Check {
            name: "lifetime",
            passed: false,
            detail: format!(
                "valid {} to {}, lab time then {}: {}",
                span("nbf"),
                span("exp"),
                time::OffsetDateTime::from_unix_timestamp(now)
                    .map(|t| rfc3339(t.into()))
                    .unwrap_or_default(),
                d.header_value()
            ),
        },
    };
    vec![audience, issuer, lifetime]
}

fn headers_table(h: &[(String, String)]) -> String {
    let rows: Vec<Vec<String>> = h.iter().map(|(n, v)| vec![esc(n), esc(v)]).collect();
    table("headers", &["Header", "Value"], &rows)
}

fn body_block(b: &crate::frontdoor::journal::Body) -> String {
    if b.size == 0 {
        return "<p class=\"muted\">No body.</p>".into();
    }
    let note = match (b.encoding, b.truncated) {
        (Some(enc), _) => format!(" ({enc})"),
        (None, true) => " (truncated)".into(),
        _ => String::new(),
    };
    format!(
        "<p class=\"muted\">{} bytes, {}{note}</p><pre class=\"body\" tabindex=\"0\">{}</pre>",
        b.size,
        esc(b.mime_type.as_deref().unwrap_or("no Content-Type")),
        esc(&b.text)
    )
}

fn pretty(v: &Json) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default()
}

/// A token's checks (or why there are none), then its decoded header and claims.
fn token_block(p: &Parts, e: &Entry, t: &DecodedToken, at: Option<&Arrival>) -> (String, String) {
    let presented = t.source.starts_with("request.");
    let checks = match at.filter(|_| presented) {
        Some(at) => {
            let now = e
                .lab_time
                .map(|t| lab_kit::Clock::frozen(t).unix())
                .unwrap_or_else(|| p.lab.clock().unix());
            let rows: Vec<Vec<String>> = checks(p, &t.claims, at, now)
                .into_iter()
                .map(|c| vec![esc(c.name), mark(c.passed).to_string(), esc(&c.detail)])
                .collect();
            format!(
                "<h4>Exchange's checks on the token in {}</h4>{}",
                esc(&t.source),
                table("checks", &["Check", "Result", "Detail"], &rows)
            )
        }
        None if presented => format!(
            "<p class=\"muted\">The token in {} was not presented to Exchange: Exchange's checks do not apply.</p>",
            esc(&t.source)
        ),
        None => format!(
            "<p class=\"muted\">The token in {} is issued in this answer; Exchange checks it when a client presents it.</p>",
            esc(&t.source)
        ),
    };
    let decoded = format!(
        "<article class=\"token\"><h4>Token in {}</h4><div class=\"cols\"><div><h5>Header</h5><pre>{}</pre></div>\
         <div><h5>Claims</h5><pre>{}</pre></div></div></article>",
        esc(&t.source),
        esc(&pretty(&t.header)),
        esc(&pretty(&t.claims))
    );
    (checks, decoded)
}

/// The verdict of `hma-lab explain` on this exchange alone, when it failed.
fn verdict(e: &Entry) -> Option<String> {
    let failed = e.status == 0 || e.status >= 400 || !super::timeline::aadsts_of(e).is_empty();
    if !failed {
        return None;
    }
    let exchange = capture::Exchange {
        method: Some(e.method.clone()),
        url: Some(e.url.clone()),
        request_headers: e.request_headers.clone(),
        request_known: true,
        status: (e.status != 0).then_some(e.status),
        reason: hyper::StatusCode::from_u16(e.status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or_default()
            .to_string(),
        headers: e.response_headers.clone(),
        body: e.response_body.text.clone(),
    };
    // The answer as a capture shows it, for the rules that read the text itself.
    let mut text = format!("HTTP/1.1 {} {}\r\n", e.status, exchange.reason);
    for (n, v) in &e.response_headers {
        text.push_str(&format!("{n}: {v}\r\n"));
    }
    text.push_str("\r\n");
    text.push_str(&e.response_body.text);
    let evidence = tree::Evidence {
        exchanges: std::slice::from_ref(&exchange),
        text: &text,
        client: None,
        final_authn: None,
        client_modern_auth_off: false,
    };
    let html = match tree::explain(&evidence) {
        Some(x) => format!(
            "<p><b>Cause:</b> {}</p><p><b>Guide section:</b> “{}”</p>{}{}{}",
            esc(&x.cause),
            esc(x.section),
            if x.evidence.is_empty() {
                String::new()
            } else {
                format!("<p><b>Evidence:</b></p><pre>{}</pre>", esc(&x.evidence.join("\n")))
            },
            if x.fix.is_empty() {
                "<p><b>Fix:</b> no cmdlet fixes this.</p>".to_string()
            } else {
                format!("<p><b>Fix:</b></p><pre class=\"fix\">{}</pre>", esc(&x.fix.join("\n")))
            },
            if x.advice.is_empty() {
                String::new()
            } else {
                format!("<p>{}</p>", esc(&x.advice))
            }
        ),
        None => "<p class=\"muted\">No cause from the guide's troubleshooting tree is recognised in this exchange alone.</p>".to_string(),
    };
    Some(format!(
        "<section class=\"verdict\"><h4>Verdict (hma-lab explain)</h4>{html}</section>"
    ))
}

/// The detail pane's HTML for one entry.
pub fn render(p: &Parts, e: &Entry) -> String {
    let row = super::timeline::row(p, e);
    let at = arrival(p, &row.host);
    let (service, devices) = route_of(p, &row.host);
    let status = if e.status == 0 {
        "no answer".to_string()
    } else {
        e.status.to_string()
    };
    let mut s = format!(
        "<h3 id=\"detail-title\">#{} {} {} → <span class=\"status s{}\">{}</span></h3>\
         <p>Lab time {} · real time {} · {} · via {} · from {} · {} ms</p>",
        e.id,
        esc(&e.method),
        esc(&e.url),
        e.status / 100,
        esc(&status),
        esc(&row.lab_time),
        esc(&e.started),
        esc(&service),
        esc(&e.via),
        esc(&e.client),
        e.time_ms.round()
    );
    if !devices.is_empty() {
        s.push_str(&format!(
            "<p>Devices on the way now: {}</p>",
            esc(&devices.join("; "))
        ));
    }
    if let Some(err) = &e.error {
        s.push_str(&format!("<p class=\"fail\">{}</p>", esc(err)));
    }
    if !row.diagnostics.is_empty() {
        s.push_str(&format!(
            "<p><b>x-ms-diagnostics:</b> <code>{}</code></p>",
            esc(&row.diagnostics)
        ));
    }
    if !row.aadsts.is_empty() {
        s.push_str(&format!(
            "<p><b>Azure AD error:</b> <code>{}</code></p>",
            esc(&row.aadsts)
        ));
    }
    let tokens: Vec<(String, String)> = e
        .tokens
        .iter()
        .map(|t| token_block(p, e, t, at.as_ref()))
        .collect();
    for (checks, _) in &tokens {
        s.push_str(checks);
    }
    if let Some(v) = verdict(e) {
        s.push_str(&v);
    }
    for (_, decoded) in &tokens {
        s.push_str(decoded);
    }
    s.push_str(&format!(
        "<details open><summary>Request headers</summary>{}</details>\
         <details><summary>Request body</summary>{}</details>\
         <details open><summary>Response headers</summary>{}</details>\
         <details><summary>Response body</summary>{}</details>",
        headers_table(&e.request_headers),
        body_block(&e.request_body),
        headers_table(&e.response_headers),
        body_block(&e.response_body)
    ));
    s
}
