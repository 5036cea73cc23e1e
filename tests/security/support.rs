//! Shared by the security suites: a gateway with webhook endpoints allowed to reach the suite's local
//! receiver, a sample request for every route of the table, requests that never hang on an event
//! stream, an SSE reader, upstream call counting, and problem comparison.

use std::{
    future::Future,
    sync::{Arc, OnceLock},
    time::{Duration, Instant},
};

use card_gateway::{config::Settings, routes::table::RoutePolicy, simulator::AuthorizationSpec, upstream::Operation};
use parking_lot::Mutex;
use reqwest::{Method, StatusCode, header::HeaderMap};
use rust_decimal::Decimal;
use serde_json::{Value, json};

use crate::common::{Resp, TestApp, rand_digits, spawn_with};

/// How long a request may take to produce its status and headers (an event stream included).
pub const HEADERS_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a (finite) response body may take.
pub const BODY_TIMEOUT: Duration = Duration::from_secs(10);
/// How long an asynchronous effect (a platform webhook becoming an event, a delivery) may take.
pub const EVENTUALLY: Duration = Duration::from_secs(10);

/// Webhook settings for the suites: endpoints may point at the suite's loopback receiver (tests only;
/// the production default stays `false`), deliveries are attempted at once and retried quickly.
pub fn webhook_test_settings(s: &mut Settings) {
    let w = &mut s.webhooks;
    w.allow_private_targets = true;
    w.delivery_schedule_ms = vec![50, 100, 200];
    w.delivery_jitter = 0.1;
    w.delivery_timeout_ms = 1000;
    w.delivery_lease_ms = 2000;
    w.delivery_poll_ms = 50;
    w.sse_poll_ms = 200;
    w.sse_keepalive_s = 1;
}

/// A gateway (with the embedded simulator) configured by [`webhook_test_settings`].
pub async fn spawn() -> TestApp {
    spawn_with(webhook_test_settings).await
}

/// [`spawn`] with further settings.
pub async fn spawn_configured(configure: impl FnOnce(&mut Settings)) -> TestApp {
    spawn_with(|s| {
        webhook_test_settings(s);
        configure(s);
    })
    .await
}

