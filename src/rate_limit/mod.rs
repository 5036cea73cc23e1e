//! Rate limiting (docs/product.md §10): per tenant and route class, GCRA, with IETF `RateLimit` headers;
//! and the per-tenant daily money caps.
//!
//! - [`LocalLimiter`]: governor's GCRA in this process (one replica, or a per-replica limit).
//! - [`RedisLimiter`]: one GCRA Lua script on Redis' clock, shared exactly by every replica; falls
//!   back to a [`LocalLimiter`] while Redis is unreachable, so reads keep working.
//! - [`headers::rate_limit_headers`]: `RateLimit-Policy`, `RateLimit` and `Retry-After`.
//! - [`MoneyCaps`]: per tenant, currency and UTC day, the sum of card limits issued and recharges.
//!
//! The middleware (not here) runs the limiter before idempotency, so a 429 creates no record; when
//! both are on Redis, a state-changing request's charge runs inside the idempotency begin script
//! instead (one round trip, still before any record is written).

pub mod headers;
pub mod heavy;
pub mod local;
pub mod middleware;
pub mod money;
pub mod redis;

pub use money::{CapDecision, MoneyCaps, Reservation};

use std::{
    collections::BTreeMap,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use async_trait::async_trait;

pub use headers::rate_limit_headers;
pub use local::LocalLimiter;
pub use redis::RedisLimiter;

/// Where the limiter's classes have always been named; they belong to the route policy.
pub use crate::policy::RouteClass;

use crate::{
    config::{
        ConfigError,
        rate_limit::{LimiterBackend, Quota, RateLimitSettings},
    },
    storage::redis::RedisPool,
};

/// Charges `units` more requests of `class` to the tenant for work one request multiplies (platform
/// fan-out, re-deliveries), all or nothing: 429 with `detail` when the allowance cannot cover it.
/// Nothing to charge without a limiter (`rate_limit.enabled = false`) or for zero units.
pub async fn charge(
    limiter: Option<&dyn RateLimiter>,
    tenant: &str,
    class: RouteClass,
    units: usize,
    detail: impl FnOnce() -> String,
) -> Result<(), crate::error::ApiError> {
    let Some(limiter) = limiter else { return Ok(()) };
    let units = u32::try_from(units).unwrap_or(u32::MAX);
    if units == 0 {
        return Ok(());
    }
    let decision = limiter.check_n(tenant, class, units).await;
    if decision.allowed {
        return Ok(());
    }
    let mut e = headers::refusal(&decision);
    e.detail = detail();
    Err(e)
}

/// The outcome of one check.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    pub allowed: bool,
    /// The burst: requests admitted at once from idle.
    pub limit: u32,
    /// Requests that could still be admitted right now, after this one.
    pub remaining: u32,
    /// Until the bucket is full again (an upper bound, within one emission interval).
    pub reset_after: Duration,
    /// Set when denied: until the next request can be admitted.
    pub retry_after: Option<Duration>,
    /// The class name and its quota.
    pub policy: (&'static str, Quota),
}

#[async_trait]
pub trait RateLimiter: Send + Sync {
    /// Admits (and charges) `cost` requests at once, or none: a list page charges one read per
    /// platform call it fans out to. A cost above the burst is charged as the burst (a full bucket
    /// still admits it).
    async fn check_n(&self, tenant: &str, class: RouteClass, cost: u32) -> Decision;

    /// One request.
    async fn check(&self, tenant: &str, class: RouteClass) -> Decision {
        self.check_n(tenant, class, 1).await
    }

    /// One request's charge as a step another Redis script can run first (the idempotency begin), so
    /// both cost one round trip; `None` when this limiter cannot (in-process, or Redis bypassed).
    fn deferred(&self, _tenant: &str, _class: RouteClass) -> Option<redis::GcraCharge> {
        None
    }
}

/// App data: state-changing requests are charged by the idempotency store's begin, in the same Redis
/// round trip (both on Redis). The middleware then leaves a [`PendingCharge`] instead of charging.
#[derive(Debug, Clone, Copy)]
pub struct ChargeWithBegin(pub bool);

/// Request extension: this request's rate-limit charge is still due (see [`ChargeWithBegin`]).
#[derive(Debug, Clone, Copy)]
pub struct PendingCharge(pub RouteClass);

/// Validated quotas: class defaults and per-tenant overrides.
#[derive(Debug, Clone)]
pub struct Policies {
    classes: [Quota; 4],
    tenants: BTreeMap<String, [Option<Quota>; 4]>,
}

/// Largest rate accepted: beyond it the emission interval would drop under 1 µs (Redis script
/// resolution) and the limit would be meaningless anyway.
const MAX_RATE_PER_S: f64 = 1_000_000.0;

fn validate(what: &str, q: Quota) -> Result<Quota, ConfigError> {
    if !(q.rate_per_s.is_finite() && q.rate_per_s > 0.0 && q.rate_per_s <= MAX_RATE_PER_S) {
        return Err(ConfigError::Invalid(format!(
            "{what}.rate_per_s must be a number in (0, {MAX_RATE_PER_S}], got {}",
            q.rate_per_s
        )));
    }
    if q.burst == 0 {
        return Err(ConfigError::Invalid(format!("{what}.burst must be at least 1")));
    }
    Ok(q)
}

impl Policies {
    pub fn from_settings(settings: &RateLimitSettings) -> Result<Self, ConfigError> {
        let c = &settings.classes;
        let classes = [
            validate("rate_limit.classes.read", c.read)?,
            validate("rate_limit.classes.write", c.write)?,
            validate("rate_limit.classes.sensitive", c.sensitive)?,
            validate("rate_limit.classes.heavy", c.heavy)?,
        ];
        let mut tenants = BTreeMap::new();
        for (tenant, o) in &settings.tenants {
            let mut quotas = [None; 4];
            for (class, q) in RouteClass::ALL.into_iter().zip([o.read, o.write, o.sensitive, o.heavy]) {
                if let Some(q) = q {
                    quotas[class.index()] =
                        Some(validate(&format!("rate_limit.tenants.{tenant}.{}", class.as_str()), q)?);
                }
            }
            tenants.insert(tenant.clone(), quotas);
        }
        Ok(Self { classes, tenants })
    }

    /// The quota of `tenant` for `class`: its override, else the class default.
    pub fn quota(&self, tenant: &str, class: RouteClass) -> Quota {
        self.override_for(tenant, class).unwrap_or(self.classes[class.index()])
    }

    fn override_for(&self, tenant: &str, class: RouteClass) -> Option<Quota> {
        self.tenants.get(tenant).and_then(|q| q[class.index()])
    }

    fn overrides(&self) -> impl Iterator<Item = (&str, RouteClass, Quota)> {
        self.tenants.iter().flat_map(|(t, qs)| {
            RouteClass::ALL.into_iter().filter_map(move |c| qs[c.index()].map(|q| (t.as_str(), c, q)))
        })
    }
}

/// The emission interval of a validated quota: time between two admissions at the sustained rate.
pub(crate) fn emission_interval(q: Quota) -> Duration {
    Duration::from_secs_f64(1.0 / q.rate_per_s).max(Duration::from_nanos(1))
}

/// Lets one warning through per interval, counting the ones it held back, so an outage does not
/// turn into a log flood.
#[derive(Debug)]
pub(crate) struct LogThrottle {
    base: Instant,
    every_ms: u64,
    /// ms since `base` of the last warning let through, plus one (0 = never).
    last: AtomicU64,
    suppressed: AtomicU64,
}

impl LogThrottle {
    pub(crate) fn new(every: Duration) -> Self {
        Self {
            base: Instant::now(),
            every_ms: every.as_millis() as u64,
            last: AtomicU64::new(0),
            suppressed: AtomicU64::new(0),
        }
    }

    /// `Some(n)`: log now, `n` warnings were suppressed since the last one.
    pub(crate) fn allow(&self) -> Option<u64> {
        let now = self.base.elapsed().as_millis() as u64 + 1;
        let last = self.last.load(Ordering::Relaxed);
        if (last == 0 || now.saturating_sub(last) >= self.every_ms)
            && self.last.compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed).is_ok()
        {
            return Some(self.suppressed.swap(0, Ordering::Relaxed));
        }
        self.suppressed.fetch_add(1, Ordering::Relaxed);
        None
    }
}

