//! Idempotency and rate limiting, end to end, on the embedded store and on a real Redis (each Redis
//! test starts its own `redis-server` so it can pause and kill it).
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../common/mod.rs"]
mod common;

mod campaign;
mod failures;
mod keys;
mod rate_limits;
mod redis_outage;
mod settling;
mod stored_records;
mod support;
