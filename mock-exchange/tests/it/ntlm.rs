//! NTLM and Negotiate(NTLMSSP) logon: the server accepting the MS-NLMP §4.2.4 NTLMv2 example
//! (whose bytes `lab_kit::ntlm` checks), the CHALLENGE
//! message a Windows member server sends, full handshakes through the router (with a connection
//! identity) and over a real kept-alive socket with reqwest, every refusal (wrong password,
//! NTLMv1/LM, unknown domain, disabled account, other connection, expiry, tampered MIC, clock
//! skew, SPNEGO/Kerberos, vdirs without Windows auth) and random garbage that must never panic.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::Request;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use lab_kit::ntlm::client::{self, Handshake, Options};
use lab_kit::ntlm::{self, av, flags, vectors, Authenticate, AvPair, Challenge, Negotiate};
use mock_exchange::model::{Account, AuthMethod, VdirKind};
use mock_exchange::ntlm::{logon, Authed, Domain, Pending, Reject, Scheme, TrackedStream};
use rand::{Rng, RngCore, SeedableRng};
use time::OffsetDateTime;

use crate::common::*;

const EWS: &str = "/EWS/Exchange.asmx";
const HOST: &str = "mail.contoso.com";
const PASSWORD: &str = "Contoso2017!";

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn t0() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(T0).unwrap_or_else(|e| panic!("{e}"))
}

// ---------------------------------------------------------------------------------------------
// The MS-NLMP §4.2.4 (NTLMv2) example (its bytes are checked in lab_kit::ntlm)

