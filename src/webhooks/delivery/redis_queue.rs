//! Redis delivery queue. The queue is the gateway's own work list, not tenant data, so its keys share
//! one hash tag (`{whq}`) and every script touches one cluster slot:
//! * `<p>:{whq}:due` — sorted set: delivery id → due time (ms). A claim pushes the score to the lease end.
//! * `<p>:{whq}:d:<id>` — the delivery record (JSON, tenant included), expires after `delivery_retention_s`.
//! * `<p>:{whq}:lease:<id>` — the current claim's token, expires with the lease (fencing `settle`).
//! * `<p>:{whq}:ep:<endpoint_id>` — sorted set of `<created_ms>|<id>` (listing, read with BYLEX).

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use redis::Script;

use super::{
    Queued,
    queue::{Claim, DeliveryQueue, new_token},
};
use crate::storage::{StoreError, redis::RedisPool};

const ENQUEUE: &str = r"
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[4])
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
redis.call('ZADD', KEYS[3], 0, ARGV[5])
redis.call('PEXPIRE', KEYS[3], ARGV[4])
return 1
";

// KEYS: due, lease, record. ARGV: id, token, lease_ms, lease_end_ms, now_ms.
const CLAIM: &str = r"
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not score or tonumber(score) > tonumber(ARGV[5]) then return false end
if not redis.call('SET', KEYS[2], ARGV[2], 'NX', 'PX', ARGV[3]) then return false end
local rec = redis.call('GET', KEYS[3])
if not rec then
  redis.call('ZREM', KEYS[1], ARGV[1])
  redis.call('DEL', KEYS[2])
  return false
end
redis.call('ZADD', KEYS[1], ARGV[4], ARGV[1])
return rec
";

// KEYS: due, lease, record. ARGV: id, token, json, due_ms ('' = done), retention_ms.
const SETTLE: &str = r"
if redis.call('GET', KEYS[2]) ~= ARGV[2] then return 0 end
redis.call('SET', KEYS[3], ARGV[3], 'PX', ARGV[5])
if ARGV[4] == '' then redis.call('ZREM', KEYS[1], ARGV[1]) else redis.call('ZADD', KEYS[1], ARGV[4], ARGV[1]) end
redis.call('DEL', KEYS[2])
return 1
";

pub struct RedisQueue {
    pool: RedisPool,
    retention_ms: u64,
    enqueue: Script,
    claim: Script,
    settle: Script,
}

