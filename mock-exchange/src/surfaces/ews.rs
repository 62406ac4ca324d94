//! EWS (`POST /EWS/Exchange.asmx`, SOAP 1.1): ConvertId, GetFolder, FindFolder, FindItem,
//! GetItem, CreateItem and ResolveNames over the [`MailStore`](super::MailStore).
//!
//! Requests are parsed into a namespace-resolved tree and read by element local name +
//! namespace only. Every successful answer carries the `ServerVersionInfo` SOAP header built from
//! the answering server's build (that header is what exchangelib's version guess reads, and it
//! accepts a ResponseMessage error as long as the header is there). Errors come in the two
//! shapes Exchange uses: per-item `ResponseMessage`s with `ResponseClass="Error"`, MessageText,
//! ResponseCode and DescriptiveLinkKey (wrong id, missing folder, another user's mailbox), and
//! HTTP 500 SOAP faults for request-level problems (schema violations with line/position, an
//! unsupported `RequestServerVersion`, an unknown operation). Responses are written as compact
//! strings so golden files can pin them byte for byte.

use std::collections::HashSet;

use axum::http::request::Parts;
use axum::http::{Method, StatusCode};
use axum::response::Response;
use time::OffsetDateTime;

use super::store::{change_key, Addr, EwsId, IdKind, Item, MailboxData, StoreError};
use super::xml::{self, esc, Element, NS_E, NS_M, NS_SOAP, NS_T};
use super::{
    ews_schemas, lower_path, method_not_allowed, not_found, with_type, AuthedUser, SurfaceCtx,
};
use crate::model::{ExchangeVersion, Mailbox};

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

// ---------------------------------------------------------------------------------------------
// Error vocabulary

/// ResponseMessage-level errors (HTTP 200, `ResponseClass="Error"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    InvalidIdMalformed,
    ItemNotFound,
    FolderNotFound,
    NonExistentMailbox,
    AccessDenied,
    QuotaExceeded,
    NameResolutionNoResults,
    NameResolutionMultipleResults,
    InvalidRecipients,
    MessageDispositionRequired,
    InvalidOperation,
    UnsupportedPathForQuery,
    InvalidRestriction,
    InvalidPropertySet,
}

impl Code {
    pub fn name(self) -> &'static str {
        match self {
            Code::InvalidIdMalformed => "ErrorInvalidIdMalformed",
            Code::ItemNotFound => "ErrorItemNotFound",
            Code::FolderNotFound => "ErrorFolderNotFound",
            Code::NonExistentMailbox => "ErrorNonExistentMailbox",
            Code::AccessDenied => "ErrorAccessDenied",
            Code::QuotaExceeded => "ErrorQuotaExceeded",
            Code::NameResolutionNoResults => "ErrorNameResolutionNoResults",
            Code::NameResolutionMultipleResults => "ErrorNameResolutionMultipleResults",
            Code::InvalidRecipients => "ErrorInvalidRecipients",
            Code::MessageDispositionRequired => "ErrorMessageDispositionRequired",
            Code::InvalidOperation => "ErrorInvalidOperation",
            Code::UnsupportedPathForQuery => "ErrorUnsupportedPathForQuery",
            Code::InvalidRestriction => "ErrorInvalidRestriction",
            Code::InvalidPropertySet => "ErrorInvalidPropertySet",
        }
    }

    pub fn text(self) -> &'static str {
        match self {
            Code::InvalidIdMalformed => "Id is malformed.",
            Code::ItemNotFound => "The specified object was not found in the store.",
            Code::FolderNotFound => "The specified folder could not be found in the store.",
            Code::NonExistentMailbox => "The SMTP address has no mailbox associated with it.",
            Code::AccessDenied => "Access is denied. Check credentials and try again.",
            Code::QuotaExceeded => "The mailbox quota has been exceeded.",
            Code::NameResolutionNoResults => "No results were found.",
            Code::NameResolutionMultipleResults => "Multiple results were found.",
            Code::InvalidRecipients => "At least one recipient isn't valid.",
            Code::MessageDispositionRequired => "MessageDisposition attribute is required.",
            Code::InvalidOperation => "The operation isn't valid.",
            Code::UnsupportedPathForQuery => "The property path is not supported for a query.",
            Code::InvalidRestriction => "The restriction is invalid.",
            Code::InvalidPropertySet => "Set action is invalid for property.",
        }
    }
}

/// Request-level errors (HTTP 500 SOAP fault).
#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    Schema {
        line: usize,
        col: usize,
        violation: String,
    },
    InvalidServerVersion,
    InvalidRequest,
    ImpersonateUserDenied,
}

impl Fault {
    fn schema(el: &Element, violation: String) -> Fault {
        Fault::Schema {
            line: el.line,
            col: el.col + 1,
            violation,
        }
    }

