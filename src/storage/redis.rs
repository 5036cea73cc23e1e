//! A deadpool-redis pool whose every operation runs under the configured deadline, and the key
//! scheme: `<prefix>:{t:<tenant>}:<kind>:...` so one tenant's keys share a Redis Cluster slot.

use std::{future::Future, sync::Arc, time::Duration};

use deadpool_redis::{Config, Connection, Pool, PoolConfig, Runtime, Timeouts};

use super::StoreError;
use crate::{config::stores::RedisSettings, sensitive::Reveal};

#[derive(Clone)]
pub struct RedisPool {
    pool: Pool,
    timeout: Duration,
    prefix: Arc<str>,
}

impl std::fmt::Debug for RedisPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisPool").field("prefix", &self.prefix).field("timeout", &self.timeout).finish()
    }
}

impl RedisPool {
    pub fn new(settings: &RedisSettings) -> Result<Self, StoreError> {
        Self::connect(
            settings.url.expose(),
            settings.pool_size,
            Duration::from_millis(settings.timeout_ms),
            &settings.key_prefix,
        )
    }

    /// Builds the pool (no connection is made until first use).
    pub fn connect(url: &str, pool_size: usize, timeout: Duration, prefix: &str) -> Result<Self, StoreError> {
        let mut cfg = Config::from_url(url);
        cfg.pool = Some(PoolConfig {
            max_size: pool_size.max(1),
            timeouts: Timeouts { wait: Some(timeout), create: Some(timeout), recycle: Some(timeout) },
            ..PoolConfig::default()
        });
        let pool = cfg.create_pool(Some(Runtime::Tokio1)).map_err(|e| StoreError::Unavailable(e.to_string()))?;
        Ok(Self { pool, timeout, prefix: prefix.into() })
    }

    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// `<prefix>:{t:<tenant>}:<parts...>` — the braces are a Redis Cluster hash tag.
    pub fn tenant_key(&self, tenant: &str, parts: &[&str]) -> String {
        let mut k = format!("{}:{{t:{}}}", self.prefix, tenant);
        for p in parts {
            k.push(':');
            k.push_str(p);
        }
        k
    }

    /// `<prefix>:<parts...>` for keys that belong to no tenant.
    pub fn global_key(&self, parts: &[&str]) -> String {
        let mut k = self.prefix.to_string();
        for p in parts {
            k.push(':');
            k.push_str(p);
        }
        k
    }

    /// Runs `f` on a pooled connection; the whole operation (checkout included) is bounded by the
    /// configured deadline, so a stalled Redis costs at most that long.
    pub async fn run<T, F, Fut>(&self, f: F) -> Result<T, StoreError>
    where
        F: FnOnce(Connection) -> Fut,
        Fut: Future<Output = redis::RedisResult<T>>,
    {
        let work = async {
            let conn = self.pool.get().await.map_err(|e| StoreError::Unavailable(e.to_string()))?;
            f(conn).await.map_err(|e| StoreError::Unavailable(e.to_string()))
        };
        tokio::time::timeout(self.timeout, work).await.map_err(|_| StoreError::Timeout)?
    }

    /// One page of a sorted set used as a lexicographic index (all scores equal), newest (greatest)
    /// member first, strictly before `before`. Returns the members and, when more may follow, the
    /// position to continue from.
    pub async fn lex_page_rev(
        &self,
        key: &str,
        before: Option<&str>,
        limit: usize,
    ) -> Result<(Vec<String>, Option<String>), StoreError> {
        let max = before.map_or_else(|| "+".to_owned(), |b| format!("({b}"));
        let key = key.to_owned();
        let n = limit + 1;
        let mut members: Vec<String> = self
            .run(|mut c| async move {
                redis::cmd("ZRANGE")
                    .arg(&key)
                    .arg(&max)
                    .arg("-")
                    .arg("BYLEX")
                    .arg("REV")
                    .arg("LIMIT")
                    .arg(0)
                    .arg(n)
                    .query_async(&mut c)
                    .await
            })
            .await?;
        let more = members.len() > limit;
        members.truncate(limit);
        let next = if more { members.last().cloned() } else { None };
        Ok((members, next))
    }

    pub async fn ping(&self) -> Result<(), StoreError> {
        self.run(|mut c| async move { redis::cmd("PING").query_async::<String>(&mut c).await }).await.map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::redis_server::RedisServer;

    #[tokio::test]
    async fn a_paused_redis_fails_within_the_deadline_and_recovers() {
        let Some(server) = RedisServer::start() else { return };
        let pool = RedisPool::connect(&server.url(), 4, Duration::from_millis(200), "t").unwrap();
        pool.ping().await.unwrap();
        server.pause();
        let started = std::time::Instant::now();
        assert_eq!(pool.ping().await, Err(StoreError::Timeout));
        assert!(started.elapsed() < Duration::from_millis(1000));
        server.resume();
        let mut ok = false;
        for _ in 0..20 {
            if pool.ping().await.is_ok() {
                ok = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(ok, "pool did not recover after resume");
        assert_eq!(pool.tenant_key("acme", &["idem", "k1"]), "t:{t:acme}:idem:k1");
    }
}
