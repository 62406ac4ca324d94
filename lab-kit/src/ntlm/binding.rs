//! Channel binding (extended protection for authentication): the `MsvAvChannelBindings` value a
//! client puts in its NTLMv2 response to tie the logon to the TLS channel it runs in.
//!
//! The value is the MD5 of a `gss_channel_bindings_struct` whose addresses are empty and whose
//! application data is `tls-server-end-point:` followed by the SHA-256 hash of the server
//! certificate the client saw (RFC 5929 §4; MS-NLMP 3.1.5.1.2). A TLS-intercepting proxy shows
//! the client its own certificate, so the binding the client computes differs from the one the
//! real server expects — which is what extended protection detects. All-zero bytes (or no
//! pair) mean the client sent no binding.

/// The `MsvAvChannelBindings` value for a TLS server certificate (DER).
pub fn tls_server_end_point(cert_der: &[u8]) -> [u8; 16] {
    use md5::{Digest, Md5};
    let hash = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, cert_der);
    let mut app = b"tls-server-end-point:".to_vec();
    app.extend_from_slice(hash.as_ref());
    let mut s = Vec::with_capacity(20 + app.len());
    // initiator_addrtype, initiator_address (len 0), acceptor_addrtype, acceptor_address (len 0)
    s.extend_from_slice(&[0u8; 16]);
    s.extend_from_slice(&(app.len() as u32).to_le_bytes());
    s.extend_from_slice(&app);
    Md5::digest(&s).into()
}

/// Whether a binding value says "none" (absent pairs are read as this too).
pub fn is_unbound(value: &[u8]) -> bool {
    value.iter().all(|b| *b == 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn different_certificates_give_different_bindings() {
        let a = tls_server_end_point(b"certificate A");
        let b = tls_server_end_point(b"certificate B");
        assert_ne!(a, b);
        assert_eq!(a, tls_server_end_point(b"certificate A"));
        assert!(!is_unbound(&a));
        assert!(is_unbound(&[0; 16]));
    }
}
