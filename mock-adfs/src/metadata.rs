//! The documents a relying party or a client reads before signing anyone in: federation
//! metadata (`/FederationMetadata/2007-06/FederationMetadata.xml`, signed with the primary
//! token-signing key and listing every published token-signing certificate, as ADFS does during
//! a rollover) and the WS-MetadataExchange document (`/adfs/services/trust/mex`) that tells MSAL
//! where the WS-Trust endpoints are and which credentials each takes.
//!
//! Every URL uses the farm's host name, whatever `Host` the request came with. MEX lists the
//! 2005 and 1.3 `windowstransport` and `usernamemixed` endpoints with ADFS's binding and policy
//! names; MSAL Python needs every binding to carry `soap12:binding` and picks the 1.3
//! `usernamemixed` endpoint by its `UsernameToken` policy.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use lab_kit::saml::dsig::DS_NS;
use lab_kit::saml::xml::{escape_attr, escape_text};
use lab_kit::saml::{sign_enveloped, Placement};

use crate::issue::{WSA_NS, WSP_NS, WSU_NS};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/FederationMetadata/2007-06/FederationMetadata.xml",
            get(federation_metadata),
        )
        .route("/adfs/services/trust/mex", get(mex))
}

fn xml(body: String) -> Response {
    ([(header::CONTENT_TYPE, "text/xml; charset=utf-8")], body).into_response()
}

fn key_descriptors(certs: &[String]) -> String {
    certs
        .iter()
        .map(|c| {
            format!(
                "<KeyDescriptor use=\"signing\"><KeyInfo xmlns=\"{DS_NS}\"><X509Data>\
                 <X509Certificate>{c}</X509Certificate></X509Data></KeyInfo></KeyDescriptor>"
            )
        })
        .collect()
}

const CLAIM_TYPES: [(&str, &str); 4] = [
    (
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn",
        "UPN",
    ),
    ("http://schemas.xmlsoap.org/claims/UPN", "UPN"),
    (
        "http://schemas.microsoft.com/LiveID/Federation/2008/05/ImmutableID",
        "ImmutableID",
    ),
    (
        "http://schemas.microsoft.com/claims/authnmethodsreferences",
        "Authentication Methods References",
    ),
];

/// The unsigned metadata document.
pub fn metadata_document(s: &AppState) -> String {
    let farm = s.farm();
    let base = farm.base();
    let certs: Vec<String> = s
        .certs()
        .published()
        .iter()
        .map(|k| k.cert.base64())
        .collect();
    let keys = key_descriptors(&certs);
    let claims: String = CLAIM_TYPES
        .iter()
        .map(|(uri, name)| {
            format!(
                "<auth:ClaimType Uri=\"{uri}\" Optional=\"true\" xmlns:auth=\"http://docs.oasis-\
                 open.org/wsfed/authorization/200706\"><auth:DisplayName>{name}</auth:DisplayName>\
                 </auth:ClaimType>"
            )
        })
        .collect();
    let endpoint = |path: &str| {
        format!(
            "<EndpointReference xmlns=\"{WSA_NS}\"><Address>{}</Address></EndpointReference>",
            escape_text(&format!("{base}{path}"))
        )
    };
    format!(
        "<EntityDescriptor ID=\"_{id}\" entityID=\"{issuer}\" xmlns=\"urn:oasis:names:tc:SAML:2.0:\
         metadata\"><RoleDescriptor xsi:type=\"fed:SecurityTokenServiceType\" \
         protocolSupportEnumeration=\"http://docs.oasis-open.org/ws-sx/ws-trust/200512 http://\
         schemas.xmlsoap.org/ws/2005/02/trust http://docs.oasis-open.org/wsfed/federation/200706\" \
         xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xmlns:fed=\"http://docs.oasis-\
         open.org/wsfed/federation/200706\">{keys}<fed:ClaimTypesOffered>{claims}\
         </fed:ClaimTypesOffered><fed:SecurityTokenServiceEndpoint>{sts}\
         </fed:SecurityTokenServiceEndpoint><fed:PassiveRequestorEndpoint>{ls}\
         </fed:PassiveRequestorEndpoint></RoleDescriptor><IDPSSODescriptor \
         protocolSupportEnumeration=\"urn:oasis:names:tc:SAML:2.0:protocol\">{keys}\
         <NameIDFormat>urn:oasis:names:tc:SAML:2.0:nameid-format:persistent</NameIDFormat>\
         <SingleSignOnService Binding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect\" \
         Location=\"{ls_url}\"/><SingleSignOnService Binding=\"urn:oasis:names:tc:SAML:2.0:\
         bindings:HTTP-POST\" Location=\"{ls_url}\"/></IDPSSODescriptor></EntityDescriptor>",
        id = uuid::Uuid::new_v4(),
        issuer = escape_attr(&farm.issuer()),
        sts = endpoint("/adfs/services/trust/2005/issuedtokenmixedsymmetricbasic256"),
        ls = endpoint("/adfs/ls/"),
        ls_url = escape_attr(&format!("{base}/adfs/ls/")),
    )
}

async fn federation_metadata(State(s): State<AppState>) -> Response {
    let doc = metadata_document(&s);
    match sign_enveloped(&doc, Placement::FirstChild, s.certs().signing_key()) {
        Ok(signed) => xml(signed),
        Err(e) => {
            tracing::error!(error = %e, "cannot sign federation metadata");
            (StatusCode::INTERNAL_SERVER_ERROR, "metadata signing failed").into_response()
        }
    }
}

/// One WS-Trust endpoint as MEX describes it.
struct Endpoint {
    binding: &'static str,
    path: &'static str,
    version: &'static str,
    windows: bool,
}

