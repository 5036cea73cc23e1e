//! Everything a handler needs, built once at startup and shared by all workers. The webhook hub is
//! not in it: it is its own app data (`web::Data<WebhookHub>`), taken by the handlers that use it.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use parking_lot::RwLock;

use crate::{
    config::{Settings, upstream::UpstreamCodes},
    error::ApiError,
    reference::ReferenceData,
    tenancy::{OwnershipStore, ReqNos, cursor::CursorCodec},
    upstream::{MerchantClient, UpstreamError, formats::WireClock},
};

pub struct AppState {
    pub settings: Arc<Settings>,
    pub upstream: MerchantClient,
    pub clock: WireClock,
    pub ownership: Arc<dyn OwnershipStore>,
    pub req_nos: ReqNos,
    pub cursors: CursorCodec,
    pub reference: Arc<ReferenceData>,
    /// Per-tenant daily money caps.
    pub caps: crate::rate_limit::money::MoneyCaps,
    /// The request rate limiter (also charged by handlers that fan out to the platform); `None`
    /// when `rate_limit.enabled = false`.
    pub limiter: Option<Arc<dyn crate::rate_limit::RateLimiter>>,
    pub bins: TtlCache<Vec<crate::domain::card::CardBinOut>>,
    pub scenes: TtlCache<Vec<crate::domain::card::SceneOut>>,
    /// What `upstream-check` measured about the platform (`upstream.facts_file`; unknown when absent).
    pub facts: Arc<crate::upstream::facts::UpstreamFacts>,
    /// Readiness, draining and the platform's background health.
    pub health: Arc<crate::health::Health>,
    /// The embedded simulator (`upstream.mode = "simulator"`, never in production): the test helpers
    /// under `/v1/test-helpers` drive it; `None` against a real platform, where they answer 404.
    pub simulator: Option<Arc<crate::simulator::SimHandle>>,
}

impl AppState {
    pub fn codes(&self) -> &UpstreamCodes {
        &self.settings.upstream.codes
    }

    /// Maps an upstream failure through the configured error table.
    pub fn up(&self, e: &UpstreamError) -> ApiError {
        let mut out = ApiError::upstream(e, &self.settings.upstream.error_map);
        if e.is_retry_later() {
            out.retry_after = Some(self.settings.idempotency.retry_after_s.max(1));
        }
        out
    }
}

/// A value cached in-process for a short time (card BINs, scenes).
pub struct TtlCache<T> {
    ttl: Duration,
    slot: RwLock<Option<(Instant, Arc<T>)>>,
}

impl<T> TtlCache<T> {
    pub fn new(ttl: Duration) -> Self {
        Self { ttl, slot: RwLock::new(None) }
    }

    pub fn get(&self) -> Option<Arc<T>> {
        self.slot.read().as_ref().filter(|(at, _)| at.elapsed() < self.ttl).map(|(_, v)| v.clone())
    }

    pub fn put(&self, v: T) -> Arc<T> {
        let v = Arc::new(v);
        *self.slot.write() = Some((Instant::now(), v.clone()));
        v
    }
}
