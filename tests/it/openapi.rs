//! `hma-lab serve`'s admin API and its OpenAPI document agree: the checked-in
//! `openapi/hma-lab-serve.json` is current and lists every call of the table, the hand-written
//! dispatcher (`src/frontdoor/admin.rs`) has an arm for exactly the calls the table lists, and a
//! sample call to each, on a running front door, answers as documented.

use std::collections::BTreeSet;

use hma_lab::frontdoor::{admin, FrontDoor, Options};
use hma_lab::lab::{Lab, LabFile};
use lab_kit::openapi::Method;
use lab_kit::testkit::openapi::{check_answers, check_document, check_paths};
use lab_kit::Clock;

async fn door() -> FrontDoor {
    let lab = Lab::start_file(
        LabFile::builtin("contoso").unwrap(),
        Clock::frozen_at_unix(1_510_864_576),
    )
    .await
    .unwrap();
    let dir = std::env::temp_dir().join(format!("hma-lab-openapi-{}", uuid::Uuid::new_v4()));
    FrontDoor::start(lab, Options::loopback(dir)).await.unwrap()
}

#[test]
fn the_checked_in_document_is_current_and_lists_every_call() {
    let doc = admin::openapi();
    check_document("hma-lab-serve", &doc);
    check_paths(&doc, &admin::route_docs());
    assert_eq!(doc["openapi"], "3.1.0");
}

/// The dispatcher is a `match` on (method, path), not a router with a route list; its arms are
/// read from its source and must be the table's calls, one for one.
#[test]
fn the_dispatcher_answers_exactly_the_documented_calls() {
    let src = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/frontdoor/admin.rs"),
    )
    .unwrap();
    let arm = regex::Regex::new(r#"\(Method::([A-Z]+), "(/[^"]*)"\)"#).unwrap();
    let mut handled: BTreeSet<(String, String)> = arm
        .captures_iter(&src)
        .map(|c| (c[1].to_string(), c[2].to_string()))
        .collect();
    // The health check is answered before the guard, outside the match.
    assert!(src.contains(r#"req.method() == Method::GET && req.uri().path() == "/healthz""#));
    handled.insert(("GET".into(), "/healthz".into()));
    let documented: BTreeSet<(String, String)> = admin::route_docs()
        .iter()
        .flat_map(|r| {
            r.ops
                .iter()
                .map(|o| (o.method.as_str().to_string(), r.path.clone()))
        })
        .collect();
    assert_eq!(handled, documented);
}

#[tokio::test]
async fn every_documented_call_answers_as_documented() {
    let door = door().await;
    let base = format!("http://{}", door.admin_addr());
    let token = door.admin_token().to_string();
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let routes = admin::route_docs();
    let fill = |p: &str| match p {
        "/clock/advance" => "/clock/advance?seconds=60".to_string(),
        p => p.to_string(),
    };
    let body = |m: Method, p: &str| {
        match (m, p) {
            (Method::Post, "/cmdlet") => "Get-OrganizationConfig",
            (Method::Post, "/network") => r#"{"client_segment":{"blocked":[]}}"#,
            (Method::Post, "/certificates") => r#"{"host":"mail.contoso.com","fault":null}"#,
            _ => "",
        }
        .to_string()
    };
    let n = check_answers(&routes, fill, body, |m, path, body| {
        let req = http
            .request(m.as_str().parse().unwrap(), format!("{base}{path}"))
            .bearer_auth(&token)
            .body(body);
        async move { req.send().await.unwrap().status().as_u16() }
    })
    .await;
    assert_eq!(n, routes.len() * Method::ALL.len());

    // Served behind the guard, and the same document.
    let r = http
        .get(format!("{base}/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = http
        .get(format!("{base}/openapi.json"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.json::<serde_json::Value>().await.unwrap(),
        admin::openapi()
    );
    door.shutdown().await;
}
