//! The journal: every exchange that passed the front door, kept in a bounded ring, with tokens
//! decoded and credentials redacted, readable as JSON or as a HAR 1.2 log.
//!
//! This is the field guide's Fiddler trace, offline: what a user wants from it is the claims of
//! each token (`aud`, `scp`, `upn`…) and the exact status and headers, never a credential that
//! could be replayed. So redaction happens when an entry is recorded, before anything is stored:
//! `Authorization`, `Proxy-Authorization`, `Cookie` and `Set-Cookie` values; the form, query and
//! JSON fields that carry passwords, client secrets and assertions, refresh tokens, codes and
//! device codes; and the access and ID tokens themselves, whose JWT header and claims are kept,
//! decoded, in the entry's `tokens` (the signature, which is what makes a token usable, is not).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use base64::Engine;
use hyper::HeaderMap;
use serde::Serialize;
use serde_json::{json, Map, Value as Json};

/// How much of a body an entry keeps.
pub const BODY_LIMIT: usize = 64 * 1024;

/// Replaces a redacted value.
pub const REDACTED: &str = "[redacted]";

/// Form, query and JSON fields whose values are credentials.
const SECRET_FIELDS: &[&str] = &[
    "password",
    "passwd",
    "client_secret",
    "client_assertion",
    "assertion",
    "refresh_token",
    "code",
    "device_code",
    "code_verifier",
    "access_token",
    "id_token",
    "new_password",
    "newpassword",
];

/// Headers whose values are credentials.
const SECRET_HEADERS: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
];

/// A decoded JWT: where it was found, its header and its claims.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DecodedToken {
    /// `request.authorization`, `response.access_token`, `response.id_token`, …
    pub source: String,
    pub header: Json,
    pub claims: Json,
}

/// One exchange.
#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    pub id: u64,
    /// RFC 3339, real time.
    pub started: String,
    /// Milliseconds from the request head to the answer.
    pub time_ms: f64,
    /// `https` (TLS front door), `proxy-tls` (CONNECT, TLS inside), `proxy-plain` (plain HTTP
    /// inside a CONNECT tunnel), `proxy-http` (absolute-form `http://` request to the proxy).
    pub via: String,
    pub client: String,
    pub method: String,
    pub url: String,
    pub http_version: String,
    pub request_headers: Vec<(String, String)>,
    pub request_body: Body,
    /// 0: the connection was closed without an answer (`error` says why).
    pub status: u16,
    pub response_headers: Vec<(String, String)>,
    pub response_body: Body,
    pub tokens: Vec<DecodedToken>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The lab clock when the answer went out (the services' time, which a moved clock makes
    /// differ from `started`). Not exported: the journal's JSON and HAR keep their shape.
    #[serde(skip)]
    pub lab_time: Option<SystemTime>,
}

/// A body as kept: text (redacted) or base64, possibly truncated.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Body {
    pub size: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
    pub text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encoding: Option<&'static str>,
    pub truncated: bool,
}

/// What the front door knows about an exchange when it records it.
pub struct Exchange<'a> {
    pub started: SystemTime,
    pub time_ms: f64,
    pub via: &'a str,
    pub client: String,
    pub method: &'a str,
    pub url: String,
    pub http_version: &'a str,
    pub request_headers: &'a HeaderMap,
    pub request_body: &'a [u8],
    pub status: u16,
    pub response_headers: &'a HeaderMap,
    pub response_body: &'a [u8],
    pub error: Option<String>,
}

/// The bounded ring of entries; clones share it. Readers that follow it live (the dashboard's
/// timeline) watch the id of the latest entry ([`Journal::subscribe`]) and fetch what is new
/// ([`Journal::entries_after`]), so a slow reader never holds the ring or makes it grow.
#[derive(Clone)]
pub struct Journal {
    ring: Arc<Mutex<Ring>>,
    latest: Arc<tokio::sync::watch::Sender<u64>>,
    /// The lab's clock, stamped on each entry ([`Entry::lab_time`]); none for a bare journal.
    clock: Option<lab_kit::Clock>,
}

impl std::fmt::Debug for Journal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.ring.lock().map(|r| r.entries.len()).unwrap_or(0);
        write!(f, "Journal({n} entries)")
    }
}

