//! The client half: what a Windows client sends, for the lab's reference Outlook client (and for
//! mock Exchange's tests, which log on with it).
//!
//! [`negotiate_message`] is Windows 10's type 1; [`authenticate_message`] answers a type 2 with
//! an NTLMv2 response (never v1/LM), adds a MIC when the server sent a timestamp and the type 1
//! is known, and wraps a random session key when KEY_EXCH was negotiated. [`Handshake`] keeps
//! the state of one logon for HTTP use.

use super::crypto::{filetime, hmac_md5, ntowf_v2, rc4};
use super::http::{header_value, token_from_headers};
use super::message::{
    av, av_timestamp, av_value, encode_av_pairs, encode_text, flags, put_field, utf16le, v2_temp,
    AvPair, Challenge, Error, MIC_OFFSET, SIGNATURE,
};

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
    /// `MsvAvChannelBindings` ([`super::binding::tls_server_end_point`] of the certificate the
    /// client saw), as Windows sends over HTTPS; replaces the empty bindings `spn` implies.
    pub channel_bindings: Option<[u8; 16]>,
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
    if opts.spn.is_some() || opts.channel_bindings.is_some() {
        pairs.push(AvPair {
            id: av::CHANNEL_BINDINGS,
            value: opts.channel_bindings.unwrap_or_default().to_vec(),
        });
    }
    if let Some(spn) = &opts.spn {
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
