//! The sign-in pages as HTML: the username, password, MFA, consent, "Stay signed in?" and
//! device-code pages, Azure AD's error page, and the headers every page carries.
//!
//! Rendering only: which page comes next is decided by the flow ([`super::flow`]). The pages keep
//! the real page's field names and element ids (`loginfmt`/`i0116`, `passwd`/`i0118`,
//! `idSIButton9`, `idBtn_Back`, `otc`/`idTxtBx_SAOTCC_OTC`, …), and every form carries only the
//! opaque `flowToken` (also sent as `ctx`). Errors that go back to the client (redirect or
//! form_post) carry `error` and an `error_description` with the Trace/Correlation/Timestamp lines.

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use lab_kit::wire::dotnet_url_encode;

use crate::error::AadError;
use crate::federation::MICROSOFT_ONLINE;
use crate::model::Federation;
use crate::sessions::{AuthRequest, Flow, Purpose, ResponseMode};
use crate::timefmt;
use crate::util::html_escape;
use crate::web::ctx::{app_name, Ctx};
use crate::web::reply::{form_post_page, redirect_location};

pub(super) fn page_headers(h: &mut HeaderMap, ctx: &Ctx, content_type: &'static str) {
    let s = HeaderValue::from_static;
    h.insert(header::CACHE_CONTROL, s("no-store, no-cache"));
    h.insert(header::PRAGMA, s("no-cache"));
    h.insert(header::CONTENT_TYPE, s(content_type));
    h.insert(header::EXPIRES, s("-1"));
    h.insert(
        header::STRICT_TRANSPORT_SECURITY,
        s("max-age=31536000; includeSubDomains"),
    );
    h.insert("x-content-type-options", s("nosniff"));
    h.insert("x-frame-options", s("DENY"));
    if let Ok(v) = HeaderValue::from_str(&ctx.ids.trace_id.to_string()) {
        h.insert("x-ms-request-id", v);
    }
    h.insert("p3p", s("CP=\"DSP CUR OTPi IND OTRi ONL FIN\""));
    if let Ok(v) = HeaderValue::from_str(&timefmt::http_date(ctx.now)) {
        h.insert(header::DATE, v);
    }
}

pub(super) fn with_cookies(mut resp: Response, cookies: &[String]) -> Response {
    for c in cookies {
        if let Ok(v) = HeaderValue::from_str(c) {
            resp.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    resp
}

fn html_response(ctx: &Ctx, title: &str, body: &str) -> Response {
    let doc = format!(
        concat!(
            "<!DOCTYPE html>\n<html dir=\"ltr\" lang=\"en\"><head><meta charset=\"utf-8\">",
            "<title>{}</title><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">",
            "</head><body><div id=\"lightbox\" class=\"inner\">",
            "<div class=\"logo\" role=\"img\" aria-label=\"Microsoft\">Microsoft</div>\n{}\n",
            "</div></body></html>\n"
        ),
        html_escape(title),
        body
    );
    let mut resp = (StatusCode::OK, doc).into_response();
    page_headers(resp.headers_mut(), ctx, "text/html; charset=utf-8");
    resp
}

/// Azure AD's error page, served with status 200 (as ESTS renders its error page).
pub(super) fn error_page(ctx: &Ctx, e: &AadError) -> Response {
    let stamp = ctx
        .now
        .to_offset(time::UtcOffset::UTC)
        .format(time::macros::format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second]Z"
        ))
        .unwrap_or_default();
    let body = format!(
        concat!(
            "<div id=\"loginHeader\" role=\"heading\">Sign in</div>\n",
            "<div id=\"errorTitle\" role=\"alert\">Sorry, but we\u{2019}re having trouble signing you in.</div>\n",
            "<div id=\"errorDescription\"><p>{headline}</p></div>\n",
            "<div id=\"debugDetails\"><div class=\"debug-details-header\">Troubleshooting details</div>\n",
            "<div><span class=\"bold\">Request Id:</span> <span id=\"requestId\">{trace}</span></div>\n",
            "<div><span class=\"bold\">Correlation Id:</span> <span id=\"correlationId\">{corr}</span></div>\n",
            "<div><span class=\"bold\">Timestamp:</span> <span id=\"timestamp\">{stamp}</span></div>\n",
            "<div><span class=\"bold\">Message:</span> <span id=\"errorMessage\">{headline}</span></div>\n",
            "</div>"
        ),
        headline = html_escape(&e.headline()),
        trace = ctx.ids.trace_id,
        corr = ctx.ids.correlation_id,
        stamp = stamp,
    );
    html_response(ctx, "Sign in to your account", &body)
}

