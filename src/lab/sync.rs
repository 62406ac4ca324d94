//! The on-premises Active Directory and Azure AD Connect, as lab behaviour.
//!
//! The directory is Exchange's accounts (sam, UPN, SID, password, enabled: mock-exchange's
//! `/_admin/accounts`) plus what Active Directory keeps beside them that Exchange does not model
//! — the objectGUID and the given name and surname — held here. With a farm, ADFS reads the same
//! accounts live, so every change is also written to the farm's users (`/_admin/farm`).
//!
//! Azure AD Connect is the [`DirSync`]: a delta cycle every 30 minutes and a password hash sync
//! pass every 2 minutes, both on the lab clock, counted from the lab's start (the lab file is the
//! state after the initial sync). Nothing runs by itself: the lab runs the cycles that came due
//! when *it* moves the clock ([`crate::lab::Lab::advance_clock`]) and when
//! `Start-ADSyncSyncCycle` asks, so a scenario is deterministic. A cycle exports each account
//! whose attributes differ from what it last exported (all of them for `Initial`) to mock-aad's
//! `PUT …/synced-users/{upn}` with the ImmutableID (sourceAnchor: base64 of the objectGUID's
//! bytes, as `[Convert]::ToBase64String($guid.ToByteArray())`), onprem_sid and names; a new
//! object carries its password hash at once. A password changed on-premises reaches Azure AD at
//! the next hash pass; until then the old one works in the cloud. What a pass-through agent
//! reads (password, enabled) is written at once for synced users, since the agent asks Active
//! Directory live. A new account's objectGUID is derived from its SID, so runs repeat exactly.

use std::collections::BTreeMap;
use std::sync::Arc;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use lab_kit::Clock;
use mock_exchange::model::Account;
use serde_json::{json, Value as Json};
use tokio::sync::Mutex;
use uuid::Uuid;

use super::admin::{enc, Admin, Service};
use crate::shell::backend::{
    AdUser, BResult, BackendError, NewAdUser, SyncPolicy, SyncRun, SyncScheduler,
};

/// Azure AD Connect's default delta cycle.
pub const CYCLE_SECS: i64 = 30 * 60;
/// Password hash synchronization's pass.
pub const PHS_SECS: i64 = 2 * 60;

/// Azure AD Connect for one lab (clones share it).
#[derive(Clone)]
pub struct DirSync {
    admin: Admin,
    clock: Clock,
    state: Arc<Mutex<State>>,
}

struct State {
    tenant: String,
    next_cycle: i64,
    next_phs: i64,
    next_policy: SyncPolicy,
    /// What Active Directory has beside Exchange's account, by SID (upper case).
    extras: BTreeMap<String, Extras>,
    /// What the last export wrote, by SID.
    exported: BTreeMap<String, Exported>,
    /// The password whose hash was last written, by SID.
    hashes: BTreeMap<String, String>,
}

#[derive(Debug, Clone)]
struct Extras {
    object_guid: Uuid,
    given_name: String,
    surname: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Exported {
    upn: String,
    display_name: String,
    given_name: String,
    surname: String,
    enabled: bool,
}

/// `[Convert]::ToBase64String($guid.ToByteArray())`.
pub fn immutable_id(guid: Uuid) -> String {
    STANDARD.encode(guid.to_bytes_le())
}

/// The objectGUID an ImmutableID was made from.
fn guid_of(immutable_id: &str) -> Option<Uuid> {
    let bytes: [u8; 16] = STANDARD.decode(immutable_id).ok()?.try_into().ok()?;
    Some(Uuid::from_bytes_le(bytes))
}

/// A stable objectGUID for an account the lab file gave none (FNV-1a of the SID, twice).
pub(super) fn derived_guid(sid: &str) -> Uuid {
    let fnv = |seed: u64| {
        sid.to_ascii_uppercase().bytes().fold(seed, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
        })
    };
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&fnv(0xcbf2_9ce4_8422_2325).to_be_bytes());
    bytes[8..].copy_from_slice(&fnv(0x8422_2325_cbf2_9ce4).to_be_bytes());
    uuid::Builder::from_random_bytes(bytes).into_uuid()
}

fn key(sid: &str) -> String {
    sid.to_ascii_uppercase()
}

