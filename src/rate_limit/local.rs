//! In-process limiter: governor's GCRA, one keyed limiter per quota (the three class defaults,
//! plus one per tenant override), keyed by tenant.
//!
//! Keyed state is bounded by `rate_limit.max_tracked_keys`, with governor's own housekeeping plus
//! a hard cap, through a state store of ours (governor's documented extension point):
//! - every 4096 checks, and as soon as the cap is reached (then at most every 256 checks),
//!   `retain_recent` drops every key whose bucket is full again — lossless, such a key is
//!   indistinguishable from a new one;
//! - if the cap is still reached, a tenant not yet tracked is limited through one shared
//!   *overflow* bucket per quota instead of getting its own. That fails safe: those tenants share
//!   one tenant's allowance (never more than their own), and the memory stays bounded. A warning
//!   is logged (at most once a minute).

use std::{
    collections::HashMap,
    num::NonZeroU32,
    sync::{
        Arc,
        atomic::{AtomicU64, AtomicUsize, Ordering},
    },
    time::Duration,
};

use async_trait::async_trait;
use governor::{
    clock::{Clock, DefaultClock, Reference},
    middleware::StateInformationMiddleware,
    nanos::Nanos,
    state::{StateStore, keyed::ShrinkableKeyedStateStore},
};
use parking_lot::Mutex;

use super::{Decision, LogThrottle, Policies, RateLimiter, RouteClass, emission_interval};
use crate::config::{
    ConfigError,
    rate_limit::{Quota, RateLimitSettings},
};

/// The overflow bucket's key: no tenant id can be empty.
const OVERFLOW: &str = "";
const SWEEP_EVERY_OPS: u64 = 4096;
const SWEEP_AT_CAP_EVERY_OPS: u64 = 256;

/// Governor state store: tenant → theoretical arrival time, with the shared hard cap.
#[derive(Debug)]
struct BoundedStore {
    map: Mutex<HashMap<String, u64>>,
    tracked: Arc<AtomicUsize>,
    cap: usize,
    overflow_log: LogThrottle,
}

impl StateStore for BoundedStore {
    type Key = String;

    fn measure_and_replace<T, F, E>(&self, key: &String, f: F) -> Result<T, E>
    where
        F: Fn(Option<Nanos>) -> Result<(T, Nanos), E>,
    {
        let mut map = self.map.lock();
        if let Some(tat) = map.get_mut(key) {
            let (out, next) = f(Some(Nanos::new(*tat)))?;
            *tat = next.as_u64();
            return Ok(out);
        }
        // Increment only below the cap (compare-and-swap), so the shared counter never overshoots,
        // not even transiently, across all stores sharing it.
        let counted =
            self.tracked.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| (n < self.cap).then_some(n + 1)).is_ok();
        let slot = if counted {
            key.clone()
        } else {
            if let Some(suppressed) = self.overflow_log.allow() {
                tracing::warn!(
                    cap = self.cap,
                    suppressed,
                    "rate limiter tracks rate_limit.max_tracked_keys keys: new tenants share an overflow bucket"
                );
            }
            OVERFLOW.to_owned()
        };
        match f(map.get(&slot).map(|t| Nanos::new(*t))) {
            Ok((out, next)) => {
                map.insert(slot, next.as_u64());
                Ok(out)
            }
            Err(e) => {
                if counted {
                    self.tracked.fetch_sub(1, Ordering::SeqCst);
                }
                Err(e)
            }
        }
    }
}

impl ShrinkableKeyedStateStore<String> for BoundedStore {
    fn retain_recent(&self, drop_below: Nanos) {
        let drop_below = drop_below.as_u64();
        let mut removed = 0;
        self.map.lock().retain(|k, tat| {
            let keep = *tat > drop_below;
            if !keep && k != OVERFLOW {
                removed += 1;
            }
            keep
        });
        self.tracked.fetch_sub(removed, Ordering::SeqCst);
    }

    fn shrink_to_fit(&self) {
        let mut map = self.map.lock();
        if map.capacity() > 2 * map.len() + 64 {
            map.shrink_to_fit();
        }
    }

    fn len(&self) -> usize {
        self.map.lock().len()
    }

    fn is_empty(&self) -> bool {
        self.map.lock().is_empty()
    }
}

type Gcra<C> = governor::RateLimiter<String, BoundedStore, C, StateInformationMiddleware>;

#[derive(Debug)]
struct Keyed<C: Clock> {
    limiter: Gcra<C>,
    name: &'static str,
    quota: Quota,
    interval: Duration,
}

impl<C: Clock> Keyed<C> {
    fn new(
        class: RouteClass,
        quota: Quota,
        clock: C,
        tracked: &Arc<AtomicUsize>,
        cap: usize,
    ) -> Result<Self, ConfigError> {
        let interval = emission_interval(quota);
        let burst = NonZeroU32::new(quota.burst)
            .ok_or_else(|| ConfigError::Invalid(format!("{} burst must be at least 1", class.as_str())))?;
        let gov = governor::Quota::with_period(interval)
            .ok_or_else(|| ConfigError::Invalid(format!("{} rate is out of range", class.as_str())))?
            .allow_burst(burst);
        let store = BoundedStore {
            map: Mutex::new(HashMap::new()),
            tracked: Arc::clone(tracked),
            cap,
            overflow_log: LogThrottle::new(Duration::from_secs(60)),
        };
        let limiter = Gcra::<C>::new(gov, store, clock);
        Ok(Self { limiter, name: class.as_str(), quota, interval })
    }

