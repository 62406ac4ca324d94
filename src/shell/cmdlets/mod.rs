//! The cmdlets: one file per family, each holding its cmdlets' parameter tables and behaviour.
//!
//! Laid out like mini-redis's commands: `vdir.rs` is every `Get-`/`Set-*VirtualDirectory`,
//! `auth_server.rs` the `*-AuthServer` cmdlets, `org.rs` `*-OrganizationConfig`, `mailbox.rs` and
//! `exchange_server.rs` their `Get-` cmdlets (and the Edge subscriptions), `hybrid.rs` the
//! lab's Hybrid Configuration Wizard and cumulative updates, `msol.rs` the MSOnline, AzureAD and Graph cmdlets,
//! `lab.rs` the lab's own cmdlets, `forge.rs` the token forge (`New-LabForgedToken`), `adfs.rs` `Set-AdfsProperties`, `domain.rs` the MSOnline domain cmdlets (`Get-MsolDomain`, federation settings, `Get-MsolUser`), `ad.rs` Active Directory's user cmdlets and Azure AD Connect's (`Start-ADSyncSyncCycle`), `utility.rs` PowerShell's own
//! cmdlets (`Format-List`, `Where-Object`, …), `registry.rs` the client-machine settings
//! (`New-ItemProperty`, `reg`, macOS `defaults`), `outlook.rs` the Outlook installed on the user's
//! machine (`Install-LabOutlook`, `Get-LabOutlook`), `computer.rs` that machine's domain membership
//! (`Add-Computer`, `Remove-Computer`, `Restart-Computer`) and `iisreset.rs` the IIS restart. Each file
//! exports a `CMDLETS` table (and `NATIVES` for native programs); this module gathers them in
//! [`FAMILIES`], resolves a command name, runs a bound cmdlet ([`invoke`]) and renders the tables
//! as the book's cmdlet reference ([`docs`]).
//!
//! A cmdlet's behaviour is a plain function of a [`Cx`] (the command's name plus the
//! [`Session`] it runs in) and its bound arguments; both live in `kit.rs`, which the families
//! and this dispatcher share. The session is a trait the evaluator
//! implements, so the cmdlets never import the evaluator: the evaluator calls the cmdlets, not
//! the other way round.

use lab_kit::catalogue::{CmdletDoc, ParamDoc, ParamSetDoc};

use super::binder::{self, Bound, Pipe};
use super::error::catalogue;
use super::value::Value;

mod ad;
mod adfs;
mod auth_server;
mod computer;
mod domain;
mod exchange_server;
mod forge;
mod hybrid;
mod iisreset;
mod kit;
mod lab;
mod mailbox;
mod msol;
mod org;
mod outlook;
mod registry;
mod utility;
mod vdir;

#[cfg(test)]
mod tests;

pub use kit::{CmdletSpec, Cx, NativeSpec, Run, Session};
pub use registry::registry_path;

use kit::R;

/// A family of cmdlets: the stem of its file and its tables.
pub struct Family {
    pub stem: &'static str,
    pub cmdlets: &'static [CmdletSpec],
    pub natives: &'static [NativeSpec],
}

/// Every family, in the order names are listed for completion and hints.
pub const FAMILIES: &[Family] = &[
    Family {
        stem: "vdir",
        cmdlets: vdir::CMDLETS,
        natives: &[],
    },
    Family {
        stem: "auth_server",
        cmdlets: auth_server::CMDLETS,
        natives: &[],
    },
    Family {
        stem: "org",
        cmdlets: org::CMDLETS,
        natives: &[],
    },
    Family {
        stem: "mailbox",
        cmdlets: mailbox::CMDLETS,
        natives: &[],
    },
    Family {
        stem: "exchange_server",
        cmdlets: exchange_server::CMDLETS,
        natives: &[],
    },
    Family {
        stem: "msol",
        cmdlets: msol::CMDLETS,
        natives: &[],
    },
    Family {
        stem: "domain",
        cmdlets: domain::CMDLETS,
        natives: &[],
    },
    Family {
        stem: "ad",
        cmdlets: ad::CMDLETS,
        natives: &[],
    },
    Family {
        stem: "lab",
        cmdlets: lab::CMDLETS,
        natives: &[],
    },
    Family {
        stem: "forge",
        cmdlets: forge::CMDLETS,
        natives: &[],
    },
    Family {
        stem: "hybrid",
        cmdlets: hybrid::CMDLETS,
        natives: &[],
    },
    Family {
        stem: "outlook",
        cmdlets: outlook::CMDLETS,
        natives: &[],
    },
    Family {
        stem: "computer",
        cmdlets: computer::CMDLETS,
        natives: &[],
    },
    Family {
        stem: "adfs",
        cmdlets: adfs::CMDLETS,
        natives: &[],
    },
    Family {
        stem: "utility",
        cmdlets: utility::CMDLETS,
        natives: &[],
    },
    Family {
        stem: "iisreset",
        cmdlets: &[],
        natives: iisreset::NATIVES,
    },
    Family {
        stem: "registry",
        cmdlets: registry::CMDLETS,
        natives: registry::NATIVES,
    },
];

