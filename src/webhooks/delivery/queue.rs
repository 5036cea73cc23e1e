//! The delivery queue contract and its in-process implementation.

use std::{
    collections::{BTreeSet, HashMap},
    ops::Bound,
    time::{Duration, Instant},
};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use parking_lot::Mutex;

use super::Queued;
use crate::storage::StoreError;

/// A delivery taken by a worker, fenced by `token`.
#[derive(Debug, Clone)]
pub struct Claim {
    pub item: Queued,
    pub token: String,
}

#[async_trait]
pub trait DeliveryQueue: Send + Sync + 'static {
    /// Records a delivery and schedules it now. `false` (nothing written) when its id exists: fanning an
    /// event out again after a crash or a platform retry creates no duplicate.
    async fn enqueue(&self, item: &Queued) -> Result<bool, StoreError>;

    /// Takes up to `max` due deliveries, hiding each from other workers for `lease`.
    async fn claim(&self, max: usize, lease: Duration) -> Result<Vec<Claim>, StoreError>;

    /// Saves the record and either reschedules it (`due`) or takes it off the schedule (`None`).
    /// `false` when the lease was lost meanwhile (another worker owns it now; nothing written).
    async fn settle(&self, claim: &Claim, updated: &Queued, due: Option<DateTime<Utc>>) -> Result<bool, StoreError>;

    async fn get(&self, id: &str) -> Result<Option<Queued>, StoreError>;

    /// An endpoint's deliveries, newest first, strictly before position `before`.
    async fn list_for_endpoint(
        &self,
        endpoint_id: &str,
        before: Option<&str>,
        limit: usize,
    ) -> Result<(Vec<Queued>, Option<String>), StoreError>;
}

pub fn new_token() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

#[derive(Default)]
struct Inner {
    records: HashMap<String, Queued>,
    due: BTreeSet<(i64, String)>,
    due_of: HashMap<String, i64>,
    leases: HashMap<String, (String, Instant)>,
    by_endpoint: HashMap<String, BTreeSet<String>>,
    /// When each record goes (its last write + the retention), as the Redis queue's key expiry does.
    expiry: BTreeSet<(Instant, String)>,
    expiry_of: HashMap<String, Instant>,
}

impl Inner {
    fn keep_until(&mut self, id: &str, until: Instant) {
        if let Some(old) = self.expiry_of.insert(id.to_owned(), until) {
            self.expiry.remove(&(old, id.to_owned()));
        }
        self.expiry.insert((until, id.to_owned()));
    }

    /// Forgets every record past its retention: its schedule, lease and listing entry go with it.
    fn prune(&mut self, now: Instant) {
        while let Some((at, id)) = self.expiry.first().cloned() {
            if at > now {
                break;
            }
            self.expiry.pop_first();
            self.expiry_of.remove(&id);
            self.schedule(&id, None);
            self.leases.remove(&id);
            if let Some(q) = self.records.remove(&id) {
                let ep = q.delivery.endpoint_id.clone();
                if let Some(idx) = self.by_endpoint.get_mut(&ep) {
                    idx.remove(&q.position());
                    if idx.is_empty() {
                        self.by_endpoint.remove(&ep);
                    }
                }
            }
        }
    }

    fn schedule(&mut self, id: &str, at_ms: Option<i64>) {
        if let Some(old) = self.due_of.remove(id) {
            self.due.remove(&(old, id.to_owned()));
        }
        if let Some(ms) = at_ms {
            self.due.insert((ms, id.to_owned()));
            self.due_of.insert(id.to_owned(), ms);
        }
    }
}

/// In-process queue (development, single replica): lost on restart. Records are kept for the
/// retention after their last change (`webhooks.delivery_retention_s`), then forgotten.
pub struct MemoryQueue {
    inner: Mutex<Inner>,
    retention: Duration,
}

impl MemoryQueue {
    pub fn new(retention: Duration) -> Self {
        Self { inner: Mutex::new(Inner::default()), retention }
    }
}