/// Polls `f` every 25 ms until it yields `Some`, or panics naming `what` after `limit`.
pub async fn eventually<T, F, Fut>(what: &str, limit: Duration, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let until = Instant::now() + limit;
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(Instant::now() < until, "{what}: not within {limit:?}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// One POST the receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Received {
    pub fn header(&self, name: &str) -> &str {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map_or("", |(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The delivered event's id (`webhook-id`).
    pub fn event_id(&self) -> &str {
        self.header("webhook-id")
    }

    /// Whether the Standard Webhooks signature verifies under `secret`.
    pub fn verifies(&self, secret: &str) -> bool {
        let ts = self.header("webhook-timestamp").parse().unwrap_or(0);
        let now = chrono::Utc::now().timestamp();
        card_gateway::webhooks::signing::verify(
            secret,
            self.event_id(),
            ts,
            &self.body,
            self.header("webhook-signature"),
            now,
            300,
        )
    }

    /// As a response, for the canary's searches (headers and body).
    pub fn as_resp(&self) -> Resp {
        let mut headers = HeaderMap::new();
        for (k, v) in &self.headers {
            if let (Ok(k), Ok(v)) =
                (reqwest::header::HeaderName::from_bytes(k.as_bytes()), reqwest::header::HeaderValue::from_str(v))
            {
                headers.append(k, v);
            }
        }
        Resp { status: StatusCode::OK, headers, text: self.text(), json: Value::Null }
    }
}

/// A local webhook receiver on 127.0.0.1:0: answers every POST 200 and keeps what it got.
pub struct Receiver {
    pub url: String,
    got: Arc<Mutex<Vec<Received>>>,
    handle: actix_web::dev::ServerHandle,
}

async fn receive(
    req: actix_web::HttpRequest,
    body: actix_web::web::Bytes,
    got: actix_web::web::Data<Mutex<Vec<Received>>>,
) -> actix_web::HttpResponse {
    let headers =
        req.headers().iter().map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned())).collect();
    got.lock().push(Received { headers, body: body.to_vec() });
    actix_web::HttpResponse::Ok().finish()
}

impl Receiver {
    pub async fn start() -> Self {
        let got: Arc<Mutex<Vec<Received>>> = Arc::default();
        let data = actix_web::web::Data::from(got.clone());
        let server = actix_web::HttpServer::new(move || {
            actix_web::App::new().app_data(data.clone()).default_service(actix_web::web::to(receive))
        })
        .workers(1)
        .disable_signals()
        .bind("127.0.0.1:0")
        .unwrap();
        let port = server.addrs()[0].port();
        let server = server.run();
        let handle = server.handle();
        tokio::spawn(server);
        Self { url: format!("http://127.0.0.1:{port}/hook"), got, handle }
    }

    pub fn got(&self) -> Vec<Received> {
        self.got.lock().clone()
    }

    /// Waits until a delivery of `event_id` arrived; returns every delivery of it so far.
    pub async fn wait_for_event(&self, event_id: &str) -> Vec<Received> {
        eventually(&format!("a delivery of {event_id}"), EVENTUALLY, || async {
            let d: Vec<Received> = self.got().into_iter().filter(|r| r.event_id() == event_id).collect();
            (!d.is_empty()).then_some(d)
        })
        .await
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        drop(self.handle.stop(false));
    }
}

/// Registers a webhook endpoint for the tenant of `token`; returns (id, secret).
pub async fn create_endpoint(app: &TestApp, token: &str, url: &str) -> (String, String) {
    let r = app.post("/v1/webhook-endpoints", token, json!({"url": url, "description": "security suite"})).await;
    assert_eq!(r.status, StatusCode::CREATED, "create webhook endpoint: {}", r.text);
    (r.json["id"].as_str().unwrap().to_owned(), r.json["secret"].as_str().unwrap().to_owned())
}

/// Every event of the tenant of `token` matching `query` (`type=…&object_id=…`), newest first,
/// following cursors.
pub async fn all_events(app: &TestApp, token: &str, query: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut path = format!("/v1/events?limit=100&{query}");
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let r = app.get(&path, token).await;
        assert_eq!(r.status, StatusCode::OK, "GET {path}: {}", r.text);
        out.extend(r.json["data"].as_array().unwrap().iter().cloned());
        match r.json["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return out,
        }
    }
}

/// A purchase on `card` at the platform, which reports it with an encrypted `card_transaction`
/// webhook; waits until the gateway logged it for the card's owner and returns the event.
pub async fn card_transaction_event(app: &TestApp, owner: &str, card: &str, amount: Decimal) -> Value {
    let spec = AuthorizationSpec { amount, merchant_name: Some("Security Suite Shop".into()), ..Default::default() };
    let tx = app.sim.authorize(card, &spec).unwrap();
    let query = format!("type=card.transaction&object_id={card}");
    eventually(&format!("the event of transaction {}", tx.record_no), EVENTUALLY, || async {
        all_events(app, owner, &query).await.into_iter().find(|e| e["data"]["id"] == tx.record_no.as_str())
    })
    .await
}

/// Waits until every webhook the simulator has emitted is acknowledged (the gateway answers
/// `SUCCESS` only once the event is recorded) or has given up.
pub async fn webhooks_settled(app: &TestApp) {
    let settled =
        app.sim.wait_until(EVENTUALLY, |s| s.webhooks.iter().all(|r| r.acknowledged > 0 || r.gave_up > 0)).await;
    assert!(settled, "the simulator's webhooks did not settle within {EVENTUALLY:?}: {:?}", app.sim.state().webhooks);
}

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
    /// A second physical card that stays pending activation, for the activation test helpers.
    pub physical_pending: String,
    pub operation: String,
    /// A transaction (an authorisation on `card`: `event`'s), for the settlement and refund helpers.
    pub transaction: String,
    /// A second authorisation on `card`, for the reversal helper (a settled one cannot be reversed).
    pub transaction_to_reverse: String,
    /// A crypto deposit order, for the payment helper.
    pub deposit: String,
    /// An event in the tenant's log (a card transaction on `card`).
    pub event: String,
    /// A webhook endpoint, pointing at `receiver_url`.
    pub endpoint: String,
    /// The signing secret `endpoint` was created with.
    pub endpoint_secret: String,
    /// A second endpoint, for `DELETE /v1/webhook-endpoints/{id}`.
    pub endpoint_to_delete: String,
    /// Where created endpoints point (the suite's receiver; a closed loopback port when none).
    pub receiver_url: String,
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
            physical_pending: "9999000000000000011".into(),
            operation: "op_9999000000000000007".into(),
            transaction: "9999000000000000012".into(),
            transaction_to_reverse: "9999000000000000013".into(),
            deposit: "9999000000000000014".into(),
            event: "evt_99990000000000000000008".into(),
            endpoint: "we_99990000000000000000009".into(),
            endpoint_secret: String::new(),
            endpoint_to_delete: "we_99990000000000000000010".into(),
            // Port 9 (discard): nothing answers, so nothing is ever delivered anywhere.
            receiver_url: "http://127.0.0.1:9/hook".into(),
        }
    }

    /// One object of every kind, created by the tenant of `token` (which needs every tenant scope);
    /// its webhook endpoints point at `receiver`.
    pub async fn create(app: &TestApp, token: &str, receiver: &Receiver) -> Self {
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
        let kit = format!("KIT{}", rand_digits(6));
        let r = app
            .post("/v1/physical-cards", token, json!({"cardholder_id": holder, "kit_number": kit, "currency": "USD"}))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "assign physical card: {}", r.text);
        let physical_pending = r.json["id"].as_str().unwrap().to_owned();
        let r = app
            .post("/v1/crypto/deposits", token, json!({"amount": "10.00", "currency": "USDT", "chain": "TRON"}))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "crypto deposit: {}", r.text);
        let deposit = r.json["id"].as_str().unwrap().to_owned();
        let r = app.post(&format!("/v1/cards/{card}/recharges"), token, json!({"amount": "1.00"})).await;
        assert_eq!(r.status, StatusCode::OK, "recharge: {}", r.text);
        let operation = r.json["id"].as_str().unwrap().to_owned();
        let (endpoint, endpoint_secret) = create_endpoint(app, token, &receiver.url).await;
        let (endpoint_to_delete, _) = create_endpoint(app, token, &receiver.url).await;
        let event = card_transaction_event(app, token, &card, Decimal::new(100, 2)).await;
        let transaction = event["data"]["id"].as_str().unwrap().to_owned();
        let event = event["id"].as_str().unwrap().to_owned();
        let spec = AuthorizationSpec { amount: Decimal::new(100, 2), ..Default::default() };
        let transaction_to_reverse = app.sim.authorize(&card, &spec).unwrap().record_no;
        // The platform's notifications about these objects arrive on their own time; a test that
        // compares a tenant's log before and after something must not see them land in between.
        webhooks_settled(app).await;
        Self {
            card,
            card_to_cancel,
            group,
            holder,
            holder_to_delete,
            physical,
            physical_pending,
            operation,
            transaction,
            transaction_to_reverse,
            deposit,
            event,
            endpoint,
            endpoint_secret,
            endpoint_to_delete,
            receiver_url: receiver.url.clone(),
        }
    }

    pub fn all(&self) -> Vec<&str> {
        vec![
            &self.card,
            &self.card_to_cancel,
            &self.group,
            &self.holder,
            &self.holder_to_delete,
            &self.physical,
            &self.physical_pending,
            &self.operation,
            &self.transaction,
            &self.transaction_to_reverse,
            &self.deposit,
            &self.event,
            &self.endpoint,
            &self.endpoint_to_delete,
        ]
    }
}

