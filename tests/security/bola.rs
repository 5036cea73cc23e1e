//! Broken object-level authorisation, two tenants × every route that takes an id (in the path or in
//! the body): tenant B asking for tenant A's object gets exactly the answer a nonexistent id gets
//! (404 — or the 422 of a body id — same content type, same problem apart from `request_id`, same
//! header names), reaches nothing upstream and changes nothing; A's own request succeeds; B's lists,
//! event log, event stream and webhook endpoints never show A's objects or events.

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
    common::{Resp, TestApp},
    support::{
        EVENTUALLY, EventStream, Ids, Receiver, Sample, all_events, card_transaction_event, eventually, header_names,
        method_of, name, problem_shape, sample, send, spawn, upstream_calls,
    },
};

/// Ids carried in request bodies: (method, path, body field). Each has a case in `body_with`.
const BODY_IDS: [(&str, &str, &str); 4] = [
    ("POST", "/v1/cards", "group_id"),
    ("POST", "/v1/cards", "cardholder_id"),
    ("POST", "/v1/physical-cards", "cardholder_id"),
    ("POST", "/v1/webhook-endpoints/{id}/replay", "event_ids"),
];

fn takes_path_id(route: &RoutePolicy) -> bool {
    // `{table}` names a public reference table, not a tenant's object.
    route.path.contains('{') && !route.path.contains("{table}")
}

/// The object of `ids` a route's `{id}` names. A route taking an id that matches none of these has
/// no BOLA case: the matrix fails until one is added here (and its sample in support.rs).
fn path_object<'a>(route: &RoutePolicy, ids: &'a Ids) -> &'a str {
    let (m, p) = (route.method.as_str(), route.path);
    let under = |prefix: &str| p == prefix || p.starts_with(&format!("{prefix}/"));
    if p == "/v1/cards/{id}/cancel" {
        &ids.card_to_cancel
    } else if under("/v1/cards/{id}") {
        &ids.card
    } else if under("/v1/card-groups/{id}") {
        &ids.group
    } else if (m, p) == ("DELETE", "/v1/cardholders/{id}") {
        &ids.holder_to_delete
    } else if under("/v1/cardholders/{id}") {
        &ids.holder
    } else if under("/v1/physical-cards/{id}") {
        &ids.physical
    } else if under("/v1/operations/{id}") {
        &ids.operation
    } else if under("/v1/events/{id}") {
        &ids.event
    } else if (m, p) == ("DELETE", "/v1/webhook-endpoints/{id}") {
        &ids.endpoint_to_delete
    } else if under("/v1/webhook-endpoints/{id}") {
        &ids.endpoint
    } else if under("/v1/test-helpers/cards/{id}") {
        &ids.card
    } else if under("/v1/test-helpers/physical-cards/{id}") {
        &ids.physical_pending
    } else if p == "/v1/test-helpers/transactions/{id}/reversal" {
        &ids.transaction_to_reverse
    } else if under("/v1/test-helpers/transactions/{id}") {
        &ids.transaction
    } else if under("/v1/test-helpers/crypto/deposits/{id}") {
        &ids.deposit
    } else if under("/v1/test-helpers/operations/{id}") {
        &ids.operation
    } else {
        panic!("{m} {p} takes an id but has no BOLA case: add its object kind to `path_object` in bola.rs")
    }
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
        ("POST", "/v1/webhook-endpoints/{id}/replay", "event_ids") => json!({"event_ids": [id]}),
        _ => panic!("no BOLA body case for {method} {path} `{field}`: add one to bola.rs"),
    }
}

fn body_id_of(field: &str, ids: &Ids) -> String {
    match field {
        "group_id" => ids.group.clone(),
        "cardholder_id" => ids.holder.clone(),
        "event_ids" => ids.event.clone(),
        _ => panic!("no id of kind `{field}` in Ids"),
    }
}

/// How a request naming a body id nobody has is refused: a missing referenced object is 404, an
/// event id in a replay is an invalid field (422).
fn body_refusal(field: &str) -> StatusCode {
    if field == "event_ids" { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::NOT_FOUND }
}

/// A request on `route` (its path ids from `path_ids`) whose body names `id` in `field`.
fn body_sample(route: &RoutePolicy, field: &str, id: &str, path_ids: &Ids) -> Sample {
    Sample {
        method: method_of(route),
        path: sample(route, path_ids).path,
        body: Some(body_with(route.method.as_str(), route.path, field, id)),
        junk: false,
    }
}