/// `Greg Taylor` → (`Greg`, `Taylor`).
fn split_name(display: &str) -> (String, String) {
    match display.trim().split_once(' ') {
        Some((g, s)) => (g.to_string(), s.trim().to_string()),
        None => (display.trim().to_string(), String::new()),
    }
}

fn not_found(identity: &str) -> BackendError {
    BackendError::new(
        "ObjectNotFound",
        "ActiveDirectoryCmdlet:Microsoft.ActiveDirectory.Management.ADIdentityNotFoundException",
        format!("Cannot find an object with identity: '{identity}' under: 'DC=contoso,DC=com'."),
    )
}

impl State {
    fn extras_of(&mut self, a: &Account) -> Extras {
        self.extras
            .entry(key(&a.sid))
            .or_insert_with(|| {
                let (g, s) = split_name(&a.display_name);
                Extras {
                    object_guid: derived_guid(&a.sid),
                    given_name: g,
                    surname: s,
                }
            })
            .clone()
    }

    fn desired(&mut self, a: &Account) -> Exported {
        let x = self.extras_of(a);
        Exported {
            upn: a.upn.clone(),
            display_name: a.display_name.clone(),
            given_name: x.given_name,
            surname: x.surname,
            enabled: a.enabled,
        }
    }
}

impl DirSync {
    /// Azure AD Connect as the lab file leaves it: every account Azure AD already knows by its
    /// SID is synced (its ImmutableID kept, or the farm's objectGUID, or one derived from the
    /// SID); any other account waits for the first cycle.
    pub fn new(
        directory: &mock_aad::Directory,
        accounts: &[Account],
        farm: Option<&mock_adfs::Farm>,
        admin: Admin,
        clock: Clock,
    ) -> DirSync {
        let tenant = directory.tenants.first();
        let now = clock.unix();
        let mut st = State {
            tenant: tenant.map(|t| t.tid.to_string()).unwrap_or_default(),
            next_cycle: now.saturating_add(CYCLE_SECS),
            next_phs: now.saturating_add(PHS_SECS),
            next_policy: SyncPolicy::Delta,
            extras: BTreeMap::new(),
            exported: BTreeMap::new(),
            hashes: BTreeMap::new(),
        };
        for a in accounts {
            let cloud = tenant.and_then(|t| {
                t.users.iter().find(|u| {
                    u.onprem_sid
                        .as_deref()
                        .is_some_and(|s| s.eq_ignore_ascii_case(&a.sid))
                })
            });
            let farm_guid = farm.and_then(|f| {
                f.users
                    .iter()
                    .find(|u| u.upn.eq_ignore_ascii_case(&a.upn))
                    .map(|u| u.object_guid)
            });
            let guid = cloud
                .and_then(|u| u.immutable_id.as_deref())
                .and_then(guid_of)
                .or(farm_guid)
                .unwrap_or_else(|| derived_guid(&a.sid));
            let (g, s) = match cloud {
                Some(u) if !u.given_name.is_empty() => {
                    (u.given_name.clone(), u.family_name.clone())
                }
                _ => split_name(&a.display_name),
            };
            st.extras.insert(
                key(&a.sid),
                Extras {
                    object_guid: guid,
                    given_name: g,
                    surname: s,
                },
            );
            if cloud.is_some() {
                let d = st.desired(a);
                st.exported.insert(key(&a.sid), d);
                st.hashes.insert(key(&a.sid), a.password.clone());
            }
        }
        DirSync {
            admin,
            clock,
            state: Arc::new(Mutex::new(st)),
        }
    }

    async fn accounts(&self) -> BResult<Vec<Account>> {
        let j = self
            .admin
            .call(Service::Exchange, "GET", "/accounts", None)
            .await?;
        serde_json::from_value(j).map_err(|e| {
            BackendError::new(
                "NotSpecified",
                "LabAdminError",
                format!("unexpected answer from the lab's admin API (/accounts): {e}"),
            )
        })
    }

    async fn account(&self, identity: &str) -> BResult<Account> {
        let id = identity.rsplit('\\').next().unwrap_or(identity);
        self.accounts()
            .await?
            .into_iter()
            .find(|a| {
                a.sam.eq_ignore_ascii_case(id)
                    || a.upn.eq_ignore_ascii_case(id)
                    || a.sid.eq_ignore_ascii_case(id)
                    || a.display_name.eq_ignore_ascii_case(id)
            })
            .ok_or_else(|| not_found(identity))
    }

