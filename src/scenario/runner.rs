//! Runs one scenario against fresh labs: the main run (`given`, `when`, `then`, then `fix`,
//! `when` again, `after_fix`) and its broken twins (`given` + `fix` + `when`, and `given` +
//! `twin` + `when`), each of which must make `then` fail.
//!
//! Every run gets its own [`Lab`] on a clock frozen at the field guide's capture time, so a
//! result never depends on the wall clock or on another scenario running beside it. A run is
//! one [`Ctx`]: the lab, one PowerShell session (variables carry from line to line, as in the
//! guide's consoles), the client machine's settings, one reference client per (profile, user)
//! so `reconnect` finds its cached tokens, and the last tokens obtained. Each `when` action
//! yields an [`Outcome`] — the HTTP exchange (or the client's connection status and trace) —
//! and expectations are checked against outcomes ([`super::expect`]).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use lab_kit::Clock;
use serde_json::Value as Json;

use super::checks::{Check, Expectation};
use super::expect::{self, CheckResult};
use super::format::{LabRef, Loaded};
use super::outcome::{summary, Http, Outcome};
use super::steps::{
    Action, BearerSpec, ClientAction, ConnectKind, Grant, NetworkChange, RequestAction, Step,
    TokenAction,
};
use crate::client::{Outlook, Settings, Transport};
use crate::frontdoor::FrontDoor;
use crate::lab::backend::{LabBackend, Machine};
use crate::lab::{Device, Lab, LabFile};
use crate::shell::Shell;

/// 2017-11-16T20:36:16Z, the time of the field guide's captures.
pub const LAB_EPOCH: i64 = 1_510_864_576;

/// The Office client id (Outlook's, and the one `bearer:` and `token:` use by default).
pub const OFFICE_CLIENT_ID: &str = crate::client::aad::OFFICE_CLIENT_ID;

pub use super::results::{PhaseResult, ScenarioResult, StepResult, TwinResult};

/// Largest response body kept for an outcome.
const MAX_BODY: usize = 256 * 1024;

/// Runs a loaded scenario: main run, after-fix, twins.
pub async fn run(loaded: &Loaded) -> ScenarioResult {
    let started = Instant::now();
    let s = &loaded.scenario;
    let mut result = ScenarioResult {
        name: s.name.clone(),
        title: s.title.clone(),
        guide: s.guide.clone(),
        file: loaded.path.display().to_string(),
        passed: false,
        duration_ms: 0,
        error: None,
        main: None,
        after_fix: None,
        twins: Vec::new(),
        har: None,
    };
    // The lab file is read and parsed once; the main run and each twin start from a copy.
    let file = match lab_file(&loaded.lab) {
        Ok(f) => f,
        Err(e) => {
            result.error = Some(e);
            result.duration_ms = started.elapsed().as_millis();
            return result;
        }
    };
    // Main run.
    match Ctx::start_file(file.clone()).await {
        Err(e) => result.error = Some(e),
        Ok(mut ctx) => {
            let mut steps = ctx.set_up("given", &s.given).await;
            let (outs, wsteps) = ctx.actions(&s.when).await;
            steps.extend(wsteps);
            let checks = check_all(&mut ctx, &s.then, &outs).await;
            result.main = Some(PhaseResult { steps, checks });
            if let Some(fix) = &s.fix {
                let mut steps = ctx.set_up("fix", fix).await;
                let (outs, wsteps) = ctx.actions(&s.when).await;
                steps.extend(wsteps);
                let checks = check_all(&mut ctx, &s.after_fix, &outs).await;
                result.after_fix = Some(PhaseResult { steps, checks });
            }
            result.har = Some(ctx.door.journal().clone());
            ctx.shutdown().await;
        }
    }
    // Twins.
    if let Some(fix) = &s.fix {
        result
            .twins
            .push(run_twin(loaded, &file, "automatic", "fix", fix).await);
    }
    if let Some(tw) = &s.twin {
        result
            .twins
            .push(run_twin(loaded, &file, "explicit", "twin", tw).await);
    }
    let main_ok = result
        .main
        .as_ref()
        .is_some_and(|p| p.steps_ok() && p.checks_ok());
    let fix_ok = match (&s.fix, &result.after_fix) {
        (None, _) => true,
        (Some(_), Some(p)) => p.steps_ok() && p.checks_ok(),
        (Some(_), None) => false,
    };
    result.passed = result.error.is_none()
        && main_ok
        && fix_ok
        && !result.twins.is_empty()
        && result.twins.iter().all(|t| t.ok);
    result.duration_ms = started.elapsed().as_millis();
    result
}

