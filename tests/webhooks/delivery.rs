//! Outbound delivery: signatures, retries with the same webhook-id, 410, per-endpoint isolation, replay.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Behaviour, Receiver, TestApp, settings, transaction, wait_for};

#[actix_web::test]
async fn deliveries_are_signed_per_standard_webhooks_and_carry_the_event() {
    let app = TestApp::spawn(settings(false)).await;
    app.own_card("signed", "card-sig").await;
    let rx = Receiver::start(Behaviour::Ok).await;
    let (_, secret) = app.endpoint("signed", &rx.url, &[]).await;
    app.notify("card_transaction", &transaction("T-sig", "card-sig", "7.00")).await;
    let got = rx.wait_delivered(1).await;
    let event = app.events("signed", "").await.remove(0);
    assert_eq!(got[0].id, event["id"].as_str().unwrap(), "webhook-id is the event id");
    assert!(got[0].verifies(&secret), "signature verifies with the endpoint secret");
    assert!(!got[0].verifies(&card_gateway::webhooks::signing::new_secret()));
    assert_eq!(got[0].json(), event, "the body is the event as the log shows it");
    app.stop().await;
    rx.stop().await;
}

#[actix_web::test]
async fn a_receiver_failing_k_times_then_succeeding_gets_the_same_webhook_id() {
    let app = TestApp::spawn(settings(false)).await;
    app.own_card("retry", "card-r").await;
    let rx = Receiver::start(Behaviour::FailFirst(3)).await;
    let (ep, secret) = app.endpoint("retry", &rx.url, &["card.transaction"]).await;
    app.notify("card_transaction", &transaction("T-retry", "card-r", "3.00")).await;
    rx.wait_delivered(1).await;
    let all = rx.got();
    assert_eq!(all.len(), 4, "3 failures then success");
    assert!(all.iter().all(|r| r.id == all[0].id), "one webhook-id across attempts");
    assert!(all.iter().all(|r| r.verifies(&secret)), "each attempt freshly signed");
    let (status, page) = app.get(&app.tenant_token("retry"), &format!("/v1/webhook-endpoints/{ep}/deliveries")).await;
    assert_eq!(status, 200);
    let d = &page["data"][0];
    assert_eq!(d["status"], "succeeded");
    assert_eq!(d["attempt_count"], 4);
    assert_eq!(d["attempts"].as_array().unwrap().len(), 4);
    assert_eq!(d["attempts"][0]["status_code"], 500);
    app.stop().await;
    rx.stop().await;
}

#[actix_web::test]
async fn a_receiver_answering_410_disables_its_endpoint() {
    let app = TestApp::spawn(settings(false)).await;
    app.own_card("gone", "card-g").await;
    let rx = Receiver::start(Behaviour::Gone).await;
    let (ep, _) = app.endpoint("gone", &rx.url, &[]).await;
    app.notify("card_transaction", &transaction("T-gone-1", "card-g", "1")).await;
    let token = app.tenant_token("gone");
    let disabled = wait_for(Duration::from_secs(5), || async {
        let (_, e) = app.get(&token, &format!("/v1/webhook-endpoints/{ep}")).await;
        (e["status"] == "disabled").then_some(e)
    })
    .await
    .expect("endpoint disabled");
    assert_eq!(disabled["disabled_reason"], "gone");
    app.notify("card_transaction", &transaction("T-gone-2", "card-g", "1")).await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(rx.got().len(), 1, "nothing more is sent to a disabled endpoint");
    app.stop().await;
    rx.stop().await;
}

#[actix_web::test]
async fn a_slow_tenant_endpoint_does_not_delay_another_tenants_deliveries() {
    let mut s = settings(false);
    s.webhooks.delivery_concurrency_per_endpoint = 2;
    s.webhooks.delivery_timeout_ms = 10_000;
    s.webhooks.delivery_lease_ms = 20_000;
    let app = TestApp::spawn(s).await;
    app.own_card("slow", "card-slow").await;
    app.own_card("fast", "card-fast").await;
    // Slow enough that none of its answers can come back during the test: ordering by counts, not clocks.
    let slow = Receiver::start(Behaviour::Slow(Duration::from_secs(8))).await;
    let fast = Receiver::start(Behaviour::Ok).await;
    app.endpoint("slow", &slow.url, &[]).await;
    app.endpoint("fast", &fast.url, &[]).await;
    for i in 0..20 {
        app.notify("card_transaction", &transaction(&format!("T-s{i}"), "card-slow", "1")).await;
    }
    wait_for(Duration::from_secs(5), || async { (slow.state_seen() >= 2).then_some(()) })
        .await
        .expect("the slow endpoint's deliveries started");
    for i in 0..10 {
        app.notify("card_transaction", &transaction(&format!("T-f{i}"), "card-fast", "1")).await;
    }
    fast.wait_delivered(10).await;
    // Every fast delivery went through while the slow endpoint still held its first two, unanswered.
    assert!(slow.got().is_empty(), "a slow answer came back first: the fast tenant waited for it");
    assert_eq!(slow.state_seen(), 2, "the slow endpoint had exactly its cap in flight");
    app.stop().await;
    slow.stop().await;
    fast.stop().await;
}

