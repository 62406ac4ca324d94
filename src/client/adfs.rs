//! The browser's half of a federated sign-in at the company's ADFS farm: what Outlook's sign-in
//! window (or a browser) does once Azure AD has sent it to `https://adfs.contoso.com/adfs/ls/`.
//!
//! A domain-joined Windows machine's browser is on the farm's WIA list (its `User-Agent` is IE
//! 11's) and answers the farm's `401 WWW-Authenticate: Negotiate` with the machine's Windows
//! logon — NTLM under `Negotiate`, three legs on one kept-alive connection — and, over HTTPS,
//! binds that logon to the TLS channel: `MsvAvChannelBindings` is computed from the certificate
//! the connection presented, so through a decrypting proxy it names the proxy's certificate,
//! which is what extended protection refuses. Any other browser gets the forms page and types the
//! user's password (and the MFA page's code when the farm asks for one). Both end on the
//! auto-submitting form that posts `wresult` to Azure AD's `login.srf`; that post is the caller's
//! (the next step of the Azure AD sign-in), so this module stops there and hands the form back.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use lab_kit::ntlm::binding::tls_server_end_point;

use super::dial::NoResponse;
use super::http::{challenges, Req, Resp, Wire};
use super::markup::{attr, join_url};
use super::ntlm::NtlmClient;

/// Internet Explorer 11 on Windows 10: on ADFS's WIA list (`Trident/7.0`).
pub const DOMAIN_JOINED_USER_AGENT: &str =
    "Mozilla/5.0 (Windows NT 10.0; WOW64; Trident/7.0; rv:11.0) like Gecko";
/// A browser not on the list (Chrome on a machine outside the domain): the forms page.
pub const OTHER_USER_AGENT: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";

/// Who signs in, and from what machine.
#[derive(Debug, Clone)]
pub struct FederatedUser<'a> {
    /// The UPN, typed on the forms page.
    pub upn: &'a str,
    pub password: &'a str,
    /// The Windows logon of a domain-joined machine, `CONTOSO\GregT`.
    pub windows_logon: &'a str,
    pub mfa_code: &'a str,
    /// On the domain (Windows integrated sign-in) or not (the forms page).
    pub domain_joined: bool,
}

/// The auto-submitting form ADFS answers a signed-in browser with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WsFedPost {
    /// Where it posts: the relying party's endpoint (`https://login.microsoftonline.com:443/login.srf`).
    pub action: String,
    /// `wsignin1.0`.
    pub wa: String,
    /// The WS-Trust 2005 `RequestSecurityTokenResponse` with the signed SAML 1.1 assertion.
    pub wresult: String,
    pub wctx: Option<String>,
}

/// Why the sign-in at ADFS did not end on the form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdfsFailure {
    /// No answer (the farm unreachable, a refused certificate, a refused tunnel).
    Unreachable(String),
    /// The Windows logon was answered with `401` again: the browser's credential prompt (a
    /// wrong password, a disabled account, or extended protection refusing the channel binding).
    WindowsLogonRefused,
    /// The forms page came back with ADFS's error text.
    FormsError(String),
    /// Another answer (an error page's status and its `MSIS…` detail when there is one).
    Unexpected { status: u16, detail: String },
}

fn unexpected(r: &Resp) -> AdfsFailure {
    let page = r.text();
    let detail = page
        .find("MSIS")
        .map(|at| {
            page[at..]
                .split(['<', '\n'])
                .next()
                .unwrap_or_default()
                .to_string()
        })
        .unwrap_or_default();
    AdfsFailure::Unexpected {
        status: r.status,
        detail,
    }
}

async fn send(wire: &mut Wire, req: Req) -> Result<Resp, AdfsFailure> {
    wire.send(req).await.map_err(|e| match e {
        NoResponse::Certificate(t) | NoResponse::Network(t) => AdfsFailure::Unreachable(t),
    })
}

/// Signs in at the farm's passive endpoint `start` (`https://adfs.contoso.com/adfs/ls/?wa=
/// wsignin1.0&wtrealm=…`) as a browser would, up to the form that posts `wresult`.
pub async fn passive_sign_in(
    wire: &mut Wire,
    ntlm: Option<&dyn NtlmClient>,
    start: &str,
    who: &FederatedUser<'_>,
) -> Result<WsFedPost, AdfsFailure> {
    let ua = if who.domain_joined {
        DOMAIN_JOINED_USER_AGENT
    } else {
        OTHER_USER_AGENT
    };
    let get = |url: &str| Req::new("adfs-signin", "GET", url).header("user-agent", ua);
    let mut url = start.to_string();
    let mut r = send(wire, get(&url)).await?;
    for _ in 0..6 {
        if r.status == 401 {
            return windows_logon(wire, ntlm, &url, ua, who).await;
        }
        if r.status == 302 {
            let Some(to) = r.header("location").map(|l| join_url(&url, l)) else {
                return Err(unexpected(&r));
            };
            url = to;
            r = send(wire, get(&url)).await?;
            continue;
        }
        if r.status != 200 {
            return Err(unexpected(&r));
        }
        let page = r.text();
        if let Some(post) = auto_post(&page) {
            return Ok(post);
        }
        let (form, body) = if page.contains("id=\"loginForm\"") {
            if let Some(e) = forms_error(&page) {
                return Err(AdfsFailure::FormsError(e));
            }
            let body = form_body(&[
                ("UserName", who.upn),
                ("Password", who.password),
                ("AuthMethod", "FormsAuthentication"),
            ]);
            (form_action(&page, "loginForm"), body)
        } else if page.contains("verificationCodeInput") {
            let body = form_body(&[
                ("AuthMethod", "AzureMfaAuthentication"),
                ("VerificationCode", who.mfa_code),
            ]);
            (form_action(&page, "<form"), body)
        } else {
            return Err(unexpected(&r));
        };
        let Some(action) = form else {
            return Err(unexpected(&r));
        };
        url = join_url(&url, &action);
        let post = Req::new("adfs-signin", "POST", &url)
            .header("user-agent", ua)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body.into_bytes());
        r = send(wire, post).await?;
    }
    Err(unexpected(&r))
}

