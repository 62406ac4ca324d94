//! Whole-lab tests over real loopback sockets: routing by host, the devices on the path (SSL
//! offload, WAP name translation, a blocked client segment), the two shipped labs, several labs
//! at once, the shared clock, shutdown, lab files that reference other files, and the network's
//! forwarding itself against a bare upstream.

use std::net::SocketAddr;

use hma_lab::lab::network::{self, HostTable, Listener};
use hma_lab::lab::*;
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};
use lab_kit::testkit::temp_dir;
use lab_kit::{Clock, FileError};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::common::{access_token, contoso, ropc, token_for, FIND_INBOX, GREG, OFFICE, TID};

/// The 2018-era instant the seed's captures come from; frozen so token lifetimes are exact.
const SEED_TIME: i64 = 1_510_864_576;

fn parse(text: &str) -> Result<LabFile, FileError> {
    LabFile::parse(text, "lab.yaml", None)
}

async fn ews(lab: &Lab, host: &str, token: &str) -> reqwest::Response {
    lab.http_client()
        .post(lab.url(host, "/EWS/Exchange.asmx"))
        .header("Authorization", format!("Bearer {token}"))
        .header("Content-Type", "text/xml; charset=utf-8")
        .header("X-AnchorMailbox", GREG)
        .body(FIND_INBOX)
        .send()
        .await
        .expect("EWS answers")
}

fn diag(resp: &reqwest::Response) -> Option<String> {
    resp.headers()
        .get("x-ms-diagnostics")
        .map(|v| v.to_str().unwrap_or_default().to_string())
}

/// Exchange took the token: no 401, no diagnostic, answered by EX1.
fn assert_accepted(resp: &reqwest::Response) {
    assert_ne!(resp.status(), 401, "{:?}", resp.headers());
    assert_eq!(diag(resp), None);
    assert_eq!(resp.headers()["x-feserver"], "EX1");
}

fn challenges(resp: &reqwest::Response) -> Vec<String> {
    resp.headers()
        .get_all("www-authenticate")
        .iter()
        .map(|v| v.to_str().unwrap_or_default().to_string())
        .collect()
}

const OFFLOAD_DIAG: &str = "2000003;reason=\"The hostname component of the audience claim value is invalid. Expected 'https://mail.contoso.com'. Actual 'http://mail.contoso.com'.\";error_category=\"invalid_resource\"";
const WAP_DIAG: &str = "2000003;reason=\"The hostname component of the audience claim value 'https://autodiscover.contoso.com' is invalid\";error_category=\"invalid_resource\"";

#[tokio::test]
async fn routes_each_host_to_its_service_with_host_kept_and_https_forwarded() {
    let lab = contoso().await;
    let port = lab.network_addr().port();
    let client = lab.http_client();

    // Azure AD names → mock-aad, which builds its documents from Host and X-Forwarded-Proto.
    for host in network::AAD_HOSTS {
        let resp = client
            .get(lab.url(host, "/contoso.com/v2.0/.well-known/openid-configuration"))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "{host}");
        let doc: Value = resp.json().await.unwrap();
        assert_eq!(
            doc["token_endpoint"],
            format!("https://{host}:{port}/{TID}/oauth2/v2.0/token"),
            "{host}"
        );
        assert_eq!(
            doc["issuer"],
            format!("https://login.microsoftonline.com/{TID}/v2.0")
        );
    }

    // Exchange names → mock-exchange (EX1), which challenges with the realm of the Host it saw.
    for host in [
        "mail.contoso.com",
        "autodiscover.contoso.com",
        "mail.corp.contoso.com",
        "owa.contoso.com",
        "ex1.contoso.com",
    ] {
        let resp = client
            .get(lab.url(host, "/EWS/Exchange.asmx"))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 401, "{host}");
        assert_eq!(resp.headers()["x-feserver"], "EX1", "{host}");
        let ch = challenges(&resp);
        assert!(ch.contains(&"Negotiate".to_string()), "{host}: {ch:?}");
        assert!(
            ch.iter().any(|c| c.starts_with("Bearer client_id=")),
            "{host}: {ch:?}"
        );
    }
    // The Basic realm is the Host Exchange received (port stripped by Exchange).
    let resp = client
        .get(lab.url("mail.contoso.com", "/autodiscover/autodiscover.xml"))
        .send()
        .await
        .unwrap();
    assert!(challenges(&resp).contains(&"Basic realm=\"mail.contoso.com\"".to_string()));

    // The services' admin APIs are not on the clients' network.
    let resp = client
        .get(lab.url("login.microsoftonline.com", "/_admin/tenants"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
}

#[tokio::test]
async fn unknown_host_is_a_502_naming_the_lab_hosts() {
    let lab = contoso().await;
    // The lab client's DNS sends every name to the network, port or not: never the internet.
    let resp = lab
        .http_client()
        .get("http://www.fabrikam.com/")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 502);
    assert!(resp
        .text()
        .await
        .unwrap()
        .starts_with("502 Bad Gateway: the lab has no host named 'www.fabrikam.com'.\n"));
    let resp = lab
        .http_client()
        .get("http://mail.contoso.com/EWS/Exchange.asmx")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);

    let mut s = tokio::net::TcpStream::connect(lab.network_addr())
        .await
        .unwrap();
    s.write_all(b"GET / HTTP/1.1\r\nHost: www.fabrikam.com\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    assert!(out.starts_with("HTTP/1.1 502 Bad Gateway\r\n"), "{out}");
    assert!(
        out.contains("content-type: text/plain; charset=utf-8\r\n"),
        "{out}"
    );
    assert!(
        out.ends_with("\r\n\r\n502 Bad Gateway: the lab has no host named 'www.fabrikam.com'.\nLab hosts: login.microsoftonline.com, login.windows.net, login.microsoft.com, sts.windows.net, mail.contoso.com, autodiscover.contoso.com, mail.corp.contoso.com, owa.contoso.com, ex1.contoso.com\n"),
        "{out}"
    );
}

