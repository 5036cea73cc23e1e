//! Redis idempotency store: one atomic Lua script per operation, on Redis' own clock (`TIME`), so
//! every replica agrees on when a lease expires.
//!
//! Key layout (both keys of a tenant share the `{t:<tenant>}` hash tag, so one Redis Cluster slot):
//! - `<prefix>:{t:<tenant>}:idem:<sha256-hex of the key>` — a hash: `state` (`in_progress`,
//!   `completed`, `unknown`), `fp` (fingerprint hex), `token`, `lease_until` (Redis ms, in_progress
//!   only), `resp_meta` (JSON `{status, headers}`) and `resp_body` (the raw body bytes) once
//!   completed. `PEXPIRE` = retention after each write (an in-progress record: at least its lease).
//! - `<prefix>:{t:<tenant>}:idem-fence` — the tenant's fencing counter (`INCR`), no expiry, so a
//!   token is never reused even after a record is abandoned or expires.
//!
//! Every call runs under the pool's deadline: a paused or dead Redis yields a `StoreError`.

use std::{sync::LazyLock, time::Duration};

use async_trait::async_trait;
use redis::{Script, Value};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{
    fingerprint::Fingerprint,
    key::IdempotencyKey,
    store::{Begin, DocSwap, IdempotencyStore, Lease, SettleWrite, StoreOptions, StoredResponse, swap_then_complete},
};
use crate::rate_limit::{
    Decision,
    redis::{GCRA_FN, GcraCharge},
};
use crate::storage::{StoreError, redis::RedisPool};
use crate::tenancy::redis::{DOC_VERSION_FN, doc_key};

/// Lua preamble: the time in ms on Redis' clock, and integer formatting that survives Lua's doubles.
/// (Redis ≥ 5 replicates script effects, so reading `TIME` before writing is allowed.)
const PRELUDE: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local function int(n) return string.format('%.0f', n) end
";

/// KEYS: record, fence. ARGV: fingerprint, lease ms, retention ms.
/// Returns {0|1 (recovering), token} | {2, ms left} | {3, resp_meta, resp_body} | {4}.
const BEGIN: &str = r"
local rec = redis.call('HMGET', KEYS[1], 'state', 'fp', 'lease_until')
local state, fp, lease_until = rec[1], rec[2], rec[3]
local lease, retention = tonumber(ARGV[2]), tonumber(ARGV[3])
local function acquire(recovering)
  local token = redis.call('INCR', KEYS[2])
  redis.call('DEL', KEYS[1])
  redis.call('HSET', KEYS[1], 'state', 'in_progress', 'fp', ARGV[1], 'token', int(token),
    'lease_until', int(now + lease))
  redis.call('PEXPIRE', KEYS[1], math.max(lease, retention))
  return {recovering, token}
end
if not state then return acquire(0) end
if fp ~= ARGV[1] then return {4} end
if state == 'completed' then
  local r = redis.call('HMGET', KEYS[1], 'resp_meta', 'resp_body')
  return {3, r[1], r[2]}
end
if state == 'in_progress' then
  local until_ms = tonumber(lease_until) or 0
  if now < until_ms then return {2, until_ms - now} end
  return acquire(1)
end
if state == 'unknown' then return acquire(1) end
return redis.error_reply('corrupt idempotency record state')
";

/// Checks that ARGV[1] (token) still holds KEYS[1] in progress; returns 0 from the script if not.
const HELD: &str = r"
local rec = redis.call('HMGET', KEYS[1], 'state', 'token')
if rec[1] ~= 'in_progress' or rec[2] ~= ARGV[1] then return 0 end
";

/// ARGV: token, lease ms, retention ms.
const RENEW: &str = r"
local lease, retention = tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('HSET', KEYS[1], 'lease_until', int(now + lease))
redis.call('PEXPIRE', KEYS[1], math.max(lease, retention))
return 1
";

/// ARGV: token, retention ms, resp_meta, resp_body.
const COMPLETE: &str = r"
redis.call('HSET', KEYS[1], 'state', 'completed', 'resp_meta', ARGV[3], 'resp_body', ARGV[4])
redis.call('HDEL', KEYS[1], 'lease_until')
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]))
return 1
";

