//! Azure AD's error responses, rendered in exactly one place.
//!
//! Every token-endpoint error is an [`AadError`]: an HTTP status, the OAuth `error` string, the
//! AADSTS code and its message. [`AadError::into_response_with`] renders it the way the service
//! does on the wire: the header set of the field guide's captures, and the JSON body with the key
//! order `error, error_description, error_codes, timestamp, trace_id, correlation_id, error_uri
//! [, suberror, claims]`, the description lines joined with `\r\n`.
//!
//! The constructors below are the catalogue; their texts are Azure AD's (see README for sources).

use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::timefmt;

/// The sentence Azure AD appends to "not found in the tenant" errors.
pub const INSTALL_HINT: &str = "This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.";

/// One Azure AD error.
#[derive(Debug, Clone, PartialEq)]
pub struct AadError {
    pub status: StatusCode,
    /// Custom reason phrase for the status line (`400 Bad Unicorn`).
    pub reason: Option<&'static str>,
    /// OAuth `error` value.
    pub error: String,
    /// AADSTS code (`error_codes[0]`); 0 for the few errors without one.
    pub code: u32,
    /// The message after `AADSTS<code>: `.
    pub message: String,
    /// When set, the description starts with this text verbatim instead of `AADSTS<code>: <message>`.
    pub raw_description: Option<String>,
    pub suberror: Option<String>,
    /// The `claims` challenge (a JSON string inside the JSON body).
    pub claims: Option<String>,
    /// Whether to emit `error_uri` (Azure AD does on today's endpoints).
    pub with_error_uri: bool,
    /// Overrides `Cache-Control` (the unicorn capture sends `no-cache, no-store, not-bloody-safe`).
    pub cache_control: Option<&'static str>,
}

impl AadError {
    pub fn new(status: StatusCode, error: &str, code: u32, message: impl Into<String>) -> Self {
        AadError {
            status,
            reason: None,
            error: error.to_string(),
            code,
            message: message.into(),
            raw_description: None,
            suberror: None,
            claims: None,
            with_error_uri: true,
            cache_control: None,
        }
    }

