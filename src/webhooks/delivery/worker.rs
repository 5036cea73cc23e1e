//! The delivery worker: claims due deliveries (bounded per process, per tenant and per endpoint, so
//! one slow endpoint or one tenant cannot starve the others), POSTs each signed event, and settles the
//! outcome: success, a retry after the next scheduled delay (± jitter), or failure. 410 Gone disables
//! the endpoint. A delivery whose tenant or endpoint is at its cap waits, longer each time in a row
//! (so a slow endpoint's backlog does not spin through the queue every 100 ms).

use std::{
    collections::HashMap,
    sync::Arc,
    time::{Duration, Instant},
};

use chrono::{DateTime, Utc};
use parking_lot::Mutex;
use rand::Rng as _;
use tokio::{
    sync::{OwnedSemaphorePermit, Semaphore, watch},
    task::JoinSet,
};

use super::{Attempt, DeliveryStatus, MAX_ATTEMPTS_KEPT, Queued, queue::Claim};
use crate::{
    tenancy::{OwnershipStore, TenantId},
    webhooks::{
        WebhookHub,
        endpoints::{self, EndpointStatus, url_guard},
        metrics::inc,
        signing,
    },
};

/// The first wait of a delivery whose tenant or endpoint is at its concurrency cap; it doubles for
/// each further deferral in a row of the same endpoint, up to the delivery timeout (by then a slot
/// has surely come free), and resets when one of its deliveries starts.
const BUSY_DEFER: Duration = Duration::from_millis(100);
/// Slot maps beyond this many entries drop their idle entries (no delivery in flight).
const SLOT_MAP_PRUNE_AT: usize = 1024;

pub struct Worker {
    hub: Arc<WebhookHub>,
    ownership: Arc<dyn OwnershipStore>,
    total: Arc<Semaphore>,
    per_tenant: Slots,
    per_endpoint: Slots,
    /// Deferrals in a row per endpoint.
    busy_streak: Mutex<HashMap<String, u32>>,
}

/// Named semaphores of one size, created on first use and pruned when idle.
struct Slots {
    size: usize,
    map: Mutex<HashMap<String, Arc<Semaphore>>>,
}

impl Slots {
    fn new(size: usize) -> Self {
        Self { size, map: Mutex::new(HashMap::new()) }
    }

    fn try_take(&self, name: &str) -> Option<OwnedSemaphorePermit> {
        let mut map = self.map.lock();
        if map.len() >= SLOT_MAP_PRUNE_AT && !map.contains_key(name) {
            // Idle entries hold no permit out: dropping one loses nothing.
            map.retain(|_, s| s.available_permits() < self.size);
        }
        let sem = map.entry(name.to_owned()).or_insert_with(|| Arc::new(Semaphore::new(self.size))).clone();
        drop(map);
        sem.try_acquire_owned().ok()
    }
}

/// What one attempt came to.
enum Outcome {
    Delivered(u16),
    Retry(String, Option<u16>),
    Gone,
}

impl Worker {
    pub fn new(hub: Arc<WebhookHub>, ownership: Arc<dyn OwnershipStore>) -> Arc<Self> {
        let total = Arc::new(Semaphore::new(hub.settings.delivery_concurrency_total));
        let per_tenant = Slots::new(hub.settings.delivery_concurrency_per_tenant);
        let per_endpoint = Slots::new(hub.settings.delivery_concurrency_per_endpoint);
        Arc::new(Self { hub, ownership, total, per_tenant, per_endpoint, busy_streak: Mutex::new(HashMap::new()) })
    }

    pub async fn run(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        let poll = Duration::from_millis(self.hub.settings.delivery_poll_ms);
        let lease = Duration::from_millis(self.hub.settings.delivery_lease_ms);
        let mut tasks = JoinSet::new();
        loop {
            self.drain(lease, &mut tasks).await;
            while tasks.try_join_next().is_some() {}
            tokio::select! {
                _ = shutdown.changed() => break,
                () = self.hub.wake.notified() => {}
                () = tokio::time::sleep(poll) => {}
                Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
            }
        }
        // Let attempts in flight finish briefly; the rest come back when their lease ends.
        let grace = Duration::from_millis(self.hub.settings.delivery_timeout_ms.min(2000));
        let _ = tokio::time::timeout(grace, async { while tasks.join_next().await.is_some() {} }).await;
        tasks.abort_all();
    }

    /// Claims and starts due deliveries while there is capacity.
    async fn drain(self: &Arc<Self>, lease: Duration, tasks: &mut JoinSet<()>) {
        loop {
            let free = self.total.available_permits().min(64);
            if free == 0 {
                return;
            }
            let claims = match self.hub.queue.claim(free, lease).await {
                Ok(c) => c,
                Err(e) => {
                    tracing::warn!(error = %e, "delivery queue unavailable");
                    return;
                }
            };
            let n = claims.len();
            for claim in claims {
                let endpoint = claim.item.delivery.endpoint_id.clone();
                let Ok(total) = self.total.clone().try_acquire_owned() else {
                    self.defer(&claim, None).await;
                    continue;
                };
                let Some(tenant_slot) = self.per_tenant.try_take(&claim.item.tenant) else {
                    self.defer(&claim, Some(&endpoint)).await;
                    continue;
                };
                let Some(slot) = self.per_endpoint.try_take(&endpoint) else {
                    self.defer(&claim, Some(&endpoint)).await;
                    continue;
                };
                self.busy_streak.lock().remove(&endpoint);
                let me = self.clone();
                tasks.spawn(async move {
                    me.deliver(claim).await;
                    drop((total, tenant_slot, slot));
                });
            }
            if n < free {
                return;
            }
        }
    }

