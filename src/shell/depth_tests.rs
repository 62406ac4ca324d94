//! Hostile depth: every recursive construct of the cmdlet language is capped, so a line sent to
//! `POST /cmdlet` cannot overflow the stack of the thread that runs it. Each line runs on a
//! thread with a 2 MiB stack (what tokio gives a blocking task, where `hma-lab serve` runs the
//! shell) and must come back as a PowerShell-style error, not abort the process.

use super::test_support::Bare;
use super::{Shell, ShellError};

/// Runs `line` in a fresh session on a 2 MiB stack; the error it must give.
fn fails_on_small_stack(line: String) -> ShellError {
    std::thread::Builder::new()
        .stack_size(2 * 1024 * 1024)
        .spawn(move || {
            let mut sh = Shell::new(Bare);
            match sh.run(&line) {
                Ok(o) => panic!("expected an error, got {:?}", o.text),
                Err(e) => e,
            }
        })
        .expect("thread")
        .join()
        .expect("no panic")
}

fn assert_too_deep(e: &ShellError) {
    assert_eq!(e.error_id, "LabNestingTooDeep", "{}", e.render());
    assert!(
        e.message.starts_with("The lab parses at most 32 "),
        "{}",
        e.message
    );
}

#[test]
fn a_long_member_chain_is_an_error() {
    let e = fails_on_small_stack(format!("$x{}", ".a".repeat(2_000)));
    assert_too_deep(&e);
    assert_eq!(
        e.message,
        "The lab parses at most 32 nested expressions ('.Name', '[i]' and '.Method()' each add one)."
    );
    // the marker sits under the first access past the limit (a chain of 31 parses)
    assert_eq!(e.column, 3 + 2 * 31);
    let mut sh = Shell::new(Bare);
    assert!(sh.run(&format!("$x{}", ".a".repeat(31))).is_ok());
}

#[test]
fn a_long_index_chain_is_an_error() {
    assert_too_deep(&fails_on_small_stack(format!("$x{}", "[0]".repeat(5_000))));
}

#[test]
fn a_long_method_chain_is_an_error() {
    let e = fails_on_small_stack(format!("'a'{}", ".ToString()".repeat(5_000)));
    assert_too_deep(&e);
}

#[test]
fn a_long_chain_in_argument_mode_is_an_error() {
    assert_too_deep(&fails_on_small_stack(format!(
        "Write-Output $x{}",
        ".a".repeat(3_000)
    )));
}

#[test]
fn long_operator_chains_are_errors() {
    for op in ["-eq", "-and", "-or", "-like"] {
        let e = fails_on_small_stack(format!("1{}", format!(" {op} 1").repeat(5_000)));
        assert_too_deep(&e);
        assert_eq!(
            e.message,
            "The lab parses at most 32 nested expressions (each operator in a row adds one).",
            "{op}"
        );
    }
}

#[test]
fn values_nested_by_assignment_are_capped() {
    // each statement wraps the last value one level deeper
    let arrays = "$x = 1; ".to_string() + &"$x = $x, 1; ".repeat(5_000);
    let e = fails_on_small_stack(arrays);
    assert_eq!(e.error_id, "LabValueTooDeep", "{}", e.render());
    assert_eq!(
        e.message,
        "The lab keeps values at most 32 levels deep (arrays and hashtables inside each other)."
    );
    let tables = "$h = 1; ".to_string() + &"$h = @{a=$h}; ".repeat(4_000);
    assert_eq!(fails_on_small_stack(tables).error_id, "LabValueTooDeep");
}

#[test]
fn ordinary_depth_still_runs() {
    let mut sh = Shell::new(Bare);
    let chain = format!("'a'{}", ".ToString()".repeat(20));
    assert_eq!(sh.run(&chain).map(|o| o.text), Ok("a".to_string()));
    let ops = format!("1{}", " -eq 1".repeat(20));
    assert!(sh.run(&ops).is_ok());
    let mut nested = "$x = 1".to_string();
    for _ in 0..20 {
        nested.push_str("; $x = $x, 1");
    }
    assert!(sh.run(&nested).is_ok());
}

/// Runs `line` in a fresh session on a 2 MiB stack; its result.
fn run_on_small_stack(line: String) -> Result<String, ShellError> {
    std::thread::Builder::new()
        .stack_size(2 * 1024 * 1024)
        .spawn(move || Shell::new(Bare).run(&line).map(|o| o.text))
        .expect("thread")
        .join()
        .expect("no panic")
}

#[test]
fn the_deepest_line_that_parses_runs_on_a_small_stack() {
    // script blocks in sub-expressions: the most frames per level the evaluator has
    let deepest = (1..=32)
        .rev()
        .map(|k| "@(1 | % { ".repeat(k) + "$_.a.b -eq 1 -or 2 -and $true" + &" })".repeat(k))
        .find(|l| super::parser::parse_line(l).is_ok())
        .expect("some depth parses");
    run_on_small_stack(deepest).expect("runs");
    let chains = "(".repeat(15) + &format!("$x{}", "[0].a".repeat(8)) + &")".repeat(15);
    run_on_small_stack(chains).expect("runs");
}
