//! The timeline: each journal entry reduced to one row (what crossed the front door, on the lab
//! clock), and the event stream that carries the rows to the page live.
//!
//! The stream follows the journal by the id of its latest entry (a `watch`), so a slow page
//! never holds the ring: whatever is new since the last row sent goes out, oldest first. Once a
//! second it also sends the lab clock, and the state panel's fingerprint when it changed, so the
//! page refreshes that panel only when the lab did. The task holds the dashboard weakly and
//! ends when the page goes away or the front door stops.

use std::sync::Weak;
use std::time::Duration;

use hyper::body::Bytes;
use serde::Serialize;
use serde_json::json;
use tokio::sync::mpsc;

use super::markup::rfc3339;
use super::parts::Parts;
use crate::frontdoor::journal::Entry;
use crate::lab::Route;

/// Rows sent when a page connects (the latest ones).
const REPLAY: usize = 300;

/// One timeline row (the `entry` event's data).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Row {
    pub id: u64,
    /// Lab clock, RFC 3339 with milliseconds.
    pub lab_time: String,
    pub method: String,
    pub host: String,
    /// Path and query (secrets already redacted by the journal).
    pub path: String,
    /// 0 when the connection closed unanswered.
    pub status: u16,
    /// `Azure AD`, `Exchange EX1`, `ADFS`, `refused` or `unknown`, after the devices.
    pub service: String,
    /// The devices on the way (`LB mail.contoso.com (SSL offload)`, `WAP → …`).
    pub devices: Vec<String>,
    /// `Bearer`, `Bearer (empty)`, `NTLM`, `Negotiate`, `Basic`, `grant password`, or empty.
    pub auth: String,
    /// The `x-ms-diagnostics` value, whole.
    pub diagnostics: String,
    /// `AADSTS50001` when the answer names one.
    pub aadsts: String,
    pub error: String,
}

fn header<'a>(h: &'a [(String, String)], name: &str) -> Option<&'a str> {
    h.iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// The authentication a request used, read off its (redacted) `Authorization` header or, for a
/// token request, its grant type.
pub fn auth_of(e: &Entry) -> String {
    if let Some(a) = header(&e.request_headers, "authorization") {
        let mut it = a.split_whitespace();
        let scheme = it.next().unwrap_or_default().to_string();
        return match it.next() {
            None if scheme.eq_ignore_ascii_case("bearer") => "Bearer (empty)".into(),
            _ => scheme,
        };
    }
    if e.method == "POST" && e.url.contains("/token") {
        if let Some((_, g)) =
            form_urlencoded::parse(e.request_body.text.as_bytes()).find(|(k, _)| k == "grant_type")
        {
            let g = g.rsplit(':').next().unwrap_or_default().to_string();
            return format!("grant {g}");
        }
    }
    String::new()
}

/// The AADSTS code an answer names (body, or the `Location` of an error redirect).
pub fn aadsts_of(e: &Entry) -> String {
    use std::sync::OnceLock;
    static CODE: OnceLock<regex::Regex> = OnceLock::new();
    let re = CODE.get_or_init(|| regex::Regex::new(r"AADSTS\d{5,7}").expect("regex"));
    let location = header(&e.response_headers, "location").unwrap_or_default();
    re.find(&e.response_body.text)
        .or_else(|| re.find(location))
        .map(|m| m.as_str().to_string())
        .unwrap_or_default()
}

/// Where the lab's devices send `host` now, as a service name and the devices on the way.
pub fn route_of(parts: &Parts, host: &str) -> (String, Vec<String>) {
    let network = parts.lab.network();
    let devices = network.devices();
    let mut on_way = Vec::new();
    let name = host.split(':').next().unwrap_or(host).to_ascii_lowercase();
    if devices.is_blocked(&name) {
        on_way.push(format!("client segment blocks {name}"));
    }
    if let Some(rp) = devices.reverse_proxy(&name) {
        on_way.push(format!("reverse proxy → {}", rp.forward_to));
    }
    let inner = devices
        .reverse_proxy(&name)
        .map(|r| r.forward_to.to_ascii_lowercase())
        .unwrap_or(name);
    if let Some(lb) = devices.load_balancer(&inner) {
        on_way.push(if lb.ssl_offload {
            format!("LB {} (SSL offload)", lb.host)
        } else {
            format!("LB {}", lb.host)
        });
    }
    if devices.cert_state(&inner) != crate::lab::CertState::Valid {
        on_way.push(format!("certificate {}", devices.cert_state(&inner)));
    }
    let service = match devices.route(network.hosts(), host, "https") {
        Route::Aad { .. } => "Azure AD".to_string(),
        Route::Adfs { .. } => "ADFS".to_string(),
        Route::Exchange { server, .. } => format!("Exchange {server}"),
        Route::Refused => "refused".to_string(),
        Route::Unknown => "unknown".to_string(),
    };
    (service, on_way)
}

/// The row of one entry.
pub fn row(parts: &Parts, e: &Entry) -> Row {
    let (host, path) = match url::Url::parse(&e.url) {
        Ok(u) => {
            let mut p = u.path().to_string();
            if let Some(q) = u.query() {
                p.push('?');
                p.push_str(q);
            }
            let host = match u.port() {
                Some(port) => format!("{}:{port}", u.host_str().unwrap_or_default()),
                None => u.host_str().unwrap_or_default().to_string(),
            };
            (host, p)
        }
        Err(_) => (String::new(), e.url.clone()),
    };
    let (service, devices) = route_of(parts, &host);
    Row {
        id: e.id,
        lab_time: e.lab_time.map(rfc3339).unwrap_or_else(|| e.started.clone()),
        method: e.method.clone(),
        host,
        path,
        status: e.status,
        service,
        devices,
        auth: auth_of(e),
        diagnostics: header(&e.response_headers, "x-ms-diagnostics")
            .unwrap_or_default()
            .to_string(),
        aadsts: aadsts_of(e),
        error: e.error.clone().unwrap_or_default(),
    }
}

