//! The EWS operations that read: ConvertId, GetFolder, FindFolder, FindItem (with paging and
//! restrictions), GetItem and ResolveNames.

use crate::model::Mailbox;
use crate::surfaces::store::{Addr, EwsId, Item};
use crate::surfaces::xml::{esc, Element, NS_M, NS_T};

use super::op::Ews;
use super::render::{mailbox_xml, Shape};
use super::restrict;
use super::soap::{err_msg, ok_msg, Code, Fault};

impl Ews<'_> {
    // -- ConvertId ---------------------------------------------------------------------------

    pub(super) fn convert_id(&self, op: &Element) -> Result<String, Fault> {
        let dest = op.attr("DestinationFormat").unwrap_or_default();
        const FORMATS: &[&str] = &[
            "EwsLegacyId",
            "EwsId",
            "EntryId",
            "HexEntryId",
            "StoreId",
            "OwaId",
        ];
        if !FORMATS.contains(&dest) {
            return Err(Fault::enumeration(
                op,
                "The 'DestinationFormat' attribute",
                dest,
                "IdFormatType",
            ));
        }
        let Some(ids) = op.child(NS_M, "SourceIds") else {
            return Err(Fault::incomplete(op, "SourceIds"));
        };
        let mine = self.my_mailbox().guid;
        let mut out = String::new();
        for a in &ids.children {
            let format = a.attr("Format").unwrap_or_default();
            let raw = a.attr("Id").unwrap_or_default();
            let decoded = match format {
                "EwsId" | "EwsLegacyId" | "EntryId" | "StoreId" | "OwaId" => EwsId::decode(raw),
                "HexEntryId" => hex_decode(raw).and_then(|b| EwsId::from_bytes(&b)),
                other => {
                    return Err(Fault::enumeration(
                        a,
                        "The 'Format' attribute",
                        other,
                        "IdFormatType",
                    ))
                }
            };
            let Some(id) = decoded else {
                out.push_str(&err_msg("ConvertId", Code::InvalidIdMalformed, ""));
                continue;
            };
            if id.mailbox != mine {
                out.push_str(&err_msg("ConvertId", Code::AccessDenied, ""));
                continue;
            }
            let converted = match dest {
                "HexEntryId" => id.to_bytes().iter().map(|b| format!("{b:02X}")).collect(),
                _ => id.encode(),
            };
            out.push_str(&ok_msg(
                "ConvertId",
                &format!(
                    "<m:AlternateId xsi:type=\"t:AlternateIdType\" Format=\"{dest}\" Id=\"{converted}\" Mailbox=\"{}\"/>",
                    esc(&self.my_mailbox().primary_smtp_address)
                ),
            ));
        }
        Ok(out)
    }

    // -- GetFolder / FindFolder ----------------------------------------------------------------

    pub(super) fn get_folder(&self, op: &Element) -> Result<String, Fault> {
        let shape = Shape::parse(op.child(NS_M, "FolderShape"), op, "FolderShape")?;
        let Some(ids) = op.child(NS_M, "FolderIds") else {
            return Err(Fault::incomplete(op, "FolderIds"));
        };
        self.with_mine(|data| {
            let refs = self.resolve_folders(ids, data)?;
            Ok(refs
                .into_iter()
                .map(|r| match r {
                    Ok(serial) => {
                        let mut folders = String::with_capacity(400);
                        folders.push_str("<m:Folders>");
                        self.write_folder_xml(&mut folders, data, serial, &shape);
                        folders.push_str("</m:Folders>");
                        ok_msg("GetFolder", &folders)
                    }
                    Err(code) => err_msg("GetFolder", code, "<m:Folders/>"),
                })
                .collect())
        })
    }

    pub(super) fn find_folder(&self, op: &Element) -> Result<String, Fault> {
        let traversal = op.attr("Traversal").unwrap_or_default();
        if !["Shallow", "Deep", "SoftDeleted"].contains(&traversal) {
            return Err(Fault::enumeration(
                op,
                "The 'Traversal' attribute",
                traversal,
                "FolderQueryTraversalType",
            ));
        }
        let shape = Shape::parse(op.child(NS_M, "FolderShape"), op, "FolderShape")?;
        let page = Page::parse(op.child(NS_M, "IndexedPageFolderView"));
        let Some(parents) = op.child(NS_M, "ParentFolderIds") else {
            return Err(Fault::incomplete(op, "ParentFolderIds"));
        };
        self.with_mine(|data| {
            let refs = self.resolve_folders(parents, data)?;
            Ok(refs
                .into_iter()
                .map(|r| match r {
                    Ok(serial) => {
                        let all: Vec<u32> = if traversal == "SoftDeleted" {
                            Vec::new()
                        } else {
                            data.subfolders(serial, traversal == "Deep")
                                .into_iter()
                                .map(|f| f.serial)
                                .collect()
                        };
                        let (slice, attrs) = page.apply(&all);
                        let inner: String = slice
                            .iter()
                            .map(|s| self.folder_xml(data, *s, &shape))
                            .collect();
                        ok_msg(
                            "FindFolder",
                            &format!("<m:RootFolder {attrs}><t:Folders>{inner}</t:Folders></m:RootFolder>"),
                        )
                    }
                    Err(code) => err_msg("FindFolder", code, ""),
                })
                .collect())
        })
    }

    // -- FindItem / GetItem --------------------------------------------------------------------

    pub(super) fn find_item(&self, op: &Element) -> Result<String, Fault> {
        let traversal = op.attr("Traversal").unwrap_or_default();
        if !["Shallow", "SoftDeleted", "Associated"].contains(&traversal) {
            return Err(Fault::enumeration(
                op,
                "The 'Traversal' attribute",
                traversal,
                "ItemQueryTraversalType",
            ));
        }
        let shape = Shape::parse(op.child(NS_M, "ItemShape"), op, "ItemShape")?;
        let page = Page::parse(op.child(NS_M, "IndexedPageItemView"));
        let ascending = op
            .child(NS_M, "SortOrder")
            .and_then(|s| s.child(NS_T, "FieldOrder"))
            .filter(|f| {
                f.child(NS_T, "FieldURI").and_then(|u| u.attr("FieldURI"))
                    == Some("item:DateTimeReceived")
            })
            .map(|f| f.attr("Order") == Some("Ascending"))
            .unwrap_or(false);
        let Some(parents) = op.child(NS_M, "ParentFolderIds") else {
            return Err(Fault::incomplete(op, "ParentFolderIds"));
        };
        let restriction = op
            .child(NS_M, "Restriction")
            .and_then(|r| r.children.first());
        self.with_mine(|data| {
            let refs = self.resolve_folders(parents, data)?;
            Ok(refs
                .into_iter()
                .map(|r| match r {
                    Ok(serial) => {
                        let mut items: Vec<&Item> = if traversal == "Shallow" {
                            data.items_in(serial)
                        } else {
                            Vec::new()
                        };
                        if let Some(r) = restriction {
                            let mut kept = Vec::new();
                            for it in items {
                                match restrict::matches(r, it) {
                                    Ok(true) => kept.push(it),
                                    Ok(false) => {}
                                    Err(code) => return err_msg("FindItem", code, ""),
                                }
                            }
                            items = kept;
                        }
                        if ascending {
                            items.reverse();
                        }
                        let (slice, attrs) = page.apply(&items);
                        let inner: String = slice
                            .iter()
                            .map(|it| self.item_xml(data, it, &shape, false))
                            .collect();
                        ok_msg(
                            "FindItem",
                            &format!(
                                "<m:RootFolder {attrs}><t:Items>{inner}</t:Items></m:RootFolder>"
                            ),
                        )
                    }
                    Err(code) => err_msg("FindItem", code, ""),
                })
                .collect())
        })
    }

    pub(super) fn get_item(&self, op: &Element) -> Result<String, Fault> {
        let shape = Shape::parse(op.child(NS_M, "ItemShape"), op, "ItemShape")?;
        let Some(ids) = op.child(NS_M, "ItemIds") else {
            return Err(Fault::incomplete(op, "ItemIds"));
        };
        self.with_mine(|data| {
            let mut out = String::new();
            for el in &ids.children {
                if !el.is(NS_T, "ItemId") {
                    return Err(Fault::schema(
                        el,
                        format!(
                            "The element '{}' in namespace '{}' is not expected here.",
                            el.name, el.ns
                        ),
                    ));
                }
                let res = self
                    .resolve_item(el, data)
                    .and_then(|s| data.item(s).ok_or(Code::ItemNotFound));
                out.push_str(&match res {
                    Ok(it) => ok_msg(
                        "GetItem",
                        &format!(
                            "<m:Items>{}</m:Items>",
                            self.item_xml(data, it, &shape, true)
                        ),
                    ),
                    Err(code) => err_msg("GetItem", code, "<m:Items/>"),
                });
            }
            Ok(out)
        })
    }

    // -- ResolveNames --------------------------------------------------------------------------

    pub(super) fn resolve_names(&self, op: &Element) -> Result<String, Fault> {
        let Some(entry) = op.child_text(NS_M, "UnresolvedEntry") else {
            return Err(Fault::incomplete(op, "UnresolvedEntry"));
        };
        let full = op.attr("ReturnFullContactData") == Some("true");
        let q = entry
            .strip_prefix("SMTP:")
            .or_else(|| entry.strip_prefix("smtp:"))
            .unwrap_or(entry)
            .trim()
            .to_ascii_lowercase();
        let hits: Vec<&Mailbox> = if q.is_empty() {
            Vec::new()
        } else {
            self.ctx
                .org
                .mailboxes
                .iter()
                .filter(|m| {
                    let smtp = m.primary_smtp_address.to_ascii_lowercase();
                    let name = m.display_name.to_ascii_lowercase();
                    smtp == q
                        || smtp.starts_with(&q)
                        || name.starts_with(&q)
                        || name.split_whitespace().any(|w| w.starts_with(&q))
                })
                .collect()
        };
        if hits.is_empty() {
            return Ok(err_msg("ResolveNames", Code::NameResolutionNoResults, ""));
        }
        let mut set = String::new();
        for m in &hits {
            let a = Addr {
                name: m.display_name.clone(),
                email: m.primary_smtp_address.clone(),
            };
            let contact = if full {
                format!(
                    "<t:Contact><t:DisplayName>{0}</t:DisplayName><t:EmailAddresses><t:Entry Key=\"EmailAddress1\">SMTP:{1}</t:Entry></t:EmailAddresses><t:ContactSource>ActiveDirectory</t:ContactSource></t:Contact>",
                    esc(&m.display_name),
                    esc(&m.primary_smtp_address)
                )
            } else {
                String::new()
            };
            set.push_str(&format!(
                "<t:Resolution>{}{contact}</t:Resolution>",
                mailbox_xml(&a, true)
            ));
        }
        let set = format!(
            "<m:ResolutionSet TotalItemsInView=\"{}\" IncludesLastItemInRange=\"true\">{set}</m:ResolutionSet>",
            hits.len()
        );
        Ok(if hits.len() > 1 {
            err_msg("ResolveNames", Code::NameResolutionMultipleResults, &set)
        } else {
            ok_msg("ResolveNames", &set)
        })
    }
}