async fn run_twin(
    loaded: &Loaded,
    file: &LabFile,
    kind: &str,
    section: &str,
    extra: &[Action],
) -> TwinResult {
    let s = &loaded.scenario;
    let mut ctx = match Ctx::start_file(file.clone()).await {
        Ok(c) => c,
        Err(e) => {
            return TwinResult {
                kind: kind.into(),
                ok: false,
                summary: format!("the lab did not start: {e}"),
                phase: None,
                error: Some(e),
            }
        }
    };
    let mut steps = ctx.set_up("given", &s.given).await;
    steps.extend(ctx.set_up(section, extra).await);
    let (outs, wsteps) = ctx.actions(&s.when).await;
    steps.extend(wsteps);
    let checks = check_all(&mut ctx, &s.then, &outs).await;
    ctx.shutdown().await;
    let phase = PhaseResult { steps, checks };
    let failed = phase.failed_checks();
    let total = phase.checks.len();
    let (ok, summary) = if !phase.steps_ok() {
        (
            false,
            "a step of the twin failed, so it proves nothing".to_string(),
        )
    } else if failed == 0 {
        (
            false,
            format!(
                "passes vacuously: with given + {section} every `then` expectation still holds ({total} of {total})"
            ),
        )
    } else {
        (
            true,
            format!("`then` fails as it must ({failed} of {total} expectations fail)"),
        )
    };
    TwinResult {
        kind: kind.into(),
        ok,
        summary,
        phase: Some(phase),
        error: None,
    }
}

/// The lab file a scenario names, read and parsed.
fn lab_file(lab: &LabRef) -> Result<LabFile, String> {
    match lab {
        LabRef::Builtin(n) => LabFile::builtin(n),
        LabRef::File(p) => LabFile::load(p),
    }
    .map_err(|e| e.to_string())
}

/// Checks every expectation, in order. A `cmdlet` expectation runs its line against the lab
/// now (which is why the expectations themselves never see the run), the others read outcomes.
pub async fn check_all(ctx: &mut Ctx, list: &[Expectation], outs: &[Outcome]) -> Vec<CheckResult> {
    let mut out = Vec::new();
    for e in list {
        out.push(match &e.check {
            Check::Cmdlet(c) => expect::cmdlet_verdict(c, &ctx.cmdlet(&c.run).await),
            _ => expect::check(e, outs),
        });
    }
    out
}

/// One run's state.
pub struct Ctx {
    /// The lab's TLS front door (in-memory CA): the run's clients reach the lab through it, so
    /// certificate faults and the network's devices meet them on real TLS.
    door: FrontDoor,
    /// The client transport to the front door, trusting only its CA.
    tls: Transport,
    pub lab: Arc<Lab>,
    shell: Arc<Mutex<Shell<LabBackend>>>,
    machine: Arc<Mutex<Machine>>,
    clients: BTreeMap<(String, String), Outlook>,
    /// Latest refresh token obtained by a `token`/`bearer` action or a client.
    refresh_token: Option<(String, String)>,
    /// Claims of the latest access token.
    claims: Option<Json>,
}

