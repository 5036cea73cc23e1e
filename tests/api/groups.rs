use reqwest::StatusCode;
use serde_json::json;

use crate::common::spawn_app;

#[tokio::test(flavor = "multi_thread")]
async fn groups_are_opened_listed_recharged_refunded_and_frozen() {
    let app = spawn_app().await;
    let t = app.admin("acme");
    let created =
        app.post("/v1/card-groups", &t, json!({"currency": "USD", "amount": "200.00", "alias": "marketing"})).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let id = created.json["id"].as_str().unwrap().to_owned();
    assert_eq!(created.json["balance"], "200.00");
    let r =
        app.post(&format!("/v1/card-groups/{id}/recharges?expand=card_group"), &t, json!({"amount": "50.00"})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json["result"]["balance"], "250.00");
    let r = app.post(&format!("/v1/card-groups/{id}/refunds"), &t, json!({"amount": "25.00"})).await;
    assert_eq!(r.json["result"]["holder"], "card_group", "{}", r.text);
    assert_eq!(r.json["result"]["amount"], "25.00", "{}", r.text);
    let one = app.get(&format!("/v1/card-groups/{id}"), &t).await;
    assert_eq!(one.json["balance"], "225.00", "{}", one.text);
    let frozen = app.patch(&format!("/v1/card-groups/{id}"), &t, json!({"status": "frozen"})).await;
    assert_eq!(frozen.status, StatusCode::OK, "{}", frozen.text);
    assert_eq!(frozen.json["status"], "frozen");
    let list = app.get("/v1/card-groups", &t).await;
    assert_eq!(list.json["data"][0]["id"], id.as_str());
    let one = app.get(&format!("/v1/card-groups/{id}"), &t).await;
    assert_eq!(one.json["alias"], "marketing");
    let bad = app.patch(&format!("/v1/card-groups/{id}"), &t, json!({"status": "deleted"})).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
}
