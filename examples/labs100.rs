//! Starts 100 labs in one process the way `hma-lab run` starts each scenario's lab (the built-in
//! `contoso` lab on a frozen clock behind an in-memory TLS front door, a PowerShell session and
//! a reference client transport) and prints the process's resident memory, before and after.
//!
//! `cargo run --release --example labs100 [N]` — the memory figure of the book's "Where a
//! scenario run spends its time".

#![allow(clippy::print_stdout)]

use hma_lab::scenario::format::LabRef;
use hma_lab::scenario::runner::Ctx;

/// The allocator of the `hma-lab` binary, so the figure is the product's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn vm_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

#[tokio::main]
async fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100);
    let before = vm_rss_kib();
    let started = std::time::Instant::now();
    let mut labs = Vec::with_capacity(n);
    for _ in 0..n {
        labs.push(
            Ctx::start(&LabRef::Builtin("contoso".into()))
                .await
                .expect("the lab starts"),
        );
    }
    let after = vm_rss_kib();
    println!(
        "{n} labs alive: VmRSS {:.1} MiB (before {:.1} MiB, {:.0} KiB a lab), started in {} ms",
        after as f64 / 1024.0,
        before as f64 / 1024.0,
        (after.saturating_sub(before)) as f64 / n as f64,
        started.elapsed().as_millis()
    );
    drop(labs);
}
