//! SAML 1.1 and 2.0 assertions as ADFS issues them to Azure AD: built from plain data
//! ([`AssertionSpec`]), signed with the token-signing key, and read back ([`read_assertion`],
//! [`read_wresult`]) into plain data ([`Assertion`]) with the signature checked against the
//! certificates the reader trusts.
//!
//! The issuing side (mock ADFS) and the relying side (mock Azure AD, which validates what
//! `login.srf` and the SAML bearer grants receive) talk only over HTTP, so both use this one
//! module and cannot disagree on the shape. Reading checks the signature and the structure;
//! what the values must be (issuer, audience, lifetime, which user) is the relying party's
//! decision, so [`Assertion`] just carries them.
//!
//! Shapes: SAML 1.1 per the ADFS assertion in MSAL's tests and AADInternals' `New-SAMLToken`
//! (UPN in `http://schemas.xmlsoap.org/claims`, ImmutableID in
//! `http://schemas.microsoft.com/LiveID/Federation/2008/05`, signature last). SAML 2.0 with full
//! claim-type URIs as attribute names and the signature after `Issuer` (inferred shape).

use std::fmt;

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::cert::{Certificate, SigningKey};
use super::dsig::{self, sign_enveloped, verify_enveloped, DsigError, Placement, Verified};
use super::xml::{self, escape_attr, escape_text, Element};

pub const SAML1_NS: &str = "urn:oasis:names:tc:SAML:1.0:assertion";
pub const SAML2_NS: &str = "urn:oasis:names:tc:SAML:2.0:assertion";
pub const CLAIMS_NS: &str = "http://schemas.xmlsoap.org/claims";
pub const LIVEID_NS: &str = "http://schemas.microsoft.com/LiveID/Federation/2008/05";
pub const MS_CLAIMS_NS: &str = "http://schemas.microsoft.com/claims";
pub const CORPNET_NS: &str = "http://schemas.microsoft.com/ws/2012/01";
/// `authnmethodsreferences` value for a second factor done at the IdP.
pub const MULTIPLE_AUTHN: &str = "http://schemas.microsoft.com/claims/multipleauthn";
/// SAML 1.1 authentication method for a password (forms or UsernameToken).
pub const AM_PASSWORD: &str = "urn:oasis:names:tc:SAML:1.0:am:password";
/// Authentication method for Windows integrated sign-in.
pub const AM_WINDOWS: &str = "urn:federation:authentication:windows";
/// SAML 2.0 authentication context for a password over TLS.
pub const AC_PASSWORD_PROTECTED: &str =
    "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport";
pub const WS_TRUST_2005_NS: &str = "http://schemas.xmlsoap.org/ws/2005/02/trust";
pub const WS_TRUST_13_NS: &str = "http://docs.oasis-open.org/ws-sx/ws-trust/200512";

/// Why an assertion could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SamlError {
    /// Not XML.
    Xml(xml::XmlError),
    /// An element other than a SAML assertion where one was expected: (namespace, local name).
    NotAnAssertion { ns: String, local: String },
    /// A WS-Trust response without a `RequestedSecurityToken` holding an assertion.
    NoToken,
    /// A required part is missing or unreadable (the text names it).
    Missing(String),
    /// The signature did not hold.
    Signature(DsigError),
}

impl fmt::Display for SamlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SamlError::Xml(e) => write!(f, "{e}"),
            SamlError::NotAnAssertion { ns, local } => {
                write!(f, "expected a SAML assertion, found ({local}, {ns})")
            }
            SamlError::NoToken => f.write_str("no RequestedSecurityToken with an assertion"),
            SamlError::Missing(what) => write!(f, "the assertion has no {what}"),
            SamlError::Signature(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for SamlError {}

/// SAML 1.1 or 2.0.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SamlVersion {
    V1_1,
    V2_0,
}

impl SamlVersion {
    /// The WS-Trust `TokenType` for this version (`urn:oasis:names:tc:SAML:1.0:assertion`).
    pub fn token_type(self) -> &'static str {
        match self {
            SamlVersion::V1_1 => SAML1_NS,
            SamlVersion::V2_0 => SAML2_NS,
        }
    }
}

/// One attribute: namespace and name as SAML 1.1 splits them (a SAML 2.0 `Name` URI is split at
/// its last `/`), with its values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attribute {
    pub namespace: String,
    pub name: String,
    pub values: Vec<String>,
}

