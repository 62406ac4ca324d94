//! The admin API's server lifecycle: what happens to the organization's servers outside the
//! Exchange Management Shell's settings — the Hybrid Configuration Wizard's OAuth step,
//! Edge subscriptions, cumulative updates, and `iisreset` on one server.
//!
//! Each is a function on the organization's data, so the wizard's refusal ("this authentication
//! provider is not created if Exchange 2010 (this includes Edge Transport servers) is detected")
//! lives here once, whichever tool asks for it (the lab shell's `Invoke-LabHybridConfiguration`,
//! a test, a script on the admin API).

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::json;

use super::reply::{bad, no_server, not_found, to_json, AdminError, Body, Res};
use crate::model::{AuthServer, AuthServerType};
use crate::state::AppState;

/// The name the Hybrid Configuration Wizard gives the Azure AD AuthServer (the guide's check is
/// `Get-AuthServer | where {$_.Name -eq "EvoSts"}`).
pub const EVOSTS: &str = "EvoSts";

/// `?server=EX2`: one server; absent: every server.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub(super) struct OneServer {
    server: Option<String>,
}

/// `POST /iisreset[?server=NAME]`: restarts IIS on one server, or on every server.
pub(super) async fn iisreset(State(s): State<AppState>, Query(q): Query<OneServer>) -> Res {
    let names: Vec<String> = match &q.server {
        Some(name) => {
            let org = s.org();
            let sv = org.server(name).ok_or_else(|| no_server(name))?;
            vec![sv.name.clone()]
        }
        None => s.org().servers.iter().map(|sv| sv.name.clone()).collect(),
    };
    for n in &names {
        s.iisreset_server(n);
    }
    let taken_at = names
        .first()
        .and_then(|n| s.effective_snapshot_of(n))
        .map(|e| e.taken_at)
        .unwrap_or_else(|| s.clock.unix());
    Ok(Json(
        json!({"iisreset": "ok", "servers": names, "taken_at": taken_at}),
    ))
}

/// `GET /effective[?server=NAME]`: what one server's serving path applies (default: the first
/// server), refreshed exactly as a request to it would.
pub(super) async fn effective(State(s): State<AppState>, Query(q): Query<OneServer>) -> Res {
    let name = match &q.server {
        Some(n) => s
            .org()
            .server(n)
            .map(|sv| sv.name.clone())
            .ok_or_else(|| no_server(n))?,
        None => s.first_server(),
    };
    let org = s.effective_for(&name);
    let taken_at = s
        .effective_snapshot_of(&name)
        .map(|e| e.taken_at)
        .unwrap_or_else(|| s.clock.unix());
    Ok(Json(json!({
        "server": name,
        "taken_at": taken_at,
        "settings_cache_seconds": org.settings_cache_seconds,
        "organization": to_json(&*org),
    })))
}

/// `POST /hybrid-configuration`: the Hybrid Configuration Wizard's OAuth step. It creates the
/// `EvoSts` AuthServer (Azure AD, metadata of the organization's domain, not the default
/// authorization endpoint: that is the administrator's step) unless an Exchange 2010 server —
/// Edge Transport included — is in the organization; then it refuses and creates nothing.
pub(super) async fn hybrid_configuration(State(s): State<AppState>) -> Res {
    let mut org = s.org_mut();
    let old = org.exchange_2010_names();
    if !old.is_empty() {
        return Err(AdminError(
            StatusCode::CONFLICT,
            "exchange_2010_present",
            format!(
                "Exchange 2010 was detected in the organization ({}); the EvoSts authentication server was not created. Remove the Exchange 2010 servers (Edge Transport servers included) and run the wizard again.",
                old.join(", ")
            ),
        ));
    }
    if let Some(a) = org
        .auth_servers
        .iter()
        .find(|a| a.name.eq_ignore_ascii_case(EVOSTS))
    {
        return Ok(Json(json!({"created": false, "auth_server": to_json(a)})));
    }
    let a = AuthServer {
        name: EVOSTS.into(),
        kind: AuthServerType::AzureAD,
        auth_metadata_url: format!(
            "https://login.windows.net/{}/federationmetadata/2007-06/federationmetadata.xml",
            org.domain
        ),
        realm: None,
        is_default_authorization_endpoint: false,
        enabled: true,
        authorization_endpoint: "https://login.windows.net/common/oauth2/authorize".into(),
    };
    org.auth_servers.push(a.clone());
    Ok(Json(json!({"created": true, "auth_server": to_json(&a)})))
}

/// `GET /edge-subscriptions`: the Edge Transport servers subscribed to the organization.
pub(super) async fn edge_subscriptions(State(s): State<AppState>) -> Res {
    Ok(Json(to_json(&s.org().edge_servers)))
}

/// `DELETE /edge-subscriptions/{name}`: `Remove-EdgeSubscription`.
pub(super) async fn edge_subscription_delete(
    State(s): State<AppState>,
    Path(name): Path<String>,
) -> Res {
    let mut org = s.org_mut();
    let i = org
        .edge_servers
        .iter()
        .position(|e| e.name.eq_ignore_ascii_case(&name) || e.fqdn.eq_ignore_ascii_case(&name))
        .ok_or_else(|| not_found(format!("no Edge subscription '{name}'")))?;
    let e = org.edge_servers.remove(i);
    Ok(Json(json!({"deleted": e.name})))
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct CumulativeUpdate {
    cu: u16,
}

/// `POST /servers/{server}/cumulative-update` `{"cu": 19}`: Setup's `/Mode:Upgrade` to a newer
/// CU of the same version. Setup restarts the server's services, so its settings are re-read.
pub(super) async fn cumulative_update(
    State(s): State<AppState>,
    Path(server): Path<String>,
    Body(p): Body<CumulativeUpdate>,
) -> Res {
    let name = {
        let mut org = s.org_mut();
        let sv = org.server_mut(&server).ok_or_else(|| no_server(&server))?;
        let known: Vec<u16> = sv.version.known_cus().collect();
        if !known.contains(&p.cu) {
            return Err(bad(format!(
                "Exchange {} has no CU{} the lab knows (known: {})",
                version_name(sv.version),
                p.cu,
                known
                    .iter()
                    .map(|c| format!("CU{c}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        if sv.cu().is_some_and(|now| p.cu < now) {
            return Err(AdminError(
                StatusCode::CONFLICT,
                "downgrade",
                format!(
                    "{} already runs CU{}; Setup cannot go back to CU{}",
                    sv.name,
                    sv.cu().unwrap_or_default(),
                    p.cu
                ),
            ));
        }
        sv.cu = Some(p.cu);
        sv.name.clone()
    };
    s.iisreset_server(&name);
    let org = s.org();
    let sv = org.server(&name).ok_or_else(|| no_server(&name))?;
    Ok(Json(json!({
        "server": sv.name,
        "cu": sv.cu(),
        "admin_display_version": sv.admin_display_version(),
    })))
}

fn version_name(v: crate::model::ExchangeVersion) -> &'static str {
    match v {
        crate::model::ExchangeVersion::Ex2016 => "2016",
        crate::model::ExchangeVersion::Ex2013 => "2013",
        crate::model::ExchangeVersion::Ex2010 => "2010",
    }
}
