//! Test support (used by this crate's tests and benches, never by the gateway itself).

pub mod redis_server;
pub mod tls_certs;
