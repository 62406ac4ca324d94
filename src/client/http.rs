//! The client's view of the network: where names lead (a [`Transport`]), its own kept-alive
//! connections ([`dial`](super::dial)), a cookie jar, and a journal of every HTTP exchange.
//!
//! The client always speaks of the URLs the real products use (`https://autodiscover.contoso.com/…`,
//! `https://login.windows.net/common/oauth2/authorize`); the transport says where a name's
//! connections go (in a lab: every name to the lab network, or over real TLS to the front door)
//! and the request carries the product's host name in `Host`, as on the real wire. Redirects are
//! followed by the client itself, as ADAL's web view does, so that the final
//! `urn:ietf:wg:oauth:2.0:oob?code=…` can be caught and every hop lands in the journal. Cookies
//! are kept per host by hand (only what Azure AD's sign-in session needs).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::header::{HeaderMap, HeaderName, HeaderValue};
use lab_kit::Clock;
use serde::{Deserialize, Serialize};

use super::dial::{self, Dialer, NoResponse, Pool, Resolve};

/// Time allowed for a response body once its head arrived.
const BODY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// Largest response body the client reads (Autodiscover, sign-in pages and tokens are far smaller).
pub const MAX_RESPONSE_BYTES: usize = 4 * 1024 * 1024;

/// How the client reaches the lab.
#[derive(Clone)]
pub struct Transport {
    pub dialer: Dialer,
    /// The lab clock: token expiry is judged against it, never against the wall clock.
    pub clock: Clock,
}

impl Transport {
    /// Plain HTTP for every URL, to the address `resolve` gives a name. Exchange assumes https
    /// unless told otherwise, so audience checks hold.
    pub fn plain(
        resolve: impl Fn(&str) -> Option<SocketAddr> + Send + Sync + 'static,
        clock: Clock,
    ) -> Self {
        Transport {
            dialer: Dialer {
                plain: Arc::new(resolve),
                tls: None,
                proxy: None,
            },
            clock,
        }
    }

    /// Plain HTTP, every name to `addr`.
    pub fn plain_to(addr: SocketAddr, clock: Clock) -> Self {
        Transport::plain(move |_| Some(addr), clock)
    }

    /// A client on `lab`'s client segment over plain HTTP: every name leads to the lab's network
    /// (which adds `X-Forwarded-Proto: https` and applies load balancers, reverse proxies and
    /// blocked destinations), on the lab's clock.
    pub fn for_lab(lab: &crate::lab::Lab) -> Self {
        Transport::plain_to(lab.network_addr(), lab.clock().clone())
    }

    /// A client on `lab`'s client segment over real TLS: `https://` URLs go to the front door,
    /// trusting only its CA, so certificate faults meet the client; `http://` ones to the lab's
    /// plain network. A name the lab does not have does not resolve, as in a real DNS.
    pub fn for_front_door(door: &crate::frontdoor::FrontDoor) -> Result<Self, String> {
        let https = door.https_addr();
        let config = dial::client_config(door.ca_pem())?;
        let mut t = Transport::for_lab(door.lab());
        let hosts = door.lab().network().hosts().clone();
        let to_door: Resolve = Arc::new(move |host| hosts.knows(host).then_some(https));
        t.dialer.tls = Some((to_door, config));
        Ok(t)
    }

    /// [`Transport::for_front_door`] with `https://` through the door's recording proxy, as a
    /// client with `HTTPS_PROXY` set (or Fiddler in front of it): `CONNECT`, then TLS with the
    /// certificate the decrypting proxy shows.
    pub fn through_proxy(door: &crate::frontdoor::FrontDoor) -> Result<Self, String> {
        let mut t = Transport::for_front_door(door)?;
        t.dialer.proxy = Some(door.proxy_addr());
        Ok(t)
    }
}