/// Asserts B's answer for A's object is indistinguishable from its answer for a missing one.
fn assert_same_refusal(foreign: &Resp, missing: &Resp, status: StatusCode, ctx: &str) {
    assert_eq!(foreign.status, status, "{ctx}: B on A's object: {}", foreign.text);
    assert_eq!(missing.status, status, "{ctx}: B on a nonexistent id: {}", missing.text);
    assert!(foreign.is_problem(), "{ctx}: {:?}", foreign.header("content-type"));
    assert_eq!(foreign.header("content-type"), missing.header("content-type"), "{ctx}: content types differ");
    for member in ["code", "title", "detail", "type", "status"] {
        assert_eq!(foreign.json[member], missing.json[member], "{ctx}: `{member}` differs");
    }
    assert_eq!(problem_shape(foreign), problem_shape(missing), "{ctx}: problem bodies differ beyond request_id");
    assert_ne!(foreign.json["request_id"], missing.json["request_id"]);
    assert_eq!(header_names(foreign), header_names(missing), "{ctx}: header sets differ");
}

/// One BOLA probe.
struct Probe<'s> {
    /// B's request naming A's object.
    foreign: &'s Sample,
    /// B's same request naming an object nobody has.
    missing: &'s Sample,
    /// A's request naming the object nobody has (on A's own objects otherwise).
    control: &'s Sample,
    refusal: StatusCode,
}

/// B's request for A's object and for a nonexistent one: identical refusals, nothing upstream. (The
/// nonexistent id is refused for A as well: it is missing for everyone, not just foreign.)
async fn probe(app: &TestApp, route: &RoutePolicy, p: Probe<'_>, a: &str, b: &str, ctx: &str) {
    let before = upstream_calls(app);
    let f = send(app, route, p.foreign, Some(b), None).await;
    let m = send(app, route, p.missing, Some(b), None).await;
    assert_eq!(upstream_calls(app), before, "{ctx}: B's request reached the platform");
    assert_same_refusal(&f, &m, p.refusal, ctx);
    let control = send(app, route, p.control, Some(a), None).await;
    assert_eq!(control.status, p.refusal, "{ctx}: the nonexistent id exists for A: {}", control.text);
}

/// A's webhook deliveries to `endpoint` (newest first, at most 100).
async fn deliveries(app: &TestApp, token: &str, endpoint: &str) -> Vec<Value> {
    let r = app.get(&format!("/v1/webhook-endpoints/{endpoint}/deliveries?limit=100"), token).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.json["data"].as_array().unwrap().clone()
}

