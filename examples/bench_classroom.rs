//! `make bench` helper: how fast a classroom's labs start.
//!
//! Starts a classroom of `BENCH_TRAINEES` (default 20) trainees on the library's
//! `no-authorization-uri` exercise with [`hma_lab::classroom::Classroom`] — each lab with its own
//! services, front door, CA, break applied and the reference Outlook's symptom taken — and prints
//! one JSON line: the total, and the median and slowest lab. An example rather than a test: a
//! timing belongs in the benchmark, never in the suite.

// The JSON line on stdout is this helper's whole output, read by bench/run.py.
#![allow(clippy::print_stdout)]

use hma_lab::classroom::{Classroom, Pick};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let n: usize = std::env::var("BENCH_TRAINEES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let base = std::env::temp_dir().join(format!("hma-bench-classroom-{}", std::process::id()));
    let started = std::time::Instant::now();
    let room = Classroom::start(
        std::path::Path::new("scenarios"),
        &Pick::Named("no-authorization-uri".into()),
        n,
        &base,
    )
    .await?;
    let total_ms = started.elapsed().as_secs_f64() * 1e3;
    let mut each: Vec<u128> = room.trainees().iter().map(|t| t.start_ms).collect();
    each.sort_unstable();
    println!(
        "{}",
        serde_json::json!({
            "trainees": n,
            "total_ms": total_ms,
            "median_ms": each.get(each.len() / 2),
            "max_ms": each.last(),
        })
    );
    room.shutdown().await;
    let _ = std::fs::remove_dir_all(&base);
    Ok(())
}
