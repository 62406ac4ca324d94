//! The cmdlet language: `shell::parser::parse_line` (prompt stripping, statements, pipelines,
//! expressions, member chains) and the linter the admin API runs before evaluating a line.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(line) = std::str::from_utf8(data) else {
        return;
    };
    let _ = hma_lab::shell::parser::parse_line(line);
    let _ = hma_lab::shell::lint::lint(line);
});
