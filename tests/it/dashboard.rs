//! The dashboard on the admin listener, over real sockets: the one-time login link and its
//! cookie, the guard on every route, the timeline's event stream (a 2000003 after SSL
//! offloading, with its exact row), the opened exchange with Exchange's token checks and
//! explain's verdict, the controls, and that no secret reaches any page.

use std::time::Duration;

use hma_lab::frontdoor::{FrontDoor, Options};
use hma_lab::lab::{Lab, LabFile};
use lab_kit::Clock;
use serde_json::Value;

const OFFLOAD_DIAG: &str = "2000003;reason=\"The hostname component of the audience claim value is invalid. Expected 'https://mail.contoso.com'. Actual 'http://mail.contoso.com'.\";error_category=\"invalid_resource\"";
use crate::frontdoor::{https, ROPC};

async fn door() -> FrontDoor {
    let lab = Lab::start_file(
        LabFile::builtin("contoso").unwrap(),
        Clock::frozen_at_unix(1_510_864_576),
    )
    .await
    .unwrap();
    let dir = std::env::temp_dir().join(format!("hma-lab-dash-{}", uuid::Uuid::new_v4()));
    FrontDoor::start(lab, Options::loopback(dir)).await.unwrap()
}

/// A browser-like client of the admin listener: no redirects followed, no proxy.
fn admin_client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Logs in with the ready line's link: the session cookie's `name=value`.
async fn login(door: &FrontDoor) -> String {
    let url = door.ready()["dashboard"].as_str().unwrap().to_string();
    let r = admin_client().get(&url).send().await.unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/dashboard");
    let c = r.headers()["set-cookie"].to_str().unwrap().to_string();
    c.split(';').next().unwrap().to_string()
}

fn base(door: &FrontDoor) -> String {
    format!("http://{}/dashboard", door.admin_addr())
}

