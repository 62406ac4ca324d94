//! Admin calls on hybrid identity: how each domain authenticates (managed, pass-through or
//! federated), a federated domain's settings, the pass-through agent, and the users Azure AD
//! Connect synchronizes.
//!
//! Shaped for the cmdlets and the sync engine that call them, one call each: `Get-MsolDomain` is
//! `GET …/msol-domains`, `Set-MsolDomainAuthentication` is `PUT …/domains/{d}/authentication`,
//! `Get-`/`Set-MsolDomainFederationSettings` are `GET`/`PATCH …/domains/{d}/federation-settings`
//! — answered and read in the cmdlets' own property names — and one sync export of one user is
//! `PUT …/synced-users/{upn}` (create, update, rename or soft-match a cloud user, and write the
//! password hash), `DELETE …/synced-users/{upn}` when it leaves the sync scope. What a
//! pass-through agent would find in Active Directory *now* (password, enabled) is
//! `PATCH …/synced-users/{upn}/on-premises`, separate from the sync cycle because an agent reads
//! Active Directory live. Every edit goes through the lab-file checks like any other.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::admin::directory::no_domain;
use crate::admin::edit::{edit_tenant, no_user, patched, read_tenant};
use crate::admin::errors::{from_value, AdminError, AdminJson, AdminPath, AdminResult};
use crate::admin::users::{new_puid, rename_in_rules};
use crate::model::{
    AgentState, AuthProtocol, Domain, DomainKind, Federation, OnPremises, Tenant, User,
};
use crate::state::AppState;

/// A domain as `Get-MsolDomain` shows it (plus whether pass-through checks its passwords).
fn msol_domain(d: &Domain) -> Value {
    json!({
        "Name": d.name,
        "Status": if d.verified { "Verified" } else { "Unverified" },
        "Authentication": match d.kind {
            DomainKind::Managed => "Managed",
            DomainKind::Federated => "Federated",
        },
        "PassThrough": d.pass_through,
    })
}

fn find_domain<'t>(t: &'t Tenant, name: &str) -> AdminResult<&'t Domain> {
    t.domains
        .iter()
        .find(|d| d.name.eq_ignore_ascii_case(name))
        .ok_or_else(|| no_domain(name))
}

fn find_domain_mut<'t>(t: &'t mut Tenant, name: &str) -> AdminResult<&'t mut Domain> {
    t.domains
        .iter_mut()
        .find(|d| d.name.eq_ignore_ascii_case(name))
        .ok_or_else(|| no_domain(name))
}

/// `GET /tenants/{t}/msol-domains` (`Get-MsolDomain`).
pub(super) async fn msol_domains(
    State(s): State<AppState>,
    AdminPath(t): AdminPath<String>,
) -> AdminResult<Json<Value>> {
    read_tenant(&s, &t, |t| {
        Ok(Json(Value::Array(
            t.domains.iter().map(msol_domain).collect(),
        )))
    })
}

/// `GET /tenants/{t}/domains/{d}/authentication` (`Get-MsolDomain -DomainName`).
pub(super) async fn authentication_get(
    State(s): State<AppState>,
    AdminPath((t, name)): AdminPath<(String, String)>,
) -> AdminResult<Json<Value>> {
    read_tenant(&s, &t, |t| Ok(Json(msol_domain(find_domain(t, &name)?))))
}

/// `Get-MsolDomainFederationSettings`' properties; every one optional so the same shape is the
/// body of `Set-MsolDomainAuthentication` and `Set-MsolDomainFederationSettings`.
#[derive(Debug, Default, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub(super) struct FederationSettings {
    #[serde(default)]
    active_log_on_uri: Option<String>,
    #[serde(default)]
    federation_brand_name: Option<String>,
    #[serde(default)]
    issuer_uri: Option<String>,
    #[serde(default)]
    log_off_uri: Option<String>,
    #[serde(default)]
    metadata_exchange_uri: Option<String>,
    #[serde(default)]
    next_signing_certificate: Option<String>,
    #[serde(default)]
    passive_log_on_uri: Option<String>,
    #[serde(default)]
    preferred_authentication_protocol: Option<AuthProtocol>,
    #[serde(default)]
    signing_certificate: Option<String>,
    #[serde(default)]
    supports_mfa: Option<bool>,
}

