//! The grant store stays bounded on the lab clock: a refresh token that can no longer be
//! redeemed still answers with its real error for a week of lab time, then is forgotten (454k
//! refresh tokens once stayed in memory for good, even after a 100-day clock advance).

use axum::body::Body;
use axum::http::Request;

use crate::common::*;

const T0: i64 = 1_510_864_576;
const DAY: i64 = 86_400;

fn ropc() -> Request<Body> {
    Request::post("/common/oauth2/token")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(
            "grant_type=password&client_id=d3590ed6-52b3-4102-aeff-aad2292ab01c&username=GregT%40contoso.com&password=Contoso2017!&resource=https%3A%2F%2Fmail.contoso.com%2F",
        ))
        .unwrap()
}

fn refresh(rt: &str) -> Request<Body> {
    Request::post("/common/oauth2/token")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(format!(
            "grant_type=refresh_token&client_id=d3590ed6-52b3-4102-aeff-aad2292ab01c&refresh_token={rt}&resource=https%3A%2F%2Fmail.contoso.com%2F"
        )))
        .unwrap()
}

fn code(r: &lab_kit::testkit::http::Reply) -> i64 {
    r.json()["error_codes"][0].as_i64().unwrap_or(0)
}

#[tokio::test]
async fn an_expired_refresh_token_answers_700082_for_a_week_then_is_forgotten() {
    let s = contoso_at(T0);
    let r = send(&s, ropc()).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let old = r.json()["refresh_token"].as_str().unwrap().to_string();
    assert_eq!(s.grants().refresh.len(), 1);

    // 91 days idle: expired by inactivity, and still remembered as such.
    s.clock.advance_secs(91 * DAY);
    assert_eq!(send(&s, ropc()).await.status, 200);
    let r = send(&s, refresh(&old)).await;
    assert_eq!((r.status.as_u16(), code(&r)), (400, 700082), "{}", r.text());
    assert_eq!(s.grants().refresh.len(), 2);

    // A week later the next new grant sweeps it away; the fresh one stays.
    s.clock.advance_secs(8 * DAY);
    assert_eq!(send(&s, ropc()).await.status, 200);
    assert_eq!(s.grants().refresh.len(), 2, "the 99-day-old grant is gone");
    let r = send(&s, refresh(&old)).await;
    assert_eq!(
        (r.status.as_u16(), code(&r)),
        (400, 9002313),
        "{}",
        r.text()
    );
}

#[tokio::test]
async fn grants_revoked_by_tokens_valid_from_go_a_week_after_the_revocation() {
    let s = contoso_at(T0);
    for _ in 0..5 {
        assert_eq!(send(&s, ropc()).await.status, 200);
    }
    let rt = {
        let g = s.grants();
        g.refresh.keys().next().unwrap().clone()
    };
    s.clock.advance_secs(60);
    {
        let mut dir = s.dir_mut();
        let user = dir.tenants[0]
            .users
            .iter_mut()
            .find(|u| u.upn == "GregT@contoso.com")
            .unwrap();
        user.tokens_valid_from = Some(s.now());
    }
    let r = send(&s, refresh(&rt)).await;
    assert_eq!(code(&r), 50173, "{}", r.text());
    s.clock.advance_secs(8 * DAY);
    assert_eq!(send(&s, ropc()).await.status, 200);
    assert_eq!(
        s.grants().refresh.len(),
        1,
        "only the grant issued after the revocation"
    );
}
