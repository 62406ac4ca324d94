//! Azure AD signing-key rollover through the lab cmdlets, on a running lab: the cmdlets change
//! mock-aad's key set over its admin API, new tokens carry the new `kid`, and what mock Exchange
//! keeps of the AuthServer metadata (its admin API's `certificate_thumbprints`, which are kids)
//! follows Azure AD only when it refreshes: on a token with an unknown kid, on
//! `Set-AuthServer -RefreshAuthMetadata`, or every 8 hours of lab time.

use hma_lab::scenario::format::LabRef;
use hma_lab::scenario::runner::Ctx;

use crate::common::{cmdlet, ews, token};
use serde_json::Value;

/// The first three keys shipped with mock-aad (the lab starts with the first active and the
/// second published ahead).
const K1: &str = "3OcKmDFDYgqhkjWyEFybSI3jxyE";
const K2: &str = "YPhbeyCaKRlOsnGmUnoFoKpK_v4";
const K3: &str = "3IrvSM45EAEvk5uN81nzaPFx0X8";

/// The kids mock Exchange holds for EvoSts (its cached metadata).
async fn exchange_kids(ctx: &Ctx) -> Vec<String> {
    let ex = ctx.lab.exchange();
    let r: Value = reqwest::Client::new()
        .get(format!("{}/_admin/auth-servers/EvoSts", ex.url()))
        .bearer_auth(ex.admin_token())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    r["metadata"]["certificate_thumbprints"]
        .as_array()
        .unwrap_or_else(|| panic!("no metadata thumbprints: {r}"))
        .iter()
        .map(|k| k.as_str().unwrap().to_string())
        .collect()
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rollover_is_picked_up_and_a_retired_key_is_refused_after_refresh() {
    let ctx = Ctx::start(&LabRef::Builtin("contoso".into()))
        .await
        .unwrap();
    // Like Azure AD, the lab publishes the next key ahead of the rollover.
    assert_eq!(
        cmdlet(&ctx, "Get-LabSigningKey | ft -HideTableHeaders").await,
        format!("{K1} Active\n{K2} Published")
    );
    let (old_token, kid) = token(&ctx).await;
    assert_eq!(kid, K1);
    assert_eq!(ews(&ctx, &old_token).await, (200, String::new()));
    assert_eq!(
        sorted(exchange_kids(&ctx).await),
        sorted(vec![K1.into(), K2.into()])
    );

    // Rollover: the key published ahead signs, the old one stays published.
    assert_eq!(
        cmdlet(&ctx, "Invoke-LabSigningKeyRollover | ft -HideTableHeaders").await,
        format!("{K2} Active")
    );
    assert_eq!(
        cmdlet(&ctx, "Get-LabSigningKey | ft -HideTableHeaders").await,
        format!("{K2} Active\n{K1} Published")
    );
    // A second rollover brings a key Exchange's metadata does not list.
    assert_eq!(cmdlet(&ctx, "(Invoke-LabSigningKeyRollover).Kid").await, K3);
    assert_eq!(
        sorted(exchange_kids(&ctx).await),
        sorted(vec![K1.into(), K2.into()])
    );
    // A new token carries the new kid; its unknown kid makes Exchange refresh once and accept.
    let (new_token, kid) = token(&ctx).await;
    assert_eq!(kid, K3);
    assert_eq!(ews(&ctx, &new_token).await, (200, String::new()));
    assert_eq!(
        sorted(exchange_kids(&ctx).await),
        sorted(vec![K1.into(), K2.into(), K3.into()])
    );

    // The active key cannot be retired; an unknown kid is not found.
    let e = ctx
        .cmdlet(&format!("Remove-LabSigningKey -Kid {K3}"))
        .await
        .unwrap_err();
    assert!(
        e.starts_with(
            "Remove-LabSigningKey : the active signing key cannot be retired; roll over first"
        ),
        "{e}"
    );
    let e = ctx.cmdlet("Remove-LabSigningKey nope").await.unwrap_err();
    assert!(
        e.starts_with("Remove-LabSigningKey : no key with kid 'nope'"),
        "{e}"
    );

    // Retire the old key: Exchange's metadata is stale, the old token still verifies (after
    // iisreset, so it is not merely the validated-token cache).
    cmdlet(
        &ctx,
        &format!("Get-LabSigningKey {K1} | Remove-LabSigningKey"),
    )
    .await;
    assert_eq!(
        cmdlet(&ctx, "Get-LabSigningKey | ft -HideTableHeaders").await,
        format!("{K3} Active\n{K2} Published")
    );
    cmdlet(&ctx, "iisreset").await;
    assert_eq!(ews(&ctx, &old_token).await, (200, String::new()));
    assert!(exchange_kids(&ctx).await.contains(&K1.to_string()));
    // The refresh drops the retired key: the old token is refused, the new one still works.
    cmdlet(&ctx, "Set-AuthServer EvoSts -RefreshAuthMetadata").await;
    cmdlet(&ctx, "iisreset").await;
    assert_eq!(
        sorted(exchange_kids(&ctx).await),
        sorted(vec![K2.into(), K3.into()])
    );
    assert_eq!(
        ews(&ctx, &old_token).await,
        (
            401,
            "2000000;reason=\"The token has an invalid signature.\";error_category=\"invalid_signature\"".to_string()
        )
    );
    assert_eq!(ews(&ctx, &new_token).await, (200, String::new()));
}

/// The 8-hour refresh of lab time also brings Exchange's metadata up to date: a key published
/// ahead of a rollover (`Add-LabSigningKey`) is known to Exchange before it signs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_published_ahead_is_learned_by_the_eight_hour_refresh() {
    let ctx = Ctx::start(&LabRef::Builtin("contoso".into()))
        .await
        .unwrap();
    let (at, _) = token(&ctx).await;
    assert_eq!(ews(&ctx, &at).await.0, 200);
    assert_eq!(
        sorted(exchange_kids(&ctx).await),
        sorted(vec![K1.into(), K2.into()])
    );
    assert_eq!(
        cmdlet(&ctx, "Add-LabSigningKey | ft -HideTableHeaders").await,
        format!("{K3} Published")
    );
    // Seven and a half hours: still the cached document.
    ctx.lab.clock().advance_secs(7 * 3600 + 1800);
    let (at, kid) = token(&ctx).await;
    assert_eq!(kid, K1, "an added key does not sign");
    assert_eq!(ews(&ctx, &at).await.0, 200);
    assert_eq!(
        sorted(exchange_kids(&ctx).await),
        sorted(vec![K1.into(), K2.into()])
    );
    // Past eight hours (the token is half an hour old): the next validation re-reads the
    // metadata, which now lists the added key too.
    ctx.lab.clock().advance_secs(1860);
    cmdlet(&ctx, "iisreset").await;
    assert_eq!(ews(&ctx, &at).await.0, 200);
    assert_eq!(
        sorted(exchange_kids(&ctx).await),
        sorted(vec![K1.into(), K2.into(), K3.into()])
    );
    // Rollovers activate the keys published ahead, in order.
    assert_eq!(cmdlet(&ctx, "(Invoke-LabSigningKeyRollover).Kid").await, K2);
    assert_eq!(cmdlet(&ctx, "(Invoke-LabSigningKeyRollover).Kid").await, K3);
}

