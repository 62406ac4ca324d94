//! Mailbox contents (folders and items), seeded from the lab file's `mailboxes[].items`.
//!
//! One [`MailStore`] per running service, shared by every surface and cheap to clone. Each
//! mailbox (keyed by its GUID) has the distinguished folders EWS clients ask for by name, with
//! stable ids, and message items. Ids are EWS-shaped: base64 of a structure that starts like
//! a real Exchange id (`AAMkA…`: no compression, mailbox-GUID based, the GUID in ASCII) followed
//! by a kind byte and a serial number, so they are deterministic for golden files and can be
//! checked for malformation without a lookup. Everything sits behind one `std::sync::Mutex`
//! taken only for the duration of a closure ([`MailStore::with_mailbox`]), never across an
//! `.await`. A mailbox is bounded ([`MAX_ITEMS_PER_MAILBOX`]) and reports the EWS quota error
//! when full.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::model::{Mailbox, Organization};

/// Items one mailbox may hold before CreateItem fails with `ErrorQuotaExceeded`.
pub const MAX_ITEMS_PER_MAILBOX: usize = 10_000;

/// Seeded items without a `received` time are spaced back from this instant (2018-01-02 09:00 UTC).
const SEED_BASE_UNIX: i64 = 1_514_883_600;

/// What an EWS id points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdKind {
    Folder,
    Item,
}

impl IdKind {
    fn byte(self) -> u8 {
        match self {
            IdKind::Folder => 0x01,
            IdKind::Item => 0x46,
        }
    }
}

/// A decoded EWS `Id`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EwsId {
    pub mailbox: Uuid,
    pub kind: IdKind,
    pub serial: u32,
}

const ID_HEADER: [u8; 4] = [0x00, 0x03, 0x24, 0x00];
const ID_LEN: usize = 4 + 36 + 2 + 4;

impl EwsId {
    /// Base64 form used on the wire.
    pub fn encode(&self) -> String {
        B64.encode(self.to_bytes())
    }

    /// The raw bytes (also what ConvertId calls the `EntryId`).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut b = Vec::with_capacity(ID_LEN);
        b.extend_from_slice(&ID_HEADER);
        b.extend_from_slice(self.mailbox.hyphenated().to_string().as_bytes());
        b.push(0x00);
        b.push(self.kind.byte());
        b.extend_from_slice(&self.serial.to_le_bytes());
        b
    }

    /// Parses the raw bytes; `None` when they are not one of our ids.
    pub fn from_bytes(b: &[u8]) -> Option<EwsId> {
        if b.len() != ID_LEN || b[..4] != ID_HEADER || b[40] != 0x00 {
            return None;
        }
        let guid = std::str::from_utf8(&b[4..40]).ok()?;
        let mailbox = Uuid::parse_str(guid).ok()?;
        let kind = match b[41] {
            0x01 => IdKind::Folder,
            0x46 => IdKind::Item,
            _ => return None,
        };
        let serial = u32::from_le_bytes([b[42], b[43], b[44], b[45]]);
        Some(EwsId {
            mailbox,
            kind,
            serial,
        })
    }

    /// Parses the wire (base64) form; `None` means "Id is malformed".
    pub fn decode(s: &str) -> Option<EwsId> {
        let b = B64.decode(s.trim()).ok()?;
        EwsId::from_bytes(&b)
    }
}

/// A `ChangeKey` for an object at change number `change`.
pub fn change_key(mailbox: Uuid, kind: IdKind, change: u32) -> String {
    let mut b = vec![
        match kind {
            IdKind::Folder => 0x01,
            IdKind::Item => 0x09,
        },
        0,
        0,
        0,
        0x16,
        0,
        0,
        0,
    ];
    b.extend_from_slice(mailbox.as_bytes());
    b.extend_from_slice(&change.to_le_bytes());
    B64.encode(b)
}

/// A mail address with its display name.
#[derive(Debug, Clone, PartialEq)]
pub struct Addr {
    pub name: String,
    pub email: String,
}

