//! List filters (issue 11 item 6): cards by status, group, cardholder and creation window; operations
//! by kind and status; transactions by status and type; and `metadata` on cards, card groups and
//! cardholders, kept by the gateway.

use card_gateway::{simulator::AuthorizationSpec, upstream::Operation as Op};
use reqwest::StatusCode;
use rust_decimal::Decimal;
use serde_json::{Value, json};

use crate::common::{Resp, TestApp, spawn_app};

fn ids(r: &Resp) -> Vec<String> {
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.json["data"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap().to_owned()).collect()
}

/// Every item of a list, following `next_cursor`; also how many pages were shorter than `limit`
/// while a cursor followed.
async fn walk(app: &TestApp, t: &str, path: &str, limit: usize) -> (Vec<Value>, usize) {
    let (mut all, mut short) = (Vec::new(), 0);
    let sep = if path.contains('?') { '&' } else { '?' };
    let mut url = format!("{path}{sep}limit={limit}");
    for _ in 0..100 {
        let r = app.get(&url, t).await;
        assert_eq!(r.status, StatusCode::OK, "{url}: {}", r.text);
        let data = r.json["data"].as_array().unwrap().clone();
        match r.json["next_cursor"].as_str() {
            Some(c) => {
                short += usize::from(data.len() < limit);
                all.extend(data);
                url = format!("{path}{sep}limit={limit}&cursor={c}");
            }
            None => {
                all.extend(data);
                return (all, short);
            }
        }
    }
    panic!("{path}: more than 100 pages")
}