/// The NTLM logon under `Negotiate` on the connection that got the 401, bound to the TLS
/// channel's certificate when there is one.
async fn windows_logon(
    wire: &mut Wire,
    ntlm: Option<&dyn NtlmClient>,
    url: &str,
    ua: &str,
    who: &FederatedUser<'_>,
) -> Result<WsFedPost, AdfsFailure> {
    let Some(ntlm) = ntlm.filter(|_| who.domain_joined) else {
        // A browser with no Windows logon to offer: the credential prompt.
        return Err(AdfsFailure::WindowsLogonRefused);
    };
    let host = url::Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_default();
    let req = |auth: String| {
        Req::new("adfs-signin", "GET", url)
            .header("user-agent", ua)
            .header("authorization", auth)
    };
    let t1 = STANDARD.encode(ntlm.negotiate());
    let r = send(wire, req(format!("Negotiate {t1}"))).await?;
    let t2 = challenges(&r.header_all("www-authenticate"))
        .into_iter()
        .find(|c| c.is("Negotiate") && !c.token.is_empty())
        .and_then(|c| STANDARD.decode(c.token.as_bytes()).ok());
    let Some(t2) = t2.filter(|_| r.status == 401) else {
        return Err(unexpected(&r));
    };
    let (domain, user) = who
        .windows_logon
        .split_once('\\')
        .unwrap_or(("", who.windows_logon));
    let binding = wire.server_certificate(&host).map(tls_server_end_point);
    let t3 = ntlm
        .authenticate_bound(
            &t2,
            user,
            domain,
            who.password,
            binding,
            Some(&format!("HTTP/{host}")),
        )
        .map_err(|e| AdfsFailure::Unexpected {
            status: 401,
            detail: format!("NTLM: {e}"),
        })?;
    let r = send(wire, req(format!("Negotiate {}", STANDARD.encode(t3)))).await?;
    match r.status {
        401 => Err(AdfsFailure::WindowsLogonRefused),
        200 => auto_post(&r.text()).ok_or_else(|| unexpected(&r)),
        _ => Err(unexpected(&r)),
    }
}

fn form_body(pairs: &[(&str, &str)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

/// The `action` of the form whose opening tag contains `marker`.
fn form_action(page: &str, marker: &str) -> Option<String> {
    let at = page.find(marker)?;
    let start = page[..at].rfind("<form").unwrap_or(at);
    let end = page[start..].find('>')? + start;
    attr(&page[start..end], "action")
}

/// The forms page's `errorText`, when it shows one.
fn forms_error(page: &str) -> Option<String> {
    let at = page.find("id=\"errorText\"")?;
    let open_end = page[at..].find('>')? + at + 1;
    let close = page[open_end..].find('<')? + open_end;
    let t = page[open_end..close].trim();
    (!t.is_empty()).then(|| super::markup::html_unescape(t))
}

/// The hidden inputs of ADFS's auto-submitting form (`name="hiddenform"`).
fn auto_post(page: &str) -> Option<WsFedPost> {
    let at = page.find("name=\"hiddenform\"")?;
    let start = page[..at].rfind("<form")?;
    let end = page[start..].find("</form>")? + start;
    let form = &page[start..end];
    let action = attr(&form[..form.find('>')?], "action")?;
    let mut inputs = Vec::new();
    let mut rest = form;
    while let Some(i) = rest.find("<input") {
        let tag_end = rest[i..].find('>').map(|e| e + i)?;
        let tag = &rest[i..tag_end];
        if let (Some(n), Some(v)) = (attr(tag, "name"), attr(tag, "value")) {
            inputs.push((n, v));
        }
        rest = &rest[tag_end..];
    }
    let get = |k: &str| inputs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    Some(WsFedPost {
        action,
        wa: get("wa")?,
        wresult: get("wresult")?,
        wctx: get("wctx"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hidden_form_is_read_with_its_entities_decoded() {
        let page = "<html><body><form method=\"POST\" name=\"hiddenform\" action=\"https://login.microsoftonline.com:443/login.srf\"><input type=\"hidden\" name=\"wa\" value=\"wsignin1.0\" /><input type=\"hidden\" name=\"wresult\" value=\"&lt;t:RequestSecurityTokenResponse a=&quot;1&quot;&gt;\" /><input type=\"hidden\" name=\"wctx\" value=\"estsredirect=2&amp;x=y\" /><noscript><input type=\"submit\" value=\"Submit\" /></noscript></form></body></html>";
        assert_eq!(
            auto_post(page),
            Some(WsFedPost {
                action: "https://login.microsoftonline.com:443/login.srf".into(),
                wa: "wsignin1.0".into(),
                wresult: "<t:RequestSecurityTokenResponse a=\"1\">".into(),
                wctx: Some("estsredirect=2&x=y".into()),
            })
        );
        assert_eq!(auto_post("<form name=\"other\"></form>"), None);
    }
}
