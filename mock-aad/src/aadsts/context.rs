//! What an injected error is worded with: the request's tenant, client, user, resource and
//! grant, as the fault middleware read them, with the stand-ins used when a request did not say.

use time::OffsetDateTime;

use crate::model::EXCHANGE_APP_ID;

/// The request details an injected error's text may name.
#[derive(Debug, Clone, Default)]
pub struct FaultContext {
    /// The tenant path segment (`contoso.com`, a tid, `common`).
    pub tenant: String,
    pub client_id: Option<String>,
    /// The client application's display name, when it is registered.
    pub client_name: Option<String>,
    pub user: Option<String>,
    /// v1 `resource`.
    pub resource: Option<String>,
    /// v2 `scope`.
    pub scope: Option<String>,
    /// The resource application's appId, when the resource is registered.
    pub resource_app_id: Option<String>,
    pub grant_type: Option<String>,
    pub redirect_uri: Option<String>,
    /// A v1 endpoint (`interaction_required` for 50076).
    pub v1: bool,
    pub now: Option<OffsetDateTime>,
    /// When the presented grant was issued.
    pub grant_issued: Option<OffsetDateTime>,
    /// The tenant's refresh-token lifetimes (seconds).
    pub max_inactive: Option<i64>,
    pub max_age: Option<i64>,
}

impl FaultContext {
    /// The lab time of the request (the epoch when unknown).
    pub fn now(&self) -> OffsetDateTime {
        self.now.unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }
    /// The tenant as the path named it (`common` when it did not).
    pub fn tenant(&self) -> &str {
        if self.tenant.is_empty() {
            "common"
        } else {
            &self.tenant
        }
    }
    /// The client id (the nil GUID when absent).
    pub fn client(&self) -> &str {
        self.client_id
            .as_deref()
            .unwrap_or("00000000-0000-0000-0000-000000000000")
    }
    /// The v1 resource, else the v2 scope, else Exchange's appId.
    pub fn resource(&self) -> String {
        self.resource
            .clone()
            .or_else(|| self.scope.clone())
            .unwrap_or_else(|| EXCHANGE_APP_ID.to_string())
    }
    /// The resource application's appId (Exchange's when unknown).
    pub fn resource_app(&self) -> String {
        self.resource_app_id
            .clone()
            .unwrap_or_else(|| EXCHANGE_APP_ID.to_string())
    }
    /// When the presented grant was issued (a day before now when unknown).
    pub fn issued(&self) -> OffsetDateTime {
        self.grant_issued
            .unwrap_or(self.now() - time::Duration::days(1))
    }
    /// The domain of the user's name, else the tenant.
    pub fn domain(&self) -> &str {
        self.user
            .as_deref()
            .and_then(|u| u.rsplit_once('@'))
            .map(|(_, d)| d)
            .unwrap_or(self.tenant())
    }
}