/// A snapshot of what B must not be able to change.
async fn a_state(app: &TestApp, a: &str, ids: &Ids) -> Value {
    let card = app.get(&format!("/v1/cards/{}", ids.card), a).await.json;
    let cancel = app.get(&format!("/v1/cards/{}", ids.card_to_cancel), a).await.json;
    let group = app.get(&format!("/v1/card-groups/{}", ids.group), a).await.json;
    let holder = app.get(&format!("/v1/cardholders/{}", ids.holder_to_delete), a).await.json;
    let holder_md = app.get(&format!("/v1/cardholders/{}", ids.holder), a).await.json;
    let endpoint = app.get(&format!("/v1/webhook-endpoints/{}", ids.endpoint), a).await;
    let to_delete = app.get(&format!("/v1/webhook-endpoints/{}", ids.endpoint_to_delete), a).await;
    let event = app.get(&format!("/v1/events/{}", ids.event), a).await;
    // Replays (only A could make them) show up as deliveries with `replay: true`.
    let replays: Vec<Value> = deliveries(app, a, &ids.endpoint)
        .await
        .into_iter()
        .filter(|d| d["replay"] == true)
        .map(|d| d["id"].clone())
        .collect();
    json!({
        "card": [card["status"], card["balance"], card["alias"], card["metadata"]],
        "card_to_cancel": [cancel["status"], cancel["balance"]],
        "group": [group["status"], group["balance"], group["metadata"]],
        "holder_to_delete": holder["status"],
        "holder": holder_md["metadata"],
        // The whole endpoint, `updated_at` included: an update, a rotation or a deletion shows.
        "endpoint": [endpoint.status.as_u16(), endpoint.json],
        "endpoint_to_delete": [to_delete.status.as_u16(), to_delete.json],
        "event": [event.status.as_u16(), event.json],
        "endpoint_replays": replays,
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn another_tenants_objects_answer_exactly_like_missing_ones_and_stay_untouched() {
    let app = spawn().await;
    let (rx_a, rx_b) = (Receiver::start().await, Receiver::start().await);
    let a = app.admin("tenant-a");
    let b = app.admin("tenant-b");
    let ids_a = Ids::create(&app, &a, &rx_a).await;
    // B owns objects of every kind too: its lookups run against a populated ownership store.
    let ids_b = Ids::create(&app, &b, &rx_b).await;
    let missing = Ids::nonexistent();
    let table = routes::table();
    let before = a_state(&app, &a, &ids_a).await;
    assert_eq!(before["endpoint"][0], 200, "{before}");
    assert_eq!(before["event"][0], 200, "{before}");

    // Path ids: every route of the table that takes one.
    let id_routes: Vec<&RoutePolicy> = table.routes().iter().filter(|r| takes_path_id(r)).collect();
    let mut covered = BTreeSet::new();
    let mut kinds = BTreeSet::new();
    for route in &id_routes {
        let ctx = format!("{} (path id)", name(route));
        let (foreign, absent) = (sample(route, &ids_a), sample(route, &missing));
        let (theirs, nobodys) = (path_object(route, &ids_a), path_object(route, &missing));
        assert!(foreign.path.split('/').any(|s| s == theirs), "{ctx}: the sample does not name A's {theirs}");
        assert!(absent.path.split('/').any(|s| s == nobodys), "{ctx}: the sample does not name {nobodys}");
        let p = Probe { foreign: &foreign, missing: &absent, control: &absent, refusal: StatusCode::NOT_FOUND };
        probe(&app, route, p, &a, &b, &ctx).await;
        covered.insert(name(route));
        kinds.insert(theirs.to_owned());
    }
    // Derived from the table, so nothing to update by hand; but every kind of object is probed.
    assert_eq!(covered.len(), id_routes.len());
    let every_kind: BTreeSet<String> = ids_a.all().into_iter().map(str::to_owned).collect();
    assert_eq!(kinds, every_kind, "an object kind of Ids that no id route probes (or the reverse): {covered:?}");

    // Body ids.
    for (m, path, field) in BODY_IDS {
        let route = table.find(&m.parse().unwrap(), path).unwrap_or_else(|| panic!("{m} {path} left the table"));
        let ctx = format!("{m} {path} with `{field}`");
        // B names the id on its own objects (B's endpoint for a replay); A's control on A's.
        let foreign = body_sample(route, field, &body_id_of(field, &ids_a), &ids_b);
        let absent = body_sample(route, field, &body_id_of(field, &missing), &ids_b);
        let control = body_sample(route, field, &body_id_of(field, &missing), &ids_a);
        let p = Probe { foreign: &foreign, missing: &absent, control: &control, refusal: body_refusal(field) };
        probe(&app, route, p, &a, &b, &ctx).await;
    }
    // Every id a sample body carries has a body case.
    for route in table.routes() {
        if let Some(Value::Object(body)) = sample(route, &ids_a).body {
            for field in body.keys().filter(|k| k.ends_with("_id") || k.ends_with("_ids")) {
                assert!(
                    BODY_IDS.contains(&(route.method.as_str(), route.path, field.as_str())),
                    "{} carries `{field}` in its body but has no BOLA body case",
                    name(route)
                );
            }
        }
    }
    assert_eq!(a_state(&app, &a, &ids_a).await, before, "B changed A's objects");

    // A's endpoint still signs with the secret A was given (B rotated nothing), and A's events
    // reach A's receiver only.
    let fresh = card_transaction_event(&app, &a, &ids_a.card, Decimal::new(50, 2)).await;
    let fresh_id = fresh["id"].as_str().unwrap();
    eventually("A's new event delivered to A's endpoint, signed with its original secret", EVENTUALLY, || async {
        rx_a.got().iter().any(|r| r.event_id() == fresh_id && r.verifies(&ids_a.endpoint_secret)).then_some(())
    })
    .await;
    let a_events: BTreeSet<String> =
        all_events(&app, &a, "").await.iter().map(|e| e["id"].as_str().unwrap().to_owned()).collect();
    assert!(a_events.contains(fresh_id) && a_events.contains(&ids_a.event));
    let misdelivered: Vec<String> =
        rx_b.got().iter().map(|r| r.event_id().to_owned()).filter(|id| a_events.contains(id)).collect();
    assert!(misdelivered.is_empty(), "A's events delivered to B's endpoint: {misdelivered:?}");

    // A's own requests succeed (the refusals above were about ownership, not the requests).
    for (m, path, field) in BODY_IDS {
        let route = table.find(&m.parse().unwrap(), path).unwrap();
        let s = body_sample(route, field, &body_id_of(field, &ids_a), &ids_a);
        let r = send(&app, route, &s, Some(&a), None).await;
        assert!(r.status.is_success(), "{m} {path} with A's own `{field}`: {} {}", r.status, r.text);
    }
    // Freezing the group last keeps its recharge and refund possible.
    let mut own = id_routes.clone();
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
    let app = spawn().await;
    let rx = Receiver::start().await;
    let a = app.admin("tenant-a");
    let b = app.admin("tenant-b");
    let ids_a = Ids::create(&app, &a, &rx).await;
    let ids_b = Ids::create(&app, &b, &rx).await;
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
        ("/v1/events?limit=100", "id"),
        ("/v1/webhook-endpoints?limit=100", "id"),
        // Filtered lists (issue 11 item 6): a filter narrows the tenant's own list, never widens it.
        ("/v1/cards?limit=100&status=active", "id"),
        ("/v1/cards?limit=100&created[gte]=2000-01-01T00:00:00Z&created[lt]=2999-01-01T00:00:00Z", "id"),
        ("/v1/operations?limit=100&kind=card.recharge&status=succeeded", "id"),
        ("/v1/transactions?limit=100&status=succeeded", "card_id"),
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
    // Nor do B's events, even when B asks for A's card by id.
    let b_events = app.get("/v1/events?limit=100", &b).await;
    assert!(!b_events.text.contains(&ids_a.card), "B's events mention A's card: {}", b_events.text);
    for query in [format!("object_id={}", ids_a.card), format!("type=card.transaction&object_id={}", ids_a.card)] {
        let r = app.get(&format!("/v1/events?{query}"), &b).await;
        assert_eq!(ids_in(&r, "id"), Vec::<String>::new(), "B's events about A's card ({query}): {}", r.text);
        assert!(r.json["next_cursor"].is_null(), "{}", r.text);
    }
    let mine = app.get(&format!("/v1/events?object_id={}", ids_a.card), &a).await;
    assert!(!ids_in(&mine, "id").is_empty(), "control: A's events about its card are found: {}", mine.text);

    // A filter naming A's group or cardholder finds nothing of A's for B (the same answer as an id
    // nobody owns), while A finds its cards with it.
    let sub = app
        .post("/v1/cards", &a, json!({"bin": "493193", "currency": "USD", "limit": "0", "group_id": ids_a.group}))
        .await;
    assert_eq!(sub.status, StatusCode::CREATED, "{}", sub.text);
    let missing = Ids::nonexistent();
    for (field, theirs, nobodys) in
        [("group_id", &ids_a.group, &missing.group), ("cardholder_id", &ids_a.holder, &missing.holder)]
    {
        let path = |id: &str| format!("/v1/cards?limit=100&{field}={id}");
        let own = app.get(&path(theirs), &a).await;
        assert!(!ids_in(&own, "id").is_empty(), "control: A's cards by {field}: {}", own.text);
        let foreign = app.get(&path(theirs), &b).await;
        let absent = app.get(&path(nobodys), &b).await;
        assert_eq!(ids_in(&foreign, "id"), Vec::<String>::new(), "B's cards by A's {field}: {}", foreign.text);
        assert_eq!((foreign.status, &foreign.json), (absent.status, &absent.json), "{field}: like an id nobody owns");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn another_tenants_events_never_reach_a_tenants_stream_replays_or_endpoints() {
    let app = spawn().await;
    let (rx_a, rx_b) = (Receiver::start().await, Receiver::start().await);
    let a = app.admin("tenant-a");
    let b = app.admin("tenant-b");
    let ids_a = Ids::create(&app, &a, &rx_a).await;
    let ids_b = Ids::create(&app, &b, &rx_b).await;

    // Live: B's stream opened now sees B's next event, and nothing of A's recorded just before it.
    let mut live = EventStream::open(&app, &b, None).await;
    let a_new = card_transaction_event(&app, &a, &ids_a.card, Decimal::new(75, 2)).await;
    let b_new = card_transaction_event(&app, &b, &ids_b.card, Decimal::new(75, 2)).await;
    let frames = live.read_until("B's new event", |f| f.iter().any(|x| x.data["id"] == b_new["id"])).await;
    let a_events: BTreeSet<String> =
        all_events(&app, &a, "").await.iter().map(|e| e["id"].as_str().unwrap().to_owned()).collect();
    let b_events: BTreeSet<String> =
        all_events(&app, &b, "").await.iter().map(|e| e["id"].as_str().unwrap().to_owned()).collect();
    assert!(a_events.contains(a_new["id"].as_str().unwrap()) && a_events.is_disjoint(&b_events));
    for f in &frames {
        let id = f.data["id"].as_str().unwrap_or_default();
        assert!(b_events.contains(id), "B's live stream carried an event not in B's log: {f:?}");
        assert_eq!(f.data["type"], f.event.as_str(), "the frame's `event:` is its type");
    }
    for id in ids_a.all() {
        assert!(!live.raw.contains(id), "B's live stream mentions A's object {id}");
    }

    // Replayed from the start of the retained log: exactly B's log, in order, nothing of A's.
    let mut replay = EventStream::open(&app, &b, Some("0-0")).await;
    let frames = replay.read_until("B's retained log", |f| f.len() >= b_events.len()).await;
    let streamed: BTreeSet<String> = frames.iter().map(|f| f.data["id"].as_str().unwrap().to_owned()).collect();
    assert_eq!(streamed, b_events, "B's stream from 0-0 is B's log");
    for id in ids_a.all() {
        assert!(!replay.raw.contains(id), "B's replayed stream mentions A's object {id}");
    }
    // A position taken from A's stream means nothing in B's: still only B's events.
    let mut a_stream = EventStream::open(&app, &a, Some("0-0")).await;
    let a_first = a_stream.read_until("A's first event", |f| !f.is_empty()).await;
    let mut resumed = EventStream::open(&app, &b, Some(&a_first[0].id)).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_millis(300);
    while let Some(f) = resumed.next_until(deadline).await {
        assert!(b_events.contains(f.data["id"].as_str().unwrap_or_default()), "{f:?}");
    }

    // B re-delivers its whole log to its own endpoint: B's events only, to B's receiver only.
    let r = app
        .post(&format!("/v1/webhook-endpoints/{}/replay", ids_b.endpoint), &b, json!({"since": "2000-01-01T00:00:00Z"}))
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    let replayed: BTreeSet<String> = eventually("B's replay deliveries listed", EVENTUALLY, || async {
        let d = deliveries(&app, &b, &ids_b.endpoint).await;
        let ids: BTreeSet<String> =
            d.iter().filter(|d| d["replay"] == true).map(|d| d["event_id"].as_str().unwrap().to_owned()).collect();
        (!ids.is_empty()).then_some(ids)
    })
    .await;
    assert!(replayed.is_subset(&b_events), "B's replay re-delivers events outside B's log: {replayed:?}");
    for id in &replayed {
        rx_b.wait_for_event(id).await;
    }
    let to_b: BTreeSet<String> = rx_b.got().iter().map(|r| r.event_id().to_owned()).collect();
    let to_a: BTreeSet<String> = rx_a.got().iter().map(|r| r.event_id().to_owned()).collect();
    assert!(to_b.is_disjoint(&a_events), "A's events delivered to B: {:?}", to_b.intersection(&a_events));
    assert!(to_a.is_disjoint(&b_events), "B's events delivered to A: {:?}", to_a.intersection(&b_events));
    assert!(to_a.contains(a_new["id"].as_str().unwrap()), "control: A's receiver gets A's events");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_list_cursor_issued_to_one_tenant_is_refused_for_another() {
    let app = spawn().await;
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
    let app = spawn().await;
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

/// The platform's `cardId` filter is not trusted: with a simulator that ignores it, a card's
/// transaction list still holds only that card's rows (the other tenant's purchase is dropped).
#[tokio::test(flavor = "multi_thread")]
async fn a_card_transaction_list_keeps_only_that_cards_rows_when_the_platform_ignores_the_filter() {
    let app = crate::support::spawn_configured(|s| s.simulator.transactions_ignore_card_filter = true).await;
    let a = app.admin("tenant-a");
    let b = app.admin("tenant-b");
    let card_a = app.create_card(&a, "20.00").await;
    let card_b = app.create_card(&b, "20.00").await;
    let spend =
        AuthorizationSpec { amount: Decimal::new(150, 2), merchant_name: Some("Shop".into()), ..Default::default() };
    app.sim.authorize(&card_a, &spend).unwrap();
    app.sim.authorize(&card_b, &spend).unwrap();

    let b_tx = app.get(&format!("/v1/cards/{card_b}/transactions?limit=100"), &b).await;
    let cards = ids_in(&b_tx, "card_id");
    assert!(!cards.is_empty(), "control: B sees its own card's purchase: {}", b_tx.text);
    assert!(cards.iter().all(|c| c == &card_b), "B's card list holds only B's card: {cards:?}");
    assert!(!b_tx.text.contains(&card_a), "B's card transactions mention A's card: {}", b_tx.text);
}
