//! A small namespace-resolved element tree over quick-xml, and the escaping used to write XML.
//!
//! The SOAP and POX surfaces need to look at a request by element *local name + namespace* (never
//! by string search) and to report where a document is broken (EWS puts `LineNumber` and
//! `LinePosition` into its schema-validation fault). Request bodies are small and bounded, so a
//! tree is simpler than streaming: [`parse`] builds one, with each element's 1-based line and
//! column, and fails with the position of the first well-formedness error. Depth is capped so a
//! hostile document cannot exhaust the stack when the tree is dropped. Namespace URIs are shared
//! (`Arc<str>`, one per distinct URI in a document): a request of n elements makes n fewer
//! copies of a 50-byte URI, and a wide document's tree stays small enough to parse in time
//! proportional to its size.
//! Responses are written with `format!` and [`esc`], so their bytes are fully under our control.

use std::collections::HashMap;
use std::sync::Arc;

use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;
use quick_xml::reader::NsReader;

/// Deepest element nesting accepted (real SOAP requests stay well under 20).
const MAX_DEPTH: usize = 64;

pub const NS_SOAP: &str = "http://schemas.xmlsoap.org/soap/envelope/";
pub const NS_SOAP12: &str = "http://www.w3.org/2003/05/soap-envelope";
pub const NS_M: &str = "http://schemas.microsoft.com/exchange/services/2006/messages";
pub const NS_T: &str = "http://schemas.microsoft.com/exchange/services/2006/types";
pub const NS_E: &str = "http://schemas.microsoft.com/exchange/services/2006/errors";
pub const NS_AUTOD: &str = "http://schemas.microsoft.com/exchange/2010/Autodiscover";
pub const NS_POX_REQ: &str =
    "http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006";
pub const NS_XSI: &str = "http://www.w3.org/2001/XMLSchema-instance";

/// One attribute, namespace-resolved (`ns` is empty for unqualified attributes).
#[derive(Debug, Clone, PartialEq)]
pub struct Attr {
    pub ns: Arc<str>,
    pub name: String,
    pub value: String,
}

/// One element with its resolved namespace, attributes, child elements and text.
#[derive(Debug, Clone, PartialEq)]
pub struct Element {
    pub ns: Arc<str>,
    pub name: String,
    pub attrs: Vec<Attr>,
    pub children: Vec<Element>,
    /// Concatenated character data directly inside this element.
    pub text: String,
    /// 1-based line of the `<` that opens the element.
    pub line: usize,
    /// 1-based column of the `<` that opens the element.
    pub col: usize,
}

/// Where and why a document is not well-formed.
#[derive(Debug, Clone, PartialEq)]
pub struct XmlError {
    pub line: usize,
    pub col: usize,
    pub message: String,
}

impl Element {
    /// Whether this element is `{ns}name`.
    pub fn is(&self, ns: &str, name: &str) -> bool {
        &*self.ns == ns && self.name == name
    }

    /// First child `{ns}name`.
    pub fn child(&self, ns: &str, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.is(ns, name))
    }

    /// All children `{ns}name`.
    pub fn children_named<'a>(
        &'a self,
        ns: &'a str,
        name: &'a str,
    ) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.is(ns, name))
    }

    /// Follows a path of `{ns}name` children.
    pub fn path(&self, steps: &[(&str, &str)]) -> Option<&Element> {
        let mut cur = self;
        for (ns, name) in steps {
            cur = cur.child(ns, name)?;
        }
        Some(cur)
    }

    /// Unqualified attribute value.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|a| a.ns.is_empty() && a.name == name)
            .map(|a| a.value.as_str())
    }

    /// Trimmed text of child `{ns}name`.
    pub fn child_text(&self, ns: &str, name: &str) -> Option<&str> {
        self.child(ns, name).map(|c| c.text.trim())
    }
}

/// 1-based line and column of byte offsets into one document, asked in increasing order.
///
/// Each query continues from the previous one, so a whole parse scans the document once: a
/// document of n elements costs O(n), not O(n²) as recounting from the start would (a 400 KB
/// body of 100k siblings once took 15 s). A query behind the cursor (never made by [`parse`])
/// starts over from the beginning, which is still correct.
struct Positions<'a> {
    src: &'a [u8],
    pos: usize,
    line: usize,
    col: usize,
    /// Bytes looked at so far, for the linearity test.
    scanned: usize,
}

impl<'a> Positions<'a> {
    fn new(src: &'a [u8]) -> Self {
        Positions {
            src,
            pos: 0,
            line: 1,
            col: 1,
            scanned: 0,
        }
    }

