//! The one guard in front of every admin API of the lab: mock-aad's `/_admin`, mock-exchange's
//! `/_admin` and `hma-lab serve`'s admin listener.
//!
//! The rules, the same everywhere:
//! - the peer must be loopback (`127.0.0.0/8`, `::1`, or IPv4-mapped `::ffff:127.x.y.z`);
//!   otherwise 403. A request with no peer (an in-process `oneshot` call) counts as local.
//! - the request must carry `Authorization: Bearer <admin_token>`; the scheme is compared without
//!   case (`bearer`, `BEARER`), the token byte for byte in constant time
//!   ([`crate::secret::constant_time_eq`]); otherwise 401 with `WWW-Authenticate: Bearer realm=…`.
//! - an empty admin token is never configured ([`admin_token_arg`] refuses it on the command
//!   line) and never matches (so a service given one anyway fails closed).
//!
//! The guard is plain functions on the peer address and the header map ([`check`]) so each
//! service, axum middleware or bare hyper, calls it the same way and renders the [`Refusal`] in
//! its own error format.

use std::fmt;
use std::net::SocketAddr;

use hyper::header::{HeaderValue, AUTHORIZATION};
use hyper::{HeaderMap, StatusCode};

use crate::secret::constant_time_eq;

/// Why the guard turned a request away.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The peer is not on loopback: 403.
    NotLoopback,
    /// No `Authorization: Bearer <admin_token>`, or the wrong token: 401.
    BadToken,
}

impl Refusal {
    pub fn status(self) -> StatusCode {
        match self {
            Refusal::NotLoopback => StatusCode::FORBIDDEN,
            Refusal::BadToken => StatusCode::UNAUTHORIZED,
        }
    }

    /// The short error code the admin APIs put in their JSON (`forbidden`, `unauthorized`).
    pub fn error(self) -> &'static str {
        match self {
            Refusal::NotLoopback => "forbidden",
            Refusal::BadToken => "unauthorized",
        }
    }

    /// What the caller should do, in words.
    pub fn message(self) -> &'static str {
        match self {
            Refusal::NotLoopback => "the admin API answers loopback clients only",
            Refusal::BadToken => {
                "missing or wrong admin token: send Authorization: Bearer <admin_token>"
            }
        }
    }

    /// The `WWW-Authenticate` value a 401 carries (`Bearer realm="mock-aad admin"`); none for a
    /// 403, where no credential would help.
    pub fn challenge(self, realm: &str) -> Option<HeaderValue> {
        match self {
            Refusal::NotLoopback => None,
            Refusal::BadToken => HeaderValue::from_str(&format!("Bearer realm=\"{realm}\""))
                .ok()
                .or(Some(HeaderValue::from_static("Bearer"))),
        }
    }
}

/// Admits a request from `peer` with `headers` when the admin token is `token`.
pub fn check(peer: Option<SocketAddr>, headers: &HeaderMap, token: &str) -> Result<(), Refusal> {
    if !is_local(peer) {
        return Err(Refusal::NotLoopback);
    }
    if !bearer_matches(headers, token) {
        return Err(Refusal::BadToken);
    }
    Ok(())
}

/// Whether a peer may use an admin API: loopback only, IPv4-mapped IPv6 included. `None` (no
/// socket, e.g. an in-process `oneshot` call) counts as local.
pub fn is_local(peer: Option<SocketAddr>) -> bool {
    match peer {
        None => true,
        Some(addr) => addr.ip().to_canonical().is_loopback(),
    }
}

/// Whether `headers` carry `Authorization: Bearer <token>`: scheme without case, token compared
/// in constant time. An empty `token` matches nothing.
pub fn bearer_matches(headers: &HeaderMap, token: &str) -> bool {
    let Some(value) = headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let Some((scheme, given)) = value.trim().split_once(' ') else {
        return false;
    };
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() {
        return false;
    }
    constant_time_eq(given.trim().as_bytes(), token.as_bytes())
}

/// An admin token given on a command line that no request could ever present.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BadAdminToken {
    Empty,
    /// Spaces, control characters or non-ASCII: not a token an `Authorization` header carries.
    NotVisibleAscii,
}

impl fmt::Display for BadAdminToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BadAdminToken::Empty => f.write_str(
                "the admin token must not be empty (leave --admin-token out for a random one)",
            ),
            BadAdminToken::NotVisibleAscii => f.write_str(
                "the admin token must be visible ASCII without spaces (it is sent as \
                 Authorization: Bearer <admin_token>)",
            ),
        }
    }
}

impl std::error::Error for BadAdminToken {}

