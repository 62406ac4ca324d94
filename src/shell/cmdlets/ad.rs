//! The on-premises side of hybrid identity: the ActiveDirectory module's user cmdlets
//! (`New-ADUser`, `Get-ADUser`, `Set-ADAccountPassword`, `Enable-`/`Disable-ADAccount`),
//! `ConvertTo-SecureString` (how a password reaches them), and Azure AD Connect's ADSync cmdlets
//! (`Start-ADSyncSyncCycle`, `Get-ADSyncScheduler`), over the backend's [`HybridIdentity`].
//!
//! A `SecureString` is an object of type `System.Security.SecureString` whose only shown property
//! is its `Length`; the lab keeps the text beside it (there is no DPAPI to protect it with), and
//! a password parameter refuses a plain string exactly as PowerShell's binder does.
//!
//! [`HybridIdentity`]: crate::shell::backend::HybridIdentity

use super::kit::{cmdlet, identity_of, sig, CmdletSpec, Cx, Run, R};
use crate::shell::backend::{AdUser, BackendError, NewAdUser, SyncPolicy};
use crate::shell::binder::{p, piped, pos, req, unmodeled, Bound, Extra, ParamSpec, Ty};
use crate::shell::error::catalogue;
use crate::shell::value::{PsObject, Value};

/// The type of `ConvertTo-SecureString`'s output.
pub(crate) const SECURE_STRING: &str = "System.Security.SecureString";
/// Where the lab keeps a SecureString's text (never shown by the default view).
const PLAIN: &str = "HmaLabPlainText";

const CONVERT: &[ParamSpec] = &[
    req(pos(piped(p("String", Ty::Str)), 0)),
    p("AsPlainText", Ty::Switch),
    p("Force", Ty::Switch),
    unmodeled(p("Key", Ty::Objects)),
    unmodeled(p("SecureKey", Ty::Object)),
];
const NEW_USER: &[ParamSpec] = &[
    req(pos(p("Name", Ty::Str), 0)),
    p("SamAccountName", Ty::Str),
    p("UserPrincipalName", Ty::Str),
    p("GivenName", Ty::Str),
    p("Surname", Ty::Str),
    p("DisplayName", Ty::Str),
    p("AccountPassword", Ty::Object),
    p("Enabled", Ty::Bool),
    p("PassThru", Ty::Switch),
    unmodeled(p("Path", Ty::Str)),
    unmodeled(p("ChangePasswordAtLogon", Ty::Bool)),
    unmodeled(p("EmailAddress", Ty::Str)),
    unmodeled(p("Server", Ty::Str)),
];
const GET_USER: &[ParamSpec] = &[
    pos(piped(p("Identity", Ty::Str)), 0),
    p("Filter", Ty::Str),
    p("Properties", Ty::Strings),
    unmodeled(p("SearchBase", Ty::Str)),
    unmodeled(p("Server", Ty::Str)),
];
const SET_PASSWORD: &[ParamSpec] = &[
    req(pos(piped(p("Identity", Ty::Str)), 0)),
    p("NewPassword", Ty::Object),
    p("OldPassword", Ty::Object),
    p("Reset", Ty::Switch),
    p("PassThru", Ty::Switch),
    unmodeled(p("Server", Ty::Str)),
];
const ACCOUNT: &[ParamSpec] = &[
    req(pos(piped(p("Identity", Ty::Str)), 0)),
    p("PassThru", Ty::Switch),
    unmodeled(p("Server", Ty::Str)),
];
const START_SYNC: &[ParamSpec] = &[
    pos(
        p(
            "PolicyType",
            Ty::Enum(
                "Microsoft.IdentityManagement.PowerShell.ObjectModel.PolicyType",
                &["Delta", "Initial"],
            ),
        ),
        0,
    ),
    unmodeled(p("InteractiveMode", Ty::Bool)),
];
const GET_SCHEDULER: &[ParamSpec] = &[];

