//! Endpoint management: validation, secret shown once, rotation, idempotent create, scopes.

use card_gateway::auth::Scope;
use reqwest::Method;
use serde_json::json;

use crate::helpers::{Behaviour, Receiver, TestApp, settings, transaction};

#[actix_web::test]
async fn endpoints_are_created_listed_updated_rotated_and_deleted() {
    let app = TestApp::spawn(settings(false)).await;
    let token = app.tenant_token("crud");
    let (status, created) = app
        .send(
            Method::POST,
            &token,
            "/v1/webhook-endpoints",
            "k-create",
            Some(json!({"url": "http://127.0.0.1:1/x", "description": "ledger", "event_types": ["card.transaction"]})),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    let secret = created["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"));
    // The same Idempotency-Key replays the creation (nothing new is created); with another body it
    // is refused; reads never show the secret.
    let body = json!({"url": "http://127.0.0.1:1/x", "description": "ledger", "event_types": ["card.transaction"]});
    let (status, again) = app.send(Method::POST, &token, "/v1/webhook-endpoints", "k-create", Some(body)).await;
    assert_eq!(status, 201, "{again}");
    assert_eq!(again["id"], created["id"]);
    let (status, reused) = app
        .send(Method::POST, &token, "/v1/webhook-endpoints", "k-create", Some(json!({"url": "http://127.0.0.1:1/x"})))
        .await;
    assert_eq!(status, 422, "{reused}");
    assert_eq!(reused["code"], "idempotency_key_reused");
    let (_, got) = app.get(&token, &format!("/v1/webhook-endpoints/{id}")).await;
    assert!(got.get("secret").is_none(), "{got}");
    let (_, list) = app.get(&token, "/v1/webhook-endpoints").await;
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
    let (status, updated) = app
        .send(
            Method::PATCH,
            &token,
            &format!("/v1/webhook-endpoints/{id}"),
            "k-upd",
            Some(json!({"event_types": [], "status": "disabled"})),
        )
        .await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(
        (updated["status"].as_str(), updated["disabled_reason"].as_str()),
        (Some("disabled"), Some("disabled_by_tenant"))
    );
    let (status, rotated) =
        app.send(Method::POST, &token, &format!("/v1/webhook-endpoints/{id}/rotate-secret"), "k-rot", None).await;
    assert_eq!(status, 200, "{rotated}");
    assert_ne!(rotated["secret"], created["secret"]);
    let (status, _) = app.send(Method::DELETE, &token, &format!("/v1/webhook-endpoints/{id}"), "k-del", None).await;
    assert_eq!(status, 204);
    assert_eq!(app.get(&token, &format!("/v1/webhook-endpoints/{id}")).await.0, 404);
    let (_, list) = app.get(&token, "/v1/webhook-endpoints").await;
    assert!(list["data"].as_array().unwrap().is_empty());
    app.stop().await;
}

#[actix_web::test]
async fn deleted_endpoints_leave_the_index_so_pages_and_event_fan_out_never_walk_them() {
    let app = TestApp::spawn(settings(false)).await;
    let token = app.tenant_token("tombstones");
    let mut ids = Vec::new();
    for i in 0..4 {
        let body = json!({"url": format!("http://127.0.0.1:1/{i}")});
        let (status, created) =
            app.send(Method::POST, &token, "/v1/webhook-endpoints", &format!("c{i}"), Some(body)).await;
        assert_eq!(status, 201, "{created}");
        ids.push(created["id"].as_str().unwrap().to_owned());
    }
    // The three newest go; the oldest stays.
    for (i, id) in ids[1..].iter().enumerate() {
        let path = format!("/v1/webhook-endpoints/{id}");
        assert_eq!(app.send(Method::DELETE, &token, &path, &format!("d{i}"), None).await.0, 204);
    }
    // A page of one is the live endpoint, with nothing after it: the deleted ones are not in the
    // index any more (they used to fill pages with nothing and be loaded on every inbound event).
    let (status, page) = app.get(&token, "/v1/webhook-endpoints?limit=1").await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["data"].as_array().unwrap().len(), 1, "{page}");
    assert_eq!(page["data"][0]["id"], ids[0].as_str());
    assert!(page["next_cursor"].is_null(), "{page}");
    // A retried delete still answers as before (the tombstone stays), and the id stays the tenant's.
    let path = format!("/v1/webhook-endpoints/{}", ids[1]);
    assert_eq!(app.send(Method::DELETE, &token, &path, "d0", None).await.0, 204, "replayed");
    assert_eq!(app.get(&token, &path).await.0, 404);
    app.stop().await;
}

