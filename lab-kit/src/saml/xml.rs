//! A small XML tree for signed documents: every element with its namespace resolved, its
//! attributes and its namespace declarations kept apart, and its text exactly as the XML data
//! model sees it (entity and character references resolved, line ends normalised, attribute
//! whitespace normalised).
//!
//! It exists because an XML signature is computed over the canonical form of the *data model*,
//! not over the bytes: [`super::c14n`] needs the namespace declarations of every element and the
//! resolved namespace of every name, which a streaming reader does not keep. It is built on
//! quick-xml's reader and is deliberately strict and bounded: a document type declaration (the
//! door to entity expansion) is refused, nesting deeper than [`MAX_DEPTH`] or more than
//! [`MAX_NODES`] nodes is refused, an unbound prefix is an error — so any input, however hostile,
//! ends in a tree or an [`XmlError`], never a panic or a blow-up.

use std::fmt;

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

/// Deepest element nesting accepted.
pub const MAX_DEPTH: usize = 64;
/// Most nodes (elements and text runs) accepted in one document.
pub const MAX_NODES: usize = 50_000;
/// The namespace the `xml` prefix is bound to by definition.
pub const XML_NS: &str = "http://www.w3.org/XML/1998/namespace";

/// Why a document could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XmlError(pub String);

impl fmt::Display for XmlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "not well-formed XML: {}", self.0)
    }
}

impl std::error::Error for XmlError {}

fn err(m: impl Into<String>) -> XmlError {
    XmlError(m.into())
}

/// An attribute (namespace declarations are not attributes here; see [`Element::ns_decls`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attr {
    pub prefix: Option<String>,
    pub local: String,
    /// The resolved namespace; empty for an unprefixed attribute.
    pub ns: String,
    pub value: String,
}

/// A child of an element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    Element(Element),
    Text(String),
}

/// An element with its namespace resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Element {
    pub prefix: Option<String>,
    pub local: String,
    /// The resolved namespace; empty when the element is in no namespace.
    pub ns: String,
    pub attrs: Vec<Attr>,
    /// The declarations written on this element: (`prefix`, uri), `""` for the default.
    pub ns_decls: Vec<(String, String)>,
    pub children: Vec<Node>,
}

impl Element {
    /// The value of the unprefixed attribute `local`.
    pub fn attr(&self, local: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|a| a.ns.is_empty() && a.local == local)
            .map(|a| a.value.as_str())
    }

    /// The value of attribute `local` in namespace `ns`.
    pub fn attr_ns(&self, ns: &str, local: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|a| a.ns == ns && a.local == local)
            .map(|a| a.value.as_str())
    }

    /// Whether this element is `{ns}local`.
    pub fn is(&self, ns: &str, local: &str) -> bool {
        self.ns == ns && self.local == local
    }

    /// The child elements, in order.
    pub fn elements(&self) -> impl Iterator<Item = &Element> {
        self.children.iter().filter_map(|n| match n {
            Node::Element(e) => Some(e),
            Node::Text(_) => None,
        })
    }

    /// The first child element `{ns}local`.
    pub fn child(&self, ns: &str, local: &str) -> Option<&Element> {
        self.elements().find(|e| e.is(ns, local))
    }

    /// Every child element `{ns}local`.
    pub fn children_named<'a>(
        &'a self,
        ns: &'a str,
        local: &'a str,
    ) -> impl Iterator<Item = &'a Element> + 'a {
        self.elements().filter(move |e| e.is(ns, local))
    }

    /// Follows a path of `(ns, local)` child steps.
    pub fn path(&self, steps: &[(&str, &str)]) -> Option<&Element> {
        steps
            .iter()
            .try_fold(self, |at, (ns, local)| at.child(ns, local))
    }

    /// The concatenated text of the direct text children.
    pub fn text(&self) -> String {
        self.children
            .iter()
            .filter_map(|n| match n {
                Node::Text(t) => Some(t.as_str()),
                Node::Element(_) => None,
            })
            .collect()
    }

    /// The first element `{ns}local` at or below this one, depth first.
    pub fn find(&self, ns: &str, local: &str) -> Option<&Element> {
        if self.is(ns, local) {
            return Some(self);
        }
        self.elements().find_map(|e| e.find(ns, local))
    }

    /// The qualified name as written (`saml:Assertion`).
    pub fn qname(&self) -> String {
        match &self.prefix {
            Some(p) => format!("{p}:{}", self.local),
            None => self.local.clone(),
        }
    }
}

