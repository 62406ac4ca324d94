//! Tests of the signing-key lab cmdlets (`Get-LabSigningKey`, `Invoke-LabSigningKeyRollover`,
//! `Add-LabSigningKey`, `Remove-LabSigningKey`) against a fake backend that keeps a key set with
//! mock-aad's rules (the active key first; a rollover activates the next added key, else a new
//! one; the active key cannot be retired), and of the default "not supported" answer of a
//! backend without keys. Kept apart from `tests.rs` so the seed fake stays as it is.

use super::backend::*;
use super::Shell;

use super::test_support::{fail, run, Bare};

/// A key set with mock-aad's rules; `calls` records every change.
struct Keys {
    /// Published kids in publication order.
    kids: Vec<String>,
    active: usize,
    made: u32,
    calls: Vec<String>,
}

impl Keys {
    fn new() -> Keys {
        Keys {
            kids: vec!["kidA".into()],
            active: 0,
            made: 1,
            calls: Vec::new(),
        }
    }
    fn make(&mut self) -> String {
        self.made += 1;
        format!("kid{}", (b'A' + self.made as u8 - 1) as char)
    }
}

impl Backend for Keys {
    fn keys(&mut self) -> Option<&mut dyn SigningKeys> {
        Some(self)
    }
}

impl SigningKeys for Keys {
    fn signing_keys(&mut self) -> BResult<Vec<SigningKeyInfo>> {
        let info = |k: &String, state: &str| SigningKeyInfo {
            kid: k.clone(),
            state: state.into(),
        };
        let mut v = vec![info(&self.kids[self.active], "active")];
        for (i, k) in self.kids.iter().enumerate() {
            if i != self.active {
                v.push(info(k, "published"));
            }
        }
        Ok(v)
    }
    fn roll_signing_key(&mut self) -> BResult<String> {
        if self.active + 1 < self.kids.len() {
            self.active += 1;
        } else {
            let k = self.make();
            self.kids.push(k);
            self.active = self.kids.len() - 1;
        }
        self.calls
            .push(format!("roll -> {}", self.kids[self.active]));
        Ok(self.kids[self.active].clone())
    }
    fn add_signing_key(&mut self) -> BResult<String> {
        let k = self.make();
        self.kids.push(k.clone());
        self.calls.push(format!("add -> {k}"));
        Ok(k)
    }
    fn retire_signing_key(&mut self, kid: &str) -> BResult<()> {
        let Some(i) = self.kids.iter().position(|k| k == kid) else {
            return Err(BackendError::new(
                "ObjectNotFound",
                "not_found",
                format!("no key with kid '{kid}'"),
            ));
        };
        if i == self.active {
            return Err(BackendError::new(
                "InvalidOperation",
                "conflict",
                "the active signing key cannot be retired; roll over first",
            ));
        }
        self.kids.remove(i);
        if i < self.active {
            self.active -= 1;
        }
        self.calls.push(format!("retire {kid}"));
        Ok(())
    }
}

#[test]
fn signing_keys_list_roll_add_and_retire() {
    let mut sh = Shell::new(Keys::new());
    assert_eq!(
        run(&mut sh, "Get-LabSigningKey"),
        "Kid  State\n---  -----\nkidA Active"
    );
    // A rollover answers with the new key; the old one stays published.
    assert_eq!(
        run(&mut sh, "Invoke-LabSigningKeyRollover"),
        "Kid  State\n---  -----\nkidB Active"
    );
    assert_eq!(
        run(&mut sh, "Get-LabSigningKey | ft -HideTableHeaders"),
        "kidB Active\nkidA Published"
    );
    // The next key published ahead of the rollover signs when it comes.
    assert_eq!(
        run(&mut sh, "Add-LabSigningKey | fl"),
        "Kid : kidC\nState : Published\nIdentity : kidC"
    );
    assert_eq!(
        run(
            &mut sh,
            "Invoke-LabSigningKeyRollover | select -ExpandProperty Kid"
        ),
        "kidC"
    );
    run(&mut sh, "Remove-LabSigningKey -Kid kidA");
    // Pipeline input by value: a key object names itself.
    run(&mut sh, "Get-LabSigningKey kidB | Remove-LabSigningKey");
    assert_eq!(run(&mut sh, "(Get-LabSigningKey).Kid"), "kidC");
    assert_eq!(
        sh.backend.calls,
        [
            "roll -> kidB",
            "add -> kidC",
            "roll -> kidC",
            "retire kidA",
            "retire kidB"
        ]
    );
}

