//! `hma-lab explain` on a Fiddler `.saz` built from lab traffic: real requests to the contoso lab
//! (the HMA handshake, then the token of a cloud-only user, which Exchange cannot map) written as Fiddler writes its sessions.

use std::io::Write;

use hma_lab::explain::saz;
use hma_lab::scenario::format::LabRef;
use hma_lab::scenario::runner::Ctx;

use crate::common::cmdlet;

/// The request and response of one EWS call as Fiddler's raw view shows them.
async fn ews_session(ctx: &Ctx, authorization: &str) -> (String, String) {
    let url = ctx.lab.url("mail.contoso.com", "/EWS/Exchange.asmx");
    let r = ctx
        .lab
        .http_client()
        .post(&url)
        .header("content-type", "text/xml; charset=utf-8")
        .header("authorization", authorization)
        .body(crate::common::FIND_INBOX)
        .send()
        .await
        .unwrap();
    let request = format!(
        "POST https://mail.contoso.com/EWS/Exchange.asmx HTTP/1.1\r\nHost: mail.contoso.com\r\nContent-Type: text/xml; charset=utf-8\r\nAuthorization: {authorization}\r\n\r\n{}",
        crate::common::FIND_INBOX
    );
    let mut response = format!(
        "HTTP/1.1 {} {}\r\n",
        r.status().as_u16(),
        r.status().canonical_reason().unwrap_or("")
    );
    for (n, v) in r.headers() {
        response.push_str(&format!("{n}: {}\r\n", v.to_str().unwrap_or("")));
    }
    response.push_str("\r\n");
    response.push_str(&r.text().await.unwrap());
    (request, response)
}

#[tokio::test]
async fn a_saz_of_lab_traffic_names_the_failing_session() {
    let ctx = Ctx::start(&LabRef::Builtin("contoso".into()))
        .await
        .unwrap();
    let token = cmdlet(
        &ctx,
        "(New-LabForgedToken AlexW@contoso.com -Resource https://mail.contoso.com/ -Flaw CloudOnlyUser).AccessToken",
    )
    .await;
    let sessions = [
        ews_session(&ctx, "Bearer").await,
        ews_session(&ctx, &format!("Bearer {token}")).await,
    ];
    assert!(
        sessions[0].1.starts_with("HTTP/1.1 401 "),
        "{}",
        sessions[0].1
    );
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (i, (c, s)) in sessions.iter().enumerate() {
        for (suffix, text) in [("c.txt", c), ("s.txt", s)] {
            w.start_file(format!("raw/{:02}_{suffix}", i + 1), opts)
                .unwrap();
            w.write_all(text.as_bytes()).unwrap();
        }
    }
    let bytes = w.finish().unwrap().into_inner();
    let path = lab_kit::testkit::temp_dir("saz").join("lab.saz");
    std::fs::write(&path, &bytes).unwrap();
    let text = hma_lab::explain::explain_any(&path).unwrap();
    let report = saz::explain("lab.saz", &bytes).unwrap();
    let got: Vec<(u32, &str)> = report
        .findings
        .iter()
        .map(|f| (f.session, f.explanation.id))
        .collect();
    assert_eq!(got, vec![(2, "user-not-synced")], "{text}");
    assert!(
        text.contains(
            "Session 2: POST https://mail.contoso.com/EWS/Exchange.asmx → 401 Unauthorized"
        ),
        "{text}"
    );
    assert!(
        !text.contains(&token[..40]),
        "the token is printed:\n{text}"
    );
}
