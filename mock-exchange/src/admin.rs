//! The admin API (loopback only, `Authorization: Bearer <admin_token>`, JSON), shaped so that each
//! Exchange Management Shell cmdlet of the guide maps onto one call:
//! `Get/Set-*VirtualDirectory` → `/vdirs/{kind}` and `/servers/{server}/vdirs/{kind}`,
//! `Get/Set-OrganizationConfig` → `/org-config`, `Get/New/Set-AuthServer` → `/auth-servers`,
//! `Set-AuthServer -RefreshAuthMetadata` → `/auth-servers/{name}/refresh-metadata`,
//! `Get-ExchangeServer` → `/servers`, `Get-Mailbox` → `/mailboxes`, `iisreset` → `/iisreset`;
//! `GET /openapi.json` describes them all (OpenAPI 3.1, from the table the router is built from).
//!
//! Changes land in the configured organization at once (reads show them); each server's serving
//! path sees them only after its settings cache expires or `iisreset` on it — `GET /effective`
//! shows that view. The server lifecycle (the Hybrid Configuration Wizard's OAuth step, Edge
//! subscriptions, cumulative updates, `iisreset`) is in [`servers`].

mod reply;
mod servers;
mod table;
pub use reply::AdminError;
use reply::{bad, no_server, not_found, to_json, Body, Res};
pub use servers::EVOSTS;
pub use table::{openapi, route_docs};
use table::{table, TITLE};

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Path, Query, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::model::{Account, AuthMethod, AuthServer, OrgConfig, VdirKind, VirtualDirectory};
use crate::state::AppState;

pub fn routes(state: AppState) -> Router {
    table()
        .router(TITLE, "/_admin")
        .fallback(|| async { not_found("no such admin endpoint".into()) })
        .layer(axum::middleware::from_fn_with_state(state.clone(), guard))
        .layer(axum::extract::DefaultBodyLimit::max(256 * 1024))
        .with_state(state)
}

/// The one admin guard ([`lab_kit::admin`]): loopback peers with the admin token only.
async fn guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0);
    if let Err(refusal) = lab_kit::admin::check(peer, req.headers(), &state.admin_token) {
        let mut resp =
            AdminError(refusal.status(), refusal.error(), refusal.message().into()).into_response();
        if let Some(challenge) = refusal.challenge("mock-exchange admin") {
            resp.headers_mut()
                .insert(axum::http::header::WWW_AUTHENTICATE, challenge);
        }
        return resp;
    }
    next.run(req).await
}

/// Sets `field` when a patch gives a value for it (`Set-*` parameters left out change nothing).
fn set<T>(field: &mut T, value: Option<T>) {
    if let Some(v) = value {
        *field = v;
    }
}

async fn organization(State(s): State<AppState>) -> Res {
    Ok(Json(to_json(&*s.org())))
}

/// `DELETE /servers/{name}`: the server is uninstalled (Setup `/mode:uninstall`). Like Setup, it
/// refuses while a mailbox is still on the server's database.
async fn server_delete(State(s): State<AppState>, Path(name): Path<String>) -> Res {
    let mut org = s.org_mut();
    let Some(idx) = org
        .servers
        .iter()
        .position(|x| x.name.eq_ignore_ascii_case(&name))
    else {
        return Err(not_found(format!("no server '{name}'")));
    };
    let server = org.servers[idx].name.clone();
    let left = org
        .mailboxes
        .iter()
        .filter(|m| m.server.eq_ignore_ascii_case(&server))
        .count();
    if left > 0 {
        return Err(AdminError(
            StatusCode::CONFLICT,
            "mailboxes_present",
            format!("the database on {server} still holds {left} mailbox(es); move them first"),
        ));
    }
    let removed = org.servers.remove(idx);
    Ok(Json(json!({ "removed": removed.name })))
}

async fn servers(State(s): State<AppState>) -> Res {
    let org = s.org();
    let list: Vec<Value> = org
        .servers
        .iter()
        .map(|sv| {
            json!({
                "name": sv.name,
                "fqdn": sv.fqdn,
                "version": sv.version,
                "admin_display_version": sv.admin_display_version(),
                "cu": sv.cu(),
                "os": sv.os(),
                "url": s.listener(&sv.name),
            })
        })
        .collect();
    Ok(Json(Value::Array(list)))
}

fn parse_kind(kind: &str) -> Result<VdirKind, AdminError> {
    serde_json::from_value::<VdirKind>(Value::String(kind.to_ascii_lowercase())).map_err(|_| {
        bad(format!(
            "unknown vdir kind '{kind}'; expected one of autodiscover, ews, mapi, oab, eas, owa, ecp, rpc"
        ))
    })
}

