//! `hma-lab shell`: a running lab and the cmdlet shell on it, as a trainee's console.
//!
//! The session starts a [`Lab`] (builtin `contoso` unless `--lab` names another builtin or a lab
//! file) and a [`Shell`] over its [`LabBackend`], so each line reaches mock Azure AD or mock
//! Exchange through their admin APIs exactly as a scenario step does. On a terminal it is
//! interactive (rustyline: the `[PS] C:\Windows\system32>` prompt, history, tab completion of
//! cmdlet and parameter names through [`crate::shell::complete`]); otherwise it reads stdin line
//! by line, so `hma-lab shell < steps.ps1` replays a procedure. A line that leaves a statement
//! open (a trailing `|`, an unclosed bracket or string) continues on the next line, as in
//! PowerShell. Errors are PowerShell's records, red only on a terminal; the exit code is 1 when
//! any line failed.
//!
//! Lines starting with `lab` are the lab's own meta-commands, for what PowerShell cannot do:
//! `lab status` runs the reference Outlook client and prints its Connection Status line
//! (server, protocol, Authn), `lab clock +1h` moves the lab's clock. The backend blocks on the
//! tokio runtime for each admin call, so the session runs on a blocking thread
//! ([`tokio::task::spawn_blocking`]), never on a runtime worker.

use std::collections::BTreeMap;
use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use tokio::runtime::Handle;

use crate::client::{ConnectionStatus, Outlook, Settings, Transport};
use crate::frontdoor::FrontDoor;
use crate::lab::backend::{LabBackend, Machine};
use crate::lab::{Lab, LabFile};
use crate::scenario::steps::ClientName;
use crate::shell::{format::ListStyle, parser::parse_line, Shell};

/// The prompt of the Exchange Management Shell, as the guide prints it.
pub const PROMPT: &str = "[PS] C:\\Windows\\system32> ";
/// PowerShell's continuation prompt.
pub const CONTINUATION: &str = ">> ";
/// The user `lab status` connects as unless told otherwise.
pub const DEFAULT_USER: &str = "GregT@contoso.com";

const RED: &str = "\x1b[91m";
const YELLOW: &str = "\x1b[93m";
const RESET: &str = "\x1b[0m";

pub const LAB_HELP: &str = "Lab commands:
  lab status [PROFILE] [USER]  run the reference client (default outlook GregT@contoso.com)
                               and print its Connection Status: server, protocol, Authn
                               (profiles: outlook = the Outlook installed on the machine,
                               Install-LabOutlook, Outlook 2016 unless changed; outlook-2010,
                               outlook-2013, outlook-2016, outlook-2016-mac, native-eas)
  lab network                  print the network devices in force
  lab network { DEVICE }       add or replace a device, written as in a lab file, e.g.
                               lab network { certificate: { host: mail.contoso.com, state: expired } }
                               lab network { load_balancer: { host: mail.contoso.com, ssl_offload: true } }
                               lab network { client_segment: { blocked: [login.windows.net] } }
  lab clock                    print the lab's time
  lab clock +DURATION          move the lab's clock forward (90s, 30m, 1h, 2d)
  lab help                     this text
  exit                         leave the shell";

/// What one entry produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// Console text (may be empty); warnings are `WARNING: ` lines in it.
    Ok(String),
    /// An error record (PowerShell's) or a lab command's error.
    Err(String),
    /// `exit`.
    Exit,
}

/// What the console loop drives: a shell on a lab of its own ([`Session`]) or on a running lab
/// reached over its admin API ([`super::attach::Attached`]).
pub trait Target {
    /// Runs one complete entry: a lab meta-command, `exit`, or PowerShell text.
    fn execute(&mut self, entry: &str) -> Reply;
    /// The interactive banner's first words: `hma-lab shell on lab 'contoso'`.
    fn banner(&self) -> String;
}

impl Target for Session {
    fn execute(&mut self, entry: &str) -> Reply {
        Session::execute(self, entry)
    }
    fn banner(&self) -> String {
        format!("hma-lab shell on lab '{}'", self.lab.name())
    }
}

