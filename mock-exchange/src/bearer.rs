//! The bearer pipeline (DESIGN.md §4): a token is parsed, its key found in AuthServer metadata,
//! its signature, issuer, lifetime, audience and tenant checked, and its user resolved to an
//! on-premises account with a mailbox — each failure a [`Diag`].
//!
//! Like Exchange, a token whose signature and issuer were verified is cached until it expires,
//! keyed by the token string; the per-request checks (lifetime, audience, tenant, user) run every
//! time. A token therefore stays good until `exp` even when its user's password changed or its
//! key was retired in Azure AD (never stricter than the field).

use std::sync::Arc;

use aws_lc_rs::signature::{UnparsedPublicKey, RSA_PKCS1_2048_8192_SHA256};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{Map, Value};

use crate::diag::Diag;
use crate::metadata::{tenant_in_issuer, tenant_of_issuer, Metadata};
use crate::model::Organization;
use crate::state::{trusted_auth_servers, CachedToken, Shared};
use crate::surfaces::AuthedUser;

/// Clock skew allowed on `exp`/`nbf`.
pub const SKEW_SECONDS: i64 = 300;

/// The URL a request arrived on, as the front end believes it.
#[derive(Debug, Clone)]
pub struct Arrival {
    pub scheme: String,
    pub host: String,
}

/// A JWT split and decoded (no verification).
#[derive(Debug, Clone)]
pub struct Jwt {
    pub header: Map<String, Value>,
    pub claims: Map<String, Value>,
    pub signing_input: String,
    pub signature: Vec<u8>,
}

/// Step 1: the JWT library's `ReadToken`. A string not in compact form
/// (`^[A-Za-z0-9-_]+\.[A-Za-z0-9-_]+\.[A-Za-z0-9-_]*$`, strict unpadded base64url: a padded copy
/// of a token is not the token) is refused with `Jwt10204`; a compact string whose header or
/// payload is not base64url JSON with `Jwt10113`. A signature that does not decode fails later,
/// as a signature.
pub fn parse(token: &str) -> Result<Jwt, Diag> {
    let unreadable = |part: Option<(&str, &str)>| Diag::Unreadable {
        detail: crate::diag::unreadable_detail(token, part),
    };
    let b64url = |p: &str| {
        p.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    let parts: Vec<&str> = token.split('.').collect();
    let [h, p, s] = parts[..] else {
        return Err(unreadable(None));
    };
    if h.is_empty() || p.is_empty() || !b64url(h) || !b64url(p) || !b64url(s) {
        return Err(unreadable(None));
    }
    let obj = |name: &str, part: &str| -> Result<Map<String, Value>, Diag> {
        let decoded = URL_SAFE_NO_PAD
            .decode(part)
            .ok()
            .and_then(|bytes| serde_json::from_slice::<Value>(&bytes).ok());
        match decoded {
            Some(Value::Object(m)) => Ok(m),
            _ => Err(unreadable(Some((name, part)))),
        }
    };
    let header = obj("header", h)?;
    let claims = obj("payload", p)?;
    let signature = URL_SAFE_NO_PAD.decode(s).map_err(|_| Diag::BadSignature)?;
    Ok(Jwt {
        header,
        claims,
        signing_input: format!("{h}.{p}"),
        signature,
    })
}

fn str_claim<'a>(m: &'a Map<String, Value>, k: &str) -> Option<&'a str> {
    m.get(k).and_then(Value::as_str)
}

fn num_claim(m: &Map<String, Value>, k: &str) -> Option<i64> {
    m.get(k).and_then(|v| {
        v.as_i64()
            .or_else(|| v.as_f64().map(|f| f as i64))
            .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
    })
}

