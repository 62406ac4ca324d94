//! Small helpers shared by the handlers: form parsing that keeps duplicates, random opaque values.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;

/// A parsed `application/x-www-form-urlencoded` body or query string that remembers every pair,
/// so repeated parameters can be rejected as Azure AD does.
#[derive(Debug, Clone, Default)]
pub struct Params {
    pairs: Vec<(String, String)>,
}

impl Params {
    pub fn parse(raw: &[u8]) -> Self {
        Params {
            pairs: form_urlencoded::parse(raw)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        }
    }

    /// The value of `name`, if present and not empty.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }

    /// The first parameter that occurs more than once.
    /// The first parameter name that repeats an earlier one, in one pass (a form of n distinct
    /// names once cost n² comparisons: 30,000 pairs fit in the token endpoint's 256 KiB).
    pub fn first_duplicate(&self) -> Option<&str> {
        let mut seen = std::collections::HashSet::with_capacity(self.pairs.len());
        self.pairs
            .iter()
            .map(|(k, _)| k.as_str())
            .find(|k| !seen.insert(*k))
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }
}

/// `n` random bytes, base64url without padding (opaque codes, refresh tokens, cookies).
pub fn random_b64url(n: usize) -> String {
    let mut b = vec![0u8; n];
    rand::rng().fill_bytes(&mut b);
    URL_SAFE_NO_PAD.encode(b)
}

/// Minimal HTML escaping for text and attribute values in the sign-in pages.
pub fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_repeated_name_is_found_in_one_pass() {
        let mut form: String = (0..30_000).map(|i| format!("p{i}=x&")).collect();
        assert_eq!(Params::parse(form.as_bytes()).first_duplicate(), None);
        form.push_str("p7=y&p3=z");
        assert_eq!(Params::parse(form.as_bytes()).first_duplicate(), Some("p7"));
        assert_eq!(
            Params::parse(b"a=1&b=2&b=3&a=4").first_duplicate(),
            Some("b")
        );
    }

    #[test]
    fn params_keep_duplicates_and_ignore_empty_values() {
        let p = Params::parse(b"grant_type=password&scope=&username=a%40b.com&username=c");
        assert_eq!(p.get("grant_type"), Some("password"));
        assert_eq!(p.get("scope"), None);
        assert_eq!(p.get("username"), Some("a@b.com"));
        assert_eq!(p.first_duplicate(), Some("username"));
    }

    #[test]
    fn escapes_markup() {
        assert_eq!(
            html_escape("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }
}