/// `exit`/`quit` alone, a `lab …` meta-command (its words after `lab`), or PowerShell text.
pub enum Entry<'a> {
    Empty,
    Exit,
    Lab(Vec<&'a str>),
    PowerShell,
}

/// Sorts an entry.
pub fn classify(entry: &str) -> Entry<'_> {
    let trimmed = entry.trim();
    let mut words = trimmed.split_whitespace();
    match words.next() {
        None => Entry::Empty,
        Some(w)
            if (w.eq_ignore_ascii_case("exit") || w.eq_ignore_ascii_case("quit"))
                && words.clone().next().is_none() =>
        {
            Entry::Exit
        }
        Some(w) if w.eq_ignore_ascii_case("lab") => Entry::Lab(words.collect()),
        _ => Entry::PowerShell,
    }
}

/// `lab status [PROFILE] [USER]`'s arguments.
pub fn status_args(args: &[&str]) -> Result<(ClientName, String), String> {
    let mut profile = ClientName::Installed;
    let mut user = DEFAULT_USER.to_string();
    for a in args {
        if let Some(p) = ClientName::from_arg(a) {
            profile = p;
        } else if a.contains('@') {
            user = a.to_string();
        } else {
            return Err(format!(
                "lab status: '{a}' is neither a client profile (outlook, outlook-2010, \
                 outlook-2013, outlook-2016, outlook-2016-mac, native-eas) nor a user \
                 (name@domain)"
            ));
        }
    }
    Ok((profile, user))
}

/// `lab network { DEVICE }`'s device.
pub fn network_arg(args: &[&str]) -> Result<crate::lab::Device, String> {
    let text = args.join(" ");
    let change: crate::scenario::steps::NetworkChange = lab_kit::parse_yaml(&text, "lab network")
        .map_err(|e| {
        format!(
            "lab network: {}{}",
            e.message,
            e.hint.map(|h| format!("; {h}")).unwrap_or_default()
        )
    })?;
    Ok(change.into())
}

/// `lab clock +DURATION`'s seconds.
pub fn clock_arg(d: &str) -> Result<i64, String> {
    d.strip_prefix('+')
        .and_then(crate::scenario::steps::parse_duration)
        .ok_or_else(|| {
            format!("lab clock: '{d}' is not a forward step; write +90s, +30m, +1h or +2d")
        })
}

/// `Lab clock: 2017-11-16 20:36:16 UTC (+0s from the start)`.
pub fn clock_line(now: std::time::SystemTime, offset: i64) -> String {
    let now = time::OffsetDateTime::from(now);
    let fmt =
        time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second] UTC");
    format!(
        "Lab clock: {} ({}{offset}s from the start)",
        now.format(&fmt).unwrap_or_default(),
        if offset >= 0 { "+" } else { "" }
    )
}

/// A shell on a running lab.
pub struct Session {
    lab: Arc<Lab>,
    /// The lab's TLS front door (CA in memory): `lab status` connects through it, so the lab's
    /// certificate states and network devices meet the reference client on real TLS.
    door: Option<FrontDoor>,
    /// The client transport to the front door (`None`: the door did not start; plain HTTP).
    tls: Option<Transport>,
    shell: Shell<LabBackend>,
    machine: Arc<Mutex<Machine>>,
    rt: Handle,
    clients: BTreeMap<(&'static str, String), Outlook>,
}

/// Reads `--lab`: a lab file when the path exists or ends in `.yaml`/`.yml`, else a builtin name.
pub fn lab_file(lab: &str) -> Result<LabFile, lab_kit::FileError> {
    let path = std::path::Path::new(lab);
    if path.is_file() || lab.ends_with(".yaml") || lab.ends_with(".yml") {
        LabFile::load(path)
    } else {
        LabFile::builtin(lab)
    }
}

impl Session {
    /// Wraps a started lab; `rt` is the runtime the lab runs on. Call the session's methods
    /// from a thread that may block (not a runtime worker).
    pub fn new(lab: Lab, rt: Handle) -> Session {
        let machine = Arc::new(Mutex::new(Machine::default()));
        let backend = LabBackend::new(&lab, rt.clone(), machine.clone());
        let mut shell = Shell::new(backend);
        shell.style = ListStyle::Padded;
        let lab = Arc::new(lab);
        let door = match rt.block_on(FrontDoor::start_in_memory(lab.clone())) {
            Ok(d) => Some(d),
            Err(e) => {
                tracing::warn!(error = %e, "shell: no TLS front door; lab status uses plain HTTP");
                None
            }
        };
        let tls = door
            .as_ref()
            .and_then(|d| Transport::for_front_door(d).ok());
        Session {
            lab,
            door,
            tls,
            shell,
            machine,
            rt,
            clients: BTreeMap::new(),
        }
    }

