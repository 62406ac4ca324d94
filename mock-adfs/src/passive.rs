//! Passive WS-Federation sign-in at `/adfs/ls/`: what a browser Azure AD sent here sees.
//!
//! `wa=wsignin1.0&wtrealm=<relying party>[&wctx=…][&username=…]`:
//! 1. an unknown or disabled `wtrealm` → the error page (MSIS7007 in its detail);
//! 2. a live `MSISAuth` session → the MFA page when the user or the relying party needs a second
//!    factor not yet done, else the auto-submitting form posting `wresult` (a WS-Trust 2005 RSTR
//!    with the signed SAML 1.1 assertion) and `wctx` to the relying party's endpoint;
//! 3. no session, Windows integrated sign-in offered ([`crate::wia::offered`]) → the NTLM
//!    handshake in 401s, then as 2 (the session is opened on success);
//! 4. else the forms page; its POST (`AuthMethod=FormsAuthentication`) opens a session and
//!    redirects (302) to the same URL, as ADFS does, or shows the page again with ADFS's error.
//!
//! The MFA page posts `AuthMethod=AzureMfaAuthentication&VerificationCode=…` (code `123456`).
//! `wa=wsignout1.0` ends the session. Every request is answered from the lab clock and the farm
//! as they are now, so an admin change applies to the next request.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method as HttpMethod, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use lab_kit::saml::SamlVersion;

use crate::issue::{self, rstr_2005};
use crate::model::{Mfa, RelyingParty, User};
use crate::pages;
use crate::state::{AppState, Method};
use crate::wia::{self, Step};

/// The code the lab's MFA page accepts (the same "authenticator app" as mock-aad's).
pub const MFA_CODE: &str = "123456";
/// Largest form body read.
pub const MAX_FORM: usize = 64 * 1024;
const COOKIE: &str = "MSISAuth";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/adfs/ls/", get(ls).post(ls))
        .route("/adfs/ls", get(ls).post(ls))
}

fn html(status: StatusCode, body: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        body,
    )
        .into_response()
}

fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

fn set_cookie(resp: &mut Response, value: &str, clear: bool) {
    let v = if clear {
        format!("{COOKIE}=; expires=Thu, 01 Jan 1970 00:00:00 GMT; path=/adfs; HttpOnly; Secure")
    } else {
        format!("{COOKIE}={value}; path=/adfs; HttpOnly; Secure")
    };
    if let Ok(v) = HeaderValue::from_str(&v) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
}

/// The parsed sign-in request.
struct SignIn {
    /// Path and query as requested: where the forms post and redirects go.
    here: String,
    params: Vec<(String, String)>,
}

impl SignIn {
    fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

fn error_page(s: &AppState, detail: &str) -> Response {
    let name = s.farm().display_name.clone();
    html(
        StatusCode::BAD_REQUEST,
        pages::error(&name, &uuid::Uuid::new_v4().to_string(), detail),
    )
}

async fn ls(State(s): State<AppState>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0);
    let query = parts.uri.query().unwrap_or("");
    let sign_in = SignIn {
        here: format!("{}?{query}", parts.uri.path()),
        params: form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect(),
    };
    let form: Vec<(String, String)> = if parts.method == HttpMethod::POST {
        match axum::body::to_bytes(body, MAX_FORM).await {
            Ok(b) => form_urlencoded::parse(&b).into_owned().collect(),
            Err(_) => {
                return (StatusCode::PAYLOAD_TOO_LARGE, "request body too large\n").into_response()
            }
        }
    } else {
        Vec::new()
    };
    match sign_in.param("wa") {
        Some("wsignin1.0") => {}
        Some("wsignout1.0") | Some("wsignoutcleanup1.0") => {
            if let Some(c) = cookie_value(&parts.headers, COOKIE) {
                s.end_session(&c);
            }
            let mut r = html(StatusCode::OK, pages::signed_out(&s.farm().display_name));
            set_cookie(&mut r, "", true);
            return r;
        }
        Some(other) => {
            return error_page(
                &s,
                &format!("MSIS7042: The WS-Federation action '{other}' is not supported."),
            )
        }
        None => {
            return error_page(
                &s,
                "MSIS7000: The sign in request is not compliant to the WS-Federation language for \
                 web browser clients or the SAML 2.0 protocol WebSSO profile.",
            )
        }
    }
    let realm = sign_in.param("wtrealm").unwrap_or("");
    let Some(rp) = s.farm().relying_party(realm).cloned() else {
        return error_page(
            &s,
            &format!(
                "MSIS7007: The requested relying party trust '{realm}' is unspecified or \
                 unsupported. If a relying party trust was specified, it is possible that you do \
                 not have permission to access the trust relying party. Contact your \
                 administrator for details."
            ),
        );
    };
    let field = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let cookie = cookie_value(&parts.headers, COOKIE);
    let session = cookie.as_deref().and_then(|c| s.session(c).map(|x| (c, x)));
    let corpnet = !parts.headers.contains_key("x-ms-proxy");

