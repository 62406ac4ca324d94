//! A small namespace-resolved element tree over quick-xml, and the escaping used to write XML.
//!
//! The SOAP and POX surfaces need to look at a request by element *local name + namespace* (never
//! by string search) and to report where a document is broken (EWS puts `LineNumber` and
//! `LinePosition` into its schema-validation fault). Request bodies are small and bounded, so a
//! tree is simpler than streaming: [`parse`] builds one, with each element's 1-based line and
//! column, and fails with the position of the first well-formedness error. Depth is capped so a
//! hostile document cannot exhaust the stack when the tree is dropped. Names, attribute values
//! and text borrow from the document (a copy only where an escape or a line end was rewritten),
//! so a tree costs a few allocations for its vectors, not one per name. Namespace URIs are shared
//! (`Arc<str>`, one per distinct URI in a document, the usual ones made once per thread): a
//! request of n elements makes n fewer copies of a 50-byte URI, and a wide document's tree stays
//! small enough to parse in time proportional to its size.
//! Responses are written with `format!` and [`esc`], so their bytes are fully under our control.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

use quick_xml::events::attributes::Attributes;
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::{NamespaceError, PrefixDeclaration, QName};
use quick_xml::reader::Reader;

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
pub struct Attr<'a> {
    pub ns: Arc<str>,
    pub name: Cow<'a, str>,
    pub value: Cow<'a, str>,
}

/// One element with its resolved namespace, attributes, child elements and text.
#[derive(Debug, Clone, PartialEq)]
pub struct Element<'a> {
    pub ns: Arc<str>,
    pub name: Cow<'a, str>,
    pub attrs: Vec<Attr<'a>>,
    pub children: Vec<Element<'a>>,
    /// Concatenated character data directly inside this element.
    pub text: Cow<'a, str>,
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

impl<'a> Element<'a> {
    /// Whether this element is `{ns}name`.
    pub fn is(&self, ns: &str, name: &str) -> bool {
        &*self.ns == ns && self.name == name
    }

    /// First child `{ns}name`.
    pub fn child(&self, ns: &str, name: &str) -> Option<&Element<'a>> {
        self.children.iter().find(|c| c.is(ns, name))
    }

    /// All children `{ns}name`.
    pub fn children_named<'b>(
        &'b self,
        ns: &'b str,
        name: &'b str,
    ) -> impl Iterator<Item = &'b Element<'a>> + 'b {
        self.children.iter().filter(move |c| c.is(ns, name))
    }

    /// Follows a path of `{ns}name` children.
    pub fn path(&self, steps: &[(&str, &str)]) -> Option<&Element<'a>> {
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
            .map(|a| &*a.value)
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
    few: Vec<Arc<str>>,
    seen: HashMap<Box<[u8]>, Arc<str>>,
}

thread_local! {
    /// The namespaces requests use, made once per thread and shared by every document parsed
    /// on it (no allocation for them per request). The empty one is an unqualified attribute's.
    static USUAL: [Arc<str>; 10] = [
        "", NS_SOAP, NS_SOAP12, NS_M, NS_T, NS_E, NS_AUTOD, NS_POX_REQ, NS_XSI,
        "http://www.w3.org/2001/XMLSchema",
    ]
    .map(Arc::from);
}

/// How many namespace URIs are scanned before the map takes over.
const FEW_NAMESPACES: usize = 8;

impl Namespaces {
    fn get(&mut self, uri: &[u8]) -> Arc<str> {
        if let Some(arc) = self.few.iter().find(|a| a.as_bytes() == uri) {
            return arc.clone();
        }
        if let Some(a) = self.seen.get(uri) {
            return a.clone();
        }
        let a: Arc<str> = USUAL
            .with(|usual| usual.iter().find(|a| a.as_bytes() == uri).cloned())
            .unwrap_or_else(|| Arc::from(String::from_utf8_lossy(uri).as_ref()));
        if self.few.len() < FEW_NAMESPACES {
            self.few.push(a.clone());
        } else {
            self.seen.insert(uri.into(), a.clone());
        }
        a
    }
}

