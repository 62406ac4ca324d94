//! The shell's [`Backend`] for a running lab: every cmdlet operation is a call to mock Azure
//! AD's, mock Exchange's or (when the lab has a farm) mock-adfs's admin API over HTTP, as an administrator's change reaches the real
//! services from outside. It lives with the lab because it is the lab's admin surface for the
//! shell: the scenario runner, `hma-lab shell` and the front door's `POST /cmdlet` all use it.
//! It offers every service of the shell's backend traits, one `impl` each.
//!
//! The shell is synchronous (one PowerShell line is one short exchange) while the lab runs on
//! tokio, so the backend holds a runtime [`Handle`] and blocks on each async request; the runner
//! calls the shell only from `spawn_blocking` threads, where blocking on the runtime is allowed.
//! Client-machine settings (`reg add … EnableADAL`, `defaults write … DisableModernAuth`,
//! `Install-LabOutlook`) have no service behind them: they land in [`Machine`], which the runner
//! reads when it starts a client.

use std::sync::{Arc, Mutex};

use mock_aad::model::{CaRule, MfaState};
use mock_exchange::model::{AuthServer, EdgeServer, Mailbox, Organization, Server, VdirKind};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value as Json};
use tokio::runtime::Handle;
use uuid::Uuid;

use super::admin::enc;
use super::admin::{Admin, Service};
use crate::shell::backend::{
    AadFaultInfo, AdDomainName, AdfsAdmin, AdfsCertificate, AdfsProperties, AdfsPropertiesChange,
    AuthServerChange, BResult, Backend, BackendError, ClientSetting, DirectoryAdmin, ExchangeAdmin,
    FaultRules, ForgeTokenRequest, ForgedToken, HybridIdentity, Machines, Membership, NewAadFault,
    NewAuthServer, OrgConfigChange, OrgSummary, OutlookVersion, ServicePrincipal,
    ServicePrincipalChange, SigningKeyInfo, SigningKeys, VdirChange,
};

/// Client-machine settings written by cmdlets (registry, macOS defaults), the Outlook installed
/// on the user's Windows machine (`Install-LabOutlook`; `None`: the lab's default,
/// [`OutlookVersion::DEFAULT`]), which a scenario's `client: outlook` runs, and the machine's
/// domain membership.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Machine {
    /// `HKCU\SOFTWARE\Microsoft\Office\<version>\Common\Identity` values by Office version
    /// folder (`15.0`: Office 2013, `16.0`: Office 2016 and later): each Outlook reads its own.
    pub identity: std::collections::BTreeMap<String, IdentityKeys>,
    pub mac_disable_modern_auth: Option<bool>,
    pub outlook: Option<OutlookVersion>,
    /// The Windows machine's domain membership (`Add-Computer`, `Remove-Computer`,
    /// `Restart-Computer`): a `client` action runs on a domain-joined machine when its logon is
    /// on the domain, unless the action's `settings.domain_joined` says otherwise.
    pub membership: Membership,
}

/// `EnableADAL` and `Version` under one Office version's `Common\Identity` key.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IdentityKeys {
    pub enable_adal: Option<u32>,
    pub version: Option<u32>,
}

impl Machine {
    /// The `Common\Identity` values the Outlook of `profile` reads: Outlook 2013 the `15.0` key,
    /// Outlook 2016 the `16.0` key; other clients none.
    pub fn identity_for(&self, profile: crate::client::Profile) -> IdentityKeys {
        let folder = match profile {
            crate::client::Profile::Outlook2013 => "15.0",
            crate::client::Profile::Outlook2016 => "16.0",
            _ => return IdentityKeys::default(),
        };
        self.identity.get(folder).copied().unwrap_or_default()
    }
}

/// The Office version folder of a registry key under `…\Microsoft\Office\<n.0>\Common\Identity`.
fn office_identity_folder(key: &str) -> Option<String> {
    let k = key.to_ascii_lowercase();
    let rest = k.split("\\microsoft\\office\\").nth(1)?;
    let (folder, tail) = rest.split_once('\\')?;
    let tail = tail.trim_end_matches('\\');
    (tail == "common\\identity" && folder.ends_with(".0") && folder.len() <= 5)
        .then(|| folder.to_string())
}

/// Admin API endpoints and credentials of one lab.
#[derive(Clone)]
pub struct LabBackend {
    rt: Handle,
    pub(super) admin: Admin,
    tenant: Option<String>,
    pub machine: Arc<Mutex<Machine>>,
    /// Azure AD Connect and the on-premises directory's extra attributes.
    pub(super) sync: super::sync::DirSync,
    /// The on-premises domain the client machine can join: the farm's, else `contoso.com`.
    ad_domain: AdDomainName,
}

