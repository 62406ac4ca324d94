//! EWS and Autodiscover (POX, SOAP, JSON v2) as the dispatcher calls them once the pipeline let
//! a request in: the first byte picks the endpoint and whether a user is signed in, the rest is
//! the body (for JSON v2, the path after `autodiscover.json/`).
#![no_main]

use axum::http::Method;
use libfuzzer_sys::fuzz_target;
use mock_exchange::surfaces::{autodiscover, ews};

fuzz_target!(|data: &[u8]| {
    let Some((&sel, body)) = data.split_first() else {
        return;
    };
    let ctx = hma_lab_fuzz::ctx(sel & 0x80 == 0);
    let xml = [("content-type", "text/xml; charset=utf-8")];
    match sel % 4 {
        0 => {
            if let Some(p) = hma_lab_fuzz::parts(Method::POST, "/EWS/Exchange.asmx", &xml) {
                let _ = ews::handle(&ctx, &p, body);
            }
        }
        1 => {
            let uri = "/Autodiscover/Autodiscover.xml";
            if let Some(p) = hma_lab_fuzz::parts(Method::POST, uri, &xml) {
                let _ = autodiscover::handle(&ctx, &p, body);
            }
        }
        2 => {
            let uri = "/autodiscover/autodiscover.svc";
            let soap = [("content-type", "text/xml; charset=utf-8"), ("soapaction", "\"http://schemas.microsoft.com/exchange/2010/Autodiscover/Autodiscover/GetUserSettings\"")];
            if let Some(p) = hma_lab_fuzz::parts(Method::POST, uri, &soap) {
                let _ = autodiscover::handle(&ctx, &p, body);
            }
        }
        _ => {
            let Ok(rest) = std::str::from_utf8(body) else {
                return;
            };
            let uri = format!("/autodiscover/autodiscover.json/{rest}");
            if let Some(p) = hma_lab_fuzz::parts(Method::GET, &uri, &[]) {
                let _ = autodiscover::handle(&ctx, &p, &[]);
            }
        }
    }
});