/// A concrete request for one route.
#[derive(Debug, Clone)]
pub struct Sample {
    pub method: Method,
    pub path: String,
    pub body: Option<Value>,
    /// A deliberately unauthentic body (the inbound webhook's, which its envelope authenticates, not a
    /// token): the answer is a refusal even where the route is reachable.
    pub junk: bool,
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
        ("GET", "/healthz") | ("GET", "/livez") | ("GET", "/readyz") | ("GET", "/metrics") => {
            (route.path.to_owned(), None)
        }
        ("GET", "/v1/card-bins") | ("GET", "/v1/scenes") => (route.path.to_owned(), None),
        ("GET", "/v1/reference/{table}") => ("/v1/reference/currencies".to_owned(), None),

        ("POST", "/v1/cards") => {
            (route.path.to_owned(), Some(json!({"bin": "222929", "currency": "USD", "limit": "1.00"})))
        }
        ("GET", "/v1/cards") => (route.path.to_owned(), None),
        ("GET", "/v1/cards/{id}") => (format!("/v1/cards/{}", ids.card), None),
        ("GET", "/v1/cards/{id}/sensitive") => (format!("/v1/cards/{}/sensitive", ids.card), None),
        ("PATCH", "/v1/cards/{id}") => {
            (format!("/v1/cards/{}", ids.card), Some(json!({"alias": "renamed", "metadata": {"by": "sample"}})))
        }
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
            (format!("/v1/card-groups/{}", ids.group), Some(json!({"status": "frozen", "metadata": {"by": "sample"}})))
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
        ("PATCH", "/v1/cardholders/{id}") => {
            (format!("/v1/cardholders/{}", ids.holder), Some(json!({"metadata": {"by": "sample"}})))
        }
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

