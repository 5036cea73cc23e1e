//! Daily money caps: per tenant, per currency, per UTC day, the sum of card limits issued and
//! recharges. `reserve` atomically adds an amount if it stays within the cap; `release` gives a
//! reservation back when the upstream refused the operation.
//!
//! Amounts are counted as integers of **micro-units (scale 6: 1 unit = 1 000 000)**, which holds
//! every fiat minor unit and the usual 6-decimal stablecoins exactly. An amount with more than six
//! decimals is rounded *up* (a reservation never undercounts); a cap with more than six is rounded
//! *down*. Counters stay below 2^53 micro-units (≈ 9.007 billion units a day per tenant and
//! currency), where Lua's doubles in the Redis script are still exact; larger caps are refused as
//! configuration errors and larger amounts as `Invalid`.
//!
//! The UTC day is taken from the gateway's clock when reserving; a reservation remembers its day,
//! so a release after midnight credits the day it was charged to. Redis counters
//! (`<prefix>:{t:<tenant>}:cap:<CURRENCY>:<YYYY-MM-DD>`) expire three days after their last
//! reservation; in-memory ones are swept once their day is over.

use std::collections::{BTreeMap, HashMap};

use chrono::{Days, NaiveDate, Utc};
use parking_lot::Mutex;
use redis::Script;
use rust_decimal::{Decimal, prelude::ToPrimitive};

use crate::{
    config::{ConfigError, rate_limit::RateLimitSettings, stores::StoreKind},
    storage::{StoreError, redis::RedisPool},
};

/// Decimal places counted: amounts are integers of 10^-6 units.
pub const SCALE: u32 = 6;
const UNIT: i64 = 1_000_000;
/// Largest counter value: 2^53, where the Redis script's Lua doubles stop being exact.
const MAX_MICROS: i64 = 1 << 53;
const REDIS_TTL_S: u64 = 3 * 86_400;

/// KEYS: counter. ARGV: amount, cap, ttl s. Returns {1, new total} or {0, current total}.
const RESERVE: &str = r"
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
if used + tonumber(ARGV[1]) > tonumber(ARGV[2]) then return {0, used} end
local total = redis.call('INCRBY', KEYS[1], ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[3])
return {1, total}
";

/// KEYS: counter. ARGV: amount. Never below zero, never recreates an expired counter.
const RELEASE: &str = r"
local used = redis.call('GET', KEYS[1])
if not used then return 0 end
local amount = math.min(tonumber(ARGV[1]), tonumber(used))
return redis.call('DECRBY', KEYS[1], string.format('%.0f', amount))
";

static RESERVE_SCRIPT: std::sync::LazyLock<Script> = std::sync::LazyLock::new(|| Script::new(RESERVE));
static RELEASE_SCRIPT: std::sync::LazyLock<Script> = std::sync::LazyLock::new(|| Script::new(RELEASE));

/// An accepted reservation: hand it back to `release` if the upstream refused the operation.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Reservation {
    pub tenant: String,
    /// Upper-case.
    pub currency: String,
    pub day: NaiveDate,
    /// The amount counted (rounded up to six decimals).
    pub amount: Decimal,
    pub cap: Decimal,
    /// What is left of the cap today after this reservation.
    pub remaining: Decimal,
    micros: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CapDecision {
    /// No cap configured for this tenant and currency: nothing was counted.
    Uncapped,
    Reserved(Reservation),
    /// Refused: the amount does not fit in what is left today. Nothing was counted.
    Exceeded {
        cap: Decimal,
        remaining: Decimal,
    },
    /// The amount or currency cannot be counted (negative, too large, malformed currency). A reason
    /// fit for a 422 problem detail.
    Invalid(&'static str),
}

enum Backend {
    Memory(Mutex<MemoryCounters>),
    Redis(RedisPool),
}

#[derive(Default)]
struct MemoryCounters {
    used: HashMap<(String, String, NaiveDate), i64>,
    swept_for: Option<NaiveDate>,
}

pub struct MoneyCaps {
    /// Upper-case currency → cap in micro-units; per tenant overrides replace the global cap.
    global: BTreeMap<String, i64>,
    tenants: BTreeMap<String, BTreeMap<String, i64>>,
    backend: Backend,
}

impl std::fmt::Debug for MoneyCaps {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let backend = match self.backend {
            Backend::Memory(_) => "memory",
            Backend::Redis(_) => "redis",
        };
        f.debug_struct("MoneyCaps").field("global", &self.global).field("backend", &backend).finish()
    }
}