impl FederationSettings {
    fn of(f: &Federation) -> Self {
        FederationSettings {
            active_log_on_uri: Some(f.active_log_on_uri.clone()),
            federation_brand_name: Some(f.federation_brand_name.clone()),
            issuer_uri: Some(f.issuer_uri.clone()),
            log_off_uri: Some(f.log_off_uri.clone()),
            metadata_exchange_uri: Some(f.metadata_exchange_uri.clone()),
            next_signing_certificate: f.next_signing_certificate.clone(),
            passive_log_on_uri: Some(f.passive_log_on_uri.clone()),
            preferred_authentication_protocol: Some(f.preferred_authentication_protocol),
            signing_certificate: Some(f.signing_certificate.clone()),
            supports_mfa: Some(f.supports_mfa),
        }
    }

    /// Writes the given settings over `f`; an empty `NextSigningCertificate` removes it.
    fn apply(self, f: &mut Federation) {
        let set = |slot: &mut String, v: Option<String>| {
            if let Some(v) = v {
                *slot = v;
            }
        };
        set(&mut f.active_log_on_uri, self.active_log_on_uri);
        set(&mut f.federation_brand_name, self.federation_brand_name);
        set(&mut f.issuer_uri, self.issuer_uri);
        set(&mut f.log_off_uri, self.log_off_uri);
        set(&mut f.metadata_exchange_uri, self.metadata_exchange_uri);
        set(&mut f.passive_log_on_uri, self.passive_log_on_uri);
        set(&mut f.signing_certificate, self.signing_certificate);
        if let Some(n) = self.next_signing_certificate {
            f.next_signing_certificate = Some(n).filter(|n| !n.trim().is_empty());
        }
        if let Some(p) = self.preferred_authentication_protocol {
            f.preferred_authentication_protocol = p;
        }
        if let Some(m) = self.supports_mfa {
            f.supports_mfa = m;
        }
    }
}

/// `-Authentication` of `Set-MsolDomainAuthentication`.
#[derive(Debug, Clone, Copy, Deserialize, schemars::JsonSchema)]
pub(super) enum Authentication {
    Managed,
    Federated,
}

/// `Set-MsolDomainAuthentication -Authentication Managed|Federated [federation settings]`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct AuthenticationHead {
    authentication: Authentication,
    /// Managed domains only: the tenant's pass-through agent checks synced users' passwords
    /// (Azure AD Connect's sign-in method; not a parameter of the cmdlet).
    #[serde(default)]
    pass_through: bool,
}

/// The body split in two: `Authentication` and `PassThrough`, and the federation settings
/// (each part refusing fields it does not know).
fn authentication_body(body: Value) -> AdminResult<(AuthenticationHead, FederationSettings)> {
    let Value::Object(mut m) = body else {
        return Err(AdminError::bad_request(
            "the body must be an object with `Authentication`",
        ));
    };
    let mut head = serde_json::Map::new();
    for k in ["Authentication", "PassThrough"] {
        if let Some(v) = m.remove(k) {
            head.insert(k.to_string(), v);
        }
    }
    Ok((
        from_value(Value::Object(head))?,
        from_value(Value::Object(m))?,
    ))
}

/// `PUT /tenants/{t}/domains/{d}/authentication` (`Set-MsolDomainAuthentication`): to
/// `Federated` with `IssuerUri`, `PassiveLogOnUri` and `SigningCertificate` at least, or back to
/// `Managed` (the federation settings are dropped, as the cmdlet does).
pub(super) async fn authentication_put(
    State(s): State<AppState>,
    AdminPath((t, name)): AdminPath<(String, String)>,
    AdminJson(body): AdminJson<Value>,
) -> AdminResult<Json<Value>> {
    let (head, settings) = authentication_body(body)?;
    edit_tenant(&s, &t, |tenant| {
        let d = find_domain_mut(tenant, &name)?;
        match head.authentication {
            Authentication::Managed => {
                d.kind = DomainKind::Managed;
                d.federation = None;
                d.pass_through = head.pass_through;
            }
            Authentication::Federated => {
                let st = &settings;
                let missing: Vec<&str> = [
                    ("IssuerUri", &st.issuer_uri),
                    ("PassiveLogOnUri", &st.passive_log_on_uri),
                    ("SigningCertificate", &st.signing_certificate),
                ]
                .into_iter()
                .filter(|(_, v)| v.as_deref().is_none_or(|v| v.trim().is_empty()))
                .map(|(n, _)| n)
                .collect();
                if !missing.is_empty() {
                    return Err(AdminError::bad_request(format!(
                        "a federated domain needs {}",
                        missing.join(", ")
                    )));
                }
                let mut f = d.federation.clone().unwrap_or_default();
                settings.apply(&mut f);
                d.kind = DomainKind::Federated;
                d.pass_through = head.pass_through;
                d.federation = Some(f);
            }
        }
        Ok(Json(msol_domain(d)))
    })
}