struct Ring {
    cap: usize,
    next_id: u64,
    entries: VecDeque<Entry>,
}

impl Journal {
    /// A journal keeping the latest `cap` entries (at least one).
    pub fn new(cap: usize) -> Journal {
        Journal {
            ring: Arc::new(Mutex::new(Ring {
                cap: cap.max(1),
                next_id: 1,
                entries: VecDeque::new(),
            })),
            latest: Arc::new(tokio::sync::watch::channel(0).0),
            clock: None,
        }
    }

    /// The same journal stamping each entry with `clock`'s time as well as the real one.
    pub fn on_clock(mut self, clock: lab_kit::Clock) -> Journal {
        self.clock = Some(clock);
        self
    }

    /// The id of the latest entry, watched: it changes with every recorded exchange.
    pub fn subscribe(&self) -> tokio::sync::watch::Receiver<u64> {
        self.latest.subscribe()
    }

    /// The entries with an id above `id`, oldest first.
    pub fn entries_after(&self, id: u64) -> Vec<Entry> {
        let ring = self.ring.lock().unwrap_or_else(|p| p.into_inner());
        ring.entries.iter().filter(|e| e.id > id).cloned().collect()
    }

    /// The entry `id`, while the ring still holds it.
    pub fn get(&self, id: u64) -> Option<Entry> {
        let ring = self.ring.lock().unwrap_or_else(|p| p.into_inner());
        ring.entries.iter().find(|e| e.id == id).cloned()
    }

    /// Records an exchange, redacted, evicting the oldest entry when full.
    pub fn record(&self, x: Exchange<'_>) {
        let mut tokens = Vec::new();
        let request_headers = redact_headers(x.request_headers, "request", &mut tokens);
        let response_headers = redact_headers(x.response_headers, "response", &mut tokens);
        let request_body = body(x.request_headers, x.request_body, "request", &mut tokens);
        let response_body = body(x.response_headers, x.response_body, "response", &mut tokens);
        let url = redact_url(&x.url);
        let started = time::OffsetDateTime::from(x.started)
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default();
        let lab_time = self.clock.as_ref().map(lab_kit::Clock::now);
        let mut ring = self.ring.lock().unwrap_or_else(|p| p.into_inner());
        let id = ring.next_id;
        ring.next_id += 1;
        let entry = Entry {
            id,
            started,
            time_ms: x.time_ms,
            via: x.via.to_string(),
            client: x.client,
            method: x.method.to_string(),
            url,
            http_version: x.http_version.to_string(),
            request_headers,
            request_body,
            status: x.status,
            response_headers,
            response_body,
            tokens,
            error: x.error,
            lab_time,
        };
        if ring.entries.len() >= ring.cap {
            ring.entries.pop_front();
        }
        ring.entries.push_back(entry);
        drop(ring);
        self.latest.send_replace(id);
    }

    /// The entries, oldest first.
    pub fn entries(&self) -> Vec<Entry> {
        self.ring
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entries
            .iter()
            .cloned()
            .collect()
    }

    /// How many entries are held, and the most it keeps.
    pub fn counts(&self) -> (usize, usize) {
        let ring = self.ring.lock().unwrap_or_else(|p| p.into_inner());
        (ring.entries.len(), ring.cap)
    }

    /// `{"entries":[…]}`.
    pub fn to_json(&self) -> Json {
        json!({ "entries": self.entries() })
    }

    /// The journal as a HAR 1.2 log.
    pub fn to_har(&self) -> Json {
        let entries: Vec<Json> = self.entries().iter().map(har_entry).collect();
        json!({
            "log": {
                "version": "1.2",
                "creator": { "name": "hma-lab", "version": env!("CARGO_PKG_VERSION") },
                "pages": [],
                "entries": entries,
            }
        })
    }
}

fn har_headers(h: &[(String, String)]) -> Vec<Json> {
    h.iter()
        .map(|(n, v)| json!({ "name": n, "value": v }))
        .collect()
}

