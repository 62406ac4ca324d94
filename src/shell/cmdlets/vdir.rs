//! The virtual directory cmdlets: `Get-` and `Set-` for `/mapi`, `/EWS`, `/OAB`,
//! `/Autodiscover`, `/Microsoft-Server-ActiveSync` and `/owa`.
//!
//! The six `Get-` cmdlets share one parameter table; each `Set-` has its own, because the real
//! cmdlets differ (`/mapi` has `-IISAuthenticationMethods` and no `-OAuthAuthentication`, which
//! is the field guide's classic mistake; ActiveSync says `-BasicAuthEnabled`). An identity is
//! `EX1\mapi (Default Web Site)`, a vdir name or a server name, wildcards allowed.
//!
//! A vdir's settings live in two places: the directory (Active Directory, where `Set-` writes)
//! and IIS on its server (what the server applies once it has picked the change up). `Get-`
//! shows the authentication settings as IIS applies them; with `-ADPropertiesOnly` it shows
//! the directory only — the guide's "little white lies" when a change has not reached IIS.

use mock_exchange::model::{AuthMethod, Server, VirtualDirectory};

use super::kit::{cmdlet, identity_of, not_found_near, CmdletSpec, Cx, Run, R};
use crate::shell::backend::VdirChange;
use crate::shell::binder::{p, piped, pos, req, unmodeled, Bound, Extra, ParamSpec, Signature, Ty};
use crate::shell::error::catalogue;
use crate::shell::format::wildcard_match;
use crate::shell::objects;
use crate::shell::value::{Value, HASHTABLE};

/// The six virtual directory types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VdirType {
    Mapi,
    WebServices,
    Oab,
    Autodiscover,
    ActiveSync,
    Owa,
}

impl VdirType {
    pub fn kind(self) -> mock_exchange::model::VdirKind {
        use mock_exchange::model::VdirKind as K;
        match self {
            VdirType::Mapi => K::Mapi,
            VdirType::WebServices => K::Ews,
            VdirType::Oab => K::Oab,
            VdirType::Autodiscover => K::Autodiscover,
            VdirType::ActiveSync => K::Eas,
            VdirType::Owa => K::Owa,
        }
    }
}

const EP_TOKEN: Ty = Ty::Enum(
    "Microsoft.Exchange.Data.Directory.SystemConfiguration.ExtendedProtectionTokenCheckingMode",
    &["None", "Allow", "Require"],
);

