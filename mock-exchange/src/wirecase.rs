//! Header names written with the case Exchange and IIS put on the wire.
//!
//! HTTP header names are case-insensitive, and hyper keeps them lowercase, but a capture is read
//! by people: the field guide's 401s show `Www-Authenticate: Negotiate` (written by IIS 8.5's
//! authentication modules) next to `WWW-Authenticate: Bearer …` (written by Exchange's OAuth
//! module), `request-id` and `x-ms-diagnostics` in lowercase, `X-FEServer`, `X-Powered-By`. On
//! IIS 7.5 (the guide's Exchange 2013 capture) every challenge is `WWW-Authenticate`.
//!
//! hyper writes a response's header names in their original case when the response carries
//! hyper's header-case map in its extensions; the map is private to hyper and only made by its
//! HTTP/1 parser (`preserve_header_case`). So [`apply`] writes the response head with the wire
//! names into an in-memory pipe, lets hyper's client parse it back with case preserved, and
//! moves the resulting extensions onto the response. A relay that also parses with
//! `preserve_header_case` and passes the extensions on (the lab network does) keeps the case all
//! the way to the client. Header order stays hyper's: values of one name are written together.

use std::borrow::Cow;

use axum::body::Body;
use axum::http::{HeaderMap, Response};
use http_body_util::Empty;
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Names whose wire spelling is not plain Title-Case.
const SPELLINGS: &[(&str, &str)] = &[
    ("request-id", "request-id"),
    ("x-ms-diagnostics", "x-ms-diagnostics"),
    ("x-feserver", "X-FEServer"),
    ("x-beserver", "X-BEServer"),
    ("x-calculatedbetarget", "X-CalculatedBETarget"),
    ("x-aspnet-version", "X-AspNet-Version"),
    ("x-diaginfo", "X-DiagInfo"),
    ("x-owa-version", "X-OWA-Version"),
    ("x-responsecode", "X-ResponseCode"),
    ("x-requesttype", "X-RequestType"),
    ("x-requestid", "X-RequestId"),
    ("x-clientinfo", "X-ClientInfo"),
    ("x-serverapplication", "X-ServerApplication"),
    ("x-expirationinfo", "X-ExpirationInfo"),
    ("x-pendingperiod", "X-PendingPeriod"),
    ("x-mapihttpcapability", "X-MapiHttpCapability"),
    ("x-oauth-enabled", "X-OAuth-Enabled"),
    ("x-soap-enabled", "X-SOAP-Enabled"),
    ("x-wssecurity-enabled", "X-WSSecurity-Enabled"),
    ("x-wssecurity-for", "X-WSSecurity-For"),
    ("ms-server-activesync", "MS-Server-ActiveSync"),
    ("ms-asprotocolversions", "MS-ASProtocolVersions"),
    ("ms-asprotocolcommands", "MS-ASProtocolCommands"),
    ("www-authenticate", "WWW-Authenticate"),
];

/// The wire spelling of header `name` with `value` in a response whose `Server` is `server`.
pub fn spelling<'a>(name: &'a str, value: &[u8], server: &str) -> Cow<'a, str> {
    if name == "www-authenticate" {
        // IIS 8.x's own modules write `Www-Authenticate`; Exchange's Bearer challenge, and
        // everything on IIS 7.5, is `WWW-Authenticate`.
        let iis8 = server.contains("Microsoft-IIS/8") || server.contains("Microsoft-IIS/10");
        return if iis8 && !value.starts_with(b"Bearer") {
            Cow::Borrowed("Www-Authenticate")
        } else {
            Cow::Borrowed("WWW-Authenticate")
        };
    }
    if let Some((_, s)) = SPELLINGS.iter().find(|(n, _)| *n == name) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(name.len());
    let mut up = true;
    for c in name.chars() {
        out.push(if up { c.to_ascii_uppercase() } else { c });
        up = c == '-';
    }
    Cow::Owned(out)
}

