//! hma-lab end-to-end tests: real listeners, both services, talking over HTTP as in the field.
//! One test binary for the whole root crate.

mod cli;
mod e2e;
mod frontdoor;
