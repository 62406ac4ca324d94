//! Windows integrated sign-in: the NTLM logon (raw NTLMSSP under `Negotiate` or `NTLM`) a
//! domain-joined client performs against the farm, and the extended-protection check on it.
//!
//! One leg per request, on plain data: no `Authorization` → challenge with both schemes; a
//! NEGOTIATE → a CHALLENGE remembered for that TCP connection (the peer address), for a minute of
//! lab time; an AUTHENTICATE → verified as NTLMv2 against the account's password, then its
//! `MsvAvChannelBindings` is compared with the binding of the farm's TLS certificate as
//! `ExtendedProtectionTokenCheck` says ([`binding_accepted`]). The binding sits inside the
//! NTLMv2 blob the proof covers, so it cannot be changed without the password. Kerberos and
//! SPNEGO tokens are refused (the lab has no Kerberos key), NTLMv1 and LM too.

use std::net::SocketAddr;

use base64::Engine;
use lab_kit::ntlm::binding::{is_unbound, tls_server_end_point};
use lab_kit::ntlm::{
    av, av_value, encode_av_pairs, filetime, flags, header_value, hmac_md5, ntowf_v2, utf16le,
    Authenticate, AvPair, Challenge, Negotiate, V2Response, SIGNATURE,
};
use lab_kit::secret::constant_time_eq;

use crate::model::{ExtendedProtection, Farm, User};
use crate::state::{AppState, Pending, MAX_ENTRIES, PENDING_SECONDS};

/// Tokens longer than this (base64) are refused unread.
pub const MAX_TOKEN: usize = 16 * 1024;
/// An NTLMv2 timestamp further than this from the lab clock is refused (MS-NLMP MaxLifetime).
pub const MAX_SKEW_SECONDS: u64 = 36 * 3600;

/// What one leg of the logon comes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Answer 401 with these `WWW-Authenticate` values.
    Challenge(Vec<String>),
    /// Logged on as this user.
    LoggedOn(User),
}

/// Why an AUTHENTICATE was refused (logged; the client sees the challenges again).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    NotNtlm,
    NoPendingChallenge,
    Malformed,
    NotNtlmV2,
    UnknownUser(String),
    WrongPassword,
    Disabled(String),
    ClockSkew,
    /// Extended protection: the channel binding is absent or does not match the endpoint.
    ChannelBinding,
}

/// The challenge set every refusal answers with.
pub fn challenges() -> Vec<String> {
    vec!["Negotiate".into(), "NTLM".into()]
}

/// Whether extended protection lets a logon with channel binding `sent` through, when the
/// farm's TLS endpoint has binding `expected`.
pub fn binding_accepted(
    mode: ExtendedProtection,
    sent: Option<&[u8]>,
    expected: Option<[u8; 16]>,
) -> bool {
    let sent = sent.filter(|v| !is_unbound(v));
    match mode {
        ExtendedProtection::None => true,
        ExtendedProtection::Allow => sent.is_none_or(|s| expected.is_some_and(|e| e[..] == *s)),
        ExtendedProtection::Require => {
            matches!((sent, expected), (Some(s), Some(e)) if e[..] == *s)
        }
    }
}

/// The CHALLENGE a Windows Server 2016 federation server sends for a NEGOTIATE with `client`
/// flags: the requests it supports echoed, plus NTLM, TARGET_INFO, VERSION and a domain target.
fn challenge_message(
    farm: &Farm,
    client: u32,
    server_challenge: [u8; 8],
    now_ms: i64,
) -> Challenge {
    let echoed = flags::UNICODE
        | flags::REQUEST_TARGET
        | flags::SIGN
        | flags::SEAL
        | flags::ALWAYS_SIGN
        | flags::EXTENDED_SESSIONSECURITY
        | flags::N128
        | flags::KEY_EXCH
        | flags::N56;
    let computer = farm.host.split('.').next().unwrap_or("ADFS");
    let text = |id, s: &str| AvPair {
        id,
        value: utf16le(s),
    };
    let when = time::OffsetDateTime::from_unix_timestamp(now_ms.div_euclid(1000))
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    Challenge {
        flags: (client & echoed)
            | flags::NTLM
            | flags::TARGET_TYPE_DOMAIN
            | flags::TARGET_INFO
            | flags::VERSION,
        server_challenge,
        target_name: farm.domain.netbios.clone(),
        target_info: encode_av_pairs(&[
            text(av::NB_DOMAIN_NAME, &farm.domain.netbios),
            text(av::NB_COMPUTER_NAME, &computer.to_ascii_uppercase()),
            text(av::DNS_DOMAIN_NAME, &farm.domain.dns),
            text(av::DNS_COMPUTER_NAME, &farm.host),
            text(av::DNS_TREE_NAME, &farm.domain.dns),
            AvPair {
                id: av::TIMESTAMP,
                value: filetime(when).to_le_bytes().to_vec(),
            },
        ]),
        version: Some((10, 0, 14393)),
    }
}

