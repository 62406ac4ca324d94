//! Azure AD's error responses, rendered in exactly one place.
//!
//! Every token-endpoint error is an [`AadError`]: an HTTP status, the OAuth `error` string, the
//! AADSTS code and its message. [`AadError::into_response_with`] renders it the way the service
//! does on the wire: the header set of the field guide's captures, and the JSON body with the key
//! order `error, error_description, error_codes, timestamp, trace_id, correlation_id, error_uri
//! [, suberror, claims]`, the description lines joined with `\r\n`.
//!
//! Which errors exist, with which texts, is the catalogue ([`crate::aadsts`]), where the
//! constructors (`AadError::invalid_credentials()`, …) live next to their rows.

use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::model::Era;
use crate::timefmt;

/// One Azure AD error.
#[derive(Debug, Clone, PartialEq)]
pub struct AadError {
    pub status: StatusCode,
    /// Custom reason phrase for the status line (`400 Bad Unicorn`).
    pub reason: Option<&'static str>,
    /// OAuth `error` value.
    pub error: String,
    /// AADSTS code (`error_codes[0]`); 0 for the few errors without one.
    pub code: u32,
    /// The message after `AADSTS<code>: `.
    pub message: String,
    /// When set, the description starts with this text verbatim instead of `AADSTS<code>: <message>`.
    pub raw_description: Option<String>,
    pub suberror: Option<String>,
    /// The `claims` challenge (a JSON string inside the JSON body).
    pub claims: Option<String>,
    /// Whether to emit `error_uri` in the current era (Azure AD does on today's endpoints); the
    /// guide's era never does ([`crate::model::Era`], applied by [`AadError::in_era`]).
    pub with_error_uri: bool,
    /// Overrides `Cache-Control` (the unicorn capture sends `no-cache, no-store, not-bloody-safe`).
    pub cache_control: Option<&'static str>,
}

impl AadError {
    pub fn new(status: StatusCode, error: &str, code: u32, message: impl Into<String>) -> Self {
        AadError {
            status,
            reason: None,
            error: error.to_string(),
            code,
            message: message.into(),
            raw_description: None,
            suberror: None,
            claims: None,
            with_error_uri: true,
            cache_control: None,
        }
    }

    /// The error as the lab's era writes it: the guide's era has no `error_uri`.
    pub fn in_era(mut self, era: Era) -> Self {
        if era == Era::Guide {
            self.with_error_uri = false;
        }
        self
    }

    pub fn bad_request(error: &str, code: u32, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, error, code, message)
    }

    /// The same error under another OAuth `error` value (`prompt=none` answers some codes as
    /// `consent_required` or `access_denied`).
    pub fn with_error(mut self, error: &str) -> Self {
        self.error = error.to_string();
        self
    }

    pub fn with_suberror(mut self, s: &str) -> Self {
        self.suberror = Some(s.to_string());
        self
    }

    pub fn with_claims(mut self, c: impl Into<String>) -> Self {
        self.claims = Some(c.into());
        self
    }

    /// The first line of `error_description` (`AADSTS50126: Error validating …`).
    pub fn headline(&self) -> String {
        match &self.raw_description {
            Some(raw) => raw.clone(),
            None => format!("AADSTS{}: {}", self.code, self.message),
        }
    }

    /// `AADSTS<code>: <message>\r\nTrace ID: …\r\nCorrelation ID: …\r\nTimestamp: …`.
    pub fn description(&self, trace_id: Uuid, correlation_id: Uuid, now: OffsetDateTime) -> String {
        format!(
            "{}\r\nTrace ID: {}\r\nCorrelation ID: {}\r\nTimestamp: {}",
            self.headline(),
            trace_id,
            correlation_id,
            timefmt::aad_timestamp(now)
        )
    }

    /// The JSON body, keys in Azure AD's order.
    pub fn body(&self, trace_id: Uuid, correlation_id: Uuid, now: OffsetDateTime) -> Value {
        let mut m = Map::new();
        m.insert("error".into(), json!(self.error));
        m.insert(
            "error_description".into(),
            json!(self.description(trace_id, correlation_id, now)),
        );
        m.insert("error_codes".into(), json!([self.code]));
        m.insert("timestamp".into(), json!(timefmt::aad_timestamp(now)));
        m.insert("trace_id".into(), json!(trace_id.to_string()));
        m.insert("correlation_id".into(), json!(correlation_id.to_string()));
        if self.with_error_uri {
            m.insert(
                "error_uri".into(),
                json!(format!(
                    "https://login.microsoftonline.com/error?code={}",
                    self.code
                )),
            );
        }
        if let Some(s) = &self.suberror {
            m.insert("suberror".into(), json!(s));
        }
        if let Some(c) = &self.claims {
            m.insert("claims".into(), json!(c));
        }
        Value::Object(m)
    }

    /// Renders the error as Azure AD's token endpoint does.
    pub fn into_response_with(self, ctx: &RequestIds, now: OffsetDateTime) -> Response {
        let body = self.body(ctx.trace_id, ctx.correlation_id, now).to_string();
        let mut resp = (self.status, body).into_response();
        let h = resp.headers_mut();
        h.clear();
        set_aad_headers(h, ctx.trace_id, now, self.cache_control);
        h.insert(
            axum::http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=utf-8"),
        );
        reorder_content_type_after_pragma(h);
        if let Some(reason) = self.reason {
            resp.extensions_mut()
                .insert(hyper::ext::ReasonPhrase::from_static(reason.as_bytes()));
        }
        resp
    }
}