impl Ctx {
    /// A fresh lab on the frozen lab clock.
    pub async fn start(lab: &LabRef) -> Result<Ctx, String> {
        Ctx::start_file(lab_file(lab)?).await
    }

    /// A fresh lab from a lab file already read, on the frozen lab clock.
    pub async fn start_file(file: LabFile) -> Result<Ctx, String> {
        Ctx::start_door(file, None).await
    }

    /// A fresh lab on the frozen lab clock served to real clients as `hma-lab serve` serves one:
    /// the front door's listeners, CA and admin token from `opts` (`hma-lab exercise`).
    pub async fn serve(lab: &LabRef, opts: crate::frontdoor::Options) -> Result<Ctx, String> {
        Ctx::serve_on(lab, opts, None).await
    }

    /// [`Ctx::serve`] on the still-bound listeners of a run stopped with
    /// [`Ctx::shutdown_keeping_listeners`] (a reset lab keeps its addresses, with no moment in
    /// which another socket could take one of its ports); bound anew when `None`.
    pub async fn serve_on(
        lab: &LabRef,
        opts: crate::frontdoor::Options,
        listeners: Option<crate::frontdoor::Listeners>,
    ) -> Result<Ctx, String> {
        Ctx::start_door(lab_file(lab)?, Some((opts, listeners))).await
    }

    async fn start_door(
        file: LabFile,
        opts: Option<(
            crate::frontdoor::Options,
            Option<crate::frontdoor::Listeners>,
        )>,
    ) -> Result<Ctx, String> {
        let lab = Lab::start_file(file, Clock::frozen_at_unix(LAB_EPOCH))
            .await
            .map_err(|e| format!("the lab did not start: {e}"))?;
        let lab = Arc::new(lab);
        let door = match opts {
            None => FrontDoor::start_in_memory(lab.clone()).await,
            Some((o, listeners)) => FrontDoor::start_on(lab.clone(), o, listeners).await,
        }
        .map_err(|e| format!("the lab's front door did not start: {e}"))?;
        let tls = Transport::for_front_door(&door)?;
        // One client machine: the run's steps and the door's admin API write the same settings.
        let machine = door.machine();
        let backend = LabBackend::new(&lab, tokio::runtime::Handle::current(), machine.clone());
        Ok(Ctx {
            door,
            tls,
            lab,
            shell: Arc::new(Mutex::new(Shell::new(backend))),
            machine,
            clients: BTreeMap::new(),
            refresh_token: None,
            claims: None,
        })
    }

    /// The run's front door (its addresses, admin token and journal).
    pub fn door(&self) -> &FrontDoor {
        &self.door
    }

    /// Stops the front door, then the lab.
    pub async fn shutdown(self) {
        drop(self.shutdown_keeping_listeners().await);
    }

    /// [`Ctx::shutdown`], handing back the front door's listeners, still bound.
    pub async fn shutdown_keeping_listeners(self) -> Option<crate::frontdoor::Listeners> {
        let Ctx {
            door,
            lab,
            shell,
            clients,
            ..
        } = self;
        drop(clients);
        let listeners = door.shutdown_keeping_listeners().await;
        drop(shell);
        if let Ok(lab) = Arc::try_unwrap(lab) {
            lab.shutdown().await;
        }
        listeners
    }

    /// Runs one PowerShell line in the run's session: console text, or the error record.
    pub async fn cmdlet(&self, line: &str) -> Result<String, String> {
        let shell = self.shell.clone();
        let line = line.to_string();
        tokio::task::spawn_blocking(move || {
            let mut sh = shell.lock().unwrap_or_else(|e| e.into_inner());
            match sh.run(&line) {
                Ok(o) => Ok(o.text),
                Err(e) => Err(e.render()),
            }
        })
        .await
        .unwrap_or_else(|e| Err(format!("the cmdlet task failed: {e}")))
    }

