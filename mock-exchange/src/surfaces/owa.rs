//! Outlook on the web and the Exchange admin center (`/owa`, `/ecp`): forms-based
//! authentication as Exchange does it, which HMA does not change.
//!
//! With `forms_authentication` on the vdir, a request without a sign-in cookie is redirected
//! (302) to `/owa/auth/logon.aspx?url=<percent-encoded original URL>&reason=0`; the logon page is
//! a minimal HTML form with the real field names (`destination`, `flags`, `forcedownlevel`,
//! `username`, `password`, `passwordText`, `isUtf8`) posting to `/owa/auth.owa`. A good
//! `DOMAIN\user` / UPN + password sets the `cadata` cookie and redirects to the destination; a bad
//! one redirects back with `reason=2`. Signed-in requests (cookie, or credentials the pipeline
//! already accepted on a vdir without forms) get a small placeholder page: the OWA application
//! itself is not part of the lab.

use axum::http::request::Parts;
use axum::http::{header, Method, StatusCode};
use axum::response::Response;

use super::common::{lower_path, not_found, set_header, with_type};
use super::ctx::SurfaceCtx;
use super::xml::esc;
use crate::model::{Account, VdirKind};

/// Lifetime of a forms sign-in (OWA's default private-computer session: 8 hours).
pub const COOKIE_LIFETIME_SECS: i64 = 8 * 3600;

use lab_kit::wire::dotnet_url_encode as url_encode;

fn redirect(location: &str) -> Response {
    let mut r = with_type(StatusCode::FOUND, "text/html; charset=utf-8", "");
    set_header(&mut r, "location", location);
    set_header(&mut r, "cache-control", "no-cache, no-store");
    r
}

fn logon_url(ctx: &SurfaceCtx, destination: &str, reason: u8) -> String {
    format!(
        "{}://{}/owa/auth/logon.aspx?url={}&reason={reason}",
        ctx.scheme,
        ctx.host,
        url_encode(destination)
    )
}

fn logon_page(destination: &str, reason: u8) -> Response {
    let error = if reason == 2 {
        "<div id=\"signInErrorDiv\" role=\"alert\">The user name or password you entered isn't correct. Try entering it again.</div>\r\n"
    } else {
        ""
    };
    let body = format!(
        "<!DOCTYPE html>\r\n<html>\r\n<head>\r\n<meta http-equiv=\"Content-Type\" content=\"text/html; charset=utf-8\">\r\n<title>Outlook</title>\r\n</head>\r\n<body>\r\n<form action=\"/owa/auth.owa\" method=\"POST\" name=\"logonForm\" ENCTYPE=\"application/x-www-form-urlencoded\" autocomplete=\"off\">\r\n<input type=\"hidden\" name=\"destination\" value=\"{}\">\r\n<input type=\"hidden\" name=\"flags\" value=\"4\">\r\n<input type=\"hidden\" name=\"forcedownlevel\" value=\"0\">\r\n<label for=\"username\">Domain\\user name:</label>\r\n<input id=\"username\" name=\"username\" type=\"text\" class=\"signInInputText\">\r\n<label for=\"password\">Password:</label>\r\n<input id=\"password\" name=\"password\" type=\"password\" class=\"signInInputText\">\r\n<input id=\"passwordText\" name=\"passwordText\" type=\"text\" style=\"display: none;\">\r\n<input type=\"hidden\" name=\"isUtf8\" value=\"1\">\r\n{error}<div class=\"signinbutton\" role=\"button\">sign in</div>\r\n</form>\r\n</body>\r\n</html>\r\n",
        esc(destination)
    );
    let mut r = with_type(StatusCode::OK, "text/html; charset=utf-8", body);
    set_header(&mut r, "cache-control", "no-cache, no-store");
    r
}

fn app_page(kind: VdirKind, display_name: &str) -> Response {
    let title = if kind == VdirKind::Ecp {
        "Exchange admin center"
    } else {
        "Outlook"
    };
    let body = format!(
        "<!DOCTYPE html>\r\n<html>\r\n<head>\r\n<meta http-equiv=\"Content-Type\" content=\"text/html; charset=utf-8\">\r\n<title>{title}</title>\r\n</head>\r\n<body>\r\n<div id=\"user\">{}</div>\r\n</body>\r\n</html>\r\n",
        esc(display_name)
    );
    with_type(StatusCode::OK, "text/html; charset=utf-8", body)
}

