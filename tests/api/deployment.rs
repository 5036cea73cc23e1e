//! The gateway on the Redis deployments it meets in production: every store (ownership, idempotency,
//! limiter, money caps, event log and delivery queue) on a 3-master Redis Cluster, through Redis
//! Sentinel, and on a TLS-only Redis that requires a client certificate.

use std::str::FromStr;

use card_gateway::{
    config::{
        Settings,
        rate_limit::LimiterBackend,
        stores::{RedisSettings, StoreKind},
    },
    testing::redis_server::{RedisCluster, RedisSentinel, RedisServer},
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
        // Metadata lives in its own Redis hash, merged by a script; the created window reads positions.
        let body = json!({"bin": "222929", "currency": "USD", "limit": "1.00", "metadata": {"tenant": tenant}});
        let tagged = app.post("/v1/cards", &t, body).await;
        assert_eq!(tagged.status, StatusCode::CREATED, "{tenant}: {}", tagged.text);
        let tagged_id = tagged.json["id"].as_str().unwrap();
        let r = app.patch(&format!("/v1/cards/{tagged_id}"), &t, json!({"metadata": {"team": "ads"}})).await;
        assert_eq!(r.status, StatusCode::OK, "{tenant}: {}", r.text);
        assert_eq!(r.json["metadata"], json!({"tenant": tenant, "team": "ads"}));
        let since = tagged.json["created_at"].as_str().unwrap();
        let list = app.get(&format!("/v1/cards?created[gte]={since}"), &t).await;
        assert_eq!(list.status, StatusCode::OK, "{}", list.text);
        assert_eq!(list.json["data"].as_array().unwrap().len(), 1, "{tenant}: {}", list.text);
        assert_eq!(list.json["data"][0]["metadata"], json!({"tenant": tenant, "team": "ads"}));
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
async fn every_store_works_through_redis_sentinel() {
    let Some(sentinel) = RedisSentinel::start() else { return };
    let app = spawn_settings(all_on_redis(sentinel.redis_settings("unused"))).await;
    cards_replays_and_lists_work(&app).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn every_store_works_on_a_tls_redis_with_a_client_certificate() {
    let Some(server) = RedisServer::start_tls() else { return };
    let app = spawn_settings(all_on_redis(server.redis_settings("unused"))).await;
    cards_replays_and_lists_work(&app).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn readiness_never_calls_the_platform_and_ignores_its_outage() {
    let app = crate::common::spawn_with(|s| {
        s.upstream.health_probe_s = 1;
        s.server.readiness_cache_ms = 0;
    })
    .await;
    // The platform is down for the probe: readiness is about this process only.
    app.sim.inject(
        card_gateway::upstream::Operation::CardBin,
        card_gateway::simulator::Fault::always(card_gateway::simulator::FaultKind::HttpStatus { status: 503 }),
    );
    let mut last = serde_json::Value::Null;
    for _ in 0..40 {
        let r = app.client.get(format!("{}/readyz", app.base)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        last = serde_json::from_str(&r.text().await.unwrap()).unwrap();
        if last["upstream"]["status"] == "down" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(last["status"], "ready", "{last}");
    assert_eq!(last["upstream"]["status"], "down", "the background probe's view, as information: {last}");
    let probes = app.sim.calls(card_gateway::upstream::Operation::CardBin);
    for _ in 0..30 {
        let r = app.client.get(format!("{}/readyz", app.base)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
    }
    assert!(
        app.sim.calls(card_gateway::upstream::Operation::CardBin) <= probes + 1,
        "30 readiness probes made no platform call (at most the background probe ran once more)"
    );
    let metrics = app.client.get(format!("{}/metrics", app.base)).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("card_gateway_upstream_up 0"), "the probe's gauge: {metrics}");
    let live = app.client.get(format!("{}/livez", app.base)).send().await.unwrap();
    assert_eq!(live.status(), StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread")]
async fn draining_turns_readiness_503_lets_in_flight_requests_finish_and_tells_streams_to_reconnect() {
    let app = crate::common::spawn_with(|s| {
        s.server.drain_delay_ms = 600;
        s.server.readiness_cache_ms = 0;
    })
    .await;
    let t = app.admin("acme");
    let card = app.create_card(&t, "10.00").await;
    let mut stream = app
        .client
        .get(format!("{}/v1/events/stream", app.base))
        .bearer_auth(&t)
        .timeout(std::time::Duration::from_secs(10))
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), StatusCode::OK);
    app.sim.inject(
        card_gateway::upstream::Operation::CardRecharge,
        card_gateway::simulator::Fault::once(card_gateway::simulator::FaultKind::Latency { ms: 900 }),
    );
    let path = format!("/v1/cards/{card}/recharges");
    let in_flight = app.post_key(&path, &t, "during-drain", json!({"amount": "1.00"}));
    let drain = async {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        app.drain().await;
    };
    let probe = async {
        tokio::time::sleep(std::time::Duration::from_millis(350)).await;
        app.client.get(format!("{}/readyz", app.base)).send().await.unwrap()
    };
    let (done, (), ready) = tokio::join!(in_flight, drain, probe);
    assert_eq!(done.status, StatusCode::OK, "the in-flight request finished: {}", done.text);
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE, "readiness failed first");
    let ready: serde_json::Value = serde_json::from_str(&ready.text().await.unwrap()).unwrap();
    assert_eq!(ready["status"], "draining", "{ready}");
    let mut seen = String::new();
    while let Ok(Some(chunk)) = stream.chunk().await {
        seen.push_str(&String::from_utf8_lossy(&chunk));
        if seen.contains("shutting down") {
            break;
        }
    }
    assert!(seen.contains("retry: 1000"), "the stream was told to reconnect: {seen:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn metrics_live_on_the_ops_listener_and_not_on_the_public_one() {
    let mut s = test_settings();
    s.server.ops_listen = "127.0.0.1:0".into();
    let app = card_gateway::startup::Application::build(s).await.unwrap();
    let (port, ops) = (app.port(), app.ops_port().expect("an ops listener"));
    let handle = app.handle();
    tokio::spawn(app.run_until_stopped());
    let http = reqwest::Client::new();
    let public = http.get(format!("http://127.0.0.1:{port}/metrics")).send().await.unwrap();
    assert_eq!(public.status(), StatusCode::NOT_FOUND, "never through the ingress");
    for path in ["/metrics", "/livez", "/readyz"] {
        let r = http.get(format!("http://127.0.0.1:{ops}{path}")).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "ops {path}");
    }
    let body = http.get(format!("http://127.0.0.1:{ops}/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(body.contains("# TYPE"), "{body}");
    handle.stop(false).await;
}
