use reqwest::StatusCode;
use serde_json::json;

use crate::common::{rand_digits, spawn_app};

fn holder(email: &str, mobile: &str, birth: &str) -> serde_json::Value {
    json!({
        "first_name": "Ada", "last_name": "Lovelace", "email": email, "mobile_prefix": "1", "mobile": mobile,
        "birth_date": birth, "country": "USA",
        "billing": {"state": "AR", "city": "Little Rock", "address": "1 Main St", "zip": "72201"}
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn cardholders_are_registered_read_listed_and_deleted() {
    let app = spawn_app().await;
    let t = app.admin("acme");
    let n = rand_digits(8);
    let r = app.post("/v1/cardholders", &t, holder(&format!("a{n}@example.com"), &format!("5{n}"), "1990-01-01")).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let id = r.json["id"].as_str().unwrap().to_owned();
    let one = app.get(&format!("/v1/cardholders/{id}"), &t).await;
    assert_eq!(one.status, StatusCode::OK, "{}", one.text);
    assert_eq!(one.json["country"], "USA");
    assert_eq!(one.json["billing"]["state"], "AR");
    let list = app.get("/v1/cardholders", &t).await;
    assert_eq!(list.json["data"].as_array().unwrap().len(), 1);
    let dup = app.post("/v1/cardholders", &t, holder(&format!("a{n}@example.com"), "5550000", "1990-01-01")).await;
    assert!(dup.status.is_client_error(), "duplicate email refused: {}", dup.text);
    assert!(dup.json["upstream_code"].is_string());
    let del = app.delete(&format!("/v1/cardholders/{id}"), &t).await;
    assert_eq!(del.status, StatusCode::OK, "{}", del.text);
    let gone = app.get(&format!("/v1/cardholders/{id}"), &t).await;
    assert_eq!(gone.json["status"], "deleted", "{}", gone.text);
}

#[tokio::test(flavor = "multi_thread")]
async fn minors_unknown_countries_and_bad_states_are_rejected_locally() {
    let app = spawn_app().await;
    let t = app.admin("acme");
    let minor = app.post("/v1/cardholders", &t, holder("kid@example.com", "5551234", "2015-01-01")).await;
    assert_eq!(minor.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(minor.json["errors"][0]["pointer"], "#/birth_date");
    let mut body = holder("x@example.com", "5551235", "1990-01-01");
    body["country"] = json!("XXX");
    body["mobile_prefix"] = json!("999");
    let r = app.post("/v1/cardholders", &t, body).await;
    let pointers: Vec<_> =
        r.json["errors"].as_array().unwrap().iter().map(|e| e["pointer"].as_str().unwrap().to_owned()).collect();
    assert!(pointers.contains(&"#/country".to_owned()), "{pointers:?}");
    assert!(pointers.contains(&"#/mobile_prefix".to_owned()), "{pointers:?}");
    let mut us = holder("y@example.com", "5551236", "1990-01-01");
    us["billing"]["state"] = json!("ZZ");
    let r = app.post("/v1/cardholders", &t, us).await;
    assert_eq!(r.json["errors"][0]["pointer"], "#/billing/state", "{}", r.text);
    assert_eq!(app.sim.calls(card_gateway::upstream::Operation::CardholderApply), 0, "nothing reached the platform");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_card_for_a_holder_required_bin_carries_the_cardholder() {
    let app = spawn_app().await;
    let t = app.admin("acme");
    let holder_id = app.create_cardholder(&t).await;
    let without = app.post("/v1/cards", &t, json!({"bin": "485932", "currency": "USD", "limit": "10.00"})).await;
    assert!(without.status.is_client_error(), "{}", without.text);
    let with = app
        .post(
            "/v1/cards",
            &t,
            json!({"bin": "485932", "currency": "USD", "limit": "10.00", "cardholder_id": holder_id}),
        )
        .await;
    assert_eq!(with.status, StatusCode::CREATED, "{}", with.text);
    assert_eq!(with.json["cardholder_id"], holder_id.as_str());
}
