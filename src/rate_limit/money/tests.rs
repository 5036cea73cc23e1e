//! The same checks against both backends (Redis ones skip loudly without redis-server).

use std::{str::FromStr, sync::Arc, time::Duration};

use futures_util::future::join_all;

use super::*;
use crate::{
    config::{Settings, rate_limit::TenantOverride},
    testing::redis_server::{RedisCluster, RedisServer},
};

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

fn settings() -> RateLimitSettings {
    let mut s = Settings::defaults().unwrap().rate_limit;
    s.money_caps.insert("USD".into(), dec("100.00"));
    s.money_caps.insert("usdt".into(), dec("10.5"));
    let mut o = TenantOverride::default();
    o.money_caps.insert("USD".into(), dec("1000"));
    o.money_caps.insert("EUR".into(), dec("50"));
    s.tenants.insert("big".into(), o);
    s
}

fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 5, d).unwrap()
}

async fn reserve(c: &MoneyCaps, tenant: &str, cur: &str, amount: &str) -> CapDecision {
    c.reserve_on(day(1), tenant, cur, dec(amount)).await.unwrap()
}

fn reserved(d: CapDecision) -> Reservation {
    match d {
        CapDecision::Reserved(r) => r,
        other => panic!("expected Reserved, got {other:?}"),
    }
}

async fn caps_refuse_past_the_cap(c: &MoneyCaps) {
    let r = reserved(reserve(c, "t1", "USD", "60").await);
    assert_eq!((r.amount, r.cap, r.remaining), (dec("60"), dec("100"), dec("40")));
    assert_eq!(reserve(c, "t1", "USD", "40.01").await, CapDecision::Exceeded { cap: dec("100"), remaining: dec("40") });
    let r2 = reserved(reserve(c, "t1", "usd", "40").await);
    assert_eq!((r2.currency.as_str(), r2.remaining), ("USD", dec("0")));
    assert_eq!(
        reserve(c, "t1", "USD", "0.000001").await,
        CapDecision::Exceeded { cap: dec("100"), remaining: dec("0") }
    );
    // A refused operation gives its reservation back.
    c.release(&r).await.unwrap();
    assert_eq!(reserved(reserve(c, "t1", "USD", "60").await).remaining, dec("0"));
}

async fn caps_resolve_per_tenant_and_currency(c: &MoneyCaps) {
    assert_eq!(reserve(c, "t1", "EUR", "1000000").await, CapDecision::Uncapped);
    assert_eq!(reserved(reserve(c, "big", "EUR", "50").await).remaining, dec("0"));
    assert_eq!(reserved(reserve(c, "big", "USD", "500").await).cap, dec("1000"));
    // Tenant caps are per tenant: "big" spending does not touch "t2".
    assert_eq!(reserved(reserve(c, "t2", "USD", "100").await).remaining, dec("0"));
    assert_eq!(reserved(reserve(c, "t2", "USDT", "10.5").await).remaining, dec("0"));
    assert_eq!(c.cap("big", "eur"), Some(dec("50")));
    assert_eq!(c.cap("t2", "USD"), Some(dec("100")));
    assert_eq!(c.cap("t2", "JPY"), None);
}

async fn caps_are_per_utc_day(c: &MoneyCaps) {
    let r = reserved(c.reserve_on(day(1), "t3", "USD", dec("100")).await.unwrap());
    assert!(matches!(c.reserve_on(day(1), "t3", "USD", dec("1")).await.unwrap(), CapDecision::Exceeded { .. }));
    reserved(c.reserve_on(day(2), "t3", "USD", dec("100")).await.unwrap());
    // A late release credits the day it was charged to, not today.
    c.release(&r).await.unwrap();
    reserved(c.reserve_on(day(1), "t3", "USD", dec("100")).await.unwrap());
    assert!(matches!(c.reserve_on(day(2), "t3", "USD", dec("1")).await.unwrap(), CapDecision::Exceeded { .. }));
}