#[test]
fn the_server_verifies_the_test_vector_message() {
    let mut org = contoso();
    org.name = "Domain".into();
    org.accounts.push(Account {
        sam: "User".into(),
        upn: "User@contoso.com".into(),
        sid: "S-1-5-21-1-2-3-4242".into(),
        password: "Password".into(),
        display_name: "User".into(),
        enabled: true,
    });
    let challenge = vectors::challenge();
    let pending = Pending {
        scheme: Scheme::Ntlm,
        negotiate: client::negotiate_message(),
        challenge: challenge.clone(),
        server_challenge: vectors::SERVER_CHALLENGE,
        created: 0,
    };
    let t3 = client::authenticate_message(
        &challenge,
        vectors::USER,
        vectors::DOMAIN,
        vectors::PASSWORD,
        &vectors::client_options(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    // The vector's timestamp is FILETIME 0 (1601-01-01): the server's clock must be there too.
    let epoch_1601 =
        OffsetDateTime::from_unix_timestamp(-11_644_473_600).unwrap_or_else(|e| panic!("{e}"));
    let ok = logon::verify(&Domain::of(&org), &pending, &t3, epoch_1601)
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(ok.sam, "User");
    assert_eq!(
        logon::verify(&Domain::of(&org), &pending, &t3, t0()).map(|a| a.sam),
        Err(Reject::ClockSkew)
    );
    let wrong = client::authenticate_message(
        &challenge,
        vectors::USER,
        vectors::DOMAIN,
        "Passw0rd",
        &vectors::client_options(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        logon::verify(&Domain::of(&org), &pending, &wrong, epoch_1601).map(|a| a.sam),
        Err(Reject::WrongPassword)
    );
}

// ---------------------------------------------------------------------------------------------
// Through the router (oneshot, with a connection identity as the real listener provides)

fn peer(port: u16) -> SocketAddr {
    SocketAddr::from(([192, 0, 2, 10], port))
}

fn on_conn(path: &str, auth: Option<&str>, port: u16) -> Request<Body> {
    let mut b = req("POST", HOST, path).extension(ConnectInfo(peer(port)));
    if let Some(a) = auth {
        b = b.header("authorization", a);
    }
    empty(b)
}

/// Type 1 then type 3 on connection `port`; returns the type 2 response and the final one.
async fn handshake(lab: &Lab, path: &str, hs: &Handshake, port: u16) -> (Resp, Resp) {
    let r2 = lab
        .send("EX1", on_conn(path, Some(&hs.negotiate_header()), port))
        .await;
    let t3 = hs
        .authenticate_header(r2.all("www-authenticate"))
        .unwrap_or_else(|| panic!("no type 2 in {r2:?}"))
        .unwrap_or_else(|e| panic!("{e}"));
    let r3 = lab.send("EX1", on_conn(path, Some(&t3), port)).await;
    (r2, r3)
}

fn greg(scheme: &str) -> Handshake {
    Handshake::new(scheme, "GregT", "CONTOSO", PASSWORD)
}

/// The request reached the surface as GregT: not a 401, and routed to his mailbox's server
/// (`X-CalculatedBETarget`/`X-BEServer` are stamped only for a request routed to a mailbox,
/// which without `X-AnchorMailbox` means an authenticated user).
fn assert_logged_on(r: &Resp) {
    assert_ne!(r.status, 401, "{r:?}");
    assert!(r.all("www-authenticate").is_empty(), "{r:?}");
    assert_eq!(r.header("x-beserver"), Some("EX1"), "{r:?}");
    assert_eq!(r.header("x-calculatedbetarget"), Some("ex1.contoso.com"));
    assert_eq!(r.header("x-feserver"), Some("EX1"));
}

/// Refused: the vdir's full challenge set again, no type 2.
fn assert_refused(r: &Resp) {
    assert_eq!(r.status, 401, "{r:?}");
    let w = r.all("www-authenticate");
    assert_eq!(w[..2], ["Negotiate", "NTLM"], "{r:?}");
    assert!(w.iter().any(|v| v.starts_with("Bearer ")), "{r:?}");
    assert!(r.header("x-beserver").is_none());
}

#[tokio::test]
async fn the_challenge_message_is_a_windows_member_servers() {
    let lab = Lab::new(contoso(), None);
    let r = lab
        .send(
            "EX1",
            on_conn(
                EWS,
                Some(&ntlm::header_value("NTLM", &client::negotiate_message())),
                40001,
            ),
        )
        .await;
    assert_eq!(r.status, 401);
    let w = r.all("www-authenticate");
    assert_eq!(w.len(), 1, "only the type 2: {w:?}");
    let t2 = ntlm::token_from_headers("NTLM", w.clone()).unwrap_or_else(|| panic!("{w:?}"));
    let ch = Challenge::parse(&t2).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(ch.flags, 0xe289_8215, "{:#x}", ch.flags);
    assert_eq!(ch.target_name, "CONTOSO");
    assert_eq!(ch.version, Some((10, 0, 14393)));
    let ts = 131_581_584_000_000_000u64; // T0 as FILETIME
    let utf16 = |s: &str| ntlm::utf16le(s);
    assert_eq!(
        ch.av_pairs(),
        vec![
            AvPair {
                id: av::NB_DOMAIN_NAME,
                value: utf16("CONTOSO")
            },
            AvPair {
                id: av::NB_COMPUTER_NAME,
                value: utf16("EX1")
            },
            AvPair {
                id: av::DNS_DOMAIN_NAME,
                value: utf16("contoso.com")
            },
            AvPair {
                id: av::DNS_COMPUTER_NAME,
                value: utf16("ex1.contoso.com")
            },
            AvPair {
                id: av::DNS_TREE_NAME,
                value: utf16("contoso.com")
            },
            AvPair {
                id: av::TIMESTAMP,
                value: ts.to_le_bytes().to_vec()
            },
        ]
    );
    // Byte for byte, the random server challenge (bytes 24..32) and request-id masked.
    let mut masked = t2.clone();
    masked[24..32].fill(0xcc);
    let mut out = String::new();
    for (n, v) in &r.headers {
        let v = match n.as_str() {
            "request-id" => "<guid>".to_string(),
            "www-authenticate" => "NTLM <type 2>".to_string(),
            _ => v.clone(),
        };
        out.push_str(&format!("{n}: {v}\n"));
    }
    out.push_str(&format!(
        "type 2 (server challenge masked):\n{}\n",
        hex(&masked)
    ));
    GOLDEN.check("ntlm-challenge.txt", &out);

    // Two handshakes never share a server challenge.
    let again = lab
        .send(
            "EX1",
            on_conn(
                EWS,
                Some(&ntlm::header_value("NTLM", &client::negotiate_message())),
                40002,
            ),
        )
        .await;
    let t2b = ntlm::token_from_headers("NTLM", again.all("www-authenticate"))
        .unwrap_or_else(|| panic!("{again:?}"));
    assert_ne!(t2[24..32], t2b[24..32]);
}

#[tokio::test]
async fn challenge_flags_follow_the_client() {
    // An OEM-only client without KEY_EXCH/SIGN: OEM, no Unicode, nothing it did not ask for.
    let f = logon::challenge_flags(flags::OEM | flags::NTLM | flags::REQUEST_TARGET);
    assert_eq!(
        f,
        flags::OEM
            | flags::REQUEST_TARGET
            | flags::NTLM
            | flags::TARGET_TYPE_DOMAIN
            | flags::TARGET_INFO
            | flags::VERSION
    );
    assert_eq!(f & flags::LM_KEY, 0);
    // Its type 2 carries an OEM target name the client half reads back.
    let org = contoso();
    let ch = logon::challenge_for(&Domain::of(&org), &org.servers[0], f, [7; 8], t0());
    let parsed = Challenge::parse(&ch.to_bytes()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(parsed.target_name, "CONTOSO");
    assert_eq!(parsed, ch);
    assert_eq!(
        Negotiate::parse(&client::negotiate_message()).map(|n| n.flags),
        Ok(0xe208_8297)
    );
}

#[tokio::test]
async fn greg_logs_on_with_ntlm_sam_upn_and_dns_domain() {
    let lab = Lab::new(contoso(), None);
    let (r2, r3) = handshake(&lab, EWS, &greg("NTLM"), 40010).await;
    assert_eq!(r2.status, 401);
    assert_logged_on(&r3);

    let upn = Handshake::new("NTLM", "GregT@contoso.com", "", PASSWORD);
    let (_, r) = handshake(&lab, EWS, &upn, 40011).await;
    assert_logged_on(&r);

    let dns = Handshake::new("NTLM", "gregt", "contoso.com", PASSWORD);
    let (_, r) = handshake(&lab, EWS, &dns, 40012).await;
    assert_logged_on(&r);

    // With the SPN and channel-binding AV pairs Windows adds over HTTP.
    let mut spn = greg("NTLM");
    spn.options.spn = Some("HTTP/mail.contoso.com".into());
    let (_, r) = handshake(&lab, EWS, &spn, 40013).await;
    assert_logged_on(&r);

    // MAPI offers Ntlm and Negotiate through IISAuthenticationMethods.
    let (_, r) = handshake(&lab, "/mapi/emsmdb/", &greg("NTLM"), 40014).await;
    assert_ne!(r.status, 401, "{r:?}");
}

#[tokio::test]
async fn negotiate_with_raw_ntlmssp_answers_in_the_negotiate_scheme() {
    let lab = Lab::new(contoso(), None);
    let (r2, r3) = handshake(&lab, EWS, &greg("Negotiate"), 40020).await;
    let w = r2.all("www-authenticate");
    assert_eq!(w.len(), 1);
    assert!(w[0].starts_with("Negotiate TlRMTVNTUAACAAAA"), "{w:?}");
    assert_logged_on(&r3);

    // Type 1 as NTLM, type 3 as Negotiate: not the same handshake.
    let hs = greg("NTLM");
    let r2 = lab
        .send("EX1", on_conn(EWS, Some(&hs.negotiate_header()), 40021))
        .await;
    let t3 = hs
        .authenticate_header(r2.all("www-authenticate"))
        .unwrap_or_else(|| panic!("{r2:?}"))
        .unwrap_or_else(|e| panic!("{e}"));
    let switched = t3.replacen("NTLM ", "Negotiate ", 1);
    assert_refused(&lab.send("EX1", on_conn(EWS, Some(&switched), 40021)).await);
}

#[tokio::test]
async fn spnego_and_kerberos_tokens_get_the_challenge_set() {
    let lab = Lab::new(contoso(), None);
    // A GSS-API InitialContextToken (SPNEGO OID) and a NegTokenResp: no Kerberos in the lab.
    for token in [
        "YIIBHwYGKwYBBQUCoIIBEzCCAQ+gMDAuBgkqhkiC9xIBAgIGCSqGSIb3EgECAgYKKwYBBAGCNwICHgYKKwYBBAGCNwICCg==",
        "oQcwBaADCgEC",
    ] {
        let r = lab
            .send(
                "EX1",
                on_conn(EWS, Some(&format!("Negotiate {token}")), 40030),
            )
            .await;
        assert_refused(&r);
    }
}

#[tokio::test]
async fn wrong_password_unknown_domain_and_disabled_account_are_refused() {
    let mut org = contoso();
    if let Some(a) = org.accounts.iter_mut().find(|a| a.sam == "MeganB") {
        a.enabled = false;
    }
    let lab = Lab::new(org, None);
    let cases = [
        Handshake::new("NTLM", "GregT", "CONTOSO", "Contoso2018!"),
        Handshake::new("NTLM", "GregT", "FABRIKAM", PASSWORD),
        Handshake::new("NTLM", "NoSuchUser", "CONTOSO", PASSWORD),
        Handshake::new("NTLM", "MeganB", "CONTOSO", PASSWORD),
        Handshake::new("Negotiate", "GregT", "CONTOSO", "wrong"),
    ];
    for (i, hs) in cases.iter().enumerate() {
        let (r2, r3) = handshake(&lab, EWS, hs, 40040 + i as u16).await;
        assert_eq!(r2.status, 401);
        assert_refused(&r3);
    }
}

/// A type 3 with the given responses (for NTLMv1/LM-only cases the client half never builds).
fn raw_type3(lm: &[u8], nt: &[u8], user: &str, domain: &str) -> Vec<u8> {
    let mut out = vec![0u8; 88];
    out[..8].copy_from_slice(ntlm::SIGNATURE);
    out[8..12].copy_from_slice(&3u32.to_le_bytes());
    out[60..64].copy_from_slice(&(flags::UNICODE | flags::NTLM).to_le_bytes());
    let mut put = |at: usize, payload: &[u8]| {
        let off = out.len() as u32;
        let len = payload.len() as u16;
        out[at..at + 2].copy_from_slice(&len.to_le_bytes());
        out[at + 2..at + 4].copy_from_slice(&len.to_le_bytes());
        out[at + 4..at + 8].copy_from_slice(&off.to_le_bytes());
        out.extend_from_slice(payload);
    };
    put(28, &ntlm::utf16le(domain));
    put(36, &ntlm::utf16le(user));
    put(12, lm);
    put(20, nt);
    out
}

#[tokio::test]
async fn ntlmv1_lm_only_and_anonymous_responses_are_refused() {
    let lab = Lab::new(contoso(), None);
    let t1 = ntlm::header_value("NTLM", &client::negotiate_message());
    let cases = [
        (
            "NTLMv1",
            raw_type3(&[0x11; 24], &[0x22; 24], "GregT", "CONTOSO"),
        ),
        ("LM only", raw_type3(&[0x11; 24], &[], "GregT", "CONTOSO")),
        ("anonymous", raw_type3(&[0], &[], "", "")),
        (
            "short v2",
            raw_type3(&[0; 24], &[0x33; 40], "GregT", "CONTOSO"),
        ),
    ];
    for (i, (what, t3)) in cases.iter().enumerate() {
        let port = 40050 + i as u16;
        let r2 = lab.send("EX1", on_conn(EWS, Some(&t1), port)).await;
        assert_eq!(r2.all("www-authenticate").len(), 1, "{what}");
        let r = lab
            .send(
                "EX1",
                on_conn(EWS, Some(&ntlm::header_value("NTLM", t3)), port),
            )
            .await;
        assert_refused(&r);
    }
    // The same refusals as verify() names them.
    let org = contoso();
    let pending = Pending {
        scheme: Scheme::Ntlm,
        negotiate: vec![],
        challenge: vec![],
        server_challenge: [0; 8],
        created: T0,
    };
    let why = |t3: Vec<u8>| logon::verify(&Domain::of(&org), &pending, &t3, t0()).map(|a| a.sam);
    assert_eq!(
        why(raw_type3(&[0x11; 24], &[0x22; 24], "GregT", "CONTOSO")),
        Err(Reject::NtlmV1)
    );
    assert_eq!(
        why(raw_type3(&[0x11; 24], &[], "GregT", "CONTOSO")),
        Err(Reject::LmOnly)
    );
    assert_eq!(why(raw_type3(&[0], &[], "", "")), Err(Reject::Anonymous));
}

#[tokio::test]
async fn the_type_3_must_come_on_the_same_connection_once_and_in_time() {
    let lab = Lab::new(contoso(), None);
    let hs = greg("NTLM");
    let t1 = hs.negotiate_header();
    let third = |r2: &Resp| {
        hs.authenticate_header(r2.all("www-authenticate"))
            .unwrap_or_else(|| panic!("{r2:?}"))
            .unwrap_or_else(|e| panic!("{e}"))
    };

    // Another connection.
    let r2 = lab.send("EX1", on_conn(EWS, Some(&t1), 40060)).await;
    let t3 = third(&r2);
    assert_refused(&lab.send("EX1", on_conn(EWS, Some(&t3), 40061)).await);
    // The right connection, then the same type 3 again (the challenge was used up).
    let r2 = lab.send("EX1", on_conn(EWS, Some(&t1), 40062)).await;
    let t3 = third(&r2);
    assert_logged_on(&lab.send("EX1", on_conn(EWS, Some(&t3), 40062)).await);
    assert_refused(&lab.send("EX1", on_conn(EWS, Some(&t3), 40062)).await);
    // Without a type 1 first.
    assert_refused(&lab.send("EX1", on_conn(EWS, Some(&t3), 40063)).await);

    // Within a minute of lab time it still works; after it, the challenge is gone.
    let r2 = lab.send("EX1", on_conn(EWS, Some(&t1), 40064)).await;
    let t3 = third(&r2);
    lab.clock.advance_secs(60);
    assert_logged_on(&lab.send("EX1", on_conn(EWS, Some(&t3), 40064)).await);
    let r2 = lab.send("EX1", on_conn(EWS, Some(&t1), 40065)).await;
    let t3 = third(&r2);
    lab.clock.advance_secs(61);
    assert_refused(&lab.send("EX1", on_conn(EWS, Some(&t3), 40065)).await);

    // iisreset drops pending handshakes.
    let r2 = lab.send("EX1", on_conn(EWS, Some(&t1), 40066)).await;
    let t3 = third(&r2);
    lab.state.iisreset();
    assert_refused(&lab.send("EX1", on_conn(EWS, Some(&t3), 40066)).await);

    // Without any connection identity no handshake can start (router used without
    // connect info): the challenge set, as before.
    let r = lab
        .send(
            "EX1",
            empty(req("POST", HOST, EWS).header("authorization", t1.as_str())),
        )
        .await;
    assert_refused(&r);
}

#[tokio::test]
async fn tampered_mic_proof_or_old_timestamps_are_refused() {
    let lab = Lab::new(contoso(), None);
    let t1 = greg("NTLM").negotiate_header();

    async fn run(
        lab: &Lab,
        t1: &str,
        port: u16,
        opts: Options,
        mutate: impl Fn(&mut Vec<u8>),
    ) -> Resp {
        let r2 = lab.send("EX1", on_conn(EWS, Some(t1), port)).await;
        let t2 = ntlm::token_from_headers("NTLM", r2.all("www-authenticate"))
            .unwrap_or_else(|| panic!("{r2:?}"));
        let mut t3 = client::authenticate_message(&t2, "GregT", "CONTOSO", PASSWORD, &opts)
            .unwrap_or_else(|e| panic!("{e}"));
        mutate(&mut t3);
        lab.send(
            "EX1",
            on_conn(EWS, Some(&ntlm::header_value("NTLM", &t3)), port),
        )
        .await
    }
    let base = Options {
        negotiate: Some(client::negotiate_message()),
        ..Options::default()
    };
    // Untouched: accepted (with a MIC, since the server sent a timestamp).
    assert_logged_on(&run(&lab, &t1, 40080, base.clone(), |_| {}).await);
    // MIC flipped.
    assert_refused(&run(&lab, &t1, 40081, base.clone(), |m| m[72] ^= 1).await);
    // NTProofStr flipped.
    let flip_proof = |m: &mut Vec<u8>| {
        let off = u32::from_le_bytes([m[24], m[25], m[26], m[27]]) as usize;
        m[off] ^= 0x80;
    };
    assert_refused(&run(&lab, &t1, 40082, base.clone(), flip_proof).await);
    // MIC announced but the negotiate bytes differ from what the server saw.
    let other_t1 = Options {
        negotiate: Some({
            let mut n = client::negotiate_message();
            n[39] = 14;
            n
        }),
        ..Options::default()
    };
    assert_refused(&run(&lab, &t1, 40083, other_t1, |_| {}).await);
    // Timestamps: 35 hours off is within MaxLifetime, 37 hours is not.
    let hours = |h: i64| {
        ntlm::filetime(
            OffsetDateTime::from_unix_timestamp(T0 - h * 3600).unwrap_or_else(|e| panic!("{e}")),
        )
    };
    let at = |h| Options {
        timestamp: Some(hours(h)),
        ..base.clone()
    };
    assert_logged_on(&run(&lab, &t1, 40084, at(35), |_| {}).await);
    assert_refused(&run(&lab, &t1, 40085, at(37), |_| {}).await);
}

#[tokio::test]
async fn vdirs_without_windows_authentication_never_accept_ntlm() {
    let mut org = contoso();
    let ews = org.servers[0]
        .vdir_mut(VdirKind::Ews)
        .unwrap_or_else(|| panic!("ews"));
    ews.external_authentication_methods = vec![AuthMethod::Negotiate, AuthMethod::OAuth];
    let lab = Lab::new(org, None);
    // EAS is {Basic, OAuth}: a type 1 gets the challenge set, no type 2.
    let t1 = greg("NTLM").negotiate_header();
    let r = lab
        .send(
            "EX1",
            on_conn("/Microsoft-Server-ActiveSync", Some(&t1), 40090),
        )
        .await;
    assert_eq!(r.status, 401);
    let w = r.all("www-authenticate");
    assert_eq!(w[0], "Basic realm=\"mail.contoso.com\"", "{w:?}");
    assert!(!w.iter().any(|v| v.starts_with("NTLM")), "{w:?}");
    // EWS external {Negotiate, OAuth}: the NTLM scheme is not offered, Negotiate is.
    let r = lab.send("EX1", on_conn(EWS, Some(&t1), 40091)).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.all("www-authenticate")[0], "Negotiate");
    assert!(r.all("www-authenticate").len() > 1);
    let (_, r3) = handshake(&lab, EWS, &greg("Negotiate"), 40092).await;
    assert_logged_on(&r3);
}

// ---------------------------------------------------------------------------------------------
// Garbage never panics

fn random_token(rng: &mut rand::rngs::StdRng) -> Vec<u8> {
    let len = rng.random_range(0..300usize);
    let mut b = vec![0u8; len];
    rng.fill_bytes(&mut b);
    if rng.random_bool(0.7) && b.len() >= 12 {
        b[..8].copy_from_slice(ntlm::SIGNATURE);
        b[8..12].copy_from_slice(&rng.random_range(0u32..5).to_le_bytes());
    }
    b
}

#[test]
fn parsers_survive_random_truncated_and_mutated_messages() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(0x4e544c4d);
    let org = contoso();
    let ch = logon::challenge_for(
        &Domain::of(&org),
        &org.servers[0],
        0xe208_8297,
        [9; 8],
        t0(),
    )
    .to_bytes();
    let t3 = client::authenticate_message(
        &ch,
        "GregT",
        "CONTOSO",
        PASSWORD,
        &Options {
            negotiate: Some(client::negotiate_message()),
            spn: Some("HTTP/mail.contoso.com".into()),
            ..Options::default()
        },
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let pending = Pending {
        scheme: Scheme::Ntlm,
        negotiate: client::negotiate_message(),
        challenge: ch.clone(),
        server_challenge: [9; 8],
        created: T0,
    };
    assert_eq!(
        logon::verify(&Domain::of(&org), &pending, &t3, t0()).map(|a| a.sam),
        Ok("GregT".to_string())
    );
    let mut inputs: Vec<Vec<u8>> = Vec::new();
    for msg in [&client::negotiate_message(), &ch, &t3] {
        for n in 0..msg.len() {
            inputs.push(msg[..n].to_vec());
        }
        // Every 4-byte-aligned field word set to huge and to boundary values.
        for at in (12..msg.len().min(88)).step_by(2) {
            for v in [0xffffu16, 0x8000, 0x0001] {
                let mut m = msg.to_vec();
                m[at..at + 2].copy_from_slice(&v.to_le_bytes());
                inputs.push(m);
            }
        }
        for _ in 0..300 {
            let mut m = msg.to_vec();
            let i = rng.random_range(0..m.len());
            m[i] = rng.random();
            inputs.push(m);
        }
    }
    for _ in 0..2000 {
        inputs.push(random_token(&mut rng));
    }
    let mut accepted = 0;
    for b in &inputs {
        let _ = Negotiate::parse(b);
        let _ = Challenge::parse(b);
        let _ = Authenticate::parse(b);
        let _ = ntlm::V2Response::parse(b);
        let _ = ntlm::parse_av_pairs(b);
        let _ = client::authenticate_message(b, "GregT", "CONTOSO", PASSWORD, &Options::default());
        if logon::verify(&Domain::of(&org), &pending, b, t0()).is_ok() {
            accepted += 1;
        }
    }
    // Only the untouched message (and mutations outside anything verified, e.g. the
    // workstation name or version bytes, which Windows does not bind either) may pass; the
    // truncations never do.
    assert!(accepted < 20, "{accepted} mutated messages accepted");
    for n in 0..t3.len() {
        assert!(
            logon::verify(&Domain::of(&org), &pending, &t3[..n], t0()).is_err(),
            "truncated at {n}"
        );
    }
}

#[tokio::test]
async fn random_authorization_headers_get_401_never_a_panic() {
    let lab = Lab::new(contoso(), None);
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let t1 = greg("NTLM").negotiate_header();
    for i in 0..300u16 {
        let port = 41000 + i;
        let scheme = if i % 2 == 0 { "NTLM" } else { "Negotiate" };
        // Half of the time a handshake is pending on the connection.
        if i % 4 < 2 {
            let _ = lab
                .send(
                    "EX1",
                    on_conn(EWS, Some(&t1.replacen("NTLM", scheme, 1)), port),
                )
                .await;
        }
        let value = match i % 3 {
            0 => format!("{scheme} {}", STANDARD.encode(random_token(&mut rng))),
            1 => format!("{scheme} %%%not base64{i}"),
            _ => {
                let n = rng.random_range(0..40);
                let s: String = (0..n)
                    .map(|_| char::from(rng.random_range(0x21u8..0x7f)))
                    .collect();
                format!("{scheme} {s}")
            }
        };
        let r = lab.send("EX1", on_conn(EWS, Some(&value), port)).await;
        assert_eq!(r.status, 401, "{value}");
    }
    // Oversized token.
    let huge = format!("NTLM {}", "A".repeat(logon::MAX_TOKEN + 4));
    assert_refused(&lab.send("EX1", on_conn(EWS, Some(&huge), 42000)).await);
}

// ---------------------------------------------------------------------------------------------
// Over a real socket, one kept-alive connection

/// A TCP relay in front of the listener that counts the client connections it accepts.
async fn counting_relay(upstream: SocketAddr) -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let addr = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
    let count = Arc::new(AtomicUsize::new(0));
    let c = count.clone();
    tokio::spawn(async move {
        while let Ok((mut inbound, _)) = listener.accept().await {
            c.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                if let Ok(mut out) = tokio::net::TcpStream::connect(upstream).await {
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut out).await;
                }
            });
        }
    });
    (format!("http://{addr}"), count)
}

