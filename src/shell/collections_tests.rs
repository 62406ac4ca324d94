//! Tests of `@( … )`: always an array, as in PowerShell, however many items the pipeline wrote,
//! and a one-item array bound to a single-valued parameter as its item.

use super::test_support::{fail, run, Bare};
use super::Shell;

#[test]
fn array_subexpression_is_always_an_array() {
    let mut sh = Shell::new(Bare);
    // One item: an array of one, to which `+` appends (with `( … )` it would be text).
    assert_eq!(run(&mut sh, "(@(\"a\") + \"b\").Count"), "2");
    assert_eq!(run(&mut sh, "@(\"a\") + \"b\""), "a\nb");
    assert_eq!(run(&mut sh, "(\"a\") + \"b\""), "ab");
    assert_eq!(run(&mut sh, "$(\"a\") + \"b\""), "ab");
    assert_eq!(run(&mut sh, "@(\"a\").Count"), "1");
    assert_eq!(run(&mut sh, "@(\"abc\")[0]"), "abc");
    // An array inside is not nested: its items are the pipeline's output.
    assert_eq!(run(&mut sh, "@(1, 2).Count"), "2");
    assert_eq!(run(&mut sh, "@(@(1, 2)).Count"), "2");
    assert_eq!(run(&mut sh, "@(1, 2 | Select-Object -First 1).Count"), "1");
    assert_eq!(run(&mut sh, "@().Count"), "0");
    // Truth and comparison as for any array.
    assert_eq!(run(&mut sh, "-not @(\"\")"), "True");
    assert_eq!(run(&mut sh, "@(\"a\") -contains \"A\""), "True");
    assert_eq!(
        run(&mut sh, "$x = @(\"a\"); $x = $x + \"b\"; $x.Count"),
        "2"
    );
}

#[test]
fn a_one_item_array_binds_to_a_single_valued_parameter_as_its_item() {
    let mut sh = Shell::new(Bare);
    assert_eq!(run(&mut sh, "1, 2, 3 | Select-Object -First @(2)"), "1\n2");
    assert_eq!(
        run(&mut sh, "1, 2, 3 | Select-Object -First (@(2))"),
        "1\n2"
    );
    // Two items stay two: a number cannot be made of them.
    for line in [
        "1, 2, 3 | Select-Object -First @(2, 3)",
        "1, 2, 3 | Select-Object -First 2, 3",
    ] {
        let e = fail(&mut sh, line);
        assert_eq!(e.error_id, "CannotConvertArgument,Select-Object", "{line}");
        assert_eq!(
            e.message,
            "Cannot convert 'System.Object[]' to the type 'System.Int32' required by parameter 'First'. Specified method is not supported.",
            "{line}"
        );
    }
    // An object parameter takes the array as it is.
    assert_eq!(
        run(&mut sh, "Write-Output -InputObject @(\"a\", \"b\")"),
        "a\nb"
    );
}
