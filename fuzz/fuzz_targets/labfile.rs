//! Lab files, in all three readers: the combined lab file of `hma-lab` (`lab::LabFile::parse`,
//! which also runs the two below on its halves), and the directory and organization files of
//! mock-aad and mock-exchange.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = hma_lab::lab::LabFile::parse(text, "fuzz.yaml", None);
    let _ = mock_aad::labfile::parse_str(text, "fuzz.yaml");
    let _ = mock_exchange::labfile::parse_str(text, "fuzz.yaml");
});
