//! Broken object-level authorisation, two tenants × every route that takes an id (in the path or in
//! the body): tenant B asking for tenant A's object gets exactly the answer a nonexistent id gets
//! (404, same content type, same problem apart from `request_id`, same header names), reaches
//! nothing upstream and changes nothing; A's own request succeeds; B's lists never show A's objects.

use std::collections::BTreeSet;

use card_gateway::{
    routes::{self, table::RoutePolicy},
    sensitive::Reveal as _,
    simulator::AuthorizationSpec,
};
use reqwest::{Method, StatusCode};
use rust_decimal::Decimal;
use serde_json::{Value, json};

use crate::{
    common::{Resp, TestApp, spawn_app},
    support::{Ids, Sample, header_names, method_of, name, problem_shape, sample, send, upstream_calls},
};

/// Ids carried in request bodies: (method, path, body field). Each has a case in `body_id_cases`.
const BODY_IDS: [(&str, &str, &str); 3] = [
    ("POST", "/v1/cards", "group_id"),
    ("POST", "/v1/cards", "cardholder_id"),
    ("POST", "/v1/physical-cards", "cardholder_id"),
];

fn takes_path_id(route: &RoutePolicy) -> bool {
    // `{table}` names a public reference table, not a tenant's object.
    route.path.contains("{id}")
}

/// The body of a request naming `id` in `field`, as the owner would send it.
fn body_with(method: &str, path: &str, field: &str, id: &str) -> Value {
    match (method, path, field) {
        ("POST", "/v1/cards", "group_id") => {
            json!({"bin": "493193", "currency": "USD", "limit": "0", "group_id": id})
        }
        ("POST", "/v1/cards", "cardholder_id") => {
            json!({"bin": "485932", "currency": "USD", "limit": "1.00", "cardholder_id": id})
        }
        ("POST", "/v1/physical-cards", "cardholder_id") => {
            json!({"cardholder_id": id, "kit_number": format!("KIT{}", crate::common::rand_digits(6)), "currency": "USD"})
        }
        _ => panic!("no BOLA body case for {method} {path} `{field}`: add one to bola.rs"),
    }
}

fn body_id_of(field: &str, ids: &Ids) -> String {
    match field {
        "group_id" => ids.group.clone(),
        "cardholder_id" => ids.holder.clone(),
        _ => panic!("no id of kind `{field}` in Ids"),
    }
}

/// Asserts B's answer for A's object is indistinguishable from its answer for a missing one.
fn assert_same_404(foreign: &Resp, missing: &Resp, ctx: &str) {
    assert_eq!(foreign.status, StatusCode::NOT_FOUND, "{ctx}: B on A's object: {}", foreign.text);
    assert_eq!(missing.status, StatusCode::NOT_FOUND, "{ctx}: B on a nonexistent id: {}", missing.text);
    assert!(foreign.is_problem(), "{ctx}: {:?}", foreign.header("content-type"));
    assert_eq!(foreign.header("content-type"), missing.header("content-type"), "{ctx}: content types differ");
    for member in ["code", "title", "detail", "type", "status"] {
        assert_eq!(foreign.json[member], missing.json[member], "{ctx}: `{member}` differs");
    }
    assert_eq!(problem_shape(foreign), problem_shape(missing), "{ctx}: problem bodies differ beyond request_id");
    assert_ne!(foreign.json["request_id"], missing.json["request_id"]);
    assert_eq!(header_names(foreign), header_names(missing), "{ctx}: header sets differ");
}

/// B's request for A's object and for a nonexistent one: identical 404s, nothing upstream. (The
/// nonexistent id is 404 for A as well: it is missing for everyone, not just foreign.)
async fn probe(app: &TestApp, route: &RoutePolicy, foreign: &Sample, missing: &Sample, a: &str, b: &str, ctx: &str) {
    let before = upstream_calls(app);
    let f = send(app, route, foreign, Some(b), None).await;
    let m = send(app, route, missing, Some(b), None).await;
    assert_eq!(upstream_calls(app), before, "{ctx}: B's request reached the platform");
    assert_same_404(&f, &m, ctx);
    let control = send(app, route, missing, Some(a), None).await;
    assert_eq!(control.status, StatusCode::NOT_FOUND, "{ctx}: the nonexistent id exists for A: {}", control.text);
}

