//! What Bearer validation costs on the serving path: an EWS request with a token mock Exchange
//! has already validated (the per-token cache, as Exchange keeps one), and the HMA handshake 401.
//! The token comes from a real mock-aad over HTTP, and the metadata is read over HTTP, as in a lab.

use axum::body::Body;
use axum::http::Request;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use tower::ServiceExt;

const FIND_INBOX: &str = r#"<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types" xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages"><soap:Header><t:RequestServerVersion Version="Exchange2016"/></soap:Header><soap:Body><m:FindItem Traversal="Shallow"><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape></m:ItemShape><m:ParentFolderIds><t:DistinguishedFolderId Id="inbox"/></m:ParentFolderIds></m:FindItem></soap:Body></soap:Envelope>"#;

fn bearer(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let (aad, token) = rt.block_on(async {
        let aad = mock_aad::start(mock_aad::Config::contoso())
            .await
            .expect("mock-aad");
        let body: serde_json::Value = reqwest::Client::new()
            .post(format!("{}/contoso.com/oauth2/token", aad.url()))
            .form(&[
                ("grant_type", "password"),
                ("client_id", "d3590ed6-52b3-4102-aeff-aad2292ab01c"),
                ("resource", "https://mail.contoso.com/"),
                ("username", "GregT@contoso.com"),
                ("password", "Contoso2017!"),
            ])
            .send()
            .await
            .expect("token request")
            .json()
            .await
            .expect("token json");
        let token = body["access_token"].as_str().expect("token").to_string();
        (aad, token)
    });
    let config = mock_exchange::Config {
        aad_url: Some(aad.url()),
        ..mock_exchange::Config::contoso()
    };
    let app = mock_exchange::app(mock_exchange::state(&config), "EX1");
    let request = |auth: &str| {
        Request::post("/EWS/Exchange.asmx")
            .header("host", "mail.contoso.com")
            .header("authorization", auth)
            .header("content-type", "text/xml; charset=utf-8")
            .body(Body::from(FIND_INBOX))
            .expect("request")
    };
    let bearer = format!("Bearer {token}");
    // First use validates (metadata fetched over HTTP); later ones hit the token cache.
    let first = rt
        .block_on(app.clone().oneshot(request(&bearer)))
        .expect("response");
    assert_eq!(first.status(), 200);

    let mut g = c.benchmark_group("exchange");
    g.throughput(Throughput::Elements(1));
    g.bench_function("ews_find_item_cached_bearer", |b| {
        b.iter(|| {
            let resp = rt
                .block_on(app.clone().oneshot(request(&bearer)))
                .expect("response");
            assert_eq!(resp.status(), 200);
        })
    });
    g.bench_function("hma_handshake_401", |b| {
        b.iter(|| {
            let resp = rt
                .block_on(app.clone().oneshot(request("Bearer")))
                .expect("response");
            assert_eq!(resp.status(), 401);
        })
    });
    g.finish();
    drop(aad);
}

criterion_group!(benches, bearer);
criterion_main!(benches);
