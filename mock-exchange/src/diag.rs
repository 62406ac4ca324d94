//! `x-ms-diagnostics`: why Exchange refused a Bearer token (or OAuth for a client).
//!
//! One enum, one renderer: every step of the bearer pipeline names its failure as a [`Diag`]
//! value, and [`Diag::header_value`] writes the wire form
//! `<code>;reason="<text>";error_category="<category>"`.
//!
//! The catalogue is also data for the book: [`docs`] gives one row per variant — code, category,
//! the reason as a template with `{placeholders}`, when the lab answers with it, and where the
//! text comes from ([`Fidelity`]). The rows are produced by an exhaustive match, so a new variant
//! does not compile without its row, and a test checks that every variant has a template.

use lab_kit::catalogue::{DiagDoc, Fidelity};

/// A reason to refuse OAuth, with its numeric code and category. The word in brackets is the
/// fidelity of today's text (see [`Diag::about`]); the texts with their sources are in
/// `docs/src/internals/fidelity.md`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Diag {
    /// 4000000 (guide capture): Outlook for Windows while `OAuth2ClientProfileEnabled` is false.
    Flighting { user: String },
    /// 2000001 (product build): the token cannot be read; `detail` is the JWT library's message
    /// ([`unreadable_detail`]).
    Unreadable { detail: String },
    /// 2000000 (product build): `alg` is not RS256.
    UnsupportedAlgorithm { alg: String },
    /// 2000000 (product build): no trusted signing certificate has the token's `kid`/`x5t`.
    UnknownSigningKey { kid: String },
    /// 2000000 (product build): the signature does not verify.
    BadSignature,
    /// 2000000 (product build): the AuthServer metadata could not be read, so no key is loaded.
    MetadataUnavailable { auth_server: String, detail: String },
    /// 2000001 (product build): validation failed on a value it cannot use (here: no `exp`); the
    /// product writes no reason at all.
    Invalid,
    /// 2000001 (product build): `iss` is not the issuer of an enabled AzureAD AuthServer.
    UntrustedIssuer { issuer: String },
    /// 2000002 (product build): `exp` passed (with skew).
    Expired,
    /// 2000002 (product build): `nbf` in the future (with skew); Exchange has no separate text.
    NotYetValid,
    /// 2000003 (guide capture): the audience host is not the host the request arrived on.
    AudienceHost { aud: String },
    /// 2000003 (guide capture): same host, another scheme (SSL offloading).
    AudienceScheme { expected: String, actual: String },
    /// 2000004 (product build): the token has no `tid`.
    TenantMissing,
    /// 2000004 (product build): `tid` is not the tenant of the issuer.
    Tenant { tid: String },
    /// 2000005 (guide capture): no on-premises account (or no mailbox) for the token's user;
    /// decided by the back end.
    UnknownUser,
    /// 2000005 (product build): the mailbox is on Exchange 2010, which OAuth cannot reach.
    MailboxVersion { server: String },
}

/// The JWT library's message for a token it cannot read, as Exchange quotes it after
/// `additional details:`. A string that is not in compact form (`header.payload.signature`,
/// base64url) gets `Jwt10204`, the text the product build names; a compact string whose header or
/// payload does not decode gets the library's `Jwt10113` (`part` is `header` or `payload`).
/// The library joins its two sentences with a newline, which ASP.NET's header encoding
/// (`EnableHeaderChecking`) writes as `%0a`.
///
/// Two lab choices (inferred, listed in the fidelity table): characters outside printable ASCII
/// in the echoed strings are written `?`, and an echoed string longer than [`MAX_ECHO`]
/// characters is cut there and ends in `...`.
pub fn unreadable_detail(token: &str, part: Option<(&str, &str)>) -> String {
    let token = echo(token);
    match part {
        None => format!(
            "Jwt10204: '{JWT_HANDLER}' cannot read this string: '{token}'.%0aThe string needs to be in compact JSON format, which is of the form: '<Base64UrlEncodedHeader>.<Base64UrlEndcodedPayload>.<OPTIONAL, Base64UrlEncodedSignature>'."
        ),
        Some((name, value)) => format!(
            "Jwt10113: Unable to decode the '{name}': '{}' as Base64url encoded string. jwtEncodedString: '{token}'.",
            echo(value)
        ),
    }
}