#[actix_web::test]
async fn a_replay_is_charged_one_read_per_event_and_refused_whole_when_the_allowance_cannot_cover_it() {
    let mut s = settings(false);
    s.rate_limit.classes.read = card_gateway::config::rate_limit::Quota { rate_per_s: 0.01, burst: 10 };
    let app = TestApp::spawn(s).await;
    app.own_card("replayer", "card-rl").await;
    let rx = Receiver::start(Behaviour::Ok).await;
    let (ep, _) = app.endpoint("replayer", &rx.url, &[]).await;
    for i in 0..12 {
        app.notify("card_transaction", &transaction(&format!("T-rl{i}"), "card-rl", "1")).await;
    }
    rx.wait_delivered(12).await;
    let token = app.tenant_token("replayer");
    // Two reads: 8 of the 10 left.
    let ids: Vec<Value> = app.events("replayer", "").await.iter().take(3).map(|e| e["id"].clone()).collect();
    let deliveries = format!("/v1/webhook-endpoints/{ep}/deliveries?limit=100");
    assert_eq!(app.get(&token, &deliveries).await.0, 200);
    // Twelve re-deliveries cost ten reads (a charge is capped at the burst): more than the 8 left.
    let path = format!("/v1/webhook-endpoints/{ep}/replay");
    let since = json!({"since": "2000-01-01T00:00:00Z"});
    let (status, body) = app.send(Method::POST, &token, &path, "replay-all", Some(since)).await;
    assert_eq!(status, 429, "{body}");
    assert!(body["detail"].as_str().unwrap_or("").contains("re-delivers 12 events"), "{body}");
    let (_, page) = app.get(&token, &deliveries).await;
    assert_eq!(page["data"].as_array().unwrap().len(), 12, "nothing was queued: {page}");
    // Three of the 7 left: goes through.
    let (status, body) = app.send(Method::POST, &token, &path, "replay-3", Some(json!({"event_ids": ids}))).await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(rx.wait_delivered(15).await.len(), 15);
    app.stop().await;
    rx.stop().await;
}

#[actix_web::test]
async fn one_tenants_slow_endpoints_hold_at_most_its_tenant_share_of_the_delivery_slots() {
    let mut s = settings(false);
    s.webhooks.delivery_concurrency_total = 8;
    s.webhooks.delivery_concurrency_per_endpoint = 2;
    s.webhooks.delivery_concurrency_per_tenant = 3;
    s.webhooks.delivery_timeout_ms = 10_000;
    s.webhooks.delivery_lease_ms = 20_000;
    let app = TestApp::spawn(s).await;
    app.own_card("hog", "card-hog").await;
    app.own_card("calm", "card-calm").await;
    // Four endpoints × two slots each could take all eight process slots without the tenant cap.
    let mut slow = Vec::new();
    for _ in 0..4 {
        let rx = Receiver::start(Behaviour::Slow(Duration::from_secs(8))).await;
        app.endpoint("hog", &rx.url, &[]).await;
        slow.push(rx);
    }
    let calm = Receiver::start(Behaviour::Ok).await;
    app.endpoint("calm", &calm.url, &[]).await;
    for i in 0..5 {
        app.notify("card_transaction", &transaction(&format!("T-hog{i}"), "card-hog", "1")).await;
    }
    wait_for(Duration::from_secs(5), || async {
        (slow.iter().map(Receiver::state_seen).sum::<usize>() >= 3).then_some(())
    })
    .await
    .expect("the slow tenant's deliveries started");
    for i in 0..5 {
        app.notify("card_transaction", &transaction(&format!("T-calm{i}"), "card-calm", "1")).await;
    }
    calm.wait_delivered(5).await;
    // Arrived (still being answered, each sleeping 8 s), not finished.
    let in_flight: usize = slow.iter().map(Receiver::state_seen).sum();
    assert_eq!(in_flight, 3, "the slow tenant holds exactly its share while its receivers sleep");
    app.stop().await;
    calm.stop().await;
    for rx in slow {
        rx.stop().await;
    }
}

#[actix_web::test]
async fn failed_deliveries_can_be_replayed_with_the_original_webhook_id() {
    let mut s = settings(false);
    s.webhooks.delivery_schedule_ms = vec![20];
    let app = TestApp::spawn(s).await;
    app.own_card("replay", "card-rp").await;
    let rx = Receiver::start(Behaviour::FailFirst(2)).await;
    let (ep, _) = app.endpoint("replay", &rx.url, &[]).await;
    app.notify("card_transaction", &transaction("T-rp", "card-rp", "1")).await;
    let token = app.tenant_token("replay");
    wait_for(Duration::from_secs(5), || async {
        let (_, page) = app.get(&token, &format!("/v1/webhook-endpoints/{ep}/deliveries")).await;
        (page["data"][0]["status"] == "failed").then_some(())
    })
    .await
    .expect("delivery failed after its schedule");
    let event_id = app.events("replay", "").await[0]["id"].as_str().unwrap().to_owned();
    let (status, body) = app
        .send(
            Method::POST,
            &token,
            &format!("/v1/webhook-endpoints/{ep}/replay"),
            "replay-1",
            Some(json!({"event_ids": [event_id]})),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    let got = rx.wait_delivered(1).await;
    assert_eq!(got[0].id, event_id);
    let (_, page) = app.get(&token, &format!("/v1/webhook-endpoints/{ep}/deliveries")).await;
    assert_eq!(page["data"].as_array().unwrap().len(), 2, "original + replay");
    assert_eq!(page["data"][0]["replay"], true);
    app.stop().await;
    rx.stop().await;
}