/// Sends `params` to the client per its response mode.
pub(super) fn deliver(
    ctx: &Ctx,
    redirect_uri: &str,
    mode: ResponseMode,
    params: &[(&str, String)],
    cookies: &[String],
) -> Response {
    if mode == ResponseMode::FormPost {
        let doc = form_post_page(redirect_uri, params);
        let mut resp = (StatusCode::OK, doc).into_response();
        page_headers(resp.headers_mut(), ctx, "text/html; charset=utf-8");
        return with_cookies(resp, cookies);
    }
    let location = redirect_location(redirect_uri, mode == ResponseMode::Fragment, params);
    let Ok(loc) = HeaderValue::from_str(&location) else {
        return error_page(ctx, &AadError::reply_url_unusable());
    };
    let mut resp = StatusCode::FOUND.into_response();
    page_headers(resp.headers_mut(), ctx, "text/html; charset=utf-8");
    resp.headers_mut().insert(header::LOCATION, loc);
    with_cookies(resp, cookies)
}

/// An error sent back to the client: `error`, `error_description` (with the Trace/Correlation/
/// Timestamp lines), then `state`.
pub(super) fn error_redirect(ctx: &Ctx, req: &AuthRequest, e: &AadError) -> Response {
    let mut params = vec![
        ("error", e.error.clone()),
        (
            "error_description",
            e.description(ctx.ids.trace_id, ctx.ids.correlation_id, ctx.now),
        ),
    ];
    if let Some(s) = &req.state {
        params.push(("state", s.clone()));
    }
    deliver(ctx, &req.redirect_uri, req.mode, &params, &[])
}

fn form_action(ctx: &Ctx, flow: &Flow) -> String {
    match flow.purpose {
        Purpose::Device { .. } => format!("{}/devicelogin", ctx.base),
        Purpose::Authorize(_) => format!("{}/{}/login", ctx.base, dotnet_url_encode(&flow.seg)),
    }
}

fn form(ctx: &Ctx, flow: &Flow, inner: &str) -> String {
    let id = html_escape(&flow.id);
    format!(
        concat!(
            "<form name=\"f1\" id=\"i0281\" method=\"post\" action=\"{action}\" autocomplete=\"off\">\n",
            "<input type=\"hidden\" name=\"ctx\" value=\"{id}\">\n",
            "<input type=\"hidden\" name=\"flowToken\" value=\"{id}\">\n",
            "{inner}\n</form>"
        ),
        action = html_escape(&form_action(ctx, flow)),
        id = id,
        inner = inner
    )
}

fn error_block(div_id: &str, err: Option<(&str, Option<&AadError>)>) -> String {
    match err {
        None => String::new(),
        Some((msg, e)) => {
            let code = e
                .map(|e| {
                    format!(
                        "<div id=\"errorCode\" class=\"error-code\">{}</div>\n",
                        html_escape(&e.headline())
                    )
                })
                .unwrap_or_default();
            format!(
                "<div id=\"{div_id}\" class=\"alert alert-error\" role=\"alert\">{}</div>\n{code}",
                html_escape(msg)
            )
        }
    }
}

pub(super) fn page_username(
    ctx: &Ctx,
    flow: &Flow,
    prefill: &str,
    err: Option<(&str, Option<&AadError>)>,
) -> Response {
    let inner = format!(
        concat!(
            "<div id=\"loginHeader\" role=\"heading\">Sign in</div>\n",
            "{err}",
            "<input type=\"email\" name=\"loginfmt\" id=\"i0116\" maxlength=\"113\" ",
            "placeholder=\"Email, phone, or Skype\" aria-label=\"Enter your email, phone, or Skype.\" value=\"{prefill}\">\n",
            "<input type=\"submit\" id=\"idSIButton9\" value=\"Next\">"
        ),
        err = error_block("usernameError", err),
        prefill = html_escape(prefill)
    );
    html_response(ctx, "Sign in to your account", &form(ctx, flow, &inner))
}

