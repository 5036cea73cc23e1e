//! Multiplexed connections for one Redis (plain, TLS, or the master Redis Sentinel names): every
//! store's commands share a few connections, pipelined, so a command costs one round trip — a pool
//! checkout would add its own (deadpool's recycle sends `UNWATCH` + `PING` before every command).
//! A connection that breaks, times out, or reaches a node that has become a read-only replica is
//! dropped and made again on next use (for Sentinel: after asking the sentinels for the master).
//! No store uses `WATCH` or blocking commands, which a shared connection could not carry.

use std::{
    sync::atomic::{AtomicUsize, Ordering},
    time::Duration,
};

use parking_lot::RwLock;
use redis::{
    AsyncConnectionConfig, ConnectionAddr, ErrorKind, RedisError, TlsCertificates, TlsMode,
    aio::MultiplexedConnection,
    sentinel::{SentinelClient, SentinelClientBuilder, SentinelServerType},
};
use tokio::sync::Mutex;

/// Where a new connection comes from.
pub enum Connector {
    Direct(redis::Client),
    Sentinel(SentinelClient),
}

impl Connector {
    /// `urls`: the sentinels (`redis://host:26379`, or `rediss://` for TLS to sentinels and nodes).
    pub fn sentinel(urls: &[&str], master: &str, certs: Option<TlsCertificates>) -> Result<Self, String> {
        let tls = urls.iter().any(|u| u.starts_with("rediss://"));
        let addrs = urls
            .iter()
            .map(|u| {
                let info = redis::IntoConnectionInfo::into_connection_info(*u).map_err(|e| e.to_string())?;
                Ok(info.addr)
            })
            .collect::<Result<Vec<ConnectionAddr>, String>>()?;
        let mut builder = SentinelClientBuilder::new(addrs, master.to_owned(), SentinelServerType::Master)
            .map_err(|e| e.to_string())?;
        if tls {
            builder =
                builder.set_client_to_redis_tls_mode(TlsMode::Secure).set_client_to_sentinel_tls_mode(TlsMode::Secure);
            if let Some(certs) = certs {
                builder =
                    builder.set_client_to_redis_certificates(certs.clone()).set_client_to_sentinel_certificates(certs);
            }
        }
        builder.build().map(Self::Sentinel).map_err(|e| e.to_string())
    }

    async fn connect(&mut self, config: &AsyncConnectionConfig) -> Result<MultiplexedConnection, RedisError> {
        match self {
            Self::Direct(client) => client.get_multiplexed_async_connection_with_config(config).await,
            Self::Sentinel(client) => client.get_async_connection_with_config(config).await,
        }
    }
}

/// A fixed number of connection slots, used round-robin; each is `None` until first use or after a
/// failure.
pub struct Multiplexed {
    /// Held while connecting, so one caller connects (or asks the sentinels) and the rest wait for it.
    connector: Mutex<Connector>,
    slots: Box<[RwLock<Option<MultiplexedConnection>>]>,
    next: AtomicUsize,
    config: AsyncConnectionConfig,
}

impl Multiplexed {
    pub fn new(connector: Connector, connections: usize, timeout: Duration) -> Self {
        let config = AsyncConnectionConfig::new().set_connection_timeout(timeout).set_response_timeout(timeout);
        let sentinel = matches!(connector, Connector::Sentinel(_));
        // Through Sentinel one connection: a second one could still reach the old master (now a
        // replica serving stale reads) after the first has found the new one.
        let connections = if sentinel { 1 } else { connections.max(1) };
        let slots = (0..connections).map(|_| RwLock::new(None)).collect();
        Self { connector: Mutex::new(connector), slots, next: AtomicUsize::new(0), config }
    }

    /// The next slot's connection (round-robin), made if there is none (cloning a multiplexed
    /// connection is cheap: it is a handle on one socket).
    pub async fn connection(&self) -> Result<MultiplexedConnection, RedisError> {
        let slot = &self.slots[self.next.fetch_add(1, Ordering::Relaxed) % self.slots.len()];
        if let Some(conn) = slot.read().clone() {
            return Ok(conn);
        }
        let mut connector = self.connector.lock().await;
        if let Some(conn) = slot.read().clone() {
            return Ok(conn);
        }
        let conn = connector.connect(&self.config).await?;
        *slot.write() = Some(conn.clone());
        Ok(conn)
    }

    /// After an error: a broken connection, a timeout (replies may still be queued behind it) or a
    /// demoted master means the connections must be made again.
    pub fn saw(&self, e: &RedisError) {
        if needs_new_connection(e) {
            self.forget();
        }
    }

    /// Drops every connection, not just the one that failed: a server that went away or stalled took
    /// the others with it, and an idle one would otherwise fail its next command instead of
    /// reconnecting (a pool's check-out PING used to catch that).
    pub fn forget(&self) {
        for s in &self.slots {
            *s.write() = None;
        }
    }
}

fn needs_new_connection(e: &RedisError) -> bool {
    e.is_io_error()
        || e.is_connection_dropped()
        || e.is_connection_refusal()
        || e.is_timeout()
        || matches!(e.kind(), ErrorKind::ReadOnly | ErrorKind::MasterDown)
}
