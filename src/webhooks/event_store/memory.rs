//! In-process event log: per tenant, a map ordered by position, an id index (de-duplication) and a
//! per-object index. Positions are `<ms>-<seq>` like Redis stream ids, so cursors look the same.

use std::{
    collections::{BTreeMap, BTreeSet, HashMap},
    ops::Bound,
    time::Instant,
};

use async_trait::async_trait;
use parking_lot::Mutex;

use crate::{
    storage::StoreError,
    tenancy::TenantId,
    webhooks::events::{
        Appended, DeadLetter, Event, EventStore, LIST_SCAN_BUDGET, LogPage, LogQuery, Logged, Retention, parse_position,
    },
};

type Pos = (u64, u64);

fn fmt(p: Pos) -> String {
    format!("{}-{}", p.0, p.1)
}

#[derive(Default)]
struct TenantLog {
    entries: BTreeMap<Pos, Event>,
    /// Every id appended within the de-duplication window, also after its event left the log.
    by_id: HashMap<String, Pos>,
    /// `by_id` in append order with the time each id may be forgotten.
    id_expiry: std::collections::VecDeque<(Instant, String)>,
    by_object: HashMap<String, BTreeSet<Pos>>,
    secrets: HashMap<String, (Instant, serde_json::Value)>,
    last: Pos,
}

impl TenantLog {
    fn next_pos(&mut self) -> Pos {
        let now = chrono::Utc::now().timestamp_millis().max(0) as u64;
        let p = if now > self.last.0 { (now, 0) } else { (self.last.0, self.last.1 + 1) };
        self.last = p;
        p
    }

    fn remove(&mut self, pos: Pos) {
        if let Some(e) = self.entries.remove(&pos) {
            // The id stays in `by_id` until its de-duplication window ends (see `trim`).
            self.secrets.remove(&e.id);
            if let Some(set) = self.by_object.get_mut(&e.object.id) {
                set.remove(&pos);
                if set.is_empty() {
                    self.by_object.remove(&e.object.id);
                }
            }
        }
    }

    fn trim(&mut self, r: &Retention) {
        let cutoff = chrono::Utc::now().timestamp_millis().max(0) as u64;
        let cutoff = cutoff.saturating_sub(r.max_age.as_millis() as u64);
        while let Some((&pos, _)) = self.entries.first_key_value() {
            if pos.0 < cutoff || self.entries.len() > r.max_len {
                self.remove(pos);
            } else {
                break;
            }
        }
        let now = Instant::now();
        self.secrets.retain(|_, (until, _)| *until > now);
        // Ids are forgotten after their window, and beyond a bound (this store is for development:
        // memory first) — the Redis store keeps every id for its window.
        let max_ids = r.max_len.saturating_mul(4).max(1024);
        while let Some((until, id)) = self.id_expiry.front() {
            if *until > now && self.id_expiry.len() <= max_ids {
                break;
            }
            if self.by_id.get(id).is_some_and(|p| !self.entries.contains_key(p)) {
                self.by_id.remove(id);
            }
            self.id_expiry.pop_front();
        }
    }

    fn logged(&self, pos: Pos, event: &Event) -> Logged {
        let secret = self.secrets.get(&event.id).filter(|(until, _)| *until > Instant::now()).map(|(_, v)| v.clone());
        Logged { position: fmt(pos), event: event.clone(), secret }
    }
}

#[derive(Default)]
struct Inner {
    tenants: HashMap<TenantId, TenantLog>,
    dead: BTreeMap<Pos, DeadLetter>,
    dead_ids: HashMap<String, Pos>,
    dead_last: Pos,
}

#[derive(Default)]
pub struct MemoryEventStore {
    inner: Mutex<Inner>,
}

impl MemoryEventStore {
    pub fn new() -> Self {
        Self::default()
    }
}

fn before_bound(before: Option<&str>) -> Result<Bound<Pos>, StoreError> {
    match before {
        None => Ok(Bound::Unbounded),
        Some(b) => parse_position(b).map(Bound::Excluded).ok_or_else(|| StoreError::Corrupt("bad position".into())),
    }
}

