//! `make bench` helper: mock Exchange's EWS with a Bearer token next to a plain axum route, in
//! one process and one runtime, so a load generator can compare the two side by side.
//!
//! Starts mock-aad and mock-exchange (Exchange reads Azure AD's metadata over HTTP, as in a lab)
//! and a one-route axum server that reads the body and answers a short XML document, gets a
//! token for Greg by ROPC, checks that GetFolder answers 200 with it, prints one JSON line
//! (`exchange`, `plain`, `floor`, `token`) and serves until its standard input closes.
//!
//! `floor` is a second one-route axum server that answers the very bytes Exchange answered to
//! that GetFolder (its headers, in order, and its body) without looking at the request: what the
//! HTTP stack and the kernel cost for this exchange of bytes when the application does nothing.
//! Its rate over the plain route's is the most any implementation of the EWS answer could reach
//! in this measurement.

// The JSON lines on stdout are this helper's whole output, read by bench/run.py.
#![allow(clippy::print_stdout)]

#[path = "common/ropc.rs"]
mod ropc;

use axum::routing::post;
use tokio::io::AsyncReadExt;

/// The allocator of the `hma-lab` binary, so the figure is the product's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const GET_FOLDER: &str = include_str!("../bench/getfolder.xml");

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let aad = mock_aad::start(mock_aad::Config::contoso()).await?;
    let exchange = mock_exchange::start(mock_exchange::Config {
        aad_url: Some(aad.url()),
        ..mock_exchange::Config::contoso()
    })
    .await?;
    let plain = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let plain_addr = plain.local_addr()?;
    let app = axum::Router::new().route(
        "/EWS/Exchange.asmx",
        post(|body: axum::body::Bytes| async move {
            (
                [("content-type", "text/xml; charset=utf-8")],
                format!("<ok bytes=\"{}\"/>", body.len()),
            )
        }),
    );
    tokio::spawn(async move { axum::serve(plain, app).await });

    let http = reqwest::Client::new();
    let tok: serde_json::Value = http
        .post(format!("{}/contoso.com/oauth2/token", aad.url()))
        .form(&ropc::GREG_FOR_EXCHANGE)
        .send()
        .await?
        .json()
        .await?;
    let token = tok["access_token"].as_str().ok_or("no access_token")?;
    let r = http
        .post(format!("{}/EWS/Exchange.asmx", exchange.url()))
        .header("host", "mail.contoso.com")
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "text/xml; charset=utf-8")
        .body(GET_FOLDER)
        .send()
        .await?;
    let status = r.status();
    let answered: Vec<(String, String)> = r
        .headers()
        .iter()
        .filter(|(n, _)| *n != "content-length")
        .map(|(n, v)| (n.to_string(), v.to_str().unwrap_or_default().to_string()))
        .collect();
    let text = r.text().await?;
    if status != 200 || !text.contains("GetFolderResponseMessage ResponseClass=\"Success\"") {
        return Err(format!("GetFolder answered {status}: {text}").into());
    }
    let floor = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let floor_addr = floor.local_addr()?;
    let mut canned = axum::http::HeaderMap::new();
    for (n, v) in &answered {
        canned.append(
            axum::http::HeaderName::try_from(n.as_str())?,
            axum::http::HeaderValue::try_from(v.as_str())?,
        );
    }
    let canned_body = axum::body::Bytes::from(text);
    let floor_app = axum::Router::new().route(
        "/EWS/Exchange.asmx",
        post(move |_body: axum::body::Bytes| async move { (canned, canned_body) }),
    );
    let floor_running =
        lab_kit::serve::Running::spawn(floor, floor_app, lab_kit::serve::Limits::default())?;
    std::mem::forget(floor_running);
    println!(
        "{}",
        serde_json::json!({
            "exchange": exchange.url(),
            "plain": format!("http://{plain_addr}"),
            "floor": format!("http://{floor_addr}"),
            "token": token,
        })
    );
    let mut sink = Vec::new();
    tokio::io::stdin().read_to_end(&mut sink).await?;
    exchange.shutdown().await;
    aad.shutdown().await;
    Ok(())
}
