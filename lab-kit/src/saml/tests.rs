//! Round trips and refusals of the signature and assertion code, with the shipped ADFS
//! token-signing keys of mock-adfs (read as test data, never generated).

use super::assertion::*;
use super::*;

fn key(n: u8) -> SigningKey {
    let (k, c) = match n {
        1 => (
            include_str!("../../../mock-adfs/keys/token-signing1.key.pem"),
            include_str!("../../../mock-adfs/keys/token-signing1.cert.pem"),
        ),
        _ => (
            include_str!("../../../mock-adfs/keys/token-signing2.key.pem"),
            include_str!("../../../mock-adfs/keys/token-signing2.cert.pem"),
        ),
    };
    SigningKey::from_pem(k, c).unwrap()
}

fn spec(version: SamlVersion) -> AssertionSpec {
    AssertionSpec {
        version,
        id: "_3f1c0e9a-1111-4222-8333-944455556666".into(),
        issuer: "http://adfs.contoso.com/adfs/services/trust".into(),
        audience: "urn:federation:MicrosoftOnline".into(),
        issue_instant_ms: 1_700_000_000_123,
        not_before_ms: 1_700_000_000_123,
        not_on_or_after_ms: 1_700_003_600_123,
        name_id: "lDqpPb8kwEiZBjI1g9Tz4A==".into(),
        attributes: vec![
            Attribute {
                namespace: CLAIMS_NS.into(),
                name: "UPN".into(),
                values: vec!["GregT@contoso.com".into()],
            },
            Attribute {
                namespace: LIVEID_NS.into(),
                name: "ImmutableID".into(),
                values: vec!["lDqpPb8kwEiZBjI1g9Tz4A==".into()],
            },
            Attribute {
                namespace: MS_CLAIMS_NS.into(),
                name: "authnmethodsreferences".into(),
                values: vec![MULTIPLE_AUTHN.into()],
            },
        ],
        authn_method: AM_PASSWORD.into(),
        authn_instant_ms: 1_700_000_000_000,
    }
}

#[test]
fn the_shipped_certificates_read_as_adfs_signing_certificates() {
    let k = key(1);
    assert_eq!(k.cert.subject_cn, "ADFS Signing - adfs.contoso.com");
    assert_eq!(k.cert.not_before, 1_483_228_800); // 2017-01-01
    assert_eq!(k.cert.thumbprint().len(), 40);
    assert!(SigningKey::from_pem(
        include_str!("../../../mock-adfs/keys/token-signing1.key.pem"),
        include_str!("../../../mock-adfs/keys/token-signing2.cert.pem"),
    )
    .is_err());
}

#[test]
fn a_saml11_assertion_round_trips_with_its_claims() {
    let k = key(1);
    let xml = issue(&spec(SamlVersion::V1_1), &k).unwrap();
    assert!(xml.starts_with("<saml:Assertion MajorVersion=\"1\" MinorVersion=\"1\""));
    assert!(xml.ends_with("</ds:Signature></saml:Assertion>"), "{xml}");
    let a = read_assertion(&xml, &[key(2).cert, k.cert.clone()]).unwrap();
    assert_eq!(a.verified.trusted_index, 1);
    assert_eq!(a.version, SamlVersion::V1_1);
    assert_eq!(a.issuer, "http://adfs.contoso.com/adfs/services/trust");
    assert_eq!(a.audiences, ["urn:federation:MicrosoftOnline"]);
    assert_eq!(a.upn(), Some("GregT@contoso.com"));
    assert_eq!(a.immutable_id(), Some("lDqpPb8kwEiZBjI1g9Tz4A=="));
    assert_eq!(a.name_id.as_deref(), Some("lDqpPb8kwEiZBjI1g9Tz4A=="));
    assert!(a.multiple_authn());
    assert_eq!(a.not_before, Some(1_700_000_000));
    assert_eq!(a.not_on_or_after, Some(1_700_003_600));
    assert_eq!(a.authn_method.as_deref(), Some(AM_PASSWORD));
}

#[test]
fn a_saml2_assertion_round_trips_with_the_signature_after_issuer() {
    let k = key(2);
    let xml = issue(&spec(SamlVersion::V2_0), &k).unwrap();
    let after_issuer = xml.find("</Issuer>").unwrap() + "</Issuer>".len();
    assert!(xml[after_issuer..].starts_with("<ds:Signature"), "{xml}");
    let a = read_assertion(&xml, std::slice::from_ref(&k.cert)).unwrap();
    assert_eq!(a.version, SamlVersion::V2_0);
    assert_eq!(a.issuer, "http://adfs.contoso.com/adfs/services/trust");
    assert_eq!(a.upn(), Some("GregT@contoso.com"));
    assert_eq!(a.immutable_id(), Some("lDqpPb8kwEiZBjI1g9Tz4A=="));
    assert_eq!(a.authn_method.as_deref(), Some(AC_PASSWORD_PROTECTED));
}

