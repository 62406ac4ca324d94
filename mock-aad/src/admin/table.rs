//! The admin API's one table: each path with its handlers and their description, from which
//! both the router (`super::routes`) and the OpenAPI 3.1 document are built
//! ([`lab_kit::openapi`]), so neither can hold a route the other lacks. A body the handler takes
//! as free JSON (a partial object for a PATCH, a user or application whose ids the service
//! fills in) is documented as the `Value` it is parsed into.

use axum::routing::{delete, get, patch, post, put};
use lab_kit::openapi::Method::{Delete, Get, Patch, Post, Put};
use lab_kit::openapi::{op, op_body, Documented, RouteDoc};
use serde_json::Value;

use super::apps::{SpnEdit, SpnReplace};
use super::identity::{AgentBody, FederationSettings, SyncedUser};
use super::users::{PasswordBody, TenantRevokeBody};
use super::*;
use crate::fault_rules::NewRule;
use crate::model::{CaRule, Directory, Domain};
use crate::token::forge::ForgeRequest;

pub(super) const TITLE: &str = "mock-aad admin API";

/// The admin API's OpenAPI 3.1 document (served at `/_admin/openapi.json`).
pub fn openapi() -> Value {
    table().finish(TITLE, "/_admin").1
}

/// The admin routes and their documented methods, `/openapi.json` included.
pub fn route_docs() -> Vec<RouteDoc> {
    table().finish(TITLE, "/_admin").2
}

/// A PATCH of a partial object.
const PATCHED: &[u16] = &[200, 400, 404, 409];
/// A read of something in a tenant.
const READ: &[u16] = &[200, 404];

