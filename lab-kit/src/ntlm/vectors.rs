//! The MS-NLMP §4.2.4 example (NTLMv2), as data: the CHALLENGE_MESSAGE the specification's
//! server sends and the fixed choices its client makes. The codec's own tests check the bytes
//! the specification prints; mock Exchange's tests check that its server logon accepts the
//! resulting message. One copy, so both sides test against the same vector.

use super::client::Options;
use super::message::Challenge;

pub const USER: &str = "User";
pub const DOMAIN: &str = "Domain";
pub const PASSWORD: &str = "Password";
pub const WORKSTATION: &str = "COMPUTER";
pub const SERVER_CHALLENGE: [u8; 8] = [0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef];

/// The §4.2.4 target information: NbDomainName "Domain", NbComputerName "Server", EOL.
pub const TARGET_INFO: [u8; 36] = [
    0x02, 0x00, 0x0c, 0x00, b'D', 0, b'o', 0, b'm', 0, b'a', 0, b'i', 0, b'n',
    0, // NbDomainName
    0x01, 0x00, 0x0c, 0x00, b'S', 0, b'e', 0, b'r', 0, b'v', 0, b'e', 0, b'r',
    0, // NbComputerName
    0x00, 0x00, 0x00, 0x00, // MsvAvEOL
];

/// The §4.2.4 CHALLENGE_MESSAGE: flags 0xe28a8233, server challenge 0123456789abcdef, target
/// name "Server", [`TARGET_INFO`], version 6.0.6000.
pub fn challenge() -> Vec<u8> {
    Challenge {
        flags: 0xe28a_8233,
        server_challenge: SERVER_CHALLENGE,
        target_name: "Server".into(),
        target_info: TARGET_INFO.to_vec(),
        version: Some((6, 0, 6000)),
    }
    .to_bytes()
}

/// The client's fixed choices: client challenge `aa…`, random session key `55…`, timestamp 0
/// (FILETIME 1601-01-01), no MIC.
pub fn client_options() -> Options {
    Options {
        workstation: WORKSTATION.into(),
        client_challenge: Some([0xaa; 8]),
        session_key: Some([0x55; 16]),
        timestamp: Some(0),
        negotiate: None,
        spn: None,
        channel_bindings: None,
    }
}
