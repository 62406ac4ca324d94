//! What a request addresses: the base URL it reached the service by, and the tenant its
//! `{tenant}` path segment names.
//!
//! Discovery documents, the sign-in pages and the device-code answer all put the base URL in
//! front of their endpoints, and every tenant-scoped route resolves its path segment the same way;
//! both live here, as functions of the configuration, the directory and the request headers, so
//! that no handler module has to borrow them from another.

use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};
use uuid::Uuid;

use crate::config::Config;
use crate::model::Directory;

/// Placeholder Azure AD keeps in multi-tenant issuers.
pub const TENANT_PLACEHOLDER: &str = "{tenantid}";

/// The single path parameter of a route (`{tenant}`, `{upn}`). A segment that does not decode to
/// UTF-8 becomes empty, so it gets the service's "not found" answer instead of axum's plain-text
/// rejection.
pub struct Segment(pub String);

impl<S: Send + Sync> FromRequestParts<S> for Segment {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Ok(Segment(
            Path::<String>::from_request_parts(parts, state)
                .await
                .map(|p| p.0)
                .unwrap_or_default(),
        ))
    }
}

/// The base URL documents and pages put in front of every endpoint: `public_base` when
/// configured, else `{X-Forwarded-Proto or http}://{Host}`. A Host header with characters a host
/// name cannot hold is replaced by `localhost`, so nothing from the request reaches a document
/// unchecked.
pub fn base_url(config: &Config, headers: &HeaderMap) -> String {
    if let Some(b) = &config.public_base {
        return b.trim_end_matches('/').to_string();
    }
    let proto = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .filter(|v| v == "http" || v == "https")
        .unwrap_or_else(|| "http".to_string());
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.len() <= 255
                && h.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-.:[]_".contains(c))
        })
        .unwrap_or("localhost");
    format!("{proto}://{host}")
}

/// What a `{tenant}` path segment names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TenantRef {
    /// `common` or `organizations`: the tenant is decided by the user.
    Multi(String),
    /// A tenant of the directory.
    Tenant(Uuid),
}

impl TenantRef {
    /// Resolves a path segment; `None` for a tenant the directory does not hold.
    pub fn resolve(dir: &Directory, segment: &str) -> Option<TenantRef> {
        let lower = segment.to_ascii_lowercase();
        if lower == "common" || lower == "organizations" {
            return Some(TenantRef::Multi(lower));
        }
        dir.tenant(segment).map(|t| TenantRef::Tenant(t.tid))
    }

    /// The path segment documents use: the multi-tenant alias, or the tid.
    pub fn segment(&self) -> String {
        match self {
            TenantRef::Multi(s) => s.clone(),
            TenantRef::Tenant(tid) => tid.to_string(),
        }
    }

    /// The tid in issuers: the literal placeholder for multi-tenant paths.
    pub fn issuer_tid(&self) -> String {
        match self {
            TenantRef::Multi(_) => TENANT_PLACEHOLDER.to_string(),
            TenantRef::Tenant(tid) => tid.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::{header, HeaderValue};

    fn config() -> Config {
        let mut c = Config::contoso();
        c.public_base = None;
        c
    }

    #[test]
    fn base_url_prefers_config_then_forwarded_proto_and_host() {
        let s = config();
        let mut h = HeaderMap::new();
        h.insert(header::HOST, HeaderValue::from_static("login.windows.net"));
        assert_eq!(base_url(&s, &h), "http://login.windows.net");
        h.insert("x-forwarded-proto", HeaderValue::from_static("https"));
        assert_eq!(base_url(&s, &h), "https://login.windows.net");
        h.insert("x-forwarded-proto", HeaderValue::from_static("gopher"));
        h.insert(header::HOST, HeaderValue::from_static("evil\"<host>"));
        assert_eq!(base_url(&s, &h), "http://localhost");
        let mut s2 = Config::contoso();
        s2.public_base = Some("https://login.microsoftonline.com/".into());
        assert_eq!(base_url(&s2, &h), "https://login.microsoftonline.com");
    }

    #[test]
    fn tenant_segments_resolve_to_tid_or_placeholder() {
        let dir = config().directory;
        let tid = uuid::uuid!("f31f3647-5d87-4b69-a0b6-73f62aeab14c");
        assert_eq!(
            TenantRef::resolve(&dir, "contoso.com"),
            Some(TenantRef::Tenant(tid))
        );
        assert_eq!(
            TenantRef::resolve(&dir, "Common").map(|t| t.issuer_tid()),
            Some("{tenantid}".to_string())
        );
        assert_eq!(TenantRef::resolve(&dir, "fabrikam.com"), None);
    }
}