/// Response headers as they went on the wire: each service's spelling of the names (what a
/// Fiddler export shows), chosen by the host that answered.
fn har_response_headers(h: &[(String, String)], url: &str) -> Vec<Json> {
    let host = url::Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_ascii_lowercase))
        .unwrap_or_default();
    let aad = crate::lab::devices::is_aad_host(&host);
    let server = h
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("server"))
        .map(|(_, v)| v.as_str())
        .unwrap_or("");
    h.iter()
        .map(|(n, v)| {
            let name = if aad {
                mock_aad::wirecase::spelling(n)
            } else {
                mock_exchange::wirecase::spelling(n, v.as_bytes(), server)
            };
            json!({ "name": name, "value": v })
        })
        .collect()
}

fn har_entry(e: &Entry) -> Json {
    let query: Vec<Json> = url::Url::parse(&e.url)
        .map(|u| {
            u.query_pairs()
                .map(|(n, v)| json!({ "name": n, "value": v }))
                .collect()
        })
        .unwrap_or_default();
    let header = |h: &[(String, String)], name: &str| {
        h.iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    };
    let mut request = json!({
        "method": e.method,
        "url": e.url,
        "httpVersion": e.http_version,
        "cookies": [],
        "headers": har_headers(&e.request_headers),
        "queryString": query,
        "headersSize": -1,
        "bodySize": e.request_body.size,
    });
    if e.request_body.size > 0 {
        request["postData"] = json!({
            "mimeType": e.request_body.mime_type.clone().unwrap_or_default(),
            "text": e.request_body.text,
        });
    }
    let mut content = json!({
        "size": e.response_body.size,
        "mimeType": e.response_body.mime_type.clone().unwrap_or_default(),
        "text": e.response_body.text,
    });
    if let Some(enc) = e.response_body.encoding {
        content["encoding"] = json!(enc);
    }
    let mut entry = json!({
        "startedDateTime": e.started,
        "time": e.time_ms,
        "request": request,
        "response": {
            "status": e.status,
            "statusText": hyper::StatusCode::from_u16(e.status).ok().and_then(|s| s.canonical_reason()).unwrap_or(""),
            "httpVersion": e.http_version,
            "cookies": [],
            "headers": har_response_headers(&e.response_headers, &e.url),
            "content": content,
            "redirectURL": header(&e.response_headers, "location").unwrap_or_default(),
            "headersSize": -1,
            "bodySize": e.response_body.size,
        },
        "cache": {},
        "timings": { "send": 0, "wait": e.time_ms, "receive": 0 },
        "_via": e.via,
        "_tokens": e.tokens,
    });
    let mut comment = Vec::new();
    if let Some(err) = &e.error {
        comment.push(err.clone());
    }
    for t in &e.tokens {
        comment.push(format!("{}: {}", t.source, t.claims));
    }
    if !comment.is_empty() {
        entry["comment"] = json!(comment.join("\n"));
    }
    entry
}

/// Writes a HAR (or any journal export) readable by its owner only: even redacted, a journal
/// shows who signed in to what, and a HAR file is often left lying in a shared folder. An
/// existing file is narrowed to 0600 before it is overwritten.
pub fn write_private(path: &std::path::Path, json: &Json) -> std::io::Result<()> {
    let text = serde_json::to_string_pretty(json).unwrap_or_default();
    super::ca::write_private(path, text.as_bytes())
}

/// Decodes a compact JWS's header and claims; `None` if it is not one.
pub fn decode_jwt(token: &str) -> Option<(Json, Json)> {
    let mut parts = token.trim().split('.');
    let (h, c) = (parts.next()?, parts.next()?);
    parts.next()?;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let dec = |s: &str| -> Option<Json> {
        let bytes = b64.decode(s.trim_end_matches('=')).ok()?;
        let v: Json = serde_json::from_slice(&bytes).ok()?;
        v.is_object().then_some(v)
    };
    Some((dec(h)?, dec(c)?))
}

fn is_secret_field(name: &str) -> bool {
    SECRET_FIELDS.iter().any(|s| s.eq_ignore_ascii_case(name))
}

