//! The cmdlets: one file per family, each holding its cmdlets' parameter tables and behaviour.
//!
//! Laid out like mini-redis's commands: `vdir.rs` is every `Get-`/`Set-*VirtualDirectory`,
//! `auth_server.rs` the `*-AuthServer` cmdlets, `org.rs` `*-OrganizationConfig`, `mailbox.rs` and
//! `exchange_server.rs` their `Get-` cmdlets, `msol.rs` the MSOnline, AzureAD and Graph cmdlets,
//! `lab.rs` the lab's own cmdlets, `adfs.rs` `Set-AdfsProperties`, `utility.rs` PowerShell's own
//! cmdlets (`Format-List`, `Where-Object`, …), `registry.rs` the client-machine settings
//! (`New-ItemProperty`, `reg`, macOS `defaults`) and `iisreset.rs` the IIS restart. Each file
//! exports a `CMDLETS` table (and `NATIVES` for native programs); this module gathers them in
//! [`FAMILIES`], resolves a command name, runs a bound cmdlet ([`invoke`]) and renders the tables
//! as the book's cmdlet reference ([`docs`]).
//!
//! A cmdlet's behaviour is a plain function of a [`Cx`] (the command's name plus the
//! [`Session`] it runs in) and its bound arguments. The session is a trait the evaluator
//! implements, so the cmdlets never import the evaluator: the evaluator calls the cmdlets, not
//! the other way round.

use lab_kit::catalogue::{CmdletDoc, ParamDoc, ParamSetDoc};

use super::ast::ScriptBlock;
use super::backend::{
    Backend, BackendError, DirectoryAdmin, ExchangeAdmin, FaultRules, Machines, SigningKeys,
};
use super::binder::{self, Bound, Pipe, Signature};
use super::error::catalogue;
use super::error::ShellError;
use super::format::ListStyle;
use super::value::Value;

mod adfs;
mod auth_server;
mod exchange_server;
mod iisreset;
mod lab;
mod mailbox;
mod msol;
mod org;
mod registry;
mod utility;
mod vdir;

#[cfg(test)]
mod tests;

pub use registry::registry_path;

type R<T> = Result<T, ShellError>;

/// What a cmdlet runs in: the evaluator's session.
pub trait Session {
    /// The lab the cmdlets read and change.
    fn backend(&mut self) -> &mut dyn Backend;
    /// Writes a warning (`WARNING: …`).
    fn warn(&mut self, text: String);
    /// How `Format-List` lays out names.
    fn list_style(&self) -> ListStyle;
    /// Runs a script block with `$_` set to `item`; what it wrote.
    fn run_script(&mut self, sb: &ScriptBlock, item: Value) -> R<Vec<Value>>;
}

/// How a cmdlet takes its input.
#[derive(Clone, Copy)]
pub enum Run {
    /// Once per call, or once per pipeline input object when it takes pipeline input.
    Each(fn(&mut Cx<'_>, &Bound) -> R<Vec<Value>>),
    /// Once, with every input object (`Format-List`, `Where-Object`, …).
    Collection(fn(&mut Cx<'_>, &Bound, Vec<Value>) -> R<Vec<Value>>),
}

/// One cmdlet: its signature (name and parameter tables, for the binder), aliases, what it does
/// in a sentence (for the book) and its behaviour.
#[derive(Clone, Copy)]
pub struct CmdletSpec {
    pub sig: Signature,
    pub aliases: &'static [&'static str],
    pub synopsis: &'static str,
    pub run: Run,
}

impl CmdletSpec {
    pub fn name(&self) -> &'static str {
        self.sig.name
    }
}

/// A native program: raw arguments, no binding.
#[derive(Clone, Copy)]
pub struct NativeSpec {
    pub name: &'static str,
    /// Other spellings (`iisreset.exe`).
    pub aliases: &'static [&'static str],
    pub synopsis: &'static str,
    pub run: fn(&mut Cx<'_>, &[String]) -> R<Vec<Value>>,
}

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
        stem: "lab",
        cmdlets: lab::CMDLETS,
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
    let mut cx = Cx {
        cmd: sig.name,
        session,
    };
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
    let mut cx = Cx { cmd: name, session };
    (native.run)(&mut cx, args)
}

/// A running command: its name (as the errors show it) and the session.
pub struct Cx<'a> {
    pub cmd: &'a str,
    session: &'a mut dyn Session,
}

