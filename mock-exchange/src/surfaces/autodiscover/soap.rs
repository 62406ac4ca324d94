//! SOAP Autodiscover (`POST /autodiscover/autodiscover.svc`), what exchangelib and
//! ews-javascript-api use: GetUserSettings for up to 100 users, each answered with the settings
//! it asks for (or `InvalidSetting`), and the `UserResponse` error codes for unknown users.

use axum::http::request::Parts;
use axum::http::{Method, StatusCode};
use axum::response::Response;

use crate::model::{ExchangeVersion, VdirKind};
use crate::surfaces::common::{ews_schemas, long_build, name_guid, with_type};
use crate::surfaces::ctx::SurfaceCtx;
use crate::surfaces::xml::{self, esc, Element, NS_AUTOD, NS_SOAP};

use super::facts::*;

/// Users one GetUserSettings request may name (Exchange's limit).
const MAX_USERS: usize = 100;

/// The `Version` Autodiscover's ServerVersionInfo reports (2016 says `Exchange2015`).
fn autod_version(v: ExchangeVersion) -> &'static str {
    match v {
        ExchangeVersion::Ex2016 => "Exchange2015",
        ExchangeVersion::Ex2013 => "Exchange2013_SP1",
        ExchangeVersion::Ex2010 => "Exchange2010_SP2",
    }
}

/// Every setting name GetUserSettings knows (UserSettingName); the ones the lab has no value
/// for answer `SettingIsNotAvailable`, anything else `InvalidSetting`.
const KNOWN_SETTINGS: &[&str] = &[
    "UserDisplayName",
    "UserDN",
    "UserDeploymentId",
    "InternalMailboxServer",
    "InternalRpcClientServer",
    "InternalMailboxServerDN",
    "InternalEcpUrl",
    "InternalEcpVoicemailUrl",
    "InternalEcpEmailSubscriptionsUrl",
    "InternalEcpTextMessagingUrl",
    "InternalEcpDeliveryReportUrl",
    "InternalEcpRetentionPolicyTagsUrl",
    "InternalEcpPublishingUrl",
    "InternalEcpPhotoUrl",
    "InternalEcpConnectUrl",
    "InternalEcpTeamMailboxUrl",
    "InternalEcpTeamMailboxCreatingUrl",
    "InternalEcpTeamMailboxEditingUrl",
    "InternalEcpTeamMailboxHidingUrl",
    "InternalEcpExtensionInstallationUrl",
    "InternalEwsUrl",
    "InternalEmwsUrl",
    "InternalOABUrl",
    "InternalPhotosUrl",
    "InternalUMUrl",
    "InternalWebClientUrls",
    "MailboxDN",
    "PublicFolderServer",
    "ActiveDirectoryServer",
    "ExternalMailboxServer",
    "ExternalMailboxServerRequiresSSL",
    "ExternalMailboxServerAuthenticationMethods",
    "EcpVoicemailUrlFragment",
    "EcpEmailSubscriptionsUrlFragment",
    "EcpTextMessagingUrlFragment",
    "EcpDeliveryReportUrlFragment",
    "EcpRetentionPolicyTagsUrlFragment",
    "EcpPublishingUrlFragment",
    "EcpPhotoUrlFragment",
    "EcpConnectUrlFragment",
    "EcpTeamMailboxUrlFragment",
    "EcpTeamMailboxCreatingUrlFragment",
    "EcpTeamMailboxEditingUrlFragment",
    "EcpExtensionInstallationUrlFragment",
    "ExternalEcpUrl",
    "ExternalEcpVoicemailUrl",
    "ExternalEcpEmailSubscriptionsUrl",
    "ExternalEcpTextMessagingUrl",
    "ExternalEcpDeliveryReportUrl",
    "ExternalEcpRetentionPolicyTagsUrl",
    "ExternalEcpPublishingUrl",
    "ExternalEcpPhotoUrl",
    "ExternalEcpConnectUrl",
    "ExternalEcpTeamMailboxUrl",
    "ExternalEcpTeamMailboxCreatingUrl",
    "ExternalEcpTeamMailboxEditingUrl",
    "ExternalEcpTeamMailboxHidingUrl",
    "ExternalEcpExtensionInstallationUrl",
    "ExternalEwsUrl",
    "ExternalEmwsUrl",
    "ExternalOABUrl",
    "ExternalPhotosUrl",
    "ExternalUMUrl",
    "ExternalWebClientUrls",
    "CrossOrganizationSharingEnabled",
    "AlternateMailboxes",
    "CasVersion",
    "EwsSupportedSchemas",
    "InternalPop3Connections",
    "ExternalPop3Connections",
    "InternalImap4Connections",
    "ExternalImap4Connections",
    "InternalSmtpConnections",
    "ExternalSmtpConnections",
    "InternalServerExclusiveConnect",
    "ExternalEwsVersion",
    "ExternalServerExclusiveConnect",
    "ExchangeRpcUrl",
    "ShowGalAsDefaultView",
    "AutoDiscoverSMTPAddress",
    "InteropExternalEwsUrl",
    "InteropExternalEwsVersion",
    "PublicFolderInformation",
    "RedirectUrl",
    "EwsPartnerUrl",
    "CertPrincipalName",
    "GroupingInformation",
    "MapiHttpEnabled",
    "MapiHttpEnabledForUser",
    "MobileMailboxPolicyInterop",
    "UserMSOnline",
    "InternalMapiHttpMailboxStoreUrl",
    "ExternalMapiHttpMailboxStoreUrl",
    "InternalMapiHttpAddressbookUrl",
    "ExternalMapiHttpAddressbookUrl",
];

