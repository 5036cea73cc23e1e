//! The platform's inbound webhook, `POST /webhooks/merchant`: public (no token), authenticated by its
//! RSA envelope alone. Forged, tampered, misaddressed, unsealed and malformed notifications about a
//! tenant's card are refused with a problem (never `SUCCESS`, never a 5xx) and record nothing — no
//! event, no dead letter, no delivery; a token changes nothing (the route is not tenant-scoped: a
//! genuine notification goes to the card's owner whoever's token it carries); and a genuine one
//! replayed is recorded once.

use card_gateway::{
    dev_keys,
    envelope::{EnvelopeCodec, PrivateKey},
    routes::{self, table::Access},
};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::{
    common::{Resp, TestApp},
    support::{
        EVENTUALLY, Ids, Receiver, all_events, eventually, merchant_no, recent, request, spawn, webhooks_settled,
    },
};

const HOOK: &str = "/webhooks/merchant";

/// Seals with the platform's (development) private key: what the platform sends.
fn platform() -> EnvelopeCodec {
    codec(PrivateKey::parse(dev_keys::PLATFORM_PRIVATE_PEM).unwrap())
}

fn codec(sealing: PrivateKey) -> EnvelopeCodec {
    EnvelopeCodec::new(sealing, PrivateKey::parse(dev_keys::MERCHANT_PRIVATE_PEM).unwrap().public_key().unwrap())
}

/// An attacker's RSA key of the platform key's size (so only the key, not the block length, differs).
fn forger() -> EnvelopeCodec {
    let bits = PrivateKey::parse(dev_keys::PLATFORM_PRIVATE_PEM).unwrap().size() as u32 * 8;
    let pem = openssl::rsa::Rsa::generate(bits).unwrap().private_key_to_pem().unwrap();
    codec(PrivateKey::parse(std::str::from_utf8(&pem).unwrap()).unwrap())
}

/// A `card_transaction` payload about `card`.
fn transaction(record_no: &str, card: &str) -> Value {
    json!({
        "recordNo": record_no, "cardId": card, "transactionTime": recent(),
        "transCurrency": "USD", "transCurrencyAmt": "9.99", "localCurrency": "USD", "localCurrencyAmt": "9.99",
        "merchantName": "Forged Shop", "merchantCategoryCode": "5999", "transType": "1", "transStatus": "1",
        "transCategory": 1, "respCode": "000000", "respCodeDesc": "approved"
    })
}

fn envelope(kind: &str, data: Value, user_no: &str) -> Value {
    json!({"type": kind, "data": data, "version": "1.0.0", "userNo": user_no})
}

async fn post(app: &TestApp, body: Vec<u8>, token: Option<&str>) -> Resp {
    let mut req = app.client.post(format!("{}{HOOK}", app.base)).header("content-type", "application/json");
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let res = req.body(body).send().await.unwrap();
    let (status, headers) = (res.status(), res.headers().clone());
    let text = res.text().await.unwrap_or_default();
    Resp { status, headers, json: serde_json::from_str(&text).unwrap_or(Value::Null), text }
}

/// Everything a notification could have recorded: both tenants' logs and the dead letters.
async fn recorded(app: &TestApp, a: &str, b: &str) -> Value {
    let dead = app.get("/v1/dead-letter-events?limit=100", a).await;
    assert_eq!(dead.status, StatusCode::OK, "{}", dead.text);
    let ids = |events: Vec<Value>| events.into_iter().map(|e| e["id"].clone()).collect::<Vec<_>>();
    json!({
        "a": ids(all_events(app, a, "").await),
        "b": ids(all_events(app, b, "").await),
        "dead_letters": dead.json["data"].as_array().unwrap().iter().map(|d| d["id"].clone()).collect::<Vec<_>>(),
    })
}

/// A refusal that makes the platform retry: a problem (4xx other than 401: the route takes no
/// token), never `SUCCESS`.
fn assert_refused(r: &Resp, code: &str, ctx: &str) {
    assert!(r.status.is_client_error() && r.status != StatusCode::UNAUTHORIZED, "{ctx}: {} {}", r.status, r.text);
    assert_ne!(r.text.trim(), "SUCCESS", "{ctx}");
    assert!(r.is_problem(), "{ctx}: {:?}", r.header("content-type"));
    assert_eq!(r.code(), code, "{ctx}: {}", r.text);
    assert!(r.header("www-authenticate").is_none(), "{ctx}: the route asks for a token");
    assert!(r.header("ratelimit").is_none(), "{ctx}: a tenant's rate limit applied");
}

