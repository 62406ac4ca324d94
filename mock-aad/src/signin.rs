//! Who may sign in, and what the sign-in must still prove: shared by the password grant and the
//! interactive sign-in pages so both give the same AADSTS answer for the same directory state.

use uuid::Uuid;

use crate::error::AadError;
use crate::model::{AgentState, CaAction, MfaState, PasswordAuthority, Tenant, User};

/// Checks a user name and password against the tenant.
///
/// Order as Azure AD: unknown user (50034), locked (50053, checked before the password, as smart
/// lockout does), then the password where it lives ([`check_password`]: 50126, or the
/// pass-through agent's 8000x), disabled (50057).
pub fn authenticate<'t>(
    tenant: &'t Tenant,
    upn: &str,
    password: &str,
) -> Result<&'t User, AadError> {
    let user = lookup(tenant, upn)?;
    if user.locked {
        return Err(AadError::account_locked());
    }
    check_password(tenant, user, password)?;
    if !user.enabled {
        return Err(AadError::account_disabled());
    }
    Ok(user)
}

/// Checks a password where the user's domain says it lives: in the cloud (a cloud-only user, or
/// the hash password hash sync last wrote), on-premises through the tenant's pass-through agent
/// (down: 80001, slow: 80002; a disabled on-premises account with the right password: 50057, as
/// Windows reports a disabled account only after a good password), or nowhere Azure AD can reach
/// for a federated domain (50126: the password belongs to the IdP).
pub fn check_password(tenant: &Tenant, user: &User, password: &str) -> Result<(), AadError> {
    match tenant.password_authority(user) {
        PasswordAuthority::Federated => Err(AadError::invalid_credentials()),
        PasswordAuthority::Cloud if user.password == password => Ok(()),
        PasswordAuthority::Cloud => Err(AadError::invalid_credentials()),
        PasswordAuthority::PassThrough => {
            match tenant.pta_agent {
                AgentState::Down => return Err(AadError::pta_unavailable()),
                AgentState::Slow => return Err(AadError::pta_timed_out()),
                AgentState::Up => {}
            }
            match &user.on_premises {
                Some(op) if op.password != password => Err(AadError::invalid_credentials()),
                Some(op) if !op.enabled => Err(AadError::account_disabled()),
                Some(_) => Ok(()),
                None => Err(AadError::invalid_credentials()),
            }
        }
    }
}

/// Finds the user (50034 with the UPN's domain when absent).
pub fn lookup<'t>(tenant: &'t Tenant, upn: &str) -> Result<&'t User, AadError> {
    tenant.user(upn).ok_or_else(|| {
        let domain = upn
            .rsplit_once('@')
            .map(|(_, d)| d.to_string())
            .unwrap_or_else(|| tenant.primary_domain().to_string());
        AadError::user_not_found(&domain)
    })
}

/// What a sign-in must still do before tokens may be issued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecondFactor {
    /// Nothing more.
    NotNeeded,
    /// Prove a second factor (AADSTS50076 when it cannot be asked for).
    Required,
    /// Register a method, then prove it (AADSTS50079).
    Enroll,
}

/// Applies per-user MFA and conditional access for a user reaching `resource_app` from
/// `client_id`. A block rule wins (AADSTS53003); otherwise the strongest MFA demand.
pub fn requirements(
    tenant: &Tenant,
    user: &User,
    client_id: Uuid,
    resource_app: Option<Uuid>,
    resource_name: Option<&str>,
) -> Result<SecondFactor, AadError> {
    let mut need = match user.mfa {
        MfaState::None => SecondFactor::NotNeeded,
        MfaState::Required => SecondFactor::Required,
        MfaState::Enroll => SecondFactor::Enroll,
    };
    for rule in tenant.conditional_access.iter().filter(|r| r.enabled) {
        let user_hit = rule
            .users
            .iter()
            .any(|u| u == "*" || u.eq_ignore_ascii_case(&user.upn));
        let app_hit = rule.apps.iter().any(|a| {
            a == "*"
                || Uuid::parse_str(a)
                    .map(|id| id == client_id || Some(id) == resource_app)
                    .unwrap_or(false)
                || resource_name.is_some_and(|r| {
                    crate::model::normalize_spn(r) == crate::model::normalize_spn(a)
                })
        });
        if user_hit && app_hit {
            match rule.action {
                CaAction::Block => return Err(AadError::ca_blocked()),
                CaAction::RequireMfa => {
                    if need == SecondFactor::NotNeeded {
                        need = if user.mfa == MfaState::Enroll {
                            SecondFactor::Enroll
                        } else {
                            SecondFactor::Required
                        };
                    }
                }
            }
        }
    }
    Ok(need)
}

/// Whether the user (or an admin) consented to the client application.
pub fn has_consent(tenant: &Tenant, user: &User, client_id: Uuid) -> bool {
    match tenant.app(client_id) {
        Some(app) => app.admin_consent || user.consented_apps.contains(&client_id),
        None => false,
    }
}
