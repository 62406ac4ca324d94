//! NTLM (MS-NLMP) for the mock Exchange: both halves of NTLMv2 in one module.
//!
//! The server half ([`server`]) runs the handshake IIS runs for `WWW-Authenticate: NTLM` and for
//! `Negotiate` carrying raw NTLMSSP (what Windows sends when it has no Kerberos ticket): a
//! NEGOTIATE_MESSAGE (type 1) gets a 401 with a CHALLENGE_MESSAGE (type 2) shaped as a Windows
//! member server builds it, the challenge is remembered for that TCP connection only (NTLM is
//! connection-oriented), and the AUTHENTICATE_MESSAGE (type 3) is verified as NTLMv2 against the
//! on-premises account's password; the logon then persists on that connection until it closes,
//! which is why [`server::track`] wraps the listener (it sees connections close). NTLMv1 and LM
//! responses are refused, as a server at the modern `LmCompatibilityLevel` does. The client half ([`client`]) builds type 1 and type 3 messages as
//! a Windows client does (NTLMv2, MIC when the server sends a timestamp), so the lab's reference
//! Outlook client logs on over real HTTP with the same code the tests verify against the
//! MS-NLMP §4.2.4 test vectors.
//!
//! Hashes come from RustCrypto (`md4`, `md-5`, `hmac`); message parsing and building are by hand
//! and bounds-checked: every length and offset read from the wire is checked before use, so
//! garbage or truncated tokens are errors, never panics.

use std::fmt;

use hmac::{Hmac, Mac};
use md4::{Digest, Md4};
use md5::Md5;

/// `NTLMSSP\0`, the first eight bytes of every message.
pub const SIGNATURE: &[u8; 8] = b"NTLMSSP\0";

/// Seconds between 1601-01-01 (FILETIME epoch) and 1970-01-01.
const FILETIME_UNIX_OFFSET: i64 = 11_644_473_600;

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

// ---------------------------------------------------------------------------------------------
// Crypto (MS-NLMP 3.3.2)

type HmacMd5 = Hmac<Md5>;

/// HMAC-MD5 over the concatenation of `parts`.
pub fn hmac_md5(key: &[u8], parts: &[&[u8]]) -> [u8; 16] {
    // HMAC accepts keys of any length; the error arm cannot be taken.
    let Ok(mut mac) = <HmacMd5 as Mac>::new_from_slice(key) else {
        return [0; 16];
    };
    for p in parts {
        mac.update(p);
    }
    mac.finalize().into_bytes().into()
}

/// The NT hash: MD4 of the UTF-16LE password (`NTOWFv1`).
pub fn nt_hash(password: &str) -> [u8; 16] {
    Md4::digest(utf16le(password)).into()
}

/// `NTOWFv2`: HMAC-MD5(NT hash, UTF-16LE(UPPER(user) ‖ domain)).
pub fn ntowf_v2(password: &str, user: &str, domain: &str) -> [u8; 16] {
    ntowf_v2_from_hash(&nt_hash(password), user, domain)
}

/// `NTOWFv2` from an NT hash.
pub fn ntowf_v2_from_hash(nt_hash: &[u8; 16], user: &str, domain: &str) -> [u8; 16] {
    let mut ud = utf16le(&user.to_uppercase());
    ud.extend(utf16le(domain));
    hmac_md5(nt_hash, &[&ud])
}

/// RC4 (used only to wrap the exported session key, MS-NLMP 3.4.3).
pub fn rc4(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut s: [u8; 256] = std::array::from_fn(|i| i as u8);
    if key.is_empty() {
        return data.to_vec();
    }
    let mut j: u8 = 0;
    for i in 0..256 {
        j = j.wrapping_add(s[i]).wrapping_add(key[i % key.len()]);
        s.swap(i, j as usize);
    }
    let (mut i, mut j) = (0u8, 0u8);
    data.iter()
        .map(|b| {
            i = i.wrapping_add(1);
            j = j.wrapping_add(s[i as usize]);
            s.swap(i as usize, j as usize);
            b ^ s[s[i as usize].wrapping_add(s[j as usize]) as usize]
        })
        .collect()
}

/// Lab time as a FILETIME (100 ns ticks since 1601-01-01 UTC).
pub fn filetime(t: time::OffsetDateTime) -> u64 {
    let secs = t.unix_timestamp() + FILETIME_UNIX_OFFSET;
    (secs.max(0) as u64)
        .saturating_mul(10_000_000)
        .saturating_add(u64::from(t.nanosecond() / 100))
}

use lab_kit::secret::constant_time_eq;

// ---------------------------------------------------------------------------------------------
// Encoding helpers

pub fn utf16le(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

fn from_utf16le(b: &[u8], what: &'static str) -> Result<String, Error> {
    if b.len() & 1 != 0 {
        return Err(Error::Utf16(what));
    }
    let units: Vec<u16> = b
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect();
    String::from_utf16(&units).map_err(|_| Error::Utf16(what))
}

/// A string field as the negotiated character set encodes it (OEM read as Latin-1).
fn text(b: &[u8], unicode: bool, what: &'static str) -> Result<String, Error> {
    if unicode {
        from_utf16le(b, what)
    } else {
        Ok(b.iter().map(|&c| char::from(c)).collect())
    }
}

fn encode_text(s: &str, unicode: bool) -> Vec<u8> {
    if unicode {
        utf16le(s)
    } else {
        s.chars()
            .map(|c| u8::try_from(u32::from(c)).unwrap_or(b'?'))
            .collect()
    }
}

fn u16_at(b: &[u8], at: usize, what: &'static str) -> Result<u16, Error> {
    b.get(at..at + 2)
        .map(|s| u16::from_le_bytes([s[0], s[1]]))
        .ok_or(Error::Truncated(what))
}

fn u32_at(b: &[u8], at: usize, what: &'static str) -> Result<u32, Error> {
    b.get(at..at + 4)
        .map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
        .ok_or(Error::Truncated(what))
}

/// A `(Len, MaxLen, BufferOffset)` field: its payload, bounds-checked. Also returns the offset
/// (for finding where the payload area starts).
fn field<'a>(b: &'a [u8], at: usize, what: &'static str) -> Result<(&'a [u8], usize), Error> {
    let len = u16_at(b, at, what)? as usize;
    let offset = u32_at(b, at + 4, what)? as usize;
    if len == 0 {
        return Ok((&[], offset));
    }
    let end = offset.checked_add(len).ok_or(Error::Truncated(what))?;
    b.get(offset..end)
        .map(|s| (s, offset))
        .ok_or(Error::Truncated(what))
}