fn setting_value(ctx: &SurfaceCtx, f: &Facts, name: &str) -> Option<String> {
    let srv = &f.server;
    let oab = |internal: bool| {
        url(srv, VdirKind::Oab, internal)
            .map(|u| with_slash(&join(&u, &default_oab_guid(&ctx.org.name).to_string())))
    };
    let owa = |internal: bool| url(srv, VdirKind::Owa, internal).map(|u| with_slash(&u));
    let mapi = |internal: bool, ep: &str| {
        if !mapi_http_for(ctx, f) {
            return None;
        }
        url(srv, VdirKind::Mapi, internal)
            .map(|b| format!("{}?MailboxId={}", with_slash(&join(&b, ep)), f.server_id))
    };
    let ext_host = url(srv, VdirKind::Rpc, false)
        .and_then(|u| host_of(&u))
        .or_else(|| url(srv, VdirKind::Ews, false).and_then(|u| host_of(&u)));
    Some(match name {
        "UserDisplayName" => f.mailbox.display_name.clone(),
        "UserDN" => f.legacy_dn.clone(),
        "UserDeploymentId" => name_guid(&ctx.org.domain).to_string(),
        "InternalMailboxServer" | "InternalRpcClientServer" => f.server_id.clone(),
        "InternalMailboxServerDN" => f.server_dn.clone(),
        "MailboxDN" => f.mdb_dn.clone(),
        "InternalEwsUrl" | "InternalEmwsUrl" => url(srv, VdirKind::Ews, true)?,
        "ExternalEwsUrl" | "ExternalEmwsUrl" => url(srv, VdirKind::Ews, false)?,
        "InternalOABUrl" => oab(true)?,
        "ExternalOABUrl" => oab(false)?,
        "InternalEcpUrl" => owa(true)?,
        "ExternalEcpUrl" => owa(false)?,
        "ExternalMailboxServer" | "PublicFolderServer" => ext_host?,
        "ExternalMailboxServerRequiresSSL" => "True".into(),
        "ExternalMailboxServerAuthenticationMethods" => "Ntlm".into(),
        "CasVersion" | "ExternalEwsVersion" => long_build(srv.version),
        "EwsSupportedSchemas" => ews_schemas(srv.version).join(", "),
        "AutoDiscoverSMTPAddress" => f.mailbox.primary_smtp_address.clone(),
        "CrossOrganizationSharingEnabled" => "False".into(),
        "ShowGalAsDefaultView" => "True".into(),
        "UserMSOnline" => "False".into(),
        "MapiHttpEnabled" | "MapiHttpEnabledForUser" => {
            if mapi_http_for(ctx, f) {
                "True".into()
            } else {
                "False".into()
            }
        }
        "InternalServerExclusiveConnect" => "False".into(),
        "ExternalServerExclusiveConnect" => "True".into(),
        "InternalMapiHttpMailboxStoreUrl" => mapi(true, "emsmdb")?,
        "ExternalMapiHttpMailboxStoreUrl" => mapi(false, "emsmdb")?,
        "InternalMapiHttpAddressbookUrl" => mapi(true, "nspi")?,
        "ExternalMapiHttpAddressbookUrl" => mapi(false, "nspi")?,
        _ => return None,
    })
}

fn soap_envelope(ctx: &SurfaceCtx, action: &str, body: &str) -> String {
    let (a, b, c, d) = ctx.server.version.build();
    format!(
        "<s:Envelope xmlns:s=\"{NS_SOAP}\" xmlns:a=\"http://www.w3.org/2005/08/addressing\"><s:Header><a:Action s:mustUnderstand=\"1\">http://schemas.microsoft.com/exchange/2010/Autodiscover/Autodiscover/{action}</a:Action><h:ServerVersionInfo xmlns:h=\"{NS_AUTOD}\" xmlns:i=\"http://www.w3.org/2001/XMLSchema-instance\"><h:MajorVersion>{a}</h:MajorVersion><h:MinorVersion>{b}</h:MinorVersion><h:MajorBuildNumber>{c}</h:MajorBuildNumber><h:MinorBuildNumber>{d}</h:MinorBuildNumber><h:Version>{}</h:Version></h:ServerVersionInfo></s:Header><s:Body>{body}</s:Body></s:Envelope>",
        autod_version(ctx.server.version)
    )
}

