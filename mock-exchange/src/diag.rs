//! `x-ms-diagnostics`: why Exchange refused a Bearer token (or OAuth for a client).
//!
//! One enum, one renderer: every step of the bearer pipeline names its failure as a [`Diag`]
//! value, and [`Diag::header_value`] writes the wire form
//! `<code>;reason="<text>";error_category="<category>"`. Texts marked *seed* are byte for byte the
//! field guide's captures or documented real traffic; the others are inferred (no real text is
//! known) and listed as such in `docs/ex-core.md`.

/// A reason to refuse OAuth, with its numeric code and category.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Diag {
    /// 4000000 (seed): Outlook for Windows while `OAuth2ClientProfileEnabled` is false.
    Flighting { user: String },
    /// 2000001 (documented): the token is not a JWT.
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
    /// 2000002 (inferred): `exp` passed (with skew).
    Expired,
    /// 2000002 (inferred): `nbf` in the future (with skew).
    NotYetValid,
    /// 2000003 (seed): the audience host is not the host the request arrived on.
    AudienceHost { aud: String },
    /// 2000003 (seed): same host, another scheme (SSL offloading).
    AudienceScheme { expected: String, actual: String },
    /// 2000004 (inferred): `tid` is not the tenant of the issuer.
    Tenant { tid: String, expected: String },
    /// 2000005 (seed): no on-premises account (or no mailbox) for the token's user.
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
}
