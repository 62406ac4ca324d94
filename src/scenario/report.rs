//! Reports of a run: human text, one JSON document, JUnit XML.
//!
//! The human report lists each scenario with its field guide section, every step and expectation
//! with ✓/✗, and under a failure the expected and actual values and the exchange that differed.
//! JSON is the results serialized as they are ([`Report`]), for tools. JUnit XML is one
//! `testsuite` with a `testcase` per scenario and a `failure` element holding the failure lines,
//! the shape CI systems read.

use serde::Serialize;

use super::runner::{PhaseResult, ScenarioResult};

/// A whole run.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub total: usize,
    pub passed: usize,
    pub failed: usize,
    pub duration_ms: u128,
    pub scenarios: Vec<ScenarioResult>,
}

impl Report {
    pub fn new(scenarios: Vec<ScenarioResult>, duration_ms: u128) -> Report {
        let passed = scenarios.iter().filter(|s| s.passed).count();
        Report {
            total: scenarios.len(),
            passed,
            failed: scenarios.len() - passed,
            duration_ms,
            scenarios,
        }
    }

    pub fn all_passed(&self) -> bool {
        self.failed == 0
    }

    pub fn json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    pub fn human(&self) -> String {
        let mut out = String::new();
        for s in &self.scenarios {
            out.push_str(&human_scenario(s));
            out.push('\n');
        }
        out.push_str(&format!(
            "{} scenario(s): {} passed, {} failed ({} ms)\n",
            self.total, self.passed, self.failed, self.duration_ms
        ));
        out
    }

    pub fn junit(&self) -> String {
        let secs = |ms: u128| format!("{:.3}", ms as f64 / 1000.0);
        let mut x = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        x.push_str(&format!(
            "<testsuites name=\"hma-lab\" tests=\"{}\" failures=\"{}\" errors=\"0\" time=\"{}\">\n",
            self.total,
            self.failed,
            secs(self.duration_ms)
        ));
        x.push_str(&format!(
            "  <testsuite name=\"scenarios\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"0\" time=\"{}\">\n",
            self.total,
            self.failed,
            secs(self.duration_ms)
        ));
        for s in &self.scenarios {
            x.push_str(&format!(
                "    <testcase name=\"{}\" classname=\"scenarios.{}\" file=\"{}\" time=\"{}\"",
                xml(&s.name),
                xml(&s.name),
                xml(&s.file),
                secs(s.duration_ms)
            ));
            if s.passed {
                x.push_str("/>\n");
                continue;
            }
            let lines = s.failure_lines();
            let first = lines.first().cloned().unwrap_or_else(|| "failed".into());
            x.push_str(">\n");
            x.push_str(&format!(
                "      <failure message=\"{}\" type=\"ScenarioFailure\">{}</failure>\n",
                xml(&first),
                xml(&human_scenario(s))
            ));
            x.push_str("    </testcase>\n");
        }
        x.push_str("  </testsuite>\n</testsuites>\n");
        x
    }
}

/// XML-escapes text and drops characters XML 1.0 cannot carry.
pub fn xml(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&apos;"),
            '\t' | '\n' | '\r' => o.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => o.push('\u{FFFD}'),
            c => o.push(c),
        }
    }
    o
}

fn mark(ok: bool) -> &'static str {
    if ok {
        "✓"
    } else {
        "✗"
    }
}

fn indent(text: &str, pad: &str) -> String {
    text.lines()
        .map(|l| format!("{pad}{l}\n"))
        .collect::<String>()
}

/// One scenario, as the human report prints it.
pub fn human_scenario(s: &ScenarioResult) -> String {
    let mut o = format!("{} {}", mark(s.passed), s.name);
    if !s.title.is_empty() {
        o.push_str(&format!(" — {}", s.title));
    }
    o.push('\n');
    if !s.guide.is_empty() {
        o.push_str(&format!("  guide: {}\n", s.guide));
    }
    o.push_str(&format!("  file: {}\n", s.file));
    if let Some(e) = &s.error {
        o.push_str(&indent(e, "  ✗ "));
    }
    if let Some(p) = &s.main {
        phase(&mut o, p, "then", true);
    }
    if let Some(p) = &s.after_fix {
        phase(&mut o, p, "after_fix", true);
    }
    for t in &s.twins {
        o.push_str(&format!(
            "  {} twin ({}): {}\n",
            mark(t.ok),
            t.kind,
            t.summary
        ));
        if !t.ok {
            if let Some(p) = &t.phase {
                for st in p.steps.iter().filter(|x| !x.ok) {
                    o.push_str(&format!("      ✗ {}: {}\n", st.section, st.text));
                    if let Some(d) = &st.detail {
                        o.push_str(&indent(d, "          "));
                    }
                }
            }
        }
    }
    o
}

fn phase(o: &mut String, p: &PhaseResult, check_label: &str, detail_on_fail: bool) {
    let mut section = String::new();
    for st in &p.steps {
        if st.section != section {
            section = st.section.clone();
            o.push_str(&format!("  {section}\n"));
        }
        o.push_str(&format!("    {} {}\n", mark(st.ok), st.text));
        if let Some(d) = &st.detail {
            if !st.ok || st.section == "when" {
                o.push_str(&indent(d, "        "));
            }
        }
    }
    o.push_str(&format!("  {check_label}\n"));
    for c in &p.checks {
        o.push_str(&format!("    {} {}\n", mark(c.passed), c.expectation));
        if !c.passed && detail_on_fail {
            o.push_str(&format!("        expected: {}\n", c.expected));
            o.push_str(&format!("        actual:   {}\n", c.actual));
            if let Some(ev) = &c.evidence {
                o.push_str(&indent(ev, "        | "));
            }
        }
    }
}
