//! mock-aad integration tests: one test binary, one module per area.

mod admin;
mod attacks;
mod binary;
mod common;
mod discovery;
mod faults;
mod federation;
mod forge;
mod grants;
mod identity;
mod labfile;
mod openapi;
mod token;
mod web;
