//! The store contract as generic async checks, run against every backend (`memory.rs`,
//! `redis.rs` call each of these from their own `#[tokio::test]`s). Leases are short and real time
//! passes, because the Redis store uses Redis' own clock.

use std::time::Duration;

use futures_util::future::join_all;

use super::{
    fingerprint::{Fingerprint, Fingerprinter},
    key::IdempotencyKey,
    store::{Begin, IdempotencyStore, Lease, StoredResponse},
};

const LONG: Duration = Duration::from_secs(10);
// Long enough for the acquire → begin round trips on a loaded 2-core CI machine (100 ms failed over TLS
// at load 7), short enough that waiting for expiry stays cheap.
const SHORT: Duration = Duration::from_millis(400);

pub fn key(s: &str) -> IdempotencyKey {
    IdempotencyKey::parse(s).unwrap()
}

pub fn fp(body: &str) -> Fingerprint {
    Fingerprinter::new(b"contract").fingerprint("POST", "/v1/cards/{id}/recharges", &[("id", "c1")], body.as_bytes())
}

pub fn response(n: u8) -> StoredResponse {
    StoredResponse {
        status: 201,
        headers: vec![("content-type".into(), "application/json".into()), ("x-request-id".into(), format!("r{n}"))],
        // Not UTF-8 on purpose: replay must be byte-identical, whatever the bytes.
        body: vec![b'{', 0, 0xff, 0xfe, n, b'}', b'\n'],
    }
}

pub async fn begin<S: IdempotencyStore>(s: &S, tenant: &str, k: &str, body: &str, lease: Duration) -> Begin {
    s.begin(tenant, &key(k), &fp(body), lease).await.unwrap()
}

pub async fn acquire<S: IdempotencyStore>(s: &S, tenant: &str, k: &str, body: &str, lease: Duration) -> Lease {
    match begin(s, tenant, k, body, lease).await {
        Begin::Acquired { lease, recovering: false } => lease,
        other => panic!("expected a fresh Acquired, got {other:?}"),
    }
}

async fn recover<S: IdempotencyStore>(s: &S, tenant: &str, k: &str, body: &str, lease: Duration) -> Lease {
    match begin(s, tenant, k, body, lease).await {
        Begin::Acquired { lease, recovering: true } => lease,
        other => panic!("expected a recovering Acquired, got {other:?}"),
    }
}

fn assert_in_flight(b: Begin) {
    match b {
        Begin::InFlight { retry_after } => {
            assert!(retry_after > Duration::ZERO && retry_after <= Duration::from_secs(1))
        }
        other => panic!("expected InFlight, got {other:?}"),
    }
}

pub async fn begin_complete_replay_is_byte_identical<S: IdempotencyStore>(s: &S) {
    let lease = acquire(s, "t1", "replay", "a", LONG).await;
    assert_eq!(lease.tenant, "t1");
    assert_eq!(lease.key, "replay");
    assert!(s.complete(&lease, &response(1)).await.unwrap());
    for _ in 0..2 {
        assert_eq!(begin(s, "t1", "replay", "a", LONG).await, Begin::Completed(response(1)));
    }
    // A completed record is final: the same lease cannot overwrite or drop it.
    assert!(!s.complete(&lease, &response(2)).await.unwrap());
    assert!(!s.mark_unknown(&lease).await.unwrap());
    assert!(!s.abandon(&lease).await.unwrap());
    assert_eq!(begin(s, "t1", "replay", "a", LONG).await, Begin::Completed(response(1)));
}

pub async fn mismatch_in_every_state<S: IdempotencyStore>(s: &S) {
    // in_progress, live lease
    acquire(s, "t1", "mm-live", "a", LONG).await;
    assert_eq!(begin(s, "t1", "mm-live", "b", LONG).await, Begin::Mismatch);
    // in_progress, expired lease: still the first request's key
    acquire(s, "t1", "mm-expired", "a", SHORT).await;
    tokio::time::sleep(SHORT * 2).await;
    assert_eq!(begin(s, "t1", "mm-expired", "b", LONG).await, Begin::Mismatch);
    // unknown
    let l = acquire(s, "t1", "mm-unknown", "a", LONG).await;
    assert!(s.mark_unknown(&l).await.unwrap());
    assert_eq!(begin(s, "t1", "mm-unknown", "b", LONG).await, Begin::Mismatch);
    // completed
    let l = acquire(s, "t1", "mm-done", "a", LONG).await;
    assert!(s.complete(&l, &response(1)).await.unwrap());
    assert_eq!(begin(s, "t1", "mm-done", "b", LONG).await, Begin::Mismatch);
}

pub async fn in_flight_while_the_lease_is_live<S: IdempotencyStore>(s: &S) {
    acquire(s, "t1", "busy", "a", LONG).await;
    assert_in_flight(begin(s, "t1", "busy", "a", LONG).await);
    assert_in_flight(begin(s, "t1", "busy", "a", LONG).await);
}

