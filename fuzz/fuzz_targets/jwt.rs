//! The bearer pipeline's token reading: `bearer::parse` (split, strict base64url, JSON objects),
//! then the claim checks every request runs (lifetime, audience, tenant, user), the issuer's
//! tenant, the x-ms-diagnostics rendering of the failure, and the journal's token decoder.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mock_exchange::bearer::{self, Arrival};

fuzz_target!(|data: &[u8]| {
    let Ok(token) = std::str::from_utf8(data) else {
        return;
    };
    let _ = hma_lab::frontdoor::journal::decode_jwt(token);
    let at = Arrival {
        scheme: "https".into(),
        host: "mail.contoso.com".into(),
    };
    let outcome = bearer::parse(token).and_then(|jwt| {
        if let Some(iss) = jwt.claims.get("iss").and_then(|v| v.as_str()) {
            let _ = mock_exchange::metadata::tenant_of_issuer(iss);
        }
        bearer::check_claims(hma_lab_fuzz::org(), &jwt.claims, hma_lab_fuzz::NOW, &at)
    });
    if let Err(diag) = outcome {
        let _ = diag.header_value();
        let _ = diag.reason();
    }
});
