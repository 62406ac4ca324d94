//! What a scenario run reports: each step or action as run, each phase, each twin, and the
//! scenario's verdict ([`ScenarioResult`]), which the reports ([`super::report`]) print.

use serde::Serialize;

use super::expect::CheckResult;
use crate::frontdoor::journal::Journal;

/// One step or action as run.
#[derive(Debug, Clone, Serialize)]
pub struct StepResult {
    /// `given`, `when`, `fix`, `twin`.
    pub section: String,
    pub text: String,
    pub ok: bool,
    /// Console output of a cmdlet, the error, or the action's result summary.
    pub detail: Option<String>,
}

/// One phase: steps run and expectations checked.
#[derive(Debug, Clone, Serialize)]
pub struct PhaseResult {
    pub steps: Vec<StepResult>,
    pub checks: Vec<CheckResult>,
}

impl PhaseResult {
    pub fn steps_ok(&self) -> bool {
        self.steps.iter().all(|s| s.ok)
    }
    pub fn checks_ok(&self) -> bool {
        self.checks.iter().all(|c| c.passed)
    }
    pub fn failed_checks(&self) -> usize {
        self.checks.iter().filter(|c| !c.passed).count()
    }
}

/// A broken twin's run.
#[derive(Debug, Clone, Serialize)]
pub struct TwinResult {
    /// `automatic` (given + fix + when) or `explicit` (given + twin + when).
    pub kind: String,
    /// The twin did what it must: its steps ran and at least one `then` expectation failed.
    pub ok: bool,
    pub summary: String,
    pub phase: Option<PhaseResult>,
    pub error: Option<String>,
}

/// A scenario's whole result.
#[derive(Debug, Clone, Serialize)]
pub struct ScenarioResult {
    pub name: String,
    pub title: String,
    pub guide: String,
    pub file: String,
    pub passed: bool,
    pub duration_ms: u128,
    /// The scenario could not be loaded or its lab not started.
    pub error: Option<String>,
    /// given + when + then.
    pub main: Option<PhaseResult>,
    /// fix + when + after_fix.
    pub after_fix: Option<PhaseResult>,
    pub twins: Vec<TwinResult>,
    /// Every exchange of the main run (given, when, fix, when) through the lab's front door:
    /// the journal, turned into HAR 1.2 only when asked ([`Journal::to_har`]; `hma-lab run
    /// --out DIR` writes it to `DIR/har/<name>.har`), so a run without `--out` never builds it.
    #[serde(skip)]
    pub har: Option<Journal>,
}

impl ScenarioResult {
    /// A scenario that did not load.
    pub fn load_error(file: &str, error: String) -> ScenarioResult {
        let name = std::path::Path::new(file)
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or(file)
            .to_string();
        ScenarioResult {
            name,
            title: String::new(),
            guide: String::new(),
            file: file.to_string(),
            passed: false,
            duration_ms: 0,
            error: Some(error),
            main: None,
            after_fix: None,
            twins: Vec::new(),
            har: None,
        }
    }

    /// One line per failure, for summaries.
    pub fn failure_lines(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(e) = &self.error {
            out.push(e.clone());
        }
        for (label, ph) in [("then", &self.main), ("after_fix", &self.after_fix)] {
            if let Some(p) = ph {
                for s in p.steps.iter().filter(|s| !s.ok) {
                    out.push(format!(
                        "{} step failed: {}: {}",
                        s.section,
                        s.text,
                        s.detail.as_deref().unwrap_or("")
                    ));
                }
                for c in p.checks.iter().filter(|c| !c.passed) {
                    out.push(format!(
                        "{label}: {}: expected {}, actual {}",
                        c.expectation, c.expected, c.actual
                    ));
                }
            }
        }
        for t in self.twins.iter().filter(|t| !t.ok) {
            out.push(format!("twin ({}): {}", t.kind, t.summary));
        }
        out
    }
}
