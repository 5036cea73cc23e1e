//! Idempotency (docs/product.md §8): the `Idempotency-Key` header, the keyed request fingerprint, and
//! the lease-and-fence store that turns a client's retries into exactly one upstream call.
//!
//! The HTTP middleware (not here) drives it as: parse the key (400 on error) → fingerprint →
//! `begin` → `Mismatch` 422 / `InFlight` 409 + `Retry-After` / `Completed` replay with
//! `Idempotent-Replayed: true` / `Acquired` → run the request (asking the upstream first when
//! `recovering`), `renew` while it runs long → `complete` (definitive answers), `mark_unknown`
//! (timeouts, "status unknown") or `abandon` (nothing reached the upstream). A `StoreError`
//! anywhere fails the request closed (503 + `Retry-After`).

#[cfg(test)]
pub(crate) mod contract_tests;
pub mod fingerprint;
pub mod grant;
pub mod key;
pub mod memory;
pub mod middleware;
pub mod outcome;
pub mod redis;
pub mod seal;
pub mod store;

use std::sync::Arc;

pub use fingerprint::{Fingerprint, Fingerprinter};
pub use grant::{IdempotencyGrant, bad_key, missing_key};
pub use key::{IdempotencyKey, KeyError};
pub use memory::MemoryIdempotencyStore;
pub use outcome::{IdemOutcome, ReplayBody, SettleWithAnswer, mark, mark_with_replay};
pub use redis::RedisIdempotencyStore;
pub use seal::RecordSeal;
pub use store::{Begin, DocSwap, IdempotencyStore, Lease, SettleWrite, StoreOptions, StoredResponse};

use crate::{
    config::{ConfigError, Settings, stores::StoreKind},
    storage::redis::RedisPool,
};

/// The store `idempotency.store` selects. `pool` is required for `redis`.
pub fn store_from_settings(
    settings: &Settings,
    pool: Option<&RedisPool>,
) -> Result<Arc<dyn IdempotencyStore>, ConfigError> {
    let opts = StoreOptions::from_settings(&settings.idempotency);
    match settings.idempotency.store {
        StoreKind::Memory => Ok(Arc::new(MemoryIdempotencyStore::new(opts))),
        StoreKind::Redis => match pool {
            Some(pool) => Ok(Arc::new(
                RedisIdempotencyStore::new(pool.clone(), opts)
                    .with_docs_here(settings.tenancy.store == StoreKind::Redis),
            )),
            None => Err(ConfigError::Invalid("idempotency.store = \"redis\" needs redis.url".into())),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_configured_store_is_built() {
        let mut s = Settings::defaults().unwrap();
        let store = store_from_settings(&s, None).unwrap();
        let fp = Fingerprinter::from_settings(&s.idempotency).unwrap().fingerprint("POST", "/v1/cards", &[], b"{}");
        let key = IdempotencyKey::parse("k").unwrap();
        let lease = std::time::Duration::from_millis(s.idempotency.lease_ms);
        assert!(matches!(store.begin("t", &key, &fp, lease).await.unwrap(), Begin::Acquired { recovering: false, .. }));
        assert!(matches!(store.begin("t", &key, &fp, lease).await.unwrap(), Begin::InFlight { .. }));
        s.idempotency.store = StoreKind::Redis;
        assert!(store_from_settings(&s, None).is_err());
        let pool = RedisPool::connect("redis://127.0.0.1:1/0", 1, std::time::Duration::from_millis(50), "x").unwrap();
        assert!(store_from_settings(&s, Some(&pool)).is_ok());
    }
}