    /// Runs set-up steps; every step is reported, a failing one does not stop the rest.
    pub async fn steps(&mut self, section: &str, steps: &[Step]) -> Vec<StepResult> {
        let mut out = Vec::new();
        for st in steps {
            let (text, res) = match st {
                Step::Cmdlet(line) => (line.clone(), self.cmdlet(line).await),
                Step::Network(n) => (super::labels::network_text(n), self.network(n)),
                Step::Clock(c) => (
                    format!("clock: advance {}s", c.advance.0),
                    self.lab
                        .advance_clock(c.advance.0)
                        .await
                        .map(|run| super::labels::sync_note(&run)),
                ),
            };
            let (ok, detail) = match res {
                Ok(t) if t.trim().is_empty() => (true, None),
                Ok(t) => (true, Some(t.trim_end().to_string())),
                Err(e) => (false, Some(e)),
            };
            out.push(StepResult {
                section: section.into(),
                text,
                ok,
                detail,
            });
        }
        out
    }

    fn network(&self, n: &NetworkChange) -> Result<String, String> {
        self.lab
            .apply(Device::from(n.clone()))
            .map(|_| String::new())
            .map_err(|e| e.to_string())
    }

    /// Runs a set-up section (`given`, `fix`, `twin`): its steps, and the client, token and
    /// request actions it may hold (a user signing in before the event, or signing in again as
    /// the remedy). Their outcomes are not judged: only `when`'s are.
    pub async fn set_up(&mut self, section: &str, list: &[Action]) -> Vec<StepResult> {
        self.actions_in(section, list).await.1
    }

    /// Runs the `when` actions; one outcome per action.
    pub async fn actions(&mut self, actions: &[Action]) -> (Vec<Outcome>, Vec<StepResult>) {
        self.actions_in("when", actions).await
    }

    /// Runs actions (`when`'s, or a set-up section's); one outcome per action.
    async fn actions_in(
        &mut self,
        section: &str,
        actions: &[Action],
    ) -> (Vec<Outcome>, Vec<StepResult>) {
        let mut outs = Vec::new();
        let mut steps = Vec::new();
        for a in actions {
            let o = match a {
                Action::Client(c) => self.client(c).await,
                Action::Request(r) => self.request(r).await,
                Action::Token(t) => self.token(t).await,
                Action::Step(st) => {
                    // A set-up step between actions: a failing one fails like in `given`.
                    let mut r = self.steps(section, std::slice::from_ref(st)).await;
                    let label = r.first().map(|x| x.text.clone()).unwrap_or_default();
                    steps.append(&mut r);
                    outs.push(Outcome {
                        label,
                        http: None,
                        client: None,
                        claims: self.claims.clone(),
                        note: None,
                    });
                    continue;
                }
            };
            // An action's result — even "no response" — is an outcome for the expectations to
            // judge, never a failed step.
            let detail = summary(&o);
            steps.push(StepResult {
                section: section.into(),
                text: o.label.clone(),
                ok: true,
                detail: Some(detail),
            });
            outs.push(o);
        }
        (outs, steps)
    }

    /// The settings a `client` action's Outlook runs with: the action's own over the machine's.
    fn client_settings(&self, c: &ClientAction) -> Settings {
        let machine = self
            .machine
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let mut settings = Settings::contoso(&c.user);
        // Each Outlook reads its own Office version's Identity key.
        let keys = machine.identity_for(c.client.resolve(machine.outlook));
        settings.registry.enable_adal = c.settings.enable_adal.or(keys.enable_adal);
        settings.registry.version = c.settings.version.or(keys.version);
        settings.mac_disable_modern_auth = c
            .settings
            .disable_modern_auth
            .or(machine.mac_disable_modern_auth)
            .unwrap_or(false);
        if let Some(p) = &c.settings.password {
            settings.password = p.clone();
        }
        if let Some(p) = &c.settings.onprem_password {
            settings.onprem_password = Some(p.clone());
        }
        if let Some(m) = &c.settings.mfa_code {
            settings.mfa_code = m.clone();
        }
        if let Some(k) = c.settings.kmsi {
            settings.kmsi = k;
        }
        // The machine's Windows logon (Add-Computer, then a restart), unless the action says.
        settings.domain_joined = c
            .settings
            .domain_joined
            .unwrap_or(machine.membership.logon_domain.is_some());
        if let Some(x) = c.settings.cancel_password_prompt {
            settings.cancel_password_prompt = x;
        }
        settings
    }