/// The ids every response carries.
#[derive(Debug, Clone, Copy)]
pub struct RequestIds {
    /// `x-ms-request-id` and `trace_id` (Azure AD's end in `00`).
    pub trace_id: Uuid,
    /// `client-request-id` echoed, or a new one.
    pub correlation_id: Uuid,
}

impl RequestIds {
    /// Reads `client-request-id` from the request headers; new ids otherwise.
    pub fn from_headers(headers: &HeaderMap) -> Self {
        let correlation_id = headers
            .get("client-request-id")
            .and_then(|v| v.to_str().ok())
            .and_then(|s| Uuid::parse_str(s.trim()).ok())
            .unwrap_or_else(Uuid::new_v4);
        RequestIds {
            trace_id: trace_id(),
            correlation_id,
        }
    }
}

/// A fresh trace id whose last byte is `00`, as Azure AD's are.
pub fn trace_id() -> Uuid {
    let mut b = *Uuid::new_v4().as_bytes();
    b[15] = 0;
    Uuid::from_bytes(b)
}

/// The response headers of the field guide's token-endpoint captures (everything but
/// `Content-Type`, `Content-Length` and `Date`, which the caller or hyper adds).
pub fn set_aad_headers(
    h: &mut HeaderMap,
    trace_id: Uuid,
    now: OffsetDateTime,
    cache_control: Option<&'static str>,
) {
    let s = HeaderValue::from_static;
    h.insert(
        "cache-control",
        s(cache_control.unwrap_or("no-cache, no-store")),
    );
    h.insert("pragma", s("no-cache"));
    h.insert("expires", s("-1"));
    h.insert("server", s("Microsoft-IIS/8.5"));
    h.insert(
        "strict-transport-security",
        s("max-age=31536000; includeSubDomains"),
    );
    h.insert("x-content-type-options", s("nosniff"));
    if let Ok(v) = HeaderValue::from_str(&trace_id.to_string()) {
        h.insert("x-ms-request-id", v);
    }
    h.insert("p3p", s("CP=\"DSP CUR OTPi IND OTRi ONL FIN\""));
    let esctx = format!(
        "esctx={}; domain=.login.windows.net; path=/; secure; HttpOnly",
        crate::util::random_b64url(120)
    );
    if let Ok(v) = HeaderValue::from_str(&esctx) {
        h.append("set-cookie", v);
    }
    h.append(
        "set-cookie",
        s("x-ms-gateway-slice=008; path=/; secure; HttpOnly"),
    );
    h.append(
        "set-cookie",
        s("stsservicecookie=ests; path=/; secure; HttpOnly"),
    );
    h.insert("x-powered-by", s("ASP.NET"));
    if let Ok(v) = HeaderValue::from_str(&timefmt::http_date(now)) {
        h.insert("date", v);
    }
}

/// Moves `Content-Type` to just after `Pragma`, where the captures show it.
fn reorder_content_type_after_pragma(h: &mut HeaderMap) {
    let mut entries: Vec<(HeaderName, HeaderValue)> = Vec::with_capacity(h.len());
    let mut last: Option<HeaderName> = None;
    for (name, value) in h.drain() {
        let name = match name {
            Some(n) => {
                last = Some(n.clone());
                n
            }
            None => match &last {
                Some(n) => n.clone(),
                None => continue,
            },
        };
        entries.push((name, value));
    }
    let ct_pos = entries.iter().position(|(n, _)| n == "content-type");
    if let Some(pos) = ct_pos {
        let ct = entries.remove(pos);
        let after = entries
            .iter()
            .position(|(n, _)| n == "pragma")
            .map(|p| p + 1)
            .unwrap_or(0);
        entries.insert(after, ct);
    }
    for (n, v) in entries {
        h.append(n, v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn body_keys_are_in_azure_ad_order_and_lines_joined_with_crlf() {
        let e = AadError::bad_request(
            "invalid_grant",
            50126,
            "Error validating credentials due to invalid username or password.",
        );
        let trace = uuid::uuid!("a287413d-c526-4d4a-a6eb-ac9108b03000");
        let corr = uuid::uuid!("7f85270a-1b07-401e-b684-a19533c1b5ea");
        let body = e.body(trace, corr, datetime!(2021-06-25 13:16:19 UTC));
        assert_eq!(
            body.to_string(),
            r#"{"error":"invalid_grant","error_description":"AADSTS50126: Error validating credentials due to invalid username or password.\r\nTrace ID: a287413d-c526-4d4a-a6eb-ac9108b03000\r\nCorrelation ID: 7f85270a-1b07-401e-b684-a19533c1b5ea\r\nTimestamp: 2021-06-25 13:16:19Z","error_codes":[50126],"timestamp":"2021-06-25 13:16:19Z","trace_id":"a287413d-c526-4d4a-a6eb-ac9108b03000","correlation_id":"7f85270a-1b07-401e-b684-a19533c1b5ea","error_uri":"https://login.microsoftonline.com/error?code=50126"}"#
        );
    }
}
