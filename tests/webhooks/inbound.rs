//! The receiver: acknowledgement, de-duplication, rejection, dead letters, both shapes.

use card_gateway::auth::Scope;
use serde_json::json;

use crate::helpers::{TestApp, platform_time, recent, settings, transaction};

#[actix_web::test]
async fn five_concurrent_copies_of_a_webhook_make_one_event() {
    let app = TestApp::spawn(settings(false)).await;
    app.own_card("dup", "card-dup-1").await;
    let body = app.sealed("card_transaction", &transaction("T-dup", "card-dup-1", "12.50"));
    let posts: Vec<_> = (0..5).map(|_| app.post_raw(body.clone())).collect();
    for (status, text) in futures_util::future::join_all(posts).await {
        assert_eq!((status, text.as_str()), (200, "SUCCESS"), "every copy is acknowledged");
    }
    let events = app.events("dup", "").await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["type"], "card.transaction");
    assert_eq!(events[0]["data"]["amount"], json!({"amount": "12.50", "currency": "USD"}));
    // The platform retrying later is the same event too.
    assert_eq!(app.post_raw(body).await.1, "SUCCESS");
    assert_eq!(app.events("dup", "").await.len(), 1);
    app.stop().await;
}

#[actix_web::test]
async fn forged_tampered_and_foreign_bodies_are_rejected_without_an_event() {
    let app = TestApp::spawn(settings(false)).await;
    app.own_card("victim", "card-v").await;
    let data = transaction("T-forged", "card-v", "99.00");
    // Sealed with the merchant's key instead of the platform's: does not open with the platform key.
    let forger = card_gateway::envelope::EnvelopeCodec::new(
        card_gateway::envelope::PrivateKey::parse(card_gateway::dev_keys::MERCHANT_PRIVATE_PEM).unwrap(),
        card_gateway::envelope::PrivateKey::parse(card_gateway::dev_keys::PLATFORM_PRIVATE_PEM)
            .unwrap()
            .public_key()
            .unwrap(),
    );
    let forged = serde_json::to_vec(&json!({"type": "card_transaction", "data": forger.seal(&data).unwrap(), "version": "1.0.0", "userNo": app.settings.upstream.merchant_no})).unwrap();
    // A genuine body with one ciphertext byte flipped.
    let mut genuine: serde_json::Value = serde_json::from_slice(&app.sealed("card_transaction", &data)).unwrap();
    let hex = genuine["data"].as_str().unwrap().to_owned();
    let flipped = format!("{}{}{}", &hex[..300], if &hex[300..301] == "0" { "1" } else { "0" }, &hex[301..]);
    genuine["data"] = json!(flipped);
    let tampered = serde_json::to_vec(&genuine).unwrap();
    // Genuine ciphertext addressed to another merchant.
    let mut foreign: serde_json::Value = serde_json::from_slice(&app.sealed("card_transaction", &data)).unwrap();
    foreign["userNo"] = json!("2025999999999999999");
    let foreign = serde_json::to_vec(&foreign).unwrap();
    // Unsigned plain data (not accepted unless configured).
    let plain = serde_json::to_vec(&json!({"type": "card_transaction", "data": data, "version": "1.0.0", "userNo": app.settings.upstream.merchant_no})).unwrap();
    for (name, body, status) in [
        ("forged", forged, 400),
        ("tampered", tampered, 400),
        ("foreign", foreign, 403),
        ("plain", plain, 400),
        ("garbage", b"{not json".to_vec(), 400),
        ("empty", Vec::new(), 400),
    ] {
        let (got, text) = app.post_raw(body).await;
        assert_eq!(got, status, "{name}: {text}");
        assert_ne!(text, "SUCCESS", "{name}");
        assert!(text.contains("\"code\":\"webhook_"), "{name} answers problem+json: {text}");
    }
    assert!(app.events("victim", "").await.is_empty(), "no event from any rejected body");
    let m = app.hub.metrics.snapshot();
    assert_eq!(m["inbound_rejected_undecryptable"], 2);
    assert_eq!(m["inbound_rejected_foreign"], 1);
    assert_eq!(m["inbound_rejected_plain_data"], 1);
    assert_eq!(m["inbound_rejected_malformed"], 2);
    app.stop().await;
}

#[actix_web::test]
async fn plain_data_numeric_ids_and_misspelled_fields_are_accepted_when_configured() {
    let mut s = settings(false);
    s.webhooks.inbound_accept_plain_data = true;
    let app = TestApp::spawn(s).await;
    app.own_card("lenient", "123456").await;
    let body = serde_json::to_vec(&json!({"type": "card_activation_status", "data": {"cardId": 123456, "staus": 1}, "version": "1.0.0", "userNo": app.settings.upstream.merchant_no.parse::<u64>().unwrap()})).unwrap();
    assert_eq!(app.post_raw(body).await, (200, "SUCCESS".to_owned()));
    let events = app.events("lenient", "").await;
    assert_eq!(events[0]["type"], "physical_card.activation");
    assert_eq!(events[0]["data"], json!({"card_id": "123456", "status": "succeeded"}));
    app.stop().await;
}

