//! mock-aad integration tests: one binary, one module per area.

mod discovery;
mod web;