/// Runs the pipeline for `token` arriving at `at`; on success the token's user.
pub async fn validate(
    state: &Shared,
    org: &Arc<Organization>,
    token: &str,
    at: &Arrival,
) -> Result<AuthedUser, Diag> {
    let now = state.clock.unix();
    let cached = match state.cached_token(token, now) {
        Some(c) => c,
        None => {
            let jwt = parse(token)?;
            verify_signature_and_issuer(state, org, &jwt).await?;
            let exp = num_claim(&jwt.claims, "exp").ok_or(Diag::Invalid)?;
            check_lifetime(&jwt.claims, now)?;
            let cached = CachedToken {
                audience: std::sync::Arc::new(Audience::of(&jwt.claims)),
                claims: std::sync::Arc::new(jwt.claims),
                exp: exp.saturating_add(SKEW_SECONDS),
            };
            state.cache_token(token, cached.clone());
            cached
        }
    };
    check_lifetime(&cached.claims, now)?;
    cached.audience.check(at)?;
    check_tenant(&cached.claims)?;
    resolve_user(org, &cached.claims)
}

/// Steps 5–8, the checks every request runs on a verified (or cached) token's claims: lifetime,
/// audience, tenant, user. Public for the fuzz targets (`fuzz/`), which cannot sign tokens.
#[doc(hidden)]
pub fn check_claims(
    org: &Arc<Organization>,
    claims: &Map<String, Value>,
    now: i64,
    at: &Arrival,
) -> Result<AuthedUser, Diag> {
    check_lifetime(claims, now)?;
    check_audience(claims, at)?;
    check_tenant(claims)?;
    resolve_user(org, claims)
}

/// Steps 2–4: algorithm, key from metadata (one rate-limited refresh on an unknown kid),
/// signature, issuer.
async fn verify_signature_and_issuer(
    state: &Shared,
    org: &Organization,
    jwt: &Jwt,
) -> Result<(), Diag> {
    let alg = str_claim(&jwt.header, "alg").unwrap_or_default();
    if alg != "RS256" {
        return Err(Diag::UnsupportedAlgorithm {
            alg: alg.to_string(),
        });
    }
    let kid = str_claim(&jwt.header, "kid")
        .or_else(|| str_claim(&jwt.header, "x5t"))
        .unwrap_or_default()
        .to_string();
    let mut found = find_key(state, org, &kid, false).await?;
    if found.is_none() {
        // Rate-limited per AuthServer (see `Shared::metadata_for_unknown_kid`).
        found = find_key(state, org, &kid, true).await?;
    }
    let Some((meta, key)) = found else {
        return Err(Diag::UnknownSigningKey { kid });
    };
    UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, &key)
        .verify(jwt.signing_input.as_bytes(), &jwt.signature)
        .map_err(|_| Diag::BadSignature)?;
    let iss = str_claim(&jwt.claims, "iss").unwrap_or_default();
    // The tenants of the trusted AuthServers: each one's realm, else its metadata's entityID.
    let mut trusted = Vec::new();
    for a in trusted_auth_servers(org) {
        let from_meta = || {
            state
                .metadata_slot(&a.name)
                .and_then(|s| s.result.ok())
                .and_then(|m| m.tenant_id)
        };
        if let Some(t) = a.realm.clone().or_else(from_meta) {
            trusted.push(t);
        }
    }
    if let Some(t) = &meta.tenant_id {
        trusted.push(t.clone());
    }
    match tenant_of_issuer(iss) {
        Some(t) if trusted.iter().any(|x| x.eq_ignore_ascii_case(&t)) => Ok(()),
        _ => Err(Diag::UntrustedIssuer {
            issuer: iss.to_string(),
        }),
    }
}