async fn start_lab(org: mock_exchange::Organization) -> mock_exchange::Handle {
    mock_exchange::start(mock_exchange::Config {
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        organization: org,
        clock: mock_exchange::Clock::frozen_at_unix(T0),
        aad_url: None,
        admin_token: Some("admin-secret".into()),
    })
    .await
    .unwrap_or_else(|e| panic!("{e}"))
}

fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(1)
        .build()
        .unwrap_or_else(|e| panic!("{e}"))
}

async fn http_handshake(base: &str, hs: &Handshake) -> reqwest::Response {
    http_handshake_on(&http_client(), base, hs).await
}

async fn http_handshake_on(
    http: &reqwest::Client,
    base: &str,
    hs: &Handshake,
) -> reqwest::Response {
    let r2 = http
        .post(format!("{base}{EWS}"))
        .header("host", HOST)
        .header("authorization", hs.negotiate_header())
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r2.status().as_u16(), 401);
    let values: Vec<String> = r2
        .headers()
        .get_all("www-authenticate")
        .iter()
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .collect();
    let t3 = hs
        .authenticate_header(values.iter().map(String::as_str))
        .unwrap_or_else(|| panic!("no type 2: {values:?}"))
        .unwrap_or_else(|e| panic!("{e}"));
    let r2_body = r2.bytes().await.unwrap_or_default();
    assert!(r2_body.is_empty());
    http.post(format!("{base}{EWS}"))
        .header("host", HOST)
        .header("authorization", t3)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

