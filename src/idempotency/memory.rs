//! In-process idempotency store: the single-replica default (docs/product.md §8). Same contract as the
//! Redis store; records vanish on restart, which is why production refuses it.
//!
//! Memory stays bounded by the retention: expired records are ignored on access and swept out of
//! the map at most once per `SWEEP_EVERY` (a full pass, under the same lock as every other
//! operation; fine for the single-process scale this store is meant for).

use std::{collections::HashMap, time::Duration};

use async_trait::async_trait;
use parking_lot::Mutex;
use tokio::time::Instant;

use super::{
    fingerprint::Fingerprint,
    key::IdempotencyKey,
    store::{Begin, IdempotencyStore, Lease, StoreOptions, StoredResponse},
};
use crate::storage::StoreError;

const SWEEP_EVERY: Duration = Duration::from_secs(1);

#[derive(Debug)]
enum State {
    InProgress { lease_until: Instant },
    Completed(StoredResponse),
    Unknown,
}

#[derive(Debug)]
struct Record {
    fp: Fingerprint,
    token: u64,
    state: State,
    expires_at: Instant,
}

#[derive(Debug)]
struct Inner {
    records: HashMap<(String, String), Record>,
    /// One counter for all keys: strictly increasing per key, and never reused after a record is
    /// abandoned or expires.
    last_token: u64,
    last_sweep: Instant,
}

#[derive(Debug)]
pub struct MemoryIdempotencyStore {
    inner: Mutex<Inner>,
    opts: StoreOptions,
}

impl MemoryIdempotencyStore {
    pub fn new(opts: StoreOptions) -> Self {
        Self { inner: Mutex::new(Inner { records: HashMap::new(), last_token: 0, last_sweep: Instant::now() }), opts }
    }

    /// Records currently held, expired ones not yet swept included.
    pub fn len(&self) -> usize {
        self.inner.lock().records.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Drops every expired record now (also done automatically, at most once per second).
    pub fn sweep(&self) {
        let now = Instant::now();
        let mut inner = self.inner.lock();
        inner.records.retain(|_, r| r.expires_at > now);
        inner.last_sweep = now;
    }

    /// Runs `f` on the live record (if any) of `lease`'s key when `lease` still holds it in progress.
    fn with_held(&self, lease: &Lease, f: impl FnOnce(&mut Inner, Instant) -> bool) -> bool {
        let now = Instant::now();
        let mut inner = self.inner.lock();
        let held = matches!(
            inner.records.get(&(lease.tenant.clone(), lease.key.clone())),
            Some(r) if r.expires_at > now && r.token == lease.token && matches!(r.state, State::InProgress { .. })
        );
        held && f(&mut inner, now)
    }
}

impl Default for MemoryIdempotencyStore {
    fn default() -> Self {
        Self::new(StoreOptions::default())
    }
}

#[async_trait]
impl IdempotencyStore for MemoryIdempotencyStore {
    async fn begin(
        &self,
        tenant: &str,
        key: &IdempotencyKey,
        fp: &Fingerprint,
        lease: Duration,
    ) -> Result<Begin, StoreError> {
        let now = Instant::now();
        let mut inner = self.inner.lock();
        if now.duration_since(inner.last_sweep) >= SWEEP_EVERY {
            inner.records.retain(|_, r| r.expires_at > now);
            inner.last_sweep = now;
        }
        let id = (tenant.to_owned(), key.as_str().to_owned());
        let recovering = match inner.records.get(&id) {
            Some(r) if r.expires_at > now => {
                if r.fp != *fp {
                    return Ok(Begin::Mismatch);
                }
                match &r.state {
                    State::Completed(resp) => return Ok(Begin::Completed(resp.clone())),
                    State::InProgress { lease_until } if *lease_until > now => {
                        return Ok(self.opts.in_flight(lease_until.duration_since(now)));
                    }
                    // Lease expired (its holder died or hung) or outcome unknown: take over.
                    State::InProgress { .. } | State::Unknown => true,
                }
            }
            _ => false,
        };
        inner.last_token += 1;
        let token = inner.last_token;
        inner.records.insert(
            id,
            Record {
                fp: *fp,
                token,
                state: State::InProgress { lease_until: now + lease },
                expires_at: now + self.opts.retention.max(lease),
            },
        );
        Ok(Begin::Acquired {
            lease: Lease { tenant: tenant.to_owned(), key: key.as_str().to_owned(), token },
            recovering,
        })
    }

