//! The contract a surface is called with: who was let in ([`AuthedUser`], [`Authn`]), on which
//! server, under which URL, with which settings and mailbox store ([`SurfaceCtx`]). The
//! pipeline builds it; surfaces only read it. It is its own module so that the surfaces and the
//! dispatcher that calls them both depend on it, not on each other.

use std::sync::Arc;

use lab_kit::Clock;

use super::store::MailStore;
use crate::model::{Account, Mailbox, Organization, Server};

/// How the caller authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Authn {
    Bearer,
    Basic,
    Ntlm,
    Negotiate,
    Anonymous,
}

/// The authenticated user: the on-premises account and its mailbox.
#[derive(Debug, Clone)]
pub struct AuthedUser {
    pub account: Account,
    pub mailbox: Mailbox,
}

/// A server of a request's organization snapshot, read through [`Deref`] without copying it
/// (its virtual directories and names) into every request's context.
#[derive(Clone)]
pub struct ServerRef(ServerAt);

#[derive(Clone)]
enum ServerAt {
    /// `servers[index]` of the snapshot.
    Shared(Arc<Organization>, usize),
    Owned(Arc<Server>),
}

impl ServerRef {
    /// `server` as found in `org` (shared), or a copy when `org` does not hold that very value.
    pub fn of(org: &Arc<Organization>, server: &Server) -> ServerRef {
        match org.servers.iter().position(|s| std::ptr::eq(s, server)) {
            Some(i) => ServerRef(ServerAt::Shared(org.clone(), i)),
            None => ServerRef::owned(server.clone()),
        }
    }

    pub fn owned(server: Server) -> ServerRef {
        ServerRef(ServerAt::Owned(Arc::new(server)))
    }
}

impl std::ops::Deref for ServerRef {
    type Target = Server;
    fn deref(&self) -> &Server {
        match &self.0 {
            ServerAt::Shared(org, i) => &org.servers[*i],
            ServerAt::Owned(s) => s,
        }
    }
}

/// Everything a surface may know about a request.
#[derive(Clone)]
pub struct SurfaceCtx {
    /// Effective organization settings (what the serving path sees after the settings cache).
    pub org: Arc<Organization>,
    /// The server producing the answer (the mailbox's back end after proxying).
    pub server: ServerRef,
    /// `https` or `http` — the scheme the client used (after offloading devices).
    pub scheme: String,
    /// The host the client used (no port), e.g. `mail.contoso.com`.
    pub host: String,
    /// `None` for anonymous requests the pipeline lets through (e.g. Autodiscover JSON v2).
    pub user: Option<AuthedUser>,
    pub authn: Authn,
    pub store: MailStore,
    pub clock: Clock,
}

impl SurfaceCtx {
    /// Whether the request arrived on one of the server's internal names.
    pub fn is_internal(&self) -> bool {
        self.server.is_internal_host(&self.host)
    }

    /// The server a mailbox lives on (falls back to the answering server).
    pub fn mailbox_server(&self, mb: &Mailbox) -> Server {
        self.org.server(&mb.server).unwrap_or(&self.server).clone()
    }

    /// The lab clock as a UTC date-time.
    pub fn now(&self) -> time::OffsetDateTime {
        time::OffsetDateTime::from(self.clock.now())
    }
}
