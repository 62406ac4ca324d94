//! The Azure AD half of the client: what Office's ADAL does after Exchange's Bearer challenge.
//!
//! Interactive: `GET <authorization_uri>?response_type=code&client_id=<Office>&resource=…&
//! redirect_uri=urn:ietf:wg:oauth:2.0:oob&login_hint=…&haschrome=1&client-request-id=…`, then the
//! sign-in pages are driven the way a user drives them — the HTML is read for the form action and
//! the opaque `flowToken`, and the page is recognised by its real field names (`loginfmt`,
//! `passwd`, `otc`, the proof-up and consent buttons, "Stay signed in?") — until a redirect to
//! `urn:ietf:wg:oauth:2.0:oob?code=…` or `?error=…`. Silent: the multi-resource refresh token
//! (MRRT) is redeemed at the authority's v1 token endpoint for any other resource. Nothing here
//! knows mock-aad's internals; it reads only what travels on the wire.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::http::{aadsts_in, Req, Resp, Wire};
use super::markup::{attr, html_unescape, join_url};

/// Microsoft Office (the desktop apps' public client).
pub const OFFICE_CLIENT_ID: &str = "d3590ed6-52b3-4102-aeff-aad2292ab01c";
/// ADAL's out-of-band redirect URI for native clients.
pub const OOB: &str = "urn:ietf:wg:oauth:2.0:oob";
/// Redirect hops / pages followed before the sign-in is abandoned.
const MAX_HOPS: usize = 16;

/// Tokens for one resource (access token decoded for the report).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenSet {
    pub resource: String,
    /// `https://login.windows.net/common`: where the tokens came from.
    pub authority: String,
    #[serde(skip_serializing, default)]
    pub access_token: String,
    #[serde(skip_serializing, default)]
    pub refresh_token: Option<String>,
    /// Unix seconds (the v1 response's `expires_on`).
    pub expires_on: i64,
    /// The access token's claims.
    pub claims: serde_json::Value,
}

/// How a token acquisition ended, when it did not give a token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum AadFailure {
    /// No answer from Azure AD (connection refused, blocked segment).
    Unreachable(String),
    /// `error=…` on the oob redirect, on a token response, or an error page.
    Error {
        error: String,
        aadsts: Option<u32>,
        description: String,
    },
    /// The user cancelled the password prompt.
    Cancelled,
}

impl AadFailure {
    pub fn aadsts(&self) -> Option<u32> {
        match self {
            AadFailure::Error { aadsts, .. } => *aadsts,
            _ => None,
        }
    }
    pub fn summary(&self) -> String {
        match self {
            AadFailure::Unreachable(e) => format!("Azure AD unreachable: {e}"),
            AadFailure::Error {
                error, description, ..
            } => format!(
                "{error}: {}",
                description.lines().next().unwrap_or_default()
            ),
            AadFailure::Cancelled => "sign-in cancelled".into(),
        }
    }
}

/// What the user types into the sign-in pages.
#[derive(Clone)]
pub struct Credentials<'a> {
    pub user: &'a str,
    pub password: &'a str,
    pub mfa_code: &'a str,
    pub kmsi: bool,
    /// How the user signs in at a federated domain's IdP, when Azure AD sends them there.
    pub idp: Option<Idp<'a>>,
}

/// The user and machine at the company's IdP (the ADFS farm).
#[derive(Clone)]
pub struct Idp<'a> {
    pub user: super::adfs::FederatedUser<'a>,
    /// The machine's Windows logon for integrated sign-in.
    pub ntlm: Option<&'a dyn super::ntlm::NtlmClient>,
}

/// `https://login.windows.net/common/oauth2/authorize` → `https://login.windows.net/common`.
pub fn authority_of(authorization_uri: &str) -> String {
    let t = authorization_uri.trim_end_matches('/');
    t.strip_suffix("/oauth2/authorize")
        .or_else(|| t.strip_suffix("/oauth2/v2.0/authorize"))
        .unwrap_or(t)
        .to_string()
}

/// The resource Outlook asks for when calling `url`: scheme + host, trailing slash.
pub fn resource_of(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(u) => format!("{}://{}/", u.scheme(), u.host_str().unwrap_or_default()),
        Err(_) => url.to_string(),
    }
}

