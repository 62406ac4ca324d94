//! AADSTS codes about the client application: unknown clients, client credentials, redirect URIs
//! and what an authorize request may ask for (response type, PKCE challenge).

use axum::http::StatusCode;
use lab_kit::catalogue::Fidelity;

use crate::aadsts::entry::{Entry, DEFAULTS};
use crate::error::AadError;

/// AADSTS700016: unknown client application.
pub const AADSTS700016: Entry = Entry {
    code: 700016,
    error: "unauthorized_client",
    message: "Application with identifier '{client_id}' was not found in the directory '{tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.",
    when: "`client_id` not registered in the tenant (authorize: the HTML error page)",
    source: Fidelity::PublicCapture,
    fault: |c| AadError::unknown_client(c.client(), c.tenant()),
    ..DEFAULTS
};

/// AADSTS7000218: confidential client without a credential.
pub const AADSTS7000218: Entry = Entry {
    code: 7000218,
    error: "invalid_client",
    status: StatusCode::UNAUTHORIZED,
    message: "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
    when: "a confidential client sent no secret",
    source: Fidelity::PublicCapture,
    fault: |_| AadError::client_credential_missing(),
    ..DEFAULTS
};

/// AADSTS7000215: wrong client secret.
pub const AADSTS7000215: Entry = Entry {
    code: 7000215,
    error: "invalid_client",
    status: StatusCode::UNAUTHORIZED,
    message: "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{client_id}'.",
    when: "a confidential client sent a wrong secret",
    source: Fidelity::PublicCapture,
    fault: |c| AadError::invalid_client_secret(c.client()),
    ..DEFAULTS
};

/// AADSTS700025: a public client presented a secret.
pub const AADSTS700025: Entry = Entry {
    code: 700025,
    error: "invalid_client",
    status: StatusCode::UNAUTHORIZED,
    message:
        "Client is public so neither 'client_assertion' nor 'client_secret' should be presented.",
    when: "a public client sent a secret or assertion",
    source: Fidelity::PublicCapture,
    fault: |_| AadError::public_client_with_secret(),
    ..DEFAULTS
};

/// AADSTS50011: redirect URI not registered for the client.
pub const AADSTS50011: Entry = Entry {
    code: 50011,
    error: "invalid_request",
    message: "The redirect URI '{redirect_uri}' specified in the request does not match the redirect URIs configured for the application '{client_id}'. Make sure the redirect URI sent in the request matches one added to your application in the Azure portal. Navigate to https://aka.ms/redirectUriMismatchError to learn more about how to fix this.",
    when: "`redirect_uri` not registered for the client (authorize: the HTML error page; token: the code's URI differs); a reply URL that cannot be put in a `Location` header gets `The reply URL cannot be used in a Location header.`",
    source: Fidelity::Inferred,
    fault: |c| AadError::redirect_mismatch(c.redirect_uri.as_deref().unwrap_or(""), c.client()),
    ..DEFAULTS
};

/// AADSTS700054: an implicit `id_token` response type (the lab's clients have implicit grant
/// disabled).
pub const AADSTS700054: Entry = Entry {
    code: 700054,
    error: "unsupported_response_type",
    message: "response_type '{response_type}' is not enabled for the application.",
    when: "authorize `response_type` asks for an `id_token`",
    source: Fidelity::Inferred,
    fault: |_| AadError::unsupported_response_type("id_token"),
    ..DEFAULTS
};

/// AADSTS70005: any other response type than `code`.
pub const AADSTS70005: Entry = Entry {
    code: 70005,
    error: "unsupported_response_type",
    message: "response_type '{response_type}' is not enabled for the application.",
    when: "authorize `response_type` other than `code` (and without `id_token`)",
    source: Fidelity::Inferred,
    fault: |_| AadError::unsupported_response_type("token"),
    ..DEFAULTS
};

/// AADSTS50149: a PKCE challenge method other than `S256` or `plain`.
pub const AADSTS50149: Entry = Entry {
    code: 50149,
    error: "invalid_request",
    message: "Invalid Code_Challenge_method parameter.",
    when: "authorize `code_challenge_method` other than `S256`/`plain`",
    source: Fidelity::Inferred,
    fault: |_| AadError::code_challenge_method_invalid(),
    ..DEFAULTS
};

/// AADSTS501491: a PKCE challenge of the wrong size.
pub const AADSTS501491: Entry = Entry {
    code: 501491,
    error: "invalid_request",
    message: "Invalid size of Code_Challenge parameter.",
    when: "`S256` challenge not 43 characters, or `plain` not 43 to 128",
    source: Fidelity::Inferred,
    fault: |_| AadError::code_challenge_size_invalid(),
    ..DEFAULTS
};

/// This family's rows, in the order the catalogue lists them.
pub const ROWS: &[Entry] = &[
    AADSTS700016,
    AADSTS7000218,
    AADSTS7000215,
    AADSTS700025,
    AADSTS50011,
    AADSTS700054,
    AADSTS70005,
    AADSTS50149,
    AADSTS501491,
];

impl AadError {
    /// AADSTS700016: unknown client application.
    pub fn unknown_client(client_id: &str, tenant_name: &str) -> Self {
        AADSTS700016.error(&[("client_id", client_id), ("tenant", tenant_name)])
    }

    /// AADSTS7000218: confidential client without a credential.
    pub fn client_credential_missing() -> Self {
        AADSTS7000218.error(&[])
    }

    /// AADSTS7000215: wrong client secret.
    pub fn invalid_client_secret(client_id: &str) -> Self {
        AADSTS7000215.error(&[("client_id", client_id)])
    }

    /// AADSTS700025: a public client presented a secret.
    pub fn public_client_with_secret() -> Self {
        AADSTS700025.error(&[])
    }

    /// AADSTS50011: redirect URI mismatch.
    pub fn redirect_mismatch(redirect_uri: &str, client_id: &str) -> Self {
        AADSTS50011.error(&[("redirect_uri", redirect_uri), ("client_id", client_id)])
    }

    /// AADSTS50011 for a registered reply URL that cannot be sent in a `Location` header.
    pub fn reply_url_unusable() -> Self {
        AADSTS50011.with_message("The reply URL cannot be used in a Location header.")
    }

    /// AADSTS700054 for a response type asking for an `id_token`, else AADSTS70005: the lab's
    /// clients have implicit grant disabled.
    pub fn unsupported_response_type(response_type: &str) -> Self {
        if response_type.split_whitespace().any(|t| t == "id_token") {
            AADSTS700054.error(&[("response_type", "id_token")])
        } else {
            AADSTS70005.error(&[("response_type", response_type)])
        }
    }

    /// AADSTS50149: unknown PKCE challenge method.
    pub fn code_challenge_method_invalid() -> Self {
        AADSTS50149.error(&[])
    }

    /// AADSTS501491: PKCE challenge of the wrong size.
    pub fn code_challenge_size_invalid() -> Self {
        AADSTS501491.error(&[])
    }
}
