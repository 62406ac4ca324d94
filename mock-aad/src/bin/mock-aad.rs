//! `mock-aad`: runs one mock Azure AD until SIGINT/SIGTERM.
//!
//! A thin wrapper over [`mock_aad::start`]: parse flags, load the lab file (the shipped contoso
//! lab by default), start, print exactly one JSON ready line on stdout, log to stderr
//! (`RUST_LOG`), shut down gracefully on a signal. A lab file that cannot be used prints its
//! `file:line:column: …` error on stderr and exits with status 2, so scripts can tell a bad lab
//! from a crash.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use mock_aad::{labfile, Clock, Config, Hosts};

/// mimalloc, as `hma-lab`: many small, short-lived buffers per request.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Debug, Parser)]
#[command(name = "mock-aad", version, about = "Mock Azure AD for hma-lab")]
struct Args {
    /// Lab file (YAML) with the directory; default: the shipped contoso lab.
    #[arg(long, value_name = "FILE")]
    lab: Option<PathBuf>,
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// Admin API bearer token; a random one when not given (an empty one is refused).
    #[arg(long, value_name = "TOKEN", value_parser = lab_kit::admin::admin_token_arg)]
    admin_token: Option<String>,
    /// Base URL for discovery documents and sign-in pages; default: from each request's Host.
    #[arg(long, value_name = "URL")]
    public_base: Option<String>,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();

    let directory = match &args.lab {
        Some(path) => labfile::load(path),
        None => labfile::parse_str(mock_aad::CONTOSO_LAB, "contoso.yaml"),
    };
    let directory = match directory {
        Ok(d) => d,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let config = Config {
        listen: args.listen,
        directory,
        clock: Clock::system(),
        hosts: Hosts::default(),
        admin_token: args.admin_token,
        public_base: args.public_base,
    };
    let signal = match shutdown_signal() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("mock-aad: cannot install signal handlers: {e}");
            return ExitCode::from(1);
        }
    };
    let handle = match mock_aad::start(config).await {
        Ok(h) => h,
        Err(e) => {
            eprintln!("mock-aad: cannot listen on {}: {e}", args.listen);
            return ExitCode::from(1);
        }
    };
    let ready = serde_json::json!({
        "event": "ready",
        "service": "mock-aad",
        "url": handle.url(),
        "admin_token": handle.admin_token(),
    });
    {
        let mut out = std::io::stdout().lock();
        if writeln!(out, "{ready}").and_then(|_| out.flush()).is_err() {
            return ExitCode::from(1);
        }
    }
    tracing::info!(url = %handle.url(), "mock-aad ready");

    signal.await;
    tracing::info!("shutting down");
    handle.shutdown().await;
    ExitCode::SUCCESS
}

/// Installs the SIGINT/SIGTERM handlers now (before the ready line, so a signal sent right after
/// it is never missed) and returns a future that resolves on either.
fn shutdown_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = signal(SignalKind::terminate())?;
        let mut int = signal(SignalKind::interrupt())?;
        Ok(async move {
            tokio::select! {
                _ = int.recv() => {}
                _ = term.recv() => {}
            }
        })
    }
    #[cfg(not(unix))]
    {
        Ok(async {
            let _ = tokio::signal::ctrl_c().await;
        })
    }
}
