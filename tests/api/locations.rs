//! Every `201` says where the created object lives (`Location`), a replay says the same, and the
//! URL reads the object back for the same tenant only.

use reqwest::StatusCode;
use serde_json::json;

use crate::common::{TestApp, spawn_app};

/// The `Location` of a `201`, which must read back (200) with `id_field` equal to the answer's.
async fn location_reads_back(
    app: &TestApp,
    token: &str,
    what: &str,
    created: &crate::common::Resp,
    id_field: &str,
) -> String {
    assert_eq!(created.status, StatusCode::CREATED, "{what}: {}", created.text);
    let location =
        created.header("location").map(str::to_owned).unwrap_or_else(|| panic!("{what}: a 201 without Location"));
    let read = app.get(&location, token).await;
    assert_eq!(read.status, StatusCode::OK, "{what}: GET {location}: {}", read.text);
    assert_eq!(read.json[id_field], created.json["id"], "{what}: {location} is not the created object");
    location
}

#[tokio::test(flavor = "multi_thread")]
async fn every_created_object_answers_its_location_which_reads_it_back() {
    let app = spawn_app().await;
    let t = app.admin("acme");
    let card = app.post("/v1/cards", &t, json!({"bin": "222929", "currency": "USD", "limit": "5.00"})).await;
    let at = location_reads_back(&app, &t, "card", &card, "id").await;
    assert_eq!(at, format!("/v1/cards/{}", card.json["id"].as_str().unwrap()));
    let group = app.post("/v1/card-groups", &t, json!({"currency": "USD", "amount": "5.00"})).await;
    location_reads_back(&app, &t, "card group", &group, "id").await;
    let n = crate::common::rand_digits(9);
    let holder = app
        .post(
            "/v1/cardholders",
            &t,
            json!({"first_name": "Ada", "last_name": "Lovelace", "email": format!("ada{n}@example.com"),
                "mobile_prefix": "1", "mobile": format!("50{n}"), "birth_date": "1990-12-10", "country": "USA",
                "billing": {"state": "AR", "city": "Little Rock", "address": "1 Main St", "zip": "72201"}}),
        )
        .await;
    location_reads_back(&app, &t, "cardholder", &holder, "id").await;
    let endpoint =
        app.post("/v1/webhook-endpoints", &t, json!({"url": "https://hooks.example.com/card-gateway"})).await;
    location_reads_back(&app, &t, "webhook endpoint", &endpoint, "id").await;

    // A crypto order has no read route of its own: its Location is the operation, whose result it is.
    let deposit =
        app.post("/v1/crypto/deposits", &t, json!({"amount": "10.00", "currency": "USDT", "chain": "TRON"})).await;
    assert_eq!(deposit.status, StatusCode::CREATED, "{}", deposit.text);
    let at = deposit.header("location").expect("a 201 without Location").to_owned();
    assert!(at.starts_with("/v1/operations/op_"), "{at}");
    let op = app.get(&at, &t).await;
    assert_eq!(op.status, StatusCode::OK, "{}", op.text);
    assert_eq!(op.json["result"]["id"], deposit.json["id"], "{}", op.text);

    // Another tenant's token reads nothing there.
    let other = app.admin("globex");
    assert_eq!(app.get(&at, &other).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_replayed_create_answers_the_same_location() {
    let app = spawn_app().await;
    let t = app.admin("acme");
    let body = json!({"bin": "222929", "currency": "USD", "limit": "5.00"});
    let first = app.post_key("/v1/cards", &t, "loc-replay-1", body.clone()).await;
    let again = app.post_key("/v1/cards", &t, "loc-replay-1", body).await;
    assert_eq!(again.status, StatusCode::CREATED, "{}", again.text);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(again.header("location"), first.header("location"));
    assert_eq!(again.json["id"], first.json["id"]);
}