#[tokio::test]
async fn ssl_offload_makes_exchange_see_http_and_refuse_the_audience() {
    let lab = contoso().await;
    let token = access_token(&lab, "https://mail.contoso.com/").await;
    assert_accepted(&ews(&lab, "mail.contoso.com", &token).await);

    lab.set_ssl_offload("mail.contoso.com", true).unwrap();
    assert!(
        lab.devices()
            .load_balancer("mail.contoso.com")
            .unwrap()
            .ssl_offload
    );
    let resp = ews(&lab, "mail.contoso.com", &token).await;
    assert_eq!(resp.status(), 401);
    assert_eq!(diag(&resp).as_deref(), Some(OFFLOAD_DIAG));
    assert!(challenges(&resp)[0].ends_with(
        "authorization_uri=\"https://login.windows.net/common/oauth2/authorize\", error=\"invalid_token\""
    ));
    // Another namespace, without a load balancer that offloads, is unaffected.
    let corp = access_token(&lab, "https://mail.corp.contoso.com/").await;
    assert_accepted(&ews(&lab, "mail.corp.contoso.com", &corp).await);

    // The fix: no offloading. Applies to the next request.
    lab.set_ssl_offload("mail.contoso.com", false).unwrap();
    assert_accepted(&ews(&lab, "mail.contoso.com", &token).await);
}

#[tokio::test]
async fn wap_name_translation_gives_the_name_mismatch_diagnostic() {
    let lab = contoso().await;
    let token = access_token(&lab, "https://autodiscover.contoso.com/").await;
    let pox = |lab: &Lab| {
        lab.http_client()
            .post(lab.url("autodiscover.contoso.com", "/autodiscover/autodiscover.xml"))
            .header("Authorization", format!("Bearer {token}"))
            .header("Content-Type", "text/xml")
            .body("<Autodiscover xmlns=\"http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006\"><Request><EMailAddress>GregT@contoso.com</EMailAddress><AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema></Request></Autodiscover>")
            .send()
    };
    // Published in pass-through: the token's name is the name Exchange sees.
    assert_accepted(&pox(&lab).await.unwrap());

    lab.set_reverse_proxy("autodiscover.contoso.com", "mail.contoso.com")
        .unwrap();
    let resp = pox(&lab).await.unwrap();
    assert_eq!(resp.status(), 401);
    assert_eq!(diag(&resp).as_deref(), Some(WAP_DIAG));
    // Exchange saw the translated name.
    assert!(challenges(&resp).contains(&"Basic realm=\"mail.contoso.com\"".to_string()));

    assert!(lab.remove_reverse_proxy("autodiscover.contoso.com"));
    assert!(!lab.remove_reverse_proxy("autodiscover.contoso.com"));
    assert_accepted(&pox(&lab).await.unwrap());
}

