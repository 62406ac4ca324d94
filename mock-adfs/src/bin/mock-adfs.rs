//! `mock-adfs`: runs one mock ADFS farm until SIGINT/SIGTERM.
//!
//! A thin wrapper over [`mock_adfs::start`]: parse flags, load the lab file (the shipped contoso
//! farm by default), start, print exactly one JSON ready line on stdout, log to stderr
//! (`RUST_LOG`), shut down gracefully on a signal. A lab file that cannot be used prints its
//! `file:line:column: …` error on stderr and exits with status 2.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use mock_adfs::{labfile, Clock, Config};

/// mimalloc, as `hma-lab`: many small, short-lived buffers per request.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Debug, Parser)]
#[command(name = "mock-adfs", version, about = "Mock ADFS for hma-lab")]
struct Args {
    /// Lab file (YAML) with the farm; default: the shipped contoso farm.
    #[arg(long, value_name = "FILE")]
    lab: Option<PathBuf>,
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// Admin API bearer token; a random one when not given (an empty one is refused).
    #[arg(long, value_name = "TOKEN", value_parser = lab_kit::admin::admin_token_arg)]
    admin_token: Option<String>,
    /// PEM certificate the farm's TLS endpoint presents (what extended protection binds to).
    #[arg(long, value_name = "FILE")]
    tls_cert: Option<PathBuf>,
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

    let farm = match &args.lab {
        Some(path) => labfile::load(path),
        None => labfile::parse_str(mock_adfs::CONTOSO_LAB, "contoso.yaml"),
    };
    let farm = match farm {
        Ok(f) => f,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let tls_certificate = match &args.tls_cert {
        None => None,
        Some(path) => {
            let read = std::fs::read_to_string(path)
                .map_err(|e| e.to_string())
                .and_then(|t| {
                    lab_kit::saml::cert::pem_block(&t, "CERTIFICATE").map_err(|e| e.to_string())
                });
            match read {
                Ok(der) => Some(der),
                Err(e) => {
                    eprintln!("{}: {e}; give a PEM certificate", path.display());
                    return ExitCode::from(2);
                }
            }
        }
    };
    let config = Config {
        listen: args.listen,
        farm,
        clock: Clock::system(),
        admin_token: args.admin_token,
        tls_certificate,
    };
    let signal = match lab_kit::serve::shutdown_signal() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("mock-adfs: cannot install signal handlers: {e}");
            return ExitCode::from(1);
        }
    };
    let handle = match mock_adfs::start(config).await {
        Ok(h) => h,
        Err(e) => {
            eprintln!("mock-adfs: cannot listen on {}: {e}", args.listen);
            return ExitCode::from(1);
        }
    };
    let ready = serde_json::json!({
        "event": "ready",
        "service": "mock-adfs",
        "url": handle.url(),
        "admin_token": handle.admin_token(),
    });
    {
        let mut out = std::io::stdout().lock();
        if writeln!(out, "{ready}").and_then(|_| out.flush()).is_err() {
            return ExitCode::from(1);
        }
    }
    tracing::info!(url = %handle.url(), "mock-adfs ready");
    signal.await;
    tracing::info!("shutting down");
    handle.shutdown().await;
    ExitCode::SUCCESS
}