impl Addr {
    /// Parses `Name <a@b>` or a bare `a@b`, naming bare addresses after the org's mailbox.
    pub fn parse(s: &str, org: Option<&Organization>) -> Addr {
        let s = s.trim();
        if let (Some(lt), true) = (s.rfind('<'), s.ends_with('>')) {
            let email = s[lt + 1..s.len() - 1].trim().to_string();
            let name = s[..lt].trim().trim_matches('"').trim().to_string();
            let name = if name.is_empty() { email.clone() } else { name };
            return Addr { name, email };
        }
        let name = org
            .and_then(|o| o.mailbox_by_smtp(s))
            .map(|m| m.display_name.clone())
            .unwrap_or_else(|| s.to_string());
        Addr {
            name,
            email: s.to_string(),
        }
    }
}

/// One folder of a mailbox.
#[derive(Debug, Clone, PartialEq)]
pub struct Folder {
    pub serial: u32,
    /// The EWS distinguished name (`inbox`), every folder here is a distinguished one.
    pub distinguished: &'static str,
    pub display_name: &'static str,
    /// `FolderClass`, absent on the roots.
    pub class: Option<&'static str>,
    /// EWS element name: `Folder`, `CalendarFolder`, `ContactsFolder`, `TasksFolder`.
    pub element: &'static str,
    pub parent: Option<u32>,
    pub change: u32,
}

/// One message item.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub serial: u32,
    pub folder: u32,
    pub change: u32,
    pub item_class: String,
    pub subject: String,
    pub from: Option<Addr>,
    pub to: Vec<Addr>,
    pub cc: Vec<Addr>,
    pub body: String,
    /// `HTML` or `Text`.
    pub body_type: String,
    pub received: OffsetDateTime,
    pub sent: OffsetDateTime,
    pub created: OffsetDateTime,
    pub is_read: bool,
    pub is_draft: bool,
    pub internet_message_id: String,
}

impl Item {
    /// `Size` as EWS reports it: an estimate of the stored message.
    pub fn size(&self) -> usize {
        let addrs: usize = self
            .to
            .iter()
            .chain(self.cc.iter())
            .chain(self.from.iter())
            .map(|a| a.name.len() + a.email.len() + 16)
            .sum();
        1024 + self.subject.len() * 2 + self.body.len() + addrs
    }
}

/// The contents of one mailbox.
#[derive(Debug, Clone, PartialEq)]
pub struct MailboxData {
    pub guid: Uuid,
    pub smtp: String,
    pub display_name: String,
    pub folders: Vec<Folder>,
    pub items: Vec<Item>,
    next_item: u32,
}

/// Why an item could not be stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreError {
    QuotaExceeded,
    FolderNotFound,
}

/// The fixed folder tree.
/// (distinguished name, display name, folder class, EWS element, parent serial).
type FolderSpec = (
    &'static str,
    &'static str,
    Option<&'static str>,
    &'static str,
    Option<u32>,
);

const FOLDERS: &[FolderSpec] = &[
    ("root", "", None, "Folder", None),
    (
        "msgfolderroot",
        "Top of Information Store",
        None,
        "Folder",
        Some(1),
    ),
    ("inbox", "Inbox", Some("IPF.Note"), "Folder", Some(2)),
    (
        "sentitems",
        "Sent Items",
        Some("IPF.Note"),
        "Folder",
        Some(2),
    ),
    ("drafts", "Drafts", Some("IPF.Note"), "Folder", Some(2)),
    (
        "deleteditems",
        "Deleted Items",
        Some("IPF.Note"),
        "Folder",
        Some(2),
    ),
    ("outbox", "Outbox", Some("IPF.Note"), "Folder", Some(2)),
    (
        "calendar",
        "Calendar",
        Some("IPF.Appointment"),
        "CalendarFolder",
        Some(2),
    ),
    (
        "contacts",
        "Contacts",
        Some("IPF.Contact"),
        "ContactsFolder",
        Some(2),
    ),
    ("tasks", "Tasks", Some("IPF.Task"), "TasksFolder", Some(2)),
    ("notes", "Notes", Some("IPF.StickyNote"), "Folder", Some(2)),
    (
        "junkemail",
        "Junk Email",
        Some("IPF.Note"),
        "Folder",
        Some(2),
    ),
];