    pub fn bad_request(error: &str, code: u32, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, error, code, message)
    }

    pub fn with_suberror(mut self, s: &str) -> Self {
        self.suberror = Some(s.to_string());
        self
    }

    pub fn with_claims(mut self, c: impl Into<String>) -> Self {
        self.claims = Some(c.into());
        self
    }

    /// The first line of `error_description` (`AADSTS50126: Error validating …`).
    pub fn headline(&self) -> String {
        match &self.raw_description {
            Some(raw) => raw.clone(),
            None => format!("AADSTS{}: {}", self.code, self.message),
        }
    }

    /// `AADSTS<code>: <message>\r\nTrace ID: …\r\nCorrelation ID: …\r\nTimestamp: …`.
    pub fn description(&self, trace_id: Uuid, correlation_id: Uuid, now: OffsetDateTime) -> String {
        format!(
            "{}\r\nTrace ID: {}\r\nCorrelation ID: {}\r\nTimestamp: {}",
            self.headline(),
            trace_id,
            correlation_id,
            timefmt::aad_timestamp(now)
        )
    }

    /// The JSON body, keys in Azure AD's order.
    pub fn body(&self, trace_id: Uuid, correlation_id: Uuid, now: OffsetDateTime) -> Value {
        let mut m = Map::new();
        m.insert("error".into(), json!(self.error));
        m.insert(
            "error_description".into(),
            json!(self.description(trace_id, correlation_id, now)),
        );
        m.insert("error_codes".into(), json!([self.code]));
        m.insert("timestamp".into(), json!(timefmt::aad_timestamp(now)));
        m.insert("trace_id".into(), json!(trace_id.to_string()));
        m.insert("correlation_id".into(), json!(correlation_id.to_string()));
        if self.with_error_uri {
            m.insert(
                "error_uri".into(),
                json!(format!(
                    "https://login.microsoftonline.com/error?code={}",
                    self.code
                )),
            );
        }
        if let Some(s) = &self.suberror {
            m.insert("suberror".into(), json!(s));
        }
        if let Some(c) = &self.claims {
            m.insert("claims".into(), json!(c));
        }
        Value::Object(m)
    }

    /// Renders the error as Azure AD's token endpoint does.
    pub fn into_response_with(self, ctx: &RequestIds, now: OffsetDateTime) -> Response {
        let body = self.body(ctx.trace_id, ctx.correlation_id, now).to_string();
        let mut resp = (self.status, body).into_response();
        let h = resp.headers_mut();
        h.clear();
        set_aad_headers(h, ctx.trace_id, now, self.cache_control);
        h.insert(
            axum::http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=utf-8"),
        );
        reorder_content_type_after_pragma(h);
        if let Some(reason) = self.reason {
            resp.extensions_mut()
                .insert(hyper::ext::ReasonPhrase::from_static(reason.as_bytes()));
        }
        resp
    }

    // ---------------------------------------------------------------- the catalogue

    /// AADSTS50001 (v1): resource not registered. `tenant_name` is the domain the request named.
    pub fn resource_not_found_v1(resource: &str, tenant_name: &str) -> Self {
        Self::bad_request(
            "invalid_resource",
            50001,
            format!(
                "The application named {resource} was not found in the tenant named {tenant_name}.  {hint}",
                hint = INSTALL_HINT.replace(". ", ".  ")
            ),
        )
    }

    /// AADSTS500011 (v2): resource principal not registered.
    pub fn resource_not_found_v2(resource: &str, tenant_name: &str) -> Self {
        Self::bad_request(
            "invalid_resource",
            500011,
            format!(
                "The resource principal named {resource} was not found in the tenant named {tenant_name}. {INSTALL_HINT}"
            ),
        )
    }

    /// AADSTS50173: the grant predates the user's TokensValidFrom (the field guide's text).
    pub fn grant_revoked(issued: OffsetDateTime, valid_from: OffsetDateTime) -> Self {
        Self::bad_request(
            "invalid_grant",
            50173,
            format!(
                "The provided grant has expired due to it being revoked. The user might have changed or reset their password. The grant was issued on '{}' and the TokensValidFrom date for this user is '{}'",
                timefmt::aad_instant(issued),
                timefmt::aad_instant(valid_from)
            ),
        )
    }

    /// The field guide's "Unicorn Rampage" answer to a tenant-wide revocation.
    pub fn unicorn_rampage(valid_from: OffsetDateTime) -> Self {
        let mut e = Self::bad_request("unicorn_rampage", 50173, "");
        e.reason = Some("Bad Unicorn");
        e.raw_description = Some(format!(
            "The Unicorns are on a rampage. It\u{2019}s time go home\u{201d} '{}'",
            timefmt::aad_instant(valid_from)
        ));
        e.with_error_uri = false;
        e.cache_control = Some("no-cache, no-store, not-bloody-safe");
        e
    }

    /// AADSTS70008: authorization code or refresh token expired.
    pub fn code_expired() -> Self {
        Self::bad_request(
            "invalid_grant",
            70008,
            "The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.",
        )
    }

    /// AADSTS700081: refresh token past its maximum age.
    pub fn refresh_max_age(issued: OffsetDateTime, max_age_secs: i64) -> Self {
        Self::bad_request(
            "invalid_grant",
            700081,
            format!(
                "The refresh token has expired due to maximum lifetime. The token was issued on {} and the maximum allowed lifetime for this application is {}.",
                timefmt::aad_instant(issued),
                timefmt::dotnet_timespan(max_age_secs)
            ),
        )
    }

    /// AADSTS700082: refresh token unused for too long.
    pub fn refresh_inactive(issued: OffsetDateTime, inactive_secs: i64) -> Self {
        Self::bad_request(
            "invalid_grant",
            700082,
            format!(
                "The refresh token has expired due to inactivity. The token was issued on {} and was inactive for {}.",
                timefmt::aad_instant(issued),
                timefmt::dotnet_timespan(inactive_secs)
            ),
        )
    }

    /// AADSTS50126: wrong password (or unknown user on a managed domain).
    pub fn invalid_credentials() -> Self {
        Self::bad_request(
            "invalid_grant",
            50126,
            "Error validating credentials due to invalid username or password.",
        )
    }

    /// AADSTS50034: no such user in the directory.
    pub fn user_not_found(domain: &str) -> Self {
        Self::bad_request(
            "invalid_grant",
            50034,
            format!("The user account {{EmailHidden}} does not exist in the {domain} directory. To sign into this application, the account must be added to the directory."),
        )
    }

    /// AADSTS50053: locked account.
    pub fn account_locked() -> Self {
        Self::bad_request(
            "invalid_grant",
            50053,
            "The account is locked, you've tried to sign in too many times with an incorrect user ID or password.",
        )
    }

    /// AADSTS50057: disabled account.
    pub fn account_disabled() -> Self {
        Self::bad_request("invalid_grant", 50057, "The user account is disabled.")
    }

    /// AADSTS50076: MFA required. `v1` endpoints answer `interaction_required`.
    pub fn mfa_required(resource_app_id: &str, v1: bool) -> Self {
        Self::bad_request(
            if v1 { "interaction_required" } else { "invalid_grant" },
            50076,
            format!("Due to a configuration change made by your administrator, or because you moved to a new location, you must use multi-factor authentication to access '{resource_app_id}'."),
        )
        .with_suberror("basic_action")
        .with_claims(r#"{"access_token":{"capolids":{"essential":true,"values":["00000000-0000-0000-0000-000000000000"]}}}"#)
    }

    /// AADSTS50079: MFA registration required.
    pub fn mfa_enroll(resource_app_id: &str) -> Self {
        Self::bad_request(
            "interaction_required",
            50079,
            format!("Due to a configuration change made by your administrator, or because you moved to a new location, you must enroll in multi-factor authentication to access '{resource_app_id}'."),
        )
        .with_suberror("basic_action")
        .with_claims(r#"{"access_token":{"capolids":{"essential":true,"values":["00000000-0000-0000-0000-000000000000"]}}}"#)
    }

    /// AADSTS53003: blocked by conditional access.
    pub fn ca_blocked() -> Self {
        Self::bad_request(
            "invalid_grant",
            53003,
            "Access has been blocked by Conditional Access policies. The access policy does not allow token issuance.",
        )
        .with_suberror("message_only")
    }

    /// AADSTS65001: no consent.
    pub fn consent_required(client_id: &str, app_name: &str) -> Self {
        Self::bad_request(
            "invalid_grant",
            65001,
            format!("The user or administrator has not consented to use the application with ID '{client_id}' named '{app_name}'. Send an interactive authorization request for this user and resource."),
        )
        .with_suberror("consent_required")
    }

    /// AADSTS700016: unknown client application.
    pub fn unknown_client(client_id: &str, tenant_name: &str) -> Self {
        Self::bad_request(
            "unauthorized_client",
            700016,
            format!("Application with identifier '{client_id}' was not found in the directory '{tenant_name}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant."),
        )
    }

    /// AADSTS7000218: confidential client without a credential.
    pub fn client_credential_missing() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            7000218,
            "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
        )
    }

    /// AADSTS7000215: wrong client secret.
    pub fn invalid_client_secret(client_id: &str) -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            7000215,
            format!("Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{client_id}'."),
        )
    }

    /// AADSTS70011: invalid scope.
    pub fn invalid_scope(scope: &str) -> Self {
        Self::bad_request(
            "invalid_scope",
            70011,
            format!("The provided value for the input parameter 'scope' is not valid. The scope {scope} is not valid."),
        )
    }

    /// AADSTS90002: unknown tenant.
    pub fn tenant_not_found(tenant: &str) -> Self {
        Self::bad_request(
            "invalid_request",
            90002,
            format!("Tenant '{tenant}' not found. This may happen if there are no active subscriptions for the tenant. Check to make sure you have the correct tenant ID. Check with your subscription administrator."),
        )
    }

    /// AADSTS900144: missing parameter.
    pub fn missing_parameter(name: &str) -> Self {
        Self::bad_request(
            "invalid_request",
            900144,
            format!("The request body must contain the following parameter: '{name}'."),
        )
    }

    /// AADSTS50059: no tenant information (device code or client credentials on /common).
    pub fn no_tenant_info() -> Self {
        Self::bad_request(
            "invalid_request",
            50059,
            "No tenant-identifying information found in either the request or implied by any provided credentials.",
        )
    }

    /// AADSTS9002313: malformed or unknown grant.
    pub fn malformed_grant() -> Self {
        Self::bad_request(
            "invalid_grant",
            9002313,
            "Invalid request. Request is malformed or invalid.",
        )
        .with_suberror("bad_token")
    }

    /// AADSTS50058: silent sign-in with no session (authorize, `prompt=none`).
    pub fn login_required() -> Self {
        Self::bad_request(
            "login_required",
            50058,
            "A silent sign-in request was sent but no user is signed in.",
        )
    }

    /// AADSTS54005: authorization code redeemed twice.
    pub fn code_redeemed() -> Self {
        Self::bad_request(
            "invalid_grant",
            54005,
            "OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.",
        )
    }

    /// AADSTS70000: scopes unauthorized or expired.
    pub fn scopes_unauthorized() -> Self {
        Self::bad_request(
            "invalid_grant",
            70000,
            "The request was denied because one or more scopes requested are unauthorized or expired. The user must first sign in and grant the client application access to the requested scope.",
        )
    }

    /// AADSTS70016: device flow still pending.
    pub fn authorization_pending() -> Self {
        Self::bad_request(
            "authorization_pending",
            70016,
            "OAuth 2.0 device flow error. Authorization is pending. Continue polling.",
        )
    }

    /// AADSTS70020: device code expired.
    pub fn device_code_expired() -> Self {
        Self::bad_request(
            "expired_token",
            70020,
            "The provided value for the input parameter 'device_code' is not valid. This device code has expired.",
        )
    }

    /// The user declined the device flow.
    pub fn authorization_declined() -> Self {
        Self::bad_request(
            "authorization_declined",
            70019,
            "The end user denied the authorization request.",
        )
    }

    /// AADSTS70018: unknown device code.
    pub fn bad_verification_code() -> Self {
        Self::bad_request(
            "bad_verification_code",
            70018,
            "Invalid verification code entered.",
        )
    }

    /// AADSTS901002: v2 endpoint given `resource`.
    pub fn resource_on_v2() -> Self {
        Self::bad_request(
            "invalid_request",
            901002,
            "The 'resource' request parameter is not supported.",
        )
    }

    /// AADSTS90014-style duplicate parameter (Azure AD rejects repeated form keys).
    pub fn duplicate_parameter(name: &str) -> Self {
        Self::bad_request(
            "invalid_request",
            90015,
            format!(
                "Requested query string is too long or contains a duplicate parameter '{name}'."
            ),
        )
    }

    /// AADSTS90100 - unsupported or missing grant type value.
    pub fn unsupported_grant_type(grant: &str) -> Self {
        Self::bad_request(
            "unsupported_grant_type",
            70003,
            format!("The app requested an unsupported grant type '{grant}'."),
        )
    }

    /// AADSTS50148 / PKCE mismatch.
    pub fn pkce_mismatch() -> Self {
        Self::bad_request(
            "invalid_grant",
            50148,
            "The code_verifier does not match the code_challenge supplied in the authorization request for PKCE.",
        )
    }

    /// AADSTS50011: redirect URI mismatch.
    pub fn redirect_mismatch(redirect_uri: &str, client_id: &str) -> Self {
        Self::bad_request(
            "invalid_request",
            50011,
            format!("The redirect URI '{redirect_uri}' specified in the request does not match the redirect URIs configured for the application '{client_id}'. Make sure the redirect URI sent in the request matches one added to your application in the Azure portal. Navigate to https://aka.ms/redirectUriMismatchError to learn more about how to fix this."),
        )
    }

    /// A 5xx injected by a fault rule.
    pub fn server_error(status: StatusCode) -> Self {
        Self::new(
            status,
            "temporarily_unavailable",
            90033,
            "A transient error has occurred. Please try again.",
        )
    }

    /// A request body over the service's size limit (rendered as Azure AD JSON, never as the
    /// framework's plain-text rejection).
    pub fn body_too_large() -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "invalid_request",
            90015,
            "Request is too large.",
        )
    }

    /// AADSTS700025: a public client presented a secret.
    pub fn public_client_with_secret() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            700025,
            "Client is public so neither 'client_assertion' nor 'client_secret' should be presented.",
        )
    }

    /// AADSTS50027: an on-behalf-of assertion that is not a well-formed JWT.
    pub fn assertion_malformed() -> Self {
        Self::bad_request(
            "invalid_request",
            50027,
            "JWT token is invalid or malformed.",
        )
    }

    /// AADSTS50013: an on-behalf-of assertion that fails validation (signature, issuer,
    /// audience); `detail` is the sentence Azure AD gives for the failing check.
    pub fn assertion_invalid(detail: impl Into<String>) -> Self {
        Self::bad_request("invalid_grant", 50013, detail)
    }

    /// AADSTS900561: a token or devicecode endpoint reached with another method than POST.
    pub fn post_only(method: &str) -> Self {
        Self::bad_request(
            "invalid_request",
            900561,
            format!(
                "The endpoint only accepts POST, OPTIONS requests. Received a {method} request."
            ),
        )
    }

    /// AADSTS500133: an on-behalf-of assertion past its expiry.
    pub fn assertion_expired(now: OffsetDateTime, exp: OffsetDateTime) -> Self {
        Self::bad_request(
            "invalid_grant",
            500133,
            format!(
                "Assertion is not within its valid time range. Ensure that the access token is not expired before using it for user assertion, or request a new token. Current time: {}, expiry time of assertion {}.",
                timefmt::aad_instant(now),
                timefmt::aad_instant(exp)
            ),
        )
    }
}