fn federated(d: &Domain) -> AdminResult<&Federation> {
    d.federation.as_ref().ok_or_else(|| {
        AdminError::conflict(format!(
            "{} is not a federated domain; Set-MsolDomainAuthentication -Authentication Federated first",
            d.name
        ))
    })
}

/// `GET /tenants/{t}/domains/{d}/federation-settings` (`Get-MsolDomainFederationSettings`).
pub(super) async fn federation_get(
    State(s): State<AppState>,
    AdminPath((t, name)): AdminPath<(String, String)>,
) -> AdminResult<Json<FederationSettings>> {
    read_tenant(&s, &t, |t| {
        Ok(Json(FederationSettings::of(federated(find_domain(
            t, &name,
        )?)?)))
    })
}

/// `PATCH /tenants/{t}/domains/{d}/federation-settings` (`Set-MsolDomainFederationSettings`):
/// the given properties only, e.g. `{"SigningCertificate":"MIIC…"}` after an ADFS rollover.
pub(super) async fn federation_patch(
    State(s): State<AppState>,
    AdminPath((t, name)): AdminPath<(String, String)>,
    AdminJson(body): AdminJson<FederationSettings>,
) -> AdminResult<Json<FederationSettings>> {
    edit_tenant(&s, &t, |tenant| {
        let d = find_domain_mut(tenant, &name)?;
        federated(d)?;
        let Some(f) = d.federation.as_mut() else {
            return Err(no_domain(&name));
        };
        body.apply(f);
        Ok(Json(FederationSettings::of(f)))
    })
}

// ------------------------------------------------------------------ pass-through agent

#[derive(Debug, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct AgentBody {
    state: AgentState,
}

/// `GET /tenants/{t}/pta-agent`: `{"state":"up"|"down"|"slow"}`.
pub(super) async fn agent_get(
    State(s): State<AppState>,
    AdminPath(t): AdminPath<String>,
) -> AdminResult<Json<AgentBody>> {
    read_tenant(&s, &t, |t| Ok(Json(AgentBody { state: t.pta_agent })))
}

/// `PUT /tenants/{t}/pta-agent {"state":"down"}`: the lab device's state.
pub(super) async fn agent_put(
    State(s): State<AppState>,
    AdminPath(t): AdminPath<String>,
    AdminJson(body): AdminJson<AgentBody>,
) -> AdminResult<Json<AgentBody>> {
    edit_tenant(&s, &t, |tenant| {
        tenant.pta_agent = body.state;
        Ok(Json(AgentBody { state: body.state }))
    })
}

// ------------------------------------------------------------------ synced users

/// One user as Azure AD Connect exports it.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct SyncedUser {
    /// The sourceAnchor (base64 of the on-premises objectGUID): the key of the match.
    immutable_id: String,
    #[serde(default)]
    onprem_sid: Option<String>,
    #[serde(default)]
    given_name: Option<String>,
    #[serde(default)]
    family_name: Option<String>,
    #[serde(default)]
    display_name: Option<String>,
    /// accountEnabled, from the on-premises account.
    #[serde(default)]
    enabled: Option<bool>,
    /// Password hash sync's value: becomes the cloud password. `null`/absent: unchanged.
    #[serde(default)]
    password_hash: Option<String>,
    /// What a pass-through agent finds in Active Directory.
    #[serde(default)]
    on_premises: Option<OnPremises>,
}

