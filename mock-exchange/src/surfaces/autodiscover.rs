//! Autodiscover: POX (`/autodiscover/autodiscover.xml`, what Outlook uses), SOAP
//! (`/autodiscover/autodiscover.svc` GetUserSettings, what exchangelib and ews-javascript-api
//! use) and JSON v2 (`/autodiscover/autodiscover.json`, what mobile clients use anonymously).
//!
//! All three read the effective organization from the context: URLs come from the virtual
//! directories of the server hosting the requested mailbox (Internal for EXCH, External for
//! EXPR), so changing a vdir URL changes what clients are told once the settings cache lets the
//! change through. Every answer carries the endpoint headers the Exchange front end adds to
//! Autodiscover responses (`X-SOAP-Enabled`, `X-WSSecurity-Enabled`, `X-WSSecurity-For`,
//! `X-OAuth-Enabled`) — ews-javascript-api refuses the SOAP endpoint without `X-SOAP-Enabled`.
//! Error answers use each protocol's own shape: POX `<Error>` with ErrorCode 500/600 (HTTP 200),
//! SOAP `UserResponse` error codes, and compact JSON `ErrorCode`/`ErrorMessage` (HTTP 200).

use axum::http::request::Parts;
use axum::http::{Method, StatusCode};
use axum::response::Response;

use super::xml::{self, esc, Element, NS_AUTOD, NS_POX_REQ, NS_SOAP};
use super::{
    ews_schemas, header_str, long_build, lower_path, name_guid, not_found, query_param, set_header,
    with_type, SurfaceCtx,
};
use crate::model::{ExchangeVersion, Mailbox, Server, VdirKind, VirtualDirectory};

const NS_RESP_2006: &str = "http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006";
const NS_OUTLOOK_2006A: &str =
    "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a";
const NS_MOBILESYNC_2006: &str =
    "http://schemas.microsoft.com/exchange/autodiscover/mobilesync/responseschema/2006";
const NS_MOBILESYNC_REQ: &str =
    "http://schemas.microsoft.com/exchange/autodiscover/mobilesync/requestschema/2006";
const ADMIN_GROUP: &str = "Exchange Administrative Group (FYDIBOHF23SPDLT)";
/// Users one GetUserSettings request may name (Exchange's limit).
const MAX_USERS: usize = 100;
const NL: &str = "\r\n";

/// The headers the front end adds to every Autodiscover response (also to its 401s — the
/// pipeline may call this to add them there, which is what EWS Managed API clients probe).
pub fn endpoint_headers(vdir: Option<&VirtualDirectory>) -> Vec<(&'static str, &'static str)> {
    let ws = vdir.map(|v| v.wssecurity_authentication).unwrap_or(false);
    let oauth = vdir.map(|v| v.oauth_authentication).unwrap_or(false);
    vec![
        ("X-SOAP-Enabled", "True"),
        ("X-WSSecurity-Enabled", if ws { "True" } else { "False" }),
        ("X-WSSecurity-For", "None"),
        ("X-OAuth-Enabled", if oauth { "True" } else { "False" }),
    ]
}

/// Entry point for the Autodiscover vdir.
pub fn handle(ctx: &SurfaceCtx, parts: &Parts, body: &[u8]) -> Response {
    let path = lower_path(parts);
    let mut r = if path == "/autodiscover/autodiscover.xml" {
        pox(ctx, parts, body)
    } else if path == "/autodiscover/autodiscover.svc"
        || path.starts_with("/autodiscover/autodiscover.svc/")
    {
        soap(ctx, parts, body)
    } else if path == "/autodiscover/autodiscover.json"
        || path.starts_with("/autodiscover/autodiscover.json/")
    {
        json(ctx, parts)
    } else {
        return not_found();
    };
    for (k, v) in endpoint_headers(ctx.server.vdir(VdirKind::Autodiscover)) {
        set_header(&mut r, k, v);
    }
    r
}

// ---------------------------------------------------------------------------------------------
// Shared facts about a mailbox

/// Everything Autodiscover says about one mailbox.
struct Facts {
    mailbox: Mailbox,
    server: Server,
    legacy_dn: String,
    server_id: String,
    server_dn: String,
    mdb_dn: String,
}

fn facts(ctx: &SurfaceCtx, mb: &Mailbox) -> Facts {
    let org = &ctx.org;
    let alias = mb
        .primary_smtp_address
        .split('@')
        .next()
        .unwrap_or_default()
        .to_string();
    let server_id = format!("{}@{}", mb.guid, org.domain);
    let server_dn = format!(
        "/o={}/ou={}/cn=Configuration/cn=Servers/cn={}",
        org.name, ADMIN_GROUP, server_id
    );
    Facts {
        legacy_dn: format!(
            "/o={}/ou={}/cn=Recipients/cn={}-{}",
            org.name,
            ADMIN_GROUP,
            mb.guid.simple(),
            alias
        ),
        mdb_dn: format!("{server_dn}/cn=Microsoft Private MDB"),
        server_dn,
        server_id,
        server: ctx.mailbox_server(mb),
        mailbox: mb.clone(),
    }
}

/// MAPI over HTTP is offered when the organization enables it and the mailbox's server has it
/// (Exchange 2010 has no MAPI/HTTP).
fn mapi_http_for(ctx: &SurfaceCtx, f: &Facts) -> bool {
    ctx.org.org_config.mapi_http_enabled && f.server.version != ExchangeVersion::Ex2010
}

/// `ServerVersion` packed as Outlook expects: `0111`, 6-bit major, 6-bit minor, `1`, 15-bit build.
pub fn server_version_hex(v: ExchangeVersion) -> String {
    let (major, minor, build, _) = v.build();
    let packed: u32 = (0x7 << 28)
        | ((major as u32 & 0x3f) << 22)
        | ((minor as u32 & 0x3f) << 16)
        | (1 << 15)
        | (build as u32 & 0x7fff);
    format!("{packed:08X}")
}

