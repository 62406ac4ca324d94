//! The lab state at a glance: what an instructor would otherwise type five `Get-` cmdlets for.
//!
//! Read straight from the services' state (the configured settings, as `Get-*` cmdlets show
//! them; the serving path may still use older ones until `iisreset` or its settings cache
//! expires) and the network's devices. Only names and settings are listed: no password,
//! client secret or key. [`fingerprint`] hashes the rendering without the clock-dependent ages,
//! so the timeline's stream can tell the page when to fetch it again.

use std::hash::{Hash, Hasher};

use super::markup::{esc, rfc3339, table};
use super::parts::Parts;

fn methods(m: &[mock_exchange::model::AuthMethod]) -> String {
    if m.is_empty() {
        return "<span class=\"muted\">none</span>".into();
    }
    esc(&m
        .iter()
        .map(|x| format!("{x:?}"))
        .collect::<Vec<_>>()
        .join(", "))
}

fn yes_no(b: bool) -> String {
    if b { "<b>True</b>" } else { "False" }.to_string()
}

/// Human age of something done at lab time `at`, seen at `now`.
fn age(now: i64, at: i64) -> String {
    let d = now.saturating_sub(at);
    match d {
        d if d < 0 => "in the future".into(),
        d if d < 120 => format!("{d} s ago"),
        d if d < 7200 => format!("{} min ago", d / 60),
        d if d < 172_800 => format!("{} h ago", d / 3600),
        d => format!("{} days ago", d / 86_400),
    }
}

/// The settings part (everything but the clock and metadata ages).
fn settings(p: &Parts) -> String {
    let org = p.lab.exchange().state().org().clone();
    let mut s = String::new();
    let vdir_rows: Vec<Vec<String>> = org
        .servers
        .iter()
        .flat_map(|srv| {
            srv.vdirs.iter().map(move |v| {
                vec![
                    esc(&srv.name),
                    esc(&v.name),
                    methods(&v.internal_authentication_methods),
                    methods(&v.external_authentication_methods),
                    yes_no(v.oauth_authentication),
                ]
            })
        })
        .collect();
    s.push_str("<h3>Virtual directories</h3>");
    s.push_str(&table(
        "state vdirs",
        &[
            "Server",
            "Virtual directory",
            "Internal methods",
            "External methods",
            "OAuth",
        ],
        &vdir_rows,
    ));
    s.push_str("<h3>Organization</h3>");
    s.push_str(&table(
        "state",
        &["Setting", "Value"],
        &[
            vec![
                "OAuth2ClientProfileEnabled".into(),
                yes_no(org.org_config.oauth2_client_profile_enabled),
            ],
            vec![
                "MapiHttpEnabled".into(),
                yes_no(org.org_config.mapi_http_enabled),
            ],
        ],
    ));
    let net = p.lab.devices();
    let mut dev_rows: Vec<Vec<String>> = Vec::new();
    for lb in &net.load_balancers {
        let offload = if lb.ssl_offload {
            "; <b>SSL offload</b>"
        } else {
            ""
        };
        let targets = if lb.targets.is_empty() {
            "the first server".to_string()
        } else {
            esc(&lb.targets.join(", "))
        };
        dev_rows.push(vec![
            "load balancer".into(),
            esc(&lb.host),
            format!("to {targets}{offload}"),
        ]);
    }
    for rp in &net.reverse_proxies {
        dev_rows.push(vec![
            "reverse proxy".into(),
            esc(&rp.host),
            format!("forwards as {}", esc(&rp.forward_to)),
        ]);
    }
    for b in &net.client_segment.blocked {
        dev_rows.push(vec![
            "client segment".into(),
            esc(b),
            "<b>blocked</b>".into(),
        ]);
    }
    s.push_str("<h3>Network devices</h3>");
    if dev_rows.is_empty() {
        s.push_str("<p class=\"muted\">None: clients reach every host directly.</p>");
    } else {
        s.push_str(&table("state", &["Device", "Host", "Setting"], &dev_rows));
    }
    let faults = p.certs.faults();
    let cert_rows: Vec<Vec<String>> = p
        .certs
        .hosts()
        .iter()
        .map(|h| {
            let state = faults
                .iter()
                .find(|(f, _)| f == h)
                .map(|(_, f)| format!("<b>{}</b>", esc(&f.to_string())))
                .unwrap_or_else(|| "valid".into());
            vec![esc(h), state]
        })
        .collect();
    s.push_str("<h3>Certificates</h3>");
    s.push_str(&table("state", &["Host", "Certificate"], &cert_rows));
    let dir = p.lab.aad().state().dir().clone();
    let mut spn_rows = Vec::new();
    let mut user_rows = Vec::new();
    for t in &dir.tenants {
        for a in &t.applications {
            if a.service_principal_names.is_empty() {
                continue;
            }
            spn_rows.push(vec![
                esc(&a.display_name),
                esc(&a.app_id.to_string()),
                esc(&a.service_principal_names.join("\n")).replace('\n', "<br>"),
            ]);
        }
        for u in &t.users {
            user_rows.push(vec![
                esc(&u.upn),
                esc(&u.display_name),
                yes_no(u.enabled),
                esc(serde_json::to_value(u.mfa)
                    .unwrap_or_default()
                    .as_str()
                    .unwrap_or_default()),
            ]);
        }
    }
    s.push_str("<h3>Service principal names (Azure AD)</h3>");
    s.push_str(&table(
        "state",
        &["Application", "App id", "SPNs"],
        &spn_rows,
    ));
    s.push_str("<h3>Users (Azure AD)</h3>");
    s.push_str(&table(
        "state",
        &["UPN", "Name", "Enabled", "MFA"],
        &user_rows,
    ));
    s
}

