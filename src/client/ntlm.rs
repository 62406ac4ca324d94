//! The NTLM half the client needs to fall back the way Outlook does: a type-1 (NEGOTIATE)
//! message, then a type-3 (AUTHENTICATE) answer to the server's type-2 (CHALLENGE).
//!
//! The message code is the lab's shared NTLM codec (`lab_kit::ntlm::client`), the same one mock
//! Exchange verifies logons with; this module only adapts it behind a small trait, so a test can
//! also run the client with no NTLM at all (it then falls back to Basic where Basic is offered).

use std::sync::Arc;

use lab_kit::ntlm::client;

/// Builds the client's NTLM messages.
pub trait NtlmClient: Send + Sync {
    /// The NEGOTIATE_MESSAGE.
    fn negotiate(&self) -> Vec<u8>;
    /// The AUTHENTICATE_MESSAGE answering `challenge` (a raw CHALLENGE_MESSAGE).
    fn authenticate(
        &self,
        challenge: &[u8],
        user: &str,
        domain: &str,
        password: &str,
    ) -> Result<Vec<u8>, String>;
    /// The AUTHENTICATE_MESSAGE of a logon over HTTPS: with `MsvAvChannelBindings` (`binding`,
    /// the `tls-server-end-point` value of the certificate the connection presented) and the
    /// target `spn`, as Windows sends them. By default the binding is not sent.
    fn authenticate_bound(
        &self,
        challenge: &[u8],
        user: &str,
        domain: &str,
        password: &str,
        _binding: Option<[u8; 16]>,
        _spn: Option<&str>,
    ) -> Result<Vec<u8>, String> {
        self.authenticate(challenge, user, domain, password)
    }
}

/// NTLMv2 as Windows 10 sends it, from `lab_kit::ntlm::client` (a MIC is added because
/// the type 1 is known; the blob's timestamp is the server's `MsvAvTimestamp`, i.e. lab time).
#[derive(Debug, Clone, Copy, Default)]
pub struct WindowsNtlm;

impl NtlmClient for WindowsNtlm {
    fn negotiate(&self) -> Vec<u8> {
        client::negotiate_message()
    }

    fn authenticate(
        &self,
        challenge: &[u8],
        user: &str,
        domain: &str,
        password: &str,
    ) -> Result<Vec<u8>, String> {
        let opts = client::Options {
            negotiate: Some(self.negotiate()),
            ..Default::default()
        };
        client::authenticate_message(challenge, user, domain, password, &opts)
            .map_err(|e| e.to_string())
    }

    fn authenticate_bound(
        &self,
        challenge: &[u8],
        user: &str,
        domain: &str,
        password: &str,
        binding: Option<[u8; 16]>,
        spn: Option<&str>,
    ) -> Result<Vec<u8>, String> {
        let opts = client::Options {
            negotiate: Some(self.negotiate()),
            channel_bindings: binding,
            spn: spn.map(str::to_string),
            ..Default::default()
        };
        client::authenticate_message(challenge, user, domain, password, &opts)
            .map_err(|e| e.to_string())
    }
}

/// The NTLM implementation used by default.
pub fn default_client() -> Option<Arc<dyn NtlmClient>> {
    Some(Arc::new(WindowsNtlm))
}