fn header(b: &[u8], expected: u32) -> Result<(), Error> {
    if b.len() < 12 {
        return if b.len() >= 8 && &b[..8] != SIGNATURE {
            Err(Error::Signature)
        } else {
            Err(Error::Truncated("header"))
        };
    }
    if &b[..8] != SIGNATURE {
        return Err(Error::Signature);
    }
    let got = u32_at(b, 8, "message type")?;
    if got != expected {
        return Err(Error::MessageType { expected, got });
    }
    Ok(())
}

/// Writes `(Len, MaxLen, BufferOffset)` at `at` and appends `payload` to `out`.
fn put_field(out: &mut Vec<u8>, at: usize, payload: &[u8]) {
    let offset = out.len() as u32;
    let len = payload.len().min(u16::MAX as usize) as u16;
    out[at..at + 2].copy_from_slice(&len.to_le_bytes());
    out[at + 2..at + 4].copy_from_slice(&len.to_le_bytes());
    out[at + 4..at + 8].copy_from_slice(&offset.to_le_bytes());
    out.extend_from_slice(&payload[..len as usize]);
}

/// An `AV_PAIR`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AvPair {
    pub id: u16,
    pub value: Vec<u8>,
}

/// Reads AV pairs up to `MsvAvEOL` (which is not returned). A pair running past the end is an
/// error; a list without EOL ends where the bytes end.
pub fn parse_av_pairs(b: &[u8]) -> Result<Vec<AvPair>, Error> {
    let mut out = Vec::new();
    let mut at = 0usize;
    while at < b.len() {
        let id = u16_at(b, at, "AV pair").map_err(|_| Error::TargetInfo)?;
        let len = u16_at(b, at + 2, "AV pair").map_err(|_| Error::TargetInfo)? as usize;
        if id == av::EOL {
            return Ok(out);
        }
        let value = b.get(at + 4..at + 4 + len).ok_or(Error::TargetInfo)?;
        out.push(AvPair {
            id,
            value: value.to_vec(),
        });
        at += 4 + len;
    }
    Ok(out)
}

/// Encodes AV pairs followed by `MsvAvEOL`.
pub fn encode_av_pairs(pairs: &[AvPair]) -> Vec<u8> {
    let mut out = Vec::new();
    for p in pairs {
        let len = p.value.len().min(u16::MAX as usize);
        out.extend_from_slice(&p.id.to_le_bytes());
        out.extend_from_slice(&(len as u16).to_le_bytes());
        out.extend_from_slice(&p.value[..len]);
    }
    out.extend_from_slice(&[0, 0, 0, 0]);
    out
}

fn av_value(pairs: &[AvPair], id: u16) -> Option<&[u8]> {
    pairs
        .iter()
        .find(|p| p.id == id)
        .map(|p| p.value.as_slice())
}

/// The `MsvAvTimestamp` of a target information list.
pub fn av_timestamp(pairs: &[AvPair]) -> Option<u64> {
    av_value(pairs, av::TIMESTAMP)
        .and_then(|v| <[u8; 8]>::try_from(v).ok())
        .map(u64::from_le_bytes)
}

// ---------------------------------------------------------------------------------------------
// Messages

/// A NEGOTIATE_MESSAGE (type 1). Only the flags matter to the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Negotiate {
    pub flags: u32,
}

impl Negotiate {
    /// Parses a type 1. The domain/workstation fields (OEM, rarely sent) are not used, so only
    /// the 16-byte fixed part is required, as old clients send no more.
    pub fn parse(b: &[u8]) -> Result<Negotiate, Error> {
        header(b, 1)?;
        Ok(Negotiate {
            flags: u32_at(b, 12, "negotiate flags")?,
        })
    }
}

/// A CHALLENGE_MESSAGE (type 2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    pub flags: u32,
    pub server_challenge: [u8; 8],
    pub target_name: String,
    /// Raw target information (AV pairs with EOL), as sent.
    pub target_info: Vec<u8>,
    /// `(major, minor, build)`; NTLM revision 15.
    pub version: Option<(u8, u8, u16)>,
}

impl Challenge {
    /// Layout: fixed part (56 bytes with Version), then TargetName, then TargetInfo.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = vec![0u8; 56];
        out[..8].copy_from_slice(SIGNATURE);
        out[8..12].copy_from_slice(&2u32.to_le_bytes());
        out[20..24].copy_from_slice(&self.flags.to_le_bytes());
        out[24..32].copy_from_slice(&self.server_challenge);
        if let Some((major, minor, build)) = self.version {
            out[48] = major;
            out[49] = minor;
            out[50..52].copy_from_slice(&build.to_le_bytes());
            out[55] = 15;
        }
        let name = encode_text(&self.target_name, self.flags & flags::UNICODE != 0);
        put_field(&mut out, 12, &name);
        if self.flags & flags::TARGET_INFO != 0 {
            put_field(&mut out, 40, &self.target_info);
        }
        out
    }

    pub fn parse(b: &[u8]) -> Result<Challenge, Error> {
        header(b, 2)?;
        let flags = u32_at(b, 20, "negotiate flags")?;
        let server_challenge: [u8; 8] = b
            .get(24..32)
            .and_then(|s| s.try_into().ok())
            .ok_or(Error::Truncated("server challenge"))?;
        let (name, name_offset) = field(b, 12, "target name")?;
        let target_name = text(name, flags & flags::UNICODE != 0, "target name")?;
        let (target_info, info_offset) = if b.len() >= 48 {
            field(b, 40, "target info")?
        } else {
            (&[][..], b.len())
        };
        parse_av_pairs(target_info)?;
        // The Version field exists when no payload starts before its end.
        let payload_start = [(name, name_offset), (target_info, info_offset)]
            .iter()
            .filter(|(s, _)| !s.is_empty())
            .map(|(_, o)| *o)
            .min()
            .unwrap_or(b.len());
        let target_info = target_info.to_vec();
        let version = (flags & flags::VERSION != 0 && payload_start >= 56 && b.len() >= 56)
            .then(|| (b[48], b[49], u16::from_le_bytes([b[50], b[51]])));
        Ok(Challenge {
            flags,
            server_challenge,
            target_name,
            target_info,
            version,
        })
    }

    pub fn av_pairs(&self) -> Vec<AvPair> {
        parse_av_pairs(&self.target_info).unwrap_or_default()
    }
}