/// `xml` and `xmlns`, the prefixes bound without a declaration.
const NS_XML: &[u8] = b"http://www.w3.org/XML/1998/namespace";
const NS_XMLNS: &[u8] = b"http://www.w3.org/2000/xmlns/";

/// One namespace declaration in scope: `xmlns="…"` (empty prefix) or `xmlns:p="…"`, made on the
/// element at `depth`; `ns` is `None` when the declaration undoes a binding (`xmlns=""`).
struct Binding {
    depth: usize,
    prefix: Box<[u8]>,
    ns: Option<Arc<str>>,
}

/// The declarations in scope, innermost last, and the document's namespace URIs. Namespaces in
/// XML 1.1 as quick-xml's resolver reads them (a test holds the two equal), without copying each
/// declaration into a second buffer or looking a URI up again for every element.
#[derive(Default)]
struct Scope {
    bindings: Vec<Binding>,
    names: Namespaces,
}

impl Scope {
    /// Adds the declarations among the attributes of `e`, opened at `depth`.
    fn declare(&mut self, e: &BytesStart<'_>, depth: usize) -> Result<(), String> {
        for a in e.attributes().with_checks(false) {
            let Ok(a) = a else { break };
            let Some(decl) = a.key.as_namespace_binding() else {
                continue;
            };
            let uri: &[u8] = &a.value;
            let prefix: &[u8] = match decl {
                PrefixDeclaration::Default => b"",
                PrefixDeclaration::Named(b"xml") => {
                    if uri != NS_XML {
                        return Err(ns_error(NamespaceError::InvalidXmlPrefixBind(uri.to_vec())));
                    }
                    continue;
                }
                PrefixDeclaration::Named(b"xmlns") => {
                    return Err(ns_error(NamespaceError::InvalidXmlnsPrefixBind(
                        uri.to_vec(),
                    )));
                }
                PrefixDeclaration::Named(p) => {
                    if uri == NS_XML {
                        return Err(ns_error(NamespaceError::InvalidPrefixForXml(p.to_vec())));
                    }
                    if uri == NS_XMLNS {
                        return Err(ns_error(NamespaceError::InvalidPrefixForXmlns(p.to_vec())));
                    }
                    p
                }
            };
            let ns = (!uri.is_empty()).then(|| self.names.get(uri));
            self.bindings.push(Binding {
                depth,
                prefix: prefix.into(),
                ns,
            });
        }
        Ok(())
    }

    /// Drops the declarations made at `depth` or deeper.
    fn close(&mut self, depth: usize) {
        while self.bindings.last().is_some_and(|b| b.depth >= depth) {
            self.bindings.pop();
        }
    }

    /// The namespace of a name with `prefix`: an element's unprefixed name takes the default
    /// namespace, an attribute's none. An undeclared prefix is an error.
    fn resolve(&mut self, prefix: Option<&[u8]>, element: bool) -> Result<Arc<str>, String> {
        let found = match prefix {
            None if !element => None,
            None => self
                .bindings
                .iter()
                .rev()
                .find(|b| b.prefix.is_empty())
                .and_then(|b| b.ns.clone()),
            // An empty prefix (`<:a>`) is never bound, not even by `xmlns:=`.
            Some(p) => match self
                .bindings
                .iter()
                .rev()
                .find(|b| !b.prefix.is_empty() && &*b.prefix == p)
            {
                Some(Binding { ns: Some(ns), .. }) => Some(ns.clone()),
                Some(_) => return Err(undeclared(p)),
                None if p == b"xml" => Some(self.names.get(NS_XML)),
                None if p == b"xmlns" => Some(self.names.get(NS_XMLNS)),
                None => return Err(undeclared(p)),
            },
        };
        Ok(found.unwrap_or_else(|| self.names.get(b"")))
    }
}