/// One HTTP exchange as the client saw it (what a Fiddler trace of Outlook shows).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HttpExchange {
    /// What the client was doing: `autodiscover`, `aad-authorize`, `aad-signin`, `aad-token`,
    /// `mapi`, `oab`, `rpc`, `ews`, `eas`, `eas-autodiscover`.
    pub step: String,
    pub method: String,
    /// The product URL (before the lab's name mapping).
    pub url: String,
    /// The scheme of the `Authorization` header sent: `Bearer` (empty: `Bearer (empty)`),
    /// `NTLM`, `Negotiate`, `Basic`; `None` when none was sent.
    pub authorization: Option<String>,
    /// 0 when no response arrived (see `error`).
    pub status: u16,
    /// The status line's reason phrase as received (`Bad Unicorn`); empty without a response.
    pub reason: String,
    pub www_authenticate: Vec<String>,
    pub x_ms_diagnostics: Option<String>,
    pub location: Option<String>,
    /// The AADSTS code seen in this answer (error redirect, error page, token error).
    pub aadsts: Option<u32>,
    /// Transport error (connection refused, timeout) when `status` is 0.
    pub error: Option<String>,
    /// Request headers sent (names lowercase). Secrets are masked: `Authorization` keeps only
    /// its scheme, cookie values are not kept.
    pub request_headers: Vec<(String, String)>,
    /// Response headers received (names lowercase, in wire order); `Set-Cookie` values masked.
    pub response_headers: Vec<(String, String)>,
}

impl HttpExchange {
    /// The first response header `name` (case-insensitive).
    pub fn response_header(&self, name: &str) -> Option<&str> {
        self.response_headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    /// The first request header `name` (case-insensitive).
    pub fn request_header(&self, name: &str) -> Option<&str> {
        self.request_headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// The reason phrase of a received status line: hyper keeps a non-canonical one (`400 Bad
/// Unicorn`) in the response's extensions; otherwise the line carried the canonical text.
pub fn reason_phrase(status: hyper::StatusCode, extensions: &hyper::http::Extensions) -> String {
    match extensions.get::<hyper::ext::ReasonPhrase>() {
        Some(r) => String::from_utf8_lossy(r.as_bytes()).into_owned(),
        None => status.canonical_reason().unwrap_or_default().to_string(),
    }
}

/// A response read in full.
#[derive(Debug, Clone)]
pub struct Resp {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
    pub fn header_all(&self, name: &str) -> Vec<String> {
        self.headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok().map(str::to_string))
            .collect()
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// A request to make.
#[derive(Debug, Clone, Default)]
pub struct Req {
    pub step: &'static str,
    pub method: String,
    /// Product URL, absolute (`https://host/path?query`).
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<Vec<u8>>,
}

impl Req {
    pub fn new(step: &'static str, method: &str, url: &str) -> Self {
        Req {
            step,
            method: method.to_string(),
            url: url.to_string(),
            ..Req::default()
        }
    }
    pub fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_string(), value.into()));
        self
    }
    pub fn body(mut self, body: Vec<u8>) -> Self {
        self.body = Some(body);
        self
    }
}

/// Sends requests, keeps connections and cookies per host, and journals every exchange.
pub struct Wire {
    pub transport: Transport,
    pool: Pool,
    cookies: BTreeMap<String, BTreeMap<String, String>>,
    pub journal: Vec<HttpExchange>,
}

impl Wire {
    pub fn new(transport: Transport) -> Self {
        Wire {
            transport,
            pool: Pool::default(),
            cookies: BTreeMap::new(),
            journal: Vec::new(),
        }
    }

    /// Closes every connection (the logons they carry go with them).
    pub fn close_connections(&mut self) {
        self.pool.clear();
    }

    /// Forgets every cookie (a fresh machine).
    pub fn clear_cookies(&mut self) {
        self.cookies.clear();
    }

    /// The certificate `host` presented on the open TLS connection to it.
    pub fn server_certificate(&self, host: &str) -> Option<&[u8]> {
        self.pool.server_certificate(host)
    }

