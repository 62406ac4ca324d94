//! mock-exchange integration tests: one binary, one module per area.
mod common;

mod admin;
mod attacks;
mod bearer;
mod binary;
mod cache;
mod challenges;
mod labfile;
mod metadata_refresh;
mod ntlm;
mod proxy;
mod seed;
