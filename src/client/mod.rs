//! The reference Outlook client: what Outlook (2010, 2013, 2016 for Windows, 2016 for Mac) and a
//! native OAuth-capable EAS client put on the wire when they connect to an on-premises Exchange
//! with Hybrid Modern Authentication, and what they conclude from the answers.
//!
//! It is shaped like the real thing rather than like a test helper: [`Outlook::connect`] runs
//! Autodiscover (POX), then MAPI/HTTP (or RPC/HTTP when Autodiscover offers no `mapiHttp`
//! protocol), with the empty-`Bearer` handshake when the profile has modern authentication on,
//! follows `authorization_uri` to Azure AD and signs in through the real pages ([`aad`]), redeems
//! the code, gets other resources silently with the multi-resource refresh token, retries with
//! the token, and falls back to NTLM/Basic the way Outlook does. The result is a
//! [`ConnectionStatus`] like Outlook's Connection Status dialog (server, protocol, **Authn**),
//! plus every HTTP exchange made and the tokens obtained, so scenarios can assert on any of it.
//! Profiles and client-side settings (the Office 2013 `EnableADAL`/`Version` registry values,
//! Outlook for Mac's `DisableModernAuth`) are plain data the shell can set.

pub mod aad;
pub mod adfs;
pub mod dial;
pub mod http;
mod markup;
pub mod ntlm;
mod profile;
mod session;

use std::collections::BTreeMap;
use std::sync::Arc;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use aad::{AadFailure, TokenSet};
pub use http::{HttpExchange, Transport};
pub use ntlm::NtlmClient;
pub use profile::Profile;

use aad::{authority_of, resource_of, Credentials};
use http::{challenges, Challenge, Req, Resp, Wire};

/// Client-side registry values (REG_DWORD; `None` = the value does not exist).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Registry {
    /// `HKCU\SOFTWARE\Microsoft\Office\<15.0|16.0>\Common\Identity\EnableADAL`
    #[serde(default)]
    pub enable_adal: Option<u32>,
    /// `HKCU\SOFTWARE\Microsoft\Office\<15.0|16.0>\Common\Identity\Version`
    #[serde(default)]
    pub version: Option<u32>,
}

/// What the user and the machine bring.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// The SMTP address / UPN, e.g. `GregT@contoso.com`.
    pub user: String,
    /// The password the user types (Azure AD sign-in and Basic).
    pub password: String,
    /// The Windows logon used for NTLM/Basic to Exchange, e.g. `CONTOSO\GregT`.
    pub onprem_logon: String,
    /// The on-premises password; the same as `password` when `None`.
    #[serde(default)]
    pub onprem_password: Option<String>,
    /// The code the user types on the MFA page.
    #[serde(default = "default_mfa_code")]
    pub mfa_code: String,
    /// Answer to "Stay signed in?".
    #[serde(default = "yes")]
    pub kmsi: bool,
    #[serde(default)]
    pub registry: Registry,
    /// Outlook for Mac: `defaults write com.microsoft.Outlook DisableModernAuth -bool YES`.
    #[serde(default)]
    pub mac_disable_modern_auth: bool,
    /// The user cancels the sign-in window whenever one would open (a "password prompt").
    #[serde(default)]
    pub cancel_password_prompt: bool,
    /// A domain-joined Windows machine: at the company's ADFS farm the browser signs in with the
    /// Windows logon (integrated sign-in) instead of the forms page.
    #[serde(default)]
    pub domain_joined: bool,
}

fn default_mfa_code() -> String {
    "123456".into()
}
fn yes() -> bool {
    true
}

impl Settings {
    /// The lab's Contoso user with the lab password and MFA code (`CONTOSO\<alias>`).
    pub fn contoso(user: &str) -> Settings {
        let alias = user.split('@').next().unwrap_or(user);
        Settings {
            user: user.to_string(),
            password: "Contoso2017!".into(),
            onprem_logon: format!("CONTOSO\\{alias}"),
            onprem_password: None,
            mfa_code: default_mfa_code(),
            kmsi: true,
            registry: Registry::default(),
            mac_disable_modern_auth: false,
            cancel_password_prompt: false,
            domain_joined: false,
        }
    }

    fn domain(&self) -> &str {
        self.user.rsplit_once('@').map(|(_, d)| d).unwrap_or("")
    }
}