#[actix_web::test]
async fn endpoint_urls_are_validated_and_private_targets_refused_unless_allowed() {
    let mut s = settings(false);
    s.webhooks.allow_private_targets = false;
    let app = TestApp::spawn(s).await;
    let token = app.tenant_token("urls");
    for (i, url) in [
        "http://hooks.example.com/x",
        "https://127.0.0.1/x",
        "https://10.0.0.8/x",
        "https://169.254.169.254/",
        "https://localhost/x",
        "https://u:p@hooks.example.com/",
        "nope",
    ]
    .iter()
    .enumerate()
    {
        let (status, body) =
            app.send(Method::POST, &token, "/v1/webhook-endpoints", &format!("k{i}"), Some(json!({"url": url}))).await;
        assert_eq!(status, 422, "{url}: {body}");
        assert_eq!(body["errors"][0]["pointer"], "#/url");
    }
    let (status, body) = app
        .send(Method::POST, &token, "/v1/webhook-endpoints", "ok", Some(json!({"url": "https://hooks.example.com/cg"})))
        .await;
    assert_eq!(status, 201, "{body}");
    let (status, _) = app
        .send(
            Method::POST,
            &token,
            "/v1/webhook-endpoints",
            "types",
            Some(json!({"url": "https://hooks.example.com/cg", "event_types": ["card.bogus"]})),
        )
        .await;
    assert_eq!(status, 422);
    app.stop().await;
}

#[actix_web::test]
async fn endpoint_routes_need_events_manage_and_an_idempotency_key() {
    let app = TestApp::spawn(settings(false)).await;
    let reader = app.token("scopes", &[Scope::EventsRead]);
    let (status, _) = app
        .send(Method::POST, &reader, "/v1/webhook-endpoints", "k", Some(json!({"url": "http://127.0.0.1:1/"})))
        .await;
    assert_eq!(status, 403);
    assert_eq!(app.get(&reader, "/v1/events").await.0, 200);
    assert_eq!(app.get(&app.token("scopes", &[Scope::EventsManage]), "/v1/events").await.0, 403);
    let manager = app.token("scopes", &[Scope::EventsManage]);
    let r = app
        .http
        .post(format!("{}/v1/webhook-endpoints", app.base))
        .bearer_auth(&manager)
        .header("content-type", "application/json")
        .body(json!({"url": "http://127.0.0.1:1/"}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400, "Idempotency-Key required");
    assert_eq!(app.http.get(format!("{}/v1/events", app.base)).send().await.unwrap().status(), 401);
    app.stop().await;
}

#[actix_web::test]
async fn during_a_rotation_overlap_both_secrets_sign() {
    let app = TestApp::spawn(settings(false)).await;
    app.own_card("rot", "card-rot").await;
    let rx = Receiver::start(Behaviour::Ok).await;
    let (id, old) = app.endpoint("rot", &rx.url, &[]).await;
    let (_, rotated) = app
        .send(
            Method::POST,
            &app.tenant_token("rot"),
            &format!("/v1/webhook-endpoints/{id}/rotate-secret"),
            "r1",
            Some(json!({"keep_previous_for_s": 60})),
        )
        .await;
    let new = rotated["secret"].as_str().unwrap();
    app.notify("card_transaction", &transaction("T-rot", "card-rot", "1")).await;
    let got = rx.wait_delivered(1).await;
    assert!(got[0].verifies(new) && got[0].verifies(&old));
    assert_eq!(got[0].signature.split(' ').count(), 2);
    app.stop().await;
    rx.stop().await;
}
