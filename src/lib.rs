//! card-gateway: a tenant-scoped REST gateway in front of an RSA-encrypted card-issuing Merchant API.
#![forbid(unsafe_code)]

/// Layered configuration and its production guards.
pub mod config;
/// Committed development keys, and the guard that refuses them in production.
pub mod dev_keys;
/// The vendor's RSA envelope codec (pure).
pub mod envelope;
/// Idempotency keys, request fingerprints and the lease-and-fence stores (memory, Redis).
pub mod idempotency;
/// Per-tenant rate limiting (governor / Redis GCRA), IETF RateLimit headers, and daily money caps.
pub mod rate_limit;
/// Card data and secrets in wrappers that never print.
pub mod sensitive;
/// A stateful stand-in for the upstream platform.
pub mod simulator;
/// Redis pool and store errors shared by every Redis-backed store.
pub mod storage;
/// Test support: a private redis-server per test.
pub mod testing;
/// The typed upstream client.
pub mod upstream;