/// The Connection Status dialog, plus what the scenario engine asserts on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConnectionStatus {
    pub profile: Profile,
    pub user: String,
    /// Host of the mailbox connection (e.g. `mail.contoso.com`); empty before Autodiscover gave one.
    pub server: String,
    /// `MAPI/HTTP`, `RPC/HTTP`, `EWS` (Outlook for Mac) or `EAS`; empty when none was reached.
    pub protocol: String,
    /// `Bearer`, `NTLM`, `Negotiate`, `Basic`; `None` when not connected.
    pub authn: Option<String>,
    /// `Established` or `Disconnected`.
    pub status: String,
    /// Why, when disconnected (e.g. `need password`, an AADSTS message).
    pub detail: Option<String>,
    /// Bearer tokens Exchange refused: the `x-ms-diagnostics` values, in order.
    pub bearer_rejections: Vec<String>,
    /// Every HTTP exchange, in order.
    pub exchanges: Vec<HttpExchange>,
    /// Tokens held after the run (claims decoded; the token strings are not serialized).
    pub tokens: Vec<TokenSet>,
}

impl ConnectionStatus {
    pub fn established(&self) -> bool {
        self.status == "Established"
    }
    /// The AADSTS codes seen, in order.
    pub fn aadsts_codes(&self) -> Vec<u32> {
        self.exchanges.iter().filter_map(|e| e.aadsts).collect()
    }
}

/// Recorded in `bearer_rejections` when a token got a 401 without `x-ms-diagnostics`.
pub const NO_DIAGNOSTIC: &str = "(401 without x-ms-diagnostics)";

/// Why an authenticated request did not get through.
#[derive(Debug)]
enum Stop {
    /// Nothing left to try; the string is the status detail.
    Failed(String),
}

/// What a started Outlook keeps until it is restarted.
#[derive(Debug, Clone)]
struct Running {
    /// The mailbox request it connected with (MAPI Connect, EWS, RPC, EAS).
    mailbox: Req,
    /// What it established: server, protocol and the authentication it chose.
    server: String,
    protocol: String,
    authn: String,
}

/// One Outlook profile on one machine, with its token cache.
pub struct Outlook {
    pub profile: Profile,
    pub settings: Settings,
    wire: Wire,
    ntlm: Option<Arc<dyn NtlmClient>>,
    tokens: BTreeMap<String, TokenSet>,
    /// Latest multi-resource refresh token and the authority that issued it.
    mrrt: Option<(String, String)>,
    bearer_rejections: Vec<String>,
    /// Hosts whose kept-alive connection carries an NTLM/Negotiate logon, and its scheme.
    conn_auth: BTreeMap<String, String>,
    /// Set when Azure AD could not be reached during the current run.
    aad_unreachable: Option<String>,
    /// The mailbox request of the last start and what it established: a running Outlook keeps
    /// both until it is restarted ([`Outlook::sync`]).
    running: Option<Running>,
    /// The mailbox request of the current start, once Autodiscover gave one.
    mailbox_req: Option<Req>,
}

impl Outlook {
    pub fn new(profile: Profile, settings: Settings, transport: Transport) -> Outlook {
        Outlook {
            profile,
            settings,
            wire: Wire::new(transport),
            ntlm: ntlm::default_client(),
            tokens: BTreeMap::new(),
            mrrt: None,
            bearer_rejections: Vec::new(),
            conn_auth: BTreeMap::new(),
            aad_unreachable: None,
            running: None,
            mailbox_req: None,
        }
    }

    /// Replaces the NTLM implementation (or removes it: the client then falls back to Basic).
    pub fn with_ntlm(mut self, ntlm: Option<Arc<dyn NtlmClient>>) -> Outlook {
        self.ntlm = ntlm;
        self
    }

    /// The tokens in the cache, by resource.
    pub fn cached_tokens(&self) -> Vec<TokenSet> {
        self.tokens.values().cloned().collect()
    }

