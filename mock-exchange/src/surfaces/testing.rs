//! Test fixtures for the surface modules: a small organization (EX1, Exchange 2016, vdirs on
//! `mail.contoso.com`, GregT's mailbox with seeded inbox items, a second mailbox for delivery
//! and access tests), a [`SurfaceCtx`] builder with a frozen clock, a one-call request helper,
//! and the golden-file comparison (a thin call into `lab_kit::testkit`: `UPDATE_GOLDEN=1`
//! rewrites, otherwise byte-for-byte with a line diff on mismatch).

use std::sync::Arc;

use axum::body::{to_bytes, Bytes};
use axum::http::{HeaderMap, Method, Request, StatusCode};
use lab_kit::testkit::http::Reply;
use lab_kit::testkit::Golden;
use lab_kit::Clock;
use uuid::Uuid;

use super::ctx::{AuthedUser, Authn, SurfaceCtx};
use super::{dispatch, MailStore};
use crate::model::*;

/// 2018-03-01T10:00:00Z — the lab clock for every surface test.
pub const NOW: i64 = 1_519_898_400;
pub const GREG_GUID: &str = "e1ce3d66-8b4b-4b4a-9b5c-7b0f6a1c2d3e";
pub const ALEX_GUID: &str = "2c0c9f3a-5d1e-4e7b-8f6a-1b2c3d4e5f60";

fn vdir(kind: VdirKind, name: &str, path: &str) -> VirtualDirectory {
    VirtualDirectory {
        kind,
        name: format!("{name} (Default Web Site)"),
        internal_url: Some(format!("https://mail.contoso.com{path}")),
        external_url: Some(format!("https://mail.contoso.com{path}")),
        iis_authentication_methods: vec![],
        internal_authentication_methods: vec![AuthMethod::Ntlm, AuthMethod::OAuth],
        external_authentication_methods: vec![AuthMethod::Ntlm, AuthMethod::OAuth],
        basic_authentication: false,
        windows_authentication: true,
        oauth_authentication: true,
        wssecurity_authentication: false,
        digest_authentication: false,
        adfs_authentication: false,
        live_id_basic_authentication: false,
        live_id_negotiate_authentication: false,
        forms_authentication: false,
    }
}

fn seed(subject: &str, from: &str, received: &str, is_read: bool) -> SeedItem {
    SeedItem {
        folder: "inbox".into(),
        subject: subject.into(),
        from: from.into(),
        to: vec!["GregT@contoso.com".into()],
        body: format!("Body of '{subject}'."),
        received: Some(received.into()),
        is_read,
    }
}

pub fn server(version: ExchangeVersion) -> Server {
    Server {
        name: "EX1".into(),
        fqdn: "ex1.contoso.com".into(),
        version,
        cu: None,
        os: None,
        server_header: None,
        internal_hosts: vec!["mail.corp.contoso.com".into()],
        vdirs: vec![
            vdir(
                VdirKind::Autodiscover,
                "Autodiscover",
                "/Autodiscover/Autodiscover.xml",
            ),
            vdir(VdirKind::Ews, "EWS", "/EWS/Exchange.asmx"),
            vdir(VdirKind::Mapi, "mapi", "/mapi"),
            vdir(VdirKind::Oab, "OAB", "/OAB"),
            vdir(
                VdirKind::Eas,
                "Microsoft-Server-ActiveSync",
                "/Microsoft-Server-ActiveSync",
            ),
            vdir(VdirKind::Owa, "owa", "/owa"),
            vdir(VdirKind::Ecp, "ecp", "/ecp"),
            vdir(VdirKind::Rpc, "Rpc", "/rpc"),
        ],
    }
}

