//! A tenant's webhook endpoints: where its events are POSTed, which types, the signing secret.
//! Kept as tenant-owned documents in the ownership store (`webhook_endpoint` kind), so they share its
//! isolation (another tenant's endpoint answers 404) and its backend (memory or Redis).

pub mod routes;
pub mod url_guard;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{
    storage::StoreError,
    tenancy::{ObjectKind, ObjectMeta, OwnershipStore, TenantId},
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EndpointStatus {
    Enabled,
    /// Receives nothing: disabled by the tenant, or by the gateway after the endpoint answered 410 Gone.
    Disabled,
}

/// The stored endpoint (with its secrets; never serialised to clients as is).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredEndpoint {
    pub id: String,
    pub url: String,
    pub description: Option<String>,
    /// Event types delivered; empty = all.
    pub event_types: Vec<String>,
    pub status: EndpointStatus,
    pub disabled_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub secret: String,
    /// After a rotation, the old secret still signs (beside the new one) until this time.
    pub previous_secret: Option<String>,
    pub previous_secret_expires_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub deleted: bool,
}

impl StoredEndpoint {
    pub fn wants(&self, event_type: &str) -> bool {
        self.status == EndpointStatus::Enabled
            && !self.deleted
            && (self.event_types.is_empty() || self.event_types.iter().any(|t| t == event_type))
    }

    /// Secrets that sign a delivery now.
    pub fn signing_secrets(&self, now: DateTime<Utc>) -> Vec<&str> {
        let mut s = vec![self.secret.as_str()];
        if let (Some(prev), Some(until)) = (&self.previous_secret, self.previous_secret_expires_at)
            && until > now
        {
            s.push(prev.as_str());
        }
        s
    }

    pub fn public(&self) -> WebhookEndpoint {
        WebhookEndpoint {
            id: self.id.clone(),
            url: self.url.clone(),
            description: self.description.clone(),
            event_types: self.event_types.clone(),
            status: self.status,
            disabled_reason: self.disabled_reason.clone(),
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

/// An endpoint as the API shows it (no secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"id": "we_5c1e4a53d9f03f1f3b7f9a10", "url": "https://hooks.example.com/card-events",
    "description": "ledger", "event_types": ["card.transaction"], "status": "enabled", "disabled_reason": null,
    "created_at": "2026-11-25T12:00:00Z", "updated_at": "2026-11-25T12:00:00Z"}))]
pub struct WebhookEndpoint {
    pub id: String,
    pub url: String,
    pub description: Option<String>,
    /// Event types delivered; empty = all.
    pub event_types: Vec<String>,
    pub status: EndpointStatus,
    /// `gone` when the endpoint answered 410, `disabled_by_tenant` otherwise.
    pub disabled_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The answer to create and rotate-secret: the only time the secret is shown.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct WebhookEndpointWithSecret {
    #[serde(flatten)]
    pub endpoint: WebhookEndpoint,
    /// `whsec_<base64>`: the Standard Webhooks signing secret. Shown once; store it now.
    #[schema(example = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")]
    pub secret: String,
}

impl From<&StoredEndpoint> for WebhookEndpointWithSecret {
    fn from(e: &StoredEndpoint) -> Self {
        Self { endpoint: e.public(), secret: e.secret.clone() }
    }
}

fn corrupt(e: serde_json::Error) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

/// The tenant's endpoint, unless deleted.
pub async fn load(
    store: &dyn OwnershipStore,
    tenant: &TenantId,
    id: &str,
) -> Result<Option<StoredEndpoint>, StoreError> {
    match store.get_doc(tenant, ObjectKind::WebhookEndpoint, id).await? {
        None => Ok(None),
        Some(doc) => {
            let e: StoredEndpoint = serde_json::from_value(doc).map_err(corrupt)?;
            Ok((!e.deleted).then_some(e))
        }
    }
}

/// Saves an endpoint; the first save claims its id for the tenant. `false` when another tenant owns the id.
pub async fn save(store: &dyn OwnershipStore, tenant: &TenantId, e: &StoredEndpoint) -> Result<bool, StoreError> {
    let meta = ObjectMeta { created_ms: e.created_at.timestamp_millis(), ..Default::default() };
    if !store.claim(tenant, ObjectKind::WebhookEndpoint, &e.id, &meta).await? {
        return Ok(false);
    }
    let doc = serde_json::to_value(e).map_err(corrupt)?;
    store.put_doc(tenant, ObjectKind::WebhookEndpoint, &e.id, &doc).await?;
    Ok(true)
}

/// All the tenant's live endpoints (tenants have a handful; the index is walked to the end).
pub async fn all(store: &dyn OwnershipStore, tenant: &TenantId) -> Result<Vec<StoredEndpoint>, StoreError> {
    let mut out = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = store.list(tenant, ObjectKind::WebhookEndpoint, after.as_deref(), 100).await?;
        for id in &page.ids {
            if let Some(e) = load(store, tenant, id).await? {
                out.push(e);
            }
        }
        match page.next {
            Some(n) => after = Some(n),
            None => return Ok(out),
        }
    }
}
