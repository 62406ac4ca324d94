//! The NTLMv2 hashes and keys (MS-NLMP 3.3.2 and 3.4.3), the same on both ends of a logon:
//! the NT hash, `NTOWFv2`, HMAC-MD5, the RC4 that wraps an exported session key, and the
//! FILETIME clock NTLMv2 timestamps are written in.

use hmac::{Hmac, Mac};
use md4::{Digest, Md4};
use md5::Md5;

use super::message::utf16le;

/// Seconds between 1601-01-01 (FILETIME epoch) and 1970-01-01.
const FILETIME_UNIX_OFFSET: i64 = 11_644_473_600;

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