    fn at(&mut self, pos: usize) -> (usize, usize) {
        let pos = pos.min(self.src.len());
        if pos < self.pos {
            *self = Positions {
                scanned: self.scanned,
                ..Positions::new(self.src)
            };
        }
        let chunk = &self.src[self.pos..pos];
        let newlines = count_bytes(chunk, |b| b == b'\n');
        let tail = if newlines == 0 {
            chunk
        } else {
            self.line += newlines;
            self.col = 1;
            let last = chunk.iter().rposition(|&b| b == b'\n').unwrap_or(0);
            &chunk[last + 1..]
        };
        // A character starts at every byte but UTF-8 continuation bytes.
        self.col += count_bytes(tail, |b| b & 0xC0 != 0x80);
        self.scanned += pos - self.pos;
        self.pos = pos;
        (self.line, self.col)
    }

    fn err(&mut self, pos: usize, message: impl Into<String>) -> XmlError {
        let (line, col) = self.at(pos);
        XmlError {
            line,
            col,
            message: message.into(),
        }
    }
}

/// How many bytes of `bytes` satisfy `f`, summed in byte-wide lanes (blocks of 255, so a lane
/// cannot overflow) that the compiler turns into vector code.
fn count_bytes(bytes: &[u8], f: impl Fn(u8) -> bool + Copy) -> usize {
    bytes
        .chunks(255)
        .map(|c| {
            c.iter()
                .map(|&b| u8::from(f(b)))
                .fold(0u8, u8::wrapping_add) as usize
        })
        .sum()
}

/// The namespace URIs of one document, each made once.
///
/// A document uses a handful of namespaces, so the first few are found by a short scan (no
/// hashing of a 50-byte URI per element); a hostile document with many more falls back to a map,
/// which keeps the lookup constant-time per element.
#[derive(Default)]
struct Namespaces {
    few: Vec<(Box<[u8]>, Arc<str>)>,
    seen: HashMap<Box<[u8]>, Arc<str>>,
    empty: Option<Arc<str>>,
}

/// How many namespace URIs are scanned before the map takes over.
const FEW_NAMESPACES: usize = 8;

impl Namespaces {
    fn get(&mut self, uri: &[u8]) -> Arc<str> {
        if uri.is_empty() {
            return self.empty.get_or_insert_with(|| Arc::from("")).clone();
        }
        if let Some((_, arc)) = self.few.iter().find(|(b, _)| &**b == uri) {
            return arc.clone();
        }
        if let Some(a) = self.seen.get(uri) {
            return a.clone();
        }
        let a: Arc<str> = Arc::from(String::from_utf8_lossy(uri).as_ref());
        if self.few.len() < FEW_NAMESPACES {
            self.few.push((uri.into(), a.clone()));
        } else {
            self.seen.insert(uri.into(), a.clone());
        }
        a
    }
}

fn ns_of(r: &ResolveResult<'_>, names: &mut Namespaces) -> Result<Arc<str>, String> {
    match r {
        ResolveResult::Bound(ns) => Ok(names.get(ns.0)),
        ResolveResult::Unbound => Ok(names.get(b"")),
        ResolveResult::Unknown(p) => Err(format!(
            "'{}' is an undeclared prefix.",
            String::from_utf8_lossy(p)
        )),
    }
}

fn open(
    reader: &NsReader<&[u8]>,
    e: &BytesStart<'_>,
    at: &mut Positions<'_>,
    names: &mut Namespaces,
    start: usize,
) -> Result<Element, XmlError> {
    let (ns, _) = reader.resolve_element(e.name());
    let ns = ns_of(&ns, names).map_err(|m| at.err(start, m))?;
    let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
    let mut attrs = Vec::new();
    for a in e.attributes() {
        let a = a.map_err(|x| at.err(start, x.to_string()))?;
        let key = a.key;
        if key.as_ref() == b"xmlns" || key.as_ref().starts_with(b"xmlns:") {
            continue;
        }
        let (rns, local) = reader.resolve_attribute(key);
        let ans = ns_of(&rns, names).map_err(|m| at.err(start, m))?;
        let value = a
            .unescape_value()
            .map_err(|x| at.err(start, x.to_string()))?
            .into_owned();
        attrs.push(Attr {
            ns: ans,
            name: String::from_utf8_lossy(local.as_ref()).into_owned(),
            value,
        });
    }
    let (line, col) = at.at(start);
    Ok(Element {
        ns,
        name,
        attrs,
        children: Vec::new(),
        text: String::new(),
        line,
        col,
    })
}