/// Interactive sign-in: authorize → pages → code → token.
pub async fn interactive(
    wire: &mut Wire,
    authority: &str,
    resource: &str,
    who: &Credentials<'_>,
) -> Result<TokenSet, AadFailure> {
    let correlation = Uuid::new_v4();
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("response_type", "code")
        .append_pair("client_id", OFFICE_CLIENT_ID)
        .append_pair("resource", resource)
        .append_pair("redirect_uri", OOB)
        .append_pair("login_hint", who.user)
        .append_pair("haschrome", "1")
        .append_pair("client-request-id", &correlation.to_string())
        .finish();
    let mut next = Req::new(
        "aad-authorize",
        "GET",
        &format!("{authority}/oauth2/authorize?{query}"),
    );
    let mut typed_user = false;
    let mut typed_password = false;
    let mut typed_code = false;
    for _ in 0..MAX_HOPS {
        let base = next.url.clone();
        let r = wire
            .send(next)
            .await
            .map_err(|e| AadFailure::Unreachable(e.to_string()))?;
        if (300..400).contains(&r.status) {
            let loc = r.header("location").unwrap_or_default().to_string();
            if let Some(q) = loc.strip_prefix(OOB) {
                let params = query_pairs(q.trim_start_matches(['?', '#']));
                if let Some(code) = find(&params, "code") {
                    return redeem_code(wire, authority, resource, code).await;
                }
                let description = find(&params, "error_description").unwrap_or_default();
                let aadsts = aadsts_in(description);
                wire.note_aadsts(aadsts);
                return Err(AadFailure::Error {
                    error: find(&params, "error")
                        .unwrap_or("unknown_error")
                        .to_string(),
                    aadsts,
                    description: description.to_string(),
                });
            }
            let target = join_url(&base, &loc);
            if let (Some(idp), true) = (&who.idp, is_ws_fed_hop(&target)) {
                // Azure AD sent a federated user to the IdP: sign in there, then post its
                // token back to login.srf, where the Azure AD flow continues.
                let post = super::adfs::passive_sign_in(wire, idp.ntlm, &target, &idp.user)
                    .await
                    .map_err(idp_failure)?;
                let mut fields = vec![("wa", post.wa.as_str()), ("wresult", post.wresult.as_str())];
                if let Some(c) = &post.wctx {
                    fields.push(("wctx", c.as_str()));
                }
                let body = form_urlencoded::Serializer::new(String::new())
                    .extend_pairs(fields)
                    .finish();
                next = Req::new("aad-signin", "POST", &post.action)
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(body.into_bytes());
                continue;
            }
            next = Req::new("aad-signin", "GET", &target);
            continue;
        }
        let page = r.text();
        let Some(form) = Form::read(&page) else {
            return Err(page_error(wire, &r, &page));
        };
        let action = join_url(&base, &form.action);
        let mut fields: Vec<(&str, String)> = vec![
            ("ctx", form.flow_token.clone()),
            ("flowToken", form.flow_token.clone()),
        ];
        if page.contains("name=\"loginfmt\"") {
            if typed_user || page.contains("id=\"usernameError\"") {
                // Azure AD does not know the name (AADSTS50034): typing it again will not help.
                return Err(page_error(wire, &r, &page));
            }
            typed_user = true;
            fields.push(("loginfmt", who.user.to_string()));
        } else if page.contains("name=\"passwd\"") {
            if typed_password {
                // The password page came back with an error: the user cannot get further.
                return Err(page_error(wire, &r, &page));
            }
            typed_password = true;
            fields.push(("passwd", who.password.to_string()));
        } else if page.contains("id=\"idTxtBx_SAOTCC_OTC\"") {
            if typed_code {
                return Err(page_error(wire, &r, &page));
            }
            typed_code = true;
            fields.push(("otc", who.mfa_code.to_string()));
        } else if page.contains("id=\"idSubmit_ProofUp_Redirect\"") {
            fields.push(("action", "Next".into()));
        } else if page.contains("id=\"kmsiTitle\"") {
            fields.push(("action", if who.kmsi { "Yes" } else { "No" }.into()));
        } else if page.contains("id=\"consentHeader\"") {
            fields.push(("action", "Accept".into()));
        } else {
            return Err(page_error(wire, &r, &page));
        }
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields.iter().map(|(k, v)| (*k, v.as_str())))
            .finish();
        next = Req::new("aad-signin", "POST", &action)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body.into_bytes());
    }
    Err(AadFailure::Error {
        error: "too_many_redirects".into(),
        aadsts: None,
        description: "the sign-in did not end in a redirect to the client".into(),
    })
}

/// A redirect to a WS-Federation IdP (`…/adfs/ls/?…wa=wsignin1.0…`).
fn is_ws_fed_hop(url: &str) -> bool {
    url::Url::parse(url).is_ok_and(|u| u.query_pairs().any(|(k, v)| k == "wa" && v == "wsignin1.0"))
}

