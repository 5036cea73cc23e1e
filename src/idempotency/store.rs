//! The idempotency store contract both backends (memory, Redis) implement.
//!
//! A record per (tenant, key) moves through these states:
//!
//! ```text
//!            begin                 complete
//!   (none) ────────► in_progress ───────────► completed ──► (expires after retention)
//!      ▲                │   │  mark_unknown
//!      │    abandon     │   └──────────────► unknown
//!      └────────────────┘
//!   in_progress whose lease expired, and unknown: the next begin takes over → in_progress,
//!   `Acquired { recovering: true }` with a new, larger fencing token.
//! ```
//!
//! Every lease carries a fencing token, strictly increasing per (tenant, key) (never reused, even
//! after the record is abandoned or expired), and every write checks it: a request whose lease
//! expired and was taken over can neither complete, mark unknown, renew nor abandon the new
//! holder's record. The fingerprint is compared in every state (`Mismatch`), so a key can never
//! replay or block a different request.

use std::{sync::Arc, time::Duration};

use async_trait::async_trait;
use base64::{Engine as _, engine::general_purpose::STANDARD as B64};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{fingerprint::Fingerprint, key::IdempotencyKey};
use crate::{
    config::stores::IdempotencySettings,
    storage::StoreError,
    tenancy::{ObjectKind, OwnershipStore, TenantId},
};

/// A definitive response, replayed byte for byte. Serialised with the body as base64 (exact bytes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    #[serde(serialize_with = "ser_body", deserialize_with = "de_body")]
    pub body: Vec<u8>,
}

fn ser_body<S: Serializer>(body: &[u8], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&B64.encode(body))
}

fn de_body<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
    let text = String::deserialize(d)?;
    B64.decode(text).map_err(serde::de::Error::custom)
}

/// The right to run the request for one (tenant, key), proven by `token`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    pub tenant: String,
    pub key: String,
    /// Fencing token: strictly increasing per (tenant, key).
    pub token: u64,
}

/// What `begin` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Begin {
    /// The caller now holds the key. `recovering`: a previous attempt's outcome is unknown (the record
    /// was `unknown`, or an `in_progress` lease expired because its gateway died or hung mid-request):
    /// ask the upstream (order inquiry by `userReqNo`) before resending.
    Acquired { lease: Lease, recovering: bool },
    /// Someone holds a live lease. `retry_after` is the time left on it, capped by the configured
    /// `idempotency.retry_after_s` (at least 1 ms).
    InFlight { retry_after: Duration },
    /// The request already completed: replay this.
    Completed(StoredResponse),
    /// Same key, different request (fingerprint), whatever the record's state.
    Mismatch,
}

#[async_trait]
pub trait IdempotencyStore: Send + Sync + 'static {
    /// Looks the key up and, when it is free (absent, `unknown`, or its lease expired), takes it with
    /// a lease of `lease`.
    async fn begin(
        &self,
        tenant: &str,
        key: &IdempotencyKey,
        fp: &Fingerprint,
        lease: Duration,
    ) -> Result<Begin, StoreError>;
    /// Extends a live lease to `lease_for` from now. `false`: the lease was lost (fenced out).
    async fn renew(&self, lease: &Lease, lease_for: Duration) -> Result<bool, StoreError>;
    /// Stores the definitive response. `false`: fenced out, nothing written.
    async fn complete(&self, lease: &Lease, resp: &StoredResponse) -> Result<bool, StoreError>;
    /// The outcome is unknown (upstream timeout, transport error, "status unknown"): the next `begin`
    /// answers `Acquired { recovering: true }`. `false`: fenced out, nothing written.
    async fn mark_unknown(&self, lease: &Lease) -> Result<bool, StoreError>;
    /// Definitely nothing happened upstream: forget the key if we still hold it. `false`: fenced out.
    async fn abandon(&self, lease: &Lease) -> Result<bool, StoreError>;
    /// `complete_settling` writes the document and the answer in one step (one round trip), so the
    /// pipeline should leave its settlement to it. `false` (memory, mixed stores): the steps are
    /// separate anyway, and the pipeline writes the settlement at once, as soon as the platform
    /// answered — that keeps the window in which a racing webhook finds the operation unsettled (and
    /// re-reads the card from the platform) as short as it was: deferring it in memory made the
    /// security suite's list-page test see such an extra read in 4 of 12 runs.
    fn settles_in_one_step(&self) -> bool {
        false
    }
    /// `lease` still holds its key in progress (a check only: it may be lost the moment after).
    async fn holds(&self, lease: &Lease) -> Result<bool, StoreError>;
    /// [`complete`](Self::complete) together with the compare-and-set of the document the answer
    /// reports (the operation's settlement), so a first execution pays one store step for both. The
    /// document is written only while `lease` holds the key and the document is still at
    /// `swap.expect`, and the answer only once the document was written: nothing is stored as the
    /// answer that the operation does not say. The Redis store does both in one script when the
    /// documents live in its Redis (all of a tenant's keys share one cluster slot); otherwise, and in
    /// memory, it is three steps: the lease is checked, the document swapped, the answer stored (a
    /// lease lost between the last two leaves the document settled and the answer unstored: the
    /// next holder reads the settled document).
    async fn complete_settling(
        &self,
        lease: &Lease,
        resp: &StoredResponse,
        swap: &DocSwap,
    ) -> Result<SettleWrite, StoreError> {
        swap_then_complete(self, lease, resp, swap).await
    }
}

