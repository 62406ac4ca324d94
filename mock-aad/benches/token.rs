//! What a token costs: one RS256 signature with the shipped key (parsed once; a four-prime key,
//! next to the same signature by a two-prime key through aws-lc-rs), and a whole
//! password-grant request through the router (form parsing, directory checks, claims, signing,
//! refresh-token store, JSON). `make bench` runs these; compare with DESIGN.md §8's table.

use axum::body::Body;
use axum::http::Request;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use mock_aad::keys::{KeySet, SigningKey};
use serde_json::{json, Map};
use tower::ServiceExt;

fn sign(c: &mut Criterion) {
    let keys = KeySet::shipped();
    let key = keys.active();
    let mut claims = Map::new();
    claims.insert("aud".into(), json!("https://mail.contoso.com/"));
    claims.insert(
        "iss".into(),
        json!("https://sts.windows.net/f31f3647-5d87-4b69-a0b6-73f62aeab14c/"),
    );
    claims.insert("upn".into(), json!("GregT@contoso.com"));
    let mut g = c.benchmark_group("sign");
    g.throughput(Throughput::Elements(1));
    g.bench_function("rs256_jwt", |b| b.iter(|| key.sign_jwt(&claims, true)));
    let two_prime = SigningKey::from_pem(
        include_str!("../keys/attacker-key.pem"),
        include_str!("../keys/attacker-cert.pem"),
    )
    .expect("the shipped two-prime key");
    g.bench_function("rs256_jwt_two_prime", |b| {
        b.iter(|| two_prime.sign_jwt(&claims, true))
    });
    g.finish();
}

fn password_grant(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let app = mock_aad::app(mock_aad::state(mock_aad::Config::contoso()));
    let body = "grant_type=password&client_id=d3590ed6-52b3-4102-aeff-aad2292ab01c\
                &resource=https%3A%2F%2Fmail.contoso.com%2F&username=GregT%40contoso.com\
                &password=Contoso2017%21";
    let mut g = c.benchmark_group("token_endpoint");
    g.throughput(Throughput::Elements(1));
    g.bench_function("v1_password_grant", |b| {
        b.iter(|| {
            let req = Request::post("/contoso.com/oauth2/token")
                .header("host", "login.microsoftonline.com")
                .header("content-type", "application/x-www-form-urlencoded")
                .body(Body::from(body))
                .expect("request");
            let resp = rt.block_on(app.clone().oneshot(req)).expect("response");
            assert_eq!(resp.status(), 200);
        })
    });
    g.finish();
}

criterion_group!(benches, sign, password_grant);
criterion_main!(benches);