async fn card(app: &TestApp, t: &str, body: Value) -> Value {
    let r = app.post("/v1/cards", t, body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    r.json
}

fn plain() -> Value {
    json!({"bin": "222929", "currency": "USD", "limit": "10.00"})
}

#[tokio::test(flavor = "multi_thread")]
async fn cards_filter_by_group_and_cardholder_before_reading_the_platform() {
    let app = spawn_app().await;
    let t = app.admin("acme");
    let group = app.create_group(&t, "50.00").await;
    let holder = app.create_cardholder(&t).await;
    let shared = card(&app, &t, json!({"bin": "493193", "currency": "USD", "limit": "0", "group_id": group})).await;
    let held =
        card(&app, &t, json!({"bin": "222929", "currency": "USD", "limit": "10.00", "cardholder_id": holder})).await;
    let other = card(&app, &t, plain()).await;

    let reads = app.sim.calls(Op::CardInfo);
    let r = app.get(&format!("/v1/cards?group_id={group}"), &t).await;
    assert_eq!(ids(&r), vec![shared["id"].as_str().unwrap()]);
    assert_eq!(app.sim.calls(Op::CardInfo) - reads, 1, "only the matching card is read from the platform");
    let r = app.get(&format!("/v1/cards?cardholder_id={holder}"), &t).await;
    assert_eq!(ids(&r), vec![held["id"].as_str().unwrap()]);
    let r = app.get(&format!("/v1/cards?group_id={group}&cardholder_id={holder}"), &t).await;
    assert!(ids(&r).is_empty() && r.json["next_cursor"].is_null(), "{}", r.text);
    let r = app.get("/v1/cards?group_id=nosuchgroup", &t).await;
    assert!(ids(&r).is_empty(), "{}", r.text);
    let all = ids(&app.get("/v1/cards", &t).await);
    assert!(all.contains(&other["id"].as_str().unwrap().to_owned()) && all.len() == 3, "{all:?}");
    for bad in ["group_id=a%20b", "cardholder_id=", "status=lost", "created=2026", "colour=red"] {
        let r = app.get(&format!("/v1/cards?{bad}"), &t).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {}", r.text);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn cards_filter_by_creation_window_and_an_empty_window_is_refused() {
    let app = spawn_app().await;
    let t = app.admin("acme");
    let mut cards = Vec::new();
    for _ in 0..3 {
        cards.push(card(&app, &t, plain()).await);
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let id = |i: usize| cards[i]["id"].as_str().unwrap().to_owned();
    let at = |i: usize| cards[i]["created_at"].as_str().unwrap().to_owned();
    let r = app.get(&format!("/v1/cards?created[gte]={}", at(1)), &t).await;
    assert_eq!(ids(&r), vec![id(2), id(1)], "{}", r.text);
    let r = app.get(&format!("/v1/cards?created%5Blt%5D={}", at(1)), &t).await;
    assert_eq!(ids(&r), vec![id(0)], "brackets percent-encoded too: {}", r.text);
    let r = app.get(&format!("/v1/cards?created[gte]={}&created[lt]={}", at(1), at(2)), &t).await;
    assert_eq!(ids(&r), vec![id(1)]);
    // Paged one by one, the window still holds exactly its cards.
    let (walked, _) = walk(&app, &t, &format!("/v1/cards?created[gte]={}", at(0)), 1).await;
    assert_eq!(
        walked.iter().map(|c| c["id"].as_str().unwrap().to_owned()).collect::<Vec<_>>(),
        vec![id(2), id(1), id(0)]
    );

    for (gte, lt) in [(at(1), at(1)), (at(2), at(0))] {
        let r = app.get(&format!("/v1/cards?created[gte]={gte}&created[lt]={lt}"), &t).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
        assert_eq!(r.json["errors"][0]["pointer"], "query.created[gte]", "{}", r.text);
    }
    for bad in ["1899-12-31T23:59:59Z", "3000-01-01T00:00:00Z", "2026-13-01T00:00:00Z", "yesterday"] {
        let r = app.get(&format!("/v1/cards?created[lt]={bad}"), &t).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {}", r.text);
        assert_eq!(r.json["errors"][0]["pointer"], "query.created[lt]", "{}", r.text);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn cards_filtered_by_status_may_come_in_short_pages_and_following_next_cursor_finds_them_all() {
    let app = spawn_app().await;
    let t = app.admin("acme");
    let mut all = Vec::new();
    for _ in 0..4 {
        all.push(card(&app, &t, plain()).await["id"].as_str().unwrap().to_owned());
    }
    for id in [&all[0], &all[2]] {
        let r = app.patch(&format!("/v1/cards/{id}"), &t, json!({"status": "frozen"})).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    }
    let (frozen, short) = walk(&app, &t, "/v1/cards?status=frozen", 2).await;
    let frozen: Vec<String> = frozen.iter().map(|c| c["id"].as_str().unwrap().to_owned()).collect();
    assert_eq!(frozen, vec![all[2].clone(), all[0].clone()]);
    assert!(short >= 1, "a page of two cards read held fewer than two frozen ones");
    let (active, _) = walk(&app, &t, "/v1/cards?status=active", 1).await;
    assert!(active.iter().all(|c| c["status"] == "active") && active.len() == 2, "{active:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_list_cursor_is_valid_only_with_the_filters_it_was_issued_for() {
    let app = spawn_app().await;
    let t = app.admin("acme");
    let holder = app.create_cardholder(&t).await;
    for _ in 0..2 {
        card(&app, &t, json!({"bin": "222929", "currency": "USD", "limit": "10.00", "cardholder_id": holder})).await;
    }
    let first = app.get(&format!("/v1/cards?limit=1&cardholder_id={holder}"), &t).await;
    let cursor = first.json["next_cursor"].as_str().expect("a second page").to_owned();
    let same = app.get(&format!("/v1/cards?limit=1&cardholder_id={holder}&cursor={cursor}"), &t).await;
    assert_eq!(ids(&same).len(), 1, "{}", same.text);
    for other in [String::new(), "&status=active".to_owned(), format!("&cardholder_id={holder}&status=active")] {
        let r = app.get(&format!("/v1/cards?limit=1&cursor={cursor}{other}"), &t).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{other}: {}", r.text);
        assert_eq!(r.json["errors"][0]["pointer"], "query.cursor");
    }
    let ops = app.get("/v1/operations?limit=1&kind=card.create", &t).await;
    let cursor = ops.json["next_cursor"].as_str().expect("a second page").to_owned();
    let r = app.get(&format!("/v1/operations?limit=1&cursor={cursor}"), &t).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
}

#[tokio::test(flavor = "multi_thread")]
async fn card_metadata_is_set_on_create_merged_by_patch_without_a_platform_call_and_shown_on_reads_and_lists() {
    let app = spawn_app().await;
    let t = app.admin("acme");
    let created =
        card(&app, &t, json!({"bin": "222929", "currency": "USD", "limit": "10.00", "metadata": {"order": "A-1", "team": "ads", "skip": ""}}))
            .await;
    assert_eq!(created["metadata"], json!({"order": "A-1", "team": "ads"}), "`\"\"` sets nothing");
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(app.get(&format!("/v1/cards/{id}"), &t).await.json["metadata"], json!({"order": "A-1", "team": "ads"}));

    let modifies = app.sim.calls(Op::CardModify);
    let r = app.patch(&format!("/v1/cards/{id}"), &t, json!({"metadata": {"team": "", "cost_center": "42"}})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json["metadata"], json!({"order": "A-1", "cost_center": "42"}));
    assert_eq!(r.json["id"], id.as_str());
    assert_eq!(app.sim.calls(Op::CardModify), modifies, "metadata is the gateway's alone");

    let r = app.patch(&format!("/v1/cards/{id}"), &t, json!({"alias": "renamed", "metadata": {"order": "A-2"}})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json["alias"], "renamed");
    assert_eq!(r.json["metadata"], json!({"order": "A-2", "cost_center": "42"}), "{}", r.text);
    assert_eq!(app.sim.calls(Op::CardModify), modifies + 1);

    let list = app.get("/v1/cards", &t).await;
    assert_eq!(list.json["data"][0]["metadata"], json!({"order": "A-2", "cost_center": "42"}), "{}", list.text);
    let revealed = app.get(&format!("/v1/cards/{id}/sensitive"), &t).await;
    assert_eq!(revealed.json["metadata"]["order"], "A-2");
    let plain_card = card(&app, &t, plain()).await;
    assert_eq!(plain_card["metadata"], json!({}), "no metadata is an empty map");
    let r = app.patch(&format!("/v1/cards/{id}"), &t, json!({})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "an empty change is still refused: {}", r.text);
}

#[tokio::test(flavor = "multi_thread")]
async fn metadata_beyond_its_bounds_or_holding_a_card_number_is_refused_at_its_pointer_without_echoing_it() {
    let app = spawn_app().await;
    let t = app.admin("acme");
    let many: serde_json::Map<String, Value> = (0..51).map(|i| (format!("k{i}"), json!("v"))).collect();
    let cases = [
        (json!(many), "#/metadata"),
        (json!({"k".repeat(41): "v"}), "#/metadata"),
        (json!({"a b": "v"}), "#/metadata"),
        (json!({"k": "v".repeat(501)}), "#/metadata/k"),
        (json!({"k": "a\u{1}b"}), "#/metadata/k"),
        (json!({"pan": "4111 1111 1111 1111"}), "#/metadata/pan"),
        (json!({"4111111111111111": "x"}), "#/metadata"),
    ];
    for (metadata, pointer) in cases {
        let mut body = plain();
        body["metadata"] = metadata.clone();
        let r = app.post("/v1/cards", &t, body).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{metadata}: {}", r.text);
        assert_eq!(r.json["errors"][0]["pointer"], pointer, "{}", r.text);
        assert!(!r.text.contains("4111111111111111") && !r.text.contains("4111 1111"), "{}", r.text);
    }
    let r = app
        .post("/v1/cards", &t, json!({"bin": "222929", "currency": "USD", "limit": "1.00", "metadata": {"k": 1}}))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "values are strings: {}", r.text);
    // 50 keys stored: a PATCH adding a 51st is refused, one replacing a key is not.
    let full: serde_json::Map<String, Value> = (0..50).map(|i| (format!("k{i}"), json!("v"))).collect();
    let mut body = plain();
    body["metadata"] = json!(full);
    let id = card(&app, &t, body).await["id"].as_str().unwrap().to_owned();
    let r = app.patch(&format!("/v1/cards/{id}"), &t, json!({"metadata": {"k50": "v"}})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    let r = app.patch(&format!("/v1/cards/{id}"), &t, json!({"metadata": {"k0": "", "k50": "v"}})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json["metadata"].as_object().unwrap().len(), 50);
}

#[tokio::test(flavor = "multi_thread")]
async fn card_groups_and_cardholders_keep_their_metadata_and_patch_it_without_a_platform_call() {
    let app = spawn_app().await;
    let t = app.admin("acme");
    let g = app
        .post("/v1/card-groups", &t, json!({"currency": "USD", "amount": "20.00", "metadata": {"team": "ads"}}))
        .await;
    assert_eq!(g.status, StatusCode::CREATED, "{}", g.text);
    assert_eq!(g.json["metadata"], json!({"team": "ads"}));
    let gid = g.json["id"].as_str().unwrap().to_owned();
    let updates = app.sim.calls(Op::GroupUpdate);
    let r = app.patch(&format!("/v1/card-groups/{gid}"), &t, json!({"metadata": {"region": "eu"}})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json["metadata"], json!({"team": "ads", "region": "eu"}));
    assert_eq!(app.sim.calls(Op::GroupUpdate), updates, "a metadata-only change makes no platform call");
    let r =
        app.patch(&format!("/v1/card-groups/{gid}"), &t, json!({"status": "frozen", "metadata": {"team": ""}})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!((r.json["status"].as_str(), &r.json["metadata"]), (Some("frozen"), &json!({"region": "eu"})));
    assert_eq!(app.get(&format!("/v1/card-groups/{gid}"), &t).await.json["metadata"], json!({"region": "eu"}));
    assert_eq!(app.get("/v1/card-groups", &t).await.json["data"][0]["metadata"], json!({"region": "eu"}));
    let r = app.patch(&format!("/v1/card-groups/{gid}"), &t, json!({})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);

    let n = crate::common::rand_digits(9);
    let body = json!({
        "first_name": "Ada", "last_name": "Lovelace", "email": format!("ada{n}@example.com"),
        "mobile_prefix": "1", "mobile": format!("50{n}"), "birth_date": "1990-12-10", "country": "USA",
        "billing": {"state": "AR", "city": "Little Rock", "address": "1 Main St", "zip": "72201"},
        "metadata": {"crm_id": "C-77"}
    });
    let h = app.post("/v1/cardholders", &t, body).await;
    assert_eq!(h.status, StatusCode::CREATED, "{}", h.text);
    assert_eq!(h.json["metadata"], json!({"crm_id": "C-77"}));
    let hid = h.json["id"].as_str().unwrap();
    assert_eq!(app.get(&format!("/v1/cardholders/{hid}"), &t).await.json["metadata"], json!({"crm_id": "C-77"}));
    assert_eq!(app.get("/v1/cardholders", &t).await.json["data"][0]["metadata"], json!({"crm_id": "C-77"}));
    let calls = app.sim.calls(Op::CardholderApply);
    let r = app.patch(&format!("/v1/cardholders/{hid}"), &t, json!({"metadata": {"crm_id": "", "tier": "gold"}})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!((r.json["id"].as_str(), &r.json["metadata"]), (Some(hid), &json!({"tier": "gold"})));
    assert_eq!(app.sim.calls(Op::CardholderApply), calls);
    assert_eq!(app.get(&format!("/v1/cardholders/{hid}"), &t).await.json["metadata"], json!({"tier": "gold"}));
    for bad in [json!({}), json!({"metadata": {"tier": "a\u{0}"}}), json!({"first_name": "Eve", "metadata": {}})] {
        let r = app.patch(&format!("/v1/cardholders/{hid}"), &t, bad.clone()).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {}", r.text);
    }
    let other =
        app.patch(&format!("/v1/cardholders/{hid}"), &app.admin("globex"), json!({"metadata": {"x": "y"}})).await;
    assert_eq!(other.status, StatusCode::NOT_FOUND, "{}", other.text);
    assert_eq!(app.get(&format!("/v1/cardholders/{hid}"), &t).await.json["metadata"], json!({"tier": "gold"}));
}

#[tokio::test(flavor = "multi_thread")]
async fn operations_filter_by_kind_and_status() {
    let app = spawn_app().await;
    let t = app.admin("acme");
    let id = app.create_card(&t, "10.00").await;
    app.create_group(&t, "10.00").await;
    let r = app.post(&format!("/v1/cards/{id}/recharges"), &t, json!({"amount": "1.00"})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let (ops, _) = walk(&app, &t, "/v1/operations?kind=card.recharge", 1).await;
    assert_eq!(ops.len(), 1, "{ops:?}");
    assert_eq!(ops[0]["kind"], "card.recharge");
    let (ok, _) = walk(&app, &t, "/v1/operations?status=succeeded&kind=card_group.create", 5).await;
    assert_eq!(ok.len(), 1, "{ok:?}");
    let none = app.get("/v1/operations?status=failed", &t).await;
    assert!(ids(&none).is_empty() && none.json["next_cursor"].is_null(), "{}", none.text);
    for bad in ["kind=card.explode", "status=done", "type=card.create"] {
        let r = app.get(&format!("/v1/operations?{bad}"), &t).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {}", r.text);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn transactions_filter_by_status_and_type() {
    let app = spawn_app().await;
    let t = app.admin("acme");
    let id = app.create_card(&t, "50.00").await;
    let spend =
        AuthorizationSpec { amount: Decimal::new(250, 2), merchant_name: Some("Shop".into()), ..Default::default() };
    let auth = app.sim.authorize(&id, &spend).unwrap();
    app.sim.authorize(&id, &spend).unwrap();
    app.sim.reverse(&auth.record_no).unwrap();
    let all = app.get("/v1/transactions?limit=100", &t).await;
    let rows = all.json["data"].as_array().unwrap().clone();
    assert!(rows.len() >= 3, "{}", all.text);
    let reversal_type = rows.iter().find(|r| r["original_transaction_id"].is_string()).map(|r| r["type"].clone());
    let kinds: std::collections::BTreeSet<String> =
        rows.iter().filter_map(|r| r["type"].as_str().map(str::to_owned)).collect();
    assert!(kinds.len() >= 2, "two types to tell apart: {kinds:?} {reversal_type:?}");
    for kind in &kinds {
        for path in [format!("/v1/transactions?type={kind}"), format!("/v1/cards/{id}/transactions?type={kind}")] {
            let (got, _) = walk(&app, &t, &path, 1).await;
            let expected = rows.iter().filter(|r| r["type"] == kind.as_str()).count();
            assert_eq!(got.len(), expected, "{path}");
            assert!(got.iter().all(|r| r["type"] == kind.as_str()));
        }
    }
    for status in ["succeeded", "failed"] {
        let (got, _) = walk(&app, &t, &format!("/v1/transactions?status={status}"), 2).await;
        assert_eq!(got.len(), rows.iter().filter(|r| r["status"] == status).count(), "{status}");
    }
    for bad in ["status=pending", "type=a%20b", "kind=1"] {
        let r = app.get(&format!("/v1/transactions?{bad}"), &t).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {}", r.text);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_card_issued_asynchronously_keeps_the_metadata_it_was_created_with() {
    let app = crate::common::spawn_with(|s| {
        s.simulator.async_operations = vec!["card_apply".into()];
        s.simulator.async_delay_ms = 50;
    })
    .await;
    let t = app.admin("acme");
    let mut body = plain();
    body["metadata"] = json!({"order": "A-9"});
    let r = app.post("/v1/cards", &t, body).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    let op_id = r.json["id"].as_str().unwrap().to_owned();
    let mut op = Value::Null;
    for _ in 0..100 {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        op = app.get(&format!("/v1/operations/{op_id}"), &t).await.json;
        if op["status"] == "succeeded" {
            break;
        }
    }
    assert_eq!(op["status"], "succeeded", "{op}");
    assert_eq!(op["result"]["metadata"], json!({"order": "A-9"}), "{op}");
    let id = op["result"]["id"].as_str().unwrap();
    assert_eq!(app.get(&format!("/v1/cards/{id}"), &t).await.json["metadata"], json!({"order": "A-9"}));
    let (listed, _) = walk(&app, &t, "/v1/cards?created[gte]=2000-01-01T00:00:00Z", 10).await;
    assert_eq!(listed[0]["metadata"], json!({"order": "A-9"}));
}
