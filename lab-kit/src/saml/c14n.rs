//! Exclusive XML canonicalization without comments (`http://www.w3.org/2001/10/xml-exc-c14n#`)
//! of one element subtree of an [`xml`](super::xml) tree, optionally leaving out one child
//! element (the enveloped-signature transform).
//!
//! Scope, on purpose: the documents ADFS and this lab emit — no `InclusiveNamespaces` prefix
//! list, no comments, no processing instructions, no DTD-defaulted attributes. Within that scope
//! it follows the specification: a namespace declaration is written on an element when the
//! element's or one of its attributes' prefixes uses it and the nearest *output* ancestor did not
//! already write the same binding; declarations are sorted by prefix (the default first),
//! attributes by namespace URI then local name; empty elements become start/end pairs; text and
//! attribute values use the canonical escapes.

use super::xml::{escape_attr, escape_text, Element, Node, XML_NS};

/// The canonical form of `el` (whose resolved namespaces already carry what its ancestors
/// declared), leaving out the direct child `skip` (compared by address) when given.
pub fn canonicalize(el: &Element, skip: Option<&Element>) -> String {
    let mut out = String::new();
    write(el, skip, &mut Vec::new(), &mut out);
    out
}

/// `rendered`: the bindings written by output ancestors, innermost last.
fn write<'a>(
    el: &'a Element,
    skip: Option<&Element>,
    rendered: &mut Vec<(&'a str, &'a str)>,
    out: &mut String,
) {
    let in_effect = |rendered: &[(&str, &str)], prefix: &str| -> Option<String> {
        rendered
            .iter()
            .rev()
            .find(|(p, _)| *p == prefix)
            .map(|(_, u)| u.to_string())
    };
    // Visibly utilized prefixes with their URIs.
    let mut used: Vec<(&'a str, &'a str)> = Vec::new();
    let el_prefix = el.prefix.as_deref().unwrap_or("");
    used.push((el_prefix, el.ns.as_str()));
    for a in &el.attrs {
        if let Some(p) = a.prefix.as_deref() {
            if a.ns != XML_NS && !used.iter().any(|(q, _)| *q == p) {
                used.push((p, a.ns.as_str()));
            }
        }
    }
    let mut decls: Vec<(&'a str, &'a str)> = used
        .into_iter()
        .filter(|(p, u)| match in_effect(rendered, p) {
            Some(prev) => prev != *u,
            // An unprefixed element in no namespace under no rendered default needs nothing.
            None => !(p.is_empty() && u.is_empty()),
        })
        .collect();
    decls.sort_by(|a, b| a.0.cmp(b.0));

    out.push('<');
    out.push_str(&el.qname());
    for (p, u) in &decls {
        if p.is_empty() {
            out.push_str(" xmlns=\"");
        } else {
            out.push_str(" xmlns:");
            out.push_str(p);
            out.push_str("=\"");
        }
        out.push_str(&escape_attr(u));
        out.push('"');
    }
    let mut attrs: Vec<_> = el.attrs.iter().collect();
    attrs.sort_by(|a, b| (a.ns.as_str(), a.local.as_str()).cmp(&(b.ns.as_str(), b.local.as_str())));
    for a in attrs {
        out.push(' ');
        if let Some(p) = &a.prefix {
            out.push_str(p);
            out.push(':');
        }
        out.push_str(&a.local);
        out.push_str("=\"");
        out.push_str(&escape_attr(&a.value));
        out.push('"');
    }
    out.push('>');
    let mark = rendered.len();
    rendered.extend(decls);
    for child in &el.children {
        match child {
            Node::Text(t) => out.push_str(&escape_text(t)),
            Node::Element(c) => {
                if skip.is_some_and(|s| std::ptr::eq(s, c)) {
                    continue;
                }
                write(c, None, rendered, out);
            }
        }
    }
    rendered.truncate(mark);
    out.push_str("</");
    out.push_str(&el.qname());
    out.push('>');
}

#[cfg(test)]
mod tests {
    use super::super::xml::parse;
    use super::*;

    fn c14n(doc: &str) -> String {
        canonicalize(&parse(doc).unwrap().root, None)
    }

    #[test]
    fn empty_elements_expand_and_attributes_sort() {
        assert_eq!(
            c14n(r#"<a b="2" a="1"><c/></a>"#),
            r#"<a a="1" b="2"><c></c></a>"#
        );
    }

    #[test]
    fn only_visibly_used_namespaces_are_written_once() {
        let doc = r#"<p:a xmlns:p="urn:p" xmlns:q="urn:q" xmlns:unused="urn:u"><p:b q:x="1"><q:c/></p:b></p:a>"#;
        assert_eq!(
            c14n(doc),
            r#"<p:a xmlns:p="urn:p"><p:b xmlns:q="urn:q" q:x="1"><q:c></q:c></p:b></p:a>"#
        );
    }

    #[test]
    fn a_subtree_carries_the_bindings_it_uses_from_outside() {
        let doc = parse(r#"<o:r xmlns:o="urn:o" xmlns="urn:d"><o:s><t/></o:s></o:r>"#).unwrap();
        let s = doc.root.elements().next().unwrap();
        assert_eq!(
            canonicalize(s, None),
            r#"<o:s xmlns:o="urn:o"><t xmlns="urn:d"></t></o:s>"#
        );
    }

    #[test]
    fn attribute_order_is_by_namespace_uri_then_name() {
        let doc = r#"<a xmlns:z="urn:a" xmlns:b="urn:z" b:k="1" z:k="2" k="3"/>"#;
        assert_eq!(
            c14n(doc),
            r#"<a xmlns:b="urn:z" xmlns:z="urn:a" k="3" z:k="2" b:k="1"></a>"#
        );
    }

    #[test]
    fn text_and_values_use_the_canonical_escapes() {
        let doc = "<a v=\"&lt;&amp;&quot;&#9;&#xA;>\">x &gt; y &amp; &#xD;\r\n z</a>";
        assert_eq!(
            c14n(doc),
            "<a v=\"&lt;&amp;&quot;&#x9;&#xA;>\">x &gt; y &amp; &#xD;\n z</a>"
        );
    }

    #[test]
    fn the_skipped_child_is_left_out() {
        let doc = parse(r#"<a ID="1"><x/><s/><y/></a>"#).unwrap();
        let s = doc.root.elements().nth(1).unwrap();
        assert_eq!(
            canonicalize(&doc.root, Some(s)),
            r#"<a ID="1"><x></x><y></y></a>"#
        );
    }

    #[test]
    fn an_undeclared_default_under_a_rendered_default_is_reset() {
        assert_eq!(
            c14n(r#"<a xmlns="urn:d"><b xmlns=""/></a>"#),
            r#"<a xmlns="urn:d"><b xmlns=""></b></a>"#
        );
    }
}