#[test]
fn a_changed_claim_breaks_the_digest() {
    let k = key(1);
    let xml = issue(&spec(SamlVersion::V1_1), &k).unwrap();
    let forged = xml.replace("GregT@contoso.com", "AlexW@contoso.com");
    assert_eq!(
        read_assertion(&forged, std::slice::from_ref(&k.cert)),
        Err(SamlError::Signature(DsigError::DigestMismatch))
    );
}

#[test]
fn another_key_is_refused_as_untrusted_or_bad() {
    let xml = issue(&spec(SamlVersion::V1_1), &key(1)).unwrap();
    match read_assertion(&xml, &[key(2).cert]) {
        Err(SamlError::Signature(DsigError::UntrustedKey { thumbprint })) => {
            assert_eq!(thumbprint, key(1).cert.thumbprint())
        }
        other => panic!("{other:?}"),
    }
    // Without KeyInfo the signature is tried with the trusted key and fails.
    let start = xml.find("<KeyInfo").unwrap();
    let end = xml.find("</KeyInfo>").unwrap() + "</KeyInfo>".len();
    let bare = format!("{}{}", &xml[..start], &xml[end..]);
    assert_eq!(
        read_assertion(&bare, &[key(2).cert]),
        Err(SamlError::Signature(DsigError::BadSignature))
    );
    assert!(read_assertion(&bare, &[key(1).cert]).is_ok());
}

#[test]
fn a_changed_signed_info_breaks_the_signature() {
    let k = key(1);
    let xml = issue(&spec(SamlVersion::V1_1), &k).unwrap();
    let forged = xml.replace("<ds:SignedInfo>", "<ds:SignedInfo xmlns:extra=\"urn:x\">");
    // An unused declaration disappears in exclusive c14n: still valid, as in the field.
    assert!(read_assertion(&forged, std::slice::from_ref(&k.cert)).is_ok());
    let forged = xml.replace(dsig::RSA_SHA256, dsig::RSA_SHA1);
    assert_eq!(
        read_assertion(&forged, std::slice::from_ref(&k.cert)),
        Err(SamlError::Signature(DsigError::BadSignature))
    );
}

#[test]
fn a_reference_to_another_element_is_refused() {
    let k = key(1);
    let xml = issue(&spec(SamlVersion::V1_1), &k).unwrap();
    let forged = xml.replacen("AssertionID=\"_3f1c0e9a", "AssertionID=\"_0f1c0e9a", 1);
    assert!(matches!(
        read_assertion(&forged, std::slice::from_ref(&k.cert)),
        Err(SamlError::Signature(DsigError::Shape(_)))
    ));
}

#[test]
fn unsigned_and_foreign_documents_are_named() {
    let k = key(1);
    assert_eq!(
        read_assertion(
            "<saml:Assertion xmlns:saml=\"urn:oasis:names:tc:SAML:1.0:assertion\" AssertionID=\"_1\"/>",
            std::slice::from_ref(&k.cert)
        ),
        Err(SamlError::Signature(DsigError::Missing))
    );
    assert_eq!(
        read_assertion("<a:Thing xmlns:a=\"urn:x\"/>", &[]),
        Err(SamlError::NotAnAssertion {
            ns: "urn:x".into(),
            local: "Thing".into()
        })
    );
    assert!(matches!(
        read_assertion("<a><b></a>", &[]),
        Err(SamlError::Xml(_))
    ));
    assert!(matches!(
        read_assertion("<!DOCTYPE a [<!ENTITY x 'y'>]><a>&x;</a>", &[]),
        Err(SamlError::Xml(_))
    ));
}

#[test]
fn the_assertion_in_a_wresult_is_read_in_place() {
    let k = key(1);
    let assertion = issue(&spec(SamlVersion::V1_1), &k).unwrap();
    let wresult = format!(
        "<t:RequestSecurityTokenResponse xmlns:t=\"{WS_TRUST_2005_NS}\"><t:RequestedSecurityToken>\
         {assertion}</t:RequestedSecurityToken></t:RequestSecurityTokenResponse>"
    );
    let a = read_wresult(&wresult, std::slice::from_ref(&k.cert)).unwrap();
    assert_eq!(a.upn(), Some("GregT@contoso.com"));
    assert_eq!(
        read_wresult(
            &format!("<t:RequestSecurityTokenResponse xmlns:t=\"{WS_TRUST_2005_NS}\"/>"),
            &[]
        ),
        Err(SamlError::NoToken)
    );
}

#[test]
fn deep_or_huge_documents_are_refused_not_recursed() {
    let deep = "<a>".repeat(10_000) + &"</a>".repeat(10_000);
    assert!(xml::parse(&deep).is_err());
    let wide = format!("<a>{}</a>", "<b/>".repeat(xml::MAX_NODES + 1));
    assert!(xml::parse(&wide).is_err());
}