/// A name from the document, borrowed. The document was checked to be UTF-8 and names are
/// split at ASCII `:`, so the lossy branch is never taken; the plain check is the fast one.
fn doc_text(b: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(b) {
        Ok(s) => Cow::Borrowed(s),
        Err(_) => String::from_utf8_lossy(b),
    }
}

/// Adds a piece of an element's character data: the first piece is kept as it is (borrowed
/// from the document when it was not rewritten), a second one makes the text owned.
fn push_text<'a>(text: &mut Cow<'a, str>, piece: Cow<'a, str>) {
    if text.is_empty() {
        *text = piece;
    } else {
        text.to_mut().push_str(&piece);
    }
}

fn undeclared(prefix: &[u8]) -> String {
    format!(
        "'{}' is an undeclared prefix.",
        String::from_utf8_lossy(prefix)
    )
}

fn ns_error(e: NamespaceError) -> String {
    quick_xml::Error::Namespace(e).to_string()
}

/// A name read from `tag`: the slice of the tag it is (no second UTF-8 check), else a copy.
fn tag_text<'a>(tag: &'a str, name: &[u8]) -> Cow<'a, str> {
    match in_doc(tag, name) {
        Some(s) => Cow::Borrowed(s),
        None => Cow::Owned(doc_text(name).into_owned()),
    }
}

/// `part` as the slice of `doc` it is (by address: a reader over a string hands out slices of
/// it), so it can outlive the event it came in; `None` when it is not inside `doc`.
fn in_doc<'a>(doc: &'a str, part: &[u8]) -> Option<&'a str> {
    let off = (part.as_ptr() as usize).checked_sub(doc.as_ptr() as usize)?;
    doc.get(off..off.checked_add(part.len())?)
}

fn open<'a>(
    doc: &'a str,
    e: &BytesStart<'_>,
    scope: &mut Scope,
    depth: usize,
    at: &mut Positions<'_>,
    start: usize,
) -> Result<Element<'a>, XmlError> {
    scope.declare(e, depth).map_err(|m| at.err(start, m))?;
    // The tag as a slice of the document (a reader over a string never copies a start tag), so
    // its name and attributes borrow from the document rather than from this event.
    let qlen = e.name().as_ref().len();
    let Some(tag) = in_doc(doc, e) else {
        return Err(at.err(start, "The start tag could not be read."));
    };
    let qname = QName(&tag.as_bytes()[..qlen.min(tag.len())]);
    let ns = scope
        .resolve(qname.prefix().map(|p| p.into_inner()), true)
        .map_err(|m| at.err(start, m))?;
    let name = tag_text(tag, qname.local_name().into_inner());
    let mut attrs = Vec::new();
    for a in Attributes::new(tag, qlen) {
        let a = a.map_err(|x| at.err(start, x.to_string()))?;
        if a.key.as_namespace_binding().is_some() {
            continue;
        }
        let ans = scope
            .resolve(a.key.prefix().map(|p| p.into_inner()), false)
            .map_err(|m| at.err(start, m))?;
        let value = a
            .unescape_value()
            .map_err(|x| at.err(start, x.to_string()))?;
        attrs.push(Attr {
            ns: ans,
            name: tag_text(tag, a.key.local_name().into_inner()),
            value,
        });
    }
    let (line, col) = at.at(start);
    Ok(Element {
        ns,
        name,
        attrs,
        children: Vec::new(),
        text: Cow::Borrowed(""),
        line,
        col,
    })
}

/// Parses a whole document into its root element.
pub fn parse(src: &[u8]) -> Result<Element<'_>, XmlError> {
    parse_counted(src).0
}

/// [`parse`], and how many bytes the position tracking looked at (at most the document's length).
fn parse_counted(src: &[u8]) -> (Result<Element<'_>, XmlError>, usize) {
    let mut at = Positions::new(src);
    let result = parse_with(src, &mut at);
    (result, at.scanned)
}