    /// What the user of `c` sees on the lab as it is now: a fresh Outlook (no cached tokens,
    /// kept nowhere, so the run's own clients are untouched) connects once (`hma-lab exercise
    /// start` prints the symptom with the briefing).
    pub async fn symptom(&mut self, c: &ClientAction) -> crate::client::ConnectionStatus {
        let settings = self.client_settings(c);
        let mut outlook = Outlook::new(self.profile(c), settings, self.tls.clone());
        outlook.connect().await
    }

    /// The profile `c` runs: its own, or for `client: outlook` the machine's installed Outlook
    /// as it is now (a `fix` that upgrades Outlook changes what the replayed `when` starts).
    fn profile(&self, c: &ClientAction) -> crate::client::Profile {
        let installed = self
            .machine
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .outlook;
        c.client.resolve(installed)
    }

    async fn client(&mut self, c: &ClientAction) -> Outcome {
        let profile = self.profile(c);
        let settings = self.client_settings(c);
        let traced = c.settings.through_proxy.unwrap_or(false);
        // A traced Outlook is another client: its connections all go through the proxy.
        let key = (
            format!("{}{}", profile.name(), if traced { "+proxy" } else { "" }),
            c.user.to_ascii_lowercase(),
        );
        let transport = if traced {
            match Transport::through_proxy(&self.door) {
                Ok(t) => t,
                Err(e) => {
                    return Outcome {
                        label: format!("client {} {} (through the proxy)", profile.name(), c.user),
                        http: None,
                        client: None,
                        claims: self.claims.clone(),
                        note: Some(format!("the recording proxy cannot be used: {e}")),
                    }
                }
            }
        } else {
            self.tls.clone()
        };
        let outlook = self
            .clients
            .entry(key)
            .or_insert_with(|| Outlook::new(profile, settings.clone(), transport));
        outlook.settings = settings;
        let status = match c.action {
            ConnectKind::Connect => outlook.connect().await,
            ConnectKind::Reconnect => outlook.reconnect().await,
            ConnectKind::Restart => outlook.restart().await,
            ConnectKind::Sync => outlook.sync().await,
        };
        let tokens = outlook.cached_tokens();
        // The mailbox token (resource = the connection's host) is the one the client used.
        let mailbox_token = tokens
            .iter()
            .find(|t| !status.server.is_empty() && t.resource.contains(&status.server))
            .or_else(|| tokens.last());
        if let Some(t) = mailbox_token {
            self.claims = Some(t.claims.clone());
            if let Some(rt) = &t.refresh_token {
                self.refresh_token = Some((rt.clone(), t.authority.clone()));
            }
        }
        // The mailbox connection's last exchange (the offline address book download that
        // follows it is in the trace, for `exchange:` expectations).
        let http = status
            .exchanges
            .iter()
            .rev()
            .find(|e| e.step != "oab")
            .map(|e| Http {
                method: e.method.clone(),
                url: e.url.clone(),
                request_headers: e.request_headers.clone(),
                status: e.status,
                reason: e.reason.clone(),
                headers: e.response_headers.clone(),
                body: String::new(),
            });
        let action = c.action.name();
        Outcome {
            label: format!("client {} {} {action}", profile.name(), c.user),
            http,
            client: Some(status),
            claims: self.claims.clone(),
            note: None,
        }
    }

