//! What every EWS operation shares: the [`Ews`] context (the answering server and the caller,
//! whose mailbox the operation works in) and the resolution of the folder and item ids a
//! request names into the caller's mailbox — with the `ResponseMessage` error a real mailbox
//! answers for an id that is malformed, unknown or another user's.

use crate::model::Mailbox;
use crate::surfaces::ctx::{AuthedUser, SurfaceCtx};
use crate::surfaces::store::{EwsId, IdKind, MailboxData};
use crate::surfaces::xml::{Element, NS_T};

use super::soap::{Code, Fault};

/// Distinguished folder names the EWS schema's `DistinguishedFolderIdNameType` accepts; any
/// other value is a schema violation. Names the lab's mailboxes do not model answer
/// `ErrorFolderNotFound`, as a real mailbox without that folder does.
const DISTINGUISHED_NAMES: &[&str] = &[
    "adminauditlogs",
    "allcategorizeditems",
    "allcontacts",
    "allitems",
    "allpersonmetadata",
    "archivedeleteditems",
    "archiveinbox",
    "archivemsgfolderroot",
    "archiverecoverableitemsdeletions",
    "archiverecoverableitemspurges",
    "archiverecoverableitemsroot",
    "archiverecoverableitemsversions",
    "calendar",
    "companycontacts",
    "conflicts",
    "contacts",
    "conversationhistory",
    "deleteditems",
    "directory",
    "dlppolicyevaluation",
    "drafts",
    "favorites",
    "fromfavoritesenders",
    "imcontactlist",
    "inbox",
    "inference",
    "journal",
    "junkemail",
    "localfailures",
    "msgfolderroot",
    "mycontacts",
    "notes",
    "onenotepagepreviews",
    "outbox",
    "peoplecentricconversationbuddies",
    "peopleconnect",
    "publicfoldersroot",
    "qedcdefaultretention",
    "qedclongretention",
    "qedcmediumretention",
    "qedcshortretention",
    "quarantinedemail",
    "quarantinedemaildefaultcategory",
    "quickcontacts",
    "recipientcache",
    "recoverableitemsdeletions",
    "recoverableitemspurges",
    "recoverableitemsroot",
    "recoverableitemssubstrateholds",
    "recoverableitemsversions",
    "relevantcontacts",
    "root",
    "searchfolders",
    "sentitems",
    "serverfailures",
    "sharepointnotifications",
    "shortnotes",
    "syncissues",
    "tasks",
    "temporarysaves",
    "todosearch",
    "usercuratedcontacts",
    "voicemail",
];

/// One operation's context.
pub(super) struct Ews<'a> {
    pub(super) ctx: &'a SurfaceCtx,
    pub(super) user: &'a AuthedUser,
}

/// A resolved folder reference: a folder serial in the caller's mailbox.
pub(super) type FolderRes = Result<u32, Code>;

impl Ews<'_> {
    pub(super) fn my_mailbox(&self) -> &Mailbox {
        self.user.mailbox()
    }

    pub(super) fn with_mine<R>(&self, f: impl FnOnce(&mut MailboxData) -> R) -> R {
        self.ctx
            .store
            .with_mailbox(self.my_mailbox(), Some(&self.ctx.org), f)
    }

    pub(super) fn is_member(&self, email: &str) -> bool {
        self.ctx.org.mailbox_by_smtp(email).is_some()
    }

    /// Resolves one `DistinguishedFolderId` / `FolderId` element.
    pub(super) fn resolve_folder(
        &self,
        el: &Element,
        data: &MailboxData,
    ) -> Result<FolderRes, Fault> {
        if el.is(NS_T, "DistinguishedFolderId") {
            let id = el.attr("Id").unwrap_or_default();
            if !DISTINGUISHED_NAMES.contains(&id) {
                return Err(Fault::enumeration(
                    el,
                    "The 'Id' attribute",
                    id,
                    "DistinguishedFolderIdNameType",
                ));
            }
            if let Some(smtp) = el
                .child(NS_T, "Mailbox")
                .and_then(|m| m.child_text(NS_T, "EmailAddress"))
            {
                match self.ctx.org.mailbox_by_smtp(smtp) {
                    None => return Ok(Err(Code::NonExistentMailbox)),
                    Some(m) if m.guid != data.guid => return Ok(Err(Code::AccessDenied)),
                    Some(_) => {}
                }
            }
            return Ok(data
                .folder_by_name(id)
                .map(|f| f.serial)
                .ok_or(Code::FolderNotFound));
        }
        if el.is(NS_T, "FolderId") {
            let Some(id) = EwsId::decode(el.attr("Id").unwrap_or_default()) else {
                return Ok(Err(Code::InvalidIdMalformed));
            };
            if id.mailbox != data.guid {
                return Ok(Err(if self.ctx.org.mailbox_by_guid(id.mailbox).is_some() {
                    Code::AccessDenied
                } else {
                    Code::FolderNotFound
                }));
            }
            if id.kind != IdKind::Folder {
                return Ok(Err(Code::FolderNotFound));
            }
            return Ok(data
                .folder(id.serial)
                .map(|f| f.serial)
                .ok_or(Code::FolderNotFound));
        }
        Err(Fault::schema(
            el,
            format!(
                "The element '{}' in namespace '{}' is not expected here.",
                el.name, el.ns
            ),
        ))
    }

    pub(super) fn resolve_folders(
        &self,
        container: &Element,
        data: &MailboxData,
    ) -> Result<Vec<FolderRes>, Fault> {
        container
            .children
            .iter()
            .map(|c| self.resolve_folder(c, data))
            .collect()
    }

    /// Resolves a `t:ItemId` against the caller's mailbox.
    pub(super) fn resolve_item(&self, el: &Element, data: &MailboxData) -> Result<u32, Code> {
        match EwsId::decode(el.attr("Id").unwrap_or_default()) {
            None => Err(Code::InvalidIdMalformed),
            Some(id) if id.mailbox != data.guid => {
                Err(if self.ctx.org.mailbox_by_guid(id.mailbox).is_some() {
                    Code::AccessDenied
                } else {
                    Code::ItemNotFound
                })
            }
            Some(id) if id.kind != IdKind::Item => Err(Code::ItemNotFound),
            Some(id) => data
                .item(id.serial)
                .map(|i| i.serial)
                .ok_or(Code::ItemNotFound),
        }
    }
}