const GET_VDIR: &[ParamSpec] = &[
    pos(piped(p("Identity", Ty::Str)), 0),
    p("Server", Ty::Str),
    p("ADPropertiesOnly", Ty::Switch),
    p("DomainController", Ty::Str),
    unmodeled(p("ShowMailboxVirtualDirectories", Ty::Switch)),
];
const SET_MAPI: &[ParamSpec] = &[
    pos(req(piped(p("Identity", Ty::Str))), 0),
    unmodeled(p("ApplyDefaults", Ty::Bool)),
    p("DomainController", Ty::Str),
    unmodeled(p("ExtendedProtectionFlags", Ty::Strings)),
    unmodeled(p("ExtendedProtectionSPNList", Ty::Strings)),
    unmodeled(p("ExtendedProtectionTokenChecking", EP_TOKEN)),
    p("ExternalUrl", Ty::Uri),
    p("IISAuthenticationMethods", Ty::AuthMethods),
    p("InternalUrl", Ty::Uri),
];
const SET_EWS: &[ParamSpec] = &[
    pos(req(piped(p("Identity", Ty::Str))), 0),
    p("BasicAuthentication", Ty::Bool),
    unmodeled(p("CertificateAuthentication", Ty::Bool)),
    p("DigestAuthentication", Ty::Bool),
    p("DomainController", Ty::Str),
    unmodeled(p("ExtendedProtectionFlags", Ty::Strings)),
    unmodeled(p("ExtendedProtectionSPNList", Ty::Strings)),
    unmodeled(p("ExtendedProtectionTokenChecking", EP_TOKEN)),
    p("ExternalUrl", Ty::Uri),
    unmodeled(p("Force", Ty::Switch)),
    unmodeled(p("GzipLevel", Ty::Str)),
    unmodeled(p("InternalNLBBypassUrl", Ty::Uri)),
    p("InternalUrl", Ty::Uri),
    unmodeled(p("MRSProxyEnabled", Ty::Bool)),
    unmodeled(p("MRSProxyMaxConnections", Ty::Str)),
    p("OAuthAuthentication", Ty::Bool),
    p("WindowsAuthentication", Ty::Bool),
    p("WSSecurityAuthentication", Ty::Bool),
];
const SET_OAB: &[ParamSpec] = &[
    pos(req(piped(p("Identity", Ty::Str))), 0),
    p("BasicAuthentication", Ty::Bool),
    p("DomainController", Ty::Str),
    unmodeled(p("ExtendedProtectionFlags", Ty::Strings)),
    unmodeled(p("ExtendedProtectionSPNList", Ty::Strings)),
    unmodeled(p("ExtendedProtectionTokenChecking", EP_TOKEN)),
    p("ExternalUrl", Ty::Uri),
    p("InternalUrl", Ty::Uri),
    p("OAuthAuthentication", Ty::Bool),
    unmodeled(p("PollInterval", Ty::Int)),
    unmodeled(p("RequireSSL", Ty::Bool)),
    p("WindowsAuthentication", Ty::Bool),
];
const SET_AUTODISCOVER: &[ParamSpec] = &[
    pos(req(piped(p("Identity", Ty::Str))), 0),
    p("BasicAuthentication", Ty::Bool),
    p("DigestAuthentication", Ty::Bool),
    p("DomainController", Ty::Str),
    unmodeled(p("ExtendedProtectionFlags", Ty::Strings)),
    unmodeled(p("ExtendedProtectionSPNList", Ty::Strings)),
    unmodeled(p("ExtendedProtectionTokenChecking", EP_TOKEN)),
    p("ExternalUrl", Ty::Uri),
    p("InternalUrl", Ty::Uri),
    p("OAuthAuthentication", Ty::Bool),
    p("WindowsAuthentication", Ty::Bool),
    p("WSSecurityAuthentication", Ty::Bool),
];
const SET_EAS: &[ParamSpec] = &[
    pos(req(piped(p("Identity", Ty::Str))), 0),
    unmodeled(p("ActiveSyncServer", Ty::Str)),
    p("BasicAuthEnabled", Ty::Bool),
    unmodeled(p("ClientCertAuth", Ty::Str)),
    unmodeled(p("CompressionEnabled", Ty::Bool)),
    p("DomainController", Ty::Str),
    unmodeled(p("ExtendedProtectionFlags", Ty::Strings)),
    unmodeled(p("ExtendedProtectionSPNList", Ty::Strings)),
    unmodeled(p("ExtendedProtectionTokenChecking", EP_TOKEN)),
    p("ExternalAuthenticationMethods", Ty::AuthMethods),
    p("ExternalUrl", Ty::Uri),
    p("InternalAuthenticationMethods", Ty::AuthMethods),
    p("InternalUrl", Ty::Uri),
    unmodeled(p("Name", Ty::Str)),
    p("WindowsAuthEnabled", Ty::Bool),
];
const SET_OWA: &[ParamSpec] = &[
    pos(req(piped(p("Identity", Ty::Str))), 0),
    p("AdfsAuthentication", Ty::Bool),
    p("BasicAuthentication", Ty::Bool),
    p("DigestAuthentication", Ty::Bool),
    p("DomainController", Ty::Str),
    unmodeled(p("ExtendedProtectionFlags", Ty::Strings)),
    unmodeled(p("ExtendedProtectionSPNList", Ty::Strings)),
    unmodeled(p("ExtendedProtectionTokenChecking", EP_TOKEN)),
    p("ExternalUrl", Ty::Uri),
    p("FormsAuthentication", Ty::Bool),
    p("InternalUrl", Ty::Uri),
    unmodeled(p("LogonFormat", Ty::Str)),
    p("OAuthAuthentication", Ty::Bool),
    p("WindowsAuthentication", Ty::Bool),
];

/// The lab's hint for the field guide's mistake on `/mapi`.
const MAPI_WRONG: &[(&str, &str)] = &[(
    "OAuthAuthentication",
    "/mapi has no OAuth switch; list the methods explicitly: -IISAuthenticationMethods Ntlm, OAuth, Negotiate",
)];

