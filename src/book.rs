//! The book's generated pages, rendered from the code, and its runnable command blocks.
//!
//! Reference tables that restate the code go stale the day the code changes, so the book's
//! tables of AADSTS codes, `x-ms-diagnostics` reasons, cmdlets, scenarios and CLI options are
//! rendered here from the code's own catalogues (`lab_kit::catalogue` rows), the scenario files
//! and the clap definitions. Every renderer is a pure function from rows to Markdown, so it is
//! tested with hand-made rows; the integration test `tests/it/book.rs` feeds it the real rows and
//! compares the result with the checked-in page (`UPDATE_BOOK=1` rewrites the pages).
//!
//! The same test runs every command block the book and the README mark with `<!-- runs -->`:
//! [`runnable_blocks`] finds them, so a tour that stops working fails `make test`.

mod forge;

use std::fmt::Write as _;

use lab_kit::catalogue::{AadstsDoc, CmdletDoc, DiagDoc};

pub use forge::{ForgeRow, FORGE_RESOURCE, FORGE_ROWS};

/// The command that rewrites every generated page.
pub const UPDATE_COMMAND: &str = "UPDATE_BOOK=1 cargo test -p hma-lab --test it book";

/// The marker, alone on the line before a fence, of a block that must run.
pub const RUNS_MARKER: &str = "<!-- runs -->";

/// One row of the scenario library page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScenarioDoc {
    /// The file stem, equal to the scenario's `name`.
    pub name: String,
    pub title: String,
    /// The field guide section it reproduces (`guide:`), verbatim.
    pub guide: String,
}

/// The first line of every generated page: what it is generated from, and how to regenerate it.
pub fn generated_note(source: &str) -> String {
    format!("<!-- Generated from {source} by `{UPDATE_COMMAND}`; do not edit by hand. -->\n")
}

/// A Markdown code span holding `text` exactly, safe inside a table cell.
fn code(text: &str) -> String {
    let text = one_line(text);
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    let pad = if text.starts_with('`') || text.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{text}{pad}{fence}").replace('|', "\\|")
}

