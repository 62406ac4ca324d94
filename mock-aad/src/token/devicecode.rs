//! The device authorization endpoint (`/oauth2/devicecode`, `/oauth2/v2.0/devicecode`): issues a
//! device code and the user code a person types at `/devicelogin`.

use rand::Rng;
use serde_json::{json, Map, Value};
use uuid::Uuid;

use crate::error::AadError;
use crate::grants::{DeviceCode, DeviceState};
use crate::resolve::base_url;
use crate::token::request::{Ctx, PathTenant};
use crate::util::random_b64url;

/// Seconds a device-flow client waits between polls.
pub(crate) const DEVICE_POLL_INTERVAL: i64 = 5;
/// Alphabet of device-flow user codes (upper case, no 0/O/1/I).
const USER_CODE_ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";

/// The device authorization endpoint: a device code and the user code to type.
pub(super) fn devicecode(c: &Ctx) -> Result<Value, AadError> {
    if let Some(d) = c.params.first_duplicate() {
        return Err(AadError::duplicate_parameter(d));
    }
    let tenant = match c.path_tenant()? {
        PathTenant::Specific(t) => *t,
        PathTenant::Common => return Err(AadError::no_tenant_info()),
    };
    if c.v2 && c.params.get("resource").is_some() {
        return Err(AadError::resource_on_v2());
    }
    let tname = c.tenant_name(&tenant);
    let id = c.required("client_id")?;
    let app = Uuid::parse_str(id.trim())
        .ok()
        .and_then(|u| tenant.app(u))
        .ok_or_else(|| AadError::unknown_client(id, &tname))?
        .clone();
    // Validates the resource/scope now, as Azure AD does, so a typo fails before the user types
    // a code.
    let target = c.target(&tenant, &tname, &app, None)?;
    let base = base_url(&c.s.config, &c.headers);
    let verification = format!("{base}/devicelogin");
    let expires_in = tenant.token_lifetimes.device_code;
    let device_code = format!("DAQABAAEAAA{}", random_b64url(96));
    let user_code = {
        c.s.sweep_grants();
        let mut g = c.s.grants();
        let code = loop {
            let candidate = new_user_code();
            if !g
                .devices
                .values()
                .any(|d| d.user_code == candidate && d.expires_at > c.now)
            {
                break candidate;
            }
        };
        g.devices.insert(
            device_code.clone(),
            DeviceCode {
                device_code: device_code.clone(),
                user_code: code.clone(),
                client_id: app.app_id,
                tenant: c.seg.clone(),
                resource: (!c.v2).then(|| target.requested.clone()),
                scope: if c.v2 {
                    target.scope_param.clone()
                } else {
                    c.params.get("scope").map(str::to_string)
                },
                expires_at: c.now.saturating_add(expires_in),
                state: DeviceState::Pending,
                redeemed: false,
            },
        );
        code
    };
    let mut m = Map::new();
    m.insert("user_code".into(), json!(user_code));
    m.insert("device_code".into(), json!(device_code));
    m.insert(
        if c.v2 {
            "verification_uri"
        } else {
            "verification_url"
        }
        .into(),
        json!(verification),
    );
    m.insert("expires_in".into(), json!(expires_in));
    m.insert("interval".into(), json!(DEVICE_POLL_INTERVAL));
    m.insert(
        "message".into(),
        json!(format!(
            "To sign in, use a web browser to open the page {verification} and enter the code {user_code} to authenticate."
        )),
    );
    Ok(Value::Object(m))
}

/// Nine upper-case characters, like `FRWQDE7YL`.
fn new_user_code() -> String {
    let mut rng = rand::rng();
    (0..9)
        .map(|_| USER_CODE_ALPHABET[rng.random_range(0..USER_CODE_ALPHABET.len())] as char)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_codes_are_nine_upper_case_characters() {
        let c = new_user_code();
        assert_eq!(c.len(), 9);
        assert!(c
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()));
    }
}
