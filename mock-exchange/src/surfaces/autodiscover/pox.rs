//! POX Autodiscover (`POST /autodiscover/autodiscover.xml`), what Outlook uses: the `outlook`
//! (2006a) answer with its EXCH/EXPR/WEB protocols and the `mobilesync` answer, written as
//! Exchange writes them (CRLF and two-space indentation), and the POX `<Error>` (ErrorCode
//! 500/600, HTTP 200).

use axum::http::request::Parts;
use axum::http::{Method, StatusCode};
use axum::response::Response;

use crate::model::{VdirKind, VirtualDirectory};
use crate::surfaces::common::{header_str, name_guid, with_type};
use crate::surfaces::ctx::SurfaceCtx;
use crate::surfaces::xml::{self, esc, NS_POX_REQ};

use super::facts::*;

const NS_RESP_2006: &str = "http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006";
const NS_OUTLOOK_2006A: &str =
    "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a";
const NS_MOBILESYNC_2006: &str =
    "http://schemas.microsoft.com/exchange/autodiscover/mobilesync/responseschema/2006";
const NS_MOBILESYNC_REQ: &str =
    "http://schemas.microsoft.com/exchange/autodiscover/mobilesync/requestschema/2006";
const NL: &str = "\r\n";

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

pub(super) fn pox(ctx: &SurfaceCtx, parts: &Parts, body: &[u8]) -> Response {
    if parts.method != Method::POST {
        return pox_error(ctx, 600, "Invalid Request");
    }
    let Ok(root) = xml::parse(body) else {
        return pox_error(ctx, 600, "Invalid Request");
    };
    // Outlook sends the outlook request schema, EAS clients the mobilesync one.
    let ns = &*root.ns;
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
        d.leaf("ConnectingSID", &u.account().sid);
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