    /// The lab (to shut it down, or to inspect it in tests).
    pub fn lab(&self) -> &Lab {
        &self.lab
    }

    /// Stops the front door and gives the lab back (`None` only if something still shares it;
    /// it then stops when the last holder lets go).
    pub fn into_lab(self) -> Option<Lab> {
        let Session {
            mut lab,
            door,
            tls,
            shell,
            clients,
            rt,
            ..
        } = self;
        drop((tls, shell, clients));
        if let Some(d) = door {
            rt.block_on(d.shutdown());
        }
        // The door's tasks are gone once `shutdown` returns; the loop only guards against a
        // runtime that has not yet dropped one of them.
        for _ in 0..1000 {
            match Arc::try_unwrap(lab) {
                Ok(l) => return Some(l),
                Err(shared) => {
                    lab = shared;
                    std::thread::sleep(std::time::Duration::from_millis(1));
                }
            }
        }
        None
    }

    /// Runs one complete entry: a lab meta-command, `exit`, or PowerShell text.
    pub fn execute(&mut self, entry: &str) -> Reply {
        match classify(entry) {
            Entry::Empty => return Reply::Ok(String::new()),
            Entry::Exit => return Reply::Exit,
            Entry::Lab(args) => {
                return match self.lab_command(&args) {
                    Ok(t) => Reply::Ok(t),
                    Err(e) => Reply::Err(e),
                };
            }
            Entry::PowerShell => {}
        }
        match self.shell.run(entry) {
            Ok(out) => {
                let mut text = out.text;
                for n in out.notes {
                    if !text.is_empty() {
                        text.push('\n');
                    }
                    text.push_str(&format!("# hma-lab: {n}"));
                }
                Reply::Ok(text)
            }
            Err(e) => Reply::Err(e.render().trim_end().to_string()),
        }
    }

    fn lab_command(&mut self, args: &[&str]) -> Result<String, String> {
        match args.first().map(|s| s.to_ascii_lowercase()).as_deref() {
            Some("status") => {
                let (profile, user) = status_args(&args[1..])?;
                let status = self.status(profile, &user)?;
                Ok(status_text(&status))
            }
            Some("network") => {
                if args.len() > 1 {
                    self.lab
                        .apply(network_arg(&args[1..])?)
                        .map_err(|e| format!("lab network: {e}"))?;
                }
                Ok(devices_text(&self.lab.devices()))
            }
            Some("clock") => match args.get(1) {
                None => Ok(self.clock_text()),
                Some(d) => {
                    self.lab
                        .clock()
                        .try_advance_secs(clock_arg(d)?)
                        .map_err(|e| format!("lab clock: {e}"))?;
                    Ok(self.clock_text())
                }
            },
            Some("help") | None => Ok(LAB_HELP.to_string()),
            Some(other) => Err(format!("lab: unknown lab command '{other}'.\n{LAB_HELP}")),
        }
    }

    fn clock_text(&self) -> String {
        clock_line(self.lab.clock().now(), self.lab.clock().offset_secs())
    }