fn cap_micros(what: &str, cap: Decimal) -> Result<i64, ConfigError> {
    let micros = cap.checked_mul(Decimal::from(UNIT)).map(|d| d.floor()).and_then(|d| d.to_i64());
    match micros {
        Some(m) if (0..=MAX_MICROS).contains(&m) => Ok(m),
        _ => Err(ConfigError::Invalid(format!(
            "{what} must be between 0 and {} (got {cap})",
            Decimal::from(MAX_MICROS) / Decimal::from(UNIT)
        ))),
    }
}

fn caps(what: &str, caps: &BTreeMap<String, Decimal>) -> Result<BTreeMap<String, i64>, ConfigError> {
    caps.iter().map(|(cur, cap)| Ok((cur.to_ascii_uppercase(), cap_micros(&format!("{what}.{cur}"), *cap)?))).collect()
}

fn to_decimal(micros: i64) -> Decimal {
    Decimal::new(micros, SCALE).normalize()
}

/// Upper-cased currency code, or `None` if it is not 1–10 ASCII letters/digits.
fn currency_code(currency: &str) -> Option<String> {
    let ok = (1..=10).contains(&currency.len()) && currency.bytes().all(|b| b.is_ascii_alphanumeric());
    ok.then(|| currency.to_ascii_uppercase())
}

impl MoneyCaps {
    /// Counters in this process (one replica).
    pub fn memory(settings: &RateLimitSettings) -> Result<Self, ConfigError> {
        Self::build(settings, Backend::Memory(Mutex::new(MemoryCounters::default())))
    }

    /// Counters in Redis, shared by every replica.
    pub fn redis(settings: &RateLimitSettings, pool: RedisPool) -> Result<Self, ConfigError> {
        Self::build(settings, Backend::Redis(pool))
    }

    /// The backend `rate_limit.money_caps_store` selects; `pool` is required for `redis`.
    pub fn from_settings(settings: &RateLimitSettings, pool: Option<&RedisPool>) -> Result<Self, ConfigError> {
        match (settings.money_caps_store, pool) {
            (StoreKind::Memory, _) => Self::memory(settings),
            (StoreKind::Redis, Some(pool)) => Self::redis(settings, pool.clone()),
            (StoreKind::Redis, None) => {
                Err(ConfigError::Invalid("rate_limit.money_caps_store = \"redis\" needs redis.url".into()))
            }
        }
    }

    fn build(settings: &RateLimitSettings, backend: Backend) -> Result<Self, ConfigError> {
        let global = caps("rate_limit.money_caps", &settings.money_caps)?;
        let mut tenants = BTreeMap::new();
        for (tenant, o) in &settings.tenants {
            if !o.money_caps.is_empty() {
                tenants
                    .insert(tenant.clone(), caps(&format!("rate_limit.tenants.{tenant}.money_caps"), &o.money_caps)?);
            }
        }
        Ok(Self { global, tenants, backend })
    }

    /// The daily cap of `tenant` in `currency`, if any: its override, else the global one.
    pub fn cap(&self, tenant: &str, currency: &str) -> Option<Decimal> {
        self.cap_micros(tenant, &currency.to_ascii_uppercase()).map(to_decimal)
    }

    fn cap_micros(&self, tenant: &str, currency: &str) -> Option<i64> {
        self.tenants.get(tenant).and_then(|c| c.get(currency)).or_else(|| self.global.get(currency)).copied()
    }

    /// Counts `amount` against today's cap (UTC), atomically.
    pub async fn reserve(&self, tenant: &str, currency: &str, amount: Decimal) -> Result<CapDecision, StoreError> {
        self.reserve_on(Utc::now().date_naive(), tenant, currency, amount).await
    }