pub(super) fn table() -> Documented<AppState> {
    Documented::new()
        .route("/directory", get(directory_get).put(directory_put), &[
            op(Get, "The whole directory, as a lab file writes it", &[200]),
            op_body::<Directory>(Put, "Replace the directory (JSON, or YAML with a yaml content type), checked with the lab-file rules", &[200, 400, 409]),
        ])
        .route("/tenants", get(tenants_list), &[op(Get, "The tenants", &[200])])
        .route("/tenants/{t}", get(tenant_get), &[op(Get, "One tenant (by id or domain)", READ)])
        .route("/tenants/{t}/domains", get(domains_list).post(domain_add), &[
            op(Get, "Get-MsolDomain", READ),
            op_body::<Domain>(Post, "New-MsolDomain", &[201, 400, 404, 409]),
        ])
        .route("/tenants/{t}/domains/{name}", get(domain_get).patch(domain_patch).delete(domain_delete), &[
            op(Get, "Get-MsolDomain -DomainName", READ),
            op_body::<Value>(Patch, "Change a domain (a partial domain object)", PATCHED),
            op(Delete, "Remove-MsolDomain", &[204, 404, 409]),
        ])
        .route("/tenants/{t}/msol-domains", get(msol_domains), &[op(Get, "Get-MsolDomain, in the cmdlet's property names", READ)])
        .route("/tenants/{t}/domains/{name}/authentication", get(authentication_get).put(authentication_put), &[
            op(Get, "Get-MsolDomainAuthentication", READ),
            op_body::<Value>(Put, "Set-MsolDomainAuthentication (Managed, or Federated with its settings)", PATCHED),
        ])
        .route("/tenants/{t}/domains/{name}/federation-settings", get(federation_get).patch(federation_patch), &[
            op(Get, "Get-MsolDomainFederationSettings (409: the domain is not federated)", &[200, 404, 409]),
            op_body::<FederationSettings>(Patch, "Set-MsolDomainFederationSettings", PATCHED),
        ])
        .route("/tenants/{t}/pta-agent", get(agent_get).put(agent_put), &[
            op(Get, "The pass-through authentication agent's state", READ),
            op_body::<AgentBody>(Put, "Set the pass-through authentication agent's state", &[200, 400, 404]),
        ])
        .route("/tenants/{t}/synced-users/{upn}", put(synced_put).delete(synced_delete), &[
            op_body::<SyncedUser>(Put, "Azure AD Connect exports a user (201: new, 200: matched)", &[200, 201, 400, 404, 409]),
            op(Delete, "Azure AD Connect deletes a synced user", &[204, 404, 409]),
        ])
        .route("/tenants/{t}/synced-users/{upn}/on-premises", patch(onprem_patch), &[
            op_body::<Value>(Patch, "Change a synced user's on-premises attributes", PATCHED),
        ])
        .route("/tenants/{t}/users", get(users_list).post(user_add), &[
            op(Get, "Get-MsolUser [-DomainName D]", READ),
            op_body::<Value>(Post, "New-MsolUser (oid, puid and password filled in when absent)", &[201, 400, 404, 409]),
        ])
        .route("/tenants/{t}/users/{upn}", get(user_get).patch(user_patch).delete(user_delete), &[
            op(Get, "Get-MsolUser -UserPrincipalName", READ),
            op_body::<Value>(Patch, "Set-MsolUser (a partial user object)", PATCHED),
            op(Delete, "Remove-MsolUser", &[204, 404, 409]),
        ])
        .route("/tenants/{t}/users/{upn}/password", post(user_password), &[
            op_body::<PasswordBody>(Post, "Set-MsolUserPassword (TokensValidFrom = now; the body is optional)", &[200, 400, 404]),
        ])
        .route("/tenants/{t}/users/{upn}/revoke", post(user_revoke), &[
            op(Post, "Revoke-AzureADUserAllRefreshToken", READ),
        ])
        .route("/tenants/{t}/revoke", post(tenant_revoke), &[
            op_body::<TenantRevokeBody>(Post, "Revoke every refresh token of the tenant (the body is optional)", &[200, 400, 404]),
        ])
        .route("/tenants/{t}/service-principals", get(sp_list), &[op(Get, "Get-MsolServicePrincipal", READ)])
        .route("/tenants/{t}/service-principals/{app}", get(sp_get), &[
            op(Get, "Get-MsolServicePrincipal -AppPrincipalId", &[200, 400, 404]),
        ])
        .route("/tenants/{t}/service-principals/{app}/service-principal-names", put(spn_replace).post(spn_edit), &[
            op_body::<SpnReplace>(Put, "Set-MsolServicePrincipal -ServicePrincipalNames", PATCHED),
            op_body::<SpnEdit>(Post, "Add and remove service principal names, then Set-MsolServicePrincipal", PATCHED),
        ])
        .route("/tenants/{t}/applications", get(apps_list).post(app_add), &[
            op(Get, "The tenant's applications", READ),
            op_body::<Value>(Post, "Add an application (app_id filled in when absent)", &[201, 400, 404, 409]),
        ])
        .route("/tenants/{t}/applications/{app}", get(app_get).patch(app_patch).delete(app_delete), &[
            op(Get, "One application", &[200, 400, 404]),
            op_body::<Value>(Patch, "Change an application (a partial application object)", PATCHED),
            op(Delete, "Remove an application", &[204, 400, 404, 409]),
        ])
        .route("/tenants/{t}/conditional-access", get(ca_list).post(ca_add), &[
            op(Get, "The conditional access rules", READ),
            op_body::<CaRule>(Post, "Add a conditional access rule", &[201, 400, 404, 409]),
        ])
        .route("/tenants/{t}/conditional-access/{name}", get(ca_get).patch(ca_patch).delete(ca_delete), &[
            op(Get, "One conditional access rule", READ),
            op_body::<Value>(Patch, "Change a conditional access rule (a partial rule object)", PATCHED),
            op(Delete, "Remove a conditional access rule", &[204, 404]),
        ])
        .route("/tenants/{t}/token-lifetimes", get(lifetimes_get).patch(lifetimes_patch), &[
            op(Get, "The tenant's token lifetimes", READ),
            op_body::<Value>(Patch, "Change token lifetimes (a partial object)", &[200, 400, 404]),
        ])
        .route("/keys", get(keys_list), &[op(Get, "The signing keys (published, retired, next)", &[200])])
        .route("/keys/roll", post(keys_roll), &[op(Post, "Roll the signing key over", &[200, 500])])
        .route("/keys/add", post(keys_add), &[op(Post, "Publish a next key without signing with it", &[200, 500])])
        .route("/keys/{kid}/retire", post(keys_retire), &[op(Post, "Retire a key", &[200, 404, 409, 500])])
        .route("/forge", post(forge), &[
            op_body::<ForgeRequest>(Post, "The token forge: an access token with one chosen flaw", &[200, 400, 404]),
        ])
        .route("/clock", get(clock_get), &[op(Get, "The lab clock", &[200])])
        .route("/clock/advance", post(clock_advance), &[op(Post, "Move the lab clock by ?seconds=N (may be negative, at most a century)", &[200, 400])])
        .route("/grants", get(grants_get).delete(grants_delete), &[
            op(Get, "What the grant store holds (refresh tokens, codes, device codes)", &[200]),
            op(Delete, "Forget every grant", &[200]),
        ])
        .route("/faults", get(faults_list).post(faults_add).delete(faults_clear), &[
            op(Get, "The fault rules", &[200]),
            op_body::<NewRule>(Post, "Add a fault rule", &[201, 400]),
            op(Delete, "Remove every fault rule", &[200]),
        ])
        .route("/faults/{id}", delete(fault_delete), &[op(Delete, "Remove one fault rule (400: not a rule id)", &[204, 400, 404])])
}
