//! AADSTS codes about the request itself: its tenant, parameters, method and size, the resource
//! or scope it asks for, and the service's own transient failure.

use axum::http::StatusCode;
use lab_kit::catalogue::Fidelity;

use crate::aadsts::entry::{Entry, DEFAULTS};
use crate::error::AadError;

/// AADSTS50001 (v1): resource not registered.
pub const AADSTS50001: Entry = Entry {
    code: 50001,
    error: "invalid_resource",
    message: "The application named {resource} was not found in the tenant named {tenant}.  This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant.  You might have sent your authentication request to the wrong tenant.",
    when: "v1 `resource` not registered in the tenant (the guide's Missing SPNs)",
    source: Fidelity::GuideCapture,
    fault: |c| AadError::resource_not_found_v1(&c.resource(), c.tenant()),
    ..DEFAULTS
};

/// AADSTS500011 (v2): resource principal not registered.
pub const AADSTS500011: Entry = Entry {
    code: 500011,
    error: "invalid_resource",
    message: "The resource principal named {resource} was not found in the tenant named {tenant}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.",
    when: "v2 `scope` names a resource not registered in the tenant",
    source: Fidelity::PublicCapture,
    fault: |c| AadError::resource_not_found_v2(&c.resource(), c.tenant()),
    ..DEFAULTS
};

/// AADSTS70011: invalid scope.
pub const AADSTS70011: Entry = Entry {
    code: 70011,
    error: "invalid_scope",
    message: "The provided value for the input parameter 'scope' is not valid. The scope {scope} is not valid.",
    when: "a scope the resource does not expose; client credentials without exactly one `/.default`",
    source: Fidelity::Documented,
    fault: |c| AadError::invalid_scope(c.scope.as_deref().unwrap_or(&c.resource())),
    ..DEFAULTS
};

/// AADSTS90002: unknown tenant.
pub const AADSTS90002: Entry = Entry {
    code: 90002,
    error: "invalid_request",
    message: "Tenant '{tenant}' not found. This may happen if there are no active subscriptions for the tenant. Check to make sure you have the correct tenant ID. Check with your subscription administrator.",
    when: "the `{tenant}` path segment names no tenant of the lab",
    source: Fidelity::PublicCapture,
    fault: |c| AadError::tenant_not_found(c.tenant()),
    ..DEFAULTS
};

/// AADSTS50059: no tenant information.
pub const AADSTS50059: Entry = Entry {
    code: 50059,
    error: "invalid_request",
    message: "No tenant-identifying information found in either the request or implied by any provided credentials.",
    when: "device code or client credentials on `common`/`organizations`",
    source: Fidelity::PublicCapture,
    fault: |_| AadError::no_tenant_info(),
    ..DEFAULTS
};

/// AADSTS900144: missing parameter.
pub const AADSTS900144: Entry = Entry {
    code: 900144,
    error: "invalid_request",
    message: "The request body must contain the following parameter: '{parameter}'.",
    when: "a required parameter is missing (or sent in the query string instead of the body)",
    source: Fidelity::PublicCapture,
    fault: |c| {
        AadError::missing_parameter(if c.grant_type.is_none() {
            "grant_type"
        } else if c.client_id.is_none() {
            "client_id"
        } else if c.v1 {
            "resource"
        } else {
            "scope"
        })
    },
    ..DEFAULTS
};

/// AADSTS90015: a repeated parameter.
pub const AADSTS90015: Entry = Entry {
    code: 90015,
    error: "invalid_request",
    message: "Requested query string is too long or contains a duplicate parameter '{parameter}'.",
    when: "a form key sent twice; a body over 256 KiB gets `413` with `Request is too large.`",
    source: Fidelity::Inferred,
    fault: |_| AadError::duplicate_parameter("client_id"),
    ..DEFAULTS
};

/// AADSTS70003: unsupported grant type.
pub const AADSTS70003: Entry = Entry {
    code: 70003,
    error: "unsupported_grant_type",
    message: "The app requested an unsupported grant type '{grant_type}'.",
    when: "a `grant_type` the token endpoint does not know (or jwt-bearer without on_behalf_of)",
    source: Fidelity::Inferred,
    fault: |c| AadError::unsupported_grant_type(c.grant_type.as_deref().unwrap_or("")),
    ..DEFAULTS
};

/// AADSTS901002: v2 endpoint given `resource`.
pub const AADSTS901002: Entry = Entry {
    code: 901002,
    error: "invalid_request",
    message: "The 'resource' request parameter is not supported.",
    when: "`resource=` sent to a v2 endpoint",
    source: Fidelity::Inferred,
    fault: |_| AadError::resource_on_v2(),
    ..DEFAULTS
};