/// The AuthServers, with the age of the metadata Exchange holds for each.
fn auth_servers(p: &Parts) -> String {
    let state = p.lab.exchange().state();
    let org = state.org().clone();
    let now = p.lab.clock().unix();
    let rows: Vec<Vec<String>> = org
        .auth_servers
        .iter()
        .map(|a| {
            let meta = match state.metadata_slot(&a.name) {
                None => "<span class=\"muted\">not read yet</span>".to_string(),
                Some(slot) => match &slot.result {
                    Ok(m) => format!("read {}", age(now, m.fetched_at)),
                    Err(e) => format!(
                        "<span class=\"fail\">✗ unreadable</span> {} ({})",
                        esc(e),
                        age(now, slot.attempted_at)
                    ),
                },
            };
            vec![
                esc(&a.name),
                esc(&format!("{:?}", a.kind)),
                yes_no(a.enabled),
                yes_no(a.is_default_authorization_endpoint),
                esc(&a.auth_metadata_url),
                meta,
            ]
        })
        .collect();
    format!(
        "<h3>AuthServers</h3>{}",
        table(
            "state",
            &[
                "Name",
                "Type",
                "Enabled",
                "Default authorization endpoint",
                "AuthMetadataUrl",
                "Metadata"
            ],
            &rows,
        )
    )
}

/// The state panel's HTML.
pub fn render(p: &Parts) -> String {
    let clock = p.lab.clock();
    format!(
        "<p>Lab <b>{}</b>, clock {} (moved {} s from its start).</p>{}{}",
        esc(p.lab.name()),
        esc(&rfc3339(clock.now())),
        clock.offset_secs(),
        auth_servers(p),
        settings(p)
    )
}

/// A hash of the settings and of which metadata each AuthServer holds: it changes when the
/// lab's configuration does, not when the clock ticks.
pub fn fingerprint(p: &Parts) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    settings(p).hash(&mut h);
    let state = p.lab.exchange().state();
    for a in &state.org().auth_servers {
        if let Some(slot) = state.metadata_slot(&a.name) {
            slot.attempted_at.hash(&mut h);
            slot.result.is_ok().hash(&mut h);
        }
    }
    h.finish()
}