pub async fn concurrent_begins_acquire_exactly_once<S: IdempotencyStore>(s: &S) {
    let k = key("race");
    let f = fp("a");
    let results = join_all((0..50).map(|_| s.begin("t1", &k, &f, LONG))).await;
    let acquired = results.iter().filter(|r| matches!(r, Ok(Begin::Acquired { .. }))).count();
    let in_flight = results.iter().filter(|r| matches!(r, Ok(Begin::InFlight { .. }))).count();
    assert_eq!((acquired, in_flight), (1, 49), "{results:?}");
}

pub async fn fenced_out_lease_cannot_touch_the_new_holder<S: IdempotencyStore>(s: &S) {
    let old = acquire(s, "t1", "fence", "a", SHORT).await;
    tokio::time::sleep(SHORT * 2).await;
    let new = recover(s, "t1", "fence", "a", LONG).await;
    assert!(new.token > old.token, "{new:?} vs {old:?}");
    assert!(!s.renew(&old, LONG).await.unwrap());
    assert!(!s.complete(&old, &response(1)).await.unwrap());
    assert!(!s.mark_unknown(&old).await.unwrap());
    assert!(!s.abandon(&old).await.unwrap());
    // The new holder's lease is intact.
    assert_in_flight(begin(s, "t1", "fence", "a", LONG).await);
    assert!(s.complete(&new, &response(2)).await.unwrap());
    assert_eq!(begin(s, "t1", "fence", "a", LONG).await, Begin::Completed(response(2)));
    assert!(!s.complete(&old, &response(1)).await.unwrap());
}

pub async fn expired_lease_is_recovered<S: IdempotencyStore>(s: &S) {
    acquire(s, "t1", "crashed", "a", SHORT).await;
    assert_in_flight(begin(s, "t1", "crashed", "a", LONG).await);
    tokio::time::sleep(SHORT * 2).await;
    let l = recover(s, "t1", "crashed", "a", LONG).await;
    assert!(s.complete(&l, &response(3)).await.unwrap());
    assert_eq!(begin(s, "t1", "crashed", "a", LONG).await, Begin::Completed(response(3)));
}

pub async fn unknown_is_recovered<S: IdempotencyStore>(s: &S) {
    let l = acquire(s, "t1", "unk", "a", LONG).await;
    assert!(s.mark_unknown(&l).await.unwrap());
    // The lease ended with mark_unknown: its holder can no longer write.
    assert!(!s.complete(&l, &response(1)).await.unwrap());
    let l2 = recover(s, "t1", "unk", "a", LONG).await;
    assert_in_flight(begin(s, "t1", "unk", "a", LONG).await);
    // Still unknown after asking the upstream: the next attempt recovers again.
    assert!(s.mark_unknown(&l2).await.unwrap());
    let l3 = recover(s, "t1", "unk", "a", LONG).await;
    assert!(s.complete(&l3, &response(4)).await.unwrap());
    assert_eq!(begin(s, "t1", "unk", "a", LONG).await, Begin::Completed(response(4)));
}

pub async fn abandon_forgets_the_key<S: IdempotencyStore>(s: &S) {
    let l = acquire(s, "t1", "gone", "a", LONG).await;
    assert!(s.abandon(&l).await.unwrap());
    assert!(!s.abandon(&l).await.unwrap());
    // Forgotten: even a different request may now use the key, as a fresh one.
    let l2 = acquire(s, "t1", "gone", "b", LONG).await;
    assert!(!s.complete(&l, &response(1)).await.unwrap());
    assert!(s.complete(&l2, &response(5)).await.unwrap());
    assert_eq!(begin(s, "t1", "gone", "b", LONG).await, Begin::Completed(response(5)));
}

pub async fn renew_keeps_the_lease<S: IdempotencyStore>(s: &S) {
    let l = acquire(s, "t1", "slow", "a", Duration::from_millis(300)).await;
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert!(s.renew(&l, LONG).await.unwrap());
    tokio::time::sleep(Duration::from_millis(300)).await;
    // Past the first lease, but renewed: still in flight, nobody took over.
    assert_in_flight(begin(s, "t1", "slow", "a", LONG).await);
    assert!(s.complete(&l, &response(6)).await.unwrap());
    assert!(!s.renew(&l, LONG).await.unwrap(), "a completed record has no lease to renew");
}

pub async fn tenants_are_isolated<S: IdempotencyStore>(s: &S) {
    let a = acquire(s, "tenant-a", "shared-key", "a", LONG).await;
    assert!(s.complete(&a, &response(7)).await.unwrap());
    // Same key string, other tenant, other request: an independent, fresh record.
    let b = acquire(s, "tenant-b", "shared-key", "b", LONG).await;
    assert!(s.abandon(&b).await.unwrap());
    assert_eq!(begin(s, "tenant-a", "shared-key", "a", LONG).await, Begin::Completed(response(7)));
    // A lease of one tenant cannot act on the other tenant's record even with a matching token.
    let forged = Lease { tenant: "tenant-c".into(), key: "shared-key".into(), token: a.token };
    assert!(!s.complete(&forged, &response(9)).await.unwrap());
}

