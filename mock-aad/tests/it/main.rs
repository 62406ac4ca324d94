//! mock-aad integration tests: one test binary, one module per area.

mod discovery;
mod token;
mod web;
