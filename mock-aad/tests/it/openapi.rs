//! The admin API and its OpenAPI document agree (`lab_kit::testkit::openapi`): the checked-in
//! `openapi/mock-aad.json` is current, lists every route of the router, and a sample call to
//! each, on a fresh contoso directory, answers as documented.

use axum::body::Body;
use axum::http::Request;
use lab_kit::openapi::Method;
use lab_kit::testkit::openapi::{check_answers, check_document, check_paths};

use crate::admin::{lab, EXCHANGE, TID, TOKEN};

fn call(m: Method, path: &str, token: Option<&str>, body: String) -> Request<Body> {
    let mut b = Request::builder().method(m.as_str()).uri(path);
    if let Some(t) = token {
        b = b.header("authorization", format!("Bearer {t}"));
    }
    if !body.is_empty() {
        b = b.header("content-type", "application/json");
    }
    b.body(Body::from(body)).unwrap()
}

#[test]
fn the_checked_in_document_is_current_and_lists_every_route() {
    let doc = mock_aad::admin::openapi();
    check_document("mock-aad", &doc);
    check_paths(&doc, &mock_aad::admin::route_docs());
    assert_eq!(doc["openapi"], "3.1.0");
}

#[tokio::test]
async fn every_documented_call_answers_as_documented() {
    let routes = mock_aad::admin::route_docs();
    let fill = |p: &str| {
        p.replace("{t}", TID)
            .replace("/domains/{name}", "/domains/contoso.com")
            .replace(
                "/conditional-access/{name}",
                "/conditional-access/Block-Legacy",
            )
            .replace("{upn}", "GregT@contoso.com")
            .replace("{app}", EXCHANGE)
            .replace("{kid}", "no-such-kid")
            .replace("{id}", "no-such-rule")
            .replace("/clock/advance", "/clock/advance?seconds=60")
    };
    let body = |m: Method, p: &str| {
        match (m, p) {
            (Method::Get | Method::Delete, _) => "",
            (Method::Put, "/directory") => "{}",
            (Method::Put, "/tenants/{t}/pta-agent") => r#"{"state":"down"}"#,
            (Method::Post, "/tenants/{t}/users/{upn}/password") => r#"{"password":"N3w-Passw0rd!"}"#,
            (Method::Post, "/forge") => {
                r#"{"user":"GregT@contoso.com","resource":"https://mail.contoso.com/","flaw":"expired"}"#
            }
            _ => "{}",
        }
        .to_string()
    };
    let n = check_answers(&routes, fill, body, |m, path, body| async move {
        let state = lab();
        let r = crate::common::send(
            &state,
            call(m, &format!("/_admin{path}"), Some(TOKEN), body),
        )
        .await;
        r.status.as_u16()
    })
    .await;
    assert_eq!(n, routes.len() * Method::ALL.len());
}

#[tokio::test]
async fn the_document_is_served_behind_the_admin_guard() {
    let state = lab();
    let r = crate::common::send(
        &state,
        call(Method::Get, "/_admin/openapi.json", None, String::new()),
    )
    .await;
    assert_eq!(r.status, 401);
    let r = crate::common::send(
        &state,
        call(
            Method::Get,
            "/_admin/openapi.json",
            Some(TOKEN),
            String::new(),
        ),
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json(), mock_aad::admin::openapi());
}
