//! Redis ownership store.
//!
//! Keys: `<p>:own:<kind>:<id>` → tenant (global, for webhook routing; written with SET NX so the first
//! tenant wins); `<p>:{t:<tenant>}:meta:<kind>:<id>` → JSON meta; `<p>:{t:<tenant>}:idx:<kind>` → a
//! sorted set of positions (`<created>|<id>`, all scores 0, read with ZRANGE BYLEX REV);
//! `<p>:{t:<tenant>}:doc:<kind>:<id>` → JSON documents; `<p>:{t:<tenant>}:md:<kind>:<id>` → a hash, the
//! object's `metadata` (kept apart from the meta JSON so an attribute update never rewrites it, and
//! merged in one script). The owner key and the tenant's keys live in
//! different cluster slots, so a claim is: SET NX the owner (authoritative), then write the tenant's
//! keys (idempotent — a claim interrupted in between is completed by the next claim of the same id).

use std::sync::LazyLock;

use async_trait::async_trait;
use redis::AsyncCommands as _;

use super::{
    TenantId,
    ownership::{IndexPage, MetadataMerge, ObjectKind, ObjectMeta, OwnershipStore, position},
};
use crate::storage::{StoreError, redis::RedisPool};

pub struct RedisOwnershipStore {
    pool: RedisPool,
}

impl RedisOwnershipStore {
    pub fn new(pool: RedisPool) -> Self {
        Self { pool }
    }

    fn owner_key(&self, kind: ObjectKind, id: &str) -> String {
        self.pool.global_key(&["own", kind.as_str(), id])
    }
}

/// Lua: `doc_version(key)`, the `version` field of the JSON document at `key` (0 when absent or not a
/// versioned document). Shared with the idempotency store, whose completion script settles an
/// operation document in the same step (`idempotency::redis`).
pub(crate) const DOC_VERSION_FN: &str = r"
local function doc_version(key)
  local cur = redis.call('GET', key)
  if cur then
    local ok, d = pcall(cjson.decode, cur)
    if ok and type(d) == 'table' and tonumber(d['version']) then return tonumber(d['version']) end
  end
  return 0
end
";

/// KEYS[1] doc · ARGV[1] new JSON · ARGV[2] expected version (0 = absent). 1 = written.
const SWAP_DOC: &str = r"
if doc_version(KEYS[1]) ~= tonumber(ARGV[2]) then return 0 end
redis.call('SET', KEYS[1], ARGV[1])
return 1
";
static SWAP_DOC_SCRIPT: LazyLock<redis::Script> =
    LazyLock::new(|| redis::Script::new(&format!("{DOC_VERSION_FN}{SWAP_DOC}")));

/// The key of a tenant's versioned document (one cluster slot with the tenant's other keys).
pub(crate) fn doc_key(pool: &RedisPool, tenant: &str, kind: ObjectKind, id: &str) -> String {
    pool.tenant_key(tenant, &["doc", kind.as_str(), id])
}

/// KEYS[1] owner · ARGV[1] tenant. The owner after the claim (the first claimant's tenant), in one
/// round trip.
const CLAIM_OWNER: &str = r"
if redis.call('SET', KEYS[1], ARGV[1], 'NX') then return ARGV[1] end
return redis.call('GET', KEYS[1])
";

/// KEYS[1] doc, KEYS[2] meta, KEYS[3] index, KEYS[4..] aliases · ARGV[1] doc JSON, ARGV[2] meta JSON,
/// ARGV[3] index position, ARGV[4..] alias JSON. All keys are the tenant's (one cluster slot), so the
/// create is one round trip and all or nothing. 1 = created, 0 = the document exists (nothing written).
const CREATE_DOC: &str = r"
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('SET', KEYS[2], ARGV[2], 'NX')
redis.call('ZADD', KEYS[3], 0, ARGV[3])
for i = 4, #KEYS do redis.call('SET', KEYS[i], ARGV[i]) end
return 1
";