    /// Puts a delivery that found no free slot back. Process-wide saturation waits the base delay;
    /// a busy tenant or endpoint backs off (doubling per deferral in a row, jittered).
    async fn defer(&self, claim: &Claim, endpoint: Option<&str>) {
        let wait = match endpoint {
            None => BUSY_DEFER,
            Some(ep) => {
                let mut streaks = self.busy_streak.lock();
                if streaks.len() >= SLOT_MAP_PRUNE_AT && !streaks.contains_key(ep) {
                    streaks.clear();
                }
                let n = streaks.entry(ep.to_owned()).or_insert(0);
                *n = n.saturating_add(1);
                let cap =
                    Duration::from_millis(self.hub.settings.delivery_timeout_ms.max(BUSY_DEFER.as_millis() as u64));
                busy_backoff(*n, cap)
            }
        };
        let due = Utc::now() + chrono::Duration::from_std(wait).unwrap_or_default();
        if let Err(e) = self.hub.queue.settle(claim, &claim.item, Some(due)).await {
            tracing::warn!(error = %e, "could not defer a delivery; its lease will release it");
        }
    }

    async fn deliver(&self, claim: Claim) {
        let mut item = claim.item.clone();
        let now = Utc::now();
        let Some(tenant) = TenantId::parse(&item.tenant) else {
            return self.finish(&claim, item, DeliveryStatus::Failed, None).await;
        };
        let endpoint = match endpoints::load(self.ownership.as_ref(), &tenant, &item.delivery.endpoint_id).await {
            Ok(e) => e,
            Err(e) => {
                tracing::warn!(error = %e, "endpoint store unavailable; delivery waits for its lease");
                return;
            }
        };
        let Some(endpoint) = endpoint.filter(|e| e.status == EndpointStatus::Enabled) else {
            return self.finish(&claim, item, DeliveryStatus::Cancelled, None).await;
        };
        let event = match self.hub.store.get(&tenant, &item.delivery.event_id).await {
            Ok(Some(l)) => l.public(),
            Ok(None) => {
                push_attempt(&mut item, now, 0, None, "event_expired");
                return self.finish(&claim, item, DeliveryStatus::Failed, None).await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "event store unavailable; delivery waits for its lease");
                return;
            }
        };
        let body = serde_json::to_vec(&event).unwrap_or_default();
        let started = Instant::now();
        let outcome = self.attempt(&endpoint, &event.id, &body).await;
        let ms = started.elapsed().as_millis() as u64;
        item.delivery.attempt_count += 1;
        match outcome {
            Outcome::Delivered(code) => {
                push_attempt_ok(&mut item, now, ms, code);
                inc(&self.hub.metrics.deliveries_succeeded);
                self.finish(&claim, item, DeliveryStatus::Succeeded, None).await;
            }
            Outcome::Gone => {
                push_attempt(&mut item, now, ms, Some(410), "gone");
                self.disable_gone(&tenant, &endpoint.id).await;
                inc(&self.hub.metrics.deliveries_failed);
                self.finish(&claim, item, DeliveryStatus::Failed, None).await;
            }
            Outcome::Retry(error, status) => {
                push_attempt(&mut item, now, ms, status, &error);
                inc(&self.hub.metrics.delivery_attempts_failed);
                match self.next_delay(item.delivery.attempt_count) {
                    Some(delay) => {
                        let due = Utc::now() + chrono::Duration::from_std(delay).unwrap_or_default();
                        self.finish(&claim, item, DeliveryStatus::Pending, Some(due)).await;
                    }
                    None => {
                        inc(&self.hub.metrics.deliveries_failed);
                        self.finish(&claim, item, DeliveryStatus::Failed, None).await;
                    }
                }
            }
        }
    }

    /// The delay before attempt `n + 1`, jittered; `None` once the schedule is spent.
    fn next_delay(&self, attempts_made: u32) -> Option<Duration> {
        let base = *self.hub.settings.delivery_schedule_ms.get(attempts_made.saturating_sub(1) as usize)?;
        let j = self.hub.settings.delivery_jitter;
        let factor = if j > 0.0 { rand::rng().random_range((1.0 - j)..=(1.0 + j)) } else { 1.0 };
        Some(Duration::from_millis((base as f64 * factor).round() as u64))
    }

    async fn attempt(&self, endpoint: &endpoints::StoredEndpoint, msg_id: &str, body: &[u8]) -> Outcome {
        let allow_private = self.hub.settings.allow_private_targets;
        let url = match url_guard::check_url(&endpoint.url, allow_private) {
            Ok(u) if url_guard::url_target_allowed(&u, allow_private) => u,
            _ => return Outcome::Retry("target_refused".into(), None),
        };
        let ts = Utc::now().timestamp();
        let Some(signature) = signing::signature_header(&endpoint.signing_secrets(Utc::now()), msg_id, ts, body) else {
            return Outcome::Retry("signing_failed".into(), None);
        };
        let sent = self
            .hub
            .http
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(signing::HEADER_ID, msg_id)
            .header(signing::HEADER_TIMESTAMP, ts.to_string())
            .header(signing::HEADER_SIGNATURE, signature)
            .body(body.to_vec())
            .send()
            .await;
        match sent {
            Ok(res) if res.status().is_success() => Outcome::Delivered(res.status().as_u16()),
            Ok(res) if res.status() == reqwest::StatusCode::GONE => Outcome::Gone,
            Ok(res) => Outcome::Retry("http_status".into(), Some(res.status().as_u16())),
            Err(e) if e.is_timeout() => Outcome::Retry("timeout".into(), None),
            Err(_) => Outcome::Retry("connection_failed".into(), None),
        }
    }

    async fn disable_gone(&self, tenant: &TenantId, endpoint_id: &str) {
        match endpoints::load(self.ownership.as_ref(), tenant, endpoint_id).await {
            Ok(Some(mut e)) => {
                e.status = EndpointStatus::Disabled;
                e.disabled_reason = Some("gone".into());
                e.updated_at = Utc::now();
                if let Err(err) = endpoints::save(self.ownership.as_ref(), tenant, &e).await {
                    tracing::warn!(error = %err, "could not disable an endpoint that answered 410");
                }
                tracing::info!(tenant = %tenant, endpoint.id = %endpoint_id, "endpoint answered 410 Gone: disabled");
            }
            Ok(None) => {}
            Err(err) => tracing::warn!(error = %err, "could not disable an endpoint that answered 410"),
        }
    }

    async fn finish(&self, claim: &Claim, mut item: Queued, status: DeliveryStatus, due: Option<DateTime<Utc>>) {
        item.delivery.status = status;
        item.delivery.next_attempt_at = due;
        if status != DeliveryStatus::Pending {
            item.delivery.completed_at = Some(Utc::now());
        }
        match self.hub.queue.settle(claim, &item, due).await {
            Ok(true) => {}
            Ok(false) => {
                tracing::warn!(delivery.id = %item.delivery.id, "delivery lease lost; another worker repeats it")
            }
            Err(e) => {
                tracing::warn!(delivery.id = %item.delivery.id, error = %e, "delivery outcome not saved; it will be attempted again")
            }
        }
    }
}

