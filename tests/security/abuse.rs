//! Abuse suite (issue 10): hostile input must not grow the gateway's memory, logs or metrics, must not
//! panic it, and must be answered with a clean problem+json. Bounds are counted (bytes, series,
//! streams, upstream calls), never timed.

use std::time::{Duration, Instant};

use card_gateway::auth::{Scope, dev_tokens};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::{
    common::{TestApp, captured_logs, spawn_app},
    support::{EventStream, assert_problem, cardholder_body, request, spawn_configured, upstream_calls},
};

async fn metrics_text(app: &TestApp) -> String {
    request(app, Method::GET, "/metrics", None, None, None).await.text
}

#[tokio::test]
async fn made_up_http_methods_are_labelled_other_and_never_grow_metrics_or_logs() {
    let app = spawn_app().await;
    // Warm the series a standard request creates, so only the made-up methods' effect is measured.
    let _ = request(&app, Method::GET, "/healthz", None, None, None).await;
    let _ = request(&app, Method::DELETE, "/healthz", None, None, None).await;
    let before = metrics_text(&app).await;
    let marker = format!("ZQ{}", uuid::Uuid::new_v4().simple()).to_uppercase();
    for i in 0..300 {
        let method = format!("{marker}{i:03}{}", "X".repeat(8 * 1024));
        let r = app
            .client
            .request(Method::from_bytes(method.as_bytes()).unwrap(), format!("{}/healthz", app.base))
            .send()
            .await
            .expect("request sent");
        if i == 0 {
            let status = r.status();
            let text = r.text().await.unwrap_or_default();
            assert!(status.is_client_error(), "a made-up method is refused: {status} {text}");
            assert!(!text.contains(&marker), "the method is never echoed: {text}");
        }
    }
    let after = metrics_text(&app).await;
    assert!(!after.contains(&marker), "a made-up method became a metric label");
    assert!(after.contains("method=\"OTHER\""), "made-up methods are counted as OTHER:\n{after}");
    // 300 distinct 8 KB methods once grew /metrics by 2.4 MB; now at most a few OTHER series appear.
    assert!(
        after.len() < before.len() + 4096,
        "/metrics grew from {} to {} bytes on 300 made-up methods",
        before.len(),
        after.len()
    );
    assert!(!captured_logs().contains(&marker), "a made-up method reached the logs");
}

#[tokio::test]
async fn bodies_nested_deeper_than_32_levels_are_a_400_json_too_deep_and_reach_nothing_upstream() {
    let app = spawn_app().await;
    let token = app.admin("demo");
    let calls = upstream_calls(&app);
    // The 126-level body of the security review, on the route with the 17 MiB limit.
    let mut deep = cardholder_body();
    let mut nest = json!(1);
    for _ in 0..63 {
        nest = json!({ "a": [nest] });
    }
    deep["billing"]["extra"] = nest;
    let r = request(&app, Method::POST, "/v1/cardholders", Some(&token), Some("deep-1"), Some(deep)).await;
    assert_problem(&r, StatusCode::BAD_REQUEST, "json_too_deep", "126 levels on POST /v1/cardholders");
    // Just past the limit on an ordinary route: refused the same way; at the limit it is parsed (and
    // refused for what it is, not for its depth).
    let mut over: Value = json!(1);
    for _ in 0..33 {
        over = json!([over]);
    }
    let body = json!({"bin": "222929", "currency": "USD", "limit": "10.00", "x": over});
    let r = request(&app, Method::POST, "/v1/cards", Some(&token), Some("deep-2"), Some(body)).await;
    assert_problem(&r, StatusCode::BAD_REQUEST, "json_too_deep", "33 levels on POST /v1/cards");
    let mut at: Value = json!(1);
    for _ in 0..30 {
        at = json!([at]);
    }
    let body = json!({"bin": "222929", "currency": "USD", "limit": "10.00", "x": at});
    let r = request(&app, Method::POST, "/v1/cards", Some(&token), Some("deep-3"), Some(body)).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "32 levels are parsed (unknown field `x`): {}", r.text);
    assert_eq!(upstream_calls(&app), calls, "no refused body reached the platform");
}

