//! Test support shared by the shell's fake backends: a backend with no service, and running a
//! line that must succeed or fail.

use super::backend::*;
use super::{Shell, ShellError};

/// A backend that offers no service (every cmdlet answers "not supported by this backend").
pub(super) struct Bare;

impl Backend for Bare {}

/// Runs a line that must succeed; its text output.
pub(super) fn run<B: Backend>(sh: &mut Shell<B>, line: &str) -> String {
    match sh.run(line) {
        Ok(o) => o.text,
        Err(e) => panic!("{line}: {}", e.render()),
    }
}

/// Runs a line that must fail; its error record.
pub(super) fn fail<B: Backend>(sh: &mut Shell<B>, line: &str) -> ShellError {
    match sh.run(line) {
        Ok(o) => panic!("{line}: expected an error, got {:?}", o.text),
        Err(e) => e,
    }
}
