//! AADSTS codes of a user's sign-in: credentials, account state, MFA, conditional access,
//! consent, and the sign-in pages' own session errors.

use lab_kit::catalogue::Fidelity;

use crate::aadsts::entry::{Entry, DEFAULTS, MFA_CLAIMS};
use crate::error::AadError;

/// AADSTS50126: wrong password.
pub const AADSTS50126: Entry = Entry {
    code: 50126,
    error: "invalid_grant",
    message: "Error validating credentials due to invalid username or password.",
    when: "wrong password (cloud, password hash sync, or the on-premises one through a pass-through agent); a password grant for a user of a federated domain (Azure AD cannot check a password at the IdP)",
    source: Fidelity::PublicCapture,
    page_text: Some(
        "Your account or password is incorrect. If you don't remember your password, reset it now.",
    ),
    fault: |_| AadError::invalid_credentials(),
    ..DEFAULTS
};

/// AADSTS50034: no such user in the directory.
pub const AADSTS50034: Entry = Entry {
    code: 50034,
    error: "invalid_grant",
    message: "The user account {EmailHidden} does not exist in the {domain} directory. To sign into this application, the account must be added to the directory.",
    when: "unknown user name",
    source: Fidelity::PublicCapture,
    page_text: Some("This username may be incorrect. Make sure you typed it correctly. Otherwise, contact your admin."),
    fault: |c| AadError::user_not_found(c.domain()),
    ..DEFAULTS
};

/// AADSTS50053: locked account (smart lockout).
pub const AADSTS50053: Entry = Entry {
    code: 50053,
    error: "invalid_grant",
    message: "The account is locked, you've tried to sign in too many times with an incorrect user ID or password.",
    when: "user `locked: true`",
    source: Fidelity::PublicCapture,
    page_text: Some("Your account is temporarily locked to prevent unauthorized use. Try again later, and if you still have trouble, contact your admin."),
    fault: |_| AadError::account_locked(),
    ..DEFAULTS
};

/// AADSTS50057: disabled account.
pub const AADSTS50057: Entry = Entry {
    code: 50057,
    error: "invalid_grant",
    message: "The user account is disabled.",
    when: "user `enabled: false` (BlockCredential)",
    source: Fidelity::PublicCapture,
    page_text: Some(
        "Your account has been locked. Contact your support person to unlock it, then try again.",
    ),
    fault: |_| AadError::account_disabled(),
    ..DEFAULTS
};

/// AADSTS50076: MFA required.
pub const AADSTS50076: Entry = Entry {
    code: 50076,
    error: "invalid_grant",
    message: "Due to a configuration change made by your administrator, or because you moved to a new location, you must use multi-factor authentication to access '{resource_app}'.",
    suberror: Some("basic_action"),
    claims: Some(MFA_CLAIMS),
    when: "MFA required and not yet done (v1 endpoints and prompt=none: `interaction_required`)",
    source: Fidelity::PublicCapture,
    fault: |c| AadError::mfa_required(&c.resource_app(), c.v1),
    ..DEFAULTS
};

/// AADSTS50079: MFA registration required.
pub const AADSTS50079: Entry = Entry {
    code: 50079,
    error: "interaction_required",
    message: "Due to a configuration change made by your administrator, or because you moved to a new location, you must enroll in multi-factor authentication to access '{resource_app}'.",
    suberror: Some("basic_action"),
    claims: Some(MFA_CLAIMS),
    when: "MFA enforced but not registered (`mfa: enroll`)",
    source: Fidelity::Inferred,
    fault: |c| AadError::mfa_enroll(&c.resource_app()),
    ..DEFAULTS
};

/// AADSTS53003: blocked by conditional access.
pub const AADSTS53003: Entry = Entry {
    code: 53003,
    error: "invalid_grant",
    message: "Access has been blocked by Conditional Access policies. The access policy does not allow token issuance.",
    suberror: Some("message_only"),
    when: "a conditional-access rule with `action: block` (prompt=none: `access_denied`)",
    source: Fidelity::PublicCapture,
    fault: |_| AadError::ca_blocked(),
    ..DEFAULTS
};