/// The two rollover scenarios pass, and each twin fails for the reason the scenario is about:
/// in the picked-up twin the old token is refused after the refresh (the old key was retired);
/// in the retired-key twin (given + its fix, a new sign-in, + when) Outlook holds a token of the
/// new key, so the refresh refuses nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rollover_scenarios_pass_and_their_twins_fail_on_the_old_token() {
    use hma_lab::scenario::{report::human_scenario, run_paths, RunOptions};
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let r = run_paths(
        &[
            dir.join("key-rollover-picked-up-by-metadata-refresh.yaml"),
            dir.join("retired-key-accepted-until-metadata-refresh.yaml"),
        ],
        &RunOptions::default(),
        None,
    )
    .await
    .unwrap();
    assert_eq!(r.total, 2);
    for s in &r.scenarios {
        assert!(s.passed, "{}", human_scenario(s));
        assert_eq!(s.twins.len(), 1, "{}", s.name);
        let twin = s.twins[0].phase.as_ref().unwrap();
        let failed: Vec<(&str, &str)> = twin
            .checks
            .iter()
            .filter(|c| !c.passed)
            .map(|c| (c.expectation.as_str(), c.actual.as_str()))
            .collect();
        let text = format!("{failed:#?}");
        if s.name == "key-rollover-picked-up-by-metadata-refresh" {
            // Step 5 (Greg's old token after the refresh) fell back to NTLM.
            assert!(
                failed
                    .iter()
                    .any(|(e, a)| e.contains("(step 5)") && a.contains("NTLM")),
                "{text}"
            );
        } else {
            // The 2000000 refusal never came; the new sign-in's token kept working.
            assert!(
                failed
                    .iter()
                    .any(|(e, _)| e.contains("2000000") && e.contains("(step 3)")),
                "{text}"
            );
            assert!(
                failed
                    .iter()
                    .any(|(e, a)| e.contains("(step 3)") && a.contains("Bearer")),
                "{text}"
            );
        }
    }
}
