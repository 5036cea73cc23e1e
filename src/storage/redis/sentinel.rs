//! Redis Sentinel: the master's address is asked of the sentinels, and asked again when the
//! connection breaks or the node it reaches has become a read-only replica (after a failover).

use std::time::Duration;

use parking_lot::RwLock;
use redis::{
    AsyncConnectionConfig, ConnectionAddr, ErrorKind, RedisError, TlsCertificates, TlsMode,
    aio::MultiplexedConnection,
    sentinel::{SentinelClient, SentinelClientBuilder, SentinelServerType},
};
use tokio::sync::Mutex;

/// The sentinels, and the current master connection (`None` until first use or after a failure).
/// The connection is multiplexed: every store's commands share it, pipelined.
pub struct Sentinel {
    /// Held while the master is looked up, so one caller asks the sentinels and the rest wait for it.
    client: Mutex<SentinelClient>,
    conn: RwLock<Option<MultiplexedConnection>>,
    config: AsyncConnectionConfig,
}

impl Sentinel {
    /// `urls`: the sentinels (`redis://host:26379`, or `rediss://` for TLS to sentinels and nodes).
    pub fn new(urls: &[&str], master: &str, certs: Option<TlsCertificates>, timeout: Duration) -> Result<Self, String> {
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
        let client = builder.build().map_err(|e| e.to_string())?;
        let config = AsyncConnectionConfig::new().set_connection_timeout(timeout).set_response_timeout(timeout);
        Ok(Self { client: Mutex::new(client), conn: RwLock::new(None), config })
    }

    /// The master connection, resolving the master through the sentinels when there is none.
    pub async fn connection(&self) -> Result<MultiplexedConnection, RedisError> {
        if let Some(c) = self.conn.read().clone() {
            return Ok(c);
        }
        let mut client = self.client.lock().await;
        if let Some(c) = self.conn.read().clone() {
            return Ok(c);
        }
        let conn = client.get_async_connection_with_config(&self.config).await?;
        *self.conn.write() = Some(conn.clone());
        Ok(conn)
    }

    /// After an error: a broken connection or a demoted master means the master must be asked again.
    pub fn saw(&self, e: &RedisError) {
        if needs_new_master(e) {
            self.forget_master();
        }
    }

    pub fn forget_master(&self) {
        *self.conn.write() = None;
    }
}

fn needs_new_master(e: &RedisError) -> bool {
    e.is_io_error()
        || e.is_connection_dropped()
        || e.is_connection_refusal()
        || e.is_timeout()
        || matches!(e.kind(), ErrorKind::ReadOnly | ErrorKind::MasterDown)
}