fn url(server: &Server, kind: VdirKind, internal: bool) -> Option<String> {
    let v = server.vdir(kind)?;
    if internal {
        v.internal_url.clone()
    } else {
        v.external_url.clone()
    }
}

fn join(base: &str, rest: &str) -> String {
    format!("{}/{}", base.trim_end_matches('/'), rest)
}

fn with_slash(base: &str) -> String {
    format!("{}/", base.trim_end_matches('/'))
}

fn host_of(u: &str) -> Option<String> {
    url::Url::parse(u)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
}

/// The GUID of the organization's default offline address book (fixed per org).
pub fn default_oab_guid(org_name: &str) -> uuid::Uuid {
    name_guid(&format!("oab:{org_name}"))
}

// ---------------------------------------------------------------------------------------------
// POX

/// A tiny indenting writer for the POX documents (Exchange indents them with two spaces).
struct Doc {
    out: String,
    depth: usize,
}

impl Doc {
    fn new() -> Doc {
        Doc {
            out: format!("<?xml version=\"1.0\" encoding=\"utf-8\"?>{NL}"),
            depth: 0,
        }
    }
    fn pad(&mut self) {
        for _ in 0..self.depth {
            self.out.push_str("  ");
        }
    }
    fn open(&mut self, tag: &str) {
        self.pad();
        self.out.push('<');
        self.out.push_str(tag);
        self.out.push('>');
        self.out.push_str(NL);
        self.depth += 1;
    }
    fn close(&mut self, name: &str) {
        self.depth = self.depth.saturating_sub(1);
        self.pad();
        self.out.push_str(&format!("</{name}>{NL}"));
    }
    fn leaf(&mut self, name: &str, text: &str) {
        self.pad();
        self.out
            .push_str(&format!("<{name}>{}</{name}>{NL}", esc(text)));
    }
    fn leaf_opt(&mut self, name: &str, text: Option<&str>) {
        if let Some(t) = text {
            self.leaf(name, t);
        }
    }
    fn raw(&mut self, line: &str) {
        self.pad();
        self.out.push_str(line);
        self.out.push_str(NL);
    }
}

fn pox_xml(status: StatusCode, doc: String) -> Response {
    with_type(status, "text/xml; charset=utf-8", doc)
}

/// The POX `<Error>` document (HTTP 200, as Exchange sends it).
fn pox_error(ctx: &SurfaceCtx, code: u32, message: &str) -> Response {
    let now = ctx.now();
    let nanos = now.nanosecond() / 100;
    let time = format!(
        "{:02}:{:02}:{:02}.{:07}",
        now.hour(),
        now.minute(),
        now.second(),
        nanos
    );
    // Exchange prints a per-process number here; the lab derives a stable one from the server.
    let id = name_guid(&ctx.server.fqdn).as_u128() as u32;
    let mut d = Doc::new();
    d.open(&format!("Autodiscover xmlns=\"{NS_RESP_2006}\""));
    d.open("Response");
    d.open(&format!("Error Time=\"{time}\" Id=\"{id}\""));
    d.leaf("ErrorCode", &code.to_string());
    d.leaf("Message", message);
    d.raw("<DebugData />");
    d.close("Error");
    d.close("Response");
    d.close("Autodiscover");
    pox_xml(StatusCode::OK, d.out)
}

fn pox(ctx: &SurfaceCtx, parts: &Parts, body: &[u8]) -> Response {
    if parts.method != Method::POST {
        return pox_error(ctx, 600, "Invalid Request");
    }
    let Ok(root) = xml::parse(body) else {
        return pox_error(ctx, 600, "Invalid Request");
    };
    // Outlook sends the outlook request schema, EAS clients the mobilesync one.
    let ns = root.ns.as_str();
    if ns != NS_POX_REQ && ns != NS_MOBILESYNC_REQ {
        return pox_error(ctx, 600, "Invalid Request");
    }
    let Some(req) = root
        .is(ns, "Autodiscover")
        .then(|| root.child(ns, "Request"))
        .flatten()
    else {
        return pox_error(ctx, 600, "Invalid Request");
    };
    let schema = req
        .child_text(ns, "AcceptableResponseSchema")
        .unwrap_or_default()
        .to_string();
    let email = req.child_text(ns, "EMailAddress").unwrap_or_default();
    let legacy = req.child_text(ns, "LegacyDN").unwrap_or_default();
    if email.is_empty() && legacy.is_empty() {
        return pox_error(ctx, 600, "Invalid Request");
    }
    if schema != NS_OUTLOOK_2006A && schema != NS_MOBILESYNC_2006 {
        return pox_error(ctx, 600, "Invalid Request");
    }
    let mb = if !email.is_empty() {
        ctx.org.mailbox_by_smtp(email).cloned()
    } else {
        ctx.org
            .mailboxes
            .iter()
            .find(|m| facts(ctx, m).legacy_dn.eq_ignore_ascii_case(legacy))
            .cloned()
    };
    let Some(mb) = mb else {
        return pox_error(ctx, 500, "The email address can't be found.");
    };
    let f = facts(ctx, &mb);
    if schema == NS_MOBILESYNC_2006 {
        return pox_mobilesync(&f);
    }
    let mapi = header_str(parts, "x-mapihttpcapability").map(str::trim) == Some("1")
        && mapi_http_for(ctx, &f);
    pox_outlook(ctx, &f, mapi)
}