#[tokio::test]
async fn greg_logs_on_to_ews_over_one_kept_alive_connection() {
    let ex = start_lab(contoso()).await;
    let upstream: SocketAddr = ex
        .url()
        .trim_start_matches("http://")
        .parse()
        .unwrap_or_else(|e| panic!("{e}"));
    let (base, connections) = counting_relay(upstream).await;

    let http = http_client();
    let r3 = http_handshake_on(&http, &base, &greg("NTLM")).await;
    assert_ne!(r3.status().as_u16(), 401);
    assert!(r3.headers().get("www-authenticate").is_none());
    assert_eq!(
        r3.headers().get("x-beserver").map(|v| v.as_bytes()),
        Some(&b"EX1"[..])
    );
    let _ = r3.bytes().await;
    assert_eq!(
        connections.load(Ordering::SeqCst),
        1,
        "type 1 and type 3 went over one connection"
    );
    assert_eq!(ex.state().ntlm.authenticated(), 1);

    // The connection stays logged on (IIS's default): no Authorization needed on it…
    let plain = |path: &str| {
        http.post(format!("{base}{path}"))
            .header("host", HOST)
            .send()
    };
    let r = plain(EWS).await.unwrap_or_else(|e| panic!("{e}"));
    assert_ne!(r.status().as_u16(), 401);
    assert_eq!(
        r.headers().get("x-beserver").map(|v| v.as_bytes()),
        Some(&b"EX1"[..])
    );
    let _ = r.bytes().await;
    // …but only where the vdir offers NTLM (EAS is {Basic, OAuth}).
    let r = plain("/Microsoft-Server-ActiveSync")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.status().as_u16(), 401);
    let _ = r.bytes().await;
    assert_eq!(
        connections.load(Ordering::SeqCst),
        1,
        "still one connection"
    );
    // Another connection is not logged on.
    let r = http_client()
        .post(format!("{base}{EWS}"))
        .header("host", HOST)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.status().as_u16(), 401);
    assert_eq!(connections.load(Ordering::SeqCst), 2);
    // iisreset ends every logon.
    ex.state().iisreset();
    let r = plain(EWS).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.status().as_u16(), 401);
    let _ = r.bytes().await;
    assert_eq!(ex.state().ntlm.authenticated(), 0);

    // A wrong password, on a fresh client (a second connection): 401 with the challenge set.
    let bad = http_handshake(&base, &Handshake::new("NTLM", "GregT", "CONTOSO", "nope")).await;
    assert_eq!(bad.status().as_u16(), 401);
    let w: Vec<&[u8]> = bad
        .headers()
        .get_all("www-authenticate")
        .iter()
        .map(|v| v.as_bytes())
        .collect();
    assert_eq!(w[..2], [&b"Negotiate"[..], &b"NTLM"[..]]);
    assert_eq!(connections.load(Ordering::SeqCst), 3);
    ex.shutdown().await;
}

