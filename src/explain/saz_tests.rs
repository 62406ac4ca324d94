//! `.saz` archives built in the test: the guide's captures as Fiddler sessions, secrets in a real
//! trace, and hostile archives (a bomb, a huge entry, names that leave the archive).

use std::io::Write;

use super::explanation::ExplainError;
use super::saz;

const FIX: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/explain/");

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!("{FIX}{name}")).unwrap()
}

/// A .saz with `(name, bytes)` entries, deflated like Fiddler's.
pub(crate) fn archive(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, bytes) in entries {
        w.start_file(*name, opts).unwrap();
        w.write_all(bytes).unwrap();
    }
    w.finish().unwrap().into_inner()
}

const EWS_REQUEST: &str = "POST https://mail.contoso.com/EWS/Exchange.asmx HTTP/1.1\r\nHost: mail.contoso.com\r\nAuthorization: Bearer eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJodHRwczovL21haWwuY29udG9zby5jb20vIn0.c2lnbmF0dXJlc2lnbmF0dXJl\r\nCookie: X-BackEndCookie=S-1-5-21=u56Lnp2ejJqBzs; ClientId=ABCDEF\r\nContent-Type: text/xml\r\n\r\n<soap/>";

fn session(n: u32, c: &str, s: &str) -> Vec<(String, Vec<u8>)> {
    vec![
        (format!("raw/{n:02}_c.txt"), c.as_bytes().to_vec()),
        (format!("raw/{n:02}_s.txt"), s.as_bytes().to_vec()),
        (
            format!("raw/{n:02}_m.xml"),
            b"<Session SID=\"1\"><SessionTimers/></Session>".to_vec(),
        ),
    ]
}

fn build(sessions: Vec<Vec<(String, Vec<u8>)>>) -> Vec<u8> {
    let all: Vec<(String, Vec<u8>)> = sessions.into_iter().flatten().collect();
    let refs: Vec<(&str, &[u8])> = all
        .iter()
        .map(|(n, b)| (n.as_str(), b.as_slice()))
        .collect();
    let mut with_index = vec![("_index.htm", b"<html/>".as_slice())];
    with_index.extend(refs);
    archive(&with_index)
}

fn response(status: &str, body_of_fixture: &str) -> String {
    format!("HTTP/1.1 {status}\r\n{}", fixture(body_of_fixture))
}

#[test]
fn each_failing_session_is_named_in_trace_order_with_the_guides_cause() {
    let normal = fixture("lab-normal-handshake.txt");
    let bytes = build(vec![
        session(1, "", &normal),
        session(
            2,
            EWS_REQUEST,
            &response("401 Unauthorized", "seed-user-not-synced-2000005.txt"),
        ),
        session(
            3,
            "GET https://mail.contoso.com/owa/ HTTP/1.1\r\nHost: mail.contoso.com\r\n\r\n",
            "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
        ),
        session(
            12,
            EWS_REQUEST,
            &response("401 Unauthorized", "seed-ssl-offloading-2000003.txt"),
        ),
    ]);
    let r = saz::explain("t.saz", &bytes).unwrap();
    assert_eq!(r.sessions, 4);
    let got: Vec<(u32, &str)> = r
        .findings
        .iter()
        .map(|f| (f.session, f.explanation.id))
        .collect();
    assert_eq!(got, vec![(2, "user-not-synced"), (12, "ssl-offloading")]);
    let text = r.render();
    assert!(
        text.starts_with("t.saz: 4 session(s) read, 2 failure(s) recognised.\n"),
        "{text}"
    );
    assert!(
        text.contains(
            "\nSession 2: POST https://mail.contoso.com/EWS/Exchange.asmx → 401 Unauthorized\n"
        ),
        "{text}"
    );
    assert!(text.find("Session 2:").unwrap() < text.find("Session 12:").unwrap());
    for secret in ["eyJ0eXAi", "u56Lnp2ejJqBzs", "ABCDEF"] {
        assert!(!text.contains(secret), "{secret} printed:\n{text}");
    }
}

