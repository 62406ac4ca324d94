//! Front ends of the `hma-lab` binary that are more than a call into the library: the command's
//! arguments ([`args`]) and the interactive cmdlet shell ([`shell`], and [`attach`]ed to a running lab). They live in the library so
//! the integration suite can drive them with in-memory input and output instead of a terminal,
//! and the book can render the CLI reference from the same definitions.

pub mod args;
pub mod attach;
pub mod shell;
