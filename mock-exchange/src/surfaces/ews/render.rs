//! How EWS writes folders and items: the response shape a request asks for (`BaseShape` plus
//! `AdditionalProperties`, [`Shape`]) and the `t:Folder`/`t:Message` elements it selects, with
//! properties in the order Exchange writes them.

use std::collections::HashSet;

use time::OffsetDateTime;

use crate::surfaces::store::{change_key, Addr, IdKind, Item, MailboxData};
use crate::surfaces::xml::{esc, Element, NS_T};

use super::op::Ews;
use super::soap::Fault;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BaseShape {
    IdOnly,
    Default,
    AllProperties,
}

pub(super) struct Shape {
    base: BaseShape,
    extra: HashSet<String>,
    body_type: String,
}

impl Shape {
    pub(super) fn parse(
        el: Option<&Element>,
        parent: &Element,
        name: &str,
    ) -> Result<Shape, Fault> {
        let Some(el) = el else {
            return Err(Fault::incomplete(parent, name));
        };
        let Some(b) = el.child(NS_T, "BaseShape") else {
            return Err(Fault::incomplete(el, "BaseShape"));
        };
        let base = match b.text.trim() {
            "IdOnly" => BaseShape::IdOnly,
            "Default" => BaseShape::Default,
            "AllProperties" => BaseShape::AllProperties,
            other => {
                return Err(Fault::enumeration(
                    b,
                    &format!("The '{NS_T}:BaseShape' element"),
                    other,
                    "DefaultShapeNamesType",
                ))
            }
        };
        let extra = el
            .child(NS_T, "AdditionalProperties")
            .map(|a| {
                a.children
                    .iter()
                    .filter_map(|p| p.attr("FieldURI").map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        let body_type = el
            .child_text(NS_T, "BodyType")
            .unwrap_or("Best")
            .to_string();
        Ok(Shape {
            base,
            extra,
            body_type,
        })
    }

    pub(super) fn has(&self, uri: &str, default: bool, all: bool) -> bool {
        self.extra.contains(uri)
            || match self.base {
                BaseShape::IdOnly => false,
                BaseShape::Default => default,
                BaseShape::AllProperties => all,
            }
    }
}

pub(super) fn fmt_time(t: OffsetDateTime) -> String {
    let t = t.replace_nanosecond(0).unwrap_or(t);
    MailboxData::ts(t)
}

pub(super) fn mailbox_xml(a: &Addr, org_member: bool) -> String {
    format!(
        "<t:Mailbox><t:Name>{}</t:Name><t:EmailAddress>{}</t:EmailAddress><t:RoutingType>SMTP</t:RoutingType><t:MailboxType>{}</t:MailboxType></t:Mailbox>",
        esc(&a.name),
        esc(&a.email),
        if org_member { "Mailbox" } else { "OneOff" }
    )
}

impl Ews<'_> {
    pub(super) fn folder_xml(&self, data: &MailboxData, serial: u32, shape: &Shape) -> String {
        let mut s = String::with_capacity(320);
        self.write_folder_xml(&mut s, data, serial, shape);
        s
    }

    /// [`Self::folder_xml`], written onto `s`.
    pub(super) fn write_folder_xml(
        &self,
        s: &mut String,
        data: &MailboxData,
        serial: u32,
        shape: &Shape,
    ) {
        use std::fmt::Write;
        let Some(f) = data.folder(serial) else {
            return;
        };
        let id = data.folder_id(f);
        // Writing to a String cannot fail.
        let _ = write!(
            s,
            "<t:{}><t:FolderId Id=\"{}\" ChangeKey=\"{}\"/>",
            f.element,
            id.encode(),
            change_key(data.guid, IdKind::Folder, f.change)
        );
        if shape.has("folder:ParentFolderId", false, true) {
            if let Some(p) = f.parent.and_then(|p| data.folder(p)) {
                let _ = write!(
                    s,
                    "<t:ParentFolderId Id=\"{}\" ChangeKey=\"{}\"/>",
                    data.folder_id(p).encode(),
                    change_key(data.guid, IdKind::Folder, p.change)
                );
            }
        }
        if shape.has("folder:FolderClass", false, true) {
            if let Some(c) = f.class {
                let _ = write!(s, "<t:FolderClass>{c}</t:FolderClass>");
            }
        }
        if shape.has("folder:DisplayName", true, true) {
            let _ = write!(s, "<t:DisplayName>{}</t:DisplayName>", esc(f.display_name));
        }
        if shape.has("folder:TotalCount", true, true) {
            let _ = write!(
                s,
                "<t:TotalCount>{}</t:TotalCount>",
                data.total_count(serial)
            );
        }
        if shape.has("folder:ChildFolderCount", true, true) {
            let _ = write!(
                s,
                "<t:ChildFolderCount>{}</t:ChildFolderCount>",
                data.subfolders(serial, false).len()
            );
        }
        if f.element == "Folder" && shape.has("folder:UnreadCount", true, true) {
            let _ = write!(
                s,
                "<t:UnreadCount>{}</t:UnreadCount>",
                data.unread_count(serial)
            );
        }
        let _ = write!(s, "</t:{}>", f.element);
    }

    pub(super) fn item_xml(
        &self,
        data: &MailboxData,
        it: &Item,
        shape: &Shape,
        get_item: bool,
    ) -> String {
        let mut s = format!(
            "<t:Message><t:ItemId Id=\"{}\" ChangeKey=\"{}\"/>",
            data.item_id(it).encode(),
            change_key(data.guid, IdKind::Item, it.change)
        );
        let has = |uri: &str, d: bool, a: bool| shape.has(uri, d, a);
        if has("item:ParentFolderId", true, true) {
            if let Some(f) = data.folder(it.folder) {
                s.push_str(&format!(
                    "<t:ParentFolderId Id=\"{}\" ChangeKey=\"{}\"/>",
                    data.folder_id(f).encode(),
                    change_key(data.guid, IdKind::Folder, f.change)
                ));
            }
        }
        if has("item:ItemClass", true, true) {
            s.push_str(&format!(
                "<t:ItemClass>{}</t:ItemClass>",
                esc(&it.item_class)
            ));
        }
        if has("item:Subject", true, true) {
            s.push_str(&format!("<t:Subject>{}</t:Subject>", esc(&it.subject)));
        }
        if has("item:Sensitivity", true, true) {
            s.push_str("<t:Sensitivity>Normal</t:Sensitivity>");
        }
        if get_item && has("item:Body", true, true) {
            let (ty, text) = if shape.body_type == "HTML" && it.body_type != "HTML" {
                (
                    "HTML",
                    format!(
                        "<html>\r\n<head>\r\n<meta http-equiv=\"Content-Type\" content=\"text/html; charset=utf-8\">\r\n</head>\r\n<body>\r\n<div>{}</div>\r\n</body>\r\n</html>\r\n",
                        esc(&it.body)
                    ),
                )
            } else {
                (it.body_type.as_str(), it.body.clone())
            };
            s.push_str(&format!(
                "<t:Body BodyType=\"{ty}\" IsTruncated=\"false\">{}</t:Body>",
                esc(&text)
            ));
        }
        if has("item:DateTimeReceived", true, true) {
            s.push_str(&format!(
                "<t:DateTimeReceived>{}</t:DateTimeReceived>",
                fmt_time(it.received)
            ));
        }
        if has("item:Size", true, true) {
            s.push_str(&format!("<t:Size>{}</t:Size>", it.size()));
        }
        if has("item:Importance", true, true) {
            s.push_str("<t:Importance>Normal</t:Importance>");
        }
        if has("item:IsSubmitted", true, true) {
            s.push_str("<t:IsSubmitted>false</t:IsSubmitted>");
        }
        if has("item:IsDraft", true, true) {
            s.push_str(&format!("<t:IsDraft>{}</t:IsDraft>", it.is_draft));
        }
        if has("item:IsFromMe", true, true) {
            let me = it
                .from
                .as_ref()
                .is_some_and(|f| f.email.eq_ignore_ascii_case(&data.smtp));
            s.push_str(&format!("<t:IsFromMe>{me}</t:IsFromMe>"));
        }
        if has("item:DateTimeSent", true, true) {
            s.push_str(&format!(
                "<t:DateTimeSent>{}</t:DateTimeSent>",
                fmt_time(it.sent)
            ));
        }
        if has("item:DateTimeCreated", true, true) {
            s.push_str(&format!(
                "<t:DateTimeCreated>{}</t:DateTimeCreated>",
                fmt_time(it.created)
            ));
        }
        let names = |v: &Vec<Addr>| {
            v.iter()
                .map(|a| a.name.as_str())
                .collect::<Vec<_>>()
                .join("; ")
        };
        if has("item:DisplayCc", true, true) {
            s.push_str(&format!(
                "<t:DisplayCc>{}</t:DisplayCc>",
                esc(&names(&it.cc))
            ));
        }
        if has("item:DisplayTo", true, true) {
            s.push_str(&format!(
                "<t:DisplayTo>{}</t:DisplayTo>",
                esc(&names(&it.to))
            ));
        }
        if has("item:HasAttachments", true, true) {
            s.push_str("<t:HasAttachments>false</t:HasAttachments>");
        }
        if has("item:Culture", false, true) {
            s.push_str("<t:Culture>en-US</t:Culture>");
        }
        if let Some(from) = &it.from {
            if has("message:Sender", true, true) {
                s.push_str(&format!(
                    "<t:Sender>{}</t:Sender>",
                    mailbox_xml(from, self.is_member(&from.email))
                ));
            }
        }
        for (uri, tag, list) in [
            ("message:ToRecipients", "ToRecipients", &it.to),
            ("message:CcRecipients", "CcRecipients", &it.cc),
        ] {
            if get_item && !list.is_empty() && has(uri, true, true) {
                let inner: String = list
                    .iter()
                    .map(|a| mailbox_xml(a, self.is_member(&a.email)))
                    .collect();
                s.push_str(&format!("<t:{tag}>{inner}</t:{tag}>"));
            }
        }
        if has("message:ConversationTopic", false, true) {
            s.push_str(&format!(
                "<t:ConversationTopic>{}</t:ConversationTopic>",
                esc(&it.subject)
            ));
        }
        if let Some(from) = &it.from {
            if has("message:From", true, true) {
                s.push_str(&format!(
                    "<t:From>{}</t:From>",
                    mailbox_xml(from, self.is_member(&from.email))
                ));
            }
        }
        if has("message:InternetMessageId", false, true) {
            s.push_str(&format!(
                "<t:InternetMessageId>{}</t:InternetMessageId>",
                esc(&it.internet_message_id)
            ));
        }
        if has("message:IsRead", true, true) {
            s.push_str(&format!("<t:IsRead>{}</t:IsRead>", it.is_read));
        }
        s.push_str("</t:Message>");
        s
    }
}
