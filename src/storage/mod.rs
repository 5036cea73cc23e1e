//! Shared plumbing of the gateway's own state: the Redis pool (with deadlines and per-tenant hash
//! tags) and the store error every backend speaks.

pub mod redis;

use thiserror::Error;

/// A store could not answer. State-changing routes fail closed on it (503 + `Retry-After`).
#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum StoreError {
    #[error("store unavailable: {0}")]
    Unavailable(String),
    #[error("store did not answer within its deadline")]
    Timeout,
    #[error("store returned a record it cannot read: {0}")]
    Corrupt(String),
}
