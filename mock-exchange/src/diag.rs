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
/// fidelity of today's text (see [`Diag::about`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Diag {
    /// 4000000 (guide capture): Outlook for Windows while `OAuth2ClientProfileEnabled` is false.
    Flighting { user: String },
    /// 2000001 (inferred): the token is not a JWT.
    Unparsable,
    /// 2000000 (inferred): `alg` is not RS256.
    UnsupportedAlgorithm { alg: String },
    /// 2000000 (inferred): no trusted signing certificate has the token's `kid`/`x5t`.
    UnknownSigningKey { kid: String },
    /// 2000000 (inferred): the signature does not verify.
    BadSignature,
    /// 2000000 (inferred): the AuthServer metadata could not be read, so nothing can be verified.
    MetadataUnavailable { auth_server: String, detail: String },
    /// 2000001 (inferred): `iss` is not the issuer of an enabled AzureAD AuthServer.
    UntrustedIssuer { issuer: String },
    /// 2000002 (product build): `exp` passed (with skew).
    Expired,
    /// 2000002 (inferred): `nbf` in the future (with skew).
    NotYetValid,
    /// 2000003 (guide capture): the audience host is not the host the request arrived on.
    AudienceHost { aud: String },
    /// 2000003 (guide capture): same host, another scheme (SSL offloading).
    AudienceScheme { expected: String, actual: String },
    /// 2000004 (inferred): `tid` is not the tenant of the issuer.
    Tenant { tid: String, expected: String },
    /// 2000005 (guide capture): no on-premises account (or no mailbox) for the token's user.
    UnknownUser,
    /// 2000007 (inferred): the front end will not proxy an OAuth request to Exchange 2010.
    Legacy2010 { server: String },
}

impl Diag {
    pub fn code(&self) -> u32 {
        match self {
            Diag::Flighting { .. } => 4000000,
            Diag::Unparsable | Diag::UntrustedIssuer { .. } => 2000001,
            Diag::UnsupportedAlgorithm { .. }
            | Diag::UnknownSigningKey { .. }
            | Diag::BadSignature
            | Diag::MetadataUnavailable { .. } => 2000000,
            Diag::Expired | Diag::NotYetValid => 2000002,
            Diag::AudienceHost { .. } | Diag::AudienceScheme { .. } => 2000003,
            Diag::Tenant { .. } => 2000004,
            Diag::UnknownUser => 2000005,
            Diag::Legacy2010 { .. } => 2000007,
        }
    }

    pub fn category(&self) -> &'static str {
        match self {
            Diag::Flighting { .. } => "oauth_not_available",
            Diag::Unparsable | Diag::UntrustedIssuer { .. } => "invalid_token",
            Diag::UnsupportedAlgorithm { .. }
            | Diag::UnknownSigningKey { .. }
            | Diag::BadSignature
            | Diag::MetadataUnavailable { .. } => "invalid_signature",
            Diag::Expired | Diag::NotYetValid => "token_expired",
            Diag::AudienceHost { .. } | Diag::AudienceScheme { .. } => "invalid_resource",
            Diag::Tenant { .. } => "invalid_tenant",
            Diag::UnknownUser => "invalid_user",
            Diag::Legacy2010 { .. } => "internal_error",
        }
    }

    pub fn reason(&self) -> String {
        match self {
            Diag::Flighting { user } => format!("Flighting is not enabled for domain '{user}'."),
            Diag::Unparsable => "OAuth token submitted with the request can not be parsed.".into(),
            Diag::UnsupportedAlgorithm { alg } => {
                format!("The signing algorithm '{alg}' of the token is not supported.")
            }
            Diag::UnknownSigningKey { kid } => format!(
                "The token is signed with a certificate ('{kid}') that is not published by any trusted authorization server."
            ),
            Diag::BadSignature => "The signature of the token is invalid.".into(),
            Diag::MetadataUnavailable {
                auth_server,
                detail,
            } => format!(
                "The signing certificates of the authorization server '{auth_server}' could not be retrieved from its metadata: {detail}"
            ),
            Diag::UntrustedIssuer { issuer } => {
                format!("The issuer '{issuer}' of the token is not a trusted authorization server.")
            }
            Diag::Expired => "The token has expired.".into(),
            Diag::NotYetValid => "The token is not yet valid.".into(),
            Diag::AudienceHost { aud } => {
                format!("The hostname component of the audience claim value '{aud}' is invalid")
            }
            Diag::AudienceScheme { expected, actual } => format!(
                "The hostname component of the audience claim value is invalid. Expected '{expected}'. Actual '{actual}'."
            ),
            Diag::Tenant { tid, expected } => format!(
                "The tenant '{tid}' of the token does not match the realm '{expected}' of its issuer."
            ),
            Diag::UnknownUser => {
                "The user specified by the user-context in the token does not exist.".into()
            }
            Diag::Legacy2010 { server } => format!(
                "The mailbox is on server '{server}' (Exchange 2010), which does not accept OAuth; the request cannot be proxied."
            ),
        }
    }

    /// The `x-ms-diagnostics` header value. Quotes in the reason would break the header
    /// grammar, so they are replaced (they only occur in lab-supplied names).
    pub fn header_value(&self) -> String {
        format!(
            "{};reason=\"{}\";error_category=\"{}\"",
            self.code(),
            self.reason().replace('"', "'"),
            self.category()
        )
    }

    /// Whether the Bearer challenge carries `error="invalid_token"` (a token was rejected).
    pub fn token_rejected(&self) -> bool {
        !matches!(self, Diag::Flighting { .. } | Diag::Legacy2010 { .. })
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
            Diag::Unparsable,
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
            Diag::Tenant {
                tid: p("tid"),
                expected: p("expected"),
            },
            Diag::UnknownUser,
            Diag::Legacy2010 {
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
            Diag::Unparsable => ("the Bearer token is not a JWT (three base64url JSON parts)", Inferred),
            Diag::UnsupportedAlgorithm { .. } => ("the token's `alg` is not RS256", Inferred),
            Diag::UnknownSigningKey { .. } => (
                "no trusted AuthServer's metadata publishes the token's `kid`/`x5t`",
                Inferred,
            ),
            Diag::BadSignature => ("the token's signature does not verify", Inferred),
            Diag::MetadataUnavailable { .. } => (
                "no AuthServer metadata could be read, so no signature can be checked",
                Inferred,
            ),
            Diag::UntrustedIssuer { .. } => (
                "`iss` is not the issuer of an enabled AzureAD AuthServer",
                Inferred,
            ),
            Diag::Expired => ("`exp` has passed (allowing for clock skew)", ProductBuild),
            Diag::NotYetValid => ("`nbf` is in the future (allowing for clock skew)", Inferred),
            Diag::AudienceHost { .. } => (
                "the audience's host is not the host the request arrived on",
                GuideCapture,
            ),
            Diag::AudienceScheme { .. } => (
                "the audience has the right host but another scheme (SSL offloading)",
                GuideCapture,
            ),
            Diag::Tenant { .. } => ("`tid` is not the tenant of the token's issuer", Inferred),
            Diag::UnknownUser => (
                "no on-premises account, or no mailbox, for the token's user",
                GuideCapture,
            ),
            Diag::Legacy2010 { .. } => (
                "the front end would have to proxy a Bearer request to an Exchange 2010 mailbox",
                Inferred,
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
        assert_eq!(
            Diag::Unparsable.header_value(),
            "2000001;reason=\"OAuth token submitted with the request can not be parsed.\";error_category=\"invalid_token\""
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
            declared.iter().any(|v| v == "Flighting") && declared.iter().any(|v| v == "Legacy2010"),
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