async fn odd_amounts(c: &MoneyCaps) {
    let r = reserved(reserve(c, "t4", "USD", "0.0000001").await);
    assert_eq!(r.amount, dec("0.000001"), "rounded up to six decimals");
    assert_eq!(reserved(reserve(c, "t4", "USD", "0").await).amount, dec("0"));
    assert!(matches!(reserve(c, "t4", "USD", "-1").await, CapDecision::Invalid(_)));
    assert!(matches!(reserve(c, "t4", "USD", "99999999999999").await, CapDecision::Invalid(_)));
    assert!(matches!(reserve(c, "t4", "U$D", "1").await, CapDecision::Invalid(_)));
    assert!(matches!(reserve(c, "t4", "", "1").await, CapDecision::Invalid(_)));
}

async fn concurrent_reserves_never_exceed_the_cap(c: Arc<MoneyCaps>) {
    let tasks = (0..100).map(|_| {
        let c = Arc::clone(&c);
        tokio::spawn(async move { c.reserve_on(day(1), "t5", "USD", dec("7")).await.unwrap() })
    });
    let results: Vec<_> = join_all(tasks).await.into_iter().map(Result::unwrap).collect();
    let reserved = results.iter().filter(|d| matches!(d, CapDecision::Reserved(_))).count();
    let exceeded = results.iter().filter(|d| matches!(d, CapDecision::Exceeded { .. })).count();
    assert_eq!((reserved, exceeded), (14, 86), "7 × 14 = 98 ≤ 100 < 7 × 15");
}

#[tokio::test]
async fn memory_caps_refuse_past_the_cap() {
    caps_refuse_past_the_cap(&MoneyCaps::memory(&settings()).unwrap()).await;
}

#[tokio::test]
async fn memory_caps_resolve_per_tenant_and_currency() {
    caps_resolve_per_tenant_and_currency(&MoneyCaps::memory(&settings()).unwrap()).await;
}

#[tokio::test]
async fn memory_caps_are_per_utc_day() {
    caps_are_per_utc_day(&MoneyCaps::memory(&settings()).unwrap()).await;
}

