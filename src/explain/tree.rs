//! The field guide's troubleshooting tree ("Something Went Wrong. How do I Troubleshoot HMA?") as
//! code: each rule looks for the evidence the guide names, and answers with the cause, the guide
//! section that discusses it and the fix — the guide's cmdlets verbatim where it gives them.
//!
//! Rules run most specific first, as the guide reads a trace: an error Azure AD or Exchange
//! spelt out (AADSTS codes, `x-ms-diagnostics`) wins over what can only be inferred from which
//! challenges are present, and the client-side cause (no empty Bearer sent) is concluded only
//! when the server side of the capture looks right.

use super::capture::Exchange;
use super::explanation::Explanation;

/// Exchange's first-party application id (the SPN owner in the guide's `$x` lines).
use lab_kit::wire::EXCHANGE_APP_ID as EXCHANGE_APP;

/// Which client a capture came from, read off its User-Agent (or a scenario's profile).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientKind {
    Outlook2010,
    Outlook2013,
    Outlook2016,
    Mac,
    Unknown,
}

impl ClientKind {
    pub fn from_user_agent(ua: &str) -> ClientKind {
        if ua.contains("MacOutlook") || ua.contains("Outlook-Mac") {
            ClientKind::Mac
        } else if ua.contains("Office/14.") || ua.contains("Outlook 14.") {
            ClientKind::Outlook2010
        } else if ua.contains("Office/15.") || ua.contains("Outlook 15.") {
            ClientKind::Outlook2013
        } else if ua.contains("Office/16.") || ua.contains("Outlook 16.") {
            ClientKind::Outlook2016
        } else {
            ClientKind::Unknown
        }
    }
}

/// Everything the rules see: the exchanges, the whole input text, and (for a scenario file) the
/// client profile that ran and the Authn it ended with.
pub struct Evidence<'a> {
    pub exchanges: &'a [Exchange],
    pub text: &'a str,
    pub client: Option<ClientKind>,
    /// `client_status.authn` a scenario expects (NTLM/Basic means no Bearer was used).
    pub final_authn: Option<String>,
    /// A scenario configured that client without modern auth (registry `EnableADAL` 0 or, for
    /// Outlook 2013, not 1; `DisableModernAuth` YES). An Outlook that falls back to NTLM has
    /// many server-side causes, so a scenario's Authn alone does not make a client failure.
    pub client_modern_auth_off: bool,
}

fn fixes(lines: &[&str]) -> Vec<String> {
    lines.iter().map(|s| s.to_string()).collect()
}

/// Runs the tree; `None` when no cause in the guide matches.
pub fn explain(ev: &Evidence) -> Option<Explanation> {
    let rules: [fn(&Evidence) -> Option<Explanation>; 11] = [
        certificate,
        unicorn,
        password_changed,
        missing_spn,
        flighting,
        audience,
        user_not_synced,
        other_auth_server,
        no_authorization_uri,
        oauth_missing_on_vdir,
        client_no_bearer,
    ];
    rules.iter().find_map(|rule| rule(ev))
}

fn diagnostics<'a>(ev: &'a Evidence) -> impl Iterator<Item = (&'a Exchange, &'a str)> + 'a {
    ev.exchanges
        .iter()
        .flat_map(|x| x.header_values("x-ms-diagnostics").map(move |v| (x, v)))
}

fn certificate(ev: &Evidence) -> Option<Explanation> {
    const SIGNS: [&str; 18] = [
        // What a client says (Outlook's Security Alert as the lab's client journals it, rustls).
        "Security Alert: The security certificate",
        "Security Alert: The name on the security certificate",
        "invalid peer certificate",
        // What the lab's front door journals when a client rejected its certificate.
        "TLS handshake failed: received fatal alert: CertificateExpired",
        "TLS handshake failed: received fatal alert: UnknownCA",
        "TLS handshake failed: received fatal alert: BadCertificate",
        "SSL certificate problem",
        "certificate verify failed",
        "self signed certificate",
        "self-signed certificate",
        "unable to get local issuer certificate",
        "certificate has expired",
        "no alternative certificate subject name matches",
        "The remote certificate is invalid",
        "NET::ERR_CERT",
        "CERT_AUTHORITY_INVALID",
        "InvalidCertificate",
        "curl: (60)",
    ];
    let lower = ev.text.to_ascii_lowercase();
    let sign = SIGNS
        .iter()
        .find(|s| lower.contains(&s.to_ascii_lowercase()))?;
    let line = ev
        .text
        .lines()
        .find(|l| l.to_ascii_lowercase().contains(&sign.to_ascii_lowercase()))
        .unwrap_or(sign)
        .trim();
    Some(Explanation {
        id: "certificate",
        cause: "The client does not trust a certificate on the way (issuer not trusted, expired, \
                or a name mismatch); that stops the modern auth flow in its tracks."
            .into(),
        section: "Something Went Wrong. How do I Troubleshoot HMA?",
        evidence: vec![line.to_string()],
        fix: Vec::new(),
        advice: "No cmdlet fixes this: make the clients trust the issuer of the certificates on \
                 every endpoint they talk to (Exchange, login.windows.net, \
                 login.microsoftonline.com, ADFS or your IdP), with names that match the host \
                 names the clients use."
            .into(),
    })
}