/// KEYS[1] meta, KEYS[2] index, KEYS[3] metadata hash · ARGV[1] meta JSON (without metadata), ARGV[2]
/// index position, ARGV[3..] metadata key, value pairs. The tenant's side of a claim: the metadata is
/// written with the record only when the record is new (a re-claim changes nothing).
const CLAIM_TENANT: &str = r"
if redis.call('SET', KEYS[1], ARGV[1], 'NX') then
  for i = 3, #ARGV, 2 do redis.call('HSET', KEYS[3], ARGV[i], ARGV[i + 1]) end
end
redis.call('ZADD', KEYS[2], 0, ARGV[2])
return 1
";

/// KEYS[1] meta, KEYS[2] metadata hash · ARGV[1] max keys, ARGV[2..] key, value pairs (`''` removes).
/// `{'ok', k1, v1, ...}` (the metadata now), `{'not_owned'}` or `{'too_many'}` (nothing written).
const MERGE_METADATA: &str = r"
if redis.call('EXISTS', KEYS[1]) == 0 then return {'not_owned'} end
local n = redis.call('HLEN', KEYS[2])
for i = 2, #ARGV, 2 do
  local has = redis.call('HEXISTS', KEYS[2], ARGV[i]) == 1
  if ARGV[i + 1] == '' then
    if has then n = n - 1 end
  elseif not has then
    n = n + 1
  end
end
if n > tonumber(ARGV[1]) then return {'too_many'} end
for i = 2, #ARGV, 2 do
  if ARGV[i + 1] == '' then redis.call('HDEL', KEYS[2], ARGV[i]) else redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1]) end