    /// Connects the reference client (one per profile and user, keeping its token cache, as
    /// Outlook does between connects) with the machine settings the shell's `reg`/`defaults`
    /// lines wrote; `outlook` is the Outlook `Install-LabOutlook` installed (2016 by default).
    pub fn status(
        &mut self,
        client: impl Into<ClientName>,
        user: &str,
    ) -> Result<ConnectionStatus, String> {
        let machine = self
            .machine
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let profile = client.into().resolve(machine.outlook);
        let mut settings = Settings::contoso(user);
        let keys = machine.identity_for(profile);
        settings.registry.enable_adal = keys.enable_adal;
        settings.registry.version = keys.version;
        settings.mac_disable_modern_auth = machine.mac_disable_modern_auth.unwrap_or(false);
        settings.domain_joined = machine.membership.logon_domain.is_some();
        let key = (profile.name(), user.to_ascii_lowercase());
        let transport = self
            .tls
            .clone()
            .unwrap_or_else(|| Transport::for_lab(&self.lab));
        let mut outlook = self
            .clients
            .remove(&key)
            .unwrap_or_else(|| Outlook::new(profile, settings.clone(), transport));
        outlook.settings = settings;
        // The client runs as a task on the lab's runtime, as in a scenario run: its
        // connections' tasks belong to that runtime and outlive this call.
        let joined = self.rt.block_on(tokio::spawn(async move {
            let status = outlook.connect().await;
            (outlook, status)
        }));
        match joined {
            Ok((outlook, status)) => {
                self.clients.insert(key, outlook);
                Ok(status)
            }
            Err(e) => Err(format!("lab status: the client task failed: {e}")),
        }
    }
}

/// The devices in force, one line each, in the lab file's syntax.
pub fn devices_text(d: &crate::lab::Devices) -> String {
    let mut lines = Vec::new();
    for lb in &d.load_balancers {
        lines.push(format!(
            "load_balancer: {{ host: {}, ssl_offload: {}, targets: [{}] }}",
            lb.host,
            lb.ssl_offload,
            lb.targets.join(", ")
        ));
    }
    for rp in &d.reverse_proxies {
        lines.push(format!(
            "reverse_proxy: {{ host: {}, forward_to: {} }}",
            rp.host, rp.forward_to
        ));
    }
    lines.push(format!(
        "client_segment: {{ blocked: [{}] }}",
        d.client_segment.blocked.join(", ")
    ));
    for c in &d.certificates {
        lines.push(format!(
            "certificate: {{ host: {}, state: {} }}",
            c.host, c.state
        ));
    }
    lines.join("\n")
}

/// Outlook's Connection Status row (Server name, Status, Protocol, Authn), plus why when
/// disconnected and the Bearer rejections Exchange gave.
pub fn status_text(s: &ConnectionStatus) -> String {
    let row = [
        s.server.as_str(),
        s.status.as_str(),
        s.protocol.as_str(),
        s.authn.as_deref().unwrap_or(""),
    ];
    let head = ["Server name", "Status", "Protocol", "Authn"];
    let widths: Vec<usize> = head
        .iter()
        .zip(row.iter())
        .map(|(h, v)| h.chars().count().max(v.chars().count()))
        .collect();
    let line = |cells: [&str; 4]| -> String {
        cells
            .iter()
            .zip(widths.iter())
            .map(|(c, w)| format!("{c:<w$}"))
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_string()
    };
    let dashes: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
    let mut out = format!(
        "{} as {}\n{}\n{}\n{}",
        s.profile.name(),
        s.user,
        line(head),
        line([&dashes[0], &dashes[1], &dashes[2], &dashes[3]]),
        line(row)
    );
    if let Some(d) = &s.detail {
        out.push_str(&format!("\nDetail: {d}"));
    }
    for r in &s.bearer_rejections {
        out.push_str(&format!("\nBearer rejected: x-ms-diagnostics: {r}"));
    }
    out
}

/// Whether `buffer` leaves a statement open, so the next line continues it: it ends with `|`,
/// `,` or a backtick, or it fails to parse exactly at its end (an unclosed bracket or string).
pub fn needs_more(buffer: &str) -> bool {
    let t = buffer.trim_end();
    if t.is_empty() {
        return false;
    }
    let first = t.split_whitespace().next().unwrap_or("");
    if first.eq_ignore_ascii_case("lab") {
        return false;
    }
    if t.ends_with('|') || t.ends_with(',') || t.ends_with('`') {
        return true;
    }
    match parse_line(t) {
        Ok(_) => false,
        Err(e) => {
            let lines: Vec<&str> = t.lines().collect();
            let last = lines.last().copied().unwrap_or("");
            e.message.starts_with("Missing closing")
                || e.message
                    .starts_with("The string is missing the terminator")
                || e.message.starts_with("The hash literal was incomplete")
                || (e.line_no >= lines.len() && e.column > last.chars().count())
        }
    }
}

/// Where output goes and how it looks.
pub struct Console<'a> {
    pub out: &'a mut dyn Write,
    pub err: &'a mut dyn Write,
    /// Colour errors red and warnings yellow (only on a terminal).
    pub color: bool,
    /// Print the prompt and the command before its output (a transcript).
    pub echo: bool,
}

