//! Redis event log.
//!
//! Keys (all of a tenant's in one cluster slot, `{t:<tenant>}`):
//! * `<p>:{t:<tenant>}:ev:log` — stream; each entry `e` = event JSON, `s` = `1` when secret fields exist.
//!   Auto ids (`<ms>-<seq>`) are the positions; trimmed by age (`MINID`) and length (`MAXLEN ~`).
//! * `<p>:{t:<tenant>}:ev:id:<event_id>` — position of the event (de-duplication), expires after
//!   `Retention::dedupe_for` (longer than the log keeps the event, so late replays stay duplicates).
//! * `<p>:{t:<tenant>}:ev:obj:<object_id>` — stream with the same ids for one object (filter by object id),
//!   expires with retention.
//! * `<p>:{t:<tenant>}:ev:secret:<event_id>` — OTP / activation code JSON, expires after `secret_ttl_s`.
//! * `<p>:{dl}:log` and `<p>:{dl}:id:<event_id>` — the dead-letter stream and its de-duplication keys.
//!
//! An append is one Lua script (check id → XADD → index → secret), so concurrent duplicates make one entry.

use std::collections::HashMap;

use async_trait::async_trait;
use redis::{Script, streams::StreamRangeReply};

use crate::{
    storage::{StoreError, redis::RedisPool},
    tenancy::TenantId,
    webhooks::events::{
        Appended, DeadLetter, Event, EventStore, LIST_SCAN_BUDGET, LogPage, LogQuery, Logged, Retention,
    },
};

const APPEND: &str = r"
local existing = redis.call('GET', KEYS[2])
if existing then return {0, existing} end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local minid = tostring(math.max(0, now - tonumber(ARGV[2]))) .. '-0'
local flag = '0'
if ARGV[4] ~= '' then flag = '1' end
local id = redis.call('XADD', KEYS[1], 'MINID', '~', minid, '*', 'e', ARGV[1], 's', flag)
redis.call('XTRIM', KEYS[1], 'MAXLEN', '~', ARGV[3])
redis.call('SET', KEYS[2], id, 'PX', ARGV[6])
redis.call('XADD', KEYS[3], 'MINID', '~', minid, id, 'e', ARGV[1], 's', flag)
redis.call('PEXPIRE', KEYS[3], ARGV[2])
if ARGV[4] ~= '' then redis.call('SET', KEYS[4], ARGV[4], 'PX', ARGV[5]) end
return {1, id}
";

const DEAD_LETTER: &str = r"
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*', 'e', ARGV[1])
redis.call('SET', KEYS[2], id, 'PX', ARGV[3])
return 1
";

pub struct RedisEventStore {
    pool: RedisPool,
    append: Script,
    dead: Script,
    /// How long dead-letter de-duplication keys live.
    dead_ttl_ms: u64,
}

