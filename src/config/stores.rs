//! `[redis]`, `[tenancy]` and `[idempotency]`: where the gateway keeps its own state.

use serde::Deserialize;

use crate::sensitive::SecretString;

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum StoreKind {
    /// In-process; lost on restart; single replica only (development).
    Memory,
    /// Shared Redis (`[redis] url`).
    Redis,
}

/// How the gateway reaches Redis.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum RedisMode {
    /// One Redis (or a managed endpoint that proxies a cluster).
    Standalone,
    /// Redis Cluster: `url` lists seed nodes, comma-separated; slots are discovered and followed.
    Cluster,
    /// Redis Sentinel: `url` lists the sentinels, comma-separated; `sentinel_master` names the
    /// monitored master, which is asked for again after a failover.
    Sentinel,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedisSettings {
    /// `redis://host:port/db` or `rediss://` (TLS); in cluster mode a comma-separated list of seed
    /// nodes; empty = no Redis.
    pub url: SecretString,
    pub mode: RedisMode,
    /// The master's name the sentinels monitor (`redis.mode = "sentinel"`).
    pub sentinel_master: String,
    /// PEM CA bundle that verifies a `rediss://` server; empty = the system trust store.
    pub tls_ca_file: String,
    /// PEM client certificate (chain) and private key for mutual TLS; both or neither.
    pub tls_cert_file: String,
    pub tls_key_file: String,
    /// Multiplexed connections to one Redis (commands pipelined on each, used round-robin); a
    /// cluster keeps one multiplexed connection per node.
    pub connections: usize,
    /// Per-command deadline; a stalled Redis fails state-changing routes closed within it.
    pub timeout_ms: u64,
    /// Prefix of every key (several gateways or tests may share one Redis).
    pub key_prefix: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenancySettings {
    pub store: StoreKind,
    /// Leading part of every upstream `userReqNo` (≤ 8 characters, `[A-Za-z0-9]`).
    pub user_req_no_prefix: String,
    /// HMAC key of the userReqNo digest and of list cursors; empty = development secret.
    pub secret: SecretString,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdempotencySettings {
    /// `false` skips the store entirely (benchmarks only; refused in production). Keys are still required.
    #[serde(default = "enabled")]
    pub enabled: bool,
    pub store: StoreKind,
    /// HMAC-SHA256 key of request fingerprints; empty = development secret (refused in production).
    pub fingerprint_secret: SecretString,
    /// How long a completed key is remembered.
    pub retention_s: u64,
    /// In-flight lease, renewed every lease/3 while the request runs, so it need not cover the upstream
    /// timeout; validated ≥ 300 ms and, in production, > lease/3 + `redis.timeout_ms` (a renewal lands in time).
    pub lease_ms: u64,
    /// `Retry-After` sent with 409 (key in flight) and 503 (store unavailable).
    pub retry_after_s: u64,
    /// After an unknown outcome, how long the platform must show no trace of the order (order inquiry
    /// by `userReqNo`) before the request is sent again with the same `userReqNo`.
    pub resend_after_no_trace_s: u64,
    /// Whether the platform is known to de-duplicate a repeated `userReqNo`/`serialNumber` (INFERRED,
    /// so `false` until `upstream-check` measured it). Only then are operations the platform offers no
    /// inquiry for resent after an unknown outcome; otherwise they stay `unknown` for reconciliation.
    pub platform_dedupes: bool,
}

fn enabled() -> bool {
    true
}
