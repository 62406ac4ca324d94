//! Federation metadata and MEX.

use lab_kit::saml::dsig::DS_NS;
use lab_kit::saml::{verify_enveloped, xml};

use crate::common::*;

const MD: &str = "urn:oasis:names:tc:SAML:2.0:metadata";

#[tokio::test]
async fn federation_metadata_is_signed_and_names_the_farm() {
    let h = start().await;
    let r = request(
        &h,
        "GET",
        "/FederationMetadata/2007-06/FederationMetadata.xml",
        &[],
        "",
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("text/xml; charset=utf-8"));
    let doc = xml::parse(&r.body).unwrap();
    let root = &doc.root;
    assert!(root.is(MD, "EntityDescriptor"));
    assert_eq!(
        root.attr("entityID"),
        Some("http://adfs.contoso.com/adfs/services/trust")
    );
    assert!(
        root.elements().next().unwrap().is(DS_NS, "Signature"),
        "signature first"
    );
    let certs = published_certs(&h).await;
    assert_eq!(certs.len(), 1);
    assert_eq!(certs[0].subject_cn, "ADFS Signing - adfs.contoso.com");
    assert_eq!(
        certs[0].thumbprint(),
        mock_adfs::keys::shipped()[0].cert.thumbprint()
    );
    verify_enveloped(root, &certs).unwrap();
    let passive = root
        .find(
            "http://docs.oasis-open.org/wsfed/federation/200706",
            "PassiveRequestorEndpoint",
        )
        .unwrap();
    assert_eq!(
        passive
            .find("http://www.w3.org/2005/08/addressing", "Address")
            .unwrap()
            .text(),
        "https://adfs.contoso.com/adfs/ls/"
    );
    let idp = root.child(MD, "IDPSSODescriptor").unwrap();
    assert_eq!(idp.children_named(MD, "KeyDescriptor").count(), 1);
}

#[tokio::test]
async fn mex_lists_the_ws_trust_endpoints_as_msal_reads_them() {
    let h = start().await;
    let r = request(&h, "GET", "/adfs/services/trust/mex", &[], "").await;
    assert_eq!(r.status, 200);
    let doc = xml::parse(&r.body).unwrap();
    let wsdl = "http://schemas.xmlsoap.org/wsdl/";
    let soap12 = "http://schemas.xmlsoap.org/wsdl/soap12/";
    let wsp = "http://schemas.xmlsoap.org/ws/2004/09/policy";
    let bindings: Vec<_> = doc.root.children_named(wsdl, "binding").collect();
    assert_eq!(bindings.len(), 4);
    assert!(
        bindings
            .iter()
            .all(|b| b.child(soap12, "binding").is_some()),
        "MSAL needs soap12:binding on every binding"
    );
    let addresses: Vec<String> = doc
        .root
        .child(wsdl, "service")
        .unwrap()
        .children_named(wsdl, "port")
        .map(|p| {
            p.find("http://www.w3.org/2005/08/addressing", "Address")
                .unwrap()
                .text()
        })
        .collect();
    assert_eq!(
        addresses,
        [
            "https://adfs.contoso.com/adfs/services/trust/2005/windowstransport",
            "https://adfs.contoso.com/adfs/services/trust/2005/usernamemixed",
            "https://adfs.contoso.com/adfs/services/trust/13/windowstransport",
            "https://adfs.contoso.com/adfs/services/trust/13/usernamemixed",
        ]
    );
    // The 1.3 username policy on MSAL's path.
    let sp = "http://docs.oasis-open.org/ws-sx/ws-securitypolicy/200702";
    let policy = doc
        .root
        .children_named(wsp, "Policy")
        .find(|p| {
            p.attr_ns("http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd", "Id")
                == Some("UserNameWSTrustBinding_IWSTrust13Async_policy")
        })
        .unwrap();
    assert!(policy
        .path(&[
            (wsp, "ExactlyOne"),
            (wsp, "All"),
            (sp, "SignedEncryptedSupportingTokens"),
            (wsp, "Policy"),
            (sp, "UsernameToken"),
            (wsp, "Policy"),
            (sp, "WssUsernameToken10")
        ])
        .is_some());
    assert!(policy.find(sp, "TransportBinding").is_some());
}