fn unicorn(ev: &Evidence) -> Option<Explanation> {
    let x = ev.exchanges.iter().find(|x| {
        x.body.contains("\"unicorn_rampage\"") || x.reason.eq_ignore_ascii_case("Bad Unicorn")
    });
    let hit = match x {
        Some(x) => format!(
            "{}{}",
            x.status
                .map(|s| format!("HTTP {s} {} — ", x.reason))
                .unwrap_or_default(),
            "\"error\":\"unicorn_rampage\""
        ),
        None if ev.text.contains("unicorn_rampage") => "\"error\":\"unicorn_rampage\"".into(),
        None => return None,
    };
    Some(Explanation {
        id: "tenant-revocation",
        cause: "Every refresh token of the tenant was invalidated at once (a tenant-wide \
                revocation, the guide's Unicorn Rampage): no refresh token is good any more."
            .into(),
        section: "Unicorn Rampage?",
        evidence: vec![hit],
        fix: Vec::new(),
        advice: "No cmdlet undoes it: every user signs in again (restart Outlook; the Office 365 \
                 sign-in dialog gets a new refresh/access token pair)."
            .into(),
    })
}

fn password_changed(ev: &Evidence) -> Option<Explanation> {
    if !ev.text.contains("AADSTS50173") {
        return None;
    }
    let mut evidence =
        vec!["AADSTS50173: The provided grant has expired due to it being revoked.".to_string()];
    if let (Some(issued), Some(valid)) = (
        between(ev.text, "The grant was issued on '", "'"),
        between(ev.text, "TokensValidFrom date for this user is '", "'"),
    ) {
        evidence.push(format!(
            "grant issued {issued}, but the user's tokens are valid only from {valid}"
        ));
    }
    Some(Explanation {
        id: "password-changed",
        cause: "The user changed or reset their password, which revoked their refresh token; \
                Outlook must re-authenticate to get a new refresh/access token pair."
            .into(),
        section: "Password Changed?",
        evidence,
        fix: Vec::new(),
        advice: "No cmdlet: the user signs in again with the new password (Outlook shows the \
                 Office 365 sign-in dialog)."
            .into(),
    })
}

fn between<'a>(text: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let i = text.find(start)? + start.len();
    let j = text[i..].find(end)?;
    Some(&text[i..i + j])
}

/// The `error_description` of an oob redirect (URL-decoded), or the raw text.
fn decoded_descriptions(ev: &Evidence) -> Vec<String> {
    let mut out = Vec::new();
    for x in ev.exchanges {
        for v in x.header_values("Location") {
            if let Some((_, q)) = v.split_once('?') {
                for (k, val) in form_urlencoded::parse(q.as_bytes()) {
                    if k == "error_description" {
                        out.push(val.into_owned());
                    }
                }
            }
        }
        if let Ok(j) = serde_json::from_str::<serde_json::Value>(x.body.trim()) {
            if let Some(d) = j.get("error_description").and_then(|d| d.as_str()) {
                out.push(d.to_string());
            }
        }
    }
    out.push(ev.text.to_string());
    out
}

