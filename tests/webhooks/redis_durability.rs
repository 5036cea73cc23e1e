//! The Redis-backed log and queue: events and deliveries survive a gateway restart.

use std::time::Duration;

use card_gateway::testing::redis_server::RedisServer;

use crate::helpers::{Behaviour, Receiver, SseReader, TestApp, settings, transaction, with_redis};

#[actix_web::test]
async fn a_gateway_restarted_mid_delivery_loses_nothing() {
    let Some(redis) = RedisServer::start() else { return };
    let mut s = with_redis(settings(false), &redis.url(), "restart");
    s.webhooks.delivery_timeout_ms = 3000;
    s.webhooks.delivery_lease_ms = 3500;
    let rx = Receiver::start(Behaviour::SlowFirst(1, Duration::from_millis(2800))).await;
    let first = TestApp::spawn(s.clone()).await;
    first.own_card("durable", "card-d").await;
    let (_, secret) = first.endpoint("durable", &rx.url, &[]).await;
    first.notify("card_transaction", &transaction("D1", "card-d", "1")).await;
    // The first attempt is in flight (the receiver is sleeping) when the gateway goes down.
    crate::helpers::wait_for(Duration::from_secs(5), || async { (rx.state_seen() > 0).then_some(()) })
        .await
        .expect("first attempt started");
    tokio::time::sleep(Duration::from_millis(200)).await;
    first.notify("card_transaction", &transaction("D2", "card-d", "2")).await;
    first.stop().await;
    // A new gateway on the same Redis: the log is there, and the abandoned attempt comes back after its lease.
    let second = TestApp::spawn(s).await;
    let events = second.events("durable", "").await;
    assert_eq!(events.len(), 2, "the log survived the restart");
    let delivered = rx.wait_delivered(2).await;
    let mut ids: Vec<String> = delivered.iter().map(|r| r.id.clone()).collect();
    ids.sort();
    ids.dedup();
    let mut expected: Vec<String> = events.iter().map(|e| e["id"].as_str().unwrap().to_owned()).collect();
    expected.sort();
    assert_eq!(ids, expected, "every event delivered, under its own webhook-id");
    assert!(delivered.iter().all(|r| r.verifies(&secret)));
    second.stop().await;
    rx.stop().await;
}

#[actix_web::test]
async fn the_redis_log_serves_the_stream_and_deduplicates_like_memory() {
    let Some(redis) = RedisServer::start() else { return };
    let app = TestApp::spawn(with_redis(settings(false), &redis.url(), "rlog")).await;
    app.own_card("rlog", "card-rl").await;
    let token = app.tenant_token("rlog");
    let mut sse = SseReader::open(&app, &token, None).await;
    let body = app.sealed("card_transaction", &transaction("RL1", "card-rl", "4.20"));
    let posts: Vec<_> = (0..5).map(|_| app.post_raw(body.clone())).collect();
    for (status, _) in futures_util::future::join_all(posts).await {
        assert_eq!(status, 200);
    }
    let f = sse.next(Duration::from_secs(5)).await.expect("frame");
    assert_eq!(f.data["data"]["id"], "RL1");
    assert!(sse.next(Duration::from_millis(400)).await.is_none(), "one event for five copies");
    assert_eq!(app.events("rlog", "&object_id=card-rl").await.len(), 1);
    app.stop().await;
}