/// The longest string the lab echoes inside a diagnostic (HTTP.sys's default limit for one
/// request header field, 16 KiB).
pub const MAX_ECHO: usize = 16 * 1024;

/// `s` for a header: printable ASCII kept, anything else `?`, cut at [`MAX_ECHO`] characters.
fn echo(s: &str) -> String {
    let mut out: String = s
        .chars()
        .take(MAX_ECHO)
        .map(|c| if (' '..='~').contains(&c) { c } else { '?' })
        .collect();
    if s.chars().nth(MAX_ECHO).is_some() {
        out.push_str("...");
    }
    out
}

/// The `'{0}'` of `Jwt10204`: the handler's type name (the JWT library 1.x that Exchange 2013/2016
/// ships lives in `System.IdentityModel.Tokens`).
pub const JWT_HANDLER: &str = "System.IdentityModel.Tokens.JwtSecurityTokenHandler";

const INVALID_SIGNATURE: &str = "The token has an invalid signature.";

impl Diag {
    pub fn code(&self) -> u32 {
        match self {
            Diag::Flighting { .. } => 4000000,
            Diag::Unreadable { .. } | Diag::Invalid | Diag::UntrustedIssuer { .. } => 2000001,
            Diag::UnsupportedAlgorithm { .. }
            | Diag::UnknownSigningKey { .. }
            | Diag::BadSignature
            | Diag::MetadataUnavailable { .. } => 2000000,
            Diag::Expired | Diag::NotYetValid => 2000002,
            Diag::AudienceHost { .. } | Diag::AudienceScheme { .. } => 2000003,
            Diag::TenantMissing | Diag::Tenant { .. } => 2000004,
            Diag::UnknownUser | Diag::MailboxVersion { .. } => 2000005,
        }
    }

    pub fn category(&self) -> &'static str {
        match self {
            Diag::Flighting { .. } => "oauth_not_available",
            Diag::Unreadable { .. } | Diag::Invalid | Diag::UntrustedIssuer { .. } => {
                "invalid_token"
            }
            Diag::UnsupportedAlgorithm { .. }
            | Diag::UnknownSigningKey { .. }
            | Diag::BadSignature
            | Diag::MetadataUnavailable { .. } => "invalid_signature",
            Diag::Expired | Diag::NotYetValid => "token_expired",
            Diag::AudienceHost { .. } | Diag::AudienceScheme { .. } => "invalid_resource",
            Diag::TenantMissing | Diag::Tenant { .. } => "invalid_tenant",
            Diag::UnknownUser | Diag::MailboxVersion { .. } => "invalid_user",
        }
    }

    pub fn reason(&self) -> String {
        match self {
            Diag::Flighting { user } => format!("Flighting is not enabled for domain '{user}'."),
            Diag::Unreadable { detail } => {
                format!("Unable to read or process token, additional details: '{detail}'.")
            }
            Diag::Invalid => String::new(),
            Diag::UnsupportedAlgorithm { .. }
            | Diag::UnknownSigningKey { .. }
            | Diag::BadSignature
            | Diag::MetadataUnavailable { .. } => INVALID_SIGNATURE.into(),
            Diag::UntrustedIssuer { issuer } => {
                format!("The issuer of the token is unknown. Issuer was '{issuer}'.")
            }
            Diag::Expired | Diag::NotYetValid => "The token has expired.".into(),
            Diag::AudienceHost { aud } => {
                format!("The hostname component of the audience claim value '{aud}' is invalid")
            }
            Diag::AudienceScheme { expected, actual } => format!(
                "The hostname component of the audience claim value is invalid. Expected '{expected}'. Actual '{actual}'."
            ),
            Diag::TenantMissing => "The tid claim is missing.".into(),
            Diag::Tenant { tid } => format!("The tenant for context-id '{tid}' does not exist."),
            Diag::UnknownUser => {
                "The user specified by the user-context in the token does not exist.".into()
            }
            Diag::MailboxVersion { .. } => {
                "The user's mailbox version is not supported for access using OAuth.".into()
            }
        }
    }

    /// The `x-ms-diagnostics` header value; the `reason="…";` part is left out when the reason
    /// is empty, as the product does. Quotes in the reason would break the header grammar, so
    /// they are replaced (they only occur in lab-supplied names and echoed tokens).
    pub fn header_value(&self) -> String {
        let reason = self.reason();
        if reason.is_empty() {
            return format!("{};error_category=\"{}\"", self.code(), self.category());
        }
        format!(
            "{};reason=\"{}\";error_category=\"{}\"",
            self.code(),
            reason.replace('"', "'"),
            self.category()
        )
    }

    /// Whether the Bearer challenge carries `error="invalid_token"` (a token was rejected by the
    /// front end).
    pub fn token_rejected(&self) -> bool {
        !matches!(self, Diag::Flighting { .. })
    }

    /// Whether the back end (the mailbox role, after the front end routed the request) decides
    /// this refusal: its challenge carries only `client_id` and `trusted_issuers` (the guide's
    /// "Who's This?" capture).
    pub fn decided_by_back_end(&self) -> bool {
        matches!(self, Diag::UnknownUser)
    }
}