    fn incomplete(el: &Element, expected: &str) -> Fault {
        Fault::schema(
            el,
            format!(
                "The element '{}' in namespace '{}' has incomplete content. List of possible elements expected: '{}' in namespace '{}'.",
                el.name, el.ns, expected, NS_M
            ),
        )
    }

    fn enumeration(el: &Element, what: &str, value: &str, datatype: &str) -> Fault {
        Fault::schema(
            el,
            format!(
                "{what} is invalid - The value '{value}' is invalid according to its datatype '{NS_T}:{datatype}' - The Enumeration constraint failed."
            ),
        )
    }

    fn render(&self) -> Response {
        let (code, string, message, extra) = match self {
            Fault::Schema {
                line,
                col,
                violation,
            } => (
                "ErrorSchemaValidation",
                format!("The request failed schema validation: {violation}"),
                "The request failed schema validation.".to_string(),
                format!(
                    "<t:MessageXml xmlns:t=\"{NS_T}\"><t:LineNumber>{line}</t:LineNumber><t:LinePosition>{col}</t:LinePosition><t:Violation>{}</t:Violation></t:MessageXml>",
                    esc(violation)
                ),
            ),
            Fault::InvalidServerVersion => (
                "ErrorInvalidServerVersion",
                "The specified server version is invalid.".into(),
                "The specified server version is invalid.".into(),
                String::new(),
            ),
            Fault::InvalidRequest => (
                "ErrorInvalidRequest",
                "The request is invalid.".into(),
                "The request is invalid.".into(),
                String::new(),
            ),
            Fault::ImpersonateUserDenied => (
                "ErrorImpersonateUserDenied",
                "The account does not have permission to impersonate the requested user.".into(),
                "The account does not have permission to impersonate the requested user.".into(),
                String::new(),
            ),
        };
        let body = format!(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><s:Envelope xmlns:s=\"{NS_SOAP}\"><s:Body><s:Fault><faultcode xmlns:a=\"{NS_T}\">a:{code}</faultcode><faultstring xml:lang=\"en-US\">{}</faultstring><detail><e:ResponseCode xmlns:e=\"{NS_E}\">{code}</e:ResponseCode><e:Message xmlns:e=\"{NS_E}\">{}</e:Message>{extra}</detail></s:Fault></s:Body></s:Envelope>",
            esc(&string),
            esc(&message)
        );
        with_type(
            StatusCode::INTERNAL_SERVER_ERROR,
            "text/xml; charset=utf-8",
            body,
        )
    }
}

// ---------------------------------------------------------------------------------------------
// Envelope

/// The `Version` attribute of `ServerVersionInfo` per build.
pub fn version_label(v: ExchangeVersion) -> &'static str {
    match v {
        ExchangeVersion::Ex2016 => "V2017_07_11",
        ExchangeVersion::Ex2013 => "V2_23",
        ExchangeVersion::Ex2010 => "Exchange2010_SP2",
    }
}

/// The `<h:ServerVersionInfo …/>` header element.
pub fn server_version_info(v: ExchangeVersion) -> String {
    let (a, b, c, d) = v.build();
    format!(
        "<h:ServerVersionInfo MajorVersion=\"{a}\" MinorVersion=\"{b}\" MajorBuildNumber=\"{c}\" MinorBuildNumber=\"{d}\" Version=\"{}\" xmlns:h=\"{NS_T}\" xmlns=\"{NS_T}\" xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"/>",
        version_label(v)
    )
}

fn envelope(ctx: &SurfaceCtx, op: &str, messages: &str) -> Response {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?><s:Envelope xmlns:s=\"{NS_SOAP}\"><s:Header>{}</s:Header><s:Body xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\"><m:{op}Response xmlns:m=\"{NS_M}\" xmlns:t=\"{NS_T}\"><m:ResponseMessages>{messages}</m:ResponseMessages></m:{op}Response></s:Body></s:Envelope>",
        server_version_info(ctx.server.version)
    );
    with_type(StatusCode::OK, "text/xml; charset=utf-8", body)
}

fn ok_msg(op: &str, content: &str) -> String {
    format!(
        "<m:{op}ResponseMessage ResponseClass=\"Success\"><m:ResponseCode>NoError</m:ResponseCode>{content}</m:{op}ResponseMessage>"
    )
}

fn err_msg(op: &str, code: Code, content: &str) -> String {
    let class = if code == Code::NameResolutionMultipleResults {
        "Warning"
    } else {
        "Error"
    };
    format!(
        "<m:{op}ResponseMessage ResponseClass=\"{class}\"><m:MessageText>{}</m:MessageText><m:ResponseCode>{}</m:ResponseCode><m:DescriptiveLinkKey>0</m:DescriptiveLinkKey>{content}</m:{op}ResponseMessage>",
        code.text(),
        code.name()
    )
}

