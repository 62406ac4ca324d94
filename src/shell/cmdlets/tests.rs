//! The book's cmdlet reference ([`super::docs`]) against the dispatcher: the same cmdlets, the
//! same parameters, the same families — and each family is a file of this folder.

use std::collections::BTreeMap;

use super::{all, command_names, docs, natives, resolve, Resolved, FAMILIES};

#[test]
fn docs_and_dispatcher_agree_exactly() {
    let docs = docs();
    // every documented name resolves, to a cmdlet whose parameters are the documented ones
    let mut documented = BTreeMap::new();
    for d in &docs {
        assert!(
            documented.insert(d.name.clone(), d).is_none(),
            "{} documented twice",
            d.name
        );
        match resolve(&d.name) {
            Some(Resolved::Cmdlet(c)) => {
                assert_eq!(c.name(), d.name);
                assert_eq!(c.synopsis, d.synopsis);
                assert_eq!(d.sets.len(), 1, "{}", d.name);
                let documented: Vec<&str> =
                    d.sets[0].params.iter().map(|p| p.name.as_str()).collect();
                let bound: Vec<&str> = c.sig.documented_params().map(|p| p.name).collect();
                assert_eq!(documented, bound, "{}", d.name);
                for (doc, spec) in d.sets[0].params.iter().zip(c.sig.documented_params()) {
                    assert_eq!(doc.mandatory, spec.mandatory, "{} -{}", d.name, spec.name);
                    assert_eq!(doc.position, spec.position, "{} -{}", d.name, spec.name);
                    assert_eq!(doc.modelled, spec.modeled, "{} -{}", d.name, spec.name);
                    assert_eq!(doc.ty, spec.ty.dotnet(), "{} -{}", d.name, spec.name);
                }
            }
            Some(Resolved::Native(n)) => {
                assert_eq!(n.name, d.name);
                assert!(d.sets.is_empty(), "{}", d.name);
            }
            None => panic!("{} is documented but not dispatched", d.name),
        }
    }
    // every dispatched cmdlet and native program is documented, under its family
    for f in FAMILIES {
        for c in f.cmdlets {
            let d = documented
                .get(c.name())
                .unwrap_or_else(|| panic!("{} undocumented", c.name()));
            assert_eq!(d.family, f.stem, "{}", c.name());
        }
        for n in f.natives {
            let d = documented
                .get(n.name)
                .unwrap_or_else(|| panic!("{} undocumented", n.name));
            assert_eq!(d.family, f.stem, "{}", n.name);
        }
    }
    assert_eq!(docs.len(), all().count() + natives().count());
    // every name the shell accepts is a documented command or one of its aliases
    for name in command_names() {
        let primary = match resolve(name) {
            Some(Resolved::Cmdlet(c)) => c.name(),
            Some(Resolved::Native(n)) => n.name,
            None => panic!("{name} does not resolve"),
        };
        assert!(documented.contains_key(primary), "{name}");
    }
}

#[test]
fn every_family_is_a_file_of_the_cmdlets_folder() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src/shell/cmdlets");
    for f in FAMILIES {
        let path = format!("{dir}/{}.rs", f.stem);
        assert!(std::path::Path::new(&path).is_file(), "{path}");
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        for c in f.cmdlets {
            assert!(text.contains(c.name()), "{} not named in {path}", c.name());
        }
        for n in f.natives {
            assert!(text.contains(n.name), "{} not named in {path}", n.name);
        }
    }
}

#[test]
fn docs_cover_unmodelled_parameters_and_should_process() {
    let docs = docs();
    let set_mapi = docs
        .iter()
        .find(|d| d.name == "Set-MapiVirtualDirectory")
        .expect("Set-MapiVirtualDirectory");
    assert_eq!(set_mapi.family, "vdir");
    let params = &set_mapi.sets[0].params;
    let ep = params
        .iter()
        .find(|p| p.name == "ExtendedProtectionFlags")
        .expect("ExtendedProtectionFlags");
    assert!(!ep.modelled);
    let identity = &params[0];
    assert_eq!(identity.name, "Identity");
    assert!(identity.mandatory && identity.pipeline);
    assert_eq!(identity.position, Some(0));
    assert!(params.iter().any(|p| p.name == "WhatIf"));
    assert!(!params.iter().any(|p| p.name == "Verbose"));
}
