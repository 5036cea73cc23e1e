//! End to end with the embedded simulator: its control API makes the platform-side events happen, it
//! emits the real encrypted webhooks (retried until `SUCCESS`), and the tenant sees them in the log, on
//! the SSE stream and at a capturing endpoint that verifies the signature.

use std::{collections::BTreeSet, time::Duration};

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Behaviour, Receiver, SseReader, TestApp, settings};

/// Issues a card through the gateway; returns its id once the operation finished.
async fn issue_card(app: &TestApp, tenant: &str, key: &str) -> String {
    let (status, body) = app
        .send(
            Method::POST,
            &app.tenant_token(tenant),
            "/v1/cards",
            key,
            Some(json!({"bin": "222929", "currency": "USD", "limit": "100.00"})),
        )
        .await;
    match status {
        201 => body["id"].as_str().unwrap().to_owned(),
        202 => {
            let op = app.final_operation(tenant, body["id"].as_str().unwrap()).await;
            assert_eq!(op["status"], "succeeded", "{op}");
            op["target"]["id"].as_str().unwrap().to_owned()
        }
        _ => panic!("card issue answered {status}: {body}"),
    }
}

async fn physical_card(app: &TestApp, tenant: &str) -> String {
    let token = app.tenant_token(tenant);
    let holder = json!({"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com", "mobile_prefix": "44",
        "mobile": "7700900123", "birth_date": "1990-12-10", "country": "GBR",
        "billing": {"state": "LND", "city": "London", "address": "1 Main St", "zip": "N1 9GU"}});
    let (status, h) = app.send(Method::POST, &token, "/v1/cardholders", "holder-1", Some(holder)).await;
    assert!(status == 201 || status == 200, "{status} {h}");
    let hid = h["id"].as_str().unwrap();
    let (status, p) = app
        .send(
            Method::POST,
            &token,
            "/v1/physical-cards",
            "pcc-1",
            Some(json!({"cardholder_id": hid, "kit_number": "KIT000123", "currency": "USD"})),
        )
        .await;
    assert!(status == 201 || status == 200, "{status} {p}");
    p["id"].as_str().or_else(|| p["target"]["id"].as_str()).unwrap().to_owned()
}

