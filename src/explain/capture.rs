//! What `hma-lab explain` reads: HTTP exchanges out of the texts a trainee has at hand.
//!
//! A capture arrives as a raw HTTP response (what `curl -i` prints or Fiddler's raw view, with or
//! without the request above it), a `curl -v` transcript (`> ` request lines, `< ` response
//! lines), the guide's own pastes (a lone `Location:` line; headers written `Name →value` as
//! Postman shows them, without a status line), a HAR file, or a bare Azure AD error body. Every
//! shape is reduced to a list of [`Exchange`]s — request headers if known, status, response
//! headers, body — so the troubleshooting tree looks at one thing only. Parsing is forgiving
//! (a capture is pasted by hand) but bounded: no input makes it panic.

use serde_json::Value as Json;

/// One request/response pair as far as the capture shows it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Exchange {
    /// `GET https://…` when the request line is known.
    pub method: Option<String>,
    pub url: Option<String>,
    /// Request headers (empty when the capture shows only the response).
    pub request_headers: Vec<(String, String)>,
    /// True when the request side was captured at all.
    pub request_known: bool,
    pub status: Option<u16>,
    pub reason: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Exchange {
    /// Every value of response header `name` (case-insensitive), in order.
    pub fn header_values<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a str> + 'a {
        let name = name.to_string();
        self.headers
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(&name))
            .map(|(_, v)| v.as_str())
    }

    /// The first value of response header `name`.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.header_values(name).next()
    }

    /// The first value of request header `name`.
    pub fn request_header(&self, name: &str) -> Option<&str> {
        self.request_headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The `WWW-Authenticate` challenges, split into one entry per scheme.
    pub fn challenges(&self) -> Vec<String> {
        self.header_values("WWW-Authenticate")
            .flat_map(split_challenges)
            .collect()
    }

    /// The request path (from the URL), lower-cased, when known.
    pub fn path(&self) -> Option<String> {
        let url = self.url.as_deref()?;
        let path = match url.find("://") {
            Some(i) => {
                let rest = &url[i + 3..];
                rest.find('/').map(|j| &rest[j..]).unwrap_or("/")
            }
            None => url,
        };
        Some(path.to_ascii_lowercase())
    }
}

/// Splits one `WWW-Authenticate` value that may hold several challenges (`Bearer …, Basic
/// realm="x"`) at the commas that start a new scheme, respecting quoted strings.
fn split_challenges(value: &str) -> Vec<String> {
    let mut parts: Vec<String> = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for ch in value.chars() {
        match ch {
            '"' => {
                quoted = !quoted;
                cur.push(ch);
            }
            ',' if !quoted => {
                parts.push(std::mem::take(&mut cur));
            }
            _ => cur.push(ch),
        }
    }
    parts.push(cur);
    // Re-join auth-params (`key=value`) onto the challenge they belong to.
    let mut out: Vec<String> = Vec::new();
    for p in parts {
        let t = p.trim();
        if t.is_empty() {
            continue;
        }
        let first = t.split([' ', '=']).next().unwrap_or("");
        let is_param = t.starts_with(first) && t[first.len()..].trim_start().starts_with('=');
        match out.last_mut() {
            Some(last) if is_param => {
                last.push_str(", ");
                last.push_str(t);
            }
            _ => out.push(t.to_string()),
        }
    }
    out
}

/// The most a capture may be (a HAR of a long session is a few MB).
pub const MAX_INPUT: usize = 32 * 1024 * 1024;

/// Reads any supported capture shape.
pub fn parse(text: &str) -> Vec<Exchange> {
    let trimmed = text.trim_start_matches('\u{feff}').trim();
    if trimmed.starts_with('{') || trimmed.starts_with('[') {
        if let Ok(json) = serde_json::from_str::<Json>(trimmed) {
            if let Some(entries) = json.pointer("/log/entries").and_then(Json::as_array) {
                return entries.iter().map(har_entry).collect();
            }
            // A bare JSON body (an Azure AD error answer).
            return vec![Exchange {
                body: trimmed.to_string(),
                ..Exchange::default()
            }];
        }
    }
    let lines: Vec<&str> = trimmed.lines().collect();
    if lines
        .iter()
        .any(|l| l.starts_with("< HTTP/") || l.starts_with("> GET ") || l.starts_with("> POST "))
    {
        return curl_verbose(&lines);
    }
    raw(&lines)
}

fn har_headers(v: Option<&Json>) -> Vec<(String, String)> {
    v.and_then(Json::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|h| {
                    Some((
                        h.get("name")?.as_str()?.to_string(),
                        h.get("value")?.as_str()?.to_string(),
                    ))
                })
                .collect()
        })
        .unwrap_or_default()
}