/// The wait after the `n`th deferral in a row (n ≥ 1): 100 ms doubling, capped, with ±20 % jitter so
/// deferred deliveries of one endpoint do not come back together.
fn busy_backoff(n: u32, cap: Duration) -> Duration {
    let base = BUSY_DEFER.saturating_mul(1u32 << n.saturating_sub(1).min(16)).min(cap);
    base.mul_f64(rand::rng().random_range(0.8..=1.2))
}

fn push_attempt_ok(item: &mut Queued, at: DateTime<Utc>, ms: u64, code: u16) {
    keep(item, Attempt { at, duration_ms: ms, status_code: Some(code), error: None });
}

fn push_attempt(item: &mut Queued, at: DateTime<Utc>, ms: u64, status: Option<u16>, error: &str) {
    keep(item, Attempt { at, duration_ms: ms, status_code: status, error: Some(error.to_owned()) });
}

fn keep(item: &mut Queued, a: Attempt) {
    let attempts = &mut item.delivery.attempts;
    attempts.push(a);
    if attempts.len() > MAX_ATTEMPTS_KEPT {
        attempts.remove(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_busy_endpoint_waits_longer_each_time_up_to_the_cap() {
        let cap = Duration::from_secs(5);
        let waits: Vec<Duration> = (1..=12).map(|n| busy_backoff(n, cap)).collect();
        assert!(waits[0] <= Duration::from_millis(120) && waits[0] >= Duration::from_millis(80), "{waits:?}");
        assert!(waits[3] >= Duration::from_millis(640), "doubles: {waits:?}");
        assert!(waits.iter().all(|w| *w <= cap.mul_f64(1.2)), "capped: {waits:?}");
        assert!(busy_backoff(u32::MAX, cap) <= cap.mul_f64(1.2), "no overflow");
    }

    #[test]
    fn slot_maps_stay_bounded_and_never_drop_a_slot_in_use() {
        let slots = Slots::new(1);
        let held = slots.try_take("busy");
        assert!(held.is_some());
        for i in 0..(SLOT_MAP_PRUNE_AT * 3) {
            drop(slots.try_take(&format!("ep{i}")));
        }
        assert!(slots.map.lock().len() <= SLOT_MAP_PRUNE_AT + 1);
        assert!(slots.try_take("busy").is_none(), "the held slot survived pruning");
    }
}