#[actix_web::test]
async fn every_notification_type_flows_from_the_simulator_to_the_log_the_stream_and_a_signed_endpoint() {
    let mut s = settings(true);
    s.simulator.async_operations = vec!["card_apply".into()];
    let app = TestApp::spawn(s).await;
    let rx = Receiver::start(Behaviour::Ok).await;
    let (_, secret) = app.endpoint("e2e", &rx.url, &[]).await;
    let mut sse = SseReader::open(&app, &app.tenant_token("e2e"), None).await;

    let card = issue_card(&app, "e2e", "card-1").await; // card_operate (async apply)
    let (status, auth) =
        app.sim(&format!("/cards/{card}/authorizations"), json!({"amount": "10.00", "cross_border": true})).await;
    assert_eq!(status, 200, "{auth}"); // card_transaction + trade_fee (type 97)
    let (status, otp) =
        app.sim(&format!("/cards/{card}/3ds-otp"), json!({"amount": "5.00", "merchant_name": "Checkout"})).await;
    assert_eq!(status, 200, "{otp}");
    let pcc = physical_card(&app, "e2e").await;
    let (status, code) = app.sim(&format!("/cards/{pcc}/activation-code"), json!({})).await;
    assert_eq!(status, 200, "{code}");
    let (status, _) = app.sim(&format!("/cards/{pcc}/activation-result"), json!({"success": true})).await;
    assert_eq!(status, 204);
    let (status, dep) = app
        .send(
            Method::POST,
            &app.tenant_token("e2e"),
            "/v1/crypto/deposits",
            "dep-1",
            Some(json!({"amount": "50.00", "currency": "USDT", "chain": "TRON"})),
        )
        .await;
    assert!(status == 201 || status == 200, "{status} {dep}");
    let (status, paid) = app.sim(&format!("/crypto/deposits/{}/payment", dep["id"].as_str().unwrap()), json!({})).await;
    assert_eq!(status, 200, "{paid}");

    let want: BTreeSet<&str> = [
        "card.operation.succeeded",
        "card.transaction",
        "card.fee",
        "card.3ds_otp",
        "physical_card.activation_code",
        "physical_card.activation",
        "crypto.payment",
    ]
    .into();
    let logged = app.wait_events("e2e", "", 7).await;
    let mut seen = BTreeSet::new();
    let mut frames = Vec::new();
    while seen.len() < want.len() {
        let f = sse.next(Duration::from_secs(10)).await.unwrap_or_else(|| panic!("stream stalled with {seen:?}"));
        seen.insert(f.event.clone());
        frames.push(f);
    }
    let logged_types: BTreeSet<String> = logged.iter().map(|e| e["type"].as_str().unwrap().to_owned()).collect();
    for t in &want {
        assert!(seen.contains(*t), "{t} not streamed");
        assert!(logged_types.contains(*t), "{t} not logged: {logged_types:?}");
    }
    let delivered = rx.wait_delivered(logged.len()).await;
    assert!(delivered.iter().all(|r| r.verifies(&secret)), "every delivery verifies");
    let delivered_types: BTreeSet<String> =
        delivered.iter().map(|r| r.json()["type"].as_str().unwrap().to_owned()).collect();
    for t in &want {
        assert!(delivered_types.contains(*t), "{t} not delivered");
    }
    // Shapes: money as decimal strings, RFC 3339 times, secrets to the owner only.
    let by_type = |t: &str| frames.iter().find(|f| f.event == t).unwrap().data.clone();
    let txn = by_type("card.transaction");
    assert_eq!(txn["data"]["card_id"], card.as_str());
    assert_eq!(txn["data"]["card_amount"]["amount"], "10.00");
    assert!(txn["occurred_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(by_type("card.fee")["data"]["fee_type"], "cross_border");
    assert_eq!(by_type("card.3ds_otp")["data"]["otp"], otp["code"]);
    assert_eq!(by_type("physical_card.activation_code")["data"]["activation_code"], code["code"]);
    assert_eq!(by_type("physical_card.activation")["data"]["status"], "succeeded");
    assert_eq!(by_type("crypto.payment")["data"]["order_id"], dep["id"]);
    let op = by_type("card.operation.succeeded");
    assert_eq!(op["data"]["operation_kind"], "card.create");
    assert_eq!(op["data"]["card"]["last4"].as_str().map(str::len), Some(4));
    app.stop().await;
    rx.stop().await;
}

#[actix_web::test]
async fn a_simulator_duplicating_a_webhook_five_times_concurrently_makes_one_event() {
    let app = TestApp::spawn(settings(true)).await;
    let card = issue_card(&app, "simdup", "c1").await;
    // The card's own order result arrives by webhook too; count from after it.
    app.wait_events("simdup", "&type=card.operation.succeeded", 1).await;
    let before = app.events("simdup", "").await.len();
    let (status, _) = app.sim("/webhook-faults", json!({"kind": "duplicate", "copies": 5})).await;
    assert_eq!(status, 204);
    let (status, _) = app.sim(&format!("/cards/{card}/authorizations"), json!({"amount": "3.00"})).await;
    assert_eq!(status, 200);
    app.wait_events("simdup", "&type=card.transaction", 1).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let events = app.events("simdup", "").await;
    assert_eq!(events.len(), before + 1, "{events:?}");
    assert!(app.hub.metrics.snapshot()["inbound_duplicates"] >= 4);
    app.stop().await;
}

#[actix_web::test]
async fn out_of_order_order_results_and_results_racing_the_answer_converge() {
    let mut s = settings(true);
    s.simulator.async_operations = vec!["card_apply".into()];
    // The order completes at once: its card_operate races the platform's "accepted" answer.
    s.simulator.async_delay_ms = 0;
    let app = TestApp::spawn(s).await;
    let token = app.tenant_token("order");
    let mut ops = Vec::new();
    for i in 0..4 {
        if i == 2 {
            // The next two webhooks arrive swapped.
            let (status, _) = app.sim("/webhook-faults", json!({"kind": "out_of_order", "hold_ms": 500})).await;
            assert_eq!(status, 204);
        }
        let (status, body) = app
            .send(
                Method::POST,
                &token,
                "/v1/cards",
                &format!("ooo-{i}"),
                Some(json!({"bin": "222929", "currency": "USD", "limit": "20.00"})),
            )
            .await;
        assert!(status == 202 || status == 201, "{status} {body}");
        if status == 202 {
            ops.push(body["id"].as_str().unwrap().to_owned());
        }
    }
    assert!(!ops.is_empty());
    for op in &ops {
        let done = app.final_operation("order", op).await;
        assert_eq!(done["status"], "succeeded", "{done}");
        let card = done["target"]["id"].as_str().unwrap();
        assert_eq!(app.get(&token, &format!("/v1/cards/{card}")).await.0, 200, "the card is the tenant's");
    }
    // And stays final: nothing later turns it back into pending.
    tokio::time::sleep(Duration::from_millis(700)).await;
    for op in &ops {
        let (_, now) = app.get(&token, &format!("/v1/operations/{op}")).await;
        assert_eq!(now["status"], "succeeded");
    }
    let results: Vec<Value> = app.events("order", "&type=card.operation.succeeded").await;
    let mut distinct: Vec<&str> = results.iter().map(|e| e["data"]["operation_id"].as_str().unwrap_or("")).collect();
    distinct.sort();
    distinct.dedup();
    assert_eq!(results.len(), distinct.len(), "one result event per operation");
    assert!(results.iter().all(|e| e["data"]["operation_id"].is_string()));
    app.stop().await;
}
