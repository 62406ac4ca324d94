//! The SOAP side of EWS: the envelope every answer comes in (with the `ServerVersionInfo`
//! header built from the answering server's build), the per-item `ResponseMessage`s, and the
//! error vocabulary in Exchange's two shapes — [`Code`], a `ResponseMessage` with
//! `ResponseClass="Error"` (HTTP 200), and [`Fault`], an HTTP 500 SOAP fault for request-level
//! problems. The operations write their messages with [`ok_msg`]/[`err_msg`] and never build an
//! envelope themselves.

use axum::http::StatusCode;
use axum::response::Response;

use crate::model::ExchangeVersion;
use crate::surfaces::common::with_type;
use crate::surfaces::ctx::SurfaceCtx;
use crate::surfaces::xml::{esc, Element, NS_E, NS_M, NS_SOAP, NS_T};

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
    pub(super) fn schema(el: &Element, violation: String) -> Fault {
        Fault::Schema {
            line: el.line,
            col: el.col + 1,
            violation,
        }
    }

    pub(super) fn incomplete(el: &Element, expected: &str) -> Fault {
        Fault::schema(
            el,
            format!(
                "The element '{}' in namespace '{}' has incomplete content. List of possible elements expected: '{}' in namespace '{}'.",
                el.name, el.ns, expected, NS_M
            ),
        )
    }

    pub(super) fn enumeration(el: &Element, what: &str, value: &str, datatype: &str) -> Fault {
        Fault::schema(
            el,
            format!(
                "{what} is invalid - The value '{value}' is invalid according to its datatype '{NS_T}:{datatype}' - The Enumeration constraint failed."
            ),
        )
    }

    pub(super) fn render(&self) -> Response {
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

pub(super) fn envelope(ctx: &SurfaceCtx, op: &str, messages: &str) -> Response {
    let version = server_version_info(ctx.server.version);
    // One allocation of the exact size, no formatting machinery: every EWS answer is built here.
    let body = [
        "<?xml version=\"1.0\" encoding=\"utf-8\"?><s:Envelope xmlns:s=\"",
        NS_SOAP,
        "\"><s:Header>",
        &version,
        "</s:Header><s:Body xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\"><m:",
        op,
        "Response xmlns:m=\"",
        NS_M,
        "\" xmlns:t=\"",
        NS_T,
        "\"><m:ResponseMessages>",
        messages,
        "</m:ResponseMessages></m:",
        op,
        "Response></s:Body></s:Envelope>",
    ]
    .concat();
    with_type(StatusCode::OK, "text/xml; charset=utf-8", body)
}

pub(super) fn ok_msg(op: &str, content: &str) -> String {
    [
        "<m:",
        op,
        "ResponseMessage ResponseClass=\"Success\"><m:ResponseCode>NoError</m:ResponseCode>",
        content,
        "</m:",
        op,
        "ResponseMessage>",
    ]
    .concat()
}

pub(super) fn err_msg(op: &str, code: Code, content: &str) -> String {
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
