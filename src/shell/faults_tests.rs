//! Tests of the Azure AD fault-rule lab cmdlets (`Add-LabAadFault`, `Get-LabAadFault`,
//! `Remove-LabAadFault`) against a fake backend that keeps rules the way mock-aad's
//! `/_admin/faults` does (ids from 1 in order of creation, `remaining` starts at `times`,
//! unknown ids are 404), and of the default "not supported" answer of a backend without fault
//! rules. Kept apart from `tests.rs` and `keys_tests.rs` so each fake stays small.

use super::backend::*;
use super::Shell;

use super::test_support::{fail, run, Bare};

/// Rules with mock-aad's bookkeeping; `calls` records every change that reached the backend.
#[derive(Default)]
struct Faults {
    rules: Vec<AadFaultInfo>,
    next: u64,
    calls: Vec<String>,
}

impl Backend for Faults {
    fn faults(&mut self) -> Option<&mut dyn FaultRules> {
        Some(self)
    }
}

impl FaultRules for Faults {
    fn aad_faults(&mut self) -> BResult<Vec<AadFaultInfo>> {
        Ok(self.rules.clone())
    }
    fn add_aad_fault(&mut self, rule: &NewAadFault) -> BResult<AadFaultInfo> {
        self.next += 1;
        let info = AadFaultInfo {
            id: self.next,
            rule: rule.clone(),
            remaining: rule.times,
            hits: 0,
        };
        self.calls.push(format!("add {rule:?}"));
        self.rules.push(info.clone());
        Ok(info)
    }
    fn remove_aad_fault(&mut self, id: Option<u64>) -> BResult<()> {
        match id {
            None => self.rules.clear(),
            Some(id) => {
                let Some(i) = self.rules.iter().position(|r| r.id == id) else {
                    return Err(BackendError::new(
                        "ObjectNotFound",
                        "not_found",
                        format!("no fault rule {id}"),
                    ));
                };
                self.rules.remove(i);
            }
        }
        self.calls.push(format!("remove {id:?}"));
        Ok(())
    }
}

#[test]
fn aad_faults_add_list_and_remove() {
    let mut sh = Shell::new(Faults::default());
    assert_eq!(
        run(
            &mut sh,
            "Add-LabAadFault -Endpoint federation_metadata -Status 503 | ft -HideTableHeaders"
        ),
        "1  federation_metadata status 503 Unlimited 0"
    );
    assert_eq!(
        sh.backend.calls,
        [format!(
            "add {:?}",
            NewAadFault {
                endpoint: "federation_metadata".into(),
                status: Some(503),
                ..NewAadFault::default()
            }
        )]
    );
    assert_eq!(
        run(&mut sh, "Get-LabAadFault"),
        "Id Endpoint            Respond    Remaining Hits\n-- --------            -------    --------- ----\n1  federation_metadata status 503 Unlimited 0"
    );
    // Enum names bind without case; the other matchers and -Times reach the rule.
    run(
        &mut sh,
        "Add-LabAadFault Token -User GregT@contoso.com -ClientId d3590ed6-52b3-4102-aeff-aad2292ab01c -Resource mail.contoso.com -Times 2 -Aadsts 50126 -DelayMs 1500",
    );
    assert_eq!(
        sh.backend.rules[1].rule,
        NewAadFault {
            endpoint: "token".into(),
            user: Some("GregT@contoso.com".into()),
            client_id: Some("d3590ed6-52b3-4102-aeff-aad2292ab01c".into()),
            resource: Some("mail.contoso.com".into()),
            times: Some(2),
            status: None,
            aadsts: Some(50126),
            delay_ms: Some(1500),
        }
    );
    assert_eq!(
        run(&mut sh, "Get-LabAadFault | ft -HideTableHeaders"),
        "1  federation_metadata status 503                 Unlimited 0\n2  token               delay 1500 ms, AADSTS50126 2         0"
    );
    assert_eq!(
        run(&mut sh, "(Get-LabAadFault 2).User"),
        "GregT@contoso.com"
    );
    // A rule piped to Remove-LabAadFault names itself.
    run(&mut sh, "Get-LabAadFault -Id 1 | Remove-LabAadFault");
    assert_eq!(run(&mut sh, "(Get-LabAadFault).Id"), "2");
    run(&mut sh, "Add-LabAadFault -Endpoint keys -DelayMs 10");
    run(&mut sh, "Remove-LabAadFault -Id 2");
    assert_eq!(run(&mut sh, "(Get-LabAadFault).Endpoint"), "keys");
    // No -Id: every rule.
    run(&mut sh, "Remove-LabAadFault");
    assert_eq!(run(&mut sh, "Get-LabAadFault"), "");
    assert_eq!(
        &sh.backend.calls[2..],
        [
            "remove Some(1)",
            &sh.backend.calls[3],
            "remove Some(2)",
            "remove None"
        ]
    );
    assert!(sh.backend.calls[3].starts_with("add NewAadFault { endpoint: \"keys\""));
}