/// The response head as it goes on the wire (body length 0, for the parser).
fn head(headers: &HeaderMap) -> Vec<u8> {
    let server = headers
        .get("server")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mut out = b"HTTP/1.1 200 OK\r\n".to_vec();
    for (name, value) in headers {
        if name == "content-length" || name == "transfer-encoding" {
            continue;
        }
        out.extend_from_slice(spelling(name.as_str(), value.as_bytes(), server).as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"Content-Length: 0\r\n\r\n");
    out
}

/// Gives `resp` the wire spelling of its header names (see the module text). A head hyper
/// cannot read back leaves the response as it was.
pub async fn apply(resp: &mut Response<Body>) {
    let bytes = head(resp.headers());
    let (client, mut server) = tokio::io::duplex(bytes.len() + 4096);
    let Ok((mut sender, conn)) = hyper::client::conn::http1::Builder::new()
        .preserve_header_case(true)
        .max_buf_size(bytes.len().max(8192) + 1024)
        .handshake::<_, Empty<Bytes>>(TokioIo::new(client))
        .await
    else {
        return;
    };
    let Ok(req) = hyper::Request::get("/").body(Empty::new()) else {
        return;
    };
    // The other end answers once the request is in (an answer before it is a protocol error).
    let answer = async {
        let mut got = Vec::new();
        let mut buf = [0u8; 512];
        while !got.windows(4).any(|w| w == b"\r\n\r\n") {
            match server.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
        let _ = server.write_all(&bytes).await;
        // Stay open until the response is read.
        std::future::pending::<()>().await
    };
    let sent = sender.send_request(req);
    tokio::pin!(conn, sent, answer);
    let (mut conn_done, mut answer_done) = (false, false);
    let parsed = loop {
        tokio::select! {
            r = &mut sent => break r,
            // The connection ends only on an error; the response then fails too.
            _ = &mut conn, if !conn_done => conn_done = true,
            _ = &mut answer, if !answer_done => answer_done = true,
        }
    };
    if let Ok(mut parsed) = parsed {
        let ext = std::mem::take(parsed.extensions_mut());
        resp.extensions_mut().extend(ext);
    }
}

/// The axum layer applying [`apply`] to every response.
pub async fn layer(req: axum::extract::Request, next: axum::middleware::Next) -> Response<Body> {
    let mut resp = next.run(req).await;
    apply(&mut resp).await;
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_follow_the_guides_captures() {
        let iis85 = "Microsoft-IIS/8.5 Microsoft-HTTPAPI/2.0";
        assert_eq!(
            spelling("www-authenticate", b"NTLM", iis85),
            "Www-Authenticate"
        );
        assert_eq!(
            spelling("www-authenticate", b"Bearer client_id=\"x\"", iis85),
            "WWW-Authenticate"
        );
        assert_eq!(
            spelling("www-authenticate", b"NTLM", "Microsoft-IIS/7.5"),
            "WWW-Authenticate"
        );
        assert_eq!(spelling("request-id", b"", iis85), "request-id");
        assert_eq!(spelling("x-ms-diagnostics", b"", iis85), "x-ms-diagnostics");
        assert_eq!(spelling("x-feserver", b"", iis85), "X-FEServer");
        assert_eq!(spelling("x-powered-by", b"", iis85), "X-Powered-By");
        assert_eq!(spelling("content-length", b"", iis85), "Content-Length");
        assert_eq!(spelling("proxy-support", b"", iis85), "Proxy-Support");
    }

    #[tokio::test]
    async fn a_response_carries_its_wire_spelling_through_hyper() {
        let mut resp = Response::new(Body::empty());
        let h = resp.headers_mut();
        h.insert(
            "server",
            "Microsoft-IIS/8.5 Microsoft-HTTPAPI/2.0".parse().unwrap(),
        );
        h.insert("request-id", "a8e9dfb4".parse().unwrap());
        h.append("www-authenticate", "Negotiate".parse().unwrap());
        h.append("www-authenticate", "NTLM".parse().unwrap());
        h.append(
            "www-authenticate",
            "Bearer client_id=\"x\"".parse().unwrap(),
        );
        h.insert("x-feserver", "EX1".parse().unwrap());
        h.insert("content-length", "0".parse().unwrap());
        apply(&mut resp).await;
        // Serve it with hyper and read the raw bytes back.
        let (client, server) = tokio::io::duplex(64 * 1024);
        let resp = std::sync::Mutex::new(Some(resp));
        let svc = hyper::service::service_fn(move |_req| {
            let r = resp.lock().unwrap().take().unwrap();
            async move { Ok::<_, std::convert::Infallible>(r) }
        });
        let serving = tokio::spawn(
            hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(server), svc),
        );
        let mut client = client;
        client
            .write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .await
            .unwrap();
        let mut raw = Vec::new();
        client.read_to_end(&mut raw).await.unwrap();
        let _ = serving.await;
        let text = String::from_utf8(raw).unwrap();
        for line in [
            "\r\nServer: Microsoft-IIS/8.5 Microsoft-HTTPAPI/2.0\r\n",
            "\r\nrequest-id: a8e9dfb4\r\n",
            "\r\nWww-Authenticate: Negotiate\r\nWww-Authenticate: NTLM\r\nWWW-Authenticate: Bearer client_id=\"x\"\r\n",
            "\r\nX-FEServer: EX1\r\n",
            "\r\nContent-Length: 0\r\n",
        ] {
            assert!(text.contains(line), "{line:?} not in {text:?}");
        }
    }
}
