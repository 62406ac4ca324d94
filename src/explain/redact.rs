//! Secrets out of a capture before anything reads it: a real trace carries passwords, refresh
//! tokens, authorization codes, cookies and `Authorization` credentials, and `explain` prints
//! lines of it as evidence. Redacting the input text (rather than the printed answer) means no
//! rule can ever quote a secret, whatever it picks as evidence.
//!
//! What stays: the scheme of an `Authorization` value (the tree asks whether a Bearer was sent;
//! an empty `Bearer` is kept as it is, it is the HMA handshake), cookie and parameter names, and
//! every `WWW-Authenticate` parameter (`client_id=`, `authorization_uri=` are not credentials).

use std::sync::OnceLock;

use regex::{Captures, Regex};

/// What a secret is replaced with.
pub const REDACTED: &str = "<redacted>";

fn re(cell: &'static OnceLock<Regex>, pattern: &str) -> &'static Regex {
    cell.get_or_init(|| Regex::new(pattern).expect("redaction pattern compiles"))
}

/// `text` with every credential, secret parameter and cookie value replaced by [`REDACTED`].
pub fn redact(text: &str) -> String {
    static CRED: OnceLock<Regex> = OnceLock::new();
    static PARAM: OnceLock<Regex> = OnceLock::new();
    static COOKIE_LINE: OnceLock<Regex> = OnceLock::new();
    static COOKIE_JSON: OnceLock<Regex> = OnceLock::new();
    static COOKIE_VALUE: OnceLock<Regex> = OnceLock::new();
    // A credential after an auth scheme; an auth-param name (`client_id=`) is not one.
    let cred = re(
        &CRED,
        r"(?i)\b(Bearer|Basic|NTLM|Negotiate|Digest)[ \t]+([A-Za-z0-9._~+/-]+=*)",
    );
    let out = cred.replace_all(text, |c: &Captures| {
        let token = &c[2];
        let param_name = token.ends_with('=')
            && token
                .trim_end_matches('=')
                .chars()
                .all(|ch| ch.is_ascii_alphabetic() || ch == '_');
        if param_name || token.len() < 8 {
            c[0].to_string()
        } else {
            format!("{} {REDACTED}", &c[1])
        }
    });
    // Form, query and JSON secrets: `password=…`, `"refresh_token":"…"`.
    let param = re(
        &PARAM,
        r#"(?i)\b(password|passwd|pwd|refresh_token|access_token|id_token|client_secret|client_assertion|assertion|code|SAMLResponse|wresult)(=|"\s*:\s*")([^&\s"]+)"#,
    );
    let out = param.replace_all(&out, |c: &Captures| format!("{}{}{REDACTED}", &c[1], &c[2]));
    // `Cookie:` / `Set-Cookie:` lines: every value.
    let cookie_value = re(&COOKIE_VALUE, r"=([^;,\s]*)");
    let cookie_line = re(&COOKIE_LINE, r"(?im)^([<>]?\s*(?:set-)?cookie\s*:)(.*)$");
    let out = cookie_line.replace_all(&out, |c: &Captures| {
        format!(
            "{}{}",
            &c[1],
            cookie_value.replace_all(&c[2], format!("={REDACTED}"))
        )
    });
    // HAR: `{"name": "Cookie", "value": "…"}` and the `cookies` arrays' values.
    let cookie_json = re(
        &COOKIE_JSON,
        r#"(?i)("name"\s*:\s*"(?:set-)?cookie"\s*,\s*"value"\s*:\s*")[^"]*"#,
    );
    cookie_json
        .replace_all(&out, format!("${{1}}{REDACTED}"))
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_go_schemes_and_challenges_stay() {
        let t = "Authorization: Bearer eyJ0eXAi.eyJhdWQi.c2ln\nAuthorization: Bearer\n\
                 Authorization: Basic R3JlZ1Q6Q29udG9zbzIwMTch\n\
                 WWW-Authenticate: Bearer client_id=\"00000002\", authorization_uri=\"https://login.windows.net/common/oauth2/authorize\"\n\
                 Authorization: NTLM TlRMTVNTUAABAAAAB4IIog==\n";
        let r = redact(t);
        assert!(
            !r.contains("eyJ0eXAi") && !r.contains("R3JlZ1Q6") && !r.contains("TlRMTVNT"),
            "{r}"
        );
        assert!(r.contains("Authorization: Bearer <redacted>"), "{r}");
        assert!(r.contains("Authorization: Bearer\n"), "{r}");
        assert!(r.contains("Bearer client_id=\"00000002\""), "{r}");
    }

    #[test]
    fn parameters_and_cookies_go_names_stay() {
        let t = "grant_type=password&username=GregT%40contoso.com&password=Contoso2017!&refresh_token=AQABAAAA\n\
                 {\"refresh_token\": \"AQAB.x\", \"error\":\"invalid_grant\"}\n\
                 Cookie: esctx=AQABAAA; buid=0.AAA\nSet-Cookie: fpc=AkR; path=/; secure\n\
                 {\"name\": \"Cookie\", \"value\": \"x-ms-gateway-slice=estsfd\"}\n";
        let r = redact(t);
        for s in [
            "Contoso2017",
            "AQABAAAA",
            "AQAB.x",
            "esctx=AQ",
            "buid=0.AAA",
            "fpc=AkR",
            "estsfd",
        ] {
            assert!(!r.contains(s), "{s} in {r}");
        }
        assert!(
            r.contains("password=<redacted>&refresh_token=<redacted>"),
            "{r}"
        );
        assert!(r.contains("\"error\":\"invalid_grant\""), "{r}");
        assert!(
            r.contains("Cookie: esctx=<redacted>; buid=<redacted>"),
            "{r}"
        );
    }
}