/// An AUTHENTICATE_MESSAGE (type 3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authenticate {
    pub flags: u32,
    pub lm_response: Vec<u8>,
    pub nt_response: Vec<u8>,
    pub domain: String,
    pub user: String,
    pub workstation: String,
    pub encrypted_session_key: Vec<u8>,
    /// Bytes 72..88 when the payload starts at or after 88 (where a MIC can sit).
    pub mic: Option<[u8; 16]>,
}

/// Offset of the MIC in an AUTHENTICATE_MESSAGE (after the 64-byte fixed part and Version).
pub const MIC_OFFSET: usize = 72;

impl Authenticate {
    pub fn parse(b: &[u8]) -> Result<Authenticate, Error> {
        header(b, 3)?;
        if b.len() < 64 {
            return Err(Error::Truncated("authenticate fixed part"));
        }
        let flags = u32_at(b, 60, "negotiate flags")?;
        let unicode = flags & flags::UNICODE != 0;
        let (lm, o1) = field(b, 12, "LmChallengeResponse")?;
        let (nt, o2) = field(b, 20, "NtChallengeResponse")?;
        let (domain, o3) = field(b, 28, "DomainName")?;
        let (user, o4) = field(b, 36, "UserName")?;
        let (ws, o5) = field(b, 44, "Workstation")?;
        let (key, o6) = field(b, 52, "EncryptedRandomSessionKey")?;
        let payload_start = [
            (lm, o1),
            (nt, o2),
            (domain, o3),
            (user, o4),
            (ws, o5),
            (key, o6),
        ]
        .iter()
        .filter(|(s, _)| !s.is_empty())
        .map(|(_, o)| *o)
        .min()
        .unwrap_or(b.len());
        let mic = (payload_start >= MIC_OFFSET + 16)
            .then(|| b.get(MIC_OFFSET..MIC_OFFSET + 16))
            .flatten()
            .and_then(|s| <[u8; 16]>::try_from(s).ok());
        Ok(Authenticate {
            flags,
            lm_response: lm.to_vec(),
            nt_response: nt.to_vec(),
            domain: text(domain, unicode, "DomainName")?,
            user: text(user, unicode, "UserName")?,
            workstation: text(ws, unicode, "Workstation")?,
            encrypted_session_key: key.to_vec(),
            mic,
        })
    }
}

/// The parts of an NTLMv2 response (`NTProofStr ‖ temp`, MS-NLMP 2.2.2.8 / 2.2.2.7).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V2Response<'a> {
    pub nt_proof: &'a [u8],
    /// The blob the proof covers (`temp`).
    pub temp: &'a [u8],
    pub timestamp: u64,
    pub client_challenge: [u8; 8],
    pub av_pairs: Vec<AvPair>,
}

/// Smallest `temp`: RespType, HiRespType, 6 reserved, TimeStamp, ChallengeFromClient, 4 reserved.
const TEMP_FIXED: usize = 28;

impl<'a> V2Response<'a> {
    pub fn parse(nt_response: &'a [u8]) -> Result<V2Response<'a>, Error> {
        if nt_response.len() < 16 + TEMP_FIXED {
            return Err(Error::Truncated("NTLMv2 response"));
        }
        let (nt_proof, temp) = nt_response.split_at(16);
        let mut ts = [0u8; 8];
        ts.copy_from_slice(&temp[8..16]);
        let mut cc = [0u8; 8];
        cc.copy_from_slice(&temp[16..24]);
        Ok(V2Response {
            nt_proof,
            temp,
            timestamp: u64::from_le_bytes(ts),
            client_challenge: cc,
            av_pairs: parse_av_pairs(&temp[TEMP_FIXED..])?,
        })
    }
}

/// `temp` of an NTLMv2 response (MS-NLMP 3.3.2): `01 01 Z(6) Time ClientChallenge Z(4)
/// AvPairs Z(4)`.
pub fn v2_temp(timestamp: u64, client_challenge: &[u8; 8], av_pairs: &[u8]) -> Vec<u8> {
    let mut t = vec![1u8, 1, 0, 0, 0, 0, 0, 0];
    t.extend_from_slice(&timestamp.to_le_bytes());
    t.extend_from_slice(client_challenge);
    t.extend_from_slice(&[0; 4]);
    t.extend_from_slice(av_pairs);
    t.extend_from_slice(&[0; 4]);
    t
}

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

// ---------------------------------------------------------------------------------------------

pub mod client {
    //! The client half: what a Windows client sends, for the lab's reference Outlook client.
    //!
    //! [`negotiate_message`] is Windows 10's type 1; [`authenticate_message`] answers a type 2 with
    //! an NTLMv2 response (never v1/LM), adds a MIC when the server sent a timestamp and the type 1
    //! is known, and wraps a random session key when KEY_EXCH was negotiated. [`Handshake`] keeps
    //! the state of one logon for HTTP use.

    use super::*;

    /// Windows 10's NEGOTIATE flags (`0xe2088297`).
    pub const NEGOTIATE_FLAGS: u32 = flags::N56
        | flags::KEY_EXCH
        | flags::N128
        | flags::VERSION
        | flags::EXTENDED_SESSIONSECURITY
        | flags::ALWAYS_SIGN
        | flags::NTLM
        | flags::LM_KEY
        | flags::SIGN
        | flags::REQUEST_TARGET
        | flags::OEM
        | flags::UNICODE;

    /// A type 1 as Windows 10 sends it: flags, empty domain/workstation, version 10.0.19041.
    pub fn negotiate_message() -> Vec<u8> {
        let mut out = vec![0u8; 40];
        out[..8].copy_from_slice(SIGNATURE);
        out[8..12].copy_from_slice(&1u32.to_le_bytes());
        out[12..16].copy_from_slice(&NEGOTIATE_FLAGS.to_le_bytes());
        // Empty fields point at the end of the fixed part.
        out[20..24].copy_from_slice(&40u32.to_le_bytes());
        out[28..32].copy_from_slice(&40u32.to_le_bytes());
        out[32] = 10;
        out[33] = 0;
        out[34..36].copy_from_slice(&19041u16.to_le_bytes());
        out[39] = 15;
        out
    }

