//! Comparing secrets without telling an attacker how much of a guess was right.
//!
//! One function, [`constant_time_eq`], used wherever the lab checks something a client presents
//! against something it must not leak: admin tokens, the NTLM proof and MIC, the proxy's shared
//! secret. It is a plain function on byte slices so every caller, whatever its framework,
//! compares the same way.

/// Whether `a` and `b` are equal, taking the same time for every pair of slices of one length
/// (the length itself is not secret: it is a property of the token format, not of the token).
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_only_when_every_byte_and_the_length_match() {
        assert!(constant_time_eq(b"secret", b"secret"));
        assert!(constant_time_eq(b"", b""));
        assert!(!constant_time_eq(b"secret", b"secreT"));
        assert!(!constant_time_eq(b"secret", b"secret2"));
        assert!(!constant_time_eq(b"secret2", b"secret"));
        assert!(!constant_time_eq(b"", b"x"));
    }
}
