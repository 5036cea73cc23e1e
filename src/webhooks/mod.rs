//! Webhooks: the platform's notifications in, tenants' events out.
//!
//! ```text
//! POST /webhooks/merchant → inbound (allow-list, envelope, userNo) → normalize (typed public event,
//!   stable id, PAN/CVV dropped, OTP kept apart) → routing (owner of card / group / order, else dead
//!   letter; card_operate also finishes its operation) → event log (per tenant, de-duplicated) →
//!   SSE streams + delivery queue → worker → Standard-Webhooks-signed POSTs to the tenant's endpoints
//! ```
//! `SUCCESS` is answered only once the event (and its deliveries) are durably recorded; anything else
//! makes the platform retry, and the retry is de-duplicated by the event id.

pub mod allow_list;
pub mod delivery;
pub mod endpoints;
pub mod event_data;
pub mod event_store;
pub mod events;
pub mod events_api;
pub mod inbound;
pub mod metrics;
pub mod normalize;
pub mod routing;
pub mod signing;
pub mod sse;

use std::{sync::Arc, time::Duration};

use anyhow::Context as _;
use parking_lot::Mutex;
use tokio::{
    sync::{Notify, broadcast, watch},
    task::JoinHandle,
};

use self::{
    allow_list::AllowList,
    delivery::{Queued, queue::DeliveryQueue},
    events::{Appended, Event, EventStore, Retention},
    metrics::Metrics,
    normalize::EventIds,
};
use crate::{
    config::{Settings, stores::StoreKind, webhooks::WebhookSettings},
    envelope::EnvelopeCodec,
    storage::{StoreError, redis::RedisPool},
    tenancy::{OwnershipStore, TenantId},
};

/// Everything webhooks need at run time; built once by startup, shared by handlers and the worker.
pub struct WebhookHub {
    pub settings: WebhookSettings,
    /// Opens platform ciphertext (the platform public key); the same codec the upstream client uses.
    pub(crate) codec: EnvelopeCodec,
    pub(crate) merchant_no: String,
    pub store: Arc<dyn EventStore>,
    pub queue: Arc<dyn DeliveryQueue>,
    pub(crate) ids: EventIds,
    pub(crate) allow: AllowList,
    /// Proxies whose `X-Forwarded-For` names the client (`webhooks.trusted_proxies`).
    pub(crate) trusted_proxies: AllowList,
    /// Tenants whose log just grew (wakes their SSE streams).
    pub(crate) live: broadcast::Sender<TenantId>,
    /// Wakes the delivery worker when something was enqueued.
    pub(crate) wake: Notify,
    pub metrics: Metrics,
    /// Open SSE streams, per tenant and in total (bounded by `sse_max_streams_*`).
    pub(crate) streams: sse::StreamSlots,
    pub(crate) http: reqwest::Client,
    shutdown: watch::Sender<bool>,
    worker: Mutex<Option<JoinHandle<()>>>,
}

impl std::fmt::Debug for WebhookHub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookHub").field("event_store", &self.settings.event_store).finish_non_exhaustive()
    }
}