    /// Choices a test or a client profile may fix; defaults are what Windows does.
    #[derive(Debug, Clone, Default)]
    pub struct Options {
        /// Sent in the Workstation field.
        pub workstation: String,
        /// Random when `None`.
        pub client_challenge: Option<[u8; 8]>,
        /// The session key wrapped under KEY_EXCH; random when `None`.
        pub session_key: Option<[u8; 16]>,
        /// The blob's timestamp: overrides the server's `MsvAvTimestamp`; when neither is
        /// there, the system clock.
        pub timestamp: Option<u64>,
        /// The type 1 that was sent: with it (and a server timestamp) a MIC is added.
        pub negotiate: Option<Vec<u8>>,
        /// `HTTP/<host>`: sent as `MsvAvTargetName` with empty channel bindings, as Windows does
        /// over HTTP.
        pub spn: Option<String>,
    }

    /// Builds the AUTHENTICATE_MESSAGE answering `challenge` (a raw type 2).
    pub fn authenticate_message(
        challenge: &[u8],
        user: &str,
        domain: &str,
        password: &str,
        opts: &Options,
    ) -> Result<Vec<u8>, Error> {
        use rand::RngCore;
        let ch = Challenge::parse(challenge)?;
        let server_pairs = ch.av_pairs();
        let server_ts = av_timestamp(&server_pairs);
        let timestamp = opts
            .timestamp
            .or(server_ts)
            .unwrap_or_else(|| filetime(time::OffsetDateTime::now_utc()));
        let client_challenge = opts.client_challenge.unwrap_or_else(|| {
            let mut c = [0u8; 8];
            rand::rng().fill_bytes(&mut c);
            c
        });
        let with_mic = server_ts.is_some() && opts.negotiate.is_some();
        let mut pairs = server_pairs.clone();
        if with_mic {
            let f = av_value(&pairs, av::FLAGS)
                .and_then(|v| <[u8; 4]>::try_from(v).ok())
                .map(u32::from_le_bytes)
                .unwrap_or(0)
                | av::FLAG_MIC_PRESENT;
            pairs.retain(|p| p.id != av::FLAGS);
            pairs.push(AvPair {
                id: av::FLAGS,
                value: f.to_le_bytes().to_vec(),
            });
        }
        if let Some(spn) = &opts.spn {
            pairs.push(AvPair {
                id: av::CHANNEL_BINDINGS,
                value: vec![0; 16],
            });
            pairs.push(AvPair {
                id: av::TARGET_NAME,
                value: utf16le(spn),
            });
        }
        let av_bytes = if pairs == server_pairs && !ch.target_info.is_empty() {
            // Unchanged: echo the server's bytes exactly.
            ch.target_info.clone()
        } else {
            encode_av_pairs(&pairs)
        };

        let key = ntowf_v2(password, user, domain);
        let temp = v2_temp(timestamp, &client_challenge, &av_bytes);
        let nt_proof = hmac_md5(&key, &[&ch.server_challenge, &temp]);
        let mut nt_response = nt_proof.to_vec();
        nt_response.extend_from_slice(&temp);
        // With a server timestamp Windows sends Z(24) for the LM response.
        let lm_response = if server_ts.is_some() {
            vec![0u8; 24]
        } else {
            let mut lm = hmac_md5(&key, &[&ch.server_challenge, &client_challenge]).to_vec();
            lm.extend_from_slice(&client_challenge);
            lm
        };
        let session_base_key = hmac_md5(&key, &[&nt_proof]);
        let flags = ch.flags & !(flags::TARGET_TYPE_DOMAIN | flags::TARGET_TYPE_SERVER);
        let (exported, encrypted) = if flags & flags::KEY_EXCH != 0 {
            let random = opts.session_key.unwrap_or_else(|| {
                let mut k = [0u8; 16];
                rand::rng().fill_bytes(&mut k);
                k
            });
            (random, rc4(&session_base_key, &random))
        } else {
            (session_base_key, Vec::new())
        };

        let unicode = flags & flags::UNICODE != 0;
        let mut out = vec![0u8; MIC_OFFSET + 16];
        out[..8].copy_from_slice(SIGNATURE);
        out[8..12].copy_from_slice(&3u32.to_le_bytes());
        out[60..64].copy_from_slice(&flags.to_le_bytes());
        out[64] = 10;
        out[65] = 0;
        out[66..68].copy_from_slice(&19041u16.to_le_bytes());
        out[71] = 15;
        put_field(&mut out, 28, &encode_text(domain, unicode));
        put_field(&mut out, 36, &encode_text(user, unicode));
        put_field(&mut out, 44, &encode_text(&opts.workstation, unicode));
        put_field(&mut out, 12, &lm_response);
        put_field(&mut out, 20, &nt_response);
        put_field(&mut out, 52, &encrypted);
        if with_mic {
            let negotiate = opts.negotiate.as_deref().unwrap_or_default();
            let mic = hmac_md5(&exported, &[negotiate, challenge, &out]);
            out[MIC_OFFSET..MIC_OFFSET + 16].copy_from_slice(&mic);
        }
        Ok(out)
    }

    /// One NTLM logon over HTTP: `Authorization: <scheme> <type 1>`, then the answer to the
    /// server's `WWW-Authenticate: <scheme> <type 2>`. Both requests must go over one connection.
    #[derive(Debug, Clone)]
    pub struct Handshake {
        /// `NTLM` or `Negotiate`.
        pub scheme: String,
        pub user: String,
        pub domain: String,
        password: String,
        pub options: Options,
    }

    impl Handshake {
        /// `user` is a sAMAccountName (with `domain`, e.g. `CONTOSO`) or a UPN (empty domain).
        pub fn new(scheme: &str, user: &str, domain: &str, password: &str) -> Handshake {
            Handshake {
                scheme: scheme.to_string(),
                user: user.to_string(),
                domain: domain.to_string(),
                password: password.to_string(),
                options: Options {
                    negotiate: Some(negotiate_message()),
                    ..Options::default()
                },
            }
        }

        /// The first `Authorization` value.
        pub fn negotiate_header(&self) -> String {
            let t1 = self
                .options
                .negotiate
                .clone()
                .unwrap_or_else(negotiate_message);
            header_value(&self.scheme, &t1)
        }

        /// The second `Authorization` value, from the 401's `WWW-Authenticate` values. `None`
        /// when no value carries a type 2 for this scheme (the server refused the type 1).
        pub fn authenticate_header<'a>(
            &self,
            www_authenticate: impl IntoIterator<Item = &'a str>,
        ) -> Option<Result<String, Error>> {
            let t2 = token_from_headers(&self.scheme, www_authenticate)?;
            Some(
                authenticate_message(&t2, &self.user, &self.domain, &self.password, &self.options)
                    .map(|t3| header_value(&self.scheme, &t3)),
            )
        }
    }
}

