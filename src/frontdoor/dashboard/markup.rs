//! The small pieces every dashboard fragment is written with: escaping (every value from the
//! lab goes through [`esc`]), tables, the pass/fail mark, and the lab clock's time format. A
//! leaf module, so the fragments that use it do not depend on each other.

use std::time::SystemTime;

/// Escapes text for an HTML element or a quoted attribute.
pub fn esc(s: &str) -> String {
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

/// A `<table>` with a header row and rows of already escaped cells.
pub fn table(class: &str, head: &[&str], rows: &[Vec<String>]) -> String {
    let mut s = format!("<table class=\"{class}\"><thead><tr>");
    for h in head {
        s.push_str(&format!("<th scope=\"col\">{}</th>", esc(h)));
    }
    s.push_str("</tr></thead><tbody>");
    for r in rows {
        s.push_str("<tr>");
        for c in r {
            s.push_str(&format!("<td>{c}</td>"));
        }
        s.push_str("</tr>");
    }
    s.push_str("</tbody></table>");
    s
}

/// A pass/fail mark with its word (never colour alone).
pub fn mark(ok: bool) -> &'static str {
    if ok {
        "<span class=\"pass\">✓ pass</span>"
    } else {
        "<span class=\"fail\">✗ fail</span>"
    }
}

/// RFC 3339 with milliseconds.
pub fn rfc3339(t: SystemTime) -> String {
    let t = time::OffsetDateTime::from(t);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}
