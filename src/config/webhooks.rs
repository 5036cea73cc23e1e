//! `[webhooks]`: inbound platform notifications, the per-tenant event log and outbound delivery.

use serde::Deserialize;

use super::stores::StoreKind;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookSettings {
    /// Source IPs allowed to POST `/webhooks/merchant`; empty = any.
    pub inbound_allowed_ips: Vec<String>,
    pub event_store: StoreKind,
    /// Events older than this are trimmed from the log.
    pub event_retention_s: u64,
    /// Most events kept per tenant.
    pub event_max_per_tenant: usize,
    /// Delays (seconds) between outbound delivery attempts.
    pub delivery_schedule_s: Vec<u64>,
    pub delivery_timeout_ms: u64,
    /// At most this many deliveries in flight per endpoint.
    pub delivery_concurrency_per_endpoint: usize,
    /// Allow http:// and private/loopback/link-local endpoint URLs (development and tests only).
    pub allow_private_targets: bool,
    /// SSE keep-alive comment interval.
    pub sse_keepalive_s: u64,
}
