//! Explaining a scenario file: its `then:` expectations describe the failing exchanges (status,
//! headers, `x-ms-diagnostics`, AADSTS codes, the client's final Authn), so they are rebuilt
//! as [`Exchange`]s and handed to the same tree as a capture. The file is first checked with
//! the scenario engine's own parser, so a broken file gets its file:line:col error instead of
//! a guess. Only expectations are read — comments, `fix:` and `after_fix:` would give the answer
//! away (or contradict it).

use std::path::Path;

use serde_json::Value as Json;

use super::capture::Exchange;
use super::explanation::{ExplainError, Explanation};
use super::tree::{self, ClientKind, Evidence};

/// A YAML file with top-level `when:` and `version:` keys.
pub fn looks_like_scenario(path: &Path, text: &str) -> bool {
    let yaml = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("yaml") || e.eq_ignore_ascii_case("yml"));
    yaml && text.lines().any(|l| l.starts_with("when:"))
        && text.lines().any(|l| l.starts_with("version:"))
}

fn client_kind(profile: &str) -> ClientKind {
    match crate::client::Profile::parse(profile) {
        Some(crate::client::Profile::Outlook2010) => ClientKind::Outlook2010,
        Some(crate::client::Profile::Outlook2013) => ClientKind::Outlook2013,
        Some(crate::client::Profile::Outlook2016) => ClientKind::Outlook2016,
        Some(crate::client::Profile::Outlook2016Mac) => ClientKind::Mac,
        _ => ClientKind::Unknown,
    }
}

/// A header expectation as an observed header (`not_contains: Bearer` on `WWW-Authenticate`
/// becomes an `NTLM`-only challenge, which is what such a response carries).
fn header_of(h: &Json) -> Option<(String, String)> {
    let name = h.get("name")?.as_str()?.to_string();
    for k in ["equals", "starts_with", "contains"] {
        if let Some(v) = h.get(k).and_then(Json::as_str) {
            // A fragment of a challenge (`authorization_uri="…"`) is a Bearer challenge's.
            let scheme = v.split([' ', '=']).next().unwrap_or("");
            let known = ["Bearer", "Basic", "NTLM", "Negotiate"]
                .iter()
                .any(|s| s.eq_ignore_ascii_case(scheme));
            if name.eq_ignore_ascii_case("WWW-Authenticate") && !known {
                return Some((name, format!("Bearer {v}")));
            }
            return Some((name, v.to_string()));
        }
    }
    let nc = h.get("not_contains").and_then(Json::as_str)?;
    (name.eq_ignore_ascii_case("WWW-Authenticate") && nc.eq_ignore_ascii_case("Bearer"))
        .then(|| (name, "NTLM".to_string()))
}

/// Whether the scenario turns modern auth off on `client`: `given` lines (`reg add …
/// EnableADAL … /d 0`, `defaults write … DisableModernAuth -bool YES`) or the `when` action's
/// settings; Outlook 2013 is off unless `EnableADAL` is set to 1.
fn modern_auth_off(doc: &Json, client: Option<ClientKind>) -> bool {
    // Each Outlook reads its own Office version's key: 2013 `15.0`, 2016 `16.0`.
    let folder = match client {
        Some(ClientKind::Outlook2013) => "\\office\\15.0\\",
        _ => "\\office\\16.0\\",
    };
    let mut enable_adal: Option<u64> = None;
    let mut mac_off = false;
    for st in doc
        .get("given")
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
    {
        let Some(line) = st.get("cmdlet").and_then(Json::as_str) else {
            continue;
        };
        let lower = line.to_ascii_lowercase();
        if lower.contains("enableadal") && lower.contains(folder) {
            if let Some(v) = lower
                .split_whitespace()
                .skip_while(|w| *w != "/d")
                .nth(1)
                .and_then(|v| v.parse().ok())
            {
                enable_adal = Some(v);
            }
        }
        if lower.contains("disablemodernauth") {
            mac_off = lower.contains("-bool yes") || lower.contains("-bool true");
        }
    }
    for a in doc
        .get("when")
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(s) = a.get("settings") {
            if let Some(v) = s.get("enable_adal").and_then(Json::as_u64) {
                enable_adal = Some(v);
            }
            if let Some(v) = s.get("disable_modern_auth").and_then(Json::as_bool) {
                mac_off = v;
            }
        }
    }
    match client {
        Some(ClientKind::Outlook2010) => true,
        Some(ClientKind::Outlook2013) => enable_adal != Some(1),
        Some(ClientKind::Outlook2016) => enable_adal == Some(0),
        Some(ClientKind::Mac) => mac_off,
        _ => false,
    }
}

