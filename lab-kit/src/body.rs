//! Taking in a request body whole, with a size limit and a deadline.
//!
//! The lab's network and the TLS front door both buffer a client's body before forwarding it
//! (a service behind them sees a complete request, as IIS does), and both must answer a body that
//! is too big, broken off or too slow the same way. [`read_body`] does the reading and
//! [`BodyError`] carries the answer (status and plain-text line), so the two cannot drift.

use std::time::Duration;

use http_body_util::{BodyExt, LengthLimitError, Limited};
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
    B: Body,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    match tokio::time::timeout(deadline, Limited::new(body, limit).collect()).await {
        Err(_) => Err(BodyError::TimedOut),
        Ok(Ok(c)) => Ok(c.to_bytes()),
        Ok(Err(e)) if e.downcast_ref::<LengthLimitError>().is_some() => {
            Err(BodyError::TooLarge { limit })
        }
        Ok(Err(_)) => Err(BodyError::Unreadable),
    }
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
