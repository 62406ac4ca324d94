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
//!
//! The map holds names only, never values, so it is a function of the spelled names in order.
//! Parsing a head costs an in-memory connection (a few microseconds, more than the rest of a
//! typical answer), so each distinct name sequence is parsed once per worker thread and its map
//! cloned after that ([`CACHE_CAP`] sequences at most per thread; a service answers with a few
//! dozen).

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::HashMap;

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

/// Distinct name sequences whose parsed maps are kept; at the cap the cache starts afresh.
pub const CACHE_CAP: usize = 512;

type Spell<'a> = &'a (dyn Fn(&str, &[u8]) -> Cow<'static, str> + Sync);

/// The parsed extensions (hyper's case map) per spelled-name sequence.
/// Keys are a few hundred bytes, hashed at every answer: foldhash, not SipHash.
type CaseMaps = HashMap<Vec<u8>, hyper::http::Extensions, foldhash::fast::RandomState>;

thread_local! {
    /// Per worker thread: no lock, and the reference counts of a map's shared bytes stay with
    /// one core (a process-wide map made both cores of a loaded service take turns on them).
    static CACHE: RefCell<CaseMaps> = RefCell::new(CaseMaps::default());
}

/// The spelled names of the head in wire order, one per line: the cache key (names are tokens,
/// so no name holds a line break).
fn spelled_names(headers: &HeaderMap, spell: Spell) -> Vec<u8> {
    let mut out = Vec::with_capacity(headers.len() * 16);
    for (name, value) in headers {
        if name == "content-length" || name == "transfer-encoding" {
            continue;
        }
        out.extend_from_slice(spell(name.as_str(), value.as_bytes()).as_bytes());
        out.push(b'\n');
    }
    out
}

/// The response head as it goes on the wire (body length 0, for the parser), from the spelled
/// names of [`spelled_names`] and the values of `headers` in the same order.
fn head(headers: &HeaderMap, names: &[u8]) -> Vec<u8> {
    let mut out = b"HTTP/1.1 200 OK\r\n".to_vec();
    let values = headers
        .iter()
        .filter(|(n, _)| *n != "content-length" && *n != "transfer-encoding")
        .map(|(_, v)| v);
    for (name, value) in names.split(|b| *b == b'\n').zip(values) {
        out.extend_from_slice(name);
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"Content-Length: 0\r\n\r\n");
    out
}

/// Gives `resp` the header-name spelling `spell` says (name lowercase, value → wire name), see
/// the module text. A head hyper cannot read back leaves the response as it was.
pub async fn apply<B>(resp: &mut Response<B>, spell: Spell<'_>) {
    let names = spelled_names(resp.headers(), spell);
    if let Some(ext) = CACHE.with(|c| c.borrow().get(&names).cloned()) {
        give(resp, ext);
        return;
    }
    let Some(ext) = parse_case_map(&head(resp.headers(), &names)).await else {
        return;
    };
    // The task may have moved to another thread while parsing: this thread's cache learns it.
    CACHE.with(|c| {
        let mut c = c.borrow_mut();
        if c.len() >= CACHE_CAP {
            c.clear();
        }
        c.insert(names, ext.clone());
    });
    give(resp, ext);
}

/// Adds `ext` to the response's extensions (moved in whole when it has none, the usual case).
fn give<B>(resp: &mut Response<B>, ext: hyper::http::Extensions) {
    if resp.extensions().is_empty() {
        *resp.extensions_mut() = ext;
    } else {
        resp.extensions_mut().extend(ext);
    }
}

/// Lets hyper's client parse `bytes` (a response head) with case preserved; the parsed
/// response's extensions, which hold the case map.
async fn parse_case_map(bytes: &[u8]) -> Option<hyper::http::Extensions> {
    let (client, mut server) = tokio::io::duplex(bytes.len() + 4096);
    let Ok((mut sender, conn)) = hyper::client::conn::http1::Builder::new()
        .preserve_header_case(true)
        .max_buf_size(bytes.len().max(8192) + 1024)
        .handshake::<_, Empty<Bytes>>(TokioIo::new(client))
        .await
    else {
        return None;
    };
    let Ok(req) = hyper::Request::get("/").body(Empty::new()) else {
        return None;
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
        let _ = server.write_all(bytes).await;
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
    parsed.ok().map(|mut p| std::mem::take(p.extensions_mut()))
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

    /// What hyper's server writes for `resp`.
    async fn wire(resp: Response<http_body_util::Full<Bytes>>) -> String {
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
        String::from_utf8(raw).unwrap()
    }

    /// A 401 head whose `WWW-Authenticate` spellings depend on the values (`first`'s scheme).
    fn challenge(first: &str, id: &str) -> Response<http_body_util::Full<Bytes>> {
        let mut resp = Response::new(http_body_util::Full::new(Bytes::from_static(b"hi")));
        let h = resp.headers_mut();
        h.insert("request-id", id.parse().unwrap());
        h.append("www-authenticate", first.parse().unwrap());
        h.append("www-authenticate", "NTLM".parse().unwrap());
        h.insert("x-feserver", "EX1".parse().unwrap());
        h.insert("content-length", "2".parse().unwrap());
        resp
    }

    #[tokio::test]
    async fn a_cached_spelling_is_the_spelling_of_its_own_names() {
        // Parsed once, then from the cache: each answer keeps its own values, and a head whose
        // names are spelled differently (the Bearer challenge first) is not given another's map.
        for (first, id, line) in [
            (
                "Negotiate",
                "id-1",
                "\r\nWww-Authenticate: Negotiate\r\nWww-Authenticate: NTLM\r\n",
            ),
            (
                "Negotiate",
                "id-2",
                "\r\nWww-Authenticate: Negotiate\r\nWww-Authenticate: NTLM\r\n",
            ),
            (
                "Bearer x",
                "id-3",
                "\r\nWWW-Authenticate: Bearer x\r\nWww-Authenticate: NTLM\r\n",
            ),
            (
                "Negotiate",
                "id-4",
                "\r\nWww-Authenticate: Negotiate\r\nWww-Authenticate: NTLM\r\n",
            ),
            (
                "Bearer y",
                "id-5",
                "\r\nWWW-Authenticate: Bearer y\r\nWww-Authenticate: NTLM\r\n",
            ),
        ] {
            let mut resp = challenge(first, id);
            apply(&mut resp, &spell).await;
            let text = wire(resp).await;
            assert!(text.contains(line), "{line:?} not in {text:?}");
            assert!(
                text.contains(&format!("\r\nrequest-id: {id}\r\n")),
                "{text:?}"
            );
            assert!(text.contains("\r\nX-FEServer: EX1\r\n"), "{text:?}");
        }
        let key = spelled_names(challenge("Bearer z", "i").headers(), &spell);
        assert_eq!(
            key,
            b"request-id\nWWW-Authenticate\nWww-Authenticate\nX-FEServer\n"
        );
        assert!(CACHE.with(|c| c.borrow().contains_key(&key)));
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
        let text = wire(resp).await;
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