impl Console<'_> {
    /// Prints one reply; false when it was an error.
    pub fn print(&mut self, reply: &Reply) -> bool {
        match reply {
            Reply::Ok(text) => {
                if !text.is_empty() {
                    let mut s = String::new();
                    for line in text.lines() {
                        if self.color && line.starts_with("WARNING: ") {
                            s.push_str(&format!("{YELLOW}{line}{RESET}\n"));
                        } else {
                            s.push_str(line);
                            s.push('\n');
                        }
                    }
                    let _ = self.out.write_all(s.as_bytes());
                }
                let _ = self.out.flush();
                true
            }
            Reply::Err(text) => {
                let _ = self.out.flush();
                let s = if self.color {
                    text.lines()
                        .map(|l| format!("{RED}{l}{RESET}\n"))
                        .collect::<String>()
                } else {
                    format!("{text}\n")
                };
                let _ = self.err.write_all(s.as_bytes());
                let _ = self.err.flush();
                false
            }
            Reply::Exit => true,
        }
    }
}

/// Runs every command read from `input` (continuation lines joined); true when all succeeded.
pub fn run_lines(session: &mut dyn Target, input: &mut dyn BufRead, console: &mut Console) -> bool {
    let mut ok = true;
    let mut buffer = String::new();
    let mut line = String::new();
    loop {
        line.clear();
        let n = match input.read_line(&mut line) {
            Ok(n) => n,
            Err(e) => {
                let _ = writeln!(console.err, "hma-lab shell: cannot read input: {e}");
                return false;
            }
        };
        if n > 0 {
            if !buffer.is_empty() {
                buffer.push('\n');
            }
            buffer.push_str(line.trim_end_matches(['\n', '\r']));
            if needs_more(&buffer) {
                continue;
            }
        }
        if !buffer.trim().is_empty() {
            if console.echo {
                let shown = buffer.replace('\n', &format!("\n{CONTINUATION}"));
                let _ = writeln!(console.out, "{PROMPT}{shown}");
            }
            let reply = session.execute(&buffer);
            if reply == Reply::Exit {
                return ok;
            }
            ok &= console.print(&reply);
        }
        buffer.clear();
        if n == 0 {
            return ok;
        }
    }
}

/// Tab completion and nothing else for rustyline.
struct Helper;

impl rustyline::completion::Completer for Helper {
    type Candidate = String;
    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &rustyline::Context<'_>,
    ) -> rustyline::Result<(usize, Vec<String>)> {
        let before = line.get(..pos).unwrap_or(line);
        let start = before
            .rfind(|c: char| c.is_whitespace() || "|;{(".contains(c))
            .map(|i| i + 1)
            .unwrap_or(0);
        let word = &before[start..];
        let lower = before.trim_start().to_ascii_lowercase();
        if lower.starts_with("lab ") {
            let opts = ["status", "network", "clock", "help"];
            let list = opts
                .iter()
                .filter(|o| o.starts_with(&word.to_ascii_lowercase()))
                .map(|o| o.to_string())
                .collect();
            return Ok((start, list));
        }
        Ok((start, crate::shell::complete(before)))
    }
}
impl rustyline::hint::Hinter for Helper {
    type Hint = String;
}
impl rustyline::highlight::Highlighter for Helper {}
impl rustyline::validate::Validator for Helper {}
impl rustyline::Helper for Helper {}