fn har_entry(e: &Json) -> Exchange {
    let req = e.get("request");
    let resp = e.get("response");
    Exchange {
        method: req
            .and_then(|r| r.get("method"))
            .and_then(Json::as_str)
            .map(str::to_string),
        url: req
            .and_then(|r| r.get("url"))
            .and_then(Json::as_str)
            .map(str::to_string),
        request_headers: har_headers(req.and_then(|r| r.get("headers"))),
        request_known: req.is_some(),
        status: resp
            .and_then(|r| r.get("status"))
            .and_then(Json::as_u64)
            .and_then(|s| u16::try_from(s).ok())
            .filter(|s| *s > 0),
        reason: resp
            .and_then(|r| r.get("statusText"))
            .and_then(Json::as_str)
            .unwrap_or("")
            .to_string(),
        headers: har_headers(resp.and_then(|r| r.get("headers"))),
        body: resp
            .and_then(|r| r.pointer("/content/text"))
            .and_then(Json::as_str)
            .unwrap_or("")
            .to_string(),
    }
}

/// `Name: value` or the guide's Postman-style `Name →value`.
fn header_line(line: &str) -> Option<(String, String)> {
    let (name, value) = match line.split_once('→') {
        Some((n, v)) if !n.trim().is_empty() && !n.contains(':') => (n, v),
        _ => line.split_once(':')?,
    };
    let name = name.trim();
    if name.is_empty()
        || name.len() > 100
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return None;
    }
    Some((name.to_string(), value.trim().to_string()))
}

fn status_line(line: &str) -> Option<(u16, String)> {
    let rest = line.strip_prefix("HTTP/")?;
    let mut it = rest.splitn(3, ' ');
    let _version = it.next()?;
    let code = it.next()?.trim().parse::<u16>().ok()?;
    Some((code, it.next().unwrap_or("").trim().to_string()))
}

const METHODS: [&str; 7] = ["GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH"];

fn request_line(line: &str) -> Option<(String, String)> {
    let mut it = line.split(' ');
    let method = it.next()?;
    if !METHODS.contains(&method) {
        return None;
    }
    let url = it.next()?;
    it.next().filter(|v| v.starts_with("HTTP/"))?;
    Some((method.to_string(), url.to_string()))
}

/// A raw transcript: optional request blocks, response blocks, or bare header lines.
fn raw(lines: &[&str]) -> Vec<Exchange> {
    #[derive(PartialEq)]
    enum In {
        Nothing,
        ReqHeaders,
        RespHeaders,
        Body,
    }
    let mut out: Vec<Exchange> = Vec::new();
    let mut cur = Exchange::default();
    let mut state = In::Nothing;
    let mut started = false;
    for line in lines {
        let line = line.trim_end_matches('\r');
        if let Some((method, url)) = request_line(line) {
            if started {
                out.push(std::mem::take(&mut cur));
            }
            cur.method = Some(method);
            cur.url = Some(url);
            cur.request_known = true;
            state = In::ReqHeaders;
            started = true;
            continue;
        }
        if let Some((code, reason)) = status_line(line) {
            if started && (cur.status.is_some() || state == In::Nothing) {
                out.push(std::mem::take(&mut cur));
            }
            cur.status = Some(code);
            cur.reason = reason;
            state = In::RespHeaders;
            started = true;
            continue;
        }
        match state {
            In::ReqHeaders => {
                if line.trim().is_empty() {
                    state = In::Body;
                } else if let Some(h) = header_line(line) {
                    cur.request_headers.push(h);
                }
            }
            In::RespHeaders | In::Nothing => {
                if line.trim().is_empty() {
                    if state == In::RespHeaders {
                        state = In::Body;
                    }
                } else if let Some(h) = header_line(line) {
                    cur.headers.push(h);
                    started = true;
                } else if line.trim_start().starts_with('{') {
                    state = In::Body;
                    cur.body.push_str(line);
                    cur.body.push('\n');
                }
            }
            In::Body => {
                if cur.status.is_none() && cur.request_known {
                    // The request's body; the response has not started yet.
                    continue;
                }
                cur.body.push_str(line);
                cur.body.push('\n');
            }
        }
    }
    if started || !cur.body.is_empty() {
        out.push(cur);
    }
    out
}

