//! What giving a response its wire spelling costs: one Exchange 401 head (eleven headers) written
//! to an in-memory pipe and parsed back by hyper, as every answer of both services is.

use std::borrow::Cow;

use criterion::{criterion_group, criterion_main, Criterion};
use http_body_util::Full;
use hyper::body::Bytes;
use hyper::Response;

fn spell(name: &str, _value: &[u8]) -> Cow<'static, str> {
    Cow::Owned(lab_kit::wirecase::title_case(name))
}

fn response() -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::new()));
    let h = r.headers_mut();
    for (n, v) in [
        ("content-length", "0"),
        ("server", "Microsoft-IIS/8.5 Microsoft-HTTPAPI/2.0"),
        ("request-id", "a8e9dfb4-cb06-4b18-80a0-b110220177e1"),
        ("www-authenticate", "Negotiate"),
        ("www-authenticate", "NTLM"),
        ("www-authenticate", "Basic realm=\"autodiscover.contoso.com\""),
        ("www-authenticate", "Bearer client_id=\"00000002-0000-0ff1-ce00-000000000000\", trusted_issuers=\"00000001-0000-0000-c000-000000000000@f31f3647-5d87-4b69-a0b6-73f62aeab14c\", token_types=\"app_asserted_user_v1 service_asserted_app_v1\", authorization_uri=\"https://login.windows.net/common/oauth2/authorize\""),
        ("x-feserver", "CONTOSOEX16"),
        ("x-ms-diagnostics", "4000000;reason=\"Flighting is not enabled for domain 'gregt@contoso.com'.\";error_category=\"oauth_not_available\""),
        ("x-powered-by", "ASP.NET"),
        ("date", "Thu, 13 Jul 2017 18:22:13 GMT"),
    ] {
        h.append(n, v.parse().expect("header value"));
    }
    r
}

fn wirecase(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    c.bench_function("wirecase::apply (Exchange 401 head)", |b| {
        b.iter(|| {
            let mut r = response();
            rt.block_on(lab_kit::wirecase::apply(&mut r, &spell));
            r
        })
    });
}

criterion_group!(benches, wirecase);
criterion_main!(benches);