fn cookie(parts: &Parts, name: &str) -> Option<String> {
    parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim().to_string())
}

/// Only destinations on the host the user signed in on are followed (no open redirect).
fn safe_destination(ctx: &SurfaceCtx, dest: &str) -> String {
    let own = format!("{}://{}/", ctx.scheme, ctx.host);
    if dest
        .to_ascii_lowercase()
        .starts_with(&own.to_ascii_lowercase())
    {
        dest.to_string()
    } else {
        format!("{own}owa/")
    }
}

fn sign_in(ctx: &SurfaceCtx, body: &[u8]) -> Response {
    let mut username = String::new();
    let mut password = String::new();
    let mut destination = String::new();
    for (k, v) in form_urlencoded::parse(body) {
        match k.as_ref() {
            "username" => username = v.into_owned(),
            "password" => password = v.into_owned(),
            "destination" => destination = v.into_owned(),
            _ => {}
        }
    }
    let destination = safe_destination(ctx, &destination);
    let ok: Option<&Account> = ctx
        .org
        .account_by_logon(&username)
        .filter(|a| a.enabled && !password.is_empty() && a.password == password);
    match ok {
        Some(a) => {
            let token = ctx
                .store
                .owa_sign_in(&a.sid, ctx.clock.unix(), COOKIE_LIFETIME_SECS);
            let mut r = redirect(&destination);
            set_header(
                &mut r,
                "set-cookie",
                &format!("cadata={token}; path=/; secure; HttpOnly"),
            );
            r
        }
        None => redirect(&logon_url(ctx, &destination, 2)),
    }
}

