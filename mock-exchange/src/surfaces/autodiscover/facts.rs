//! What every Autodiscover protocol says about a mailbox, computed once: its server, its
//! legacy DNs, whether MAPI over HTTP is offered, and the URLs of the server's virtual
//! directories. POX, SOAP and JSON differ only in how they write these facts.

use crate::model::{ExchangeVersion, Mailbox, Server, VdirKind};
use crate::surfaces::common::name_guid;
use crate::surfaces::ctx::SurfaceCtx;

pub(super) const ADMIN_GROUP: &str = "Exchange Administrative Group (FYDIBOHF23SPDLT)";

/// Everything Autodiscover says about one mailbox.
pub(super) struct Facts {
    pub(super) mailbox: Mailbox,
    pub(super) server: Server,
    pub(super) legacy_dn: String,
    pub(super) server_id: String,
    pub(super) server_dn: String,
    pub(super) mdb_dn: String,
}

pub(super) fn facts(ctx: &SurfaceCtx, mb: &Mailbox) -> Facts {
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
pub(super) fn mapi_http_for(ctx: &SurfaceCtx, f: &Facts) -> bool {
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

pub(super) fn url(server: &Server, kind: VdirKind, internal: bool) -> Option<String> {
    let v = server.vdir(kind)?;
    if internal {
        v.internal_url.clone()
    } else {
        v.external_url.clone()
    }
}

pub(super) fn join(base: &str, rest: &str) -> String {
    format!("{}/{}", base.trim_end_matches('/'), rest)
}

pub(super) fn with_slash(base: &str) -> String {
    format!("{}/", base.trim_end_matches('/'))
}

pub(super) fn host_of(u: &str) -> Option<String> {
    url::Url::parse(u)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
}

/// The GUID of the organization's default offline address book (fixed per org).
pub fn default_oab_guid(org_name: &str) -> uuid::Uuid {
    name_guid(&format!("oab:{org_name}"))
}