    fn check(&self, tenant: &str, cost: u32) -> Decision {
        let burst = self.quota.burst;
        let policy = (self.name, self.quota);
        let cost = NonZeroU32::new(cost.clamp(1, burst.max(1))).unwrap_or(NonZeroU32::MIN);
        match self.limiter.check_key_n(&tenant.to_owned(), cost) {
            // The cost is at most the burst, so governor never answers "insufficient capacity"; if
            // it did, the request is refused like any other over the limit.
            Err(_) => Decision {
                allowed: false,
                limit: burst,
                remaining: 0,
                reset_after: self.interval * burst,
                retry_after: Some(self.interval * burst),
                policy,
            },
            Ok(Ok(snapshot)) => {
                let remaining = snapshot.remaining_burst_capacity().min(burst.saturating_sub(1));
                Decision {
                    allowed: true,
                    limit: burst,
                    remaining,
                    // governor does not expose the arrival time itself; from the remaining whole
                    // cells this is exact to within one emission interval, and never short.
                    reset_after: self.interval * (burst - remaining),
                    retry_after: None,
                    policy,
                }
            }
            Ok(Err(not_until)) => {
                let wait = not_until.wait_time_from(self.limiter.clock().now());
                Decision {
                    allowed: false,
                    limit: burst,
                    remaining: 0,
                    reset_after: wait + self.interval * (burst - 1),
                    retry_after: Some(wait),
                    policy,
                }
            }
        }
    }

    fn sweep(&self) {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
    }
}

/// governor GCRA per (tenant, class), in this process.
#[derive(Debug)]
pub struct LocalLimiter<C: Clock = DefaultClock> {
    defaults: [Keyed<C>; 4],
    overrides: HashMap<String, [Option<Keyed<C>>; 4]>,
    tracked: Arc<AtomicUsize>,
    cap: usize,
    ops: AtomicU64,
    last_cap_sweep: AtomicU64,
}

impl LocalLimiter<DefaultClock> {
    pub fn new(settings: &RateLimitSettings) -> Result<Self, ConfigError> {
        Self::with_clock(settings, DefaultClock::default())
    }
}

impl<C> LocalLimiter<C>
where
    C: Clock + Clone,
    C::Instant: Reference,
{
    /// With a clock of the caller's choosing (tests use `governor::clock::FakeRelativeClock`).
    pub fn with_clock(settings: &RateLimitSettings, clock: C) -> Result<Self, ConfigError> {
        let policies = Policies::from_settings(settings)?;
        let tracked = Arc::new(AtomicUsize::new(0));
        let cap = settings.max_tracked_keys.max(1);
        let keyed = |class: RouteClass, quota: Quota| Keyed::new(class, quota, clock.clone(), &tracked, cap);
        let defaults = [
            keyed(RouteClass::Read, policies.classes[0])?,
            keyed(RouteClass::Write, policies.classes[1])?,
            keyed(RouteClass::Sensitive, policies.classes[2])?,
            keyed(RouteClass::Heavy, policies.classes[3])?,
        ];
        let mut overrides: HashMap<String, [Option<Keyed<C>>; 4]> = HashMap::new();
        for (tenant, class, quota) in policies.overrides() {
            overrides.entry(tenant.to_owned()).or_insert_with(|| [None, None, None, None])[class as usize] =
                Some(keyed(class, quota)?);
        }
        Ok(Self { defaults, overrides, tracked, cap, ops: AtomicU64::new(0), last_cap_sweep: AtomicU64::new(0) })
    }

    /// The decision for one request of `tenant` on a `class` route (synchronous: no I/O).
    pub fn check_now(&self, tenant: &str, class: RouteClass) -> Decision {
        self.check_n_now(tenant, class, 1)
    }

    /// The decision for `cost` requests at once.
    pub fn check_n_now(&self, tenant: &str, class: RouteClass, cost: u32) -> Decision {
        self.housekeeping();
        let i = class as usize;
        let keyed = self.overrides.get(tenant).and_then(|o| o[i].as_ref()).unwrap_or(&self.defaults[i]);
        keyed.check(tenant, cost)
    }

    /// Keys currently tracked (the overflow buckets excluded).
    pub fn tracked_keys(&self) -> usize {
        self.tracked.load(Ordering::SeqCst)
    }

    /// Drops every key whose bucket is full again (also done periodically by `check`).
    pub fn sweep(&self) {
        self.defaults.iter().chain(self.overrides.values().flatten().flatten()).for_each(Keyed::sweep);
    }

    fn housekeeping(&self) {
        let n = self.ops.fetch_add(1, Ordering::Relaxed) + 1;
        if n.is_multiple_of(SWEEP_EVERY_OPS) {
            self.sweep();
        } else if self.tracked_keys() >= self.cap {
            let last = self.last_cap_sweep.load(Ordering::Relaxed);
            if (last == 0 || n - last >= SWEEP_AT_CAP_EVERY_OPS)
                && self.last_cap_sweep.compare_exchange(last, n, Ordering::Relaxed, Ordering::Relaxed).is_ok()
            {
                self.sweep();
            }
        }
    }
}

#[async_trait]
impl<C> RateLimiter for LocalLimiter<C>
where
    C: Clock + Clone + Send + Sync + 'static,
    C::Instant: Reference,
{
    async fn check_n(&self, tenant: &str, class: RouteClass, cost: u32) -> Decision {
        self.check_n_now(tenant, class, cost)
    }
}

#[cfg(test)]
mod tests;
