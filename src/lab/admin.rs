//! The three services' admin APIs as one async client: what the shell's backend blocks on
//! ([`super::backend::LabBackend`]) and what Azure AD Connect awaits ([`super::sync::DirSync`]).
//! A leaf of the lab's modules (it knows no lab type), so both sit on it without a cycle.

use serde_json::Value as Json;

use crate::shell::backend::{BResult, BackendError};

/// The three services' admin APIs, called asynchronously (the backend blocks on them; the sync
/// engine awaits them).
#[derive(Clone)]
pub struct Admin {
    http: reqwest::Client,
    aad: String,
    aad_token: String,
    exchange: String,
    exchange_token: String,
    /// mock-adfs's admin base and token, when the lab has a farm.
    adfs: Option<(String, String)>,
}

/// Which service's admin API a call goes to.
#[derive(Clone, Copy)]
pub enum Service {
    Aad,
    Exchange,
    Adfs,
}

impl Admin {
    pub fn of(
        aad: &mock_aad::Handle,
        exchange: &mock_exchange::Handle,
        adfs: Option<&mock_adfs::Handle>,
    ) -> Admin {
        Admin {
            http: reqwest::Client::builder()
                .no_proxy()
                .build()
                .unwrap_or_default(),
            aad: format!("{}/_admin", aad.url()),
            aad_token: aad.admin_token().to_string(),
            exchange: format!("{}/_admin", exchange.url()),
            exchange_token: exchange.admin_token().to_string(),
            adfs: adfs.map(|a| (format!("{}/_admin", a.url()), a.admin_token().to_string())),
        }
    }

    /// Whether the lab has an ADFS farm.
    pub fn has_farm(&self) -> bool {
        self.adfs.is_some()
    }

    /// One admin call; the answer's JSON, or the service's error as a cmdlet error.
    pub async fn call(
        &self,
        service: Service,
        method: &str,
        path: &str,
        body: Option<Json>,
    ) -> BResult<Json> {
        let (base, token) = match service {
            Service::Aad => (&self.aad, &self.aad_token),
            Service::Exchange => (&self.exchange, &self.exchange_token),
            Service::Adfs => match &self.adfs {
                Some((b, t)) => (b, t),
                None => return Err(no_farm()),
            },
        };
        let url = format!("{base}{path}");
        let method = reqwest::Method::from_bytes(method.as_bytes())
            .map_err(|e| BackendError::new("NotSpecified", "LabAdminError", e.to_string()))?;
        let mut req = self.http.request(method, &url).bearer_auth(token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.map_err(|e| {
            BackendError::new(
                "ConnectionError",
                "LabAdminUnreachable",
                format!("the lab's admin API did not answer: {e}"),
            )
        })?;
        let status = resp.status();
        let text = resp.text().await.unwrap_or_default();
        let json: Json = if text.trim().is_empty() {
            Json::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Json::String(text))
        };
        if status.is_success() {
            return Ok(json);
        }
        let message = json
            .get("message")
            .and_then(Json::as_str)
            .map(str::to_string)
            .unwrap_or_else(|| format!("{status}"));
        let category = match status.as_u16() {
            404 => "ObjectNotFound",
            409 => "InvalidOperation",
            400 => "InvalidArgument",
            _ => "NotSpecified",
        };
        let id = json
            .get("error")
            .and_then(Json::as_str)
            .unwrap_or("LabAdminError")
            .to_string();
        Err(BackendError::new(category, &id, message))
    }
}

/// What an ADFS cmdlet meets in a lab without a farm.
fn no_farm() -> BackendError {
    BackendError::new(
        "ObjectNotFound",
        "NoAdfsFarm",
        "The lab has no ADFS farm (a lab file's `adfs:` adds one, as the shipped contoso-federated lab does).",
    )
}

/// One path segment, percent-encoded (a space is `%20`: `+` is only a space in a query).
pub(crate) fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}
