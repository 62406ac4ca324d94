//! The TLS front door over real sockets: SNI certificates, the HMA handshake over TLS directly
//! and through the forward proxy, devices on the TLS path, certificate faults failing the
//! handshake, the proxy's refusals and msal-node's plain HTTP in a tunnel, the journal's
//! redaction and HAR, bad input, and the `hma-lab serve` / `env` binary.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use hma_lab::frontdoor::{CertFault, FrontDoor, Options};
use hma_lab::lab::{Lab, LabFile};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{HeaderMap, Request};
use hyper_util::rt::TokioIo;
use lab_kit::testkit::process::Started;
use lab_kit::Clock;
use rustls_pki_types::ServerName;
use serde_json::Value;

use crate::common::FIND_INBOX;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

const TID: &str = "f31f3647-5d87-4b69-a0b6-73f62aeab14c";
const GREG: &str = "GregT@contoso.com";
const OFFLOAD_DIAG: &str = "2000003;reason=\"The hostname component of the audience claim value is invalid. Expected 'https://mail.contoso.com'. Actual 'http://mail.contoso.com'.\";error_category=\"invalid_resource\"";
fn temp_dir() -> PathBuf {
    std::env::temp_dir().join(format!("hma-lab-fd-{}", uuid::Uuid::new_v4()))
}

async fn door_with(opts: impl FnOnce(&mut Options)) -> FrontDoor {
    let lab = Lab::start_file(
        LabFile::builtin("contoso").unwrap(),
        Clock::frozen_at_unix(1_510_864_576),
    )
    .await
    .unwrap();
    let mut o = Options::loopback(temp_dir());
    opts(&mut o);
    FrontDoor::start(lab, o).await.unwrap()
}

async fn door() -> FrontDoor {
    door_with(|_| {}).await
}

fn client_config(ca_pem: &str) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    for c in rustls_pki_types::pem::PemObject::pem_slice_iter(ca_pem.as_bytes()) {
        let c: rustls_pki_types::CertificateDer<'static> = c.unwrap();
        roots.add(c).unwrap();
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    Arc::new(
        rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth(),
    )
}

/// A TLS handshake over `io` naming `sni`, trusting only the lab CA.
async fn tls<S: AsyncRead + AsyncWrite + Unpin>(
    door: &FrontDoor,
    io: S,
    sni: &str,
) -> std::io::Result<tokio_rustls::client::TlsStream<S>> {
    let connector = tokio_rustls::TlsConnector::from(client_config(door.ca_pem()));
    connector
        .connect(ServerName::try_from(sni.to_string()).unwrap(), io)
        .await
}

/// The rustls error a failed handshake carried.
fn rustls_error(e: &std::io::Error) -> rustls::Error {
    e.get_ref()
        .and_then(|i| i.downcast_ref::<rustls::Error>())
        .cloned()
        .unwrap_or_else(|| panic!("not a rustls error: {e:?}"))
}

pub(crate) struct Resp {
    pub(crate) status: u16,
    pub(crate) headers: HeaderMap,
    pub(crate) body: String,
}

/// One HTTP/1.1 request on `io`.
async fn send<S: AsyncRead + AsyncWrite + Unpin + Send + 'static>(
    io: S,
    method: &str,
    host: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Resp {
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(io))
        .await
        .unwrap();
    let driver = tokio::spawn(conn);
    let mut req = Request::builder()
        .method(method)
        .uri(path)
        .header("host", host);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = sender
        .send_request(req.body(Full::new(Bytes::from(body.to_string()))).unwrap())
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    drop(sender);
    driver.abort();
    Resp {
        status,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    }
}

/// Opens a tunnel through the proxy; returns the stream after the `200` head.
async fn connect_via(proxy: SocketAddr, target: &str) -> (TcpStream, String) {
    let mut s = TcpStream::connect(proxy).await.unwrap();
    s.write_all(format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut head = Vec::new();
    let mut b = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if s.read(&mut b).await.unwrap() == 0 {
            break;
        }
        head.push(b[0]);
    }
    (s, String::from_utf8_lossy(&head).into_owned())
}