// ---------------------------------------------------------------------------------------------
// Entry point

/// Entry point for the EWS vdir.
pub fn handle(ctx: &SurfaceCtx, parts: &Parts, body: &[u8]) -> Response {
    let path = lower_path(parts);
    if path != "/ews/exchange.asmx" {
        return not_found();
    }
    if parts.method != Method::POST {
        return method_not_allowed("POST");
    }
    let root = match xml::parse(body) {
        Ok(r) => r,
        Err(e) => {
            return Fault::Schema {
                line: e.line,
                col: e.col,
                violation: e.message,
            }
            .render()
        }
    };
    match run(ctx, &root) {
        Ok(r) => r,
        Err(f) => f.render(),
    }
}

fn run(ctx: &SurfaceCtx, root: &Element) -> Result<Response, Fault> {
    if !root.is(NS_SOAP, "Envelope") {
        return Err(Fault::schema(
            root,
            format!("The '{}:{}' element is not declared.", root.ns, root.name),
        ));
    }
    if let Some(h) = root.child(NS_SOAP, "Header") {
        if let Some(rsv) = h.child(NS_T, "RequestServerVersion") {
            let v = rsv.attr("Version").unwrap_or_default();
            if !ews_schemas(ctx.server.version).contains(&v) {
                return Err(Fault::InvalidServerVersion);
            }
        }
        if h.child(NS_T, "ExchangeImpersonation").is_some() {
            return Err(Fault::ImpersonateUserDenied);
        }
    }
    let Some(body) = root.child(NS_SOAP, "Body") else {
        return Err(Fault::incomplete(root, "Body"));
    };
    let Some(op) = body.children.first() else {
        return Err(Fault::InvalidRequest);
    };
    let Some(user) = ctx.user.as_ref() else {
        return Err(Fault::InvalidRequest);
    };
    if op.ns != NS_M {
        return Err(Fault::InvalidRequest);
    }
    let e = Ews { ctx, user };
    let (name, messages) = match op.name.as_str() {
        "ConvertId" => ("ConvertId", e.convert_id(op)?),
        "GetFolder" => ("GetFolder", e.get_folder(op)?),
        "FindFolder" => ("FindFolder", e.find_folder(op)?),
        "FindItem" => ("FindItem", e.find_item(op)?),
        "GetItem" => ("GetItem", e.get_item(op)?),
        "CreateItem" => ("CreateItem", e.create_item(op)?),
        "ResolveNames" => ("ResolveNames", e.resolve_names(op)?),
        "UpdateItem" => ("UpdateItem", e.update_item(op)?),
        "DeleteItem" => ("DeleteItem", e.delete_item(op)?),
        _ => return Err(Fault::InvalidRequest),
    };
    Ok(envelope(ctx, name, &messages))
}

// ---------------------------------------------------------------------------------------------
// Shapes

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BaseShape {
    IdOnly,
    Default,
    AllProperties,
}

struct Shape {
    base: BaseShape,
    extra: HashSet<String>,
    body_type: String,
}

impl Shape {
    fn parse(el: Option<&Element>, parent: &Element, name: &str) -> Result<Shape, Fault> {
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

    fn has(&self, uri: &str, default: bool, all: bool) -> bool {
        self.extra.contains(uri)
            || match self.base {
                BaseShape::IdOnly => false,
                BaseShape::Default => default,
                BaseShape::AllProperties => all,
            }
    }
}

// ---------------------------------------------------------------------------------------------
// Operations

struct Ews<'a> {
    ctx: &'a SurfaceCtx,
    user: &'a AuthedUser,
}

/// A resolved folder reference: a folder serial in the caller's mailbox.
type FolderRes = Result<u32, Code>;

fn fmt_time(t: OffsetDateTime) -> String {
    let t = t.replace_nanosecond(0).unwrap_or(t);
    MailboxData::ts(t)
}

fn mailbox_xml(a: &Addr, org_member: bool) -> String {
    format!(
        "<t:Mailbox><t:Name>{}</t:Name><t:EmailAddress>{}</t:EmailAddress><t:RoutingType>SMTP</t:RoutingType><t:MailboxType>{}</t:MailboxType></t:Mailbox>",
        esc(&a.name),
        esc(&a.email),
        if org_member { "Mailbox" } else { "OneOff" }
    )
}

