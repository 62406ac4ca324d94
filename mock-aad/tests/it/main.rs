//! mock-aad integration tests: one test binary, one module per area.

mod admin;
mod binary;
mod faults;
mod labfile;