    /// Sends one request through the lab network, to the product URL's host.
    async fn send(
        &self,
        method: &str,
        url: &str,
        headers: &[(String, String)],
        body: Option<Vec<u8>>,
    ) -> Http {
        let mut h = Http {
            method: method.to_string(),
            url: url.to_string(),
            request_headers: headers
                .iter()
                .map(|(k, v)| (k.clone(), super::labels::mask_auth(k, v)))
                .collect(),
            status: 0,
            reason: String::new(),
            headers: Vec::new(),
            body: String::new(),
        };
        let parsed = match url::Url::parse(url) {
            Ok(u) => u,
            Err(e) => {
                h.body = format!("(bad URL: {e})");
                return h;
            }
        };
        let host = parsed.host_str().unwrap_or_default().to_ascii_lowercase();
        let mut pq = parsed.path().to_string();
        if let Some(q) = parsed.query() {
            pq.push('?');
            pq.push_str(q);
        }
        let target = self.lab.url(&host, &pq);
        let Ok(m) = reqwest::Method::from_bytes(method.as_bytes()) else {
            h.body = format!("(bad method {method})");
            return h;
        };
        let mut req = self.lab.http_client().request(m, &target);
        for (k, v) in headers {
            req = req.header(k.as_str(), v.as_str());
        }
        if let Some(b) = body {
            req = req.body(b);
        }
        match req.send().await {
            Ok(resp) => {
                h.status = resp.status().as_u16();
                h.reason = crate::client::http::reason_phrase(resp.status(), resp.extensions());
                h.headers = resp
                    .headers()
                    .iter()
                    .map(|(k, v)| {
                        (
                            k.as_str().to_string(),
                            String::from_utf8_lossy(v.as_bytes()).into_owned(),
                        )
                    })
                    .collect();
                let bytes = resp.bytes().await.unwrap_or_default();
                let cut = &bytes[..bytes.len().min(MAX_BODY)];
                h.body = String::from_utf8_lossy(cut).into_owned();
            }
            Err(e) => {
                h.body = format!("(no response: {e})");
            }
        }
        h
    }

    async fn request(&mut self, r: &RequestAction) -> Outcome {
        let mut headers: Vec<(String, String)> = r
            .headers
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let mut label = format!("request {} {}", r.method, r.url);
        if let Some(b) = &r.bearer {
            label.push_str(&format!(" (bearer for {} → {})", b.user, b.resource));
            match self.bearer(b).await {
                Ok(at) => {
                    headers.retain(|(k, _)| !k.eq_ignore_ascii_case("authorization"));
                    headers.push(("Authorization".into(), format!("Bearer {at}")));
                }
                Err(http) => {
                    return Outcome {
                        label,
                        note: Some(format!(
                            "no token for `bearer:`: Azure AD answered {}",
                            http.status
                        )),
                        http: Some(http),
                        client: None,
                        claims: self.claims.clone(),
                    }
                }
            }
        }
        let http = self
            .send(
                &r.method,
                &r.url,
                &headers,
                r.body.as_ref().map(|b| b.as_bytes().to_vec()),
            )
            .await;
        Outcome {
            label,
            note: (http.status == 0).then(|| http.body.clone()),
            http: Some(http),
            client: None,
            claims: self.claims.clone(),
        }
    }

    /// A v1 password-grant token for `bearer:`; `Err` carries Azure AD's answer.
    async fn bearer(&mut self, b: &BearerSpec) -> Result<String, Http> {
        let t = TokenAction {
            grant: Grant::Password,
            user: Some(b.user.clone()),
            password: b.password.clone(),
            resource: Some(b.resource.clone()),
            scope: None,
            client_id: None,
            client_secret: None,
            tenant: None,
        };
        let (http, at) = self.token_call(&t).await;
        at.ok_or(http)
    }