fn missing_spn(ev: &Evidence) -> Option<Explanation> {
    let descs = decoded_descriptions(ev);
    let desc = descs.iter().find(|d| d.contains("AADSTS50001"))?;
    let resource =
        between(desc, "The application named ", " was not found").map(|s| s.trim().to_string());
    let oob = ev
        .exchanges
        .iter()
        .flat_map(|x| x.header_values("Location"))
        .any(|l| l.starts_with("urn:ietf:wg:oauth:2.0:oob"));
    let mut evidence = Vec::new();
    if oob {
        evidence.push("Location: urn:ietf:wg:oauth:2.0:oob?error=invalid_resource&…".to_string());
    }
    let first = desc
        .lines()
        .find(|l| l.contains("AADSTS50001"))
        .unwrap_or(desc)
        .trim();
    let first = first.split("  This can happen").next().unwrap_or(first);
    evidence.push(first.chars().take(300).collect());
    let url = resource
        .clone()
        .unwrap_or_else(|| "https://<the URL in the error>/".into());
    Some(Explanation {
        id: "missing-spn",
        cause: format!(
            "Azure AD does not know the resource {url}: it is not a service principal name of \
             Exchange's application ({EXCHANGE_APP}), so no token can be issued for it."
        ),
        section: "Missing SPNs",
        evidence,
        fix: vec![
            format!("$x= Get-MsolServicePrincipal -AppPrincipalId {EXCHANGE_APP}"),
            format!("$x.ServicePrincipalnames.Add(\"{url}\")"),
            format!(
                "Set-MSOLServicePrincipal -AppPrincipalId {EXCHANGE_APP} -ServicePrincipalNames $x.ServicePrincipalNames"
            ),
        ],
        advice: format!(
            "Then verify: Get-MsolServicePrincipal -AppPrincipalId {EXCHANGE_APP} | select \
             -ExpandProperty ServicePrincipalNames"
        ),
    })
}

fn flighting(ev: &Evidence) -> Option<Explanation> {
    let (_, v) = diagnostics(ev).find(|(_, v)| v.starts_with("4000000"))?;
    Some(Explanation {
        id: "flighting",
        cause: "OAuth is enabled, but not for Outlook for Windows: OAuth2ClientProfileEnabled is \
                not $true in the organization (or it is, and not enough time has passed for \
                Exchange's caches to pick it up)."
            .into(),
        section: "Auth_URI Failures",
        evidence: vec![format!("x-ms-diagnostics: {v}")],
        fix: fixes(&[
            "(Get-OrganizationConfig).OAuth2ClientProfileEnabled",
            "Set-OrganizationConfig -OAuth2ClientProfileEnabled $True",
        ]),
        advice: "If it already says True, the setting has not kicked in yet: wait, or run \
                 iisreset on the Exchange servers (more than once if need be; settings are \
                 cached)."
            .into(),
    })
}

fn audience(ev: &Evidence) -> Option<Explanation> {
    let (x, v) = diagnostics(ev).find(|(_, v)| v.starts_with("2000003"))?;
    let ev_line = format!("x-ms-diagnostics: {v}");
    if let (Some(expected), Some(actual)) =
        (between(v, "Expected '", "'"), between(v, "Actual '", "'"))
    {
        let (es, eh) = expected.split_once("://").unwrap_or(("", expected));
        let (as_, ah) = actual.split_once("://").unwrap_or(("", actual));
        if es.eq_ignore_ascii_case("https")
            && as_.eq_ignore_ascii_case("http")
            && eh.eq_ignore_ascii_case(ah)
        {
            return Some(Explanation {
                id: "ssl-offloading",
                cause: format!(
                    "SSL offloading: the token was issued for {expected}, but the load balancer \
                     ends TLS and Exchange receives the request over HTTP, so it compares against \
                     {actual} and the claim does not match."
                ),
                section: "SSL Offloading",
                evidence: vec![ev_line],
                fix: Vec::new(),
                advice: "No cmdlet: stop offloading SSL for Exchange on the load balancer (SSL \
                         bridging or pass-through), so Exchange receives the request over \
                         HTTPS."
                    .into(),
            });
        }
    }
    let aud = between(v, "audience claim value '", "'")
        .or_else(|| between(v, "Expected '", "'"))
        .unwrap_or("the token's audience");
    let mut evidence = vec![ev_line];
    let reached = x
        .challenges()
        .iter()
        .find_map(|c| between(c, "Basic realm=\"", "\"").map(str::to_string));
    if let Some(host) = &reached {
        evidence.push(format!(
            "the request reached Exchange as {host} (Basic realm)"
        ));
    }
    Some(Explanation {
        id: "name-mismatch",
        cause: format!(
            "A device between client and server changes the names used (a reverse proxy or \
             WAP publishing rule forwarding to another host name): the token was issued for \
             {aud}, but Exchange received the request under {}.",
            reached.as_deref().unwrap_or("another name")
        ),
        section: "Name Mismatches",
        evidence,
        fix: Vec::new(),
        advice: "No cmdlet: publish Exchange so the name the client uses is the name Exchange \
                 receives (WAP only in pass-through mode; a publishing rule must forward \
                 autodiscover.contoso.com to autodiscover.contoso.com, not to mail.contoso.com)."
            .into(),
    })
}