/// How a sign-in that failed at the IdP shows in Outlook: the IdP's answer, no token.
fn idp_failure(f: super::adfs::AdfsFailure) -> AadFailure {
    use super::adfs::AdfsFailure as F;
    match f {
        F::Unreachable(e) => AadFailure::Unreachable(e),
        F::WindowsLogonRefused => AadFailure::Error {
            error: "idp_windows_logon_refused".into(),
            aadsts: None,
            description:
                "The IdP refused the Windows logon (401 again): the browser asks for credentials"
                    .into(),
        },
        F::FormsError(e) => AadFailure::Error {
            error: "idp_sign_in_failed".into(),
            aadsts: None,
            description: e,
        },
        F::Unexpected { status, detail } => AadFailure::Error {
            error: "idp_error".into(),
            aadsts: None,
            description: format!("the IdP answered {status} {detail}")
                .trim_end()
                .to_string(),
        },
    }
}

/// `grant_type=authorization_code` at `<authority>/oauth2/token`.
async fn redeem_code(
    wire: &mut Wire,
    authority: &str,
    resource: &str,
    code: &str,
) -> Result<TokenSet, AadFailure> {
    let form = form_urlencoded::Serializer::new(String::new())
        .append_pair("grant_type", "authorization_code")
        .append_pair("client_id", OFFICE_CLIENT_ID)
        .append_pair("code", code)
        .append_pair("redirect_uri", OOB)
        .append_pair("resource", resource)
        .finish();
    token_request(wire, authority, resource, form).await
}

/// MRRT: `grant_type=refresh_token&resource=…` at `<authority>/oauth2/token`.
pub async fn refresh(
    wire: &mut Wire,
    authority: &str,
    resource: &str,
    refresh_token: &str,
) -> Result<TokenSet, AadFailure> {
    let form = form_urlencoded::Serializer::new(String::new())
        .append_pair("grant_type", "refresh_token")
        .append_pair("client_id", OFFICE_CLIENT_ID)
        .append_pair("refresh_token", refresh_token)
        .append_pair("resource", resource)
        .finish();
    token_request(wire, authority, resource, form).await
}

