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

/// Hostile size: depth alone does not bound a value. Each of these doubles a value statement
/// after statement (or squares it in one pipeline); each stops at the session's budget with
/// `LabValueTooLarge` instead of growing until the process is killed, and the session keeps
/// what it held before the refused statement.
#[test]
fn doubling_a_value_stops_at_the_session_budget() {
    use crate::shell::value::MAX_VALUE_WEIGHT;
    let too_large = |e: &ShellError| {
        assert_eq!(e.error_id, "LabValueTooLarge", "{}", e.render());
        assert_eq!(
            e.message,
            format!("The lab keeps at most {MAX_VALUE_WEIGHT} values and string bytes in a session's variables, and in one value being built.")
        );
    };
    // `$x = $x, $x`: nesting, one level per statement (under the depth cap of 32).
    let mut sh = Shell::new(Bare);
    sh.run("$x = 1").unwrap();
    let mut refused = None;
    for n in 1..32 {
        if let Err(e) = sh.run("$x = $x, $x") {
            refused = Some((n, e));
            break;
        }
    }
    let (n, e) = refused.expect("the doubling is refused before the depth cap");
    too_large(&e);
    // Refused while the array `$x, $x` is built, before the assignment.
    assert_eq!(e.column, 6);
    assert_eq!(n, 22, "2^22 leaves pass the budget");
    let kept = sh
        .var("x")
        .unwrap()
        .weight_within(MAX_VALUE_WEIGHT)
        .unwrap();
    assert_eq!(kept, (1 << 22) - 1, "the last accepted value is kept");
    // `$s = "$s$s"`: a string doubling.
    let mut sh = Shell::new(Bare);
    sh.run("$s = 'abcdefgh'").unwrap();
    let mut refused = None;
    for _ in 0..40 {
        if let Err(e) = sh.run("$s = \"$s$s\"") {
            refused = Some(e);
            break;
        }
    }
    too_large(&refused.expect("the string doubling is refused"));
    // Two variables each under the budget, together over it.
    let mut sh = Shell::new(Bare);
    sh.run("$a = 'abcdefgh'").unwrap();
    for _ in 0..17 {
        sh.run("$a = \"$a$a\"").unwrap();
    }
    // 1 MiB + 1 each: three fit, a fourth does not.
    sh.run("$b = $a").unwrap();
    sh.run("$c = $a").unwrap();
    too_large(&sh.run("$d = $a").unwrap_err());
    // Replacing a variable does not count its old value.
    sh.run("$b = $a").unwrap();
    // `$y | % { $y }` squares: its output is refused while it is being built.
    let mut sh = Shell::new(Bare);
    sh.run(&format!(
        "$y = {}",
        (0..3000)
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(",")
    ))
    .unwrap();
    too_large(&sh.run("$z = $y | ForEach-Object { $y }").unwrap_err());
}