#[tokio::test]
async fn ntlm_users_are_proxied_to_2013_and_2010_back_ends() {
    // EX1 (2016) is the front end; MeganB's mailbox is on EX2 (2013), PattiF's on EX2010.
    let mut org = contoso();
    for (name, version) in [
        ("EX2", mock_exchange::model::ExchangeVersion::Ex2013),
        ("EX2010", mock_exchange::model::ExchangeVersion::Ex2010),
    ] {
        let mut s = org.servers[0].clone();
        s.name = name.into();
        s.fqdn = format!("{}.contoso.com", name.to_ascii_lowercase());
        s.version = version;
        s.internal_hosts = vec![];
        org.servers.push(s);
    }
    for m in &mut org.mailboxes {
        if m.primary_smtp_address.starts_with("MeganB") {
            m.server = "EX2".into();
        }
        if m.primary_smtp_address.starts_with("PattiF") {
            m.server = "EX2010".into();
        }
    }
    let ex = start_lab(org).await;
    for (user, back) in [("MeganB", "EX2"), ("PattiF", "EX2010")] {
        let r = http_handshake(
            &ex.url(),
            &Handshake::new("NTLM", user, "CONTOSO", PASSWORD),
        )
        .await;
        assert_ne!(r.status().as_u16(), 401, "{user}");
        assert_eq!(
            r.headers().get("x-beserver").map(|v| v.as_bytes()),
            Some(back.as_bytes()),
            "{user}"
        );
        assert_eq!(
            r.headers().get("x-feserver").map(|v| v.as_bytes()),
            Some(&b"EX1"[..])
        );
    }
    ex.shutdown().await;
}