end
local out = {'ok'}
for _, x in ipairs(redis.call('HGETALL', KEYS[2])) do out[#out + 1] = x end
return out
";

/// The meta JSON as stored: without `metadata`, which lives in its own hash.
fn record_json(meta: &ObjectMeta) -> Result<String, StoreError> {
    let record = ObjectMeta { created_ms: meta.created_ms, attrs: meta.attrs.clone(), metadata: Default::default() };
    serde_json::to_string(&record).map_err(corrupt)
}

fn corrupt(e: serde_json::Error) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

#[async_trait]
impl OwnershipStore for RedisOwnershipStore {
    async fn claim(
        &self,
        tenant: &TenantId,
        kind: ObjectKind,
        id: &str,
        meta: &ObjectMeta,
    ) -> Result<bool, StoreError> {
        let owner_key = self.owner_key(kind, id);
        let t = tenant.as_str().to_owned();
        static CLAIM: LazyLock<redis::Script> = LazyLock::new(|| redis::Script::new(CLAIM_OWNER));
        let owner: String =
            self.pool.run(|mut c| async move { CLAIM.key(&owner_key).arg(&t).invoke_async(&mut c).await }).await?;
        if owner != tenant.as_str() {
            return Ok(false);
        }
        static TENANT_SIDE: LazyLock<redis::Script> = LazyLock::new(|| redis::Script::new(CLAIM_TENANT));
        let mut script = TENANT_SIDE.prepare_invoke();
        script
            .key(self.pool.tenant_key(tenant.as_str(), &["meta", kind.as_str(), id]))
            .key(self.pool.tenant_key(tenant.as_str(), &["idx", kind.as_str()]))
            .key(self.pool.tenant_key(tenant.as_str(), &["md", kind.as_str(), id]))
            .arg(record_json(meta)?)
            .arg(position(meta.created_ms, id));
        for (k, v) in &meta.metadata {
            script.arg(k).arg(v);
        }
        self.pool.run(|mut c| async move { script.invoke_async::<i64>(&mut c).await }).await?;
        Ok(true)
    }

    async fn get(&self, tenant: &TenantId, kind: ObjectKind, id: &str) -> Result<Option<ObjectMeta>, StoreError> {
        let key = self.pool.tenant_key(tenant.as_str(), &["meta", kind.as_str(), id]);
        let md_key = self.pool.tenant_key(tenant.as_str(), &["md", kind.as_str(), id]);
        let (raw, metadata): (Option<String>, std::collections::BTreeMap<String, String>) = self
            .pool
            .run(|mut c| async move { redis::pipe().get(&key).hgetall(&md_key).query_async(&mut c).await })
            .await?;
        let Some(raw) = raw else { return Ok(None) };
        let mut meta: ObjectMeta = serde_json::from_str(&raw).map_err(corrupt)?;
        meta.metadata = metadata;
        Ok(Some(meta))
    }

    /// Two round trips whatever the count: one MGET of the records (the tenant's keys share its cluster
    /// slot), one pipeline of the metadata hashes of those that exist.
    async fn get_many(
        &self,
        tenant: &TenantId,
        kind: ObjectKind,
        ids: &[String],
    ) -> Result<Vec<Option<ObjectMeta>>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let t = tenant.as_str();
        let keys: Vec<String> = ids.iter().map(|id| self.pool.tenant_key(t, &["meta", kind.as_str(), id])).collect();
        let raw: Vec<Option<String>> =
            self.pool.run(|mut c| async move { redis::cmd("MGET").arg(&keys).query_async(&mut c).await }).await?;
        let mut metas: Vec<Option<ObjectMeta>> = raw
            .into_iter()
            .map(|r| r.map(|s| serde_json::from_str(&s).map_err(corrupt)).transpose())
            .collect::<Result<_, _>>()?;
        let found: Vec<usize> = (0..metas.len()).filter(|&i| metas[i].is_some()).collect();
        if found.is_empty() {
            return Ok(metas);
        }
        let mut pipe = redis::pipe();
        for &i in &found {
            pipe.hgetall(self.pool.tenant_key(t, &["md", kind.as_str(), &ids[i]]));
        }
        let hashes: Vec<std::collections::BTreeMap<String, String>> =
            self.pool.run(|mut c| async move { pipe.query_async(&mut c).await }).await?;
        for (i, md) in found.into_iter().zip(hashes) {
            if let Some(m) = metas[i].as_mut() {
                m.metadata = md;
            }
        }
        Ok(metas)
    }

    async fn merge_metadata(
        &self,
        tenant: &TenantId,
        kind: ObjectKind,
        id: &str,
        patch: &std::collections::BTreeMap<String, String>,
        max_keys: usize,
    ) -> Result<MetadataMerge, StoreError> {
        static SCRIPT: LazyLock<redis::Script> = LazyLock::new(|| redis::Script::new(MERGE_METADATA));
        let mut script = SCRIPT.prepare_invoke();
        script
            .key(self.pool.tenant_key(tenant.as_str(), &["meta", kind.as_str(), id]))
            .key(self.pool.tenant_key(tenant.as_str(), &["md", kind.as_str(), id]))
            .arg(max_keys);
        for (k, v) in patch {
            script.arg(k).arg(v);
        }
        let out: Vec<String> = self.pool.run(|mut c| async move { script.invoke_async(&mut c).await }).await?;
        Ok(match out.split_first() {
            Some((status, pairs)) if status == "ok" => {
                MetadataMerge::Merged(pairs.chunks_exact(2).map(|p| (p[0].clone(), p[1].clone())).collect())
            }
            Some((status, _)) if status == "too_many" => MetadataMerge::TooManyKeys,
            _ => MetadataMerge::NotOwned,
        })
    }

    async fn update(&self, tenant: &TenantId, kind: ObjectKind, id: &str, meta: &ObjectMeta) -> Result<(), StoreError> {
        let key = self.pool.tenant_key(tenant.as_str(), &["meta", kind.as_str(), id]);
        let json = record_json(meta)?;
        self.pool
            .run(
                |mut c| async move { redis::cmd("SET").arg(&key).arg(&json).arg("XX").query_async::<()>(&mut c).await },
            )
            .await
    }

    async fn unindex(&self, tenant: &TenantId, kind: ObjectKind, id: &str, created_ms: i64) -> Result<(), StoreError> {
        let key = self.pool.tenant_key(tenant.as_str(), &["idx", kind.as_str()]);
        let pos = position(created_ms, id);
        self.pool.run(|mut c| async move { c.zrem::<_, _, ()>(&key, &pos).await }).await
    }

    async fn owner_of(&self, kind: ObjectKind, id: &str) -> Result<Option<TenantId>, StoreError> {
        let key = self.owner_key(kind, id);
        let raw: Option<String> = self.pool.run(|mut c| async move { c.get(&key).await }).await?;
        Ok(raw.and_then(|s| TenantId::parse(&s)))
    }

    async fn list(
        &self,
        tenant: &TenantId,
        kind: ObjectKind,
        after: Option<&str>,
        limit: usize,
    ) -> Result<IndexPage, StoreError> {
        let key = self.pool.tenant_key(tenant.as_str(), &["idx", kind.as_str()]);
        let (members, next) = self.pool.lex_page_rev(&key, after, limit).await?;
        let (positions, ids) = members
            .into_iter()
            .filter_map(|m| m.split_once('|').map(|(_, id)| id.to_owned()).map(|id| (m, id)))
            .unzip();
        Ok(IndexPage { ids, positions, next })
    }

    async fn put_doc(
        &self,
        tenant: &TenantId,
        kind: ObjectKind,
        id: &str,
        doc: &serde_json::Value,
    ) -> Result<(), StoreError> {
        let key = self.pool.tenant_key(tenant.as_str(), &["doc", kind.as_str(), id]);
        let json = serde_json::to_string(doc).map_err(corrupt)?;
        self.pool.run(|mut c| async move { c.set::<_, _, ()>(&key, &json).await }).await
    }

    async fn get_doc(
        &self,
        tenant: &TenantId,
        kind: ObjectKind,
        id: &str,
    ) -> Result<Option<serde_json::Value>, StoreError> {
        let key = self.pool.tenant_key(tenant.as_str(), &["doc", kind.as_str(), id]);
        let raw: Option<String> = self.pool.run(|mut c| async move { c.get(&key).await }).await?;
        raw.map(|s| serde_json::from_str(&s).map_err(corrupt)).transpose()
    }

    async fn swap_doc(
        &self,
        tenant: &TenantId,
        kind: ObjectKind,
        id: &str,
        expect: u64,
        doc: &serde_json::Value,
    ) -> Result<bool, StoreError> {
        let key = doc_key(&self.pool, tenant.as_str(), kind, id);
        let json = serde_json::to_string(doc).map_err(corrupt)?;
        let swapped: i64 = self
            .pool
            .run(|mut c| async move { SWAP_DOC_SCRIPT.key(&key).arg(&json).arg(expect).invoke_async(&mut c).await })
            .await?;
        Ok(swapped == 1)
    }

    async fn create_doc(
        &self,
        tenant: &TenantId,
        kind: ObjectKind,
        id: &str,
        doc: &serde_json::Value,
        meta: &ObjectMeta,
        aliases: &[(String, serde_json::Value)],
    ) -> Result<bool, StoreError> {
        let t = tenant.as_str();
        static SCRIPT: LazyLock<redis::Script> = LazyLock::new(|| redis::Script::new(CREATE_DOC));
        let mut script = SCRIPT.prepare_invoke();
        script
            .key(self.pool.tenant_key(t, &["doc", kind.as_str(), id]))
            .key(self.pool.tenant_key(t, &["meta", kind.as_str(), id]))
            .key(self.pool.tenant_key(t, &["idx", kind.as_str()]))
            .arg(serde_json::to_string(doc).map_err(corrupt)?)
            .arg(serde_json::to_string(meta).map_err(corrupt)?)
            .arg(position(meta.created_ms, id));
        for (alias, body) in aliases {
            script
                .key(self.pool.tenant_key(t, &["doc", kind.as_str(), alias]))
                .arg(serde_json::to_string(body).map_err(corrupt)?);
        }
        let created: i64 = self.pool.run(|mut c| async move { script.invoke_async(&mut c).await }).await?;
        Ok(created == 1)
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.pool.ping().await
    }
}
