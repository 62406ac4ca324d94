//! The admin API's one table: each path with its handlers and their description, from which
//! both the router (`super::routes`) and the OpenAPI 3.1 document are built
//! ([`lab_kit::openapi`]), so neither can hold a route the other lacks.

use axum::routing::{delete, get, post};
use lab_kit::openapi::Method::{Delete, Get, Patch, Post};
use lab_kit::openapi::{op, op_body, Documented, RouteDoc};
use serde_json::Value;

use super::*;
use crate::state::AppState;

/// Every admin route with its description: the router and the OpenAPI document both come
/// from this one table ([`lab_kit::openapi`]).
pub(super) fn table() -> Documented<AppState> {
    Documented::new()
        .route(
            "/organization",
            get(organization),
            &[op(
                Get,
                "The whole organization, as a lab file writes it",
                &[200],
            )],
        )
        .route(
            "/effective",
            get(servers::effective),
            &[op(
                Get,
                "What each server serves now (its settings cache); ?server=NAME for one",
                &[200, 404],
            )],
        )
        .route(
            "/servers",
            get(servers),
            &[op(Get, "Get-ExchangeServer", &[200])],
        )
        .route(
            "/servers/{server}",
            delete(server_delete),
            &[op(
                Delete,
                "Remove a server (it may hold no mailbox)",
                &[200, 404, 409],
            )],
        )
        .route(
            "/vdirs/{kind}",
            get(vdirs_of_kind),
            &[op(
                Get,
                "Get-*VirtualDirectory on every server",
                &[200, 404],
            )],
        )
        .route(
            "/servers/{server}/vdirs/{kind}",
            get(vdir_get).patch(vdir_patch),
            &[
                op(Get, "Get-*VirtualDirectory -Server", &[200, 404]),
                op_body::<VdirPatch>(Patch, "Set-*VirtualDirectory", &[200, 400, 404]),
            ],
        )
        .route(
            "/org-config",
            get(org_config_get).patch(org_config_patch),
            &[
                op(Get, "Get-OrganizationConfig", &[200]),
                op_body::<OrgConfigPatch>(Patch, "Set-OrganizationConfig", &[200, 400]),
            ],
        )
        .route(
            "/auth-servers",
            get(auth_servers_get).post(auth_servers_post),
            &[
                op(Get, "Get-AuthServer", &[200]),
                op_body::<NewAuthServer>(Post, "New-AuthServer", &[200, 400, 409]),
            ],
        )
        .route(
            "/auth-servers/{name}",
            get(auth_server_get).patch(auth_server_patch),
            &[
                op(Get, "Get-AuthServer NAME", &[200, 404]),
                op_body::<AuthServerPatch>(Patch, "Set-AuthServer NAME", &[200, 400, 404, 409]),
            ],
        )
        .route(
            "/auth-servers/{name}/refresh-metadata",
            post(refresh_metadata),
            &[op(
                Post,
                "Set-AuthServer NAME -RefreshAuthMetadata (502: the download failed)",
                &[200, 404, 502],
            )],
        )
        .route(
            "/mailboxes",
            get(mailboxes).post(mailbox_post),
            &[
                op(Get, "Get-Mailbox", &[200]),
                op_body::<crate::model::Mailbox>(
                    Post,
                    "Enable-Mailbox: a mailbox for an account that has none",
                    &[200, 400, 404, 409],
                ),
            ],
        )
        .route(
            "/mailboxes/{id}",
            get(mailbox).patch(mailbox_patch),
            &[
                op(Get, "Get-Mailbox ID", &[200, 404]),
                op_body::<MailboxPatch>(
                    Patch,
                    "Move a mailbox to another server",
                    &[200, 400, 404],
                ),
            ],
        )
        .route(
            "/accounts",
            get(accounts).post(account_post),
            &[
                op(Get, "The on-premises accounts", &[200]),
                op_body::<Account>(Post, "Add an on-premises account", &[200, 400, 409]),
            ],
        )
        .route(
            "/accounts/{id}",
            get(account_get).patch(account_patch).delete(account_delete),
            &[
                op(Get, "One on-premises account", &[200, 404]),
                op_body::<AccountPatch>(Patch, "Change an on-premises account", &[200, 400, 404]),
                op(Delete, "Remove an on-premises account", &[200, 404]),
            ],
        )
        .route(
            "/iisreset",
            post(servers::iisreset),
            &[op(
                Post,
                "iisreset on every server, or ?server=NAME",
                &[200, 404],
            )],
        )
        .route(
            "/hybrid-configuration",
            post(servers::hybrid_configuration),
            &[op(
                Post,
                "The Hybrid Configuration Wizard's OAuth step (409: it refuses)",
                &[200, 409],
            )],
        )
        .route(
            "/edge-subscriptions",
            get(servers::edge_subscriptions),
            &[op(Get, "Get-EdgeSubscription", &[200])],
        )
        .route(
            "/edge-subscriptions/{name}",
            delete(servers::edge_subscription_delete),
            &[op(Delete, "Remove-EdgeSubscription NAME", &[200, 404])],
        )
        .route(
            "/servers/{server}/cumulative-update",
            post(servers::cumulative_update),
            &[op_body::<servers::CumulativeUpdate>(
                Post,
                "Install a newer cumulative update (Setup /Mode:Upgrade)",
                &[200, 400, 404, 409],
            )],
        )
        .route("/clock", get(clock), &[op(Get, "The lab clock", &[200])])
        .route(
            "/clock/advance",
            post(clock_advance),
            &[op(
                Post,
                "Move the lab clock by ?seconds=N (N >= 0)",
                &[200, 400],
            )],
        )
}

pub(super) const TITLE: &str = "mock-exchange admin API";

/// The admin API's OpenAPI 3.1 document (served at `/_admin/openapi.json`).
pub fn openapi() -> Value {
    table().finish(TITLE, "/_admin").1
}

/// The admin routes and their documented methods, `/openapi.json` included.
pub fn route_docs() -> Vec<RouteDoc> {
    table().finish(TITLE, "/_admin").2
}
