//! mock-aad integration tests: one test binary, one module per area.

mod admin;
mod binary;
mod common;
mod discovery;
mod faults;
mod labfile;
mod token;
mod web;