fn corrupt(e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

impl RedisEventStore {
    pub fn new(pool: RedisPool, dead_ttl_ms: u64) -> Self {
        Self { pool, append: Script::new(APPEND), dead: Script::new(DEAD_LETTER), dead_ttl_ms: dead_ttl_ms.max(1) }
    }

    fn key(&self, tenant: &TenantId, parts: &[&str]) -> String {
        let mut all = vec!["ev"];
        all.extend_from_slice(parts);
        self.pool.tenant_key(tenant.as_str(), &all)
    }

    fn dl_key(&self, parts: &[&str]) -> String {
        let mut all = vec!["{dl}"];
        all.extend_from_slice(parts);
        self.pool.global_key(&all)
    }

    /// Decodes stream entries and attaches live secrets (one MGET for those flagged).
    async fn decode(&self, tenant: &TenantId, reply: StreamRangeReply) -> Result<Vec<Logged>, StoreError> {
        let mut out = Vec::with_capacity(reply.ids.len());
        let mut wanted = Vec::new();
        for sid in reply.ids {
            let json: String = sid.get("e").ok_or_else(|| corrupt("stream entry without event"))?;
            let event: Event = serde_json::from_str(&json).map_err(corrupt)?;
            let flagged = sid.get::<String>("s").is_some_and(|s| s == "1");
            if flagged {
                wanted.push((out.len(), self.key(tenant, &["secret", &event.id])));
            }
            out.push(Logged { position: sid.id, event, secret: None });
        }
        if !wanted.is_empty() {
            let keys: Vec<String> = wanted.iter().map(|(_, k)| k.clone()).collect();
            let values: Vec<Option<String>> =
                self.pool.run(|mut c| async move { redis::cmd("MGET").arg(&keys).query_async(&mut c).await }).await?;
            for ((index, _), v) in wanted.into_iter().zip(values) {
                if let (Some(entry), Some(v)) = (out.get_mut(index), v) {
                    entry.secret = serde_json::from_str(&v).ok();
                }
            }
        }
        Ok(out)
    }

    async fn range(
        &self,
        key: String,
        rev: bool,
        from: String,
        to: String,
        count: usize,
    ) -> Result<StreamRangeReply, StoreError> {
        self.pool
            .run(|mut c| async move {
                redis::cmd(if rev { "XREVRANGE" } else { "XRANGE" })
                    .arg(&key)
                    .arg(&from)
                    .arg(&to)
                    .arg("COUNT")
                    .arg(count)
                    .query_async(&mut c)
                    .await
            })
            .await
    }
}

#[async_trait]
impl EventStore for RedisEventStore {
    async fn append(
        &self,
        tenant: &TenantId,
        event: &Event,
        secret: Option<&serde_json::Value>,
        retention: &Retention,
    ) -> Result<Appended, StoreError> {
        let json = serde_json::to_string(event).map_err(corrupt)?;
        let secret = secret.map(serde_json::to_string).transpose().map_err(corrupt)?.unwrap_or_default();
        let keys = [
            self.key(tenant, &["log"]),
            self.key(tenant, &["id", &event.id]),
            self.key(tenant, &["obj", &event.object.id]),
            self.key(tenant, &["secret", &event.id]),
        ];
        let age_ms = (retention.max_age.as_millis() as u64).max(1);
        let ttl_ms = (retention.secret_ttl.as_millis() as u64).max(1);
        let dedupe_ms = (retention.dedupe_for.max(retention.max_age).as_millis() as u64).max(1);
        let script = &self.append;
        let (new, position): (i64, String) = self
            .pool
            .run(|mut c| async move {
                script
                    .key(&keys[0])
                    .key(&keys[1])
                    .key(&keys[2])
                    .key(&keys[3])
                    .arg(&json)
                    .arg(age_ms)
                    .arg(retention.max_len)
                    .arg(&secret)
                    .arg(ttl_ms)
                    .arg(dedupe_ms)
                    .invoke_async(&mut c)
                    .await
            })
            .await?;
        Ok(Appended { position, new: new == 1 })
    }

    async fn list(&self, tenant: &TenantId, q: &LogQuery) -> Result<LogPage, StoreError> {
        let key = match &q.object_id {
            Some(obj) => self.key(tenant, &["obj", obj]),
            None => self.key(tenant, &["log"]),
        };
        let mut page = LogPage::default();
        let mut from = q.before.as_ref().map_or_else(|| "+".to_owned(), |b| format!("({b}"));
        let mut scanned = 0;
        let mut last: Option<String> = None;
        let batch = if q.kind.is_some() { 200 } else { q.limit + 1 };
        loop {
            let reply = self.range(key.clone(), true, from, "-".to_owned(), batch).await?;
            let exhausted = reply.ids.len() < batch;
            for e in self.decode(tenant, reply).await? {
                if page.entries.len() == q.limit || scanned == LIST_SCAN_BUDGET {
                    page.next = last;
                    return Ok(page);
                }
                scanned += 1;
                last = Some(e.position.clone());
                if q.kind.as_deref().is_none_or(|k| k == e.event.kind) {
                    page.entries.push(e);
                }
            }
            match (&last, exhausted) {
                (Some(l), false) => from = format!("({l}"),
                _ => return Ok(page),
            }
        }
    }

    async fn read_after(
        &self,
        tenant: &TenantId,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<Logged>, StoreError> {
        let from = after.map_or_else(|| "-".to_owned(), |a| format!("({a}"));
        let reply = self.range(self.key(tenant, &["log"]), false, from, "+".to_owned(), limit).await?;
        self.decode(tenant, reply).await
    }

    async fn get(&self, tenant: &TenantId, event_id: &str) -> Result<Option<Logged>, StoreError> {
        let id_key = self.key(tenant, &["id", event_id]);
        let pos: Option<String> =
            self.pool.run(|mut c| async move { redis::cmd("GET").arg(&id_key).query_async(&mut c).await }).await?;
        let Some(pos) = pos else { return Ok(None) };
        let reply = self.range(self.key(tenant, &["log"]), false, pos.clone(), pos, 1).await?;
        Ok(self.decode(tenant, reply).await?.into_iter().next())
    }

    async fn head(&self, tenant: &TenantId) -> Result<Option<String>, StoreError> {
        let reply = self.range(self.key(tenant, &["log"]), true, "+".to_owned(), "-".to_owned(), 1).await?;
        Ok(reply.ids.into_iter().next().map(|s| s.id))
    }

    async fn dead_letter(&self, letter: &DeadLetter, max_len: usize) -> Result<bool, StoreError> {
        let json = serde_json::to_string(letter).map_err(corrupt)?;
        let (log, id) = (self.dl_key(&["log"]), self.dl_key(&["id", &letter.id]));
        let script = &self.dead;
        let ttl = self.dead_ttl_ms;
        let new: i64 = self
            .pool
            .run(|mut c| async move {
                script.key(&log).key(&id).arg(&json).arg(max_len).arg(ttl).invoke_async(&mut c).await
            })
            .await?;
        Ok(new == 1)
    }

    async fn dead_letters(
        &self,
        before: Option<&str>,
        limit: usize,
    ) -> Result<(Vec<(String, DeadLetter)>, Option<String>), StoreError> {
        let from = before.map_or_else(|| "+".to_owned(), |b| format!("({b}"));
        let reply = self.range(self.dl_key(&["log"]), true, from, "-".to_owned(), limit + 1).await?;
        let mut items = Vec::with_capacity(reply.ids.len());
        for sid in reply.ids {
            let map: &HashMap<String, redis::Value> = &sid.map;
            let json: String = match map.get("e") {
                Some(v) => redis::from_redis_value(v).map_err(corrupt)?,
                None => continue,
            };
            items.push((sid.id.clone(), serde_json::from_str::<DeadLetter>(&json).map_err(corrupt)?));
        }
        let more = items.len() > limit;
        items.truncate(limit);
        let next = if more { items.last().map(|(p, _)| p.clone()) } else { None };
        Ok((items, next))
    }
}