/// A snapshot of what B must not be able to change.
async fn a_state(app: &TestApp, a: &str, ids: &Ids) -> Value {
    let card = app.get(&format!("/v1/cards/{}", ids.card), a).await.json;
    let cancel = app.get(&format!("/v1/cards/{}", ids.card_to_cancel), a).await.json;
    let group = app.get(&format!("/v1/card-groups/{}", ids.group), a).await.json;
    let holder = app.get(&format!("/v1/cardholders/{}", ids.holder_to_delete), a).await.json;
    json!({
        "card": [card["status"], card["balance"], card["alias"]],
        "card_to_cancel": [cancel["status"], cancel["balance"]],
        "group": [group["status"], group["balance"]],
        "holder_to_delete": holder["status"],
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn another_tenants_objects_answer_exactly_like_missing_ones_and_stay_untouched() {
    let app = spawn_app().await;
    let a = app.admin("tenant-a");
    let b = app.admin("tenant-b");
    let ids_a = Ids::create(&app, &a).await;
    // B owns objects of every kind too: its lookups run against a populated ownership store.
    let _ids_b = Ids::create(&app, &b).await;
    let missing = Ids::nonexistent();
    let table = routes::table();
    let before = a_state(&app, &a, &ids_a).await;

    // Path ids.
    let mut covered = BTreeSet::new();
    for route in table.routes().iter().filter(|r| takes_path_id(r)) {
        let ctx = format!("{} (path id)", name(route));
        probe(&app, route, &sample(route, &ids_a), &sample(route, &missing), &a, &b, &ctx).await;
        covered.insert(name(route));
    }
    // Body ids.
    for (m, path, field) in BODY_IDS {
        let route = table.find(&m.parse().unwrap(), path).unwrap_or_else(|| panic!("{m} {path} left the table"));
        let mk = |id: &str| Sample {
            method: method_of(route),
            path: path.to_owned(),
            body: Some(body_with(m, path, field, id)),
        };
        let ctx = format!("{m} {path} with `{field}`");
        probe(&app, route, &mk(&body_id_of(field, &ids_a)), &mk(&body_id_of(field, &missing)), &a, &b, &ctx).await;
    }
    // Every id a sample body carries has a body case.
    for route in table.routes() {
        if let Some(Value::Object(body)) = sample(route, &ids_a).body {
            for field in body.keys().filter(|k| k.ends_with("_id")) {
                assert!(
                    BODY_IDS.contains(&(route.method.as_str(), route.path, field.as_str())),
                    "{} carries `{field}` in its body but has no BOLA body case",
                    name(route)
                );
            }
        }
    }
    assert_eq!(covered.len(), 16, "path-id routes covered (update the count when adding one): {covered:?}");
    assert_eq!(a_state(&app, &a, &ids_a).await, before, "B changed A's objects");

    // A's own requests succeed (the 404s above were about ownership, not the requests).
    for (m, path, field) in BODY_IDS {
        let route = table.find(&m.parse().unwrap(), path).unwrap();
        let r = app
            .send(
                method_of(route),
                path,
                Some(&a),
                Some(&uuid::Uuid::new_v4().to_string()),
                Some(body_with(m, path, field, &body_id_of(field, &ids_a))),
            )
            .await;
        assert!(r.status.is_success(), "{m} {path} with A's own `{field}`: {} {}", r.status, r.text);
    }
    // Freezing the group last keeps its recharge and refund possible.
    let mut own: Vec<&RoutePolicy> = table.routes().iter().filter(|r| takes_path_id(r)).collect();
    own.sort_by_key(|r| (r.method.as_str(), r.path) == ("PATCH", "/v1/card-groups/{id}"));
    for route in own {
        let mut s = sample(route, &ids_a);
        if (route.method.as_str(), route.path) == ("POST", "/v1/physical-cards/{id}/activate") {
            let code = app.sim.issue_activation_code(&ids_a.physical).unwrap();
            s.body = Some(json!({"activation_code": code.code.expose()}));
        }
        let r = send(&app, route, &s, Some(&a), None).await;
        assert!(r.status.is_success(), "{}: A on its own object: {} {}", name(route), r.status, r.text);
    }
}

fn ids_in(list: &Resp, field: &str) -> Vec<String> {
    assert_eq!(list.status, StatusCode::OK, "{}", list.text);
    list.json["data"].as_array().unwrap().iter().map(|x| x[field].as_str().unwrap_or_default().to_owned()).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_tenants_lists_never_show_another_tenants_objects() {
    let app = spawn_app().await;
    let a = app.admin("tenant-a");
    let b = app.admin("tenant-b");
    let ids_a = Ids::create(&app, &a).await;
    let ids_b = Ids::create(&app, &b).await;
    let spend =
        AuthorizationSpec { amount: Decimal::new(250, 2), merchant_name: Some("Shop".into()), ..Default::default() };
    app.sim.authorize(&ids_a.card, &spend).unwrap();
    app.sim.authorize(&ids_b.card, &spend).unwrap();

    let lists = [
        ("/v1/cards?limit=100", "id"),
        ("/v1/card-groups?limit=100", "id"),
        ("/v1/cardholders?limit=100", "id"),
        ("/v1/operations?limit=100", "id"),
        ("/v1/transactions?limit=100", "card_id"),
    ];
    let a_objects: BTreeSet<String> = {
        let mut s = BTreeSet::new();
        for (path, field) in lists {
            let mine = ids_in(&app.get(path, &a).await, field);
            assert!(!mine.is_empty(), "{path}: A sees its own objects");
            s.extend(mine);
        }
        s.extend(ids_a.all().into_iter().map(str::to_owned));
        s
    };
    let b_objects: BTreeSet<String> = ids_b.all().into_iter().map(str::to_owned).collect();
    for (path, field) in lists {
        let seen = ids_in(&app.get(path, &b).await, field);
        assert!(!seen.is_empty(), "{path}: B sees its own objects");
        for id in &seen {
            assert!(!a_objects.contains(id), "{path}: B's list shows A's object {id}");
        }
        if field == "id" && !path.starts_with("/v1/operations") {
            assert!(seen.iter().any(|id| b_objects.contains(id)), "{path}: B's own objects are listed: {seen:?}");
        }
    }
    let b_tx = app.get(&format!("/v1/cards/{}/transactions", ids_b.card), &b).await;
    assert!(ids_in(&b_tx, "card_id").iter().all(|c| c == &ids_b.card), "{}", b_tx.text);
    assert!(!b_tx.text.contains(&ids_a.card), "B's card transactions mention A's card");
    let all_b = app.get("/v1/transactions?limit=100", &b).await;
    assert!(!all_b.text.contains(&ids_a.card), "B's transactions mention A's card: {}", all_b.text);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_list_cursor_issued_to_one_tenant_is_refused_for_another() {
    let app = spawn_app().await;
    let a = app.admin("tenant-a");
    let b = app.admin("tenant-b");
    for _ in 0..3 {
        app.create_card(&a, "1.00").await;
    }
    app.create_card(&b, "1.00").await;
    let page = app.get("/v1/cards?limit=1", &a).await;
    let cursor = page.json["next_cursor"].as_str().expect("a second page").to_owned();
    let stolen = app.send(Method::GET, &format!("/v1/cards?limit=1&cursor={cursor}"), Some(&b), None, None).await;
    assert_eq!(stolen.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", stolen.text);
    assert_eq!(stolen.json["errors"][0]["pointer"], "query.cursor");
    let a_next = app.get(&format!("/v1/cards?limit=1&cursor={cursor}"), &a).await;
    assert_eq!(a_next.status, StatusCode::OK, "the cursor works for its owner: {}", a_next.text);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_idempotency_key_never_replays_across_tenants() {
    let app = spawn_app().await;
    let a = app.admin("tenant-a");
    let b = app.admin("tenant-b");
    let body = json!({"bin": "222929", "currency": "USD", "limit": "3.00"});
    let first = app.post_key("/v1/cards", &a, "shared-key-1", body.clone()).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    let replay = app.post_key("/v1/cards", &a, "shared-key-1", body.clone()).await;
    assert_eq!(replay.header("idempotent-replayed"), Some("true"), "control: A's own retry is a replay");

    let same = app.post_key("/v1/cards", &b, "shared-key-1", body.clone()).await;
    assert_eq!(same.status, StatusCode::CREATED, "{}", same.text);
    assert!(same.header("idempotent-replayed").is_none(), "B got A's stored answer");
    assert_ne!(same.json["id"], first.json["id"], "B was handed A's card");
    // A different body under A's key is not a mismatch for B either (that would reveal A used it).
    let other = json!({"bin": "222929", "currency": "USD", "limit": "4.00"});
    let different = app.post_key("/v1/cards", &b, "shared-key-2", other.clone()).await;
    assert_eq!(different.status, StatusCode::CREATED);
    let a_reuse = app.post_key("/v1/cards", &a, "shared-key-2", body).await;
    assert_eq!(a_reuse.status, StatusCode::CREATED, "A's key space is its own: {}", a_reuse.text);
    assert_ne!(a_reuse.json["id"], different.json["id"]);
}
