use reqwest::StatusCode;
use serde_json::json;

use crate::common::spawn_app;

#[tokio::test(flavor = "multi_thread")]
async fn a_physical_card_is_assigned_activated_and_its_pin_reset() {
    let app = spawn_app().await;
    let t = app.admin("acme");
    let holder = app.create_cardholder(&t).await;
    let kit = format!("KIT{}", crate::common::rand_digits(6));
    let r = app
        .post("/v1/physical-cards", &t, json!({"cardholder_id": holder, "kit_number": kit, "currency": "USD"}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let id = r.json["id"].as_str().unwrap().to_owned();
    assert_eq!(r.json["status"], "pending_activation");
    let code = app.sim.issue_activation_code(&id).unwrap();
    let wrong = app.post(&format!("/v1/physical-cards/{id}/activate"), &t, json!({"activation_code": "000000x"})).await;
    assert!(wrong.status.is_client_error(), "{}", wrong.text);
    assert!(!wrong.text.contains("000000x"));
    use card_gateway::sensitive::Reveal;
    let ok = app
        .post(&format!("/v1/physical-cards/{id}/activate"), &t, json!({"activation_code": code.code.expose()}))
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text);
    assert_eq!(ok.json["status"], "active");
    assert!(!ok.text.contains(code.code.expose()));
    let pin = app.post(&format!("/v1/physical-cards/{id}/pin-reset"), &t, json!({})).await;
    assert_eq!(pin.status, StatusCode::OK, "{}", pin.text);
    assert_eq!(pin.json["kind"], "physical_card.pin_reset");
    // A virtual card is not a physical card.
    let virt = app.create_card(&t, "1.00").await;
    let r = app.post(&format!("/v1/physical-cards/{virt}/pin-reset"), &t, json!({})).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let kit_pan = app
        .post(
            "/v1/physical-cards",
            &t,
            json!({"cardholder_id": holder, "kit_number": "4111111111111111", "currency": "USD"}),
        )
        .await;
    assert_eq!(kit_pan.status, StatusCode::UNPROCESSABLE_ENTITY, "a card number is refused as a kit number");
}

#[tokio::test(flavor = "multi_thread")]
async fn crypto_deposits_and_withdrawals_are_created() {
    let app = spawn_app().await;
    let t = app.admin("acme");
    let d = app.post("/v1/crypto/deposits", &t, json!({"amount": "100.00", "currency": "USDT", "chain": "TRON"})).await;
    assert_eq!(d.status, StatusCode::CREATED, "{}", d.text);
    assert_eq!(d.json["status"], "pending");
    assert!(d.json["deposit_address"].is_string());
    let w = app
        .post("/v1/crypto/withdrawals", &t, json!({"amount": "10.00", "currency": "USDT", "chain": "TRON", "to_address": "TQ5aY1n7Wn4v6Qe6yYvLh9v5Xn3y8k2ZsN"}))
        .await;
    assert_eq!(w.status, StatusCode::CREATED, "{}", w.text);
    assert!(w.json["fee"].is_string());
    let broke = app
        .post("/v1/crypto/withdrawals", &t, json!({"amount": "99999999.00", "currency": "USDT", "chain": "TRON", "to_address": "TQ5aY1n7Wn4v6Qe6yYvLh9v5Xn3y8k2ZsN"}))
        .await;
    assert_eq!(broke.status, StatusCode::CONFLICT, "{}", broke.text);
    let bad = app
        .post(
            "/v1/crypto/withdrawals",
            &t,
            json!({"amount": "1.00", "currency": "USDT", "chain": "TRON", "to_address": "x"}),
        )
        .await;
    assert_eq!(bad.json["errors"][0]["pointer"], "#/to_address");
}