    /// Runs the cycles that came due on the lab clock (the delta cycle first, then the
    /// password hash pass); what they exported.
    pub async fn catch_up(&self) -> BResult<SyncRun> {
        let mut st = self.state.lock().await;
        let now = self.clock.unix();
        let mut run = SyncRun::default();
        if now >= st.next_cycle {
            let policy = st.next_policy;
            run = self.cycle(&mut st, policy).await?;
            st.next_policy = SyncPolicy::Delta;
            st.next_cycle = next_after(st.next_cycle, CYCLE_SECS, now);
        }
        if now >= st.next_phs {
            let (written, mut errors) = self.hash_pass(&mut st).await?;
            run.passwords = written;
            run.errors.append(&mut errors);
            st.next_phs = next_after(st.next_phs, PHS_SECS, now);
        }
        Ok(run)
    }

    /// `Start-ADSyncSyncCycle -PolicyType …`: one cycle now; the schedule is unchanged.
    pub async fn start_cycle(&self, policy: SyncPolicy) -> BResult<SyncRun> {
        let mut st = self.state.lock().await;
        self.cycle(&mut st, policy).await
    }

    /// `Get-ADSyncScheduler`.
    pub async fn scheduler(&self) -> SyncScheduler {
        let st = self.state.lock().await;
        SyncScheduler {
            interval_secs: CYCLE_SECS,
            next_cycle: st.next_cycle,
            next_policy: st.next_policy,
            enabled: true,
        }
    }

    async fn cycle(&self, st: &mut State, policy: SyncPolicy) -> BResult<SyncRun> {
        let accounts = self.accounts().await?;
        let mut run = SyncRun::default();
        for a in &accounts {
            let k = key(&a.sid);
            let want = st.desired(a);
            if policy == SyncPolicy::Delta && st.exported.get(&k) == Some(&want) {
                continue;
            }
            let x = st.extras_of(a);
            let mut body = json!({
                "immutable_id": immutable_id(x.object_guid),
                "onprem_sid": a.sid,
                "given_name": want.given_name,
                "family_name": want.surname,
                "display_name": want.display_name,
                "enabled": a.enabled,
                "on_premises": { "password": a.password, "enabled": a.enabled },
            });
            // A new object's hash goes with it; later changes wait for the hash pass.
            if !st.hashes.contains_key(&k) {
                body["password_hash"] = json!(a.password);
            }
            let path = format!("/tenants/{}/synced-users/{}", enc(&st.tenant), enc(&a.upn));
            if let Err(e) = self
                .admin
                .call(Service::Aad, "PUT", &path, Some(body))
                .await
            {
                run.errors.push(format!("{}: {}", a.upn, e.message));
                continue;
            }
            st.hashes
                .entry(k.clone())
                .or_insert_with(|| a.password.clone());
            st.exported.insert(k, want);
            run.exported.push(a.upn.clone());
        }
        let gone: Vec<String> = st
            .exported
            .keys()
            .filter(|k| !accounts.iter().any(|a| key(&a.sid) == **k))
            .cloned()
            .collect();
        for k in gone {
            let Some(e) = st.exported.get(&k).cloned() else {
                continue;
            };
            let path = format!("/tenants/{}/synced-users/{}", enc(&st.tenant), enc(&e.upn));
            match self.admin.call(Service::Aad, "DELETE", &path, None).await {
                Ok(_) => {
                    st.exported.remove(&k);
                    st.hashes.remove(&k);
                    run.deleted.push(e.upn);
                }
                Err(err) => run.errors.push(format!("{}: {}", e.upn, err.message)),
            }
        }
        Ok(run)
    }

    /// The passwords written, and the errors (`UPN: answer`).
    async fn hash_pass(&self, st: &mut State) -> BResult<(Vec<String>, Vec<String>)> {
        let mut done = Vec::new();
        let mut errors = Vec::new();
        for a in self.accounts().await? {
            let k = key(&a.sid);
            if !st.exported.contains_key(&k) || st.hashes.get(&k) == Some(&a.password) {
                continue;
            }
            let x = st.extras_of(&a);
            let body =
                json!({ "immutable_id": immutable_id(x.object_guid), "password_hash": a.password });
            let upn = st
                .exported
                .get(&k)
                .map(|e| e.upn.clone())
                .unwrap_or(a.upn.clone());
            let path = format!("/tenants/{}/synced-users/{}", enc(&st.tenant), enc(&upn));
            match self
                .admin
                .call(Service::Aad, "PUT", &path, Some(body))
                .await
            {
                Ok(_) => {
                    st.hashes.insert(k, a.password.clone());
                    done.push(upn);
                }
                Err(e) => errors.push(format!("{upn}: {}", e.message)),
            }
        }
        Ok((done, errors))
    }