fn vdir_json(server: &str, v: &VirtualDirectory) -> Value {
    let mut j = to_json(v);
    if let Value::Object(m) = &mut j {
        m.insert("server".into(), Value::String(server.to_string()));
    }
    j
}

async fn vdirs_of_kind(State(s): State<AppState>, Path(kind): Path<String>) -> Res {
    let kind = parse_kind(&kind)?;
    let org = s.org();
    Ok(Json(Value::Array(
        org.servers
            .iter()
            .filter_map(|sv| sv.vdir(kind).map(|v| vdir_json(&sv.name, v)))
            .collect(),
    )))
}

fn no_vdir(server: &str, kind: VdirKind) -> AdminError {
    not_found(format!(
        "server '{server}' has no {kind:?} virtual directory"
    ))
}

async fn vdir_get(State(s): State<AppState>, Path((server, kind)): Path<(String, String)>) -> Res {
    let kind = parse_kind(&kind)?;
    let org = s.org();
    let sv = org.server(&server).ok_or_else(|| no_server(&server))?;
    let v = sv.vdir(kind).ok_or_else(|| no_vdir(&server, kind))?;
    Ok(Json(vdir_json(&sv.name, v)))
}

/// `Set-*VirtualDirectory` parameters.
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VdirPatch {
    pub internal_url: Option<Option<String>>,
    pub external_url: Option<Option<String>>,
    pub iis_authentication_methods: Option<Vec<String>>,
    pub internal_authentication_methods: Option<Vec<String>>,
    pub external_authentication_methods: Option<Vec<String>>,
    pub basic_authentication: Option<bool>,
    pub windows_authentication: Option<bool>,
    pub oauth_authentication: Option<bool>,
    pub wssecurity_authentication: Option<bool>,
    pub digest_authentication: Option<bool>,
    pub adfs_authentication: Option<bool>,
    pub live_id_basic_authentication: Option<bool>,
    pub live_id_negotiate_authentication: Option<bool>,
    pub forms_authentication: Option<bool>,
}

fn methods(list: &[String]) -> Result<Vec<AuthMethod>, AdminError> {
    list.iter()
        .map(|m| {
            AuthMethod::parse(m).ok_or_else(|| bad(format!("unknown authentication method '{m}'")))
        })
        .collect()
}

/// Adds or removes `ms` in both side lists (what the boolean parameters do on non-MAPI vdirs).
fn toggle(v: &mut VirtualDirectory, on: bool, ms: &[AuthMethod]) {
    for list in [
        &mut v.internal_authentication_methods,
        &mut v.external_authentication_methods,
    ] {
        for m in ms {
            let has = list.contains(m);
            if on && !has {
                list.push(*m);
            } else if !on && has {
                list.retain(|x| x != m);
            }
        }
    }
}

/// Applies a patch; public so the cmdlet shell can reuse the exact semantics.
pub fn apply_vdir_patch(v: &mut VirtualDirectory, p: VdirPatch) -> Result<(), AdminError> {
    set(&mut v.internal_url, p.internal_url);
    set(&mut v.external_url, p.external_url);
    if let Some(l) = &p.iis_authentication_methods {
        v.iis_authentication_methods = methods(l)?;
    }
    if let Some(l) = &p.internal_authentication_methods {
        v.internal_authentication_methods = methods(l)?;
    }
    if let Some(l) = &p.external_authentication_methods {
        v.external_authentication_methods = methods(l)?;
    }
    // The boolean parameters also add or remove their methods in both side lists, except on
    // MAPI vdirs (whose lists are set only explicitly).
    let lists = v.kind != VdirKind::Mapi;
    type Flag = fn(&mut VirtualDirectory) -> &mut bool;
    let switches: [(Option<bool>, Flag, &[AuthMethod]); 9] = [
        (
            p.oauth_authentication,
            |v| &mut v.oauth_authentication,
            &[AuthMethod::OAuth],
        ),
        (
            p.basic_authentication,
            |v| &mut v.basic_authentication,
            &[AuthMethod::Basic],
        ),
        (
            p.windows_authentication,
            |v| &mut v.windows_authentication,
            &[AuthMethod::Ntlm, AuthMethod::WindowsIntegrated],
        ),
        (
            p.wssecurity_authentication,
            |v| &mut v.wssecurity_authentication,
            &[AuthMethod::WSSecurity],
        ),
        (
            p.digest_authentication,
            |v| &mut v.digest_authentication,
            &[AuthMethod::Digest],
        ),
        (
            p.adfs_authentication,
            |v| &mut v.adfs_authentication,
            &[AuthMethod::Adfs],
        ),
        (
            p.live_id_basic_authentication,
            |v| &mut v.live_id_basic_authentication,
            &[],
        ),
        (
            p.live_id_negotiate_authentication,
            |v| &mut v.live_id_negotiate_authentication,
            &[],
        ),
        (p.forms_authentication, |v| &mut v.forms_authentication, &[]),
    ];
    for (value, flag, ms) in switches {
        if let Some(b) = value {
            *flag(v) = b;
            if lists {
                toggle(v, b, ms);
            }
        }
    }
    Ok(())
}