    /// Whether this profile with these settings sends the empty `Bearer` (modern auth on).
    pub fn modern_auth(&self) -> bool {
        let reg = &self.settings.registry;
        match self.profile {
            Profile::Outlook2010 => false,
            Profile::Outlook2013 => reg.enable_adal == Some(1) && reg.version == Some(1),
            Profile::Outlook2016 => reg.enable_adal != Some(0),
            Profile::Outlook2016Mac => !self.settings.mac_disable_modern_auth,
            Profile::NativeEas => true,
        }
    }

    /// The Office version whose registry keys this profile reads (`15.0`, `16.0`).
    fn office_version(&self) -> Option<&'static str> {
        match self.profile {
            Profile::Outlook2013 => Some("15.0"),
            Profile::Outlook2016 => Some("16.0"),
            _ => None,
        }
    }

    /// Sets (`Some`) or deletes (`None`) a REG_DWORD the way `reg add`/`Set-ItemProperty` would:
    /// `HKCU\SOFTWARE\Microsoft\Office\<15.0|16.0>\Common\Identity` values `EnableADAL` and
    /// `Version` (`HKEY_CURRENT_USER\…`, `HKCU:\…` and `Registry::…` spellings accepted).
    /// Returns whether the value affects this profile: the key of another Office version is
    /// accepted and ignored, as on a real machine.
    pub fn set_registry_dword(
        &mut self,
        key: &str,
        name: &str,
        value: Option<u32>,
    ) -> Result<bool, String> {
        let mut k = key.trim().replace('/', "\\").to_ascii_lowercase();
        for prefix in ["registry::", "microsoft.powershell.core\\registry::"] {
            if let Some(rest) = k.strip_prefix(prefix) {
                k = rest.to_string();
            }
        }
        let rest = ["hkey_current_user\\", "hkcu:\\", "hkcu\\"]
            .iter()
            .find_map(|p| k.strip_prefix(p))
            .ok_or_else(|| format!("not an HKCU key: {key}"))?;
        let version = rest
            .strip_prefix("software\\microsoft\\office\\")
            .and_then(|r| r.strip_suffix("\\common\\identity"))
            .ok_or_else(|| {
                format!("unsupported key {key} (only Office\\<version>\\Common\\Identity)")
            })?;
        let slot = match name.to_ascii_lowercase().as_str() {
            "enableadal" => 0,
            "version" => 1,
            _ => return Err(format!("unsupported value {name} (EnableADAL, Version)")),
        };
        if self.office_version() != Some(version) {
            return Ok(false);
        }
        let reg = &mut self.settings.registry;
        if slot == 0 {
            reg.enable_adal = value;
        } else {
            reg.version = value;
        }
        Ok(true)
    }

    /// `defaults write com.microsoft.Outlook DisableModernAuth -bool YES|NO` (Outlook for Mac).
    pub fn defaults_write(&mut self, domain: &str, key: &str, value: bool) -> Result<(), String> {
        if domain != "com.microsoft.Outlook" || !key.eq_ignore_ascii_case("DisableModernAuth") {
            return Err(format!(
                "unsupported default {domain} {key} (com.microsoft.Outlook DisableModernAuth)"
            ));
        }
        self.settings.mac_disable_modern_auth = value;
        Ok(())
    }

    /// A first start on a fresh machine: the token cache and the Azure AD session cookies are
    /// dropped, then Autodiscover and the mailbox connection.
    pub async fn connect(&mut self) -> ConnectionStatus {
        self.tokens.clear();
        self.mrrt = None;
        self.wire.clear_cookies();
        self.run().await
    }

    /// Outlook for `user` with the lab's Contoso settings, on `lab`'s client segment.
    pub fn for_lab(lab: &crate::lab::Lab, profile: Profile, user: &str) -> Outlook {
        Outlook::new(profile, Settings::contoso(user), Transport::for_lab(lab))
    }

    /// Connects again with the cached tokens (expired ones are refreshed silently first).
    pub async fn reconnect(&mut self) -> ConnectionStatus {
        self.run().await
    }

    /// Signs in at an ADFS farm's passive endpoint (`https://adfs.contoso.com/adfs/ls/?wa=
    /// wsignin1.0&wtrealm=urn:federation:MicrosoftOnline…`, where Azure AD sends a federated
    /// user) as the sign-in window would: Windows integrated on a domain-joined machine
    /// ([`Settings::domain_joined`]), else the forms page. Ends on the form that posts `wresult`
    /// to Azure AD; the exchanges made are the second value.
    pub async fn adfs_sign_in(
        &mut self,
        start: &str,
    ) -> (
        Result<adfs::WsFedPost, adfs::AdfsFailure>,
        Vec<HttpExchange>,
    ) {
        self.wire.journal.clear();
        let s = &self.settings;
        let who = adfs::FederatedUser {
            upn: &s.user,
            password: s.onprem_password.as_deref().unwrap_or(&s.password),
            windows_logon: &s.onprem_logon,
            mfa_code: &s.mfa_code,
            domain_joined: s.domain_joined,
        };
        let r = adfs::passive_sign_in(&mut self.wire, self.ntlm.as_deref(), start, &who).await;
        (r, self.wire.journal.clone())
    }

    /// Closes the client's open connections, and with them the NTLM logons they carry, as a
    /// fresh machine would have none (tokens and cookies are [`Outlook::connect`]'s to drop).
    pub fn close_connections(&mut self) {
        self.wire.close_connections();
    }

    /// The status of a client that has not connected (yet): `Disconnected`, nothing seen.
    fn disconnected(&self) -> ConnectionStatus {
        ConnectionStatus {
            profile: self.profile,
            user: self.settings.user.clone(),
            server: String::new(),
            protocol: String::new(),
            authn: None,
            status: "Disconnected".into(),
            detail: None,
            bearer_rejections: Vec::new(),
            exchanges: Vec::new(),
            tokens: Vec::new(),
        }
    }

    async fn run(&mut self) -> ConnectionStatus {
        self.wire.journal.clear();
        self.bearer_rejections.clear();
        self.aad_unreachable = None;
        let mut status = self.disconnected();
        self.running = None;
        let outcome = match self.profile {
            Profile::NativeEas => self.run_eas(&mut status).await,
            _ => self.run_outlook(&mut status).await,
        };
        match outcome {
            Ok(authn) => {
                status.status = "Established".into();
                status.authn = Some(authn);
                self.remember_start(&status);
            }
            Err(Stop::Failed(why)) => {
                status.detail = Some(why);
                self.mailbox_req = None;
            }
        }
        status.bearer_rejections = self.bearer_rejections.clone();
        status.exchanges = self.wire.journal.clone();
        status.tokens = self.cached_tokens();
        status
    }

    async fn run_outlook(&mut self, status: &mut ConnectionStatus) -> Result<String, Stop> {
        let domain = self.settings.domain().to_string();
        let ad_url = format!("https://autodiscover.{domain}/autodiscover/autodiscover.xml");
        let body = format!(
            concat!(
                "<?xml version=\"1.0\" encoding=\"utf-8\"?>\r\n",
                "<Autodiscover xmlns=\"http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006\">",
                "<Request><EMailAddress>{}</EMailAddress>",
                "<AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema>",
                "</Request></Autodiscover>"
            ),
            xml_escape(&self.settings.user)
        );
        let mut req = Req::new("autodiscover", "POST", &ad_url)
            .header("user-agent", self.profile.user_agent())
            .header("content-type", "text/xml")
            .header("x-anchormailbox", self.settings.user.clone())
            .body(body.into_bytes());
        if self.profile.is_windows_outlook() {
            req = req.header("x-clientcanhandle", "Negotiate,ExHttpInfo");
        }
        if self.profile.speaks_mapi_http() {
            req = req.header("x-mapihttpcapability", "1");
        }
        let (resp, _) = self.authenticated(req, true).await?;
        let pox = resp.text();
        if let Some(code) = tag_text(&pox, "ErrorCode") {
            return Err(Stop::Failed(format!(
                "Autodiscover error {code}: {}",
                tag_text(&pox, "Message").unwrap_or_default()
            )));
        }

        if self.profile == Profile::Outlook2016Mac {
            let ews = protocol_block(&pox, "EXPR")
                .or_else(|| protocol_block(&pox, "EXCH"))
                .and_then(|b| tag_text(&b, "EwsUrl"))
                .ok_or_else(|| Stop::Failed("Autodiscover gave no EwsUrl".into()))?;
            status.server = host_of(&ews);
            status.protocol = "EWS".into();
            let req = Req::new("ews", "POST", &ews)
                .header("user-agent", self.profile.user_agent())
                .header("content-type", "text/xml; charset=utf-8")
                .header("x-anchormailbox", self.settings.user.clone())
                .body(ews_get_inbox().into_bytes());
            self.mailbox_req = Some(req.clone());
            let (_, authn) = self.authenticated(req, true).await?;
            return Ok(authn);
        }

        if let Some(mapi) = mapi_mailstore(&pox) {
            status.server = host_of(&mapi);
            status.protocol = "MAPI/HTTP".into();
            let legacy_dn = tag_text(&pox, "LegacyDN").unwrap_or_default();
            let client_info = format!("{{{}}}", Uuid::new_v4().to_string().to_uppercase());
            let mut req = Req::new("mapi", "POST", &mapi)
                .header("user-agent", self.profile.mapi_user_agent())
                .header("content-type", "application/mapi-http")
                .header("x-requesttype", "Connect")
                .header("x-requestid", format!("{client_info}:1"))
                .header("x-clientinfo", format!("{client_info}:1"))
                .header("x-anchormailbox", self.settings.user.clone())
                .body(connect_body(&legacy_dn));
            if let Some(app) = self.profile.client_application() {
                req = req.header("x-clientapplication", app);
            }
            self.mailbox_req = Some(req.clone());
            let (resp, authn) = self.authenticated(req, true).await?;
            return match resp.header("x-responsecode") {
                Some("0") => {
                    // Cached mode: the offline address book follows the mailbox connection.
                    self.download_oab(&pox).await;
                    Ok(authn)
                }
                other => Err(Stop::Failed(format!(
                    "MAPI Connect answered X-ResponseCode {}",
                    other.unwrap_or("(none)")
                ))),
            };
        }

        // Outlook Anywhere: the EXPR server, never Bearer.
        let expr = protocol_block(&pox, "EXPR")
            .ok_or_else(|| Stop::Failed("Autodiscover gave neither mapiHttp nor EXPR".into()))?;
        let proxy = tag_text(&expr, "Server").unwrap_or_default();
        let exch = protocol_block(&pox, "EXCH")
            .and_then(|b| tag_text(&b, "Server"))
            .unwrap_or_default();
        let ssl = tag_text(&expr, "SSL").is_none_or(|s| s.eq_ignore_ascii_case("on"));
        let scheme = if ssl { "https" } else { "http" };
        let url = format!("{scheme}://{proxy}/rpc/rpcproxy.dll?{exch}:6001");
        status.server = proxy;
        status.protocol = "RPC/HTTP".into();
        let req = Req::new("rpc", "RPC_IN_DATA", &url)
            .header("user-agent", "MSRPC")
            .body(Vec::new());
        self.mailbox_req = Some(req.clone());
        let (_, authn) = self.authenticated(req, false).await?;
        Ok(authn)
    }

    async fn run_eas(&mut self, status: &mut ConnectionStatus) -> Result<String, Stop> {
        let domain = self.settings.domain().to_string();
        let url = format!(
            "https://autodiscover.{domain}/autodiscover/autodiscover.json/v1.0/{}?Protocol=ActiveSync",
            self.settings.user
        );
        let req = Req::new("eas-autodiscover", "GET", &url)
            .header("user-agent", self.profile.user_agent());
        let r = self
            .wire
            .send(req)
            .await
            .map_err(|e| Stop::Failed(format!("Autodiscover unreachable: {e}")))?;
        let json: serde_json::Value = serde_json::from_slice(&r.body).unwrap_or_default();
        let eas = json
            .get("Url")
            .and_then(|u| u.as_str())
            .ok_or_else(|| Stop::Failed("Autodiscover v2 gave no ActiveSync URL".into()))?
            .to_string();
        status.server = host_of(&eas);
        status.protocol = "EAS".into();
        let req = Req::new("eas", "OPTIONS", &eas)
            .header("user-agent", self.profile.user_agent())
            .header("ms-asprotocolversion", "14.1");
        self.mailbox_req = Some(req.clone());
        let (_, authn) = self.authenticated(req, true).await?;
        Ok(authn)
    }

    /// Sends `req` authenticated as this client would: cached token / empty Bearer first when
    /// modern auth is on and `bearer_ok`, then Azure AD, then NTLM/Basic.
    async fn authenticated(&mut self, req: Req, bearer_ok: bool) -> Result<(Resp, String), Stop> {
        let modern = bearer_ok && self.modern_auth();
        let resource = resource_of(&req.url);
        let first_auth = if modern {
            match self.cached_token(&resource).await {
                Some(Ok(t)) => format!("Bearer {t}"),
                Some(Err(stop)) => return Err(stop),
                None => "Bearer".to_string(),
            }
        } else {
            String::new()
        };
        let r = self.send_with(&req, &first_auth).await?;
        if r.status != 401 {
            let authn = if first_auth.is_empty() {
                // No header, yet let in: an NTLM logon persisting on the kept-alive connection
                // (IIS's default), as the dialog would show it.
                self.conn_auth
                    .get(&host_of(&req.url))
                    .cloned()
                    .unwrap_or_else(|| "Anonymous".into())
            } else {
                scheme_word(&first_auth).to_string()
            };
            return finish(r, &authn);
        }
        let mut last = r;
        if modern {
            let sent_token = first_auth.len() > "Bearer".len();
            let diag = last.header("x-ms-diagnostics").map(str::to_string);
            if sent_token {
                self.bearer_rejections
                    .push(diag.clone().unwrap_or_else(|| NO_DIAGNOSTIC.to_string()));
            }
            let cs = challenges(&last.header_all("www-authenticate"));
            let auth_uri = cs
                .iter()
                .find(|c| c.is("Bearer"))
                .and_then(|c| c.param("authorization_uri"))
                .map(str::to_string);
            let flighting = diag.as_deref().is_some_and(|d| d.starts_with("4000000"));
            if let (false, false, Some(uri)) = (sent_token, flighting, auth_uri) {
                match self.acquire(&authority_of(&uri), &resource).await {
                    Ok(token) => {
                        let r = self.send_with(&req, &format!("Bearer {token}")).await?;
                        if r.status != 401 {
                            return finish(r, "Bearer");
                        }
                        self.bearer_rejections.push(
                            r.header("x-ms-diagnostics")
                                .unwrap_or(NO_DIAGNOSTIC)
                                .to_string(),
                        );
                        last = r;
                    }
                    Err(AadFailure::Unreachable(_)) => {
                        // Outlook keeps working with what the server also offers.
                    }
                    Err(AadFailure::Cancelled) => return Err(Stop::Failed("need password".into())),
                    Err(e) => return Err(Stop::Failed(e.summary())),
                }
            }
        }
        self.legacy(&req, &last).await
    }

    /// NTLM (Negotiate carrying NTLMSSP when only Negotiate is offered), else Basic.
    async fn legacy(&mut self, req: &Req, challenge: &Resp) -> Result<(Resp, String), Stop> {
        let cs = challenges(&challenge.header_all("www-authenticate"));
        let has = |s: &str| cs.iter().any(|c: &Challenge| c.is(s));
        let password = self
            .settings
            .onprem_password
            .clone()
            .unwrap_or_else(|| self.settings.password.clone());
        let ntlm_scheme = if has("NTLM") {
            Some("NTLM")
        } else if has("Negotiate") {
            Some("Negotiate")
        } else {
            None
        };
        if let (Some(scheme), Some(ntlm), true) = (
            ntlm_scheme,
            self.ntlm.clone(),
            self.profile != Profile::NativeEas,
        ) {
            let (domain, user) = split_logon(&self.settings.onprem_logon);
            let t1 = STANDARD.encode(ntlm.negotiate());
            let r = self.send_with(req, &format!("{scheme} {t1}")).await?;
            if r.status != 401 {
                return finish(r, scheme);
            }
            let t2 = challenges(&r.header_all("www-authenticate"))
                .into_iter()
                .find(|c| c.is(scheme) && !c.token.is_empty())
                .and_then(|c| STANDARD.decode(c.token.as_bytes()).ok());
            if let Some(t2) = t2 {
                let t3 = ntlm
                    .authenticate(&t2, &user, &domain, &password)
                    .map_err(|e| Stop::Failed(format!("NTLM: {e}")))?;
                let r = self
                    .send_with(req, &format!("{scheme} {}", STANDARD.encode(t3)))
                    .await?;
                if r.status != 401 {
                    self.conn_auth.insert(host_of(&req.url), scheme.to_string());
                    return finish(r, scheme);
                }
                return Err(Stop::Failed(format!("{scheme} logon refused")));
            }
        }
        if has("Basic") {
            let logon = if self.profile == Profile::NativeEas {
                self.settings.user.clone()
            } else {
                self.settings.onprem_logon.clone()
            };
            let basic = STANDARD.encode(format!("{logon}:{password}"));
            let r = self.send_with(req, &format!("Basic {basic}")).await?;
            if r.status != 401 {
                return finish(r, "Basic");
            }
            return Err(Stop::Failed("Basic logon refused".into()));
        }
        Err(Stop::Failed(
            "no authentication method this client can use was offered".into(),
        ))
    }

    async fn send_with(&mut self, req: &Req, authorization: &str) -> Result<Resp, Stop> {
        let mut r = req.clone();
        if !authorization.is_empty() {
            r = r.header("authorization", authorization);
        }
        self.wire.send(r).await.map_err(|e| match e {
            // The user answers Outlook's Security Alert with No: the connection is not made.
            dial::NoResponse::Certificate(alert) => Stop::Failed(alert),
            dial::NoResponse::Network(e) => {
                Stop::Failed(format!("{} unreachable: {e}", host_of(&req.url)))
            }
        })
    }

    /// A cached access token for `resource`: valid → it; expired → refreshed silently (or an
    /// interactive sign-in when the refresh is refused). `None` when nothing is cached.
    async fn cached_token(&mut self, resource: &str) -> Option<Result<String, Stop>> {
        let cached = self.tokens.get(resource)?.clone();
        let now = self.wire.transport.clock.unix();
        // ADAL renews five minutes before expiry.
        if cached.expires_on - 300 > now {
            return Some(Ok(cached.access_token));
        }
        match self.acquire(&cached.authority, resource).await {
            Ok(t) => Some(Ok(t)),
            // Azure AD cannot be reached: carry on as without a token (legacy auth follows).
            Err(AadFailure::Unreachable(_)) => None,
            Err(AadFailure::Cancelled) => Some(Err(Stop::Failed("need password".into()))),
            Err(e) => Some(Err(Stop::Failed(e.summary()))),
        }
    }

    /// A token for `resource`: cache, then the MRRT, then an interactive sign-in.
    async fn acquire(&mut self, authority: &str, resource: &str) -> Result<String, AadFailure> {
        if let Some(e) = &self.aad_unreachable {
            // Already failed to reach Azure AD in this run: not tried again.
            return Err(AadFailure::Unreachable(e.clone()));
        }
        let r = self.acquire_from_aad(authority, resource).await;
        if let Err(AadFailure::Unreachable(e)) = &r {
            self.aad_unreachable = Some(e.clone());
        }
        r
    }

    async fn acquire_from_aad(
        &mut self,
        authority: &str,
        resource: &str,
    ) -> Result<String, AadFailure> {
        let now = self.wire.transport.clock.unix();
        if let Some(t) = self.tokens.get(resource) {
            if t.expires_on - 300 > now {
                return Ok(t.access_token.clone());
            }
        }
        if let Some((rt_authority, rt)) = self.mrrt.clone() {
            match aad::refresh(&mut self.wire, &rt_authority, resource, &rt).await {
                Ok(t) => return Ok(self.keep(t)),
                Err(AadFailure::Unreachable(e)) => return Err(AadFailure::Unreachable(e)),
                Err(AadFailure::Error { error, .. }) => {
                    // A refusal about this resource (unknown resource, MFA or consent now due)
                    // leaves the refresh token usable for others; anything else (invalid_grant:
                    // AADSTS50173, 700082, …; the tenant-wide revocation's `unicorn_rampage`)
                    // means it is dead. Either way ADAL goes interactive.
                    if !matches!(
                        error.as_str(),
                        "invalid_resource" | "interaction_required" | "consent_required"
                    ) {
                        self.mrrt = None;
                    }
                }
                Err(AadFailure::Cancelled) => return Err(AadFailure::Cancelled),
            }
        }
        if self.settings.cancel_password_prompt {
            return Err(AadFailure::Cancelled);
        }
        let s = &self.settings;
        let who = Credentials {
            user: &s.user,
            password: &s.password,
            mfa_code: &s.mfa_code,
            kmsi: s.kmsi,
            idp: Some(aad::Idp {
                user: adfs::FederatedUser {
                    upn: &s.user,
                    password: s.onprem_password.as_deref().unwrap_or(&s.password),
                    windows_logon: &s.onprem_logon,
                    mfa_code: &s.mfa_code,
                    domain_joined: s.domain_joined,
                },
                ntlm: self.ntlm.as_deref(),
            }),
        };
        let t = aad::interactive(&mut self.wire, authority, resource, &who).await?;
        Ok(self.keep(t))
    }

    fn keep(&mut self, t: TokenSet) -> String {
        if let Some(rt) = &t.refresh_token {
            self.mrrt = Some((t.authority.clone(), rt.clone()));
        }
        let access = t.access_token.clone();
        self.tokens.insert(t.resource.clone(), t);
        access
    }
}