#[test]
fn rollover_with_retire_old_unpublishes_the_key_that_signed() {
    let mut sh = Shell::new(Keys::new());
    run(&mut sh, "Add-LabSigningKey");
    assert_eq!(
        run(
            &mut sh,
            "Invoke-LabSigningKeyRollover -RetireOld | ft -HideTableHeaders"
        ),
        "kidB Active"
    );
    assert_eq!(
        run(&mut sh, "Get-LabSigningKey | ft -HideTableHeaders"),
        "kidB Active"
    );
    // `-RetireOld:$false` is a plain rollover.
    run(
        &mut sh,
        "$r = $false; Invoke-LabSigningKeyRollover -RetireOld:$r",
    );
    assert_eq!(
        run(&mut sh, "(Get-LabSigningKey).State"),
        "Active\nPublished"
    );
    assert_eq!(
        sh.backend.calls,
        ["add -> kidB", "roll -> kidB", "retire kidA", "roll -> kidC"]
    );
}

#[test]
fn what_if_changes_no_key() {
    let mut sh = Shell::new(Keys::new());
    assert_eq!(
        run(&mut sh, "Invoke-LabSigningKeyRollover -RetireOld -WhatIf"),
        "What if: Performing the operation \"Invoke-LabSigningKeyRollover\" on target \"Azure AD token-signing keys\"."
    );
    assert_eq!(
        run(&mut sh, "Add-LabSigningKey -WhatIf"),
        "What if: Performing the operation \"Add-LabSigningKey\" on target \"Azure AD token-signing keys\"."
    );
    assert_eq!(
        run(&mut sh, "Remove-LabSigningKey kidA -WhatIf"),
        "What if: Performing the operation \"Remove-LabSigningKey\" on target \"kidA\"."
    );
    assert!(sh.backend.calls.is_empty(), "{:?}", sh.backend.calls);
}

#[test]
fn signing_key_errors_are_error_records() {
    let mut sh = Shell::new(Keys::new());
    let e = fail(&mut sh, "Remove-LabSigningKey -Kid kidA");
    assert_eq!(
        e.message,
        "the active signing key cannot be retired; roll over first"
    );
    assert!(
        e.render().contains(
            "+ CategoryInfo          : InvalidOperation: (:) [Remove-LabSigningKey], conflict"
        ),
        "{}",
        e.render()
    );
    let e = fail(&mut sh, "Remove-LabSigningKey nope");
    assert_eq!(e.message, "no key with kid 'nope'");
    let e = fail(&mut sh, "Get-LabSigningKey -Kid nope");
    assert_eq!(e.message, "No published signing key has the kid 'nope'.");
    assert!(
        e.render()
            .contains("+ FullyQualifiedErrorId : KeyNotFound,Get-LabSigningKey"),
        "{}",
        e.render()
    );
    // Wildcards select among the published kids.
    assert_eq!(run(&mut sh, "(Get-LabSigningKey kid*).Kid"), "kidA");
    let e = fail(&mut sh, "Remove-LabSigningKey");
    assert_eq!(
        e.message,
        "Cannot process command because of one or more missing mandatory parameters: Kid."
    );
    let e = fail(&mut sh, "Invoke-LabSigningKeyRollover -Retire:1 -Foo");
    assert_eq!(
        e.message,
        "A parameter cannot be found that matches parameter name 'Foo'."
    );
    assert!(sh.backend.calls.is_empty(), "{:?}", sh.backend.calls);
}

#[test]
fn a_backend_without_keys_says_so() {
    let mut sh = Shell::new(Bare);
    for line in [
        "Get-LabSigningKey",
        "Invoke-LabSigningKeyRollover",
        "Add-LabSigningKey",
        "Remove-LabSigningKey kidA",
    ] {
        let e = fail(&mut sh, line);
        assert_eq!(
            e.message, "Azure AD's signing keys are not supported by this backend.",
            "{line}"
        );
        assert!(
            e.render().contains("NotImplemented: (:)"),
            "{line}: {}",
            e.render()
        );
    }
}
