//! The SOAP/POX reader every XML surface (EWS, Autodiscover POX and SOAP) parses bodies with.
//! Besides not crashing, its namespace resolution is held equal to quick-xml's own resolver
//! (`NsReader`): a document the reader accepts must resolve every element and attribute to the
//! same namespace, so a document quick-xml cannot resolve must be refused.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mock_exchange::surfaces::xml::{parse, resolved_by_quick_xml, resolved_names};

fuzz_target!(|data: &[u8]| {
    let Ok(root) = parse(data) else {
        return;
    };
    let _ = root.path(&[("http://schemas.xmlsoap.org/soap/envelope/", "Body")]);
    // Accepted, so UTF-8 (a leading byte-order mark aside).
    let text = String::from_utf8_lossy(data);
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    assert_eq!(
        Some(resolved_names(&root)),
        resolved_by_quick_xml(text),
        "resolution differs"
    );
});
