//! How each way of failing settles (issue 8's defects, one test each): a client that walks away,
//! a store that fails after the platform acted, kinds with no inquiry, answers that are not
//! answers, retry-later refusals, keys reused after their record expired, and money caps on groups
//! whose currency the gateway never recorded. Sims here do NOT de-duplicate request numbers where
//! that would hide a second send.

use std::time::{Duration, Instant};

use card_gateway::{
    simulator::{Fault, FaultKind},
    tenancy::rebuild::rebuild_ownership,
    upstream::Operation,
};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::{
    common::{Resp, TestApp, spawn_against, spawn_settings, start_simulator, test_settings},
    support::{store_setups, use_redis},
};

/// Re-sends until the answer is neither "in flight" nor "being confirmed", or `limit` passes.
async fn settle(app: &TestApp, path: &str, token: &str, key: &str, body: Value, limit: Duration) -> Resp {
    let until = Instant::now() + limit;
    loop {
        let r = app.post_key(path, token, key, body.clone()).await;
        let pending = r.status == StatusCode::CONFLICT && r.code() == "idempotency_key_in_flight"
            || r.status == StatusCode::SERVICE_UNAVAILABLE
            || (r.status == StatusCode::ACCEPTED && r.json["error"]["code"] != "upstream_outcome_unconfirmable");
        if !pending || Instant::now() > until {
            return r;
        }
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_client_that_hangs_up_mid_request_does_not_leave_its_key_stuck_in_flight() {
    for (name, mut settings, _redis) in store_setups() {
        settings.idempotency.lease_ms = 600;
        let app = spawn_settings(settings).await;
        let t = app.admin("acme");
        let card = app.create_card(&t, "10.00").await;
        app.sim.inject(Operation::CardRecharge, Fault::once(FaultKind::Latency { ms: 1_000 }));
        let path = format!("/v1/cards/{card}/recharges?expand=card");
        let dropped = tokio::time::timeout(
            Duration::from_millis(200),
            app.client
                .post(format!("{}{path}", app.base))
                .bearer_auth(&t)
                .header("Idempotency-Key", "hang-up")
                .header("content-type", "application/json")
                .body(r#"{"amount":"2.00"}"#)
                .send(),
        )
        .await;
        assert!(dropped.is_err(), "[{name}] the client gave up before the answer");
        // The request runs to its end without its client; well after that (several leases), the
        // key must answer its outcome — not 409 from a lease renewed forever.
        tokio::time::sleep(Duration::from_millis(2_500)).await;
        let r = app.post_key(&path, &t, "hang-up", json!({"amount": "2.00"})).await;
        assert_eq!(r.status, StatusCode::OK, "[{name}] {}", r.text);
        assert_eq!(r.header("idempotent-replayed"), Some("true"), "[{name}] the finished answer is replayed");
        assert_eq!(r.json["result"]["balance"], "12.00", "[{name}]");
        assert_eq!(app.sim.calls(Operation::CardRecharge), 1, "[{name}] sent once");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_store_failure_after_the_platform_acted_leaves_the_outcome_unknown_and_is_never_resent() {
    let Some(server) = card_gateway::testing::redis_server::RedisServer::start() else { return };
    let mut settings = test_settings();
    use_redis(&mut settings, &server);
    settings.redis.timeout_ms = 300;
    settings.idempotency.lease_ms = 1_000;
    settings.simulator.dedupe_requests = false;
    let app = spawn_settings(settings).await;
    let t = app.admin("acme");
    // The platform holds its answer 800 ms; Redis freezes the moment the platform has the request,
    // so recording the new card fails after the platform acted.
    app.sim.inject(Operation::CardApply, Fault::once(FaultKind::Latency { ms: 800 }));
    let body = json!({"bin": "222929", "currency": "USD", "limit": "6.00", "alias": "after-store-failure"});
    let first = {
        let (app, t, body) = (&app, &t, body.clone());
        async move { app.post_key("/v1/cards", t, "store-fails", body).await }
    };
    let freeze = async {
        while app.sim.calls(Operation::CardApply) == 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        server.pause();
    };
    let (first, ()) = tokio::join!(first, freeze);
    server.resume();
    assert_ne!(first.status, StatusCode::CREATED, "the card could not be recorded: {}", first.text);
    assert_ne!(first.status, StatusCode::INTERNAL_SERVER_ERROR, "{}", first.text);
    let r = settle(&app, "/v1/cards", &t, "store-fails", body, Duration::from_secs(15)).await;
    assert_eq!(r.status, StatusCode::CREATED, "settled by asking the platform: {}", r.text);
    assert_eq!(app.sim.calls(Operation::CardApply), 1, "never sent twice");
    let cards = app.sim.state().cards.iter().filter(|c| c.alias.as_deref() == Some("after-store-failure")).count();
    assert_eq!(cards, 1, "one card at the platform");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_withdrawal_with_an_unknown_outcome_is_never_sent_twice_and_ends_unconfirmable() {
    for (name, mut settings, _redis) in store_setups() {
        settings.idempotency.resend_after_no_trace_s = 1;
        settings.simulator.dedupe_requests = false;
        let app = spawn_settings(settings).await;
        let t = app.admin("acme");
        app.sim.inject(Operation::DptWithdraw, Fault::once(FaultKind::StatusUnknown));
        let body = json!({"amount": "3.00", "currency": "USDT", "chain": "TRON", "to_address": "TQ5aY1n7Wn4v6Qe6yYvLh9v5Xn3y8k2ZsN"});
        let first = app.post_key("/v1/crypto/withdrawals", &t, "w-unknown", body.clone()).await;
        assert_eq!(first.status, StatusCode::ACCEPTED, "[{name}] {}", first.text);
        assert_eq!(first.json["status"], "unknown", "[{name}]");
        let early = app.post_key("/v1/crypto/withdrawals", &t, "w-unknown", body.clone()).await;
        assert_eq!(early.json["status"], "unknown", "[{name}] {}", early.text);
        tokio::time::sleep(Duration::from_millis(1_200)).await;
        let last = app.post_key("/v1/crypto/withdrawals", &t, "w-unknown", body.clone()).await;
        assert_eq!(last.status, StatusCode::ACCEPTED, "[{name}] {}", last.text);
        assert_eq!(last.json["error"]["code"], "upstream_outcome_unconfirmable", "[{name}] final, for reconciliation");
        let replay = app.post_key("/v1/crypto/withdrawals", &t, "w-unknown", body).await;
        assert_eq!(replay.json["error"]["code"], "upstream_outcome_unconfirmable", "[{name}] {}", replay.text);
        assert_eq!(app.sim.calls(Operation::DptWithdraw), 1, "[{name}] one withdrawal call, ever");
        assert_eq!(app.sim.state().withdrawals.len(), 1, "[{name}]");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_non_envelope_answer_may_have_moved_money_so_the_key_and_the_cap_reservation_are_kept() {
    for kind in [FaultKind::NonStandard, FaultKind::GarbledResult] {
        for (name, mut settings, _redis) in store_setups() {
            let name = format!("{name}/{}", kind.name());
            settings.idempotency.resend_after_no_trace_s = 1;
            settings.simulator.dedupe_requests = false;
            settings.rate_limit.money_caps.insert("USD".into(), "10.00".parse().unwrap());
            // No card_operate webhook: only the order inquiry can settle it.
            settings.simulator.sync_operation_webhooks = false;
            let app = spawn_settings(settings).await;
            let t = app.admin("acme");
            let card = app.create_card(&t, "2.00").await;
            app.sim.inject(Operation::CardRecharge, Fault::once(kind.clone()));
            let path = format!("/v1/cards/{card}/recharges");
            let first = app.post_key(&path, &t, "odd-answer", json!({"amount": "6.00"})).await;
            assert_eq!(first.status, StatusCode::ACCEPTED, "[{name}] {}", first.text);
            assert_eq!(first.json["status"], "unknown", "[{name}]");
            // Its 6.00 stays reserved while unknown: another 6.00 does not fit under the 10.00 cap.
            let other = app.post_key(&path, &t, "another", json!({"amount": "6.00"})).await;
            assert_eq!(other.code(), "daily_money_cap_exceeded", "[{name}] {}", other.text);
            // Asked, not resent: a garbled result means the order exists (the inquiry finds it); a
            // bare `statusCode` answer left no trace, so it is resent only after the quiet period.
            let done = settle(&app, &path, &t, "odd-answer", json!({"amount": "6.00"}), Duration::from_secs(10)).await;
            assert_eq!(done.status, StatusCode::OK, "[{name}] {}", done.text);
            assert!(app.sim.calls(Operation::OrderQuery) >= 1, "[{name}] the platform was asked");
            let sends = if matches!(kind, FaultKind::GarbledResult) { 1 } else { 2 };
            assert_eq!(app.sim.calls(Operation::CardRecharge), sends, "[{name}]");
            let balance = app.sim.state().card(&card).map(|c| c.balance);
            assert_eq!(balance, Some("8.00".parse().unwrap()), "[{name}] recharged exactly once");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_retry_later_refusal_releases_the_key_with_retry_after_and_the_retry_moves_money_once() {
    for (name, settings, _redis) in store_setups() {
        let app = spawn_settings(settings).await;
        let t = app.admin("acme");
        let card = app.create_card(&t, "10.00").await;
        let busy = FaultKind::Business { code: "130001".into(), message: "system busy".into() };
        app.sim.inject(Operation::CardRecharge, Fault::once(busy));
        let path = format!("/v1/cards/{card}/recharges?expand=card");
        let first = app.post_key(&path, &t, "busy", json!({"amount": "1.50"})).await;
        assert_eq!(first.status, StatusCode::SERVICE_UNAVAILABLE, "[{name}] {}", first.text);
        assert!(first.header("retry-after").is_some(), "[{name}] told when to retry");
        let retry = app.post_key(&path, &t, "busy", json!({"amount": "1.50"})).await;
        assert_eq!(retry.status, StatusCode::OK, "[{name}] not a stored 503: {}", retry.text);
        assert_eq!(retry.json["result"]["balance"], "11.50", "[{name}]");
        assert_eq!(app.sim.calls(Operation::CardRecharge), 2, "[{name}]");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_key_reused_after_its_record_expired_starts_a_new_operation_of_the_new_kind() {
    for (name, mut settings, _redis) in store_setups() {
        settings.idempotency.retention_s = 1;
        settings.simulator.dedupe_requests = false;
        let app = spawn_settings(settings).await;
        let t = app.admin("acme");
        let card = app.create_card(&t, "10.00").await;
        let recharge =
            app.post_key(&format!("/v1/cards/{card}/recharges"), &t, "reused", json!({"amount": "4.00"})).await;
        assert_eq!(recharge.json["kind"], "card.recharge", "[{name}] {}", recharge.text);
        tokio::time::sleep(Duration::from_millis(2_100)).await;
        let refund = app.post_key(&format!("/v1/cards/{card}/refunds"), &t, "reused", json!({"amount": "1.00"})).await;
        assert_eq!(refund.status, StatusCode::OK, "[{name}] {}", refund.text);
        assert_eq!(refund.json["kind"], "card.refund", "[{name}] not the old recharge: {}", refund.text);
        assert_ne!(refund.json["id"], recharge.json["id"], "[{name}] a new operation");
        assert_ne!(refund.json["user_req_no"], recharge.json["user_req_no"], "[{name}] a new request number");
        assert_eq!(app.sim.state().card(&card).map(|c| c.balance), Some("13.00".parse().unwrap()), "[{name}]");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_group_recharge_counts_against_the_money_cap_even_when_its_currency_was_never_recorded() {
    let settings = test_settings();
    let sim = start_simulator(&settings).await;
    let first = spawn_against(settings.clone(), sim.clone()).await;
    let t = first.admin("acme");
    let group = first.create_group(&t, "5.00").await;
    // A second gateway whose ownership store was rebuilt from the platform: it knows the owner, not
    // the currency.
    let mut capped = settings;
    capped.rate_limit.money_caps.insert("USD".into(), "10.00".parse().unwrap());
    let second = spawn_against(capped, sim.clone()).await;
    let st = &second.state;
    rebuild_ownership(&st.upstream, &*st.ownership, &st.req_nos, st.codes(), &st.clock, false).await.unwrap();
    let before = sim.calls(Operation::CardRecharge);
    let over = second.post(&format!("/v1/card-groups/{group}/recharges"), &t, json!({"amount": "20.00"})).await;
    assert_eq!(over.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", over.text);
    assert_eq!(over.code(), "daily_money_cap_exceeded");
    assert_eq!(sim.calls(Operation::CardRecharge), before, "refused before the platform");
    let fits = second.post(&format!("/v1/card-groups/{group}/recharges"), &t, json!({"amount": "4.00"})).await;
    assert_eq!(fits.status, StatusCode::OK, "{}", fits.text);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_resend_is_believed_only_after_another_quiet_period_without_a_trace() {
    for (name, mut settings, _redis) in store_setups() {
        settings.idempotency.resend_after_no_trace_s = 1;
        settings.simulator.dedupe_requests = false;
        let app = spawn_settings(settings).await;
        let t = app.admin("acme");
        let card = app.create_card(&t, "10.00").await;
        let path = format!("/v1/cards/{card}/recharges");
        let body = json!({"amount": "2.00"});
        app.sim.inject(Operation::CardRecharge, Fault::once(FaultKind::HttpStatus { status: 502 }));
        let first = app.post_key(&path, &t, "refused-resend", body.clone()).await;
        assert_eq!(first.json["status"], "unknown", "[{name}] {}", first.text);
        tokio::time::sleep(Duration::from_millis(1_100)).await;
        // No trace after the quiet period: resent — and the resend is refused. The first send could
        // still appear, so the refusal is not the answer yet.
        let refusal = FaultKind::Business {
            code: card_gateway::simulator::codes::INSUFFICIENT_ACCOUNT.into(),
            message: "insufficient balance".into(),
        };
        app.sim.inject(Operation::CardRecharge, Fault::once(refusal));
        let resent = app.post_key(&path, &t, "refused-resend", body.clone()).await;
        assert_eq!(resent.status, StatusCode::ACCEPTED, "[{name}] {}", resent.text);
        assert_eq!(resent.json["status"], "unknown", "[{name}]");
        assert_eq!(app.sim.calls(Operation::CardRecharge), 2, "[{name}] resent once");
        let early = app.post_key(&path, &t, "refused-resend", body.clone()).await;
        assert_eq!(early.json["status"], "unknown", "[{name}] {}", early.text);
        tokio::time::sleep(Duration::from_millis(1_100)).await;
        let last = app.post_key(&path, &t, "refused-resend", body.clone()).await;
        assert_eq!(last.status, StatusCode::CONFLICT, "[{name}] now the refusal is the answer: {}", last.text);
        assert_eq!(last.code(), "insufficient_merchant_balance", "[{name}]");
        assert_eq!(app.sim.calls(Operation::CardRecharge), 2, "[{name}] never sent a third time");
        assert_eq!(app.sim.state().card(&card).map(|c| c.balance), Some("10.00".parse().unwrap()), "[{name}]");
    }
}
