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
//!
//! The module is laid out by role: `soap` is the envelope, the response messages and the two
//! error shapes; `op` the context every operation shares and the resolution of folder and item
//! ids; `render` the response shapes and the folder/item elements; `read` and `write` the
//! operations themselves (an `impl` block each on the shared context); `restrict` FindItem's
//! restrictions. This file parses the request and dispatches it.

use axum::http::request::Parts;
use axum::http::Method;
use axum::response::Response;

use super::common::{ews_schemas, lower_path, method_not_allowed, not_found};
use super::ctx::SurfaceCtx;
use super::xml::{self, Element, NS_M, NS_SOAP, NS_T};

mod op;
mod read;
mod render;
mod restrict;
mod soap;
mod write;

use op::Ews;
use soap::envelope;
pub use soap::{server_version_info, version_label, Code, Fault};

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
    if &*op.ns != NS_M {
        return Err(Fault::InvalidRequest);
    }
    let e = Ews { ctx, user };
    let (name, messages) = match &*op.name {
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

#[cfg(test)]
mod tests;
