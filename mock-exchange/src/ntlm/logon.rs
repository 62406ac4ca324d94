//! The server logon: what a Windows member server running IIS does with an NTLM or
//! Negotiate(NTLMSSP) `Authorization` header, on plain data.
//!
//! A NEGOTIATE_MESSAGE (type 1) is answered with a CHALLENGE_MESSAGE (type 2) shaped as a member
//! server builds it ([`challenge_for`]); the challenge is remembered for that TCP connection only
//! ([`super::connections`]); the AUTHENTICATE_MESSAGE (type 3) is verified as NTLMv2 against the
//! account's password ([`verify`]), and the logon then persists on the connection. NTLMv1 and LM
//! responses are refused, as a server at the modern `LmCompatibilityLevel` does. Kerberos and
//! SPNEGO tokens are refused too: the lab has no Kerberos key.
//!
//! Everything comes in as data — the [`Domain`] whose accounts a logon is checked against, the
//! server answering, the methods its vdir offers, the peer, the lab time and the source of server
//! challenges — and [`logon`] answers with what to do ([`Logon`]), not with an HTTP response: the
//! pipeline renders the 401 and maps the account to its mailbox. The messages themselves are
//! `lab_kit::ntlm`, the codec the reference client uses too.

use std::net::SocketAddr;

use lab_kit::ntlm::{
    av, av_value, encode_av_pairs, filetime, flags, header_value, hmac_md5, ntowf_v2, rc4, utf16le,
    Authenticate, AvPair, Challenge, Error, Negotiate, V2Response, MIC_OFFSET, SIGNATURE,
};
use time::OffsetDateTime;

use super::connections::{Authed, ConnKey, Connections, Pending, Scheme};
use crate::model::{self, Account, AuthMethod, ExchangeVersion, Organization, Server};

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

/// The Windows domain a logon is checked against: its two names and its accounts.
#[derive(Debug, Clone)]
pub struct Domain<'a> {
    /// The NetBIOS name (`CONTOSO`), the type 2's target name.
    pub netbios: String,
    /// The DNS name (`contoso.com`).
    pub dns: &'a str,
    pub accounts: &'a [Account],
}

impl<'a> Domain<'a> {
    /// The organization's domain. The NetBIOS name is the organization's name, upper case, at
    /// most 15 characters of letters, digits and `-` (`Contoso` → `CONTOSO`).
    pub fn of(org: &'a Organization) -> Domain<'a> {
        Domain {
            netbios: org
                .name
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
                .take(15)
                .collect::<String>()
                .to_ascii_uppercase(),
            dns: &org.domain,
            accounts: &org.accounts,
        }
    }

    /// Whether a type 3's domain names this domain (empty: a UPN logon).
    fn names(&self, domain: &str) -> bool {
        domain.is_empty()
            || domain.eq_ignore_ascii_case(&self.netbios)
            || domain.eq_ignore_ascii_case(self.dns)
    }
}

/// The target information a member server sends: NbDomainName, NbComputerName,
/// DnsDomainName, DnsComputerName, DnsTreeName, Timestamp, EOL (Windows' order).
pub fn target_info(domain: &Domain<'_>, server: &Server, now: OffsetDateTime) -> Vec<u8> {
    let dns_domain = domain.dns.to_ascii_lowercase();
    let pair = |id, s: &str| AvPair {
        id,
        value: utf16le(s),
    };
    encode_av_pairs(&[
        pair(av::NB_DOMAIN_NAME, &domain.netbios),
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
    domain: &Domain<'_>,
    server: &Server,
    client_flags: u32,
    server_challenge: [u8; 8],
    now: OffsetDateTime,
) -> Challenge {
    Challenge {
        flags: challenge_flags(client_flags),
        server_challenge,
        target_name: domain.netbios.clone(),
        target_info: target_info(domain, server, now),
        version: Some(windows_version(server.version)),
    }
}

/// Where server challenges come from: eight random bytes, as Windows draws them.
pub fn random_challenge() -> [u8; 8] {
    use rand::RngCore;
    let mut sc = [0u8; 8];
    rand::rng().fill_bytes(&mut sc);
    sc
}

use lab_kit::secret::constant_time_eq;

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

/// Verifies a type 3 for `pending` against the domain's accounts. Returns the account.
pub fn verify(
    domain: &Domain<'_>,
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
    if !domain.names(&auth.domain) {
        return Err(Reject::UnknownDomain(auth.domain));
    }
    let account = model::account_by_logon(domain.accounts, &auth.user)
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
#[derive(Debug, Clone)]
pub enum Logon {
    /// Answer 401 with this one `WWW-Authenticate` value, carrying the type 2 (the same
    /// connection continues).
    Continue(String),
    /// Logged on as this account, with this scheme.
    Done(Account, Scheme),
    /// Answer with the vdir's challenge set.
    Refused,
}

/// Everything [`logon`] needs, as data.
pub struct LogonRequest<'a> {
    pub store: &'a Connections,
    pub domain: &'a Domain<'a>,
    /// The server answering (its name keys the connection; it is named in the type 2).
    pub server: &'a Server,
    /// The vdir side's methods.
    pub methods: &'a [AuthMethod],
    /// The client's address: with the server's name, the connection's identity. `None` when the
    /// router runs without `into_make_service_with_connect_info`.
    pub peer: Option<SocketAddr>,
    /// `ntlm` or `negotiate` (lowercase header scheme); empty without `Authorization`.
    pub scheme_word: &'a str,
    pub credentials: &'a str,
    /// Lab time.
    pub now: OffsetDateTime,
    /// Draws a server challenge for a type 1 ([`random_challenge`] in service).
    pub challenge: fn() -> [u8; 8],
}

/// Runs one leg of the handshake, or (no `Authorization`, `scheme_word` empty) resumes the
/// logon persisted on the connection. Without a connection identity no handshake can be bound
/// to a connection, so the type 1 gets the challenge set again.
pub fn logon(r: LogonRequest<'_>) -> Logon {
    use base64::Engine;
    let Some(peer) = r.peer else {
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
            let sc = (r.challenge)();
            let t2 = challenge_for(r.domain, r.server, t1.flags, sc, r.now).to_bytes();
            let value = header_value(scheme.word(), &t2);
            r.store.insert(
                key,
                Pending {
                    scheme,
                    negotiate: token,
                    challenge: t2,
                    server_challenge: sc,
                    created: now_unix,
                },
                now_unix,
            );
            Logon::Continue(value)
        }
        3 => {
            let Some(pending) = r.store.take(&key, now_unix) else {
                tracing::debug!("NTLM type 3 without a pending challenge on this connection");
                return Logon::Refused;
            };
            if pending.scheme != scheme {
                return Logon::Refused;
            }
            match verify(r.domain, &pending, &token, r.now) {
                Ok(account) => {
                    r.store.remember(
                        key,
                        Authed {
                            sid: account.sid.clone(),
                            scheme,
                        },
                    );
                    Logon::Done(account, scheme)
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

/// A request without `Authorization` on a connection that logged on with NTLM earlier: the
/// same user, while this vdir side still offers the scheme and the account is enabled.
fn persisted(r: &LogonRequest<'_>, key: &ConnKey) -> Logon {
    let Some(a) = r.store.logon_of(key) else {
        return Logon::Refused;
    };
    if !a.scheme.offered(r.methods) {
        return Logon::Refused;
    }
    match model::account_by_sid(r.domain.accounts, &a.sid) {
        Some(account) if account.enabled => Logon::Done(account.clone(), a.scheme),
        _ => Logon::Refused,
    }
}
