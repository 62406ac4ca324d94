//! Header names on the wire in the case a real product writes them.
//!
//! HTTP header names are case-insensitive and hyper keeps them lowercase, but captures are read
//! by people, and the field guide's show `Www-Authenticate`, `request-id`, `X-FEServer`,
//! `Location`. hyper writes a response's names in their original case only when the response
//! carries the case map its own HTTP/1 parser makes (`preserve_header_case`); the map's type is
//! private. So [`apply`] writes the response head, spelled as the caller says, into an
//! in-memory pipe, lets hyper's client parse it back with case preserved, and moves the parsed
//! response's extensions (the map) onto the response. A relay that parses with
//! `preserve_header_case` and passes the extensions on keeps the spelling to the client. The
//! order stays hyper's: all values of one name are written together.

use std::borrow::Cow;

use http_body_util::Empty;
use hyper::body::Bytes;
use hyper::{HeaderMap, Response};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Title-Case (`content-length` → `Content-Length`), the spelling of most products' names.
pub fn title_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut up = true;
    for c in name.chars() {
        out.push(if up { c.to_ascii_uppercase() } else { c });
        up = c == '-';
    }
    out
}

/// The response head as it goes on the wire (body length 0, for the parser).
fn head(headers: &HeaderMap, spell: &(dyn Fn(&str, &[u8]) -> Cow<'static, str> + Sync)) -> Vec<u8> {
    let mut out = b"HTTP/1.1 200 OK\r\n".to_vec();
    for (name, value) in headers {
        if name == "content-length" || name == "transfer-encoding" {
            continue;
        }
        out.extend_from_slice(spell(name.as_str(), value.as_bytes()).as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"Content-Length: 0\r\n\r\n");
    out
}

/// Gives `resp` the header-name spelling `spell` says (name lowercase, value → wire name), see
/// the module text. A head hyper cannot read back leaves the response as it was.
pub async fn apply<B>(
    resp: &mut Response<B>,
    spell: &(dyn Fn(&str, &[u8]) -> Cow<'static, str> + Sync),
) {
    let bytes = head(resp.headers(), spell);
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

#[cfg(test)]
mod tests {
    use super::*;

    fn spell(name: &str, value: &[u8]) -> Cow<'static, str> {
        match name {
            "request-id" => Cow::Borrowed("request-id"),
            "www-authenticate" if value.starts_with(b"Bearer") => Cow::Borrowed("WWW-Authenticate"),
            "x-feserver" => Cow::Borrowed("X-FEServer"),
            n => Cow::Owned(title_case(n)),
        }
    }

    #[test]
    fn title_case_capitalises_each_segment() {
        assert_eq!(title_case("content-length"), "Content-Length");
        assert_eq!(title_case("x-powered-by"), "X-Powered-By");
        assert_eq!(title_case("date"), "Date");
    }

    #[tokio::test]
    async fn a_response_is_written_with_the_spelling_it_was_given() {
        let mut resp = Response::new(http_body_util::Full::new(Bytes::from_static(b"hi")));
        let h = resp.headers_mut();
        h.insert("request-id", "a8e9dfb4".parse().unwrap());
        h.append("www-authenticate", "Negotiate".parse().unwrap());
        h.append(
            "www-authenticate",
            "Bearer client_id=\"x\"".parse().unwrap(),
        );
        h.insert("x-feserver", "EX1".parse().unwrap());
        h.insert("content-length", "2".parse().unwrap());
        apply(&mut resp, &spell).await;
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
            "\r\nrequest-id: a8e9dfb4\r\n",
            "\r\nWww-Authenticate: Negotiate\r\nWWW-Authenticate: Bearer client_id=\"x\"\r\n",
            "\r\nX-FEServer: EX1\r\n",
            "\r\nContent-Length: 2\r\n",
        ] {
            assert!(text.contains(line), "{line:?} not in {text:?}");
        }
        assert!(text.ends_with("\r\n\r\nhi"), "{text:?}");
    }
}
