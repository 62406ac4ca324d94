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

/// The authenticated user: the on-premises account and its mailbox, read from the request's
/// organization snapshot (as [`ServerRef`] reads its server) rather than copied into every
/// request's context (eight strings per request on the Bearer path).
#[derive(Clone)]
pub struct AuthedUser(UserAt);

#[derive(Clone)]
enum UserAt {
    /// `accounts[account]` and `mailboxes[mailbox]` of the snapshot.
    Shared {
        org: Arc<Organization>,
        account: usize,
        mailbox: usize,
    },
    Owned(Arc<(Account, Mailbox)>),
}

/// The index of `item` in `slice`, when it is one of its elements (by address).
fn index_in<T>(slice: &[T], item: &T) -> Option<usize> {
    let size = std::mem::size_of::<T>().max(1);
    let off = (item as *const T as usize).checked_sub(slice.as_ptr() as usize)?;
    let i = off / size;
    (off % size == 0 && slice.get(i).is_some_and(|x| std::ptr::eq(x, item))).then_some(i)
}

impl AuthedUser {
    /// `account` and `mailbox` of `org` (copied only when they are not elements of `org`).
    pub fn of(org: &Arc<Organization>, account: &Account, mailbox: &Mailbox) -> AuthedUser {
        match (
            index_in(&org.accounts, account),
            index_in(&org.mailboxes, mailbox),
        ) {
            (Some(account), Some(mailbox)) => AuthedUser(UserAt::Shared {
                org: org.clone(),
                account,
                mailbox,
            }),
            _ => AuthedUser::owned(account.clone(), mailbox.clone()),
        }
    }

    /// A user of no organization snapshot (fixtures).
    pub fn owned(account: Account, mailbox: Mailbox) -> AuthedUser {
        AuthedUser(UserAt::Owned(Arc::new((account, mailbox))))
    }

    pub fn account(&self) -> &Account {
        match &self.0 {
            UserAt::Shared { org, account, .. } => &org.accounts[*account],
            UserAt::Owned(both) => &both.0,
        }
    }

    pub fn mailbox(&self) -> &Mailbox {
        match &self.0 {
            UserAt::Shared { org, mailbox, .. } => &org.mailboxes[*mailbox],
            UserAt::Owned(both) => &both.1,
        }
    }
}

impl std::fmt::Debug for AuthedUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthedUser")
            .field("account", &self.account().upn)
            .field("mailbox", &self.mailbox().primary_smtp_address)
            .finish()
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A user read from the snapshot names the snapshot's own account and mailbox; one whose
    /// account or mailbox is not an element of it (a copy, a neighbour) is kept as a copy.
    #[test]
    fn a_user_reads_the_snapshot_it_came_from() {
        let org = Arc::new(crate::surfaces::testing::org());
        assert!(org.accounts.len() >= 2 && org.mailboxes.len() >= 2);
        for i in 0..2 {
            let u = AuthedUser::of(&org, &org.accounts[i], &org.mailboxes[i]);
            assert!(
                matches!(u.0, UserAt::Shared { account, mailbox, .. } if account == i && mailbox == i)
            );
            assert!(std::ptr::eq(u.account(), &org.accounts[i]));
            assert!(std::ptr::eq(u.mailbox(), &org.mailboxes[i]));
        }
        let copy = org.accounts[1].clone();
        let u = AuthedUser::of(&org, &copy, &org.mailboxes[1]);
        assert!(matches!(u.0, UserAt::Owned(_)));
        assert_eq!(u.account(), &org.accounts[1]);
        assert_eq!(u.mailbox(), &org.mailboxes[1]);
        assert_eq!(
            format!("{u:?}"),
            format!(
                "AuthedUser {{ account: {:?}, mailbox: {:?} }}",
                org.accounts[1].upn, org.mailboxes[1].primary_smtp_address
            )
        );
        // An address inside the vector but not at an element's start is no element.
        assert_eq!(index_in(&org.accounts, &org.accounts[1]), Some(1));
        assert_eq!(index_in(&org.accounts[..1], &org.accounts[1]), None);
        assert_eq!(index_in(&org.accounts[1..], &org.accounts[0]), None);
    }
}