/// The ids every response carries.
#[derive(Debug, Clone, Copy)]
pub struct RequestIds {
    /// `x-ms-request-id` and `trace_id` (Azure AD's end in `00`).
    pub trace_id: Uuid,
    /// `client-request-id` echoed, or a new one.
    pub correlation_id: Uuid,
}

impl RequestIds {
    /// Reads `client-request-id` from the request headers; new ids otherwise.
    pub fn from_headers(headers: &HeaderMap) -> Self {
        let correlation_id = headers
            .get("client-request-id")
            .and_then(|v| v.to_str().ok())
            .and_then(|s| Uuid::parse_str(s.trim()).ok())
            .unwrap_or_else(Uuid::new_v4);
        RequestIds {
            trace_id: trace_id(),
            correlation_id,
        }
    }
}

/// A fresh trace id whose last byte is `00`, as Azure AD's are.
pub fn trace_id() -> Uuid {
    let mut b = *Uuid::new_v4().as_bytes();
    b[15] = 0;
    Uuid::from_bytes(b)
}

/// The response headers of the field guide's token-endpoint captures (everything but
/// `Content-Type`, `Content-Length` and `Date`, which the caller or hyper adds).
pub fn set_aad_headers(
    h: &mut HeaderMap,
    trace_id: Uuid,
    now: OffsetDateTime,
    cache_control: Option<&'static str>,
) {
    let s = HeaderValue::from_static;
    h.insert(
        "cache-control",
        s(cache_control.unwrap_or("no-cache, no-store")),
    );
    h.insert("pragma", s("no-cache"));
    h.insert("expires", s("-1"));
    h.insert("server", s("Microsoft-IIS/8.5"));
    h.insert(
        "strict-transport-security",
        s("max-age=31536000; includeSubDomains"),
    );
    h.insert("x-content-type-options", s("nosniff"));
    if let Ok(v) = HeaderValue::from_str(&trace_id.to_string()) {
        h.insert("x-ms-request-id", v);
    }
    h.insert("p3p", s("CP=\"DSP CUR OTPi IND OTRi ONL FIN\""));
    let esctx = format!(
        "esctx={}; domain=.login.windows.net; path=/; secure; HttpOnly",
        crate::util::random_b64url(120)
    );
    if let Ok(v) = HeaderValue::from_str(&esctx) {
        h.append("set-cookie", v);
    }
    h.append(
        "set-cookie",
        s("x-ms-gateway-slice=008; path=/; secure; HttpOnly"),
    );
    h.append(
        "set-cookie",
        s("stsservicecookie=ests; path=/; secure; HttpOnly"),
    );
    h.insert("x-powered-by", s("ASP.NET"));
    if let Ok(v) = HeaderValue::from_str(&timefmt::http_date(now)) {
        h.insert("date", v);
    }
}