/// A `curl -v` transcript: `> ` request lines, `< ` response lines, `* ` notes, body unprefixed.
fn curl_verbose(lines: &[&str]) -> Vec<Exchange> {
    let mut out: Vec<Exchange> = Vec::new();
    let mut cur = Exchange::default();
    let mut in_body = false;
    for line in lines {
        let line = line.trim_end_matches('\r');
        if let Some(req) = line.strip_prefix("> ") {
            if let Some((method, url)) = request_line(req) {
                if cur.request_known || cur.status.is_some() {
                    out.push(std::mem::take(&mut cur));
                }
                cur.method = Some(method);
                cur.url = Some(url);
                cur.request_known = true;
                in_body = false;
            } else if let Some(h) = header_line(req) {
                if h.0.eq_ignore_ascii_case("Host") {
                    if let Some(u) = cur.url.as_mut() {
                        if u.starts_with('/') {
                            *u = format!("https://{}{u}", h.1);
                        }
                    }
                }
                cur.request_headers.push(h);
            }
        } else if let Some(resp) = line.strip_prefix("< ") {
            if let Some((code, reason)) = status_line(resp) {
                cur.status = Some(code);
                cur.reason = reason;
                cur.headers.clear();
            } else if let Some(h) = header_line(resp) {
                cur.headers.push(h);
            }
        } else if line == "<" {
            in_body = true;
        } else if line.starts_with("* ")
            || line.starts_with("{ ")
            || line.starts_with("} ")
            || line == ">"
        {
            // curl's own notes (kept in the raw text for the certificate rules).
        } else if in_body || cur.status.is_some() {
            cur.body.push_str(line);
            cur.body.push('\n');
        }
    }
    if cur.request_known || cur.status.is_some() {
        out.push(cur);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenges_split_at_schemes_not_params() {
        let v = "Bearer client_id=\"a\", trusted_issuers=\"x,y\", authorization_uri=\"https://l/\", Basic realm=\"m\"";
        assert_eq!(
            split_challenges(v),
            vec![
                "Bearer client_id=\"a\", trusted_issuers=\"x,y\", authorization_uri=\"https://l/\""
                    .to_string(),
                "Basic realm=\"m\"".to_string()
            ]
        );
        assert_eq!(split_challenges("NTLM"), vec!["NTLM".to_string()]);
    }

    #[test]
    fn raw_request_then_response() {
        let t = "POST /mapi/emsmdb/?MailboxId=x HTTP/1.1\r\nHost: mail.contoso.com\r\nAuthorization: Bearer\r\n\r\nHTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: NTLM\r\n\r\n";
        let x = parse(t);
        assert_eq!(x.len(), 1);
        assert_eq!(x[0].request_header("authorization"), Some("Bearer"));
        assert_eq!(x[0].status, Some(401));
        assert_eq!(x[0].challenges(), vec!["NTLM".to_string()]);
        assert_eq!(x[0].path().as_deref(), Some("/mapi/emsmdb/?mailboxid=x"));
    }

    #[test]
    fn postman_arrows_and_bare_headers() {
        let x = parse("Content-Length →0\nx-ms-diagnostics →2000003;reason=\"r\"\n");
        assert_eq!(x.len(), 1);
        assert_eq!(x[0].status, None);
        assert_eq!(
            x[0].header("X-MS-Diagnostics"),
            Some("2000003;reason=\"r\"")
        );
    }

    #[test]
    fn curl_verbose_transcript() {
        let t = "*   Trying 127.0.0.1:443...\n\
                 > POST /EWS/Exchange.asmx HTTP/1.1\r\n\
                 > Host: mail.contoso.com\r\n\
                 > User-Agent: MacOutlook/16.9.0.180121 (Intelx64 Mac OS X Version 10.13.2)\r\n\
                 > Authorization: NTLM TlRMTVNTUAABAAAAB4IIogAAAAAAAAAAAAAAAAAAAAAGAbEdAAAADw==\r\n\
                 >\r\n\
                 < HTTP/1.1 401 Unauthorized\r\n\
                 < WWW-Authenticate: Bearer client_id=\"00000002-0000-0ff1-ce00-000000000000\", authorization_uri=\"https://login.windows.net/common/oauth2/authorize\"\r\n\
                 < WWW-Authenticate: NTLM TlRMTVNTUAACAAAA\r\n\
                 <\r\n\
                 * Connection #0 to host mail.contoso.com left intact\n";
        let x = parse(t);
        assert_eq!(x.len(), 1);
        assert_eq!(
            x[0].url.as_deref(),
            Some("https://mail.contoso.com/EWS/Exchange.asmx")
        );
        assert_eq!(x[0].method.as_deref(), Some("POST"));
        assert!(x[0].request_known);
        assert_eq!(x[0].status, Some(401));
        assert_eq!(x[0].challenges().len(), 2);
        assert_eq!(x[0].body, "");
        let e = crate::explain::explain_text("mac", t).unwrap();
        assert_eq!(e.id, "client-no-bearer");
        assert_eq!(
            e.fix,
            vec!["defaults write com.microsoft.Outlook DisableModernAuth -bool NO".to_string()]
        );
    }

    #[test]
    fn garbage_parses_to_nothing_without_panicking() {
        assert!(parse("").is_empty());
        assert!(parse("hello world\n\u{0}\u{7f}").is_empty());
        let _ = parse("{\"log\":{\"entries\":[{\"response\":{\"status\":-1,\"headers\":7}}]}}");
        let _ = parse("< HTTP/1.1 999999 x\n> GET\n");
    }
}
