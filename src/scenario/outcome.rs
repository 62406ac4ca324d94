//! What a `when` action produced, as plain data: the HTTP exchange ([`Http`]) of a `request` or
//! `token` action, or a client's connection status, with the claims of the last token
//! ([`Outcome`]). The runner makes outcomes and the expectations read them; both depend on this
//! module and neither on the other for it, so expectations stay plain functions on data.

use serde::Serialize;
use serde_json::Value as Json;

use crate::client::ConnectionStatus;

/// One HTTP exchange made by a `request` or `token` action (or the last one of a client).
#[derive(Debug, Clone, Serialize)]
pub struct Http {
    pub method: String,
    /// The product URL as written (`https://mail.contoso.com/…`).
    pub url: String,
    pub request_headers: Vec<(String, String)>,
    /// 0 when no response arrived.
    pub status: u16,
    /// The status line's reason phrase as received (`Bad Unicorn`); the canonical one when the
    /// server sent the usual text, empty when no response arrived.
    pub reason: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Http {
    /// Values of response header `name` (case-insensitive), in order.
    pub fn header_values(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// A trace of the exchange for reports (body cut to `limit` characters).
    pub fn render(&self, limit: usize) -> String {
        let mut s = format!("> {} {}\n", self.method, self.url);
        for (k, v) in &self.request_headers {
            s.push_str(&format!("> {k}: {v}\n"));
        }
        if self.status == 0 {
            s.push_str("< (no response)\n");
            return s;
        }
        s.push_str(&format!("< {} {}\n", self.status, self.reason));
        for (k, v) in &self.headers {
            s.push_str(&format!("< {k}: {v}\n"));
        }
        if !self.body.is_empty() {
            let excerpt: String = self.body.chars().take(limit).collect();
            let more = if self.body.chars().count() > limit {
                " …"
            } else {
                ""
            };
            s.push_str(&format!("< body: {}{more}\n", excerpt.trim_end()));
        }
        s
    }
}

/// What one `when` action produced.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    /// What was done, e.g. `client outlook-2016 GregT@contoso.com connect`.
    pub label: String,
    /// The exchange of a `request`/`token` action; for a client, its last exchange.
    pub http: Option<Http>,
    pub client: Option<ConnectionStatus>,
    /// Claims of the last access token obtained up to this action.
    pub claims: Option<Json>,
    /// Why the action could not be carried out (no token for `bearer:`, no refresh token, …).
    pub note: Option<String>,
}

/// A one-line summary of an outcome.
pub fn summary(o: &Outcome) -> String {
    if let Some(n) = &o.note {
        return n.clone();
    }
    if let Some(c) = &o.client {
        let mut s = format!(
            "{} — server {}, protocol {}, authn {}",
            c.status,
            if c.server.is_empty() { "-" } else { &c.server },
            if c.protocol.is_empty() {
                "-"
            } else {
                &c.protocol
            },
            c.authn.as_deref().unwrap_or("-")
        );
        if let Some(d) = &c.detail {
            s.push_str(&format!(" ({d})"));
        }
        return s;
    }
    match &o.http {
        Some(h) => format!("{} ({} bytes)", h.status, h.body.len()),
        None => "no exchange".into(),
    }
}