#[tokio::test(flavor = "multi_thread")]
async fn forged_and_malformed_notifications_are_refused_and_record_nothing() {
    let app = spawn().await;
    let rx = Receiver::start().await;
    let a = app.admin("hook-a");
    let b = app.admin("hook-b");
    let ids = Ids::create(&app, &a, &rx).await;
    Ids::create(&app, &b, &rx).await;
    let card = ids.card.as_str();
    let ours = merchant_no();
    let genuine_data = platform().seal(&transaction("INB-FORGED", card)).unwrap();
    webhooks_settled(&app).await;
    let before = recorded(&app, &a, &b).await;
    let deliveries_before = rx.got().len();

    let forged_whole = forger().seal(&envelope("card_transaction", transaction("INB-FORGED", card), ours)).unwrap();
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "data sealed with an attacker's key",
            envelope("card_transaction", json!(forger().seal(&transaction("INB-FORGED", card)).unwrap()), ours)
                .to_string()
                .into_bytes(),
            "webhook_undecryptable",
        ),
        ("the whole body sealed with an attacker's key", forged_whole.into_bytes(), "webhook_undecryptable"),
        (
            "data sealed with the merchant's own key",
            envelope(
                "card_transaction",
                json!(
                    codec(PrivateKey::parse(dev_keys::MERCHANT_PRIVATE_PEM).unwrap())
                        .seal(&transaction("INB-FORGED", card))
                        .unwrap()
                ),
                ours,
            )
            .to_string()
            .into_bytes(),
            "webhook_undecryptable",
        ),
        (
            "genuine ciphertext with a flipped byte",
            {
                let mut hex = genuine_data.clone().into_bytes();
                hex[10] = if hex[10] == b'0' { b'1' } else { b'0' };
                envelope("card_transaction", json!(String::from_utf8(hex).unwrap()), ours).to_string().into_bytes()
            },
            "webhook_undecryptable",
        ),
        (
            "genuine ciphertext truncated by a block",
            envelope("card_transaction", json!(genuine_data[..genuine_data.len() - 256].to_owned()), ours)
                .to_string()
                .into_bytes(),
            "webhook_undecryptable",
        ),
        (
            "genuine data addressed to another merchant",
            envelope("card_transaction", json!(genuine_data), "2025000000000000999").to_string().into_bytes(),
            "webhook_foreign_merchant",
        ),
        (
            "genuine data without userNo",
            json!({"type": "card_transaction", "data": genuine_data}).to_string().into_bytes(),
            "webhook_foreign_merchant",
        ),
        (
            "plain (unsealed) data",
            envelope("card_transaction", transaction("INB-FORGED", card), ours).to_string().into_bytes(),
            "webhook_unsigned",
        ),
        ("the suite's junk sample", crate::support::junk_webhook().to_string().into_bytes(), "webhook_undecryptable"),
        ("an empty body", Vec::new(), "webhook_malformed"),
        ("not JSON", b"SUCCESS".to_vec(), "webhook_malformed"),
        ("a JSON array", b"[1,2,3]".to_vec(), "webhook_malformed"),
        ("not UTF-8", vec![0xff, 0xfe, 0x00, 0x7b], "webhook_malformed"),
        ("data a number", envelope("card_transaction", json!(42), ours).to_string().into_bytes(), "webhook_malformed"),
        (
            "a type that is no identifier",
            envelope("card_transaction; DROP", json!(genuine_data), ours).to_string().into_bytes(),
            "webhook_malformed",
        ),
        ("hex that is no ciphertext", "abcd".repeat(64).into_bytes(), "webhook_undecryptable"),
    ];
    for (what, body, code) in &cases {
        let bare = post(&app, body.clone(), None).await;
        assert_refused(&bare, code, &format!("{what} (no token)"));
        for (who, token) in [("A's token", &a), ("B's token", &b)] {
            let ctx = format!("{what} ({who})");
            let r = post(&app, body.clone(), Some(token)).await;
            assert_refused(&r, code, &ctx);
            assert_eq!(r.status, bare.status, "{ctx}: a token changed the answer");
        }
    }
    assert_eq!(recorded(&app, &a, &b).await, before, "a refused notification recorded something");

    // Control: the same notification, genuinely sealed — and carrying B's token — is A's event, once.
    let genuine = envelope("card_transaction", json!(genuine_data), ours).to_string().into_bytes();
    for _ in 0..3 {
        let r = post(&app, genuine.clone(), Some(&b)).await;
        assert_eq!((r.status, r.text.as_str()), (StatusCode::OK, "SUCCESS"), "{:?}", r.header("content-type"));
    }
    let event = eventually("the genuine notification in A's log", EVENTUALLY, || async {
        all_events(&app, &a, "type=card.transaction").await.into_iter().find(|e| e["data"]["id"] == "INB-FORGED")
    })
    .await;
    let after = recorded(&app, &a, &b).await;
    assert_eq!(after["b"], before["b"], "B's token routed the notification to B");
    assert_eq!(after["dead_letters"], before["dead_letters"]);
    let new: Vec<&Value> =
        after["a"].as_array().unwrap().iter().filter(|id| !before["a"].as_array().unwrap().contains(id)).collect();
    assert_eq!(new, [&event["id"]], "the replayed notification is one event");
    // Nothing refused was delivered either; the genuine event was.
    rx.wait_for_event(event["id"].as_str().unwrap()).await;
    let got = rx.got();
    let unexpected: Vec<&str> = got[deliveries_before..]
        .iter()
        .map(|r| r.event_id())
        .filter(|id| *id != event["id"].as_str().unwrap())
        .filter(|id| before["a"].as_array().unwrap().iter().chain(before["b"].as_array().unwrap()).all(|x| x != id))
        .collect();
    assert!(unexpected.is_empty(), "deliveries of events nobody recorded: {unexpected:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_genuine_notification_replayed_late_or_under_another_type_records_nothing() {
    let app = spawn().await;
    let rx = Receiver::start().await;
    let a = app.admin("late-a");
    let b = app.admin("late-b");
    let ids = Ids::create(&app, &a, &rx).await;
    let card = ids.card.as_str();
    let ours = merchant_no();
    let seal = |data: &Value| json!(platform().seal(data).unwrap());
    let before = recorded(&app, &a, &b).await;
    // Signed by the platform, but from 40 days ago: a capture replayed after the dedupe window.
    let zone = chrono::FixedOffset::east_opt(8 * 3600).unwrap();
    let old = (chrono::Utc::now() - chrono::Duration::days(40)).with_timezone(&zone).format("%Y-%m-%d %H:%M:%S");
    let mut stale = transaction("INB-LATE", card);
    stale["transactionTime"] = json!(old.to_string());
    let r = post(&app, envelope("card_transaction", seal(&stale), ours).to_string().into_bytes(), None).await;
    assert_refused(&r, "webhook_stale", "a 40-day-old notification");
    // The outer type is not signed; signed data naming another type is refused.
    let mut retyped = transaction("INB-RETYPED", card);
    retyped["type"] = json!("card_operate");
    let r = post(&app, envelope("card_transaction", seal(&retyped), ours).to_string().into_bytes(), None).await;
    assert_refused(&r, "webhook_malformed", "signed type differs from the outer type");
    assert_eq!(recorded(&app, &a, &b).await, before, "nothing recorded");
    // The same notification with a recent time and its own type is recorded.
    let mut fresh = transaction("INB-FRESH", card);
    fresh["transactionTime"] = json!(recent());
    fresh["type"] = json!("card_transaction");
    let r = post(&app, envelope("card_transaction", seal(&fresh), ours).to_string().into_bytes(), None).await;
    assert_eq!(r.text.trim(), "SUCCESS", "{}", r.text);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_inbound_webhook_is_public_and_nothing_like_it_is_tenant_scoped() {
    let table = routes::table();
    let hooks: Vec<_> = table.routes().iter().filter(|r| r.path.contains("webhooks/")).collect();
    assert_eq!(hooks.len(), 1, "one inbound webhook route: {hooks:?}");
    let route = hooks[0];
    assert_eq!((route.method.as_str(), route.path), ("POST", HOOK));
    assert_eq!(route.access, Access::Public, "authenticated by its envelope, not a token");
    assert!(!route.idempotent, "the platform sends no Idempotency-Key; the event id de-duplicates");
    assert!(
        table.routes().iter().filter(|r| r.access == Access::Public).all(|r| !r.path.starts_with("/v1/")),
        "nothing under /v1 is public"
    );

    let app = spawn().await;
    let a = app.admin("hook-a");
    for (method, path) in [
        (Method::POST, "/v1/webhooks/merchant"),
        (Method::POST, "/v1/webhooks"),
        (Method::POST, "/webhooks/merchant/hook-a"),
        (Method::POST, "/webhooks/hook-a"),
    ] {
        let r = request(&app, method.clone(), path, Some(&a), None, Some(crate::support::junk_webhook())).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{method} {path}: {}", r.text);
    }
    for method in [Method::GET, Method::PUT, Method::DELETE, Method::PATCH] {
        let r = request(&app, method.clone(), HOOK, Some(&a), None, None).await;
        assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED, "{method} {HOOK}: {}", r.text);
        assert_eq!(r.header("allow"), Some("POST"), "{method} {HOOK}");
    }
}