        ("POST", "/v1/test-helpers/cards/{id}/authorizations") => (
            format!("/v1/test-helpers/cards/{}/authorizations", ids.card),
            Some(json!({"amount": "1.00", "merchant_name": "Security Suite Shop"})),
        ),
        ("POST", "/v1/test-helpers/cards/{id}/3ds-otp") => {
            (format!("/v1/test-helpers/cards/{}/3ds-otp", ids.card), Some(json!({"amount": "1.00"})))
        }
        ("POST", "/v1/test-helpers/transactions/{id}/settlement") => {
            (format!("/v1/test-helpers/transactions/{}/settlement", ids.transaction), Some(json!({})))
        }
        ("POST", "/v1/test-helpers/transactions/{id}/reversal") => {
            (format!("/v1/test-helpers/transactions/{}/reversal", ids.transaction_to_reverse), Some(json!({})))
        }
        ("POST", "/v1/test-helpers/transactions/{id}/refund") => {
            (format!("/v1/test-helpers/transactions/{}/refund", ids.transaction), Some(json!({"amount": "0.50"})))
        }
        ("POST", "/v1/test-helpers/physical-cards/{id}/activation-code") => {
            (format!("/v1/test-helpers/physical-cards/{}/activation-code", ids.physical_pending), Some(json!({})))
        }
        ("POST", "/v1/test-helpers/physical-cards/{id}/activation-result") => (
            format!("/v1/test-helpers/physical-cards/{}/activation-result", ids.physical_pending),
            Some(json!({"success": true})),
        ),
        ("POST", "/v1/test-helpers/crypto/deposits/{id}/payment") => {
            (format!("/v1/test-helpers/crypto/deposits/{}/payment", ids.deposit), Some(json!({})))
        }
        ("POST", "/v1/test-helpers/operations/{id}/complete") => {
            (format!("/v1/test-helpers/operations/{}/complete", ids.operation), Some(json!({})))
        }

