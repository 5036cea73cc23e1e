use reqwest::StatusCode;
use serde_json::json;

use crate::common::spawn_app;

#[tokio::test(flavor = "multi_thread")]
async fn a_card_is_issued_recharged_read_masked_and_revealed() {
    let app = spawn_app().await;
    let t = app.admin("acme");
    let created = app
        .post("/v1/cards", &t, json!({"bin": "222929", "currency": "USD", "limit": "100.00", "alias": "ads-q3"}))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let id = created.json["id"].as_str().unwrap().to_owned();
    assert_eq!(created.json["status"], "active");
    assert_eq!(created.json["balance"], "100.00");
    assert_eq!(created.json["bin"], "222929");
    assert!(created.json.get("number").is_none() && created.json.get("cvv").is_none());

    let recharged = app.post(&format!("/v1/cards/{id}/recharges?expand=card"), &t, json!({"amount": "25.00"})).await;
    assert_eq!(recharged.status, StatusCode::OK, "{}", recharged.text);
    assert_eq!(recharged.json["kind"], "card.recharge");
    assert_eq!(recharged.json["status"], "succeeded");
    assert_eq!(recharged.json["result"]["balance"], "125.00");

    let card = app.get(&format!("/v1/cards/{id}"), &t).await;
    assert_eq!(card.status, StatusCode::OK);
    assert_eq!(card.json["balance"], "125.00");
    let masked = card.json["masked_number"].as_str().unwrap();
    assert!(masked.starts_with("222929") && masked.contains("******"), "{masked}");

    let revealed = app.get(&format!("/v1/cards/{id}/sensitive"), &t).await;
    assert_eq!(revealed.status, StatusCode::OK);
    assert_eq!(revealed.header("cache-control"), Some("no-store"));
    let number = revealed.json["number"].as_str().unwrap();
    assert_eq!(number.len(), 16);
    assert!(card_gateway::simulator::luhn_valid(number));
    assert!(number.ends_with(card.json["last4"].as_str().unwrap()));
    assert_eq!(revealed.json["cvv"].as_str().unwrap().len(), 3);
    assert!(!card.text.contains(number), "masked view must not contain the PAN");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_recharge_or_refund_makes_one_platform_call_and_rereads_the_card_only_when_expanded() {
    use card_gateway::upstream::Operation as Op;
    let app = spawn_app().await;
    let t = app.admin("acme");
    let id = app.create_card(&t, "10.00").await;
    // The platform also reports the card's creation by webhook, and that path may re-read the card
    // while the answer path is settling it: count from after that event is recorded.
    let mut recorded = false;
    for _ in 0..200 {
        if app.get("/v1/events", &t).await.text.contains(&id) {
            recorded = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert!(recorded, "the card's creation webhook was recorded");
    let reads = app.sim.calls(Op::CardInfo);

    let r = app.post(&format!("/v1/cards/{id}/recharges"), &t, json!({"amount": "25.00"})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        r.json["result"],
        json!({"object": "funds_movement", "holder": "card", "id": id, "direction": "recharge",
               "amount": "25.00", "currency": "USD"})
    );
    let r = app.post(&format!("/v1/cards/{id}/refunds"), &t, json!({"amount": "5.00"})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json["result"]["direction"], "refund");
    assert_eq!(r.json["result"]["amount"], "5.00");
    assert_eq!(app.sim.calls(Op::CardRecharge), 1);
    assert_eq!(app.sim.calls(Op::CardRefund), 1);
    assert_eq!(app.sim.calls(Op::CardInfo), reads, "no card re-read without ?expand=card");

    let r = app.post(&format!("/v1/cards/{id}/recharges?expand=card"), &t, json!({"amount": "1.00"})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json["result"]["balance"], "31.00", "the re-read card, when asked: {}", r.text);
    assert!(app.sim.calls(Op::CardInfo) > reads, "?expand=card re-reads the card");

    let wrong = app.post(&format!("/v1/cards/{id}/recharges?expand=card_group"), &t, json!({"amount": "1.00"})).await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", wrong.text);
    let junk = app.post(&format!("/v1/cards/{id}/recharges?expand=everything"), &t, json!({"amount": "1.00"})).await;
    assert_eq!(junk.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", junk.text);
    assert_eq!(app.sim.calls(Op::CardRecharge), 2, "a refused expand moves no money");
}

#[tokio::test(flavor = "multi_thread")]
async fn cards_are_frozen_unfrozen_refunded_and_cancelled() {
    let app = spawn_app().await;
    let t = app.admin("acme");
    let id = app.create_card(&t, "50.00").await;
    let frozen = app.patch(&format!("/v1/cards/{id}"), &t, json!({"status": "frozen", "alias": "paused"})).await;
    assert_eq!(frozen.status, StatusCode::OK, "{}", frozen.text);
    assert_eq!(frozen.json["status"], "frozen");
    assert_eq!(frozen.json["alias"], "paused");
    let thawed = app.patch(&format!("/v1/cards/{id}"), &t, json!({"status": "active"})).await;
    assert_eq!(thawed.json["status"], "active");

    let refund = app.post(&format!("/v1/cards/{id}/refunds?expand=card"), &t, json!({"amount": "20.00"})).await;
    assert_eq!(refund.status, StatusCode::OK, "{}", refund.text);
    assert_eq!(refund.json["result"]["balance"], "30.00");
    let too_much = app.post(&format!("/v1/cards/{id}/refunds"), &t, json!({"amount": "31.00"})).await;
    assert_eq!(too_much.status, StatusCode::CONFLICT, "{}", too_much.text);
    assert_eq!(too_much.code(), "insufficient_card_balance");
    assert_eq!(too_much.json["upstream_code"], "110006");

    let cancelled = app.post(&format!("/v1/cards/{id}/cancel"), &t, json!({})).await;
    assert_eq!(cancelled.status, StatusCode::OK, "{}", cancelled.text);
    assert_eq!(cancelled.json["result"]["status"], "cancelled");
    let after = app.post(&format!("/v1/cards/{id}/recharges"), &t, json!({"amount": "1.00"})).await;
    assert_eq!(after.status, StatusCode::CONFLICT, "{}", after.text);
    assert_eq!(after.code(), "invalid_state");
}

#[tokio::test(flavor = "multi_thread")]
async fn invalid_card_requests_name_the_offending_field() {
    let app = spawn_app().await;
    let t = app.admin("acme");
    let cases = [
        (json!({"bin": "222929", "currency": "USD", "limit": 100}), "#/limit"),
        (json!({"bin": "222929", "currency": "USD", "limit": "1.001"}), "#/limit"),
        (json!({"bin": "22", "currency": "USD", "limit": "1.00"}), "#/bin"),
        (json!({"bin": "222929", "currency": "usd", "limit": "1.00"}), "#/currency"),
        (json!({"bin": "222929", "currency": "USD", "limit": "1.00", "pan": "4111111111111111"}), "#"),
        (json!({"bin": "222929", "currency": "USD"}), "#"),
        (json!({"bin": "222929", "currency": "USD", "limit": "1.00", "valid_until": "2001-01-01"}), "#/valid_until"),
    ];
    for (body, pointer) in cases {
        let r = app.post("/v1/cards", &t, body.clone()).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{body} → {}", r.text);
        assert!(r.is_problem());
        let got = r.json["errors"][0]["pointer"].as_str().unwrap();
        assert!(got.starts_with(pointer), "{body}: pointer {got} should start with {pointer}");
        assert!(!r.text.contains("4111111111111111"), "a rejected value is never echoed");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn platform_refusals_map_to_problems_with_the_upstream_code() {
    let app = spawn_app().await;
    let t = app.admin("acme");
    let huge = app.post("/v1/cards", &t, json!({"bin": "222929", "currency": "USD", "limit": "999999999.00"})).await;
    assert_eq!(huge.status, StatusCode::CONFLICT, "{}", huge.text);
    assert_eq!(huge.code(), "insufficient_merchant_balance");
    assert_eq!(huge.json["upstream_code"], "110005");
    let wrong_currency = app.post("/v1/cards", &t, json!({"bin": "222929", "currency": "EUR", "limit": "1.00"})).await;
    assert_eq!(wrong_currency.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", wrong_currency.text);
    assert!(wrong_currency.json["upstream_code"].is_string());
}

#[tokio::test(flavor = "multi_thread")]
async fn card_lists_page_newest_first_with_working_cursors() {
    let app = spawn_app().await;
    let t = app.admin("acme");
    let mut ids = Vec::new();
    for _ in 0..5 {
        ids.push(app.create_card(&t, "1.00").await);
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let q = match &cursor {
            Some(c) => format!("/v1/cards?limit=2&cursor={c}"),
            None => "/v1/cards?limit=2".to_owned(),
        };
        let page = app.get(&q, &t).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.text);
        for c in page.json["data"].as_array().unwrap() {
            seen.push(c["id"].as_str().unwrap().to_owned());
        }
        match page.json["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    ids.reverse();
    assert_eq!(seen, ids);
    let forged = app.get("/v1/cards?cursor=abc.def", &t).await;
    assert_eq!(forged.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(forged.json["errors"][0]["pointer"], "query.cursor");
}

#[tokio::test(flavor = "multi_thread")]
async fn shared_sub_cards_spend_the_group_balance() {
    let app = spawn_app().await;
    let t = app.admin("acme");
    let group = app.create_group(&t, "300.00").await;
    let sub =
        app.post("/v1/cards", &t, json!({"bin": "493193", "currency": "USD", "limit": "0", "group_id": group})).await;
    assert_eq!(sub.status, StatusCode::CREATED, "{}", sub.text);
    assert_eq!(sub.json["group_id"], group.as_str());
    let limit =
        app.patch(&format!("/v1/cards/{}", sub.json["id"].as_str().unwrap()), &t, json!({"limit": "50.00"})).await;
    assert_eq!(limit.status, StatusCode::OK, "{}", limit.text);
    let regular = app.create_card(&t, "5.00").await;
    let refused = app.patch(&format!("/v1/cards/{regular}"), &t, json!({"limit": "50.00"})).await;
    // A state conflict (the card is not a shared sub-card), not malformed input: 409.
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.text);
    assert_eq!(refused.code(), "card_not_shared");
}
