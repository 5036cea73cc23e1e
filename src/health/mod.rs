//! Liveness, readiness and draining. Readiness is about this process — its stores answer and it is
//! not draining — and never calls the platform: a platform outage must not take every replica out
//! of the load balancer (inbound webhooks, replays, event streams need no platform). The platform's
//! health is probed in the background and reported as information and as a metric.

mod platform;

use std::{
    sync::atomic::{AtomicBool, Ordering},
    time::{Duration, Instant},
};

use parking_lot::Mutex;
use serde::Serialize;
use utoipa::ToSchema;

pub use platform::{PlatformHealth, spawn_probe};

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Readiness {
    /// `ready`, `not_ready` or `draining`.
    #[schema(example = "ready")]
    pub status: &'static str,
    /// `ok` or what failed, per dependency of this process.
    #[schema(value_type = std::collections::BTreeMap<String, String>)]
    pub checks: std::collections::BTreeMap<&'static str, String>,
    /// The platform as the last background probe saw it — information only, it never decides readiness.
    pub upstream: PlatformHealth,
    /// Information that does not decide readiness.
    pub info: ReadinessInfo,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReadinessInfo {
    /// What `card-gateway upstream-check` measured about the platform (`upstream.facts_file`);
    /// every verdict is `unknown` until it has run.
    pub upstream_facts: crate::upstream::facts::UpstreamFacts,
}

impl Readiness {
    pub fn is_ready(&self) -> bool {
        self.status == "ready"
    }
}

/// Shared by the readiness route, the shutdown path and the platform probe.
#[derive(Default)]
pub struct Health {
    draining: AtomicBool,
    cached: Mutex<Option<(Instant, Readiness)>>,
    pub platform: parking_lot::RwLock<PlatformHealth>,
}

impl Health {
    /// From now on readiness answers `draining` (503).
    pub fn start_draining(&self) {
        self.draining.store(true, Ordering::SeqCst);
    }

    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::SeqCst)
    }

    /// A result younger than `max_age`, if any.
    pub fn cached(&self, max_age: Duration) -> Option<Readiness> {
        let c = self.cached.lock();
        c.as_ref().filter(|(at, _)| at.elapsed() < max_age).map(|(_, r)| r.clone())
    }

    pub fn remember(&self, r: &Readiness) {
        *self.cached.lock() = Some((Instant::now(), r.clone()));
    }
}
