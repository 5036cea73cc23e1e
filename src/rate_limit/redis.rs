//! Redis limiter: GCRA in one Lua script on Redis' clock (`TIME`), so any number of gateway
//! replicas share one limit exactly.
//!
//! Key: `<prefix>:{t:<tenant>}:rl:<class>` (hash-tagged per tenant) holding the theoretical
//! arrival time (TAT) in Redis µs, expiring when the bucket is full again. The emission interval is
//! rounded *up* to whole µs, so rounding never admits more than the configured rate.
//!
//! When Redis fails (error or deadline), the request is decided by a [`LocalLimiter`] with the same
//! quotas instead — reads must keep working — and a warning is logged (at most one per 10 s). To
//! keep an outage from adding the Redis deadline to every request, Redis is then skipped for
//! `BREAKER_COOLDOWN` before it is tried again. During an outage each replica enforces the limit on
//! its own (so N replicas admit up to N× the shared limit).

use std::{
    sync::{
        LazyLock,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use async_trait::async_trait;
use redis::Script;

use super::{Decision, LogThrottle, Policies, RateLimiter, RouteClass, local::LocalLimiter};
use crate::{
    config::{
        ConfigError,
        rate_limit::{Quota, RateLimitSettings},
    },
    storage::{StoreError, redis::RedisPool},
};

/// `gcra(key, interval µs, burst, cost)`: one GCRA step on `key` (cost 1..=burst: that many requests
/// at once), on Redis' clock. Returns {allowed 0|1, remaining, retry_after µs, reset_after µs}. A Lua
/// function, so the idempotency store can run the same step first in its own script (one round trip
/// for the charge and the idempotency begin).
pub(crate) const GCRA_FN: &str = r"
local function gcra(key, interval, burst, cost)
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
  local tau = interval * (burst - 1)
  local stored = redis.call('GET', key)
  local tat = stored and tonumber(stored) or now
  if tat < now then tat = now end
  -- `cost` requests are `cost - 1` arrivals ahead of one: the last of them decides.
  tat = tat + interval * (cost - 1)
  local allow_at = tat - tau
  if now < allow_at then
    return {0, 0, allow_at - now, tat - now}
  end
  local new_tat = tat + interval
  redis.call('SET', key, string.format('%.0f', new_tat), 'PX', math.ceil((new_tat - now) / 1000) + 1)
  return {1, math.floor((now + tau - tat) / interval), 0, new_tat - now}
end
";

static GCRA_SCRIPT: LazyLock<Script> = LazyLock::new(|| {
    Script::new(&format!("{GCRA_FN}\nreturn gcra(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]))"))
});

/// A charge on a tenant's Redis bucket: the key and arguments of [`GCRA_FN`], and how to read its reply.
#[derive(Debug, Clone)]
pub struct GcraCharge {
    pub key: String,
    pub interval_us: u64,
    pub burst: u32,
    pub cost: u32,
    class: RouteClass,
    quota: Quota,
}

impl GcraCharge {
    /// The decision of a `gcra` reply `{allowed, remaining, retry_after µs, reset_after µs}`.
    pub fn decision(&self, reply: &[i64]) -> Result<Decision, StoreError> {
        let [allowed, remaining, retry_us, reset_us] = reply[..] else {
            return Err(StoreError::Corrupt(format!("rate limit script replied {reply:?}")));
        };
        let us = |v: i64| Duration::from_micros(u64::try_from(v).unwrap_or(0));
        Ok(Decision {
            allowed: allowed == 1,
            limit: self.burst,
            remaining: u32::try_from(remaining).unwrap_or(0).min(self.burst.saturating_sub(1)),
            reset_after: us(reset_us),
            retry_after: (allowed != 1).then(|| us(retry_us)),
            policy: (self.class.as_str(), self.quota),
        })
    }
}

/// How long Redis is bypassed after a failure.
pub const BREAKER_COOLDOWN: Duration = Duration::from_secs(1);

#[derive(Debug)]
pub struct RedisLimiter {
    pool: RedisPool,
    policies: Policies,
    fallback: LocalLimiter,
    log: LogThrottle,
    base: Instant,
    /// ms since `base` until which Redis is bypassed.
    bypass_until: AtomicU64,
}

fn interval_us(q: Quota) -> u64 {
    ((1_000_000.0 / q.rate_per_s).ceil() as u64).max(1)
}

impl RedisLimiter {
    pub fn new(settings: &RateLimitSettings, pool: RedisPool) -> Result<Self, ConfigError> {
        Ok(Self {
            pool,
            policies: Policies::from_settings(settings)?,
            fallback: LocalLimiter::new(settings)?,
            log: LogThrottle::new(Duration::from_secs(10)),
            base: Instant::now(),
            bypass_until: AtomicU64::new(0),
        })
    }

    /// The decision from Redis alone (no fallback).
    pub async fn check_redis(&self, tenant: &str, class: RouteClass) -> Result<Decision, StoreError> {
        self.check_redis_n(tenant, class, 1).await
    }

    /// The charge of `cost` requests of `class` for `tenant` (cost capped at the burst).
    fn charge(&self, tenant: &str, class: RouteClass, cost: u32) -> GcraCharge {
        let quota = self.policies.quota(tenant, class);
        GcraCharge {
            key: self.pool.tenant_key(tenant, &["rl", class.as_str()]),
            interval_us: interval_us(quota),
            burst: quota.burst,
            cost: cost.clamp(1, quota.burst.max(1)),
            class,
            quota,
        }
    }

    async fn check_redis_n(&self, tenant: &str, class: RouteClass, cost: u32) -> Result<Decision, StoreError> {
        let charge = self.charge(tenant, class, cost);
        let (key, interval, burst, cost) = (charge.key.clone(), charge.interval_us, charge.burst, charge.cost);
        let reply: Vec<i64> = self
            .pool
            .run(|mut conn| async move {
                GCRA_SCRIPT.key(key).arg(interval).arg(burst).arg(cost).invoke_async(&mut conn).await
            })
            .await?;
        charge.decision(&reply)
    }

    fn now_ms(&self) -> u64 {
        self.base.elapsed().as_millis() as u64
    }
}

#[async_trait]
impl RateLimiter for RedisLimiter {
    async fn check_n(&self, tenant: &str, class: RouteClass, cost: u32) -> Decision {
        if self.now_ms() >= self.bypass_until.load(Ordering::Relaxed) {
            match self.check_redis_n(tenant, class, cost).await {
                Ok(d) => return d,
                Err(error) => {
                    self.bypass_until.store(self.now_ms() + BREAKER_COOLDOWN.as_millis() as u64, Ordering::Relaxed);
                    if let Some(suppressed) = self.log.allow() {
                        tracing::warn!(%error, suppressed, "Redis rate limiter unavailable: limiting in-process");
                    }
                }
            }
        }
        self.fallback.check_n_now(tenant, class, cost)
    }

    fn deferred(&self, tenant: &str, class: RouteClass) -> Option<GcraCharge> {
        // While Redis is bypassed, the caller charges now (in-process fallback).
        (self.now_ms() >= self.bypass_until.load(Ordering::Relaxed)).then(|| self.charge(tenant, class, 1))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::{
        config::Settings,
        testing::redis_server::{RedisCluster, RedisServer},
    };

    const DEADLINE: Duration = Duration::from_millis(200);

    fn settings(q: Quota) -> RateLimitSettings {
        let mut s = Settings::defaults().unwrap().rate_limit;
        s.classes.read = q;
        s.classes.write = q;
        s
    }

    fn limiter(server: &RedisServer, q: Quota) -> RedisLimiter {
        // A pool per limiter: each stands for one gateway replica.
        let pool = RedisPool::connect(&server.url(), 4, DEADLINE, "test").unwrap();
        RedisLimiter::new(&settings(q), pool).unwrap()
    }

    #[tokio::test]
    async fn a_charge_of_n_takes_n_requests_at_once_or_none_and_is_capped_at_the_burst() {
        let Some(server) = RedisServer::start() else { return };
        let l = limiter(&server, Quota { rate_per_s: 0.2, burst: 10 });
        let d = l.check_n("acme", RouteClass::Read, 7).await;
        assert!(d.allowed, "{d:?}");
        assert_eq!(d.remaining, 3);
        assert!(!l.check_n("acme", RouteClass::Read, 4).await.allowed, "4 do not fit in the 3 left");
        assert!(l.check_n("acme", RouteClass::Read, 3).await.allowed, "a refused charge took nothing");
        assert!(!l.check("acme", RouteClass::Read).await.allowed);
        // Another tenant, full: a charge above the burst is charged as the burst.
        assert!(l.check_n("other", RouteClass::Read, 1000).await.allowed);
        assert!(!l.check("other", RouteClass::Read).await.allowed);
    }

    #[test]
    fn interval_rounds_up_to_whole_microseconds() {
        assert_eq!(interval_us(Quota { rate_per_s: 20.0, burst: 1 }), 50_000);
        assert_eq!(interval_us(Quota { rate_per_s: 3.0, burst: 1 }), 333_334);
        assert_eq!(interval_us(Quota { rate_per_s: 1_000_000.0, burst: 1 }), 1);
    }

    const BUCKET: Quota = Quota { rate_per_s: 10.0, burst: 3 };

    #[tokio::test]
    async fn decisions_follow_the_bucket() {
        let Some(server) = RedisServer::start() else { return };
        bucket_decisions(&limiter(&server, BUCKET)).await;
    }

    #[tokio::test]
    async fn decisions_follow_the_bucket_on_a_redis_cluster() {
        let Some(cluster) = RedisCluster::start() else { return };
        bucket_decisions(&RedisLimiter::new(&settings(BUCKET), cluster.pool("test")).unwrap()).await;
    }

    #[tokio::test]
    async fn decisions_follow_the_bucket_over_tls() {
        let Some(server) = RedisServer::start_tls() else { return };
        bucket_decisions(&RedisLimiter::new(&settings(BUCKET), server.pool("test")).unwrap()).await;
    }

    async fn bucket_decisions(l: &RedisLimiter) {
        let d = l.check_redis("acme", RouteClass::Write).await.unwrap();
        assert!(d.allowed);
        assert_eq!((d.limit, d.remaining, d.retry_after), (3, 2, None));
        assert!(d.reset_after <= Duration::from_millis(100) && d.reset_after > Duration::from_millis(50));
        assert!(l.check_redis("acme", RouteClass::Write).await.unwrap().allowed);
        assert!(l.check_redis("acme", RouteClass::Write).await.unwrap().allowed);
        let d = l.check_redis("acme", RouteClass::Write).await.unwrap();
        assert!(!d.allowed);
        assert_eq!(d.remaining, 0);
        let retry = d.retry_after.unwrap();
        assert!(retry > Duration::ZERO && retry <= Duration::from_millis(100), "{retry:?}");
        assert!(d.reset_after <= Duration::from_millis(300) && d.reset_after > Duration::from_millis(200));
        // Tenants and classes are independent buckets.
        assert!(l.check_redis("acme", RouteClass::Read).await.unwrap().allowed);
        assert!(l.check_redis("other", RouteClass::Write).await.unwrap().allowed);
        tokio::time::sleep(retry + Duration::from_millis(5)).await;
        assert!(l.check_redis("acme", RouteClass::Write).await.unwrap().allowed);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn three_replicas_share_one_limit() {
        let Some(server) = RedisServer::start() else { return };
        let q = Quota { rate_per_s: 20.0, burst: 10 };
        let replicas: Vec<_> = (0..3).map(|_| Arc::new(limiter(&server, q))).collect();
        // Warm the connections and load the script so setup time is not counted.
        for r in &replicas {
            r.check_redis("warmup", RouteClass::Read).await.unwrap();
        }
        let started = Instant::now();
        let run_for = Duration::from_secs(2);
        let tasks: Vec<_> = replicas
            .iter()
            .map(|r| {
                let r = Arc::clone(r);
                tokio::spawn(async move {
                    let mut admitted = 0u64;
                    while started.elapsed() < run_for {
                        admitted += u64::from(r.check_redis("acme", RouteClass::Write).await.unwrap().allowed);
                        tokio::time::sleep(Duration::from_millis(3)).await;
                    }
                    admitted
                })
            })
            .collect();
        let mut admitted = 0;
        for t in tasks {
            admitted += t.await.unwrap();
        }
        let elapsed = started.elapsed().as_secs_f64();
        let bound = f64::from(q.burst) + q.rate_per_s * elapsed;
        eprintln!("admitted {admitted} in {elapsed:.3} s, bound {bound:.1}");
        assert!((admitted as f64) <= bound * 1.01, "admitted {admitted} > {bound:.1} (+1%)");
        // Sanity only: a limiter that admitted nothing after the burst would be broken.
        assert!((admitted as f64) >= 0.5 * bound, "admitted {admitted}, bound {bound:.1}");
    }

    #[tokio::test]
    async fn falls_back_to_local_limits_while_redis_is_down() {
        let Some(mut server) = RedisServer::start() else { return };
        // Slow refill (5 s a request), so the sleeps below do not refill buckets.
        let q = Quota { rate_per_s: 0.2, burst: 2 };
        let l = limiter(&server, q);
        let other_replica = limiter(&server, q);
        assert!(l.check("acme", RouteClass::Read).await.allowed);
        server.pause();
        let started = Instant::now();
        // Local fallback: its own fresh bucket, so two admitted, then denied.
        assert!(l.check("acme", RouteClass::Read).await.allowed);
        assert!(started.elapsed() < DEADLINE * 3, "sanity bound: {:?}", started.elapsed());
        let quick = Instant::now();
        assert!(l.check("acme", RouteClass::Read).await.allowed);
        assert!(quick.elapsed() < DEADLINE, "the breaker should skip Redis: {:?}", quick.elapsed());
        assert!(!l.check("acme", RouteClass::Read).await.allowed);
        server.resume();
        server.kill();
        tokio::time::sleep(BREAKER_COOLDOWN).await;
        assert!(l.check_redis("acme", RouteClass::Read).await.is_err());
        // Killed: the fallback still answers.
        let d = l.check("acme", RouteClass::Read).await;
        assert_eq!(d.policy, ("read", q));
        server.restart();
        tokio::time::sleep(BREAKER_COOLDOWN).await;
        // Back on Redis (a fresh, empty one): another replica's use is visible to this one.
        let mut ok = false;
        for _ in 0..50 {
            if other_replica.check_redis("acme", RouteClass::Write).await.is_ok() {
                ok = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(ok, "Redis did not come back");
        assert!(other_replica.check_redis("acme", RouteClass::Write).await.unwrap().allowed);
        assert!(!l.check("acme", RouteClass::Write).await.allowed, "shared bucket exhausted by the other replica");
    }
}
