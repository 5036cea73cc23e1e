//! Keys, fingerprints, replays and concurrency — on both stores.

use std::time::Duration;

use card_gateway::{
    simulator::{Fault, FaultKind},
    upstream::Operation,
};
use futures_util::future::join_all;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::{common::spawn_settings, support::store_setups};

#[tokio::test(flavor = "multi_thread")]
async fn fifty_concurrent_identical_recharges_make_exactly_one_upstream_order() {
    for (name, settings, _redis) in store_setups() {
        let app = spawn_settings(settings).await;
        let t = app.admin("acme");
        let card = app.create_card(&t, "10.00").await;
        // Keep the first request in flight long enough for the others to pile up on it.
        app.sim.inject(Operation::CardRecharge, Fault::once(FaultKind::Latency { ms: 400 }));
        let before = app.sim.calls(Operation::CardRecharge);
        let path = format!("/v1/cards/{card}/recharges");
        let results = join_all((0..50).map(|_| app.post_key(&path, &t, "same-key", json!({"amount": "5.00"})))).await;
        assert_eq!(app.sim.calls(Operation::CardRecharge) - before, 1, "[{name}] exactly one upstream call");
        let firsts: Vec<_> = results
            .iter()
            .filter(|r| r.status == StatusCode::OK && r.header("idempotent-replayed").is_none())
            .collect();
        assert_eq!(firsts.len(), 1, "[{name}] exactly one original answer");
        let original = &firsts[0].text;
        for r in &results {
            match r.status {
                StatusCode::CONFLICT => {
                    assert_eq!(r.code(), "idempotency_key_in_flight", "[{name}]");
                    assert!(r.header("retry-after").is_some(), "[{name}] 409 carries Retry-After");
                }
                StatusCode::OK => assert_eq!(&r.text, original, "[{name}] replays are byte-identical"),
                other => panic!("[{name}] unexpected {other}: {}", r.text),
            }
        }
        // Once finished, the same key replays, byte for byte.
        let again = app.post_key(&path, &t, "same-key", json!({"amount": "5.00"})).await;
        assert_eq!(again.header("idempotent-replayed"), Some("true"), "[{name}]");
        assert_eq!(&again.text, original, "[{name}]");
        let card_now = app.get(&format!("/v1/cards/{card}"), &t).await;
        assert_eq!(card_now.json["balance"], "15.00", "[{name}] the balance moved once");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_reused_key_with_a_different_request_is_422_and_never_reaches_the_platform() {
    for (name, settings, _redis) in store_setups() {
        let app = spawn_settings(settings).await;
        let t = app.admin("acme");
        let card = app.create_card(&t, "10.00").await;
        let path = format!("/v1/cards/{card}/recharges");
        let first = app.post_key(&path, &t, "k-1", json!({"amount": "1.00"})).await;
        assert_eq!(first.status, StatusCode::OK, "[{name}] {}", first.text);
        let before = app.sim.calls(Operation::CardRecharge);
        for (p, body) in [
            (path.clone(), json!({"amount": "2.00"})),
            (format!("/v1/cards/{card}/refunds"), json!({"amount": "1.00"})),
        ] {
            let r = app.post_key(&p, &t, "k-1", body).await;
            assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "[{name}] {}", r.text);
            assert_eq!(r.code(), "idempotency_key_reused");
        }
        // Key order and whitespace do not change the fingerprint.
        let same = app
            .client
            .post(format!("{}{path}", app.base))
            .bearer_auth(&t)
            .header("Idempotency-Key", "k-1")
            .header("content-type", "application/json")
            .body("{ \"amount\" : \"1.00\" }")
            .send()
            .await
            .unwrap();
        assert_eq!(same.status(), StatusCode::OK, "[{name}]");
        assert_eq!(same.headers()["idempotent-replayed"], "true");
        assert_eq!(app.sim.calls(Operation::CardRecharge), before, "[{name}] no upstream call");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_same_key_from_two_tenants_is_two_independent_operations() {
    for (name, settings, _redis) in store_setups() {
        let app = spawn_settings(settings).await;
        let (a, b) = (app.admin("tenant-a"), app.admin("tenant-b"));
        let ra = app
            .post_key("/v1/cards", &a, "shared-key", json!({"bin": "222929", "currency": "USD", "limit": "1.00"}))
            .await;
        let rb = app
            .post_key("/v1/cards", &b, "shared-key", json!({"bin": "222929", "currency": "USD", "limit": "1.00"}))
            .await;
        assert_eq!((ra.status, rb.status), (StatusCode::CREATED, StatusCode::CREATED), "[{name}]");
        assert_ne!(ra.json["id"], rb.json["id"], "[{name}] two cards");
        assert!(rb.header("idempotent-replayed").is_none(), "[{name}] not a replay of A's answer");
        let ops_a = app.get("/v1/operations", &a).await;
        let ops_b = app.get("/v1/operations", &b).await;
        assert_ne!(ops_a.json["data"][0]["user_req_no"], ops_b.json["data"][0]["user_req_no"], "[{name}]");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn malformed_keys_are_400_and_leave_no_record() {
    for (name, settings, _redis) in store_setups() {
        let app = spawn_settings(settings).await;
        let t = app.admin("acme");
        let body = json!({"bin": "222929", "currency": "USD", "limit": "1.00"});
        for key in ["", "\"unterminated", "a b", "ключ", &"k".repeat(256), "a,b", "\"a\";p=1"] {
            let r = app.send(Method::POST, "/v1/cards", Some(&t), Some(key), Some(body.clone())).await;
            assert_eq!(r.status, StatusCode::BAD_REQUEST, "[{name}] key {key:?}: {}", r.text);
            assert!(r.code().starts_with("idempotency_key_"), "[{name}] {key:?}");
        }
        assert_eq!(app.sim.calls(Operation::CardApply), 0, "[{name}]");
        // Structured-field strings and bare tokens name the same key.
        let a = app.post_key("/v1/cards", &t, "\"sf-1\"", body.clone()).await;
        let b = app.post_key("/v1/cards", &t, "sf-1", body.clone()).await;
        assert_eq!(a.status, StatusCode::CREATED, "[{name}] {}", a.text);
        assert_eq!(b.header("idempotent-replayed"), Some("true"), "[{name}]");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn validation_failures_release_the_key() {
    for (name, settings, _redis) in store_setups() {
        let app = spawn_settings(settings).await;
        let t = app.admin("acme");
        let bad = app
            .post_key("/v1/cards", &t, "fix-me", json!({"bin": "222929", "currency": "USD", "limit": "1.001"}))
            .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "[{name}]");
        let again = app
            .post_key("/v1/cards", &t, "fix-me", json!({"bin": "222929", "currency": "USD", "limit": "1.001"}))
            .await;
        assert!(again.header("idempotent-replayed").is_none(), "[{name}] a rejected request is not stored");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