/// A parsed document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    pub root: Element,
}

fn split_qname(raw: &[u8]) -> Result<(Option<String>, String), XmlError> {
    let s = std::str::from_utf8(raw).map_err(|_| err("a name is not UTF-8"))?;
    match s.split_once(':') {
        Some((p, l)) if !p.is_empty() && !l.is_empty() && !l.contains(':') => {
            Ok((Some(p.to_string()), l.to_string()))
        }
        Some(_) => Err(err(format!("bad qualified name `{s}`"))),
        None => Ok((None, s.to_string())),
    }
}

/// Attribute values: raw whitespace characters become spaces (XML 1.0 §3.3.3, CDATA
/// attributes), then references are resolved.
fn attr_value(raw: &[u8]) -> Result<String, XmlError> {
    let s = std::str::from_utf8(raw).map_err(|_| err("an attribute value is not UTF-8"))?;
    let normalised = s.replace("\r\n", " ").replace(['\r', '\n', '\t'], " ");
    quick_xml::escape::unescape(&normalised)
        .map(|c| c.into_owned())
        .map_err(|e| err(format!("attribute value: {e}")))
}

/// Line ends in character data become `\n` (XML 1.0 §2.11).
fn text_value(s: &str) -> String {
    s.replace("\r\n", "\n").replace('\r', "\n")
}

struct Scopes(Vec<Vec<(String, String)>>);

impl Scopes {
    fn lookup(&self, prefix: &str) -> Option<&str> {
        if prefix == "xml" {
            return Some(XML_NS);
        }
        self.0
            .iter()
            .rev()
            .flat_map(|s| s.iter())
            .find(|(p, _)| p == prefix)
            .map(|(_, u)| u.as_str())
    }
}

fn open(start: &BytesStart<'_>, scopes: &mut Scopes) -> Result<Element, XmlError> {
    let (prefix, local) = split_qname(start.name().as_ref())?;
    let mut decls = Vec::new();
    let mut plain = Vec::new();
    for a in start.attributes() {
        let a = a.map_err(|e| err(format!("attribute: {e}")))?;
        let key = a.key.as_ref();
        let value = attr_value(&a.value)?;
        if key == b"xmlns" {
            decls.push((String::new(), value));
        } else if let Some(p) = key.strip_prefix(b"xmlns:") {
            let p = std::str::from_utf8(p).map_err(|_| err("a prefix is not UTF-8"))?;
            if value.is_empty() {
                return Err(err(format!("prefix `{p}` bound to an empty namespace")));
            }
            decls.push((p.to_string(), value));
        } else {
            plain.push((split_qname(key)?, value));
        }
    }
    scopes.0.push(decls.clone());
    let ns = match &prefix {
        Some(p) => scopes
            .lookup(p)
            .ok_or_else(|| err(format!("unbound prefix `{p}`")))?
            .to_string(),
        None => scopes.lookup("").unwrap_or("").to_string(),
    };
    let mut attrs = Vec::with_capacity(plain.len());
    for ((p, l), value) in plain {
        let ns = match &p {
            Some(p) => scopes
                .lookup(p)
                .ok_or_else(|| err(format!("unbound prefix `{p}`")))?
                .to_string(),
            None => String::new(),
        };
        if attrs.iter().any(|a: &Attr| a.ns == ns && a.local == l) {
            return Err(err(format!("attribute `{l}` given twice")));
        }
        attrs.push(Attr {
            prefix: p,
            local: l,
            ns,
            value,
        });
    }
    Ok(Element {
        prefix,
        local,
        ns,
        attrs,
        ns_decls: decls,
        children: Vec::new(),
    })
}

fn push_text(stack: &mut [Element], t: &str) {
    if let Some(top) = stack.last_mut() {
        match top.children.last_mut() {
            Some(Node::Text(prev)) => prev.push_str(t),
            _ => top.children.push(Node::Text(t.to_string())),
        }
    }
}