/// Moves `Content-Type` to just after `Pragma`, where the captures show it.
fn reorder_content_type_after_pragma(h: &mut HeaderMap) {
    let mut entries: Vec<(HeaderName, HeaderValue)> = Vec::with_capacity(h.len());
    let mut last: Option<HeaderName> = None;
    for (name, value) in h.drain() {
        let name = match name {
            Some(n) => {
                last = Some(n.clone());
                n
            }
            None => match &last {
                Some(n) => n.clone(),
                None => continue,
            },
        };
        entries.push((name, value));
    }
    let ct_pos = entries.iter().position(|(n, _)| n == "content-type");
    if let Some(pos) = ct_pos {
        let ct = entries.remove(pos);
        let after = entries
            .iter()
            .position(|(n, _)| n == "pragma")
            .map(|p| p + 1)
            .unwrap_or(0);
        entries.insert(after, ct);
    }
    for (n, v) in entries {
        h.append(n, v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn body_keys_are_in_azure_ad_order_and_lines_joined_with_crlf() {
        let e = AadError::invalid_credentials();
        let trace = uuid::uuid!("a287413d-c526-4d4a-a6eb-ac9108b03000");
        let corr = uuid::uuid!("7f85270a-1b07-401e-b684-a19533c1b5ea");
        let body = e.body(trace, corr, datetime!(2021-06-25 13:16:19 UTC));
        assert_eq!(
            body.to_string(),
            r#"{"error":"invalid_grant","error_description":"AADSTS50126: Error validating credentials due to invalid username or password.\r\nTrace ID: a287413d-c526-4d4a-a6eb-ac9108b03000\r\nCorrelation ID: 7f85270a-1b07-401e-b684-a19533c1b5ea\r\nTimestamp: 2021-06-25 13:16:19Z","error_codes":[50126],"timestamp":"2021-06-25 13:16:19Z","trace_id":"a287413d-c526-4d4a-a6eb-ac9108b03000","correlation_id":"7f85270a-1b07-401e-b684-a19533c1b5ea","error_uri":"https://login.microsoftonline.com/error?code=50126"}"#
        );
    }

    #[test]
    fn grant_revoked_matches_the_field_guide_text() {
        let e = AadError::grant_revoked(
            datetime!(2017-10-28 17:20:13.296 UTC),
            datetime!(2017-11-16 20:27:45 UTC),
        );
        assert_eq!(
            e.headline(),
            "AADSTS50173: The provided grant has expired due to it being revoked. The user might have changed or reset their password. The grant was issued on '2017-10-28T17:20:13.2960000Z' and the TokensValidFrom date for this user is '2017-11-16T20:27:45.0000000Z'"
        );
    }

    #[test]
    fn resource_not_found_v1_matches_the_field_guide_text() {
        let e = AadError::resource_not_found_v1("https://mail.contoso.com/", "contoso.com");
        assert_eq!(
            e.headline(),
            "AADSTS50001: The application named https://mail.contoso.com/ was not found in the tenant named contoso.com.  This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant.  You might have sent your authentication request to the wrong tenant."
        );
    }

    #[test]
    fn unicorn_renders_with_custom_reason_and_no_error_uri() {
        let e = AadError::unicorn_rampage(datetime!(2017-11-16 20:27:45 UTC));
        let ids = RequestIds {
            trace_id: uuid::uuid!("f840b3e7-8740-4698-b252-d759825e0300"),
            correlation_id: uuid::uuid!("f3fc8b2f-7cf1-4ce8-b34d-5dd41aba0a02"),
        };
        let resp = e.into_response_with(&ids, datetime!(2017-11-16 20:36:16 UTC));
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
        let reason = resp.extensions().get::<hyper::ext::ReasonPhrase>().unwrap();
        assert_eq!(reason.as_bytes(), b"Bad Unicorn");
        let names: Vec<_> = resp.headers().keys().map(|k| k.as_str()).collect();
        assert_eq!(
            names,
            [
                "cache-control",
                "pragma",
                "content-type",
                "expires",
                "server",
                "strict-transport-security",
                "x-content-type-options",
                "x-ms-request-id",
                "p3p",
                "set-cookie",
                "x-powered-by",
                "date"
            ]
        );
        assert_eq!(
            resp.headers()["cache-control"],
            "no-cache, no-store, not-bloody-safe"
        );
        assert_eq!(resp.headers()["date"], "Thu, 16 Nov 2017 20:36:16 GMT");
    }
}
