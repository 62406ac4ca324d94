//! Active WS-Trust: `/adfs/services/trust/{13,2005}/{usernamemixed,windowstransport}`, what
//! MSAL's federated username/password flow (and IWA in MSAL.NET) posts a SOAP 1.2
//! `RequestSecurityToken` to.
//!
//! `usernamemixed` takes the `wsse:UsernameToken` in the security header; `windowstransport`
//! takes a Windows logon in HTTP 401s first ([`crate::wia`], extended protection included). The
//! request must be an `Issue` in the endpoint's WS-Trust version, for an `AppliesTo` that names
//! an enabled relying party; a `TokenType` of SAML 2.0 gets a SAML 2.0 assertion, anything else
//! SAML 1.1. The answer is the 1.3 `RequestSecurityTokenResponseCollection` or the 2005
//! `RequestSecurityTokenResponse` in ADFS's envelope. Every failure is a SOAP fault with HTTP 500
//! (ADFS answers client errors with 5xx too, which is why MSAL ignores the status): bad
//! credentials `a:FailedAuthentication` / `ID3242: …`, anything else `a:RequestFailed` /
//! `MSIS3127: …`. A relying party or user that requires MFA cannot be served here (no second
//! factor over WS-Trust) and gets `MSIS3127` (inferred).

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use lab_kit::saml::assertion::{WS_TRUST_13_NS, WS_TRUST_2005_NS};
use lab_kit::saml::xml::{self, Element};
use lab_kit::saml::SamlVersion;

use crate::issue::{self, envelope, rstr_13, rstr_2005, SOAP12_NS, WSA_NS, WSP_NS, WSSE_NS};
use crate::model::{Mfa, User};
use crate::passive::unauthorized;
use crate::state::{AppState, Method};
use crate::wia::{self, Step};

/// Largest RST read.
pub const MAX_RST: usize = 64 * 1024;
const SOAP11_NS: &str = "http://schemas.xmlsoap.org/soap/envelope/";
const WSA_2004_NS: &str = "http://schemas.xmlsoap.org/ws/2004/08/addressing";

/// The WS-Trust version of an endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrustVersion {
    V13,
    V2005,
}

impl TrustVersion {
    fn ns(self) -> &'static str {
        match self {
            TrustVersion::V13 => WS_TRUST_13_NS,
            TrustVersion::V2005 => WS_TRUST_2005_NS,
        }
    }
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/adfs/services/trust/13/usernamemixed",
            post(|s, r| endpoint(s, r, TrustVersion::V13, false)),
        )
        .route(
            "/adfs/services/trust/2005/usernamemixed",
            post(|s, r| endpoint(s, r, TrustVersion::V2005, false)),
        )
        .route(
            "/adfs/services/trust/13/windowstransport",
            post(|s, r| endpoint(s, r, TrustVersion::V13, true)),
        )
        .route(
            "/adfs/services/trust/2005/windowstransport",
            post(|s, r| endpoint(s, r, TrustVersion::V2005, true)),
        )
}

/// A fault's subcode and reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Wrong, unknown or disabled credentials.
    FailedAuthentication,
    /// Anything else the request got wrong.
    RequestFailed,
}

impl Fault {
    pub fn reason(self) -> &'static str {
        match self {
            Fault::FailedAuthentication => {
                "ID3242: The security token could not be authenticated or authorized."
            }
            Fault::RequestFailed => "MSIS3127: The specified request failed.",
        }
    }
}

fn soap(status: StatusCode, body: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/soap+xml; charset=utf-8")],
        body,
    )
        .into_response()
}

/// The fault envelope.
pub fn fault_document(fault: Fault, now_ms: i64) -> String {
    let subcode = match fault {
        Fault::FailedAuthentication => {
            format!("<s:Value xmlns:a=\"{WSSE_NS}\">a:FailedAuthentication</s:Value>")
        }
        Fault::RequestFailed => {
            format!("<s:Value xmlns:a=\"{WS_TRUST_13_NS}\">a:RequestFailed</s:Value>")
        }
    };
    envelope(
        "http://www.w3.org/2005/08/addressing/soap/fault",
        None,
        now_ms,
        &format!(
            "<s:Fault><s:Code><s:Value>s:Sender</s:Value><s:Subcode>{subcode}</s:Subcode>\
             </s:Code><s:Reason><s:Text xml:lang=\"en-US\">{}</s:Text></s:Reason></s:Fault>",
            fault.reason()
        ),
    )
}

fn fault(s: &AppState, f: Fault, why: &str) -> Response {
    tracing::debug!(reason = why, "WS-Trust request refused");
    soap(
        StatusCode::INTERNAL_SERVER_ERROR,
        fault_document(f, s.now_ms()),
    )
}

/// What an RST asks for.
struct Rst {
    applies_to: String,
    version: SamlVersion,
    message_id: Option<String>,
    username: Option<(String, String)>,
}

