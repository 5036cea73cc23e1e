//! The Redis client every store shares, whatever the deployment: one Redis (`redis://`, or `rediss://`
//! with an optional CA bundle and client certificate) or the master a set of Redis Sentinels names
//! (found again after a failover), through a few shared multiplexed connections; a Redis Cluster
//! through redis-rs' multiplexed cluster connection. Every operation runs under the configured
//! deadline. Key scheme: `<prefix>:{t:<tenant>}:<kind>:...`, so one tenant's keys — and so every
//! script's keys — share a cluster slot.

mod conn;
mod multiplexed;
mod tls;
#[cfg(test)]
mod topology_tests;

use std::{future::Future, sync::Arc, time::Duration};

pub use conn::{RedisConn, round_trips};
use redis::{
    TlsCertificates,
    cluster::{ClusterClient, ClusterClientBuilder},
    cluster_async::ClusterConnection,
};
use tokio::sync::OnceCell;

use super::StoreError;
use crate::{
    config::stores::{RedisMode, RedisSettings},
    sensitive::Reveal,
};

#[derive(Clone)]
pub struct RedisPool {
    backend: Backend,
    timeout: Duration,
    prefix: Arc<str>,
}

#[derive(Clone)]
enum Backend {
    /// One Redis, directly or through Sentinel.
    Multiplexed(Arc<multiplexed::Multiplexed>),
    Cluster(Arc<Cluster>),
}

/// The cluster connection is made on first use (like the pool's), and again after a failed attempt.
struct Cluster {
    client: ClusterClient,
    conn: OnceCell<ClusterConnection>,
}

impl std::fmt::Debug for RedisPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mode = match self.backend {
            Backend::Multiplexed(_) => "multiplexed",
            Backend::Cluster(_) => "cluster",
        };
        f.debug_struct("RedisPool")
            .field("mode", &mode)
            .field("prefix", &self.prefix)
            .field("timeout", &self.timeout)
            .finish()
    }
}

fn unavailable(e: impl std::fmt::Display) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

/// A command that ran out of time is a timeout whoever noticed first: our deadline or the client's.
fn failed(e: redis::RedisError) -> StoreError {
    if e.is_timeout() { StoreError::Timeout } else { unavailable(e) }
}

impl RedisPool {
    /// Builds the client from `[redis]` (no connection is made until first use). Fails on an
    /// unreadable certificate file, a certificate without a `rediss://` URL, or an unparsable URL.
    pub fn new(settings: &RedisSettings) -> Result<Self, StoreError> {
        let timeout = Duration::from_millis(settings.timeout_ms);
        let urls: Vec<&str> = settings.url.expose().split(',').map(str::trim).filter(|u| !u.is_empty()).collect();
        if urls.is_empty() {
            return Err(unavailable("redis.url is empty"));
        }
        let certs = tls::certificates(settings).map_err(StoreError::Unavailable)?;
        if certs.is_some() && !urls.iter().all(|u| u.starts_with("rediss://")) {
            return Err(unavailable("redis.tls_* files need rediss:// URLs"));
        }
        if urls.iter().any(|u| u.starts_with("rediss://")) {
            tls::install_crypto_provider();
        }
        let backend = match settings.mode {
            RedisMode::Standalone => {
                let [url] = urls[..] else {
                    return Err(unavailable("redis.url lists several nodes: set redis.mode = \"cluster\""));
                };
                direct(url, certs, settings.connections, timeout)?
            }
            RedisMode::Cluster => {
                let mut builder = ClusterClientBuilder::new(urls).connection_timeout(timeout).response_timeout(timeout);
                if let Some(certs) = certs {
                    builder = builder.certs(certs);
                }
                let client = builder.build().map_err(unavailable)?;
                Backend::Cluster(Arc::new(Cluster { client, conn: OnceCell::new() }))
            }
            RedisMode::Sentinel => {
                if settings.sentinel_master.trim().is_empty() {
                    return Err(unavailable("redis.mode = \"sentinel\" needs redis.sentinel_master"));
                }
                let connector = multiplexed::Connector::sentinel(&urls, settings.sentinel_master.trim(), certs)
                    .map_err(unavailable)?;
                Backend::Multiplexed(Arc::new(multiplexed::Multiplexed::new(connector, settings.connections, timeout)))
            }
        };
        Ok(Self { backend, timeout, prefix: settings.key_prefix.as_str().into() })
    }

    /// A client of one Redis from a URL (tests and tools).
    pub fn connect(url: &str, connections: usize, timeout: Duration, prefix: &str) -> Result<Self, StoreError> {
        Ok(Self { backend: direct(url, None, connections, timeout)?, timeout, prefix: prefix.into() })
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

    /// Runs `f` on a shared connection; the whole operation (connecting included) is bounded by the
    /// configured deadline, so a stalled Redis costs at most that long.
    pub async fn run<T, F, Fut>(&self, f: F) -> Result<T, StoreError>
    where
        F: FnOnce(RedisConn) -> Fut,
        Fut: Future<Output = redis::RedisResult<T>>,
    {
        match &self.backend {
            Backend::Multiplexed(m) => {
                let work = async {
                    let conn = m.connection().await.map_err(|e| {
                        m.saw(&e);
                        failed(e)
                    })?;
                    f(RedisConn::Multiplexed(conn)).await.map_err(|e| {
                        m.saw(&e);
                        failed(e)
                    })
                };
                tokio::time::timeout(self.timeout, work).await.unwrap_or_else(|_| {
                    // Replies on this connection may be stuck behind a stalled server: make a new one.
                    m.forget();
                    Err(StoreError::Timeout)
                })
            }
            Backend::Cluster(cluster) => {
                let work = async {
                    let conn = cluster
                        .conn
                        .get_or_try_init(|| cluster.client.get_async_connection())
                        .await
                        .map_err(failed)?
                        .clone();
                    f(RedisConn::Cluster(conn)).await.map_err(failed)
                };
                tokio::time::timeout(self.timeout, work).await.map_err(|_| StoreError::Timeout)?
            }
        }
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

    /// On a cluster, PING goes to every master: ready means every slot is reachable.
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.run(|mut c| async move { redis::cmd("PING").query_async::<String>(&mut c).await }).await.map(|_| ())
    }
}

fn direct(
    url: &str,
    certs: Option<TlsCertificates>,
    connections: usize,
    timeout: Duration,
) -> Result<Backend, StoreError> {
    // The client carries the TLS parameters (CA, client certificate) into every new connection.
    let client = match certs {
        Some(certs) => redis::Client::build_with_tls(url, certs),
        None => redis::Client::open(url),
    }
    .map_err(unavailable)?;
    let connector = multiplexed::Connector::Direct(client);
    Ok(Backend::Multiplexed(Arc::new(multiplexed::Multiplexed::new(connector, connections, timeout))))
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