/// AADSTS65001: no consent.
pub const AADSTS65001: Entry = Entry {
    code: 65001,
    error: "invalid_grant",
    message: "The user or administrator has not consented to use the application with ID '{client_id}' named '{app_name}'. Send an interactive authorization request for this user and resource.",
    suberror: Some("consent_required"),
    when: "no admin or user consent for the client (prompt=none: `consent_required`)",
    source: Fidelity::PublicCapture,
    fault: |c| AadError::consent_required(c.client(), c.client_name.as_deref().unwrap_or("")),
    ..DEFAULTS
};

/// AADSTS65004: the user cancelled the consent page.
pub const AADSTS65004: Entry = Entry {
    code: 65004,
    error: "access_denied",
    message: "User declined to consent to access the app.",
    when: "Cancel on the consent page",
    source: Fidelity::Documented,
    fault: |_| AadError::consent_declined(),
    ..DEFAULTS
};

/// AADSTS50058: silent sign-in with no session (authorize, `prompt=none`).
pub const AADSTS50058: Entry = Entry {
    code: 50058,
    error: "login_required",
    message: "A silent sign-in request was sent but no user is signed in.",
    when: "authorize with prompt=none and no SSO session",
    source: Fidelity::PublicCapture,
    fault: |_| AadError::login_required(),
    ..DEFAULTS
};

/// AADSTS50089: the sign-in page's flow token is stale or unknown.
pub const AADSTS50089: Entry = Entry {
    code: 50089,
    error: "invalid_request",
    message: "Authentication failed due to flow token expired.",
    when: "a sign-in page posted after 30 minutes, or with a forged `flowToken`",
    source: Fidelity::Documented,
    fault: |_| AadError::flow_expired(),
    ..DEFAULTS
};

/// This family's rows, in the order the catalogue lists them.
pub const ROWS: &[Entry] = &[
    AADSTS50126,
    AADSTS50034,
    AADSTS50053,
    AADSTS50057,
    AADSTS50076,
    AADSTS50079,
    AADSTS53003,
    AADSTS65001,
    AADSTS65004,
    AADSTS50058,
    AADSTS50089,
];

impl AadError {
    /// AADSTS50126: wrong password (or unknown user on a managed domain).
    pub fn invalid_credentials() -> Self {
        AADSTS50126.error(&[])
    }

    /// AADSTS50034: no such user in the directory; `domain` is the domain of the name typed.
    pub fn user_not_found(domain: &str) -> Self {
        AADSTS50034.error(&[("domain", domain)])
    }

    /// AADSTS50053: locked account.
    pub fn account_locked() -> Self {
        AADSTS50053.error(&[])
    }

    /// AADSTS50057: disabled account.
    pub fn account_disabled() -> Self {
        AADSTS50057.error(&[])
    }

    /// AADSTS50076: MFA required. `v1` endpoints answer `interaction_required`.
    pub fn mfa_required(resource_app_id: &str, v1: bool) -> Self {
        let e = AADSTS50076.error(&[("resource_app", resource_app_id)]);
        if v1 {
            e.with_error("interaction_required")
        } else {
            e
        }
    }

    /// AADSTS50079: MFA registration required.
    pub fn mfa_enroll(resource_app_id: &str) -> Self {
        AADSTS50079.error(&[("resource_app", resource_app_id)])
    }

    /// AADSTS53003: blocked by conditional access.
    pub fn ca_blocked() -> Self {
        AADSTS53003.error(&[])
    }

    /// AADSTS65001: no consent.
    pub fn consent_required(client_id: &str, app_name: &str) -> Self {
        AADSTS65001.error(&[("client_id", client_id), ("app_name", app_name)])
    }

    /// AADSTS65004: the user declined consent.
    pub fn consent_declined() -> Self {
        AADSTS65004.error(&[])
    }

    /// AADSTS50058: silent sign-in with no session (authorize, `prompt=none`).
    pub fn login_required() -> Self {
        AADSTS50058.error(&[])
    }

    /// AADSTS50089: the sign-in flow token expired (or never existed).
    pub fn flow_expired() -> Self {
        AADSTS50089.error(&[])
    }
}

/// What the username and password pages say for an error without a text of its own.
pub const PAGE_TEXT_FALLBACK: &str = "We couldn't sign you in. Please try again.";
