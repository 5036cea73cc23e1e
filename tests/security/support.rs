//! Shared by the security suites: a sample request for every route of the table, upstream call
//! counting, and problem comparison.

use card_gateway::{routes::table::RoutePolicy, upstream::Operation};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::{Resp, TestApp, rand_digits};

/// The ids that fill a route's `{id}` and the ids some bodies carry.
#[derive(Debug, Clone)]
pub struct Ids {
    pub card: String,
    /// A second card, for `POST /v1/cards/{id}/cancel` (so the first stays usable).
    pub card_to_cancel: String,
    pub group: String,
    pub holder: String,
    /// A second cardholder, for `DELETE /v1/cardholders/{id}`.
    pub holder_to_delete: String,
    pub physical: String,
    pub operation: String,
}

impl Ids {
    /// Well-formed ids that no tenant owns.
    pub fn nonexistent() -> Self {
        Self {
            card: "9999000000000000001".into(),
            card_to_cancel: "9999000000000000002".into(),
            group: "9999000000000000003".into(),
            holder: "9999000000000000004".into(),
            holder_to_delete: "9999000000000000005".into(),
            physical: "9999000000000000006".into(),
            operation: "op_9999000000000000007".into(),
        }
    }

    /// One object of every kind, created by the tenant of `token` (which needs every tenant scope).
    pub async fn create(app: &TestApp, token: &str) -> Self {
        let card = app.create_card(token, "20.00").await;
        let card_to_cancel = app.create_card(token, "5.00").await;
        let group = app.create_group(token, "50.00").await;
        let holder = app.create_cardholder(token).await;
        let holder_to_delete = app.create_cardholder(token).await;
        let kit = format!("KIT{}", rand_digits(6));
        let r = app
            .post("/v1/physical-cards", token, json!({"cardholder_id": holder, "kit_number": kit, "currency": "USD"}))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "assign physical card: {}", r.text);
        let physical = r.json["id"].as_str().unwrap().to_owned();
        let r = app.post(&format!("/v1/cards/{card}/recharges"), token, json!({"amount": "1.00"})).await;
        assert_eq!(r.status, StatusCode::OK, "recharge: {}", r.text);
        let operation = r.json["id"].as_str().unwrap().to_owned();
        Self { card, card_to_cancel, group, holder, holder_to_delete, physical, operation }
    }

    pub fn all(&self) -> Vec<&str> {
        vec![
            &self.card,
            &self.card_to_cancel,
            &self.group,
            &self.holder,
            &self.holder_to_delete,
            &self.physical,
            &self.operation,
        ]
    }
}

/// A concrete request for one route.
#[derive(Debug, Clone)]
pub struct Sample {
    pub method: Method,
    pub path: String,
    pub body: Option<Value>,
}

pub fn cardholder_body() -> Value {
    let n = rand_digits(9);
    json!({
        "first_name": "Ada", "last_name": "Lovelace", "email": format!("ada{n}@example.com"),
        "mobile_prefix": "1", "mobile": format!("50{n}"), "birth_date": "1990-12-10", "country": "USA",
        "billing": {"state": "AR", "city": "Little Rock", "address": "1 Main St", "zip": "72201"}
    })
}