/// Checks an `--admin-token` value (usable as a clap `value_parser`).
pub fn admin_token_arg(s: &str) -> Result<String, BadAdminToken> {
    if s.is_empty() {
        return Err(BadAdminToken::Empty);
    }
    if !s.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(BadAdminToken::NotVisibleAscii);
    }
    Ok(s.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auth(v: &'static str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(AUTHORIZATION, HeaderValue::from_static(v));
        h
    }

    fn peer(s: &str) -> Option<SocketAddr> {
        Some(s.parse().unwrap())
    }

    #[test]
    fn loopback_peers_only() {
        assert!(is_local(None));
        assert!(is_local(peer("127.0.0.1:5000")));
        assert!(is_local(peer("127.8.9.1:5000")));
        assert!(is_local(peer("[::1]:5000")));
        assert!(is_local(peer("[::ffff:127.0.0.1]:5000")));
        assert!(is_local(peer("[::ffff:127.3.2.1]:5000")));
        assert!(!is_local(peer("10.0.0.5:5000")));
        assert!(!is_local(peer("192.168.1.20:443")));
        assert!(!is_local(peer("0.0.0.0:443")));
        assert!(!is_local(peer("[::ffff:10.0.0.5]:5000")));
        assert!(!is_local(peer("[2001:db8::1]:5000")));
    }

    #[test]
    fn the_scheme_is_compared_without_case() {
        assert!(bearer_matches(&auth("Bearer secret"), "secret"));
        assert!(bearer_matches(&auth("bearer secret"), "secret"));
        assert!(bearer_matches(&auth("BEARER secret"), "secret"));
        assert!(bearer_matches(&auth("  Bearer   secret "), "secret"));
        assert!(!bearer_matches(&auth("Bearersecret"), "secret"));
        assert!(!bearer_matches(&auth("Bearer"), "secret"));
        assert!(!bearer_matches(&auth("Basic secret"), "secret"));
        assert!(!bearer_matches(&auth("Bearer: secret"), "secret"));
        assert!(!bearer_matches(&HeaderMap::new(), "secret"));
    }

    #[test]
    fn the_token_must_match_byte_for_byte() {
        assert!(!bearer_matches(&auth("Bearer secreT"), "secret"));
        assert!(!bearer_matches(&auth("Bearer secret2"), "secret"));
        assert!(!bearer_matches(&auth("Bearer secre"), "secret"));
        assert!(!bearer_matches(&auth("Bearer s"), "secret"));
        assert!(!bearer_matches(&auth("Bearer x"), "x2"));
    }

    #[test]
    fn an_empty_token_matches_nothing() {
        assert!(!bearer_matches(&auth("Bearer "), ""));
        assert!(!bearer_matches(&auth("Bearer  "), ""));
        assert!(!bearer_matches(&auth("Bearer x"), ""));
        assert!(!bearer_matches(&HeaderMap::new(), ""));
    }

    #[test]
    fn check_asks_for_loopback_before_the_token() {
        let good = auth("bearer t0k");
        assert_eq!(check(None, &good, "t0k"), Ok(()));
        assert_eq!(check(peer("[::ffff:127.0.0.1]:1"), &good, "t0k"), Ok(()));
        assert_eq!(check(peer("[::1]:1"), &good, "t0k"), Ok(()));
        assert_eq!(
            check(peer("10.1.2.3:1"), &good, "t0k"),
            Err(Refusal::NotLoopback)
        );
        assert_eq!(
            check(peer("10.1.2.3:1"), &HeaderMap::new(), "t0k"),
            Err(Refusal::NotLoopback)
        );
        assert_eq!(
            check(peer("127.0.0.1:1"), &auth("Bearer nope"), "t0k"),
            Err(Refusal::BadToken)
        );
    }

    #[test]
    fn a_401_challenges_and_a_403_does_not() {
        let r = Refusal::BadToken;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(r.error(), "unauthorized");
        assert_eq!(
            r.challenge("mock-aad admin").unwrap(),
            "Bearer realm=\"mock-aad admin\""
        );
        let r = Refusal::NotLoopback;
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        assert_eq!(r.error(), "forbidden");
        assert_eq!(r.challenge("mock-aad admin"), None);
    }

    #[test]
    fn command_line_tokens_must_be_presentable() {
        assert_eq!(admin_token_arg("s3cret-Token"), Ok("s3cret-Token".into()));
        assert_eq!(admin_token_arg(""), Err(BadAdminToken::Empty));
        assert_eq!(admin_token_arg(" "), Err(BadAdminToken::NotVisibleAscii));
        assert_eq!(admin_token_arg("a b"), Err(BadAdminToken::NotVisibleAscii));
        assert_eq!(admin_token_arg("tök"), Err(BadAdminToken::NotVisibleAscii));
        assert!(BadAdminToken::Empty
            .to_string()
            .contains("must not be empty"));
    }
}