/// `Get-<X>VirtualDirectory` and `Set-<X>VirtualDirectory` of one type.
macro_rules! vdir {
    ($t:expr, $get:literal, $set:literal, $params:expr, $wrong:expr, $what:literal) => {
        [
            cmdlet(
                Signature {
                    name: $get,
                    params: GET_VDIR,
                    extra: Extra::None,
                    wrong_params: &[],
                },
                concat!(
                    "Lists the ",
                    $what,
                    " virtual directories of every Exchange server."
                ),
                Run::Each(|cx, b| get(cx, b, $t)),
            ),
            cmdlet(
                Signature {
                    name: $set,
                    params: $params,
                    extra: Extra::ShouldProcess,
                    wrong_params: $wrong,
                },
                concat!(
                    "Changes one ",
                    $what,
                    " virtual directory's URLs and authentication methods."
                ),
                Run::Each(|cx, b| set(cx, b, $t)),
            ),
        ]
    };
}

const MAPI: [CmdletSpec; 2] = vdir!(
    VdirType::Mapi,
    "Get-MapiVirtualDirectory",
    "Set-MapiVirtualDirectory",
    SET_MAPI,
    MAPI_WRONG,
    "/mapi (MAPI over HTTP)"
);
const EWS: [CmdletSpec; 2] = vdir!(
    VdirType::WebServices,
    "Get-WebServicesVirtualDirectory",
    "Set-WebServicesVirtualDirectory",
    SET_EWS,
    &[],
    "/EWS (Exchange Web Services)"
);
const OAB: [CmdletSpec; 2] = vdir!(
    VdirType::Oab,
    "Get-OabVirtualDirectory",
    "Set-OabVirtualDirectory",
    SET_OAB,
    &[],
    "/OAB (offline address book)"
);
const AUTODISCOVER: [CmdletSpec; 2] = vdir!(
    VdirType::Autodiscover,
    "Get-AutodiscoverVirtualDirectory",
    "Set-AutodiscoverVirtualDirectory",
    SET_AUTODISCOVER,
    &[],
    "/Autodiscover"
);
const EAS: [CmdletSpec; 2] = vdir!(
    VdirType::ActiveSync,
    "Get-ActiveSyncVirtualDirectory",
    "Set-ActiveSyncVirtualDirectory",
    SET_EAS,
    &[],
    "/Microsoft-Server-ActiveSync"
);
const OWA: [CmdletSpec; 2] = vdir!(
    VdirType::Owa,
    "Get-OwaVirtualDirectory",
    "Set-OwaVirtualDirectory",
    SET_OWA,
    &[],
    "/owa (Outlook on the web)"
);

pub(super) const CMDLETS: &[CmdletSpec] = &[
    MAPI[0],
    MAPI[1],
    EWS[0],
    EWS[1],
    OAB[0],
    OAB[1],
    AUTODISCOVER[0],
    AUTODISCOVER[1],
    EAS[0],
    EAS[1],
    OWA[0],
    OWA[1],
];

/// Every vdir of type `t`, with its server.
fn vdirs(cx: &mut Cx<'_>, t: VdirType) -> R<Vec<(Server, VirtualDirectory)>> {
    let be = cx.backend_error();
    let servers = cx.exchange()?.exchange_servers().map_err(be)?;
    let mut out = Vec::new();
    for s in servers {
        for v in s.vdirs.iter().filter(|v| v.kind == t.kind()) {
            out.push((s.clone(), v.clone()));
        }
    }
    Ok(out)
}

/// Vdirs matching an identity (`EX1\mapi (Default Web Site)`, a vdir name or a server name;
/// wildcards allowed).
fn match_vdirs(list: Vec<(Server, VirtualDirectory)>, id: &str) -> Vec<(Server, VirtualDirectory)> {
    list.into_iter()
        .filter(|(s, v)| match id.split_once('\\') {
            Some((srv, name)) => {
                (wildcard_match(srv, &s.name) || wildcard_match(srv, &s.fqdn))
                    && wildcard_match(name, &v.name)
            }
            None => {
                wildcard_match(id, &v.name)
                    || wildcard_match(id, &s.name)
                    || wildcard_match(id, &s.fqdn)
            }
        })
        .collect()
}

