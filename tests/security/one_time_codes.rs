//! One-time codes (issue 10 item 12): a 3-D Secure OTP and a physical card's activation code are in
//! the tenant's events, but `/v1/events`, `/v1/events/{id}` and the event stream show them only to a
//! token that also holds `events:secrets`; for any other reader they are `null` with
//! `data.redacted = true`. The signed deliveries to the tenant's own endpoints keep them.

use card_gateway::{auth::Scope, sensitive::Reveal as _, simulator::OtpSpec};
use reqwest::StatusCode;
use rust_decimal::Decimal;
use serde_json::{Value, json};

use crate::{
    common::{TestApp, rand_digits},
    support::{EVENTUALLY, EventStream, Receiver, all_events, create_endpoint, eventually, spawn},
};

/// The tenant's OTP and activation-code events, once both are in its log.
async fn code_events(app: &TestApp, admin: &str) -> (Value, Value) {
    eventually("the OTP and activation-code events", EVENTUALLY, || async {
        let all = all_events(app, admin, "").await;
        let of = |t: &str| all.iter().find(|e| e["type"] == t).cloned();
        Some((of("card.3ds_otp")?, of("physical_card.activation_code")?))
    })
    .await
}

/// A code as it appears in JSON text (quoted, so a digit run inside a position or an id cannot match).
fn quoted(code: &str) -> String {
    format!("\"{code}\"")
}

fn assert_redacted(event: &Value, field: &str, ctx: &str) {
    assert!(event["data"].get(field).is_some_and(Value::is_null), "{ctx}: {field} not null: {event}");
    assert_eq!(event["data"]["redacted"], true, "{ctx}: no redacted marker: {event}");
}

#[tokio::test(flavor = "multi_thread")]
async fn one_time_codes_are_shown_only_with_events_secrets_on_the_log_the_event_and_the_stream() {
    let app = spawn().await;
    let rx = Receiver::start().await;
    let admin = app.admin("otp-tenant");
    let (_, endpoint_secret) = create_endpoint(&app, &admin, &rx.url).await;
    let card = app.create_card(&admin, "20.00").await;
    let holder = app.create_cardholder(&admin).await;
    let r = app
        .post(
            "/v1/physical-cards",
            &admin,
            json!({"cardholder_id": holder, "kit_number": format!("KIT{}", rand_digits(6)), "currency": "USD"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "assign physical card: {}", r.text);
    let physical = r.json["id"].as_str().unwrap().to_owned();
    let otp = app
        .sim
        .send_3ds_otp(&card, &OtpSpec { amount: Decimal::new(1999, 2), currency: None, merchant_name: None })
        .unwrap()
        .code
        .expose()
        .to_owned();
    let code = app.sim.issue_activation_code(&physical).unwrap().code.expose().to_owned();
    let (otp_event, code_event) = code_events(&app, &admin).await;
    let ids = [otp_event["id"].as_str().unwrap().to_owned(), code_event["id"].as_str().unwrap().to_owned()];

    let reader = app.token("otp-tenant", &[Scope::EventsRead]);
    let trusted = app.token("otp-tenant", &[Scope::EventsRead, Scope::EventsSecrets]);

    // The log and each event, as a plain reader: no code anywhere in the body, a marker instead.
    let list = app.get("/v1/events?limit=100", &reader).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.text);
    for c in [&otp, &code] {
        assert!(!list.text.contains(&quoted(c)), "GET /v1/events with events:read shows a code: {}", list.text);
    }
    let listed = list.json["data"].as_array().unwrap();
    let find = |id: &str| listed.iter().find(|e| e["id"] == id).cloned().unwrap();
    assert_redacted(&find(&ids[0]), "otp", "GET /v1/events");
    assert_redacted(&find(&ids[1]), "activation_code", "GET /v1/events");
    for (id, field, c) in [(&ids[0], "otp", &otp), (&ids[1], "activation_code", &code)] {
        let one = app.get(&format!("/v1/events/{id}"), &reader).await;
        assert_eq!(one.status, StatusCode::OK, "{}", one.text);
        assert!(!one.text.contains(&quoted(c)), "GET /v1/events/{id} with events:read shows {field}: {}", one.text);
        assert_redacted(&one.json, field, &format!("GET /v1/events/{id}"));
    }

    // With events:secrets they are there.
    let list = app.get("/v1/events?limit=100", &trusted).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.text);
    for c in [&otp, &code] {
        assert!(list.text.contains(&quoted(c)), "GET /v1/events with events:secrets lacks a code: {}", list.text);
    }
    for (id, field, c) in [(&ids[0], "otp", &otp), (&ids[1], "activation_code", &code)] {
        let one = app.get(&format!("/v1/events/{id}"), &trusted).await;
        assert_eq!(one.json["data"][field], c.as_str(), "GET /v1/events/{id} with events:secrets: {}", one.text);
        assert!(one.json["data"].get("redacted").is_none(), "{}", one.text);
    }

    // The stream, replayed from the start of the log, likewise.
    let both = |frames: &[crate::support::Frame]| ids.iter().all(|id| frames.iter().any(|f| f.data["id"] == *id));
    let mut plain = EventStream::open(&app, &reader, Some("0-0")).await;
    let frames = plain.read_until("both code events (events:read)", both).await;
    for c in [&otp, &code] {
        assert!(!plain.raw.contains(&quoted(c)), "the stream with events:read shows a code: {}", plain.raw);
    }
    let frame =
        |frames: &[crate::support::Frame], id: &str| frames.iter().find(|f| f.data["id"] == id).unwrap().data.clone();
    assert_redacted(&frame(&frames, &ids[0]), "otp", "stream");
    assert_redacted(&frame(&frames, &ids[1]), "activation_code", "stream");
    drop(plain);
    let mut full = EventStream::open(&app, &trusted, Some("0-0")).await;
    let frames = full.read_until("both code events (events:secrets)", both).await;
    assert_eq!(frame(&frames, &ids[0])["data"]["otp"], otp.as_str(), "{}", full.raw);
    assert_eq!(frame(&frames, &ids[1])["data"]["activation_code"], code.as_str(), "{}", full.raw);
    drop(full);

    // The signed deliveries to the tenant's own endpoint keep the codes.
    for (id, field, c) in [(&ids[0], "otp", &otp), (&ids[1], "activation_code", &code)] {
        let got = rx.wait_for_event(id).await;
        let d = got.first().unwrap();
        assert!(d.verifies(&endpoint_secret), "delivery of {id} is signed");
        let body: Value = serde_json::from_slice(&d.body).unwrap();
        assert_eq!(body["data"][field], c.as_str(), "delivery of {id}: {}", d.text());
    }
}