async fn vdir_patch(
    State(s): State<AppState>,
    Path((server, kind)): Path<(String, String)>,
    Body(p): Body<VdirPatch>,
) -> Res {
    let kind = parse_kind(&kind)?;
    let mut org = s.org_mut();
    let sv = org.server_mut(&server).ok_or_else(|| no_server(&server))?;
    let name = sv.name.clone();
    let v = sv.vdir_mut(kind).ok_or_else(|| no_vdir(&server, kind))?;
    let mut copy = v.clone();
    apply_vdir_patch(&mut copy, p)?;
    *v = copy;
    Ok(Json(vdir_json(&name, v)))
}

async fn org_config_get(State(s): State<AppState>) -> Res {
    Ok(Json(to_json(&s.org().org_config)))
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct OrgConfigPatch {
    oauth2_client_profile_enabled: Option<bool>,
    mapi_http_enabled: Option<bool>,
}

async fn org_config_patch(State(s): State<AppState>, Body(p): Body<OrgConfigPatch>) -> Res {
    let mut org = s.org_mut();
    let c: &mut OrgConfig = &mut org.org_config;
    set(
        &mut c.oauth2_client_profile_enabled,
        p.oauth2_client_profile_enabled,
    );
    set(&mut c.mapi_http_enabled, p.mapi_http_enabled);
    Ok(Json(to_json(c)))
}

fn auth_server_json(s: &AppState, a: &AuthServer) -> Value {
    let mut j = to_json(a);
    if let (Value::Object(m), Some(slot)) = (&mut j, s.metadata_slot(&a.name)) {
        let meta = match &slot.result {
            Ok(md) => json!({
                "fetched_url": slot.fetched_url,
                "fetched_at": md.fetched_at,
                "entity_id": md.entity_id,
                "tenant_id": md.tenant_id,
                "certificate_thumbprints": md.certs.iter().map(|c| c.kid.clone()).collect::<Vec<_>>(),
            }),
            Err(e) => {
                json!({"fetched_url": slot.fetched_url, "attempted_at": slot.attempted_at, "error": e})
            }
        };
        m.insert("metadata".into(), meta);
    }
    j
}

async fn auth_servers_get(State(s): State<AppState>) -> Res {
    let list = s.org().auth_servers.clone();
    Ok(Json(Value::Array(
        list.iter().map(|a| auth_server_json(&s, a)).collect(),
    )))
}

fn no_auth_server(name: &str) -> AdminError {
    not_found(format!("no AuthServer '{name}'"))
}

/// The AuthServer named `name` (any case), copied out of the organization.
fn auth_server(s: &AppState, name: &str) -> Result<AuthServer, AdminError> {
    s.org()
        .auth_servers
        .iter()
        .find(|a| a.name.eq_ignore_ascii_case(name))
        .cloned()
        .ok_or_else(|| no_auth_server(name))
}

async fn auth_server_get(State(s): State<AppState>, Path(name): Path<String>) -> Res {
    let a = auth_server(&s, &name)?;
    Ok(Json(auth_server_json(&s, &a)))
}

/// `New-AuthServer`. Refuses an AzureAD AuthServer while Exchange 2010 exists (as the Hybrid
/// wizard does) unless `force` is true.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct NewAuthServer {
    #[serde(default)]
    force: bool,
    name: String,
    #[serde(rename = "type")]
    kind: crate::model::AuthServerType,
    auth_metadata_url: String,
    #[serde(default)]
    realm: Option<String>,
    #[serde(default)]
    is_default_authorization_endpoint: bool,
    #[serde(default)]
    enabled: Option<bool>,
    #[serde(default)]
    authorization_endpoint: Option<String>,
}