        ("POST", "/webhooks/merchant") => {
            return Sample {
                method: method_of(route),
                path: route.path.to_owned(),
                body: Some(junk_webhook()),
                junk: true,
            };
        }
        ("GET", "/v1/events") | ("GET", "/v1/events/stream") => (route.path.to_owned(), None),
        ("GET", "/v1/events/{id}") => (format!("/v1/events/{}", ids.event), None),
        ("GET", "/v1/dead-letter-events") => (route.path.to_owned(), None),
        ("POST", "/v1/webhook-endpoints") => (
            route.path.to_owned(),
            Some(
                json!({"url": ids.receiver_url, "description": "security sample", "event_types": ["card.transaction"]}),
            ),
        ),
        ("GET", "/v1/webhook-endpoints") => (route.path.to_owned(), None),
        ("GET", "/v1/webhook-endpoints/{id}") => (format!("/v1/webhook-endpoints/{}", ids.endpoint), None),
        ("PATCH", "/v1/webhook-endpoints/{id}") => {
            (format!("/v1/webhook-endpoints/{}", ids.endpoint), Some(json!({"description": "renamed"})))
        }
        ("DELETE", "/v1/webhook-endpoints/{id}") => (format!("/v1/webhook-endpoints/{}", ids.endpoint_to_delete), None),
        ("POST", "/v1/webhook-endpoints/{id}/rotate-secret") => {
            (format!("/v1/webhook-endpoints/{}/rotate-secret", ids.endpoint), Some(json!({})))
        }
        ("GET", "/v1/webhook-endpoints/{id}/deliveries") => {
            (format!("/v1/webhook-endpoints/{}/deliveries", ids.endpoint), None)
        }
        ("POST", "/v1/webhook-endpoints/{id}/replay") => {
            (format!("/v1/webhook-endpoints/{}/replay", ids.endpoint), Some(json!({"event_ids": [ids.event]})))
        }

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
    Sample { method: method_of(route), path, body, junk: false }
}

/// The merchant number the test gateway serves (`upstream.merchant_no` of the defaults).
pub fn merchant_no() -> &'static str {
    static NO: OnceLock<String> = OnceLock::new();
    NO.get_or_init(|| Settings::defaults().unwrap().upstream.merchant_no)
}

/// A platform notification addressed to us whose sealed `data` is not ciphertext of the platform key.
pub fn junk_webhook() -> Value {
    json!({"type": "card_transaction", "data": "ab".repeat(256), "version": "1.0.0", "userNo": merchant_no()})
}

/// `route`'s method as reqwest's.
pub fn method_of(route: &RoutePolicy) -> Method {
    Method::from_bytes(route.method.as_str().as_bytes()).unwrap()
}

/// Sends `s` with `token`; state-changing routes get `key` (a fresh one when `None`).
pub async fn send(app: &TestApp, route: &RoutePolicy, s: &Sample, token: Option<&str>, key: Option<&str>) -> Resp {
    let fresh = uuid::Uuid::new_v4().to_string();
    let key = if route.idempotent { Some(key.unwrap_or(&fresh)) } else { None };
    request(app, s.method.clone(), &s.path, token, key, s.body.clone()).await
}

/// Whether a response is a Server-Sent Events stream.
pub fn is_event_stream(headers: &HeaderMap) -> bool {
    headers.get("content-type").and_then(|v| v.to_str().ok()).is_some_and(|ct| ct.starts_with("text/event-stream"))
}

/// Like `TestApp::send`, but never hangs: the status and headers must come within
/// [`HEADERS_TIMEOUT`], a finite body within [`BODY_TIMEOUT`], and an event stream (which never ends
/// by itself) is not read at all — the answer keeps its status and headers, with an empty body, and
/// dropping the response closes the stream.
pub async fn request(
    app: &TestApp,
    method: Method,
    path: &str,
    token: Option<&str>,
    key: Option<&str>,
    body: Option<Value>,
) -> Resp {
    let mut req = app.client.request(method.clone(), format!("{}{path}", app.base));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(k) = key {
        req = req.header("Idempotency-Key", k);
    }
    if let Some(b) = body {
        req = req.header("content-type", "application/json").body(b.to_string());
    }
    let res = tokio::time::timeout(HEADERS_TIMEOUT, req.send())
        .await
        .unwrap_or_else(|_| panic!("{method} {path}: no status and headers within {HEADERS_TIMEOUT:?}"))
        .unwrap_or_else(|e| panic!("{method} {path}: request failed: {e}"));
    let status = res.status();
    let headers = res.headers().clone();
    if is_event_stream(&headers) {
        return Resp { status, headers, text: String::new(), json: Value::Null };
    }
    let text = tokio::time::timeout(BODY_TIMEOUT, res.text())
        .await
        .unwrap_or_else(|_| panic!("{method} {path}: {status} body not complete within {BODY_TIMEOUT:?}"))
        .unwrap_or_default();
    let json = serde_json::from_str(&text).unwrap_or(Value::Null);
    Resp { status, headers, text, json }
}