fn read_rst(doc: &Element, v: TrustVersion) -> Result<Rst, &'static str> {
    if !(doc.is(SOAP12_NS, "Envelope") || doc.is(SOAP11_NS, "Envelope")) {
        return Err("not a SOAP envelope");
    }
    let ns = doc.ns.as_str();
    let header = doc.child(ns, "Header");
    let body = doc.child(ns, "Body").ok_or("no SOAP body")?;
    let rst = body
        .child(v.ns(), "RequestSecurityToken")
        .ok_or("no RequestSecurityToken in this endpoint's WS-Trust version")?;
    let request_type = rst.child(v.ns(), "RequestType").map(|e| e.text());
    if request_type.as_deref().map(str::trim) != Some(&format!("{}/Issue", v.ns())) {
        return Err("RequestType is not Issue");
    }
    let address = rst
        .child(WSP_NS, "AppliesTo")
        .and_then(|a| {
            a.child(WSA_NS, "EndpointReference")
                .or_else(|| a.child(WSA_2004_NS, "EndpointReference"))
        })
        .and_then(|e| {
            e.child(WSA_NS, "Address")
                .or_else(|| e.child(WSA_2004_NS, "Address"))
        })
        .map(|a| a.text().trim().to_string())
        .ok_or("no AppliesTo address")?;
    let version = match rst.child(v.ns(), "TokenType").map(|t| t.text()) {
        Some(t) if t.trim().ends_with("SAML:2.0:assertion") || t.trim().ends_with("#SAMLV2.0") => {
            SamlVersion::V2_0
        }
        _ => SamlVersion::V1_1,
    };
    let username = header
        .and_then(|h| h.path(&[(WSSE_NS, "Security"), (WSSE_NS, "UsernameToken")]))
        .map(|t| {
            let get = |n| t.child(WSSE_NS, n).map(|e| e.text()).unwrap_or_default();
            (get("Username"), get("Password"))
        });
    Ok(Rst {
        applies_to: address,
        version,
        message_id: header
            .and_then(|h| h.child(WSA_NS, "MessageID"))
            .map(|m| m.text()),
        username,
    })
}

async fn endpoint(
    State(s): State<AppState>,
    req: Request,
    v: TrustVersion,
    windows: bool,
) -> Response {
    let (parts, body) = req.into_parts();
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0);
    // The body first: each leg of a Windows logon carries it, and a body left unread could
    // cost the connection the logon is bound to.
    let Ok(bytes) = axum::body::to_bytes(body, MAX_RST).await else {
        return (StatusCode::PAYLOAD_TOO_LARGE, "request body too large\n").into_response();
    };
    let windows_user = if windows {
        let auth = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|h| h.to_str().ok());
        match wia::step(&s, peer, auth) {
            Step::Challenge(values) => return unauthorized(values),
            Step::LoggedOn(u) => Some(u),
        }
    } else {
        None
    };
    let Ok(text) = std::str::from_utf8(&bytes) else {
        return fault(&s, Fault::RequestFailed, "body is not UTF-8");
    };
    let doc = match xml::parse(text) {
        Ok(d) => d,
        Err(e) => return fault(&s, Fault::RequestFailed, &e.to_string()),
    };
    let rst = match read_rst(&doc.root, v) {
        Ok(r) => r,
        Err(why) => return fault(&s, Fault::RequestFailed, why),
    };
    let (user, method) = match windows_user {
        Some(u) => (u, Method::Windows),
        None => match check_password(&s, rst.username.as_ref()) {
            Some(u) => (u, Method::Password),
            None => return fault(&s, Fault::FailedAuthentication, "bad credentials"),
        },
    };
    let Some(rp) = s.farm().relying_party(&rst.applies_to).cloned() else {
        return fault(&s, Fault::RequestFailed, "MSIS7007: unknown relying party");
    };
    if user.mfa == Mfa::Required || rp.require_mfa {
        return fault(
            &s,
            Fault::RequestFailed,
            "MFA required; not possible over WS-Trust",
        );
    }
    let issued = issue::assertion(
        &s,
        &issue::Request {
            user: &user,
            rp: &rp,
            audience: &rst.applies_to,
            method,
            authn_ms: s.now_ms(),
            mfa: false,
            inside_corporate_network: !parts.headers.contains_key("x-ms-proxy"),
            version: rst.version,
        },
    );
    let t = match issued {
        Ok(t) => t,
        Err(e) => {
            tracing::error!(error = %e, "cannot sign the assertion");
            return fault(&s, Fault::RequestFailed, "signing failed");
        }
    };
    let (action, body) = match v {
        TrustVersion::V13 => (
            "http://docs.oasis-open.org/ws-sx/ws-trust/200512/RSTRC/IssueFinal",
            rstr_13(&t),
        ),
        TrustVersion::V2005 => (
            "http://schemas.xmlsoap.org/ws/2005/02/trust/RSTR/Issue",
            rstr_2005(&t),
        ),
    };
    soap(
        StatusCode::OK,
        envelope(action, rst.message_id.as_deref(), s.now_ms(), &body),
    )
}

fn check_password(s: &AppState, creds: Option<&(String, String)>) -> Option<User> {
    let (name, password) = creds?;
    let farm = s.farm();
    farm.user_by_logon(name)
        .filter(|u| {
            u.enabled
                && lab_kit::secret::constant_time_eq(u.password.as_bytes(), password.as_bytes())
        })
        .cloned()
}