pub async fn tokens_strictly_increase<S: IdempotencyStore>(s: &S) {
    let l1 = acquire(s, "t1", "tokens", "a", LONG).await;
    assert!(s.abandon(&l1).await.unwrap());
    let l2 = acquire(s, "t1", "tokens", "a", LONG).await;
    assert!(l2.token > l1.token);
    assert!(s.mark_unknown(&l2).await.unwrap());
    let l3 = recover(s, "t1", "tokens", "a", LONG).await;
    assert!(l3.token > l2.token);
    // A stale lease from before the abandon cannot act on the new record.
    assert!(!s.mark_unknown(&l1).await.unwrap());
}

pub async fn retention_expiry<S: IdempotencyStore>(s: &S, retention: Duration) {
    let l = acquire(s, "t1", "old", "a", Duration::from_millis(50)).await;
    assert!(s.complete(&l, &response(1)).await.unwrap());
    assert_eq!(begin(s, "t1", "old", "a", LONG).await, Begin::Completed(response(1)));
    tokio::time::sleep(retention + Duration::from_millis(200)).await;
    // Gone: a different request may use the key without a mismatch.
    acquire(s, "t1", "old", "b", LONG).await;
}

/// `complete_settling`: the answer and the document's compare-and-set together — both written, or
/// (the document changed first, or the lease was lost) neither.
pub async fn complete_settling_writes_both_or_neither<S: IdempotencyStore>(
    s: &S,
    docs: std::sync::Arc<dyn crate::tenancy::OwnershipStore>,
) {
    use crate::tenancy::{ObjectKind, ObjectMeta, TenantId};
    use serde_json::json;

    let tenant = TenantId::parse("t1").unwrap();
    let kind = ObjectKind::Operation;
    let swap = |id: &str, expect: u64, doc: serde_json::Value| super::store::DocSwap {
        docs: docs.clone(),
        tenant: tenant.clone(),
        kind,
        id: id.to_owned(),
        expect,
        doc,
    };
    let version = |doc: Option<serde_json::Value>| doc.and_then(|d| d["version"].as_u64());
    for id in ["op-both", "op-changed", "op-fenced"] {
        let doc = json!({"version": 1, "status": "pending"});
        assert!(docs.create_doc(&tenant, kind, id, &doc, &ObjectMeta::default(), &[]).await.unwrap());
    }

    // Held, and the document still at the expected version: both written.
    let l = acquire(s, "t1", "settle-both", "a", LONG).await;
    let w =
        s.complete_settling(&l, &response(1), &swap("op-both", 1, json!({"version": 2, "status": "succeeded"}))).await;
    assert_eq!(w.unwrap(), super::store::SettleWrite { swapped: true, stored: true });
    assert_eq!(begin(s, "t1", "settle-both", "a", LONG).await, Begin::Completed(response(1)));
    let stored = docs.get_doc(&tenant, kind, "op-both").await.unwrap();
    assert_eq!(stored.as_ref().map(|d| d["status"].clone()), Some(json!("succeeded")));

    // A webhook settled the document first (version 2): nothing written, the key still in progress.
    let l = acquire(s, "t1", "settle-changed", "a", LONG).await;
    let webhook = json!({"version": 2, "status": "failed"});
    assert!(docs.swap_doc(&tenant, kind, "op-changed", 1, &webhook).await.unwrap());
    let sw = swap("op-changed", 1, json!({"version": 2, "status": "succeeded"}));
    let w = s.complete_settling(&l, &response(2), &sw).await;
    assert_eq!(w.unwrap(), super::store::SettleWrite { swapped: false, stored: false });
    assert_eq!(docs.get_doc(&tenant, kind, "op-changed").await.unwrap(), Some(webhook));
    assert_in_flight(begin(s, "t1", "settle-changed", "a", LONG).await);
    // The lease still holds: the answer the settled document says is stored the ordinary way.
    assert!(s.complete(&l, &response(3)).await.unwrap());

    // Fenced out (the lease expired and was taken over): neither the document nor the answer.
    let old = acquire(s, "t1", "settle-fenced", "a", SHORT).await;
    tokio::time::sleep(SHORT * 2).await;
    let new = recover(s, "t1", "settle-fenced", "a", LONG).await;
    let sw = swap("op-fenced", 1, json!({"version": 2, "status": "succeeded"}));
    let w = s.complete_settling(&old, &response(4), &sw).await;
    assert_eq!(w.unwrap(), super::store::SettleWrite { swapped: false, stored: false });
    assert_eq!(version(docs.get_doc(&tenant, kind, "op-fenced").await.unwrap()), Some(1));
    assert_in_flight(begin(s, "t1", "settle-fenced", "a", LONG).await);
    assert!(s.complete(&new, &response(5)).await.unwrap());
}