impl<'a> Cx<'a> {
    pub fn session(&mut self) -> &mut dyn Session {
        &mut *self.session
    }

    /// The command's error record for a backend failure.
    pub fn backend_error(&self) -> impl Fn(BackendError) -> ShellError + 'a {
        let cmd = self.cmd;
        move |e| catalogue::from_backend(cmd, e)
    }

    pub fn exchange(&mut self) -> R<&mut dyn ExchangeAdmin> {
        let cmd = self.cmd;
        self.session
            .backend()
            .exchange()
            .ok_or_else(|| catalogue::not_supported_by_backend(cmd, "Exchange's settings"))
    }

    pub fn directory(&mut self) -> R<&mut dyn DirectoryAdmin> {
        let cmd = self.cmd;
        self.session.backend().directory().ok_or_else(|| {
            catalogue::not_supported_by_backend(cmd, "Azure AD's users and service principals")
        })
    }

    pub fn keys(&mut self) -> R<&mut dyn SigningKeys> {
        let cmd = self.cmd;
        self.session
            .backend()
            .keys()
            .ok_or_else(|| catalogue::not_supported_by_backend(cmd, "Azure AD's signing keys"))
    }

    pub fn faults(&mut self) -> R<&mut dyn FaultRules> {
        let cmd = self.cmd;
        self.session
            .backend()
            .faults()
            .ok_or_else(|| catalogue::not_supported_by_backend(cmd, "Azure AD's fault rules"))
    }

    pub fn machines(&mut self) -> R<&mut dyn Machines> {
        let cmd = self.cmd;
        self.session
            .backend()
            .machines()
            .ok_or_else(|| catalogue::not_supported_by_backend(cmd, "ADFS and client machines"))
    }

    /// The domain controller Exchange names in its not-found errors (`DC1.contoso.com`).
    pub fn dc(&mut self) -> String {
        let domain = self
            .session
            .backend()
            .exchange()
            .and_then(|x| x.organization().ok())
            .map(|o| o.domain)
            .unwrap_or_else(|| "contoso.com".into());
        format!("DC1.{domain}")
    }

    /// Exchange's warning when a Set- cmdlet finds nothing to change (it then writes nothing).
    pub fn not_modified(&mut self, identity: &str) {
        self.session.warn(format!(
            "The command completed successfully but no settings of '{identity}' have been modified."
        ));
    }

    /// `-WhatIf`'s line instead of the change, if it was given.
    pub fn what_if(&self, b: &Bound, target: &str) -> Option<Vec<Value>> {
        if b.switch("WhatIf") {
            Some(vec![Value::Str(format!(
                "What if: Performing the operation \"{}\" on target \"{target}\".",
                self.cmd
            ))])
        } else {
            None
        }
    }
}

/// The identity string of a bound `-Identity` (a piped object gives its `Identity`).
pub fn identity_of(v: &Value) -> String {
    match v {
        Value::Object(o) => o
            .get("Identity")
            .map(Value::to_plain_string)
            .unwrap_or_default(),
        other => other.to_plain_string(),
    }
}

/// [`catalogue::object_not_found`] with the lab's nearest-name hint among `names`.
pub fn not_found_near(cmd: &str, what: &str, dc: &str, names: &[String]) -> ShellError {
    let hint = super::error::nearest(what, names.iter().map(String::as_str))
        .map(|n| format!("did you mean '{n}'?"));
    catalogue::object_not_found(cmd, what, dc).with_hint(hint)
}

/// A cmdlet of the given signature, synopsis and behaviour (no aliases).
pub(crate) const fn cmdlet(sig: Signature, synopsis: &'static str, run: Run) -> CmdletSpec {
    CmdletSpec {
        sig,
        aliases: &[],
        synopsis,
        run,
    }
}

/// A signature without hints.
pub(crate) const fn sig(
    name: &'static str,
    params: &'static [binder::ParamSpec],
    extra: binder::Extra,
) -> Signature {
    Signature {
        name,
        params,
        extra,
        wrong_params: &[],
    }
}