/// KEYS: record, the operation document. ARGV: COMPLETE's, then the document's JSON and its expected
/// version. Returns 1 (both written) · 0 (fenced out) · 2 (the document changed first); 0 and 2 write
/// nothing.
///
/// Why the settlement and the answer are the step that merges (issue 9: a first execution in three
/// round trips — charged begin, the operation's create, this): the create must stay a step of its
/// own *before* the platform call, since it is what lets a retry find an operation that may have
/// reached the platform; the settlement and the answer both come after the call and say the same
/// thing. If Redis fails before or during this script, neither is written: the operation stays
/// `sending` (outcome unknown) and the key in progress until its lease ends, so the retry asks the
/// platform (order inquiry) before anything is sent again — what a failure between the two separate
/// writes led to before, minus the window where the operation was settled and its answer not stored.
/// The compare-and-set against the webhook path is unchanged: the document is written only at the
/// version the answer was computed from; when a webhook got there first, nothing is written and the
/// gateway settles the operation alone (reload, re-apply) and answers what that says.
const COMPLETE_SETTLING: &str = r"
if doc_version(KEYS[2]) ~= tonumber(ARGV[6]) then return 2 end
redis.call('SET', KEYS[2], ARGV[5])
";

/// ARGV: token, retention ms.
const MARK_UNKNOWN: &str = r"
redis.call('HSET', KEYS[1], 'state', 'unknown')
redis.call('HDEL', KEYS[1], 'lease_until')
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]))
return 1
";

/// ARGV: token.
const ABANDON: &str = r"
redis.call('DEL', KEYS[1])
return 1
";

static BEGIN_SCRIPT: LazyLock<Script> = LazyLock::new(|| Script::new(&format!("{PRELUDE}{BEGIN}")));
/// KEYS: record, fence, rate-limit bucket. ARGV: BEGIN's, then the charge's interval µs, burst, cost.
/// Returns {gcra reply, BEGIN's reply} — BEGIN's is empty when the charge was refused (nothing begun).
static CHARGED_BEGIN_SCRIPT: LazyLock<Script> = LazyLock::new(|| {
    Script::new(&format!(
        "{PRELUDE}{GCRA_FN}
local rl = gcra(KEYS[3], tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6]))
if rl[1] == 0 then return {{rl, {{}}}} end
local function begin()
{BEGIN}
end
return {{rl, begin()}}"
    ))
});
static RENEW_SCRIPT: LazyLock<Script> = LazyLock::new(|| Script::new(&format!("{PRELUDE}{HELD}{RENEW}")));
static COMPLETE_SCRIPT: LazyLock<Script> = LazyLock::new(|| Script::new(&format!("{PRELUDE}{HELD}{COMPLETE}")));
static COMPLETE_SETTLING_SCRIPT: LazyLock<Script> =
    LazyLock::new(|| Script::new(&format!("{PRELUDE}{DOC_VERSION_FN}{HELD}{COMPLETE_SETTLING}{COMPLETE}")));
static HOLDS_SCRIPT: LazyLock<Script> = LazyLock::new(|| Script::new(&format!("{PRELUDE}{HELD}return 1")));
static UNKNOWN_SCRIPT: LazyLock<Script> = LazyLock::new(|| Script::new(&format!("{PRELUDE}{HELD}{MARK_UNKNOWN}")));
static ABANDON_SCRIPT: LazyLock<Script> = LazyLock::new(|| Script::new(&format!("{PRELUDE}{HELD}{ABANDON}")));

/// Status and headers of a stored response; the body is kept apart as raw bytes.
#[derive(Serialize, Deserialize)]
struct ResponseMeta {
    status: u16,
    headers: Vec<(String, String)>,
}

#[derive(Debug, Clone)]
pub struct RedisIdempotencyStore {
    pool: RedisPool,
    opts: StoreOptions,
    /// The tenants' documents (`tenancy.store = "redis"`) live in this Redis: `complete_settling`
    /// writes the document in its own script.
    docs_here: bool,
}

impl RedisIdempotencyStore {
    pub fn new(pool: RedisPool, opts: StoreOptions) -> Self {
        Self { pool, opts, docs_here: false }
    }

    /// The ownership store's documents are in this store's Redis (`tenancy.store = "redis"`, same
    /// pool): a completion settles its operation document in the same script.
    pub fn with_docs_here(mut self, here: bool) -> Self {
        self.docs_here = here;
        self
    }

