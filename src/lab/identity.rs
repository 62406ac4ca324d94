//! The lab backend's hybrid-identity service: MSOnline's domain cmdlets over mock-aad's admin API
//! (`…/msol-domains`, `…/domains/{d}/authentication`, `…/domains/{d}/federation-settings`,
//! `…/users?domain=`, `…/pta-agent`), and the on-premises directory and Azure AD Connect, which
//! are the lab's own behaviour ([`super::sync::DirSync`]). Kept apart from `backend.rs` so each
//! stays one screenful per service.

use mock_aad::model::AgentState;
use mock_exchange::model::Mailbox;
use serde_json::{json, Value as Json};

use super::admin::{enc, Service};
use super::backend::{typed, LabBackend};
use crate::shell::backend::{
    AdUser, BResult, FederationSettings, HybridIdentity, MsolDomain, NewAdUser, SyncPolicy,
    SyncRun, SyncScheduler,
};

impl LabBackend {
    fn aad_call(&mut self, method: &str, path: &str, body: Option<Json>) -> BResult<Json> {
        let t = self.tenant()?;
        self.call_to(
            Service::Aad,
            method,
            &format!("/tenants/{}{path}", enc(&t)),
            body,
        )
    }
}

impl LabBackend {
    /// `Enable-Mailbox` (the `ExchangeAdmin` method): mock-exchange's `POST /mailboxes`, with a
    /// GUID derived from the owner's SID so runs repeat.
    pub(super) fn post_mailbox(
        &mut self,
        owner_sid: &str,
        smtp: &str,
        display_name: &str,
        server: Option<&str>,
    ) -> BResult<Mailbox> {
        let server = match server {
            Some(s) => s.to_string(),
            None => {
                let org: mock_exchange::model::Organization = self.get(false, "/organization")?;
                org.servers
                    .first()
                    .map(|s| s.name.clone())
                    .unwrap_or_default()
            }
        };
        let m = Mailbox {
            primary_smtp_address: smtp.to_string(),
            owner_sid: owner_sid.to_string(),
            server,
            guid: super::sync::derived_guid(&format!("mailbox:{owner_sid}")),
            display_name: display_name.to_string(),
            items: Default::default(),
        };
        let body = serde_json::to_value(&m).unwrap_or(Json::Null);
        typed(
            self.call_to(Service::Exchange, "POST", "/mailboxes", Some(body))?,
            "/mailboxes",
        )
    }
}

impl HybridIdentity for LabBackend {
    fn msol_domains(&mut self) -> BResult<Vec<MsolDomain>> {
        typed(
            self.aad_call("GET", "/msol-domains", None)?,
            "/msol-domains",
        )
    }

    fn set_domain_authentication(
        &mut self,
        domain: &str,
        federated: bool,
        pass_through: bool,
        settings: &FederationSettings,
    ) -> BResult<MsolDomain> {
        let mut body = serde_json::to_value(settings).unwrap_or(json!({}));
        body["Authentication"] = json!(if federated { "Federated" } else { "Managed" });
        body["PassThrough"] = json!(pass_through);
        let path = format!("/domains/{}/authentication", enc(domain));
        let d: MsolDomain = typed(self.aad_call("PUT", &path, Some(body))?, &path)?;
        if pass_through {
            // The agent reads Active Directory from now on: it sees every synced account.
            let sync = self.sync.clone();
            self.block(sync.publish_on_premises())?;
        }
        Ok(d)
    }

    fn federation_settings(&mut self, domain: &str) -> BResult<FederationSettings> {
        let path = format!("/domains/{}/federation-settings", enc(domain));
        typed(self.aad_call("GET", &path, None)?, &path)
    }

    fn set_federation_settings(
        &mut self,
        domain: &str,
        change: &FederationSettings,
    ) -> BResult<FederationSettings> {
        let path = format!("/domains/{}/federation-settings", enc(domain));
        let body = serde_json::to_value(change).unwrap_or(json!({}));
        typed(self.aad_call("PATCH", &path, Some(body))?, &path)
    }

    fn msol_users(&mut self, domain: Option<&str>) -> BResult<Vec<mock_aad::model::User>> {
        let path = match domain {
            Some(d) => format!("/users?domain={}", enc(d)),
            None => "/users".to_string(),
        };
        typed(self.aad_call("GET", &path, None)?, &path)
    }

    fn set_pta_agent(&mut self, state: AgentState) -> BResult<()> {
        self.aad_call("PUT", "/pta-agent", Some(json!({ "state": state })))
            .map(drop)
    }

    fn ad_users(&mut self) -> BResult<Vec<AdUser>> {
        let sync = self.sync.clone();
        self.block(sync.ad_users())
    }

    fn new_ad_user(&mut self, new: &NewAdUser) -> BResult<AdUser> {
        let sync = self.sync.clone();
        self.block(sync.new_ad_user(new))
    }

    fn set_ad_password(&mut self, identity: &str, password: &str) -> BResult<()> {
        let sync = self.sync.clone();
        self.block(sync.set_account(identity, Some(password), None))
    }

    fn set_ad_enabled(&mut self, identity: &str, enabled: bool) -> BResult<()> {
        let sync = self.sync.clone();
        self.block(sync.set_account(identity, None, Some(enabled)))
    }

    fn start_sync_cycle(&mut self, policy: SyncPolicy) -> BResult<SyncRun> {
        let sync = self.sync.clone();
        self.block(sync.start_cycle(policy))
    }

    fn sync_scheduler(&mut self) -> BResult<SyncScheduler> {
        let sync = self.sync.clone();
        Ok(self.block(sync.scheduler()))
    }
}
