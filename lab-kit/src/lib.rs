//! What every hma-lab service shares, and nothing else: the lab [`Clock`] and lab-file parsing
//! with errors that name file, line, column and the fix ([`labfile`]). No shared *state* lives
//! here — each service owns its own and exposes it through its admin API. The NTLM message codec
//! ([`ntlm`]) is here because mock Exchange and the reference Outlook client speak it from
//! opposite ends.

pub mod catalogue;
pub mod clock;
pub mod labfile;
pub mod ntlm;
pub mod wire;
pub mod wirecase;

pub use clock::Clock;
pub use labfile::{parse_yaml, FileError};