/// Checks an AUTHENTICATE against the farm: the user, the NTLMv2 proof, the clock, the account,
/// then extended protection.
pub fn verify(
    farm: &Farm,
    server_challenge: &[u8; 8],
    raw: &[u8],
    now_ms: i64,
    expected_binding: Option<[u8; 16]>,
) -> Result<User, Refusal> {
    let msg = Authenticate::parse(raw).map_err(|_| Refusal::Malformed)?;
    if msg.nt_response.len() <= 24 {
        return Err(Refusal::NotNtlmV2);
    }
    let blob = V2Response::parse(&msg.nt_response).map_err(|_| Refusal::Malformed)?;
    if !farm.names_domain(&msg.domain) {
        return Err(Refusal::UnknownUser(format!(
            "{}\\{}",
            msg.domain, msg.user
        )));
    }
    let user = farm
        .user_by_logon(&msg.user)
        .ok_or_else(|| Refusal::UnknownUser(msg.user.clone()))?;
    let key = ntowf_v2(&user.password, &msg.user, &msg.domain);
    if !constant_time_eq(
        &hmac_md5(&key, &[server_challenge, blob.temp]),
        blob.nt_proof,
    ) {
        return Err(Refusal::WrongPassword);
    }
    let now = filetime(
        time::OffsetDateTime::from_unix_timestamp(now_ms.div_euclid(1000))
            .unwrap_or(time::OffsetDateTime::UNIX_EPOCH),
    );
    if now.abs_diff(blob.timestamp) / 10_000_000 > MAX_SKEW_SECONDS {
        return Err(Refusal::ClockSkew);
    }
    if !user.enabled {
        return Err(Refusal::Disabled(user.sam.clone()));
    }
    let sent = av_value(&blob.av_pairs, av::CHANNEL_BINDINGS);
    if !binding_accepted(
        farm.properties.extended_protection_token_check,
        sent,
        expected_binding,
    ) {
        return Err(Refusal::ChannelBinding);
    }
    Ok(user.clone())
}

/// Runs one leg for the request's `Authorization` value from `peer`.
pub fn step(s: &AppState, peer: Option<SocketAddr>, authorization: Option<&str>) -> Step {
    let Some(value) = authorization else {
        return Step::Challenge(challenges());
    };
    match leg(s, peer, value) {
        Ok(step) => step,
        Err(why) => {
            tracing::debug!(reason = ?why, "Windows logon refused");
            Step::Challenge(challenges())
        }
    }
}

fn leg(s: &AppState, peer: Option<SocketAddr>, value: &str) -> Result<Step, Refusal> {
    let (scheme, b64) = value.trim().split_once(' ').ok_or(Refusal::NotNtlm)?;
    let scheme = if scheme.eq_ignore_ascii_case("negotiate") {
        "Negotiate"
    } else if scheme.eq_ignore_ascii_case("ntlm") {
        "NTLM"
    } else {
        return Err(Refusal::NotNtlm);
    };
    // Without a connection identity no handshake can be bound to a connection.
    let peer = peer.ok_or(Refusal::NoPendingChallenge)?;
    if b64.len() > MAX_TOKEN {
        return Err(Refusal::Malformed);
    }
    let token = base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .map_err(|_| Refusal::Malformed)?;
    if token.len() < 12 || &token[..8] != SIGNATURE {
        return Err(Refusal::NotNtlm);
    }
    let now_ms = s.now_ms();
    let mut pending = s.pending.lock().unwrap_or_else(|e| e.into_inner());
    match token[8] {
        1 => {
            let t1 = Negotiate::parse(&token).map_err(|_| Refusal::Malformed)?;
            let sc: [u8; 8] = rand::random();
            let t2 = challenge_message(&s.farm(), t1.flags, sc, now_ms).to_bytes();
            let now = s.clock.unix();
            pending.retain(|_, p| now - p.created < PENDING_SECONDS);
            lab_kit::bounded::evict_lowest(&mut pending, MAX_ENTRIES, |p| p.created);
            pending.insert(
                peer,
                Pending {
                    challenge: sc,
                    created: now,
                },
            );
            Ok(Step::Challenge(vec![header_value(scheme, &t2)]))
        }
        3 => {
            let p = pending.remove(&peer).ok_or(Refusal::NoPendingChallenge)?;
            drop(pending);
            if s.clock.unix() - p.created >= PENDING_SECONDS {
                return Err(Refusal::NoPendingChallenge);
            }
            let expected = s.tls_certificate().map(|der| tls_server_end_point(&der));
            let farm = s.farm();
            verify(&farm, &p.challenge, &token, now_ms, expected).map(Step::LoggedOn)
        }
        _ => Err(Refusal::Malformed),
    }
}

/// Whether a browser request is offered Windows integrated sign-in: it already carries Windows
/// credentials, or it comes from the intranet (not through a Web Application Proxy, which marks
/// requests with `X-MS-Proxy`) with a `User-Agent` on the farm's WIA list.
pub fn offered(farm: &Farm, headers: &axum::http::HeaderMap) -> bool {
    let auth = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let word = auth.split(' ').next().unwrap_or("");
    if word.eq_ignore_ascii_case("negotiate") || word.eq_ignore_ascii_case("ntlm") {
        return true;
    }
    if headers.contains_key("x-ms-proxy") {
        return false;
    }
    let ua = headers
        .get(axum::http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    farm.properties
        .wia_supported_user_agents
        .iter()
        .any(|a| !a.is_empty() && ua.contains(a.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ExtendedProtection::{Allow, Require};

    #[test]
    fn extended_protection_modes() {
        let e = Some([7u8; 16]);
        let good = [7u8; 16];
        let proxy = [9u8; 16];
        let zero = [0u8; 16];
        for sent in [None, Some(&zero[..]), Some(&good[..]), Some(&proxy[..])] {
            assert!(binding_accepted(ExtendedProtection::None, sent, e));
        }
        assert!(binding_accepted(Allow, Option::None, e));
        assert!(binding_accepted(Allow, Some(&zero), e));
        assert!(binding_accepted(Allow, Some(&good), e));
        assert!(!binding_accepted(Allow, Some(&proxy), e));
        assert!(!binding_accepted(Require, Option::None, e));
        assert!(!binding_accepted(Require, Some(&zero), e));
        assert!(binding_accepted(Require, Some(&good), e));
        assert!(!binding_accepted(Require, Some(&proxy), e));
        assert!(!binding_accepted(Require, Some(&good), Option::None));
    }
}