    fn record_key(&self, tenant: &str, key: &str) -> String {
        // Hashed: keeps Redis keys short and free of the client's characters.
        let digest = hex::encode(Sha256::digest(key.as_bytes()));
        self.pool.tenant_key(tenant, &["idem", &digest])
    }

    fn fence_key(&self, tenant: &str) -> String {
        self.pool.tenant_key(tenant, &["idem-fence"])
    }

    /// [`IdempotencyStore::begin`] preceded, in the same script and round trip, by a rate-limit charge on
    /// the tenant's bucket (all in the tenant's slot). A refused charge begins nothing.
    pub async fn begin_charged(
        &self,
        tenant: &str,
        key: &IdempotencyKey,
        fp: &Fingerprint,
        lease: Duration,
        charge: &GcraCharge,
    ) -> Result<(Decision, Option<Begin>), StoreError> {
        let (record, fence) = (self.record_key(tenant, key.as_str()), self.fence_key(tenant));
        let (fp_hex, lease_ms, retention_ms) = (fp.to_hex(), ms(lease), ms(self.opts.retention));
        let (bucket, interval, burst, cost) = (charge.key.clone(), charge.interval_us, charge.burst, charge.cost);
        let reply: Vec<Value> = self
            .pool
            .run(|mut conn| async move {
                CHARGED_BEGIN_SCRIPT
                    .key(record)
                    .key(fence)
                    .key(bucket)
                    .arg(fp_hex)
                    .arg(lease_ms)
                    .arg(retention_ms)
                    .arg(interval)
                    .arg(burst)
                    .arg(cost)
                    .invoke_async(&mut conn)
                    .await
            })
            .await?;
        let (Some(Value::Array(rl)), Some(Value::Array(begun))) = (reply.first(), reply.get(1)) else {
            return Err(corrupt("unexpected charged-begin reply"));
        };
        let rl: Vec<i64> = rl.iter().map(|v| int(Some(v))).collect::<Result<_, _>>()?;
        let decision = charge.decision(&rl)?;
        if !decision.allowed {
            return Ok((decision, None));
        }
        let lease = Lease { tenant: tenant.to_owned(), key: key.as_str().to_owned(), token: 0 };
        Ok((decision, Some(parse_begin(begun, lease, &self.opts)?)))
    }

    /// Runs one of the lease-checked scripts; `true` when it wrote.
    async fn held(&self, script: &'static Script, lease: &Lease, args: Vec<Vec<u8>>) -> Result<bool, StoreError> {
        let record = self.record_key(&lease.tenant, &lease.key);
        let token = lease.token.to_string();
        let written: i64 = self
            .pool
            .run(|mut conn| async move {
                let mut inv = script.prepare_invoke();
                inv.key(record).arg(token);
                for a in args {
                    inv.arg(a);
                }
                inv.invoke_async(&mut conn).await
            })
            .await?;
        Ok(written == 1)
    }
}

fn ms(d: Duration) -> u64 {
    // Redis rejects a zero expiry; a lease or retention under 1 ms rounds up.
    (d.as_millis().min(u128::from(u64::MAX)) as u64).max(1)
}

fn corrupt(what: &str) -> StoreError {
    StoreError::Corrupt(format!("idempotency record: {what}"))
}

fn int(v: Option<&Value>) -> Result<i64, StoreError> {
    match v {
        Some(Value::Int(n)) => Ok(*n),
        _ => Err(corrupt("expected an integer in the script reply")),
    }
}

fn bytes(v: Option<&Value>) -> Result<&[u8], StoreError> {
    match v {
        Some(Value::BulkString(b)) => Ok(b),
        _ => Err(corrupt("completed record without a stored response")),
    }
}

fn parse_begin(reply: &[Value], lease: Lease, opts: &StoreOptions) -> Result<Begin, StoreError> {
    match int(reply.first())? {
        kind @ (0 | 1) => {
            let token = u64::try_from(int(reply.get(1))?).map_err(|_| corrupt("negative fencing token"))?;
            Ok(Begin::Acquired { lease: Lease { token, ..lease }, recovering: kind == 1 })
        }
        2 => {
            let left = u64::try_from(int(reply.get(1))?).unwrap_or(0);
            Ok(opts.in_flight(Duration::from_millis(left)))
        }
        3 => {
            let meta: ResponseMeta = serde_json::from_slice(bytes(reply.get(1))?)
                .map_err(|e| corrupt(&format!("stored response metadata: {e}")))?;
            let body = bytes(reply.get(2))?.to_vec();
            Ok(Begin::Completed(StoredResponse { status: meta.status, headers: meta.headers, body }))
        }
        4 => Ok(Begin::Mismatch),
        _ => Err(corrupt("unexpected script reply")),
    }
}

