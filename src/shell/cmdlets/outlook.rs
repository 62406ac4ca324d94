//! The Outlook installed on the user's Windows machine: `Install-LabOutlook -Version` puts one
//! there (an upgrade, or a downgrade to reproduce an old client) and `Get-LabOutlook` shows it.
//! The real remedy is Office setup on the user's machine, which no shell runs; the lab names
//! the step like its other cmdlets (`Lab` noun prefix) so a scenario's `given` and `fix` can
//! run it. A scenario's `client: outlook` is the Outlook this machine has; with none installed
//! it is Outlook 2016 ([`OutlookVersion::DEFAULT`]), the field guide's client.

use super::kit::{cmdlet, sig, CmdletSpec, Cx, Run, R};
use crate::shell::backend::OutlookVersion;
use crate::shell::binder::{p, pos, req, Bound, Extra, ParamSpec, Ty};
use crate::shell::error::catalogue;
use crate::shell::value::{PsObject, Value};

/// The type name of `Get-LabOutlook` objects.
pub const INSTALLED_OUTLOOK: &str = "HmaLab.InstalledOutlook";

const VERSION_TYPE: &str = "HmaLab.OutlookVersion";
const VERSION_NAMES: &[&str] = &["2010", "2013", "2016"];
const VERSION: Ty = Ty::Enum(VERSION_TYPE, VERSION_NAMES);
const INSTALL: &[ParamSpec] = &[pos(req(p("Version", VERSION)), 0)];
const GET: &[ParamSpec] = &[];

pub(super) const CMDLETS: &[CmdletSpec] = &[
    cmdlet(
        sig("Install-LabOutlook", INSTALL, Extra::ShouldProcess),
        "Installs Outlook 2010, 2013 or 2016 on the user's Windows machine in place of the one it has; a scenario's `client: outlook` runs it.",
        Run::Each(install),
    ),
    cmdlet(
        sig("Get-LabOutlook", GET, Extra::None),
        "Shows the Outlook installed on the user's Windows machine (Outlook 2016, the lab's default, when none was installed).",
        Run::Each(get),
    ),
];

fn install(cx: &mut Cx<'_>, b: &Bound) -> R<Vec<Value>> {
    let be = cx.backend_error();
    let year = b.str("Version").unwrap_or_default();
    // The binder has already refused any other name; the same error if it ever lets one by.
    let version = OutlookVersion::parse(&year).ok_or_else(|| {
        catalogue::not_an_enum_name(cx.cmd, "Version", &year, VERSION_TYPE, VERSION_NAMES)
    })?;
    if let Some(w) = cx.what_if(b, &format!("Microsoft Outlook {year}")) {
        return Ok(w);
    }
    cx.machines()?.install_outlook(version).map_err(&be)?;
    Ok(vec![Value::Object(installed(Some(version)))])
}

fn get(cx: &mut Cx<'_>, _: &Bound) -> R<Vec<Value>> {
    let be = cx.backend_error();
    let v = cx.machines()?.installed_outlook().map_err(&be)?;
    Ok(vec![Value::Object(installed(v))])
}

/// `Product`, `Version` and where the version comes from (`Install-LabOutlook` or the lab's
/// default).
fn installed(v: Option<OutlookVersion>) -> PsObject {
    let (version, source) = match v {
        Some(v) => (v, "Install-LabOutlook"),
        None => (OutlookVersion::DEFAULT, "Default"),
    };
    PsObject::new(INSTALLED_OUTLOOK)
        .with("Product", format!("Microsoft Outlook {}", version.year()))
        .with("Version", version.year())
        .with("Source", source)
}
