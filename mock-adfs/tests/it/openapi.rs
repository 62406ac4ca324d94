//! The admin API and its OpenAPI document agree (`lab_kit::testkit::openapi`): the checked-in
//! `openapi/mock-adfs.json` is current, lists every route of the router, and a sample call to
//! each answers as documented.

use lab_kit::openapi::Method;
use lab_kit::testkit::openapi::{check_answers, check_document, check_paths};

use crate::common::*;

#[test]
fn the_checked_in_document_is_current_and_lists_every_route() {
    let doc = mock_adfs::admin::openapi();
    check_document("mock-adfs", &doc);
    check_paths(&doc, &mock_adfs::admin::route_docs());
    assert_eq!(doc["openapi"], "3.1.0");
}

#[tokio::test]
async fn every_documented_call_answers_as_documented() {
    let routes = mock_adfs::admin::route_docs();
    let farm = {
        let h = start().await;
        let (k, v) = admin(&h);
        request(&h, "GET", "/_admin/farm", &[(k, &v)], "")
            .await
            .body
    };
    let body = |m: Method, path: &str| match (m, path) {
        (Method::Patch, "/properties") => r#"{"ExtendedProtectionTokenCheck":"None"}"#.to_string(),
        (Method::Post, "/certificates/update") => r#"{"Urgent":true}"#.to_string(),
        (Method::Put, "/farm") => farm.clone(),
        _ => String::new(),
    };
    let n = check_answers(
        &routes,
        |p| match p {
            "/clock/advance" => "/clock/advance?seconds=60".to_string(),
            p => p.to_string(),
        },
        body,
        |m, path, body| async move {
            let h = start().await;
            let (k, v) = admin(&h);
            let r = request(&h, m.as_str(), &format!("/_admin{path}"), &[(k, &v)], &body).await;
            r.status
        },
    )
    .await;
    assert_eq!(n, routes.len() * Method::ALL.len());
}

#[tokio::test]
async fn the_document_is_served_behind_the_admin_guard() {
    let h = start().await;
    let r = request(&h, "GET", "/_admin/openapi.json", &[], "").await;
    assert_eq!(r.status, 401);
    let (k, v) = admin(&h);
    let r = request(&h, "GET", "/_admin/openapi.json", &[(k, &v)], "").await;
    assert_eq!(r.status, 200);
    let served: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(served, mock_adfs::admin::openapi());
}