#[test]
fn aad_fault_what_if_changes_nothing() {
    let mut sh = Shell::new(Faults::default());
    assert_eq!(
        run(
            &mut sh,
            "Add-LabAadFault -Endpoint keys -Status 503 -WhatIf"
        ),
        "What if: Performing the operation \"Add-LabAadFault\" on target \"Azure AD fault rules\"."
    );
    assert_eq!(
        run(&mut sh, "Remove-LabAadFault 7 -WhatIf"),
        "What if: Performing the operation \"Remove-LabAadFault\" on target \"Azure AD fault rule 7\"."
    );
    assert_eq!(
        run(&mut sh, "Remove-LabAadFault -WhatIf"),
        "What if: Performing the operation \"Remove-LabAadFault\" on target \"Azure AD fault rules\"."
    );
    assert!(sh.backend.calls.is_empty(), "{:?}", sh.backend.calls);
}

#[test]
fn aad_fault_errors_are_error_records() {
    let mut sh = Shell::new(Faults::default());
    // One answer: a 5xx or an AADSTS error, or a delay alone.
    for line in [
        "Add-LabAadFault -Endpoint token",
        "Add-LabAadFault -Endpoint token -Status 503 -Aadsts 50126",
    ] {
        let e = fail(&mut sh, line);
        assert_eq!(
            e.message, "Parameter set cannot be resolved using the specified named parameters.",
            "{line}"
        );
    }
    let e = fail(&mut sh, "Add-LabAadFault -Status 503");
    assert_eq!(
        e.message,
        "Cannot process command because of one or more missing mandatory parameters: Endpoint."
    );
    let e = fail(&mut sh, "Add-LabAadFault -Endpoint metadata -Status 503");
    assert!(
        e.message.starts_with("Cannot bind parameter 'Endpoint'. Cannot convert value \"metadata\" to type \"HmaLab.AadEndpoint\"."),
        "{}",
        e.message
    );
    let e = fail(&mut sh, "Add-LabAadFault -Endpoint keys -Status 404");
    assert_eq!(
        e.message,
        "Cannot validate argument on parameter 'Status'. The 404 argument is less than the minimum allowed range of 500. Supply an argument that is greater than or equal to 500 and then try the command again."
    );
    let e = fail(
        &mut sh,
        "Add-LabAadFault -Endpoint keys -Status 503 -Times 0",
    );
    assert_eq!(
        e.message,
        "Cannot validate argument on parameter 'Times'. The 0 argument is less than the minimum allowed range of 1. Supply an argument that is greater than or equal to 1 and then try the command again."
    );
    let e = fail(&mut sh, "Add-LabAadFault -Endpoint keys -DelayMs 600001");
    assert_eq!(
        e.message,
        "Cannot validate argument on parameter 'DelayMs'. The 600001 argument is greater than the maximum allowed range of 600000. Supply an argument that is less than or equal to 600000 and then try the command again."
    );
    let e = fail(
        &mut sh,
        "Add-LabAadFault -Endpoint keys -Times two -Status 503",
    );
    assert!(
        e.message
            .contains("Cannot convert value \"two\" to type \"System.Int32\""),
        "{}",
        e.message
    );
    let e = fail(&mut sh, "Get-LabAadFault 4");
    assert_eq!(e.message, "No Azure AD fault rule has the id '4'.");
    assert!(
        e.render()
            .contains("+ FullyQualifiedErrorId : FaultNotFound,Get-LabAadFault"),
        "{}",
        e.render()
    );
    let e = fail(&mut sh, "Remove-LabAadFault 4");
    assert_eq!(e.message, "no fault rule 4");
    assert!(
        e.render().contains(
            "+ CategoryInfo          : ObjectNotFound: (:) [Remove-LabAadFault], not_found"
        ),
        "{}",
        e.render()
    );
    let e = fail(&mut sh, "Remove-LabAadFault first");
    assert_eq!(e.message, "No Azure AD fault rule has the id 'first'.");
    assert!(sh.backend.calls.is_empty(), "{:?}", sh.backend.calls);
}

#[test]
fn a_backend_without_faults_says_so() {
    let mut sh = Shell::new(Bare);
    for line in [
        "Get-LabAadFault",
        "Add-LabAadFault -Endpoint federation_metadata -Status 503",
        "Remove-LabAadFault",
        "Remove-LabAadFault 1",
    ] {
        let e = fail(&mut sh, line);
        assert_eq!(
            e.message, "Azure AD's fault rules are not supported by this backend.",
            "{line}"
        );
        assert!(
            e.render().contains("NotImplemented: (:)"),
            "{line}: {}",
            e.render()
        );
    }
}