fn finish(r: Resp, authn: &str) -> Result<(Resp, String), Stop> {
    if (200..300).contains(&r.status) {
        Ok((r, authn.to_string()))
    } else {
        Err(Stop::Failed(format!("HTTP {}", r.status)))
    }
}

fn scheme_word(authorization: &str) -> &str {
    authorization.split_whitespace().next().unwrap_or("")
}

/// `CONTOSO\GregT` → (`CONTOSO`, `GregT`); a UPN has no domain part for NTLM.
fn split_logon(logon: &str) -> (String, String) {
    match logon.split_once('\\') {
        Some((d, u)) => (d.to_string(), u.to_string()),
        None => (String::new(), logon.to_string()),
    }
}

fn host_of(url: &str) -> String {
    url::Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_default()
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn xml_unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

/// Text of the first `<tag>…</tag>` (no attributes on the tag), unescaped.
fn tag_text(xml: &str, tag: &str) -> Option<String> {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    let at = xml.find(&open)? + open.len();
    let end = xml[at..].find(&close)? + at;
    Some(xml_unescape(xml[at..end].trim()))
}

/// The `<Protocol>` block whose `<Type>` is `kind` (EXCH, EXPR).
fn protocol_block(xml: &str, kind: &str) -> Option<String> {
    let marker = format!("<Type>{kind}</Type>");
    let at = xml.find(&marker)?;
    let start = xml[..at].rfind("<Protocol>")?;
    let end = xml[at..].find("</Protocol>")? + at;
    Some(xml[start..end].to_string())
}

/// `mapiHttp` MailStore ExternalUrl (InternalUrl when there is no external one).
fn mapi_mailstore(xml: &str) -> Option<String> {
    let at = xml.find("<Protocol Type=\"mapiHttp\"")?;
    let block = &xml[at..];
    let end = block.find("</Protocol>").unwrap_or(block.len());
    let store = &block[..end];
    let ms_at = store.find("<MailStore>")?;
    let ms = &store[ms_at..];
    tag_text(ms, "ExternalUrl").or_else(|| tag_text(ms, "InternalUrl"))
}

/// The MAPI/HTTP Connect request body: UserDn, Flags, DefaultCodePage, LcidSort, LcidString,
/// AuxiliaryBufferSize 0.
fn connect_body(user_dn: &str) -> Vec<u8> {
    let mut b = user_dn.as_bytes().to_vec();
    b.push(0);
    for v in [0u32, 1252, 1033, 1033, 0] {
        b.extend_from_slice(&v.to_le_bytes());
    }
    b
}

/// What Outlook for Mac asks EWS first: the inbox.
fn ews_get_inbox() -> String {
    concat!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>",
        "<soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\" ",
        "xmlns:t=\"http://schemas.microsoft.com/exchange/services/2006/types\" ",
        "xmlns:m=\"http://schemas.microsoft.com/exchange/services/2006/messages\">",
        "<soap:Header><t:RequestServerVersion Version=\"Exchange2013_SP1\"/></soap:Header>",
        "<soap:Body><m:GetFolder><m:FolderShape><t:BaseShape>Default</t:BaseShape></m:FolderShape>",
        "<m:FolderIds><t:DistinguishedFolderId Id=\"inbox\"/></m:FolderIds></m:GetFolder></soap:Body>",
        "</soap:Envelope>"
    )
    .to_string()
}

#[cfg(test)]
mod tests;