fn soap_fault() -> Response {
    let body = format!(
        "<s:Envelope xmlns:s=\"{NS_SOAP}\"><s:Body><s:Fault><faultcode>s:Client</faultcode><faultstring xml:lang=\"en-US\">The request is invalid.</faultstring></s:Fault></s:Body></s:Envelope>"
    );
    with_type(
        StatusCode::INTERNAL_SERVER_ERROR,
        "text/xml; charset=utf-8",
        body,
    )
}

fn gus_response(ctx: &SurfaceCtx, inner: &str) -> Response {
    let body = format!(
        "<GetUserSettingsResponseMessage xmlns=\"{NS_AUTOD}\"><Response xmlns:i=\"http://www.w3.org/2001/XMLSchema-instance\">{inner}</Response></GetUserSettingsResponseMessage>"
    );
    with_type(
        StatusCode::OK,
        "text/xml; charset=utf-8",
        soap_envelope(ctx, "GetUserSettingsResponse", &body),
    )
}

fn gus_invalid_request(ctx: &SurfaceCtx) -> Response {
    gus_response(
        ctx,
        "<ErrorCode>InvalidRequest</ErrorCode><ErrorMessage>The request is invalid.</ErrorMessage><UserResponses/>",
    )
}

pub(super) fn soap(ctx: &SurfaceCtx, parts: &Parts, body: &[u8]) -> Response {
    if parts.method != Method::POST {
        return crate::surfaces::common::method_not_allowed("POST");
    }
    let Ok(root) = xml::parse(body) else {
        return soap_fault();
    };
    let Some(op) = root
        .is(NS_SOAP, "Envelope")
        .then(|| root.child(NS_SOAP, "Body"))
        .flatten()
        .and_then(|b| b.children.first())
    else {
        return soap_fault();
    };
    if !op.is(NS_AUTOD, "GetUserSettingsRequestMessage") {
        return soap_fault();
    }
    get_user_settings(ctx, op)
}

fn get_user_settings(ctx: &SurfaceCtx, op: &Element) -> Response {
    let Some(req) = op.child(NS_AUTOD, "Request") else {
        return gus_invalid_request(ctx);
    };
    let users: Vec<&str> = req
        .child(NS_AUTOD, "Users")
        .map(|u| {
            u.children_named(NS_AUTOD, "User")
                .filter_map(|u| u.child_text(NS_AUTOD, "Mailbox"))
                .collect()
        })
        .unwrap_or_default();
    let settings: Vec<&str> = req
        .child(NS_AUTOD, "RequestedSettings")
        .map(|s| {
            s.children_named(NS_AUTOD, "Setting")
                .map(|s| s.text.trim())
                .collect()
        })
        .unwrap_or_default();
    if users.is_empty() || users.len() > MAX_USERS || settings.is_empty() {
        return gus_invalid_request(ctx);
    }
    let mut out = String::from("<ErrorCode>NoError</ErrorCode><ErrorMessage/><UserResponses>");
    for user in users {
        let Some(mb) = ctx.org.mailbox_by_smtp(user) else {
            out.push_str(&format!(
                "<UserResponse><ErrorCode>InvalidUser</ErrorCode><ErrorMessage>Invalid user: '{}'</ErrorMessage><RedirectTarget i:nil=\"true\"/><UserSettingErrors/><UserSettings/></UserResponse>",
                esc(user)
            ));
            continue;
        };
        let f = facts(ctx, mb);
        let mut errors = String::new();
        let mut values = String::new();
        for s in &settings {
            match setting_value(ctx, &f, s) {
                Some(v) => values.push_str(&format!(
                    "<UserSetting i:type=\"StringSetting\"><Name>{}</Name><Value>{}</Value></UserSetting>",
                    esc(s),
                    esc(&v)
                )),
                None if KNOWN_SETTINGS.contains(s) => errors.push_str(&format!(
                    "<UserSettingError><ErrorCode>SettingIsNotAvailable</ErrorCode><ErrorMessage>User setting '{0}' is not available. </ErrorMessage><SettingName>{0}</SettingName></UserSettingError>",
                    esc(s)
                )),
                None => errors.push_str(&format!(
                    "<UserSettingError><ErrorCode>InvalidSetting</ErrorCode><ErrorMessage>The requested setting '{0}' is invalid.</ErrorMessage><SettingName>{0}</SettingName></UserSettingError>",
                    esc(s)
                )),
            }
        }
        let errors = if errors.is_empty() {
            "<UserSettingErrors/>".to_string()
        } else {
            format!("<UserSettingErrors>{errors}</UserSettingErrors>")
        };
        out.push_str(&format!(
            "<UserResponse><ErrorCode>NoError</ErrorCode><ErrorMessage>No error.</ErrorMessage><RedirectTarget i:nil=\"true\"/>{errors}<UserSettings>{values}</UserSettings></UserResponse>"
        ));
    }
    out.push_str("</UserResponses>");
    gus_response(ctx, &out)
}