    async fn token(&mut self, t: &TokenAction) -> Outcome {
        let grant = match t.grant {
            Grant::Password => "password",
            Grant::Refresh => "refresh",
            Grant::ClientCredentials => "client_credentials",
        };
        let mut label = format!("token {grant}");
        if let Some(u) = &t.user {
            label.push_str(&format!(" {u}"));
        }
        if let Some(r) = t.resource.as_ref().or(t.scope.as_ref()) {
            label.push_str(&format!(" → {r}"));
        }
        if t.grant == Grant::Refresh && self.refresh_token.is_none() {
            return Outcome {
                label,
                http: None,
                client: None,
                claims: self.claims.clone(),
                note: Some("no refresh token has been obtained before this action".into()),
            };
        }
        let (http, _) = self.token_call(t).await;
        Outcome {
            label,
            note: (http.status == 0).then(|| http.body.clone()),
            http: Some(http),
            client: None,
            claims: self.claims.clone(),
        }
    }

    /// Calls the token endpoint; the access token when one was issued.
    async fn token_call(&mut self, t: &TokenAction) -> (Http, Option<String>) {
        let domain = t
            .user
            .as_deref()
            .and_then(|u| u.rsplit_once('@'))
            .map(|(_, d)| d.to_string());
        let tenant = t
            .tenant
            .clone()
            .or(domain)
            .unwrap_or_else(|| "common".into());
        let mut authority = format!("https://login.microsoftonline.com/{tenant}");
        let mut form: Vec<(&str, String)> = Vec::new();
        let client_id = t
            .client_id
            .clone()
            .unwrap_or_else(|| OFFICE_CLIENT_ID.to_string());
        form.push(("client_id", client_id));
        match t.grant {
            Grant::Password => {
                form.push(("grant_type", "password".into()));
                form.push(("username", t.user.clone().unwrap_or_default()));
                form.push((
                    "password",
                    t.password.clone().unwrap_or_else(|| "Contoso2017!".into()),
                ));
            }
            Grant::Refresh => {
                form.push(("grant_type", "refresh_token".into()));
                if let Some((rt, auth)) = &self.refresh_token {
                    form.push(("refresh_token", rt.clone()));
                    if t.tenant.is_none() && t.user.is_none() {
                        authority = auth.clone();
                    }
                }
            }
            Grant::ClientCredentials => {
                form.push(("grant_type", "client_credentials".into()));
            }
        }
        if let Some(s) = &t.client_secret {
            form.push(("client_secret", s.clone()));
        }
        let path = if let Some(scope) = &t.scope {
            form.push(("scope", scope.clone()));
            "/oauth2/v2.0/token"
        } else {
            if let Some(r) = &t.resource {
                form.push(("resource", r.clone()));
            }
            "/oauth2/token"
        };
        let url = format!("{}{path}", authority.trim_end_matches('/'));
        let body: String = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form.iter().map(|(k, v)| (*k, v.as_str())))
            .finish();
        let headers = vec![(
            "Content-Type".to_string(),
            "application/x-www-form-urlencoded".to_string(),
        )];
        let mut http = self
            .send("POST", &url, &headers, Some(body.into_bytes()))
            .await;
        let json: Json = serde_json::from_str(&http.body).unwrap_or(Json::Null);
        let at = json
            .get("access_token")
            .and_then(Json::as_str)
            .map(str::to_string);
        if let Some(a) = &at {
            self.claims = Some(crate::client::aad::decode_claims(a));
        }
        if let Some(rt) = json.get("refresh_token").and_then(Json::as_str) {
            self.refresh_token = Some((rt.to_string(), authority.clone()));
        }
        // Token strings are not kept in reports.
        if http.status == 200 {
            if let Json::Object(mut o) = json {
                for k in ["access_token", "refresh_token", "id_token"] {
                    if o.contains_key(k) {
                        o.insert(k.into(), Json::String("…".into()));
                    }
                }
                http.body = Json::Object(o).to_string();
            }
        }
        (http, at)
    }
}