impl Ews<'_> {
    fn my_mailbox(&self) -> &Mailbox {
        &self.user.mailbox
    }

    fn with_mine<R>(&self, f: impl FnOnce(&mut MailboxData) -> R) -> R {
        self.ctx
            .store
            .with_mailbox(self.my_mailbox(), Some(&self.ctx.org), f)
    }

    fn is_member(&self, email: &str) -> bool {
        self.ctx.org.mailbox_by_smtp(email).is_some()
    }

    /// Resolves one `DistinguishedFolderId` / `FolderId` element.
    fn resolve_folder(&self, el: &Element, data: &MailboxData) -> Result<FolderRes, Fault> {
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

    fn resolve_folders(
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

    fn folder_xml(&self, data: &MailboxData, serial: u32, shape: &Shape) -> String {
        let Some(f) = data.folder(serial) else {
            return String::new();
        };
        let id = data.folder_id(f);
        let mut s = format!(
            "<t:{} ><t:FolderId Id=\"{}\" ChangeKey=\"{}\"/>",
            f.element,
            id.encode(),
            change_key(data.guid, IdKind::Folder, f.change)
        )
        .replacen(" >", ">", 1);
        if shape.has("folder:ParentFolderId", false, true) {
            if let Some(p) = f.parent.and_then(|p| data.folder(p)) {
                s.push_str(&format!(
                    "<t:ParentFolderId Id=\"{}\" ChangeKey=\"{}\"/>",
                    data.folder_id(p).encode(),
                    change_key(data.guid, IdKind::Folder, p.change)
                ));
            }
        }
        if shape.has("folder:FolderClass", false, true) {
            if let Some(c) = f.class {
                s.push_str(&format!("<t:FolderClass>{c}</t:FolderClass>"));
            }
        }
        if shape.has("folder:DisplayName", true, true) {
            s.push_str(&format!(
                "<t:DisplayName>{}</t:DisplayName>",
                esc(f.display_name)
            ));
        }
        if shape.has("folder:TotalCount", true, true) {
            s.push_str(&format!(
                "<t:TotalCount>{}</t:TotalCount>",
                data.total_count(serial)
            ));
        }
        if shape.has("folder:ChildFolderCount", true, true) {
            s.push_str(&format!(
                "<t:ChildFolderCount>{}</t:ChildFolderCount>",
                data.subfolders(serial, false).len()
            ));
        }
        if f.element == "Folder" && shape.has("folder:UnreadCount", true, true) {
            s.push_str(&format!(
                "<t:UnreadCount>{}</t:UnreadCount>",
                data.unread_count(serial)
            ));
        }
        s.push_str(&format!("</t:{}>", f.element));
        s
    }

    fn item_xml(&self, data: &MailboxData, it: &Item, shape: &Shape, get_item: bool) -> String {
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

    // -- ConvertId ---------------------------------------------------------------------------

    fn convert_id(&self, op: &Element) -> Result<String, Fault> {
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

    fn get_folder(&self, op: &Element) -> Result<String, Fault> {
        let shape = Shape::parse(op.child(NS_M, "FolderShape"), op, "FolderShape")?;
        let Some(ids) = op.child(NS_M, "FolderIds") else {
            return Err(Fault::incomplete(op, "FolderIds"));
        };
        self.with_mine(|data| {
            let refs = self.resolve_folders(ids, data)?;
            Ok(refs
                .into_iter()
                .map(|r| match r {
                    Ok(serial) => ok_msg(
                        "GetFolder",
                        &format!(
                            "<m:Folders>{}</m:Folders>",
                            self.folder_xml(data, serial, &shape)
                        ),
                    ),
                    Err(code) => err_msg("GetFolder", code, "<m:Folders/>"),
                })
                .collect())
        })
    }

    fn find_folder(&self, op: &Element) -> Result<String, Fault> {
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

    fn find_item(&self, op: &Element) -> Result<String, Fault> {
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

    fn get_item(&self, op: &Element) -> Result<String, Fault> {
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

    /// Resolves a `t:ItemId` against the caller's mailbox.
    fn resolve_item(&self, el: &Element, data: &MailboxData) -> Result<u32, Code> {
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

    // -- UpdateItem / DeleteItem ---------------------------------------------------------------

    fn update_item(&self, op: &Element) -> Result<String, Fault> {
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
                            ("item:Subject", true, Some(v)) => it.subject = v.text.clone(),
                            ("item:Subject", false, _) => it.subject.clear(),
                            ("item:Body", true, Some(v)) => {
                                it.body = v.text.clone();
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

    fn delete_item(&self, op: &Element) -> Result<String, Fault> {
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

    fn create_item(&self, op: &Element) -> Result<String, Fault> {
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
                body: body.map(|b| b.text.clone()).unwrap_or_default(),
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

    // -- ResolveNames --------------------------------------------------------------------------

    fn resolve_names(&self, op: &Element) -> Result<String, Fault> {
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

fn hex_decode(s: &str) -> Option<Vec<u8>> {
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

mod restrict;

#[cfg(test)]
mod tests;