fn pox_mobilesync(f: &Facts) -> Response {
    let eas = url(&f.server, VdirKind::Eas, false).or_else(|| url(&f.server, VdirKind::Eas, true));
    let mut d = Doc::new();
    d.open(&format!("Autodiscover xmlns=\"{NS_RESP_2006}\""));
    d.open(&format!("Response xmlns=\"{NS_MOBILESYNC_2006}\""));
    d.leaf("Culture", "en:us");
    d.open("User");
    d.leaf("DisplayName", &f.mailbox.display_name);
    d.leaf("EMailAddress", &f.mailbox.primary_smtp_address);
    d.close("User");
    d.open("Action");
    d.open("Settings");
    if let Some(u) = eas {
        d.open("Server");
        d.leaf("Type", "MobileSync");
        d.leaf("Url", &u);
        d.leaf("Name", &u);
        d.close("Server");
    }
    d.close("Settings");
    d.close("Action");
    d.close("Response");
    d.close("Autodiscover");
    pox_xml(StatusCode::OK, d.out)
}

fn owa_auth(v: Option<&VirtualDirectory>) -> &'static str {
    match v {
        Some(v) if v.forms_authentication => "Fba",
        Some(v) if v.basic_authentication && v.windows_authentication => {
            "Basic, Ntlm, WindowsIntegrated"
        }
        Some(v) if v.basic_authentication => "Basic",
        _ => "Ntlm, WindowsIntegrated",
    }
}

fn service_urls(d: &mut Doc, ctx: &SurfaceCtx, f: &Facts, internal: bool) {
    let ews = url(&f.server, VdirKind::Ews, internal);
    let owa = url(&f.server, VdirKind::Owa, internal).map(|u| with_slash(&u));
    let oab = url(&f.server, VdirKind::Oab, internal)
        .map(|u| with_slash(&join(&u, &default_oab_guid(&ctx.org.name).to_string())));
    d.leaf_opt("ASUrl", ews.as_deref());
    d.leaf_opt("EwsUrl", ews.as_deref());
    d.leaf_opt("EmwsUrl", ews.as_deref());
    if let Some(owa) = owa.as_deref() {
        d.leaf("EcpUrl", owa);
        for (k, v) in [
            ("um", "?path=/options/callanswering"),
            ("aggr", "?path=/options/connectedaccounts"),
            ("mt", "?path=/options/messagetracking"),
            ("ret", "?path=/options/retentionpolicies"),
            ("sms", "?path=/options/textmessaging"),
            ("photo", "?path=/options/myaccount/action/photo"),
            ("tm", "?path=/options/messagetracking"),
            ("extinstall", "?path=/options/manageapps"),
        ] {
            d.leaf(&format!("EcpUrl-{k}"), v);
        }
    }
    d.leaf_opt("OOFUrl", ews.as_deref());
    if let Some(e) = ews.as_deref() {
        d.leaf("UMUrl", &e.replace("Exchange.asmx", "UM2007Legacy.asmx"));
    }
    d.leaf_opt("OABUrl", oab.as_deref());
}

fn pox_outlook(ctx: &SurfaceCtx, f: &Facts, mapi: bool) -> Response {
    let srv = &f.server;
    let ext_rpc_host = url(srv, VdirKind::Rpc, false)
        .and_then(|u| host_of(&u))
        .or_else(|| url(srv, VdirKind::Ews, false).and_then(|u| host_of(&u)))
        .unwrap_or_else(|| ctx.host.clone());
    let mut d = Doc::new();
    d.open(&format!("Autodiscover xmlns=\"{NS_RESP_2006}\""));
    d.open(&format!("Response xmlns=\"{NS_OUTLOOK_2006A}\""));
    d.open("User");
    d.leaf("DisplayName", &f.mailbox.display_name);
    d.leaf("LegacyDN", &f.legacy_dn);
    d.leaf("AutoDiscoverSMTPAddress", &f.mailbox.primary_smtp_address);
    d.leaf("DeploymentId", &name_guid(&ctx.org.domain).to_string());
    d.close("User");
    d.open("Account");
    d.leaf("AccountType", "email");
    d.leaf("Action", "settings");
    d.leaf("MicrosoftOnline", "False");
    if let Some(u) = &ctx.user {
        d.leaf("ConnectingSID", &u.account.sid);
    }
    // EXCH: reached from inside.
    d.open("Protocol");
    d.leaf("Type", "EXCH");
    d.leaf("Server", &f.server_id);
    d.leaf("ServerDN", &f.server_dn);
    d.leaf("ServerVersion", &server_version_hex(srv.version));
    d.leaf("MdbDN", &f.mdb_dn);
    d.leaf("PublicFolderServer", &ext_rpc_host);
    service_urls(&mut d, ctx, f, true);
    d.leaf("ServerExclusiveConnect", "off");
    d.close("Protocol");
    // EXPR: Outlook Anywhere from outside.
    d.open("Protocol");
    d.leaf("Type", "EXPR");
    d.leaf("Server", &ext_rpc_host);
    d.leaf("SSL", "On");
    d.leaf("AuthPackage", "Ntlm");
    service_urls(&mut d, ctx, f, false);
    d.leaf("ServerExclusiveConnect", "on");
    d.leaf("CertPrincipalName", "None");
    d.close("Protocol");
    // WEB: OWA.
    d.open("Protocol");
    d.leaf("Type", "WEB");
    for (side, internal, ty) in [("Internal", true, "EXCH"), ("External", false, "EXPR")] {
        let owa = url(srv, VdirKind::Owa, internal).map(|u| with_slash(&u));
        let ews = url(srv, VdirKind::Ews, internal);
        if owa.is_none() && ews.is_none() {
            continue;
        }
        d.open(side);
        if let Some(o) = owa {
            d.raw(&format!(
                "<OWAUrl AuthenticationMethod=\"{}\">{}</OWAUrl>",
                owa_auth(srv.vdir(VdirKind::Owa)),
                esc(&o)
            ));
        }
        if let Some(e) = ews {
            d.open("Protocol");
            d.leaf("Type", ty);
            d.leaf("ASUrl", &e);
            d.close("Protocol");
        }
        d.close(side);
    }
    d.close("Protocol");
    if mapi {
        let id = format!("?MailboxId={}", f.server_id);
        d.open("Protocol Type=\"mapiHttp\" Version=\"1\"");
        for (el, ep) in [("MailStore", "emsmdb"), ("AddressBook", "nspi")] {
            d.open(el);
            for (tag, internal) in [("InternalUrl", true), ("ExternalUrl", false)] {
                if let Some(base) = url(srv, VdirKind::Mapi, internal) {
                    d.leaf(tag, &format!("{}{id}", with_slash(&join(&base, ep))));
                }
            }
            d.close(el);
        }
        d.close("Protocol");
    }
    d.close("Account");
    d.close("Response");
    d.close("Autodiscover");
    pox_xml(StatusCode::OK, d.out)
}