// ---------------------------------------------------------------------------------------------

pub mod server {
    //! The server half: the type 2 a Windows member server sends, the per-connection state
    //! (pending challenges, persisted logons, the listener wrapper that observes connections
    //! close), NTLMv2 verification against the lab's accounts, and [`logon`], the one call the
    //! pipeline makes.

    use std::collections::{HashMap, HashSet};
    use std::net::SocketAddr;
    use std::pin::Pin;
    use std::sync::Mutex;
    use std::task::{Context, Poll};

    use axum::serve::{Listener, ListenerExt, TapIo};
    use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

    use axum::extract::ConnectInfo;
    use axum::http::request::Parts;
    use axum::http::{HeaderMap, HeaderName, HeaderValue};
    use axum::response::Response;
    use time::OffsetDateTime;

    use super::*;
    use crate::model::{Account, AuthMethod, ExchangeVersion, Organization, Server};
    use crate::respond::{self, Challenge as Unauthorized};
    use crate::state::AppState;
    use crate::surfaces::{AuthedUser, Authn};

    /// A pending challenge lives one minute of lab time.
    pub const PENDING_TTL_SECONDS: i64 = 60;
    /// At most this many handshakes are pending at once; the oldest give way.
    pub const MAX_PENDING: usize = 4096;
    /// MS-NLMP `MaxLifetime`: an NTLMv2 timestamp further than this from the server's clock is
    /// refused (36 hours).
    pub const MAX_LIFETIME_SECONDS: u64 = 36 * 3600;
    /// Tokens longer than this (base64) are refused unread.
    pub const MAX_TOKEN: usize = 16 * 1024;

    /// Flags a server echoes when the client asks for them.
    const ECHOED: u32 = flags::UNICODE
        | flags::REQUEST_TARGET
        | flags::SIGN
        | flags::SEAL
        | flags::ALWAYS_SIGN
        | flags::EXTENDED_SESSIONSECURITY
        | flags::IDENTIFY
        | flags::N128
        | flags::KEY_EXCH
        | flags::N56;

    /// The CHALLENGE flags a Windows server answers `client` flags with: the client's requests
    /// it supports, plus NTLM, TARGET_TYPE_DOMAIN, TARGET_INFO and VERSION; OEM only when the
    /// client cannot do Unicode; never LM_KEY (NTLMv2 only).
    pub fn challenge_flags(client: u32) -> u32 {
        let mut f = (client & ECHOED)
            | flags::NTLM
            | flags::TARGET_TYPE_DOMAIN
            | flags::TARGET_INFO
            | flags::VERSION;
        if client & flags::UNICODE == 0 {
            f |= flags::OEM;
        }
        f
    }

    /// The Windows Server release each Exchange version runs on, as NTLM's Version field.
    pub fn windows_version(v: ExchangeVersion) -> (u8, u8, u16) {
        match v {
            ExchangeVersion::Ex2016 => (10, 0, 14393),
            ExchangeVersion::Ex2013 => (6, 3, 9600),
            ExchangeVersion::Ex2010 => (6, 1, 7601),
        }
    }

    /// The NetBIOS domain name: the organization's name, upper case, at most 15 characters of
    /// letters, digits and `-` (`Contoso` → `CONTOSO`).
    pub fn netbios_domain(org: &Organization) -> String {
        org.name
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
            .take(15)
            .collect::<String>()
            .to_ascii_uppercase()
    }

    /// The target information a member server sends: NbDomainName, NbComputerName,
    /// DnsDomainName, DnsComputerName, DnsTreeName, Timestamp, EOL (Windows' order).
    pub fn target_info(org: &Organization, server: &Server, now: OffsetDateTime) -> Vec<u8> {
        let dns_domain = org.domain.to_ascii_lowercase();
        let pair = |id, s: &str| AvPair {
            id,
            value: utf16le(s),
        };
        encode_av_pairs(&[
            pair(av::NB_DOMAIN_NAME, &netbios_domain(org)),
            pair(av::NB_COMPUTER_NAME, &server.name.to_ascii_uppercase()),
            pair(av::DNS_DOMAIN_NAME, &dns_domain),
            pair(av::DNS_COMPUTER_NAME, &server.fqdn.to_ascii_lowercase()),
            pair(av::DNS_TREE_NAME, &dns_domain),
            AvPair {
                id: av::TIMESTAMP,
                value: filetime(now).to_le_bytes().to_vec(),
            },
        ])
    }

    /// The type 2 for a type 1 with `client_flags`.
    pub fn challenge_for(
        org: &Organization,
        server: &Server,
        client_flags: u32,
        server_challenge: [u8; 8],
        now: OffsetDateTime,
    ) -> Challenge {
        Challenge {
            flags: challenge_flags(client_flags),
            server_challenge,
            target_name: netbios_domain(org),
            target_info: target_info(org, server, now),
            version: Some(windows_version(server.version)),
        }
    }

