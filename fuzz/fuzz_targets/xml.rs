//! The SOAP/POX reader every XML surface (EWS, Autodiscover POX and SOAP) parses bodies with.
//! Besides not crashing, its namespace resolution is held equal to quick-xml's own resolver
//! (`NsReader`): a document the reader accepts must resolve every element and attribute to the
//! same namespace, and a document quick-xml cannot resolve must be refused.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mock_exchange::surfaces::xml::Element;
use quick_xml::events::Event;
use quick_xml::name::ResolveResult;

/// Every element's and attribute's (namespace, local name) in document order, as `NsReader`
/// resolves them; `None` when it cannot read or resolve the document.
fn by_quick_xml(doc: &str) -> Option<Vec<(String, String)>> {
    let text = |r: ResolveResult<'_>| match r {
        ResolveResult::Bound(ns) => Some(String::from_utf8_lossy(ns.0).into_owned()),
        ResolveResult::Unbound => Some(String::new()),
        ResolveResult::Unknown(_) => None,
    };
    let mut reader = quick_xml::reader::NsReader::from_str(doc);
    reader.config_mut().check_end_names = true;
    let mut out = Vec::new();
    loop {
        match reader.read_event().ok()? {
            Event::Start(e) | Event::Empty(e) => {
                let (ns, local) = reader.resolve_element(e.name());
                out.push((text(ns)?, String::from_utf8_lossy(local.as_ref()).into_owned()));
                for a in e.attributes() {
                    let a = a.ok()?;
                    if a.key.as_namespace_binding().is_some() {
                        continue;
                    }
                    let (ns, local) = reader.resolve_attribute(a.key);
                    out.push((text(ns)?, String::from_utf8_lossy(local.as_ref()).into_owned()));
                }
            }
            Event::Eof => return Some(out),
            _ => {}
        }
    }
}

fn by_parse(el: &Element, out: &mut Vec<(String, String)>) {
    out.push((el.ns.to_string(), el.name.clone()));
    for a in &el.attrs {
        out.push((a.ns.to_string(), a.name.clone()));
    }
    for c in &el.children {
        by_parse(c, out);
    }
}

fuzz_target!(|data: &[u8]| {
    let ours = mock_exchange::surfaces::xml::parse(data);
    if let Ok(root) = &ours {
        let _ = root.path(&[("http://schemas.xmlsoap.org/soap/envelope/", "Body")]);
    }
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let theirs = by_quick_xml(text);
    // Accepted: quick-xml resolved it too, to the same names (a document it cannot resolve is
    // `None` there, so this also holds that such a document is refused).
    if let Ok(root) = &ours {
        let mut seq = Vec::new();
        by_parse(root, &mut seq);
        assert_eq!(Some(&seq), theirs.as_ref(), "resolution differs");
    }
});