    // ------------------------------------------------------------- Active Directory

    fn ad_user(st: &mut State, a: &Account) -> AdUser {
        let x = st.extras_of(a);
        AdUser {
            sam: a.sam.clone(),
            upn: a.upn.clone(),
            sid: a.sid.clone(),
            object_guid: x.object_guid,
            given_name: x.given_name,
            surname: x.surname,
            display_name: a.display_name.clone(),
            enabled: a.enabled,
        }
    }

    /// `Get-ADUser`: every account.
    pub async fn ad_users(&self) -> BResult<Vec<AdUser>> {
        let accounts = self.accounts().await?;
        let mut st = self.state.lock().await;
        Ok(accounts.iter().map(|a| Self::ad_user(&mut st, a)).collect())
    }

    /// `New-ADUser`: the next RID in the domain of the existing accounts.
    pub async fn new_ad_user(&self, new: &NewAdUser) -> BResult<AdUser> {
        if new.enabled && new.password.as_deref().is_none_or(str::is_empty) {
            return Err(BackendError::new(
                "NotSpecified",
                "ActiveDirectoryServer:1325,Microsoft.ActiveDirectory.Management.Commands.NewADUser",
                "The password does not meet the length, complexity, or history requirement of the domain.",
            ));
        }
        let accounts = self.accounts().await?;
        let (prefix, rid) = accounts
            .iter()
            .filter_map(|a| {
                let (p, r) = a.sid.rsplit_once('-')?;
                Some((p.to_string(), r.parse::<u64>().ok()?))
            })
            .max_by_key(|(_, r)| *r)
            .unwrap_or_else(|| ("S-1-5-21-2366433183-230171048-1893555995".into(), 1100));
        let sid = format!("{prefix}-{}", rid.saturating_add(1));
        let account = Account {
            sam: new.sam.clone(),
            upn: new.upn.clone(),
            sid: sid.clone(),
            password: new.password.clone().unwrap_or_default(),
            display_name: new.display_name.clone(),
            enabled: new.enabled,
        };
        let body = serde_json::to_value(&account).unwrap_or(Json::Null);
        self.admin
            .call(Service::Exchange, "POST", "/accounts", Some(body))
            .await
            .map_err(|e| {
                if e.category == "InvalidOperation" {
                    BackendError::new(
                        "NotSpecified",
                        "ActiveDirectoryServer:8305,Microsoft.ActiveDirectory.Management.Commands.NewADUser",
                        "The specified account already exists",
                    )
                } else {
                    e
                }
            })?;
        let guid = derived_guid(&sid);
        let mut st = self.state.lock().await;
        st.extras.insert(
            key(&sid),
            Extras {
                object_guid: guid,
                given_name: new.given_name.clone(),
                surname: new.surname.clone(),
            },
        );
        let user = Self::ad_user(&mut st, &account);
        drop(st);
        self.edit_farm(|farm| {
            farm.users.push(mock_adfs::model::User {
                upn: account.upn.clone(),
                sam: account.sam.clone(),
                object_guid: guid,
                password: account.password.clone(),
                display_name: account.display_name.clone(),
                enabled: account.enabled,
                mfa: Default::default(),
            })
        })
        .await?;
        Ok(user)
    }

