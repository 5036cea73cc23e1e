//! The SSE stream: live events, Last-Event-ID resume, per-object order, tenant scoping, filters.

use std::time::Duration;

use serde_json::json;

use crate::helpers::{SseReader, TestApp, recent, settings, transaction};

#[actix_web::test]
async fn the_stream_delivers_live_events_and_resumes_after_last_event_id() {
    let app = TestApp::spawn(settings(false)).await;
    app.own_card("sse", "card-sse").await;
    app.own_card("sse-other", "card-other").await;
    let token = app.tenant_token("sse");
    let mut live = SseReader::open(&app, &token, None).await;
    for i in 0..3 {
        app.notify("card_transaction", &transaction(&format!("S{i}"), "card-sse", "1")).await;
        app.notify("card_transaction", &transaction(&format!("X{i}"), "card-other", "1")).await;
    }
    let mut frames = Vec::new();
    for _ in 0..3 {
        frames.push(live.next(Duration::from_secs(5)).await.expect("live frame"));
    }
    let records: Vec<&str> = frames.iter().map(|f| f.data["data"]["id"].as_str().unwrap()).collect();
    assert_eq!(records, ["S0", "S1", "S2"], "in order, only this tenant's");
    assert!(frames.iter().all(|f| f.event == "card.transaction"));
    assert!(live.next(Duration::from_millis(300)).await.is_none(), "nothing of the other tenant");
    // Reconnect after the first frame: the rest again, then new ones.
    let mut resumed = SseReader::open(&app, &token, Some(&frames[0].id)).await;
    app.notify("card_fee_unused", &json!({})).await;
    app.notify("trade_fee", &json!({"cardId": "card-sse", "opType": 99, "receiptNo": "F1", "realCcy": "USD", "realFee": 0.1, "createAt": recent()})).await;
    let mut again = Vec::new();
    for _ in 0..3 {
        again.push(resumed.next(Duration::from_secs(5)).await.expect("resumed frame"));
    }
    assert_eq!(again[0].data["data"]["id"], "S1");
    assert_eq!(again[1].data["data"]["id"], "S2");
    assert_eq!(again[2].event, "card.fee");
    let bad = app
        .http
        .get(format!("{}/v1/events/stream", app.base))
        .bearer_auth(&token)
        .header("Last-Event-ID", "nope")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    app.stop().await;
}

#[actix_web::test]
async fn the_log_filters_by_type_and_object_and_pages_with_cursors() {
    let app = TestApp::spawn(settings(false)).await;
    app.own_card("filters", "card-f1").await;
    app.own_card("filters", "card-f2").await;
    for i in 0..30 {
        let card = if i % 3 == 0 { "card-f1" } else { "card-f2" };
        app.notify("card_transaction", &transaction(&format!("F{i:02}"), card, "1")).await;
    }
    app.notify("trade_fee", &json!({"cardId": "card-f1", "opType": 97, "receiptNo": "RF", "realCcy": "USD", "realFee": 0.3, "createAt": recent()})).await;
    let all = app.events("filters", "").await;
    assert_eq!(all.len(), 31);
    assert_eq!(all[0]["type"], "card.fee", "newest first");
    let f1 = app.events("filters", "&object_id=card-f1").await;
    assert_eq!(f1.len(), 11);
    let ids: Vec<&str> = f1.iter().filter_map(|e| e["data"]["id"].as_str()).filter(|id| id.starts_with('F')).collect();
    let mut sorted = ids.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(ids, sorted, "per-object order preserved");
    assert_eq!(app.events("filters", "&type=card.fee").await.len(), 1);
    let token = app.tenant_token("filters");
    let (status, page) = app.get(&token, "/v1/events?limit=7").await;
    assert_eq!((status, page["data"].as_array().unwrap().len()), (200, 7));
    let cursor = page["next_cursor"].as_str().unwrap();
    let (status, _) = app.get(&token, &format!("/v1/events?limit=7&type=card.fee&cursor={cursor}")).await;
    assert_eq!(status, 422, "a cursor is bound to its filters");
    let (status, _) = app.get(&app.tenant_token("thief"), &format!("/v1/events?limit=7&cursor={cursor}")).await;
    assert_eq!(status, 422, "and to its tenant");
    assert_eq!(app.get(&token, "/v1/events?type=card.nope").await.0, 422);
    app.stop().await;
}