// ---------------------------------------------------------------------------------------------
// SOAP GetUserSettings

/// The `Version` Autodiscover's ServerVersionInfo reports (2016 says `Exchange2015`).
fn autod_version(v: ExchangeVersion) -> &'static str {
    match v {
        ExchangeVersion::Ex2016 => "Exchange2015",
        ExchangeVersion::Ex2013 => "Exchange2013_SP1",
        ExchangeVersion::Ex2010 => "Exchange2010_SP2",
    }
}

/// Every setting name GetUserSettings knows (UserSettingName); the ones the lab has no value
/// for answer `SettingIsNotAvailable`, anything else `InvalidSetting`.
const KNOWN_SETTINGS: &[&str] = &[
    "UserDisplayName",
    "UserDN",
    "UserDeploymentId",
    "InternalMailboxServer",
    "InternalRpcClientServer",
    "InternalMailboxServerDN",
    "InternalEcpUrl",
    "InternalEcpVoicemailUrl",
    "InternalEcpEmailSubscriptionsUrl",
    "InternalEcpTextMessagingUrl",
    "InternalEcpDeliveryReportUrl",
    "InternalEcpRetentionPolicyTagsUrl",
    "InternalEcpPublishingUrl",
    "InternalEcpPhotoUrl",
    "InternalEcpConnectUrl",
    "InternalEcpTeamMailboxUrl",
    "InternalEcpTeamMailboxCreatingUrl",
    "InternalEcpTeamMailboxEditingUrl",
    "InternalEcpTeamMailboxHidingUrl",
    "InternalEcpExtensionInstallationUrl",
    "InternalEwsUrl",
    "InternalEmwsUrl",
    "InternalOABUrl",
    "InternalPhotosUrl",
    "InternalUMUrl",
    "InternalWebClientUrls",
    "MailboxDN",
    "PublicFolderServer",
    "ActiveDirectoryServer",
    "ExternalMailboxServer",
    "ExternalMailboxServerRequiresSSL",
    "ExternalMailboxServerAuthenticationMethods",
    "EcpVoicemailUrlFragment",
    "EcpEmailSubscriptionsUrlFragment",
    "EcpTextMessagingUrlFragment",
    "EcpDeliveryReportUrlFragment",
    "EcpRetentionPolicyTagsUrlFragment",
    "EcpPublishingUrlFragment",
    "EcpPhotoUrlFragment",
    "EcpConnectUrlFragment",
    "EcpTeamMailboxUrlFragment",
    "EcpTeamMailboxCreatingUrlFragment",
    "EcpTeamMailboxEditingUrlFragment",
    "EcpExtensionInstallationUrlFragment",
    "ExternalEcpUrl",
    "ExternalEcpVoicemailUrl",
    "ExternalEcpEmailSubscriptionsUrl",
    "ExternalEcpTextMessagingUrl",
    "ExternalEcpDeliveryReportUrl",
    "ExternalEcpRetentionPolicyTagsUrl",
    "ExternalEcpPublishingUrl",
    "ExternalEcpPhotoUrl",
    "ExternalEcpConnectUrl",
    "ExternalEcpTeamMailboxUrl",
    "ExternalEcpTeamMailboxCreatingUrl",
    "ExternalEcpTeamMailboxEditingUrl",
    "ExternalEcpTeamMailboxHidingUrl",
    "ExternalEcpExtensionInstallationUrl",
    "ExternalEwsUrl",
    "ExternalEmwsUrl",
    "ExternalOABUrl",
    "ExternalPhotosUrl",
    "ExternalUMUrl",
    "ExternalWebClientUrls",
    "CrossOrganizationSharingEnabled",
    "AlternateMailboxes",
    "CasVersion",
    "EwsSupportedSchemas",
    "InternalPop3Connections",
    "ExternalPop3Connections",
    "InternalImap4Connections",
    "ExternalImap4Connections",
    "InternalSmtpConnections",
    "ExternalSmtpConnections",
    "InternalServerExclusiveConnect",
    "ExternalEwsVersion",
    "ExternalServerExclusiveConnect",
    "ExchangeRpcUrl",
    "ShowGalAsDefaultView",
    "AutoDiscoverSMTPAddress",
    "InteropExternalEwsUrl",
    "InteropExternalEwsVersion",
    "PublicFolderInformation",
    "RedirectUrl",
    "EwsPartnerUrl",
    "CertPrincipalName",
    "GroupingInformation",
    "MapiHttpEnabled",
    "MapiHttpEnabledForUser",
    "MobileMailboxPolicyInterop",
    "UserMSOnline",
    "InternalMapiHttpMailboxStoreUrl",
    "ExternalMapiHttpMailboxStoreUrl",
    "InternalMapiHttpAddressbookUrl",
    "ExternalMapiHttpAddressbookUrl",
];