/// The authentication settings IIS reads from its own configuration (the metabase), taken from
/// the server's applied view; URLs and names stay the directory's.
fn with_iis_auth(mut dir: VirtualDirectory, iis: &VirtualDirectory) -> VirtualDirectory {
    dir.iis_authentication_methods = iis.iis_authentication_methods.clone();
    dir.internal_authentication_methods = iis.internal_authentication_methods.clone();
    dir.external_authentication_methods = iis.external_authentication_methods.clone();
    dir.basic_authentication = iis.basic_authentication;
    dir.windows_authentication = iis.windows_authentication;
    dir.oauth_authentication = iis.oauth_authentication;
    dir.wssecurity_authentication = iis.wssecurity_authentication;
    dir.digest_authentication = iis.digest_authentication;
    dir.adfs_authentication = iis.adfs_authentication;
    dir.live_id_basic_authentication = iis.live_id_basic_authentication;
    dir.live_id_negotiate_authentication = iis.live_id_negotiate_authentication;
    dir.forms_authentication = iis.forms_authentication;
    dir
}

/// Every vdir of type `t` as `Get-` shows it: the directory's with IIS's authentication
/// settings, or the directory's alone with `-ADPropertiesOnly`.
fn shown_vdirs(cx: &mut Cx<'_>, b: &Bound, t: VdirType) -> R<Vec<(Server, VirtualDirectory)>> {
    let list = vdirs(cx, t)?;
    if b.switch("ADPropertiesOnly") {
        return Ok(list);
    }
    let be = cx.backend_error();
    let applied = cx.exchange()?.applied_servers().map_err(be)?;
    Ok(list
        .into_iter()
        .map(|(s, v)| {
            let iis = applied
                .iter()
                .find(|a| a.name.eq_ignore_ascii_case(&s.name))
                .and_then(|a| a.vdir(v.kind));
            match iis {
                Some(iis) => {
                    let v = with_iis_auth(v, iis);
                    (s, v)
                }
                None => (s, v),
            }
        })
        .collect())
}

fn get(cx: &mut Cx<'_>, b: &Bound, t: VdirType) -> R<Vec<Value>> {
    let cmd = cx.cmd;
    let be = cx.backend_error();
    let mut list = shown_vdirs(cx, b, t)?;
    if b.has("Identity") && b.has("Server") {
        return Err(catalogue::ambiguous_parameter_set(cmd));
    }
    if let Some(id) = b.get("Identity").map(identity_of) {
        let names: Vec<String> = list
            .iter()
            .map(|(s, v)| objects::vdir_identity(s, v))
            .collect();
        list = match_vdirs(list, &id);
        if list.is_empty() {
            let dc = cx.dc();
            return Err(not_found_near(cmd, &id, &dc, &names));
        }
    }
    if let Some(srv) = b.str("Server") {
        let known = cx.exchange()?.exchange_servers().map_err(be)?;
        if !known
            .iter()
            .any(|s| s.name.eq_ignore_ascii_case(&srv) || s.fqdn.eq_ignore_ascii_case(&srv))
        {
            let dc = cx.dc();
            return Err(catalogue::object_not_found(cmd, &srv, &dc));
        }
        list.retain(|(s, _)| {
            s.name.eq_ignore_ascii_case(&srv) || s.fqdn.eq_ignore_ascii_case(&srv)
        });
    }
    Ok(list
        .iter()
        .map(|(s, v)| Value::Object(objects::vdir(s, v)))
        .collect())
}

fn set(cx: &mut Cx<'_>, b: &Bound, t: VdirType) -> R<Vec<Value>> {
    let cmd = cx.cmd;
    let id = b.get("Identity").map(identity_of).unwrap_or_default();
    let all = vdirs(cx, t)?;
    let names: Vec<String> = all
        .iter()
        .map(|(s, v)| objects::vdir_identity(s, v))
        .collect();
    let list = match_vdirs(all, &id);
    let (server, vd) = match list.len() {
        0 => {
            let dc = cx.dc();
            return Err(not_found_near(cmd, &id, &dc, &names));
        }
        1 => list
            .into_iter()
            .next()
            .ok_or_else(|| catalogue::ambiguous_parameter_set(cmd))?,
        _ => return Err(catalogue::object_ambiguous(cmd, &id)),
    };
    let target = objects::vdir_identity(&server, &vd);
    if let Some(w) = cx.what_if(b, &target) {
        return Ok(w);
    }
    let change = change_of(t, b, &vd);
    if changes_anything(&change, &vd) {
        let be = cx.backend_error();
        cx.exchange()?
            .set_vdir(&server.name, t.kind(), &change)
            .map_err(be)?;
    } else {
        cx.not_modified(&target);
    }
    Ok(Vec::new())
}