async fn auth_servers_post(State(s): State<AppState>, Body(p): Body<NewAuthServer>) -> Res {
    let mut org = s.org_mut();
    if org
        .auth_servers
        .iter()
        .any(|a| a.name.eq_ignore_ascii_case(&p.name))
    {
        return Err(AdminError(
            StatusCode::CONFLICT,
            "conflict",
            format!("an AuthServer named '{}' already exists", p.name),
        ));
    }
    if p.kind == crate::model::AuthServerType::AzureAD && org.has_exchange_2010() && !p.force {
        return Err(AdminError(
            StatusCode::CONFLICT,
            "exchange_2010_present",
            "the organization has an Exchange 2010 server; OAuth with Azure AD is not supported (pass force: true to create it anyway)".into(),
        ));
    }
    let f = p;
    let a = AuthServer {
        name: f.name,
        kind: f.kind,
        auth_metadata_url: f.auth_metadata_url,
        realm: f.realm,
        is_default_authorization_endpoint: f.is_default_authorization_endpoint,
        enabled: f.enabled.unwrap_or(true),
        authorization_endpoint: f
            .authorization_endpoint
            .unwrap_or_else(|| "https://login.windows.net/common/oauth2/authorize".into()),
    };
    if a.is_default_authorization_endpoint {
        for o in &mut org.auth_servers {
            o.is_default_authorization_endpoint = false;
        }
    }
    org.auth_servers.push(a.clone());
    Ok(Json(to_json(&a)))
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct AuthServerPatch {
    auth_metadata_url: Option<String>,
    realm: Option<Option<String>>,
    is_default_authorization_endpoint: Option<bool>,
    enabled: Option<bool>,
    authorization_endpoint: Option<String>,
}

async fn auth_server_patch(
    State(s): State<AppState>,
    Path(name): Path<String>,
    Body(p): Body<AuthServerPatch>,
) -> Res {
    let a = {
        let mut org = s.org_mut();
        let idx = org
            .auth_servers
            .iter()
            .position(|a| a.name.eq_ignore_ascii_case(&name))
            .ok_or_else(|| no_auth_server(&name))?;
        if p.is_default_authorization_endpoint == Some(true) {
            for (i, o) in org.auth_servers.iter_mut().enumerate() {
                if i != idx {
                    o.is_default_authorization_endpoint = false;
                }
            }
        }
        let a = &mut org.auth_servers[idx];
        set(&mut a.auth_metadata_url, p.auth_metadata_url);
        set(&mut a.realm, p.realm);
        set(
            &mut a.is_default_authorization_endpoint,
            p.is_default_authorization_endpoint,
        );
        set(&mut a.enabled, p.enabled);
        set(&mut a.authorization_endpoint, p.authorization_endpoint);
        a.clone()
    };
    Ok(Json(auth_server_json(&s, &a)))
}

/// `Set-AuthServer <name> -RefreshAuthMetadata`: fetches now (no lock held during the fetch).
/// A failed download is an error (502 `metadata_unavailable`) even though the last good document
/// is kept and keeps validating tokens; see [`refresh_failure_message`].
async fn refresh_metadata(State(s): State<AppState>, Path(name): Path<String>) -> Res {
    let a = auth_server(&s, &name)?;
    match s.refresh_metadata_now(&a).await {
        Ok(_) => Ok(Json(auth_server_json(&s, &a))),
        Err(f) => Err(AdminError(
            StatusCode::BAD_GATEWAY,
            "metadata_unavailable",
            refresh_failure_message(&a, &f),
        )),
    }
}

/// What `Set-AuthServer -RefreshAuthMetadata` says when the download fails (inferred: no capture
/// of the real text was found). It follows Exchange's wording for the federation-metadata download
/// of `New-FederationTrust` (`Unable to access the Federation Metadata document from the federation
/// partner. Detailed information: "Unable to connect to the remote server."`), names the
/// configured `AuthMetadataUrl` (not the lab's mapped address) and gives the .NET `WebException`
/// text as the detail.
pub fn refresh_failure_message(a: &AuthServer, f: &crate::state::RefreshFailure) -> String {
    let mut m = format!(
        "Unable to access the authorization metadata document of the authorization server '{}' at '{}'. Detailed information: \"{}\"",
        a.name,
        a.auth_metadata_url,
        f.error.web_exception_message()
    );
    if f.kept_last_good {
        m.push_str(" The metadata that was read last is still used.");
    }
    m
}

async fn mailboxes(State(s): State<AppState>) -> Res {
    Ok(Json(to_json(&s.org().mailboxes)))
}

async fn mailbox(State(s): State<AppState>, Path(id): Path<String>) -> Res {
    let org = s.org();
    let by_guid = uuid::Uuid::parse_str(&id)
        .ok()
        .and_then(|g| org.mailbox_by_guid(g));
    let m = by_guid
        .or_else(|| org.mailbox_by_smtp(&id))
        .or_else(|| {
            org.account_by_logon(&id)
                .and_then(|a| org.mailbox_of_sid(&a.sid))
        })
        .ok_or_else(|| not_found(format!("no mailbox '{id}'")))?;
    Ok(Json(to_json(m)))
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct MailboxPatch {
    /// The server whose database now holds the mailbox (a move request, completed at once).
    server: String,
}

/// `PATCH /mailboxes/{id} {"server":"EX1"}`: `New-MoveRequest`, completed at once (the lab has one
/// database per server).
async fn mailbox_patch(
    State(s): State<AppState>,
    Path(id): Path<String>,
    Body(p): Body<MailboxPatch>,
) -> Res {
    let mut org = s.org_mut();
    let Some(server) = org.server(&p.server).map(|x| x.name.clone()) else {
        return Err(not_found(format!("no server '{}'", p.server)));
    };
    let idx = org
        .mailboxes
        .iter()
        .position(|m| m.primary_smtp_address.eq_ignore_ascii_case(&id) || m.guid.to_string() == id)
        .ok_or_else(|| not_found(format!("no mailbox '{id}'")))?;
    org.mailboxes[idx].server = server;
    Ok(Json(to_json(&org.mailboxes[idx])))
}

/// `POST /mailboxes` (a whole mailbox): `Enable-Mailbox` for an account that has none. The owner
/// account and the server must exist; one mailbox per account and per address.
async fn mailbox_post(State(s): State<AppState>, Body(mut m): Body<crate::model::Mailbox>) -> Res {
    let mut org = s.org_mut();
    if org.account_by_sid(&m.owner_sid).is_none() {
        return Err(not_found(format!("no account with SID '{}'", m.owner_sid)));
    }
    let Some(server) = org.server(&m.server).map(|x| x.name.clone()) else {
        return Err(not_found(format!("no server '{}'", m.server)));
    };
    if org.mailboxes.iter().any(|x| {
        x.owner_sid.eq_ignore_ascii_case(&m.owner_sid)
            || x.primary_smtp_address
                .eq_ignore_ascii_case(&m.primary_smtp_address)
            || x.guid == m.guid
    }) {
        return Err(AdminError(
            StatusCode::CONFLICT,
            "conflict",
            "the account already has a mailbox, or the address or GUID is taken".into(),
        ));
    }
    m.server = server;
    org.mailboxes.push(m.clone());
    drop(org);
    s.refresh_recipients();
    Ok(Json(to_json(&m)))
}

async fn accounts(State(s): State<AppState>) -> Res {
    Ok(Json(to_json(&s.org().accounts)))
}

fn find_account(org: &crate::model::Organization, id: &str) -> Option<usize> {
    org.accounts.iter().position(|a| {
        a.sam.eq_ignore_ascii_case(id)
            || a.upn.eq_ignore_ascii_case(id)
            || a.sid.eq_ignore_ascii_case(id)
    })
}

/// The index of the account `id` names (sam, UPN or SID), or 404.
fn account_index(org: &crate::model::Organization, id: &str) -> Result<usize, AdminError> {
    find_account(org, id).ok_or_else(|| not_found(format!("no account '{id}'")))
}

async fn account_get(State(s): State<AppState>, Path(id): Path<String>) -> Res {
    let org = s.org();
    let i = account_index(&org, &id)?;
    Ok(Json(to_json(&org.accounts[i])))
}

async fn account_post(State(s): State<AppState>, Body(a): Body<Account>) -> Res {
    let mut org = s.org_mut();
    if find_account(&org, &a.sam).is_some()
        || find_account(&org, &a.upn).is_some()
        || find_account(&org, &a.sid).is_some()
    {
        return Err(AdminError(
            StatusCode::CONFLICT,
            "conflict",
            "an account with that sam, upn or SID exists".into(),
        ));
    }
    org.accounts.push(a.clone());
    drop(org);
    s.refresh_recipients();
    Ok(Json(to_json(&a)))
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct AccountPatch {
    upn: Option<String>,
    password: Option<String>,
    display_name: Option<String>,
    enabled: Option<bool>,
}

async fn account_patch(
    State(s): State<AppState>,
    Path(id): Path<String>,
    Body(p): Body<AccountPatch>,
) -> Res {
    let mut org = s.org_mut();
    let i = account_index(&org, &id)?;
    let a = &mut org.accounts[i];
    set(&mut a.upn, p.upn);
    set(&mut a.password, p.password);
    set(&mut a.display_name, p.display_name);
    set(&mut a.enabled, p.enabled);
    let out = to_json(a);
    drop(org);
    s.refresh_recipients();
    Ok(Json(out))
}

async fn account_delete(State(s): State<AppState>, Path(id): Path<String>) -> Res {
    let mut org = s.org_mut();
    let i = account_index(&org, &id)?;
    let a = org.accounts.remove(i);
    drop(org);
    s.refresh_recipients();
    Ok(Json(json!({"deleted": a.sam})))
}

fn clock_json(s: &AppState) -> Json<Value> {
    Json(json!({"unix": s.clock.unix(), "offset_secs": s.clock.offset_secs()}))
}

async fn clock(State(s): State<AppState>) -> Res {
    Ok(clock_json(&s))
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
struct Advance {
    seconds: i64,
}

async fn clock_advance(
    State(s): State<AppState>,
    q: Result<Query<Advance>, axum::extract::rejection::QueryRejection>,
) -> Res {
    let Query(a) = q.map_err(|e| bad(format!("query: {e}")))?;
    if a.seconds < 0 {
        return Err(bad("seconds must be >= 0".into()));
    }
    s.clock
        .try_advance_secs(a.seconds)
        .map_err(|e| bad(e.to_string()))?;
    Ok(clock_json(&s))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vdir(kind: VdirKind) -> VirtualDirectory {
        let org = crate::labfile::parse_str(crate::CONTOSO_LAB, "contoso.yaml")
            .unwrap_or_else(|e| panic!("{e}"));
        org.servers
            .iter()
            .find_map(|s| s.vdir(kind).cloned())
            .unwrap_or_else(|| panic!("no {kind:?} vdir"))
    }

    fn every_switch(on: bool) -> VdirPatch {
        VdirPatch {
            basic_authentication: Some(on),
            windows_authentication: Some(on),
            oauth_authentication: Some(on),
            wssecurity_authentication: Some(on),
            digest_authentication: Some(on),
            adfs_authentication: Some(on),
            live_id_basic_authentication: Some(on),
            live_id_negotiate_authentication: Some(on),
            forms_authentication: Some(on),
            ..Default::default()
        }
    }

    fn flags(v: &VirtualDirectory) -> [bool; 9] {
        [
            v.basic_authentication,
            v.windows_authentication,
            v.oauth_authentication,
            v.wssecurity_authentication,
            v.digest_authentication,
            v.adfs_authentication,
            v.live_id_basic_authentication,
            v.live_id_negotiate_authentication,
            v.forms_authentication,
        ]
    }

    const SWITCHED: [AuthMethod; 7] = [
        AuthMethod::Basic,
        AuthMethod::Ntlm,
        AuthMethod::WindowsIntegrated,
        AuthMethod::OAuth,
        AuthMethod::WSSecurity,
        AuthMethod::Digest,
        AuthMethod::Adfs,
    ];

    #[test]
    fn each_switch_sets_its_flag_and_its_methods_except_on_mapi() {
        let mut v = vdir(VdirKind::Ews);
        apply_vdir_patch(&mut v, every_switch(false)).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(flags(&v), [false; 9]);
        for list in [
            &v.internal_authentication_methods,
            &v.external_authentication_methods,
        ] {
            assert!(SWITCHED.iter().all(|m| !list.contains(m)), "{list:?}");
        }
        apply_vdir_patch(&mut v, every_switch(true)).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(flags(&v), [true; 9]);
        for list in [
            &v.internal_authentication_methods,
            &v.external_authentication_methods,
        ] {
            assert!(SWITCHED.iter().all(|m| list.contains(m)), "{list:?}");
        }
        // MAPI's lists are only ever set explicitly.
        let mut m = vdir(VdirKind::Mapi);
        let lists = (
            m.internal_authentication_methods.clone(),
            m.external_authentication_methods.clone(),
        );
        apply_vdir_patch(&mut m, every_switch(true)).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(flags(&m), [true; 9]);
        assert_eq!(
            (
                m.internal_authentication_methods.clone(),
                m.external_authentication_methods.clone()
            ),
            lists
        );
    }
}
