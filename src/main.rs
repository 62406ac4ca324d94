//! The `hma-lab` command line.
//!
//! `up` starts the default lab's two services — mock Azure AD and mock Exchange — wired to each
//! other over HTTP on loopback (and with `--adfs` the ADFS farm, mock-adfs, on the same clock),
//! and prints how to reach them. `run` plays scenario files against
//! fresh labs and reports (human, JSON, JUnit; exit 0 iff every scenario and twin passes);
//! `lint` only parses and validates them. Other front ends arrive as subcommands of this binary.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use hma_lab::cli::args::{Cli, Command, Format};
use lab_kit::Clock;

/// mimalloc instead of glibc's malloc: the lab allocates many small, short-lived buffers per
/// request (headers, JSON, XML), and malloc was a sixth of a scenario run's CPU.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Writes generated text to stdout; a reader that stops early (`| head`) is not an error.
fn print_all(bytes: &[u8]) -> ExitCode {
    use std::io::Write;
    match std::io::stdout().lock().write_all(bytes) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("hma-lab: cannot write to stdout: {e}");
            ExitCode::FAILURE
        }
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match cli.command {
        Command::Completions { shell } => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            let mut out = Vec::new();
            clap_complete::generate(shell, &mut cmd, "hma-lab", &mut out);
            print_all(&out)
        }
        Command::Man => {
            let cmd = <Cli as clap::CommandFactory>::command();
            let mut out = Vec::new();
            match clap_mangen::Man::new(cmd).render(&mut out) {
                Ok(()) => print_all(&out),
                Err(e) => {
                    eprintln!("hma-lab man: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::Run {
            paths,
            format,
            out,
            filter,
            jobs,
        } => run(paths, format, out, filter, jobs).await,
        Command::Lint { paths } => lint(paths),
        Command::Schema { kind } => print_all(kind.render().as_bytes()),
        Command::Serve {
            lab,
            https,
            proxy,
            admin,
            admin_token,
            state_dir,
            har,
            journal_size,
        } => {
            hma_lab::frontdoor::serve::serve(hma_lab::frontdoor::serve::ServeArgs {
                lab,
                https,
                proxy,
                admin,
                admin_token,
                state_dir,
                har,
                journal_size,
            })
            .await
        }
        Command::Env { state_dir } => hma_lab::frontdoor::serve::env(state_dir),
        Command::Shell {
            lab,
            echo,
            attach: true,
            state_dir,
            trainee,
        } => {
            let dir = state_dir.unwrap_or_else(hma_lab::frontdoor::serve::default_state_dir);
            let dir = match trainee {
                Some(k) => hma_lab::classroom::trainee_dir(&dir, k),
                None => dir,
            };
            let _ = lab;
            hma_lab::cli::attach::main(dir, echo).await
        }
        Command::Shell { lab, echo, .. } => hma_lab::cli::shell::main(&lab, echo).await,
        Command::Exercise { command } => hma_lab::exercise::control::main(command).await,
        Command::Classroom { command } => hma_lab::classroom::control::main(command).await,
        Command::Explain { file } => hma_lab::explain::main(&file),
        Command::Up {
            aad_lab,
            exchange_lab,
            aad_listen,
            exchange_listen,
            adfs,
            adfs_lab,
            adfs_listen,
        } => {
            let adfs = (adfs || adfs_lab.is_some()).then_some((adfs_lab, adfs_listen));
            up(aad_lab, exchange_lab, aad_listen, exchange_listen, adfs).await
        }
    }
}

fn default_paths(paths: Vec<PathBuf>) -> Vec<PathBuf> {
    if paths.is_empty() {
        vec![PathBuf::from("scenarios")]
    } else {
        paths
    }
}

fn write_out(text: &str) -> bool {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|_| out.flush())
        .is_ok()
}

