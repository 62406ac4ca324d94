//! hma-lab end-to-end tests: real listeners, both services, talking over HTTP as in the field.
//! One test binary for the whole root crate.

mod aadfaults;
mod book;
mod cli;
mod common;
mod e2e;
mod engine;
mod frontdoor;
mod limits;
mod rollover;
mod shellcli;