/// The metadata and key holding `kid` among the trusted AuthServers, from the cached documents
/// or, with `unknown_kid`, after the unknown-kid refresh. Metadata that cannot be read at all is
/// its own failure when no AuthServer could be read.
async fn find_key(
    state: &Shared,
    org: &Organization,
    kid: &str,
    unknown_kid: bool,
) -> Result<Option<(Metadata, Vec<u8>)>, Diag> {
    let mut first_error = None;
    let mut any_ok = false;
    for a in trusted_auth_servers(org) {
        let meta = if unknown_kid {
            state.metadata_for_unknown_kid(a).await
        } else {
            state.metadata_for(a, false).await
        };
        match meta {
            Ok(m) => {
                any_ok = true;
                if let Some(c) = m.cert(kid) {
                    let key = c.rsa_public_key.clone();
                    return Ok(Some((m, key)));
                }
            }
            Err(e) => {
                first_error.get_or_insert((a.name.clone(), e));
            }
        }
    }
    match first_error {
        Some((auth_server, detail)) if !any_ok => Err(Diag::MetadataUnavailable {
            auth_server,
            detail,
        }),
        None if !any_ok => Err(Diag::UnknownSigningKey {
            kid: kid.to_string(),
        }),
        _ => Ok(None),
    }
}

/// Step 5, `exp` and `nbf` against `now` with [`SKEW_SECONDS`]. Public so a dashboard can mark
/// a captured token's lifetime as Exchange judges it.
pub fn check_lifetime(claims: &Map<String, Value>, now: i64) -> Result<(), Diag> {
    let exp = num_claim(claims, "exp").ok_or(Diag::Invalid)?;
    // Saturating: a signed `exp` or `nbf` at the ends of the range must not overflow.
    if now > exp.saturating_add(SKEW_SECONDS) {
        return Err(Diag::Expired);
    }
    if let Some(nbf) = num_claim(claims, "nbf") {
        if nbf > now.saturating_add(SKEW_SECONDS) {
            return Err(Diag::NotYetValid);
        }
    }
    Ok(())
}

/// Audience scheme + host vs the URL the request arrived on. Exchange's own application id
/// (optionally `appid/host@realm`) is accepted as Azure AD issues it for app-id resources.
/// Public so a dashboard can mark a captured token's audience as Exchange judges it.
pub fn check_audience(claims: &Map<String, Value>, at: &Arrival) -> Result<(), Diag> {
    Audience::of(claims).check(at)
}

/// A token's `aud` claim, read once: a verified token is cached with it, so a request checks
/// the audience against its own scheme and host without parsing the URL again.
#[derive(Debug, Clone)]
pub enum Audience {
    /// Exchange's application id on its own.
    App,
    /// `<app id>/<host>@<tenant>`: `host` from the claim, `aud` the whole claim.
    AppHost { host: String, aud: String },
    /// An `https://host/` audience: scheme and host as the URL parser reads them.
    Url {
        scheme: String,
        host: String,
        printed: String,
    },
    /// Not a URL: refused on every host (`printed` is the claim without trailing slashes).
    Unreadable { printed: String },
}

impl Audience {
    pub fn of(claims: &Map<String, Value>) -> Audience {
        let aud = match claims.get("aud") {
            Some(Value::String(s)) => s.as_str(),
            Some(Value::Array(a)) => a.iter().find_map(Value::as_str).unwrap_or_default(),
            _ => "",
        };
        let app = crate::respond::EXCHANGE_APP_ID;
        if aud.eq_ignore_ascii_case(app) {
            return Audience::App;
        }
        if let Some(rest) = aud.strip_prefix(app).and_then(|r| r.strip_prefix('/')) {
            return Audience::AppHost {
                host: rest.split('@').next().unwrap_or_default().to_string(),
                aud: aud.to_string(),
            };
        }
        let printed = aud.trim_end_matches('/').to_string();
        match url::Url::parse(aud) {
            Ok(u) => Audience::Url {
                scheme: u.scheme().to_string(),
                host: u.host_str().unwrap_or_default().to_string(),
                printed,
            },
            Err(_) => Audience::Unreadable { printed },
        }
    }