#[actix_web::test]
async fn a_source_outside_the_allow_list_is_refused() {
    let mut s = settings(false);
    s.webhooks.inbound_allowed_ips = vec!["203.0.113.0/24".into()];
    let app = TestApp::spawn(s).await;
    let (status, text) = app.notify("card_transaction", &transaction("T-ip", "c", "1")).await;
    assert_eq!(status, 403, "{text}");
    app.stop().await;
}

#[actix_web::test]
async fn behind_a_trusted_proxy_the_allow_list_sees_the_forwarded_client_and_nobody_else_can_claim_one() {
    let post = |app: &TestApp, forwarded: &'static str| {
        let body = app.sealed("card_transaction", &transaction("T-xff", "c", "1"));
        let req = app.http.post(format!("{}/webhooks/merchant", app.base)).header("content-type", "application/json");
        async move {
            let r = req.header("x-forwarded-for", forwarded).body(body).send().await.unwrap();
            r.status().as_u16()
        }
    };
    // The test client is the "ingress" on 127.0.0.1.
    let mut s = settings(false);
    s.webhooks.inbound_allowed_ips = vec!["203.0.113.0/24".into()];
    s.webhooks.trusted_proxies = vec!["127.0.0.1".into()];
    let app = TestApp::spawn(s).await;
    assert_ne!(post(&app, "203.0.113.9").await, 403, "the platform's address, forwarded by the trusted proxy");
    assert_eq!(post(&app, "198.51.100.1").await, 403, "another client behind the proxy");
    assert_eq!(post(&app, "203.0.113.9, 198.51.100.1").await, 403, "a spoofed left part is not believed");
    app.stop().await;
    // Without trusted proxies the header means nothing: the peer (127.0.0.1) is the client.
    let mut s = settings(false);
    s.webhooks.inbound_allowed_ips = vec!["203.0.113.0/24".into()];
    let app = TestApp::spawn(s).await;
    assert_eq!(post(&app, "203.0.113.9").await, 403, "X-Forwarded-For from an untrusted peer is ignored");
    app.stop().await;
}

#[actix_web::test]
async fn events_for_unknown_objects_go_to_operator_dead_letters_not_to_a_tenant() {
    let app = TestApp::spawn(settings(false)).await;
    app.own_card("someone", "card-known").await;
    for (kind, data) in [
        ("card_transaction", transaction("T-orphan", "card-nobody", "5")),
        ("card_3ds_otp", json!({"otp": "424242", "cardId": "card-nobody", "transactionAmount": 5})),
        (
            "card_operate",
            json!({"orderId": "O-x", "cardId": "card-nobody", "userReqNo": "elsewhere-1", "opType": 16, "status": 1, "amount": 1, "fee": 0, "createAt": recent()}),
        ),
        (
            "dpt_payment_bill",
            json!({"txId": "0x1", "fromAddress": "a", "toAddress": "b", "paymentAmount": 1, "factAmount": 1, "fee": 0, "serialNumber": "nope", "orderNo": "D-nobody", "transactionTime": recent()}),
        ),
        ("card_brand_new_thing", json!({"whatever": 1})),
    ] {
        assert_eq!(app.notify(kind, &data).await.1, "SUCCESS", "{kind} is acknowledged (a retry would not help)");
    }
    assert!(app.events("someone", "").await.is_empty());
    let operator = app.token("ops", &[Scope::TreasuryRead]);
    let (status, body) = app.get(&operator, "/v1/dead-letter-events?limit=100").await;
    assert_eq!(status, 200, "{body}");
    let reasons: Vec<&str> = body["data"].as_array().unwrap().iter().map(|d| d["reason"].as_str().unwrap()).collect();
    for r in ["unknown_card", "unknown_order", "unknown_crypto_order", "unknown_type"] {
        assert!(reasons.contains(&r), "{r} in {reasons:?}");
    }
    assert!(!body.to_string().contains("424242"), "an OTP for nobody is kept nowhere");
    let (status, _) = app.get(&app.tenant_token("someone"), "/v1/dead-letter-events").await;
    assert_eq!(status, 403, "tenants do not see dead letters");
    app.stop().await;
}

#[actix_web::test]
async fn both_card_operate_shapes_and_the_type_prefix_are_one_order_result() {
    let app = TestApp::spawn(settings(false)).await;
    app.own_card("shapes", "card-s1").await;
    let (at, at_utc) = platform_time();
    let a = json!({"orderId": 9001, "cardId": "card-s1", "userReqNo": "portal-1", "opType": 16, "status": 1, "amount": 25, "fee": 0.25, "createAt": at});
    let b = json!({"orderId": "9001", "resourceId": "card-s1", "userReqNo": "portal-1", "transactionType": "16", "transactionStatus": "1", "amount": "25", "fee": "0.25", "createTime": at});
    assert_eq!(app.notify("card_operate", &a).await.1, "SUCCESS");
    assert_eq!(app.notify("type_card_operate", &b).await.1, "SUCCESS");
    let events = app.events("shapes", "").await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["type"], "card.operation.succeeded");
    assert_eq!(events[0]["data"]["operation_kind"], "card.recharge");
    assert_eq!(events[0]["data"]["amount"], "25.00");
    assert_eq!(events[0]["occurred_at"], at_utc.as_str());
    app.stop().await;
}
