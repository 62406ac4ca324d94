//! Starting a farm and talking to it: a plain HTTP/1.1 connection (Windows logons are bound to
//! one TCP connection, so the tests hold it themselves), the forms and Windows sign-ins, and
//! the token-signing certificate read from the farm's own metadata.

use std::net::SocketAddr;

use lab_kit::ntlm::client::Handshake;
use lab_kit::saml::xml;
use lab_kit::saml::Certificate;
use mock_adfs::{Config, Handle};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

pub const PASSWORD: &str = "Contoso2017!";
pub const GREG_IMMUTABLE_ID: &str = "lDqpPb8kwEiZBjI1g9Tz4A==";
pub const IE11: &str = "Mozilla/5.0 (Windows NT 10.0; WOW64; Trident/7.0; rv:11.0) like Gecko";
pub const CHROME: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) \
                          HeadlessChrome/120.0.0.0 Safari/537.36";
/// What Azure AD sends a federated user to (query order and escapes as captured).
pub const SIGN_IN: &str = "/adfs/ls/?client-request-id=6f1c8a1e-0b5a-4b7e-9d2c-3a4b5c6d7e8f\
    &username=GregT%40contoso.com&wa=wsignin1.0&wtrealm=urn%3afederation%3aMicrosoftOnline\
    &wctx=LoginOptions%3D3%26estsredirect%3d2%26estsrequest%3drQIIAX2";
pub const WCTX: &str = "LoginOptions=3&estsredirect=2&estsrequest=rQIIAX2";

pub async fn start() -> Handle {
    mock_adfs::start(Config::contoso()).await.unwrap()
}

/// One HTTP response, read whole.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    pub fn headers_named(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }
    /// The `MSISAuth` cookie set, if any.
    pub fn session_cookie(&self) -> Option<String> {
        self.headers_named("set-cookie")
            .into_iter()
            .find_map(|c| c.strip_prefix("MSISAuth="))
            .and_then(|c| c.split(';').next())
            .filter(|v| !v.is_empty())
            .map(|v| format!("MSISAuth={v}"))
    }
}

/// A kept-alive HTTP/1.1 connection.
pub struct Conn(TcpStream);

impl Conn {
    pub async fn open(addr: SocketAddr) -> Conn {
        Conn(TcpStream::connect(addr).await.unwrap())
    }

    pub async fn send(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> Reply {
        let mut req = format!("{method} {path} HTTP/1.1\r\nHost: adfs.contoso.com\r\n");
        for (k, v) in headers {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        req.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
        self.0.write_all(req.as_bytes()).await.unwrap();
        let mut buf = Vec::new();
        let head_end = loop {
            let mut chunk = [0u8; 8192];
            let n = self.0.read(&mut chunk).await.unwrap();
            assert!(n > 0, "connection closed before the response head");
            buf.extend_from_slice(&chunk[..n]);
            if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break p + 4;
            }
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
        let mut lines = head.split("\r\n");
        let status: u16 = lines.next().unwrap()[9..12].parse().unwrap();
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(": "))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let len: usize = headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
            .map(|(_, v)| v.parse().unwrap())
            .unwrap_or(0);
        while buf.len() < head_end + len {
            let mut chunk = [0u8; 8192];
            let n = self.0.read(&mut chunk).await.unwrap();
            assert!(n > 0, "connection closed inside the body");
            buf.extend_from_slice(&chunk[..n]);
        }
        Reply {
            status,
            headers,
            body: String::from_utf8_lossy(&buf[head_end..head_end + len]).to_string(),
        }
    }

    pub async fn get(&mut self, path: &str, headers: &[(&str, &str)]) -> Reply {
        self.send("GET", path, headers, "").await
    }
}

/// One request on a fresh connection.
pub async fn request(
    h: &Handle,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Reply {
    Conn::open(h.addr())
        .await
        .send(method, path, headers, body)
        .await
}

pub fn form(pairs: &[(&str, &str)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

/// The forms sign-in up to the session cookie (POST → 302 to the same URL).
pub async fn forms_session(h: &Handle, user: &str) -> String {
    let r = request(
        h,
        "POST",
        SIGN_IN,
        &[("Content-Type", "application/x-www-form-urlencoded")],
        &form(&[
            ("UserName", user),
            ("Password", PASSWORD),
            ("AuthMethod", "FormsAuthentication"),
        ]),
    )
    .await;
    assert_eq!(r.status, 302, "{}", r.body);
    assert_eq!(r.header("location"), Some(SIGN_IN));
    r.session_cookie().expect("MSISAuth set")
}

/// The Windows logon over `conn` for `path`, with `binding` as the client's channel binding.
pub async fn windows_logon(
    conn: &mut Conn,
    method: &str,
    path: &str,
    extra: &[(&str, &str)],
    body: &str,
    binding: Option<[u8; 16]>,
) -> Reply {
    let mut hs = Handshake::new("Negotiate", "GregT", "CONTOSO", PASSWORD);
    hs.options.channel_bindings = binding;
    let t1 = hs.negotiate_header();
    let mut headers = extra.to_vec();
    headers.push(("Authorization", &t1));
    let r = conn.send(method, path, &headers, body).await;
    assert_eq!(r.status, 401, "{}", r.body);
    let t3 = hs
        .authenticate_header(r.headers_named("www-authenticate"))
        .expect("a type 2")
        .unwrap();
    let mut headers = extra.to_vec();
    headers.push(("Authorization", &t3));
    conn.send(method, path, &headers, body).await
}

/// The value of the hidden input `name` in a page, HTML-unescaped.
pub fn hidden(page: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = page.find(&marker)? + marker.len();
    let end = page[start..].find('"')? + start;
    Some(unescape(&page[start..end]))
}

pub fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x9;", "\t")
        .replace("&#xA;", "\n")
        .replace("&#xD;", "\r")
        .replace("&amp;", "&")
}

/// The token-signing certificates the farm publishes, primary first, read from its metadata.
pub async fn published_certs(h: &Handle) -> Vec<Certificate> {
    let r = request(
        h,
        "GET",
        "/FederationMetadata/2007-06/FederationMetadata.xml",
        &[],
        "",
    )
    .await;
    assert_eq!(r.status, 200);
    let doc = xml::parse(&r.body).unwrap();
    let role = doc
        .root
        .child("urn:oasis:names:tc:SAML:2.0:metadata", "RoleDescriptor")
        .unwrap();
    role.children_named("urn:oasis:names:tc:SAML:2.0:metadata", "KeyDescriptor")
        .map(|k| {
            let c = k
                .find("http://www.w3.org/2000/09/xmldsig#", "X509Certificate")
                .unwrap();
            Certificate::from_base64(&c.text()).unwrap()
        })
        .collect()
}

pub fn admin(h: &Handle) -> (&'static str, String) {
    ("Authorization", format!("Bearer {}", h.admin_token()))
}