    async fn renew(&self, lease: &Lease, lease_for: Duration) -> Result<bool, StoreError> {
        let retention = self.opts.retention;
        Ok(self.with_held(lease, |inner, now| {
            let Some(r) = inner.records.get_mut(&(lease.tenant.clone(), lease.key.clone())) else { return false };
            r.state = State::InProgress { lease_until: now + lease_for };
            r.expires_at = now + retention.max(lease_for);
            true
        }))
    }

    async fn complete(&self, lease: &Lease, resp: &StoredResponse) -> Result<bool, StoreError> {
        let retention = self.opts.retention;
        Ok(self.with_held(lease, |inner, now| {
            let Some(r) = inner.records.get_mut(&(lease.tenant.clone(), lease.key.clone())) else { return false };
            r.state = State::Completed(resp.clone());
            r.expires_at = now + retention;
            true
        }))
    }

    async fn mark_unknown(&self, lease: &Lease) -> Result<bool, StoreError> {
        let retention = self.opts.retention;
        Ok(self.with_held(lease, |inner, now| {
            let Some(r) = inner.records.get_mut(&(lease.tenant.clone(), lease.key.clone())) else { return false };
            r.state = State::Unknown;
            r.expires_at = now + retention;
            true
        }))
    }

    async fn abandon(&self, lease: &Lease) -> Result<bool, StoreError> {
        Ok(self.with_held(lease, |inner, _| inner.records.remove(&(lease.tenant.clone(), lease.key.clone())).is_some()))
    }

    async fn holds(&self, lease: &Lease) -> Result<bool, StoreError> {
        Ok(self.with_held(lease, |_, _| true))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::idempotency::contract_tests as contract;

    fn store(retention: Duration) -> MemoryIdempotencyStore {
        MemoryIdempotencyStore::new(StoreOptions { retention, max_retry_after: Duration::from_secs(1) })
    }

    macro_rules! memory_contract {
        ($($name:ident),* $(,)?) => {$(
            #[tokio::test]
            async fn $name() {
                contract::$name(&store(Duration::from_secs(60))).await;
            }
        )*};
    }

    memory_contract!(
        begin_complete_replay_is_byte_identical,
        mismatch_in_every_state,
        in_flight_while_the_lease_is_live,
        concurrent_begins_acquire_exactly_once,
        fenced_out_lease_cannot_touch_the_new_holder,
        expired_lease_is_recovered,
        unknown_is_recovered,
        abandon_forgets_the_key,
        renew_keeps_the_lease,
        tenants_are_isolated,
        tokens_strictly_increase,
    );

    #[tokio::test]
    async fn complete_settling_writes_both_or_neither() {
        let docs = std::sync::Arc::new(crate::tenancy::memory::MemoryOwnershipStore::new());
        contract::complete_settling_writes_both_or_neither(&store(Duration::from_secs(60)), docs).await;
    }

    #[tokio::test]
    async fn retention_expiry() {
        contract::retention_expiry(&store(Duration::from_millis(300)), Duration::from_millis(300)).await;
    }

    #[tokio::test]
    async fn expired_records_are_swept() {
        let s = store(Duration::from_millis(50));
        for i in 0..100 {
            contract::acquire(&s, "t", &format!("k{i}"), "fp", Duration::from_millis(10)).await;
        }
        assert_eq!(s.len(), 100);
        tokio::time::sleep(Duration::from_millis(80)).await;
        s.sweep();
        assert!(s.is_empty());
    }
}