/// Every cmdlet spec.
pub fn all() -> impl Iterator<Item = &'static CmdletSpec> {
    FAMILIES.iter().flat_map(|f| f.cmdlets.iter())
}

fn natives() -> impl Iterator<Item = &'static NativeSpec> {
    FAMILIES.iter().flat_map(|f| f.natives.iter())
}

/// What a command name resolves to.
pub enum Resolved {
    Cmdlet(&'static CmdletSpec),
    Native(&'static NativeSpec),
}

/// Resolves a command name (case-insensitive; aliases included).
pub fn resolve(name: &str) -> Option<Resolved> {
    let is = |n: &str, aliases: &[&str]| {
        n.eq_ignore_ascii_case(name) || aliases.iter().any(|a| a.eq_ignore_ascii_case(name))
    };
    if let Some(n) = natives().find(|n| is(n.name, n.aliases)) {
        return Some(Resolved::Native(n));
    }
    all()
        .find(|c| is(c.name(), c.aliases))
        .map(Resolved::Cmdlet)
}

/// Every command name the shell accepts (for completion and hints).
pub fn command_names() -> Vec<&'static str> {
    let mut v: Vec<&'static str> = all().map(CmdletSpec::name).collect();
    for n in natives() {
        v.push(n.name);
        v.extend(n.aliases.iter().copied());
    }
    v
}

/// The book's cmdlet reference, from the tables the binder uses: every cmdlet with its
/// parameters (the lab models one parameter set per cmdlet, PowerShell's `__AllParameterSets`;
/// the common parameters are left out as PowerShell's help does) and every native program.
pub fn docs() -> Vec<CmdletDoc> {
    let mut out = Vec::new();
    for f in FAMILIES {
        for c in f.cmdlets {
            let params = c
                .sig
                .documented_params()
                .map(|p| ParamDoc {
                    name: p.name.to_string(),
                    ty: p.ty.dotnet().to_string(),
                    mandatory: p.mandatory,
                    position: p.position,
                    pipeline: p.pipe == Pipe::ByValue,
                    modelled: p.modeled,
                })
                .collect();
            out.push(CmdletDoc {
                name: c.name().to_string(),
                family: f.stem.to_string(),
                synopsis: c.synopsis.to_string(),
                sets: vec![ParamSetDoc {
                    name: "__AllParameterSets".to_string(),
                    params,
                }],
            });
        }
        for n in f.natives {
            out.push(CmdletDoc {
                name: n.name.to_string(),
                family: f.stem.to_string(),
                synopsis: n.synopsis.to_string(),
                sets: Vec::new(),
            });
        }
    }
    out
}

/// Runs a bound cmdlet: with pipeline input, once per object if it takes pipeline input (never,
/// if there is none), a collection cmdlet once with all of it.
pub fn invoke(
    session: &mut dyn Session,
    spec: &'static CmdletSpec,
    bound: Bound,
    input: Option<Vec<Value>>,
) -> R<Vec<Value>> {
    let sig = &spec.sig;
    let mut cx = Cx::new(sig.name, session);
    match spec.run {
        Run::Collection(run) => {
            binder::check_mandatory(sig, &bound)?;
            binder::check_modeled(sig, &bound)?;
            let items = match input {
                Some(i) => i,
                None => bound
                    .get("InputObject")
                    .map(|v| v.enumerate())
                    .unwrap_or_default(),
            };
            run(&mut cx, &bound, items)
        }
        Run::Each(run) => match input {
            Some(items) if sig.accepts_pipeline() => {
                let mut out = Vec::new();
                for item in items {
                    let b = binder::bind_pipeline(sig, &bound, &item).unwrap_or_default();
                    binder::check_mandatory(sig, &b)?;
                    binder::check_modeled(sig, &b)?;
                    out.extend(run(&mut cx, &b)?);
                }
                Ok(out)
            }
            Some(items) if !items.is_empty() => Err(catalogue::input_not_bound(sig.name)),
            _ => {
                binder::check_mandatory(sig, &bound)?;
                binder::check_modeled(sig, &bound)?;
                run(&mut cx, &bound)
            }
        },
    }
}

/// Runs a native program with its raw arguments; `name` is the name as typed.
pub fn invoke_native(
    session: &mut dyn Session,
    native: &NativeSpec,
    name: &str,
    args: &[String],
) -> R<Vec<Value>> {
    let mut cx = Cx::new(name, session);
    (native.run)(&mut cx, args)
}
