//! One request through a service without a socket (`tower::ServiceExt::oneshot`, the way axum's
//! testing example drives a `Router`), and its answer as plain data a test can assert on.
//!
//! Generic over the service and body types so each crate passes its own `Router` and request
//! body; the answer keeps headers in wire order and the body as bytes, with text and JSON views.

use std::fmt::Debug;

use http_body_util::BodyExt;
use hyper::body::{Body, Bytes};
use hyper::{HeaderMap, Request, Response, StatusCode};
use tower::{Service, ServiceExt};

/// A complete answer.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: StatusCode,
    /// A reason phrase the service set explicitly (`hyper::ext::ReasonPhrase`), if any.
    pub reason: Option<String>,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Reply {
    /// Reads the whole body of `resp`.
    pub async fn read<B>(resp: Response<B>) -> Reply
    where
        B: Body,
        B::Error: Debug,
    {
        let (parts, body) = resp.into_parts();
        let reason = parts
            .extensions
            .get::<hyper::ext::ReasonPhrase>()
            .map(|r| String::from_utf8_lossy(r.as_bytes()).into_owned());
        let body = body
            .collect()
            .await
            .unwrap_or_else(|e| panic!("reading the body: {e:?}"))
            .to_bytes();
        Reply {
            status: parts.status,
            reason,
            headers: parts.headers,
            body,
        }
    }

    /// The body as UTF-8 text (panics, showing the bytes, when it is not).
    pub fn text(&self) -> String {
        String::from_utf8(self.body.to_vec())
            .unwrap_or_else(|e| panic!("body is not UTF-8 ({e}): {:?}", self.body))
    }

    /// The body parsed as JSON (panics, showing the body, when it is not).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "body is not JSON ({e}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    /// The first value of header `name`, when it is present and visible ASCII.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// Sends `req` through `svc` once and reads the whole answer.
pub async fn oneshot<S, B, R>(svc: S, req: Request<B>) -> Reply
where
    S: Service<Request<B>, Response = Response<R>>,
    S::Error: Debug,
    R: Body,
    R::Error: Debug,
{
    let resp = svc
        .oneshot(req)
        .await
        .unwrap_or_else(|e| panic!("the service failed: {e:?}"));
    Reply::read(resp).await
}