/// Parses a whole document into its root element.
pub fn parse(src: &[u8]) -> Result<Element, XmlError> {
    parse_counted(src).0
}

/// [`parse`], and how many bytes the position tracking looked at (at most the document's length).
fn parse_counted(src: &[u8]) -> (Result<Element, XmlError>, usize) {
    let mut at = Positions::new(src);
    let result = parse_with(src, &mut at);
    (result, at.scanned)
}

fn parse_with(src: &[u8], at: &mut Positions<'_>) -> Result<Element, XmlError> {
    let text = std::str::from_utf8(src)
        .map_err(|e| at.err(e.valid_up_to(), "Invalid character in the given encoding."))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let offset = src.len() - text.len();
    let mut reader = NsReader::from_str(text);
    reader.config_mut().check_end_names = true;
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    let mut names = Namespaces::default();
    loop {
        let before = reader.buffer_position() as usize + offset;
        let ev = reader.read_event();
        let ev = match ev {
            Ok(x) => x,
            Err(e) => {
                let pos = reader.error_position() as usize + offset;
                return Err(at.err(pos, e.to_string()));
            }
        };
        // Position of the `<` (skip leading whitespace the event may include).
        let start = before
            + src[before.min(src.len())..]
                .iter()
                .position(|b| !b.is_ascii_whitespace())
                .unwrap_or(0);
        match ev {
            Event::Start(e) => {
                if root.is_some() {
                    return Err(at.err(start, "There are multiple root elements."));
                }
                if stack.len() >= MAX_DEPTH {
                    return Err(at.err(start, "The document is nested too deeply."));
                }
                let el = open(&reader, &e, at, &mut names, start)?;
                stack.push(el);
            }
            Event::Empty(e) => {
                if root.is_some() {
                    return Err(at.err(start, "There are multiple root elements."));
                }
                let el = open(&reader, &e, at, &mut names, start)?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(el),
                    None => root = Some(el),
                }
            }
            Event::End(_) => {
                let Some(el) = stack.pop() else {
                    return Err(at.err(start, "Unexpected end tag."));
                };
                match stack.last_mut() {
                    Some(parent) => parent.children.push(el),
                    None => root = Some(el),
                }
            }
            Event::Text(t) => {
                let s = t.xml_content().map_err(|e| at.err(start, e.to_string()))?;
                match stack.last_mut() {
                    Some(el) => el.text.push_str(&s),
                    None if s.trim().is_empty() => {}
                    None => return Err(at.err(start, "Data at the root level is invalid.")),
                }
            }
            Event::CData(t) => {
                let s = String::from_utf8_lossy(&t).into_owned();
                match stack.last_mut() {
                    Some(el) => el.text.push_str(&s),
                    None => return Err(at.err(start, "Data at the root level is invalid.")),
                }
            }
            Event::GeneralRef(r) => {
                let resolved = if r.is_char_ref() {
                    r.resolve_char_ref().ok().flatten().map(|c| c.to_string())
                } else {
                    let name = r.decode().map(|n| n.into_owned()).unwrap_or_default();
                    quick_xml::escape::resolve_xml_entity(&name).map(str::to_owned)
                };
                let Some(s) = resolved else {
                    return Err(at.err(start, "Reference to undeclared entity."));
                };
                match stack.last_mut() {
                    Some(el) => el.text.push_str(&s),
                    None => return Err(at.err(start, "Data at the root level is invalid.")),
                }
            }
            Event::DocType(_) => {
                // Exchange prohibits DTDs in requests (XXE); so do we.
                return Err(at.err(
                    start,
                    "For security reasons DTD is prohibited in this XML document.",
                ));
            }
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
            Event::Eof => {
                if let Some(open) = stack.last() {
                    return Err(at.err(src.len(),
                        format!(
                            "Unexpected end of file has occurred. The following elements are not closed: {}.",
                            open.name
                        ),
                    ));
                }
                return root.ok_or_else(|| at.err(src.len(), "Root element is missing."));
            }
        }
    }
}