#[tokio::test]
async fn the_ready_lines_link_logs_in_once_and_the_token_form_after() {
    let door = door().await;
    let url = door.ready()["dashboard"].as_str().unwrap().to_string();
    let prefix = format!("http://{}/dashboard?login=", door.admin_addr());
    assert!(url.starts_with(&prefix), "{url}");
    assert_eq!(url.len(), prefix.len() + 64, "{url}");
    let http = admin_client();
    let r = http.get(&url).send().await.unwrap();
    assert_eq!(r.status(), 303);
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_string();
    let (pair, attrs) = cookie.split_once("; ").unwrap();
    assert_eq!(attrs, "HttpOnly; SameSite=Strict; Path=/");
    assert!(
        pair.starts_with("hma_lab_dashboard=") && pair.len() == 18 + 64,
        "{pair}"
    );
    // The secret is spent: the second use gets the login page, which asks for the token.
    let r = http.get(&url).send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(r.headers()["content-type"], "text/html; charset=utf-8");
    let page = r.text().await.unwrap();
    assert!(page.contains("That login link was used already"), "{page}");
    assert!(page.contains("<input id=\"token\" name=\"token\" type=\"password\""));
    assert!(!page.contains(door.admin_token()));
    // With the cookie: the dashboard.
    let r = http
        .get(base(&door))
        .header("cookie", pair)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let page = r.text().await.unwrap();
    assert!(page.contains("<h1>hma-lab <span class=\"lab\">contoso</span></h1>"));
    assert!(page.contains("<script src=\"/dashboard/app.js\"></script>"));
    assert!(!page.contains(door.admin_token()));
    // The token form: a wrong token is refused, the right one opens a session.
    let r = http
        .post(format!("{}/login", base(&door)))
        .form(&[("token", "not-it")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("That is not this lab&#39;s admin token."));
    let r = http
        .post(format!("{}/login", base(&door)))
        .form(&[("token", door.admin_token())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let other = r.headers()["set-cookie"].to_str().unwrap().to_string();
    assert_ne!(other.split(';').next().unwrap(), pair);
    // Signing out ends the session.
    let r = http
        .post(format!("{}/logout", base(&door)))
        .header("cookie", pair)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let r = http
        .get(base(&door))
        .header("cookie", pair)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}

#[tokio::test]
async fn every_route_wants_the_cookie_or_the_token_and_actions_their_header() {
    let door = door().await;
    let http = admin_client();
    for path in [
        "/state",
        "/events",
        "/entry/1",
        "/har",
        "/app.js",
        "/exercise",
    ] {
        let r = http
            .get(format!("{}{path}", base(&door)))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401, "{path}");
        assert_eq!(
            r.headers()["www-authenticate"],
            "Bearer realm=\"hma-lab admin\""
        );
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["ok"], false);
        let r = http
            .get(format!("{}{path}", base(&door)))
            .header("cookie", "hma_lab_dashboard=forged")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401, "{path}");
    }
    let r = http
        .post(format!("{}/do/clock", base(&door)))
        .form(&[("seconds", "300")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(door.lab().clock().offset_secs(), 0);
    // The admin token as a bearer opens every route, as on the admin API.
    let r = http
        .get(format!("{}/state", base(&door)))
        .bearer_auth(door.admin_token())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let cookie = login(&door).await;
    // A state change without the dashboard's header (a cross-site form) is refused.
    let r = http
        .post(format!("{}/do/clock", base(&door)))
        .header("cookie", &cookie)
        .form(&[("seconds", "300")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(door.lab().clock().offset_secs(), 0);
    let r = http
        .post(format!("{}/do/clock", base(&door)))
        .header("cookie", &cookie)
        .header("x-hma-dashboard", "1")
        .form(&[("seconds", "300")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["ok"], true);
    assert_eq!(v["output"], "the lab clock is now 2017-11-16T20:41:16.000Z");
    assert_eq!(v["clock"]["offset_secs"], 300);
    assert_eq!(door.lab().clock().offset_secs(), 300);
    let r = http
        .post(format!("{}/do/clock", base(&door)))
        .header("cookie", &cookie)
        .header("x-hma-dashboard", "1")
        .form(&[("seconds", "soon")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"],
        "seconds=N (an integer) is required"
    );
}

/// Reads server-sent events until `done` accepts one; the events as (name, data).
async fn read_events(
    resp: &mut reqwest::Response,
    done: impl Fn(&str, &Value) -> bool,
) -> Vec<(String, Value)> {
    let mut buf = String::new();
    let mut out = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        while let Some(i) = buf.find("\n\n") {
            let block: String = buf.drain(..i + 2).collect();
            let mut name = String::from("message");
            let mut data = None;
            for line in block.lines() {
                if let Some(n) = line.strip_prefix("event: ") {
                    name = n.to_string();
                }
                if let Some(d) = line.strip_prefix("data: ") {
                    data = Some(serde_json::from_str::<Value>(d).unwrap());
                }
            }
            if let Some(d) = data {
                let stop = done(&name, &d);
                out.push((name, d));
                if stop {
                    return out;
                }
            }
        }
        let chunk = tokio::time::timeout_at(deadline, resp.chunk())
            .await
            .expect("no such event within 20 s")
            .unwrap()
            .expect("the stream ended");
        buf.push_str(std::str::from_utf8(&chunk).unwrap());
    }
}

#[tokio::test]
async fn the_timeline_streams_a_2000003_after_ssl_offload_and_opens_it_with_the_failing_audience() {
    let door = door().await;
    let cookie = login(&door).await;
    let http = admin_client();
    let mut events = http
        .get(format!("{}/events", base(&door)))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(events.status(), 200);
    assert_eq!(events.headers()["content-type"], "text/event-stream");
    let first = read_events(&mut events, |n, _| n == "clock").await;
    assert_eq!(
        first.last().unwrap().1,
        serde_json::json!({"now": "2017-11-16T20:36:16.000Z", "offset_secs": 0})
    );
    // The instructor turns SSL offloading on from the dashboard.
    let r = http
        .post(format!("{}/do/device", base(&door)))
        .header("cookie", &cookie)
        .header("x-hma-dashboard", "1")
        .form(&[("host", "mail.contoso.com"), ("change", "ssl-offload-on")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.json::<Value>().await.unwrap()["output"],
        "SSL offload on at mail.contoso.com's load balancer"
    );
    let r = https(
        &door,
        "POST",
        "login.microsoftonline.com",
        "/contoso.com/oauth2/token",
        &[("content-type", "application/x-www-form-urlencoded")],
        ROPC,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let tok: Value = serde_json::from_str(&r.body).unwrap();
    let at = tok["access_token"].as_str().unwrap().to_string();
    let refresh = tok["refresh_token"].as_str().unwrap().to_string();
    let bearer = format!("Bearer {at}");
    let r = https(
        &door,
        "POST",
        "mail.contoso.com",
        "/EWS/Exchange.asmx",
        &[
            ("authorization", &bearer),
            ("content-type", "text/xml; charset=utf-8"),
        ],
        crate::common::FIND_INBOX,
    )
    .await;
    assert_eq!(r.status, 401);
    let got = read_events(&mut events, |n, d| n == "entry" && d["status"] == 401).await;
    let rows: Vec<&Value> = got
        .iter()
        .filter(|(n, _)| n == "entry")
        .map(|(_, d)| d)
        .collect();
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(
        *rows[0],
        serde_json::json!({
            "id": 1, "lab_time": "2017-11-16T20:36:16.000Z", "method": "POST",
            "host": "login.microsoftonline.com", "path": "/contoso.com/oauth2/token",
            "status": 200, "service": "Azure AD", "devices": [], "auth": "grant password",
            "diagnostics": "", "aadsts": "", "error": ""
        })
    );
    assert_eq!(
        *rows[1],
        serde_json::json!({
            "id": 2, "lab_time": "2017-11-16T20:36:16.000Z", "method": "POST",
            "host": "mail.contoso.com", "path": "/EWS/Exchange.asmx", "status": 401,
            "service": "Exchange EX1", "devices": ["LB mail.contoso.com (SSL offload)"],
            "auth": "Bearer", "diagnostics": OFFLOAD_DIAG, "aadsts": "", "error": ""
        })
    );
    // One click: the exchange, its token with Exchange's checks, and the verdict.
    let r = http
        .get(format!("{}/entry/2", base(&door)))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let page = r.text().await.unwrap();
    assert!(page.contains(
        "<tr><td>audience</td><td><span class=\"fail\">✗ fail</span></td><td>aud https://mail.contoso.com/, request arrived as http://mail.contoso.com: 2000003;"
    ), "{page}");
    assert!(page.contains(
        "<tr><td>issuer</td><td><span class=\"pass\">✓ pass</span></td><td>iss https://sts.windows.net/f31f3647-5d87-4b69-a0b6-73f62aeab14c/; trusted tenant(s) f31f3647-5d87-4b69-a0b6-73f62aeab14c</td></tr>"
    ), "{page}");
    assert!(
        page.contains("<tr><td>lifetime</td><td><span class=\"pass\">✓ pass</span></td>"),
        "{page}"
    );
    assert!(
        page.contains("<h4>Verdict (hma-lab explain)</h4><p><b>Cause:</b> SSL offloading:"),
        "{page}"
    );
    assert!(
        page.contains("<p><b>Guide section:</b> “SSL Offloading”</p>"),
        "{page}"
    );
    // The token request opened: the password and the refresh token are redacted.
    let token_page = http
        .get(format!("{}/entry/1", base(&door)))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(token_page.contains("password=[redacted]"), "{token_page}");
    assert!(token_page.contains("<p class=\"muted\">The token in response.access_token is issued in this answer; Exchange checks it when a client presents it.</p>"), "{token_page}");
    let har = http
        .get(format!("{}/har", base(&door)))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(
        har.headers()["content-disposition"],
        "attachment; filename=\"hma-lab.har\""
    );
    let har = har.text().await.unwrap();
    let state = http
        .get(format!("{}/state", base(&door)))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        state.contains("<tr><td>load balancer</td><td>mail.contoso.com</td><td>to EX1; <b>SSL offload</b></td></tr>"),
        "{state}"
    );
    let sig = at.rsplit('.').next().unwrap();
    for (what, text) in [
        ("entry 1", &token_page),
        ("entry 2", &page),
        ("har", &har),
        ("state", &state),
    ] {
        for secret in [
            "Contoso2017",
            refresh.as_str(),
            sig,
            "contoso-web-secret",
            door.admin_token(),
        ] {
            assert!(!text.contains(secret), "{what} shows a secret: {secret}");
        }
    }
    let gone = http
        .get(format!("{}/entry/99", base(&door)))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), 404);
}

#[tokio::test]
async fn the_cmdlet_box_shares_the_admin_apis_session_and_iisreset_runs() {
    let door = door().await;
    let cookie = login(&door).await;
    let http = admin_client();
    let r: Value = http
        .post(format!("http://{}/cmdlet", door.admin_addr()))
        .bearer_auth(door.admin_token())
        .body("$n = 'EvoSts'")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["ok"], true);
    let act = |action: &'static str, form: Vec<(&'static str, &'static str)>| {
        let http = http.clone();
        let cookie = cookie.clone();
        let url = format!("{}/do/{action}", base(&door));
        async move {
            http.post(url)
                .header("cookie", cookie)
                .header("x-hma-dashboard", "1")
                .form(&form)
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    let v = act(
        "cmdlet",
        vec![("line", "(Get-AuthServer $n).IsDefaultAuthorizationEndpoint")],
    )
    .await;
    assert_eq!(v, serde_json::json!({"ok": true, "output": "True"}));
    let v = act("cmdlet", vec![("line", "Get-Nothing")]).await;
    assert_eq!(v["ok"], false);
    assert!(v["error"].as_str().unwrap().contains("Get-Nothing"), "{v}");
    let v = act("iisreset", vec![]).await;
    assert_eq!(v["ok"], true, "{v}");
    let v = act(
        "device",
        vec![("host", "mail.contoso.com"), ("change", "cert-expired")],
    )
    .await;
    assert_eq!(v["output"], "mail.contoso.com's certificate is expired");
    assert_eq!(door.certs().faults().len(), 1);
    let v = act(
        "device",
        vec![("host", "mail.contoso.com"), ("change", "restore")],
    )
    .await;
    assert_eq!(v["ok"], true);
    assert!(door.certs().faults().is_empty());
    let v = act(
        "device",
        vec![("host", "www.example.com"), ("change", "cert-expired")],
    )
    .await;
    assert_eq!(v["ok"], false);
}