fn redact_headers(
    h: &HeaderMap,
    side: &str,
    tokens: &mut Vec<DecodedToken>,
) -> Vec<(String, String)> {
    h.iter()
        .map(|(n, v)| {
            let name = n.as_str().to_string();
            let value = String::from_utf8_lossy(v.as_bytes()).into_owned();
            if SECRET_HEADERS.contains(&n.as_str()) {
                let mut it = value.splitn(2, ' ');
                let scheme = it.next().unwrap_or_default();
                let cred = it.next().unwrap_or_default().trim();
                if n == hyper::header::AUTHORIZATION || n == "proxy-authorization" {
                    if scheme.eq_ignore_ascii_case("bearer") {
                        if let Some((header, claims)) = decode_jwt(cred) {
                            tokens.push(DecodedToken {
                                source: format!("{side}.{name}"),
                                header,
                                claims,
                            });
                        }
                    }
                    let shown = if cred.is_empty() {
                        scheme.to_string()
                    } else {
                        format!("{scheme} {REDACTED}")
                    };
                    return (name, shown);
                }
                return (name, REDACTED.to_string());
            }
            if n == hyper::header::LOCATION {
                return (name, redact_url(&value));
            }
            (name, value)
        })
        .collect()
}

/// Redacts secret query parameters (and a fragment's, as in `response_mode=fragment`).
pub fn redact_url(raw: &str) -> String {
    let (base, fragment) = match raw.split_once('#') {
        Some((b, f)) => (b, Some(f)),
        None => (raw, None),
    };
    let (path, query) = match base.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (base, None),
    };
    let mut out = path.to_string();
    if let Some(q) = query {
        out.push('?');
        out.push_str(&redact_form(q));
    }
    if let Some(f) = fragment {
        out.push('#');
        out.push_str(&redact_form(f));
    }
    out
}

/// Redacts secret fields of an `a=b&c=d` string, keeping the others byte for byte.
fn redact_form(s: &str) -> String {
    String::from_utf8(redact_form_bytes(s.as_bytes())).unwrap_or_default()
}

fn redact_json(v: &mut Json, side: &str, tokens: &mut Vec<DecodedToken>) {
    match v {
        Json::Object(map) => redact_map(map, side, tokens),
        Json::Array(a) => a.iter_mut().for_each(|x| redact_json(x, side, tokens)),
        _ => {}
    }
}

fn redact_map(map: &mut Map<String, Json>, side: &str, tokens: &mut Vec<DecodedToken>) {
    for (k, val) in map.iter_mut() {
        if is_secret_field(k) {
            if let Some(s) = val.as_str() {
                if let Some((header, claims)) = decode_jwt(s) {
                    tokens.push(DecodedToken {
                        source: format!("{side}.{k}"),
                        header,
                        claims,
                    });
                }
            }
            *val = Json::String(REDACTED.into());
        } else {
            redact_json(val, side, tokens);
        }
    }
}

/// Redacts secret fields of an `a=b&c=d` byte string, whatever its declared type or encoding:
/// a password grant sent as `text/plain`, with no `Content-Type`, or with a byte that is not
/// UTF-8 is still a form to the service that reads it, so it is redacted as one. Pairs whose
/// name is not a secret field keep their bytes.
fn redact_form_bytes(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    for (i, pair) in bytes.split(|b| *b == b'&').enumerate() {
        if i > 0 {
            out.push(b'&');
        }
        match pair.iter().position(|b| *b == b'=') {
            Some(eq) if is_secret_field(&decode_component_bytes(&pair[..eq])) => {
                out.extend_from_slice(&pair[..=eq]);
                out.extend_from_slice(REDACTED.as_bytes());
            }
            _ => out.extend_from_slice(pair),
        }
    }
    out
}

fn decode_component_bytes(s: &[u8]) -> String {
    form_urlencoded::parse(s)
        .next()
        .map(|(k, _)| k.into_owned())
        .unwrap_or_default()
}