/// AADSTS900561: a token or devicecode endpoint reached with another method than POST (the
/// text of a public capture of Azure AD's error page for a GET).
pub const AADSTS900561: Entry = Entry {
    code: 900561,
    error: "invalid_request",
    message: "The endpoint only accepts POST requests. Received a {method} request.",
    when: "token or devicecode endpoint reached with GET (or another method)",
    source: Fidelity::PublicCapture,
    fault: |_| AadError::post_only("GET"),
    ..DEFAULTS
};

/// AADSTS90033: a transient failure (a fault rule's bare 5xx).
pub const AADSTS90033: Entry = Entry {
    code: 90033,
    error: "temporarily_unavailable",
    status: StatusCode::SERVICE_UNAVAILABLE,
    message: "A transient error has occurred. Please try again.",
    when: "a fault rule's `status` (any 5xx; 503 when injected by code)",
    source: Fidelity::Inferred,
    fault: |_| AadError::server_error(StatusCode::SERVICE_UNAVAILABLE),
    ..DEFAULTS
};

/// AADSTS50049: the authority host of instance discovery is not Azure AD's.
pub const AADSTS50049: Entry = Entry {
    code: 50049,
    error: "invalid_instance",
    message: "Unknown or invalid instance.",
    when: "instance discovery for a host that is not an Azure AD alias",
    source: Fidelity::Inferred,
    fault: |_| AadError::invalid_instance(),
    ..DEFAULTS
};

/// AADSTS90021: an `api-version` the endpoint does not serve.
pub const AADSTS90021: Entry = Entry {
    code: 90021,
    error: "invalid_request",
    message: "The api-version '{version}' is not supported.",
    when: "instance discovery or user realm with an unknown `api-version`",
    source: Fidelity::Inferred,
    fault: |_| AadError::api_version_unsupported("3.0"),
    ..DEFAULTS
};

/// This family's rows, in the order the catalogue lists them.
pub const ROWS: &[Entry] = &[
    AADSTS50001,
    AADSTS500011,
    AADSTS70011,
    AADSTS90002,
    AADSTS50059,
    AADSTS900144,
    AADSTS90015,
    AADSTS70003,
    AADSTS901002,
    AADSTS900561,
    AADSTS90033,
    AADSTS50049,
    AADSTS90021,
];

impl AadError {
    /// AADSTS50001 (v1): resource not registered. `tenant_name` is the domain the request named.
    pub fn resource_not_found_v1(resource: &str, tenant_name: &str) -> Self {
        AADSTS50001.error(&[("resource", resource), ("tenant", tenant_name)])
    }

    /// AADSTS500011 (v2): resource principal not registered.
    pub fn resource_not_found_v2(resource: &str, tenant_name: &str) -> Self {
        AADSTS500011.error(&[("resource", resource), ("tenant", tenant_name)])
    }

    /// AADSTS70011: invalid scope.
    pub fn invalid_scope(scope: &str) -> Self {
        AADSTS70011.error(&[("scope", scope)])
    }

    /// AADSTS90002: unknown tenant.
    pub fn tenant_not_found(tenant: &str) -> Self {
        AADSTS90002.error(&[("tenant", tenant)])
    }

    /// AADSTS50059: no tenant information (device code or client credentials on /common).
    pub fn no_tenant_info() -> Self {
        AADSTS50059.error(&[])
    }

    /// AADSTS900144: missing parameter.
    pub fn missing_parameter(name: &str) -> Self {
        AADSTS900144.error(&[("parameter", name)])
    }

    /// AADSTS90015: duplicate parameter (Azure AD rejects repeated form keys).
    pub fn duplicate_parameter(name: &str) -> Self {
        AADSTS90015.error(&[("parameter", name)])
    }

    /// AADSTS90015 for a request body over the service's size limit (rendered as Azure AD JSON,
    /// never as the framework's plain-text rejection).
    pub fn body_too_large() -> Self {
        let mut e = AADSTS90015.with_message("Request is too large.");
        e.status = StatusCode::PAYLOAD_TOO_LARGE;
        e
    }

    /// AADSTS70003: unsupported or missing grant type value.
    pub fn unsupported_grant_type(grant: &str) -> Self {
        AADSTS70003.error(&[("grant_type", grant)])
    }

    /// AADSTS901002: v2 endpoint given `resource`.
    pub fn resource_on_v2() -> Self {
        AADSTS901002.error(&[])
    }

    /// AADSTS900561: a token or devicecode endpoint reached with another method than POST.
    pub fn post_only(method: &str) -> Self {
        AADSTS900561.error(&[("method", method)])
    }

    /// AADSTS90033 with the given 5xx status (a fault rule's bare server error).
    pub fn server_error(status: StatusCode) -> Self {
        let mut e = AADSTS90033.error(&[]);
        e.status = status;
        e
    }

    /// AADSTS50049: the authority host is not an Azure AD instance.
    pub fn invalid_instance() -> Self {
        AADSTS50049.error(&[])
    }

    /// AADSTS90021: unsupported `api-version`.
    pub fn api_version_unsupported(version: &str) -> Self {
        AADSTS90021.error(&[("version", version)])
    }
}
