//! The client's connections: one kept-alive HTTP/1.1 connection per (scheme, host name), dialled
//! to wherever the transport resolves the name, over real TLS when the transport has a TLS
//! configuration.
//!
//! Outlook holds a connection per server and reuses it; connection-bound logons (NTLM, Negotiate)
//! depend on that — the three legs of a handshake must travel on one connection, and a logon
//! stays on the connection it was made on. A general-purpose pooled client cannot promise it (a
//! connection goes back to its pool asynchronously, so the next request may open another), so the
//! client keeps its connections itself: a request goes on the host's connection, a new one is
//! dialled only when there is none or the server closed it.
//!
//! A dialler may have a forward proxy for `https://` URLs (the front door's recording proxy, as
//! `HTTPS_PROXY` gives one): the connection then goes to the proxy, `CONNECT host:443`, and TLS
//! runs inside the tunnel. The certificate the server presented on each TLS connection is kept,
//! since a Windows logon over HTTPS binds itself to it (extended protection's channel binding).
//!
//! TLS uses rustls with the lab CA as the only root and the machine's wall clock (certificates are
//! judged by real time, as the operating system does, not by the lab clock). A certificate the
//! client rejects becomes the Security Alert text Outlook shows (WinINet's dialog), followed by
//! rustls' own reason, so a scenario can assert on what the user would read.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::client::conn::http1::SendRequest;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use rustls::pki_types::ServerName;
use rustls_pki_types::pem::PemObject;
use tokio::net::TcpStream;
use tokio::task::JoinSet;
use tokio_rustls::TlsConnector;

/// Why no response arrived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoResponse {
    /// The client rejected the server's certificate: Outlook's Security Alert line and rustls'
    /// reason (`Security Alert: … (host: reason)`); the user does not proceed.
    Certificate(String),
    /// Anything else: the name did not resolve, the connection was refused, closed or timed out.
    Network(String),
}

impl std::fmt::Display for NoResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NoResponse::Certificate(t) | NoResponse::Network(t) => f.write_str(t),
        }
    }
}

/// Turns a host name into the address to dial (`None`: the name does not resolve).
pub type Resolve = Arc<dyn Fn(&str) -> Option<SocketAddr> + Send + Sync>;

/// Time allowed to open a TCP connection, and for a TLS handshake.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Time allowed for a response head once the request is sent.
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(60);

/// Outlook's Security Alert lines (WinINet), one per certificate check that failed.
pub const ALERT_UNTRUSTED: &str = "The security certificate was issued by a company you have not chosen to trust. View the certificate to determine whether you want to trust the certifying authority.";
pub const ALERT_DATE: &str = "The security certificate has expired or is not yet valid.";
pub const ALERT_NAME: &str =
    "The name on the security certificate is invalid or does not match the name of the site.";

/// The Security Alert line for a certificate rustls rejected; `None` for other TLS failures.
pub fn alert_for(e: &rustls::Error) -> Option<&'static str> {
    use rustls::CertificateError as C;
    match e {
        rustls::Error::InvalidCertificate(c) => Some(match c {
            C::Expired
            | C::NotValidYet
            | C::ExpiredContext { .. }
            | C::NotValidYetContext { .. } => ALERT_DATE,
            C::NotValidForName | C::NotValidForNameContext { .. } => ALERT_NAME,
            _ => ALERT_UNTRUSTED,
        }),
        _ => None,
    }
}

/// A rustls client configuration trusting only `ca_pem` (one or more PEM certificates).
pub fn client_config(ca_pem: &str) -> Result<Arc<rustls::ClientConfig>, String> {
    let mut roots = rustls::RootCertStore::empty();
    let mut found = 0;
    for cert in rustls_pki_types::CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
        let cert = cert.map_err(|e| format!("the CA PEM cannot be read: {e}"))?;
        roots
            .add(cert)
            .map_err(|e| format!("the CA certificate is not usable: {e}"))?;
        found += 1;
    }
    if found == 0 {
        return Err("the CA PEM holds no certificate".into());
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut cfg = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(cfg))
}

