//! The EWS operations that change a mailbox: CreateItem (save, send, send and save a copy),
//! UpdateItem and DeleteItem.

use std::collections::HashSet;

use crate::surfaces::store::{change_key, Addr, EwsId, IdKind, Item, StoreError};
use crate::surfaces::xml::{Element, NS_M, NS_T};

use super::op::Ews;
use super::soap::{err_msg, ok_msg, Code, Fault};

impl Ews<'_> {
    // -- UpdateItem / DeleteItem ---------------------------------------------------------------

    pub(super) fn update_item(&self, op: &Element) -> Result<String, Fault> {
        let Some(changes) = op.child(NS_M, "ItemChanges") else {
            return Err(Fault::incomplete(op, "ItemChanges"));
        };
        self.with_mine(|data| {
            let mut out = String::new();
            for ch in changes.children_named(NS_T, "ItemChange") {
                let Some(id_el) = ch.child(NS_T, "ItemId") else {
                    return Err(Fault::incomplete(ch, "ItemId"));
                };
                let serial = match self.resolve_item(id_el, data) {
                    Ok(s) => s,
                    Err(code) => {
                        out.push_str(&err_msg("UpdateItem", code, "<m:Items/>"));
                        continue;
                    }
                };
                let mut result = Ok(());
                let mut updated = data.item(serial).cloned();
                if let (Some(it), Some(updates)) = (updated.as_mut(), ch.child(NS_T, "Updates")) {
                    for u in &updates.children {
                        let uri = u
                            .child(NS_T, "FieldURI")
                            .and_then(|f| f.attr("FieldURI"))
                            .unwrap_or_default();
                        let value = u
                            .children
                            .iter()
                            .find(|c| c.name == "Message" || c.name == "Item")
                            .and_then(|m| m.children.first());
                        let set = u.name == "SetItemField";
                        match (uri, set, value) {
                            ("message:IsRead", true, Some(v)) => {
                                // xs:boolean: exchangelib writes `1`, others `true`.
                                it.is_read = matches!(v.text.trim(), "true" | "1")
                            }
                            ("item:Subject", true, Some(v)) => it.subject = v.text.to_string(),
                            ("item:Subject", false, _) => it.subject.clear(),
                            ("item:Body", true, Some(v)) => {
                                it.body = v.text.to_string();
                                it.body_type = match v.attr("BodyType") {
                                    Some("HTML") => "HTML".into(),
                                    _ => "Text".into(),
                                };
                            }
                            _ => {
                                result = Err(Code::InvalidPropertySet);
                                break;
                            }
                        }
                    }
                }
                let Some(mut it) = updated else {
                    out.push_str(&err_msg("UpdateItem", Code::ItemNotFound, "<m:Items/>"));
                    continue;
                };
                if let Err(code) = result {
                    out.push_str(&err_msg("UpdateItem", code, "<m:Items/>"));
                    continue;
                }
                it.change += 1;
                let id = data.item_id(&it);
                let ck = change_key(data.guid, IdKind::Item, it.change);
                if let Some(slot) = data.item_mut(serial) {
                    *slot = it;
                }
                out.push_str(&ok_msg(
                    "UpdateItem",
                    &format!(
                        "<m:Items><t:Message><t:ItemId Id=\"{}\" ChangeKey=\"{ck}\"/></t:Message></m:Items><m:ConflictResults><t:Count>0</t:Count></m:ConflictResults>",
                        id.encode()
                    ),
                ));
            }
            Ok(out)
        })
    }

    pub(super) fn delete_item(&self, op: &Element) -> Result<String, Fault> {
        let delete_type = op.attr("DeleteType").unwrap_or_default();
        if !["HardDelete", "SoftDelete", "MoveToDeletedItems"].contains(&delete_type) {
            return Err(Fault::enumeration(
                op,
                "The 'DeleteType' attribute",
                delete_type,
                "DisposalType",
            ));
        }
        let Some(ids) = op.child(NS_M, "ItemIds") else {
            return Err(Fault::incomplete(op, "ItemIds"));
        };
        self.with_mine(|data| {
            let mut out = String::new();
            for el in &ids.children {
                match self.resolve_item(el, data) {
                    Err(code) => out.push_str(&err_msg("DeleteItem", code, "")),
                    Ok(serial) => {
                        let deleted = data.folder_by_name("deleteditems").map(|f| f.serial);
                        let in_deleted = data.item(serial).map(|i| i.folder) == deleted;
                        match (delete_type, deleted) {
                            ("MoveToDeletedItems", Some(d)) if !in_deleted => {
                                if let Some(it) = data.item_mut(serial) {
                                    it.folder = d;
                                    it.change += 1;
                                }
                            }
                            _ => {
                                data.remove_item(serial);
                            }
                        }
                        out.push_str(&ok_msg("DeleteItem", ""));
                    }
                }
            }
            Ok(out)
        })
    }

    // -- CreateItem ----------------------------------------------------------------------------

    pub(super) fn create_item(&self, op: &Element) -> Result<String, Fault> {
        let disposition = op.attr("MessageDisposition");
        if let Some(d) = disposition {
            if !["SaveOnly", "SendOnly", "SendAndSaveCopy"].contains(&d) {
                return Err(Fault::enumeration(
                    op,
                    "The 'MessageDisposition' attribute",
                    d,
                    "MessageDispositionType",
                ));
            }
        }
        let Some(items) = op.child(NS_M, "Items") else {
            return Err(Fault::incomplete(op, "Items"));
        };
        let saved = op
            .child(NS_M, "SavedItemFolderId")
            .and_then(|s| s.children.first());
        let now = self
            .ctx
            .now()
            .replace_nanosecond(0)
            .unwrap_or(self.ctx.now());
        let org = &self.ctx.org;
        let me = self.my_mailbox().clone();
        let mut out = String::new();
        for el in &items.children {
            if !el.is(NS_T, "Message") {
                out.push_str(&err_msg("CreateItem", Code::InvalidOperation, "<m:Items/>"));
                continue;
            }
            let Some(disposition) = disposition else {
                out.push_str(&err_msg(
                    "CreateItem",
                    Code::MessageDispositionRequired,
                    "<m:Items/>",
                ));
                continue;
            };
            let recips = |tag: &str| -> Vec<Addr> {
                el.child(NS_T, tag)
                    .map(|r| {
                        r.children_named(NS_T, "Mailbox")
                            .filter_map(|m| {
                                let email = m.child_text(NS_T, "EmailAddress")?.to_string();
                                let name = m
                                    .child_text(NS_T, "Name")
                                    .filter(|n| !n.is_empty())
                                    .map(str::to_owned);
                                let mut a = Addr::parse(&email, Some(org));
                                if let Some(n) = name {
                                    a.name = n;
                                }
                                Some(a)
                            })
                            .collect()
                    })
                    .unwrap_or_default()
            };
            let body = el.child(NS_T, "Body");
            let item = Item {
                serial: 0,
                folder: 0,
                change: 1,
                item_class: el
                    .child_text(NS_T, "ItemClass")
                    .filter(|c| !c.is_empty())
                    .unwrap_or("IPM.Note")
                    .to_string(),
                subject: el
                    .child_text(NS_T, "Subject")
                    .unwrap_or_default()
                    .to_string(),
                from: Some(Addr {
                    name: me.display_name.clone(),
                    email: me.primary_smtp_address.clone(),
                }),
                to: recips("ToRecipients"),
                cc: recips("CcRecipients"),
                body: body.map(|b| b.text.to_string()).unwrap_or_default(),
                body_type: match body.and_then(|b| b.attr("BodyType")) {
                    Some("HTML") => "HTML".into(),
                    _ => "Text".into(),
                },
                received: now,
                sent: now,
                created: now,
                is_read: true,
                is_draft: disposition == "SaveOnly",
                internet_message_id: String::new(),
            };
            let bcc = recips("BccRecipients");
            // Where the saved copy goes (SaveOnly: drafts; SendAndSaveCopy: sentitems).
            let save_to = if disposition == "SendOnly" {
                None
            } else {
                let default = if disposition == "SaveOnly" {
                    "drafts"
                } else {
                    "sentitems"
                };
                let target = match saved {
                    None => Ok(default.to_string()),
                    Some(s) => {
                        let r = self.with_mine(|d| {
                            self.resolve_folder(s, d).map(|r| {
                                r.and_then(|serial| {
                                    d.folder(serial)
                                        .map(|f| f.distinguished.to_string())
                                        .ok_or(Code::FolderNotFound)
                                })
                            })
                        })?;
                        r
                    }
                };
                match target {
                    Ok(t) => Some(t),
                    Err(code) => {
                        out.push_str(&err_msg("CreateItem", code, "<m:Items/>"));
                        continue;
                    }
                }
            };
            if disposition != "SaveOnly"
                && item.to.is_empty()
                && item.cc.is_empty()
                && bcc.is_empty()
            {
                out.push_str(&err_msg(
                    "CreateItem",
                    Code::InvalidRecipients,
                    "<m:Items/>",
                ));
                continue;
            }
            // Store the sender's copy first so the message id is shared with deliveries.
            let mut item = item;
            let saved_id = match &save_to {
                Some(folder) => {
                    let r = self.with_mine(|d| {
                        d.add_item(folder, item.clone()).map(|serial| {
                            let msg_id = d
                                .item(serial)
                                .map(|i| (i.internet_message_id.clone(), i.change))
                                .unwrap_or_default();
                            (d.guid, serial, msg_id)
                        })
                    });
                    match r {
                        Ok((guid, serial, (msg_id, change))) => {
                            item.internet_message_id = msg_id;
                            let id = EwsId {
                                mailbox: guid,
                                kind: IdKind::Item,
                                serial,
                            };
                            Some((id, change))
                        }
                        Err(StoreError::QuotaExceeded) => {
                            out.push_str(&err_msg("CreateItem", Code::QuotaExceeded, "<m:Items/>"));
                            continue;
                        }
                        Err(StoreError::FolderNotFound) => {
                            out.push_str(&err_msg(
                                "CreateItem",
                                Code::FolderNotFound,
                                "<m:Items/>",
                            ));
                            continue;
                        }
                    }
                }
                None => None,
            };
            if disposition != "SaveOnly" {
                if item.internet_message_id.is_empty() {
                    item.internet_message_id = format!(
                        "<{}.{}@{}>",
                        now.unix_timestamp(),
                        me.guid.simple(),
                        org.domain
                    );
                }
                let mut delivered = HashSet::new();
                for rcpt in item.to.iter().chain(item.cc.iter()).chain(bcc.iter()) {
                    let Some(mb) = org.mailbox_by_smtp(&rcpt.email) else {
                        continue; // no transport beyond the organization
                    };
                    if !delivered.insert(mb.guid) {
                        continue;
                    }
                    let mut copy = item.clone();
                    copy.is_read = false;
                    copy.is_draft = false;
                    // A full recipient mailbox bounces in real life; the lab drops it silently.
                    let _ = self
                        .ctx
                        .store
                        .with_mailbox(mb, Some(org), |d| d.add_item("inbox", copy));
                }
            }
            let content = match (disposition, saved_id) {
                ("SaveOnly", Some((id, change))) => format!(
                    "<m:Items><t:Message><t:ItemId Id=\"{}\" ChangeKey=\"{}\"/></t:Message></m:Items>",
                    id.encode(),
                    change_key(id.mailbox, IdKind::Item, change)
                ),
                _ => "<m:Items/>".to_string(),
            };
            out.push_str(&ok_msg("CreateItem", &content));
        }
        Ok(out)
    }
}
