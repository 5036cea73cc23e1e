//! The shared contract against a private redis-server per test (skipped loudly without the binary),
//! plus the failure modes only Redis has: paused, killed, restarted.

use std::time::{Duration, Instant};

use super::*;
use crate::{idempotency::contract_tests as contract, testing::redis_server::RedisServer};

const DEADLINE: Duration = Duration::from_millis(250);

fn store(server: &RedisServer, retention: Duration) -> RedisIdempotencyStore {
    let pool = RedisPool::connect(&server.url(), 8, DEADLINE, "test").unwrap();
    RedisIdempotencyStore::new(pool, StoreOptions { retention, max_retry_after: Duration::from_secs(1) })
}

macro_rules! redis_contract {
    ($($name:ident),* $(,)?) => {$(
        #[tokio::test]
        async fn $name() {
            let Some(server) = RedisServer::start() else { return };
            contract::$name(&store(&server, Duration::from_secs(60))).await;
        }
    )*};
}

redis_contract!(
    begin_complete_replay_is_byte_identical,
    mismatch_in_every_state,
    in_flight_while_the_lease_is_live,
    concurrent_begins_acquire_exactly_once,
    fenced_out_lease_cannot_touch_the_new_holder,
    expired_lease_is_recovered,
    unknown_is_recovered,
    abandon_forgets_the_key,
    renew_keeps_the_lease,
    tenants_are_isolated,
    tokens_strictly_increase,
);

/// With the documents in the same Redis (one script) and in another store (two steps).
#[tokio::test]
async fn complete_settling_writes_both_or_neither() {
    let Some(server) = RedisServer::start() else { return };
    let pool = RedisPool::connect(&server.url(), 8, DEADLINE, "test").unwrap();
    let docs = std::sync::Arc::new(crate::tenancy::redis::RedisOwnershipStore::new(pool));
    let one_script = store(&server, Duration::from_secs(60)).with_docs_here(true);
    contract::complete_settling_writes_both_or_neither(&one_script, docs).await;
    let other = RedisServer::start().unwrap();
    let memory_docs = std::sync::Arc::new(crate::tenancy::memory::MemoryOwnershipStore::new());
    contract::complete_settling_writes_both_or_neither(&store(&other, Duration::from_secs(60)), memory_docs).await;
}

#[tokio::test]
async fn retention_expiry() {
    let Some(server) = RedisServer::start() else { return };
    contract::retention_expiry(&store(&server, Duration::from_millis(300)), Duration::from_millis(300)).await;
}

#[tokio::test]
async fn keys_are_hash_tagged_per_tenant_and_hashed() {
    let Some(server) = RedisServer::start() else { return };
    let s = store(&server, Duration::from_secs(60));
    contract::acquire(&s, "acme", "my-key/1", "a", Duration::from_secs(5)).await;
    let mut conn = redis::Client::open(server.url()).unwrap().get_multiplexed_async_connection().await.unwrap();
    let mut keys: Vec<String> = redis::cmd("KEYS").arg("*").query_async(&mut conn).await.unwrap();
    keys.sort();
    let digest = hex::encode(Sha256::digest(b"my-key/1"));
    assert_eq!(keys, vec![format!("test:{{t:acme}}:idem-fence"), format!("test:{{t:acme}}:idem:{digest}")]);
    let ttl: i64 = redis::cmd("PTTL").arg(&keys[1]).query_async(&mut conn).await.unwrap();
    assert!(ttl > 55_000 && ttl <= 60_000, "ttl {ttl}");
}

async fn eventually_ok(s: &RedisIdempotencyStore, k: &str) -> Begin {
    let started = Instant::now();
    loop {
        match s.begin("t1", &contract::key(k), &contract::fp("a"), Duration::from_secs(5)).await {
            Ok(b) => return b,
            Err(e) if started.elapsed() < Duration::from_secs(5) => {
                eprintln!("waiting for Redis: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(e) => panic!("Redis did not come back: {e}"),
        }
    }
}

#[tokio::test]
async fn paused_redis_fails_within_the_deadline_then_recovers() {
    let Some(server) = RedisServer::start() else { return };
    let s = store(&server, Duration::from_secs(60));
    let lease = contract::acquire(&s, "t1", "p", "a", Duration::from_secs(5)).await;
    server.pause();
    for _ in 0..3 {
        let started = Instant::now();
        let err = s.begin("t1", &contract::key("p2"), &contract::fp("a"), Duration::from_secs(5)).await.unwrap_err();
        let took = started.elapsed();
        // The first call times out; later ones may fail creating a fresh connection instead.
        assert!(matches!(err, StoreError::Timeout | StoreError::Unavailable(_)), "{err:?}");
        // A sanity bound only (the machine is shared): the deadline is what bounds the wait.
        assert!(took < DEADLINE * 3, "took {took:?}");
    }
    assert!(s.complete(&lease, &contract::response(1)).await.is_err());
    server.resume();
    assert!(matches!(eventually_ok(&s, "p3").await, Begin::Acquired { recovering: false, .. }));
    assert!(s.complete(&lease, &contract::response(1)).await.unwrap(), "the lease survived the pause");
}

#[tokio::test]
async fn killed_redis_errors_and_a_restarted_one_works_again() {
    let Some(mut server) = RedisServer::start() else { return };
    let s = store(&server, Duration::from_secs(60));
    contract::acquire(&s, "t1", "before", "a", Duration::from_secs(5)).await;
    server.kill();
    let started = Instant::now();
    assert!(s.begin("t1", &contract::key("k"), &contract::fp("a"), Duration::from_secs(5)).await.is_err());
    assert!(started.elapsed() < DEADLINE * 3);
    server.restart();
    // A fresh, empty server: the scripts are loaded again on first use (NOSCRIPT → SCRIPT LOAD).
    assert!(matches!(eventually_ok(&s, "after").await, Begin::Acquired { recovering: false, .. }));
    assert!(matches!(eventually_ok(&s, "after").await, Begin::InFlight { .. }));
}

#[tokio::test]
async fn a_record_of_another_type_is_an_error_not_a_panic() {
    let Some(server) = RedisServer::start() else { return };
    let s = store(&server, Duration::from_secs(60));
    let mut conn = redis::Client::open(server.url()).unwrap().get_multiplexed_async_connection().await.unwrap();
    let record = s.record_key("t1", "weird");
    let _: () = redis::cmd("SET").arg(&record).arg("x").query_async(&mut conn).await.unwrap();
    assert!(s.begin("t1", &contract::key("weird"), &contract::fp("a"), Duration::from_secs(5)).await.is_err());
    let _: () = redis::cmd("DEL").arg(&record).query_async(&mut conn).await.unwrap();
    let _: () = redis::cmd("HSET")
        .arg(&record)
        .arg("state")
        .arg("bogus")
        .arg("fp")
        .arg(contract::fp("a").to_hex())
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!(s.begin("t1", &contract::key("weird"), &contract::fp("a"), Duration::from_secs(5)).await.is_err());
}