pub fn org_with(version: ExchangeVersion) -> Organization {
    Organization {
        version: 1,
        name: "Contoso".into(),
        domain: "contoso.com".into(),
        servers: vec![server(version)],
        org_config: OrgConfig::default(),
        auth_servers: vec![],
        edge_servers: vec![],
        partner_applications: vec![],
        accounts: vec![
            Account {
                sam: "GregT".into(),
                upn: "GregT@contoso.com".into(),
                sid: "S-1-5-21-2366433183-230171048-1893555995-1654".into(),
                password: "Pa$$w0rd".into(),
                display_name: "Greg Taylor".into(),
                enabled: true,
            },
            Account {
                sam: "AlexW".into(),
                upn: "AlexW@contoso.com".into(),
                sid: "S-1-5-21-2366433183-230171048-1893555995-1655".into(),
                password: "Pa$$w0rd".into(),
                display_name: "Alex Wilber".into(),
                enabled: true,
            },
        ],
        mailboxes: vec![
            Mailbox {
                primary_smtp_address: "GregT@contoso.com".into(),
                owner_sid: "S-1-5-21-2366433183-230171048-1893555995-1654".into(),
                server: "EX1".into(),
                guid: Uuid::parse_str(GREG_GUID).unwrap(),
                display_name: "Greg Taylor".into(),
                items: vec![
                    seed(
                        "Welcome to the lab",
                        "Alex Wilber <AlexW@contoso.com>",
                        "2018-02-27T08:15:00Z",
                        true,
                    ),
                    seed(
                        "HMA rollout plan",
                        "AlexW@contoso.com",
                        "2018-02-28T09:30:00Z",
                        false,
                    ),
                    seed(
                        "Lunch?",
                        "Megan Bowen <MeganB@fabrikam.com>",
                        "2018-02-28T11:45:00Z",
                        false,
                    ),
                ]
                .into(),
            },
            Mailbox {
                primary_smtp_address: "AlexW@contoso.com".into(),
                owner_sid: "S-1-5-21-2366433183-230171048-1893555995-1655".into(),
                server: "EX1".into(),
                guid: Uuid::parse_str(ALEX_GUID).unwrap(),
                display_name: "Alex Wilber".into(),
                items: Default::default(),
            },
        ],
        settings_cache_seconds: 900,
    }
}

pub fn org() -> Organization {
    org_with(ExchangeVersion::Ex2016)
}

/// A context for GregT (Bearer) on EX1 reached at `https://mail.contoso.com`.
pub fn ctx_for(org: Organization, user: Option<usize>) -> SurfaceCtx {
    let store = MailStore::from_org(&org);
    let user = user.map(|i| AuthedUser::owned(org.accounts[i].clone(), org.mailboxes[i].clone()));
    SurfaceCtx {
        server: crate::surfaces::ServerRef::owned(org.servers[0].clone()),
        org: Arc::new(org),
        scheme: "https".into(),
        host: "mail.contoso.com".into(),
        authn: if user.is_some() {
            Authn::Bearer
        } else {
            Authn::Anonymous
        },
        user,
        store,
        clock: Clock::frozen_at_unix(NOW),
    }
}

pub fn greg() -> SurfaceCtx {
    ctx_for(org(), Some(0))
}

/// What a surface answered.
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Answer {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    /// Status line and headers as `Name: value` lines, in the order the surface set them, for
    /// header golden files.
    pub fn head(&self) -> String {
        let mut out = format!("{}\n", self.status);
        for (k, v) in &self.headers {
            out.push_str(&format!("{}: {}\n", k, v.to_str().unwrap_or("<binary>")));
        }
        out
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// Sends one request through [`dispatch`].
pub async fn call(
    ctx: &SurfaceCtx,
    kind: VdirKind,
    method: Method,
    uri: &str,
    headers: &[(&str, &str)],
    body: impl Into<Bytes>,
) -> Answer {
    let mut b = Request::builder().method(method).uri(uri);
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    let (parts, ()) = b.body(()).unwrap().into_parts();
    let r = Reply::read(dispatch(ctx.clone(), kind, parts, body.into()).await).await;
    Answer {
        status: r.status,
        headers: r.headers,
        body: r.body,
    }
}

/// `mock-exchange/tests/golden/surfaces/` (the kit's golden files: `UPDATE_GOLDEN=1` rewrites).
const GOLDEN: Golden = lab_kit::golden_dir!("tests/golden/surfaces");

/// Compares `actual` with `tests/golden/surfaces/<name>`, byte for byte.
#[track_caller]
pub fn golden(name: &str, actual: &[u8]) {
    GOLDEN.check(name, actual);
}

/// Serves [`dispatch`] on a real socket (`127.0.0.1:0`) for `ctx`, routing by vdir path the
/// way the pipeline does once a request is authenticated. Returns the base URL; the server
/// stops when the test's runtime ends.
pub async fn serve(ctx: SurfaceCtx) -> String {
    use axum::body::Body;
    use axum::extract::Request as AxRequest;
    let app = axum::Router::new().fallback(move |req: AxRequest<Body>| {
        let ctx = ctx.clone();
        async move {
            let (parts, body) = req.into_parts();
            let body = to_bytes(body, super::MAX_BODY_BYTES + 1)
                .await
                .unwrap_or_default();
            match VdirKind::for_path(parts.uri.path()) {
                Some(kind) => dispatch(ctx, kind, parts, body).await,
                None => super::common::not_found(),
            }
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    format!("http://{addr}")
}
