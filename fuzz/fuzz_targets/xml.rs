//! The SOAP/POX reader every XML surface (EWS, Autodiscover POX and SOAP) parses bodies with.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(root) = mock_exchange::surfaces::xml::parse(data) {
        let _ = root.path(&[("http://schemas.xmlsoap.org/soap/envelope/", "Body")]);
    }
});