/// Redacts the values of secret hidden inputs in an HTML page: the `response_mode=form_post`
/// page carries the authorization code and tokens as `<input type="hidden" name="code"
/// value="…">`, and a journal that kept them would let anyone redeem the code.
fn redact_html_inputs(html: &str, side: &str, tokens: &mut Vec<DecodedToken>) -> String {
    use std::sync::OnceLock;
    static INPUT: OnceLock<regex::Regex> = OnceLock::new();
    static ATTR: OnceLock<regex::Regex> = OnceLock::new();
    let input = INPUT.get_or_init(|| regex::Regex::new(r"(?i)<input\b[^>]*>").expect("regex"));
    let attr = ATTR.get_or_init(|| {
        regex::Regex::new(r#"(?i)\b(name|value)\s*=\s*("[^"]*"|'[^']*'|[^\s>"']+)"#).expect("regex")
    });
    input
        .replace_all(html, |m: &regex::Captures<'_>| {
            let tag = &m[0];
            let name = attr
                .captures_iter(tag)
                .find(|c| c[1].eq_ignore_ascii_case("name"))
                .map(|c| c[2].trim_matches(|q| q == '"' || q == '\'').to_string());
            let Some(name) = name.filter(|n| is_secret_field(n)) else {
                return tag.to_string();
            };
            attr.replace_all(tag, |c: &regex::Captures<'_>| {
                if !c[1].eq_ignore_ascii_case("value") {
                    return c[0].to_string();
                }
                let value = c[2].trim_matches(|q| q == '"' || q == '\'');
                if let Some((header, claims)) = decode_jwt(value) {
                    tokens.push(DecodedToken {
                        source: format!("{side}.{name}"),
                        header,
                        claims,
                    });
                }
                format!("{}=\"{REDACTED}\"", &c[1])
            })
            .into_owned()
        })
        .into_owned()
}

/// Redacts secret fields in text that is neither a form nor valid JSON: `"password": "…"` pairs of
/// broken or truncated JSON, and `<Password>…</Password>` elements (WS-Trust, SOAP).
fn redact_loose_fields(text: &str) -> String {
    use std::sync::OnceLock;
    static JSON_PAIR: OnceLock<regex::Regex> = OnceLock::new();
    static XML_ELEM: OnceLock<regex::Regex> = OnceLock::new();
    let pair = JSON_PAIR.get_or_init(|| {
        regex::Regex::new(r#""([A-Za-z_]+)"(\s*:\s*)"(?:[^"\\]|\\.)*"?"#).expect("regex")
    });
    let elem = XML_ELEM.get_or_init(|| {
        regex::Regex::new(r"(?i)(<(?:[\w.-]+:)?password\b[^>]*>)[^<]*").expect("regex")
    });
    let text = pair.replace_all(text, |c: &regex::Captures<'_>| {
        if is_secret_field(&c[1]) {
            format!("\"{}\"{}\"{REDACTED}\"", &c[1], &c[2])
        } else {
            c[0].to_string()
        }
    });
    elem.replace_all(&text, |c: &regex::Captures<'_>| {
        format!("{}{REDACTED}", &c[1])
    })
    .into_owned()
}