    match field("AuthMethod") {
        Some("FormsAuthentication") => return forms_post(&s, &sign_in, field),
        Some("AzureMfaAuthentication") => {
            if let Some((c, sess)) = &session {
                if field("VerificationCode").map(str::trim) == Some(MFA_CODE) {
                    s.complete_mfa(c);
                    return redirect(&sign_in.here);
                }
                let name = s.farm().display_name.clone();
                return html(
                    StatusCode::OK,
                    pages::mfa(&name, &sign_in.here, &sess.upn, Some(pages::WRONG_CODE)),
                );
            }
        }
        _ => {}
    }

    if let Some((c, sess)) = session {
        let user = s.farm().user_by_logon(&sess.upn).cloned();
        if let Some(user) = user.filter(|u| u.enabled) {
            let _ = c;
            return signed_in(&s, &sign_in, &rp, &user, &sess, corpnet);
        }
    }
    if wia::offered(&s.farm(), &parts.headers) {
        let auth = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        return match wia::step(&s, peer, auth) {
            Step::Challenge(values) => unauthorized(values),
            Step::LoggedOn(user) => {
                let token = s.open_session(&user.upn, Method::Windows, false);
                let sess = s.session(&token);
                let mut r = match sess {
                    Some(sess) => signed_in(&s, &sign_in, &rp, &user, &sess, corpnet),
                    None => error_page(
                        &s,
                        "MSIS7012: An error occurred while processing the request.",
                    ),
                };
                set_cookie(&mut r, &token, false);
                r
            }
        };
    }
    let name = s.farm().display_name.clone();
    html(
        StatusCode::OK,
        pages::sign_in(
            &name,
            &sign_in.here,
            sign_in.param("username").unwrap_or(""),
            None,
        ),
    )
}

/// 401 with the given `WWW-Authenticate` values (ADFS answers a failed Windows logon so, and
/// the browser shows its credential prompt).
pub fn unauthorized(values: Vec<String>) -> Response {
    let mut r = (StatusCode::UNAUTHORIZED, "").into_response();
    for v in values {
        if let Ok(v) = HeaderValue::from_str(&v) {
            r.headers_mut().append(header::WWW_AUTHENTICATE, v);
        }
    }
    r
}

fn redirect(to: &str) -> Response {
    let mut r = StatusCode::FOUND.into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r
}

fn forms_post<'a>(
    s: &AppState,
    sign_in: &SignIn,
    field: impl Fn(&str) -> Option<&'a str>,
) -> Response {
    let user_name = field("UserName").unwrap_or("").trim().to_string();
    let password = field("Password").unwrap_or("");
    let farm = s.farm();
    let again = |error: &str| {
        html(
            StatusCode::OK,
            pages::sign_in(&farm.display_name, &sign_in.here, &user_name, Some(error)),
        )
    };
    let well_formed = user_name.contains('@') || user_name.contains('\\');
    if user_name.is_empty() || !well_formed {
        return again(pages::BAD_USER_NAME);
    }
    if password.is_empty() {
        return again(pages::NO_PASSWORD);
    }
    let user = match farm.user_by_logon(&user_name) {
        Some(u)
            if u.enabled
                && lab_kit::secret::constant_time_eq(
                    u.password.as_bytes(),
                    password.as_bytes(),
                ) =>
        {
            u.clone()
        }
        _ => return again(pages::WRONG_CREDENTIALS),
    };
    drop(farm);
    let token = s.open_session(&user.upn, Method::Password, false);
    let mut r = redirect(&sign_in.here);
    set_cookie(&mut r, &token, false);
    r
}

fn signed_in(
    s: &AppState,
    sign_in: &SignIn,
    rp: &RelyingParty,
    user: &User,
    sess: &crate::state::Session,
    corpnet: bool,
) -> Response {
    let needs_mfa = user.mfa == Mfa::Required || rp.require_mfa;
    if needs_mfa && !sess.mfa_done {
        let name = s.farm().display_name.clone();
        return html(
            StatusCode::OK,
            pages::mfa(&name, &sign_in.here, &user.upn, None),
        );
    }
    let audience = rp.identifiers.first().cloned().unwrap_or_default();
    let issued = issue::assertion(
        s,
        &issue::Request {
            user,
            rp,
            audience: &audience,
            method: sess.method,
            authn_ms: sess.authn_ms,
            mfa: needs_mfa,
            inside_corporate_network: corpnet,
            version: SamlVersion::V1_1,
        },
    );
    match issued {
        Ok(t) => html(
            StatusCode::OK,
            pages::auto_post(
                &pages::with_default_port(&rp.ws_fed_endpoint),
                &rstr_2005(&t),
                sign_in.param("wctx"),
            ),
        ),
        Err(e) => {
            tracing::error!(error = %e, "cannot sign the assertion");
            error_page(
                s,
                "MSIS7012: An error occurred while processing the request.",
            )
        }
    }
}