fn parse_with<'a>(src: &'a [u8], at: &mut Positions<'_>) -> Result<Element<'a>, XmlError> {
    let text = std::str::from_utf8(src)
        .map_err(|e| at.err(e.valid_up_to(), "Invalid character in the given encoding."))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let offset = src.len() - text.len();
    let mut reader = Reader::from_str(text);
    reader.config_mut().check_end_names = true;
    let mut stack: Vec<Element<'a>> = Vec::with_capacity(8);
    let mut root: Option<Element<'a>> = None;
    let mut scope = Scope::default();
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
                let el = open(text, &e, &mut scope, stack.len(), at, start)?;
                stack.push(el);
            }
            Event::Empty(e) => {
                if root.is_some() {
                    return Err(at.err(start, "There are multiple root elements."));
                }
                let el = open(text, &e, &mut scope, stack.len(), at, start)?;
                scope.close(stack.len());
                match stack.last_mut() {
                    Some(parent) => parent.children.push(el),
                    None => root = Some(el),
                }
            }
            Event::End(_) => {
                let Some(el) = stack.pop() else {
                    return Err(at.err(start, "Unexpected end tag."));
                };
                scope.close(stack.len());
                match stack.last_mut() {
                    Some(parent) => parent.children.push(el),
                    None => root = Some(el),
                }
            }
            Event::Text(t) => {
                let s = t.xml_content().map_err(|e| at.err(start, e.to_string()))?;
                match stack.last_mut() {
                    Some(el) => push_text(&mut el.text, s),
                    None if s.trim().is_empty() => {}
                    None => return Err(at.err(start, "Data at the root level is invalid.")),
                }
            }
            Event::CData(t) => {
                let s = match t.into_inner() {
                    Cow::Borrowed(b) => doc_text(b),
                    Cow::Owned(v) => Cow::Owned(String::from_utf8_lossy(&v).into_owned()),
                };
                match stack.last_mut() {
                    Some(el) => push_text(&mut el.text, s),
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
                    Some(el) => push_text(&mut el.text, Cow::Owned(s)),
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

/// Every element's and attribute's (namespace, local name) under `root`, in document order. With
/// [`resolved_by_quick_xml`], what the tests and the `xml` fuzz target compare.
#[doc(hidden)]
pub fn resolved_names(root: &Element) -> Vec<(String, String)> {
    fn walk(el: &Element, out: &mut Vec<(String, String)>) {
        out.push((el.ns.to_string(), el.name.to_string()));
        for a in &el.attrs {
            out.push((a.ns.to_string(), a.name.to_string()));
        }
        for c in &el.children {
            walk(c, out);
        }
    }
    let mut out = Vec::new();
    walk(root, &mut out);
    out
}

/// The same list as quick-xml's own resolver (`NsReader`) reads `doc`; `None` when it cannot read
/// or resolve it. The reference the reader's namespace resolution is held to.
#[doc(hidden)]
pub fn resolved_by_quick_xml(doc: &str) -> Option<Vec<(String, String)>> {
    use quick_xml::name::ResolveResult;
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
                out.push((text(ns)?, doc_text(local.as_ref()).into_owned()));
                for a in e.attributes() {
                    let a = a.ok()?;
                    if a.key.as_namespace_binding().is_some() {
                        continue;
                    }
                    let (ns, local) = reader.resolve_attribute(a.key);
                    out.push((text(ns)?, doc_text(local.as_ref()).into_owned()));
                }
            }
            Event::Eof => return Some(out),
            _ => {}
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
    fn namespaces_resolve_as_quick_xmls_resolver_does() {
        let docs = [
            include_str!("../../../bench/getfolder.xml"),
            r#"<a xmlns="u1"><b xmlns=""><c/></b><d/></a>"#,
            r#"<p:a xmlns:p="u1" p:x="1" y="2"><p:b xmlns:p="u2" p:z="3"/><p:c/></p:a>"#,
            r#"<a xmlns:p=""><p:b/></a>"#,
            r#"<xml:a/>"#,
            r#"<a xml:lang="en" xmlns:q="u" q:x="1"/>"#,
            r#"<a xmlns:xml="http://www.w3.org/XML/1998/namespace"/>"#,
            r#"<a xmlns:xml="x"/>"#,
            r#"<a xmlns:xmlns="x"/>"#,
            r#"<a xmlns:p="http://www.w3.org/2000/xmlns/"/>"#,
            r#"<a xmlns:p="http://www.w3.org/XML/1998/namespace"/>"#,
            r#"<a x:y="1" xmlns:x="u"/>"#,
            r#"<a xmlns:="u"><:b/></a>"#,
            r#"<q:a/>"#,
            r#"<a xmlns="u"><b xmlns:c="v"><c:d/></b><c:e/></a>"#,
            r#"<a:b:c xmlns:a="u"/>"#,
            r#"<a><b xmlns="u"/><c/></a>"#,
            r#"<a xmlns="u"><b xmlns="v"><c xmlns="w"/><d/></b><e/></a>"#,
            r#"<a xmlns:p="u"><b xmlns:p=""><p:c/></b></a>"#,
            r#"<a xmlns:p="u"><b xmlns:p=""/><p:c/></a>"#,
            r#"<xmlns:a/>"#,
            r#"<a xmlns="u" xmlns="v"/>"#,
            r#"<a p:x="1"/>"#,
        ];
        for doc in docs {
            let ours = parse(doc.as_bytes()).ok().map(|root| resolved_names(&root));
            assert_eq!(ours, resolved_by_quick_xml(doc), "{doc}");
        }
    }

    #[test]
    fn namespaces_resolve_as_quick_xmls_resolver_does_over_generated_documents() {
        // Small documents from a fixed-seed generator: prefixes p, q, xml, xmlns and none,
        // declarations of every kind (undoing ones too) on any element, nesting three deep.
        let mut seed = 0x9E37_79B9_7F4A_7C15_u64;
        let mut next = |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        const PREFIXES: [&str; 5] = ["", "p:", "q:", "xml:", "xmlns:"];
        const DECLS: [&str; 8] = [
            " xmlns=\"u1\"",
            " xmlns=\"\"",
            " xmlns:p=\"u2\"",
            " xmlns:p=\"\"",
            " xmlns:q=\"u3\"",
            " xmlns:xml=\"http://www.w3.org/XML/1998/namespace\"",
            " xmlns:q=\"http://www.w3.org/2000/xmlns/\"",
            " p:at=\"1\"",
        ];
        fn element(next: &mut impl FnMut(u64) -> u64, depth: u32, out: &mut String) {
            let name = format!("{}e{depth}", PREFIXES[next(5) as usize]);
            out.push('<');
            out.push_str(&name);
            for _ in 0..next(3) {
                out.push_str(DECLS[next(8) as usize]);
            }
            if next(3) == 0 {
                out.push_str(&format!(" {}a=\"v\"", PREFIXES[next(4) as usize]));
            }
            if depth == 3 || next(3) == 0 {
                out.push_str("/>");
                return;
            }
            out.push('>');
            for _ in 0..next(3) {
                element(next, depth + 1, out);
            }
            out.push_str(&format!("</{name}>"));
        }
        let (mut ok, mut refused) = (0, 0);
        for _ in 0..3000 {
            let mut doc = String::new();
            element(&mut next, 0, &mut doc);
            let ours = parse(doc.as_bytes()).ok().map(|root| resolved_names(&root));
            let theirs = resolved_by_quick_xml(&doc);
            assert_eq!(ours, theirs, "{doc}");
            if theirs.is_some() {
                ok += 1;
            } else {
                refused += 1;
            }
        }
        assert!(
            ok > 300 && refused > 300,
            "both kinds covered: {ok} ok, {refused} refused"
        );
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