fn body(headers: &HeaderMap, bytes: &[u8], side: &str, tokens: &mut Vec<DecodedToken>) -> Body {
    let mime = headers
        .get(hyper::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let size = bytes.len();
    if size == 0 {
        return Body {
            mime_type: mime,
            ..Body::default()
        };
    }
    let lower = mime.clone().unwrap_or_default().to_ascii_lowercase();
    let Ok(text) = std::str::from_utf8(bytes) else {
        // Not text: redacted as a form all the same (a secret field is found by its name,
        // whatever bytes surround it), then kept as base64.
        let redacted = redact_form_bytes(bytes);
        let kept = &redacted[..redacted.len().min(BODY_LIMIT)];
        return Body {
            size,
            mime_type: mime,
            text: base64::engine::general_purpose::STANDARD.encode(kept),
            encoding: Some("base64"),
            truncated: redacted.len() > BODY_LIMIT,
        };
    };
    // Redact the whole body first, so a cut never leaves half a secret behind.
    let json = (lower.contains("json") || text.trim_start().starts_with('{'))
        .then(|| serde_json::from_str::<Json>(text).ok())
        .flatten();
    let redacted = if let Some(mut v) = json {
        redact_json(&mut v, side, tokens);
        serde_json::to_string(&v).unwrap_or_default()
    } else if lower.contains("html") || text.trim_start().starts_with('<') {
        redact_loose_fields(&redact_html_inputs(text, side, tokens))
    } else {
        // Forms, and anything else: a body is redacted by field name, never by its label.
        let form = String::from_utf8(redact_form_bytes(text.as_bytes())).unwrap_or_default();
        redact_loose_fields(&form)
    };
    let truncated = redacted.len() > BODY_LIMIT;
    let mut cut = redacted.len().min(BODY_LIMIT);
    while !redacted.is_char_boundary(cut) {
        cut -= 1;
    }
    Body {
        size,
        mime_type: mime,
        text: redacted[..cut].to_string(),
        encoding: None,
        truncated,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::header::HeaderValue;

    fn jwt(claims: Json) -> String {
        let b = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        format!(
            "{}.{}.c2lnbmF0dXJl",
            b.encode(br#"{"typ":"JWT","alg":"RS256"}"#),
            b.encode(claims.to_string())
        )
    }

    #[test]
    fn redacts_credentials_and_decodes_tokens() {
        let j = Journal::new(2);
        let mut rq = HeaderMap::new();
        rq.insert(
            "content-type",
            HeaderValue::from_static("application/x-www-form-urlencoded"),
        );
        rq.insert("authorization", HeaderValue::from_static("Basic dTpw"));
        let mut rs = HeaderMap::new();
        rs.insert("content-type", HeaderValue::from_static("application/json"));
        let at = jwt(json!({"aud": "https://mail.contoso.com/", "upn": "GregT@contoso.com"}));
        let resp =
            json!({"access_token": at, "refresh_token": "AQABsecret", "token_type": "Bearer"});
        j.record(Exchange {
            started: SystemTime::UNIX_EPOCH,
            time_ms: 1.0,
            via: "https",
            client: "127.0.0.1:1".into(),
            method: "POST",
            url: "https://login.microsoftonline.com/common/oauth2/token?code=abc&x=1".into(),
            http_version: "HTTP/1.1",
            request_headers: &rq,
            request_body: b"grant_type=password&username=GregT%40contoso.com&password=Contoso2017%21&client_secret=s3cr3t",
            status: 200,
            response_headers: &rs,
            response_body: resp.to_string().as_bytes(),
            error: None,
        });
        let all = serde_json::to_string(&j.to_json()).unwrap();
        for secret in [
            "Contoso2017",
            "s3cr3t",
            "AQABsecret",
            "dTpw",
            "code=abc",
            "c2lnbmF0dXJl",
        ] {
            assert!(!all.contains(secret), "{secret} leaked: {all}");
        }
        let e = &j.entries()[0];
        assert_eq!(
            e.request_body.text,
            "grant_type=password&username=GregT%40contoso.com&password=[redacted]&client_secret=[redacted]"
        );
        assert_eq!(
            e.url,
            "https://login.microsoftonline.com/common/oauth2/token?code=[redacted]&x=1"
        );
        assert_eq!(e.tokens.len(), 1);
        assert_eq!(e.tokens[0].source, "response.access_token");
        assert_eq!(e.tokens[0].claims["upn"], "GregT@contoso.com");
        assert_eq!(e.started, "1970-01-01T00:00:00Z");
        let har = j.to_har();
        assert_eq!(har["log"]["version"], "1.2");
        assert_eq!(har["log"]["entries"][0]["response"]["statusText"], "OK");
    }

    fn record_bodies(j: &Journal, content_type: Option<&str>, request: &[u8], response: &[u8]) {
        let mut h = HeaderMap::new();
        if let Some(ct) = content_type {
            h.insert("content-type", HeaderValue::from_str(ct).unwrap());
        }
        j.record(Exchange {
            started: SystemTime::UNIX_EPOCH,
            time_ms: 0.0,
            via: "https",
            client: String::new(),
            method: "POST",
            url: "https://login.microsoftonline.com/common/oauth2/token".into(),
            http_version: "HTTP/1.1",
            request_headers: &h,
            request_body: request,
            status: 200,
            response_headers: &h,
            response_body: response,
            error: None,
        });
    }

    /// Every way a secret was once found in the journal: a form labelled as something else or
    /// not labelled, a form with a byte that is not UTF-8 (kept as base64), the form_post page
    /// with the authorization code, broken JSON, a WS-Trust password element. The journal and
    /// its HAR are searched for each secret, base64 bodies decoded first.
    #[test]
    fn secrets_are_redacted_by_field_name_whatever_the_encoding() {
        let id_token = jwt(json!({"upn": "GregT@contoso.com"}));
        let page = format!(
            "<html><body onload=\"document.forms[0].submit()\"><form method=\"POST\" \
             action=\"https://app/cb\"><input type=\"hidden\" name=\"code\" \
             value=\"0.AAAAcodeSECRET1\" /><input type='hidden' value='{id_token}' \
             name='id_token'/><input type=\"hidden\" name=\"state\" value=\"s1\" /></form></body></html>"
        );
        let mut latin1 =
            b"grant_type=password&username=GregT%40contoso.com&password=Pa\xe9SECRET2&x=1".to_vec();
        latin1.push(b'\xff');
        let cases: Vec<(Option<&str>, Vec<u8>, Vec<u8>)> = vec![
            (Some("text/plain"), b"grant_type=password&password=SECRET3&client_secret=SECRET4".to_vec(), Vec::new()),
            (None, b"grant_type=refresh_token&refresh_token=SECRET5".to_vec(), Vec::new()),
            (Some("application/x-www-form-urlencoded"), latin1, Vec::new()),
            (Some("text/html; charset=utf-8"), Vec::new(), page.into_bytes()),
            (Some("application/json"), br#"{"refresh_token":"SECRET6","password":"SEC\"RET7"#.to_vec(), Vec::new()),
            (Some("application/soap+xml"), b"<s:Envelope><o:UsernameToken><o:Username>GregT</o:Username><o:Password Type=\"x\">SECRET8</o:Password></o:UsernameToken></s:Envelope>".to_vec(), Vec::new()),
        ];
        let j = Journal::new(16);
        for (ct, rq, rs) in &cases {
            record_bodies(&j, *ct, rq, rs);
        }
        let mut seen = serde_json::to_string(&j.to_json()).unwrap();
        seen.push_str(&serde_json::to_string(&j.to_har()).unwrap());
        for e in j.entries() {
            for b in [&e.request_body, &e.response_body] {
                if b.encoding == Some("base64") {
                    let raw = base64::engine::general_purpose::STANDARD
                        .decode(&b.text)
                        .unwrap();
                    seen.push_str(&String::from_utf8_lossy(&raw));
                }
            }
        }
        for secret in [
            "SECRET1",
            "SECRET2",
            "SECRET3",
            "SECRET4",
            "SECRET5",
            "SECRET6",
            "RET7",
            "SECRET8",
            "c2lnbmF0dXJl",
        ] {
            assert!(!seen.contains(secret), "{secret} leaked: {seen}");
        }
        let e = j.entries();
        assert_eq!(
            e[0].request_body.text,
            "grant_type=password&password=[redacted]&client_secret=[redacted]"
        );
        assert_eq!(
            e[1].request_body.text,
            "grant_type=refresh_token&refresh_token=[redacted]"
        );
        assert_eq!(e[2].request_body.encoding, Some("base64"));
        assert!(
            e[3].response_body
                .text
                .contains(r#"name="state" value="s1""#),
            "{}",
            e[3].response_body.text
        );
        assert!(
            e[3].response_body
                .text
                .contains(r#"name="code" value="[redacted]""#),
            "{}",
            e[3].response_body.text
        );
        assert_eq!(e[3].tokens.len(), 1, "the form_post id_token is decoded");
        assert_eq!(e[3].tokens[0].source, "response.id_token");
        assert!(e[5]
            .request_body
            .text
            .contains("<o:Username>GregT</o:Username>"));
    }

    #[cfg(unix)]
    #[test]
    fn exports_are_written_for_their_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("hma-journal-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("lab.har");
        std::fs::write(&path, "old").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        write_private(&path, &Journal::new(1).to_har()).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert!(std::fs::read_to_string(&path)
            .unwrap()
            .contains("\"version\": \"1.2\""));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_ring_keeps_the_latest_entries() {
        let j = Journal::new(2);
        let h = HeaderMap::new();
        for n in 0..3 {
            j.record(Exchange {
                started: SystemTime::UNIX_EPOCH,
                time_ms: 0.0,
                via: "https",
                client: String::new(),
                method: "GET",
                url: format!("https://mail.contoso.com/{n}"),
                http_version: "HTTP/1.1",
                request_headers: &h,
                request_body: b"",
                status: 200,
                response_headers: &h,
                response_body: b"",
                error: None,
            });
        }
        let urls: Vec<String> = j.entries().into_iter().map(|e| e.url).collect();
        assert_eq!(
            urls,
            vec!["https://mail.contoso.com/1", "https://mail.contoso.com/2"]
        );
        assert_eq!(j.entries()[1].id, 3);
    }
}