pub(super) fn page_password(
    ctx: &Ctx,
    flow: &Flow,
    err: Option<(&str, Option<&AadError>)>,
) -> Response {
    let upn = flow.upn.clone().unwrap_or_default();
    let inner = format!(
        concat!(
            "<div id=\"displayName\" class=\"identity\">{upn}</div>\n",
            "<div id=\"loginHeader\" role=\"heading\">Enter password</div>\n",
            "{err}",
            "<input type=\"password\" name=\"passwd\" id=\"i0118\" autocomplete=\"off\" placeholder=\"Password\" aria-label=\"Enter the password for {upn}\">\n",
            "<input type=\"submit\" id=\"idSIButton9\" value=\"Sign in\">"
        ),
        upn = html_escape(&upn),
        err = error_block("passwordError", err),
    );
    html_response(ctx, "Sign in to your account", &form(ctx, flow, &inner))
}

pub(super) fn page_mfa(ctx: &Ctx, flow: &Flow, err: Option<&str>) -> Response {
    let inner = format!(
        concat!(
            "<div id=\"displayName\" class=\"identity\">{upn}</div>\n",
            "<div id=\"idDiv_SAOTCC_Title\" role=\"heading\">Enter code</div>\n",
            "<div id=\"idDiv_SAOTCC_Description\">Enter the code displayed in the authenticator app on your mobile device</div>\n",
            "{err}",
            "<input type=\"tel\" name=\"otc\" id=\"idTxtBx_SAOTCC_OTC\" maxlength=\"8\" autocomplete=\"off\" placeholder=\"Code\" aria-label=\"Code\">\n",
            "<input type=\"submit\" id=\"idSubmit_SAOTCC_Continue\" value=\"Verify\">"
        ),
        upn = html_escape(flow.upn.as_deref().unwrap_or("")),
        err = error_block("idSpan_SAOTCC_Error_OTC", err.map(|m| (m, None))),
    );
    html_response(ctx, "Sign in to your account", &form(ctx, flow, &inner))
}

pub(super) fn page_enroll(ctx: &Ctx, flow: &Flow) -> Response {
    let inner = format!(
        concat!(
            "<div id=\"displayName\" class=\"identity\">{upn}</div>\n",
            "<div id=\"heading\" role=\"heading\">More information required</div>\n",
            "<div id=\"idDiv_ProofUp_Description\">Your organization needs more information to keep your account secure</div>\n",
            "<input type=\"submit\" id=\"idSubmit_ProofUp_Redirect\" name=\"action\" value=\"Next\">"
        ),
        upn = html_escape(flow.upn.as_deref().unwrap_or("")),
    );
    html_response(ctx, "Sign in to your account", &form(ctx, flow, &inner))
}

pub(super) fn page_consent(ctx: &Ctx, flow: &Flow) -> Response {
    let app = app_name(ctx, flow.client());
    let inner = format!(
        concat!(
            "<div id=\"displayName\" class=\"identity\">{upn}</div>\n",
            "<div id=\"consentHeader\" role=\"heading\">Permissions requested</div>\n",
            "<div id=\"appName\">{app}</div>\n",
            "<div id=\"consentDescription\">This app would like to:</div>\n",
            "<ul id=\"permissions\"><li>Sign you in and read your profile</li>",
            "<li>Maintain access to data you have given it access to</li></ul>\n",
            "<div>Accepting these permissions means that you allow this app to use your data as specified in their terms of service and privacy statement.</div>\n",
            "<input type=\"submit\" id=\"idBtn_Back\" name=\"action\" value=\"Cancel\">\n",
            "<input type=\"submit\" id=\"idSIButton9\" name=\"action\" value=\"Accept\">"
        ),
        upn = html_escape(flow.upn.as_deref().unwrap_or("")),
        app = html_escape(&app),
    );
    html_response(ctx, "Permissions requested", &form(ctx, flow, &inner))
}

pub(super) fn page_kmsi(ctx: &Ctx, flow: &Flow) -> Response {
    let inner = format!(
        concat!(
            "<div id=\"displayName\" class=\"identity\">{upn}</div>\n",
            "<div id=\"kmsiTitle\" role=\"heading\">Stay signed in?</div>\n",
            "<div id=\"KmsiDescription\">Do this to reduce the number of times you are asked to sign in.</div>\n",
            "<input type=\"checkbox\" name=\"DontShowAgain\" id=\"KmsiCheckboxField\"> <label for=\"KmsiCheckboxField\">Don't show this again</label>\n",
            "<input type=\"submit\" id=\"idBtn_Back\" name=\"action\" value=\"No\">\n",
            "<input type=\"submit\" id=\"idSIButton9\" name=\"action\" value=\"Yes\">"
        ),
        upn = html_escape(flow.upn.as_deref().unwrap_or("")),
    );
    html_response(ctx, "Sign in to your account", &form(ctx, flow, &inner))
}

