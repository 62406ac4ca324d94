//! Scenario files: `scenario::format::parse` (YAML, then the whole-file checks). A lab named by
//! path is looked up under a directory that does not exist, so no file is ever read.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let dir = Path::new("/nonexistent/hma-lab-fuzz");
    let _ = hma_lab::scenario::format::parse(text, "fuzz.yaml", Some(dir), None);
});