async fn run(
    paths: Vec<PathBuf>,
    format: Format,
    out: Option<PathBuf>,
    filter: Option<String>,
    jobs: usize,
) -> ExitCode {
    use std::io::IsTerminal;
    let paths = default_paths(paths);
    let count = hma_lab::scenario::format::discover(&paths)
        .map(|f| f.len())
        .unwrap_or(0);
    let progress: Option<hma_lab::scenario::Progress> =
        if std::io::stderr().is_terminal() && count > 1 {
            let bar = indicatif::ProgressBar::new(count as u64);
            bar.set_style(
                indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} {msg}")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            Some(Arc::new(move |r: &hma_lab::scenario::ScenarioResult| {
                bar.set_message(format!("{} {}", if r.passed { "✓" } else { "✗" }, r.name));
                bar.inc(1);
                if bar.position() >= bar.length().unwrap_or(0) {
                    bar.finish_and_clear();
                }
            }))
        } else {
            None
        };
    let opts = hma_lab::scenario::RunOptions { filter, jobs };
    let report = match hma_lab::scenario::run_paths(&paths, &opts, progress).await {
        Ok(r) => r,
        Err(e) => {
            eprintln!("hma-lab run: {e}");
            return ExitCode::from(2);
        }
    };
    if let Some(dir) = out {
        let written = std::fs::create_dir_all(&dir)
            .and_then(|_| std::fs::write(dir.join("report.json"), report.json()))
            .and_then(|_| std::fs::write(dir.join("junit.xml"), report.junit()))
            .and_then(|_| {
                let hars = dir.join("har");
                std::fs::create_dir_all(&hars)?;
                for s in &report.scenarios {
                    if let Some(journal) = &s.har {
                        let path = hars.join(format!("{}.har", s.name));
                        hma_lab::frontdoor::journal::write_private(&path, &journal.to_har())?;
                    }
                }
                Ok(())
            });
        if let Err(e) = written {
            eprintln!(
                "hma-lab run: cannot write reports to {}: {e}",
                dir.display()
            );
            return ExitCode::from(2);
        }
    }
    let text = match format {
        Format::Human => report.human(),
        Format::Json => report.json() + "\n",
        Format::Junit => report.junit(),
    };
    if !write_out(&text) {
        return ExitCode::FAILURE;
    }
    if report.total == 0 {
        eprintln!("hma-lab run: no scenarios found");
        return ExitCode::from(2);
    }
    if report.all_passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn lint(paths: Vec<PathBuf>) -> ExitCode {
    let paths = default_paths(paths);
    match hma_lab::schemas::lint_paths(&paths) {
        Err(e) => {
            eprintln!("hma-lab lint: {e}");
            ExitCode::from(2)
        }
        Ok((n, errors)) => {
            let mut text = String::new();
            for e in &errors {
                text.push_str(&format!("{e}\n"));
            }
            text.push_str(&format!(
                "{n} file(s) checked, {} with errors\n",
                errors.len()
            ));
            if !write_out(&text) {
                return ExitCode::FAILURE;
            }
            if errors.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

/// Starts mock-adfs for `up`: the shipped farm or the lab file's, on `listen`.
async fn up_adfs(
    lab: Option<PathBuf>,
    listen: SocketAddr,
    clock: &Clock,
) -> Result<mock_adfs::Handle, ExitCode> {
    let mut config = mock_adfs::Config::contoso();
    if let Some(path) = lab {
        match mock_adfs::labfile::load(&path) {
            Ok(farm) => config.farm = farm,
            Err(e) => {
                eprintln!("{e}");
                return Err(ExitCode::from(2));
            }
        }
    }
    config.listen = listen;
    config.clock = clock.clone();
    mock_adfs::start(config).await.map_err(|e| {
        eprintln!("mock-adfs: cannot listen on {listen}: {e}");
        ExitCode::FAILURE
    })
}

async fn up(
    aad_lab: Option<std::path::PathBuf>,
    exchange_lab: Option<std::path::PathBuf>,
    aad_listen: SocketAddr,
    exchange_listen: SocketAddr,
    adfs: Option<(Option<PathBuf>, SocketAddr)>,
) -> ExitCode {
    let stop = shutdown_signal();
    let clock = Clock::system();
    let adfs = match adfs {
        None => None,
        Some((lab, listen)) => match up_adfs(lab, listen, &clock).await {
            Ok(h) => Some(h),
            Err(code) => return code,
        },
    };
    let mut aad_config = mock_aad::Config::contoso();
    if let Some(path) = aad_lab {
        match mock_aad::labfile::load(&path) {
            Ok(dir) => aad_config.directory = dir,
            Err(e) => {
                eprintln!("{e}");
                return ExitCode::from(2);
            }
        }
    }
    aad_config.listen = aad_listen;
    aad_config.clock = clock.clone();
    let aad = match mock_aad::start(aad_config).await {
        Ok(h) => h,
        Err(e) => {
            eprintln!("mock-aad: cannot listen on {aad_listen}: {e}");
            return ExitCode::FAILURE;
        }
    };

    let mut ex_config = mock_exchange::Config::contoso();
    if let Some(path) = exchange_lab {
        match mock_exchange::labfile::load(&path) {
            Ok(org) => ex_config.organization = org,
            Err(e) => {
                eprintln!("{e}");
                return ExitCode::from(2);
            }
        }
    }
    ex_config.listen = exchange_listen;
    ex_config.clock = clock;
    ex_config.aad_url = Some(aad.url());
    let exchange = match mock_exchange::start(ex_config).await {
        Ok(h) => h,
        Err(e) => {
            eprintln!("mock-exchange: cannot listen on {exchange_listen}: {e}");
            return ExitCode::FAILURE;
        }
    };

    let servers: serde_json::Map<String, serde_json::Value> = exchange
        .server_urls()
        .into_iter()
        .map(|(name, url)| (name, serde_json::Value::String(url)))
        .collect();
    let mut ready = serde_json::json!({
        "event": "ready",
        "aad": aad.url(),
        "aad_admin_token": aad.admin_token(),
        "exchange": exchange.url(),
        "exchange_servers": servers,
        "exchange_admin_token": exchange.admin_token(),
    });
    if let Some(a) = &adfs {
        ready["adfs"] = serde_json::json!(a.url());
        ready["adfs_admin_token"] = serde_json::json!(a.admin_token());
    }
    {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        if writeln!(out, "{ready}").and_then(|_| out.flush()).is_err() {
            return ExitCode::FAILURE;
        }
    }
    let adfs_line = match &adfs {
        Some(a) => {
            let host = a.state().farm().host.clone();
            format!(
                "  mock ADFS       {url} ({host}: curl -s {url}/FederationMetadata/2007-06/FederationMetadata.xml)\n",
                url = a.url(),
            )
        }
        None => String::new(),
    };
    eprintln!(
        "\nhma-lab is up (default lab: contoso).\n\
         \n  mock Azure AD   {aad}\n  mock Exchange   {ex}\n{adfs_line}\
         \nTry:\n  curl -s {aad}/contoso.com/v2.0/.well-known/openid-configuration\n  \
         curl -s -X POST {aad}/contoso.com/oauth2/token -d grant_type=password \\\n    \
         -d client_id=d3590ed6-52b3-4102-aeff-aad2292ab01c -d resource=https://mail.contoso.com/ \\\n    \
         -d username=GregT@contoso.com -d 'password=Contoso2017!'\n  \
         curl -si -H 'Host: mail.contoso.com' -H 'Authorization: Bearer' {ex}/mapi/emsmdb/\n\
         \nEvery user's password is Contoso2017!. Ctrl-C stops the lab.",
        aad = aad.url(),
        ex = exchange.url()
    );

    stop.await;
    if let Some(a) = adfs {
        a.shutdown().await;
    }
    exchange.shutdown().await;
    aad.shutdown().await;
    ExitCode::SUCCESS
}

/// Installs the SIGINT/SIGTERM handlers now (before the ready line is printed, so a signal sent
/// right after it is never lost) and returns the future that completes on the first of them.
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let int = signal(SignalKind::interrupt()).ok();
        let term = signal(SignalKind::terminate()).ok();
        async move {
            let wait = |s: Option<tokio::signal::unix::Signal>| async move {
                match s {
                    Some(mut s) => {
                        s.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                _ = wait(int) => {},
                _ = wait(term) => {},
            }
        }
    }
    #[cfg(not(unix))]
    async {
        let _ = tokio::signal::ctrl_c().await;
    }
}
