use chrono::Utc;
use serde_json::json;

use super::*;
use crate::config::Settings;

fn with<R>(f: impl FnOnce(&Normalizer<'_>) -> R) -> R {
    let s = Settings::defaults().unwrap();
    let clock = WireClock::new(&s.upstream.formats).unwrap();
    let ids = EventIds::new(b"test secret");
    f(&Normalizer { codes: &s.upstream.codes, clock: &clock, ids: &ids })
}

fn norm(kind: &str, data: serde_json::Value) -> Normalized {
    with(|n| n.normalize(kind, &data, Utc::now()).unwrap())
}

const PAN: &str = "5229290000004242";

#[test]
fn both_card_operate_shapes_and_spellings_give_the_same_event() {
    let a = norm(
        "card_operate",
        json!({"orderId": 77, "cardId": "c1", "userReqNo": "cg1_acme_ab", "opType": 15, "status": 1,
               "amount": 10, "fee": "1.5", "createAt": "2026-01-01 08:00:00",
               "cardInfo": {"cardNo": PAN, "cardVerifyNo": "123", "cardExpiryDate": "2028-12", "localCurrency": "USD"}}),
    );
    let b = norm(
        "type_card_operate",
        json!({"orderId": "77", "resourceId": "c1", "userReqNo": "cg1_acme_ab", "transactionType": "15",
               "transactionStatus": 1, "amount": 10, "fee": 1.5, "createTime": "2026-01-01 08:00:00"}),
    );
    assert_eq!(a.event.id, b.event.id, "same order and status → same id");
    assert_eq!(a.event.kind, "card.operation.succeeded");
    assert_eq!(b.event.kind, a.event.kind);
    assert_eq!(a.event.object, b.event.object);
    assert_eq!(a.event.data["fee"], "1.50");
    assert_eq!(a.event.data["operation_kind"], "card.create");
    assert_eq!(a.event.occurred_at.unwrap().to_rfc3339(), "2026-01-01T00:00:00+00:00");
    assert_eq!(a.route, Route::Order { user_req_no: "cg1_acme_ab".into(), card_id: Some("c1".into()), group_id: None });
    // PAN and CVV never survive normalisation; last4 and expiry do.
    let text = serde_json::to_string(&a.event).unwrap();
    assert!(!text.contains(PAN) && !text.contains("\"123\"") && !text.contains("cvv"), "{text}");
    assert_eq!(a.event.data["card"]["last4"], "4242");
    assert_eq!(a.event.data["card"]["expiry"], "2028-12");
}

#[test]
fn a_failed_order_is_another_event_and_group_applications_name_the_group() {
    let ok = norm(
        "card_operate",
        json!({"orderId": "9", "resourceId": "g1", "userReqNo": "r", "transactionType": 26, "transactionStatus": 1, "amount": 0, "fee": 0, "createTime": ""}),
    );
    let failed = norm(
        "card_operate",
        json!({"orderId": "9", "resourceId": "g1", "userReqNo": "r", "transactionType": 26, "transactionStatus": 2, "amount": 0, "fee": 0, "createTime": ""}),
    );
    assert_ne!(ok.event.id, failed.event.id);
    assert_eq!(failed.event.kind, "card.operation.failed");
    assert_eq!(ok.event.object, EventObject { kind: "card_group".into(), id: "g1".into() });
    let odd =
        norm("card_operate", json!({"orderId": "9", "resourceId": "g1", "userReqNo": "r", "opType": 26, "status": 7}));
    assert_eq!(odd.route, Route::DeadLetter("unsupported_status"));
}

#[test]
fn card_transactions_are_keyed_by_record_status_and_category() {
    let data = |status: &str, category: i64| {
        json!({"recordNo": "T1", "cardId": 2312041349000014743u64, "transactionTime": "2026-01-01 08:00:00",
               "transCurrency": "EUR", "transCurrencyAmt": 10.5, "localCurrency": "USD", "localCurrencyAmt": "11.34",
               "merchantName": "Shop", "transType": "1", "transStatus": status, "transCategory": category,
               "respCode": "000000", "respCodeDesc": "ok"})
    };
    let auth = norm("card_transaction", data("1", 1));
    let settled = norm("card_transaction", data("1", 2));
    let again = norm("card_transaction", data("1", 1));
    assert_eq!(auth.event.id, again.event.id);
    assert_ne!(auth.event.id, settled.event.id);
    assert_eq!(auth.route, Route::Card("2312041349000014743".into()));
    assert_eq!(auth.event.data["amount"], json!({"amount": "10.50", "currency": "EUR"}));
    assert_eq!(auth.event.data["card_amount"]["amount"], "11.34");
    assert_eq!(auth.event.data["status"], "succeeded");
    assert_eq!(settled.event.data["category"], "settled");
}

#[test]
fn fees_payments_and_activation_results_are_normalised() {
    let fee = norm(
        "trade_fee",
        json!({"cardId": "c1", "opType": 97, "receiptNo": "R1", "recordNo": "T1", "realCcy": "USD", "realFee": 0.3, "createAt": "2026-01-01 08:00:00"}),
    );
    assert_eq!((fee.event.kind.as_str(), fee.event.data["fee_type"].as_str()), ("card.fee", Some("cross_border")));
    assert_eq!(fee.event.data["amount"]["amount"], "0.30");
    let pay = norm(
        "dpt_payment_bill",
        json!({"txId": "0xabc", "fromAddress": "A", "toAddress": "B", "paymentAmount": 100, "factAmount": "99.5", "fee": 0.5, "serialNumber": "cg1_acme_x", "orderNo": "D1", "transactionTime": "2024-11-20T13:49:56.000+08:00"}),
    );
    assert_eq!(pay.event.kind, "crypto.payment");
    assert_eq!(pay.event.data["credited_amount"], "99.50");
    assert_eq!(pay.event.occurred_at.unwrap().to_rfc3339(), "2024-11-20T05:49:56+00:00");
    assert_eq!(pay.route, Route::CryptoOrder { order_no: "D1".into(), serial_number: "cg1_acme_x".into() });
    let act = norm("card_activation_status", json!({"cardId": 123, "staus": 2}));
    let act2 = norm("card_activation_status", json!({"cardId": "123", "status": "2"}));
    assert_eq!(act.event.id, act2.event.id);
    assert_eq!(act.event.data["status"], "failed");
}

#[test]
fn otps_and_activation_codes_live_only_in_the_secret_part() {
    let otp = norm(
        "card_3ds_otp",
        json!({"otp": "918273", "cardId": "c1", "cardNo": PAN, "transactionCurrency": "USD", "transactionAmount": 12, "merchantName": "Shop"}),
    );
    let text = serde_json::to_string(&otp.event).unwrap();
    assert!(!text.contains("918273") && !text.contains(PAN), "{text}");
    assert!(!otp.event.id.contains("918273"));
    assert_eq!(otp.secret, Some(json!({"otp": "918273"})));
    assert_eq!(otp.event.data["masked_number"], "522929******4242");
    let other = norm("card_3ds_otp", json!({"otp": "111111", "cardId": "c1", "transactionAmount": 12}));
    assert_ne!(otp.event.id, other.event.id, "a new OTP is a new event");
    let code = norm("card_activation_code", json!({"cardId": "c9", "activationCode": "ABC123"}));
    assert!(!serde_json::to_string(&code.event).unwrap().contains("ABC123"));
    assert_eq!(code.event.clone().with_secret(code.secret.as_ref()).data["activation_code"], "ABC123");
}

#[test]
fn unknown_types_are_dead_letters_and_unreadable_payloads_are_errors_without_values() {
    let u = norm("card_surprise", json!({"cardNo": PAN}));
    assert_eq!(u.route, Route::DeadLetter("unknown_type"));
    assert!(!serde_json::to_string(&u.event).unwrap().contains(PAN));
    let e = with(|n| n.normalize("card_transaction", &json!({"recordNo": PAN}), Utc::now()).unwrap_err());
    assert!(!e.to_string().contains(PAN), "{e}");
}

#[test]
fn ids_depend_on_the_key() {
    assert_ne!(EventIds::new(b"a").id("t", &["1"]), EventIds::new(b"b").id("t", &["1"]));
    assert_ne!(EventIds::new(b"a").id("t", &["1", "2"]), EventIds::new(b"a").id("t", &["12"]));
}