/// The interactive loop; true when every command succeeded.
fn interactive(session: &mut dyn Target) -> bool {
    use rustyline::error::ReadlineError;
    let mut stdout = std::io::stdout();
    let mut stderr = std::io::stderr();
    let mut console = Console {
        out: &mut stdout,
        err: &mut stderr,
        color: true,
        echo: false,
    };
    let mut editor = match rustyline::Editor::<Helper, rustyline::history::DefaultHistory>::new() {
        Ok(e) => e,
        Err(e) => {
            let _ = writeln!(console.err, "hma-lab shell: no line editor: {e}");
            return false;
        }
    };
    editor.set_helper(Some(Helper));
    let _ = writeln!(
        console.out,
        "{}. Type cmdlets as in the guide; 'lab help' for lab commands, 'exit' to leave.",
        session.banner()
    );
    let mut ok = true;
    let mut buffer = String::new();
    loop {
        let prompt = if buffer.is_empty() {
            PROMPT
        } else {
            CONTINUATION
        };
        match editor.readline(prompt) {
            Ok(line) => {
                if !buffer.is_empty() {
                    buffer.push('\n');
                }
                buffer.push_str(&line);
                if needs_more(&buffer) {
                    continue;
                }
                let entry = std::mem::take(&mut buffer);
                if entry.trim().is_empty() {
                    continue;
                }
                let _ = editor.add_history_entry(entry.as_str());
                let reply = session.execute(&entry);
                if reply == Reply::Exit {
                    return ok;
                }
                ok &= console.print(&reply);
            }
            Err(ReadlineError::Interrupted) => buffer.clear(),
            Err(ReadlineError::Eof) => return ok,
            Err(e) => {
                let _ = writeln!(console.err, "hma-lab shell: {e}");
                return false;
            }
        }
    }
}

/// Runs the console on `target`: interactive on a terminal, else stdin line by line; true when
/// every command succeeded. Call it on a thread that may block.
pub fn drive(target: &mut dyn Target, echo: bool) -> bool {
    if std::io::stdin().is_terminal() {
        interactive(target)
    } else {
        let stdin = std::io::stdin();
        let mut input = stdin.lock();
        let mut stdout = std::io::stdout();
        let mut stderr = std::io::stderr();
        let color = std::io::stderr().is_terminal();
        let mut console = Console {
            out: &mut stdout,
            err: &mut stderr,
            color,
            echo,
        };
        run_lines(target, &mut input, &mut console)
    }
}

/// `hma-lab shell [--lab NAME|FILE] [--echo]`.
pub async fn main(lab: &str, echo: bool) -> ExitCode {
    let file = match lab_file(lab) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("hma-lab shell: {e}");
            return ExitCode::from(2);
        }
    };
    let clock = lab_kit::Clock::frozen_at_unix(crate::scenario::runner::LAB_EPOCH);
    let lab = match Lab::start_file(file, clock).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("hma-lab shell: the lab did not start: {e}");
            return ExitCode::from(2);
        }
    };
    let rt = Handle::current();
    let joined = tokio::task::spawn_blocking(move || {
        let mut session = Session::new(lab, rt);
        let ok = drive(&mut session, echo);
        (ok, session.into_lab())
    })
    .await;
    match joined {
        Ok((ok, lab)) => {
            if let Some(lab) = lab {
                lab.shutdown().await;
            }
            if ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(e) => {
            eprintln!("hma-lab shell: {e}");
            ExitCode::FAILURE
        }
    }
}