#[async_trait]
impl DeliveryQueue for MemoryQueue {
    async fn enqueue(&self, item: &Queued) -> Result<bool, StoreError> {
        let mut g = self.inner.lock();
        let now = Instant::now();
        g.prune(now);
        let id = item.delivery.id.clone();
        if g.records.contains_key(&id) {
            return Ok(false);
        }
        g.keep_until(&id, now + self.retention);
        g.by_endpoint.entry(item.delivery.endpoint_id.clone()).or_default().insert(item.position());
        g.records.insert(id.clone(), item.clone());
        g.schedule(&id, Some(Utc::now().timestamp_millis()));
        Ok(true)
    }

    async fn claim(&self, max: usize, lease: Duration) -> Result<Vec<Claim>, StoreError> {
        let now_ms = Utc::now().timestamp_millis();
        let mut g = self.inner.lock();
        g.prune(Instant::now());
        let due: Vec<String> = g.due.range(..(now_ms + 1, String::new())).take(max).map(|(_, id)| id.clone()).collect();
        let mut out = Vec::with_capacity(due.len());
        for id in due {
            let Some(item) = g.records.get(&id).cloned() else {
                g.schedule(&id, None);
                continue;
            };
            let token = new_token();
            g.leases.insert(id.clone(), (token.clone(), Instant::now() + lease));
            g.schedule(&id, Some(now_ms + lease.as_millis() as i64));
            out.push(Claim { item, token });
        }
        Ok(out)
    }

    async fn settle(&self, claim: &Claim, updated: &Queued, due: Option<DateTime<Utc>>) -> Result<bool, StoreError> {
        let mut g = self.inner.lock();
        let id = &claim.item.delivery.id;
        let held = g.leases.get(id).is_some_and(|(t, until)| *t == claim.token && *until > Instant::now());
        if !held {
            return Ok(false);
        }
        g.leases.remove(id);
        g.records.insert(id.clone(), updated.clone());
        g.keep_until(id, Instant::now() + self.retention);
        g.schedule(id, due.map(|d| d.timestamp_millis()));
        Ok(true)
    }

    async fn get(&self, id: &str) -> Result<Option<Queued>, StoreError> {
        let mut g = self.inner.lock();
        g.prune(Instant::now());
        Ok(g.records.get(id).cloned())
    }

    async fn list_for_endpoint(
        &self,
        endpoint_id: &str,
        before: Option<&str>,
        limit: usize,
    ) -> Result<(Vec<Queued>, Option<String>), StoreError> {
        let g = self.inner.lock();
        let Some(idx) = g.by_endpoint.get(endpoint_id) else { return Ok((Vec::new(), None)) };
        let upper = before.map_or(Bound::Unbounded, |b| Bound::Excluded(b.to_owned()));
        let mut items = Vec::new();
        let mut next = None;
        for pos in idx.range((Bound::Unbounded, upper)).rev() {
            if items.len() == limit {
                next = items.last().map(Queued::position);
                break;
            }
            if let Some(q) = pos.split_once('|').and_then(|(_, id)| g.records.get(id)) {
                items.push(q.clone());
            }
        }
        Ok((items, next))
    }
}

/// The contract both queues meet.
#[cfg(test)]
pub mod contract {
    use std::sync::Arc;

    use super::*;
    use crate::webhooks::delivery::DeliveryStatus;

    fn item(id: &str, ep: &str) -> Queued {
        Queued::new("acme", id.to_owned(), ep, &format!("evt_{id}"), "card.fee", false)
    }

    pub async fn enqueue_is_idempotent_and_claims_are_exclusive(q: Arc<dyn DeliveryQueue>) {
        assert!(q.enqueue(&item("d1", "we1")).await.unwrap());
        assert!(!q.enqueue(&item("d1", "we1")).await.unwrap(), "same id: nothing new");
        let first = q.claim(10, Duration::from_secs(5)).await.unwrap();
        assert_eq!(first.len(), 1);
        assert!(q.claim(10, Duration::from_secs(5)).await.unwrap().is_empty(), "leased: invisible");
        let mut done = first[0].item.clone();
        done.delivery.status = DeliveryStatus::Succeeded;
        assert!(q.settle(&first[0], &done, None).await.unwrap());
        assert!(!q.settle(&first[0], &done, None).await.unwrap(), "the lease is spent");
        assert_eq!(q.get("d1").await.unwrap().unwrap().delivery.status, DeliveryStatus::Succeeded);
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(q.claim(10, Duration::from_secs(5)).await.unwrap().is_empty(), "settled without due: off the schedule");
    }

