//! The client profiles the reference client can play (Outlook 2010, 2013 and 2016 for Windows,
//! Outlook 2016 for Mac, a native EAS client): their names, user agents and what each speaks.
//! Plain data, so scenarios, the shell and the CLI can name a profile without the client itself.

use serde::{Deserialize, Serialize};

/// Which client is connecting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Profile {
    /// Never sends Bearer (no ADAL), no MAPI/HTTP: RPC/HTTP with NTLM/Basic.
    Outlook2010,
    /// ADAL only with `EnableADAL=1` and `Version=1` under
    /// `HKCU\SOFTWARE\Microsoft\Office\15.0\Common\Identity`.
    Outlook2013,
    /// Outlook 2016 for Windows: ADAL on by default; `EnableADAL=0` turns it off.
    Outlook2016,
    /// Outlook 2016 for Mac: modern auth unless `DisableModernAuth` is YES; speaks EWS.
    Outlook2016Mac,
    /// An OAuth-capable Exchange ActiveSync client: Bearer only when the challenge carries
    /// `authorization_uri`, else Basic.
    NativeEas,
}

impl Profile {
    /// `outlook-2016`, `outlook-2013`, `outlook-2010`, `outlook-2016-mac`, `native-eas`.
    pub fn parse(name: &str) -> Option<Profile> {
        Some(
            match name.to_ascii_lowercase().replace(['_', ' '], "-").as_str() {
                "outlook-2010" | "outlook2010" => Profile::Outlook2010,
                "outlook-2013" | "outlook2013" => Profile::Outlook2013,
                "outlook-2016" | "outlook2016" | "outlook-2016-windows" => Profile::Outlook2016,
                "outlook-2016-mac" | "outlook2016mac" | "outlook-mac" => Profile::Outlook2016Mac,
                "native-eas" | "nativeeas" | "eas" => Profile::NativeEas,
                _ => return None,
            },
        )
    }

    /// The scenario-file name (`outlook-2016`, …), the inverse of [`Profile::parse`].
    pub fn name(self) -> &'static str {
        match self {
            Profile::Outlook2010 => "outlook-2010",
            Profile::Outlook2013 => "outlook-2013",
            Profile::Outlook2016 => "outlook-2016",
            Profile::Outlook2016Mac => "outlook-2016-mac",
            Profile::NativeEas => "native-eas",
        }
    }

    /// `User-Agent` on Autodiscover/EWS/RPC requests.
    pub fn user_agent(self) -> &'static str {
        match self {
            Profile::Outlook2010 => {
                "Microsoft Office/14.0 (Windows NT 6.1; Microsoft Outlook 14.0.7188; Pro)"
            }
            Profile::Outlook2013 => {
                "Microsoft Office/15.0 (Windows NT 6.1; Microsoft Outlook 15.0.4815; Pro)"
            }
            Profile::Outlook2016 => {
                "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.15928; Pro)"
            }
            Profile::Outlook2016Mac => {
                "MacOutlook/16.9.0.180121 (Intelx64 Mac OS X Version 10.13.2)"
            }
            Profile::NativeEas => "Apple-iPhone9C1/1501.530400009",
        }
    }

    /// `User-Agent` on MAPI/HTTP requests (the token is `MAPI <build>`, not `Microsoft Outlook`).
    pub fn mapi_user_agent(self) -> &'static str {
        match self {
            Profile::Outlook2013 => "Microsoft Office/15.0 (Windows NT 6.1; MAPI 15.0.4815; Pro)",
            Profile::Outlook2016 => "Microsoft Office/16.0 (Windows NT 10.0; MAPI 16.0.15928; Pro)",
            other => other.user_agent(),
        }
    }

    /// `X-ClientApplication` (MAPI/HTTP clients only).
    pub fn client_application(self) -> Option<&'static str> {
        match self {
            Profile::Outlook2013 => Some("Outlook/15.0.4815.1002"),
            Profile::Outlook2016 => Some("Outlook/16.0.15928.20006"),
            _ => None,
        }
    }

    /// Outlook 2013 and later ask for MAPI/HTTP settings (`X-MapiHttpCapability: 1`).
    pub fn speaks_mapi_http(self) -> bool {
        matches!(self, Profile::Outlook2013 | Profile::Outlook2016)
    }

    pub(super) fn is_windows_outlook(self) -> bool {
        matches!(
            self,
            Profile::Outlook2010 | Profile::Outlook2013 | Profile::Outlook2016
        )
    }
}
