//! JSON Autodiscover v2 (`GET /autodiscover/autodiscover.json`), what mobile clients use
//! anonymously: the URL of one protocol for an address, or the compact `ErrorCode`/`ErrorMessage`
//! answer (HTTP 200).

use axum::http::request::Parts;
use axum::http::{Method, StatusCode};
use axum::response::Response;

use crate::model::VdirKind;
use crate::surfaces::common::{query_param, with_type};
use crate::surfaces::ctx::SurfaceCtx;

use super::facts::*;

/// Protocols this on-premises Autodiscover v2 answers.
const V2_PROTOCOLS: &[&str] = &["ActiveSync", "AutodiscoverV1", "Ews"];

fn json_body(v: serde_json::Value) -> Response {
    with_type(
        StatusCode::OK,
        "application/json; charset=utf-8",
        v.to_string(),
    )
}

pub(super) fn json(ctx: &SurfaceCtx, parts: &Parts) -> Response {
    if parts.method != Method::GET {
        return crate::surfaces::common::method_not_allowed("GET");
    }
    let raw_path = parts.uri.path();
    let lower = raw_path.to_ascii_lowercase();
    let prefix = "/autodiscover/autodiscover.json/v1.0/";
    let email = if lower.starts_with(prefix) {
        let seg = &raw_path[prefix.len()..];
        percent_decode(seg.trim_end_matches('/'))
    } else if lower.trim_end_matches('/') == "/autodiscover/autodiscover.json" {
        query_param(parts, "Email").unwrap_or_default()
    } else {
        String::new()
    };
    if email.is_empty() || !email.contains('@') {
        return json_body(serde_json::json!({
            "ErrorCode": "MandatoryParameterMissing",
            "ErrorMessage": "The get request sent does not match the valid format.",
        }));
    }
    let Some(protocol) = query_param(parts, "Protocol").filter(|p| !p.trim().is_empty()) else {
        return json_body(serde_json::json!({
            "ErrorCode": "MissingProtocol",
            "ErrorMessage": "A valid value must be provided for the query parameter 'Protocol'.",
        }));
    };
    let known = V2_PROTOCOLS
        .iter()
        .find(|p| p.eq_ignore_ascii_case(protocol.trim()));
    let internal = ctx.is_internal();
    let target = ctx
        .org
        .mailbox_by_smtp(&email)
        .map(|m| ctx.mailbox_server(m))
        .unwrap_or_else(|| (*ctx.server).clone());
    let url = match known.copied() {
        Some("Ews") => url(&target, VdirKind::Ews, internal)
            .unwrap_or_else(|| format!("https://{}/EWS/Exchange.asmx", ctx.host)),
        Some("ActiveSync") => url(&target, VdirKind::Eas, internal)
            .unwrap_or_else(|| format!("https://{}/Microsoft-Server-ActiveSync", ctx.host)),
        Some(_) => format!("https://{}/autodiscover/autodiscover.xml", ctx.host),
        None => {
            return json_body(serde_json::json!({
                "ErrorCode": "ProtocolNotSupported",
                "ErrorMessage": format!(
                    "Protocol: The protocol '{}' is not supported. Supported protocols are: '{}'.",
                    protocol,
                    V2_PROTOCOLS.join(",")
                ),
            }))
        }
    };
    json_body(serde_json::json!({ "Protocol": protocol, "Url": url }))
}

fn percent_decode(s: &str) -> String {
    form_urlencoded::parse(format!("x={}", s.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}