    /// The header scheme the client used.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Scheme {
        Ntlm,
        Negotiate,
    }

    impl Scheme {
        pub fn word(self) -> &'static str {
            match self {
                Scheme::Ntlm => "NTLM",
                Scheme::Negotiate => "Negotiate",
            }
        }

        /// Whether the vdir side's methods offer this scheme (the same rule that writes the
        /// challenge set: WindowsIntegrated offers both).
        pub fn offered(self, methods: &[AuthMethod]) -> bool {
            let m = match self {
                Scheme::Ntlm => AuthMethod::Ntlm,
                Scheme::Negotiate => AuthMethod::Negotiate,
            };
            methods.contains(&m) || methods.contains(&AuthMethod::WindowsIntegrated)
        }
    }

    /// A handshake waiting for its type 3.
    #[derive(Debug, Clone)]
    pub struct Pending {
        pub scheme: Scheme,
        pub negotiate: Vec<u8>,
        pub challenge: Vec<u8>,
        pub server_challenge: [u8; 8],
        /// Lab time (unix seconds) the challenge was sent.
        pub created: i64,
    }

    /// Which connection a handshake belongs to: the listener's server and the peer's address
    /// (unique per open TCP connection).
    pub type ConnKey = (String, SocketAddr);

    /// A connection on which NTLM succeeded: IIS keeps it authenticated (the default
    /// `authPersistSingleRequest="false"`), so later requests on it need no `Authorization`.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Authed {
        pub sid: String,
        pub scheme: Scheme,
    }

    #[derive(Debug, Default)]
    struct ConnState {
        pending: HashMap<ConnKey, Pending>,
        /// Connections accepted by a [`TrackedListener`] and not yet closed.
        open: HashSet<ConnKey>,
        authed: HashMap<ConnKey, Authed>,
    }

    /// Per-connection NTLM state: pending challenges (bounded, expiring after
    /// [`PENDING_TTL_SECONDS`]) and, for connections whose close is observed (accepted through a
    /// [`TrackedListener`]), the logon that persists on the connection.
    #[derive(Debug, Default)]
    pub struct Connections {
        inner: Mutex<ConnState>,
    }

    impl Connections {
        fn lock(&self) -> std::sync::MutexGuard<'_, ConnState> {
            self.inner.lock().unwrap_or_else(|e| e.into_inner())
        }

        pub fn insert(&self, key: ConnKey, p: Pending, now: i64) {
            let mut st = self.lock();
            let map = &mut st.pending;
            if map.len() >= MAX_PENDING && !map.contains_key(&key) {
                map.retain(|_, v| now - v.created <= PENDING_TTL_SECONDS);
                while map.len() >= MAX_PENDING {
                    let oldest = map
                        .iter()
                        .min_by_key(|(_, v)| v.created)
                        .map(|(k, _)| k.clone());
                    match oldest {
                        Some(k) => {
                            map.remove(&k);
                        }
                        None => break,
                    }
                }
            }
            map.insert(key, p);
        }

        /// Removes and returns the connection's pending challenge, if it has not expired.
        pub fn take(&self, key: &ConnKey, now: i64) -> Option<Pending> {
            let p = self.lock().pending.remove(key)?;
            (now - p.created <= PENDING_TTL_SECONDS && now >= p.created).then_some(p)
        }

        /// Number of pending handshakes.
        pub fn len(&self) -> usize {
            self.lock().pending.len()
        }

        pub fn is_empty(&self) -> bool {
            self.len() == 0
        }

        /// Number of open connections that carry a persisted logon.
        pub fn authenticated(&self) -> usize {
            self.lock().authed.len()
        }

        /// `iisreset`: the worker process is gone, and with it every handshake and logon.
        pub fn clear(&self) {
            let mut st = self.lock();
            st.pending.clear();
            st.authed.clear();
        }

        /// A tracked connection was accepted.
        pub fn opened(&self, key: ConnKey) {
            let mut st = self.lock();
            st.authed.remove(&key);
            st.open.insert(key);
        }

        /// A tracked connection was closed: everything bound to it goes.
        pub fn closed(&self, key: &ConnKey) {
            let mut st = self.lock();
            st.open.remove(key);
            st.pending.remove(key);
            st.authed.remove(key);
        }

        /// Keeps a logon for the connection, only when its close will be observed (otherwise a
        /// later connection reusing the peer port would inherit it).
        pub fn remember(&self, key: ConnKey, a: Authed) {
            let mut st = self.lock();
            if st.open.contains(&key) {
                st.authed.insert(key, a);
            }
        }

        /// A new handshake on the connection replaces its logon.
        pub fn forget_logon(&self, key: &ConnKey) {
            self.lock().authed.remove(key);
        }

        pub fn logon_of(&self, key: &ConnKey) -> Option<Authed> {
            self.lock().authed.get(key).cloned()
        }
    }

    /// A TCP listener whose connections report their close to [`Connections`], so a logon can
    /// persist on a connection (as IIS keeps an NTLM connection authenticated) and never outlive
    /// it. Built by [`track`].
    pub struct TrackedListener {
        inner: tokio::net::TcpListener,
        state: AppState,
        server: String,
    }

    /// The accepted stream: a `TcpStream` that tells [`Connections`] when it is dropped (before
    /// the socket closes, so no new connection can reuse the peer address first).
    pub struct TrackedStream {
        io: tokio::net::TcpStream,
        state: AppState,
        key: ConnKey,
    }

    /// Wraps a server's listener for `axum::serve(…, into_make_service_with_connect_info::<SocketAddr>())`
    /// (the `tap_io` wrapper is what gives `ConnectInfo<SocketAddr>` for a custom listener).
    pub fn track(
        listener: tokio::net::TcpListener,
        state: AppState,
        server: &str,
    ) -> TapIo<TrackedListener, fn(&mut TrackedStream)> {
        fn nothing(_: &mut TrackedStream) {}
        TrackedListener {
            inner: listener,
            state,
            server: server.to_ascii_uppercase(),
        }
        .tap_io(nothing as fn(&mut TrackedStream))
    }

    impl Listener for TrackedListener {
        type Io = TrackedStream;
        type Addr = SocketAddr;

        async fn accept(&mut self) -> (TrackedStream, SocketAddr) {
            let (io, addr) = Listener::accept(&mut self.inner).await;
            let key: ConnKey = (self.server.clone(), addr);
            self.state.ntlm.opened(key.clone());
            (
                TrackedStream {
                    io,
                    state: self.state.clone(),
                    key,
                },
                addr,
            )
        }

        fn local_addr(&self) -> std::io::Result<SocketAddr> {
            self.inner.local_addr()
        }
    }

    impl TrackedStream {
        /// For tests: a tracked stream over an existing connection.
        pub fn new(
            io: tokio::net::TcpStream,
            state: AppState,
            server: &str,
        ) -> std::io::Result<Self> {
            let key: ConnKey = (server.to_ascii_uppercase(), io.peer_addr()?);
            state.ntlm.opened(key.clone());
            Ok(TrackedStream { io, state, key })
        }
    }

    impl Drop for TrackedStream {
        fn drop(&mut self) {
            self.state.ntlm.closed(&self.key);
        }
    }

    impl AsyncRead for TrackedStream {
        fn poll_read(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &mut ReadBuf<'_>,
        ) -> Poll<std::io::Result<()>> {
            Pin::new(&mut self.io).poll_read(cx, buf)
        }
    }

    impl AsyncWrite for TrackedStream {
        fn poll_write(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<std::io::Result<usize>> {
            Pin::new(&mut self.io).poll_write(cx, buf)
        }
        fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
            Pin::new(&mut self.io).poll_flush(cx)
        }
        fn poll_shutdown(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
        ) -> Poll<std::io::Result<()>> {
            Pin::new(&mut self.io).poll_shutdown(cx)
        }
        fn poll_write_vectored(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            bufs: &[std::io::IoSlice<'_>],
        ) -> Poll<std::io::Result<usize>> {
            Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
        }
        fn is_write_vectored(&self) -> bool {
            self.io.is_write_vectored()
        }
    }

    /// Why a type 3 was refused (logged; the client sees the challenge set either way).
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub enum Reject {
        Malformed(Error),
        Anonymous,
        /// A 24-byte NT response: NTLMv1 (refused at LmCompatibilityLevel 5).
        NtlmV1,
        /// No NT response, only LM/LMv2.
        LmOnly,
        UnknownDomain(String),
        UnknownUser(String),
        Disabled(String),
        WrongPassword,
        ClockSkew,
        BadMic,
    }

    /// Verifies a type 3 for `pending` against the organization's accounts. Returns the account.
    pub fn verify(
        org: &Organization,
        pending: &Pending,
        raw: &[u8],
        now: OffsetDateTime,
    ) -> Result<Account, Reject> {
        let auth = Authenticate::parse(raw).map_err(Reject::Malformed)?;
        if auth.user.is_empty() && auth.nt_response.is_empty() {
            return Err(Reject::Anonymous);
        }
        match auth.nt_response.len() {
            0 => return Err(Reject::LmOnly),
            24 => return Err(Reject::NtlmV1),
            _ => {}
        }
        let v2 = V2Response::parse(&auth.nt_response).map_err(Reject::Malformed)?;
        let domain_ok = auth.domain.is_empty()
            || auth.domain.eq_ignore_ascii_case(&netbios_domain(org))
            || auth.domain.eq_ignore_ascii_case(&org.domain);
        if !domain_ok {
            return Err(Reject::UnknownDomain(auth.domain));
        }
        let account = org
            .account_by_logon(&auth.user)
            .ok_or_else(|| Reject::UnknownUser(auth.user.clone()))?;
        let key = ntowf_v2(&account.password, &auth.user, &auth.domain);
        let proof = hmac_md5(&key, &[&pending.server_challenge, v2.temp]);
        if !constant_time_eq(&proof, v2.nt_proof) {
            return Err(Reject::WrongPassword);
        }
        let now_ft = filetime(now);
        let skew = now_ft.abs_diff(v2.timestamp) / 10_000_000;
        if skew > MAX_LIFETIME_SECONDS {
            return Err(Reject::ClockSkew);
        }
        let mic_flagged = av_value(&v2.av_pairs, av::FLAGS)
            .and_then(|v| <[u8; 4]>::try_from(v).ok())
            .map(u32::from_le_bytes)
            .is_some_and(|f| f & av::FLAG_MIC_PRESENT != 0);
        if mic_flagged {
            let Some(mic) = auth.mic else {
                return Err(Reject::BadMic);
            };
            let session_base_key = hmac_md5(&key, &[v2.nt_proof]);
            let exported: Vec<u8> =
                if auth.flags & flags::KEY_EXCH != 0 && auth.encrypted_session_key.len() == 16 {
                    rc4(&session_base_key, &auth.encrypted_session_key)
                } else {
                    session_base_key.to_vec()
                };
            let mut zeroed = raw.to_vec();
            zeroed[MIC_OFFSET..MIC_OFFSET + 16].fill(0);
            let expected = hmac_md5(
                &exported,
                &[&pending.negotiate, &pending.challenge, &zeroed],
            );
            if !constant_time_eq(&expected, &mic) {
                return Err(Reject::BadMic);
            }
        }
        if !account.enabled {
            return Err(Reject::Disabled(account.sam.clone()));
        }
        Ok(account.clone())
    }

    /// What the pipeline does with an `NTLM`/`Negotiate` Authorization header.
    pub enum Logon {
        /// Send this 401 carrying the type 2 (same connection continues).
        Continue(Response),
        /// Logged on.
        Done(Option<AuthedUser>, Authn),
        /// Answer with the vdir's challenge set.
        Refused,
    }

    /// Everything [`logon`] needs from the request.
    pub struct LogonRequest<'a> {
        pub store: &'a Connections,
        pub org: &'a Organization,
        pub server: &'a Server,
        /// The vdir side's methods.
        pub methods: &'a [AuthMethod],
        pub parts: &'a Parts,
        /// `ntlm` or `negotiate` (lowercase header scheme).
        pub scheme_word: &'a str,
        pub credentials: &'a str,
        pub now: OffsetDateTime,
    }

    /// Runs one leg of the handshake, or (no `Authorization`, `scheme_word` empty) resumes the
    /// logon persisted on the connection. Without a connection identity (a router used without
    /// `into_make_service_with_connect_info`) no handshake can be bound to a connection, so the
    /// type 1 gets the challenge set again.
    pub fn logon(r: LogonRequest<'_>) -> Logon {
        use base64::Engine;
        let Some(peer) = r
            .parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0)
        else {
            return Logon::Refused;
        };
        let key: ConnKey = (r.server.name.to_ascii_uppercase(), peer);
        let scheme = match r.scheme_word {
            "ntlm" => Scheme::Ntlm,
            "negotiate" => Scheme::Negotiate,
            "" => return persisted(&r, &key),
            _ => return Logon::Refused,
        };
        if !scheme.offered(r.methods) || r.credentials.len() > MAX_TOKEN {
            return Logon::Refused;
        }
        let Ok(token) = base64::engine::general_purpose::STANDARD.decode(r.credentials.as_bytes())
        else {
            return Logon::Refused;
        };
        // Kerberos / SPNEGO (`60 …` GSS-API, `a1 …` NegTokenResp) and anything else that is not
        // raw NTLMSSP: the lab has no Kerberos key, so the logon fails as IIS fails a Kerberos
        // ticket it cannot decrypt — the challenge set again.
        if token.len() < 12 || &token[..8] != SIGNATURE {
            tracing::debug!(scheme = scheme.word(), "not an NTLMSSP token; refused");
            return Logon::Refused;
        }
        let now_unix = r.now.unix_timestamp();
        match u32::from_le_bytes([token[8], token[9], token[10], token[11]]) {
            1 => {
                r.store.forget_logon(&key);
                let Ok(t1) = Negotiate::parse(&token) else {
                    return Logon::Refused;
                };
                let mut sc = [0u8; 8];
                {
                    use rand::RngCore;
                    rand::rng().fill_bytes(&mut sc);
                }
                let t2 = challenge_for(r.org, r.server, t1.flags, sc, r.now).to_bytes();
                r.store.insert(
                    key,
                    Pending {
                        scheme,
                        negotiate: token,
                        challenge: t2.clone(),
                        server_challenge: sc,
                        created: now_unix,
                    },
                    now_unix,
                );
                Logon::Continue(challenge_response(
                    r.server,
                    &header_value(scheme.word(), &t2),
                    r.now,
                ))
            }
            3 => {
                let Some(pending) = r.store.take(&key, now_unix) else {
                    tracing::debug!("NTLM type 3 without a pending challenge on this connection");
                    return Logon::Refused;
                };
                if pending.scheme != scheme {
                    return Logon::Refused;
                }
                match verify(r.org, &pending, &token, r.now) {
                    Ok(account) => {
                        r.store.remember(
                            key,
                            Authed {
                                sid: account.sid.clone(),
                                scheme,
                            },
                        );
                        done(r.org, &account, scheme)
                    }
                    Err(why) => {
                        tracing::debug!(reason = ?why, "NTLM logon refused");
                        Logon::Refused
                    }
                }
            }
            _ => Logon::Refused,
        }
    }

    fn done(org: &Organization, account: &Account, scheme: Scheme) -> Logon {
        let user = org.mailbox_of_sid(&account.sid).map(|m| AuthedUser {
            account: account.clone(),
            mailbox: m.clone(),
        });
        let authn = match scheme {
            Scheme::Ntlm => Authn::Ntlm,
            Scheme::Negotiate => Authn::Negotiate,
        };
        Logon::Done(user, authn)
    }

    /// A request without `Authorization` on a connection that logged on with NTLM earlier: the
    /// same user, while this vdir side still offers the scheme and the account is enabled.
    fn persisted(r: &LogonRequest<'_>, key: &ConnKey) -> Logon {
        let Some(a) = r.store.logon_of(key) else {
            return Logon::Refused;
        };
        if !a.scheme.offered(r.methods) {
            return Logon::Refused;
        }
        match r.org.account_by_sid(&a.sid) {
            Some(account) if account.enabled => done(r.org, account, a.scheme),
            _ => Logon::Refused,
        }
    }

    /// The 401 carrying a type 2: the headers of every 401 (Content-Length first, Server,
    /// request-id, then the one `WWW-Authenticate`, X-FEServer, X-Powered-By, Date).
    pub fn challenge_response(
        server: &Server,
        www_authenticate: &str,
        now: OffsetDateTime,
    ) -> Response {
        let mut resp = respond::unauthorized(Unauthorized {
            server,
            methods: &[],
            host: "",
            bearer: None,
            diag: None,
            now,
        });
        let old = std::mem::take(resp.headers_mut());
        let mut h = HeaderMap::new();
        let mut last: Option<HeaderName> = None;
        for (name, value) in old {
            // `HeaderMap::into_iter` yields `None` names for further values of the same name.
            let name = match name {
                Some(n) => {
                    last = Some(n.clone());
                    n
                }
                None => match &last {
                    Some(n) => n.clone(),
                    None => continue,
                },
            };
            let after = name.as_str() == "request-id";
            h.append(name, value);
            if after {
                if let Ok(v) = HeaderValue::from_str(www_authenticate) {
                    h.append(HeaderName::from_static("www-authenticate"), v);
                }
            }
        }
        *resp.headers_mut() = h;
        resp
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    #[test]
    fn tokens_are_found_only_under_their_scheme() {
        let values = [
            "Negotiate",
            "NTLM",
            "Basic realm=\"mail.contoso.com\"",
            "Bearer client_id=\"x\"",
        ];
        assert_eq!(token_from_headers("NTLM", values), None);
        let t1 = client::negotiate_message();
        let v = header_value("NTLM", &t1);
        assert!(v.starts_with("NTLM TlRMTVNTUAABAAAAl4II4gAA"), "{v}");
        assert_eq!(
            token_from_headers("ntlm", ["Negotiate", v.as_str()]),
            Some(t1.clone())
        );
        assert_eq!(token_from_headers("Negotiate", [v.as_str()]), None);
        let hs = client::Handshake::new("NTLM", "GregT", "CONTOSO", "x");
        assert_eq!(hs.negotiate_header(), v);
        assert!(hs.authenticate_header(values).is_none());
        assert!(matches!(
            hs.authenticate_header(["NTLM TlRMTVNTUAABAAAA"]),
            Some(
                Err(Error::MessageType {
                    expected: 2,
                    got: 1
                }) | Err(Error::Truncated(_))
            )
        ));
    }

    #[test]
    fn rc4_matches_the_classic_vector() {
        // "Key" / "Plaintext" → bbf316e8d940af0ad3 (the well-known RC4 example).
        assert_eq!(hex(&rc4(b"Key", b"Plaintext")), "bbf316e8d940af0ad3");
    }

    #[test]
    fn av_pairs_round_trip_and_overruns_are_errors() {
        let pairs = vec![
            AvPair {
                id: av::NB_DOMAIN_NAME,
                value: utf16le("D"),
            },
            AvPair {
                id: av::TIMESTAMP,
                value: 5u64.to_le_bytes().to_vec(),
            },
        ];
        let b = encode_av_pairs(&pairs);
        assert_eq!(parse_av_pairs(&b), Ok(pairs.clone()));
        assert_eq!(av_timestamp(&pairs), Some(5));
        assert_eq!(
            parse_av_pairs(&[2, 0, 9, 0, 1]),
            Err(Error::TargetInfo),
            "length past the end"
        );
        assert_eq!(parse_av_pairs(&[2, 0, 0]), Err(Error::TargetInfo));
    }

    #[test]
    fn pending_store_is_bounded_and_expires() {
        let store = server::Connections::default();
        let p = |created| server::Pending {
            scheme: server::Scheme::Ntlm,
            negotiate: vec![],
            challenge: vec![],
            server_challenge: [0; 8],
            created,
        };
        for i in 0..(server::MAX_PENDING + 50) {
            let addr = std::net::SocketAddr::from(([127, 0, 0, 1], (i % 65536) as u16));
            let key = (format!("EX{}", i / 65536), addr);
            store.insert(key, p(0), 0);
        }
        assert_eq!(store.len(), server::MAX_PENDING);
        let key = (
            "EX1".to_string(),
            std::net::SocketAddr::from(([10, 0, 0, 1], 1)),
        );
        store.insert(key.clone(), p(1000), 1000);
        assert!(store
            .take(&key, 1000 + server::PENDING_TTL_SECONDS + 1)
            .is_none());
        store.insert(key.clone(), p(1000), 1000);
        assert!(store
            .take(&key, 1000 + server::PENDING_TTL_SECONDS)
            .is_some());
        assert!(store.take(&key, 1000).is_none(), "taken once");
    }
}
