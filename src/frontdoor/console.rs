//! The one cmdlet session of a served lab, shared by the admin API's `POST /cmdlet` and the
//! dashboard's cmdlet box, so a `$variable` set in one is there in the other.
//!
//! The session's backend is the lab's `LabBackend` (`crate::lab::backend`): the services' own
//! admin APIs, as an administrator's change reaches the real products. The shell is synchronous
//! and blocks on the runtime, so a line runs on a blocking thread. It is its own module so that
//! the admin API and the dashboard both depend on it rather than on each other.

use std::sync::{Arc, Mutex};

use crate::lab::backend::{LabBackend, Machine};
use crate::lab::Lab;
use crate::shell::format::ListStyle;
use crate::shell::Shell;

/// What a line gave: the shell's output text, or its rendered error record.
pub type LineResult = Result<String, String>;

/// The lab's cmdlet session, made on first use (it needs the runtime's handle).
pub struct Console {
    lab: Arc<Lab>,
    /// The client machine's settings (`reg add`, `defaults write`): shared with whoever runs the
    /// reference client on this lab (an exercise's checks), so a trainee's change reaches it.
    machine: Arc<Mutex<Machine>>,
    shell: Mutex<Option<Arc<Mutex<Shell<LabBackend>>>>>,
}

impl Console {
    pub fn new(lab: Arc<Lab>, machine: Arc<Mutex<Machine>>) -> Console {
        Console {
            lab,
            machine,
            shell: Mutex::new(None),
        }
    }

    fn shell(&self) -> Arc<Mutex<Shell<LabBackend>>> {
        let mut slot = self.shell.lock().unwrap_or_else(|p| p.into_inner());
        slot.get_or_insert_with(|| {
            let backend = LabBackend::new(
                &self.lab,
                tokio::runtime::Handle::current(),
                self.machine.clone(),
            );
            Arc::new(Mutex::new(Shell::new(backend)))
        })
        .clone()
    }

    /// Runs one line (a trailing newline is dropped). `Err` only when the blocking task itself
    /// failed; the line's own success or error is the inner result.
    pub async fn run(&self, line: &str) -> Result<LineResult, String> {
        Ok(self
            .run_styled(line, ListStyle::Seed)
            .await?
            .map(|(text, _)| text))
    }

    /// Runs one line with `Format-List` in `style` (`Padded` as a console prints it, for
    /// `hma-lab shell --attach`); the output comes with the shell's notes.
    pub async fn run_styled(
        &self,
        line: &str,
        style: ListStyle,
    ) -> Result<Result<(String, Vec<String>), String>, String> {
        let shell = self.shell();
        let line = line.trim_end_matches(['\r', '\n']).to_string();
        tokio::task::spawn_blocking(move || {
            let mut sh = shell.lock().unwrap_or_else(|p| p.into_inner());
            let seed = std::mem::replace(&mut sh.style, style);
            let res = sh
                .run(&line)
                .map(|o| (o.text, o.notes))
                .map_err(|e| e.render());
            sh.style = seed;
            res
        })
        .await
        .map_err(|e| format!("the cmdlet task failed: {e}"))
    }
}