fn fmt_ts(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

impl MailboxData {
    fn new(mb: &Mailbox, org: Option<&Organization>) -> MailboxData {
        let folders = FOLDERS
            .iter()
            .enumerate()
            .map(|(i, (d, n, c, e, p))| Folder {
                serial: i as u32 + 1,
                distinguished: d,
                display_name: n,
                class: *c,
                element: e,
                parent: *p,
                change: 1,
            })
            .collect();
        let mut data = MailboxData {
            guid: mb.guid,
            smtp: mb.primary_smtp_address.clone(),
            display_name: mb.display_name.clone(),
            folders,
            items: Vec::new(),
            next_item: 1,
        };
        for (i, seed) in mb.items.iter().enumerate().take(MAX_ITEMS_PER_MAILBOX) {
            let Some(folder) = data.folder_by_name(&seed.folder).map(|f| f.serial) else {
                continue;
            };
            let received = seed
                .received
                .as_deref()
                .and_then(|r| OffsetDateTime::parse(r, &Rfc3339).ok())
                .unwrap_or_else(|| {
                    OffsetDateTime::from_unix_timestamp(SEED_BASE_UNIX - 3600 * i as i64)
                        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
                });
            let from = (!seed.from.is_empty()).then(|| Addr::parse(&seed.from, org));
            let to = seed.to.iter().map(|t| Addr::parse(t, org)).collect();
            let serial = data.next_item;
            data.next_item += 1;
            data.items.push(Item {
                serial,
                folder,
                change: 1,
                item_class: "IPM.Note".into(),
                subject: seed.subject.clone(),
                from,
                to,
                cc: Vec::new(),
                body: seed.body.clone(),
                body_type: "Text".into(),
                received,
                sent: received,
                created: received,
                is_read: seed.is_read,
                is_draft: false,
                internet_message_id: format!(
                    "<{}.{}@{}>",
                    serial,
                    mb.guid.simple(),
                    org.map(|o| o.domain.as_str()).unwrap_or("localhost")
                ),
            });
        }
        data
    }

    /// A folder by distinguished name (case-sensitive, as the EWS schema enumeration is).
    pub fn folder_by_name(&self, name: &str) -> Option<&Folder> {
        self.folders.iter().find(|f| f.distinguished == name)
    }

    pub fn folder(&self, serial: u32) -> Option<&Folder> {
        self.folders.iter().find(|f| f.serial == serial)
    }

    pub fn folder_id(&self, f: &Folder) -> EwsId {
        EwsId {
            mailbox: self.guid,
            kind: IdKind::Folder,
            serial: f.serial,
        }
    }

    pub fn item_id(&self, i: &Item) -> EwsId {
        EwsId {
            mailbox: self.guid,
            kind: IdKind::Item,
            serial: i.serial,
        }
    }

    pub fn item(&self, serial: u32) -> Option<&Item> {
        self.items.iter().find(|i| i.serial == serial)
    }

    /// Child folders of `serial`; all descendants when `deep`.
    pub fn subfolders(&self, serial: u32, deep: bool) -> Vec<&Folder> {
        let mut out = Vec::new();
        let mut frontier = vec![serial];
        while let Some(p) = frontier.pop() {
            for f in self.folders.iter().filter(|f| f.parent == Some(p)) {
                out.push(f);
                if deep {
                    frontier.push(f.serial);
                }
            }
        }
        out.sort_by_key(|f| f.serial);
        out
    }

    /// Items of a folder, newest first (EWS's default order is by DateTimeReceived descending).
    pub fn items_in(&self, folder: u32) -> Vec<&Item> {
        let mut v: Vec<&Item> = self.items.iter().filter(|i| i.folder == folder).collect();
        v.sort_by(|a, b| b.received.cmp(&a.received).then(b.serial.cmp(&a.serial)));
        v
    }

    pub fn total_count(&self, folder: u32) -> usize {
        self.items.iter().filter(|i| i.folder == folder).count()
    }

    pub fn unread_count(&self, folder: u32) -> usize {
        self.items
            .iter()
            .filter(|i| i.folder == folder && !i.is_read)
            .count()
    }

    /// Stores a new item in `folder` (distinguished name) and returns its serial.
    pub fn add_item(&mut self, folder: &str, mut item: Item) -> Result<u32, StoreError> {
        if self.items.len() >= MAX_ITEMS_PER_MAILBOX {
            return Err(StoreError::QuotaExceeded);
        }
        let folder = self
            .folder_by_name(folder)
            .map(|f| f.serial)
            .ok_or(StoreError::FolderNotFound)?;
        let serial = self.next_item;
        self.next_item = serial.checked_add(1).ok_or(StoreError::QuotaExceeded)?;
        item.serial = serial;
        item.folder = folder;
        if item.internet_message_id.is_empty() {
            let domain = self
                .smtp
                .rsplit_once('@')
                .map(|x| x.1)
                .unwrap_or("localhost");
            item.internet_message_id = format!("<{}.{}@{}>", serial, self.guid.simple(), domain);
        }
        self.items.push(item);
        Ok(serial)
    }

    /// A mutable item by serial.
    pub fn item_mut(&mut self, serial: u32) -> Option<&mut Item> {
        self.items.iter_mut().find(|i| i.serial == serial)
    }

    /// Removes an item; `false` when it was not there.
    pub fn remove_item(&mut self, serial: u32) -> bool {
        let before = self.items.len();
        self.items.retain(|i| i.serial != serial);
        self.items.len() != before
    }

    /// RFC 3339 of an instant, the EWS `dateTime` form (`2018-01-02T09:00:00Z`).
    pub fn ts(t: OffsetDateTime) -> String {
        fmt_ts(t)
    }
}

/// Sessions a MAPI/HTTP endpoint keeps at once; creating one more first drops expired ones.
pub const MAX_MAPI_SESSIONS: usize = 10_000;

/// One MAPI/HTTP session context (`Connect` on emsmdb, `Bind` on nspi).
#[derive(Debug, Clone, PartialEq)]
pub struct MapiSession {
    /// `emsmdb` or `nspi`.
    pub endpoint: &'static str,
    pub mailbox: Uuid,
    /// SID of the account that created the session; only it may use the cookie.
    pub owner_sid: String,
    /// The `MapiSequence` value the next request must present.
    pub sequence: String,
    /// Requests served on this context so far (numbers the sequence cookie).
    pub counter: u64,
    pub expires_unix: i64,
}

#[derive(Default)]
struct Sessions {
    next: u64,
    map: HashMap<String, MapiSession>,
}

/// Shared, cheap-to-clone mailbox store (also home of the MAPI/HTTP session contexts, which
/// live exactly as long as the mailbox contents do).
#[derive(Clone, Default)]
pub struct MailStore {
    inner: Arc<Mutex<HashMap<Uuid, MailboxData>>>,
    sessions: Arc<Mutex<Sessions>>,
    /// OWA forms-based sign-ins: `cadata` cookie value → (account SID, expiry).
    owa: Arc<Mutex<HashMap<String, (String, i64)>>>,
}

impl MailStore {
    /// A store with every mailbox of `org` and its seeded items.
    pub fn from_org(org: &Organization) -> Self {
        let map = org
            .mailboxes
            .iter()
            .map(|m| (m.guid, MailboxData::new(m, Some(org))))
            .collect();
        MailStore {
            inner: Arc::new(Mutex::new(map)),
            sessions: Arc::default(),
            owa: Arc::default(),
        }
    }

    /// Records a forms-based sign-in and returns the `cadata` cookie value.
    pub fn owa_sign_in(&self, sid: &str, now_unix: i64, lifetime_secs: i64) -> String {
        let token = Uuid::new_v4().simple().to_string().to_ascii_uppercase();
        let mut m = match self.owa.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        if m.len() >= MAX_MAPI_SESSIONS {
            m.retain(|_, (_, exp)| *exp > now_unix);
        }
        if m.len() < MAX_MAPI_SESSIONS {
            m.insert(token.clone(), (sid.to_string(), now_unix + lifetime_secs));
        }
        token
    }

    /// The account SID a live `cadata` cookie belongs to.
    pub fn owa_session(&self, token: &str, now_unix: i64) -> Option<String> {
        let m = match self.owa.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        m.get(token)
            .filter(|(_, exp)| *exp > now_unix)
            .map(|(sid, _)| sid.clone())
    }

    fn sessions(&self) -> std::sync::MutexGuard<'_, Sessions> {
        match self.sessions.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// Creates a MAPI session and returns its context cookie value; `None` when the table is
    /// full of live sessions.
    pub fn mapi_open(&self, mut session: MapiSession, now_unix: i64) -> Option<String> {
        let mut s = self.sessions();
        if s.map.len() >= MAX_MAPI_SESSIONS {
            s.map.retain(|_, v| v.expires_unix > now_unix);
            if s.map.len() >= MAX_MAPI_SESSIONS {
                return None;
            }
        }
        s.next += 1;
        let n = s.next;
        let cookie = format!(
            "{:032X}",
            super::common::name_guid(&format!(
                "mapi:{}:{}:{n}",
                session.endpoint, session.mailbox
            ))
            .as_u128()
        );
        session.sequence = sequence_value(&cookie, 0);
        s.map.insert(cookie.clone(), session);
        Some(cookie)
    }

    /// Runs `f` on the session named by `cookie` (or `None`). The lock is held only while `f` runs.
    pub fn mapi_with<R>(&self, cookie: &str, f: impl FnOnce(Option<&mut MapiSession>) -> R) -> R {
        let mut s = self.sessions();
        f(s.map.get_mut(cookie))
    }

    /// Ends a session.
    pub fn mapi_close(&self, cookie: &str) {
        self.sessions().map.remove(cookie);
    }

    /// Runs `f` on the mailbox's contents, creating them (seeded) if the mailbox was added to
    /// the organization after start. The lock is held only while `f` runs.
    pub fn with_mailbox<R>(
        &self,
        mb: &Mailbox,
        org: Option<&Organization>,
        f: impl FnOnce(&mut MailboxData) -> R,
    ) -> R {
        let mut guard = match self.inner.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        let data = guard
            .entry(mb.guid)
            .or_insert_with(|| MailboxData::new(mb, org));
        f(data)
    }
}

/// The `MapiSequence` cookie value after `n` requests on the context `cookie`.
pub fn sequence_value(cookie: &str, n: u64) -> String {
    let h = super::common::name_guid(&format!("seq:{cookie}:{n}")).as_u128() as u64;
    format!("{n}-{h:016X}")
}

impl std::fmt::Debug for MailStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.inner.lock().map(|g| g.len()).unwrap_or(0);
        write!(f, "MailStore({n} mailboxes)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::surfaces::testing::org;

    #[test]
    fn ids_round_trip_and_look_like_exchange_ids() {
        let id = EwsId {
            mailbox: Uuid::from_u128(0x1234),
            kind: IdKind::Item,
            serial: 7,
        };
        let s = id.encode();
        assert!(s.starts_with("AAMkA"), "{s}");
        assert_eq!(EwsId::decode(&s), Some(id));
        assert_eq!(EwsId::decode("DUMMY"), None);
        assert_eq!(EwsId::decode("AAAA"), None);
    }

    #[test]
    fn seeds_folders_and_items() {
        let org = org();
        let store = MailStore::from_org(&org);
        let mb = org.mailboxes[0].clone();
        store.with_mailbox(&mb, None, |d| {
            assert_eq!(d.folders.len(), 12);
            let inbox = d.folder_by_name("inbox").unwrap().serial;
            assert_eq!(d.total_count(inbox), 3);
            assert_eq!(d.unread_count(inbox), 2);
            let items = d.items_in(inbox);
            assert!(items[0].received >= items[1].received);
            assert_eq!(
                d.subfolders(1, true).len(),
                11,
                "root holds msgfolderroot and its ten children"
            );
            assert_eq!(d.subfolders(1, false).len(), 1);
        });
    }

    #[test]
    fn quota_is_enforced() {
        let org = org();
        let store = MailStore::from_org(&org);
        let mb = org.mailboxes[0].clone();
        store.with_mailbox(&mb, None, |d| {
            let template = d.items[0].clone();
            while d.items.len() < MAX_ITEMS_PER_MAILBOX {
                d.add_item("drafts", template.clone()).unwrap();
            }
            assert_eq!(
                d.add_item("drafts", template.clone()),
                Err(StoreError::QuotaExceeded)
            );
        });
    }
}