#[async_trait]
impl IdempotencyStore for RedisIdempotencyStore {
    async fn begin(
        &self,
        tenant: &str,
        key: &IdempotencyKey,
        fp: &Fingerprint,
        lease: Duration,
    ) -> Result<Begin, StoreError> {
        let (record, fence) = (self.record_key(tenant, key.as_str()), self.fence_key(tenant));
        let (fp_hex, lease_ms, retention_ms) = (fp.to_hex(), ms(lease), ms(self.opts.retention));
        let reply: Vec<Value> = self
            .pool
            .run(|mut conn| async move {
                BEGIN_SCRIPT
                    .key(record)
                    .key(fence)
                    .arg(fp_hex)
                    .arg(lease_ms)
                    .arg(retention_ms)
                    .invoke_async(&mut conn)
                    .await
            })
            .await?;
        let lease = Lease { tenant: tenant.to_owned(), key: key.as_str().to_owned(), token: 0 };
        parse_begin(&reply, lease, &self.opts)
    }

    async fn renew(&self, lease: &Lease, lease_for: Duration) -> Result<bool, StoreError> {
        let args = vec![ms(lease_for).to_string().into_bytes(), ms(self.opts.retention).to_string().into_bytes()];
        self.held(&RENEW_SCRIPT, lease, args).await
    }

    async fn complete(&self, lease: &Lease, resp: &StoredResponse) -> Result<bool, StoreError> {
        let meta = serde_json::to_vec(&ResponseMeta { status: resp.status, headers: resp.headers.clone() })
            .map_err(|e| corrupt(&format!("cannot encode the response: {e}")))?;
        let args = vec![ms(self.opts.retention).to_string().into_bytes(), meta, resp.body.clone()];
        self.held(&COMPLETE_SCRIPT, lease, args).await
    }

    async fn mark_unknown(&self, lease: &Lease) -> Result<bool, StoreError> {
        self.held(&UNKNOWN_SCRIPT, lease, vec![ms(self.opts.retention).to_string().into_bytes()]).await
    }

    async fn abandon(&self, lease: &Lease) -> Result<bool, StoreError> {
        self.held(&ABANDON_SCRIPT, lease, vec![]).await
    }

    fn settles_in_one_step(&self) -> bool {
        self.docs_here
    }

    async fn holds(&self, lease: &Lease) -> Result<bool, StoreError> {
        self.held(&HOLDS_SCRIPT, lease, vec![]).await
    }

    async fn complete_settling(
        &self,
        lease: &Lease,
        resp: &StoredResponse,
        swap: &DocSwap,
    ) -> Result<SettleWrite, StoreError> {
        // One script needs both keys in one slot: the same tenant's (always so for an operation).
        if !self.docs_here || swap.tenant.as_str() != lease.tenant {
            return swap_then_complete(self, lease, resp, swap).await;
        }
        let meta = serde_json::to_vec(&ResponseMeta { status: resp.status, headers: resp.headers.clone() })
            .map_err(|e| corrupt(&format!("cannot encode the response: {e}")))?;
        let doc = serde_json::to_vec(&swap.doc).map_err(|e| corrupt(&format!("cannot encode the document: {e}")))?;
        let record = self.record_key(&lease.tenant, &lease.key);
        let doc_key = doc_key(&self.pool, swap.tenant.as_str(), swap.kind, &swap.id);
        let (token, retention_ms, expect) = (lease.token.to_string(), ms(self.opts.retention), swap.expect);
        let body = resp.body.clone();
        let written: i64 = self
            .pool
            .run(|mut conn| async move {
                COMPLETE_SETTLING_SCRIPT
                    .key(record)
                    .key(doc_key)
                    .arg(token)
                    .arg(retention_ms)
                    .arg(meta)
                    .arg(body)
                    .arg(doc)
                    .arg(expect)
                    .invoke_async(&mut conn)
                    .await
            })
            .await?;
        let both = written == 1;
        Ok(SettleWrite { swapped: both, stored: both })
    }
}

#[cfg(test)]
mod tests;