/// HTTPS to `host` through the `--https` listener (a client with `--resolve host:P:127.0.0.1`).
pub(crate) async fn https(
    door: &FrontDoor,
    method: &str,
    host: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Resp {
    let tcp = TcpStream::connect(door.https_addr()).await.unwrap();
    let t = tls(door, tcp, host).await.unwrap();
    send(t, method, host, path, headers, body).await
}

/// HTTPS to `host` through the proxy's CONNECT tunnel.
async fn proxied(
    door: &FrontDoor,
    method: &str,
    host: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Resp {
    let (tcp, head) = connect_via(door.proxy_addr(), &format!("{host}:443")).await;
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    let t = tls(door, tcp, host).await.unwrap();
    send(t, method, host, path, headers, body).await
}

pub(crate) const ROPC: &str = "grant_type=password&client_id=d3590ed6-52b3-4102-aeff-aad2292ab01c&resource=https%3A%2F%2Fmail.contoso.com%2F&username=GregT%40contoso.com&password=Contoso2017%21";

/// Empty Bearer → 401 naming Azure AD; token from login.microsoftonline.com; EWS → 200.
async fn hma_handshake(door: &FrontDoor, via_proxy: bool) -> String {
    let go = |m: &'static str,
              h: &'static str,
              p: &'static str,
              hs: Vec<(&'static str, String)>,
              b: String| async move {
        let hs: Vec<(&str, &str)> = hs.iter().map(|(k, v)| (*k, v.as_str())).collect();
        if via_proxy {
            proxied(door, m, h, p, &hs, &b).await
        } else {
            https(door, m, h, p, &hs, &b).await
        }
    };
    let r = go(
        "POST",
        "mail.contoso.com",
        "/EWS/Exchange.asmx",
        vec![("authorization", "Bearer".into())],
        String::new(),
    )
    .await;
    assert_eq!(r.status, 401);
    let challenges: Vec<&str> = r
        .headers
        .get_all("www-authenticate")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    assert!(
        challenges.iter().any(|c| c.starts_with("Bearer ")
            && c.contains(
                "authorization_uri=\"https://login.windows.net/common/oauth2/authorize\""
            )),
        "{challenges:?}"
    );
    let r = go(
        "POST",
        "login.microsoftonline.com",
        "/contoso.com/oauth2/token",
        vec![("content-type", "application/x-www-form-urlencoded".into())],
        ROPC.into(),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let tok: Value = serde_json::from_str(&r.body).unwrap();
    let at = tok["access_token"].as_str().unwrap().to_string();
    let r = go(
        "POST",
        "mail.contoso.com",
        "/EWS/Exchange.asmx",
        vec![
            ("authorization", format!("Bearer {at}")),
            ("content-type", "text/xml; charset=utf-8".into()),
            ("x-anchormailbox", GREG.into()),
        ],
        FIND_INBOX.into(),
    )
    .await;
    assert_eq!(r.status, 200, "{:?} {}", r.headers, r.body);
    assert_eq!(r.headers["x-feserver"], "EX1");
    assert!(
        r.body
            .contains("FindItemResponseMessage ResponseClass=\"Success\""),
        "{}",
        r.body
    );
    at
}

#[tokio::test]
async fn sni_picks_each_hosts_own_leaf_from_the_lab_ca() {
    let door = door().await;
    let mut seen = Vec::new();
    for host in [
        "login.microsoftonline.com",
        "mail.contoso.com",
        "ex1.contoso.com",
    ] {
        let tcp = TcpStream::connect(door.https_addr()).await.unwrap();
        // Verification against the name is the client's: it succeeds only with a leaf for it.
        let t = tls(&door, tcp, host).await.unwrap();
        let (_, conn) = t.get_ref();
        let leaf = conn.peer_certificates().unwrap()[0].to_vec();
        let has = |n: &str| leaf.windows(n.len()).any(|w| w == n.as_bytes());
        assert!(has(host), "{host}");
        for other in &seen {
            assert_ne!(&leaf, other);
        }
        seen.push(leaf);
    }
    assert!(!has_bytes(&seen[1], "login.microsoftonline.com"));
}

fn has_bytes(hay: &[u8], n: &str) -> bool {
    hay.windows(n.len()).any(|w| w == n.as_bytes())
}

#[tokio::test]
async fn hma_handshake_over_tls_and_the_journal_redacts_and_decodes() {
    let door = door().await;
    hma_handshake(&door, false).await;
    let entries = door.journal().entries();
    assert_eq!(entries.len(), 3);
    assert_eq!(entries[0].url, "https://mail.contoso.com/EWS/Exchange.asmx");
    assert_eq!(entries[0].status, 401);
    assert_eq!(entries[0].via, "https");
    assert_eq!(
        entries[1].url,
        "https://login.microsoftonline.com/contoso.com/oauth2/token"
    );
    assert_eq!(
        entries[1].request_body.text,
        "grant_type=password&client_id=d3590ed6-52b3-4102-aeff-aad2292ab01c&resource=https%3A%2F%2Fmail.contoso.com%2F&username=GregT%40contoso.com&password=[redacted]"
    );
    let at = entries[1]
        .tokens
        .iter()
        .find(|t| t.source == "response.access_token")
        .unwrap();
    assert_eq!(at.claims["aud"], "https://mail.contoso.com/");
    assert_eq!(at.claims["tid"], TID);
    assert_eq!(at.header["alg"], "RS256");
    assert_eq!(entries[2].tokens[0].source, "request.authorization");
    assert_eq!(entries[2].tokens[0].claims["upn"], GREG);
    let auth = entries[2]
        .request_headers
        .iter()
        .find(|(n, _)| n == "authorization")
        .unwrap();
    assert_eq!(auth.1, "Bearer [redacted]");

    let json = serde_json::to_string(&door.journal().to_json()).unwrap();
    let har = serde_json::to_string(&door.journal().to_har()).unwrap();
    let har_v: Value = serde_json::from_str(&har).unwrap();
    assert_eq!(har_v["log"]["version"], "1.2");
    assert_eq!(har_v["log"]["entries"].as_array().unwrap().len(), 3);
    assert_eq!(har_v["log"]["entries"][1]["request"]["method"], "POST");
    assert_eq!(har_v["log"]["entries"][1]["response"]["status"], 200);
    // The fields HAR 1.2 requires of every entry.
    for e in har_v["log"]["entries"].as_array().unwrap() {
        assert!(e["startedDateTime"].as_str().unwrap().ends_with('Z'));
        assert!(e["time"].as_f64().unwrap() >= 0.0);
        for k in [
            "method",
            "url",
            "httpVersion",
            "cookies",
            "headers",
            "queryString",
            "headersSize",
            "bodySize",
        ] {
            assert!(!e["request"][k].is_null(), "request.{k}");
        }
        for k in [
            "status",
            "statusText",
            "httpVersion",
            "cookies",
            "headers",
            "redirectURL",
            "headersSize",
            "bodySize",
        ] {
            assert!(!e["response"][k].is_null(), "response.{k}");
        }
        assert!(e["response"]["content"]["size"].is_u64());
        assert!(e["response"]["content"]["mimeType"].is_string());
        assert!(e["cache"].is_object());
        for k in ["send", "wait", "receive"] {
            assert!(e["timings"][k].as_f64().unwrap() >= 0.0, "timings.{k}");
        }
    }
    assert_eq!(
        har_v["log"]["entries"][1]["request"]["postData"]["mimeType"],
        "application/x-www-form-urlencoded"
    );
    for text in [&json, &har] {
        assert!(!text.contains("Contoso2017"), "password leaked");
        let tok: Value = serde_json::from_str(&entries[1].response_body.text).unwrap();
        assert_eq!(tok["refresh_token"], "[redacted]");
        assert_eq!(tok["access_token"], "[redacted]");
        assert!(text.contains("\"upn\":\"GregT@contoso.com\""));
    }
}

#[tokio::test]
async fn hma_handshake_through_the_proxy_with_connect() {
    let door = door().await;
    hma_handshake(&door, true).await;
    let vias: Vec<String> = door
        .journal()
        .entries()
        .into_iter()
        .map(|e| e.via)
        .collect();
    assert_eq!(vias, vec!["proxy-tls"; 3]);
}

#[tokio::test]
async fn ssl_offload_on_the_tls_path_still_yields_2000003_http() {
    let door = door().await;
    let at = hma_handshake(&door, false).await;
    door.lab()
        .set_ssl_offload("mail.contoso.com", true)
        .unwrap();
    let bearer = format!("Bearer {at}");
    let r = https(
        &door,
        "POST",
        "mail.contoso.com",
        "/EWS/Exchange.asmx",
        &[
            ("authorization", &bearer),
            ("content-type", "text/xml; charset=utf-8"),
        ],
        FIND_INBOX,
    )
    .await;
    assert_eq!(r.status, 401);
    assert_eq!(r.headers["x-ms-diagnostics"], OFFLOAD_DIAG);
}

#[tokio::test]
async fn certificate_faults_fail_the_handshake_like_a_bad_real_certificate() {
    let door = door().await;
    let host = "mail.contoso.com";
    let cases = [
        (
            CertFault::Expired,
            rustls::Error::InvalidCertificate(rustls::CertificateError::Expired),
        ),
        (
            CertFault::Untrusted,
            rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer),
        ),
    ];
    for (fault, _) in &cases {
        door.certs().set_fault(host, Some(*fault)).unwrap();
        let tcp = TcpStream::connect(door.https_addr()).await.unwrap();
        let e = tls(&door, tcp, host).await.unwrap_err();
        let got = rustls_error(&e);
        match fault {
            CertFault::Expired => assert!(
                matches!(
                    got,
                    rustls::Error::InvalidCertificate(rustls::CertificateError::Expired)
                        | rustls::Error::InvalidCertificate(
                            rustls::CertificateError::ExpiredContext { .. }
                        )
                ),
                "{got:?}"
            ),
            CertFault::Untrusted => assert_eq!(
                got,
                rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer)
            ),
            CertFault::WrongName | CertFault::Valid => unreachable!(),
        }
    }
    door.certs()
        .set_fault(host, Some(CertFault::WrongName))
        .unwrap();
    let tcp = TcpStream::connect(door.https_addr()).await.unwrap();
    let got = rustls_error(&tls(&door, tcp, host).await.unwrap_err());
    assert!(
        matches!(
            got,
            rustls::Error::InvalidCertificate(rustls::CertificateError::NotValidForName)
                | rustls::Error::InvalidCertificate(
                    rustls::CertificateError::NotValidForNameContext { .. }
                )
        ),
        "{got:?}"
    );
    // The journal shows each failed handshake with the client's alert (recorded when the
    // server reads it, just after the client gave up).
    tokio::time::timeout(Duration::from_secs(10), async {
        while door.journal().entries().len() < 3 {
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("three failed handshakes journalled");
    let failed: Vec<(String, String, u16, String)> = door
        .journal()
        .entries()
        .into_iter()
        .map(|e| (e.method, e.url, e.status, e.error.unwrap_or_default()))
        .collect();
    assert_eq!(failed.len(), 3, "{failed:?}");
    for (m, u, st, _) in &failed {
        assert_eq!(
            (m.as_str(), u.as_str(), *st),
            ("TLS", "https://mail.contoso.com/", 0)
        );
    }
    let mut alerts: Vec<&str> = failed.iter().map(|f| f.3.as_str()).collect();
    alerts.sort();
    assert_eq!(
        alerts,
        [
            "TLS handshake failed: received fatal alert: BadCertificate",
            "TLS handshake failed: received fatal alert: CertificateExpired",
            "TLS handshake failed: received fatal alert: UnknownCA",
        ]
    );
    // Other names are unaffected; clearing the fault restores the host.
    let tcp = TcpStream::connect(door.https_addr()).await.unwrap();
    tls(&door, tcp, "login.microsoftonline.com").await.unwrap();
    door.certs().set_fault(host, None).unwrap();
    let tcp = TcpStream::connect(door.https_addr()).await.unwrap();
    tls(&door, tcp, host).await.unwrap();
}

#[tokio::test]
async fn connect_to_a_host_outside_the_lab_is_refused_with_403_naming_the_lab_hosts() {
    let door = door().await;
    let (mut s, head) = connect_via(door.proxy_addr(), "www.example.com:443").await;
    assert!(head.starts_with("HTTP/1.1 403 Forbidden\r\n"), "{head}");
    let len: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length: "))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let mut body = vec![0u8; len];
    s.read_exact(&mut body).await.unwrap();
    assert_eq!(
        String::from_utf8(body).unwrap(),
        "403 Forbidden: 'www.example.com' is not a host of the lab; the lab never reaches the internet.\nLab hosts: login.microsoftonline.com, login.windows.net, login.microsoft.com, sts.windows.net, mail.contoso.com, autodiscover.contoso.com, mail.corp.contoso.com, owa.contoso.com, ex1.contoso.com\n"
    );
    // Plain proxying of a non-lab URL too.
    let mut s = TcpStream::connect(door.proxy_addr()).await.unwrap();
    s.write_all(b"GET http://www.example.com/ HTTP/1.1\r\nHost: www.example.com\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    assert!(out.starts_with("HTTP/1.1 403 Forbidden\r\n"), "{out}");
}

#[tokio::test]
async fn plain_http_inside_connect_is_served_as_msal_node_2_sends_it() {
    let door = door().await;
    // msal-node 2.x: `CONNECT host` without a port, then a plaintext absolute-form request.
    let (mut s, head) = connect_via(door.proxy_addr(), "login.microsoftonline.com").await;
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    s.write_all(b"GET https://login.microsoftonline.com/contoso.com/v2.0/.well-known/openid-configuration HTTP/1.1\r\nHost: login.microsoftonline.com\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    assert!(out.starts_with("HTTP/1.1 200 OK\r\n"), "{out}");
    let body = out.split_once("\r\n\r\n").unwrap().1;
    let doc: Value = serde_json::from_str(body).unwrap();
    assert_eq!(
        doc["token_endpoint"],
        format!("https://login.microsoftonline.com/{TID}/oauth2/v2.0/token")
    );
    let e = door.journal().entries();
    assert_eq!(e[0].via, "proxy-plain");

    // Plain `GET http://…` proxying reaches the lab as http.
    let mut s = TcpStream::connect(door.proxy_addr()).await.unwrap();
    s.write_all(b"GET http://login.microsoftonline.com/contoso.com/v2.0/.well-known/openid-configuration HTTP/1.1\r\nHost: login.microsoftonline.com\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    assert!(out.starts_with("HTTP/1.1 200 OK\r\n"), "{out}");
    assert_eq!(door.journal().entries()[1].via, "proxy-http");
}

#[tokio::test]
async fn garbage_and_silent_clients_are_closed_and_the_door_keeps_serving() {
    let door = door_with(|o| {
        o.handshake_timeout = Duration::from_millis(300);
        o.header_timeout = Duration::from_millis(300);
    })
    .await;
    // Not a ClientHello.
    let mut s = TcpStream::connect(door.https_addr()).await.unwrap();
    s.write_all(b"GET / HTTP/1.1\r\nHost: mail.contoso.com\r\n\r\n")
        .await
        .unwrap();
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf).await;
    assert!(!buf.starts_with(b"HTTP/1.1 200"), "{buf:?}");
    // Connected, silent: closed after the handshake timeout.
    let mut s = TcpStream::connect(door.https_addr()).await.unwrap();
    let n = tokio::time::timeout(Duration::from_secs(10), s.read(&mut [0u8; 16]))
        .await
        .expect("the door closes a silent connection");
    assert_eq!(n.unwrap_or(0), 0);
    // A tunnel that never speaks is closed too.
    let (mut s, head) = connect_via(door.proxy_addr(), "mail.contoso.com:443").await;
    assert!(head.starts_with("HTTP/1.1 200"));
    let n = tokio::time::timeout(Duration::from_secs(10), s.read(&mut [0u8; 16]))
        .await
        .expect("the proxy closes a silent tunnel");
    assert_eq!(n.unwrap_or(0), 0);
    // A client that finishes the handshake and then idles is closed after the header timeout.
    let tcp = TcpStream::connect(door.https_addr()).await.unwrap();
    let mut t = tls(&door, tcp, "mail.contoso.com").await.unwrap();
    let n = tokio::time::timeout(Duration::from_secs(10), t.read(&mut [0u8; 16]))
        .await
        .expect("the door closes an idle TLS connection");
    assert_eq!(n.unwrap_or(0), 0);
    // Garbage to the proxy.
    let mut s = TcpStream::connect(door.proxy_addr()).await.unwrap();
    s.write_all(b"\x16\x03\x01garbage\r\n\r\n").await.unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out).await;
    assert!(
        out.is_empty() || out.starts_with(b"HTTP/1.1 400"),
        "{out:?}"
    );
    // Still serving.
    let r = https(
        &door,
        "GET",
        "login.microsoftonline.com",
        "/contoso.com/v2.0/.well-known/openid-configuration",
        &[],
        "",
    )
    .await;
    assert_eq!(r.status, 200);
    door.shutdown().await;
}

fn admin(ready: &Value) -> (String, String) {
    (
        ready["admin"].as_str().unwrap().to_string(),
        ready["admin_token"].as_str().unwrap().to_string(),
    )
}

/// `hma-lab serve` on `state`, its ready line read; nothing else may reach stdout until it exits.
fn start_serve(state: &std::path::Path, har: &std::path::Path) -> Started {
    Started::spawn(
        Command::new(env!("CARGO_BIN_EXE_hma-lab"))
            .args(["serve", "--state-dir"])
            .arg(state)
            .arg("--har")
            .arg(har)
            .stderr(Stdio::null()),
    )
}

/// SIGTERM: the exit code, and nothing on stdout after the ready line.
fn sigterm(serve: Started) -> Option<i32> {
    let (code, rest) = serve.sigterm();
    assert!(rest.is_empty(), "extra stdout: {rest}");
    code
}

#[tokio::test]
async fn serve_prints_its_ready_line_runs_cmdlets_and_stops_on_sigterm() {
    let state = temp_dir();
    let har = state.join("out.har");
    let serve = start_serve(&state, &har);
    let ready = serve.ready.clone();
    let keys: Vec<&String> = ready.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "event",
            "https",
            "proxy",
            "ca",
            "admin",
            "admin_token",
            "dashboard"
        ]
    );
    assert_eq!(ready["event"], "ready");
    assert!(ready["dashboard"].as_str().unwrap().starts_with(&format!(
        "{}/dashboard?login=",
        ready["admin"].as_str().unwrap()
    )));
    assert_eq!(ready["ca"], state.join("ca.pem").display().to_string());
    assert!(ready["https"]
        .as_str()
        .unwrap()
        .starts_with("https://127.0.0.1:"));
    assert!(ready["proxy"]
        .as_str()
        .unwrap()
        .starts_with("http://127.0.0.1:"));
    let (admin_url, token) = admin(&ready);
    let http = reqwest::Client::builder().no_proxy().build().unwrap();

    let r = http
        .post(format!("{admin_url}/cmdlet"))
        .body("(Get-OrganizationConfig).OAuth2ClientProfileEnabled")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let r: Value = http
        .post(format!("{admin_url}/cmdlet"))
        .bearer_auth(&token)
        .header("content-type", "text/plain")
        .body("(Get-OrganizationConfig).OAuth2ClientProfileEnabled")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["ok"], true, "{r}");
    assert_eq!(r["output"], "True");
    let r: Value = http
        .post(format!("{admin_url}/cmdlet"))
        .bearer_auth(&token)
        .body("Get-Nothing")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["ok"], false);
    assert!(r["error"].as_str().unwrap().contains("Get-Nothing"), "{r}");
    let r: Value = http
        .post(format!("{admin_url}/clock/advance?seconds=3600"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["ok"], true);
    assert_eq!(r["offset_secs"], 3600);
    // One bound for every lab clock: a move past a century is refused and changes nothing.
    let r = http
        .post(format!(
            "{admin_url}/clock/advance?seconds=9223372036854775807"
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let r: Value = r.json().await.unwrap();
    assert_eq!(r["ok"], false);
    assert!(
        r["error"].as_str().unwrap().contains("at most a century"),
        "{r}"
    );
    let r: Value = http
        .post(format!("{admin_url}/certificates"))
        .bearer_auth(&token)
        .body(r#"{"host":"mail.contoso.com","fault":"expired"}"#)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["faults"]["mail.contoso.com"], "expired");
    let r: Value = http
        .post(format!("{admin_url}/network"))
        .bearer_auth(&token)
        .body(r#"{"load_balancer":{"host":"mail.contoso.com","ssl_offload":true}}"#)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        r["devices"]["load_balancers"][0]["ssl_offload"], true,
        "{r}"
    );
    let r = http
        .post(format!("{admin_url}/network"))
        .bearer_auth(&token)
        .body(r#"{"client_segment":{"blocked":["login.microsoftonline.co"]}}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let r: Value = r.json().await.unwrap();
    assert_eq!(r["ok"], false);
    assert!(
        r["error"]
            .as_str()
            .unwrap()
            .ends_with("did you mean `login.microsoftonline.com`?"),
        "{r}"
    );
    let r = http
        .post(format!("{admin_url}/certificates"))
        .bearer_auth(&token)
        .body(r#"{"host":"www.example.com","fault":"untrusted"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);

    // `hma-lab env` reads serve.json.
    let env = Command::new(env!("CARGO_BIN_EXE_hma-lab"))
        .args(["env", "--state-dir"])
        .arg(&state)
        .env("NO_PROXY", "localhost,.contoso.com")
        .output()
        .unwrap();
    let env = String::from_utf8(env.stdout).unwrap();
    let proxy = ready["proxy"].as_str().unwrap();
    assert!(
        env.contains(&format!("export HTTPS_PROXY='{proxy}'\n")),
        "{env}"
    );
    assert!(env.contains(&format!(
        "export REQUESTS_CA_BUNDLE='{}'\n",
        state.join("ca.pem").display()
    )));
    assert!(env.contains("export NO_PROXY='localhost'\n"), "{env}");

    // A request through the proxy lands in the journal; SIGTERM writes the HAR.
    let proxy_addr: SocketAddr = proxy.trim_start_matches("http://").parse().unwrap();
    let mut s = TcpStream::connect(proxy_addr).await.unwrap();
    s.write_all(b"GET http://login.microsoftonline.com/contoso.com/v2.0/.well-known/openid-configuration HTTP/1.1\r\nHost: login.microsoftonline.com\r\nConnection: close\r\n\r\n").await.unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    assert!(out.starts_with("HTTP/1.1 200 OK\r\n"));
    let j: Value = http
        .get(format!("{admin_url}/journal?format=har"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(j["log"]["version"], "1.2");
    assert_eq!(j["log"]["entries"].as_array().unwrap().len(), 1);

    let ca_first = std::fs::read_to_string(state.join("ca.pem")).unwrap();
    assert_eq!(sigterm(serve), Some(0));
    let har_v: Value = serde_json::from_str(&std::fs::read_to_string(&har).unwrap()).unwrap();
    assert_eq!(har_v["log"]["version"], "1.2");
    assert_eq!(
        har_v["log"]["entries"][0]["request"]["url"],
        "http://login.microsoftonline.com/contoso.com/v2.0/.well-known/openid-configuration"
    );
    assert!(!state.join("serve.json").exists());

    // The same state dir: the same CA.
    let serve = start_serve(&state, &har);
    let ready2 = serve.ready.clone();
    assert_eq!(
        std::fs::read_to_string(state.join("ca.pem")).unwrap(),
        ca_first
    );
    assert_ne!(ready2["admin_token"], ready["admin_token"]);
    assert_eq!(sigterm(serve), Some(0));
    let _ = std::fs::remove_dir_all(&state);
}

#[tokio::test]
async fn connections_beyond_the_limit_are_closed_on_accept() {
    let door = door_with(|o| o.max_connections = 1).await;
    let tcp = TcpStream::connect(door.https_addr()).await.unwrap();
    let held = tls(&door, tcp, "mail.contoso.com").await.unwrap();
    let mut second = TcpStream::connect(door.https_addr()).await.unwrap();
    let n = tokio::time::timeout(Duration::from_secs(10), second.read(&mut [0u8; 16]))
        .await
        .expect("closed at once");
    assert_eq!(n.unwrap_or(0), 0);
    // The slot frees when the first connection ends.
    drop(held);
    let mut served = false;
    for _ in 0..200 {
        let tcp = TcpStream::connect(door.https_addr()).await.unwrap();
        if tls(&door, tcp, "mail.contoso.com").await.is_ok() {
            served = true;
            break;
        }
        tokio::task::yield_now().await;
    }
    assert!(served);
}

/// Idle client connections that use up the front door's budget do not reach the admin
/// listener: it has its own (520 idle proxy connections once reset the admin API for 30 s).
#[tokio::test]
async fn the_admin_listener_has_its_own_connection_budget() {
    let door = door_with(|o| {
        o.max_connections = 4;
        o.admin_max_connections = 2;
    })
    .await;
    let mut idle = Vec::new();
    for _ in 0..4 {
        idle.push(TcpStream::connect(door.proxy_addr()).await.unwrap());
    }
    // The client budget is spent: a fifth proxy connection is closed on accept.
    let mut fifth = TcpStream::connect(door.proxy_addr()).await.unwrap();
    let n = tokio::time::timeout(Duration::from_secs(10), fifth.read(&mut [0u8; 16]))
        .await
        .expect("closed at once");
    assert_eq!(n.unwrap_or(0), 0);
    let ask = format!(
        "GET /journal HTTP/1.1\r\nHost: admin\r\nAuthorization: Bearer {}\r\nConnection: close\r\n\r\n",
        door.admin_token()
    );
    let mut admin = TcpStream::connect(door.admin_addr()).await.unwrap();
    admin.write_all(ask.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), admin.read_to_end(&mut out))
        .await
        .expect("answered")
        .unwrap();
    let out = String::from_utf8_lossy(&out);
    assert!(out.starts_with("HTTP/1.1 200 OK"), "{out}");
    drop(idle);
}

#[tokio::test]
async fn a_blocked_client_segment_closes_tls_connections_unanswered_and_wap_translates() {
    let door = door().await;
    door.lab().block("login.microsoftonline.com").unwrap();
    let tcp = TcpStream::connect(door.https_addr()).await.unwrap();
    let mut t = tls(&door, tcp, "login.microsoftonline.com").await.unwrap();
    t.write_all(b"GET /contoso.com/v2.0/.well-known/openid-configuration HTTP/1.1\r\nHost: login.microsoftonline.com\r\n\r\n")
        .await
        .unwrap();
    let mut out = Vec::new();
    let _ = t.read_to_end(&mut out).await;
    assert!(out.is_empty(), "{}", String::from_utf8_lossy(&out));
    let e = &door.journal().entries()[0];
    assert_eq!(e.status, 0);
    assert_eq!(
        e.error.as_deref(),
        Some("connection closed: login.microsoftonline.com is unreachable from the client segment")
    );

    // WAP publishes autodiscover.contoso.com as mail.contoso.com: Exchange sees the new name,
    // and a token for the published name meets the seed's audience mismatch.
    let ropc = ROPC.replace("mail.contoso.com", "autodiscover.contoso.com");
    let r = https(
        &door,
        "POST",
        "login.windows.net",
        "/contoso.com/oauth2/token",
        &[("content-type", "application/x-www-form-urlencoded")],
        &ropc,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let tok: Value = serde_json::from_str(&r.body).unwrap();
    let bearer = format!("Bearer {}", tok["access_token"].as_str().unwrap());
    door.lab()
        .set_reverse_proxy("autodiscover.contoso.com", "mail.contoso.com")
        .unwrap();
    let r = https(
        &door,
        "POST",
        "autodiscover.contoso.com",
        "/autodiscover/autodiscover.xml",
        &[("authorization", &bearer), ("content-type", "text/xml")],
        POX,
    )
    .await;
    assert_eq!(r.status, 401);
    assert_eq!(r.headers["x-ms-diagnostics"], WAP_DIAG);
    let challenges: Vec<&str> = r
        .headers
        .get_all("www-authenticate")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    assert!(
        challenges.contains(&"Basic realm=\"mail.contoso.com\""),
        "{challenges:?}"
    );
}

const WAP_DIAG: &str = "2000003;reason=\"The hostname component of the audience claim value 'https://autodiscover.contoso.com' is invalid\";error_category=\"invalid_resource\"";
const POX: &str = "<Autodiscover xmlns=\"http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006\"><Request><EMailAddress>GregT@contoso.com</EMailAddress><AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema></Request></Autodiscover>";

/// `POST {path}` on the door's admin API with its token.
async fn admin_post(door: &FrontDoor, path: &str, body: &'static str) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("http://{}{path}", door.admin_addr()))
        .bearer_auth(door.admin_token())
        .body(body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn certificate_states_from_the_lab_file_and_the_network_api_meet_the_handshake() {
    // The lab file says login.windows.net presents an untrusted certificate.
    let text = hma_lab::lab::file::BUILTIN_LABS[0].1.replacen(
        "    - client_segment: { blocked: [] }",
        "    - client_segment: { blocked: [] }\n    - certificate: { host: login.windows.net, state: untrusted }",
        1,
    );
    let file = LabFile::parse(&text, "lab.yaml", None).unwrap();
    let lab = Lab::start_file(file, Clock::frozen_at_unix(1_510_864_576))
        .await
        .unwrap();
    let door = FrontDoor::start(lab, Options::loopback(temp_dir()))
        .await
        .unwrap();
    let tcp = TcpStream::connect(door.https_addr()).await.unwrap();
    let got = rustls_error(&tls(&door, tcp, "login.windows.net").await.unwrap_err());
    assert_eq!(
        got,
        rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer)
    );
    assert_eq!(
        door.certs().faults(),
        vec![("login.windows.net".to_string(), CertFault::Untrusted)]
    );
    // Its other names are untouched.
    let tcp = TcpStream::connect(door.https_addr()).await.unwrap();
    tls(&door, tcp, "login.microsoftonline.com").await.unwrap();

    // `POST /network` with a certificate device is the same state as `POST /certificates`.
    let r: Value = admin_post(
        &door,
        "/network",
        r#"{"certificate":{"host":"login.windows.net","state":"valid"}}"#,
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(r["devices"]["certificates"], serde_json::json!([]), "{r}");
    let tcp = TcpStream::connect(door.https_addr()).await.unwrap();
    tls(&door, tcp, "login.windows.net").await.unwrap();
    let r: Value = admin_post(
        &door,
        "/network",
        r#"{"certificate":{"host":"mail.contoso.com","state":"wrong_name"}}"#,
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(
        r["devices"]["certificates"],
        serde_json::json!([{"host": "mail.contoso.com", "state": "wrong_name"}])
    );
    let r: Value = reqwest::Client::new()
        .get(format!("http://{}/certificates", door.admin_addr()))
        .bearer_auth(door.admin_token())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        r["faults"],
        serde_json::json!({"mail.contoso.com": "wrong_name"})
    );
    let tcp = TcpStream::connect(door.https_addr()).await.unwrap();
    let got = rustls_error(&tls(&door, tcp, "mail.contoso.com").await.unwrap_err());
    assert!(
        matches!(
            got,
            rustls::Error::InvalidCertificate(
                rustls::CertificateError::NotValidForName
                    | rustls::CertificateError::NotValidForNameContext { .. }
            )
        ),
        "{got:?}"
    );
    // A host the lab does not have is refused with the lab's hint.
    let r = admin_post(
        &door,
        "/network",
        r#"{"certificate":{"host":"mail.contoso.co","state":"expired"}}"#,
    )
    .await;
    assert_eq!(r.status(), 400);
    let r: Value = r.json().await.unwrap();
    assert!(
        r["error"]
            .as_str()
            .unwrap()
            .ends_with("did you mean `mail.contoso.com`?"),
        "{r}"
    );
}

/// What `curl -v` shows through the front door: Exchange's header names as IIS and Exchange
/// spell them, carried through the lab network and the TLS listener.
#[tokio::test]
async fn header_names_keep_their_wire_spelling_over_tls() {
    let door = door().await;
    let tcp = TcpStream::connect(door.https_addr()).await.unwrap();
    let mut s = tls(&door, tcp, "mail.contoso.com").await.unwrap();
    s.write_all(
        b"POST /EWS/Exchange.asmx HTTP/1.1\r\nHost: mail.contoso.com\r\nAuthorization: Bearer\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
    )
    .await
    .unwrap();
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw).await;
    let raw = String::from_utf8_lossy(&raw);
    let head = raw.split("\r\n\r\n").next().unwrap_or_default();
    assert!(head.starts_with("HTTP/1.1 401 Unauthorized\r\n"), "{head}");
    for line in [
        "\r\nServer: Microsoft-IIS/",
        "\r\nrequest-id: ",
        "\r\nWww-Authenticate: Negotiate\r\n",
        "\r\nWww-Authenticate: NTLM\r\n",
        "\r\nWWW-Authenticate: Bearer client_id=\"00000002-0000-0ff1-ce00-000000000000\"",
        "\r\nX-FEServer: EX1\r\n",
        "\r\nX-Powered-By: ASP.NET\r\n",
        "\r\nDate: ",
    ] {
        assert!(head.contains(line), "{line:?} not in\n{head}");
    }
}

#[tokio::test]
async fn the_admin_listener_wants_its_token_and_challenges_without_it() {
    let door = door_with(|o| o.admin_token = Some("fixed-admin-token".into())).await;
    assert_eq!(door.admin_token(), "fixed-admin-token");
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let url = format!("http://{}/network", door.admin_addr());
    for auth in [None, Some("Bearer wrong"), Some("Bearerfixed-admin-token")] {
        let mut r = http.get(&url);
        if let Some(a) = auth {
            r = r.header("authorization", a);
        }
        let r = r.send().await.unwrap();
        assert_eq!(r.status(), 401, "{auth:?}");
        assert_eq!(
            r.headers()["www-authenticate"],
            "Bearer realm=\"hma-lab admin\"",
            "{auth:?}"
        );
    }
    let r = http
        .get(&url)
        .header("authorization", "BEARER fixed-admin-token")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    door.shutdown().await;

    let lab = Lab::start_file(LabFile::builtin("contoso").unwrap(), Clock::system())
        .await
        .unwrap();
    let mut o = Options::loopback(temp_dir());
    o.admin_token = Some(String::new());
    let Err(e) = FrontDoor::start(lab, o).await else {
        panic!("an empty admin token must be refused");
    };
    assert!(e.to_string().contains("must not be empty"), "{e}");
}

#[test]
fn serve_refuses_an_empty_admin_token() {
    let out = Command::new(env!("CARGO_BIN_EXE_hma-lab"))
        .args(["serve", "--admin-token", ""])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty(), "no ready line");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--admin-token"), "{err}");
    assert!(err.contains("the admin token must not be empty"), "{err}");
}

/// `GET /healthz` answers without a token on every service: mock-aad, every mock-exchange
/// server, and `hma-lab serve`'s admin listener — for supervisors and CI service containers.
#[tokio::test]
async fn every_service_answers_healthz_without_a_token() {
    let door = door().await;
    let http = reqwest::Client::new();
    let aad = mock_aad::start(mock_aad::Config::contoso()).await.unwrap();
    let ex = mock_exchange::start(mock_exchange::Config::contoso())
        .await
        .unwrap();
    let mut targets = vec![
        (format!("{}/healthz", aad.url()), "mock-aad"),
        (format!("http://{}/healthz", door.admin_addr()), "hma-lab"),
    ];
    for (_, url) in ex.server_urls() {
        targets.push((format!("{url}/healthz"), "mock-exchange"));
    }
    for (url, service) in targets {
        let r = http.get(&url).send().await.unwrap();
        assert_eq!(r.status(), 200, "{url}");
        assert_eq!(
            r.headers()["content-type"].to_str().unwrap(),
            "application/json",
            "{url}"
        );
        let body: Value = r.json().await.unwrap();
        assert_eq!(
            body,
            serde_json::json!({"status": "ok", "service": service}),
            "{url}"
        );
    }
    // Everything else on the admin listener still needs the token.
    let r = http
        .get(format!("http://{}/journal", door.admin_addr()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}

#[tokio::test]
async fn admin_stats_count_the_journal_and_the_grant_store() {
    let door = door().await;
    let get = || async {
        let r = reqwest::Client::new()
            .get(format!("http://{}/stats", door.admin_addr()))
            .bearer_auth(door.admin_token())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        r.json::<Value>().await.unwrap()
    };
    let before = get().await;
    assert_eq!(
        before,
        serde_json::json!({"ok": true, "journal": {"entries": 0, "cap": 1000},
                           "grants": {"refresh": 0, "codes": 0, "devices": 0}})
    );
    hma_handshake(&door, false).await;
    let after = get().await;
    assert_eq!(after["journal"]["entries"], door.journal().entries().len());
    assert_eq!(after["journal"]["entries"], 3);
    assert_eq!(after["grants"]["refresh"], 1, "{after}");
    // Read-only: the journal does not record admin calls, and the method is checked.
    let r = admin_post(&door, "/stats", "").await;
    assert_eq!(r.status(), 405);
    assert_eq!(get().await, after);
}