    /// `Set-ADAccountPassword -Reset`, `Enable-`/`Disable-ADAccount`: Exchange's account, the
    /// farm's user, and what the pass-through agent reads for a synced user.
    pub async fn set_account(
        &self,
        identity: &str,
        password: Option<&str>,
        enabled: Option<bool>,
    ) -> BResult<()> {
        let a = self.account(identity).await?;
        let mut patch = serde_json::Map::new();
        if let Some(p) = password {
            patch.insert("password".into(), json!(p));
        }
        if let Some(e) = enabled {
            if e && password.unwrap_or(&a.password).is_empty() {
                return Err(BackendError::new(
                    "NotSpecified",
                    "ActiveDirectoryServer:1325,Microsoft.ActiveDirectory.Management.Commands.EnableADAccount",
                    "The password does not meet the length, complexity, or history requirement of the domain.",
                ));
            }
            patch.insert("enabled".into(), json!(e));
        }
        self.admin
            .call(
                Service::Exchange,
                "PATCH",
                &format!("/accounts/{}", enc(&a.sam)),
                Some(Json::Object(patch)),
            )
            .await?;
        let new_password = password.unwrap_or(&a.password).to_string();
        let new_enabled = enabled.unwrap_or(a.enabled);
        self.edit_farm(|farm| {
            if let Some(u) = farm
                .users
                .iter_mut()
                .find(|u| u.upn.eq_ignore_ascii_case(&a.upn))
            {
                u.password = new_password.clone();
                u.enabled = new_enabled;
            }
        })
        .await?;
        let st = self.state.lock().await;
        if let Some(e) = st.exported.get(&key(&a.sid)) {
            let path = format!(
                "/tenants/{}/synced-users/{}/on-premises",
                enc(&st.tenant),
                enc(&e.upn)
            );
            let body = json!({ "password": new_password, "enabled": new_enabled });
            self.admin
                .call(Service::Aad, "PATCH", &path, Some(body))
                .await?;
        }
        Ok(())
    }

    /// Writes what a pass-through agent reads for every synced user (when a domain starts
    /// checking passwords through the agent).
    pub async fn publish_on_premises(&self) -> BResult<()> {
        let accounts = self.accounts().await?;
        let st = self.state.lock().await;
        for a in accounts {
            if let Some(e) = st.exported.get(&key(&a.sid)) {
                let path = format!(
                    "/tenants/{}/synced-users/{}/on-premises",
                    enc(&st.tenant),
                    enc(&e.upn)
                );
                let body = json!({ "password": a.password, "enabled": a.enabled });
                match self
                    .admin
                    .call(Service::Aad, "PATCH", &path, Some(body))
                    .await
                {
                    // A synced user Azure AD holds as cloud-only in the lab file: the next
                    // cycle's export anchors it.
                    Err(e) if e.category == "InvalidOperation" => {}
                    other => {
                        other?;
                    }
                }
            }
        }
        Ok(())
    }

    /// Applies `f` to the farm's directory, when the lab has a farm.
    async fn edit_farm(&self, f: impl FnOnce(&mut mock_adfs::model::Farm)) -> BResult<()> {
        if !self.admin.has_farm() {
            return Ok(());
        }
        let j = self.admin.call(Service::Adfs, "GET", "/farm", None).await?;
        let mut farm: mock_adfs::model::Farm = serde_json::from_value(j).map_err(|e| {
            BackendError::new(
                "NotSpecified",
                "LabAdminError",
                format!("unexpected answer from the farm's admin API (/farm): {e}"),
            )
        })?;
        f(&mut farm);
        let body = serde_json::to_value(&farm).unwrap_or(Json::Null);
        self.admin
            .call(Service::Adfs, "PUT", "/farm", Some(body))
            .await
            .map(drop)
    }
}

/// The first boundary `start + k·step` after `now`.
fn next_after(start: i64, step: i64, now: i64) -> i64 {
    if now < start {
        return start;
    }
    let k = now.saturating_sub(start) / step.max(1) + 1;
    start.saturating_add(k.saturating_mul(step))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn immutable_id_is_the_guid_bytes_in_dotnet_order() {
        let g = Uuid::parse_str("3da93a94-24bf-48c0-9906-323583d4f3e0").unwrap();
        assert_eq!(immutable_id(g), "lDqpPb8kwEiZBjI1g9Tz4A==");
        assert_eq!(guid_of("lDqpPb8kwEiZBjI1g9Tz4A=="), Some(g));
    }

    #[test]
    fn derived_guids_are_stable_and_distinct() {
        let a = derived_guid("S-1-5-21-1-2-3-1659");
        assert_eq!(a, derived_guid("s-1-5-21-1-2-3-1659"));
        assert_ne!(a, derived_guid("S-1-5-21-1-2-3-1660"));
        assert_eq!(a.get_version_num(), 4);
    }

    #[test]
    fn boundaries_follow_the_schedule() {
        assert_eq!(next_after(1800, 1800, 100), 1800);
        assert_eq!(next_after(1800, 1800, 1800), 3600);
        assert_eq!(next_after(1800, 1800, 5000), 5400);
    }
}
