//! One connection type for the stores, whatever the topology: a multiplexed connection to one Redis
//! (plain or TLS, direct or through Sentinel) or a handle on the multiplexed Redis Cluster
//! connection, which routes each command (and each script, by its keys) to the slot's master and
//! follows MOVED/ASK redirections.

use redis::{
    Cmd, Pipeline, RedisFuture, Value,
    aio::{ConnectionLike, MultiplexedConnection},
    cluster_async::ClusterConnection,
};

pub enum RedisConn {
    Cluster(ClusterConnection),
    /// One Redis, or the sentinel-resolved master.
    Multiplexed(MultiplexedConnection),
}

impl ConnectionLike for RedisConn {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
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