impl Diag {
    /// One value of every variant, in code order, its fields written as `{name}` placeholders:
    /// rendered, each is its reason's template.
    pub fn templates() -> Vec<Diag> {
        let p = |name: &str| format!("{{{name}}}");
        vec![
            Diag::UnsupportedAlgorithm { alg: p("alg") },
            Diag::UnknownSigningKey { kid: p("kid") },
            Diag::BadSignature,
            Diag::MetadataUnavailable {
                auth_server: p("auth_server"),
                detail: p("detail"),
            },
            Diag::Unreadable {
                detail: p("detail"),
            },
            Diag::Invalid,
            Diag::UntrustedIssuer {
                issuer: p("issuer"),
            },
            Diag::Expired,
            Diag::NotYetValid,
            Diag::AudienceHost { aud: p("aud") },
            Diag::AudienceScheme {
                expected: p("expected"),
                actual: p("actual"),
            },
            Diag::TenantMissing,
            Diag::Tenant { tid: p("tid") },
            Diag::UnknownUser,
            Diag::MailboxVersion {
                server: p("server"),
            },
            Diag::Flighting { user: p("user") },
        ]
    }

    /// When the lab answers with this diagnostic, and where today's text comes from. Exhaustive
    /// on purpose: a new variant does not compile until it has its row.
    pub fn about(&self) -> (&'static str, Fidelity) {
        use Fidelity::*;
        match self {
            Diag::Flighting { .. } => (
                "Outlook for Windows sends an empty Bearer while OAuth2ClientProfileEnabled is false",
                GuideCapture,
            ),
            Diag::Unreadable { .. } => (
                "the Bearer token cannot be read as a JWT (not three base64url parts of JSON, or not ASCII); `{detail}` is the JWT library's message (Jwt10204, or Jwt10113 when a part does not decode)",
                ProductBuild,
            ),
            Diag::Invalid => (
                "the token has no `exp` (the product's answer to a value its validation cannot use: no reason at all)",
                ProductBuild,
            ),
            Diag::UnsupportedAlgorithm { .. } => ("the token's `alg` is not RS256", ProductBuild),
            Diag::UnknownSigningKey { .. } => (
                "no trusted AuthServer's metadata publishes the token's `kid`/`x5t`",
                ProductBuild,
            ),
            Diag::BadSignature => ("the token's signature does not verify", ProductBuild),
            Diag::MetadataUnavailable { .. } => (
                "no AuthServer metadata could be read, so no key is loaded",
                ProductBuild,
            ),
            Diag::UntrustedIssuer { .. } => (
                "`iss` is not the issuer of an enabled AzureAD AuthServer",
                ProductBuild,
            ),
            Diag::Expired => ("`exp` has passed (allowing for clock skew)", ProductBuild),
            Diag::NotYetValid => (
                "`nbf` is in the future (allowing for clock skew): Exchange has no separate text",
                ProductBuild,
            ),
            Diag::AudienceHost { .. } => (
                "the audience's host is not the host the request arrived on",
                GuideCapture,
            ),
            Diag::AudienceScheme { .. } => (
                "the audience has the right host but another scheme (SSL offloading)",
                GuideCapture,
            ),
            Diag::TenantMissing => ("the token has no `tid` claim", ProductBuild),
            Diag::Tenant { .. } => ("`tid` is not the tenant of the token's issuer", ProductBuild),
            Diag::UnknownUser => (
                "no on-premises account, or no mailbox, for the token's user (decided by the back end: its Bearer challenge has only client_id and trusted_issuers)",
                GuideCapture,
            ),
            Diag::MailboxVersion { .. } => (
                "the front end would have to proxy a Bearer request to a mailbox on Exchange 2010",
                ProductBuild,
            ),
        }
    }

