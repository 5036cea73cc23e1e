//! The idempotency store contract on the topologies beyond a single plain Redis (the other stores run
//! theirs next to their own tests), and the TLS settings a connection must honour.

use std::time::Duration;

use super::RedisPool;
use crate::{
    idempotency::{RedisIdempotencyStore, StoreOptions, contract_tests as contract},
    storage::StoreError,
    testing::redis_server::{RedisCluster, RedisSentinel, RedisServer},
};

fn store(pool: RedisPool, retention: Duration) -> RedisIdempotencyStore {
    RedisIdempotencyStore::new(pool, StoreOptions { retention, max_retry_after: Duration::from_secs(1) })
}

/// Every contract check, each on its own key prefix.
async fn idempotency_contract(pool: impl Fn(&str) -> RedisPool) {
    let s = |p: &str| store(pool(p), Duration::from_secs(60));
    contract::begin_complete_replay_is_byte_identical(&s("i1")).await;
    contract::mismatch_in_every_state(&s("i2")).await;
    contract::in_flight_while_the_lease_is_live(&s("i3")).await;
    contract::concurrent_begins_acquire_exactly_once(&s("i4")).await;
    contract::fenced_out_lease_cannot_touch_the_new_holder(&s("i5")).await;
    contract::expired_lease_is_recovered(&s("i6")).await;
    contract::unknown_is_recovered(&s("i7")).await;
    contract::abandon_forgets_the_key(&s("i8")).await;
    contract::renew_keeps_the_lease(&s("i9")).await;
    contract::tenants_are_isolated(&s("i10")).await;
    contract::tokens_strictly_increase(&s("i11")).await;
    let short = Duration::from_millis(300);
    contract::retention_expiry(&store(pool("i12"), short), short).await;
}

#[tokio::test]
async fn idempotency_contract_holds_on_a_redis_cluster() {
    let Some(cluster) = RedisCluster::start() else { return };
    idempotency_contract(|p| cluster.pool(p)).await;
}

#[tokio::test]
async fn idempotency_contract_holds_over_tls() {
    let Some(server) = RedisServer::start_tls() else { return };
    idempotency_contract(|p| server.pool(p)).await;
}

#[tokio::test]
async fn idempotency_contract_holds_through_redis_sentinel() {
    let Some(sentinel) = RedisSentinel::start() else { return };
    idempotency_contract(|p| sentinel.pool(p)).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn after_a_sentinel_failover_the_pool_finds_the_new_master_and_keeps_what_was_replicated() {
    let Some(mut sentinel) = RedisSentinel::start() else { return };
    let pool = sentinel.pool("t");
    let key = pool.tenant_key("acme", &["probe"]);
    let k = key.clone();
    pool.run(|mut c| async move {
        redis::cmd("SET").arg(&k).arg("before").query_async::<()>(&mut c).await?;
        // Acknowledged by the replica before the master dies, as WAIT makes it.
        redis::cmd("WAIT").arg(1).arg(2000).query_async::<i64>(&mut c).await
    })
    .await
    .unwrap();
    sentinel.fail_over();
    // The old connection breaks; the pool asks the sentinel again and reaches the promoted replica.
    let mut result = Err(StoreError::Timeout);
    for _ in 0..100 {
        let k = key.clone();
        result = pool
            .run(|mut c| async move {
                redis::cmd("SET").arg(&k).arg("after").arg("GET").query_async::<Option<String>>(&mut c).await
            })
            .await;
        if result.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(result, Ok(Some("before".to_owned())), "a write after the failover lands on the new master");
    let info: String =
        pool.run(|mut c| async move { redis::cmd("INFO").arg("server").query_async(&mut c).await }).await.unwrap();
    assert!(
        info.contains(&format!("tcp_port:{}", sentinel.replica_port())),
        "the pool now talks to the promoted replica"
    );
}

#[tokio::test]
async fn a_cluster_pool_reaches_every_master() {
    let Some(cluster) = RedisCluster::start() else { return };
    let pool = cluster.pool("t");
    pool.ping().await.unwrap();
    // Tenants spread over the slots, so writes land on every master and are read back through redirects.
    for i in 0..30 {
        let key = pool.tenant_key(&format!("tenant{i}"), &["probe"]);
        let v: String = pool
            .run(|mut c| async move {
                redis::cmd("SET").arg(&key).arg(i).query_async::<()>(&mut c).await?;
                redis::cmd("GET").arg(&key).query_async(&mut c).await
            })
            .await
            .unwrap();
        assert_eq!(v, i.to_string());
    }
    for port in cluster.ports() {
        let mut c = redis::Client::open(format!("redis://127.0.0.1:{port}/"))
            .unwrap()
            .get_multiplexed_async_connection()
            .await
            .unwrap();
        let keys: i64 = redis::cmd("DBSIZE").query_async(&mut c).await.unwrap();
        assert!(keys > 0, "node {port} holds none of 30 tenants' keys");
    }
}

#[tokio::test]
async fn tls_refuses_a_server_the_configured_ca_did_not_sign() {
    let Some(server) = RedisServer::start_tls() else { return };
    let tls = server.tls().unwrap();
    let mut s = server.redis_settings("t");
    s.tls_ca_file = tls.path_str("other-ca.pem");
    s.timeout_ms = 1000;
    let err = RedisPool::new(&s).unwrap().ping().await.unwrap_err();
    assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");
    // The same settings with the right CA work: the CA is what made the difference.
    server.pool("t").ping().await.unwrap();
}

#[tokio::test]
async fn tls_without_a_client_certificate_is_refused_by_a_server_that_requires_one() {
    let Some(server) = RedisServer::start_tls() else { return };
    let mut s = server.redis_settings("t");
    s.tls_cert_file.clear();
    s.tls_key_file.clear();
    s.timeout_ms = 1000;
    assert!(RedisPool::new(&s).unwrap().ping().await.is_err());
}

#[test]
fn tls_settings_are_checked_when_the_pool_is_built() {
    let files = crate::testing::tls_certs::TlsFiles::generate();
    let base = crate::testing::redis_server::settings(
        "rediss://127.0.0.1:1/0".into(),
        crate::config::stores::RedisMode::Standalone,
        "t",
    );
    let mut only_cert = base.clone();
    only_cert.tls_cert_file = files.path_str("client.pem");
    let err = RedisPool::new(&only_cert).unwrap_err().to_string();
    assert!(err.contains("tls_cert_file and redis.tls_key_file"), "{err}");

    let mut missing = base.clone();
    missing.tls_ca_file = "/nonexistent/ca.pem".into();
    assert!(RedisPool::new(&missing).unwrap_err().to_string().contains("redis.tls_ca_file"));

    let mut plain = base.clone();
    plain.url = crate::sensitive::SecretString::new("redis://127.0.0.1:1/0");
    plain.tls_ca_file = files.path_str("ca.pem");
    assert!(RedisPool::new(&plain).unwrap_err().to_string().contains("rediss://"));

    let mut two = base;
    two.url = crate::sensitive::SecretString::new("redis://a:1,redis://b:2");
    assert!(RedisPool::new(&two).unwrap_err().to_string().contains("redis.mode"));
}
