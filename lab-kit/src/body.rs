//! Taking in a request body whole, with a size limit and a deadline.
//!
//! The lab's network and the TLS front door both buffer a client's body before forwarding it
//! (a service behind them sees a complete request, as IIS does), and both must answer a body that
//! is too big, broken off or too slow the same way. [`read_body`] does the reading and
//! [`BodyError`] carries the answer (status and plain-text line), so the two cannot drift.

use std::time::Duration;

use http_body_util::BodyExt;
use hyper::body::{Body, Bytes};
use hyper::StatusCode;

/// Why a body could not be taken in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyError {
    /// More than `limit` bytes: 413.
    TooLarge { limit: usize },
    /// The body broke off or was malformed: 400.
    Unreadable,
    /// The body did not arrive before the deadline: 408.
    TimedOut,
}

impl BodyError {
    pub fn status(self) -> StatusCode {
        match self {
            BodyError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            BodyError::Unreadable => StatusCode::BAD_REQUEST,
            BodyError::TimedOut => StatusCode::REQUEST_TIMEOUT,
        }
    }

    /// The lab network's plain-text answer, one line (`413 Payload Too Large: …\n`).
    pub fn text(self) -> String {
        match self {
            BodyError::TooLarge { limit } => {
                format!("413 Payload Too Large: the lab network forwards at most {limit} bytes.\n")
            }
            BodyError::Unreadable => {
                "400 Bad Request: the request body could not be read.\n".into()
            }
            BodyError::TimedOut => {
                "408 Request Timeout: the request body did not arrive in time.\n".into()
            }
        }
    }
}

/// Reads `body` whole: at most `limit` bytes, within `deadline`.
pub async fn read_body<B>(body: B, limit: usize, deadline: Duration) -> Result<Bytes, BodyError>
where
    B: Body<Data = Bytes>,
{
    match tokio::time::timeout(deadline, collect_limited(body, limit)).await {
        Err(_) => Err(BodyError::TimedOut),
        Ok(r) => r,
    }
}

/// Reads `body` whole, at most `limit` bytes (no deadline: a caller whose connection has its own
/// limits). A body that comes in one piece, as a small request's does, is handed on as it
/// arrived, with no copy and no list of pieces; trailers are ignored.
pub async fn collect_limited<B>(body: B, limit: usize) -> Result<Bytes, BodyError>
where
    B: Body<Data = Bytes>,
{
    let mut body = std::pin::pin!(body);
    if body.size_hint().lower() > limit as u64 {
        return Err(BodyError::TooLarge { limit });
    }
    let mut first: Option<Bytes> = None;
    // Every piece after the first, joined to it.
    let mut joined: Option<Vec<u8>> = None;
    let mut len = 0usize;
    while let Some(frame) = body.as_mut().frame().await {
        let frame = frame.map_err(|_| BodyError::Unreadable)?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        len = len.saturating_add(data.len());
        if len > limit {
            return Err(BodyError::TooLarge { limit });
        }
        match (&first, &mut joined) {
            (None, _) => first = Some(data),
            (Some(_), Some(all)) => all.extend_from_slice(&data),
            (Some(f), None) => {
                let mut all = Vec::with_capacity(f.len() + data.len());
                all.extend_from_slice(f);
                all.extend_from_slice(&data);
                joined = Some(all);
            }
        }
    }
    Ok(match joined {
        Some(all) => Bytes::from(all),
        None => first.unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::pin::Pin;
    use std::task::{Context, Poll};

    use http_body_util::Full;
    use hyper::body::Frame;

    #[tokio::test]
    async fn a_body_within_the_limit_arrives_whole() {
        let b = read_body(
            Full::new(Bytes::from_static(b"hello")),
            5,
            Duration::from_secs(1),
        )
        .await;
        assert_eq!(b, Ok(Bytes::from_static(b"hello")));
    }

    #[tokio::test]
    async fn a_body_over_the_limit_is_413() {
        let e = read_body(
            Full::new(Bytes::from_static(b"hello!")),
            5,
            Duration::from_secs(1),
        )
        .await
        .unwrap_err();
        assert_eq!(e, BodyError::TooLarge { limit: 5 });
        assert_eq!(e.status(), StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(
            e.text(),
            "413 Payload Too Large: the lab network forwards at most 5 bytes.\n"
        );
    }

    #[tokio::test]
    async fn a_broken_body_is_400() {
        let e = read_body(Broken(false), 100, Duration::from_secs(1))
            .await
            .unwrap_err();
        assert_eq!(e, BodyError::Unreadable);
        assert_eq!(e.status(), StatusCode::BAD_REQUEST);
    }

    #[tokio::test]
    async fn a_slow_body_is_408() {
        let e = read_body(Stalled, 100, Duration::from_millis(10))
            .await
            .unwrap_err();
        assert_eq!(e, BodyError::TimedOut);
        assert_eq!(e.status(), StatusCode::REQUEST_TIMEOUT);
    }

    /// Pieces arrive joined, in order; the limit counts them all; a size hint over the limit is
    /// refused before anything is read; trailers are not data.
    #[tokio::test]
    async fn pieces_are_joined_and_counted_against_the_limit() {
        let pieces = |p: &[&'static [u8]]| {
            Pieces(
                p.iter()
                    .map(|b| Frame::data(Bytes::from_static(b)))
                    .chain(std::iter::once(Frame::trailers(Default::default())))
                    .collect(),
            )
        };
        for (p, want) in [
            (&[][..], &b""[..]),
            (&[&b"abc"[..]][..], &b"abc"[..]),
            (
                &[&b""[..], &b"ab"[..], &b""[..], &b"c"[..]][..],
                &b"abc"[..],
            ),
            (
                &[&b"a"[..], &b"b"[..], &b"c"[..], &b"de"[..]][..],
                &b"abcde"[..],
            ),
        ] {
            assert_eq!(
                collect_limited(pieces(p), 5).await,
                Ok(Bytes::from_static(want))
            );
        }
        assert_eq!(
            collect_limited(pieces(&[b"abc", b"def"]), 5).await,
            Err(BodyError::TooLarge { limit: 5 })
        );
        assert_eq!(
            collect_limited(Full::new(Bytes::from_static(b"hello!")), 5).await,
            Err(BodyError::TooLarge { limit: 5 })
        );
    }

    /// A body of the given frames, one per poll.
    struct Pieces(std::collections::VecDeque<Frame<Bytes>>);

    impl Body for Pieces {
        type Data = Bytes;
        type Error = std::io::Error;
        fn poll_frame(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
            Poll::Ready(self.0.pop_front().map(Ok))
        }
    }

    /// A body that sends two bytes, then fails.
    struct Broken(bool);

    impl Body for Broken {
        type Data = Bytes;
        type Error = std::io::Error;
        fn poll_frame(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
            if self.0 {
                return Poll::Ready(Some(Err(std::io::Error::other("connection reset"))));
            }
            self.0 = true;
            Poll::Ready(Some(Ok(Frame::data(Bytes::from_static(b"he")))))
        }
    }

    /// A body that never sends anything.
    struct Stalled;

    impl Body for Stalled {
        type Data = Bytes;
        type Error = std::io::Error;
        fn poll_frame(
            self: Pin<&mut Self>,
            _: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
            Poll::Pending
        }
    }
}
