//! Training exercises: a scenario played as a break/fix lab (`hma-lab exercise …`).
//!
//! A scenario with an `exercise:` section ([`crate::scenario::exercise`]) already says how to
//! break the lab (`given`), how to tell it is fixed (`when` then `after_fix`) and the answer
//! (`fix`). A [`Session`] is one trainee's running exercise: a lab on the frozen lab clock served
//! to real clients by its own front door (as `hma-lab serve` serves one), the break applied, and
//! the scenario engine's run context ([`Ctx`]) kept so each check replays `when` with the same
//! reference clients. It is a plain value owning its lab: a process may hold as many as it likes
//! (a classroom), each on its own ports, admin token and clock. [`control`] puts one session
//! behind a loopback listener so the `status`/`check`/`hint`/`solve`/`reset`/`stop` commands, run
//! from another terminal, find it through a small state file.

pub mod control;

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::client::ConnectionStatus;
use crate::frontdoor::Options;
use crate::scenario::exercise::ExerciseMeta;
use crate::scenario::runner::{check_all, Ctx, StepResult};
use crate::scenario::steps::{Action, ClientAction, ClientName};
use crate::scenario::Loaded;

/// What `status` and a hidden exercise's reports show instead of the scenario's name.
pub const HIDDEN: &str = "(random)";

/// The library scenarios that are exercises, in file order: each with its `exercise:` section.
pub fn library(dir: &Path) -> Result<Vec<(Loaded, ExerciseMeta)>, String> {
    let mut out = Vec::new();
    for f in crate::scenario::format::discover(&[dir.to_path_buf()])? {
        let loaded = crate::scenario::load(&f).map_err(|e| e.to_string())?;
        if let Some(m) = loaded.scenario.exercise.clone() {
            out.push((loaded, m));
        }
    }
    Ok(out)
}

/// Finds exercise `name` in `dir`; the error lists the ones there are.
pub fn find(dir: &Path, name: &str) -> Result<Loaded, String> {
    let all = library(dir)?;
    if let Some((l, _)) = all.iter().find(|(l, _)| l.scenario.name == name) {
        return Ok(l.clone());
    }
    let names: Vec<&str> = all.iter().map(|(l, _)| l.scenario.name.as_str()).collect();
    let near = names
        .iter()
        .map(|n| (strsim::levenshtein(n, name), *n))
        .min()
        .filter(|(d, _)| *d <= 3)
        .map(|(_, n)| format!(" Did you mean `{n}`?"))
        .unwrap_or_default();
    Err(format!(
        "no exercise `{name}` in {}.{near} `hma-lab exercise list` shows the {} there are.",
        dir.display(),
        names.len()
    ))
}

/// Picks one exercise at random, of difficulty `level` when given.
pub fn pick_random(dir: &Path, level: Option<u8>) -> Result<Loaded, String> {
    let all: Vec<Loaded> = library(dir)?
        .into_iter()
        .filter(|(_, m)| level.is_none_or(|l| m.difficulty == l))
        .map(|(l, _)| l)
        .collect();
    if all.is_empty() {
        return Err(match level {
            Some(l) => format!("no exercise of difficulty {l} in {}", dir.display()),
            None => format!("no exercise in {}", dir.display()),
        });
    }
    let i = (uuid::Uuid::new_v4().as_u128() % all.len() as u128) as usize;
    Ok(all[i].clone())
}

/// One `after_fix` check as judged on the live lab.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct CheckLine {
    pub check: String,
    pub passed: bool,
    pub points: u32,
    pub expected: String,
    /// What the check saw on the lab.
    pub seen: String,
}

/// The result of `check`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct CheckReport {
    /// The scenario's name, or [`HIDDEN`] in random mode.
    pub exercise: String,
    pub passed: bool,
    pub score: u32,
    pub max_score: u32,
    pub checks: Vec<CheckLine>,
    /// The next hint, when a check failed and the exercise has hints.
    pub hint: Option<Hint>,
}

/// A hint as given: its number (1-based) of how many there are.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Hint {
    pub number: usize,
    pub of: usize,
    pub text: String,
}

/// What `status` shows: never the scenario's name or title in random mode.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Status {
    pub exercise: String,
    pub title: Option<String>,
    pub briefing: String,
    pub difficulty: u8,
    pub hints_given: usize,
    pub hints: usize,
    pub checks_run: usize,
    /// The best score a check has given so far.
    pub best_score: u32,
    pub max_score: u32,
    pub solved: bool,
    /// The reference Outlook's Connection Status on the freshly broken lab.
    pub symptom: String,
    pub https: String,
    pub proxy: String,
    pub admin: String,
    pub ca: String,
}

