//! `mock-exchange [--lab FILE] [--listen ADDR] [--aad-url URL] [--admin-token T]`: starts the
//! organization's listeners, prints one JSON ready line, exits 0 on SIGINT/SIGTERM, and exits 2
//! with the lab file error on stderr when the lab cannot be used.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Parser;
use serde_json::{json, Map, Value};

/// mimalloc, as `hma-lab`: many small, short-lived buffers per request.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser, Debug)]
#[command(
    name = "mock-exchange",
    about = "Mock on-premises Exchange 2013/2016 for hma-lab"
)]
struct Args {
    /// Lab file (YAML organization); the built-in contoso lab when absent.
    #[arg(long)]
    lab: Option<PathBuf>,
    /// Address of the first server's listener (others get free ports on the same IP).
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// mock-aad base URL; AuthServer metadata on Azure AD hosts is fetched from here.
    #[arg(long)]
    aad_url: Option<String>,
    /// Admin API token (random when absent; an empty one is refused).
    #[arg(long, value_parser = lab_kit::admin::admin_token_arg)]
    admin_token: Option<String>,
}

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    let organization = match &args.lab {
        Some(p) => mock_exchange::labfile::load(p),
        None => mock_exchange::labfile::parse_str(mock_exchange::CONTOSO_LAB, "contoso.yaml"),
    };
    let organization = match organization {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let config = mock_exchange::Config {
        listen: args.listen,
        organization,
        clock: mock_exchange::Clock::system(),
        aad_url: args.aad_url,
        admin_token: args.admin_token,
    };
    // Signal handlers go in before the ready line, so a supervisor may signal right after it.
    let signals = wait_for_signal();
    let handle = match mock_exchange::start(config).await {
        Ok(h) => h,
        Err(e) => {
            eprintln!("mock-exchange: cannot listen on {}: {e}", args.listen);
            std::process::exit(1);
        }
    };
    let mut servers = Map::new();
    for (name, url) in handle.server_urls() {
        servers.insert(name, Value::String(url));
    }
    let ready = json!({
        "event": "ready",
        "service": "mock-exchange",
        "url": handle.url(),
        "admin_token": handle.admin_token(),
        "servers": servers,
    });
    #[allow(clippy::print_stdout)]
    {
        println!("{ready}");
    }
    signals.await;
    handle.shutdown().await;
}

/// Registers SIGINT/SIGTERM handlers now; the returned future completes on either.
fn wait_for_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    let term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    #[cfg(unix)]
    let int = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt()).ok();
    async move {
        #[cfg(unix)]
        {
            match (term, int) {
                (Some(mut t), Some(mut i)) => {
                    tokio::select! {
                        _ = t.recv() => {}
                        _ = i.recv() => {}
                    }
                }
                _ => {
                    let _ = tokio::signal::ctrl_c().await;
                }
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