#[async_trait]
impl EventStore for MemoryEventStore {
    async fn append(
        &self,
        tenant: &TenantId,
        event: &Event,
        secret: Option<&serde_json::Value>,
        retention: &Retention,
    ) -> Result<Appended, StoreError> {
        let mut g = self.inner.lock();
        let log = g.tenants.entry(tenant.clone()).or_default();
        if let Some(pos) = log.by_id.get(&event.id) {
            return Ok(Appended { position: fmt(*pos), new: false });
        }
        let pos = log.next_pos();
        log.entries.insert(pos, event.clone());
        log.by_id.insert(event.id.clone(), pos);
        log.id_expiry.push_back((Instant::now() + retention.dedupe_for.max(retention.max_age), event.id.clone()));
        log.by_object.entry(event.object.id.clone()).or_default().insert(pos);
        if let Some(s) = secret {
            log.secrets.insert(event.id.clone(), (Instant::now() + retention.secret_ttl, s.clone()));
        }
        log.trim(retention);
        Ok(Appended { position: fmt(pos), new: true })
    }

    async fn list(&self, tenant: &TenantId, q: &LogQuery) -> Result<LogPage, StoreError> {
        let bound = before_bound(q.before.as_deref())?;
        let g = self.inner.lock();
        let Some(log) = g.tenants.get(tenant) else { return Ok(LogPage::default()) };
        let candidates: Box<dyn Iterator<Item = Pos>> = match &q.object_id {
            Some(obj) => match log.by_object.get(obj) {
                Some(set) => Box::new(set.range((Bound::Unbounded, bound)).rev().copied()),
                None => return Ok(LogPage::default()),
            },
            None => Box::new(log.entries.range((Bound::Unbounded, bound)).rev().map(|(p, _)| *p)),
        };
        let mut page = LogPage::default();
        let mut last_seen = None;
        for (scanned, pos) in candidates.enumerate() {
            if page.entries.len() == q.limit || scanned == LIST_SCAN_BUDGET {
                page.next = last_seen.map(fmt);
                return Ok(page);
            }
            last_seen = Some(pos);
            let Some(e) = log.entries.get(&pos) else { continue };
            if q.kind.as_deref().is_some_and(|k| k != e.kind) {
                continue;
            }
            page.entries.push(log.logged(pos, e));
        }
        Ok(page)
    }

    async fn read_after(
        &self,
        tenant: &TenantId,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<Logged>, StoreError> {
        let lower = match after {
            None => Bound::Unbounded,
            Some(a) => Bound::Excluded(parse_position(a).ok_or_else(|| StoreError::Corrupt("bad position".into()))?),
        };
        let g = self.inner.lock();
        let Some(log) = g.tenants.get(tenant) else { return Ok(Vec::new()) };
        Ok(log.entries.range((lower, Bound::Unbounded)).take(limit).map(|(p, e)| log.logged(*p, e)).collect())
    }

    async fn get(&self, tenant: &TenantId, event_id: &str) -> Result<Option<Logged>, StoreError> {
        let g = self.inner.lock();
        let Some(log) = g.tenants.get(tenant) else { return Ok(None) };
        Ok(log.by_id.get(event_id).and_then(|p| log.entries.get(p).map(|e| log.logged(*p, e))))
    }

    async fn head(&self, tenant: &TenantId) -> Result<Option<String>, StoreError> {
        let g = self.inner.lock();
        Ok(g.tenants.get(tenant).and_then(|l| l.entries.last_key_value()).map(|(p, _)| fmt(*p)))
    }

    async fn dead_letter(&self, letter: &DeadLetter, max_len: usize) -> Result<bool, StoreError> {
        let mut g = self.inner.lock();
        if g.dead_ids.contains_key(&letter.id) {
            return Ok(false);
        }
        let now = chrono::Utc::now().timestamp_millis().max(0) as u64;
        let pos = if now > g.dead_last.0 { (now, 0) } else { (g.dead_last.0, g.dead_last.1 + 1) };
        g.dead_last = pos;
        g.dead.insert(pos, letter.clone());
        g.dead_ids.insert(letter.id.clone(), pos);
        while g.dead.len() > max_len {
            if let Some((_, old)) = g.dead.pop_first() {
                g.dead_ids.remove(&old.id);
            }
        }
        Ok(true)
    }

    async fn dead_letters(
        &self,
        before: Option<&str>,
        limit: usize,
    ) -> Result<(Vec<(String, DeadLetter)>, Option<String>), StoreError> {
        let bound = before_bound(before)?;
        let g = self.inner.lock();
        let mut items: Vec<(String, DeadLetter)> =
            g.dead.range((Bound::Unbounded, bound)).rev().take(limit + 1).map(|(p, d)| (fmt(*p), d.clone())).collect();
        let more = items.len() > limit;
        items.truncate(limit);
        let next = if more { items.last().map(|(p, _)| p.clone()) } else { None };
        Ok((items, next))
    }
}
