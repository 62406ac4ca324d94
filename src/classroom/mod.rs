//! A classroom: many trainees' exercises in one process (`hma-lab classroom …`).
//!
//! Each trainee gets a whole [`Session`] of their own — mock Azure AD, mock Exchange, a front
//! door with its own ports, admin token and lab clock — served behind its own control listener
//! ([`Hosted`]) with its state files in the trainee's own state directory
//! (`DIR/classroom/trainee-K`). That directory holds the lab's own CA too, so no trainee's
//! client trusts another's lab. Because a trainee's directory is an ordinary exercise state
//! directory, every trainee tool works unchanged with `--state-dir` (or the `--trainee K`
//! shorthand): `hma-lab exercise check|hint|status`, `hma-lab shell --attach`, `hma-lab env`.
//! What a lab needs that is costly to make is made once: the services' signing keys come from
//! the shipped key pool and the CAs are ECDSA, so starting a lab is starting its listeners.
//! The trainer's view ([`Summary`]) names each trainee's exercise, even in random mode, where the
//! trainee's own reports say `(random)`; a trainee cannot stop their lab, only the trainer can.

pub mod control;

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::exercise::control::Hosted;
use crate::exercise::Session;
use crate::frontdoor::Options;
use crate::scenario::Loaded;

/// The classroom's state file, in the trainer's state directory.
pub const CLASSROOM_FILE: &str = "classroom.json";

/// Most trainees one classroom serves (each lab holds about ten listeners).
pub const MAX_TRAINEES: usize = 200;

/// Trainee `k`'s state directory under the classroom's `base`.
pub fn trainee_dir(base: &Path, k: usize) -> PathBuf {
    base.join("classroom").join(format!("trainee-{k}"))
}

/// Which exercise each trainee gets.
#[derive(Debug, Clone)]
pub enum Pick {
    /// The same one for everyone.
    Named(String),
    /// One drawn for each trainee (of difficulty `level` when given), not told to them.
    Random { level: Option<u8> },
}

/// One trainee's lab.
pub struct Trainee {
    pub number: usize,
    pub dir: PathBuf,
    /// The scenario's real name (the trainer's view).
    pub exercise: String,
    /// How long starting the lab took (lab, front door, break, symptom, control listener).
    pub start_ms: u128,
    pub hosted: Hosted,
}

/// One line of the trainer's summary.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Summary {
    pub trainee: usize,
    /// The real name, even when the trainee's reports say `(random)`.
    pub exercise: String,
    pub hidden: bool,
    pub difficulty: u8,
    pub checks_run: usize,
    pub best_score: u32,
    pub max_score: u32,
    /// Every check passed in one run.
    pub passed: bool,
    pub hints_given: usize,
    pub hints: usize,
    pub solved_by_trainer: bool,
    pub admin: String,
    pub https: String,
    pub state_dir: String,
    pub start_ms: u128,
}

/// N trainees' labs.
pub struct Classroom {
    trainees: Vec<Trainee>,
}

fn pick(all: &[Loaded], how: &Pick, dir: &Path) -> Result<Loaded, String> {
    match how {
        Pick::Named(n) => all
            .iter()
            .find(|l| &l.scenario.name == n)
            .cloned()
            .map_or_else(|| crate::exercise::find(dir, n), Ok),
        Pick::Random { level } => {
            let fit: Vec<&Loaded> = all
                .iter()
                .filter(|l| {
                    let d = l.scenario.exercise.as_ref().map(|m| m.difficulty);
                    level.is_none_or(|want| d == Some(want))
                })
                .collect();
            if fit.is_empty() {
                return crate::exercise::pick_random(dir, *level);
            }
            let i = (uuid::Uuid::new_v4().as_u128() % fit.len() as u128) as usize;
            Ok(fit[i].clone())
        }
    }
}

