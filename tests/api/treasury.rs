use reqwest::StatusCode;
use serde_json::json;

use crate::common::spawn_app;

#[tokio::test(flavor = "multi_thread")]
async fn treasury_balances_rates_exchanges_and_transfers() {
    let app = spawn_app().await;
    let t = app.admin("ops");
    let b = app.get("/v1/treasury/balances", &t).await;
    assert_eq!(b.status, StatusCode::OK, "{}", b.text);
    let usd = b.json["data"].as_array().unwrap().iter().find(|x| x["currency"] == "USD").unwrap().clone();
    assert!(usd["available"].is_string());
    let rate = app.get("/v1/treasury/exchange-rates?from=EUR&to=USD", &t).await;
    assert_eq!(rate.status, StatusCode::OK, "{}", rate.text);
    assert_eq!(rate.json["from"], "EUR");
    let same = app.get("/v1/treasury/exchange-rates?from=USD&to=USD", &t).await;
    assert_eq!(same.status, StatusCode::UNPROCESSABLE_ENTITY);
    let x = app
        .post("/v1/treasury/exchanges", &t, json!({"from_currency": "EUR", "to_currency": "USD", "amount": "100.00"}))
        .await;
    assert_eq!(x.status, StatusCode::CREATED, "{}", x.text);
    assert_eq!(x.json["debited"]["currency"], "EUR");
    assert_eq!(x.json["credited"]["currency"], "USD");
    let tr = app
        .post("/v1/treasury/crypto-transfers", &t, json!({"currency": "USDT", "amount": "10.00", "to_currency": "USD"}))
        .await;
    assert_eq!(tr.status, StatusCode::CREATED, "{}", tr.text);
    let unknown = app.get("/v1/treasury/exchange-rates?from=EUR", &t).await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
}
