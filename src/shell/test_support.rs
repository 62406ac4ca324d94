//! Test support shared by the shell's fake backends: the `Backend` methods a focused fake never
//! reaches, written once.

/// Implements every Exchange and Azure AD `Backend` method as "not used by this test" (or an empty
/// list for the `Get-` reads), for fakes that only model one area (keys, faults).
macro_rules! unused_backend_methods {
    () => {
        fn exchange_servers(&mut self) -> BResult<Vec<Server>> {
            Ok(Vec::new())
        }
        fn set_vdir(&mut self, _: &str, _: VdirKind, _: &VdirChange) -> BResult<()> {
            Err(unused())
        }
        fn organization(&mut self) -> BResult<OrgSummary> {
            Err(unused())
        }
        fn set_org_config(&mut self, _: &OrgConfigChange) -> BResult<()> {
            Err(unused())
        }
        fn auth_servers(&mut self) -> BResult<Vec<AuthServer>> {
            Ok(Vec::new())
        }
        fn new_auth_server(&mut self, _: &NewAuthServer) -> BResult<AuthServer> {
            Err(unused())
        }
        fn set_auth_server(&mut self, _: &str, _: &AuthServerChange) -> BResult<()> {
            Err(unused())
        }
        fn refresh_auth_metadata(&mut self, _: &str) -> BResult<()> {
            Err(unused())
        }
        fn mailboxes(&mut self) -> BResult<Vec<Mailbox>> {
            Ok(Vec::new())
        }
        fn iisreset(&mut self, _: Option<&str>, _: bool) -> BResult<()> {
            Err(unused())
        }
        fn service_principals(&mut self) -> BResult<Vec<ServicePrincipal>> {
            Ok(Vec::new())
        }
        fn set_service_principal(&mut self, _: Uuid, _: &ServicePrincipalChange) -> BResult<()> {
            Err(unused())
        }
        fn set_user_password(&mut self, _: &str, _: Option<&str>, _: bool) -> BResult<String> {
            Err(unused())
        }
        fn revoke_user_sessions(&mut self, _: &str) -> BResult<()> {
            Err(unused())
        }
        fn set_user_block_credential(&mut self, _: &str, _: bool) -> BResult<()> {
            Err(unused())
        }
        fn set_user_mfa(&mut self, _: &str, _: MfaState) -> BResult<()> {
            Err(unused())
        }
        fn new_conditional_access_policy(&mut self, _: &CaRule) -> BResult<()> {
            Err(unused())
        }
        fn set_adfs_extended_protection(&mut self, _: ExtendedProtection) -> BResult<()> {
            Err(unused())
        }
        fn set_client_setting(&mut self, _: &ClientSetting) -> BResult<()> {
            Err(unused())
        }
    };
}

pub(super) fn unused() -> BackendError {
    BackendError::new("NotSpecified", "Unused", "not used by this test")
}

use mock_aad::model::{CaRule, MfaState};
use mock_exchange::model::{AuthServer, Mailbox, Server, VdirKind};
use uuid::Uuid;

use super::backend::*;
use super::{Shell, ShellError};

/// A backend that models nothing beyond the trait's defaults (the lab-only areas answer "not
/// supported by this backend").
pub(super) struct Bare;

impl Backend for Bare {
    unused_backend_methods!();
}

/// Runs a line that must succeed; its text output.
pub(super) fn run<B: Backend>(sh: &mut Shell<B>, line: &str) -> String {
    match sh.run(line) {
        Ok(o) => o.text,
        Err(e) => panic!("{line}: {}", e.render()),
    }
}

/// Runs a line that must fail; its error record.
pub(super) fn fail<B: Backend>(sh: &mut Shell<B>, line: &str) -> ShellError {
    match sh.run(line) {
        Ok(o) => panic!("{line}: expected an error, got {:?}", o.text),
        Err(e) => e,
    }
}
