//! One token-service request, read and ready for the synchronous decision ([`Ctx`]), and what
//! every grant asks of it: the tenant the path names, the calling client and its credentials,
//! the requested resource or scope, and the second factor the sign-in still needs.

use axum::http::{header, HeaderMap};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::error::AadError;
use crate::grants::AuthContext;
use crate::model::{Application, Tenant, User};
use crate::signin::{self, SecondFactor};
use crate::state::Shared;
use crate::token::scope::{self, Target};
use crate::util::Params;

/// One request, read and ready for the synchronous decision.
pub(super) struct Ctx<'a> {
    pub s: &'a Shared,
    /// The `/v2.0/` endpoint.
    pub v2: bool,
    /// The `{tenant}` path segment as sent.
    pub seg: String,
    pub params: Params,
    pub headers: HeaderMap,
    /// The client address for `ipaddr`.
    pub ip: Option<String>,
    /// Unix seconds.
    pub now: i64,
    /// The same lab instant to the clock's resolution (a sign-in's instant is kept to the tick).
    pub at: OffsetDateTime,
}

/// The tenant a path segment names.
pub(super) enum PathTenant {
    Specific(Box<Tenant>),
    /// `common` or `organizations`: the tenant comes from the user or the grant.
    Common,
}

impl Ctx<'_> {
    pub(super) fn path_tenant(&self) -> Result<PathTenant, AadError> {
        if self.seg.eq_ignore_ascii_case("common") || self.seg.eq_ignore_ascii_case("organizations")
        {
            return Ok(PathTenant::Common);
        }
        self.s
            .dir()
            .tenant(&self.seg)
            .cloned()
            .map(|t| PathTenant::Specific(Box::new(t)))
            .ok_or_else(|| AadError::tenant_not_found(&self.seg))
    }

    /// The tenant of a grant (`tid`), refusing a grant of another tenant on a tenant path.
    pub(super) fn grant_tenant(
        &self,
        path: &PathTenant,
        tid: Uuid,
        mismatch: fn() -> AadError,
    ) -> Result<Tenant, AadError> {
        match path {
            PathTenant::Specific(t) if t.tid == tid => Ok((**t).clone()),
            PathTenant::Specific(_) => Err(mismatch()),
            PathTenant::Common => self
                .s
                .dir()
                .tenant(&tid.to_string())
                .cloned()
                .ok_or_else(mismatch),
        }
    }

    /// The tenant name Azure AD puts in messages: the domain the request named, else the
    /// tenant's primary domain.
    pub(super) fn tenant_name(&self, tenant: &Tenant) -> String {
        if Uuid::parse_str(&self.seg).is_err() && tenant.domain(&self.seg).is_some() {
            self.seg.clone()
        } else {
            tenant.primary_domain().to_string()
        }
    }

    pub(super) fn required(&self, name: &str) -> Result<&str, AadError> {
        self.params
            .get(name)
            .ok_or_else(|| AadError::missing_parameter(name))
    }

    /// `client_id` and secret from the form or from HTTP Basic.
    pub(super) fn client_credentials(&self) -> (Option<String>, Option<String>) {
        let basic = self
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_basic);
        let id = self
            .params
            .get("client_id")
            .map(str::to_string)
            .or_else(|| basic.as_ref().map(|b| b.0.clone()));
        let secret = self
            .params
            .get("client_secret")
            .map(str::to_string)
            .or_else(|| basic.map(|b| b.1));
        (id, secret)
    }

    pub(super) fn client_id_present(&self) -> Result<(), AadError> {
        match self.client_credentials().0 {
            Some(_) => Ok(()),
            None => Err(AadError::missing_parameter("client_id")),
        }
    }

    /// Finds and authenticates the calling client. Public clients present no secret (a secret is
    /// AADSTS700025); confidential clients must (7000218 missing, 7000215 wrong).
    /// `confidential_only` grants (client credentials, on-behalf-of) refuse a public client.
    pub(super) fn client(
        &self,
        tenant: &Tenant,
        tenant_name: &str,
        confidential_only: bool,
    ) -> Result<Client, AadError> {
        let (id, secret) = self.client_credentials();
        let id = id.ok_or_else(|| AadError::missing_parameter("client_id"))?;
        let app = Uuid::parse_str(id.trim())
            .ok()
            .and_then(|u| tenant.app(u))
            .ok_or_else(|| AadError::unknown_client(&id, tenant_name))?
            .clone();
        if app.public_client && !confidential_only {
            if secret.is_some() || self.params.get("client_assertion").is_some() {
                return Err(AadError::public_client_with_secret());
            }
            return Ok(Client { app, appidacr: "0" });
        }
        match secret {
            None => Err(AadError::client_credential_missing()),
            Some(s) if app.secrets.iter().any(|k| k == &s) => Ok(Client { app, appidacr: "1" }),
            Some(_) => Err(AadError::invalid_client_secret(&id)),
        }
    }

    /// The v1 `resource` (or `fallback`) / v2 `scope` (or `fallback`) of a user-token request.
    pub(super) fn target(
        &self,
        tenant: &Tenant,
        tenant_name: &str,
        client: &Application,
        fallback: Option<&str>,
    ) -> Result<Target, AadError> {
        if self.v2 {
            let scope = self
                .params
                .get("scope")
                .or(fallback)
                .ok_or_else(|| AadError::missing_parameter("scope"))?;
            scope::resolve_v2(tenant, tenant_name, client, scope)
        } else {
            let resource = self
                .params
                .get("resource")
                .or(fallback)
                .ok_or_else(|| AadError::missing_parameter("resource"))?;
            scope::resolve_v1(
                tenant,
                tenant_name,
                client,
                resource,
                self.params.get("scope"),
            )
        }
    }

    /// Per-user MFA and conditional access for this sign-in reaching `target`.
    pub(super) fn second_factor(
        &self,
        tenant: &Tenant,
        user: &User,
        client: &Client,
        target: &Target,
        auth: &AuthContext,
    ) -> Result<(), AadError> {
        let need = signin::requirements(
            tenant,
            user,
            client.app.app_id,
            Some(target.app.app_id),
            Some(&target.requested),
        )?;
        let resource_id = target.app.app_id.to_string();
        match need {
            SecondFactor::Required if !auth.mfa_done() => {
                Err(AadError::mfa_required(&resource_id, !self.v2))
            }
            SecondFactor::Enroll if !auth.mfa_done() => Err(AadError::mfa_enroll(&resource_id)),
            _ => Ok(()),
        }
    }

    pub(super) fn lifetimes(&self, tenant: &Tenant) -> (i64, i64) {
        let l = &tenant.token_lifetimes;
        (l.access_token, l.access_token)
    }
}