fn corrupt(e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

impl RedisQueue {
    pub fn new(pool: RedisPool, retention: Duration) -> Self {
        Self {
            pool,
            retention_ms: (retention.as_millis() as u64).max(1000),
            enqueue: Script::new(ENQUEUE),
            claim: Script::new(CLAIM),
            settle: Script::new(SETTLE),
        }
    }

    fn key(&self, parts: &[&str]) -> String {
        let mut all = vec!["{whq}"];
        all.extend_from_slice(parts);
        self.pool.global_key(&all)
    }
}

#[async_trait]
impl DeliveryQueue for RedisQueue {
    async fn enqueue(&self, item: &Queued) -> Result<bool, StoreError> {
        let d = &item.delivery;
        let json = serde_json::to_string(item).map_err(corrupt)?;
        let keys = [self.key(&["d", &d.id]), self.key(&["due"]), self.key(&["ep", &d.endpoint_id])];
        let (now, id, pos, ttl) = (Utc::now().timestamp_millis(), d.id.clone(), item.position(), self.retention_ms);
        let script = &self.enqueue;
        let new: i64 = self
            .pool
            .run(|mut c| async move {
                script
                    .key(&keys[0])
                    .key(&keys[1])
                    .key(&keys[2])
                    .arg(&json)
                    .arg(now)
                    .arg(&id)
                    .arg(ttl)
                    .arg(&pos)
                    .invoke_async(&mut c)
                    .await
            })
            .await?;
        Ok(new == 1)
    }

    async fn claim(&self, max: usize, lease: Duration) -> Result<Vec<Claim>, StoreError> {
        let now = Utc::now().timestamp_millis();
        let due_key = self.key(&["due"]);
        let due = due_key.clone();
        let ids: Vec<String> = self
            .pool
            .run(|mut c| async move {
                redis::cmd("ZRANGEBYSCORE")
                    .arg(&due)
                    .arg("-inf")
                    .arg(now)
                    .arg("LIMIT")
                    .arg(0)
                    .arg(max)
                    .query_async(&mut c)
                    .await
            })
            .await?;
        let lease_ms = (lease.as_millis() as i64).max(1);
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let token = new_token();
            let keys = [due_key.clone(), self.key(&["lease", &id]), self.key(&["d", &id])];
            let script = &self.claim;
            let (tok, idc) = (token.clone(), id.clone());
            let rec: Option<String> = self
                .pool
                .run(|mut c| async move {
                    script
                        .key(&keys[0])
                        .key(&keys[1])
                        .key(&keys[2])
                        .arg(&idc)
                        .arg(&tok)
                        .arg(lease_ms)
                        .arg(now + lease_ms)
                        .arg(now)
                        .invoke_async(&mut c)
                        .await
                })
                .await?;
            if let Some(rec) = rec {
                out.push(Claim { item: serde_json::from_str(&rec).map_err(corrupt)?, token });
            }
        }
        Ok(out)
    }

    async fn settle(&self, claim: &Claim, updated: &Queued, due: Option<DateTime<Utc>>) -> Result<bool, StoreError> {
        let id = claim.item.delivery.id.clone();
        let keys = [self.key(&["due"]), self.key(&["lease", &id]), self.key(&["d", &id])];
        let json = serde_json::to_string(updated).map_err(corrupt)?;
        let due = due.map(|d| d.timestamp_millis().to_string()).unwrap_or_default();
        let (token, ttl) = (claim.token.clone(), self.retention_ms);
        let script = &self.settle;
        let ok: i64 = self
            .pool
            .run(|mut c| async move {
                script
                    .key(&keys[0])
                    .key(&keys[1])
                    .key(&keys[2])
                    .arg(&id)
                    .arg(&token)
                    .arg(&json)
                    .arg(&due)
                    .arg(ttl)
                    .invoke_async(&mut c)
                    .await
            })
            .await?;
        Ok(ok == 1)
    }

    async fn get(&self, id: &str) -> Result<Option<Queued>, StoreError> {
        let key = self.key(&["d", id]);
        let raw: Option<String> =
            self.pool.run(|mut c| async move { redis::cmd("GET").arg(&key).query_async(&mut c).await }).await?;
        raw.map(|s| serde_json::from_str(&s).map_err(corrupt)).transpose()
    }

    async fn list_for_endpoint(
        &self,
        endpoint_id: &str,
        before: Option<&str>,
        limit: usize,
    ) -> Result<(Vec<Queued>, Option<String>), StoreError> {
        let key = self.key(&["ep", endpoint_id]);
        let (members, next) = self.pool.lex_page_rev(&key, before, limit).await?;
        let keys: Vec<String> =
            members.iter().filter_map(|m| m.split_once('|')).map(|(_, id)| self.key(&["d", id])).collect();
        if keys.is_empty() {
            return Ok((Vec::new(), next));
        }
        let raws: Vec<Option<String>> =
            self.pool.run(|mut c| async move { redis::cmd("MGET").arg(&keys).query_async(&mut c).await }).await?;
        let items = raws.into_iter().flatten().filter_map(|s| serde_json::from_str(&s).ok()).collect();
        Ok((items, next))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::testing::redis_server::{RedisCluster, RedisServer};

    fn queues(pool: impl Fn(&str) -> RedisPool) -> impl Fn() -> Arc<dyn DeliveryQueue> {
        let n = std::sync::atomic::AtomicU32::new(0);
        move || {
            let prefix = format!("q{}", n.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
            Arc::new(RedisQueue::new(pool(&prefix), Duration::from_secs(60)))
        }
    }

    #[tokio::test]
    async fn redis_cluster_queue_meets_the_contract() {
        let Some(cluster) = RedisCluster::start() else { return };
        super::super::queue::contract::run_all(queues(|p| cluster.pool(p))).await;
    }

    #[tokio::test]
    async fn tls_redis_queue_meets_the_contract() {
        let Some(server) = RedisServer::start_tls() else { return };
        super::super::queue::contract::run_all(queues(|p| server.pool(p))).await;
    }

    #[tokio::test]
    async fn redis_queue_meets_the_contract() {
        let Some(server) = RedisServer::start() else { return };
        let n = std::sync::atomic::AtomicU32::new(0);
        super::super::queue::contract::run_all(|| {
            let prefix = format!("q{}", n.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
            let pool = RedisPool::connect(&server.url(), 4, Duration::from_secs(2), &prefix).unwrap();
            Arc::new(RedisQueue::new(pool, Duration::from_secs(60)))
        })
        .await;
        let pool = RedisPool::connect(&server.url(), 1, Duration::from_secs(2), "q-ret").unwrap();
        super::super::queue::contract::records_are_forgotten_after_their_retention(Arc::new(RedisQueue::new(
            pool,
            Duration::from_secs(1),
        )))
        .await;
    }
}
