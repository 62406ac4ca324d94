//! The `hma-lab` command's arguments, as clap definitions.
//!
//! They live in the library rather than in `main.rs` so that the book's CLI reference
//! (`hma_lab::book::render_cli`) is rendered from the very definitions the binary parses, and a
//! test can check the page against them. `main.rs` only matches on [`Command`] and runs it.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// `0.1.0 (rev 1a2b3c4d5e6f)`: the package version and the git revision it was built from
/// (`build.rs`; `unknown` outside a git checkout).
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (rev ",
    env!("HMA_LAB_GIT_REV"),
    ")"
);

#[derive(Parser)]
#[command(
    name = "hma-lab",
    version = VERSION,
    about = "Offline lab for Exchange Hybrid Modern Authentication"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell) to stdout.
    Completions {
        /// The shell to complete for.
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff) to stdout: `hma-lab man > hma-lab.1`.
    Man,
    /// Start the default lab (mock Azure AD + mock Exchange, and with --adfs the ADFS farm; plain HTTP on loopback) until Ctrl-C.
    Up {
        /// mock-aad lab file (default: the shipped contoso directory).
        #[arg(long)]
        aad_lab: Option<std::path::PathBuf>,
        /// mock-exchange lab file (default: the shipped contoso organization).
        #[arg(long)]
        exchange_lab: Option<std::path::PathBuf>,
        /// Address for mock-aad.
        #[arg(long, default_value = "127.0.0.1:0")]
        aad_listen: SocketAddr,
        /// Address for mock-exchange's first server (others take free ports).
        #[arg(long, default_value = "127.0.0.1:0")]
        exchange_listen: SocketAddr,
        /// Also start the ADFS farm (mock-adfs; the shipped adfs.contoso.com unless --adfs-lab).
        #[arg(long)]
        adfs: bool,
        /// mock-adfs lab file (implies --adfs).
        #[arg(long, value_name = "FILE")]
        adfs_lab: Option<std::path::PathBuf>,
        /// Address for mock-adfs.
        #[arg(long, default_value = "127.0.0.1:0")]
        adfs_listen: SocketAddr,
    },
    /// Run scenario files (default: scenarios/), each on fresh labs, with their broken twins.
    Run {
        /// Scenario files or directories (scanned for *.yaml; labs/ skipped).
        paths: Vec<PathBuf>,
        /// Report format on stdout.
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
        /// Also write DIR/report.json, DIR/junit.xml and DIR/har/<scenario>.har (each main run's
        /// exchanges through the lab's front door, for a HAR viewer or `hma-lab explain`).
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// Only scenarios whose name contains NAME.
        #[arg(long, value_name = "NAME")]
        filter: Option<String>,
        /// Scenarios run at once (default: twice the number of cores).
        #[arg(long, short = 'j', default_value_t = 0)]
        jobs: usize,
    },
    /// Parse and validate scenario and lab files without running them; exit 1 on errors.
    Lint {
        /// Files or directories (default: scenarios/; a directory gives its scenario files). A
        /// file is read as the kind its `# yaml-language-server: $schema=…` line names
        /// (lab, aad-lab, exchange-lab, adfs-lab), else as a scenario.
        paths: Vec<PathBuf>,
    },
    /// Print the JSON Schema (draft 2020-12) of a kind of YAML file, as in schemas/.
    Schema {
        /// The kind of file.
        #[arg(value_enum)]
        kind: crate::schemas::Kind,
    },
    /// Serve a lab to real clients: TLS front door, forward proxy, admin API (the book's "Serving real clients").
    Serve {
        /// A shipped lab's name (contoso, contoso-pre-hma, contoso-federated, contoso-pta) or a lab file.
        #[arg(long, value_name = "NAME|FILE")]
        lab: Option<String>,
        /// TLS listener serving every lab host by SNI/Host.
        #[arg(long, default_value = "127.0.0.1:0")]
        https: SocketAddr,
        /// Forward proxy (CONNECT and http://) for HTTPS_PROXY.
        #[arg(long, default_value = "127.0.0.1:0")]
        proxy: SocketAddr,
        /// Admin API listener (loopback clients with the bearer token only).
        #[arg(long, default_value = "127.0.0.1:0")]
        admin: SocketAddr,
        /// Admin API bearer token; a random one when not given (an empty one is refused).
        #[arg(long, value_name = "TOKEN", value_parser = lab_kit::admin::admin_token_arg)]
        admin_token: Option<String>,
        /// Where the lab CA and serve.json live (default $XDG_STATE_HOME/hma-lab).
        #[arg(long, value_name = "DIR")]
        state_dir: Option<PathBuf>,
        /// Write the journal as HAR 1.2 to FILE on shutdown.
        #[arg(long, value_name = "FILE")]
        har: Option<PathBuf>,
        /// Exchanges the journal keeps.
        #[arg(long, value_name = "N", default_value_t = 1000)]
        journal_size: usize,
    },
    /// Print export lines pointing clients at a running `hma-lab serve`.
    Env {
        /// The state directory `serve` was given.
        #[arg(long, value_name = "DIR")]
        state_dir: Option<PathBuf>,
    },
    /// Start a lab and the cmdlet shell on it (or --attach to a running one); reads commands from stdin when it is not a terminal.
    Shell {
        /// A builtin lab (contoso, contoso-pre-hma, contoso-federated, contoso-pta) or a lab file.
        #[arg(
            long,
            default_value = "contoso",
            value_name = "NAME|FILE",
            conflicts_with = "attach"
        )]
        lab: String,
        /// Print the prompt and each command before its output (when reading stdin).
        #[arg(long)]
        echo: bool,
        /// Run the cmdlets on the running lab (`serve`, `exercise start`, a classroom's) over its admin API.
        #[arg(long)]
        attach: bool,
        /// With --attach: the state directory the lab was started with (default $XDG_STATE_HOME/hma-lab).
        #[arg(long, value_name = "DIR", requires = "attach")]
        state_dir: Option<PathBuf>,
        /// With --attach: trainee K's lab of the classroom started with --state-dir (or the default).
        #[arg(long, value_name = "K", requires = "attach")]
        trainee: Option<usize>,
    },
    /// Training exercises: a broken lab served to real clients, checked, hinted, solved.
    Exercise {
        #[command(subcommand)]
        command: ExerciseCommand,
    },
    /// A classroom: N trainees' exercise labs, isolated, in one process, and the trainer's summary.
    Classroom {
        #[command(subcommand)]
        command: ClassroomCommand,
    },
    /// Name the guide's cause and fix for a failing response (raw HTTP, curl -v, HAR) or scenario.
    Explain {
        /// The capture or scenario file.
        file: PathBuf,
    },
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Human,
    Json,
    Junit,
}

