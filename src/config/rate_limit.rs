//! `[rate_limit]`: per tenant × route class limits, and per-tenant daily money caps (docs/product.md §10).

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::Deserialize;

use super::stores::StoreKind;

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum LimiterBackend {
    /// governor GCRA in this process.
    Local,
    /// One GCRA Lua script on Redis' clock: replicas share one limit.
    Redis,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Quota {
    /// Sustained requests per second.
    pub rate_per_s: f64,
    /// Requests admitted at once from idle.
    pub burst: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClassQuotas {
    pub read: Quota,
    pub write: Quota,
    pub sensitive: Quota,
    /// Requests whose body is larger than `server.max_body_bytes` (cardholders with ID images),
    /// charged on top of their route's class: each costs seconds of RSA.
    pub heavy: Quota,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct TenantOverride {
    pub read: Option<Quota>,
    pub write: Option<Quota>,
    pub sensitive: Option<Quota>,
    pub heavy: Option<Quota>,
    /// Overrides of `money_caps`, per currency.
    #[serde(default)]
    pub money_caps: BTreeMap<String, Decimal>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitSettings {
    pub enabled: bool,
    pub backend: LimiterBackend,
    /// Production accepts the in-process limiter only with this set: one replica. N replicas with
    /// in-process limiters give every tenant N× its limit.
    #[serde(default)]
    pub single_replica: bool,
    /// Upper bound of keyed limiter state kept in memory.
    pub max_tracked_keys: usize,
    pub classes: ClassQuotas,
    #[serde(default)]
    pub tenants: BTreeMap<String, TenantOverride>,
    /// Daily cap (UTC day) per currency on the sum of card limits issued and recharges, per tenant.
    #[serde(default)]
    pub money_caps: BTreeMap<String, Decimal>,
    /// Where the money-cap counters live: `memory` (one replica) or `redis` (shared by replicas).
    #[serde(default = "default_money_caps_store")]
    pub money_caps_store: StoreKind,
}

fn default_money_caps_store() -> StoreKind {
    StoreKind::Memory
}

impl RateLimitSettings {
    /// Whether any money cap is configured (globally or for a tenant).
    pub fn has_money_caps(&self) -> bool {
        !self.money_caps.is_empty() || self.tenants.values().any(|t| !t.money_caps.is_empty())
    }
}