    /// Sends `req`; `Err` when no response arrived (it is journalled either way).
    pub async fn send(&mut self, req: Req) -> Result<Resp, NoResponse> {
        let bad = NoResponse::Network;
        let parsed =
            url::Url::parse(&req.url).map_err(|e| bad(format!("bad URL {}: {e}", req.url)))?;
        let host = parsed.host_str().unwrap_or_default().to_ascii_lowercase();
        let https = parsed.scheme() == "https";
        let authority = match parsed.port() {
            Some(p) => format!("{host}:{p}"),
            None => host.clone(),
        };
        let mut pq = parsed.path().to_string();
        if let Some(q) = parsed.query() {
            pq.push('?');
            pq.push_str(q);
        }
        let method = hyper::Method::from_bytes(req.method.as_bytes())
            .map_err(|e| bad(format!("bad method {}: {e}", req.method)))?;
        let mut headers = HeaderMap::new();
        let mut authorization = None;
        let mut request_headers = Vec::new();
        let value = |v: &str| {
            HeaderValue::from_str(v).map_err(|e| bad(format!("bad header value {v:?}: {e}")))
        };
        headers.insert(hyper::header::HOST, value(&authority)?);
        for (k, v) in &req.headers {
            let shown = if k.eq_ignore_ascii_case("authorization") {
                let label = auth_label(v);
                authorization = Some(label.clone());
                label
            } else {
                v.clone()
            };
            request_headers.push((k.to_ascii_lowercase(), shown));
            let name = HeaderName::from_bytes(k.as_bytes())
                .map_err(|e| bad(format!("bad header name {k:?}: {e}")))?;
            headers.append(name, value(v)?);
        }
        if let Some(jar) = self.cookies.get(&host).filter(|j| !j.is_empty()) {
            let line = jar
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; ");
            headers.insert(hyper::header::COOKIE, value(&line)?);
            let names: Vec<&str> = jar.keys().map(String::as_str).collect();
            request_headers.push(("cookie".into(), format!("{}=…", names.join("=…; "))));
        }
        let body = Bytes::from(req.body.clone().unwrap_or_default());
        let make = || {
            let mut r = hyper::Request::new(Full::new(body.clone()));
            *r.method_mut() = method.clone();
            *r.uri_mut() = pq.parse().unwrap_or_else(|_| hyper::Uri::from_static("/"));
            *r.headers_mut() = headers.clone();
            r
        };
        let mut entry = HttpExchange {
            step: req.step.to_string(),
            method: req.method.clone(),
            url: req.url.clone(),
            authorization,
            status: 0,
            reason: String::new(),
            www_authenticate: Vec::new(),
            x_ms_diagnostics: None,
            location: None,
            aadsts: None,
            error: None,
            request_headers,
            response_headers: Vec::new(),
        };
        let dialer = self.transport.dialer.clone();
        let resp = match self.pool.send(&dialer, https, &host, make).await {
            Ok(r) => r,
            Err(e) => {
                entry.error = Some(e.to_string());
                self.journal.push(entry);
                return Err(e);
            }
        };
        let (parts, incoming) = resp.into_parts();
        let status = parts.status.as_u16();
        entry.reason = reason_phrase(parts.status, &parts.extensions);
        let Ok(body) = tokio::time::timeout(BODY_TIMEOUT, read_limited(incoming)).await else {
            let text = format!("{host}: the response body did not arrive in time");
            entry.error = Some(text.clone());
            self.journal.push(entry);
            return Err(NoResponse::Network(text));
        };
        let r = Resp {
            status,
            headers: parts.headers,
            body,
        };
        self.keep_cookies(&host, &r);
        entry.status = status;
        entry.www_authenticate = r.header_all("www-authenticate");
        entry.x_ms_diagnostics = r.header("x-ms-diagnostics").map(str::to_string);
        entry.location = r.header("location").map(str::to_string);
        entry.response_headers = r
            .headers
            .iter()
            .map(|(k, v)| {
                let text = String::from_utf8_lossy(v.as_bytes()).into_owned();
                let shown = if k.as_str() == "set-cookie" {
                    let name = text.split('=').next().unwrap_or_default();
                    format!("{name}=…")
                } else {
                    text
                };
                (k.as_str().to_string(), shown)
            })
            .collect();
        self.journal.push(entry);
        Ok(r)
    }

    /// Sets the AADSTS code of the last journal entry (found by the caller in the body/Location).
    pub fn note_aadsts(&mut self, code: Option<u32>) {
        if let (Some(last), Some(c)) = (self.journal.last_mut(), code) {
            last.aadsts = Some(c);
        }
    }

    fn keep_cookies(&mut self, host: &str, r: &Resp) {
        for line in r.header_all("set-cookie") {
            let mut parts = line.split(';');
            let Some((name, value)) = parts.next().and_then(|nv| nv.split_once('=')) else {
                continue;
            };
            let expired = parts.any(|a| {
                let a = a.trim().to_ascii_lowercase();
                a == "max-age=0" || a.starts_with("expires=thu, 01 jan 1970")
            });
            let jar = self.cookies.entry(host.to_string()).or_default();
            if expired || value.is_empty() {
                jar.remove(name.trim());
            } else {
                jar.insert(name.trim().to_string(), value.trim().to_string());
            }
        }
    }
}

/// `Bearer` with no token is the HMA hint; everything else is labelled by its scheme.
fn auth_label(v: &str) -> String {
    let t = v.trim();
    match t.split_once(char::is_whitespace) {
        Some((scheme, rest)) if !rest.trim().is_empty() => scheme.to_string(),
        _ => format!("{t} (empty)"),
    }
}

/// The body, up to [`MAX_RESPONSE_BYTES`] (the rest is not read).
async fn read_limited(mut body: hyper::body::Incoming) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(Ok(frame)) = body.frame().await {
        let Ok(chunk) = frame.into_data() else {
            continue;
        };
        if out.len() + chunk.len() > MAX_RESPONSE_BYTES {
            break;
        }
        out.extend_from_slice(&chunk);
    }
    out
}

