//! Checking an admin API against its OpenAPI document, the same way for every service: the
//! checked-in `openapi/<service>.json` equals the document the code builds
//! (`UPDATE_OPENAPI=1` rewrites it), and a sample request to every documented method of every
//! route answers one of the statuses documented for it, while every method a route does not
//! document answers 405 — so the router holds no method the document leaves out.
//!
//! The service's test supplies how to fill a path's `{parameters}` and a body per call, and how
//! to send one request to a fresh service (so one call's change cannot decide another's answer).

use std::future::Future;

use crate::openapi::{Method, RouteDoc};

/// Compares `doc` with `openapi/<name>.json` at the workspace root, or writes it when
/// `UPDATE_OPENAPI` is set.
pub fn check_document(name: &str, doc: &serde_json::Value) {
    let path = super::workspace_root()
        .join("openapi")
        .join(format!("{name}.json"));
    let want = crate::openapi::render(doc);
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        std::fs::create_dir_all(path.parent().unwrap_or(&path)).expect("mkdir openapi/");
        std::fs::write(&path, &want).expect("write the document");
        return;
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        have == want,
        "{} is stale (UPDATE_OPENAPI=1 cargo test … openapi):\n{}",
        path.display(),
        super::diff::render(&have, &want)
    );
}

/// The document lists exactly `routes`: each path and each of its methods, nothing else.
pub fn check_paths(doc: &serde_json::Value, routes: &[RouteDoc]) {
    let paths = doc["paths"].as_object().expect("paths");
    assert_eq!(paths.len(), routes.len(), "one document path per route");
    for r in routes {
        let item = paths
            .get(&r.path)
            .unwrap_or_else(|| panic!("{} is not in the document", r.path));
        for m in Method::ALL {
            let documented = r.ops.iter().any(|o| o.method == m);
            let key = m.as_str().to_ascii_lowercase();
            assert_eq!(
                item.get(&key).is_some(),
                documented,
                "{} {}: the document and the table disagree",
                m.as_str(),
                r.path
            );
        }
    }
}

/// Sends, for every route and every method, `send(method, path, body)` with the path filled by
/// `fill` and the body from `body`; a documented method must answer one of its statuses, any
/// other 405. Returns how many calls were checked.
pub async fn check_answers<F, Fut>(
    routes: &[RouteDoc],
    fill: impl Fn(&str) -> String,
    body: impl Fn(Method, &str) -> String,
    send: F,
) -> usize
where
    F: Fn(Method, String, String) -> Fut,
    Fut: Future<Output = u16>,
{
    let mut wrong = Vec::new();
    let mut n = 0;
    for r in routes {
        let path = fill(&r.path);
        for m in Method::ALL {
            let status = send(m, path.clone(), body(m, &r.path)).await;
            n += 1;
            match r.ops.iter().find(|o| o.method == m) {
                Some(o) if !o.statuses.contains(&status) => wrong.push(format!(
                    "{} {path}: {status}, documented {:?}",
                    m.as_str(),
                    o.statuses
                )),
                None if status != 405 => wrong.push(format!(
                    "{} {path}: {status} for an undocumented method (expected 405)",
                    m.as_str()
                )),
                _ => {}
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    n
}