pub(super) const CMDLETS: &[CmdletSpec] = &[
    cmdlet(
        sig("ConvertTo-SecureString", CONVERT, Extra::None),
        "Makes a SecureString of a text (-AsPlainText -Force), for -AccountPassword and -NewPassword.",
        Run::Each(convert),
    ),
    cmdlet(
        sig("New-ADUser", NEW_USER, Extra::ShouldProcess),
        "Creates an on-premises account (disabled unless -Enabled $true with a password); Azure AD sees it after the next sync cycle.",
        Run::Each(new_user),
    ),
    cmdlet(
        sig("Get-ADUser", GET_USER, Extra::None),
        "Shows on-premises accounts (-Identity, or -Filter *) with their SID and objectGUID.",
        Run::Each(get_user),
    ),
    cmdlet(
        sig("Set-ADAccountPassword", SET_PASSWORD, Extra::ShouldProcess),
        "Sets an on-premises password (-Reset -NewPassword); the cloud gets it at the next password hash sync, ADFS and pass-through at once.",
        Run::Each(set_password),
    ),
    cmdlet(
        sig("Disable-ADAccount", ACCOUNT, Extra::ShouldProcess),
        "Disables an on-premises account (ADFS and pass-through refuse it at once, Azure AD after the next sync cycle).",
        Run::Each(disable),
    ),
    cmdlet(
        sig("Enable-ADAccount", ACCOUNT, Extra::ShouldProcess),
        "Enables an on-premises account.",
        Run::Each(enable),
    ),
    cmdlet(
        sig("Start-ADSyncSyncCycle", START_SYNC, Extra::None),
        "Runs an Azure AD Connect sync cycle now (Delta: what changed; Initial: everything).",
        Run::Each(start_sync),
    ),
    cmdlet(
        sig("Get-ADSyncScheduler", GET_SCHEDULER, Extra::None),
        "Shows Azure AD Connect's scheduler: the 30-minute interval and the next cycle's time and policy.",
        Run::Each(get_scheduler),
    ),
];

fn convert(cx: &mut Cx<'_>, b: &Bound) -> R<Vec<Value>> {
    let cmd = cx.cmd;
    let text = b.str("String").unwrap_or_default();
    if !b.switch("AsPlainText") {
        return Err(catalogue::from_backend(
            cmd,
            BackendError::new(
                "InvalidArgument",
                "ImportSecureString_InvalidArgument_CryptographicError,Microsoft.PowerShell.Commands.ConvertToSecureStringCommand",
                "Key not valid for use in specified state.",
            ),
        ));
    }
    if !b.switch("Force") {
        return Err(catalogue::from_backend(
            cmd,
            BackendError::new(
                "InvalidArgument",
                "ImportSecureString_InvalidArgument,Microsoft.PowerShell.Commands.ConvertToSecureStringCommand",
                "The system cannot protect plain text input. To suppress this warning and convert the plain text to a SecureString, reissue the command specifying the Force parameter. For more information, type: get-help ConvertTo-SecureString.",
            ),
        ));
    }
    let len = i64::try_from(text.chars().count()).unwrap_or(i64::MAX);
    Ok(vec![Value::Object(
        PsObject::new(SECURE_STRING)
            .with("Length", Value::Int(len))
            .with(PLAIN, text),
    )])
}

/// The text of a SecureString parameter; a plain string is refused as PowerShell's binder does.
fn secure(cmd: &str, b: &Bound, param: &str) -> R<Option<String>> {
    match b.get(param) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(o)) if o.type_name == SECURE_STRING => Ok(Some(o.get_str(PLAIN))),
        Some(other) => Err(catalogue::cannot_convert_object(
            cmd,
            "CannotConvertArgumentNoMessage",
            param,
            &other.to_plain_string(),
            &other.type_name(),
            SECURE_STRING,
        )),
    }
}