fn setting_value(ctx: &SurfaceCtx, f: &Facts, name: &str) -> Option<String> {
    let srv = &f.server;
    let oab = |internal: bool| {
        url(srv, VdirKind::Oab, internal)
            .map(|u| with_slash(&join(&u, &default_oab_guid(&ctx.org.name).to_string())))
    };
    let owa = |internal: bool| url(srv, VdirKind::Owa, internal).map(|u| with_slash(&u));
    let mapi = |internal: bool, ep: &str| {
        if !mapi_http_for(ctx, f) {
            return None;
        }
        url(srv, VdirKind::Mapi, internal)
            .map(|b| format!("{}?MailboxId={}", with_slash(&join(&b, ep)), f.server_id))
    };
    let ext_host = url(srv, VdirKind::Rpc, false)
        .and_then(|u| host_of(&u))
        .or_else(|| url(srv, VdirKind::Ews, false).and_then(|u| host_of(&u)));
    Some(match name {
        "UserDisplayName" => f.mailbox.display_name.clone(),
        "UserDN" => f.legacy_dn.clone(),
        "UserDeploymentId" => name_guid(&ctx.org.domain).to_string(),
        "InternalMailboxServer" | "InternalRpcClientServer" => f.server_id.clone(),
        "InternalMailboxServerDN" => f.server_dn.clone(),
        "MailboxDN" => f.mdb_dn.clone(),
        "InternalEwsUrl" | "InternalEmwsUrl" => url(srv, VdirKind::Ews, true)?,
        "ExternalEwsUrl" | "ExternalEmwsUrl" => url(srv, VdirKind::Ews, false)?,
        "InternalOABUrl" => oab(true)?,
        "ExternalOABUrl" => oab(false)?,
        "InternalEcpUrl" => owa(true)?,
        "ExternalEcpUrl" => owa(false)?,
        "ExternalMailboxServer" | "PublicFolderServer" => ext_host?,
        "ExternalMailboxServerRequiresSSL" => "True".into(),
        "ExternalMailboxServerAuthenticationMethods" => "Ntlm".into(),
        "CasVersion" | "ExternalEwsVersion" => long_build(srv.version),
        "EwsSupportedSchemas" => ews_schemas(srv.version).join(", "),
        "AutoDiscoverSMTPAddress" => f.mailbox.primary_smtp_address.clone(),
        "CrossOrganizationSharingEnabled" => "False".into(),
        "ShowGalAsDefaultView" => "True".into(),
        "UserMSOnline" => "False".into(),
        "MapiHttpEnabled" | "MapiHttpEnabledForUser" => {
            if mapi_http_for(ctx, f) {
                "True".into()
            } else {
                "False".into()
            }
        }
        "InternalServerExclusiveConnect" => "False".into(),
        "ExternalServerExclusiveConnect" => "True".into(),
        "InternalMapiHttpMailboxStoreUrl" => mapi(true, "emsmdb")?,
        "ExternalMapiHttpMailboxStoreUrl" => mapi(false, "emsmdb")?,
        "InternalMapiHttpAddressbookUrl" => mapi(true, "nspi")?,
        "ExternalMapiHttpAddressbookUrl" => mapi(false, "nspi")?,
        _ => return None,
    })
}

fn soap_envelope(ctx: &SurfaceCtx, action: &str, body: &str) -> String {
    let (a, b, c, d) = ctx.server.version.build();
    format!(
        "<s:Envelope xmlns:s=\"{NS_SOAP}\" xmlns:a=\"http://www.w3.org/2005/08/addressing\"><s:Header><a:Action s:mustUnderstand=\"1\">http://schemas.microsoft.com/exchange/2010/Autodiscover/Autodiscover/{action}</a:Action><h:ServerVersionInfo xmlns:h=\"{NS_AUTOD}\" xmlns:i=\"http://www.w3.org/2001/XMLSchema-instance\"><h:MajorVersion>{a}</h:MajorVersion><h:MinorVersion>{b}</h:MinorVersion><h:MajorBuildNumber>{c}</h:MajorBuildNumber><h:MinorBuildNumber>{d}</h:MinorBuildNumber><h:Version>{}</h:Version></h:ServerVersionInfo></s:Header><s:Body>{body}</s:Body></s:Envelope>",
        autod_version(ctx.server.version)
    )
}

fn soap_fault() -> Response {
    let body = format!(
        "<s:Envelope xmlns:s=\"{NS_SOAP}\"><s:Body><s:Fault><faultcode>s:Client</faultcode><faultstring xml:lang=\"en-US\">The request is invalid.</faultstring></s:Fault></s:Body></s:Envelope>"
    );
    with_type(
        StatusCode::INTERNAL_SERVER_ERROR,
        "text/xml; charset=utf-8",
        body,
    )
}

fn gus_response(ctx: &SurfaceCtx, inner: &str) -> Response {
    let body = format!(
        "<GetUserSettingsResponseMessage xmlns=\"{NS_AUTOD}\"><Response xmlns:i=\"http://www.w3.org/2001/XMLSchema-instance\">{inner}</Response></GetUserSettingsResponseMessage>"
    );
    with_type(
        StatusCode::OK,
        "text/xml; charset=utf-8",
        soap_envelope(ctx, "GetUserSettingsResponse", &body),
    )
}

fn gus_invalid_request(ctx: &SurfaceCtx) -> Response {
    gus_response(
        ctx,
        "<ErrorCode>InvalidRequest</ErrorCode><ErrorMessage>The request is invalid.</ErrorMessage><UserResponses/>",
    )
}