/// `hma-lab exercise …` (the book's "Teaching with hma-lab").
#[derive(Subcommand)]
pub enum ExerciseCommand {
    /// List the exercises: name, difficulty and briefing.
    List {
        /// Where the scenarios are.
        #[arg(long, value_name = "DIR", default_value = "scenarios")]
        scenarios: PathBuf,
    },
    /// Start an exercise: its lab served as `hma-lab serve` serves one, broken, until `stop`.
    Start {
        /// The exercise (see `list`).
        #[arg(required_unless_present = "random", conflicts_with = "random")]
        name: Option<String>,
        /// A random exercise, without telling which.
        #[arg(long)]
        random: bool,
        /// With --random: only exercises of this difficulty (1 to 3).
        #[arg(long, value_name = "N", requires = "random", value_parser = clap::value_parser!(u8).range(1..=3))]
        level: Option<u8>,
        /// Where the scenarios are.
        #[arg(long, value_name = "DIR", default_value = "scenarios")]
        scenarios: PathBuf,
        /// TLS listener serving every lab host by SNI/Host.
        #[arg(long, default_value = "127.0.0.1:0")]
        https: SocketAddr,
        /// Forward proxy (CONNECT and http://) for HTTPS_PROXY.
        #[arg(long, default_value = "127.0.0.1:0")]
        proxy: SocketAddr,
        /// Admin API listener (the trainee's cmdlets: `POST /cmdlet`).
        #[arg(long, default_value = "127.0.0.1:0")]
        admin: SocketAddr,
        /// Admin API bearer token; a random one when not given.
        #[arg(long, value_name = "TOKEN", value_parser = lab_kit::admin::admin_token_arg)]
        admin_token: Option<String>,
        /// Where the lab CA, serve.json and exercise.json live (default $XDG_STATE_HOME/hma-lab).
        #[arg(long, value_name = "DIR")]
        state_dir: Option<PathBuf>,
    },
    /// The running exercise: briefing, difficulty, hints given, best score, addresses.
    Status {
        /// The state directory `exercise start` was given (default $XDG_STATE_HOME/hma-lab).
        #[arg(long, value_name = "DIR")]
        state_dir: Option<PathBuf>,
    },
    /// Run the exercise's checks against the live lab; exit 0 when every one passes.
    Check {
        /// human or json.
        #[arg(long, value_enum, default_value_t = CheckFormat::Human)]
        format: CheckFormat,
        /// The state directory `exercise start` was given (default $XDG_STATE_HOME/hma-lab).
        #[arg(long, value_name = "DIR")]
        state_dir: Option<PathBuf>,
    },
    /// The next hint, vague to precise.
    Hint {
        /// The state directory `exercise start` was given (default $XDG_STATE_HOME/hma-lab).
        #[arg(long, value_name = "DIR")]
        state_dir: Option<PathBuf>,
    },
    /// Apply the solution to the live lab and print it (the trainer's answer).
    Solve {
        /// The state directory `exercise start` was given (default $XDG_STATE_HOME/hma-lab).
        #[arg(long, value_name = "DIR")]
        state_dir: Option<PathBuf>,
    },
    /// A fresh lab on the same addresses, broken again.
    Reset {
        /// The state directory `exercise start` was given (default $XDG_STATE_HOME/hma-lab).
        #[arg(long, value_name = "DIR")]
        state_dir: Option<PathBuf>,
    },
    /// Stop the exercise's lab.
    Stop {
        /// The state directory `exercise start` was given (default $XDG_STATE_HOME/hma-lab).
        #[arg(long, value_name = "DIR")]
        state_dir: Option<PathBuf>,
    },
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CheckFormat {
    Human,
    Json,
}

/// `hma-lab classroom …` (the book's "Teaching with hma-lab").
#[derive(Subcommand)]
pub enum ClassroomCommand {
    /// Start N trainees' labs, each its own exercise lab (ports, admin token, clock, CA), until `stop`.
    Start {
        /// How many trainees (1 to 200).
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=200))]
        trainees: u16,
        /// The exercise every trainee gets (see `hma-lab exercise list`).
        #[arg(
            long,
            value_name = "NAME",
            required_unless_present = "random",
            conflicts_with = "random"
        )]
        exercise: Option<String>,
        /// A random exercise for each trainee, without telling them which.
        #[arg(long)]
        random: bool,
        /// With --random: only exercises of this difficulty (1 to 3).
        #[arg(long, value_name = "N", requires = "random", value_parser = clap::value_parser!(u8).range(1..=3))]
        level: Option<u8>,
        /// Where the scenarios are.
        #[arg(long, value_name = "DIR", default_value = "scenarios")]
        scenarios: PathBuf,
        /// The trainer's state directory: classroom.json, and classroom/trainee-K/ for each lab (default $XDG_STATE_HOME/hma-lab).
        #[arg(long, value_name = "DIR")]
        state_dir: Option<PathBuf>,
    },
    /// The trainer's summary: each trainee's exercise, checks run, best score, hints used.
    Status {
        /// human or json.
        #[arg(long, value_enum, default_value_t = CheckFormat::Human)]
        format: CheckFormat,
        /// The state directory `classroom start` was given (default $XDG_STATE_HOME/hma-lab).
        #[arg(long, value_name = "DIR")]
        state_dir: Option<PathBuf>,
    },
    /// Stop every lab of the classroom.
    Stop {
        /// The state directory `classroom start` was given (default $XDG_STATE_HOME/hma-lab).
        #[arg(long, value_name = "DIR")]
        state_dir: Option<PathBuf>,
    },
}