#[tokio::test]
async fn a_blocked_segment_gets_no_answer_and_other_hosts_still_work() {
    let lab = contoso().await;
    // A kept-alive connection to the name exists before the block...
    assert_eq!(
        ropc(&lab, "https://mail.contoso.com/")
            .await
            .unwrap()
            .status(),
        200
    );
    lab.block("login.microsoftonline.com").unwrap();

    // ...and the next request on it still meets the block: a transport error, no HTTP response.
    let err = ropc(&lab, "https://mail.contoso.com/").await.unwrap_err();
    assert!(!err.is_status() && !err.is_timeout(), "{err:?}");

    // On the wire: the connection is closed without a single byte of answer.
    let mut s = tokio::net::TcpStream::connect(lab.network_addr())
        .await
        .unwrap();
    s.write_all(
        b"GET /common/discovery/instance HTTP/1.1\r\nHost: login.microsoftonline.com\r\n\r\n",
    )
    .await
    .unwrap();
    let mut buf = Vec::new();
    match s.read_to_end(&mut buf).await {
        Ok(_) => assert!(buf.is_empty(), "{}", String::from_utf8_lossy(&buf)),
        Err(e) => assert_eq!(e.kind(), std::io::ErrorKind::ConnectionReset),
    }

    // Exchange, and Azure AD under its other names, are still reachable.
    let resp = lab
        .http_client()
        .get(lab.url("mail.contoso.com", "/mapi/emsmdb/"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    let resp = lab
        .http_client()
        .get(lab.url("login.windows.net", "/common/discovery/instance?api-version=1.1&authorization_endpoint=https://login.windows.net/common/oauth2/authorize"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);

    lab.unblock("login.microsoftonline.com").unwrap();
    assert_eq!(
        token_for(&lab, "https://mail.contoso.com/").await.status(),
        200
    );

    // A typo is refused, with the nearest lab host.
    let e = lab.block("login.microsoftonline.co").unwrap_err();
    assert_eq!(
        e.hint.as_deref(),
        Some("did you mean `login.microsoftonline.com`?")
    );
    assert!(lab.devices().client_segment.blocked.is_empty());
}

#[tokio::test]
async fn the_pre_hma_lab_is_the_state_before_the_enabling_steps() {
    let lab = Lab::builtin("contoso-pre-hma").await.unwrap();
    assert_eq!(lab.name(), "contoso-pre-hma");
    let client = lab.http_client();

    // EvoSts is not the default authorization endpoint: no authorization_uri.
    let resp = client
        .post(lab.url("mail.contoso.com", "/EWS/Exchange.asmx"))
        .header("Authorization", "Bearer")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    let bearer: Vec<String> = challenges(&resp)
        .into_iter()
        .filter(|c| c.starts_with("Bearer"))
        .collect();
    assert_eq!(
        bearer,
        [format!("Bearer client_id=\"00000002-0000-0ff1-ce00-000000000000\", trusted_issuers=\"00000001-0000-0000-c000-000000000000@{TID}\", token_types=\"app_asserted_user_v1 service_asserted_app_v1\"")]
    );

    // MAPI has no OAuth: no Bearer offered at all.
    let resp = client
        .post(lab.url(
            "mail.contoso.com",
            "/mapi/emsmdb/?MailboxId=GregT@contoso.com",
        ))
        .header("Authorization", "Bearer")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    assert_eq!(challenges(&resp), ["Negotiate", "NTLM"]);

    // OAuth2ClientProfileEnabled false: Outlook for Windows meets the flighting diagnostic.
    let resp = client
        .post(lab.url("mail.contoso.com", "/EWS/Exchange.asmx"))
        .header("Authorization", "Bearer")
        .header(
            "User-Agent",
            "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.4639; Pro)",
        )
        .header("X-AnchorMailbox", GREG)
        .send()
        .await
        .unwrap();
    assert_eq!(
        diag(&resp).as_deref(),
        Some("4000000;reason=\"Flighting is not enabled for domain 'gregt@contoso.com'.\";error_category=\"oauth_not_available\"")
    );

    // The internal namespace is not an SPN yet: AADSTS50001.
    let resp = token_for(&lab, "https://mail.corp.contoso.com/").await;
    assert_eq!(resp.status(), 400);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"], "invalid_resource");
    assert_eq!(body["error_codes"], serde_json::json!([50001]));
    assert!(body["error_description"]
        .as_str()
        .unwrap()
        .starts_with("AADSTS50001: The application named https://mail.corp.contoso.com/ was not found in the tenant named contoso.com."));

    // In the enabled lab all four are the other way round.
    let hma = contoso().await;
    let resp = hma
        .http_client()
        .post(hma.url("mail.contoso.com", "/mapi/emsmdb/"))
        .header("Authorization", "Bearer")
        .send()
        .await
        .unwrap();
    let ch = challenges(&resp);
    assert!(
        ch.iter().any(|c| c.ends_with(
            ", authorization_uri=\"https://login.windows.net/common/oauth2/authorize\""
        )),
        "{ch:?}"
    );
    assert_eq!(
        token_for(&hma, "https://mail.corp.contoso.com/")
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn two_labs_run_side_by_side_with_their_own_devices() {
    let (a, b) = tokio::join!(Lab::builtin("contoso"), Lab::builtin("contoso"));
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_ne!(a.network_addr(), b.network_addr());
    assert_ne!(a.aad().addr(), b.aad().addr());
    assert_ne!(a.exchange().url(), b.exchange().url());
    assert!(!a.clock().same_as(b.clock()));

    a.set_ssl_offload("mail.contoso.com", true).unwrap();
    let ta = access_token(&a, "https://mail.contoso.com/").await;
    let tb = access_token(&b, "https://mail.contoso.com/").await;
    assert_eq!(
        diag(&ews(&a, "mail.contoso.com", &ta).await).as_deref(),
        Some(OFFLOAD_DIAG)
    );
    assert_accepted(&ews(&b, "mail.contoso.com", &tb).await);
    // The device changed in one lab only.
    assert!(
        !b.devices()
            .load_balancer("mail.contoso.com")
            .unwrap()
            .ssl_offload
    );
}

#[tokio::test]
async fn one_clock_moves_both_services() {
    let file = LabFile::builtin("contoso").unwrap();
    let lab = Lab::start_file(file, Clock::frozen_at_unix(SEED_TIME))
        .await
        .unwrap();
    assert!(lab.aad().state().clock.same_as(lab.clock()));
    assert!(lab.exchange().state().clock.same_as(lab.clock()));

    let token = access_token(&lab, "https://mail.contoso.com/").await;
    let claims = jwt_claims(&token);
    assert_eq!(claims["iat"], SEED_TIME);
    assert_accepted(&ews(&lab, "mail.contoso.com", &token).await);

    // One advance: Azure AD issues at the new time and Exchange finds the old token expired.
    lab.clock().advance_secs(86_400);
    let fresh = access_token(&lab, "https://mail.contoso.com/").await;
    assert_eq!(jwt_claims(&fresh)["iat"], SEED_TIME + 86_400);
    let resp = ews(&lab, "mail.contoso.com", &token).await;
    assert_eq!(resp.status(), 401);
    assert_eq!(
        diag(&resp).as_deref(),
        Some(mock_exchange::diag::Diag::Expired.header_value().as_str())
    );
    assert_accepted(&ews(&lab, "mail.contoso.com", &fresh).await);
}

fn jwt_claims(token: &str) -> Value {
    use base64::Engine;
    let payload = token.split('.').nth(1).expect("a JWS");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .expect("base64url");
    serde_json::from_slice(&bytes).expect("JSON claims")
}

#[tokio::test]
async fn dropping_the_lab_closes_every_listener() {
    let lab = contoso().await;
    let addrs: Vec<SocketAddr> = vec![
        lab.network_addr(),
        lab.aad().addr(),
        lab.exchange()
            .url()
            .trim_start_matches("http://")
            .parse()
            .unwrap(),
    ];
    for a in &addrs {
        assert!(tokio::net::TcpStream::connect(a).await.is_ok());
    }
    lab.shutdown().await;
    for a in &addrs {
        assert!(tokio::net::TcpStream::connect(a).await.is_err(), "{a}");
    }

    // Plain drop, no await: the listeners close as soon as their tasks run.
    let lab = contoso().await;
    let net = lab.network_addr();
    let aad = lab.aad().addr();
    drop(lab);
    let mut closed = false;
    for _ in 0..1000 {
        if tokio::net::TcpStream::connect(net).await.is_err()
            && tokio::net::TcpStream::connect(aad).await.is_err()
        {
            closed = true;
            break;
        }
        tokio::task::yield_now().await;
    }
    assert!(closed);
}

// ---- the forwarding itself, against an upstream that echoes what it received ----

async fn echo_upstream() -> (SocketAddr, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        while let Ok((stream, remote)) = listener.accept().await {
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(move |req: Request<Incoming>| async move {
                    let (parts, body) = req.into_parts();
                    let close = parts.headers.contains_key("x-close");
                    let body = body
                        .collect()
                        .await
                        .map(|c| c.to_bytes())
                        .unwrap_or_default();
                    let mut dump = format!("{} {}\n", parts.method, parts.uri);
                    for (n, v) in &parts.headers {
                        dump.push_str(&format!("{n}: {}\n", v.to_str().unwrap_or("?")));
                    }
                    dump.push('\n');
                    dump.push_str(&String::from_utf8_lossy(&body));
                    let mut resp = Response::builder();
                    if close {
                        resp = resp.header("connection", "close");
                    }
                    let resp = resp
                        .status(207)
                        .header("content-length", dump.len().to_string())
                        .header("x-zulu", "1")
                        .header("x-alpha", "2")
                        .header("www-authenticate", "Negotiate")
                        .header("www-authenticate", "NTLM")
                        .header("x-upstream-peer", remote.to_string())
                        .body(Full::new(Bytes::from(dump)))
                        .unwrap();
                    Ok::<_, std::convert::Infallible>(resp)
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    (addr, task)
}

#[tokio::test]
async fn forwards_method_path_headers_and_body_and_returns_the_answer_unchanged() {
    let (up, task) = echo_upstream().await;
    let hosts = HostTable {
        namespaces: vec!["mail.contoso.com".into(), "autodiscover.contoso.com".into()],
        servers: vec![("EX1".into(), "ex1.contoso.com".into())],
        adfs: None,
    };
    let net = Network::new(
        hosts,
        Devices::default(),
        format!("http://{up}"),
        vec![("EX1".into(), format!("http://{up}"))],
    );
    let listener = Listener::start(net.clone(), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let send = |host: &'static str| {
        let addr = listener.addr();
        async move {
            let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
            let req = format!("PUT /EWS/Exchange.asmx?a=1&b=%20 HTTP/1.1\r\nHost: {host}\r\nX-Forwarded-Proto: http\r\nX-Forwarded-For: 10.0.0.7\r\nX-Custom: kept\r\nConnection: close\r\nContent-Length: 5\r\n\r\nhello");
            s.write_all(req.as_bytes()).await.unwrap();
            let mut out = String::new();
            s.read_to_string(&mut out).await.unwrap();
            out
        }
    };
    let out = send("Mail.Contoso.com:8443").await;
    assert!(
        out.starts_with("HTTP/1.1 207 Multi-Status\r\ncontent-length: "),
        "{out}"
    );
    assert!(
        out.contains("\r\nx-zulu: 1\r\nx-alpha: 2\r\nwww-authenticate: Negotiate\r\nwww-authenticate: NTLM\r\nx-upstream-peer: 127.0.0.1:"),
        "{out}"
    );
    let body = out.split("\r\n\r\n").nth(1).unwrap();
    assert_eq!(
        body,
        "PUT /EWS/Exchange.asmx?a=1&b=%20\nhost: Mail.Contoso.com:8443\nx-custom: kept\ncontent-length: 5\nx-forwarded-proto: https\nx-forwarded-for: 10.0.0.7, 127.0.0.1\n\nhello"
    );

    // Through WAP and an offloading load balancer: the translated name, plain http.
    net.update(|d| {
        d.put(Device::ReverseProxy(ReverseProxy {
            host: "autodiscover.contoso.com".into(),
            forward_to: "mail.contoso.com".into(),
        }));
        d.put(Device::LoadBalancer(LoadBalancer {
            host: "mail.contoso.com".into(),
            ssl_offload: true,
            targets: vec!["EX1".into()],
        }));
    })
    .unwrap();
    let out = send("autodiscover.contoso.com:8443").await;
    let body = out.split("\r\n\r\n").nth(1).unwrap();
    assert!(body.contains("\nhost: mail.contoso.com:8443\n"), "{body}");
    assert!(body.contains("\nx-forwarded-proto: http\n"), "{body}");

    // An oversized body is refused before anything is forwarded.
    let mut s = tokio::net::TcpStream::connect(listener.addr())
        .await
        .unwrap();
    let head = format!(
        "POST / HTTP/1.1\r\nHost: mail.contoso.com\r\nConnection: close\r\nContent-Length: {}\r\n\r\n",
        network::MAX_BODY + 1
    );
    s.write_all(head.as_bytes()).await.unwrap();
    let chunk = vec![b'x'; 64 * 1024];
    let mut sent = 0;
    while sent <= network::MAX_BODY {
        if s.write_all(&chunk).await.is_err() {
            break;
        }
        sent += chunk.len();
    }
    let mut out = String::new();
    let _ = s.read_to_string(&mut out).await;
    assert!(
        out.starts_with("HTTP/1.1 413 Payload Too Large\r\n"),
        "{out}"
    );

    listener.shutdown().await;
    task.abort();
}

const REFERENCING_LAB: &str = "version: 1
name: split
aad: { file: halves/aad.yaml }
exchange: { builtin: contoso }
network:
  exchange_namespaces: [mail.contoso.com, autodiscover.contoso.com]
";

#[tokio::test]
async fn file_and_builtin_halves_load_relative_to_the_lab_file() {
    let dir = temp_dir("refs");
    std::fs::create_dir_all(dir.join("halves")).unwrap();
    std::fs::write(dir.join("halves/aad.yaml"), mock_aad::CONTOSO_LAB).unwrap();
    let path = dir.join("split.yaml");
    std::fs::write(&path, REFERENCING_LAB).unwrap();
    let lab = Lab::start(&path).await.unwrap();
    assert_eq!(lab.name(), "split");
    // The crates' own contoso halves: the internal namespace is not an SPN there.
    assert_eq!(
        token_for(&lab, "https://mail.contoso.com/").await.status(),
        200
    );
    assert_eq!(
        token_for(&lab, "https://mail.corp.contoso.com/")
            .await
            .status(),
        400
    );
    let resp = lab
        .http_client()
        .get(lab.url("mail.corp.contoso.com", "/"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 502);
    drop(lab);

    // A missing half is reported where it is named.
    std::fs::remove_file(dir.join("halves/aad.yaml")).unwrap();
    let e = LabFile::load(&path).unwrap_err();
    assert_eq!((e.line, e.column), (3, 14));
    assert!(e.message.starts_with("cannot read '"), "{e}");
    // Without a file on disk, references cannot resolve.
    let e = parse(REFERENCING_LAB).unwrap_err();
    assert_eq!(
        e.to_string(),
        "lab.yaml:3:14: 'halves/aad.yaml': file references need a lab file on disk"
    );
    // An unknown built-in half.
    let text = "version: 1\nname: x\naad: { builtin: contoso }\nexchange: { builtin: contosa }\n";
    let e = parse(text).unwrap_err();
    assert_eq!(e.to_string(), "lab.yaml:4:13: no built-in half named 'contosa' (built-in: contoso); did you mean `contoso`?");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Raw bytes in, whatever comes back before the network closes the connection.
async fn raw(addr: SocketAddr, bytes: &[u8]) -> String {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(bytes).await.unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out).await;
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test]
async fn bad_input_gets_a_clean_answer_and_the_network_carries_on() {
    let lab = contoso().await;
    let addr = lab.network_addr();
    let out = raw(addr, b"\x00\x01\x02 not http at all\r\n\r\n").await;
    assert!(out.is_empty() || out.starts_with("HTTP/1.1 400 "), "{out}");
    let out = raw(addr, b"GET / HTTP/1.0\r\n\r\n").await;
    assert!(out.starts_with("HTTP/1.0 400 Bad Request\r\n"), "{out}");
    assert!(
        out.ends_with("\r\n\r\n400 Bad Request: the request has no Host header.\n"),
        "{out}"
    );
    let out = raw(
        addr,
        b"GET / HTTP/1.1\r\nHost: \xff\xfe\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(out.starts_with("HTTP/1.1 400 Bad Request\r\n"), "{out}");
    // A body cut short by the client: the network answers 400 and closes.
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(b"POST /EWS/Exchange.asmx HTTP/1.1\r\nHost: mail.contoso.com\r\nContent-Length: 10\r\n\r\nab")
        .await
        .unwrap();
    s.shutdown().await.unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out).await;
    let out = String::from_utf8_lossy(&out);
    assert!(out.is_empty() || out.starts_with("HTTP/1.1 400 "), "{out}");
    // Still serving.
    let out = raw(
        addr,
        b"GET /EWS/Exchange.asmx HTTP/1.1\r\nHost: mail.contoso.com\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(out.starts_with("HTTP/1.1 401 Unauthorized\r\n"), "{out}");
}

#[tokio::test]
async fn each_client_connection_has_its_own_server_connection() {
    let (up, task) = echo_upstream().await;
    let hosts = HostTable {
        namespaces: vec!["mail.contoso.com".into()],
        servers: vec![("EX1".into(), "ex1.contoso.com".into())],
        adfs: None,
    };
    let net = Network::new(
        hosts,
        Devices::default(),
        format!("http://{up}"),
        vec![("EX1".into(), format!("http://{up}"))],
    );
    let listener = Listener::start(net, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let open = || async {
        let s = tokio::net::TcpStream::connect(listener.addr())
            .await
            .unwrap();
        let (sender, conn) = hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(s))
            .await
            .unwrap();
        tokio::spawn(conn);
        sender
    };
    async fn upstream_peer(
        sender: &mut hyper::client::conn::http1::SendRequest<Full<Bytes>>,
        host: &str,
    ) -> String {
        let req = Request::builder()
            .uri("/mapi/emsmdb/")
            .header("host", host)
            .body(Full::new(Bytes::new()))
            .unwrap();
        let resp = sender.send_request(req).await.unwrap();
        let peer = resp.headers()["x-upstream-peer"]
            .to_str()
            .unwrap()
            .to_string();
        let _ = resp.into_body().collect().await;
        peer
    }
    let mut a = open().await;
    let mut b = open().await;
    let a1 = upstream_peer(&mut a, "mail.contoso.com").await;
    let b1 = upstream_peer(&mut b, "mail.contoso.com").await;
    let a2 = upstream_peer(&mut a, "ex1.contoso.com").await;
    let b2 = upstream_peer(&mut b, "mail.contoso.com").await;
    // One client connection, one server connection, for as long as both live...
    assert_eq!(a1, a2);
    assert_eq!(b1, b2);
    // ...and never shared with another client connection.
    assert_ne!(a1, b1);
    // A new client connection gets a new server connection.
    drop(a);
    let mut c = open().await;
    let c1 = upstream_peer(&mut c, "mail.contoso.com").await;
    assert_ne!(c1, a1);
    assert_ne!(c1, b1);
    // The service closing its connection closes the client's: the relay does not outlive it.
    let req = Request::builder()
        .uri("/mapi/emsmdb/")
        .header("host", "mail.contoso.com")
        .header("x-close", "1")
        .body(Full::new(Bytes::new()))
        .unwrap();
    let resp = c.send_request(req).await.unwrap();
    assert_eq!(resp.headers()["connection"], "close");
    let _ = resp.into_body().collect().await;
    assert!(c.ready().await.is_err());
    listener.shutdown().await;
    task.abort();
}

#[tokio::test]
async fn urls_the_services_hand_out_are_reachable_on_the_lab_network() {
    let lab = contoso().await;
    let port = lab.network_addr().port();
    // The Bearer challenge's authorization_uri, followed over the plain network.
    let resp = lab
        .http_client()
        .post(lab.url("mail.contoso.com", "/EWS/Exchange.asmx"))
        .header("Authorization", "Bearer")
        .send()
        .await
        .unwrap();
    let bearer = challenges(&resp)
        .into_iter()
        .find(|c| c.starts_with("Bearer"))
        .unwrap();
    let uri = bearer
        .split("authorization_uri=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap();
    assert_eq!(uri, "https://login.windows.net/common/oauth2/authorize");
    let reached = lab.reach(uri).unwrap();
    assert_eq!(
        reached,
        format!("http://login.windows.net:{port}/common/oauth2/authorize")
    );
    let resp = lab
        .http_client()
        .get(format!(
            "{reached}?client_id={OFFICE}&response_type=code&resource=https://mail.contoso.com/&redirect_uri=urn:ietf:wg:oauth:2.0:oob"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html")));

    assert_eq!(
        lab.reach("https://mail.corp.contoso.com/mapi/emsmdb/?MailboxId=x@contoso.com"),
        Some(format!(
            "http://mail.corp.contoso.com:{port}/mapi/emsmdb/?MailboxId=x@contoso.com"
        ))
    );
    assert_eq!(lab.reach("https://www.fabrikam.com/"), None);
    assert_eq!(lab.reach("urn:ietf:wg:oauth:2.0:oob?code=x"), None);
    assert_eq!(lab.reach("not a url"), None);
}