    /// `reserve` for a given day (tests, and callers that already fixed the operation's day).
    pub async fn reserve_on(
        &self,
        day: NaiveDate,
        tenant: &str,
        currency: &str,
        amount: Decimal,
    ) -> Result<CapDecision, StoreError> {
        let Some(currency) = currency_code(currency) else {
            return Ok(CapDecision::Invalid("the currency must be 1-10 ASCII letters or digits"));
        };
        let Some(cap) = self.cap_micros(tenant, &currency) else { return Ok(CapDecision::Uncapped) };
        if amount.is_sign_negative() && !amount.is_zero() {
            return Ok(CapDecision::Invalid("the amount must not be negative"));
        }
        let micros = amount.checked_mul(Decimal::from(UNIT)).map(|d| d.ceil()).and_then(|d| d.to_i64());
        let Some(micros) = micros.filter(|m| *m <= MAX_MICROS) else {
            return Ok(CapDecision::Invalid("the amount is too large to be counted against the daily cap"));
        };
        let (accepted, total) = match &self.backend {
            Backend::Memory(m) => reserve_memory(m, (tenant.to_owned(), currency.clone(), day), micros, cap),
            Backend::Redis(pool) => {
                let key = counter_key(pool, tenant, &currency, day);
                let reply: Vec<i64> = pool
                    .run(|mut conn| async move {
                        RESERVE_SCRIPT.key(key).arg(micros).arg(cap).arg(REDIS_TTL_S).invoke_async(&mut conn).await
                    })
                    .await?;
                match reply[..] {
                    [accepted, total] => (accepted == 1, total),
                    _ => return Err(StoreError::Corrupt(format!("money cap script replied {reply:?}"))),
                }
            }
        };
        let remaining = to_decimal((cap - total).max(0));
        Ok(if accepted {
            CapDecision::Reserved(Reservation {
                tenant: tenant.to_owned(),
                currency,
                day,
                amount: to_decimal(micros),
                cap: to_decimal(cap),
                remaining,
                micros,
            })
        } else {
            CapDecision::Exceeded { cap: to_decimal(cap), remaining }
        })
    }

    /// Gives a reservation back (the upstream refused the operation). Releasing twice would give
    /// back twice: call it once per reservation.
    pub async fn release(&self, r: &Reservation) -> Result<(), StoreError> {
        match &self.backend {
            Backend::Memory(m) => {
                let mut m = m.lock();
                if let Some(used) = m.used.get_mut(&(r.tenant.clone(), r.currency.clone(), r.day)) {
                    *used = (*used - r.micros).max(0);
                }
                Ok(())
            }
            Backend::Redis(pool) => {
                let key = counter_key(pool, &r.tenant, &r.currency, r.day);
                let micros = r.micros;
                let _: i64 = pool
                    .run(|mut conn| async move { RELEASE_SCRIPT.key(key).arg(micros).invoke_async(&mut conn).await })
                    .await?;
                Ok(())
            }
        }
    }
}

fn counter_key(pool: &RedisPool, tenant: &str, currency: &str, day: NaiveDate) -> String {
    pool.tenant_key(tenant, &["cap", currency, &day.format("%Y-%m-%d").to_string()])
}

fn reserve_memory(m: &Mutex<MemoryCounters>, id: (String, String, NaiveDate), micros: i64, cap: i64) -> (bool, i64) {
    let mut m = m.lock();
    let day = id.2;
    if m.swept_for.is_none_or(|d| d < day) {
        // Keep yesterday for late releases; older days can no longer matter.
        let keep_from = day.checked_sub_days(Days::new(1)).unwrap_or(day);
        m.used.retain(|k, _| k.2 >= keep_from);
        m.swept_for = Some(day);
    }
    let used = m.used.entry(id).or_insert(0);
    if *used + micros > cap {
        return (false, *used);
    }
    *used += micros;
    (true, *used)
}

#[cfg(test)]
mod tests;
