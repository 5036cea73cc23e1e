//! Outbound delivery: one record per (endpoint, event) — or per replay — kept in a durable queue
//! (Redis sorted set by due time, or in memory), claimed under a lease by the worker, attempted with
//! Standard Webhooks signatures, retried on the configured schedule with jitter. A worker that dies
//! mid-attempt loses nothing: the lease expires and the delivery is attempted again (at-least-once;
//! consumers de-duplicate on `webhook-id`, the event id).

pub mod queue;
pub mod redis_queue;
pub mod worker;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Attempts kept per delivery (the newest).
pub const MAX_ATTEMPTS_KEPT: usize = 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    /// Waiting for its next attempt.
    Pending,
    Succeeded,
    /// Gave up (schedule exhausted, endpoint answered 410, or the event expired). Replayable.
    Failed,
    /// The endpoint was deleted or disabled before it could be delivered.
    Cancelled,
}

/// One attempt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Attempt {
    pub at: DateTime<Utc>,
    pub duration_ms: u64,
    /// The endpoint's HTTP status, when it answered.
    pub status_code: Option<u16>,
    /// `timeout`, `connection_failed`, `http_status`, `target_refused`, …
    pub error: Option<String>,
}

/// A delivery as `GET /v1/webhook-endpoints/{id}/deliveries` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Delivery {
    #[schema(example = "dlv_0f1e2d3c4b5a69788796a5b4")]
    pub id: String,
    pub endpoint_id: String,
    /// Also the `webhook-id` header.
    pub event_id: String,
    pub event_type: String,
    pub status: DeliveryStatus,
    pub attempt_count: u32,
    /// The newest attempts (at most 20).
    pub attempts: Vec<Attempt>,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub completed_at: Option<DateTime<Utc>>,
    /// Created by `POST /v1/webhook-endpoints/{id}/replay`.
    pub replay: bool,
}

/// The queued form: the delivery plus its tenant (never shown).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Queued {
    pub tenant: String,
    pub delivery: Delivery,
}

impl Queued {
    pub fn new(tenant: &str, id: String, endpoint_id: &str, event_id: &str, event_type: &str, replay: bool) -> Self {
        Self {
            tenant: tenant.to_owned(),
            delivery: Delivery {
                id,
                endpoint_id: endpoint_id.to_owned(),
                event_id: event_id.to_owned(),
                event_type: event_type.to_owned(),
                status: DeliveryStatus::Pending,
                attempt_count: 0,
                attempts: Vec::new(),
                next_attempt_at: Some(Utc::now()),
                created_at: Utc::now(),
                completed_at: None,
                replay,
            },
        }
    }

    /// The endpoint index position: `<created_ms>|<id>`, ordered lexicographically.
    pub fn position(&self) -> String {
        format!("{:016}|{}", self.delivery.created_at.timestamp_millis().max(0), self.delivery.id)
    }
}
