//! One connection type for the stores, whatever the topology: a multiplexed connection to one Redis
//! (plain or TLS, direct or through Sentinel) or a handle on the multiplexed Redis Cluster
//! connection, which routes each command (and each script, by its keys) to the slot's master and
//! follows MOVED/ASK redirections.

use std::sync::atomic::{AtomicU64, Ordering};

use redis::{
    Cmd, Pipeline, RedisFuture, Value,
    aio::{ConnectionLike, MultiplexedConnection},
    cluster_async::ClusterConnection,
};

/// Requests written to Redis by this process (a command, or a pipeline sent as one batch): its round
/// trips, exported as `card_gateway_redis_round_trips_total` so benchmarks can count them per route
/// (Redis' own `INFO commandstats` also counts the commands scripts run inside the server).
static ROUND_TRIPS: AtomicU64 = AtomicU64::new(0);

pub fn round_trips() -> u64 {
    ROUND_TRIPS.load(Ordering::Relaxed)
}

pub enum RedisConn {
    Cluster(ClusterConnection),
    /// One Redis, or the sentinel-resolved master.
    Multiplexed(MultiplexedConnection),
}

impl ConnectionLike for RedisConn {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        ROUND_TRIPS.fetch_add(1, Ordering::Relaxed);
        match self {
            Self::Cluster(c) => c.req_packed_command(cmd),
            Self::Multiplexed(c) => c.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        cmd: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        ROUND_TRIPS.fetch_add(1, Ordering::Relaxed);
        match self {
            Self::Cluster(c) => c.req_packed_commands(cmd, offset, count),
            Self::Multiplexed(c) => c.req_packed_commands(cmd, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Self::Cluster(c) => c.get_db(),
            Self::Multiplexed(c) => c.get_db(),
        }
    }
}