impl LabBackend {
    pub fn new(lab: &crate::lab::Lab, rt: Handle, machine: Arc<Mutex<Machine>>) -> LabBackend {
        LabBackend {
            rt,
            admin: lab.admin().clone(),
            tenant: None,
            machine,
            sync: lab.sync().clone(),
            ad_domain: lab
                .file()
                .adfs
                .as_ref()
                .map_or_else(AdDomainName::contoso, |f| AdDomainName {
                    netbios: f.domain.netbios.clone(),
                    dns: f.domain.dns.clone(),
                }),
        }
    }

    /// Runs one of the lab's async operations from the shell's thread.
    pub(super) fn block<T>(&self, f: impl std::future::Future<Output = T>) -> T {
        self.rt.block_on(f)
    }

    fn call(&self, aad: bool, method: &str, path: &str, body: Option<Json>) -> BResult<Json> {
        let service = if aad { Service::Aad } else { Service::Exchange };
        self.call_to(service, method, path, body)
    }

    pub(super) fn call_to(
        &self,
        service: Service,
        method: &str,
        path: &str,
        body: Option<Json>,
    ) -> BResult<Json> {
        self.rt
            .block_on(self.admin.call(service, method, path, body))
    }

    pub(super) fn get<T: DeserializeOwned>(&self, aad: bool, path: &str) -> BResult<T> {
        let j = self.call(aad, "GET", path, None)?;
        typed(j, path)
    }
}

/// An admin answer as `T`.
pub(super) fn typed<T: DeserializeOwned>(j: Json, path: &str) -> BResult<T> {
    serde_json::from_value(j).map_err(|e| {
        BackendError::new(
            "NotSpecified",
            "LabAdminError",
            format!("unexpected answer from the lab's admin API ({path}): {e}"),
        )
    })
}

impl LabBackend {
    fn organization_doc(&self) -> BResult<Organization> {
        self.get(false, "/organization")
    }

    /// The tenant every Azure AD call is about: the lab's first tenant.
    pub(super) fn tenant(&mut self) -> BResult<String> {
        if let Some(t) = &self.tenant {
            return Ok(t.clone());
        }
        let list: Vec<Json> = self.get(true, "/tenants")?;
        let tid = list
            .first()
            .and_then(|t| t.get("tid"))
            .and_then(Json::as_str)
            .ok_or_else(|| {
                BackendError::new("ObjectNotFound", "NoTenant", "The lab has no tenant.")
            })?
            .to_string();
        self.tenant = Some(tid.clone());
        Ok(tid)
    }
}