    pub async fn an_expired_lease_makes_the_delivery_due_again(q: Arc<dyn DeliveryQueue>) {
        q.enqueue(&item("d2", "we1")).await.unwrap();
        let lost = q.claim(10, Duration::from_millis(100)).await.unwrap();
        assert_eq!(lost.len(), 1);
        tokio::time::sleep(Duration::from_millis(250)).await;
        let again = q.claim(10, Duration::from_secs(5)).await.unwrap();
        assert_eq!(again.len(), 1, "the dead worker's delivery comes back");
        assert!(!q.settle(&lost[0], &lost[0].item, None).await.unwrap(), "the old lease is fenced off");
        assert!(
            q.settle(&again[0], &again[0].item, Some(Utc::now() + chrono::Duration::milliseconds(100))).await.unwrap()
        );
        assert!(q.claim(10, Duration::from_secs(5)).await.unwrap().is_empty(), "rescheduled in the future");
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(q.claim(10, Duration::from_secs(5)).await.unwrap().len(), 1, "and due when its time comes");
    }

    pub async fn deliveries_list_per_endpoint_newest_first(q: Arc<dyn DeliveryQueue>) {
        for i in 0..5 {
            q.enqueue(&item(&format!("l{i}"), "we-list")).await.unwrap();
            q.enqueue(&item(&format!("o{i}"), "we-other")).await.unwrap();
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        let (page, next) = q.list_for_endpoint("we-list", None, 3).await.unwrap();
        assert_eq!(page.iter().map(|q| q.delivery.id.as_str()).collect::<Vec<_>>(), ["l4", "l3", "l2"]);
        let (rest, none) = q.list_for_endpoint("we-list", next.as_deref(), 3).await.unwrap();
        assert_eq!(rest.len(), 2);
        assert!(none.is_none());
    }

    /// `q` keeps records for one second.
    pub async fn records_are_forgotten_after_their_retention(q: Arc<dyn DeliveryQueue>) {
        q.enqueue(&item("r1", "we-ret")).await.unwrap();
        let claimed = q.claim(10, Duration::from_secs(5)).await.unwrap();
        let mut done = claimed[0].item.clone();
        done.delivery.status = DeliveryStatus::Succeeded;
        assert!(q.settle(&claimed[0], &done, None).await.unwrap());
        assert!(q.get("r1").await.unwrap().is_some(), "kept within the retention");
        tokio::time::sleep(Duration::from_millis(1300)).await;
        assert!(q.get("r1").await.unwrap().is_none(), "forgotten after it");
        assert!(q.list_for_endpoint("we-ret", None, 10).await.unwrap().0.is_empty());
        assert!(q.enqueue(&item("r1", "we-ret")).await.unwrap(), "its id is free again");
    }

    pub async fn run_all(make: impl Fn() -> Arc<dyn DeliveryQueue>) {
        enqueue_is_idempotent_and_claims_are_exclusive(make()).await;
        an_expired_lease_makes_the_delivery_due_again(make()).await;
        deliveries_list_per_endpoint_newest_first(make()).await;
    }
}

#[cfg(test)]
mod tests {
    use std::{sync::Arc, time::Duration};

    #[tokio::test]
    async fn memory_queue_meets_the_contract() {
        super::contract::run_all(|| Arc::new(super::MemoryQueue::new(Duration::from_secs(3600)))).await;
        super::contract::records_are_forgotten_after_their_retention(Arc::new(super::MemoryQueue::new(
            Duration::from_secs(1),
        )))
        .await;
    }
}
