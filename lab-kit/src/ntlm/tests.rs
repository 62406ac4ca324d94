//! The codec against the MS-NLMP §4.2.4 NTLMv2 test vectors, the classic RC4 vector, target
//! information round trips, the message layouts a Windows client sends, and the header framing.

use super::client;
use super::*;

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[test]
fn ms_nlmp_4_2_4_ntlmv2_test_vectors() {
    assert_eq!(
        hex(&nt_hash("Password")),
        "a4f49c406510bdcab6824ee7c30fd852"
    );
    let v2 = ntowf_v2("Password", "User", "Domain");
    assert_eq!(hex(&v2), "0c868a403bfd7a93a3001ef22ef02e3f");

    let t3 = client::authenticate_message(
        &vectors::challenge(),
        vectors::USER,
        vectors::DOMAIN,
        vectors::PASSWORD,
        &vectors::client_options(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let a = Authenticate::parse(&t3).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        hex(&a.lm_response),
        "86c35097ac9cec102554764a57cccc19aaaaaaaaaaaaaaaa",
        "LMv2 response (§4.2.4.2.1)"
    );
    assert_eq!(
        hex(&a.nt_response),
        concat!(
            "68cd0ab851e51c96aabc927bebef6a1c",
            "01010000000000000000000000000000aaaaaaaaaaaaaaaa00000000",
            "02000c0044006f006d00610069006e0001000c0053006500720076006500720000000000",
            "00000000"
        ),
        "NTProofStr ‖ temp (§4.2.4.2.2)"
    );
    let session_base_key = hmac_md5(&v2, &[&a.nt_response[..16]]);
    assert_eq!(hex(&session_base_key), "8de40ccadbc14a82f15cb0ad0de95ca3");
    assert_eq!(
        hex(&a.encrypted_session_key),
        "c5dad2544fc9799094ce1ce90bc9d03e",
        "EncryptedRandomSessionKey (§4.2.4.2.3)"
    );
    assert_eq!(
        (a.user.as_str(), a.domain.as_str(), a.workstation.as_str()),
        ("User", "Domain", "COMPUTER")
    );
}

#[test]
fn the_vector_challenge_reads_back() {
    let ch = Challenge::parse(&vectors::challenge()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(ch.server_challenge, vectors::SERVER_CHALLENGE);
    assert_eq!(ch.target_name, "Server");
    assert_eq!(ch.target_info, vectors::TARGET_INFO);
    assert_eq!(ch.version, Some((6, 0, 6000)));
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