/// Where the client's connections go.
#[derive(Clone)]
pub struct Dialer {
    /// For `http://` URLs, and for `https://` ones when there is no TLS.
    pub plain: Resolve,
    /// For `https://` URLs: where to dial and the TLS configuration to speak.
    pub tls: Option<(Resolve, Arc<rustls::ClientConfig>)>,
    /// A forward proxy for `https://` URLs: TLS goes through its `CONNECT` tunnel.
    pub proxy: Option<SocketAddr>,
}

/// The open connections of one client.
#[derive(Default)]
pub struct Pool {
    conns: HashMap<(bool, String), SendRequest<Full<Bytes>>>,
    /// The leaf certificate (DER) each TLS connection's server presented, by host.
    certs: HashMap<String, Vec<u8>>,
    tasks: JoinSet<()>,
}

impl Pool {
    /// Forgets every connection (a restarted client).
    pub fn clear(&mut self) {
        self.conns.clear();
        self.certs.clear();
        self.tasks.abort_all();
    }

    /// The certificate `host` presented on the client's TLS connection to it, if there is one.
    pub fn server_certificate(&self, host: &str) -> Option<&[u8]> {
        self.certs
            .get(&host.to_ascii_lowercase())
            .map(Vec::as_slice)
    }

    /// Sends `make()` to `host` on its kept-alive connection, dialling one when needed. A request
    /// the server never saw (its connection was already closed) is sent once more on a new one.
    pub async fn send(
        &mut self,
        dialer: &Dialer,
        https: bool,
        host: &str,
        make: impl Fn() -> Request<Full<Bytes>>,
    ) -> Result<Response<Incoming>, NoResponse> {
        let net = NoResponse::Network;
        let tls = if https { dialer.tls.as_ref() } else { None };
        let key = (tls.is_some(), host.to_ascii_lowercase());
        for attempt in 0..2 {
            let mut sender = match self.conns.remove(&key) {
                Some(s) if !s.is_closed() => s,
                _ => self.dial(dialer, tls, host).await?,
            };
            if sender.ready().await.is_err() {
                // Closed while idle: dial again.
                sender = self.dial(dialer, tls, host).await?;
                sender.ready().await.map_err(|e| net(e.to_string()))?;
            }
            let sent = tokio::time::timeout(RESPONSE_TIMEOUT, sender.send_request(make())).await;
            match sent {
                Err(_) => return Err(net(format!("{host} did not answer in time"))),
                Ok(Ok(resp)) => {
                    self.conns.insert(key, sender);
                    return Ok(resp);
                }
                Ok(Err(e)) if e.is_canceled() && attempt == 0 => continue,
                Ok(Err(e)) => return Err(net(error_chain(&e))),
            }
        }
        Err(net(format!(
            "{host}: the connection closed before the request was sent"
        )))
    }

    async fn dial(
        &mut self,
        dialer: &Dialer,
        tls: Option<&(Resolve, Arc<rustls::ClientConfig>)>,
        host: &str,
    ) -> Result<SendRequest<Full<Bytes>>, NoResponse> {
        let net = NoResponse::Network;
        let resolve = tls.map(|(r, _)| r).unwrap_or(&dialer.plain);
        let proxy = tls.and(dialer.proxy);
        let addr = match proxy {
            Some(p) => p,
            None => resolve(host)
                .ok_or_else(|| net(format!("the name {host} could not be resolved")))?,
        };
        let mut tcp = tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(addr))
            .await
            .map_err(|_| net(format!("connecting to {host} timed out")))?
            .map_err(|e| net(format!("cannot connect to {host}: {e}")))?;
        let _ = tcp.set_nodelay(true);
        if proxy.is_some() {
            tokio::time::timeout(CONNECT_TIMEOUT, tunnel(&mut tcp, host))
                .await
                .map_err(|_| net(format!("the proxy did not open a tunnel to {host} in time")))??;
        }
        match tls {
            None => self.handshake(tcp).await,
            Some((_, config)) => {
                let name = ServerName::try_from(host.to_string())
                    .map_err(|e| net(format!("{host} is not a valid TLS server name: {e}")))?;
                let connecting = TlsConnector::from(config.clone()).connect(name, tcp);
                let stream = tokio::time::timeout(CONNECT_TIMEOUT, connecting)
                    .await
                    .map_err(|_| net(format!("the TLS handshake with {host} timed out")))?
                    .map_err(|e| tls_error(host, &e))?;
                if let Some(leaf) = stream
                    .get_ref()
                    .1
                    .peer_certificates()
                    .and_then(|c| c.first())
                {
                    self.certs.insert(host.to_ascii_lowercase(), leaf.to_vec());
                }
                self.handshake(stream).await
            }
        }
    }

    async fn handshake<S>(&mut self, io: S) -> Result<SendRequest<Full<Bytes>>, NoResponse>
    where
        S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    {
        let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(io))
            .await
            .map_err(|e| NoResponse::Network(e.to_string()))?;
        // Reap finished connections so the set stays as small as the open ones.
        while self.tasks.try_join_next().is_some() {}
        self.tasks.spawn(async move {
            let _ = conn.await;
        });
        Ok(sender)
    }
}

