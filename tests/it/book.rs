//! The book stays honest: its generated pages equal what the code renders today, and every
//! command block in the README and the book that is marked `<!-- runs -->` runs.
//!
//! `UPDATE_BOOK=1 cargo test -p hma-lab --test it book` rewrites the generated pages (review the
//! diff). Runnable blocks run with bash in a fresh directory holding links to the repository's
//! `scenarios/`, `tests/`, `mock-aad/` and `mock-exchange/`, with the `hma-lab` binary this test
//! was built with first on `PATH`, and a time limit; the process group is killed afterwards so a
//! block's background service cannot outlive it.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use hma_lab::book::{self, ScenarioDoc};
use lab_kit::catalogue::{AadstsDoc, CmdletDoc, DiagDoc};

const BLOCK_TIMEOUT: Duration = Duration::from_secs(120);

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The code catalogues the reference tables are rendered from.
fn catalogues() -> (Vec<AadstsDoc>, Vec<DiagDoc>, Vec<CmdletDoc>) {
    (
        mock_aad::aadsts::docs(),
        mock_exchange::diag::docs(),
        hma_lab::shell::cmdlets::docs(),
    )
}

fn scenario_rows() -> Vec<ScenarioDoc> {
    let mut rows = Vec::new();
    for entry in std::fs::read_dir(repo().join("scenarios")).expect("scenarios/") {
        let path = entry.expect("dir entry").path();
        if path.extension().and_then(|e| e.to_str()) != Some("yaml") {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("scenario file");
        let doc: serde_yaml_ng::Value = serde_yaml_ng::from_str(&text).expect("scenario YAML");
        let field = |k: &str| {
            doc.get(k)
                .and_then(|v| v.as_str())
                .unwrap_or_else(|| panic!("{}: no `{k}`", path.display()))
                .to_string()
        };
        rows.push(ScenarioDoc {
            name: field("name"),
            title: field("title"),
            guide: field("guide"),
        });
    }
    rows
}

/// Every generated page: its path under `docs/src/` and what the code renders for it now.
fn generated_pages() -> Vec<(&'static str, String)> {
    use clap::CommandFactory;
    let (aadsts, diags, cmdlets) = catalogues();
    vec![
        ("reference/aadsts.md", book::render_aadsts(&aadsts)),
        ("reference/diagnostics.md", book::render_diagnostics(&diags)),
        ("reference/cmdlets.md", book::render_cmdlets(&cmdlets)),
        (
            "reference/scenario-library.md",
            book::render_scenarios(&scenario_rows()),
        ),
        (
            "reference/token-forge.md",
            book::render_forge(book::FORGE_ROWS),
        ),
        (
            "reference/cli.md",
            book::render_cli(&hma_lab::cli::args::Cli::command()),
        ),
    ]
}

#[test]
fn generated_pages_match_the_code() {
    let update = std::env::var_os("UPDATE_BOOK").is_some();
    let src = repo().join("docs/src");
    let mut stale = Vec::new();
    for (page, text) in generated_pages() {
        let path = src.join(page);
        if update {
            std::fs::write(&path, &text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            continue;
        }
        if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
            stale.push(format!("docs/src/{page}"));
        }
    }
    assert!(
        stale.is_empty(),
        "generated book pages differ from what the code renders: {}\n\
         regenerate them with `{}` and review the diff",
        stale.join(", "),
        book::UPDATE_COMMAND
    );
}

#[test]
fn every_generated_page_is_in_the_summary() {
    let summary = std::fs::read_to_string(repo().join("docs/src/SUMMARY.md")).expect("SUMMARY.md");
    for (page, _) in generated_pages() {
        assert!(
            summary.contains(&format!("({page})")),
            "{page} is not in SUMMARY.md"
        );
    }
}

/// README.md and every Markdown file under docs/src/, in a stable order.
fn markdown_files() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
            .expect("docs dir")
            .map(|e| e.expect("dir entry").path())
            .collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().and_then(|e| e.to_str()) == Some("md") {
                out.push(p);
            }
        }
    }
    let mut files = vec![repo().join("README.md")];
    walk(&repo().join("docs/src"), &mut files);
    files
}

static SEQ: AtomicUsize = AtomicUsize::new(0);

/// A fresh directory for one block, with links to what the blocks may read.
fn block_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "hma-lab-book-{}-{}",
        std::process::id(),
        SEQ.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join(".run")).expect("block dir");
    for name in ["scenarios", "tests", "mock-aad", "mock-exchange"] {
        std::os::unix::fs::symlink(repo().join(name), dir.join(name)).expect("symlink");
    }
    dir
}