/// The exchanges and facts a scenario's `then:` expects.
pub fn evidence_of(doc: &Json) -> (Vec<Exchange>, String, Option<ClientKind>, Option<String>) {
    let when: Vec<&Json> = doc
        .get("when")
        .and_then(Json::as_array)
        .map(|w| w.iter().collect())
        .unwrap_or_default();
    let client_at = |step: i64| -> Option<ClientKind> {
        let a = usize::try_from(step)
            .ok()
            .and_then(|i| when.get(i))
            .copied();
        a.or_else(|| when.iter().find(|a| a.get("client").is_some()).copied())
            .and_then(|a| a.get("client")?.as_str())
            .map(client_kind)
    };
    let mut client = client_at(-1);
    let mut exchanges: Vec<Exchange> = Vec::new();
    let mut text = String::new();
    let mut authn: Option<String> = None;
    // Top-level status/header/location/body expectations, one exchange per `step`.
    let mut by_step: std::collections::BTreeMap<i64, Exchange> = Default::default();
    for e in doc
        .get("then")
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
    {
        let step = e.get("step").and_then(Json::as_i64).unwrap_or(-1);
        if let Some(x) = e.get("exchange") {
            let mut ex = Exchange {
                url: x
                    .get("url_contains")
                    .and_then(Json::as_str)
                    .map(|u| u.to_string()),
                status: x
                    .get("status")
                    .and_then(Json::as_u64)
                    .and_then(|s| u16::try_from(s).ok()),
                ..Exchange::default()
            };
            if let Some(h) = x.get("header").and_then(header_of) {
                text.push_str(&format!("{}: {}\n", h.0, h.1));
                ex.headers.push(h);
            }
            exchanges.push(ex);
        }
        let slot = || Exchange::default();
        if let Some(s) = e.get("status").and_then(Json::as_u64) {
            by_step.entry(step).or_insert_with(slot).status = u16::try_from(s).ok();
        }
        if let Some(h) = e.get("header").and_then(header_of) {
            text.push_str(&format!("{}: {}\n", h.0, h.1));
            by_step.entry(step).or_insert_with(slot).headers.push(h);
        }
        if let Some(l) = e.get("location") {
            if let Some(v) = ["equals", "starts_with", "contains"]
                .iter()
                .find_map(|k| l.get(*k).and_then(Json::as_str))
            {
                text.push_str(&format!("Location: {v}\n"));
                by_step
                    .entry(step)
                    .or_insert_with(slot)
                    .headers
                    .push(("Location".into(), v.to_string()));
            }
        }
        if let Some(n) = e.get("aadsts").and_then(Json::as_u64) {
            text.push_str(&format!("AADSTS{n}\n"));
        }
        if let Some(s) = e.get("error").and_then(Json::as_str) {
            text.push_str(&format!("{s}\n"));
        }
        if let Some(b) = e.get("body") {
            if let Some(v) = ["equals", "starts_with", "contains"]
                .iter()
                .find_map(|k| b.get(*k).and_then(Json::as_str))
            {
                text.push_str(&format!("{v}\n"));
                by_step.entry(step).or_insert_with(slot).body.push_str(v);
            }
        }
        if let Some(a) = e
            .get("client_status")
            .and_then(|c| c.get("authn"))
            .and_then(Json::as_str)
        {
            if authn.is_none() || !a.eq_ignore_ascii_case("Bearer") {
                authn = Some(a.to_string());
                client = client_at(step);
            }
        }
    }
    exchanges.extend(by_step.into_values());
    (exchanges, text, client, authn)
}

/// Explains a scenario file from its expectations.
pub fn explain(path: &Path, text: &str) -> Result<Explanation, ExplainError> {
    crate::scenario::format::load(path).map_err(ExplainError::Scenario)?;
    let name = path.display().to_string();
    let doc: Json = serde_yaml_ng::from_str(text).map_err(|e| {
        ExplainError::Scenario(lab_kit::FileError {
            file: name.clone(),
            line: e.location().map(|l| l.line()).unwrap_or(0),
            column: e.location().map(|l| l.column()).unwrap_or(0),
            message: e.to_string(),
            hint: None,
        })
    })?;
    let (exchanges, evidence_text, client, final_authn) = evidence_of(&doc);
    let ev = Evidence {
        exchanges: &exchanges,
        text: &evidence_text,
        client,
        final_authn,
        client_modern_auth_off: modern_auth_off(&doc, client),
    };
    tree::explain(&ev).ok_or(ExplainError::Unrecognised {
        file: name,
        exchanges: exchanges.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_outlook_reads_its_own_identity_key() {
        let given = |line: &str| serde_json::json!({ "given": [{ "cmdlet": line }] });
        let off16 = given(
            r"reg add HKCU\SOFTWARE\Microsoft\Office\16.0\Common\Identity /v EnableADAL /t REG_DWORD /d 0 /f",
        );
        assert!(modern_auth_off(&off16, Some(ClientKind::Outlook2016)));
        assert!(modern_auth_off(&off16, Some(ClientKind::Outlook2013)));
        let on15 = given(
            r"reg add HKCU\SOFTWARE\Microsoft\Office\15.0\Common\Identity /v EnableADAL /t REG_DWORD /d 1 /f",
        );
        assert!(!modern_auth_off(&on15, Some(ClientKind::Outlook2013)));
        let off15 = given(
            r"reg add HKCU\SOFTWARE\Microsoft\Office\15.0\Common\Identity /v EnableADAL /t REG_DWORD /d 0 /f",
        );
        assert!(!modern_auth_off(&off15, Some(ClientKind::Outlook2016)));
    }
}