const ENDPOINTS: [Endpoint; 4] = [
    Endpoint {
        binding: "CertificateWSTrustBinding_IWSTrustFeb2005Async",
        path: "/adfs/services/trust/2005/windowstransport",
        version: "Feb2005",
        windows: true,
    },
    Endpoint {
        binding: "UserNameWSTrustBinding_IWSTrustFeb2005Async",
        path: "/adfs/services/trust/2005/usernamemixed",
        version: "Feb2005",
        windows: false,
    },
    Endpoint {
        binding: "CertificateWSTrustBinding_IWSTrust13Async",
        path: "/adfs/services/trust/13/windowstransport",
        version: "13",
        windows: true,
    },
    Endpoint {
        binding: "UserNameWSTrustBinding_IWSTrust13Async",
        path: "/adfs/services/trust/13/usernamemixed",
        version: "13",
        windows: false,
    },
];

fn policy(e: &Endpoint) -> String {
    let (sp, tokens) = if e.version == "13" {
        (
            "http://docs.oasis-open.org/ws-sx/ws-securitypolicy/200702",
            "SignedEncryptedSupportingTokens",
        )
    } else {
        (
            "http://schemas.xmlsoap.org/ws/2005/07/securitypolicy",
            "SignedSupportingTokens",
        )
    };
    let transport = if e.windows {
        "<sp:TransportToken><wsp:Policy><sp:HttpsToken/></wsp:Policy></sp:TransportToken>\
         <http:NegotiateAuthentication xmlns:http=\"http://schemas.microsoft.com/ws/06/2004/\
         policy/http\"/>"
    } else {
        "<sp:TransportToken><wsp:Policy><sp:HttpsToken/></wsp:Policy></sp:TransportToken>"
    };
    let username = if e.windows {
        String::new()
    } else {
        format!(
            "<sp:{tokens}><wsp:Policy><sp:UsernameToken sp:IncludeToken=\"{sp}/IncludeToken/\
             AlwaysToRecipient\"><wsp:Policy><sp:WssUsernameToken10/></wsp:Policy>\
             </sp:UsernameToken></wsp:Policy></sp:{tokens}>"
        )
    };
    format!(
        "<wsp:Policy wsu:Id=\"{b}_policy\"><wsp:ExactlyOne><wsp:All xmlns:sp=\"{sp}\">\
         <sp:TransportBinding><wsp:Policy>{transport}<sp:AlgorithmSuite><wsp:Policy><sp:Basic256/>\
         </wsp:Policy></sp:AlgorithmSuite><sp:Layout><wsp:Policy><sp:Strict/></wsp:Policy>\
         </sp:Layout><sp:IncludeTimestamp/></wsp:Policy></sp:TransportBinding>{username}\
         <wsaw:UsingAddressing xmlns:wsaw=\"http://www.w3.org/2006/05/addressing/wsdl\"/>\
         </wsp:All></wsp:ExactlyOne></wsp:Policy>",
        b = e.binding
    )
}

fn binding(e: &Endpoint) -> String {
    let (port_type, op, action) = if e.version == "13" {
        (
            "IWSTrust13Async",
            "Trust13IssueAsync",
            "http://docs.oasis-open.org/ws-sx/ws-trust/200512/RST/Issue",
        )
    } else {
        (
            "IWSTrustFeb2005Async",
            "TrustFeb2005IssueAsync",
            "http://schemas.xmlsoap.org/ws/2005/02/trust/RST/Issue",
        )
    };
    format!(
        "<wsdl:binding name=\"{b}\" type=\"tns:{port_type}\"><wsp:PolicyReference URI=\"#{b}_policy\"/>\
         <soap12:binding transport=\"http://schemas.xmlsoap.org/soap/http\"/><wsdl:operation \
         name=\"{op}\"><soap12:operation soapAction=\"{action}\" style=\"document\"/><wsdl:input>\
         <soap12:body use=\"literal\"/></wsdl:input><wsdl:output><soap12:body use=\"literal\"/>\
         </wsdl:output></wsdl:operation></wsdl:binding>",
        b = e.binding
    )
}

/// The MEX document for a farm whose base URL is `base`.
pub fn mex_document(base: &str) -> String {
    let policies: String = ENDPOINTS.iter().map(policy).collect();
    let bindings: String = ENDPOINTS.iter().map(binding).collect();
    let ports: String = ENDPOINTS
        .iter()
        .map(|e| {
            let url = escape_text(&format!("{base}{}", e.path));
            format!(
                "<wsdl:port name=\"{b}\" binding=\"tns:{b}\"><soap12:address location=\"{url}\"/>\
                 <wsa10:EndpointReference><wsa10:Address>{url}</wsa10:Address>\
                 </wsa10:EndpointReference></wsdl:port>",
                b = e.binding
            )
        })
        .collect();
    format!(
        "<wsdl:definitions name=\"SecurityTokenService\" targetNamespace=\"http://schemas.\
         microsoft.com/ws/2008/06/identity/securitytokenservice\" xmlns:wsdl=\"http://schemas.\
         xmlsoap.org/wsdl/\" xmlns:wsp=\"{WSP_NS}\" xmlns:wsu=\"{WSU_NS}\" xmlns:soap12=\"http://\
         schemas.xmlsoap.org/wsdl/soap12/\" xmlns:wsa10=\"{WSA_NS}\" xmlns:tns=\"http://schemas.\
         microsoft.com/ws/2008/06/identity/securitytokenservice\">{policies}{bindings}\
         <wsdl:service name=\"SecurityTokenService\">{ports}</wsdl:service></wsdl:definitions>"
    )
}

async fn mex(State(s): State<AppState>) -> Response {
    let base = s.farm().base();
    xml(mex_document(&base))
}