/// One trainee's running exercise.
pub struct Session {
    loaded: Loaded,
    meta: ExerciseMeta,
    /// `None` only while `reset` swaps the lab.
    ctx: Option<Ctx>,
    /// The front door's options with the addresses and token it got, so `reset` reuses them.
    opts: Options,
    hidden: bool,
    hints_given: usize,
    checks_run: usize,
    best_score: u32,
    solved: bool,
    /// What the reference Outlook showed on the lab just broken (the briefing's evidence).
    symptom: String,
}

fn steps_ok(section: &str, steps: &[StepResult]) -> Result<(), String> {
    match steps.iter().find(|s| !s.ok) {
        None => Ok(()),
        Some(s) => Err(format!(
            "{section} step failed: {}: {}",
            s.text,
            s.detail.as_deref().unwrap_or("")
        )),
    }
}

impl Session {
    /// Starts `loaded`'s lab behind a front door with `opts`, and breaks it (`given`). `hidden`
    /// keeps the scenario's name and title out of every report.
    pub async fn start(loaded: Loaded, opts: Options, hidden: bool) -> Result<Session, String> {
        let meta = loaded.scenario.exercise.clone().ok_or_else(|| {
            format!(
                "{}: `{}` is a scenario but not an exercise (it has no `exercise:` section)",
                loaded.path.display(),
                loaded.scenario.name
            )
        })?;
        let mut s = Session {
            loaded,
            meta,
            ctx: None,
            opts,
            hidden,
            hints_given: 0,
            checks_run: 0,
            best_score: 0,
            solved: false,
            symptom: String::new(),
        };
        s.break_lab().await?;
        Ok(s)
    }

    /// A fresh lab with the break applied; the first one fixes the addresses and token.
    async fn break_lab(&mut self) -> Result<(), String> {
        self.break_lab_on(None).await
    }

    /// [`Session::break_lab`] on the listeners of the lab it replaces, when it has them.
    async fn break_lab_on(
        &mut self,
        listeners: Option<crate::frontdoor::Listeners>,
    ) -> Result<(), String> {
        let mut ctx = Ctx::serve_on(&self.loaded.lab, self.opts.clone(), listeners).await?;
        let door = ctx.door();
        self.opts.https = door.https_addr();
        self.opts.proxy = door.proxy_addr();
        self.opts.admin = door.admin_addr();
        self.opts.admin_token = Some(door.admin_token().to_string());
        let given = self.loaded.scenario.given.clone();
        let done = ctx.set_up("given", &given).await;
        self.ctx = Some(ctx);
        steps_ok("given", &done)?;
        self.symptom = self.see_symptom().await?;
        Ok(())
    }

    fn ctx(&mut self) -> Result<&mut Ctx, String> {
        self.ctx
            .as_mut()
            .ok_or_else(|| "the lab is not running (a reset failed); reset again".to_string())
    }

    /// The name reports show.
    pub fn shown_name(&self) -> String {
        if self.hidden {
            HIDDEN.into()
        } else {
            self.loaded.scenario.name.clone()
        }
    }

    /// The scenario's real name (the trainer's view; a classroom summary).
    pub fn name(&self) -> &str {
        &self.loaded.scenario.name
    }

    pub fn meta(&self) -> &ExerciseMeta {
        &self.meta
    }

    /// The lab's front door (addresses, admin token, CA), while the lab runs.
    pub fn door(&self) -> Option<&crate::frontdoor::FrontDoor> {
        self.ctx.as_ref().map(|c| c.door())
    }

    pub fn status(&self) -> Status {
        let max_score = self
            .meta
            .points_for(self.loaded.scenario.after_fix.len())
            .iter()
            .sum();
        Status {
            exercise: self.shown_name(),
            title: (!self.hidden).then(|| self.loaded.scenario.title.clone()),
            briefing: self.meta.briefing.clone(),
            difficulty: self.meta.difficulty,
            hints_given: self.hints_given,
            hints: self.meta.hints.len(),
            checks_run: self.checks_run,
            best_score: self.best_score,
            max_score,
            solved: self.solved,
            symptom: self.symptom.clone(),
            https: format!("https://{}", self.opts.https),
            proxy: format!("http://{}", self.opts.proxy),
            admin: format!("http://{}", self.opts.admin),
            ca: self
                .opts
                .state_dir
                .join(crate::frontdoor::ca::CA_FILE)
                .display()
                .to_string(),
        }
    }

