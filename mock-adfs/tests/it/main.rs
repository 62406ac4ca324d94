//! mock-adfs end to end: real listeners, real sockets, one test binary.

mod admin;
mod common;
mod hostile;
mod metadata;
mod openapi;
mod passive;
mod trust;