/// Runs one block with bash (`set -euo pipefail`) in `dir`; Err with the exit and the output's
/// tail when it fails or outlives `timeout`.
fn run_block(code: &str, dir: &Path, timeout: Duration) -> Result<(), String> {
    use std::os::unix::process::CommandExt;
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_hma-lab"))
        .parent()
        .expect("binary dir")
        .to_path_buf();
    let run = dir.join(".run");
    std::fs::create_dir_all(&run).map_err(|e| e.to_string())?;
    let script = run.join("block.sh");
    std::fs::write(&script, format!("set -euo pipefail\n{code}")).map_err(|e| e.to_string())?;
    let stdout = std::fs::File::create(run.join("stdout")).map_err(|e| e.to_string())?;
    let stderr = std::fs::File::create(run.join("stderr")).map_err(|e| e.to_string())?;
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut cmd = Command::new("bash");
    cmd.arg(&script)
        .current_dir(dir)
        .env("PATH", path)
        .env("XDG_STATE_HOME", dir.join("state"))
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr)
        .process_group(0);
    for var in [
        "http_proxy",
        "HTTP_PROXY",
        "https_proxy",
        "HTTPS_PROXY",
        "all_proxy",
        "ALL_PROXY",
        "no_proxy",
        "NO_PROXY",
    ] {
        cmd.env_remove(var);
    }
    let mut child = cmd.spawn().map_err(|e| format!("bash: {e}"))?;
    let group = child.id();
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait().map_err(|e| e.to_string())? {
            Some(status) => break Some(status),
            None if Instant::now() >= deadline => break None,
            None => std::thread::sleep(Duration::from_millis(50)),
        }
    };
    // Whatever the block left running in its process group goes with it.
    let _ = Command::new("kill")
        .args(["-s", "KILL", "--", &format!("-{group}")])
        .stderr(Stdio::null())
        .status();
    let _ = child.wait();
    let tail = |name: &str| {
        let text = std::fs::read_to_string(run.join(name)).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    };
    match status {
        Some(s) if s.success() => Ok(()),
        Some(s) => Err(format!(
            "exited with {s}\n--- stdout (tail)\n{}\n--- stderr (tail)\n{}",
            tail("stdout"),
            tail("stderr")
        )),
        None => Err(format!(
            "still running after {timeout:?}; killed\n--- stdout (tail)\n{}\n--- stderr (tail)\n{}",
            tail("stdout"),
            tail("stderr")
        )),
    }
}

#[test]
fn command_blocks_marked_to_run_run() {
    let mut blocks = Vec::new();
    for file in markdown_files() {
        let text = std::fs::read_to_string(&file).expect("markdown file");
        let shown = file
            .strip_prefix(repo())
            .unwrap_or(&file)
            .display()
            .to_string();
        match book::runnable_blocks(&text) {
            Ok(found) => blocks.extend(found.into_iter().map(|b| (shown.clone(), b))),
            Err(e) => panic!("{shown}: {e}"),
        }
    }
    assert!(
        blocks.len() >= 5,
        "only {} runnable blocks found in README.md and docs/src/",
        blocks.len()
    );
    let mut failures = Vec::new();
    for (file, block) in &blocks {
        let dir = block_dir();
        if let Err(e) = run_block(&block.code, &dir, BLOCK_TIMEOUT) {
            failures.push(format!(
                "{file}:{}: the block marked `<!-- runs -->` failed: {e}",
                block.line
            ));
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn a_failing_or_hanging_block_fails_the_check() {
    let md = "<!-- runs -->\n```sh\necho fine\nfalse\necho never\n```\n\n<!-- runs -->\n```sh\nsleep 30 &\nsleep 30\n```\n\n<!-- runs -->\n```sh\nhma-lab --version\ntest -L scenarios\n```\n";
    let blocks = book::runnable_blocks(md).expect("blocks");
    assert_eq!(blocks.len(), 3);
    let dir = block_dir();
    let failed = run_block(&blocks[0].code, &dir, BLOCK_TIMEOUT).unwrap_err();
    assert!(failed.contains("exited with"), "{failed}");
    assert!(
        failed.contains("fine") && !failed.contains("never"),
        "{failed}"
    );
    let started = Instant::now();
    let hung = run_block(&blocks[1].code, &dir, Duration::from_secs(1)).unwrap_err();
    assert!(hung.contains("still running"), "{hung}");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "the block's process group was not killed"
    );
    run_block(&blocks[2].code, &dir, BLOCK_TIMEOUT).expect("hma-lab on PATH, links in place");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Every catalogue row marked inferred is listed, by its code, in the one table of inferred texts
/// (`docs/src/internals/fidelity.md`); and no row of that table names a code the catalogues mark
/// otherwise.
#[test]
fn book_fidelity_table_lists_every_inferred_catalogue_row() {
    use lab_kit::catalogue::Fidelity;
    let page = std::fs::read_to_string(repo().join("docs/src/internals/fidelity.md"))
        .expect("fidelity page");
    let start = page.find("## Inferred:").expect("the inferred section");
    let table = &page[start..];
    let (aadsts, diags, _) = catalogues();
    for r in aadsts.iter().filter(|r| r.source == Fidelity::Inferred) {
        let code = r.code.to_string();
        assert!(
            table.contains(&format!("AADSTS{code}"))
                || table.contains(&format!(", {code},"))
                || table.contains(&format!(", {code} ")),
            "AADSTS{code} is marked inferred but is not in the fidelity table"
        );
    }
    for r in diags.iter().filter(|r| r.source == Fidelity::Inferred) {
        assert!(
            table.contains(&r.code.to_string()),
            "x-ms-diagnostics {} is marked inferred but is not in the fidelity table",
            r.code
        );
    }
    // 900561 has a public text now: it must not be listed as inferred.
    assert!(aadsts
        .iter()
        .any(|r| r.code == 900561 && r.source == Fidelity::PublicCapture));
    assert!(!table.contains("900561"));
}
