//! Fixtures the fuzz targets share: the shipped contoso organization as mock-exchange serves it,
//! a surface context for its first user (Bearer, frozen clock), and request heads built from
//! fuzzer bytes. Built once per process (`OnceLock`), so an iteration costs only the code under
//! test; every target stays a plain function of its input bytes.

use std::sync::{Arc, OnceLock};

use axum::http::request::Parts;
use axum::http::{Method, Request};
use lab_kit::Clock;
use mock_exchange::model::Organization;
use mock_exchange::surfaces::{AuthedUser, Authn, MailStore, SurfaceCtx};

/// 2018-03-01T10:00:00Z, the clock of every target (the surface tests use the same instant).
pub const NOW: i64 = 1_519_898_400;

/// The contoso lab's organization (mock-exchange's default lab).
pub fn org() -> &'static Arc<Organization> {
    static ORG: OnceLock<Arc<Organization>> = OnceLock::new();
    ORG.get_or_init(|| Arc::new(mock_exchange::Config::contoso().organization))
}

/// The first account of `org()` that owns a mailbox, as the pipeline would let it in.
pub fn user() -> AuthedUser {
    let org = org();
    org.accounts
        .iter()
        .find_map(|a| {
            org.mailbox_of_sid(&a.sid)
                .map(|m| AuthedUser::owned(a.clone(), m.clone()))
        })
        .expect("contoso has a user with a mailbox")
}

/// A surface context on contoso's first server at `https://mail.contoso.com`, with a fresh
/// mailbox store (sessions from earlier iterations never leak into this one), for `user` or
/// anonymous.
pub fn ctx(authenticated: bool) -> SurfaceCtx {
    let org = Organization::clone(org());
    SurfaceCtx {
        server: mock_exchange::surfaces::ServerRef::owned(org.servers[0].clone()),
        store: MailStore::from_org(&org),
        org: Arc::new(org),
        scheme: "https".into(),
        host: "mail.contoso.com".into(),
        user: authenticated.then(user),
        authn: if authenticated {
            Authn::Bearer
        } else {
            Authn::Anonymous
        },
        clock: Clock::frozen_at_unix(NOW),
    }
}

/// A request head; `None` when the fuzzer's bytes do not make a valid URI or header.
pub fn parts(method: Method, uri: &str, headers: &[(&str, &str)]) -> Option<Parts> {
    let mut b = Request::builder().method(method).uri(uri);
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    b.body(()).ok().map(|r| r.into_parts().0)
}

/// Splits fuzzer bytes at the first `sep`: (before, after); all of it before when absent.
pub fn split(data: &[u8], sep: u8) -> (&[u8], &[u8]) {
    match data.iter().position(|b| *b == sep) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[]),
    }
}
