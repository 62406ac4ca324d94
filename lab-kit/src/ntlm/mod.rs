//! NTLM (MS-NLMP) messages and the NTLMv2 computations both ends share, with no HTTP server and
//! no accounts in sight.
//!
//! Mock Exchange verifies logons with it (`mock_exchange::ntlm`) and the reference Outlook client
//! builds them with [`client`]; both halves agree because they read and write messages with the
//! same code, checked against the MS-NLMP §4.2.4 test vectors. The layout follows the
//! specification's own split: the hashes and keys ([`crypto`], MS-NLMP 3.3.2), the three message
//! types and their target information ([`message`], 2.2), and what a Windows client sends
//! ([`client`]). The `Authorization`/`WWW-Authenticate` framing of a token ([`http`]) is here
//! too, since both sides write and read it, and the channel binding of extended protection
//! ([`binding`]), which a client computes and a server compares. This file only declares and re-exports.
//!
//! Hashes come from RustCrypto (`md4`, `md-5`, `hmac`); message parsing and building are by hand
//! and bounds-checked: every length and offset read from the wire is checked before use, so
//! garbage or truncated tokens are errors, never panics.

pub mod binding;
pub mod client;
pub mod crypto;
pub mod http;
pub mod message;
pub mod vectors;

pub use crypto::{filetime, hmac_md5, nt_hash, ntowf_v2, ntowf_v2_from_hash, rc4};
pub use http::{header_value, token_from_headers};
pub use message::{
    av, av_timestamp, av_value, encode_av_pairs, flags, parse_av_pairs, utf16le, v2_temp,
    Authenticate, AvPair, Challenge, Error, Negotiate, V2Response, MIC_OFFSET, SIGNATURE,
};

#[cfg(test)]
mod tests;