#[test]
fn the_guides_captures_each_in_a_session() {
    let cases = [
        ("seed-missing-spn-aadsts50001.txt", "missing-spn"),
        ("seed-flighting-4000000.txt", "flighting"),
        ("seed-password-changed-aadsts50173.txt", "password-changed"),
        ("seed-unicorn-rampage.txt", "tenant-revocation"),
        ("seed-name-mismatch-2000003.txt", "name-mismatch"),
    ];
    let sessions = cases
        .iter()
        .enumerate()
        .map(|(i, (f, _))| session(i as u32 + 1, "", &fixture(f)))
        .collect();
    let r = saz::explain("guide.saz", &build(sessions)).unwrap();
    let got: Vec<(u32, &str)> = r
        .findings
        .iter()
        .map(|f| (f.session, f.explanation.id))
        .collect();
    let want: Vec<(u32, &str)> = cases
        .iter()
        .enumerate()
        .map(|(i, (_, id))| (i as u32 + 1, *id))
        .collect();
    assert_eq!(got, want, "{}", r.render());
}

#[test]
fn a_password_grant_in_a_trace_is_never_printed() {
    let c = "POST https://login.microsoftonline.com/contoso.com/oauth2/token HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\ngrant_type=password&username=GregT%40contoso.com&password=Contoso2017%21&refresh_token=AQABAAAAsecret";
    let s = "HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\n\r\n{\"error\":\"invalid_grant\",\"error_description\":\"AADSTS50173: The provided grant has expired due to it being revoked, a fresh auth token is needed. The user might have changed or reset their password.\",\"error_codes\":[50173]}";
    let r = saz::explain("p.saz", &build(vec![session(7, c, s)])).unwrap();
    let text = r.render();
    assert_eq!(r.findings[0].explanation.id, "password-changed", "{text}");
    assert!(
        !text.contains("Contoso2017") && !text.contains("AQABAAAAsecret"),
        "{text}"
    );
}

#[test]
fn nothing_recognised_is_an_error_naming_the_sessions() {
    let bytes = build(vec![session(1, "", "HTTP/1.1 200 OK\r\n\r\n")]);
    let e = saz::explain("ok.saz", &bytes).unwrap_err();
    assert!(
        matches!(e, ExplainError::Unrecognised { exchanges: 1, .. }),
        "{e}"
    );
}

#[test]
fn hostile_archives_are_refused_with_a_clear_error() {
    let msg = |b: &[u8]| saz::explain("x.saz", b).unwrap_err().to_string();
    // A bomb: 17 MiB of zeros deflate to a few KiB.
    let zeros = vec![0u8; (saz::MAX_ENTRY + 1024) as usize];
    let bomb = archive(&[("raw/01_s.txt", &zeros)]);
    assert!(bomb.len() < 100_000);
    assert_eq!(
        msg(&bomb),
        format!("x.saz: not a usable Fiddler .saz archive: entry 'raw/01_s.txt' inflates past {} bytes; refused", saz::MAX_ENTRY)
    );
    for name in [
        "../../etc/passwd",
        "raw/../../x",
        "/abs/01_c.txt",
        "C:\\x\\01_c.txt",
    ] {
        let a = archive(&[(name, b"x")]);
        assert_eq!(
            msg(&a),
            format!("x.saz: not a usable Fiddler .saz archive: entry name '{name}' leaves the archive (absolute or '..'); refused")
        );
    }
    let m = msg(b"PK\x03\x04 not really a zip");
    assert!(
        m.starts_with("x.saz: not a usable Fiddler .saz archive: not a readable zip archive ("),
        "{m}"
    );
    // Many small entries that together pass the total cap.
    let chunk = vec![b'a'; (saz::MAX_ENTRY - 1) as usize];
    let n = (saz::MAX_TOTAL / saz::MAX_ENTRY) as usize + 2;
    let names: Vec<String> = (1..=n).map(|i| format!("raw/{i:02}_s.txt")).collect();
    let entries: Vec<(&str, &[u8])> = names
        .iter()
        .map(|s| (s.as_str(), chunk.as_slice()))
        .collect();
    assert_eq!(
        msg(&archive(&entries)),
        format!("x.saz: not a usable Fiddler .saz archive: the entries inflate past {} bytes in all; refused", saz::MAX_TOTAL)
    );
}
