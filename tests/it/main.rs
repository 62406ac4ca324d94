//! hma-lab end-to-end tests: real listeners, both services, talking over HTTP as in the field.
//! One test binary for the whole root crate.

mod aadfaults;
mod adfs;
mod book;
mod classroom;
mod cli;
mod client;
mod client_lab;
mod common;
mod dashboard;
mod e2e;
mod engine;
mod exercise;
mod forge;
mod frontdoor;
mod identity;
mod lab;
mod limits;
mod openapi;
mod rollover;
mod saz;
mod schemas;
mod servers;
mod shellcli;
