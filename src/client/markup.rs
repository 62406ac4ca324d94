//! What the sign-in pages are read with, by the Azure AD half of the client (`aad.rs`) and the
//! ADFS half (`adfs.rs`): an attribute of a tag, HTML's escapes, a relative URL against its page.
//! Kept apart so neither half depends on the other for them (`aad.rs` hands a federated user's
//! hop to `adfs.rs`).

/// `name="value"` of an attribute inside a tag, HTML entities decoded.
pub(super) fn attr(tag: &str, name: &str) -> Option<String> {
    let key = format!(" {name}=\"");
    let at = tag.find(&key)? + key.len();
    let end = tag[at..].find('"')? + at;
    Some(html_unescape(&tag[at..end]))
}

pub(super) fn html_unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// Resolves a Location or form action against the page's URL.
pub(super) fn join_url(base: &str, reference: &str) -> String {
    url::Url::parse(base)
        .and_then(|b| b.join(reference))
        .map(|u| u.to_string())
        .unwrap_or_else(|_| reference.to_string())
}