fn kind_segment(kind: VdirKind) -> String {
    serde_json::to_value(kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SpJson {
    object_id: Uuid,
    app_principal_id: Uuid,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    account_enabled: bool,
    #[serde(default)]
    service_principal_names: Vec<String>,
}

impl Backend for LabBackend {
    fn exchange(&mut self) -> Option<&mut dyn ExchangeAdmin> {
        Some(self)
    }
    fn directory(&mut self) -> Option<&mut dyn DirectoryAdmin> {
        Some(self)
    }
    fn keys(&mut self) -> Option<&mut dyn SigningKeys> {
        Some(self)
    }
    fn faults(&mut self) -> Option<&mut dyn FaultRules> {
        Some(self)
    }
    fn machines(&mut self) -> Option<&mut dyn Machines> {
        Some(self)
    }
    fn adfs(&mut self) -> Option<&mut dyn AdfsAdmin> {
        Some(self)
    }
    fn identity(&mut self) -> Option<&mut dyn HybridIdentity> {
        Some(self)
    }
}

impl AdfsAdmin for LabBackend {
    fn adfs_properties(&mut self) -> BResult<AdfsProperties> {
        typed(
            self.call_to(Service::Adfs, "GET", "/properties", None)?,
            "/properties",
        )
    }

    fn set_adfs_properties(&mut self, change: &AdfsPropertiesChange) -> BResult<AdfsProperties> {
        let body = serde_json::to_value(change).unwrap_or(Json::Null);
        typed(
            self.call_to(Service::Adfs, "PATCH", "/properties", Some(body))?,
            "/properties",
        )
    }

    fn adfs_certificates(&mut self) -> BResult<Vec<AdfsCertificate>> {
        typed(
            self.call_to(Service::Adfs, "GET", "/certificates", None)?,
            "/certificates",
        )
    }

    fn update_adfs_certificate(&mut self, urgent: bool) -> BResult<Vec<AdfsCertificate>> {
        let body = json!({ "CertificateType": "Token-Signing", "Urgent": urgent });
        typed(
            self.call_to(Service::Adfs, "POST", "/certificates/update", Some(body))?,
            "/certificates/update",
        )
    }
}

impl ExchangeAdmin for LabBackend {
    fn exchange_servers(&mut self) -> BResult<Vec<Server>> {
        Ok(self.organization_doc()?.servers)
    }

    fn set_vdir(&mut self, server: &str, kind: VdirKind, change: &VdirChange) -> BResult<()> {
        let body = serde_json::to_value(change).unwrap_or(Json::Null);
        self.call(
            false,
            "PATCH",
            &format!("/servers/{}/vdirs/{}", enc(server), kind_segment(kind)),
            Some(body),
        )
        .map(drop)
    }

    fn organization(&mut self) -> BResult<OrgSummary> {
        let o = self.organization_doc()?;
        Ok(OrgSummary {
            name: o.name,
            domain: o.domain,
            config: o.org_config,
        })
    }

    fn set_org_config(&mut self, change: &OrgConfigChange) -> BResult<()> {
        let body = serde_json::to_value(change).unwrap_or(Json::Null);
        self.call(false, "PATCH", "/org-config", Some(body))
            .map(drop)
    }

    fn auth_servers(&mut self) -> BResult<Vec<AuthServer>> {
        Ok(self.organization_doc()?.auth_servers)
    }

    fn new_auth_server(&mut self, new: &NewAuthServer) -> BResult<AuthServer> {
        let body = serde_json::to_value(new).unwrap_or(Json::Null);
        self.call(false, "POST", "/auth-servers", Some(body))?;
        self.auth_servers()?
            .into_iter()
            .find(|a| a.name.eq_ignore_ascii_case(&new.name))
            .ok_or_else(|| {
                BackendError::new(
                    "ObjectNotFound",
                    "LabAdminError",
                    "the new AuthServer is missing",
                )
            })
    }

    fn set_auth_server(&mut self, name: &str, change: &AuthServerChange) -> BResult<()> {
        let body = serde_json::to_value(change).unwrap_or(Json::Null);
        self.call(
            false,
            "PATCH",
            &format!("/auth-servers/{}", enc(name)),
            Some(body),
        )
        .map(drop)
    }

    fn refresh_auth_metadata(&mut self, name: &str) -> BResult<()> {
        self.call(
            false,
            "POST",
            &format!("/auth-servers/{}/refresh-metadata", enc(name)),
            None,
        )
        .map(drop)
    }

    fn mailboxes(&mut self) -> BResult<Vec<Mailbox>> {
        Ok(self.organization_doc()?.mailboxes)
    }

    fn iisreset(&mut self, server: Option<&str>, _noforce: bool) -> BResult<()> {
        // Each server has its own settings cache: a reset reloads the one it runs on (the
        // shell's own server when no computer name is given: the organization's first).
        let server = match server {
            Some(s) => s.to_string(),
            None => self
                .organization_doc()?
                .servers
                .first()
                .map(|s| s.name.clone())
                .unwrap_or_default(),
        };
        self.call(
            false,
            "POST",
            &format!("/iisreset?server={}", enc(&server)),
            None,
        )
        .map(drop)
    }

    fn uninstall_server(&mut self, server: &str) -> BResult<()> {
        self.call(false, "DELETE", &format!("/servers/{}", enc(server)), None)
            .map(drop)
    }

    fn move_mailbox(&mut self, smtp: &str, server: &str) -> BResult<()> {
        self.call(
            false,
            "PATCH",
            &format!("/mailboxes/{}", enc(smtp)),
            Some(serde_json::json!({ "server": server })),
        )
        .map(drop)
    }

    fn applied_servers(&mut self) -> BResult<Vec<Server>> {
        let names: Vec<String> = self
            .organization_doc()?
            .servers
            .into_iter()
            .map(|s| s.name)
            .collect();
        let mut out = Vec::new();
        for n in names {
            let eff: Json = self.get(false, &format!("/effective?server={}", enc(&n)))?;
            let org: Organization = serde_json::from_value(eff["organization"].clone())
                .map_err(|e| BackendError::new("NotSpecified", "LabAdminError", e.to_string()))?;
            if let Some(s) = org.servers.into_iter().find(|s| s.name == n) {
                out.push(s);
            }
        }
        Ok(out)
    }

    fn edge_servers(&mut self) -> BResult<Vec<EdgeServer>> {
        Ok(self.organization_doc()?.edge_servers)
    }

    fn remove_edge_subscription(&mut self, name: &str) -> BResult<()> {
        self.call(
            false,
            "DELETE",
            &format!("/edge-subscriptions/{}", enc(name)),
            None,
        )
        .map(drop)
    }

    fn run_hybrid_configuration(&mut self) -> BResult<(AuthServer, bool)> {
        let r = self.call(false, "POST", "/hybrid-configuration", None)?;
        let created = r["created"].as_bool().unwrap_or(false);
        let a: AuthServer = serde_json::from_value(r["auth_server"].clone())
            .map_err(|e| BackendError::new("NotSpecified", "LabAdminError", e.to_string()))?;
        Ok((a, created))
    }

    fn enable_mailbox(
        &mut self,
        owner_sid: &str,
        smtp: &str,
        display_name: &str,
        server: Option<&str>,
    ) -> BResult<Mailbox> {
        self.post_mailbox(owner_sid, smtp, display_name, server)
    }

    fn install_cumulative_update(&mut self, server: &str, cu: u16) -> BResult<()> {
        self.call(
            false,
            "POST",
            &format!("/servers/{}/cumulative-update", enc(server)),
            Some(json!({ "cu": cu })),
        )
        .map(drop)
    }
}

impl DirectoryAdmin for LabBackend {
    fn service_principals(&mut self) -> BResult<Vec<ServicePrincipal>> {
        let t = self.tenant()?;
        let list: Vec<SpJson> =
            self.get(true, &format!("/tenants/{}/service-principals", enc(&t)))?;
        Ok(list
            .into_iter()
            .map(|s| ServicePrincipal {
                object_id: s.object_id,
                app_principal_id: s.app_principal_id,
                display_name: s.display_name,
                account_enabled: s.account_enabled,
                service_principal_names: s.service_principal_names,
            })
            .collect())
    }

    fn set_service_principal(
        &mut self,
        app_principal_id: Uuid,
        change: &ServicePrincipalChange,
    ) -> BResult<()> {
        let t = self.tenant()?;
        if let Some(names) = &change.service_principal_names {
            self.call(
                true,
                "PUT",
                &format!(
                    "/tenants/{}/service-principals/{app_principal_id}/service-principal-names",
                    enc(&t)
                ),
                Some(json!({ "ServicePrincipalNames": names })),
            )?;
        }
        if let Some(dn) = &change.display_name {
            self.call(
                true,
                "PATCH",
                &format!("/tenants/{}/applications/{app_principal_id}", enc(&t)),
                Some(json!({ "display_name": dn })),
            )?;
        }
        Ok(())
    }

    fn set_user_password(
        &mut self,
        upn: &str,
        new_password: Option<&str>,
        _force_change: bool,
    ) -> BResult<String> {
        let t = self.tenant()?;
        let body = new_password.map(|p| json!({ "password": p }));
        let r = self.call(
            true,
            "POST",
            &format!("/tenants/{}/users/{}/password", enc(&t), enc(upn)),
            body,
        )?;
        Ok(r.get("password")
            .and_then(Json::as_str)
            .or(new_password)
            .unwrap_or_default()
            .to_string())
    }

    fn revoke_user_sessions(&mut self, user: &str) -> BResult<()> {
        let t = self.tenant()?;
        // An object id is looked up to its UPN first (the admin API addresses users by UPN).
        let upn = if Uuid::parse_str(user).is_ok() {
            let users: Vec<Json> = self.get(true, &format!("/tenants/{}/users", enc(&t)))?;
            users
                .iter()
                .find(|u| u.get("oid").and_then(Json::as_str).is_some_and(|o| o.eq_ignore_ascii_case(user)))
                .and_then(|u| u.get("upn").and_then(Json::as_str))
                .map(str::to_string)
                .ok_or_else(|| BackendError::new(
                    "ObjectNotFound",
                    "Request_ResourceNotFound",
                    format!("Resource '{user}' does not exist or one of its queried reference-property objects are not present."),
                ))?
        } else {
            user.to_string()
        };
        self.call(
            true,
            "POST",
            &format!("/tenants/{}/users/{}/revoke", enc(&t), enc(&upn)),
            None,
        )
        .map(drop)
    }

    fn revoke_tenant_sessions(&mut self, unicorn: bool) -> BResult<()> {
        let t = self.tenant()?;
        let response = if unicorn { "unicorn" } else { "standard" };
        self.call(
            true,
            "POST",
            &format!("/tenants/{}/revoke", enc(&t)),
            Some(serde_json::json!({ "response": response })),
        )
        .map(drop)
    }

    fn set_user_block_credential(&mut self, upn: &str, blocked: bool) -> BResult<()> {
        let t = self.tenant()?;
        self.call(
            true,
            "PATCH",
            &format!("/tenants/{}/users/{}", enc(&t), enc(upn)),
            Some(json!({ "enabled": !blocked })),
        )
        .map(drop)
    }

    fn set_user_mfa(&mut self, upn: &str, state: MfaState) -> BResult<()> {
        let t = self.tenant()?;
        self.call(
            true,
            "PATCH",
            &format!("/tenants/{}/users/{}", enc(&t), enc(upn)),
            Some(json!({ "mfa": state })),
        )
        .map(drop)
    }

    fn set_conditional_access_enabled(&mut self, name: &str, enabled: bool) -> BResult<()> {
        let t = self.tenant()?;
        self.call(
            true,
            "PATCH",
            &format!("/tenants/{}/conditional-access/{}", enc(&t), enc(name)),
            Some(serde_json::json!({ "enabled": enabled })),
        )
        .map(drop)
    }

    fn new_conditional_access_policy(&mut self, rule: &CaRule) -> BResult<()> {
        let t = self.tenant()?;
        let body = serde_json::to_value(rule).unwrap_or(Json::Null);
        self.call(
            true,
            "POST",
            &format!("/tenants/{}/conditional-access", enc(&t)),
            Some(body),
        )
        .map(drop)
    }
}

impl Machines for LabBackend {
    fn set_client_setting(&mut self, setting: &ClientSetting) -> BResult<()> {
        let mut m = self.machine.lock().unwrap_or_else(|e| e.into_inner());
        match setting {
            ClientSetting::Registry {
                key, name, data, ..
            } => {
                if let Some(folder) = office_identity_folder(key) {
                    let v: Option<u32> = data.trim().parse().ok().or_else(|| {
                        data.trim()
                            .strip_prefix("0x")
                            .and_then(|h| u32::from_str_radix(h, 16).ok())
                    });
                    let keys = m.identity.entry(folder).or_default();
                    if name.eq_ignore_ascii_case("EnableADAL") {
                        keys.enable_adal = v;
                    } else if name.eq_ignore_ascii_case("Version") {
                        keys.version = v;
                    }
                }
            }
            ClientSetting::MacDefaults {
                domain, key, value, ..
            } => {
                if domain.eq_ignore_ascii_case("com.microsoft.Outlook")
                    && key.eq_ignore_ascii_case("DisableModernAuth")
                {
                    let v = value.to_ascii_lowercase();
                    m.mac_disable_modern_auth = Some(matches!(v.as_str(), "yes" | "true" | "1"));
                }
            }
        }
        Ok(())
    }

    fn install_outlook(&mut self, version: OutlookVersion) -> BResult<()> {
        self.machine
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .outlook = Some(version);
        Ok(())
    }

    fn installed_outlook(&mut self) -> BResult<Option<OutlookVersion>> {
        Ok(self
            .machine
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .outlook)
    }

    fn ad_domain(&mut self) -> BResult<AdDomainName> {
        Ok(self.ad_domain.clone())
    }

    fn membership(&mut self) -> BResult<Membership> {
        Ok(self
            .machine
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .membership
            .clone())
    }

    fn set_membership(&mut self, m: &Membership) -> BResult<()> {
        self.machine
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .membership = m.clone();
        Ok(())
    }
}

impl SigningKeys for LabBackend {
    fn signing_keys(&mut self) -> BResult<Vec<SigningKeyInfo>> {
        self.get(true, "/keys")
    }

    fn roll_signing_key(&mut self) -> BResult<String> {
        let r = self.call(true, "POST", "/keys/roll", None)?;
        kid_of(&r, "/keys/roll")
    }

    fn add_signing_key(&mut self) -> BResult<String> {
        let r = self.call(true, "POST", "/keys/add", None)?;
        kid_of(&r, "/keys/add")
    }

    fn forge_token(&mut self, req: &ForgeTokenRequest) -> BResult<ForgedToken> {
        let body = serde_json::to_value(req).map_err(|e| {
            BackendError::new(
                "NotSpecified",
                "LabAdminError",
                format!("forge request: {e}"),
            )
        })?;
        let r = self.call(true, "POST", "/forge", Some(body))?;
        serde_json::from_value(r).map_err(|e| {
            BackendError::new(
                "NotSpecified",
                "LabAdminError",
                format!("unexpected answer from the lab's admin API (/forge): {e}"),
            )
        })
    }

    fn retire_signing_key(&mut self, kid: &str) -> BResult<()> {
        self.call(true, "POST", &format!("/keys/{}/retire", enc(kid)), None)
            .map(drop)
    }
}

impl FaultRules for LabBackend {
    fn aad_faults(&mut self) -> BResult<Vec<AadFaultInfo>> {
        let list = self.call(true, "GET", "/faults", None)?;
        list.as_array()
            .map(|rules| rules.iter().map(|r| fault_of(r, "/faults")).collect())
            .unwrap_or_else(|| Err(admin_answer("/faults", "not a list")))
    }

    fn add_aad_fault(&mut self, rule: &NewAadFault) -> BResult<AadFaultInfo> {
        let r = self.call(true, "POST", "/faults", Some(fault_body(rule)))?;
        fault_of(&r, "/faults")
    }

    fn remove_aad_fault(&mut self, id: Option<u64>) -> BResult<()> {
        let path = match id {
            Some(id) => format!("/faults/{id}"),
            None => "/faults".to_string(),
        };
        self.call(true, "DELETE", &path, None).map(drop)
    }
}

/// The `kid` of a key admin answer (`{"kid":…,"keys":[…]}`).
fn kid_of(answer: &Json, path: &str) -> BResult<String> {
    answer
        .get("kid")
        .and_then(Json::as_str)
        .map(str::to_string)
        .ok_or_else(|| {
            BackendError::new(
                "NotSpecified",
                "LabAdminError",
                format!("unexpected answer from the lab's admin API ({path}): no kid"),
            )
        })
}

/// mock-aad's `POST /_admin/faults` body for a rule: `match` with the fields that are set,
/// `times` (`null`: until removed), `respond`.
fn fault_body(rule: &NewAadFault) -> Json {
    let mut m = serde_json::Map::new();
    m.insert("endpoint".into(), json!(rule.endpoint));
    for (k, v) in [
        ("user", &rule.user),
        ("client_id", &rule.client_id),
        ("resource", &rule.resource),
    ] {
        if let Some(v) = v {
            m.insert(k.into(), json!(v));
        }
    }
    let mut respond = serde_json::Map::new();
    if let Some(s) = rule.status {
        respond.insert("status".into(), json!(s));
    }
    if let Some(c) = rule.aadsts {
        respond.insert("aadsts".into(), json!(c));
    }
    if let Some(d) = rule.delay_ms {
        respond.insert("delay_ms".into(), json!(d));
    }
    json!({ "match": m, "times": rule.times, "respond": respond })
}

fn admin_answer(path: &str, what: &str) -> BackendError {
    BackendError::new(
        "NotSpecified",
        "LabAdminError",
        format!("unexpected answer from the lab's admin API ({path}): {what}"),
    )
}

/// A rule of mock-aad's fault API (`{"id","match":{…},"times","remaining","hits","respond":{…}}`).
fn fault_of(r: &Json, path: &str) -> BResult<AadFaultInfo> {
    let m = r.get("match").cloned().unwrap_or(Json::Null);
    let resp = r.get("respond").cloned().unwrap_or(Json::Null);
    let s = |v: &Json, k: &str| v.get(k).and_then(Json::as_str).map(str::to_string);
    let n = |v: &Json, k: &str| v.get(k).and_then(Json::as_u64);
    let id = n(r, "id").ok_or_else(|| admin_answer(path, "a rule without an id"))?;
    Ok(AadFaultInfo {
        id,
        rule: NewAadFault {
            endpoint: s(&m, "endpoint").unwrap_or_else(|| "any".into()),
            user: s(&m, "user"),
            client_id: s(&m, "client_id"),
            resource: s(&m, "resource"),
            times: n(r, "times"),
            status: n(&resp, "status").and_then(|x| u16::try_from(x).ok()),
            aadsts: n(&resp, "aadsts").and_then(|x| u32::try_from(x).ok()),
            delay_ms: n(&resp, "delay_ms"),
        },
        remaining: n(r, "remaining"),
        hits: n(r, "hits").unwrap_or(0),
    })
}