/// One `WWW-Authenticate` challenge: scheme and its `key="value"` parameters (or a bare token).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    pub scheme: String,
    pub params: Vec<(String, String)>,
    /// The raw text after the scheme (an NTLM type-2 message, for instance).
    pub token: String,
}

impl Challenge {
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    pub fn is(&self, scheme: &str) -> bool {
        self.scheme.eq_ignore_ascii_case(scheme)
    }
}

/// Parses the `WWW-Authenticate` values of a response. Exchange sends one challenge per header
/// line; a line is split only at the scheme.
pub fn challenges(values: &[String]) -> Vec<Challenge> {
    values
        .iter()
        .map(|v| {
            let v = v.trim();
            let (scheme, rest) = v.split_once(char::is_whitespace).unwrap_or((v, ""));
            Challenge {
                scheme: scheme.to_string(),
                params: auth_params(rest),
                token: rest.trim().to_string(),
            }
        })
        .collect()
}

/// `a="x, y", b=z` → [(a, "x, y"), (b, z)]. Malformed input gives what could be read.
fn auth_params(s: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        while i < b.len() && (b[i] == b',' || b[i].is_ascii_whitespace()) {
            i += 1;
        }
        let ks = i;
        while i < b.len() && b[i] != b'=' && b[i] != b',' {
            i += 1;
        }
        let key = s[ks..i].trim().to_string();
        if i >= b.len() || b[i] != b'=' {
            continue;
        }
        i += 1;
        let value;
        if i < b.len() && b[i] == b'"' {
            i += 1;
            let vs = i;
            while i < b.len() && b[i] != b'"' {
                i += 1;
            }
            value = s[vs..i].to_string();
            i += 1;
        } else {
            let vs = i;
            while i < b.len() && b[i] != b',' {
                i += 1;
            }
            value = s[vs..i].trim().to_string();
        }
        if !key.is_empty() {
            out.push((key, value));
        }
    }
    out
}

/// The first `AADSTS<digits>` in a text.
pub fn aadsts_in(text: &str) -> Option<u32> {
    let at = text.find("AADSTS")?;
    let digits: String = text[at + 6..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_challenge_params_keep_commas_inside_quotes() {
        let c = challenges(&[
            "Bearer client_id=\"00000002-0000-0ff1-ce00-000000000000\", trusted_issuers=\"a@b,c@d\", token_types=\"app_asserted_user_v1 service_asserted_app_v1\", authorization_uri=\"https://login.windows.net/common/oauth2/authorize\"".into(),
            "NTLM".into(),
            "Basic realm=\"mail.contoso.com\"".into(),
        ]);
        assert_eq!(c.len(), 3);
        assert!(c[0].is("bearer"));
        assert_eq!(c[0].param("trusted_issuers"), Some("a@b,c@d"));
        assert_eq!(
            c[0].param("authorization_uri"),
            Some("https://login.windows.net/common/oauth2/authorize")
        );
        assert!(c[1].is("NTLM") && c[1].params.is_empty() && c[1].token.is_empty());
        assert_eq!(c[2].param("realm"), Some("mail.contoso.com"));
    }

    #[test]
    fn malformed_challenges_do_not_panic() {
        for v in [
            "",
            "Bearer",
            "Bearer =",
            "Bearer a=\"unterminated",
            "Bearer ,,,=,",
            "x y=z,",
        ] {
            let _ = challenges(&[v.to_string()]);
        }
        let c = challenges(&["NTLM TlRMTVNTUAACAAAA".into()]);
        assert_eq!(c[0].token, "TlRMTVNTUAACAAAA");
    }

    #[test]
    fn aadsts_codes_are_found() {
        assert_eq!(aadsts_in("AADSTS50173: The provided grant"), Some(50173));
        assert_eq!(aadsts_in("x AADSTS"), None);
        assert_eq!(aadsts_in("none"), None);
    }

    #[test]
    fn authorization_labels() {
        assert_eq!(auth_label("Bearer"), "Bearer (empty)");
        assert_eq!(auth_label("Bearer eyJ0"), "Bearer");
        assert_eq!(auth_label("NTLM TlRM"), "NTLM");
    }
}