fn methods_of(v: &Value) -> Vec<AuthMethod> {
    v.enumerate()
        .iter()
        .filter_map(|m| AuthMethod::parse(&m.to_plain_string()))
        .collect()
}

/// A multi-valued parameter's new list: a plain list replaces `current`; `@{Add=…; Remove=…}`
/// edits it, as Exchange's MultiValuedProperty parameters do.
fn edit_methods(v: &Value, current: &[AuthMethod]) -> Vec<AuthMethod> {
    match v {
        Value::Object(o) if o.type_name == HASHTABLE => {
            let mut list = current.to_vec();
            if let Some(add) = o.get("Add") {
                for m in methods_of(add) {
                    if !list.contains(&m) {
                        list.push(m);
                    }
                }
            }
            if let Some(remove) = o.get("Remove") {
                let gone = methods_of(remove);
                list.retain(|m| !gone.contains(m));
            }
            list
        }
        other => methods_of(other),
    }
}

/// Whether applying `c` to `v` would change anything.
fn changes_anything(c: &VdirChange, v: &VirtualDirectory) -> bool {
    fn differs<T: PartialEq>(want: &Option<T>, have: &T) -> bool {
        want.as_ref().is_some_and(|w| w != have)
    }
    differs(&c.internal_url, &v.internal_url)
        || differs(&c.external_url, &v.external_url)
        || differs(&c.iis_authentication_methods, &v.iis_authentication_methods)
        || differs(
            &c.internal_authentication_methods,
            &v.internal_authentication_methods,
        )
        || differs(
            &c.external_authentication_methods,
            &v.external_authentication_methods,
        )
        || differs(&c.basic_authentication, &v.basic_authentication)
        || differs(&c.windows_authentication, &v.windows_authentication)
        || differs(&c.oauth_authentication, &v.oauth_authentication)
        || differs(&c.wssecurity_authentication, &v.wssecurity_authentication)
        || differs(&c.digest_authentication, &v.digest_authentication)
        || differs(&c.adfs_authentication, &v.adfs_authentication)
        || differs(
            &c.live_id_basic_authentication,
            &v.live_id_basic_authentication,
        )
        || differs(
            &c.live_id_negotiate_authentication,
            &v.live_id_negotiate_authentication,
        )
        || differs(&c.forms_authentication, &v.forms_authentication)
}

/// The change a `Set-*VirtualDirectory` call asks for.
fn change_of(t: VdirType, b: &Bound, current: &VirtualDirectory) -> VdirChange {
    let url = |n: &str| {
        b.get(n).map(|v| match v {
            Value::Null => None,
            other => Some(other.to_plain_string()),
        })
    };
    let mut c = VdirChange {
        internal_url: url("InternalUrl"),
        external_url: url("ExternalUrl"),
        ..VdirChange::default()
    };
    match t {
        VdirType::Mapi => {
            // Exchange reports the IIS methods as both sides' methods on /mapi.
            if let Some(v) = b.get("IISAuthenticationMethods") {
                let ms = edit_methods(v, &current.iis_authentication_methods);
                c.iis_authentication_methods = Some(ms.clone());
                c.internal_authentication_methods = Some(ms.clone());
                c.external_authentication_methods = Some(ms);
            }
        }
        VdirType::ActiveSync => {
            c.basic_authentication = b.bool("BasicAuthEnabled");
            c.windows_authentication = b.bool("WindowsAuthEnabled");
            c.internal_authentication_methods = b
                .get("InternalAuthenticationMethods")
                .map(|v| edit_methods(v, &current.internal_authentication_methods));
            c.external_authentication_methods = b
                .get("ExternalAuthenticationMethods")
                .map(|v| edit_methods(v, &current.external_authentication_methods));
        }
        _ => {
            c.basic_authentication = b.bool("BasicAuthentication");
            c.windows_authentication = b.bool("WindowsAuthentication");
            c.oauth_authentication = b.bool("OAuthAuthentication");
            c.wssecurity_authentication = b.bool("WSSecurityAuthentication");
            c.digest_authentication = b.bool("DigestAuthentication");
            c.adfs_authentication = b.bool("AdfsAuthentication");
            c.forms_authentication = b.bool("FormsAuthentication");
        }
    }
    c
}
