//! `make bench` helper: how much memory 100 labs alive in one process take.
//!
//! Starts `BENCH_LABS` (default 100) contoso labs side by side with [`hma_lab::lab::Lab`], the
//! embedded form a test suite uses, checks that the last one answers a token request, and prints
//! one JSON line with the process's VmRSS before and after (from /proc/self/status). An example
//! rather than a binary of the crate: it exists only for the benchmark.

// The JSON lines on stdout are this helper's whole output, read by bench/run.py.
#![allow(clippy::print_stdout)]

#[path = "common/ropc.rs"]
mod ropc;

use hma_lab::lab::Lab;

/// The allocator of the `hma-lab` binary, so the figure is the product's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn vm_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.split_whitespace().next()?.parse().ok())
        })
        .unwrap_or(0)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let n: usize = std::env::var("BENCH_LABS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    let before = vm_rss_kib();
    let started = std::time::Instant::now();
    let mut labs = Vec::with_capacity(n);
    for _ in 0..n {
        labs.push(Lab::builtin("contoso").await?);
    }
    let start_ms = started.elapsed().as_secs_f64() * 1e3;
    let last = labs.last().ok_or("no lab")?;
    let status = last
        .http_client()
        .post(last.url("login.microsoftonline.com", "/contoso.com/oauth2/token"))
        .form(&ropc::GREG_FOR_EXCHANGE)
        .send()
        .await?
        .status();
    if status != 200 {
        return Err(format!("the last lab answered {status}").into());
    }
    let after = vm_rss_kib();
    println!(
        "{}",
        serde_json::json!({
            "labs": n,
            "rss_before_kib": before,
            "rss_kib": after,
            "start_ms": start_ms,
        })
    );
    for lab in labs {
        lab.shutdown().await;
    }
    Ok(())
}
