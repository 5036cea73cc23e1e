use reqwest::StatusCode;

use crate::common::spawn_app;

#[tokio::test(flavor = "multi_thread")]
async fn reference_tables_bins_and_scenes_are_served_and_bins_are_cached() {
    let app = spawn_app().await;
    let t = app.token("acme", &[card_gateway::auth::Scope::CardsRead]);
    for table in card_gateway::reference::ReferenceData::table_names() {
        let r = app.get(&format!("/v1/reference/{table}"), &t).await;
        assert_eq!(r.status, StatusCode::OK, "{table}");
        assert!(!r.json["data"].as_array().unwrap().is_empty(), "{table}");
    }
    assert_eq!(app.get("/v1/reference/nope", &t).await.status, StatusCode::NOT_FOUND);
    let before = app.sim.calls(card_gateway::upstream::Operation::CardBin);
    for _ in 0..3 {
        let r = app.get("/v1/card-bins", &t).await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.json["data"].as_array().unwrap().iter().any(|b| b["bin"] == "222929"));
    }
    assert_eq!(app.sim.calls(card_gateway::upstream::Operation::CardBin) - before, 1, "cached in-process");
    let scenes = app.get("/v1/scenes", &t).await;
    assert!(scenes.json["data"].as_array().unwrap().iter().any(|s| s["code"] == "1004"));
}

#[tokio::test(flavor = "multi_thread")]
async fn health_and_readiness_answer() {
    let app = spawn_app().await;
    let h = app.send(reqwest::Method::GET, "/healthz", None, None, None).await;
    assert_eq!(h.status, StatusCode::OK);
    let r = app.send(reqwest::Method::GET, "/readyz", None, None, None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json["checks"]["store"], "ok");
    assert!(r.json["checks"].get("upstream").is_none(), "readiness does not depend on the platform");
    assert_eq!(r.json["upstream"]["status"], "unknown", "no background probe in tests");
}

#[tokio::test(flavor = "multi_thread")]
async fn metrics_count_requests_by_route_template_and_upstream_calls_by_operation() {
    let app = spawn_app().await;
    let t = app.admin("acme");
    let card = app.create_card(&t, "1.00").await;
    assert_eq!(app.get(&format!("/v1/cards/{card}"), &t).await.status, StatusCode::OK);
    let m = app.send(reqwest::Method::GET, "/metrics", None, None, None).await;
    assert_eq!(m.status, StatusCode::OK);
    assert!(m.header("content-type").unwrap().starts_with("text/plain; version=0.0.4"));
    assert!(
        m.text.contains("card_gateway_http_requests_total{method=\"GET\",route=\"/v1/cards/{id}\",status=\"200\"}"),
        "{}",
        m.text
    );
    assert!(m.text.contains("card_gateway_upstream_calls_total{operation=\"card_apply\",outcome=\"ok\"}"));
    assert!(m.text.contains("card_gateway_http_request_duration_seconds_bucket"));
    assert!(m.text.contains("# HELP card_gateway_http_requests_total "), "families carry HELP");
    assert!(m.text.contains("card_gateway_build_info{version="), "{}", m.text);
    assert!(m.text.contains("card_gateway_webhooks_total{event="), "one webhook family: {}", m.text);
    assert!(!m.text.contains(&card), "no ids in labels");
}