/// An authenticated client.
pub(super) struct Client {
    pub app: Application,
    /// `"0"` public, `"1"` secret.
    pub appidacr: &'static str,
}

/// `Basic base64(urlencode(id):urlencode(secret))` (RFC 6749 §2.3.1).
fn parse_basic(v: &str) -> Option<(String, String)> {
    let (scheme, rest) = v.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let raw = STANDARD.decode(rest.trim()).ok()?;
    let text = String::from_utf8(raw).ok()?;
    let (id, secret) = text.split_once(':')?;
    Some((form_decode(id)?, form_decode(secret)?))
}

/// Decodes `application/x-www-form-urlencoded` text (`+` and `%XX`).
fn form_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = s.get(i + 1..i + 3)?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

/// A Unix time as an instant (the epoch when out of range).
pub(super) fn instant(unix: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(unix).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials_are_form_decoded() {
        let v = format!("Basic {}", STANDARD.encode("a%3Ab:s+e%2Bc"));
        assert_eq!(
            parse_basic(&v),
            Some(("a:b".to_string(), "s e+c".to_string()))
        );
        assert_eq!(parse_basic("Bearer x"), None);
        assert_eq!(parse_basic("Basic !!!"), None);
        assert_eq!(form_decode("%zz"), None);
        assert_eq!(form_decode("%4"), None);
    }
}
