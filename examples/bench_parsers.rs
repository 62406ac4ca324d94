//! `make bench` helper: is every parser linear? Times each on an input of size n and of size 4n
//! and prints one JSON line per parser with both times and their ratio (linear is about 4; the
//! target is under 5, a quadratic parser shows about 16).
//!
//! The inputs are wide rather than deep (sibling elements, form pairs, array items, claims,
//! list items, users, checks): width is what a hostile client can send within the body limits,
//! and depth is capped separately. Each time is the best of seven repetitions, each repetition
//! running the parser enough times to last about 20 ms, so timer noise does not decide a ratio;
//! the two sizes are timed in turn, seven times each.
//! Run from the workspace root (`scenarios/` resolves the lab a scenario names).

// The JSON lines on stdout are this helper's whole output, read by bench/run.py.
#![allow(clippy::print_stdout)]

use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

/// The allocator of the `hma-lab` binary, so the figure is the product's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// How many calls of `f` last about 20 ms.
fn reps_for(f: &dyn Fn()) -> u32 {
    let started = Instant::now();
    f();
    let once = started.elapsed().max(Duration::from_micros(1));
    ((0.02 / once.as_secs_f64()).ceil() as u32).clamp(1, 10_000)
}

/// Seconds per call of `f`, over `reps` calls.
fn time(f: &dyn Fn(), reps: u32) -> f64 {
    let t = Instant::now();
    for _ in 0..reps {
        f();
    }
    t.elapsed().as_secs_f64() / f64::from(reps)
}

fn measure(name: &str, n: usize, input: &dyn Fn(usize) -> String, parse: &dyn Fn(&str) -> bool) {
    let (small, large) = (input(n), input(4 * n));
    let ok = parse(&small) && parse(&large);
    let run_small = || {
        black_box(parse(black_box(&small)));
    };
    let run_large = || {
        black_box(parse(black_box(&large)));
    };
    let (reps_small, reps_large) = (reps_for(&run_small), reps_for(&run_large));
    // Interleaved, best of seven each: a burst of load on a shared machine slows both sizes alike
    // or is skipped by the minimum.
    let (mut t1, mut t4) = (f64::INFINITY, f64::INFINITY);
    for _ in 0..7 {
        t1 = t1.min(time(&run_small, reps_small));
        t4 = t4.min(time(&run_large, reps_large));
    }
    println!(
        "{}",
        serde_json::json!({
            "parser": name,
            "n": n,
            "bytes_n": small.len(),
            "bytes_4n": large.len(),
            "secs_n": t1,
            "secs_4n": t4,
            "ratio": t4 / t1,
            "parsed": ok,
        })
    );
}

fn xml(n: usize) -> String {
    let mut s = String::from(
        r#"<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types" xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages"><soap:Body><m:GetFolder><m:FolderIds>"#,
    );
    for i in 0..n {
        s.push_str(&format!("\n<t:FolderId Id=\"f{i}\"/>"));
    }
    s.push_str("</m:FolderIds></m:GetFolder></soap:Body></soap:Envelope>");
    s
}

fn form(n: usize) -> String {
    (0..n)
        .map(|i| format!("k{i}=v%20{i}"))
        .collect::<Vec<_>>()
        .join("&")
}

fn json(n: usize) -> String {
    let items: Vec<String> = (0..n)
        .map(|i| format!(r#"{{"upn":"user{i}@contoso.com","enabled":true,"n":{i}}}"#))
        .collect();
    format!(r#"{{"users":[{}]}}"#, items.join(","))
}

fn jwt(n: usize) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let claims: Vec<String> = (0..n).map(|i| format!(r#""c{i}":"v{i}""#)).collect();
    format!(
        "{}.{}.{}",
        b64.encode(r#"{"typ":"JWT","alg":"RS256","kid":"k"}"#),
        b64.encode(format!("{{{}}}", claims.join(","))),
        b64.encode([7u8; 256])
    )
}

fn cmdlet(n: usize) -> String {
    let items: Vec<String> = (0..n).map(|i| i.to_string()).collect();
    format!("Write-Output {}", items.join(","))
}

fn lab_yaml(n: usize) -> String {
    let base = include_str!("../scenarios/labs/contoso.yaml");
    let users: String = (0..n)
        .map(|i| {
            format!("        - {{ upn: user{i}@contoso.com, oid: 00000000-0000-4000-8000-{i:012}, puid: 1003BFFD{i:08X}, display_name: User {i}, password: Contoso2017! }}\n")
        })
        .collect();
    base.replacen("      users:\n", &format!("      users:\n{users}"), 1)
}

fn scenario_yaml(n: usize) -> String {
    let base = include_str!("../scenarios/happy-path.yaml");
    let checks: String = (0..n)
        .map(|i| {
            format!(
                "  - claim: {{ name: upn, contains: \"GregT{}\" }}\n",
                i % 10
            )
        })
        .collect();
    base.replacen("then:\n", &format!("then:\n{checks}"), 1)
}

fn main() {
    let labs = Path::new("scenarios/labs");
    let scenarios = Path::new("scenarios");
    measure("XML body (EWS SOAP reader)", 10_000, &xml, &|s| {
        mock_exchange::surfaces::xml::parse(s.as_bytes()).is_ok()
    });
    measure("form body (token endpoint)", 10_000, &form, &|s| {
        mock_aad::util::Params::parse(s.as_bytes())
            .get("k0")
            .is_some()
    });
    measure("JSON (admin API bodies)", 2_500, &json, &|s| {
        serde_json::from_str::<serde_json::Value>(s).is_ok()
    });
    measure("JWT (Bearer token)", 2_000, &jwt, &|s| {
        mock_exchange::bearer::parse(s).is_ok()
    });
    measure("cmdlet line", 2_000, &cmdlet, &|s| {
        hma_lab::shell::parser::parse_line(s).is_ok()
    });
    // A new file name on every call: `LabFile::parse` memoises (name, text), and a memo hit
    // would time a lookup, not the parser.
    let calls = std::sync::atomic::AtomicUsize::new(0);
    measure("lab YAML", 500, &lab_yaml, &|s| {
        let n = calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        hma_lab::lab::LabFile::parse(s, &format!("contoso-{n}.yaml"), Some(labs)).is_ok()
    });
    measure("scenario YAML", 500, &scenario_yaml, &|s| {
        hma_lab::scenario::format::parse(s, "happy-path.yaml", Some(scenarios), None).is_ok()
    });
}
