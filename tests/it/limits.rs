//! Both services are served with a header timeout and a connection cap (`lab_kit::serve`): an
//! idle or slowloris connection is closed, and one connection past the cap is closed on accept
//! while the others are served.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const LIMITS: lab_kit::serve::Limits = lab_kit::serve::Limits {
    max_connections: 2,
    header_timeout: Duration::from_millis(300),
};

async fn closed_within(s: &mut TcpStream, within: Duration) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    tokio::time::timeout(within, s.read_to_end(&mut out))
        .await
        .ok()
        .map(|_| out)
}

async fn check(addr: std::net::SocketAddr, request: &str) {
    // A silent connection and a half-sent head are both closed after the header timeout.
    let mut silent = TcpStream::connect(addr).await.unwrap();
    let mut slow = TcpStream::connect(addr).await.unwrap();
    slow.write_all(b"GET / HTTP/1.1\r\n").await.unwrap();
    // The cap is 2: a third connection is closed on accept, unanswered.
    let mut third = TcpStream::connect(addr).await.unwrap();
    third.write_all(request.as_bytes()).await.unwrap();
    assert_eq!(
        closed_within(&mut third, Duration::from_secs(10)).await,
        Some(Vec::new())
    );
    assert!(closed_within(&mut silent, Duration::from_secs(10))
        .await
        .is_some());
    assert!(closed_within(&mut slow, Duration::from_secs(10))
        .await
        .is_some());
    // With the slots free again, a request is answered.
    let mut answered = None;
    for _ in 0..200 {
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(request.as_bytes()).await.unwrap();
        let out = closed_within(&mut s, Duration::from_secs(10))
            .await
            .unwrap();
        if !out.is_empty() {
            answered = Some(String::from_utf8_lossy(&out).into_owned());
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let answered = answered.expect("answered once the slots are free");
    assert!(answered.starts_with("HTTP/1.1 "), "{answered}");
}

#[tokio::test]
async fn mock_aad_closes_idle_connections_and_caps_them() {
    let aad = mock_aad::start_with_limits(mock_aad::Config::contoso(), LIMITS)
        .await
        .unwrap();
    check(
        aad.addr(),
        "GET /common/discovery/instance HTTP/1.1\r\nHost: login.microsoftonline.com\r\nConnection: close\r\n\r\n",
    )
    .await;
}

#[tokio::test]
async fn mock_exchange_closes_idle_connections_and_caps_them() {
    let ex = mock_exchange::start_with_limits(mock_exchange::Config::contoso(), LIMITS)
        .await
        .unwrap();
    let url = ex.server_url("EX1").unwrap();
    check(
        url.trim_start_matches("http://").parse().unwrap(),
        "GET /EWS/Exchange.asmx HTTP/1.1\r\nHost: mail.contoso.com\r\nConnection: close\r\n\r\n",
    )
    .await;
}