/// Escapes text for element content and double-quoted attribute values, the way .NET's
/// XmlWriter does (`&`, `<`, `>`, `"`; apostrophes stay as they are).
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Positions cost one pass over the document, however many elements it has, on one line
    /// or many (recounting from the start for every element made a 400 KB body take 15 s).
    #[test]
    fn position_tracking_scans_the_document_once() {
        for sep in ["", "\n"] {
            let mut doc = String::from("<r>");
            for _ in 0..40_000 {
                doc.push_str("<a/>");
                doc.push_str(sep);
            }
            doc.push_str("</r>");
            let (root, scanned) = parse_counted(doc.as_bytes());
            let root = root.unwrap();
            assert_eq!(root.children.len(), 40_000);
            assert!(
                scanned <= doc.len(),
                "scanned {scanned} bytes of a {}-byte document",
                doc.len()
            );
            let last = root.children.last().unwrap();
            if sep.is_empty() {
                assert_eq!((last.line, last.col), (1, 4 + 4 * 39_999));
            } else {
                assert_eq!((last.line, last.col), (40_000, 1));
            }
        }
    }

    #[test]
    fn positions_agree_with_counting_one_byte_at_a_time() {
        // Long runs (more than a 255-byte block) of one- to four-byte characters and newlines.
        let mut doc = String::new();
        for i in 0..40 {
            doc.push_str(&"é€😀a".repeat(i * 7));
            if i % 3 == 0 {
                doc.push('\n');
            }
            doc.push_str(&"x".repeat(300));
        }
        let src = doc.as_bytes();
        let naive = |pos: usize| {
            let (mut line, mut col) = (1, 1);
            for &b in &src[..pos] {
                if b == b'\n' {
                    line += 1;
                    col = 1;
                } else if b & 0xC0 != 0x80 {
                    col += 1;
                }
            }
            (line, col)
        };
        let mut at = Positions::new(src);
        let stops: Vec<usize> = (0..src.len())
            .step_by(97)
            .filter(|&p| doc.is_char_boundary(p))
            .chain([src.len()])
            .collect();
        for &p in &stops {
            assert_eq!(at.at(p), naive(p), "at byte {p}");
        }
        // Asked again from the start (behind the cursor), still right.
        assert_eq!(at.at(stops[1]), naive(stops[1]));
        assert_eq!(count_bytes(&[0x80; 1000], |b| b & 0xC0 != 0x80), 0);
        assert_eq!(count_bytes(&[b'\n'; 1000], |b| b == b'\n'), 1000);
    }

    #[test]
    fn columns_count_characters_not_bytes() {
        let doc = "<r>\u{e9}\u{e9}<a/>\n\u{1f600}<b/></r>";
        let root = parse(doc.as_bytes()).unwrap();
        assert_eq!((root.children[0].line, root.children[0].col), (1, 6));
        assert_eq!((root.children[1].line, root.children[1].col), (2, 2));
        let e = parse("<r>\n  \u{e9}<a></r>".as_bytes()).unwrap_err();
        assert_eq!(e.line, 2, "{e:?}");
    }

    #[test]
    fn resolves_namespaces_and_positions() {
        let doc = br#"<?xml version="1.0"?>
<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types">
  <s:Body><t:X Id="a&amp;b">1 &lt; 2</t:X></s:Body>
</s:Envelope>"#;
        let root = parse(doc).unwrap();
        assert!(root.is(NS_SOAP, "Envelope"));
        let x = root.path(&[(NS_SOAP, "Body"), (NS_T, "X")]).unwrap();
        assert_eq!(x.attr("Id"), Some("a&b"));
        assert_eq!(x.text, "1 < 2");
        assert_eq!((x.line, x.col), (3, 11));
    }

    #[test]
    fn reports_mismatched_end_tag_position() {
        let doc = b"<a>\n  <b></c>\n</a>";
        let e = parse(doc).unwrap_err();
        assert_eq!(e.line, 2);
        assert!(e.col >= 6, "{e:?}");
    }

    #[test]
    fn rejects_unclosed_undeclared_prefix_dtd_and_garbage() {
        assert!(parse(b"<a><b></b>").is_err());
        assert!(parse(b"<x:a/>").is_err());
        assert!(
            parse(b"<!DOCTYPE a [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><a>&x;</a>").is_err()
        );
        assert!(parse(b"").is_err());
        assert!(parse(b"\xff\xfe").is_err());
        assert!(parse(b"<a/><b/>").is_err());
        assert!(parse(b"<a>&nope;</a>").is_err());
    }

    #[test]
    fn deep_nesting_is_refused() {
        let mut doc = String::new();
        for _ in 0..200 {
            doc.push_str("<a>");
        }
        assert!(parse(doc.as_bytes()).is_err());
    }

    #[test]
    fn escapes() {
        assert_eq!(esc("a<b>&\"'"), "a&lt;b&gt;&amp;&quot;'");
    }
}