    /// This diagnostic as a row of the book's table (its reason as rendered).
    pub fn doc(&self) -> DiagDoc {
        let (when, source) = self.about();
        DiagDoc {
            code: self.code(),
            category: self.category().to_string(),
            reason: self.reason(),
            when: when.to_string(),
            source,
        }
    }
}

/// The catalogue for the book: one row per variant, reasons as templates with
/// `{placeholders}`, in code order.
pub fn docs() -> Vec<DiagDoc> {
    Diag::templates().iter().map(Diag::doc).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_texts_render_byte_for_byte() {
        assert_eq!(
            Diag::Flighting { user: "gregt@contoso.com".into() }.header_value(),
            "4000000;reason=\"Flighting is not enabled for domain 'gregt@contoso.com'.\";error_category=\"oauth_not_available\""
        );
        assert_eq!(
            Diag::AudienceHost { aud: "https://autodiscover.contoso.com".into() }.header_value(),
            "2000003;reason=\"The hostname component of the audience claim value 'https://autodiscover.contoso.com' is invalid\";error_category=\"invalid_resource\""
        );
        assert_eq!(
            Diag::AudienceScheme {
                expected: "https://mail.contoso.com".into(),
                actual: "http://mail.contoso.com".into()
            }
            .header_value(),
            "2000003;reason=\"The hostname component of the audience claim value is invalid. Expected 'https://mail.contoso.com'. Actual 'http://mail.contoso.com'.\";error_category=\"invalid_resource\""
        );
        assert_eq!(
            Diag::UnknownUser.header_value(),
            "2000005;reason=\"The user specified by the user-context in the token does not exist.\";error_category=\"invalid_user\""
        );
    }

    /// Every text this catalogue takes from the product build (and the library it quotes), byte
    /// for byte on the wire.
    #[test]
    fn build_texts_render_byte_for_byte() {
        let sig = "2000000;reason=\"The token has an invalid signature.\";error_category=\"invalid_signature\"";
        for d in [
            Diag::UnsupportedAlgorithm {
                alg: "HS256".into(),
            },
            Diag::UnknownSigningKey { kid: "k1".into() },
            Diag::BadSignature,
            Diag::MetadataUnavailable {
                auth_server: "EvoSts".into(),
                detail: "503".into(),
            },
        ] {
            assert_eq!(d.header_value(), sig, "{d:?}");
        }
        assert_eq!(
            Diag::Unreadable { detail: unreadable_detail("abc", None) }.header_value(),
            "2000001;reason=\"Unable to read or process token, additional details: 'Jwt10204: 'System.IdentityModel.Tokens.JwtSecurityTokenHandler' cannot read this string: 'abc'.%0aThe string needs to be in compact JSON format, which is of the form: '<Base64UrlEncodedHeader>.<Base64UrlEndcodedPayload>.<OPTIONAL, Base64UrlEncodedSignature>'.'.\";error_category=\"invalid_token\""
        );
        assert_eq!(
            Diag::Unreadable { detail: unreadable_detail("W10.e30.", Some(("header", "W10"))) }.header_value(),
            "2000001;reason=\"Unable to read or process token, additional details: 'Jwt10113: Unable to decode the 'header': 'W10' as Base64url encoded string. jwtEncodedString: 'W10.e30.'.'.\";error_category=\"invalid_token\""
        );
        assert_eq!(
            Diag::UntrustedIssuer { issuer: "https://sts.windows.net/x/".into() }.header_value(),
            "2000001;reason=\"The issuer of the token is unknown. Issuer was 'https://sts.windows.net/x/'.\";error_category=\"invalid_token\""
        );
        for d in [Diag::Expired, Diag::NotYetValid] {
            assert_eq!(
                d.header_value(),
                "2000002;reason=\"The token has expired.\";error_category=\"token_expired\""
            );
        }
        assert_eq!(
            Diag::Invalid.header_value(),
            "2000001;error_category=\"invalid_token\""
        );
        assert_eq!(
            Diag::TenantMissing.header_value(),
            "2000004;reason=\"The tid claim is missing.\";error_category=\"invalid_tenant\""
        );
        assert_eq!(
            Diag::Tenant { tid: "00000000-0000-0000-0000-000000000001".into() }.header_value(),
            "2000004;reason=\"The tenant for context-id '00000000-0000-0000-0000-000000000001' does not exist.\";error_category=\"invalid_tenant\""
        );
        assert_eq!(
            Diag::MailboxVersion { server: "EX2010".into() }.header_value(),
            "2000005;reason=\"The user's mailbox version is not supported for access using OAuth.\";error_category=\"invalid_user\""
        );
    }

    /// The variant names of `enum Diag`, read from this file.
    fn declared_variants() -> Vec<String> {
        let src = include_str!("diag.rs");
        let start = src
            .find("pub enum Diag {")
            .unwrap_or_else(|| panic!("enum Diag"));
        let body = &src[start..];
        let end = body
            .find("\n}")
            .unwrap_or_else(|| panic!("end of enum Diag"));
        body[..end]
            .lines()
            .skip(1)
            .filter_map(|l| {
                let l = l.trim();
                let name: String = l
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric())
                    .collect();
                (!name.is_empty() && name.starts_with(|c: char| c.is_ascii_uppercase()))
                    .then_some(name)
            })
            .collect()
    }

    fn variant_name(d: &Diag) -> String {
        format!("{d:?}")
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect()
    }

    #[test]
    fn every_variant_has_a_row() {
        let declared = declared_variants();
        assert!(
            declared.iter().any(|v| v == "Flighting")
                && declared.iter().any(|v| v == "MailboxVersion"),
            "the enum was read: {declared:?}"
        );
        let mut templated: Vec<String> = Diag::templates().iter().map(variant_name).collect();
        let rows = docs();
        assert_eq!(rows.len(), templated.len());
        templated.sort();
        templated.dedup();
        let mut want = declared.clone();
        want.sort();
        assert_eq!(
            templated, want,
            "each variant of Diag needs exactly one template"
        );
    }

    #[test]
    fn rows_are_in_code_order_with_templates() {
        let rows = docs();
        assert!(rows.windows(2).all(|w| w[0].code <= w[1].code));
        let flighting = rows.iter().find(|r| r.code == 4000000);
        assert_eq!(
            flighting.map(|r| r.reason.as_str()),
            Some("Flighting is not enabled for domain '{user}'.")
        );
        let scheme = rows
            .iter()
            .find(|r| r.reason.contains("Expected '{expected}'"))
            .map(|r| (r.code, r.category.as_str(), r.source));
        assert_eq!(
            scheme,
            Some((2000003, "invalid_resource", Fidelity::GuideCapture))
        );
        assert!(rows.iter().all(|r| !r.when.is_empty()));
    }

    /// The rows marked as guide captures are exactly the texts pinned byte for byte above.
    #[test]
    fn guide_captures_are_the_pinned_ones() {
        let guide: Vec<String> = docs()
            .into_iter()
            .filter(|r| r.source == Fidelity::GuideCapture)
            .map(|r| r.reason)
            .collect();
        assert_eq!(
            guide,
            [
                "The hostname component of the audience claim value '{aud}' is invalid",
                "The hostname component of the audience claim value is invalid. Expected '{expected}'. Actual '{actual}'.",
                "The user specified by the user-context in the token does not exist.",
                "Flighting is not enabled for domain '{user}'.",
            ]
        );
    }
}