    /// The next hint (the most precise one again once all are given); `None` without hints.
    pub fn hint(&mut self) -> Option<Hint> {
        let hints = &self.meta.hints;
        if hints.is_empty() {
            return None;
        }
        let i = self.hints_given.min(hints.len() - 1);
        self.hints_given = (i + 1).max(self.hints_given);
        Some(Hint {
            number: i + 1,
            of: hints.len(),
            text: hints[i].clone(),
        })
    }

    /// Replays `when` against the live lab and judges `after_fix`: each check with what it saw,
    /// the points earned, and the next hint when one fails.
    pub async fn check(&mut self) -> Result<CheckReport, String> {
        let when = self.loaded.scenario.when.clone();
        let after_fix = self.loaded.scenario.after_fix.clone();
        let points = self.meta.points_for(after_fix.len());
        let ctx = self.ctx()?;
        let (outs, _) = ctx.actions(&when).await;
        let results = check_all(ctx, &after_fix, &outs).await;
        let checks: Vec<CheckLine> = results
            .into_iter()
            .zip(points)
            .map(|(r, points)| CheckLine {
                check: r.expectation,
                passed: r.passed,
                points,
                expected: r.expected,
                seen: r.actual,
            })
            .collect();
        let max_score = checks.iter().map(|c| c.points).sum();
        let score = checks.iter().filter(|c| c.passed).map(|c| c.points).sum();
        let passed = checks.iter().all(|c| c.passed);
        self.checks_run += 1;
        self.best_score = self.best_score.max(score);
        let hint = if passed { None } else { self.hint() };
        Ok(CheckReport {
            exercise: self.shown_name(),
            passed,
            score,
            max_score,
            checks,
            hint,
        })
    }

    /// The reference Outlook on the live lab, as the trainee's user sees it now: the scenario's
    /// first `client` action (its profile, user and settings), with `profile` and `user` put in
    /// its place when given; the machine's installed Outlook (`client: outlook`, Outlook 2016
    /// unless `Install-LabOutlook` changed it) as GregT when the scenario has no client action.
    pub async fn outlook(
        &mut self,
        profile: Option<ClientName>,
        user: Option<String>,
    ) -> Result<ConnectionStatus, String> {
        let mut action = self
            .loaded
            .scenario
            .when
            .iter()
            .find_map(|a| match a {
                Action::Client(c) => Some(c.clone()),
                _ => None,
            })
            .unwrap_or_else(|| ClientAction {
                client: ClientName::Installed,
                user: crate::cli::shell::DEFAULT_USER.into(),
                action: Default::default(),
                settings: Default::default(),
            });
        if let Some(p) = profile {
            action.client = p;
        }
        if let Some(u) = user {
            action.user = u;
        }
        Ok(self.ctx()?.symptom(&action).await)
    }

    /// What the user reports, as the reference Outlook shows it on the broken lab: its
    /// Connection Status row (and why, when disconnected).
    async fn see_symptom(&mut self) -> Result<String, String> {
        let status = self.outlook(None, None).await?;
        Ok(crate::cli::shell::status_text(&status))
    }

    /// Applies the solution (`fix`) to the live lab: the steps as run, the trainer's answer.
    pub async fn solve(&mut self) -> Result<Vec<StepResult>, String> {
        let fix = self.loaded.scenario.fix.clone().unwrap_or_default();
        let done = self.ctx()?.set_up("fix", &fix).await;
        self.solved = true;
        Ok(done)
    }

    /// Stops the lab and starts a fresh one on the same addresses, with the break applied again.
    /// The listening sockets pass from the old front door to the new one: binding the addresses
    /// again would leave a moment in which any socket of the machine could take one of the ports
    /// (then the reset failed with "Address already in use"). Only after a failed reset, whose
    /// lab never started, are the addresses bound anew.
    pub async fn reset(&mut self) -> Result<(), String> {
        let listeners = match self.ctx.take() {
            Some(ctx) => ctx.shutdown_keeping_listeners().await,
            None => None,
        };
        self.break_lab_on(listeners).await
    }

    /// Stops the lab.
    pub async fn shutdown(mut self) {
        if let Some(ctx) = self.ctx.take() {
            ctx.shutdown().await;
        }
    }
}