    /// Whether a request that arrived at `at` is this audience's.
    pub fn check(&self, at: &Arrival) -> Result<(), Diag> {
        match self {
            Audience::App => Ok(()),
            Audience::AppHost { host, aud } => {
                if host.eq_ignore_ascii_case(&at.host) {
                    Ok(())
                } else {
                    Err(Diag::AudienceHost { aud: aud.clone() })
                }
            }
            Audience::Unreadable { printed } => Err(Diag::AudienceHost {
                aud: printed.clone(),
            }),
            Audience::Url {
                scheme,
                host,
                printed,
            } => {
                if !host.eq_ignore_ascii_case(&at.host) {
                    return Err(Diag::AudienceHost {
                        aud: printed.clone(),
                    });
                }
                if !scheme.eq_ignore_ascii_case(&at.scheme) {
                    return Err(Diag::AudienceScheme {
                        expected: format!("{scheme}://{host}"),
                        actual: format!("{}://{}", at.scheme, at.host),
                    });
                }
                Ok(())
            }
        }
    }
}

fn check_tenant(claims: &Map<String, Value>) -> Result<(), Diag> {
    let iss_tid = str_claim(claims, "iss")
        .and_then(tenant_in_issuer)
        .unwrap_or_default();
    let Some(tid) = str_claim(claims, "tid") else {
        return Err(Diag::TenantMissing);
    };
    if tid.eq_ignore_ascii_case(iss_tid) {
        Ok(())
    } else {
        Err(Diag::Tenant {
            tid: tid.to_string(),
        })
    }
}

/// `onprem_sid` → account by SID, else `upn` → account by UPN; the account needs a mailbox.
pub fn resolve_user(
    org: &Arc<Organization>,
    claims: &Map<String, Value>,
) -> Result<AuthedUser, Diag> {
    let account = match str_claim(claims, "onprem_sid") {
        Some(sid) => org.account_by_sid(sid),
        None => str_claim(claims, "upn").and_then(|u| org.account_by_upn(u)),
    }
    .ok_or(Diag::UnknownUser)?;
    let mailbox = org.mailbox_of_sid(&account.sid).ok_or(Diag::UnknownUser)?;
    Ok(AuthedUser::of(org, account, mailbox))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_tokens_are_unreadable_with_the_library_message() {
        let not_compact = |t: &str| Diag::Unreadable {
            detail: crate::diag::unreadable_detail(t, None),
        };
        for t in [
            "",
            "a",
            "a.b",
            "a.b.c.d",
            "!!.e30.e30",
            "e30.!!.e30",
            "e30.e30.!!",
            "e30=.e30.",
            "e30.e30=.",
            "e30.e30.AA==",
            ".e30.",
            "e30..",
            "\u{e9}30.e30.",
        ] {
            assert_eq!(parse(t).err(), Some(not_compact(t)), "{t}");
        }
        let part = |t: &str, name, value| Diag::Unreadable {
            detail: crate::diag::unreadable_detail(t, Some((name, value))),
        };
        assert_eq!(
            parse("W10.e30.").err(),
            Some(part("W10.e30.", "header", "W10"))
        );
        assert_eq!(
            parse("e30.W10.").err(),
            Some(part("e30.W10.", "payload", "W10"))
        );
        assert_eq!(parse("e30.e.").err(), Some(part("e30.e.", "payload", "e")));
        assert_eq!(parse("e30.e30.A").err(), Some(Diag::BadSignature));
        assert!(parse("e30.e30.").is_ok());
    }

    #[test]
    fn audience_checks_host_then_scheme() {
        let at = Arrival {
            scheme: "http".into(),
            host: "mail.contoso.com".into(),
        };
        let mut c = Map::new();
        c.insert("aud".into(), Value::from("https://mail.contoso.com/"));
        assert_eq!(
            check_audience(&c, &at),
            Err(Diag::AudienceScheme {
                expected: "https://mail.contoso.com".into(),
                actual: "http://mail.contoso.com".into()
            })
        );
        c.insert(
            "aud".into(),
            Value::from("https://autodiscover.contoso.com/"),
        );
        assert_eq!(
            check_audience(&c, &at),
            Err(Diag::AudienceHost {
                aud: "https://autodiscover.contoso.com".into()
            })
        );
        c.insert(
            "aud".into(),
            Value::from("00000002-0000-0ff1-ce00-000000000000"),
        );
        assert_eq!(check_audience(&c, &at), Ok(()));
    }
}
