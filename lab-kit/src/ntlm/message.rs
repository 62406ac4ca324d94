//! The three NTLM messages (MS-NLMP 2.2): NEGOTIATE (type 1), CHALLENGE (type 2) and
//! AUTHENTICATE (type 3), the target information (`AV_PAIR` lists) a CHALLENGE carries and an
//! NTLMv2 response echoes, and the NTLMv2 response's own layout.
//!
//! Readers return [`Error`] for anything malformed; writers build exactly the bytes the
//! specification lays out. The low-level field helpers are shared with [`super::client`], which
//! builds a type 1 and a type 3 as Windows does.

use std::fmt;

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

pub(super) fn encode_text(s: &str, unicode: bool) -> Vec<u8> {
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
pub(super) fn put_field(out: &mut Vec<u8>, at: usize, payload: &[u8]) {
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

/// The value of the first pair with `id`.
pub fn av_value(pairs: &[AvPair], id: u16) -> Option<&[u8]> {
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