/// Plain text for a table cell: one line, pipes escaped, no HTML.
fn cell(text: &str) -> String {
    one_line(text)
        .replace('|', "\\|")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn one_line(text: &str) -> String {
    text.replace('\r', "").replace('\n', " ")
}

/// A page's opening: the generated note, the title and its introduction.
fn page(source: &str, title: &str, intro: &str) -> String {
    format!("{}\n# {title}\n\n{intro}\n\n", generated_note(source))
}

/// A table of `rows` (cells already rendered), after a line counting them.
fn table(out: &mut String, counted: &str, headers: &[&str], rows: Vec<Vec<String>>) {
    let _ = writeln!(out, "{} {counted}.\n", rows.len());
    let _ = writeln!(out, "| {} |", headers.join(" | "));
    let _ = writeln!(out, "|{}", "---|".repeat(headers.len()));
    for row in rows {
        let _ = writeln!(out, "| {} |", row.join(" | "));
    }
}

/// `reference/token-forge.md`.
pub fn render_forge(rows: &[ForgeRow]) -> String {
    let mut out = page(
        "src/book/forge.rs (FORGE_ROWS, replayed by tests/it/forge.rs)",
        "The token forge: what Exchange answers each flaw",
        "`New-LabForgedToken` (and mock-aad's `POST /_admin/forge`) mint an access token for a \
         user and resource with exactly one flaw. Each row below is a token forged for the \
         resource `https://mail.contoso.com/` and sent to EWS \
         (`POST https://mail.contoso.com/EWS/Exchange.asmx`) in the shipped contoso lab; the \
         columns are exactly what mock Exchange answers, and a test replays every row.",
    );
    table(
        &mut out,
        "flaws",
        &[
            "Flaw",
            "User",
            "Status",
            "WWW-Authenticate",
            "x-ms-diagnostics",
            "What it shows",
        ],
        rows.iter()
            .map(|r| {
                let flaw = match r.claim {
                    Some(c) => format!("{} `-Claim {c}`", r.flaw),
                    None => r.flaw.to_string(),
                };
                let opt = |s: &str| {
                    if s.is_empty() {
                        "(none)".to_string()
                    } else {
                        code(s)
                    }
                };
                vec![
                    flaw,
                    cell(r.user),
                    r.status.to_string(),
                    opt(r.www_authenticate),
                    opt(r.diagnostics),
                    cell(r.note),
                ]
            })
            .collect(),
    );
    out.push_str(forge::FORGE_USAGE);
    out
}

/// The AADSTS codes mock Azure AD answers with, sorted by code.
pub fn render_aadsts(rows: &[AadstsDoc]) -> String {
    let mut rows: Vec<&AadstsDoc> = rows.iter().collect();
    rows.sort_by_key(|r| r.code);
    let mut out = page(
        "`mock_aad::aadsts::docs()` (mock-aad/src/aadsts.rs)",
        "AADSTS codes",
        "Every Azure AD error mock Azure AD can answer with, from its one catalogue \
         (`mock-aad/src/aadsts.rs`): the token endpoint, the sign-in pages and the fault \
         injector (`{\"respond\":{\"aadsts\":CODE}}`, `Add-LabAadFault -Aadsts`) all read it. \
         The message is what follows `AADSTS<code>: ` in `error_description`; `{name}` marks a \
         part filled from the request. *Source* says where the text comes from \
         ([Fidelity notes](../internals/fidelity.md)).",
    );
    let rows = rows
        .into_iter()
        .map(|r| {
            vec![
                format!("AADSTS{}", r.code),
                code(&r.error),
                r.status.to_string(),
                code(&r.message),
                cell(&r.when),
                r.source.to_string(),
            ]
        })
        .collect();
    let headers = ["Code", "`error`", "HTTP", "Message", "When", "Source"];
    table(&mut out, "code(s)", &headers, rows);
    out
}

/// The `x-ms-diagnostics` reasons of mock Exchange's bearer pipeline, in the catalogue's order
/// (the order the pipeline checks them).
pub fn render_diagnostics(rows: &[DiagDoc]) -> String {
    let mut out = page(
        "`mock_exchange::diag::docs()` (mock-exchange/src/diag.rs)",
        "x-ms-diagnostics",
        "Why mock Exchange refused a Bearer token (or OAuth for a client), from its one catalogue \
         (`mock-exchange/src/diag.rs`), in the order the bearer pipeline checks. On the wire: \
         `x-ms-diagnostics: <code>;reason=\"<reason>\";error_category=\"<category>\"`. `{name}` \
         marks a part filled from the request or the token. *Source* says where the text comes \
         from ([Fidelity notes](../internals/fidelity.md)); the pipeline itself is described in \
         [Mock Exchange: authentication](exchange-authentication.md).",
    );
    let rows = rows
        .iter()
        .map(|r| {
            vec![
                r.code.to_string(),
                code(&r.category),
                code(&r.reason),
                cell(&r.when),
                r.source.to_string(),
            ]
        })
        .collect();
    let headers = ["Code", "`error_category`", "Reason", "When", "Source"];
    table(&mut out, "reason(s)", &headers, rows);
    out
}

/// Every cmdlet of the shell with its parameter sets, grouped by family (= source file).
pub fn render_cmdlets(rows: &[CmdletDoc]) -> String {
    let mut rows: Vec<&CmdletDoc> = rows.iter().collect();
    rows.sort_by(|a, b| {
        (a.family.as_str(), a.name.to_ascii_lowercase())
            .cmp(&(b.family.as_str(), b.name.to_ascii_lowercase()))
    });
    let mut out = page(
        "`hma_lab::shell::cmdlets::docs()` (src/shell/cmdlets/)",
        "Cmdlets",
        "Every cmdlet the lab's shell knows, with its parameter sets, from the cmdlets' own \
         definitions: a cmdlet of family `F` lives in `src/shell/cmdlets/F.rs`. *Position* is \
         the index for positional binding; *Pipeline* means it takes pipeline input by value; a \
         parameter that is not *Modelled* is a real parameter the lab accepts but does not act on \
         (using it is an honest error). The common parameters (`-Verbose`, `-ErrorAction`, …) are \
         accepted everywhere and not listed. What each cmdlet does to the lab is in \
         [What each cmdlet does](cmdlet-behaviour.md).",
    );
    let summary = rows
        .iter()
        .map(|r| {
            vec![
                format!("[`{}`](#{})", r.name, r.name.to_ascii_lowercase()),
                format!("`{}`", r.family),
                cell(&r.synopsis),
            ]
        })
        .collect();
    table(
        &mut out,
        "cmdlet(s)",
        &["Cmdlet", "Family", "What it does"],
        summary,
    );
    for r in &rows {
        let _ = write!(
            out,
            "\n## {}\n\n{}\n\nFamily `{}` (`src/shell/cmdlets/{}.rs`).\n",
            r.name,
            cell(&r.synopsis),
            r.family,
            r.family
        );
        for set in &r.sets {
            let _ = write!(
                out,
                "\nParameter set `{}`:\n\n| Parameter | Type | Mandatory | Position | Pipeline | Modelled |\n|---|---|---|---|---|---|\n",
                set.name
            );
            if set.params.is_empty() {
                out.push_str("| (none) | | | | | |\n");
            }
            for p in &set.params {
                let _ = writeln!(
                    out,
                    "| `-{}` | `{}` | {} | {} | {} | {} |",
                    p.name,
                    p.ty,
                    yes_no(p.mandatory),
                    p.position.map(|n| n.to_string()).unwrap_or_default(),
                    yes_no(p.pipeline),
                    yes_no(p.modelled)
                );
            }
        }
    }
    out
}

fn yes_no(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

/// The scenario library: one row per `scenarios/*.yaml`, sorted by name.
pub fn render_scenarios(rows: &[ScenarioDoc]) -> String {
    let mut rows: Vec<&ScenarioDoc> = rows.iter().collect();
    rows.sort_by(|a, b| a.name.cmp(&b.name));
    let mut out = page(
        "the files `scenarios/*.yaml`",
        "Scenario library",
        "Every scenario of the library, from its file's `name`, `title` and `guide`. \
         `hma-lab run scenarios/` plays them all; `hma-lab run scenarios/NAME.yaml` plays one. \
         Which part of each guide section a scenario shows is in \
         [Running scenarios](../guide/scenarios.md#field-guide-section--scenario).",
    );
    let rows = rows
        .into_iter()
        .map(|r| vec![format!("`{}`", r.name), cell(&r.title), cell(&r.guide)])
        .collect();
    let headers = ["Scenario", "Title", "Field guide section"];
    table(&mut out, "scenario(s)", &headers, rows);
    out
}

/// The `hma-lab` command's reference, from its clap definitions.
pub fn render_cli(cmd: &clap::Command) -> String {
    let name = cmd.get_name().to_string();
    let mut out = generated_note("the clap definitions in `src/cli/args.rs`");
    let _ = write!(out, "\n# CLI: `{name}`\n\n");
    if let Some(about) = cmd.get_about() {
        let _ = writeln!(out, "{about}.\n");
    }
    out.push_str("| Command | What it does |\n|---|---|\n");
    for sub in cmd.get_subcommands() {
        let _ = writeln!(
            out,
            "| [`{name} {}`](#{name}-{}) | {} |",
            sub.get_name(),
            sub.get_name(),
            cell(&sub.get_about().map(|a| a.to_string()).unwrap_or_default())
        );
    }
    // Every subcommand, a nested one (`hma-lab exercise start`) right after its parent.
    fn all<'c>(prefix: &str, cmd: &'c clap::Command, out: &mut Vec<(String, &'c clap::Command)>) {
        for sub in cmd.get_subcommands() {
            let full = format!("{prefix} {}", sub.get_name());
            out.push((full.clone(), sub));
            all(&full, sub, out);
        }
    }
    let mut subs = Vec::new();
    all(&name, cmd, &mut subs);
    for (full, sub) in subs {
        let _ = write!(out, "\n## {full}\n\n");
        if let Some(about) = sub.get_long_about().or(sub.get_about()) {
            let _ = writeln!(out, "{about}\n");
        }
        let usage = sub.clone().bin_name(&full).render_usage().to_string();
        let _ = write!(out, "```text\n{}\n```\n\n", usage.trim_end());
        let args: Vec<&clap::Arg> = sub
            .get_arguments()
            .filter(|a| !matches!(a.get_id().as_str(), "help" | "version"))
            .collect();
        if args.is_empty() {
            continue;
        }
        out.push_str("| Argument | Default | Description |\n|---|---|---|\n");
        for a in args {
            let _ = writeln!(
                out,
                "| {} | {} | {} |",
                code(&arg_syntax(a)),
                default_of(a),
                cell(&arg_help(a))
            );
        }
    }
    out
}

fn arg_syntax(a: &clap::Arg) -> String {
    let value = a
        .get_value_names()
        .map(|v| {
            v.iter()
                .map(|s| s.to_string())
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_else(|| a.get_id().as_str().to_ascii_uppercase());
    let takes_value = a.get_num_args().map(|n| n.takes_values()).unwrap_or(true)
        && !matches!(
            a.get_action(),
            clap::ArgAction::SetTrue | clap::ArgAction::SetFalse | clap::ArgAction::Count
        );
    if a.is_positional() {
        let many = matches!(a.get_action(), clap::ArgAction::Append);
        return format!("{value}{}", if many { "..." } else { "" });
    }
    let mut flag = String::new();
    if let Some(s) = a.get_short() {
        flag.push('-');
        flag.push(s);
        if a.get_long().is_some() {
            flag.push_str(", ");
        }
    }
    if let Some(l) = a.get_long() {
        flag.push_str("--");
        flag.push_str(l);
    }
    if takes_value {
        flag.push(' ');
        flag.push_str(&value);
    }
    flag
}

fn default_of(a: &clap::Arg) -> String {
    let d: Vec<String> = a
        .get_default_values()
        .iter()
        .map(|v| v.to_string_lossy().into_owned())
        .collect();
    if d.is_empty() {
        String::new()
    } else {
        code(&d.join(" "))
    }
}

fn arg_help(a: &clap::Arg) -> String {
    let mut help = a
        .get_long_help()
        .or(a.get_help())
        .map(|h| h.to_string())
        .unwrap_or_default();
    let values: Vec<String> = a
        .get_possible_values()
        .iter()
        .filter(|v| !v.is_hide_set())
        .map(|v| format!("`{}`", v.get_name()))
        .collect();
    if !values.is_empty() && !matches!(a.get_action(), clap::ArgAction::SetTrue) {
        let _ = write!(help, "; one of {}", values.join(", "));
    }
    help
}

/// A fenced block marked to run, and the 1-based line of its fence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunnableBlock {
    pub line: usize,
    pub code: String,
}

/// The blocks of a Markdown text whose fence follows a [`RUNS_MARKER`] line. A marker that is
/// not followed by a shell fence, or a fence that is never closed, is an error: a typo must not
/// quietly take a block out of the check.
pub fn runnable_blocks(markdown: &str) -> Result<Vec<RunnableBlock>, String> {
    let lines: Vec<&str> = markdown.lines().collect();
    let mut blocks = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if lines[i].trim() != RUNS_MARKER {
            i += 1;
            continue;
        }
        let marker_line = i + 1;
        let Some(fence_line) = lines.get(i + 1) else {
            return Err(format!("line {marker_line}: {RUNS_MARKER} ends the file"));
        };
        let trimmed = fence_line.trim_start();
        let ticks = trimmed.chars().take_while(|&c| c == '`').count();
        let lang = trimmed[ticks..].trim();
        if ticks < 3 {
            return Err(format!(
                "line {marker_line}: {RUNS_MARKER} is not followed by a fenced block"
            ));
        }
        if !matches!(lang, "" | "sh" | "bash" | "shell") {
            return Err(format!(
                "line {}: a block marked to run must be sh or bash, not `{lang}`",
                i + 2
            ));
        }
        let fence = "`".repeat(ticks);
        let start = i + 2;
        let Some(len) = lines[start..]
            .iter()
            .position(|l| l.trim_start().starts_with(&fence) && l.trim() == fence)
        else {
            return Err(format!("line {}: the block is never closed", i + 2));
        };
        let mut code = lines[start..start + len].join("\n");
        code.push('\n');
        blocks.push(RunnableBlock { line: i + 2, code });
        i = start + len + 1;
    }
    Ok(blocks)
}

#[cfg(test)]
mod tests;
