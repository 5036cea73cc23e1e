use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;

use crate::common::spawn_with;

#[tokio::test(flavor = "multi_thread")]
async fn asynchronous_upstream_answers_become_202_operations_that_finish() {
    let app = spawn_with(|s| {
        s.simulator.async_operations = vec!["card_apply".into(), "card_recharge".into()];
        s.simulator.async_delay_ms = 100;
    })
    .await;
    let t = app.admin("acme");
    let r = app.post("/v1/cards", &t, json!({"bin": "222929", "currency": "USD", "limit": "40.00"})).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    assert_eq!(r.json["kind"], "card.create");
    assert_eq!(r.json["status"], "pending");
    let op_id = r.json["id"].as_str().unwrap().to_owned();

    let mut op = serde_json::Value::Null;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        op = app.get(&format!("/v1/operations/{op_id}"), &t).await.json;
        if op["status"] == "succeeded" {
            break;
        }
    }
    assert_eq!(op["status"], "succeeded", "{op}");
    let card_id = op["result"]["id"].as_str().unwrap().to_owned();
    assert_eq!(op["result"]["balance"], "40.00");
    assert!(op["result"].get("number").is_none());
    // The card now belongs to the tenant.
    assert_eq!(app.get(&format!("/v1/cards/{card_id}"), &t).await.status, StatusCode::OK);
    assert_eq!(app.get(&format!("/v1/cards/{card_id}"), &app.admin("other")).await.status, StatusCode::NOT_FOUND);

    let list = app.get("/v1/operations", &t).await;
    assert_eq!(list.json["data"][0]["id"], op_id.as_str());
}

#[tokio::test(flavor = "multi_thread")]
async fn an_asynchronous_failure_finishes_the_operation_as_failed() {
    use card_gateway::simulator::{Fault, FaultKind};
    let app = spawn_with(|s| {
        s.simulator.async_operations = vec!["card_recharge".into()];
        s.simulator.async_delay_ms = 50;
    })
    .await;
    let t = app.admin("acme");
    let card = app.create_card(&t, "10.00").await;
    app.sim.inject(
        card_gateway::upstream::Operation::CardRecharge,
        Fault::once(FaultKind::FailAsync { code: "110005".into(), message: "insufficient balance".into() }),
    );
    let r = app.post(&format!("/v1/cards/{card}/recharges"), &t, json!({"amount": "5.00"})).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    let id = r.json["id"].as_str().unwrap().to_owned();
    let mut op = serde_json::Value::Null;
    for _ in 0..40 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        op = app.get(&format!("/v1/operations/{id}"), &t).await.json;
        if op["status"] == "failed" {
            break;
        }
    }
    assert_eq!(op["status"], "failed", "{op}");
    assert_eq!(op["error"]["code"], "upstream_order_failed");
    let card_now = app.get(&format!("/v1/cards/{card}"), &t).await;
    assert_eq!(card_now.json["balance"], "10.00", "no money moved");
}