fn soap(ctx: &SurfaceCtx, parts: &Parts, body: &[u8]) -> Response {
    if parts.method != Method::POST {
        return super::method_not_allowed("POST");
    }
    let Ok(root) = xml::parse(body) else {
        return soap_fault();
    };
    let Some(op) = root
        .is(NS_SOAP, "Envelope")
        .then(|| root.child(NS_SOAP, "Body"))
        .flatten()
        .and_then(|b| b.children.first())
    else {
        return soap_fault();
    };
    if !op.is(NS_AUTOD, "GetUserSettingsRequestMessage") {
        return soap_fault();
    }
    get_user_settings(ctx, op)
}

fn get_user_settings(ctx: &SurfaceCtx, op: &Element) -> Response {
    let Some(req) = op.child(NS_AUTOD, "Request") else {
        return gus_invalid_request(ctx);
    };
    let users: Vec<&str> = req
        .child(NS_AUTOD, "Users")
        .map(|u| {
            u.children_named(NS_AUTOD, "User")
                .filter_map(|u| u.child_text(NS_AUTOD, "Mailbox"))
                .collect()
        })
        .unwrap_or_default();
    let settings: Vec<&str> = req
        .child(NS_AUTOD, "RequestedSettings")
        .map(|s| {
            s.children_named(NS_AUTOD, "Setting")
                .map(|s| s.text.trim())
                .collect()
        })
        .unwrap_or_default();
    if users.is_empty() || users.len() > MAX_USERS || settings.is_empty() {
        return gus_invalid_request(ctx);
    }
    let mut out = String::from("<ErrorCode>NoError</ErrorCode><ErrorMessage/><UserResponses>");
    for user in users {
        let Some(mb) = ctx.org.mailbox_by_smtp(user) else {
            out.push_str(&format!(
                "<UserResponse><ErrorCode>InvalidUser</ErrorCode><ErrorMessage>Invalid user: '{}'</ErrorMessage><RedirectTarget i:nil=\"true\"/><UserSettingErrors/><UserSettings/></UserResponse>",
                esc(user)
            ));
            continue;
        };
        let f = facts(ctx, mb);
        let mut errors = String::new();
        let mut values = String::new();
        for s in &settings {
            match setting_value(ctx, &f, s) {
                Some(v) => values.push_str(&format!(
                    "<UserSetting i:type=\"StringSetting\"><Name>{}</Name><Value>{}</Value></UserSetting>",
                    esc(s),
                    esc(&v)
                )),
                None if KNOWN_SETTINGS.contains(s) => errors.push_str(&format!(
                    "<UserSettingError><ErrorCode>SettingIsNotAvailable</ErrorCode><ErrorMessage>User setting '{0}' is not available. </ErrorMessage><SettingName>{0}</SettingName></UserSettingError>",
                    esc(s)
                )),
                None => errors.push_str(&format!(
                    "<UserSettingError><ErrorCode>InvalidSetting</ErrorCode><ErrorMessage>The requested setting '{0}' is invalid.</ErrorMessage><SettingName>{0}</SettingName></UserSettingError>",
                    esc(s)
                )),
            }
        }
        let errors = if errors.is_empty() {
            "<UserSettingErrors/>".to_string()
        } else {
            format!("<UserSettingErrors>{errors}</UserSettingErrors>")
        };
        out.push_str(&format!(
            "<UserResponse><ErrorCode>NoError</ErrorCode><ErrorMessage>No error.</ErrorMessage><RedirectTarget i:nil=\"true\"/>{errors}<UserSettings>{values}</UserSettings></UserResponse>"
        ));
    }
    out.push_str("</UserResponses>");
    gus_response(ctx, &out)
}

// ---------------------------------------------------------------------------------------------
// JSON v2

/// Protocols this on-premises Autodiscover v2 answers.
const V2_PROTOCOLS: &[&str] = &["ActiveSync", "AutodiscoverV1", "Ews"];

fn json_body(v: serde_json::Value) -> Response {
    with_type(
        StatusCode::OK,
        "application/json; charset=utf-8",
        v.to_string(),
    )
}

