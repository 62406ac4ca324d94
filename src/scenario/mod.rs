//! The scenario engine: scenario files ([`format`], with what their sections hold in [`steps`]
//! and [`checks`]), the runner that plays them against fresh labs ([`runner`]) with the cmdlet
//! backend that changes a running lab (`crate::lab::backend`), what each action produced
//! ([`outcome`]), the judging of expectations on it ([`expect`]) and the reports ([`report`]).
//!
//! [`run_paths`] is what `hma-lab run` does: find the files, load them (a file that does not
//! load is a failed scenario with its file:line:col error), run them as tokio tasks bounded by
//! twice the number of cores, and gather a [`report::Report`] in file order.

pub mod checks;
pub mod exercise;
pub mod expect;
pub mod format;
mod labels;
pub mod outcome;
pub mod report;
pub mod results;
pub mod runner;
mod schema;
pub mod steps;

#[cfg(test)]
mod tests;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

pub use format::{load, Loaded, Scenario};
pub use report::Report;
pub use runner::ScenarioResult;

/// Told each scenario's result as it finishes (the progress bar).
pub type Progress = Arc<dyn Fn(&ScenarioResult) + Send + Sync>;

/// Options of a run.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Only scenarios whose name contains this (case-insensitive).
    pub filter: Option<String>,
    /// Scenarios run at once; 0: twice the number of cores (a scenario spends part of its time
    /// waiting for its lab's answers, so two per core keep the cores busy).
    pub jobs: usize,
}

/// Loads and runs every scenario under `paths`; `progress` is told each finished scenario.
pub async fn run_paths(
    paths: &[PathBuf],
    opts: &RunOptions,
    progress: Option<Progress>,
) -> Result<Report, String> {
    let started = Instant::now();
    let files = format::discover(paths)?;
    let mut jobs: Vec<Result<Loaded, ScenarioResult>> = Vec::new();
    for f in &files {
        match format::load(f) {
            Ok(l) => jobs.push(Ok(l)),
            Err(e) => jobs.push(Err(ScenarioResult::load_error(
                &f.display().to_string(),
                e.to_string(),
            ))),
        }
    }
    if let Some(filter) = &opts.filter {
        let f = filter.to_ascii_lowercase();
        jobs.retain(|j| {
            let name = match j {
                Ok(l) => l.scenario.name.to_ascii_lowercase(),
                Err(r) => r.name.to_ascii_lowercase(),
            };
            name.contains(&f)
        });
    }
    let n = if opts.jobs == 0 {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
            .saturating_mul(2)
    } else {
        opts.jobs
    };
    let sem = Arc::new(tokio::sync::Semaphore::new(n.max(1)));
    let mut handles = Vec::new();
    for j in jobs {
        let sem = sem.clone();
        let progress = progress.clone();
        handles.push(tokio::spawn(async move {
            let r = match j {
                Err(r) => r,
                Ok(l) => {
                    let _permit = sem.acquire_owned().await;
                    runner::run(&l).await
                }
            };
            if let Some(p) = &progress {
                p(&r);
            }
            r
        }));
    }
    let mut results = Vec::new();
    for h in handles {
        match h.await {
            Ok(r) => results.push(r),
            Err(e) => results.push(ScenarioResult::load_error(
                "(task)",
                format!("a scenario task failed: {e}"),
            )),
        }
    }
    Ok(Report::new(results, started.elapsed().as_millis()))
}
