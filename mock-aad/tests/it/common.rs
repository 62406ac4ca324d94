//! What several mock-aad test modules share: the golden folder, the contoso lab on a frozen
//! clock, and one request through the whole router (the kit's `oneshot`, no socket).

use axum::body::Body;
use axum::http::Request;
use lab_kit::testkit::http::{oneshot, Reply};
use lab_kit::testkit::Golden;
use mock_aad::model::Era;
use mock_aad::{AppState, Clock, Config};

/// `mock-aad/tests/golden/` (`UPDATE_GOLDEN=1` rewrites).
pub const GOLDEN: Golden = lab_kit::golden_dir!("tests/golden");

/// The shipped contoso lab on a clock frozen at `unix`.
pub fn contoso_at(unix: i64) -> AppState {
    mock_aad::state(config_at(unix))
}

/// The contoso configuration on a clock frozen at `unix` (tests add an admin token and the like),
/// in today's era: the error texts these tests pin are public captures from 2019 on, which carry
/// `error_uri` (the shipped lab speaks the field guide's era; `era.rs` tests both).
pub fn config_at(unix: i64) -> Config {
    current_era(Config {
        clock: Clock::frozen_at_unix(unix),
        ..Config::contoso()
    })
}

/// `c` with its directory in today's era (`error_uri` on AADSTS errors).
pub fn current_era(mut c: Config) -> Config {
    c.directory.era = Era::Current;
    c
}

/// Sends `req` through the whole router of `state`.
pub async fn send(state: &AppState, req: Request<Body>) -> Reply {
    oneshot(mock_aad::app(state.clone()), req).await
}
