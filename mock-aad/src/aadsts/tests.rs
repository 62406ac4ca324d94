//! The catalogue's own checks: one row per code, the fault injector accepts exactly the rows,
//! each row's constructor answers with that row's code, error and status, and the texts the
//! field guide captured are byte for byte the guide's.

use std::collections::HashSet;

use axum::http::StatusCode;
use lab_kit::catalogue::Fidelity;
use time::macros::datetime;

use super::*;
use crate::error::RequestIds;
use crate::fault_rules::{Faults, NewRule, Respond};

fn ctx() -> FaultContext {
    FaultContext {
        tenant: "contoso.com".into(),
        client_id: Some("d3590ed6-52b3-4102-aeff-aad2292ab01c".into()),
        client_name: Some("Microsoft Office".into()),
        user: Some("GregT@contoso.com".into()),
        scope: Some("https://mail.contoso.com/EWS.AccessAsUser.All".into()),
        grant_type: Some("password".into()),
        redirect_uri: Some("urn:ietf:wg:oauth:2.0:oob".into()),
        now: Some(datetime!(2017-11-16 20:36:16 UTC)),
        ..FaultContext::default()
    }
}

#[test]
fn one_row_per_code() {
    let codes: HashSet<u32> = KNOWN_CODES.iter().copied().collect();
    assert_eq!(codes.len(), KNOWN_CODES.len(), "a code is listed twice");
    assert_eq!(KNOWN_CODES.len(), entries().count());
    for e in entries() {
        assert!(
            !e.error.is_empty() && !e.message.is_empty() && !e.when.is_empty(),
            "{}",
            e.code
        );
    }
}

#[test]
fn docs_and_the_fault_injector_list_the_same_codes() {
    let documented: Vec<u32> = docs().iter().map(|d| d.code).collect();
    assert_eq!(documented, KNOWN_CODES);
    let mut faults = Faults::default();
    let mut inject = |code: u32| {
        faults.add(NewRule {
            matcher: Default::default(),
            times: Some(1),
            respond: Respond {
                aadsts: Some(code),
                ..Respond::default()
            },
        })
    };
    for &code in KNOWN_CODES {
        assert!(inject(code).is_ok(), "{code} refused by the fault injector");
    }
    for code in [0, 1, 12345, 90014, 50000] {
        assert!(inject(code).is_err(), "{code} accepted but not documented");
    }
}

#[test]
fn every_rows_constructor_answers_with_its_code_error_and_status() {
    for e in entries() {
        let err = (e.fault)(&ctx());
        assert_eq!(err.code, e.code);
        assert_eq!(err.error, e.error, "{}", e.code);
        assert_eq!(err.status, e.status, "{}", e.code);
        assert_eq!(err.suberror.as_deref(), e.suberror, "{}", e.code);
        assert_eq!(err.claims.as_deref(), e.claims, "{}", e.code);
        assert_eq!(error_for_code(e.code, &ctx()), Some(err));
    }
    assert!(error_for_code(12345, &ctx()).is_none());
}

#[test]
fn constructors_fill_every_placeholder() {
    for e in entries() {
        let err = (e.fault)(&ctx());
        let left: Vec<&str> = placeholders(&err.message)
            .into_iter()
            .filter(|p| *p != "EmailHidden")
            .collect();
        assert!(left.is_empty(), "{}: {left:?} in {}", e.code, err.message);
        assert!(
            !placeholders(e.message).is_empty() || err.message == e.message,
            "{}: a template without placeholders is the message",
            e.code
        );
    }
}

#[test]
fn docs_rows_carry_the_templates() {
    let d = docs();
    let row = d.iter().find(|r| r.code == 50034).unwrap();
    assert_eq!(row.error, "invalid_grant");
    assert_eq!(row.status, 400);
    assert_eq!(
        row.message,
        "The user account {EmailHidden} does not exist in the {domain} directory. To sign into this application, the account must be added to the directory."
    );
    assert_eq!(row.source, Fidelity::PublicCapture);
    let guide: Vec<u32> = d
        .iter()
        .filter(|r| r.source == Fidelity::GuideCapture)
        .map(|r| r.code)
        .collect();
    assert_eq!(guide, [50173, 50001]);
}

#[test]
fn grant_revoked_matches_the_field_guide_text() {
    let e = AadError::grant_revoked(
        datetime!(2017-10-28 17:20:13.296 UTC),
        datetime!(2017-11-16 20:27:45 UTC),
    );
    assert_eq!(
        e.headline(),
        "AADSTS50173: The provided grant has expired due to it being revoked. The user might have changed or reset their password. The grant was issued on '2017-10-28T17:20:13.2960000Z' and the TokensValidFrom date for this user is '2017-11-16T20:27:45.0000000Z'"
    );
}

