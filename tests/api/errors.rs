//! The framework's own rejections leave as problem+json too.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::common::spawn_app;

#[tokio::test(flavor = "multi_thread")]
async fn framework_rejections_are_problems() {
    let app = spawn_app().await;
    let t = app.admin("acme");
    let url = format!("{}/v1/cards", app.base);

    let malformed = app
        .client
        .post(&url)
        .bearer_auth(&t)
        .header("Idempotency-Key", "m1")
        .header("content-type", "application/json")
        .body("{\"bin\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), StatusCode::BAD_REQUEST);
    assert_eq!(malformed.headers()["content-type"], "application/problem+json");

    let wrong_type = app
        .client
        .post(&url)
        .bearer_auth(&t)
        .header("Idempotency-Key", "m2")
        .header("content-type", "text/plain")
        .body("hi")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_type.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);

    let big = "x".repeat(70_000);
    let oversize = app
        .client
        .post(&url)
        .bearer_auth(&t)
        .header("Idempotency-Key", "m3")
        .header("content-type", "application/json")
        .body(format!("{{\"alias\":\"{big}\"}}"))
        .send()
        .await
        .unwrap();
    assert_eq!(oversize.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(oversize.headers()["content-type"], "application/problem+json");

    let unknown = app.send(Method::GET, "/v1/nope", Some(&t), None, None).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(unknown.code(), "route_not_found");
    assert!(unknown.is_problem());

    let wrong_method = app.send(Method::PUT, "/v1/cards", Some(&t), None, None).await;
    assert_eq!(wrong_method.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(wrong_method.header("allow"), Some("GET, POST"));
    assert!(wrong_method.is_problem());

    let no_key = app
        .send(
            Method::POST,
            "/v1/cards",
            Some(&t),
            None,
            Some(json!({"bin": "222929", "currency": "USD", "limit": "1.00"})),
        )
        .await;
    assert_eq!(no_key.status, StatusCode::BAD_REQUEST);
    assert_eq!(no_key.code(), "idempotency_key_missing");

    let bad_query = app.get("/v1/cards?limit=0", &t).await;
    assert_eq!(bad_query.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad_query.json["errors"][0]["pointer"], "query.limit");
    let unknown_query = app.get("/v1/cards?color=red", &t).await;
    assert_eq!(unknown_query.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test(flavor = "multi_thread")]
async fn every_response_carries_a_request_id_and_well_formed_ones_are_echoed() {
    let app = spawn_app().await;
    let r = app.client.get(format!("{}/healthz", app.base)).header("x-request-id", "req-123").send().await.unwrap();
    assert_eq!(r.headers()["x-request-id"], "req-123");
    let r = app
        .client
        .get(format!("{}/v1/cards", app.base))
        .header("x-request-id", "bad id with spaces")
        .send()
        .await
        .unwrap();
    let id = r.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert_ne!(id, "bad id with spaces");
    let body: serde_json::Value = serde_json::from_str(&r.text().await.unwrap()).unwrap();
    assert_eq!(body["request_id"], id.as_str(), "the problem names the same request id");
}
