//! The gateway on the Redis deployments it meets in production: every store (ownership, idempotency,
//! limiter, money caps, event log and delivery queue) on a 3-master Redis Cluster, and on a TLS-only
//! Redis that requires a client certificate.

use std::str::FromStr;

use card_gateway::{
    config::{
        Settings,
        rate_limit::LimiterBackend,
        stores::{RedisSettings, StoreKind},
    },
    testing::redis_server::{RedisCluster, RedisServer},
};
use reqwest::StatusCode;
use serde_json::json;

use crate::common::{TestApp, rand_digits, spawn_settings, test_settings};

fn all_on_redis(redis: RedisSettings) -> Settings {
    let mut s = test_settings();
    s.redis = redis;
    s.redis.key_prefix = format!("e{}", rand_digits(6));
    s.tenancy.store = StoreKind::Redis;
    s.idempotency.store = StoreKind::Redis;
    s.rate_limit.backend = LimiterBackend::Redis;
    s.rate_limit.money_caps_store = StoreKind::Redis;
    s.rate_limit.money_caps.insert("USD".into(), rust_decimal::Decimal::from_str("1000").unwrap());
    s.webhooks.event_store = StoreKind::Redis;
    s
}

/// Cards, replays and lists for several tenants (so their keys land in different slots).
async fn cards_replays_and_lists_work(app: &TestApp) {
    for tenant in ["acme", "globex", "initech"] {
        let t = app.admin(tenant);
        let body = json!({"bin": "222929", "currency": "USD", "limit": "10.00"});
        let key = format!("issue-{tenant}");
        let first = app.post_key("/v1/cards", &t, &key, body.clone()).await;
        assert_eq!(first.status, StatusCode::CREATED, "{tenant}: {}", first.text);
        let again = app.post_key("/v1/cards", &t, &key, body).await;
        assert_eq!(again.status, StatusCode::CREATED);
        assert_eq!(again.header("idempotent-replayed"), Some("true"), "{tenant}: replayed from Redis");
        assert_eq!(again.text, first.text);
        let id = first.json["id"].as_str().unwrap();
        assert_eq!(app.get(&format!("/v1/cards/{id}"), &t).await.status, StatusCode::OK);
        let list = app.get("/v1/cards", &t).await;
        assert_eq!(list.status, StatusCode::OK, "{}", list.text);
        assert!(list.text.contains(id), "{tenant}'s list shows its card: {}", list.text);
        let recharge = app.post(&format!("/v1/cards/{id}/recharges"), &t, json!({"amount": "1.00"})).await;
        assert_eq!(recharge.status, StatusCode::OK, "{tenant}: {}", recharge.text);
    }
    let events = app.get("/v1/events", &app.admin("acme")).await;
    assert_eq!(events.status, StatusCode::OK, "{}", events.text);
    let ready = app.client.get(format!("{}/readyz", app.base)).send().await.unwrap();
    assert_eq!(ready.status(), StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread")]
async fn every_store_works_on_a_redis_cluster() {
    let Some(cluster) = RedisCluster::start() else { return };
    let app = spawn_settings(all_on_redis(cluster.redis_settings("unused"))).await;
    cards_replays_and_lists_work(&app).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn every_store_works_on_a_tls_redis_with_a_client_certificate() {
    let Some(server) = RedisServer::start_tls() else { return };
    let app = spawn_settings(all_on_redis(server.redis_settings("unused"))).await;
    cards_replays_and_lists_work(&app).await;
}
