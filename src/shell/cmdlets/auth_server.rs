//! `Get-AuthServer`, `Set-AuthServer` and `New-AuthServer`: Exchange's list of token issuers it
//! trusts (the `EvoSTS` entry that hybrid modern authentication makes the default
//! authorization endpoint).

use mock_exchange::model::AuthServerType;

use super::kit::{cmdlet, identity_of, not_found_near, sig, CmdletSpec, Cx, Run, R};
use crate::shell::backend::{AuthServerChange, NewAuthServer};
use crate::shell::binder::{p, piped, pos, req, unmodeled, Bound, Extra, ParamSpec, Ty};
use crate::shell::error::catalogue;
use crate::shell::format::wildcard_match;
use crate::shell::objects;
use crate::shell::value::Value;

const AUTH_SERVER_TYPE: Ty = Ty::Enum(
    "Microsoft.Exchange.Data.Directory.SystemConfiguration.AuthServerType",
    &["MicrosoftACS", "Facebook", "LiveIdRps", "ADFS", "AzureAD"],
);

const GET_AUTH_SERVER: &[ParamSpec] = &[
    pos(piped(p("Identity", Ty::Str)), 0),
    p("DomainController", Ty::Str),
];
const SET_AUTH_SERVER: &[ParamSpec] = &[
    pos(req(piped(p("Identity", Ty::Str))), 0),
    p("AuthMetadataUrl", Ty::Str),
    p("DomainController", Ty::Str),
    p("Enabled", Ty::Bool),
    p("IsDefaultAuthorizationEndpoint", Ty::Bool),
    unmodeled(p("Name", Ty::Str)),
    p("RefreshAuthMetadata", Ty::Switch),
    unmodeled(p("TrustAnySSLCertificate", Ty::Switch)),
];
const NEW_AUTH_SERVER: &[ParamSpec] = &[
    pos(req(p("Name", Ty::Str)), 0),
    req(p("AuthMetadataUrl", Ty::Str)),
    p("DomainController", Ty::Str),
    p("Enabled", Ty::Bool),
    p("IsDefaultAuthorizationEndpoint", Ty::Bool),
    unmodeled(p("TrustAnySSLCertificate", Ty::Switch)),
    p("Type", AUTH_SERVER_TYPE),
];

pub(super) const CMDLETS: &[CmdletSpec] = &[
    cmdlet(
        sig("Get-AuthServer", GET_AUTH_SERVER, Extra::None),
        "Lists the token issuers Exchange trusts.",
        Run::Each(get),
    ),
    cmdlet(
        sig("Set-AuthServer", SET_AUTH_SERVER, Extra::ShouldProcess),
        "Changes a token issuer (default authorization endpoint, enabled, metadata URL) or refreshes its metadata.",
        Run::Each(set),
    ),
    cmdlet(
        sig("New-AuthServer", NEW_AUTH_SERVER, Extra::ShouldProcess),
        "Adds a token issuer.",
        Run::Each(new),
    ),
];

fn get(cx: &mut Cx<'_>, b: &Bound) -> R<Vec<Value>> {
    let cmd = cx.cmd;
    let be = cx.backend_error();
    let mut list = cx.exchange()?.auth_servers().map_err(be)?;
    if let Some(id) = b.get("Identity").map(identity_of) {
        let names: Vec<String> = list.iter().map(|a| a.name.clone()).collect();
        list.retain(|a| wildcard_match(&id, &a.name));
        if list.is_empty() {
            let dc = cx.dc();
            return Err(not_found_near(cmd, &id, &dc, &names));
        }
    }
    Ok(list
        .iter()
        .map(|a| Value::Object(objects::auth_server(a)))
        .collect())
}

fn set(cx: &mut Cx<'_>, b: &Bound) -> R<Vec<Value>> {
    let cmd = cx.cmd;
    let be = cx.backend_error();
    let id = b.get("Identity").map(identity_of).unwrap_or_default();
    let list = cx.exchange()?.auth_servers().map_err(&be)?;
    let Some(a) = list.iter().find(|a| a.name.eq_ignore_ascii_case(&id)) else {
        let dc = cx.dc();
        let names: Vec<String> = list.iter().map(|a| a.name.clone()).collect();
        return Err(not_found_near(cmd, &id, &dc, &names));
    };
    let name = a.name.clone();
    let refresh = b.switch("RefreshAuthMetadata");
    if refresh && b.has("AuthMetadataUrl") {
        return Err(catalogue::ambiguous_parameter_set(cmd));
    }
    if let Some(w) = cx.what_if(b, &name) {
        return Ok(w);
    }
    let change = AuthServerChange {
        auth_metadata_url: b.str("AuthMetadataUrl"),
        is_default_authorization_endpoint: b.bool("IsDefaultAuthorizationEndpoint"),
        enabled: b.bool("Enabled"),
    };
    let differs = change
        .auth_metadata_url
        .as_ref()
        .is_some_and(|u| *u != a.auth_metadata_url)
        || change
            .is_default_authorization_endpoint
            .is_some_and(|d| d != a.is_default_authorization_endpoint)
        || change.enabled.is_some_and(|e| e != a.enabled);
    if differs {
        cx.exchange()?
            .set_auth_server(&name, &change)
            .map_err(&be)?;
    }
    if refresh {
        cx.exchange()?.refresh_auth_metadata(&name).map_err(&be)?;
    }
    if !differs && !refresh {
        cx.not_modified(&name);
    }
    Ok(Vec::new())
}

fn new(cx: &mut Cx<'_>, b: &Bound) -> R<Vec<Value>> {
    let be = cx.backend_error();
    let name = b.str("Name").unwrap_or_default();
    if let Some(w) = cx.what_if(b, &name) {
        return Ok(w);
    }
    let kind = match b.str("Type").as_deref() {
        Some("ADFS") => AuthServerType::ADFS,
        Some("Facebook") => AuthServerType::Facebook,
        Some("LiveIdRps") => AuthServerType::LiveId,
        Some("MicrosoftACS") => AuthServerType::MicrosoftACS,
        _ => AuthServerType::AzureAD,
    };
    let new = NewAuthServer {
        name,
        kind,
        auth_metadata_url: b.str("AuthMetadataUrl").unwrap_or_default(),
        is_default_authorization_endpoint: b
            .bool("IsDefaultAuthorizationEndpoint")
            .unwrap_or(false),
        enabled: b.bool("Enabled").unwrap_or(true),
    };
    let a = cx.exchange()?.new_auth_server(&new).map_err(be)?;
    Ok(vec![Value::Object(objects::auth_server(&a))])
}
