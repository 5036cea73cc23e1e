//! Unknown outcomes, slow upstreams and crashes: still exactly one order.

use std::time::Duration;

use card_gateway::{
    simulator::{Fault, FaultKind},
    upstream::Operation,
};
use reqwest::StatusCode;
use serde_json::json;

use crate::{
    common::{spawn_against, spawn_settings, start_simulator, test_settings},
    support::{store_setups, use_redis},
};

#[tokio::test(flavor = "multi_thread")]
async fn an_upstream_slower_than_the_lease_still_gets_one_call() {
    for (name, mut settings, _redis) in store_setups() {
        settings.idempotency.lease_ms = 600;
        settings.upstream.timeout_ms = 5_000;
        let app = spawn_settings(settings).await;
        let t = app.admin("acme");
        let card = app.create_card(&t, "10.00").await;
        app.sim.inject(Operation::CardRecharge, Fault::once(FaultKind::Latency { ms: 2_000 }));
        let path = format!("/v1/cards/{card}/recharges");
        let first = {
            let (app, t, path) = (&app, &t, &path);
            async move { app.post_key(path, t, "slow", json!({"amount": "1.00"})).await }
        };
        let later = async {
            // Well past the lease: only renewal keeps the key held.
            tokio::time::sleep(Duration::from_millis(1_300)).await;
            app.post_key(&path, &t, "slow", json!({"amount": "1.00"})).await
        };
        let (a, b) = tokio::join!(first, later);
        assert_eq!(a.status, StatusCode::OK, "[{name}] {}", a.text);
        assert_eq!(b.status, StatusCode::CONFLICT, "[{name}] the renewed lease keeps the key: {}", b.text);
        assert_eq!(app.sim.calls(Operation::CardRecharge), 1, "[{name}]");
        let replay = app.post_key(&path, &t, "slow", json!({"amount": "1.00"})).await;
        assert_eq!(replay.text, a.text, "[{name}] completed by its own lease holder");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_commit_then_timeout_is_answered_by_asking_the_platform() {
    for (name, mut settings, _redis) in store_setups() {
        settings.upstream.timeout_ms = 700;
        // No card_operate for synchronous orders: only the inquiry can settle it here.
        settings.simulator.sync_operation_webhooks = false;
        let app = spawn_settings(settings).await;
        let t = app.admin("acme");
        let card = app.create_card(&t, "10.00").await;
        app.sim.inject(Operation::CardRecharge, Fault::once(FaultKind::CommitThenDelay { ms: 2_000 }));
        let path = format!("/v1/cards/{card}/recharges?expand=card");
        let first = app.post_key(&path, &t, "commit-timeout", json!({"amount": "3.00"})).await;
        assert_eq!(first.status, StatusCode::ACCEPTED, "[{name}] {}", first.text);
        assert_eq!(first.json["status"], "unknown", "[{name}] the outcome is being confirmed");
        let retry = app.post_key(&path, &t, "commit-timeout", json!({"amount": "3.00"})).await;
        assert_eq!(retry.status, StatusCode::OK, "[{name}] {}", retry.text);
        assert_eq!(retry.json["status"], "succeeded", "[{name}]");
        assert_eq!(retry.json["result"]["balance"], "13.00", "[{name}]");
        assert_eq!(app.sim.calls(Operation::CardRecharge), 1, "[{name}] never resent");
        assert!(app.sim.calls(Operation::OrderQuery) >= 1, "[{name}] asked by userReqNo");
        let op = app.get(&format!("/v1/operations/{}", first.json["id"].as_str().unwrap()), &t).await;
        assert_eq!(op.json["status"], "succeeded", "[{name}]");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn status_unknown_after_commit_resolves_to_the_committed_card() {
    for (name, settings, _redis) in store_setups() {
        let app = spawn_settings(settings).await;
        let t = app.admin("acme");
        app.sim.inject(Operation::CardApply, Fault::once(FaultKind::StatusUnknown));
        let body = json!({"bin": "222929", "currency": "USD", "limit": "7.00"});
        let first = app.post_key("/v1/cards", &t, "unknown-1", body.clone()).await;
        assert_eq!(first.status, StatusCode::ACCEPTED, "[{name}] {}", first.text);
        assert_eq!(first.json["status"], "unknown");
        let retry = app.post_key("/v1/cards", &t, "unknown-1", body).await;
        assert_eq!(retry.status, StatusCode::CREATED, "[{name}] {}", retry.text);
        assert_eq!(retry.json["balance"], "7.00");
        assert_eq!(app.sim.calls(Operation::CardApply), 1, "[{name}]");
        let card = retry.json["id"].as_str().unwrap();
        assert_eq!(app.get(&format!("/v1/cards/{card}"), &t).await.status, StatusCode::OK, "[{name}] owned");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unknown_outcome_with_no_order_upstream_is_resent_only_after_the_quiet_period() {
    for (name, mut settings, _redis) in store_setups() {
        settings.idempotency.resend_after_no_trace_s = 2;
        let app = spawn_settings(settings).await;
        let t = app.admin("acme");
        let card = app.create_card(&t, "10.00").await;
        // The platform answers 502 from a proxy: outcome unknown, but it never committed.
        app.sim.inject(Operation::CardRecharge, Fault::once(FaultKind::HttpStatus { status: 502 }));
        let path = format!("/v1/cards/{card}/recharges?expand=card");
        let first = app.post_key(&path, &t, "proxy-502", json!({"amount": "2.00"})).await;
        assert_eq!(first.status, StatusCode::ACCEPTED, "[{name}] {}", first.text);
        assert_eq!(first.json["status"], "unknown");
        // No trace yet: the platform may still show the order (it advises asking again later).
        let early = app.post_key(&path, &t, "proxy-502", json!({"amount": "2.00"})).await;
        assert_eq!(early.status, StatusCode::ACCEPTED, "[{name}] {}", early.text);
        assert_eq!(early.json["status"], "unknown", "[{name}]");
        assert!(early.headers.get("retry-after").is_some(), "[{name}] told when to ask again");
        assert_eq!(app.sim.calls(Operation::CardRecharge), 1, "[{name}] not resent within the quiet period");
        tokio::time::sleep(std::time::Duration::from_millis(2_100)).await;
        let retry = app.post_key(&path, &t, "proxy-502", json!({"amount": "2.00"})).await;
        assert_eq!(retry.status, StatusCode::OK, "[{name}] {}", retry.text);
        assert_eq!(retry.json["user_req_no"], first.json["user_req_no"], "[{name}] same userReqNo");
        assert_eq!(retry.json["result"]["balance"], "12.00");
        assert_eq!(app.sim.calls(Operation::CardRecharge), 2, "[{name}] resent once, after the inquiry found nothing");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_gateway_crash_mid_request_leaves_no_duplicate_after_restart() {
    // The restarted gateway must still know who owns the card: only a shared store survives a restart.
    for store in ["redis"] {
        let mut settings = test_settings();
        settings.idempotency.lease_ms = 800;
        let _redis = if store == "redis" {
            let Some(server) = card_gateway::testing::redis_server::RedisServer::start() else { continue };
            use_redis(&mut settings, &server);
            Some(server)
        } else {
            None
        };
        let sim = start_simulator(&settings).await;
        let gw1 = spawn_against(settings.clone(), sim.clone()).await;
        let t = gw1.admin("acme");
        let card = gw1.create_card(&t, "10.00").await;
        sim.inject(Operation::CardRecharge, Fault::once(FaultKind::CommitThenDelay { ms: 1_500 }));
        let path = format!("/v1/cards/{card}/recharges");
        let in_flight = {
            let client = gw1.client.clone();
            let url = format!("{}{path}", gw1.base);
            let t = t.clone();
            tokio::spawn(async move {
                client
                    .post(url)
                    .bearer_auth(t)
                    .header("Idempotency-Key", "crash-1")
                    .header("content-type", "application/json")
                    .body(r#"{"amount":"4.00"}"#)
                    .send()
                    .await
            })
        };
        tokio::time::sleep(Duration::from_millis(400)).await;
        gw1.crash().await;
        let _ = in_flight.await;
        let gw2 = spawn_against(settings.clone(), sim.clone()).await;
        // In memory the restarted gateway has forgotten everything; on Redis the old lease lingers
        // until it ends (409), then the key is recovered by asking the platform.
        let mut last = None;
        for _ in 0..40 {
            let r = gw2.post_key(&path, &t, "crash-1", json!({"amount": "4.00"})).await;
            if r.status != StatusCode::CONFLICT {
                last = Some(r);
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let r = last.expect("the key was released after its lease");
        assert!(r.status == StatusCode::OK || r.status == StatusCode::ACCEPTED, "[{store}] {}", r.text);
        tokio::time::sleep(Duration::from_millis(1_500)).await;
        let balance = sim.state().cards.iter().find(|c| c.card_id == card).map(|c| c.balance);
        assert_eq!(balance, Some("14.00".parse().unwrap()), "[{store}] recharged exactly once");
        let orders =
            sim.state().orders.iter().filter(|o| o.user_req_no == r.json["user_req_no"].as_str().unwrap_or("")).count();
        assert_eq!(orders, 1, "[{store}] one order for the request number");
    }
}
