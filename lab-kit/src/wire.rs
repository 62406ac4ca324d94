//! Encodings both Microsoft products put on the wire, written once.

/// .NET `HttpUtility.UrlEncode`: alphanumerics and `-_.!*()` stay, space is `+`, every other byte
/// `%xx` with lowercase hex — the form of the field guide's
/// `AADSTS50001%3a+The+application+named+https%3a%2f%2fmail…` and of OWA's `url=` parameter.
pub fn dotnet_url_encode(s: &str) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(s.len() * 3 / 2);
    for b in s.bytes() {
        match b {
            b'a'..=b'z'
            | b'A'..=b'Z'
            | b'0'..=b'9'
            | b'-'
            | b'_'
            | b'.'
            | b'!'
            | b'*'
            | b'('
            | b')' => out.push(b as char),
            b' ' => out.push('+'),
            _ => {
                let _ = write!(out, "%{b:02x}");
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_httputility_urlencode() {
        assert_eq!(
            dotnet_url_encode("AADSTS50001: The application named https://mail.contoso.com/ was"),
            "AADSTS50001%3a+The+application+named+https%3a%2f%2fmail.contoso.com%2f+was"
        );
        assert_eq!(
            dotnet_url_encode("a-b_c.d!e*f(g)\r\n"),
            "a-b_c.d!e*f(g)%0d%0a"
        );
        assert_eq!(dotnet_url_encode("é"), "%c3%a9");
    }
}