#[tokio::test]
async fn dates_outside_1900_to_2999_are_a_422_problem_never_a_panic() {
    let app = spawn_app().await;
    let token = app.admin("demo");
    for query in [
        "to=-262143-01-01",
        "from=-262143-01-01&to=2026-01-01",
        "to=%2B262142-12-31",
        "from=1899-12-31&to=1900-01-02",
        "from=2999-12-01&to=3000-01-01",
    ] {
        let r = request(&app, Method::GET, &format!("/v1/transactions?{query}"), Some(&token), None, None).await;
        assert_problem(&r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed", query);
    }
    let r =
        request(&app, Method::GET, "/v1/transactions?from=1900-01-01&to=1900-01-02", Some(&token), None, None).await;
    assert_eq!(r.status, StatusCode::OK, "the bounds themselves are valid: {}", r.text);
    let mut body = cardholder_body();
    body["birth_date"] = json!("0001-01-01");
    let r = request(&app, Method::POST, "/v1/cardholders", Some(&token), Some("old-birth"), Some(body)).await;
    assert_problem(&r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed", "birth_date 0001-01-01");
    assert!(r.text.contains("#/birth_date"), "the field is named: {}", r.text);
    // The gateway is still serving (no worker died).
    assert_eq!(request(&app, Method::GET, "/healthz", None, None, None).await.status, StatusCode::OK);
}

#[tokio::test]
async fn an_upstream_answer_larger_than_max_response_bytes_is_a_502_bad_response() {
    let app = spawn_configured(|s| s.upstream.max_response_bytes = 256).await;
    let token = app.admin("demo");
    let r = request(&app, Method::GET, "/v1/card-bins", Some(&token), None, None).await;
    assert_problem(&r, StatusCode::BAD_GATEWAY, "upstream_bad_response", "a capped upstream answer");
    let app = spawn_app().await;
    let r = request(&app, Method::GET, "/v1/card-bins", Some(&app.admin("demo")), None, None).await;
    assert_eq!(r.status, StatusCode::OK, "control: the default cap lets the answer through: {}", r.text);
}

#[tokio::test]
async fn webhook_endpoints_on_6to4_teredo_and_site_local_addresses_are_refused() {
    let app = spawn_configured(|s| s.webhooks.allow_private_targets = false).await;
    let token = app.admin("demo");
    for host in ["[2002:7f00:1::1]", "[2002:a00:1::]", "[2001:0:4136:e378:8000:63bf:3fff:fdd2]", "[fec0::1]"] {
        let url = format!("https://{host}/hook");
        let r = app.post("/v1/webhook-endpoints", &token, json!({"url": url})).await;
        assert_problem(&r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed", &url);
    }
}

#[tokio::test]
async fn event_streams_beyond_the_tenant_and_process_caps_answer_429_and_free_their_slot_when_closed() {
    let app = spawn_configured(|s| {
        s.webhooks.sse_max_streams_per_tenant = 2;
        s.webhooks.sse_max_streams_total = 3;
    })
    .await;
    let (a, b, c) = (app.admin("demo"), app.admin("demo-2"), app.admin("demo-3"));
    let a1 = EventStream::open(&app, &a, None).await;
    let _a2 = EventStream::open(&app, &a, None).await;
    let r = request(&app, Method::GET, "/v1/events/stream", Some(&a), None, None).await;
    assert_problem(&r, StatusCode::TOO_MANY_REQUESTS, "stream_limit", "a third stream of one tenant");
    assert!(r.header("retry-after").is_some(), "429 carries Retry-After: {:?}", r.headers);
    let _b1 = EventStream::open(&app, &b, None).await;
    let r = request(&app, Method::GET, "/v1/events/stream", Some(&c), None, None).await;
    assert_problem(&r, StatusCode::TOO_MANY_REQUESTS, "stream_limit", "a fourth stream of the process");
    // Closing a stream frees its slot.
    drop(a1);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let r = request(&app, Method::GET, "/v1/events/stream", Some(&c), None, None).await;
        if r.status == StatusCode::OK {
            break;
        }
        assert!(Instant::now() < deadline, "the closed stream's slot was never freed: {}", r.text);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn an_event_stream_ends_when_its_token_expires() {
    let app = spawn_configured(|_| {}).await;
    let token = dev_tokens::mint(&app.settings, "demo", &[Scope::EventsRead], 2).unwrap();
    let opened = Instant::now();
    let mut resp = app
        .client
        .get(format!("{}/v1/events/stream", app.base))
        .bearer_auth(&token)
        .send()
        .await
        .expect("stream opened");
    assert_eq!(resp.status(), StatusCode::OK);
    let mut raw = String::new();
    let ended = tokio::time::timeout(Duration::from_secs(15), async {
        while let Ok(Some(chunk)) = resp.chunk().await {
            raw.push_str(&String::from_utf8_lossy(&chunk));
        }
    })
    .await;
    assert!(ended.is_ok(), "the stream outlived its token by more than 15 s: {raw}");
    assert!(raw.contains("event: token_expired"), "the stream says why it ends: {raw}");
    assert!(opened.elapsed() >= Duration::from_secs(1), "it ended at exp, not at once: {raw}");
    // The same tenant may open a new stream with a fresh token.
    let _again = EventStream::open(&app, &app.token("demo", &[Scope::EventsRead]), None).await;
}

#[tokio::test]
async fn a_list_page_charges_one_read_per_platform_call_and_a_page_the_allowance_cannot_cover_reaches_nothing() {
    use card_gateway::{config::rate_limit::Quota, upstream::Operation as Op};
    // Ten reads of burst and (practically) no refill during the test. No webhooks for the synchronous
    // card creates: one that races a create's answer finds the operation unsettled and re-reads the
    // card (CardInfo), which lands in the count below at random (1 run in 10 on a loaded machine).
    let app = spawn_configured(|s| {
        s.rate_limit.classes.read = Quota { rate_per_s: 0.01, burst: 10 };
        s.simulator.sync_operation_webhooks = false;
    })
    .await;
    let t = app.admin("demo");
    for _ in 0..6 {
        app.create_card(&t, "1.00").await;
    }
    let before = app.sim.calls(Op::CardInfo);
    // 6 platform reads = 6 of the 10 reads.
    let first = request(&app, Method::GET, "/v1/cards?limit=6", Some(&t), None, None).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    assert_eq!(app.sim.calls(Op::CardInfo), before + 6);
    // Another 6 would exceed the 4 left: refused as a whole, before any platform call.
    let second = request(&app, Method::GET, "/v1/cards?limit=6", Some(&t), None, None).await;
    assert_problem(&second, StatusCode::TOO_MANY_REQUESTS, "rate_limited", "a page the allowance cannot cover");
    assert!(second.header("retry-after").is_some(), "{:?}", second.headers);
    assert_eq!(app.sim.calls(Op::CardInfo), before + 6, "the refused page read nothing from the platform");
    // Another tenant's allowance is its own.
    let other = app.admin("demo-2");
    assert_eq!(request(&app, Method::GET, "/v1/cards?limit=6", Some(&other), None, None).await.status, StatusCode::OK);
}

fn heavy_cardholder_body() -> Value {
    let mut body = cardholder_body();
    // 96 KB of image: over the 64 KiB ordinary body limit, so a heavy request.
    body["id_document"] =
        json!({"type": "passport", "number": "X1234567", "front_image_base64": "QUJD".repeat(24_000)});
    body
}

#[tokio::test]
async fn heavy_bodies_run_at_most_heavy_concurrency_at_once_and_are_charged_to_the_heavy_class() {
    use card_gateway::{
        config::rate_limit::Quota,
        simulator::{Fault, FaultKind},
        upstream::Operation as Op,
    };
    let app = spawn_configured(|s| {
        s.server.heavy_concurrency = 1;
        s.upstream.timeout_ms = 10_000;
        s.rate_limit.classes.heavy = Quota { rate_per_s: 0.01, burst: 2 };
    })
    .await;
    let t = app.admin("demo");
    // The first heavy request holds the only slot while the platform is slow to answer it.
    app.sim.inject(Op::CardholderApply, Fault::once(FaultKind::Latency { ms: 2_000 }));
    let first = {
        let (base, client, t) = (app.base.clone(), app.client.clone(), t.clone());
        tokio::spawn(async move {
            client
                .post(format!("{base}/v1/cardholders"))
                .bearer_auth(t)
                .header("Idempotency-Key", "heavy-1")
                .header("Content-Type", "application/json")
                .body(heavy_cardholder_body().to_string())
                .send()
                .await
                .map(|r| r.status())
        })
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    while app.sim.calls(Op::CardholderApply) == 0 {
        assert!(Instant::now() < deadline, "the first heavy request never reached the platform");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let busy =
        request(&app, Method::POST, "/v1/cardholders", Some(&t), Some("heavy-2"), Some(heavy_cardholder_body())).await;
    assert_problem(&busy, StatusCode::SERVICE_UNAVAILABLE, "heavy_requests_busy", "a second heavy request at once");
    assert!(busy.header("retry-after").is_some(), "{:?}", busy.headers);
    // An ordinary body is not held back by heavy ones.
    let light =
        request(&app, Method::POST, "/v1/cardholders", Some(&t), Some("light-1"), Some(cardholder_body())).await;
    assert_eq!(light.status, StatusCode::CREATED, "{}", light.text);
    assert_eq!(first.await.unwrap().unwrap(), StatusCode::CREATED);
    assert_eq!(app.sim.calls(Op::CardholderApply), 2, "the busy refusal reached nothing");
    // The heavy class: a burst of 2, the first one spent; the refused one was not charged.
    let second =
        request(&app, Method::POST, "/v1/cardholders", Some(&t), Some("heavy-3"), Some(heavy_cardholder_body())).await;
    assert_eq!(second.status, StatusCode::CREATED, "{}", second.text);
    let third =
        request(&app, Method::POST, "/v1/cardholders", Some(&t), Some("heavy-4"), Some(heavy_cardholder_body())).await;
    assert_problem(&third, StatusCode::TOO_MANY_REQUESTS, "rate_limited", "a third heavy request");
    assert!(third.header("ratelimit-policy").is_some_and(|p| p.contains("\"heavy\"")), "{:?}", third.headers);
    assert_eq!(app.sim.calls(Op::CardholderApply), 3);
    // Ordinary cardholder creation still works for this tenant.
    let light =
        request(&app, Method::POST, "/v1/cardholders", Some(&t), Some("light-2"), Some(cardholder_body())).await;
    assert_eq!(light.status, StatusCode::CREATED, "{}", light.text);
}