pub(super) fn page_ca_blocked(ctx: &Ctx, e: &AadError) -> Response {
    let body = format!(
        concat!(
            "<div id=\"heading\" role=\"heading\">You cannot access this right now</div>\n",
            "<div id=\"errorDescription\">Your sign-in was successful but does not meet the criteria to access this resource. ",
            "For example, you might be signing in from a browser, app, or location that is restricted by your admin.</div>\n",
            "<div id=\"debugDetails\"><div><span class=\"bold\">Request Id:</span> {trace}</div>\n",
            "<div><span class=\"bold\">Correlation Id:</span> {corr}</div>\n",
            "<div><span class=\"bold\">Error code:</span> <span id=\"errorCode\">{code}</span></div>\n",
            "<div><span class=\"bold\">Message:</span> <span id=\"errorMessage\">{headline}</span></div></div>"
        ),
        trace = ctx.ids.trace_id,
        corr = ctx.ids.correlation_id,
        code = e.code,
        headline = html_escape(&e.headline()),
    );
    html_response(ctx, "Sign in to your account", &body)
}

pub(super) fn page_device_code(ctx: &Ctx, flow: &Flow, err: Option<&str>) -> Response {
    let inner = format!(
        concat!(
            "<div id=\"heading\" role=\"heading\">Enter code</div>\n",
            "<div id=\"description\">Enter the code displayed on your app or device.</div>\n",
            "{err}",
            "<input type=\"text\" name=\"otc\" id=\"otc\" maxlength=\"32\" placeholder=\"Code\" aria-label=\"Code\">\n",
            "<input type=\"submit\" id=\"idSIButton9\" value=\"Next\">"
        ),
        err = error_block("error", err.map(|m| (m, None))),
    );
    html_response(ctx, "Enter code", &form(ctx, flow, &inner))
}

pub(super) fn page_device_confirm(ctx: &Ctx, flow: &Flow) -> Response {
    let app = app_name(ctx, flow.client());
    let inner = format!(
        concat!(
            "<div id=\"displayName\" class=\"identity\">{upn}</div>\n",
            "<div id=\"heading\" role=\"heading\">Are you trying to sign in to {app}?</div>\n",
            "<div id=\"description\">Only continue if you downloaded the app from a store or website that you trust.</div>\n",
            "<input type=\"submit\" id=\"idBtn_Back\" name=\"action\" value=\"Cancel\">\n",
            "<input type=\"submit\" id=\"idSIButton9\" name=\"action\" value=\"Continue\">"
        ),
        upn = html_escape(flow.upn.as_deref().unwrap_or("")),
        app = html_escape(&app),
    );
    html_response(ctx, "Sign in to your account", &form(ctx, flow, &inner))
}

pub(super) fn page_message(ctx: &Ctx, title: &str, heading: &str, text: &str) -> Response {
    let body = format!(
        "<div id=\"heading\" role=\"heading\">{}</div>\n<div id=\"message\">{}</div>",
        html_escape(heading),
        html_escape(text)
    );
    html_response(ctx, title, &body)
}

/// The IdP URL a federated user is sent to, with the flow's key in `wctx`.
pub(super) fn idp_url(ctx: &Ctx, f: &Federation, login: &str, flow: &Flow) -> String {
    let wctx = format!("estsredirect=2&estsrequest={}", flow.id);
    let sep = if f.passive_log_on_uri.contains('?') {
        '&'
    } else {
        '?'
    };
    format!(
        "{}{sep}client-request-id={}&username={}&wa=wsignin1.0&wtrealm={}&wctx={}",
        f.passive_log_on_uri,
        ctx.ids.correlation_id,
        dotnet_url_encode(login),
        dotnet_url_encode(MICROSOFT_ONLINE),
        dotnet_url_encode(&wctx)
    )
}

/// The `302` that sends a federated user's browser to the IdP ([`idp_url`]); the caller saved
/// the flow, which now waits for `login.srf`.
pub(super) fn page_idp_redirect(ctx: &Ctx, f: &Federation, login: &str, flow: &Flow) -> Response {
    let location = idp_url(ctx, f, login, flow);
    let mut resp = StatusCode::FOUND.into_response();
    page_headers(resp.headers_mut(), ctx, "text/html; charset=utf-8");
    match HeaderValue::from_str(&location) {
        Ok(v) => {
            resp.headers_mut().insert(header::LOCATION, v);
            resp
        }
        Err(_) => error_page(ctx, &AadError::wsfed_message_invalid()),
    }
}