/// The whole body of the guide's "Password Changed?" capture, byte for byte (the page dropped
/// the backslashes of `\r\n`; they are put back): same keys in the same order, no `error_uri`
/// in the guide's era; today's era adds `error_uri` after `correlation_id`.
#[test]
fn grant_revoked_body_is_the_guide_capture() {
    let e = AadError::grant_revoked(
        datetime!(2017-10-28 17:20:13.296 UTC),
        datetime!(2017-11-16 20:27:45 UTC),
    );
    let current = e.clone().in_era(crate::model::Era::Current).body(
        uuid::uuid!("f840b3e7-8740-4698-b252-d759825e0300"),
        uuid::uuid!("f3fc8b2f-7cf1-4ce8-b34d-5dd41aba0a02"),
        datetime!(2017-11-16 20:36:16 UTC),
    );
    assert!(current
        .to_string()
        .ends_with(r#","correlation_id":"f3fc8b2f-7cf1-4ce8-b34d-5dd41aba0a02","error_uri":"https://login.microsoftonline.com/error?code=50173"}"#));
    let body = e.in_era(crate::model::Era::Guide).body(
        uuid::uuid!("f840b3e7-8740-4698-b252-d759825e0300"),
        uuid::uuid!("f3fc8b2f-7cf1-4ce8-b34d-5dd41aba0a02"),
        datetime!(2017-11-16 20:36:16 UTC),
    );
    assert_eq!(
        body.to_string(),
        r#"{"error":"invalid_grant","error_description":"AADSTS50173: The provided grant has expired due to it being revoked. The user might have changed or reset their password. The grant was issued on '2017-10-28T17:20:13.2960000Z' and the TokensValidFrom date for this user is '2017-11-16T20:27:45.0000000Z'\r\nTrace ID: f840b3e7-8740-4698-b252-d759825e0300\r\nCorrelation ID: f3fc8b2f-7cf1-4ce8-b34d-5dd41aba0a02\r\nTimestamp: 2017-11-16 20:36:16Z","error_codes":[50173],"timestamp":"2017-11-16 20:36:16Z","trace_id":"f840b3e7-8740-4698-b252-d759825e0300","correlation_id":"f3fc8b2f-7cf1-4ce8-b34d-5dd41aba0a02"}"#
    );
    assert_eq!(body.to_string().len(), 605, "the capture's Content-Length");
}

#[test]
fn resource_not_found_v1_matches_the_field_guide_text() {
    let e = AadError::resource_not_found_v1("https://mail.contoso.com/", "contoso.com");
    assert_eq!(
        e.headline(),
        "AADSTS50001: The application named https://mail.contoso.com/ was not found in the tenant named contoso.com.  This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant.  You might have sent your authentication request to the wrong tenant."
    );
}

#[test]
fn unicorn_renders_with_custom_reason_and_no_error_uri() {
    let e = AadError::unicorn_rampage(datetime!(2017-11-16 20:27:45 UTC));
    assert_eq!(e.code, 50173);
    assert_eq!(e.error, "unicorn_rampage");
    let ids = RequestIds {
        trace_id: uuid::uuid!("f840b3e7-8740-4698-b252-d759825e0300"),
        correlation_id: uuid::uuid!("f3fc8b2f-7cf1-4ce8-b34d-5dd41aba0a02"),
    };
    let resp = e.into_response_with(&ids, datetime!(2017-11-16 20:36:16 UTC));
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let reason = resp.extensions().get::<hyper::ext::ReasonPhrase>().unwrap();
    assert_eq!(reason.as_bytes(), b"Bad Unicorn");
    let names: Vec<_> = resp.headers().keys().map(|k| k.as_str()).collect();
    assert_eq!(
        names,
        [
            "cache-control",
            "pragma",
            "content-type",
            "expires",
            "server",
            "strict-transport-security",
            "x-content-type-options",
            "x-ms-request-id",
            "p3p",
            "set-cookie",
            "x-powered-by",
            "date"
        ]
    );
    assert_eq!(
        resp.headers()["cache-control"],
        "no-cache, no-store, not-bloody-safe"
    );
    assert_eq!(resp.headers()["date"], "Thu, 16 Nov 2017 20:36:16 GMT");
}

#[test]
fn variants_keep_their_rows_code() {
    assert_eq!(AadError::body_too_large().code, 90015);
    assert_eq!(
        AadError::body_too_large().status,
        StatusCode::PAYLOAD_TOO_LARGE
    );
    assert_eq!(AadError::reply_url_unusable().code, 50011);
    assert_eq!(
        AadError::mfa_required("x", true).error,
        "interaction_required"
    );
    assert_eq!(AadError::mfa_required("x", false).error, "invalid_grant");
    assert_eq!(
        AadError::unsupported_response_type("code id_token").code,
        700054
    );
    assert_eq!(
        AadError::unsupported_response_type("code id_token").message,
        "response_type 'id_token' is not enabled for the application."
    );
    assert_eq!(AadError::unsupported_response_type("token").code, 70005);
    for e in [
        AadError::assertion_unknown_key("k"),
        AadError::assertion_bad_issuer(),
        AadError::assertion_wrong_audience("a", "b", "c"),
        AadError::assertion_not_user(),
    ] {
        assert_eq!((e.code, e.error.as_str()), (50013, "invalid_grant"));
    }
}

#[test]
fn signin_pages_word_the_errors_a_user_meets() {
    assert_eq!(
        signin_message(50126),
        "Your account or password is incorrect. If you don't remember your password, reset it now."
    );
    assert_eq!(signin_message(90002), PAGE_TEXT_FALLBACK);
}