/// A compare-and-set of a tenant's versioned document (`OwnershipStore::swap_doc`) to make with a
/// completion.
#[derive(Clone)]
pub struct DocSwap {
    pub docs: Arc<dyn OwnershipStore>,
    pub tenant: TenantId,
    pub kind: ObjectKind,
    pub id: String,
    /// The stored version the document must still have (at least 1: the document exists).
    pub expect: u64,
    pub doc: serde_json::Value,
}

impl std::fmt::Debug for DocSwap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DocSwap").field("kind", &self.kind).field("id", &self.id).field("expect", &self.expect).finish()
    }
}

/// What [`IdempotencyStore::complete_settling`] wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SettleWrite {
    /// The document was swapped. `false`: nothing at all was written (it changed first, or the lease
    /// was lost): settle it alone and answer what that says.
    pub swapped: bool,
    /// The answer was stored (implies `swapped`). `swapped && !stored`: the lease was lost between
    /// the two steps of a non-atomic backend; the settled document is what the next holder reads.
    pub stored: bool,
}

/// [`IdempotencyStore::complete_settling`] in steps: check the lease, swap the document, complete.
pub async fn swap_then_complete<S: IdempotencyStore + ?Sized>(
    store: &S,
    lease: &Lease,
    resp: &StoredResponse,
    swap: &DocSwap,
) -> Result<SettleWrite, StoreError> {
    // A lease already lost writes nothing, not even the document (as the one-script Redis path).
    if !store.holds(lease).await?
        || !swap.docs.swap_doc(&swap.tenant, swap.kind, &swap.id, swap.expect, &swap.doc).await?
    {
        return Ok(SettleWrite { swapped: false, stored: false });
    }
    let stored = store.complete(lease, resp).await?;
    Ok(SettleWrite { swapped: true, stored })
}

/// Settings shared by both backends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoreOptions {
    /// How long a record lives after its last write (an in-progress one at least as long as its lease).
    pub retention: Duration,
    /// Upper bound of `Begin::InFlight::retry_after`.
    pub max_retry_after: Duration,
}

impl StoreOptions {
    pub fn from_settings(settings: &IdempotencySettings) -> Self {
        Self {
            retention: Duration::from_secs(settings.retention_s),
            max_retry_after: Duration::from_secs(settings.retry_after_s.max(1)),
        }
    }

    /// `retry_after` for a lease with `left` to run.
    pub(crate) fn in_flight(&self, left: Duration) -> Begin {
        Begin::InFlight { retry_after: left.min(self.max_retry_after).max(Duration::from_millis(1)) }
    }
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self { retention: Duration::from_secs(86_400), max_retry_after: Duration::from_secs(1) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_response_round_trips_bytes_exactly() {
        let resp = StoredResponse {
            status: 201,
            headers: vec![("content-type".into(), "application/json".into())],
            body: vec![0, 159, 146, 150, b'{', b'}', 255],
        };
        let json = serde_json::to_string(&resp).unwrap();
        assert!(json.contains("\"body\":\"AJ+Slnt9/w==\""), "{json}");
        assert_eq!(serde_json::from_str::<StoredResponse>(&json).unwrap(), resp);
    }

    #[test]
    fn in_flight_retry_after_is_capped_and_positive() {
        let o = StoreOptions { retention: Duration::from_secs(60), max_retry_after: Duration::from_secs(1) };
        assert_eq!(o.in_flight(Duration::from_secs(30)), Begin::InFlight { retry_after: Duration::from_secs(1) });
        assert_eq!(o.in_flight(Duration::ZERO), Begin::InFlight { retry_after: Duration::from_millis(1) });
    }
}