/// What to issue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssertionSpec {
    pub version: SamlVersion,
    /// `_` followed by a GUID.
    pub id: String,
    /// The STS identifier (`http://adfs.contoso.com/adfs/services/trust`).
    pub issuer: String,
    /// The relying party identifier (`urn:federation:MicrosoftOnline`).
    pub audience: String,
    /// Unix milliseconds.
    pub issue_instant_ms: i64,
    pub not_before_ms: i64,
    pub not_on_or_after_ms: i64,
    /// The subject's name identifier (the ImmutableID for Azure AD).
    pub name_id: String,
    /// Issued claims, in order.
    pub attributes: Vec<Attribute>,
    /// [`AM_PASSWORD`], [`AM_WINDOWS`] (SAML 2.0 writes [`AC_PASSWORD_PROTECTED`] for a
    /// password).
    pub authn_method: String,
    pub authn_instant_ms: i64,
}

/// An assertion read back, its signature checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assertion {
    pub version: SamlVersion,
    pub id: String,
    pub issuer: String,
    pub issue_instant: Option<i64>,
    /// Unix seconds.
    pub not_before: Option<i64>,
    pub not_on_or_after: Option<i64>,
    pub audiences: Vec<String>,
    pub name_id: Option<String>,
    pub attributes: Vec<Attribute>,
    pub authn_method: Option<String>,
    pub authn_instant: Option<i64>,
    /// Which trusted certificate verified the signature.
    pub verified: Verified,
}

impl Assertion {
    /// The first value of attribute `name` in `namespace`.
    pub fn attribute(&self, namespace: &str, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|a| a.namespace == namespace && a.name == name)
            .and_then(|a| a.values.first())
            .map(String::as_str)
    }
    pub fn upn(&self) -> Option<&str> {
        self.attribute(CLAIMS_NS, "UPN")
    }
    pub fn immutable_id(&self) -> Option<&str> {
        self.attribute(LIVEID_NS, "ImmutableID")
    }
    /// Whether the IdP says a second factor was done (`authnmethodsreferences` carries
    /// [`MULTIPLE_AUTHN`]).
    pub fn multiple_authn(&self) -> bool {
        self.attributes.iter().any(|a| {
            a.namespace == MS_CLAIMS_NS
                && a.name == "authnmethodsreferences"
                && a.values.iter().any(|v| v == MULTIPLE_AUTHN)
        })
    }
}

