//! mock-exchange integration tests: one binary, one module per area.
mod common;
/// The forger's kit, shared with mock-aad's attack corpus.
#[path = "../../../mock-aad/tests/it/forge.rs"]
mod forge;

mod admin;
mod attacks;
mod bearer;
mod binary;
mod cache;
mod challenges;
mod labfile;
mod metadata_refresh;
mod ntlm;
mod openapi;
mod proxy;
mod seed;
mod servers;