/// The limiter `rate_limit.backend` selects; `None` when `rate_limit.enabled = false`. `pool` is
/// required for the `redis` backend.
pub fn limiter_from_settings(
    settings: &RateLimitSettings,
    pool: Option<&RedisPool>,
) -> Result<Option<Arc<dyn RateLimiter>>, ConfigError> {
    if !settings.enabled {
        return Ok(None);
    }
    Ok(Some(match settings.backend {
        LimiterBackend::Local => Arc::new(LocalLimiter::new(settings)?),
        LimiterBackend::Redis => match pool {
            Some(pool) => Arc::new(RedisLimiter::new(settings, pool.clone())?),
            None => return Err(ConfigError::Invalid("rate_limit.backend = \"redis\" needs redis.url".into())),
        },
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Settings, rate_limit::TenantOverride};

    pub(crate) fn settings(read: Quota, write: Quota) -> RateLimitSettings {
        let mut s = Settings::defaults().unwrap().rate_limit;
        s.classes.read = read;
        s.classes.write = write;
        s
    }

    #[test]
    fn quotas_resolve_overrides_then_class_defaults() {
        let mut s = Settings::defaults().unwrap().rate_limit;
        let big = Quota { rate_per_s: 100.0, burst: 200 };
        s.tenants.insert("big".into(), TenantOverride { write: Some(big), ..Default::default() });
        let p = Policies::from_settings(&s).unwrap();
        assert_eq!(p.quota("big", RouteClass::Write), big);
        assert_eq!(p.quota("big", RouteClass::Read), s.classes.read);
        assert_eq!(p.quota("small", RouteClass::Write), s.classes.write);
        assert_eq!(p.quota("small", RouteClass::Sensitive), s.classes.sensitive);
        assert_eq!(p.overrides().collect::<Vec<_>>(), vec![("big", RouteClass::Write, big)]);
        assert_eq!(RouteClass::ALL.map(RouteClass::as_str), ["read", "write", "sensitive", "heavy"]);
    }

    #[test]
    fn invalid_quotas_are_refused() {
        for bad in [
            Quota { rate_per_s: 0.0, burst: 1 },
            Quota { rate_per_s: -1.0, burst: 1 },
            Quota { rate_per_s: f64::NAN, burst: 1 },
            Quota { rate_per_s: f64::INFINITY, burst: 1 },
            Quota { rate_per_s: 1.0, burst: 0 },
        ] {
            let s = settings(bad, Quota { rate_per_s: 1.0, burst: 1 });
            let err = Policies::from_settings(&s).unwrap_err().to_string();
            assert!(err.contains("rate_limit.classes.read"), "{err}");
        }
    }

    #[test]
    fn disabled_means_no_limiter_and_redis_needs_a_pool() {
        let mut s = Settings::defaults().unwrap().rate_limit;
        assert!(limiter_from_settings(&s, None).unwrap().is_some());
        s.backend = LimiterBackend::Redis;
        assert!(limiter_from_settings(&s, None).is_err());
        s.enabled = false;
        assert!(limiter_from_settings(&s, None).unwrap().is_none());
    }

    #[test]
    fn log_throttle_lets_one_through_per_interval() {
        let t = LogThrottle::new(Duration::from_secs(60));
        assert_eq!(t.allow(), Some(0));
        assert_eq!(t.allow(), None);
        assert_eq!(t.allow(), None);
        assert_eq!(t.suppressed.load(Ordering::Relaxed), 2);
    }
}
