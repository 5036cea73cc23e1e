//! `[webhooks]`: inbound platform notifications, the per-tenant event log and outbound delivery.

use serde::Deserialize;

use super::stores::StoreKind;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookSettings {
    /// Source IPs or CIDRs allowed to POST `/webhooks/merchant`; empty = any (the envelope still authenticates).
    pub inbound_allowed_ips: Vec<String>,
    /// Proxies (addresses or CIDR blocks) in front of the gateway whose `X-Forwarded-For` is believed
    /// for the allow-list; empty = the peer address is the client (no proxy trusted).
    #[serde(default)]
    pub trusted_proxies: Vec<String>,
    /// Accept `data` as a plain JSON object (unauthenticated: only the allow-list vouches for it).
    /// Refused in production unless `inbound_allowed_ips` is set.
    pub inbound_accept_plain_data: bool,
    /// Notifications whose signed time is older than this are refused (0 = no check).
    pub inbound_max_age_s: u64,
    /// Recorded event ids are remembered this long (at least `event_retention_s`).
    pub inbound_dedupe_s: u64,
    /// Where the event log, dead letters and the delivery queue live: memory | redis.
    pub event_store: StoreKind,
    /// Events older than this are trimmed from the log (and no longer de-duplicated).
    pub event_retention_s: u64,
    /// Most events kept per tenant.
    pub event_max_per_tenant: usize,
    /// How long an OTP or activation code stays readable with its event (log, SSE, deliveries); after
    /// it the event is kept without the code.
    pub secret_ttl_s: u64,
    /// Most dead letters kept (events for objects no tenant owns).
    pub dead_letter_max: usize,
    /// Delays (milliseconds) between outbound delivery attempts; ±`delivery_jitter` is applied to each.
    /// After the last, the delivery fails (it can still be replayed).
    pub delivery_schedule_ms: Vec<u64>,
    /// Relative jitter applied to every retry delay (0.2 = ±20 %).
    pub delivery_jitter: f64,
    /// Deadline of one delivery attempt (connect + send + answer).
    pub delivery_timeout_ms: u64,
    /// A claimed delivery is invisible to other workers this long; a worker that dies mid-attempt
    /// releases it after this (must exceed `delivery_timeout_ms`).
    pub delivery_lease_ms: u64,
    /// How often the delivery worker looks for due deliveries when nothing woke it.
    pub delivery_poll_ms: u64,
    /// At most this many deliveries in flight per endpoint (one slow endpoint cannot starve others).
    pub delivery_concurrency_per_endpoint: usize,
    /// At most this many deliveries in flight per gateway process.
    pub delivery_concurrency_total: usize,
    /// At most this many deliveries in flight per tenant (all its endpoints together).
    pub delivery_concurrency_per_tenant: usize,
    /// Delivery records (attempts) are kept this long.
    pub delivery_retention_s: u64,
    /// Most events one replay request may re-deliver.
    pub replay_max_events: usize,
    /// Allow http:// and private/loopback/link-local endpoint URLs (development and tests only).
    pub allow_private_targets: bool,
    /// SSE keep-alive comment interval.
    pub sse_keepalive_s: u64,
    /// How often an SSE stream re-reads the log when no local append woke it (events appended by
    /// other replicas).
    pub sse_poll_ms: u64,
    /// Most open event streams per tenant, and per gateway process (beyond: 429).
    pub sse_max_streams_per_tenant: usize,
    pub sse_max_streams_total: usize,
}

impl WebhookSettings {
    /// Cross-field problems of this section (reported by `Settings::validate`).
    pub fn problems(&self, production: bool) -> Vec<String> {
        let mut p = Vec::new();
        if production && self.inbound_accept_plain_data && self.inbound_allowed_ips.is_empty() {
            p.push("webhooks.inbound_accept_plain_data = true needs webhooks.inbound_allowed_ips in production (plain data is not signed)".into());
        }
        if self.inbound_max_age_s > self.inbound_dedupe_s.max(self.event_retention_s) {
            p.push("webhooks.inbound_max_age_s must not exceed inbound_dedupe_s (or event_retention_s): a notification old enough to be forgotten would be recorded again".into());
        }
        if self.delivery_lease_ms <= self.delivery_timeout_ms {
            p.push(format!(
                "webhooks.delivery_lease_ms ({}) must exceed webhooks.delivery_timeout_ms ({}) so an attempt in flight keeps its lease",
                self.delivery_lease_ms, self.delivery_timeout_ms
            ));
        }
        if !(0.0..=1.0).contains(&self.delivery_jitter) {
            p.push("webhooks.delivery_jitter must be between 0 and 1".into());
        }
        for (name, v) in [
            ("delivery_concurrency_per_endpoint", self.delivery_concurrency_per_endpoint),
            ("delivery_concurrency_total", self.delivery_concurrency_total),
            ("delivery_concurrency_per_tenant", self.delivery_concurrency_per_tenant),
            ("event_max_per_tenant", self.event_max_per_tenant),
            ("replay_max_events", self.replay_max_events),
        ] {
            if v == 0 {
                p.push(format!("webhooks.{name} must be at least 1"));
            }
        }
        if self.sse_max_streams_per_tenant == 0 || self.sse_max_streams_total < self.sse_max_streams_per_tenant {
            p.push("webhooks.sse_max_streams_per_tenant must be positive and at most sse_max_streams_total".into());
        }
        if self.event_retention_s == 0 || self.delivery_poll_ms == 0 || self.sse_poll_ms == 0 {
            p.push("webhooks.event_retention_s, delivery_poll_ms and sse_poll_ms must be positive".into());
        }
        p
    }
}