#[test]
fn a_challenge_without_target_info_or_timestamp_still_gets_an_ntlmv2_answer() {
    let org = contoso();
    let bare = Challenge {
        flags: flags::UNICODE | flags::NTLM | flags::EXTENDED_SESSIONSECURITY,
        server_challenge: [3; 8],
        target_name: "CONTOSO".into(),
        target_info: vec![],
        version: None,
    }
    .to_bytes();
    let opts = Options {
        timestamp: Some(ntlm::filetime(t0())),
        negotiate: Some(client::negotiate_message()),
        ..Options::default()
    };
    let t3 = client::authenticate_message(&bare, "GregT", "CONTOSO", PASSWORD, &opts)
        .unwrap_or_else(|e| panic!("{e}"));
    let a = Authenticate::parse(&t3).unwrap_or_else(|e| panic!("{e}"));
    // No server timestamp: an LMv2 response, no MIC, no session key (no KEY_EXCH); the blob's
    // AV pairs are just MsvAvEOL.
    assert_eq!(a.lm_response.len(), 24);
    assert_ne!(a.lm_response, vec![0u8; 24]);
    assert!(a.encrypted_session_key.is_empty());
    assert_eq!(&a.nt_response[16 + 28..], &[0u8; 8][..]);
    let pending = Pending {
        scheme: Scheme::Ntlm,
        negotiate: client::negotiate_message(),
        challenge: bare,
        server_challenge: [3; 8],
        created: T0,
    };
    assert_eq!(
        logon::verify(&Domain::of(&org), &pending, &t3, t0()).map(|a| a.sam),
        Ok("GregT".to_string())
    );
}