pub(super) fn hex_decode(s: &str) -> Option<Vec<u8>> {
    let s = s.trim();
    if s.len() & 1 == 1 {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// `IndexedPage{Item,Folder}View`: offset from the beginning or the end, at most N entries.
struct Page {
    max: Option<usize>,
    offset: usize,
    from_end: bool,
}

impl Page {
    fn parse(el: Option<&Element>) -> Page {
        let Some(el) = el else {
            return Page {
                max: None,
                offset: 0,
                from_end: false,
            };
        };
        Page {
            max: el
                .attr("MaxEntriesReturned")
                .and_then(|v| v.trim().parse().ok()),
            offset: el
                .attr("Offset")
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0),
            from_end: el.attr("BasePoint") == Some("End"),
        }
    }

    /// The page and the `RootFolder` paging attributes.
    fn apply<'a, T>(&self, all: &'a [T]) -> (&'a [T], String) {
        let total = all.len();
        let max = self.max.unwrap_or(usize::MAX);
        let (start, end) = if self.from_end {
            let end = total.saturating_sub(self.offset);
            (end.saturating_sub(max), end)
        } else {
            let start = self.offset.min(total);
            (start, start.saturating_add(max).min(total))
        };
        let last = if self.from_end {
            start == 0
        } else {
            end >= total
        };
        let next = if self.from_end { start } else { end };
        (
            &all[start..end],
            format!(
                "IndexedPagingOffset=\"{next}\" TotalItemsInView=\"{total}\" IncludesLastItemInRange=\"{last}\""
            ),
        )
    }
}
