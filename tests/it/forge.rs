//! The token forge against mock Exchange: every row of the book's table (`FORGE_ROWS`, rendered
//! into `reference/token-forge.md`) is forged with `New-LabForgedToken` in the contoso lab and
//! sent to EWS; the status, `WWW-Authenticate` and `x-ms-diagnostics` must be the row's exactly.

use hma_lab::book::{FORGE_RESOURCE, FORGE_ROWS};
use hma_lab::scenario::format::LabRef;
use hma_lab::scenario::runner::Ctx;

use crate::common::cmdlet;

async fn answer(ctx: &Ctx, token: &str) -> (u16, String, String) {
    let r = ctx
        .lab
        .http_client()
        .post(ctx.lab.url("mail.contoso.com", "/EWS/Exchange.asmx"))
        .header("content-type", "text/xml; charset=utf-8")
        .header("authorization", format!("Bearer {token}"))
        .body(crate::common::FIND_INBOX)
        .send()
        .await
        .unwrap();
    let h = |n: &str| {
        r.headers()
            .get_all(n)
            .iter()
            .map(|v| v.to_str().unwrap_or("").to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let (www, diag) = (h("www-authenticate"), h("x-ms-diagnostics"));
    (r.status().as_u16(), www, diag)
}

#[tokio::test]
async fn every_row_of_the_forge_table_is_what_exchange_answers() {
    let ctx = Ctx::start(&LabRef::Builtin("contoso".into()))
        .await
        .unwrap();
    let mut seen = Vec::new();
    let mut wrong = Vec::new();
    for row in FORGE_ROWS {
        let claim = row
            .claim
            .map(|c| format!(" -Claim {c}"))
            .unwrap_or_default();
        let token = cmdlet(
            &ctx,
            &format!(
                "(New-LabForgedToken {} -Resource {FORGE_RESOURCE} -Flaw {}{claim}).AccessToken",
                row.user, row.flaw
            ),
        )
        .await;
        assert!(
            token.matches('.').count() == 2,
            "{}: not a JWT: {token}",
            row.flaw
        );
        let got = answer(&ctx, &token).await;
        let want = (
            row.status,
            row.www_authenticate.to_string(),
            row.diagnostics.to_string(),
        );
        if got != want {
            wrong.push(format!(
                "{} {:?}:\n  got  {got:?}\n  want {want:?}",
                row.flaw, row.claim
            ));
        }
        seen.push(row.flaw);
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    for f in mock_aad::token::forge::Flaw::ALL {
        assert!(
            seen.contains(&f.pascal().as_str()),
            "flaw {} has no row in FORGE_ROWS",
            f.pascal()
        );
    }
}

#[tokio::test]
async fn the_forge_refuses_what_it_cannot_make() {
    let ctx = Ctx::start(&LabRef::Builtin("contoso".into()))
        .await
        .unwrap();
    let err = ctx
        .cmdlet("New-LabForgedToken AlexW@contoso.com -Resource https://mail.contoso.com/ -Flaw UserWithoutMailbox")
        .await
        .unwrap_err();
    assert!(
        err.contains(
            "user 'AlexW@contoso.com' has no onprem_sid; user_without_mailbox needs a synced user"
        ),
        "{err}"
    );
    let err = ctx
        .cmdlet("New-LabForgedToken GregT@contoso.com -Resource https://mail.contoso.com/ -Flaw MissingClaim")
        .await
        .unwrap_err();
    assert!(err.contains("flaw missing_claim needs \"claim\""), "{err}");
}