/// One Server-Sent Events frame with data.
#[derive(Debug, Clone)]
pub struct Frame {
    pub id: String,
    pub event: String,
    pub data: Value,
}

/// An open `GET /v1/events/stream`.
pub struct EventStream {
    resp: reqwest::Response,
    buf: String,
    /// Everything read so far, comments included (for the canary's searches).
    pub raw: String,
}

impl EventStream {
    /// Opens the stream of the tenant of `token`; `last_event_id` resumes after a position (`0-0`:
    /// from the start of the retained log), `None` starts at the present.
    pub async fn open(app: &TestApp, token: &str, last_event_id: Option<&str>) -> Self {
        let mut req = app.client.get(format!("{}/v1/events/stream", app.base)).bearer_auth(token);
        if let Some(l) = last_event_id {
            req = req.header("Last-Event-ID", l);
        }
        let resp = tokio::time::timeout(HEADERS_TIMEOUT, req.send())
            .await
            .expect("the event stream answers in time")
            .expect("event stream request");
        assert_eq!(resp.status(), StatusCode::OK, "GET /v1/events/stream");
        assert!(is_event_stream(resp.headers()), "{:?}", resp.headers());
        Self { resp, buf: String::new(), raw: String::new() }
    }

    /// The next frame with data (comments skipped), or `None` when none came before `deadline`.
    pub async fn next_until(&mut self, deadline: Instant) -> Option<Frame> {
        loop {
            while let Some(i) = self.buf.find("\n\n") {
                let block: String = self.buf.drain(..i + 2).collect();
                let (mut id, mut event, mut data) = (String::new(), String::new(), String::new());
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("id: ") {
                        id = v.to_owned();
                    } else if let Some(v) = line.strip_prefix("event: ") {
                        event = v.to_owned();
                    } else if let Some(v) = line.strip_prefix("data: ") {
                        data.push_str(v);
                    }
                }
                if !data.is_empty() {
                    let data =
                        serde_json::from_str(&data).unwrap_or_else(|e| panic!("frame data is not JSON ({e}): {data}"));
                    return Some(Frame { id, event, data });
                }
            }
            let left = deadline.checked_duration_since(Instant::now())?;
            match tokio::time::timeout(left, self.resp.chunk()).await {
                Ok(Ok(Some(bytes))) => {
                    let text = String::from_utf8_lossy(&bytes);
                    self.raw.push_str(&text);
                    self.buf.push_str(&text);
                }
                Ok(Ok(None)) => panic!("the event stream ended"),
                Ok(Err(e)) => panic!("the event stream failed: {e}"),
                Err(_) => return None,
            }
        }
    }

    /// Frames until `done` says enough (or panics after [`EVENTUALLY`]).
    pub async fn read_until(&mut self, what: &str, mut done: impl FnMut(&[Frame]) -> bool) -> Vec<Frame> {
        let deadline = Instant::now() + EVENTUALLY;
        let mut frames = Vec::new();
        while !done(&frames) {
            match self.next_until(deadline).await {
                Some(f) => frames.push(f),
                None => panic!("event stream: {what} not within {EVENTUALLY:?}; got {frames:?}"),
            }
        }
        frames
    }
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

/// A time of yesterday as the platform writes it (its UTC+8 wall clock, `yyyy-MM-dd HH:mm:ss`), with
/// the same instant in RFC 3339 UTC: notifications carry recent signed times (older ones are stale).
pub fn platform_time() -> (String, String) {
    let at = chrono::Utc::now() - chrono::Duration::days(1);
    let at = at - chrono::Duration::nanoseconds(i64::from(chrono::Timelike::nanosecond(&at)));
    let zone = chrono::FixedOffset::east_opt(8 * 3600).unwrap();
    (at.with_timezone(&zone).format("%Y-%m-%d %H:%M:%S").to_string(), at.format("%Y-%m-%dT%H:%M:%SZ").to_string())
}

/// [`platform_time`]'s wall-clock form.
pub fn recent() -> String {
    platform_time().0
}