async fn token_request(
    wire: &mut Wire,
    authority: &str,
    resource: &str,
    form: String,
) -> Result<TokenSet, AadFailure> {
    let req = Req::new("aad-token", "POST", &format!("{authority}/oauth2/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("client-request-id", Uuid::new_v4().to_string())
        .body(form.into_bytes());
    let r = wire
        .send(req)
        .await
        .map_err(|e| AadFailure::Unreachable(e.to_string()))?;
    let json: serde_json::Value = serde_json::from_slice(&r.body).unwrap_or_default();
    let s = |k: &str| json.get(k).and_then(|v| v.as_str()).map(str::to_string);
    if r.status != 200 {
        let description = s("error_description").unwrap_or_else(|| r.text());
        let aadsts = json
            .get("error_codes")
            .and_then(|c| c.get(0))
            .and_then(|c| c.as_u64())
            .and_then(|c| u32::try_from(c).ok())
            .or_else(|| aadsts_in(&description));
        wire.note_aadsts(aadsts);
        return Err(AadFailure::Error {
            error: s("error").unwrap_or_else(|| format!("http_{}", r.status)),
            aadsts,
            description,
        });
    }
    let Some(access_token) = s("access_token") else {
        return Err(AadFailure::Error {
            error: "invalid_response".into(),
            aadsts: None,
            description: "token response without access_token".into(),
        });
    };
    let now = wire.transport.clock.unix();
    let expires_on = s("expires_on")
        .and_then(|v| v.parse::<i64>().ok())
        .or_else(|| {
            s("expires_in")
                .and_then(|v| v.parse::<i64>().ok())
                .map(|e| now + e)
        })
        .unwrap_or(now);
    Ok(TokenSet {
        resource: s("resource").unwrap_or_else(|| resource.to_string()),
        authority: authority.to_string(),
        claims: decode_claims(&access_token),
        access_token,
        refresh_token: s("refresh_token"),
        expires_on,
    })
}

/// The payload of a JWT as JSON (`null` when it is not one).
pub fn decode_claims(jwt: &str) -> serde_json::Value {
    jwt.split('.')
        .nth(1)
        .and_then(|p| URL_SAFE_NO_PAD.decode(p.trim_end_matches('=')).ok())
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or(serde_json::Value::Null)
}

/// An HTML page with no form the user could submit: Azure AD's error page or the conditional
/// access block. Its AADSTS code goes into the journal.
fn page_error(wire: &mut Wire, r: &Resp, page: &str) -> AadFailure {
    let message = element_text(page, "id=\"errorMessage\"")
        .or_else(|| element_text(page, "id=\"passwordError\""))
        .or_else(|| element_text(page, "id=\"usernameError\""))
        .or_else(|| element_text(page, "id=\"idSpan_SAOTCC_Error_OTC\""))
        .unwrap_or_else(|| format!("HTTP {} without a sign-in form", r.status));
    let aadsts = aadsts_in(&message).or_else(|| aadsts_in(page));
    wire.note_aadsts(aadsts);
    AadFailure::Error {
        error: "signin_page_error".into(),
        aadsts,
        description: message,
    }
}

/// The sign-in form of a page: where it posts and its flow token.
struct Form {
    action: String,
    flow_token: String,
}

impl Form {
    fn read(page: &str) -> Option<Form> {
        let start = page.find("<form")?;
        let tag_end = page[start..].find('>')? + start;
        let action = attr(&page[start..tag_end], "action")?;
        let at = page.find("name=\"flowToken\"")?;
        let tag_start = page[..at].rfind('<')?;
        let tag_end = page[at..].find('>')? + at;
        let flow_token = attr(&page[tag_start..tag_end], "value")?;
        Some(Form { action, flow_token })
    }
}

/// Text content of the element whose opening tag contains `marker`.
fn element_text(page: &str, marker: &str) -> Option<String> {
    let at = page.find(marker)?;
    let open_end = page[at..].find('>')? + at + 1;
    let close = page[open_end..].find('<')? + open_end;
    let t = html_unescape(page[open_end..close].trim());
    (!t.is_empty()).then_some(t)
}

fn query_pairs(q: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(q.as_bytes()).into_owned().collect()
}

fn find<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_ws_federation_sign_in_is_the_idp_hop() {
        assert!(is_ws_fed_hop("https://adfs.contoso.com/adfs/ls/?client-request-id=1&username=a%40contoso.com&wa=wsignin1.0&wtrealm=urn%3afederation%3aMicrosoftOnline"));
        assert!(!is_ws_fed_hop(
            "https://adfs.contoso.com/adfs/ls/?wa=wsignout1.0"
        ));
        assert!(!is_ws_fed_hop(
            "https://login.microsoftonline.com/common/login"
        ));
        assert!(!is_ws_fed_hop("not a url wa=wsignin1.0"));
    }

    #[test]
    fn authority_and_resource() {
        assert_eq!(
            authority_of("https://login.windows.net/common/oauth2/authorize"),
            "https://login.windows.net/common"
        );
        assert_eq!(
            resource_of("https://mail.contoso.com/mapi/emsmdb/?MailboxId=x@contoso.com"),
            "https://mail.contoso.com/"
        );
        assert_eq!(
            resource_of("https://autodiscover.contoso.com/autodiscover/autodiscover.xml"),
            "https://autodiscover.contoso.com/"
        );
    }

    #[test]
    fn forms_are_read_and_garbage_gives_none() {
        let page = "<form name=\"f1\" id=\"i0281\" method=\"post\" action=\"http://login.windows.net/common/login\" autocomplete=\"off\">\n<input type=\"hidden\" name=\"ctx\" value=\"abc&amp;d\">\n<input type=\"hidden\" name=\"flowToken\" value=\"abc&amp;d\">";
        let f = Form::read(page).expect("form");
        assert_eq!(f.action, "http://login.windows.net/common/login");
        assert_eq!(f.flow_token, "abc&d");
        for g in [
            "",
            "<form",
            "<form action=\"x\">",
            "name=\"flowToken\"<form>",
            "<<<>>>",
        ] {
            assert!(Form::read(g).is_none(), "{g}");
        }
    }

    #[test]
    fn error_text_and_claims() {
        let page = "<span id=\"errorMessage\">AADSTS53003: Access has been blocked.</span>";
        assert_eq!(
            element_text(page, "id=\"errorMessage\"").as_deref(),
            Some("AADSTS53003: Access has been blocked.")
        );
        let jwt = format!(
            "e30.{}.sig",
            URL_SAFE_NO_PAD.encode(br#"{"amr":["pwd","mfa"]}"#)
        );
        assert_eq!(decode_claims(&jwt)["amr"][1], "mfa");
        assert_eq!(decode_claims("not a jwt"), serde_json::Value::Null);
        assert_eq!(decode_claims("a.!!!.c"), serde_json::Value::Null);
    }
}