fn user_not_synced(ev: &Evidence) -> Option<Explanation> {
    let (_, v) = diagnostics(ev).find(|(_, v)| v.starts_with("2000005"))?;
    Some(Explanation {
        id: "user-not-synced",
        cause: "The user in the token does not exist in Exchange's view: the on-premises user is \
                not synchronised to Azure AD (or not matched to the on-premises mailbox)."
            .into(),
        section: "Who’s This?",
        evidence: vec![format!("x-ms-diagnostics: {v}")],
        fix: Vec::new(),
        advice: "No guide cmdlet: sync all your users to Azure AD with Azure AD Connect (the \
                 guide's prerequisite), then have the user sign in again."
            .into(),
    })
}

/// The `authorization_uri` of a Bearer challenge, if any.
fn authorization_uri(challenge: &str) -> Option<&str> {
    between(challenge, "authorization_uri=\"", "\"")
}

fn bearer_challenges<'a>(
    ev: &'a Evidence<'a>,
) -> impl Iterator<Item = (&'a Exchange, String)> + 'a {
    ev.exchanges.iter().flat_map(|x| {
        x.challenges()
            .into_iter()
            .filter(|c| {
                c.split_whitespace()
                    .next()
                    .is_some_and(|s| s.eq_ignore_ascii_case("Bearer"))
            })
            .map(move |c| (x, c))
    })
}

fn is_aad(uri: &str) -> bool {
    let host = uri
        .split("://")
        .nth(1)
        .and_then(|r| r.split('/').next())
        .unwrap_or("")
        .to_ascii_lowercase();
    host == "login.windows.net" || host == "login.microsoftonline.com"
}

fn other_auth_server(ev: &Evidence) -> Option<Explanation> {
    let (_, c) =
        bearer_challenges(ev).find(|(_, c)| authorization_uri(c).is_some_and(|u| !is_aad(u)))?;
    let uri = authorization_uri(&c).unwrap_or_default().to_string();
    Some(Explanation {
        id: "other-auth-server",
        cause: format!(
            "Exchange points clients at {uri}: another AuthServer (e.g. on-premises ADFS) is the \
             default authorization endpoint. Hybrid Modern Auth is supported only with Azure AD \
             (EvoSts)."
        ),
        section: "Auth_URI Failures",
        evidence: vec![format!("WWW-Authenticate: {c}")],
        fix: fixes(&["Set-AuthServer EvoSts -IsDefaultAuthorizationEndpoint $true"]),
        advice: "Check which AuthServer is the default: Get-AuthServer | FL \
                 Name,IsDefaultAuthorizationEndpoint. Then iisreset (Exchange caches it)."
            .into(),
    })
}

fn no_authorization_uri(ev: &Evidence) -> Option<Explanation> {
    let (_, c) = bearer_challenges(ev).find(|(x, c)| {
        authorization_uri(c).is_none() && !x.header_values("x-ms-diagnostics").any(|_| true)
    })?;
    Some(Explanation {
        id: "no-authorization-uri",
        cause: "Exchange's Bearer challenge has no authorization_uri: the EvoSts AuthServer does \
                not have IsDefaultAuthorizationEndpoint set to $true."
            .into(),
        section: "Auth_URI Failures",
        evidence: vec![format!("WWW-Authenticate: {c}")],
        fix: fixes(&["Set-AuthServer EvoSts -IsDefaultAuthorizationEndpoint $true"]),
        advice: "Check it: Get-AuthServer | where {$_.Name -eq \"EvoSts\"}. Then iisreset \
                 (Exchange caches it)."
            .into(),
    })
}

/// The virtual directory a path belongs to, with the guide's command to check and to fix it.
fn vdir_of(path: &str) -> Option<(&'static str, &'static str, &'static str)> {
    const TABLE: [(&str, &str, &str, &str); 6] = [
        (
            "/mapi/",
            "/mapi",
            "Get-MapiVirtualDirectory | FL server,*url*,*auth*",
            "Get-MapiVirtualDirectory | Set-MapiVirtualDirectory -IISAuthenticationMethods Ntlm, OAuth, Negotiate",
        ),
        (
            "/ews/",
            "/EWS",
            "Get-WebServicesVirtualDirectory | FL server,*url*,*oauth*",
            "Get-WebServicesVirtualDirectory | Set-WebServicesVirtualDirectory -OAuthAuthentication $true",
        ),
        (
            "/oab/",
            "/OAB",
            "Get-OABVirtualDirectory | FL server,*url*,*oauth*",
            "Get-OABVirtualDirectory | Set-OABVirtualDirectory -OAuthAuthentication $true",
        ),
        (
            "/autodiscover/",
            "/Autodiscover",
            "Get-AutoDiscoverVirtualDirectory | FL server,*oauth*",
            "Get-AutodiscoverVirtualDirectory | Set-AutodiscoverVirtualDirectory -OAuthAuthentication $true",
        ),
        (
            "/microsoft-server-activesync",
            "/Microsoft-Server-ActiveSync",
            "Get-ActiveSyncVirtualDirectory | FL server,*url*,*auth*",
            "Get-ActiveSyncVirtualDirectory | Set-ActiveSyncVirtualDirectory -OAuthAuthentication $true",
        ),
        (
            "/owa/",
            "/owa",
            "Get-OwaVirtualDirectory | FL server,*url*,*auth*",
            "Get-OwaVirtualDirectory | Set-OwaVirtualDirectory -OAuthAuthentication $true",
        ),
    ];
    let p = if path.ends_with('/') {
        path.to_string()
    } else {
        format!("{path}/")
    };
    TABLE
        .iter()
        .find(|(prefix, ..)| p.starts_with(prefix))
        .map(|(_, name, check, fix)| (*name, *check, *fix))
}

fn oauth_missing_on_vdir(ev: &Evidence) -> Option<Explanation> {
    // A 401 from Exchange that offers other schemes but no Bearer at all: that virtual
    // directory does not have OAuth (the guide's "connections still don't elicit the
    // authorization_uri"). Exchange's own errors (x-ms-diagnostics) are other rules' business.
    let x = ev.exchanges.iter().find(|x| {
        x.status == Some(401)
            && !x.challenges().is_empty()
            && !x.challenges().iter().any(|c| {
                c.split_whitespace()
                    .next()
                    .is_some_and(|s| s.eq_ignore_ascii_case("Bearer"))
            })
            && x.header_values("x-ms-diagnostics").next().is_none()
            // An NTLM/Negotiate handshake leg answers the client's own scheme, not a new request.
            && !x.request_header("Authorization").is_some_and(|a| {
                let scheme = a.split_whitespace().next().unwrap_or("");
                ["NTLM", "Negotiate", "Basic"]
                    .iter()
                    .any(|s| s.eq_ignore_ascii_case(scheme))
            })
    })?;
    let server = x
        .header("X-FEServer")
        .or_else(|| x.header("X-CalculatedBETarget"))
        .map(str::to_string);
    let vdir = x.path().as_deref().and_then(vdir_of);
    let mut evidence = vec![format!(
        "{}HTTP 401 with WWW-Authenticate: {} (no Bearer)",
        x.url
            .as_ref()
            .map(|u| format!("{} {u} → ", x.method.as_deref().unwrap_or("")))
            .unwrap_or_default(),
        x.challenges().join(", ")
    )];
    if let Some(s) = &server {
        evidence.push(format!("answered by {s}"));
    }
    let (name, check, fix) = vdir.unwrap_or((
        "the virtual directory Outlook connects to",
        "Get-MapiVirtualDirectory | FL server,*url*,*auth*",
        "Get-MapiVirtualDirectory | Set-MapiVirtualDirectory -IISAuthenticationMethods Ntlm, OAuth, Negotiate",
    ));
    Some(Explanation {
        id: "oauth-missing-on-vdir",
        cause: format!(
            "OAuth is not enabled on {name}{}: that virtual directory answers without a \
             Bearer challenge, so the client is never sent to Azure AD there.",
            server.map(|s| format!(" on {s}")).unwrap_or_default()
        ),
        section: "Auth_URI Failures",
        evidence,
        fix: vec![check.to_string(), fix.to_string()],
        advice: "Make sure OAuth is enabled on all virtual directories, on all servers (see \"How \
                 do I Enable HMA?\"); for /mapi list the methods explicitly as above, not with \
                 -OAuthAuthentication. Then iisreset (Exchange caches these settings)."
            .into(),
    })
}

fn client_no_bearer(ev: &Evidence) -> Option<Explanation> {
    let sent_bearer = ev.exchanges.iter().any(|x| {
        x.request_header("Authorization")
            .is_some_and(|a| a.starts_with("Bearer"))
    });
    if sent_bearer {
        return None;
    }
    let server_offers =
        bearer_challenges(ev).any(|(_, c)| authorization_uri(&c).is_some_and(is_aad));
    let requests_seen = ev.exchanges.iter().any(|x| x.request_known);
    let scenario_says = ev.client_modern_auth_off
        && ev
            .final_authn
            .as_deref()
            .is_some_and(|a| !a.eq_ignore_ascii_case("Bearer"));
    let client = ev.client.or_else(|| {
        ev.exchanges
            .iter()
            .filter_map(|x| x.request_header("User-Agent"))
            .map(ClientKind::from_user_agent)
            .find(|k| *k != ClientKind::Unknown)
    });
    if !(scenario_says || (requests_seen && server_offers)) {
        return None;
    }
    let mut evidence = Vec::new();
    if let Some(x) = ev.exchanges.iter().find(|x| x.request_known) {
        evidence.push(format!(
            "request {} {} sent {}",
            x.method.as_deref().unwrap_or(""),
            x.url.as_deref().unwrap_or(""),
            x.request_header("Authorization")
                .map(|a| format!(
                    "Authorization: {}",
                    a.split_whitespace().next().unwrap_or(a)
                ))
                .unwrap_or_else(|| "no Authorization header".into())
        ));
        if let Some(ua) = x.request_header("User-Agent") {
            evidence.push(format!("User-Agent: {ua}"));
        }
    }
    if let Some(a) = &ev.final_authn {
        evidence.push(format!("the client ends up with Authn {a}"));
    }
    let (cause, fix, advice): (&str, Vec<String>, &str) = match client
        .unwrap_or(ClientKind::Unknown)
    {
        ClientKind::Outlook2010 => (
            "The client never sends the empty Bearer header: it is Outlook 2010, which does not \
             support Bearer.",
            Vec::new(),
            "No cmdlet: stop trying and upgrade to Outlook 2013 or later.",
        ),
        ClientKind::Outlook2013 => (
            "The client never sends the empty Bearer header: Outlook 2013 without the EnableADAL \
             registry keys.",
            fixes(&[
                r"reg add HKCU\SOFTWARE\Microsoft\Office\15.0\Common\Identity /v EnableADAL /t REG_DWORD /d 1 /f",
                r"reg add HKCU\SOFTWARE\Microsoft\Office\15.0\Common\Identity /v Version /t REG_DWORD /d 1 /f",
            ]),
            "Set the keys as per \"Enable Modern Authentication for Office 2013 on Windows \
             devices\", then restart Outlook.",
        ),
        ClientKind::Outlook2016 => (
            "The client never sends the empty Bearer header although Outlook 2016 has EnableADAL \
             on by default: someone set the registry keys (by hand or by GPO) to turn it off.",
            fixes(&[
                r"reg add HKCU\SOFTWARE\Microsoft\Office\16.0\Common\Identity /v EnableADAL /t REG_DWORD /d 1 /f",
            ]),
            "Make sure the keys are set as per the Office article (or delete EnableADAL=0), then \
             restart Outlook.",
        ),
        ClientKind::Mac => (
            "The client never sends the empty Bearer header: Outlook 2016 for Mac has modern \
             authentication disabled (DisableModernAuth).",
            fixes(&["defaults write com.microsoft.Outlook DisableModernAuth -bool NO"]),
            "Run it from Terminal, then restart Outlook.",
        ),
        ClientKind::Unknown => (
            "The client never sends the empty Bearer header: it is not even trying Bearer \
             (Outlook 2010; Outlook 2013 without EnableADAL; registry/GPO tinkering on Outlook \
             2016; Outlook for Mac with DisableModernAuth).",
            fixes(&[
                r"reg add HKCU\SOFTWARE\Microsoft\Office\15.0\Common\Identity /v EnableADAL /t REG_DWORD /d 1 /f",
                r"reg add HKCU\SOFTWARE\Microsoft\Office\15.0\Common\Identity /v Version /t REG_DWORD /d 1 /f",
                "defaults write com.microsoft.Outlook DisableModernAuth -bool NO",
            ]),
            "The capture does not say which client it is (no User-Agent): the registry lines are \
             for Outlook 2013 on Windows, the defaults line for Outlook 2016 for Mac; Outlook \
             2010 cannot do Bearer at all.",
        ),
    };
    Some(Explanation {
        id: "client-no-bearer",
        cause: cause.into(),
        section: "Client Failure",
        evidence,
        fix,
        advice: advice.into(),
    })
}
