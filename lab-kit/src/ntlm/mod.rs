//! NTLM (MS-NLMP) messages and the NTLMv2 computations both ends share, with no HTTP server and
//! no accounts in sight.
//!
//! Mock Exchange verifies logons with it (`mock_exchange::ntlm`) and the reference Outlook client
//! builds them with [`client`]; both halves agree because they read and write messages with the
//! same code, checked against the MS-NLMP §4.2.4 test vectors. The layout follows the
//! specification's own split: the hashes and keys ([`crypto`], MS-NLMP 3.3.2), the three message
//! types and their target information ([`message`], 2.2), and what a Windows client sends
//! ([`client`]). The `Authorization`/`WWW-Authenticate` framing of a token is here too, since both
//! sides write and read it.
//!
//! Hashes come from RustCrypto (`md4`, `md-5`, `hmac`); message parsing and building are by hand
//! and bounds-checked: every length and offset read from the wire is checked before use, so
//! garbage or truncated tokens are errors, never panics.

use std::fmt;

pub mod client;
pub mod crypto;
pub mod message;
pub mod vectors;

pub use crypto::{filetime, hmac_md5, nt_hash, ntowf_v2, ntowf_v2_from_hash, rc4};
pub use message::{
    av_timestamp, av_value, encode_av_pairs, parse_av_pairs, utf16le, v2_temp, Authenticate,
    AvPair, Challenge, Negotiate, V2Response, MIC_OFFSET,
};

/// `NTLMSSP\0`, the first eight bytes of every message.
pub const SIGNATURE: &[u8; 8] = b"NTLMSSP\0";

/// `NegotiateFlags` bits (MS-NLMP 2.2.2.5).
pub mod flags {
    pub const UNICODE: u32 = 0x0000_0001;
    pub const OEM: u32 = 0x0000_0002;
    pub const REQUEST_TARGET: u32 = 0x0000_0004;
    pub const SIGN: u32 = 0x0000_0010;
    pub const SEAL: u32 = 0x0000_0020;
    pub const DATAGRAM: u32 = 0x0000_0040;
    pub const LM_KEY: u32 = 0x0000_0080;
    pub const NTLM: u32 = 0x0000_0200;
    pub const ANONYMOUS: u32 = 0x0000_0800;
    pub const OEM_DOMAIN_SUPPLIED: u32 = 0x0000_1000;
    pub const OEM_WORKSTATION_SUPPLIED: u32 = 0x0000_2000;
    pub const ALWAYS_SIGN: u32 = 0x0000_8000;
    pub const TARGET_TYPE_DOMAIN: u32 = 0x0001_0000;
    pub const TARGET_TYPE_SERVER: u32 = 0x0002_0000;
    pub const EXTENDED_SESSIONSECURITY: u32 = 0x0008_0000;
    pub const IDENTIFY: u32 = 0x0010_0000;
    pub const REQUEST_NON_NT_SESSION_KEY: u32 = 0x0040_0000;
    pub const TARGET_INFO: u32 = 0x0080_0000;
    pub const VERSION: u32 = 0x0200_0000;
    pub const N128: u32 = 0x2000_0000;
    pub const KEY_EXCH: u32 = 0x4000_0000;
    pub const N56: u32 = 0x8000_0000;
}

/// `AvId` values of target information (MS-NLMP 2.2.2.1).
pub mod av {
    pub const EOL: u16 = 0;
    pub const NB_COMPUTER_NAME: u16 = 1;
    pub const NB_DOMAIN_NAME: u16 = 2;
    pub const DNS_COMPUTER_NAME: u16 = 3;
    pub const DNS_DOMAIN_NAME: u16 = 4;
    pub const DNS_TREE_NAME: u16 = 5;
    pub const FLAGS: u16 = 6;
    pub const TIMESTAMP: u16 = 7;
    pub const SINGLE_HOST: u16 = 8;
    pub const TARGET_NAME: u16 = 9;
    pub const CHANNEL_BINDINGS: u16 = 10;
    /// `MsvAvFlags` bit: the AUTHENTICATE_MESSAGE carries a MIC.
    pub const FLAG_MIC_PRESENT: u32 = 0x2;
}

/// Why a token could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// Not base64.
    Base64,
    /// Does not start with `NTLMSSP\0`.
    Signature,
    /// Another message type than the one expected.
    MessageType { expected: u32, got: u32 },
    /// A fixed part or a field's payload runs past the end of the message.
    Truncated(&'static str),
    /// A UTF-16 string that is not valid UTF-16.
    Utf16(&'static str),
    /// The target information is malformed.
    TargetInfo,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Base64 => write!(f, "token is not base64"),
            Error::Signature => write!(f, "token is not NTLMSSP"),
            Error::MessageType { expected, got } => {
                write!(f, "expected NTLM message type {expected}, got {got}")
            }
            Error::Truncated(what) => write!(f, "NTLM message truncated ({what})"),
            Error::Utf16(what) => write!(f, "{what} is not valid UTF-16"),
            Error::TargetInfo => write!(f, "malformed target information"),
        }
    }
}

impl std::error::Error for Error {}

/// `Authorization`/`WWW-Authenticate` value: `<scheme> <base64>`.
pub fn header_value(scheme: &str, token: &[u8]) -> String {
    use base64::Engine;
    format!(
        "{scheme} {}",
        base64::engine::general_purpose::STANDARD.encode(token)
    )
}

/// The token of the first `WWW-Authenticate` value with `scheme` and a token, decoded.
pub fn token_from_headers<'a>(
    scheme: &str,
    values: impl IntoIterator<Item = &'a str>,
) -> Option<Vec<u8>> {
    use base64::Engine;
    values.into_iter().find_map(|v| {
        let (s, t) = v.trim().split_once(char::is_whitespace)?;
        if !s.eq_ignore_ascii_case(scheme) {
            return None;
        }
        base64::engine::general_purpose::STANDARD
            .decode(t.trim().as_bytes())
            .ok()
    })
}

#[cfg(test)]
mod tests;