/// `2013-11-15T03:08:25.221Z`, as ADFS writes instants.
pub fn instant(ms: i64) -> String {
    let t = OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

fn parse_instant(s: &str) -> Option<i64> {
    OffsetDateTime::parse(s.trim(), &Rfc3339)
        .ok()
        .map(OffsetDateTime::unix_timestamp)
}

/// The attributes; `prefix` is `saml:` or empty (SAML 2.0 uses the default namespace).
fn attributes_xml(prefix: &str, spec: &AssertionSpec, v2: bool) -> String {
    let mut out = String::new();
    for a in &spec.attributes {
        if v2 {
            out.push_str(&format!(
                "<{prefix}Attribute Name=\"{}/{}\">",
                escape_attr(&a.namespace),
                escape_attr(&a.name)
            ));
        } else {
            out.push_str(&format!(
                "<{prefix}Attribute AttributeName=\"{}\" AttributeNamespace=\"{}\">",
                escape_attr(&a.name),
                escape_attr(&a.namespace)
            ));
        }
        for v in &a.values {
            out.push_str(&format!(
                "<{prefix}AttributeValue>{}</{prefix}AttributeValue>",
                escape_text(v)
            ));
        }
        out.push_str(&format!("</{prefix}Attribute>"));
    }
    out
}

/// The unsigned SAML 1.1 assertion.
fn saml11(s: &AssertionSpec) -> String {
    let subject = format!(
        "<saml:Subject><saml:NameIdentifier Format=\"urn:oasis:names:tc:SAML:1.1:nameid-format:\
         unspecified\">{}</saml:NameIdentifier><saml:SubjectConfirmation><saml:ConfirmationMethod>\
         urn:oasis:names:tc:SAML:1.0:cm:bearer</saml:ConfirmationMethod></saml:SubjectConfirmation>\
         </saml:Subject>",
        escape_text(&s.name_id)
    );
    format!(
        "<saml:Assertion MajorVersion=\"1\" MinorVersion=\"1\" AssertionID=\"{id}\" \
         Issuer=\"{issuer}\" IssueInstant=\"{ii}\" xmlns:saml=\"{SAML1_NS}\"><saml:Conditions \
         NotBefore=\"{nb}\" NotOnOrAfter=\"{na}\"><saml:AudienceRestrictionCondition>\
         <saml:Audience>{aud}</saml:Audience></saml:AudienceRestrictionCondition>\
         </saml:Conditions><saml:AttributeStatement>{subject}{attrs}</saml:AttributeStatement>\
         <saml:AuthenticationStatement AuthenticationMethod=\"{am}\" AuthenticationInstant=\"{ai}\">\
         {subject}</saml:AuthenticationStatement></saml:Assertion>",
        id = escape_attr(&s.id),
        issuer = escape_attr(&s.issuer),
        ii = instant(s.issue_instant_ms),
        nb = instant(s.not_before_ms),
        na = instant(s.not_on_or_after_ms),
        aud = escape_text(&s.audience),
        attrs = attributes_xml("saml:", s, false),
        am = escape_attr(&s.authn_method),
        ai = instant(s.authn_instant_ms),
    )
}

/// The unsigned SAML 2.0 assertion.
fn saml2(s: &AssertionSpec) -> String {
    let class = if s.authn_method == AM_PASSWORD {
        AC_PASSWORD_PROTECTED
    } else {
        s.authn_method.as_str()
    };
    format!(
        "<Assertion ID=\"{id}\" IssueInstant=\"{ii}\" Version=\"2.0\" xmlns=\"{SAML2_NS}\">\
         <Issuer>{issuer}</Issuer><Subject><NameID Format=\"urn:oasis:names:tc:SAML:2.0:\
         nameid-format:persistent\">{name}</NameID><SubjectConfirmation Method=\"urn:oasis:names:\
         tc:SAML:2.0:cm:bearer\"><SubjectConfirmationData NotOnOrAfter=\"{na}\"/>\
         </SubjectConfirmation></Subject><Conditions NotBefore=\"{nb}\" NotOnOrAfter=\"{na}\">\
         <AudienceRestriction><Audience>{aud}</Audience></AudienceRestriction></Conditions>\
         <AttributeStatement>{attrs}</AttributeStatement><AuthnStatement AuthnInstant=\"{ai}\">\
         <AuthnContext><AuthnContextClassRef>{class}</AuthnContextClassRef></AuthnContext>\
         </AuthnStatement></Assertion>",
        id = escape_attr(&s.id),
        ii = instant(s.issue_instant_ms),
        issuer = escape_text(&s.issuer),
        name = escape_text(&s.name_id),
        nb = instant(s.not_before_ms),
        na = instant(s.not_on_or_after_ms),
        aud = escape_text(&s.audience),
        attrs = attributes_xml("", s, true),
        ai = instant(s.authn_instant_ms),
        class = escape_text(class),
    )
}

/// Builds and signs an assertion.
pub fn issue(spec: &AssertionSpec, key: &SigningKey) -> Result<String, DsigError> {
    match spec.version {
        SamlVersion::V1_1 => sign_enveloped(&saml11(spec), Placement::Last, key),
        SamlVersion::V2_0 => sign_enveloped(&saml2(spec), Placement::AfterFirstChild, key),
    }
}

fn missing(what: &str) -> SamlError {
    SamlError::Missing(what.to_string())
}

/// Reads an assertion element (anywhere in a tree), checking its signature against `trusted`.
pub fn read_element(el: &Element, trusted: &[Certificate]) -> Result<Assertion, SamlError> {
    let version = match (el.ns.as_str(), el.local.as_str()) {
        (SAML1_NS, "Assertion") => SamlVersion::V1_1,
        (SAML2_NS, "Assertion") => SamlVersion::V2_0,
        _ => {
            return Err(SamlError::NotAnAssertion {
                ns: el.ns.clone(),
                local: el.local.clone(),
            })
        }
    };
    let verified = verify_enveloped(el, trusted).map_err(SamlError::Signature)?;
    let ns = el.ns.as_str();
    let id = dsig::id_of(el).ok_or_else(|| missing("ID"))?.to_string();
    let cond = el.child(ns, "Conditions");
    let time_attr =
        |e: Option<&Element>, a: &str| e.and_then(|e| e.attr(a)).and_then(parse_instant);
    let mut attributes = Vec::new();
    let mut audiences = Vec::new();
    let (issuer, name_id, authn_method, authn_instant);
    match version {
        SamlVersion::V1_1 => {
            issuer = el
                .attr("Issuer")
                .ok_or_else(|| missing("Issuer"))?
                .to_string();
            for r in cond
                .into_iter()
                .flat_map(|c| c.children_named(ns, "AudienceRestrictionCondition"))
            {
                audiences.extend(r.children_named(ns, "Audience").map(|a| a.text()));
            }
            let st = el.child(ns, "AttributeStatement");
            name_id = st
                .and_then(|s| s.path(&[(ns, "Subject"), (ns, "NameIdentifier")]))
                .map(Element::text);
            for a in st
                .into_iter()
                .flat_map(|s| s.children_named(ns, "Attribute"))
            {
                attributes.push(Attribute {
                    namespace: a.attr("AttributeNamespace").unwrap_or("").to_string(),
                    name: a.attr("AttributeName").unwrap_or("").to_string(),
                    values: a
                        .children_named(ns, "AttributeValue")
                        .map(|v| v.text())
                        .collect(),
                });
            }
            let au = el.child(ns, "AuthenticationStatement");
            authn_method = au
                .and_then(|a| a.attr("AuthenticationMethod"))
                .map(str::to_string);
            authn_instant = time_attr(au, "AuthenticationInstant");
        }
        SamlVersion::V2_0 => {
            issuer = el
                .child(ns, "Issuer")
                .ok_or_else(|| missing("Issuer"))?
                .text();
            for r in cond
                .into_iter()
                .flat_map(|c| c.children_named(ns, "AudienceRestriction"))
            {
                audiences.extend(r.children_named(ns, "Audience").map(|a| a.text()));
            }
            name_id = el
                .path(&[(ns, "Subject"), (ns, "NameID")])
                .map(Element::text);
            for a in el
                .children_named(ns, "AttributeStatement")
                .flat_map(|s| s.children_named(ns, "Attribute"))
            {
                let full = a.attr("Name").unwrap_or("");
                let (namespace, name) = full.rsplit_once('/').unwrap_or(("", full));
                attributes.push(Attribute {
                    namespace: namespace.to_string(),
                    name: name.to_string(),
                    values: a
                        .children_named(ns, "AttributeValue")
                        .map(|v| v.text())
                        .collect(),
                });
            }
            let au = el.child(ns, "AuthnStatement");
            authn_method = au
                .and_then(|a| a.path(&[(ns, "AuthnContext"), (ns, "AuthnContextClassRef")]))
                .map(Element::text);
            authn_instant = time_attr(au, "AuthnInstant");
        }
    }
    Ok(Assertion {
        version,
        id,
        issuer,
        issue_instant: time_attr(Some(el), "IssueInstant"),
        not_before: time_attr(cond, "NotBefore"),
        not_on_or_after: time_attr(cond, "NotOnOrAfter"),
        audiences,
        name_id,
        attributes,
        authn_method,
        authn_instant,
        verified,
    })
}

/// Reads a bare assertion (what a SAML bearer grant carries, decoded from base64).
pub fn read_assertion(text: &str, trusted: &[Certificate]) -> Result<Assertion, SamlError> {
    let doc = xml::parse(text).map_err(SamlError::Xml)?;
    read_element(&doc.root, trusted)
}

/// Reads the assertion inside a WS-Trust response (`wresult` of a WS-Federation sign-in, 2005 or
/// 1.3 RSTR, with or without the collection wrapper or a SOAP envelope).
pub fn read_wresult(text: &str, trusted: &[Certificate]) -> Result<Assertion, SamlError> {
    let doc = xml::parse(text).map_err(SamlError::Xml)?;
    let token = doc
        .root
        .find(WS_TRUST_2005_NS, "RequestedSecurityToken")
        .or_else(|| doc.root.find(WS_TRUST_13_NS, "RequestedSecurityToken"))
        .ok_or(SamlError::NoToken)?;
    let el = token.elements().next().ok_or(SamlError::NoToken)?;
    read_element(el, trusted)
}