/// One server-sent event.
pub fn event(name: &str, id: Option<u64>, data: &serde_json::Value) -> Bytes {
    let mut s = String::new();
    if let Some(id) = id {
        s.push_str(&format!("id: {id}\n"));
    }
    s.push_str(&format!("event: {name}\ndata: {data}\n\n"));
    Bytes::from(s)
}

/// The lab clock event's data.
pub fn clock(parts: &Parts) -> serde_json::Value {
    let c = parts.lab.clock();
    json!({ "now": rfc3339(c.now()), "offset_secs": c.offset_secs() })
}

/// Feeds `tx` until the page or the dashboard goes away.
pub async fn stream(parts: Weak<Parts>, mut after: u64, tx: mpsc::Sender<Bytes>) {
    let Some(mut latest) = parts.upgrade().map(|p| p.journal.subscribe()) else {
        return;
    };
    if tx
        .send(Bytes::from_static(b"retry: 2000\n\n"))
        .await
        .is_err()
    {
        return;
    }
    let mut fingerprint = 0u64;
    let mut first = true;
    loop {
        let out = {
            let Some(p) = parts.upgrade() else { return };
            let mut entries = p.journal.entries_after(after);
            if first && entries.len() > REPLAY {
                entries.drain(..entries.len() - REPLAY);
            }
            first = false;
            let mut out: Vec<Bytes> = entries
                .iter()
                .map(|e| {
                    after = e.id;
                    let v = serde_json::to_value(row(&p, e)).unwrap_or_default();
                    event("entry", Some(e.id), &v)
                })
                .collect();
            out.push(event("clock", None, &clock(&p)));
            let f = super::labstate::fingerprint(&p);
            if f != fingerprint {
                fingerprint = f;
                out.push(event(
                    "state",
                    None,
                    &json!({ "version": format!("{f:016x}") }),
                ));
            }
            out
        };
        for b in out {
            if tx.send(b).await.is_err() {
                return;
            }
        }
        tokio::select! {
            changed = latest.changed() => if changed.is_err() { return },
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            _ = tx.closed() => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frontdoor::journal::Body;

    fn entry(method: &str, url: &str, auth: Option<&str>, body: &str, answer: &str) -> Entry {
        Entry {
            id: 1,
            started: String::new(),
            time_ms: 0.0,
            via: "https".into(),
            client: String::new(),
            method: method.into(),
            url: url.into(),
            http_version: "HTTP/1.1".into(),
            request_headers: auth
                .map(|a| vec![("authorization".to_string(), a.to_string())])
                .unwrap_or_default(),
            request_body: Body {
                size: body.len(),
                text: body.into(),
                ..Body::default()
            },
            status: 400,
            response_headers: Vec::new(),
            response_body: Body {
                size: answer.len(),
                text: answer.into(),
                ..Body::default()
            },
            tokens: Vec::new(),
            error: None,
            lab_time: None,
        }
    }

    #[test]
    fn the_authentication_used_is_read_off_the_redacted_request() {
        let ews = "https://mail.contoso.com/EWS/Exchange.asmx";
        let token = "https://login.microsoftonline.com/common/oauth2/token";
        let cases = [
            (entry("POST", ews, Some("Bearer"), "", ""), "Bearer (empty)"),
            (
                entry("POST", ews, Some("Bearer [redacted]"), "", ""),
                "Bearer",
            ),
            (entry("POST", ews, Some("NTLM [redacted]"), "", ""), "NTLM"),
            (entry("GET", ews, None, "", ""), ""),
            (
                entry(
                    "POST",
                    token,
                    None,
                    "grant_type=refresh_token&refresh_token=[redacted]",
                    "",
                ),
                "grant refresh_token",
            ),
            (
                entry(
                    "POST",
                    token,
                    None,
                    "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer",
                    "",
                ),
                "grant jwt-bearer",
            ),
        ];
        for (e, want) in cases {
            assert_eq!(auth_of(&e), want, "{:?}", e.request_headers);
        }
    }

    #[test]
    fn the_aadsts_code_comes_from_the_body_or_an_error_redirect() {
        let e = entry(
            "POST",
            "https://login.microsoftonline.com/common/oauth2/token",
            None,
            "",
            r#"{"error":"invalid_resource","error_description":"AADSTS50001: The application named https://mail.contoso.com was not found","error_codes":[50001]}"#,
        );
        assert_eq!(aadsts_of(&e), "AADSTS50001");
        let mut e = entry("GET", "https://login.microsoftonline.com/", None, "", "");
        assert_eq!(aadsts_of(&e), "");
        e.response_headers = vec![(
            "location".into(),
            "https://app/cb?error=invalid_request&error_description=AADSTS90014%3a+missing".into(),
        )];
        assert_eq!(aadsts_of(&e), "AADSTS90014");
    }

    #[test]
    fn events_are_framed_as_server_sent_events() {
        assert_eq!(
            event("entry", Some(7), &json!({"id": 7})),
            Bytes::from_static(b"id: 7\nevent: entry\ndata: {\"id\":7}\n\n")
        );
        assert_eq!(
            event("clock", None, &json!({"offset_secs": 0})),
            Bytes::from_static(b"event: clock\ndata: {\"offset_secs\":0}\n\n")
        );
        assert_eq!(
            rfc3339(std::time::UNIX_EPOCH + Duration::from_millis(1_510_864_576_042)),
            "2017-11-16T20:36:16.042Z"
        );
    }
}
