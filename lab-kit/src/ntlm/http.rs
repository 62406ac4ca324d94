//! The HTTP framing of an NTLM token, the same for `NTLM` and for `Negotiate` carrying raw
//! NTLMSSP: `<scheme> <base64>` in `Authorization` and `WWW-Authenticate`.

/// `Authorization`/`WWW-Authenticate` value: `<scheme> <base64>`.
pub fn header_value(scheme: &str, token: &[u8]) -> String {
    use base64::Engine;
    format!(
        "{scheme} {}",
        base64::engine::general_purpose::STANDARD.encode(token)
    )
}

/// The token of the first `WWW-Authenticate` value with `scheme` and a token, decoded.
pub fn token_from_headers<'a>(
    scheme: &str,
    values: impl IntoIterator<Item = &'a str>,
) -> Option<Vec<u8>> {
    use base64::Engine;
    values.into_iter().find_map(|v| {
        let (s, t) = v.trim().split_once(char::is_whitespace)?;
        if !s.eq_ignore_ascii_case(scheme) {
            return None;
        }
        base64::engine::general_purpose::STANDARD
            .decode(t.trim().as_bytes())
            .ok()
    })
}
