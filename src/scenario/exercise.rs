//! A scenario's `exercise:` section: what turns a scenario into a training exercise
//! (`hma-lab exercise`). The scenario already holds the break (`given`), the check (`after_fix`)
//! and the solution (`fix`); this section only adds what a trainee is told — a briefing written
//! as the user's symptom, never its cause — how hard it is, up to three hints from vague to
//! precise, and the points each `after_fix` check is worth. Plain data and its validation here;
//! the running exercise is `crate::exercise`.

use lab_kit::FileError;
use serde::{Deserialize, Serialize};

/// Most hints an exercise may give.
pub const MAX_HINTS: usize = 3;

/// The `exercise:` section of a scenario file.
#[derive(Debug, Clone, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExerciseMeta {
    /// What the trainee is told: the user's symptom, as a helpdesk ticket would put it.
    pub briefing: String,
    /// 1 (a single setting) to 3 (needs the guide end to end).
    pub difficulty: u8,
    /// Up to three hints, vague first; `check` reveals the next one when a check fails.
    #[serde(default)]
    pub hints: Vec<String>,
    /// Points per `after_fix` check, in order; every check is worth 1 when absent.
    #[serde(default)]
    pub points: Option<Vec<u32>>,
}

impl ExerciseMeta {
    /// The points of each of `checks` checks.
    pub fn points_for(&self, checks: usize) -> Vec<u32> {
        match &self.points {
            Some(p) => p.clone(),
            None => vec![1; checks],
        }
    }
}

/// Checks the section against the rest of the scenario; `err` places a message at a needle.
pub fn validate(
    m: &ExerciseMeta,
    has_fix: bool,
    after_fix: usize,
    err: &dyn Fn(&str, String) -> FileError,
) -> Result<(), FileError> {
    if !has_fix {
        return Err(err(
            "exercise:",
            "exercise: an exercise needs `fix` (the solution `hma-lab exercise solve` applies) and `after_fix` (its checks)".into(),
        ));
    }
    if m.briefing.trim().is_empty() {
        return Err(err(
            "briefing:",
            "exercise: `briefing` is empty; write the user's symptom (never its cause)".into(),
        ));
    }
    if !(1..=3).contains(&m.difficulty) {
        return Err(err(
            "difficulty:",
            format!(
                "exercise: difficulty {} is out of range, expected 1, 2 or 3",
                m.difficulty
            ),
        ));
    }
    if m.hints.len() > MAX_HINTS {
        return Err(err(
            "hints:",
            format!(
                "exercise: {} hints, at most {MAX_HINTS} (vague to precise)",
                m.hints.len()
            ),
        ));
    }
    if let Some(h) = m.hints.iter().find(|h| h.trim().is_empty()) {
        return Err(err("hints:", format!("exercise: an empty hint `{h}`")));
    }
    if let Some(p) = &m.points {
        if p.len() != after_fix {
            return Err(err(
                "points:",
                format!(
                    "exercise: {} points for {after_fix} after_fix check(s); give one number per check, in order",
                    p.len()
                ),
            ));
        }
        if p.iter().any(|&n| n == 0 || n > 100) {
            return Err(err(
                "points:",
                "exercise: every check is worth 1 to 100 points".into(),
            ));
        }
    }
    Ok(())
}
