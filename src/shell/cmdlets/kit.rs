//! What every family file builds with: the [`CmdletSpec`] and [`NativeSpec`] a table holds,
//! the [`Session`] a cmdlet runs in (the evaluator implements it, so the cmdlets never import
//! the evaluator), and [`Cx`], the running command with the shortcuts the behaviours share
//! (the backend's services, `-WhatIf`, Exchange's not-found and not-modified answers).
//!
//! It depends on no family and on nothing of `cmdlets` itself, so the families and the
//! dispatcher in `cmdlets/mod.rs` both sit on it without a cycle.

use crate::shell::ast::ScriptBlock;
use crate::shell::backend::{
    AdfsAdmin, Backend, BackendError, DirectoryAdmin, ExchangeAdmin, FaultRules, HybridIdentity,
    Machines, SigningKeys,
};
use crate::shell::binder::{self, Bound, Signature};
use crate::shell::error::catalogue;
use crate::shell::error::ShellError;
use crate::shell::format::ListStyle;
use crate::shell::value::Value;

pub type R<T> = Result<T, ShellError>;

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

/// A running command: its name (as the errors show it) and the session.
pub struct Cx<'a> {
    pub cmd: &'a str,
    session: &'a mut dyn Session,
}

impl<'a> Cx<'a> {
    pub fn new(cmd: &'a str, session: &'a mut dyn Session) -> Self {
        Cx { cmd, session }
    }

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
            .ok_or_else(|| catalogue::not_supported_by_backend(cmd, "Client machines' settings"))
    }

    pub fn adfs(&mut self) -> R<&mut dyn AdfsAdmin> {
        let cmd = self.cmd;
        self.session
            .backend()
            .adfs()
            .ok_or_else(|| catalogue::not_supported_by_backend(cmd, "ADFS farms"))
    }

    pub fn identity(&mut self) -> R<&mut dyn HybridIdentity> {
        let cmd = self.cmd;
        self.session.backend().identity().ok_or_else(|| {
            catalogue::not_supported_by_backend(
                cmd,
                "Hybrid identity settings (domains, Active Directory, sync)",
            )
        })
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
    let hint = crate::shell::error::nearest(what, names.iter().map(String::as_str))
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