fn ad_user_object(u: &AdUser) -> Value {
    let cn = if u.display_name.is_empty() {
        u.sam.as_str()
    } else {
        u.display_name.as_str()
    };
    Value::Object(
        PsObject::new("Microsoft.ActiveDirectory.Management.ADUser")
            .with(
                "DistinguishedName",
                format!("CN={cn},CN=Users,DC=contoso,DC=com"),
            )
            .with("Enabled", u.enabled)
            .with("GivenName", u.given_name.as_str())
            .with("Name", cn)
            .with("ObjectClass", "user")
            .with("ObjectGUID", u.object_guid.to_string())
            .with("SamAccountName", u.sam.as_str())
            .with("SID", u.sid.as_str())
            .with("Surname", u.surname.as_str())
            .with("UserPrincipalName", u.upn.as_str()),
    )
}

fn new_user(cx: &mut Cx<'_>, b: &Bound) -> R<Vec<Value>> {
    let cmd = cx.cmd;
    let be = cx.backend_error();
    let name = b.str("Name").unwrap_or_default();
    if let Some(w) = cx.what_if(b, &format!("CN={name},CN=Users,DC=contoso,DC=com")) {
        return Ok(w);
    }
    let sam = b.str("SamAccountName").unwrap_or_else(|| name.clone());
    let domain = cx
        .exchange()
        .ok()
        .and_then(|x| x.organization().ok())
        .map(|o| o.domain)
        .unwrap_or_else(|| "contoso.com".into());
    let new = NewAdUser {
        upn: b
            .str("UserPrincipalName")
            .unwrap_or_else(|| format!("{sam}@{domain}")),
        sam,
        given_name: b.str("GivenName").unwrap_or_default(),
        surname: b.str("Surname").unwrap_or_default(),
        display_name: b.str("DisplayName").unwrap_or_else(|| name.clone()),
        password: secure(cmd, b, "AccountPassword")?,
        enabled: b.bool("Enabled").unwrap_or(false),
        name,
    };
    let u = cx.identity()?.new_ad_user(&new).map_err(be)?;
    Ok(if b.switch("PassThru") {
        vec![ad_user_object(&u)]
    } else {
        Vec::new()
    })
}

fn find<'u>(cmd: &str, list: &'u [AdUser], id: &str) -> R<&'u AdUser> {
    let bare = id.rsplit('\\').next().unwrap_or(id);
    list.iter()
        .find(|u| {
            u.sam.eq_ignore_ascii_case(bare)
                || u.upn.eq_ignore_ascii_case(bare)
                || u.sid.eq_ignore_ascii_case(bare)
                || u.object_guid.to_string().eq_ignore_ascii_case(bare)
                || format!("CN={},CN=Users,DC=contoso,DC=com", u.display_name)
                    .eq_ignore_ascii_case(bare)
        })
        .ok_or_else(|| catalogue::ad_identity_not_found(cmd, id))
}

/// `-Identity` as a string (a piped ADUser gives its SamAccountName).
fn identity(b: &Bound) -> String {
    match b.get("Identity") {
        Some(Value::Object(o)) if o.get("SamAccountName").is_some() => o.get_str("SamAccountName"),
        Some(v) => identity_of(v),
        None => String::new(),
    }
}

fn get_user(cx: &mut Cx<'_>, b: &Bound) -> R<Vec<Value>> {
    let cmd = cx.cmd;
    let be = cx.backend_error();
    let list = cx.identity()?.ad_users().map_err(be)?;
    if b.has("Identity") {
        return Ok(vec![ad_user_object(find(cmd, &list, &identity(b))?)]);
    }
    match b.str("Filter").as_deref().map(str::trim) {
        Some("*") => Ok(list.iter().map(ad_user_object).collect()),
        Some(f) => Err(catalogue::from_backend(
            cmd,
            BackendError::new(
                "NotImplemented",
                "NotSupportedByBackend",
                format!("The lab's Get-ADUser reads -Filter * only (got '{f}'); use -Identity or Where-Object."),
            ),
        )),
        None => Err(catalogue::missing_mandatory(cmd, &["Filter"])),
    }
}

/// Resolves `-Identity` to the account's sam (the error is Active Directory's when none).
fn resolve(cx: &mut Cx<'_>, b: &Bound) -> R<AdUser> {
    let cmd = cx.cmd;
    let be = cx.backend_error();
    let list = cx.identity()?.ad_users().map_err(be)?;
    find(cmd, &list, &identity(b)).cloned()
}