#[tokio::test]
async fn memory_odd_amounts() {
    odd_amounts(&MoneyCaps::memory(&settings()).unwrap()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_concurrent_reserves_never_exceed_the_cap() {
    concurrent_reserves_never_exceed_the_cap(Arc::new(MoneyCaps::memory(&settings()).unwrap())).await;
}

#[tokio::test]
async fn memory_sweeps_days_that_are_over() {
    let c = MoneyCaps::memory(&settings()).unwrap();
    for d in 1..=5 {
        c.reserve_on(day(d), "t", "USD", dec("1")).await.unwrap();
    }
    let Backend::Memory(m) = &c.backend else { unreachable!() };
    let mut days: Vec<_> = m.lock().used.keys().map(|k| k.2).collect();
    days.sort();
    assert_eq!(days, vec![day(4), day(5)]);
}

#[test]
fn invalid_caps_are_configuration_errors() {
    let mut s = settings();
    s.money_caps.insert("JPY".into(), dec("-1"));
    assert!(MoneyCaps::memory(&s).unwrap_err().to_string().contains("rate_limit.money_caps.JPY"));
    let mut s = settings();
    s.money_caps.insert("JPY".into(), dec("10000000000"));
    assert!(MoneyCaps::memory(&s).is_err());
    let mut s = settings();
    s.money_caps_store = StoreKind::Redis;
    assert!(MoneyCaps::from_settings(&s, None).is_err());
}

fn redis_caps(server: &RedisServer) -> MoneyCaps {
    let pool = RedisPool::connect(&server.url(), 8, Duration::from_millis(250), "test").unwrap();
    MoneyCaps::redis(&settings(), pool).unwrap()
}

macro_rules! redis_case {
    ($name:ident, $check:ident) => {
        #[tokio::test]
        async fn $name() {
            let Some(server) = RedisServer::start() else { return };
            $check(&redis_caps(&server)).await;
        }
    };
}

redis_case!(redis_caps_refuse_past_the_cap, caps_refuse_past_the_cap);

#[tokio::test]
async fn redis_cluster_caps_meet_the_checks() {
    let Some(cluster) = RedisCluster::start() else { return };
    let caps = |p: &str| MoneyCaps::redis(&settings(), cluster.pool(p)).unwrap();
    caps_refuse_past_the_cap(&caps("c1")).await;
    caps_resolve_per_tenant_and_currency(&caps("c2")).await;
    caps_are_per_utc_day(&caps("c3")).await;
    concurrent_reserves_never_exceed_the_cap(Arc::new(caps("c4"))).await;
}

#[tokio::test]
async fn tls_redis_caps_meet_the_checks() {
    let Some(server) = RedisServer::start_tls() else { return };
    let caps = |p: &str| MoneyCaps::redis(&settings(), server.pool(p)).unwrap();
    caps_refuse_past_the_cap(&caps("c1")).await;
    caps_resolve_per_tenant_and_currency(&caps("c2")).await;
    concurrent_reserves_never_exceed_the_cap(Arc::new(caps("c4"))).await;
}
redis_case!(redis_caps_resolve_per_tenant_and_currency, caps_resolve_per_tenant_and_currency);
redis_case!(redis_caps_are_per_utc_day, caps_are_per_utc_day);
redis_case!(redis_odd_amounts, odd_amounts);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_concurrent_reserves_never_exceed_the_cap() {
    let Some(server) = RedisServer::start() else { return };
    concurrent_reserves_never_exceed_the_cap(Arc::new(redis_caps(&server))).await;
}

#[tokio::test]
async fn redis_counters_are_hash_tagged_and_expire() {
    let Some(server) = RedisServer::start() else { return };
    let c = redis_caps(&server);
    reserved(reserve(&c, "acme", "usd", "12.34").await);
    let mut conn = redis::Client::open(server.url()).unwrap().get_multiplexed_async_connection().await.unwrap();
    let key = "test:{t:acme}:cap:USD:2026-05-01";
    let value: i64 = redis::cmd("GET").arg(key).query_async(&mut conn).await.unwrap();
    assert_eq!(value, 12_340_000);
    let ttl: i64 = redis::cmd("TTL").arg(key).query_async(&mut conn).await.unwrap();
    assert!(ttl > 0 && ttl <= 3 * 86_400);
}

#[tokio::test]
async fn redis_down_is_a_store_error() {
    let Some(mut server) = RedisServer::start() else { return };
    let c = redis_caps(&server);
    let r = reserved(reserve(&c, "t1", "USD", "1").await);
    server.pause();
    assert!(c.reserve_on(day(1), "t1", "USD", dec("1")).await.is_err());
    assert!(c.release(&r).await.is_err());
    // Uncapped currencies need no store at all.
    assert_eq!(reserve(&c, "t1", "JPY", "1").await, CapDecision::Uncapped);
    server.kill();
    assert!(c.reserve_on(day(1), "t1", "USD", dec("1")).await.is_err());
}

#[test]
fn production_refuses_in_memory_counters_once_caps_are_configured() {
    let mut s = Settings::defaults().unwrap();
    s.environment = crate::config::Environment::Production;
    assert!(!s.validate().unwrap_err().to_string().contains("money_caps_store"), "no caps, no complaint");
    s.rate_limit.money_caps.insert("USD".into(), dec("1000"));
    assert!(s.validate().unwrap_err().to_string().contains("rate_limit.money_caps_store"));
    let mut s = Settings::defaults().unwrap();
    s.rate_limit.money_caps_store = StoreKind::Redis;
    assert!(s.validate().unwrap_err().to_string().contains("redis.url is required"));
}
