//! The HTML ADFS shows a browser: the forms sign-in page (with ADFS's element ids
//! `userNameInput`, `passwordInput`, `submitButton` and its `Login.submitLoginRequest()`), the
//! MFA page, the auto-submitting form that posts the token to the relying party, the sign-out
//! page and the error page. Only what a user, a test or a headless browser reads is kept from
//! the real pages; the texts quoted are ADFS's, the MFA page is the lab's own (inferred).

use lab_kit::saml::xml::escape_attr;

/// HTML escape for text and double-quoted attributes.
pub fn esc(s: &str) -> String {
    escape_attr(s).replace('>', "&gt;").replace('\'', "&#39;")
}

/// ADFS's text for a wrong user name or password on the forms page.
pub const WRONG_CREDENTIALS: &str =
    "Incorrect user ID or password. Type the correct user ID and password, and try again.";
/// ADFS's text for an empty or malformed user name.
pub const BAD_USER_NAME: &str =
    "Enter your user ID in the format \"domain\\user\" or \"user@domain\".";
/// ADFS's text for an empty password.
pub const NO_PASSWORD: &str = "Enter your password.";
/// The MFA page's text for a wrong code (inferred).
pub const WRONG_CODE: &str = "The verification code is not correct. Try again.";

fn page(title: &str, display_name: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en-US\"><head><meta http-equiv=\"X-UA-Compatible\" \
         content=\"IE=edge\"/><meta name=\"viewport\" content=\"width=device-width, \
         initial-scale=1.0\"/><meta http-equiv=\"content-type\" content=\"text/html;charset=UTF-8\"/>\
         <title>{title}</title></head><body dir=\"ltr\" class=\"body\"><div id=\"fullPage\">\
         <div id=\"contentWrapper\"><div id=\"content\"><div id=\"header\"><span id=\"companyName\">\
         {name}</span></div><main><div id=\"workArea\">{body}</div></main></div></div></div>\
         </body></html>",
        name = esc(display_name)
    )
}

/// The forms sign-in page posting back to `action` (the sign-in URL as requested).
pub fn sign_in(display_name: &str, action: &str, user_name: &str, error: Option<&str>) -> String {
    let body = format!(
        "<div id=\"authArea\" class=\"groupMargin\"><div id=\"loginArea\"><div id=\"loginMessage\" \
         class=\"groupMargin\">Sign in with your organizational account</div><form method=\"post\" \
         id=\"loginForm\" autocomplete=\"off\" novalidate=\"novalidate\" action=\"{action}\">\
         <div id=\"error\" class=\"fieldMargin error smallText\"><span id=\"errorText\" for=\"\">\
         {error}</span></div><div id=\"formsAuthenticationArea\"><div id=\"userNameArea\"><label \
         id=\"userNameInputLabel\" for=\"userNameInput\" class=\"hidden\">User Account</label>\
         <input id=\"userNameInput\" name=\"UserName\" type=\"email\" value=\"{user}\" \
         tabindex=\"1\" class=\"text fullWidth\" spellcheck=\"false\" \
         placeholder=\"someone@example.com\" autocomplete=\"off\"/></div><div id=\"passwordArea\">\
         <label id=\"passwordInputLabel\" for=\"passwordInput\" class=\"hidden\">Password</label>\
         <input id=\"passwordInput\" name=\"Password\" type=\"password\" tabindex=\"2\" \
         class=\"text fullWidth\" placeholder=\"Password\" autocomplete=\"off\"/></div>\
         <div id=\"kmsiArea\" style=\"display:none\"><input type=\"checkbox\" name=\"Kmsi\" \
         id=\"kmsiInput\" value=\"true\" tabindex=\"3\"/><label for=\"kmsiInput\">Keep me signed \
         in</label></div><div id=\"submissionArea\" class=\"submitMargin\"><span \
         id=\"submitButton\" class=\"submit\" tabindex=\"4\" role=\"button\" \
         onclick=\"return Login.submitLoginRequest();\">Sign in</span></div></div><input \
         id=\"optionForms\" type=\"hidden\" name=\"AuthMethod\" value=\"FormsAuthentication\"/>\
         </form></div></div><script type=\"text/javascript\">var Login = {{ submitLoginRequest: \
         function () {{ document.getElementById('loginForm').submit(); return false; }} }};\
         document.getElementById('passwordInput').addEventListener('keypress', function (e) {{ \
         if (e.keyCode == 13) {{ Login.submitLoginRequest(); }} }});</script>",
        action = esc(action),
        error = esc(error.unwrap_or("")),
        user = esc(user_name),
    );
    page("Sign In", display_name, &body)
}