/// `CONNECT host:443` on a proxy connection; `Ok` once the proxy answered `200`.
async fn tunnel(tcp: &mut TcpStream, host: &str) -> Result<(), NoResponse> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let net = NoResponse::Network;
    tcp.write_all(format!("CONNECT {host}:443 HTTP/1.1\r\nHost: {host}:443\r\n\r\n").as_bytes())
        .await
        .map_err(|e| net(format!("the proxy connection failed: {e}")))?;
    // The answer's head, byte by byte: nothing of the tunnel may be read past it.
    let mut head = Vec::new();
    let mut b = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if head.len() > 16 * 1024 || tcp.read(&mut b).await.map_err(|e| net(e.to_string()))? == 0 {
            return Err(net(format!("the proxy closed the tunnel to {host}")));
        }
        head.push(b[0]);
    }
    let status = String::from_utf8_lossy(&head);
    let line = status.lines().next().unwrap_or_default();
    if line.split_whitespace().nth(1) == Some("200") {
        Ok(())
    } else {
        Err(net(format!(
            "the proxy refused the tunnel to {host}: {line}"
        )))
    }
}

/// A failed handshake as the user meets it: the Security Alert for a rejected certificate.
fn tls_error(host: &str, e: &std::io::Error) -> NoResponse {
    let rustls_error = e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>());
    match rustls_error.and_then(|r| alert_for(r).map(|a| (a, r))) {
        Some((alert, r)) => {
            NoResponse::Certificate(format!("Security Alert: {alert} ({host}: {r})"))
        }
        None => NoResponse::Network(format!("the TLS handshake with {host} failed: {e}")),
    }
}

fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut src = e.source();
    while let Some(s) = src {
        text.push_str(": ");
        text.push_str(&s.to_string());
        src = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls::CertificateError as C;

    #[test]
    fn rejected_certificates_map_to_the_security_alert_lines() {
        let cases = [
            (C::Expired, ALERT_DATE),
            (C::NotValidYet, ALERT_DATE),
            (C::NotValidForName, ALERT_NAME),
            (C::UnknownIssuer, ALERT_UNTRUSTED),
            (C::BadSignature, ALERT_UNTRUSTED),
        ];
        for (c, alert) in cases {
            assert_eq!(
                alert_for(&rustls::Error::InvalidCertificate(c.clone())),
                Some(alert),
                "{c:?}"
            );
        }
        assert_eq!(alert_for(&rustls::Error::HandshakeNotComplete), None);
        let io = std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            rustls::Error::InvalidCertificate(C::Expired),
        );
        assert_eq!(
            tls_error("mail.contoso.com", &io),
            NoResponse::Certificate(format!(
                "Security Alert: {ALERT_DATE} (mail.contoso.com: invalid peer certificate: Expired)"
            ))
        );
        let other = std::io::Error::other("reset");
        assert_eq!(
            tls_error("mail.contoso.com", &other),
            NoResponse::Network("the TLS handshake with mail.contoso.com failed: reset".into())
        );
    }

    #[test]
    fn a_ca_pem_without_certificates_is_refused() {
        assert_eq!(
            client_config("not a pem").err().as_deref(),
            Some("the CA PEM holds no certificate")
        );
    }
}