#[tokio::test]
async fn a_logon_persists_only_on_a_tracked_connection_and_ends_with_it() {
    let lab = Lab::new(contoso(), None);
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let addr = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
    let client = tokio::net::TcpStream::connect(addr)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let (accepted, peer) = listener.accept().await.unwrap_or_else(|e| panic!("{e}"));
    let authed = Authed {
        sid: GREG_SID.into(),
        scheme: Scheme::Ntlm,
    };
    // Untracked (the oneshot router, an embedder's own listener): never remembered.
    lab.state
        .ntlm
        .remember(("EX1".into(), peer), authed.clone());
    assert_eq!(lab.state.ntlm.authenticated(), 0);
    let tracked = TrackedStream::new(accepted, lab.state.ntlm.clone(), "ex1")
        .unwrap_or_else(|e| panic!("{e}"));
    lab.state
        .ntlm
        .remember(("EX1".into(), peer), authed.clone());
    assert_eq!(lab.state.ntlm.authenticated(), 1);
    // The router resumes it for a request without Authorization from that peer.
    let r = lab.send("EX1", on_conn_from(EWS, None, peer)).await;
    assert_logged_on(&r);
    drop(tracked);
    assert_eq!(lab.state.ntlm.authenticated(), 0);
    assert_refused(&lab.send("EX1", on_conn_from(EWS, None, peer)).await);
    drop(client);
}

fn on_conn_from(path: &str, auth: Option<&str>, peer: SocketAddr) -> Request<Body> {
    let mut b = req("POST", HOST, path).extension(ConnectInfo(peer));
    if let Some(a) = auth {
        b = b.header("authorization", a);
    }
    empty(b)
}