/// Parses a whole document.
pub fn parse(text: &str) -> Result<Document, XmlError> {
    let mut reader = Reader::from_str(text);
    let mut stack: Vec<Element> = Vec::new();
    let mut scopes = Scopes(Vec::new());
    let mut root: Option<Element> = None;
    let mut nodes = 0usize;
    loop {
        let ev = reader
            .read_event()
            .map_err(|e| err(format!("at byte {}: {e}", reader.error_position())))?;
        let mut count = || {
            nodes += 1;
            if nodes > MAX_NODES {
                Err(err(format!("more than {MAX_NODES} nodes")))
            } else {
                Ok(())
            }
        };
        match ev {
            Event::Start(s) | Event::Empty(s) if root.is_some() => {
                let _ = s;
                return Err(err("content after the root element"));
            }
            Event::Start(s) => {
                count()?;
                if stack.len() >= MAX_DEPTH {
                    return Err(err(format!("nested deeper than {MAX_DEPTH}")));
                }
                stack.push(open(&s, &mut scopes)?);
            }
            Event::Empty(s) => {
                count()?;
                if stack.len() >= MAX_DEPTH {
                    return Err(err(format!("nested deeper than {MAX_DEPTH}")));
                }
                let e = open(&s, &mut scopes)?;
                scopes.0.pop();
                match stack.last_mut() {
                    Some(parent) => parent.children.push(Node::Element(e)),
                    None => root = Some(e),
                }
            }
            Event::End(_) => {
                scopes.0.pop();
                let Some(e) = stack.pop() else {
                    return Err(err("end tag without a start tag"));
                };
                match stack.last_mut() {
                    Some(parent) => parent.children.push(Node::Element(e)),
                    None => root = Some(e),
                }
            }
            Event::Text(t) => {
                let s = t.decode().map_err(|e| err(format!("text: {e}")))?;
                if stack.is_empty() {
                    if !s.trim().is_empty() {
                        return Err(err("text outside the root element"));
                    }
                    continue;
                }
                count()?;
                push_text(&mut stack, &text_value(&s));
            }
            Event::CData(c) => {
                if stack.is_empty() {
                    return Err(err("CDATA outside the root element"));
                }
                count()?;
                let s = c.decode().map_err(|e| err(format!("CDATA: {e}")))?;
                push_text(&mut stack, &text_value(&s));
            }
            Event::GeneralRef(r) => {
                if stack.is_empty() {
                    return Err(err("a reference outside the root element"));
                }
                count()?;
                let c = match r.resolve_char_ref().map_err(|e| err(format!("{e}")))? {
                    Some(c) => c,
                    None => {
                        let name = r.decode().map_err(|e| err(format!("{e}")))?;
                        match name.as_ref() {
                            "amp" => '&',
                            "lt" => '<',
                            "gt" => '>',
                            "quot" => '"',
                            "apos" => '\'',
                            other => return Err(err(format!("unknown entity `&{other};`"))),
                        }
                    }
                };
                push_text(&mut stack, c.encode_utf8(&mut [0u8; 4]));
            }
            Event::DocType(_) => return Err(err("a document type declaration is not accepted")),
            Event::PI(_) if !stack.is_empty() => {
                return Err(err(
                    "processing instructions inside the document are not accepted",
                ))
            }
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
            Event::Eof => break,
        }
    }
    if !stack.is_empty() {
        return Err(err("the document ends inside an element"));
    }
    root.map(|root| Document { root })
        .ok_or_else(|| err("no root element"))
}

/// Escapes text for an element's content (what [`super::c14n`] and the document builders write).
pub fn escape_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' => out.push_str("&#xD;"),
            c => out.push(c),
        }
    }
    out
}

/// Escapes text for a double-quoted attribute value.
pub fn escape_attr(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '"' => out.push_str("&quot;"),
            '\t' => out.push_str("&#x9;"),
            '\n' => out.push_str("&#xA;"),
            '\r' => out.push_str("&#xD;"),
            c => out.push(c),
        }
    }
    out
}