/// The second-factor page (Azure MFA adapter style; the lab's code is `123456`).
pub fn mfa(display_name: &str, action: &str, upn: &str, error: Option<&str>) -> String {
    let body = format!(
        "<div id=\"authArea\" class=\"groupMargin\"><div id=\"mfaArea\"><div id=\"mfaGreeting\" \
         class=\"groupMargin\">For security reasons, we require additional information to verify \
         your account ({upn})</div><form method=\"post\" id=\"options\" autocomplete=\"off\" \
         action=\"{action}\"><div id=\"error\" class=\"fieldMargin error smallText\"><span \
         id=\"errorText\" for=\"\">{error}</span></div><input id=\"verificationCodeInput\" \
         name=\"VerificationCode\" type=\"text\" autocomplete=\"off\"/><input type=\"hidden\" \
         name=\"AuthMethod\" value=\"AzureMfaAuthentication\"/><input id=\"signInButton\" \
         type=\"submit\" value=\"Sign in\"/></form></div></div>",
        upn = esc(upn),
        action = esc(action),
        error = esc(error.unwrap_or("")),
    );
    page("Sign In", display_name, &body)
}

/// The page that posts the token to the relying party (`wa`, `wresult`, `wctx`).
pub fn auto_post(endpoint: &str, wresult: &str, wctx: Option<&str>) -> String {
    let wctx = wctx
        .map(|c| {
            format!(
                "<input type=\"hidden\" name=\"wctx\" value=\"{}\" />",
                esc(c)
            )
        })
        .unwrap_or_default();
    format!(
        "<html><head><title>Working...</title></head><body><form method=\"POST\" \
         name=\"hiddenform\" action=\"{endpoint}\"><input type=\"hidden\" name=\"wa\" \
         value=\"wsignin1.0\" /><input type=\"hidden\" name=\"wresult\" value=\"{wresult}\" />\
         {wctx}<noscript><p>Script is disabled. Click Submit to continue.</p><input \
         type=\"submit\" value=\"Submit\" /></noscript></form><script \
         language=\"javascript\">window.setTimeout('document.forms[0].submit()', 0);</script>\
         </body></html>",
        endpoint = esc(endpoint),
        wresult = esc(wresult),
    )
}

/// After `wa=wsignout1.0`.
pub fn signed_out(display_name: &str) -> String {
    page(
        "Sign Out",
        display_name,
        "<div id=\"openingMessage\" class=\"groupMargin\">You have successfully signed out.</div>",
    )
}

/// ADFS's error page: the message, the activity id and the detail an administrator reads.
pub fn error(display_name: &str, activity_id: &str, detail: &str) -> String {
    let body = format!(
        "<div id=\"errorArea\"><div id=\"openingMessage\" class=\"groupMargin bigText\">An error \
         occurred</div><div id=\"errorMessage\" class=\"groupMargin\">An error occurred. Contact \
         your administrator for more information.</div><div id=\"errorDetails\" \
         class=\"groupMargin\"><div class=\"fieldMargin\">Error details</div><ul><li>Activity ID: \
         <span id=\"activityId\">{}</span></li><li>Error detail: <span id=\"errorDetail\">{}\
         </span></li></ul></div></div>",
        esc(activity_id),
        esc(detail)
    );
    page("Sign In", display_name, &body)
}

/// The endpoint with an explicit `:443`, as ADFS writes the form action (`https://login.
/// microsoftonline.com:443/login.srf`).
pub fn with_default_port(endpoint: &str) -> String {
    let Some(rest) = endpoint.strip_prefix("https://") else {
        return endpoint.to_string();
    };
    let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    if host.contains(':') {
        endpoint.to_string()
    } else {
        format!("https://{host}:443{path}")
    }
}
