//! `/v1/test-helpers/…`: a frontend developer produces platform-side events through the gateway
//! alone (no `/_sim`, no second port), tenant-scoped like every route, and only where the embedded
//! simulator runs.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::{TestApp, rand_digits, spawn_against, spawn_with, start_simulator, test_settings};

/// Polls `GET /v1/events?type=…&object_id=…` until an event shows; returns it.
async fn event(app: &TestApp, token: &str, kind: &str, object: &str) -> Value {
    let until = Instant::now() + Duration::from_secs(10);
    loop {
        let r = app.get(&format!("/v1/events?limit=100&type={kind}&object_id={object}"), token).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        if let Some(e) = r.json["data"].as_array().and_then(|d| d.first()) {
            return e.clone();
        }
        assert!(Instant::now() < until, "no {kind} event for {object} in GET /v1/events");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Every event of the tenant (first page of 100 is plenty here).
async fn events(app: &TestApp, token: &str) -> Vec<Value> {
    let r = app.get("/v1/events?limit=100", token).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.json["data"].as_array().cloned().unwrap_or_default()
}

async fn helper(app: &TestApp, token: &str, path: &str, body: Value) -> crate::common::Resp {
    app.send(reqwest::Method::POST, path, Some(token), None, Some(body)).await
}

async fn physical_card(app: &TestApp, token: &str) -> String {
    let holder = app.create_cardholder(token).await;
    let kit = format!("KIT{}", rand_digits(6));
    let r = app
        .post("/v1/physical-cards", token, json!({"cardholder_id": holder, "kit_number": kit, "currency": "USD"}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    r.json["id"].as_str().unwrap().to_owned()
}

async fn deposit(app: &TestApp, token: &str) -> String {
    let r =
        app.post("/v1/crypto/deposits", token, json!({"amount": "100.00", "currency": "USDT", "chain": "TRON"})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    r.json["id"].as_str().unwrap().to_owned()
}

/// An asynchronous recharge the platform leaves pending for a minute (completed only by the helper).
async fn pending_recharge(app: &TestApp, token: &str, card: &str) -> String {
    let r = app.post(&format!("/v1/cards/{card}/recharges"), token, json!({"amount": "2.00"})).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    r.json["id"].as_str().unwrap().to_owned()
}

/// What the platform holds (money, objects, emitted webhooks), without delivery attempts in flight.
fn platform(app: &TestApp) -> Value {
    let s = app.sim.state();
    json!({
        "ledger": serde_json::to_value(&s.ledger).unwrap(),
        "cards": serde_json::to_value(&s.cards).unwrap(),
        "orders": serde_json::to_value(&s.orders).unwrap(),
        "transactions": serde_json::to_value(&s.transactions).unwrap(),
        "deposits": serde_json::to_value(&s.deposits).unwrap(),
        "webhooks_emitted": s.webhooks.len(),
    })
}

fn slow_async(s: &mut card_gateway::config::Settings) {
    s.simulator.async_operations = vec!["card_recharge".into()];
    s.simulator.async_delay_ms = 60_000;
}

#[tokio::test(flavor = "multi_thread")]
async fn test_helpers_produce_every_platform_event_type_through_the_gateway_alone() {
    let app = spawn_with(slow_async).await;
    let t = app.admin("acme");
    let card = app.create_card(&t, "50.00").await;

    // A cross-border purchase: card.transaction and card.fee.
    let r = helper(
        &app,
        &t,
        &format!("/v1/test-helpers/cards/{card}/authorizations"),
        json!({"amount": "10.00", "merchant_name": "Corner Coffee", "cross_border": true}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let auth = r.json["id"].as_str().unwrap().to_owned();
    assert_eq!(r.json["card_id"], card.as_str());
    let e = event(&app, &t, "card.transaction", &card).await;
    assert_eq!(e["object"]["id"], card.as_str(), "{e}");
    event(&app, &t, "card.fee", &card).await;

    // Settlement, then a partial refund of it; a second authorisation reversed.
    // A body whose fields are all optional may be left out.
    let settle = format!("/v1/test-helpers/transactions/{auth}/settlement");
    let r = app.send(reqwest::Method::POST, &settle, Some(&t), None, None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = helper(&app, &t, &format!("/v1/test-helpers/transactions/{auth}/refund"), json!({"amount": "4.00"})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let refund = r.json["id"].as_str().unwrap().to_owned();
    let r = helper(&app, &t, &format!("/v1/test-helpers/cards/{card}/authorizations"), json!({"amount": "3.00"})).await;
    let second = r.json["id"].as_str().unwrap().to_owned();
    let r = helper(&app, &t, &format!("/v1/test-helpers/transactions/{second}/reversal"), json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let reversal = r.json["id"].as_str().unwrap().to_owned();
    let until = Instant::now() + Duration::from_secs(10);
    loop {
        let seen: Vec<String> = events(&app, &t)
            .await
            .iter()
            .filter(|e| e["type"] == "card.transaction")
            .filter_map(|e| e["data"]["id"].as_str().map(str::to_owned))
            .collect();
        if [&auth, &refund, &second, &reversal].iter().all(|id| seen.contains(id)) {
            break;
        }
        assert!(Instant::now() < until, "transaction events missing: {seen:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // A 3DS challenge: the code travels with the event, never in the helper's answer.
    let r = helper(&app, &t, &format!("/v1/test-helpers/cards/{card}/3ds-otp"), json!({"amount": "5.00"})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json, json!({"event_type": "card.3ds_otp", "object_id": card}));
    event(&app, &t, "card.3ds_otp", &card).await;

    // A physical card's activation code: a reader with `events:secrets` finds it in the event and
    // activates the card with it, all through the gateway.
    let physical = physical_card(&app, &t).await;
    let r = helper(&app, &t, &format!("/v1/test-helpers/physical-cards/{physical}/activation-code"), json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(r.json.get("code").is_none() && r.json.get("activation_code").is_none(), "{}", r.text);
    let e = event(&app, &t, "physical_card.activation_code", &physical).await;
    let code = e["data"]["activation_code"].as_str().unwrap_or_else(|| panic!("no code for events:secrets: {e}"));
    let r = app.post(&format!("/v1/physical-cards/{physical}/activate"), &t, json!({"activation_code": code})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json["status"], "active");
    // Another physical card gets the platform's activation result directly.
    let other = physical_card(&app, &t).await;
    let r = helper(
        &app,
        &t,
        &format!("/v1/test-helpers/physical-cards/{other}/activation-result"),
        json!({"success": true}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let e = event(&app, &t, "physical_card.activation", &other).await;
    assert_eq!(e["data"]["status"], "succeeded", "{e}");

    // A payer pays a crypto deposit.
    let order = deposit(&app, &t).await;
    let r = helper(&app, &t, &format!("/v1/test-helpers/crypto/deposits/{order}/payment"), json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    event(&app, &t, "crypto.payment", &order).await;

    // An asynchronous recharge completes now instead of in a minute.
    let op = pending_recharge(&app, &t, &card).await;
    let r = helper(&app, &t, &format!("/v1/test-helpers/operations/{op}/complete"), json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json["id"], op.as_str());
    assert_eq!(r.json["status"], "succeeded", "{}", r.text);
    // Another one fails on request: nothing moves.
    let balance = app.get(&format!("/v1/cards/{card}"), &t).await.json["balance"].clone();
    let failing = pending_recharge(&app, &t, &card).await;
    let r = helper(&app, &t, &format!("/v1/test-helpers/operations/{failing}/complete"), json!({"outcome": "failed"}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json["status"], "failed", "{}", r.text);
    assert_eq!(
        app.get(&format!("/v1/cards/{card}"), &t).await.json["balance"],
        balance,
        "a failed recharge moved money"
    );
    let until = Instant::now() + Duration::from_secs(10);
    loop {
        let kinds: Vec<Value> = events(&app, &t).await.iter().map(|e| e["type"].clone()).collect();
        if kinds.contains(&json!("card.operation.succeeded")) && kinds.contains(&json!("card.operation.failed")) {
            break;
        }
        assert!(Instant::now() < until, "no card.operation.succeeded and .failed events: {kinds:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn test_helpers_answer_another_tenants_ids_like_missing_ones_and_reach_nothing_in_the_simulator() {
    let app = spawn_with(slow_async).await;
    let a = app.admin("tenant-a");
    let b = app.admin("tenant-b");
    let card = app.create_card(&a, "50.00").await;
    let auth = helper(&app, &a, &format!("/v1/test-helpers/cards/{card}/authorizations"), json!({"amount": "1.00"}))
        .await
        .json["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let physical = physical_card(&app, &a).await;
    let order = deposit(&app, &a).await;
    let op = pending_recharge(&app, &a, &card).await;
    // B owns objects too, so its lookups run against a populated store.
    app.create_card(&b, "5.00").await;

    let missing = "9999000000000000001";
    let cases: Vec<(String, String, Value)> = vec![
        ("cards/{}/authorizations".into(), card.clone(), json!({"amount": "1.00"})),
        ("cards/{}/3ds-otp".into(), card.clone(), json!({"amount": "1.00"})),
        ("transactions/{}/settlement".into(), auth.clone(), json!({})),
        ("transactions/{}/reversal".into(), auth.clone(), json!({})),
        ("transactions/{}/refund".into(), auth.clone(), json!({})),
        ("physical-cards/{}/activation-code".into(), physical.clone(), json!({})),
        ("physical-cards/{}/activation-result".into(), physical.clone(), json!({"success": true})),
        ("crypto/deposits/{}/payment".into(), order.clone(), json!({})),
        ("operations/{}/complete".into(), op.clone(), json!({})),
    ];
    event(&app, &a, "card.transaction", &card).await;
    let sim_before = platform(&app);
    let events_before = events(&app, &a).await.len();
    let b_events_before = events(&app, &b).await.len();
    for (template, theirs, body) in &cases {
        let foreign =
            helper(&app, &b, &format!("/v1/test-helpers/{}", template.replace("{}", theirs)), body.clone()).await;
        let absent =
            helper(&app, &b, &format!("/v1/test-helpers/{}", template.replace("{}", missing)), body.clone()).await;
        assert_eq!(foreign.status, StatusCode::NOT_FOUND, "{template} on A's {theirs}: {}", foreign.text);
        assert!(foreign.is_problem(), "{template}: {:?}", foreign.header("content-type"));
        assert_eq!(absent.status, StatusCode::NOT_FOUND, "{template} on a missing id: {}", absent.text);
        for m in ["code", "title", "detail", "type", "status"] {
            assert_eq!(foreign.json[m], absent.json[m], "{template}: `{m}` tells A's object from a missing one");
        }
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(platform(&app), sim_before, "B's calls changed the simulator");
    assert_eq!(events(&app, &a).await.len(), events_before, "B's calls produced events for A");
    assert_eq!(events(&app, &b).await.len(), b_events_before, "B's calls produced events for B");

    // The same calls by A go through.
    for (template, mine, body) in &cases {
        if template.ends_with("reversal") {
            continue; // `auth` is settled by then; a settled transaction is refunded, not reversed.
        }
        let r = helper(&app, &a, &format!("/v1/test-helpers/{}", template.replace("{}", mine)), body.clone()).await;
        assert_eq!(r.status, StatusCode::OK, "{template} by A on its own {mine}: {}", r.text);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn against_a_real_upstream_every_test_helper_answers_404_and_reaches_nothing() {
    let settings = test_settings();
    let sim = start_simulator(&settings).await;
    let app = spawn_against(settings, sim).await;
    let t = app.admin("acme");
    let card = app.create_card(&t, "10.00").await;
    let auth = app.sim.authorize(
        &card,
        &card_gateway::simulator::AuthorizationSpec { amount: rust_decimal::Decimal::ONE, ..Default::default() },
    );
    let auth = auth.unwrap().record_no;
    let before = platform(&app);
    let table = card_gateway::routes::table();
    let helpers: Vec<_> = table.routes().iter().filter(|r| r.path.starts_with("/v1/test-helpers/")).collect();
    assert_eq!(helpers.len(), 9);
    for route in helpers {
        let id = if route.path.contains("/transactions/") { auth.as_str() } else { card.as_str() };
        let path = route.path.replace("{id}", id);
        let r = helper(&app, &t, &path, json!({"amount": "1.00", "success": true})).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}: {}", r.text);
        assert!(r.is_problem(), "{path}: {:?}", r.header("content-type"));
        assert_eq!(r.code(), "route_not_found", "{path}: {}", r.text);
    }
    assert_eq!(platform(&app), before, "a helper reached the platform");
}

#[tokio::test(flavor = "multi_thread")]
async fn test_helpers_refuse_invalid_input_and_impossible_platform_states_as_problems() {
    let app = spawn_with(|_| {}).await;
    let t = app.admin("acme");
    let card = app.create_card(&t, "10.00").await;
    let path = format!("/v1/test-helpers/cards/{card}/authorizations");
    let r = helper(&app, &t, &path, json!({"amount": "0", "currency": "usd", "mcc": "12"})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    let pointers: Vec<&str> =
        r.json["errors"].as_array().unwrap().iter().filter_map(|e| e["pointer"].as_str()).collect();
    assert_eq!(pointers, ["#/amount", "#/currency", "#/mcc"], "{}", r.text);
    let r = helper(&app, &t, &path, json!({"amount": "1.00", "shop": "x"})).await;
    assert!(r.status.is_client_error() && r.is_problem(), "an unknown field is refused: {}", r.text);
    // Beyond the card's balance the platform declines (recorded, nothing moves); a declined
    // authorisation cannot be settled: 409.
    let r = helper(&app, &t, &path, json!({"amount": "5000.00"})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let declined = r.json["id"].as_str().unwrap().to_owned();
    let r = helper(&app, &t, &format!("/v1/test-helpers/transactions/{declined}/settlement"), json!({})).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    assert!(r.is_problem() && r.code() == "test_helper_conflict", "{}", r.text);
}

#[tokio::test(flavor = "multi_thread")]
async fn completing_an_operation_that_already_finished_answers_it_unchanged() {
    let app = spawn_with(|_| {}).await;
    let t = app.admin("acme");
    deposit(&app, &t).await;
    let ops = app.get("/v1/operations?limit=1", &t).await;
    assert_eq!(ops.json["data"][0]["kind"], "crypto.deposit", "{}", ops.text);
    let op = ops.json["data"][0]["id"].as_str().unwrap();
    let r = helper(&app, &t, &format!("/v1/test-helpers/operations/{op}/complete"), json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json, ops.json["data"][0], "a finished operation is answered unchanged");
}