fn set_password(cx: &mut Cx<'_>, b: &Bound) -> R<Vec<Value>> {
    let cmd = cx.cmd;
    let be = cx.backend_error();
    let u = resolve(cx, b)?;
    if let Some(w) = cx.what_if(b, &u.sam) {
        return Ok(w);
    }
    let old = secure(cmd, b, "OldPassword")?;
    if !b.switch("Reset") && old.is_none() {
        return Err(catalogue::missing_mandatory(cmd, &["OldPassword"]));
    }
    let Some(new) = secure(cmd, b, "NewPassword")? else {
        return Err(catalogue::missing_mandatory(cmd, &["NewPassword"]));
    };
    cx.identity()?.set_ad_password(&u.sam, &new).map_err(be)?;
    Ok(pass_thru(b, u))
}

fn pass_thru(b: &Bound, u: AdUser) -> Vec<Value> {
    if b.switch("PassThru") {
        vec![ad_user_object(&u)]
    } else {
        Vec::new()
    }
}

fn set_enabled(cx: &mut Cx<'_>, b: &Bound, enabled: bool) -> R<Vec<Value>> {
    let be = cx.backend_error();
    let mut u = resolve(cx, b)?;
    if let Some(w) = cx.what_if(b, &u.sam) {
        return Ok(w);
    }
    cx.identity()?.set_ad_enabled(&u.sam, enabled).map_err(be)?;
    u.enabled = enabled;
    Ok(pass_thru(b, u))
}

fn disable(cx: &mut Cx<'_>, b: &Bound) -> R<Vec<Value>> {
    set_enabled(cx, b, false)
}

fn enable(cx: &mut Cx<'_>, b: &Bound) -> R<Vec<Value>> {
    set_enabled(cx, b, true)
}

fn start_sync(cx: &mut Cx<'_>, b: &Bound) -> R<Vec<Value>> {
    let be = cx.backend_error();
    let policy = match b.str("PolicyType").as_deref() {
        Some("Initial") => SyncPolicy::Initial,
        _ => SyncPolicy::Delta,
    };
    let run = cx.identity()?.start_sync_cycle(policy).map_err(be)?;
    // The cycle itself succeeds; export errors are the Synchronization Service Manager's.
    for e in run.errors {
        cx.session().warn(format!("Export error: {e}"));
    }
    Ok(vec![Value::Object(
        PsObject::new(
            "Microsoft.IdentityManagement.PowerShell.ObjectModel.SchedulerOperationStatus",
        )
        .with("Result", "Success"),
    )])
}

fn get_scheduler(cx: &mut Cx<'_>, _b: &Bound) -> R<Vec<Value>> {
    let be = cx.backend_error();
    let s = cx.identity()?.sync_scheduler().map_err(be)?;
    let interval = format!(
        "{:02}:{:02}:00",
        s.interval_secs / 3600,
        (s.interval_secs % 3600) / 60
    );
    let next = time::OffsetDateTime::from_unix_timestamp(s.next_cycle)
        .map(Value::DateTime)
        .unwrap_or(Value::Null);
    let policy = match s.next_policy {
        SyncPolicy::Delta => "Delta",
        SyncPolicy::Initial => "Initial",
    };
    Ok(vec![Value::Object(
        PsObject::new("Microsoft.IdentityManagement.PowerShell.ObjectModel.SchedulerSettings")
            .with("AllowedSyncCycleInterval", interval.as_str())
            .with("CurrentlyEffectiveSyncCycleInterval", interval.as_str())
            .with("CustomizedSyncCycleInterval", Value::Null)
            .with("NextSyncCyclePolicyType", policy)
            .with("NextSyncCycleStartTimeInUTC", next)
            .with("PurgeRunHistoryInterval", "7.00:00:00")
            .with("SyncCycleEnabled", s.enabled)
            .with("MaintenanceEnabled", true)
            .with("StagingModeEnabled", false)
            .with("SchedulerSuspended", false)
            .with("SyncCycleInProgress", false),
    )])
}
