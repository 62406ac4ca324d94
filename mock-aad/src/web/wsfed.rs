//! Federated sign-in in the browser: the hop to the IdP after the username page, and
//! `POST /login.srf`, where the IdP's auto-submitting form brings the user back.
//!
//! After the username page (or at once with a `login_hint`), a user whose domain is federated is
//! sent to the domain's PassiveLogOnUri with the parameters the real page puts there, in its
//! order and with its lowercase escapes: `client-request-id`, `username`, `wa=wsignin1.0`,
//! `wtrealm=urn:federation:MicrosoftOnline`, and `wctx` carrying `estsredirect=2&estsrequest=…`,
//! where `estsrequest` is the flow's opaque key (the real one is an encrypted copy of the
//! request; the lab keeps the request server-side, as for every page). The user's existence is
//! not checked first: for a federated domain only the IdP knows the user, so an unknown one is
//! refused when the token comes back (AADSTS51004), as Azure AD does. The lab answers with a
//! `302` where the real page navigates by script. (The hop itself is built by
//! `pages::page_idp_redirect`, which the username step in `flow` calls.)
//!
//! `login.srf` reads `wa`, `wresult` and `wctx`, finds the flow by `wctx`, checks the token with
//! [`crate::federation::sign_in`] (realm by issuer in the flow's tenant, the domain's
//! certificates, audience, lifetime on the lab clock, user by ImmutableID) and continues the
//! flow where a typed password would have: MFA unless the IdP's second factor is honoured,
//! consent, "Stay signed in?", the code. A refused token ends the flow on Azure AD's error page.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;

use crate::error::AadError;
use crate::federation::{self, Carrier};
use crate::sessions::{Purpose, Step};
use crate::state::AppState;
use crate::util::Params;
use crate::web::ctx::{drop_flow, load_flow, Ctx};
use crate::web::flow::advance;
use crate::web::pages::error_page;

/// `POST /login.srf`: the IdP's WS-Federation sign-in response.
pub(super) async fn web_login_srf(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let p = Params::parse(&body);
    let mut ctx = Ctx::new(&state, &headers, None);
    let flow = p.get("wctx").and_then(|w| {
        let inner = Params::parse(w.as_bytes());
        let key = inner.get("estsrequest")?;
        load_flow(&ctx, &Params::parse(format!("flowToken={key}").as_bytes()))
    });
    if let Some(Purpose::Authorize(r)) = flow.as_ref().map(|f| &f.purpose) {
        ctx.ids.correlation_id = r.correlation_id;
    }
    if p.get("wa") != Some("wsignin1.0") {
        return error_page(&ctx, &AadError::wsfed_message_invalid());
    }
    let Some(wresult) = p.get("wresult") else {
        return error_page(&ctx, &AadError::wsfed_no_result());
    };
    let Some(mut flow) = flow.filter(|f| f.step == Step::Federated) else {
        return error_page(&ctx, &AadError::flow_expired());
    };
    let checked = federation::sign_in(
        &state.dir(),
        flow.tid,
        wresult,
        Carrier::Wresult,
        ctx.unix(),
    );
    match checked {
        Err(e) => {
            drop_flow(&ctx, &flow);
            error_page(&ctx, &e)
        }
        Ok(fed) => {
            flow.tid = Some(fed.tid);
            flow.user_oid = Some(fed.user.oid);
            flow.upn = Some(fed.user.upn.clone());
            flow.amr = fed.amr;
            flow.auth_time = fed.auth_time;
            flow.auth_ticks = 0;
            flow.show_kmsi = true;
            advance(&ctx, flow, false)
        }
    }
}