fn json(ctx: &SurfaceCtx, parts: &Parts) -> Response {
    if parts.method != Method::GET {
        return super::method_not_allowed("GET");
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
        .unwrap_or_else(|| ctx.server.clone());
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::surfaces::testing::*;
    use axum::http::Method;

    const POX_REQ: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006">
  <Request>
    <EMailAddress>GregT@contoso.com</EMailAddress>
    <AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema>
  </Request>
</Autodiscover>"#;

    async fn pox_call(ctx: &SurfaceCtx, headers: &[(&str, &str)], body: &str) -> Answer {
        call(
            ctx,
            VdirKind::Autodiscover,
            Method::POST,
            "/Autodiscover/Autodiscover.xml",
            headers,
            body.to_string(),
        )
        .await
    }

    #[test]
    fn server_version_is_packed_like_outlook_expects() {
        assert_eq!(server_version_hex(ExchangeVersion::Ex2016), "73C18587");
        assert_eq!(server_version_hex(ExchangeVersion::Ex2013), "73C08555");
        // The documented Exchange 2007 example 72008287 decodes to 8.0.647 with this layout.
        assert_eq!(0x7200_8287u32 & 0x7fff, 647);
    }

    #[tokio::test]
    async fn pox_outlook_with_mapi_http() {
        let ctx = greg();
        let a = pox_call(&ctx, &[("X-MapiHttpCapability", "1")], POX_REQ).await;
        assert_eq!(a.status, StatusCode::OK);
        assert_eq!(a.header("content-type"), Some("text/xml; charset=utf-8"));
        assert_eq!(a.header("x-soap-enabled"), Some("True"));
        assert_eq!(a.header("x-oauth-enabled"), Some("True"));
        let t = a.text();
        assert!(t.contains("<Protocol Type=\"mapiHttp\" Version=\"1\">"));
        assert!(t.contains(&format!(
            "<InternalUrl>https://mail.contoso.com/mapi/emsmdb/?MailboxId={GREG_GUID}@contoso.com</InternalUrl>"
        )));
        assert!(t.contains(
            "<ConnectingSID>S-1-5-21-2366433183-230171048-1893555995-1654</ConnectingSID>"
        ));
        golden("autodiscover_pox_mapihttp.xml", &a.body);
    }

    #[tokio::test]
    async fn pox_without_capability_or_when_disabled_has_no_mapi_http() {
        let ctx = greg();
        let a = pox_call(&ctx, &[], POX_REQ).await;
        assert!(!a.text().contains("mapiHttp"));
        assert!(a.text().contains("<Type>EXPR</Type>"));
        golden("autodiscover_pox.xml", &a.body);

        let mut org = org();
        org.org_config.mapi_http_enabled = false;
        let ctx = ctx_for(org, Some(0));
        let a = pox_call(&ctx, &[("X-MapiHttpCapability", "1")], POX_REQ).await;
        assert!(!a.text().contains("mapiHttp"));

        // A mailbox on Exchange 2010: no MAPI/HTTP, and the 2010 ServerVersion.
        let ctx = ctx_for(org_with(ExchangeVersion::Ex2010), Some(0));
        let a = pox_call(&ctx, &[("X-MapiHttpCapability", "1")], POX_REQ).await;
        assert!(!a.text().contains("mapiHttp"));
        assert!(a.text().contains(&format!(
            "<ServerVersion>{}</ServerVersion>",
            server_version_hex(ExchangeVersion::Ex2010)
        )));
    }

    #[tokio::test]
    async fn pox_errors() {
        let ctx = greg();
        let a = pox_call(&ctx, &[], &POX_REQ.replace("GregT@", "Nobody@")).await;
        assert_eq!(a.status, StatusCode::OK);
        golden("autodiscover_pox_500.xml", &a.body);
        assert!(a.text().contains("<ErrorCode>500</ErrorCode>"));
        assert!(a
            .text()
            .contains("<Message>The email address can't be found.</Message>"));

        let a = pox_call(&ctx, &[], "<Autodiscover><oops").await;
        golden("autodiscover_pox_600.xml", &a.body);
        assert!(a.text().contains("<ErrorCode>600</ErrorCode>"));
        assert!(a.text().contains("<Message>Invalid Request</Message>"));

        let a = call(
            &ctx,
            VdirKind::Autodiscover,
            Method::GET,
            "/autodiscover/autodiscover.xml",
            &[],
            "",
        )
        .await;
        assert_eq!(a.status, StatusCode::OK);
        assert_eq!(
            a.body,
            std::fs::read(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/golden/surfaces/autodiscover_pox_600.xml"
            ))
            .unwrap()
        );
        assert_eq!(a.header("x-soap-enabled"), Some("True"));
    }

    #[tokio::test]
    async fn pox_mobilesync_schema() {
        let ctx = greg();
        let body = POX_REQ
            .replace("outlook/requestschema", "mobilesync/requestschema")
            .replace(
                "outlook/responseschema/2006a",
                "mobilesync/responseschema/2006",
            );
        let a = pox_call(&ctx, &[], &body).await;
        assert!(a.text().contains("<Type>MobileSync</Type>"));
        assert!(a
            .text()
            .contains("<Url>https://mail.contoso.com/Microsoft-Server-ActiveSync</Url>"));
    }

    /// The body exchangelib 5.x builds (services/get_user_settings.py, lxml serialization).
    fn exchangelib_gus(user: &str, settings: &[&str]) -> String {
        let s: String = settings
            .iter()
            .map(|s| format!("<a:Setting>{s}</a:Setting>"))
            .collect();
        format!(
            "<?xml version='1.0' encoding='utf-8'?>\n<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\" xmlns:t=\"http://schemas.microsoft.com/exchange/services/2006/types\" xmlns:a=\"http://schemas.microsoft.com/exchange/2010/Autodiscover\" xmlns:wsa=\"http://www.w3.org/2005/08/addressing\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"><s:Header><a:RequestedServerVersion>Exchange2016</a:RequestedServerVersion><wsa:Action>http://schemas.microsoft.com/exchange/2010/Autodiscover/Autodiscover/GetUserSettings</wsa:Action><wsa:To>https://mail.contoso.com/autodiscover/autodiscover.svc</wsa:To></s:Header><s:Body><a:GetUserSettingsRequestMessage><a:Request><a:Users><a:User><a:Mailbox>{user}</a:Mailbox></a:User></a:Users><a:RequestedSettings>{s}</a:RequestedSettings></a:Request></a:GetUserSettingsRequestMessage></s:Body></s:Envelope>"
        )
    }

    #[tokio::test]
    async fn soap_get_user_settings_as_exchangelib_asks() {
        let ctx = greg();
        let body = exchangelib_gus(
            "GregT@contoso.com",
            &[
                "AutoDiscoverSMTPAddress",
                "ExternalEwsUrl",
                "EwsSupportedSchemas",
                "UserDisplayName",
                "UserDN",
                "MapiHttpEnabled",
                "ExternalMapiHttpMailboxStoreUrl",
                "InternalPop3Connections",
                "NoSuchSetting",
            ],
        );
        let a = call(
            &ctx,
            VdirKind::Autodiscover,
            Method::POST,
            "/autodiscover/autodiscover.svc",
            &[("content-type", "text/xml; charset=utf-8")],
            body,
        )
        .await;
        assert_eq!(a.status, StatusCode::OK);
        let t = a.text();
        assert!(t.contains("<h:MajorVersion>15</h:MajorVersion><h:MinorVersion>1</h:MinorVersion><h:MajorBuildNumber>1415</h:MajorBuildNumber><h:MinorBuildNumber>2</h:MinorBuildNumber>"));
        assert!(t.contains(
            "<Name>ExternalEwsUrl</Name><Value>https://mail.contoso.com/EWS/Exchange.asmx</Value>"
        ));
        assert!(t.contains("<Value>Exchange2007, Exchange2007_SP1, Exchange2010, Exchange2010_SP1, Exchange2010_SP2, Exchange2013, Exchange2013_SP1, Exchange2016</Value>"));
        assert!(t.contains("<ErrorCode>SettingIsNotAvailable</ErrorCode>"));
        assert!(t.contains("<ErrorCode>InvalidSetting</ErrorCode>"));
        // The answer is well-formed and has the shape exchangelib walks.
        let root = xml::parse(&a.body).unwrap();
        let ur = root
            .path(&[
                (NS_SOAP, "Body"),
                (NS_AUTOD, "GetUserSettingsResponseMessage"),
                (NS_AUTOD, "Response"),
                (NS_AUTOD, "UserResponses"),
                (NS_AUTOD, "UserResponse"),
            ])
            .unwrap();
        assert_eq!(ur.child_text(NS_AUTOD, "ErrorCode"), Some("NoError"));
        golden("autodiscover_soap_gus.xml", &a.body);
    }

    #[tokio::test]
    async fn soap_errors() {
        let ctx = greg();
        let a = call(
            &ctx,
            VdirKind::Autodiscover,
            Method::POST,
            "/autodiscover/autodiscover.svc",
            &[],
            exchangelib_gus("nobody@contoso.com", &["ExternalEwsUrl"]),
        )
        .await;
        assert!(a.text().contains("<UserResponse><ErrorCode>InvalidUser</ErrorCode><ErrorMessage>Invalid user: 'nobody@contoso.com'</ErrorMessage>"));
        golden("autodiscover_soap_invalid_user.xml", &a.body);

        let a = call(
            &ctx,
            VdirKind::Autodiscover,
            Method::POST,
            "/autodiscover/autodiscover.svc",
            &[],
            "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body>",
        )
        .await;
        assert_eq!(a.status, StatusCode::INTERNAL_SERVER_ERROR);
        golden("autodiscover_soap_fault.xml", &a.body);

        let empty = exchangelib_gus("GregT@contoso.com", &[]);
        let a = call(
            &ctx,
            VdirKind::Autodiscover,
            Method::POST,
            "/autodiscover/autodiscover.svc",
            &[],
            empty,
        )
        .await;
        assert!(a.text().contains("<Response xmlns:i=\"http://www.w3.org/2001/XMLSchema-instance\"><ErrorCode>InvalidRequest</ErrorCode>"));
    }

    async fn v2(ctx: &SurfaceCtx, uri: &str) -> (StatusCode, String) {
        let a = call(ctx, VdirKind::Autodiscover, Method::GET, uri, &[], "").await;
        assert_eq!(
            a.header("content-type"),
            Some("application/json; charset=utf-8")
        );
        (a.status, a.text())
    }

    #[tokio::test]
    async fn json_v2_answers_and_errors() {
        let ctx = ctx_for(org(), None);
        assert_eq!(
            v2(
                &ctx,
                "/autodiscover/autodiscover.json/v1.0/GregT@contoso.com?Protocol=EWS"
            )
            .await,
            (
                StatusCode::OK,
                r#"{"Protocol":"EWS","Url":"https://mail.contoso.com/EWS/Exchange.asmx"}"#.into()
            )
        );
        assert_eq!(
            v2(&ctx, "/autodiscover/autodiscover.json?Email=GregT%40contoso.com&Protocol=activesync&RedirectCount=3").await.1,
            r#"{"Protocol":"activesync","Url":"https://mail.contoso.com/Microsoft-Server-ActiveSync"}"#
        );
        assert_eq!(
            v2(
                &ctx,
                "/autodiscover/autodiscover.json/v1.0/GregT@contoso.com?Protocol=AutodiscoverV1"
            )
            .await
            .1,
            r#"{"Protocol":"AutodiscoverV1","Url":"https://mail.contoso.com/autodiscover/autodiscover.xml"}"#
        );
        assert_eq!(
            v2(
                &ctx,
                "/autodiscover/autodiscover.json/v1.0/GregT@contoso.com?Protocol=Foo"
            )
            .await
            .1,
            r#"{"ErrorCode":"ProtocolNotSupported","ErrorMessage":"Protocol: The protocol 'Foo' is not supported. Supported protocols are: 'ActiveSync,AutodiscoverV1,Ews'."}"#
        );
        assert_eq!(
            v2(
                &ctx,
                "/autodiscover/autodiscover.json/v1.0/GregT@contoso.com"
            )
            .await
            .1,
            r#"{"ErrorCode":"MissingProtocol","ErrorMessage":"A valid value must be provided for the query parameter 'Protocol'."}"#
        );
        assert_eq!(
            v2(&ctx, "/autodiscover/autodiscover.json?Protocol=Ews")
                .await
                .1,
            r#"{"ErrorCode":"MandatoryParameterMissing","ErrorMessage":"The get request sent does not match the valid format."}"#
        );
    }

    #[tokio::test]
    async fn unknown_autodiscover_path_is_404() {
        let ctx = greg();
        let a = call(
            &ctx,
            VdirKind::Autodiscover,
            Method::GET,
            "/autodiscover/nope.aspx",
            &[],
            "",
        )
        .await;
        assert_eq!(a.status, StatusCode::NOT_FOUND);
    }
}