/// Entry point for the OWA and ECP vdirs.
pub fn handle(ctx: &SurfaceCtx, kind: VdirKind, parts: &Parts, body: &[u8]) -> Response {
    let path = lower_path(parts);
    let owa_vdir = ctx.server.vdir(VdirKind::Owa);
    let forms = owa_vdir.is_some_and(|v| v.forms_authentication);
    if kind == VdirKind::Owa && path == "/owa/auth/logon.aspx" {
        if !forms {
            return not_found();
        }
        let url = super::common::query_param(parts, "url").unwrap_or_default();
        let reason = super::common::query_param(parts, "reason")
            .and_then(|r| r.parse().ok())
            .unwrap_or(0);
        return logon_page(&safe_destination(ctx, &url), reason);
    }
    if kind == VdirKind::Owa && path == "/owa/auth.owa" {
        if !forms {
            return not_found();
        }
        if parts.method != Method::POST {
            return redirect(&logon_url(
                ctx,
                &format!("{}://{}/owa/", ctx.scheme, ctx.host),
                0,
            ));
        }
        return sign_in(ctx, body);
    }
    let root = if kind == VdirKind::Ecp {
        "/ecp"
    } else {
        "/owa"
    };
    if path != root && !path.starts_with(&format!("{root}/")) {
        return not_found();
    }
    if let Some(u) = &ctx.user {
        return app_page(kind, &u.mailbox().display_name);
    }
    let vdir_forms = ctx
        .server
        .vdir(kind)
        .is_some_and(|v| v.forms_authentication)
        || forms;
    if !vdir_forms {
        return with_type(StatusCode::UNAUTHORIZED, "text/html", "");
    }
    let now = ctx.clock.unix();
    let signed_in = cookie(parts, "cadata")
        .and_then(|t| ctx.store.owa_session(&t, now))
        .and_then(|sid| ctx.org.mailbox_of_sid(&sid).cloned());
    if let Some(mb) = signed_in {
        return app_page(kind, &mb.display_name);
    }
    let mut original = parts.uri.path().to_string();
    if original.eq_ignore_ascii_case(root) {
        original = format!("{root}/");
    }
    redirect(&logon_url(
        ctx,
        &format!(
            "{}://{}{}",
            ctx.scheme,
            ctx.host,
            original.to_ascii_lowercase()
        ),
        0,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::surfaces::testing::*;

    fn fba_ctx() -> SurfaceCtx {
        let mut org = org();
        for k in [VdirKind::Owa, VdirKind::Ecp] {
            org.servers[0].vdir_mut(k).unwrap().forms_authentication = true;
        }
        ctx_for(org, None)
    }

    #[tokio::test]
    async fn owa_and_ecp_redirect_to_the_forms_logon() {
        let ctx = fba_ctx();
        let a = call(&ctx, VdirKind::Owa, Method::GET, "/owa", &[], "").await;
        assert_eq!(a.status, StatusCode::FOUND);
        assert_eq!(
            a.header("location"),
            Some("https://mail.contoso.com/owa/auth/logon.aspx?url=https%3a%2f%2fmail.contoso.com%2fowa%2f&reason=0")
        );
        golden("owa_redirect.head", a.head().as_bytes());
        let a = call(&ctx, VdirKind::Ecp, Method::GET, "/ecp/", &[], "").await;
        assert_eq!(
            a.header("location"),
            Some("https://mail.contoso.com/owa/auth/logon.aspx?url=https%3a%2f%2fmail.contoso.com%2fecp%2f&reason=0")
        );
    }

    #[tokio::test]
    async fn logon_page_and_sign_in() {
        let ctx = fba_ctx();
        let a = call(
            &ctx,
            VdirKind::Owa,
            Method::GET,
            "/owa/auth/logon.aspx?url=https%3a%2f%2fmail.contoso.com%2fowa%2f&reason=0",
            &[],
            "",
        )
        .await;
        assert_eq!(a.status, StatusCode::OK);
        golden("owa_logon.html", &a.body);
        let t = a.text();
        for f in [
            "name=\"username\"",
            "name=\"password\"",
            "action=\"/owa/auth.owa\"",
            "name=\"destination\" value=\"https://mail.contoso.com/owa/\"",
        ] {
            assert!(t.contains(f), "{f}");
        }

        let form = "destination=https%3A%2F%2Fmail.contoso.com%2Fowa%2F&flags=4&forcedownlevel=0&username=CONTOSO%5CGregT&password=wrong&passwordText=&isUtf8=1";
        let a = call(
            &ctx,
            VdirKind::Owa,
            Method::POST,
            "/owa/auth.owa",
            &[],
            form,
        )
        .await;
        assert_eq!(a.status, StatusCode::FOUND);
        assert!(a.header("location").unwrap().ends_with("&reason=2"));
        assert!(a.header("set-cookie").is_none());

        let form = form.replace("password=wrong", "password=Pa%24%24w0rd");
        let a = call(
            &ctx,
            VdirKind::Owa,
            Method::POST,
            "/owa/auth.owa",
            &[],
            form,
        )
        .await;
        assert_eq!(a.header("location"), Some("https://mail.contoso.com/owa/"));
        let cookie = a
            .header("set-cookie")
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_string();
        assert!(cookie.starts_with("cadata="));
        let a = call(
            &ctx,
            VdirKind::Owa,
            Method::GET,
            "/owa/",
            &[("cookie", &cookie)],
            "",
        )
        .await;
        assert_eq!(a.status, StatusCode::OK);
        assert!(a.text().contains("Greg Taylor"));

        // Cookies expire with the lab clock.
        ctx.clock.advance_secs(COOKIE_LIFETIME_SECS + 1);
        let a = call(
            &ctx,
            VdirKind::Owa,
            Method::GET,
            "/owa/",
            &[("cookie", &cookie)],
            "",
        )
        .await;
        assert_eq!(a.status, StatusCode::FOUND);
    }

    #[tokio::test]
    async fn foreign_destinations_are_not_followed() {
        let ctx = fba_ctx();
        let form = "destination=https%3A%2F%2Fevil.example%2F&username=GregT%40contoso.com&password=Pa%24%24w0rd";
        let a = call(
            &ctx,
            VdirKind::Owa,
            Method::POST,
            "/owa/auth.owa",
            &[],
            form,
        )
        .await;
        assert_eq!(a.header("location"), Some("https://mail.contoso.com/owa/"));
    }

    #[tokio::test]
    async fn without_forms_the_pipeline_user_sees_the_app() {
        let ctx = greg();
        let a = call(&ctx, VdirKind::Owa, Method::GET, "/owa/", &[], "").await;
        assert_eq!(a.status, StatusCode::OK);
        let a = call(
            &ctx,
            VdirKind::Owa,
            Method::GET,
            "/owa/auth/logon.aspx",
            &[],
            "",
        )
        .await;
        assert_eq!(a.status, StatusCode::NOT_FOUND);
    }
}