/// `PUT /tenants/{t}/synced-users/{upn}`: one sync export. Matched by ImmutableID (hard match;
/// a changed UPN renames the user), else by UPN (soft match of a cloud-only user, which becomes
/// synced); else created with a new oid and PUID. 201 when created, 200 otherwise; the body is
/// the user. A UPN held by a user anchored to another ImmutableID is a conflict, as the sync
/// engine's export error is.
pub(super) async fn synced_put(
    State(s): State<AppState>,
    AdminPath((t, upn)): AdminPath<(String, String)>,
    AdminJson(body): AdminJson<SyncedUser>,
) -> AdminResult<(StatusCode, Json<User>)> {
    if body.immutable_id.trim().is_empty() {
        return Err(AdminError::bad_request("immutable_id: must not be empty"));
    }
    edit_tenant(&s, &t, |tenant| {
        let by_anchor = tenant
            .users
            .iter()
            .position(|u| u.immutable_id.as_deref() == Some(body.immutable_id.as_str()));
        let by_upn = tenant
            .users
            .iter()
            .position(|u| u.upn.eq_ignore_ascii_case(&upn));
        let (index, created) = match (by_anchor, by_upn) {
            (Some(a), Some(u)) if a != u => {
                return Err(AdminError::conflict(format!(
                "{upn} belongs to another user; rename or remove it before this one takes the name"
            )))
            }
            (Some(a), _) => (a, false),
            (None, Some(u)) if tenant.users[u].immutable_id.is_some() => {
                return Err(AdminError::conflict(format!(
                    "{upn} is synced with another ImmutableID"
                )))
            }
            (None, Some(u)) => (u, false),
            (None, None) => {
                let local = upn.split('@').next().unwrap_or(&upn).to_string();
                tenant.users.push(User {
                    upn: upn.clone(),
                    oid: Uuid::new_v4(),
                    onprem_sid: None,
                    puid: new_puid(),
                    given_name: String::new(),
                    family_name: String::new(),
                    display_name: local,
                    password: crate::util::random_b64url(24),
                    enabled: true,
                    locked: false,
                    mfa: Default::default(),
                    tokens_valid_from: None,
                    immutable_id: None,
                    on_premises: None,
                    consented_apps: Vec::new(),
                });
                (tenant.users.len() - 1, true)
            }
        };
        let old_upn = tenant.users[index].upn.clone();
        if !old_upn.eq_ignore_ascii_case(&upn) {
            rename_in_rules(tenant, &old_upn, &upn);
        }
        let u = &mut tenant.users[index];
        u.upn = upn.clone();
        u.immutable_id = Some(body.immutable_id);
        let keep = |slot: &mut String, v: Option<String>| {
            if let Some(v) = v {
                *slot = v;
            }
        };
        keep(&mut u.given_name, body.given_name);
        keep(&mut u.family_name, body.family_name);
        keep(&mut u.display_name, body.display_name);
        keep(&mut u.password, body.password_hash);
        if body.onprem_sid.is_some() {
            u.onprem_sid = body.onprem_sid;
        }
        if let Some(e) = body.enabled {
            u.enabled = e;
        }
        if body.on_premises.is_some() {
            u.on_premises = body.on_premises;
        }
        let status = if created {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        };
        Ok((status, Json(u.clone())))
    })
}

fn synced_user<'t>(tenant: &'t mut Tenant, upn: &str) -> AdminResult<&'t mut User> {
    let u = tenant.user_mut(upn).ok_or_else(|| no_user(upn))?;
    if u.immutable_id.is_none() {
        return Err(AdminError::conflict(format!(
            "{} is a cloud-only user (no ImmutableID); use /users/{{upn}}",
            u.upn
        )));
    }
    Ok(u)
}

/// `DELETE /tenants/{t}/synced-users/{upn}`: the user left the sync scope (deleted on-premises or
/// filtered out). Refused for a cloud-only user.
pub(super) async fn synced_delete(
    State(s): State<AppState>,
    AdminPath((t, upn)): AdminPath<(String, String)>,
) -> AdminResult<StatusCode> {
    edit_tenant(&s, &t, |tenant| {
        let upn = synced_user(tenant, &upn)?.upn.clone();
        tenant.users.retain(|u| u.upn != upn);
        for rule in tenant.conditional_access.iter_mut() {
            rule.users.retain(|r| !r.eq_ignore_ascii_case(&upn));
        }
        Ok(StatusCode::NO_CONTENT)
    })
}

/// `PATCH /tenants/{t}/synced-users/{upn}/on-premises {"password"?, "enabled"?}`: the on-premises
/// account as a pass-through agent reads it now (`Set-ADAccountPassword`, `Disable-ADAccount`).
/// The first call must give the password.
pub(super) async fn onprem_patch(
    State(s): State<AppState>,
    AdminPath((t, upn)): AdminPath<(String, String)>,
    AdminJson(patch): AdminJson<Value>,
) -> AdminResult<Json<User>> {
    edit_tenant(&s, &t, |tenant| {
        let u = synced_user(tenant, &upn)?;
        let current = u.on_premises.clone();
        let new: OnPremises = match current {
            Some(c) => patched(&c, patch)?,
            None => crate::admin::errors::from_value(patch)?,
        };
        u.on_premises = Some(new);
        Ok(Json(u.clone()))
    })
}
