//! Canary PAN, CVV and OTP: never in logs, never in stored events; the OTP reaches its tenant (stream,
//! endpoint) and then expires from the store.

use std::time::Duration;

use card_gateway::testing::redis_server::RedisServer;
use serde_json::json;

use crate::helpers::{Behaviour, Receiver, SseReader, TestApp, captured_logs, recent, settings, with_redis};

const PAN: &str = "4000056655665556";
const CVV: &str = "9173";
const OTP: &str = "583920";
const CODE: &str = "ACT-7Q4Z";

/// Every value of every key, as text.
async fn dump(url: &str) -> String {
    let client = redis::Client::open(url).unwrap();
    let mut c = client.get_multiplexed_async_connection().await.unwrap();
    let keys: Vec<String> = redis::cmd("KEYS").arg("*").query_async(&mut c).await.unwrap();
    let mut out = String::new();
    for k in keys {
        let kind: String = redis::cmd("TYPE").arg(&k).query_async(&mut c).await.unwrap();
        let v: redis::Value = match kind.as_str() {
            "string" => redis::cmd("GET").arg(&k).query_async(&mut c).await.unwrap(),
            "stream" => redis::cmd("XRANGE").arg(&k).arg("-").arg("+").query_async(&mut c).await.unwrap(),
            "zset" => redis::cmd("ZRANGE").arg(&k).arg(0).arg(-1).query_async(&mut c).await.unwrap(),
            "hash" => redis::cmd("HGETALL").arg(&k).query_async(&mut c).await.unwrap(),
            "set" => redis::cmd("SMEMBERS").arg(&k).query_async(&mut c).await.unwrap(),
            _ => redis::Value::Nil,
        };
        out.push_str(&format!("{k} {v:?}\n"));
        if let redis::Value::BulkString(b) = &v {
            out.push_str(&String::from_utf8_lossy(b));
        }
    }
    out
}

fn contains_bytes_text(haystack: &str, needle: &str) -> bool {
    // Stream values print as byte arrays in Debug; check their text form too.
    haystack.contains(needle)
}

#[actix_web::test]
async fn canary_pan_cvv_and_otp_never_reach_logs_or_stored_events() {
    let Some(redis) = RedisServer::start() else { return };
    let mut s = with_redis(settings(false), &redis.url(), "canary");
    s.webhooks.secret_ttl_s = 1;
    let app = TestApp::spawn(s).await;
    app.own_card("canary", "card-canary").await;
    let rx = Receiver::start(Behaviour::Ok).await;
    app.endpoint("canary", &rx.url, &[]).await;
    let token = app.tenant_token("canary");
    let mut sse = SseReader::open(&app, &token, None).await;
    let notes = [
        (
            "card_operate",
            json!({"orderId": "O-can", "cardId": "card-canary", "userReqNo": "portal-can", "opType": 15, "status": 1, "amount": 10, "fee": 1,
            "createAt": recent(), "cardInfo": {"cardNo": PAN, "cardVerifyNo": CVV, "cardExpiryDate": "2029-01", "localCurrency": "USD"}}),
        ),
        (
            "card_3ds_otp",
            json!({"otp": OTP, "cardId": "card-canary", "cardNo": PAN, "transactionCurrency": "USD", "transactionAmount": 19.99, "merchantName": "Checkout"}),
        ),
        ("card_activation_code", json!({"cardId": "card-canary", "activeCode": CODE})),
    ];
    for (kind, data) in &notes {
        assert_eq!(app.notify(kind, data).await.1, "SUCCESS");
    }
    // The tenant gets its OTP and activation code while they are fresh (stream and endpoint).
    let mut frames = Vec::new();
    for _ in 0..3 {
        frames.push(sse.next(Duration::from_secs(5)).await.expect("frame"));
    }
    let otp = frames.iter().find(|f| f.event == "card.3ds_otp").unwrap();
    assert_eq!(otp.data["data"]["otp"], OTP);
    assert_eq!(otp.data["data"]["masked_number"], "400005******5556");
    let code = frames.iter().find(|f| f.event == "physical_card.activation_code").unwrap();
    assert_eq!(code.data["data"]["activation_code"], CODE);
    let delivered = rx.wait_delivered(3).await;
    assert!(delivered.iter().any(|r| String::from_utf8_lossy(&r.body).contains(OTP)));
    let op = frames.iter().find(|f| f.event == "card.operation.succeeded").unwrap();
    assert_eq!(op.data["data"]["card"]["last4"], "5556");
    assert_eq!(op.data["data"]["card"]["expiry"], "2029-01");
    // PAN and CVV were never stored or forwarded.
    for r in &delivered {
        let body = String::from_utf8_lossy(&r.body);
        assert!(!body.contains(PAN) && !body.contains(&format!("\"{CVV}\"")), "{body}");
    }
    let stored = dump(&redis.url()).await;
    assert!(!contains_bytes_text(&stored, PAN), "PAN stored");
    assert!(!stored.contains(&format!("\"{CVV}\"")), "CVV stored");
    // After the secret TTL the OTP and code are gone from the store; the events stay.
    tokio::time::sleep(Duration::from_millis(1300)).await;
    let stored = dump(&redis.url()).await;
    assert!(!stored.contains(OTP) && !stored.contains(CODE), "OTP or code outlived its TTL");
    let events = app.events("canary", "").await;
    assert_eq!(events.len(), 3);
    assert!(!serde_json::to_string(&events).unwrap().contains(OTP));
    app.stop().await;
    rx.stop().await;
    // And no log line of this whole test binary ever carried them.
    let logs = captured_logs();
    assert!(!logs.is_empty(), "logs were captured");
    for canary in [PAN, OTP, CODE] {
        assert!(!logs.contains(canary), "{canary} logged");
    }
    assert!(!logs.contains(&format!("\"{CVV}\"")), "CVV logged");
}
