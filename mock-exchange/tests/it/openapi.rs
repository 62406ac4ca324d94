//! The admin API and its OpenAPI document agree (`lab_kit::testkit::openapi`): the checked-in
//! `openapi/mock-exchange.json` is current, lists every route of the router, and a sample call
//! to each, on a fresh contoso organization, answers as documented.

use lab_kit::openapi::Method;
use lab_kit::testkit::openapi::{check_answers, check_document, check_paths};

use crate::common::*;

fn call(
    m: Method,
    path: &str,
    token: Option<&str>,
    body: String,
) -> axum::http::Request<axum::body::Body> {
    let mut b = req(m.as_str(), "127.0.0.1", path).header("content-type", "application/json");
    if let Some(t) = token {
        b = b.header("authorization", format!("Bearer {t}"));
    }
    b.body(axum::body::Body::from(body))
        .unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn the_checked_in_document_is_current_and_lists_every_route() {
    let doc = mock_exchange::admin::openapi();
    check_document("mock-exchange", &doc);
    check_paths(&doc, &mock_exchange::admin::route_docs());
    assert_eq!(doc["openapi"], "3.1.0");
}

#[tokio::test]
async fn every_documented_call_answers_as_documented() {
    let routes = mock_exchange::admin::route_docs();
    let fill = |p: &str| {
        p.replace("{server}", "EX1")
            .replace("{kind}", "mapi")
            .replace("/auth-servers/{name}", "/auth-servers/EvoSts")
            .replace("/edge-subscriptions/{name}", "/edge-subscriptions/EdgeSync")
            .replace("{id}", "GregT@contoso.com")
            .replace("/clock/advance", "/clock/advance?seconds=60")
    };
    let body = |m: Method, p: &str| {
        match (m, p) {
            (Method::Patch, "/servers/{server}/vdirs/{kind}") => r#"{"oauth_authentication":true}"#,
            (Method::Patch, "/org-config") => r#"{"oauth2_client_profile_enabled":true}"#,
            (Method::Patch, "/mailboxes/{id}") => r#"{"server":"EX1"}"#,
            (Method::Post, "/servers/{server}/cumulative-update") => r#"{"cu":23}"#,
            (Method::Post | Method::Put | Method::Patch, _) => "{}",
            _ => "",
        }
        .to_string()
    };
    let n = check_answers(&routes, fill, body, |m, path, body| async move {
        let lab = Lab::new(contoso(), None);
        let r = lab
            .send(
                "EX1",
                call(m, &format!("/_admin{path}"), Some("admin-secret"), body),
            )
            .await;
        r.status
    })
    .await;
    assert_eq!(n, routes.len() * Method::ALL.len());
}

#[tokio::test]
async fn the_document_is_served_behind_the_admin_guard() {
    let lab = Lab::new(contoso(), None);
    let r = lab
        .send(
            "EX1",
            call(Method::Get, "/_admin/openapi.json", None, String::new()),
        )
        .await;
    assert_eq!(r.status, 401);
    let r = lab
        .send(
            "EX1",
            call(
                Method::Get,
                "/_admin/openapi.json",
                Some("admin-secret"),
                String::new(),
            ),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json(), mock_exchange::admin::openapi());
}