impl Classroom {
    /// Starts `n` trainees' labs (1 to [`MAX_TRAINEES`]) from the exercises in `scenarios`,
    /// their state under `base`. On failure the labs already started are stopped.
    pub async fn start(
        scenarios: &Path,
        how: &Pick,
        n: usize,
        base: &Path,
    ) -> Result<Classroom, String> {
        if !(1..=MAX_TRAINEES).contains(&n) {
            return Err(format!(
                "{n} trainees: a classroom serves 1 to {MAX_TRAINEES}"
            ));
        }
        let all: Vec<Loaded> = crate::exercise::library(scenarios)?
            .into_iter()
            .map(|(l, _)| l)
            .collect();
        let hidden = matches!(how, Pick::Random { .. });
        let mut room = Classroom {
            trainees: Vec::with_capacity(n),
        };
        for k in 1..=n {
            match start_one(&all, how, scenarios, base, k, hidden).await {
                Ok(t) => room.trainees.push(t),
                Err(e) => {
                    room.shutdown().await;
                    return Err(format!("trainee {k}'s lab did not start: {e}"));
                }
            }
        }
        Ok(room)
    }

    pub fn trainees(&self) -> &[Trainee] {
        &self.trainees
    }

    /// Trainee `k` (1-based).
    pub fn trainee(&self, k: usize) -> Option<&Trainee> {
        self.trainees.get(k.checked_sub(1)?)
    }

    /// The trainer's summary, one line per trainee.
    pub async fn summary(&self) -> Vec<Summary> {
        let mut out = Vec::with_capacity(self.trainees.len());
        for t in &self.trainees {
            let Some(s) = t.hosted.status().await else {
                continue;
            };
            out.push(Summary {
                trainee: t.number,
                exercise: t.exercise.clone(),
                hidden: s.exercise == crate::exercise::HIDDEN,
                difficulty: s.difficulty,
                checks_run: s.checks_run,
                best_score: s.best_score,
                max_score: s.max_score,
                passed: s.checks_run > 0 && s.best_score == s.max_score,
                hints_given: s.hints_given,
                hints: s.hints,
                solved_by_trainer: s.solved,
                admin: s.admin,
                https: s.https,
                state_dir: t.dir.display().to_string(),
                start_ms: t.start_ms,
            });
        }
        out
    }

    /// Stops every lab and removes their state files.
    pub async fn shutdown(self) {
        for t in self.trainees {
            t.hosted.shutdown().await;
        }
    }
}

async fn start_one(
    all: &[Loaded],
    how: &Pick,
    scenarios: &Path,
    base: &Path,
    k: usize,
    hidden: bool,
) -> Result<Trainee, String> {
    let started = Instant::now();
    let dir = trainee_dir(base, k);
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let loaded = pick(all, how, scenarios)?;
    let exercise = loaded.scenario.name.clone();
    let session = Session::start(loaded, Options::loopback(&dir), hidden).await?;
    let hosted = Hosted::launch(session, &dir, true).await?;
    Ok(Trainee {
        number: k,
        dir,
        exercise,
        start_ms: started.elapsed().as_millis(),
        hosted,
    })
}

/// The trainer's summary as a table.
pub fn render_summary(lines: &[Summary]) -> String {
    let shown: Vec<String> = lines
        .iter()
        .map(|l| {
            if l.hidden {
                format!("{} (hidden)", l.exercise)
            } else {
                l.exercise.clone()
            }
        })
        .collect();
    let w = shown
        .iter()
        .map(|s| s.chars().count())
        .chain(["exercise".len()])
        .max()
        .unwrap_or(0);
    let mut out = format!(
        "{:<8} {:<w$}  {:<6}  {:<8}  {:<5}  {}\n",
        "trainee", "exercise", "checks", "points", "hints", "admin"
    );
    for (l, name) in lines.iter().zip(&shown) {
        let mark = if l.passed {
            " ✓"
        } else if l.solved_by_trainer {
            " S"
        } else {
            ""
        };
        let points = format!("{}/{}{mark}", l.best_score, l.max_score);
        let hints = format!("{}/{}", l.hints_given, l.hints);
        out.push_str(&format!(
            "{:<8} {name:<w$}  {:<6}  {points:<8}  {hints:<5}  {}\n",
            l.trainee, l.checks_run, l.admin,
        ));
    }
    let fixed = lines.iter().filter(|l| l.passed).count();
    out.push_str(&format!(
        "{fixed} of {} labs fixed (✓: every check passed; S: solved by the trainer)\n",
        lines.len()
    ));
    out
}
