//! The admin API (`/_admin/...`): how a lab, a test or the cmdlet shell changes the directory,
//! the keys, the clock, the grant store and the fault rules of a running mock-aad.
//!
//! It is shaped so that each MSOnline/AzureAD cmdlet the field guide uses is ONE call:
//! `Set-MsolUserPassword` is `POST …/users/{upn}/password` (password and TokensValidFrom in one
//! step), `Get-MsolServicePrincipal -AppPrincipalId` is `GET …/service-principals/{appId}` (answered
//! in the cmdlet's own property names), `Set-MsolServicePrincipal -ServicePrincipalNames` is
//! `PUT …/service-principal-names`, `Revoke-AzureADUserAllRefreshToken` is `POST …/revoke`.
//!
//! Every call is loopback-only and needs `Authorization: Bearer <admin_token>` (checked by one
//! middleware, [`guard`], in front of every route including the fallback). Bodies are JSON in and
//! out; every error is `{"error":"…","message":"…"}` — bad JSON included, with its line and
//! column, never axum's plain-text rejection. An edit is applied to a copy of the directory, the
//! copy is checked with the lab-file rules ([`crate::labfile::check`]), and only a valid copy
//! replaces the live one, so the service never serves a directory a lab file could not express.
//! Changes take effect for the very next request: handlers read the shared state on every call.
//!
//! This file holds the routes and the access control; the calls live by what they change:
//! `directory` (directory, tenants, domains, token lifetimes), `identity` (domain
//! authentication, federation settings, the pass-through agent, synced users), `users`, `apps`
//! (applications, service principals, conditional access), `service` (keys, the token forge,
//! clock, grants, faults), with
//! `errors` (the error body and extractors) and `edit` (checked edits of a tenant) under them;
//! `table` lists every route with its description, for the router and for `GET /openapi.json`
//! (OpenAPI 3.1).

mod apps;
mod directory;
mod edit;
mod errors;
mod identity;
mod service;
mod table;
mod users;

pub use table::{openapi, route_docs};
use table::{table, TITLE};

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::header;
use axum::middleware::{from_fn_with_state, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;

use crate::admin::apps::{
    app_add, app_delete, app_get, app_patch, apps_list, ca_add, ca_delete, ca_get, ca_list,
    ca_patch, sp_get, sp_list, spn_edit, spn_replace,
};
use crate::admin::directory::{
    directory_get, directory_put, domain_add, domain_delete, domain_get, domain_patch,
    domains_list, lifetimes_get, lifetimes_patch, tenant_get, tenants_list,
};
use crate::admin::errors::{method_not_allowed, no_such_call};
use crate::admin::identity::{
    agent_get, agent_put, authentication_get, authentication_put, federation_get, federation_patch,
    msol_domains, onprem_patch, synced_delete, synced_put,
};
use crate::admin::service::{
    clock_advance, clock_get, fault_delete, faults_add, faults_clear, faults_list, forge,
    grants_delete, grants_get, keys_add, keys_list, keys_retire, keys_roll,
};
use crate::admin::users::{
    tenant_revoke, user_add, user_delete, user_get, user_password, user_patch, user_revoke,
    users_list,
};
use crate::state::AppState;

pub use apps::{sp_json, sp_object_id};
pub use errors::{AdminError, AdminJson, AdminPath, OptionalJson};

/// The admin routes; `lib.rs` nests them under `/_admin`. Built from [`table`], which also
/// makes the OpenAPI document ([`openapi`]).
pub fn routes(state: AppState) -> Router<AppState> {
    table()
        .router(TITLE, "/_admin")
        .fallback(no_such_call)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(from_fn_with_state(state, guard))
}

// ------------------------------------------------------------------ access control

/// The one admin guard ([`lab_kit::admin`]) in front of every admin route.
pub async fn guard(State(s): State<AppState>, req: Request, next: Next) -> Response {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0);
    if let Err(refusal) = lab_kit::admin::check(peer, req.headers(), &s.admin_token) {
        let mut resp =
            AdminError::new(refusal.status(), refusal.error(), refusal.message()).into_response();
        if let Some(challenge) = refusal.challenge("mock-aad admin") {
            resp.headers_mut()
                .insert(header::WWW_AUTHENTICATE, challenge);
        }
        return resp;
    }
    next.run(req).await
}
