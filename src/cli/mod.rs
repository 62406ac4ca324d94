//! Front ends of the `hma-lab` binary that are more than a call into the library: the
//! interactive cmdlet shell ([`shell`]). They live in the library so the integration suite can
//! drive them with in-memory input and output instead of a terminal.

pub mod shell;