/// A syntactically valid request for `route`, with its ids taken from `ids`. Panics for a route it
/// does not know, so a new route cannot slip past the matrices.
pub fn sample(route: &RoutePolicy, ids: &Ids) -> Sample {
    let m = route.method.as_str();
    let (path, body) = match (m, route.path) {
        ("GET", "/healthz") | ("GET", "/readyz") => (route.path.to_owned(), None),
        ("GET", "/v1/card-bins") | ("GET", "/v1/scenes") => (route.path.to_owned(), None),
        ("GET", "/v1/reference/{table}") => ("/v1/reference/currencies".to_owned(), None),

        ("POST", "/v1/cards") => {
            (route.path.to_owned(), Some(json!({"bin": "222929", "currency": "USD", "limit": "1.00"})))
        }
        ("GET", "/v1/cards") => (route.path.to_owned(), None),
        ("GET", "/v1/cards/{id}") => (format!("/v1/cards/{}", ids.card), None),
        ("GET", "/v1/cards/{id}/sensitive") => (format!("/v1/cards/{}/sensitive", ids.card), None),
        ("PATCH", "/v1/cards/{id}") => (format!("/v1/cards/{}", ids.card), Some(json!({"alias": "renamed"}))),
        ("POST", "/v1/cards/{id}/cancel") => (format!("/v1/cards/{}/cancel", ids.card_to_cancel), Some(json!({}))),
        ("POST", "/v1/cards/{id}/recharges") => {
            (format!("/v1/cards/{}/recharges", ids.card), Some(json!({"amount": "1.00"})))
        }
        ("POST", "/v1/cards/{id}/refunds") => {
            (format!("/v1/cards/{}/refunds", ids.card), Some(json!({"amount": "1.00"})))
        }
        ("GET", "/v1/cards/{id}/transactions") => (format!("/v1/cards/{}/transactions", ids.card), None),
        ("GET", "/v1/transactions") => (route.path.to_owned(), None),

        ("POST", "/v1/card-groups") => (route.path.to_owned(), Some(json!({"currency": "USD", "amount": "5.00"}))),
        ("GET", "/v1/card-groups") => (route.path.to_owned(), None),
        ("GET", "/v1/card-groups/{id}") => (format!("/v1/card-groups/{}", ids.group), None),
        ("PATCH", "/v1/card-groups/{id}") => {
            (format!("/v1/card-groups/{}", ids.group), Some(json!({"status": "frozen"})))
        }
        ("POST", "/v1/card-groups/{id}/recharges") => {
            (format!("/v1/card-groups/{}/recharges", ids.group), Some(json!({"amount": "1.00"})))
        }
        ("POST", "/v1/card-groups/{id}/refunds") => {
            (format!("/v1/card-groups/{}/refunds", ids.group), Some(json!({"amount": "1.00"})))
        }

        ("POST", "/v1/cardholders") => (route.path.to_owned(), Some(cardholder_body())),
        ("GET", "/v1/cardholders") => (route.path.to_owned(), None),
        ("GET", "/v1/cardholders/{id}") => (format!("/v1/cardholders/{}", ids.holder), None),
        ("DELETE", "/v1/cardholders/{id}") => (format!("/v1/cardholders/{}", ids.holder_to_delete), None),

        ("GET", "/v1/operations") => (route.path.to_owned(), None),
        ("GET", "/v1/operations/{id}") => (format!("/v1/operations/{}", ids.operation), None),

        ("POST", "/v1/physical-cards") => (
            route.path.to_owned(),
            Some(
                json!({"cardholder_id": ids.holder, "kit_number": format!("KIT{}", rand_digits(6)), "currency": "USD"}),
            ),
        ),
        ("POST", "/v1/physical-cards/{id}/activate") => {
            (format!("/v1/physical-cards/{}/activate", ids.physical), Some(json!({"activation_code": "000000"})))
        }
        ("POST", "/v1/physical-cards/{id}/pin-reset") => {
            (format!("/v1/physical-cards/{}/pin-reset", ids.physical), Some(json!({})))
        }

        ("POST", "/v1/crypto/deposits") => {
            (route.path.to_owned(), Some(json!({"amount": "10.00", "currency": "USDT", "chain": "TRON"})))
        }
        ("POST", "/v1/crypto/withdrawals") => (
            route.path.to_owned(),
            Some(
                json!({"amount": "1.00", "currency": "USDT", "chain": "TRON", "to_address": "TQ5aY1n7Wn4v6Qe6yYvLh9v5Xn3y8k2ZsN"}),
            ),
        ),

        ("GET", "/v1/treasury/balances") => (route.path.to_owned(), None),
        ("GET", "/v1/treasury/exchange-rates") => ("/v1/treasury/exchange-rates?from=EUR&to=USD".to_owned(), None),
        ("POST", "/v1/treasury/exchanges") => {
            (route.path.to_owned(), Some(json!({"from_currency": "EUR", "to_currency": "USD", "amount": "1.00"})))
        }
        ("POST", "/v1/treasury/crypto-transfers") => {
            (route.path.to_owned(), Some(json!({"currency": "USDT", "amount": "1.00", "to_currency": "USD"})))
        }
        _ => panic!(
            "route {m} {} has no sample request in tests/security/support.rs: add one \
             (and a BOLA case in bola.rs if it takes an id)",
            route.path
        ),
    };
    Sample { method: method_of(route), path, body }
}

/// `route`'s method as reqwest's.
pub fn method_of(route: &RoutePolicy) -> Method {
    Method::from_bytes(route.method.as_str().as_bytes()).unwrap()
}

/// Sends `s` with `token`; state-changing routes get `key` (a fresh one when `None`).
pub async fn send(app: &TestApp, route: &RoutePolicy, s: &Sample, token: Option<&str>, key: Option<&str>) -> Resp {
    let fresh = uuid::Uuid::new_v4().to_string();
    let key = if route.idempotent { Some(key.unwrap_or(&fresh)) } else { None };
    app.send(s.method.clone(), &s.path, token, key, s.body.clone()).await
}

/// How many requests the simulator has received, all operations together.
pub fn upstream_calls(app: &TestApp) -> u64 {
    Operation::ALL.iter().map(|op| app.sim.calls(*op)).sum()
}

/// `METHOD /path` for messages.
pub fn name(route: &RoutePolicy) -> String {
    format!("{} {}", route.method, route.path)
}

/// A problem body without its per-request member, for comparing two answers.
pub fn problem_shape(r: &Resp) -> Value {
    let mut v = r.json.clone();
    if let Some(o) = v.as_object_mut() {
        o.remove("request_id");
    }
    v
}

/// Response header names, minus those that legitimately differ between two requests.
pub fn header_names(r: &Resp) -> Vec<String> {
    let mut names: Vec<String> = r.headers.keys().map(|k| k.as_str().to_owned()).filter(|k| k != "date").collect();
    names.sort();
    names.dedup();
    names
}

/// Asserts a response is an RFC 9457 problem with `status` and `code`.
pub fn assert_problem(r: &Resp, status: StatusCode, code: &str, context: &str) {
    assert_eq!(r.status, status, "{context}: expected {status} {code}, got {}: {}", r.status, r.text);
    assert!(r.is_problem(), "{context}: content-type {:?}, body {}", r.header("content-type"), r.text);
    assert_eq!(r.json["status"], status.as_u16(), "{context}: problem status member: {}", r.text);
    assert_eq!(r.code(), code, "{context}: problem code: {}", r.text);
    for member in ["type", "title", "detail", "request_id"] {
        assert!(r.json[member].is_string(), "{context}: problem lacks `{member}`: {}", r.text);
    }
}