impl WebhookHub {
    /// Builds the hub: stores per `webhooks.event_store`, the allow-list, the delivery client.
    /// `id_secret` keys event and endpoint ids (the tenancy secret).
    pub fn build(
        settings: &Settings,
        codec: EnvelopeCodec,
        redis: Option<&RedisPool>,
        id_secret: &[u8],
    ) -> anyhow::Result<Arc<Self>> {
        let w = settings.webhooks.clone();
        let (store, queue): (Arc<dyn EventStore>, Arc<dyn DeliveryQueue>) = match (w.event_store, redis) {
            (StoreKind::Memory, _) => (
                Arc::new(event_store::memory::MemoryEventStore::new()),
                Arc::new(delivery::queue::MemoryQueue::new(Duration::from_secs(w.delivery_retention_s))),
            ),
            (StoreKind::Redis, Some(pool)) => (
                Arc::new(event_store::redis::RedisEventStore::new(pool.clone(), w.event_retention_s * 1000)),
                Arc::new(delivery::redis_queue::RedisQueue::new(
                    pool.clone(),
                    Duration::from_secs(w.delivery_retention_s),
                )),
            ),
            (StoreKind::Redis, None) => anyhow::bail!("webhooks.event_store = \"redis\" needs redis.url"),
        };
        let allow = AllowList::parse(&w.inbound_allowed_ips).context("webhooks.inbound_allowed_ips")?;
        let trusted_proxies = AllowList::parse(&w.trusted_proxies).context("webhooks.trusted_proxies")?;
        let mut http = reqwest::Client::builder()
            .timeout(Duration::from_millis(w.delivery_timeout_ms))
            .connect_timeout(Duration::from_millis(w.delivery_timeout_ms.min(5000)))
            // A redirect could lead anywhere, including inside our network.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("card-gateway-webhooks/", env!("CARGO_PKG_VERSION")))
            .pool_max_idle_per_host(w.delivery_concurrency_per_endpoint);
        if !w.allow_private_targets {
            http = http.dns_resolver(endpoints::url_guard::PublicOnlyResolver).no_proxy();
        }
        let (shutdown, _) = watch::channel(false);
        Ok(Arc::new(Self {
            codec,
            merchant_no: settings.upstream.merchant_no.clone(),
            store,
            queue,
            ids: EventIds::new(id_secret),
            allow,
            trusted_proxies,
            live: broadcast::channel(1024).0,
            wake: Notify::new(),
            metrics: Metrics::default(),
            streams: sse::StreamSlots::new(w.sse_max_streams_per_tenant, w.sse_max_streams_total),
            http: http.build().context("webhook delivery client")?,
            shutdown,
            worker: Mutex::new(None),
            settings: w,
        }))
    }

    pub fn retention(&self) -> Retention {
        Retention {
            max_age: Duration::from_secs(self.settings.event_retention_s),
            max_len: self.settings.event_max_per_tenant,
            secret_ttl: Duration::from_secs(self.settings.secret_ttl_s),
            dedupe_for: Duration::from_secs(self.settings.event_retention_s.max(self.settings.inbound_dedupe_s)),
        }
    }

    /// A derived, stable id with a prefix (`we_`, `dlv_`).
    pub(crate) fn derive_id(&self, prefix: &str, domain: &str, parts: &[&str]) -> String {
        let id = self.ids.id(domain, parts);
        format!("{prefix}_{}", id.trim_start_matches("evt_"))
    }

    /// Watches for the server stopping (SSE streams end with it).
    pub(crate) fn shutdown_signal(&self) -> watch::Receiver<bool> {
        self.shutdown.subscribe()
    }

    /// Starts the delivery worker (once).
    pub fn start_worker(self: &Arc<Self>, ownership: Arc<dyn OwnershipStore>) {
        let mut slot = self.worker.lock();
        if slot.is_none() {
            let worker = delivery::worker::Worker::new(self.clone(), ownership);
            *slot = Some(tokio::spawn(worker.run(self.shutdown.subscribe())));
        }
    }

    /// Stops the worker and ends SSE streams; in-flight attempts get a moment to finish, the rest are
    /// abandoned to their leases (attempted again later).
    /// Tells every event stream (and the delivery worker) to finish now; used when draining.
    pub fn stop_streams(&self) {
        let _ = self.shutdown.send(true);
    }

    pub async fn stop(&self) {
        let _ = self.shutdown.send(true);
        let handle = self.worker.lock().take();
        if let Some(h) = handle {
            let _ = h.await;
        }
    }

    /// Appends an event to the tenant's log, fans it out to the tenant's endpoints and wakes readers.
    /// Safe to repeat: the append and every delivery are de-duplicated by id, so a retry after a crash
    /// between the two steps completes the fan-out without duplicating anything.
    pub async fn record(
        &self,
        ownership: &dyn OwnershipStore,
        tenant: &TenantId,
        event: &Event,
        secret: Option<&serde_json::Value>,
    ) -> Result<Appended, StoreError> {
        let appended = self.store.append(tenant, event, secret, &self.retention()).await?;
        let mut enqueued = false;
        for ep in endpoints::all(ownership, tenant).await? {
            if ep.wants(&event.kind) {
                let id = self.derive_id("dlv", "delivery", &[&ep.id, &event.id]);
                let item = Queued::new(tenant.as_str(), id, &ep.id, &event.id, &event.kind, false);
                enqueued |= self.queue.enqueue(&item).await?;
            }
        }
        if enqueued {
            self.wake.notify_one();
        }
        if appended.new {
            let _ = self.live.send(tenant.clone());
        }
        Ok(appended)
    }
}
