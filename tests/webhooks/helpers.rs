//! Test support: a real gateway on 127.0.0.1:0, a platform-side sealer (the development platform key)
//! and a log capture. Receivers and the SSE reader are in `receivers.rs`.

use std::{
    io::Write,
    sync::{Arc, OnceLock},
    time::{Duration, Instant},
};

use card_gateway::{
    auth::{Scope, dev_tokens},
    config::{LogFormat, Settings, stores::StoreKind, upstream::UpstreamMode},
    dev_keys,
    envelope::{EnvelopeCodec, PrivateKey},
    startup::Application,
    tenancy::{ObjectKind, ObjectMeta, TenantId},
};
use parking_lot::Mutex;
use serde_json::{Value, json};

/// Everything the gateway logged in this test binary.
pub static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();

#[derive(Clone)]
struct LogWriter(Arc<Mutex<Vec<u8>>>);

impl Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

pub fn captured_logs() -> String {
    LOGS.get().map(|l| String::from_utf8_lossy(&l.lock()).into_owned()).unwrap_or_default()
}

fn init_logs() {
    LOGS.get_or_init(|| {
        let buf = Arc::new(Mutex::new(Vec::new()));
        let w = LogWriter(buf.clone());
        card_gateway::telemetry::init_with_writer("info,card_gateway=debug", LogFormat::Json, move || w.clone());
        buf
    });
}

/// Settings for tests: fast delivery schedule, private targets allowed, no real upstream unless `sim`.
pub fn settings(sim: bool) -> Settings {
    let mut s = Settings::defaults().unwrap();
    s.server.listen = "127.0.0.1:0".into();
    s.server.workers = 2;
    s.upstream.health_probe_s = 0;
    if sim {
        s.upstream.mode = UpstreamMode::Simulator;
        s.simulator.webhook_retry_ms = vec![50, 100, 200, 400];
    } else {
        s.upstream.mode = UpstreamMode::Http;
        // Nothing listens here: upstream calls fail fast (the webhook path must not need them).
        s.upstream.base_url = "http://127.0.0.1:9".into();
        s.upstream.timeout_ms = 500;
        s.upstream.read_retries = 0;
    }
    let w = &mut s.webhooks;
    w.allow_private_targets = true;
    w.delivery_schedule_ms = vec![50, 100, 150, 200, 300, 400, 500];
    w.delivery_jitter = 0.1;
    w.delivery_timeout_ms = 1000;
    w.delivery_lease_ms = 2000;
    w.delivery_poll_ms = 50;
    w.sse_poll_ms = 200;
    w.sse_keepalive_s = 1;
    s
}

pub fn with_redis(mut s: Settings, url: &str, prefix: &str) -> Settings {
    s.redis.url = card_gateway::sensitive::SecretString::new(url);
    s.redis.key_prefix = prefix.to_owned();
    s.redis.timeout_ms = 2000;
    s.tenancy.store = StoreKind::Redis;
    s.webhooks.event_store = StoreKind::Redis;
    s
}

pub struct TestApp {
    pub base: String,
    pub http: reqwest::Client,
    pub settings: Settings,
    pub app_state: actix_web::web::Data<card_gateway::state::AppState>,
    /// The webhook hub (its own app data, not part of `AppState`).
    pub hub: actix_web::web::Data<card_gateway::webhooks::WebhookHub>,
    handle: actix_web::dev::ServerHandle,
    done: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
    platform: EnvelopeCodec,
    /// The embedded simulator's base URL (its control API is under `/_sim`).
    pub sim: Option<String>,
}

impl TestApp {
    pub async fn spawn(settings: Settings) -> Self {
        init_logs();
        let app = Application::build(settings.clone()).await.expect("gateway starts");
        let base = format!("http://127.0.0.1:{}", app.port());
        let handle = app.handle();
        let app_state = app.state();
        let hub = app.webhooks();
        let sim = app.simulator().map(|s| s.base_url());
        let done = tokio::spawn(app.run_until_stopped());
        let platform = EnvelopeCodec::new(
            PrivateKey::parse(dev_keys::PLATFORM_PRIVATE_PEM).unwrap(),
            PrivateKey::parse(dev_keys::MERCHANT_PRIVATE_PEM).unwrap().public_key().unwrap(),
        );
        Self { base, http: reqwest::Client::new(), settings, app_state, hub, handle, done: Some(done), platform, sim }
    }

    /// Stops the server and waits for its delivery worker to stop.
    pub async fn stop(mut self) {
        self.handle.stop(false).await;
        if let Some(d) = self.done.take() {
            let _ = d.await;
        }
    }

    /// Calls the simulator's control API (platform-side events: transactions, OTPs, payments…).
    pub async fn sim(&self, path: &str, body: Value) -> (u16, Value) {
        let base = self.sim.as_ref().expect("started with the simulator");
        let r = self
            .http
            .post(format!("{base}/_sim{path}"))
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, serde_json::from_slice(&r.bytes().await.unwrap()).unwrap_or(Value::Null))
    }

    /// Waits until an operation is final; returns it.
    pub async fn final_operation(&self, tenant: &str, op_id: &str) -> Value {
        let token = self.tenant_token(tenant);
        wait_for(Duration::from_secs(10), || async {
            let (_, op) = self.get(&token, &format!("/v1/operations/{op_id}")).await;
            (op["status"] == "succeeded" || op["status"] == "failed").then_some(op)
        })
        .await
        .unwrap_or_else(|| panic!("operation {op_id} did not finish"))
    }

    pub fn token(&self, tenant: &str, scopes: &[Scope]) -> String {
        dev_tokens::mint(&self.settings, tenant, scopes, 600).unwrap()
    }

    pub fn tenant_token(&self, tenant: &str) -> String {
        self.token(tenant, &Scope::tenant_scopes())
    }

    /// A webhook body as the platform sends it: `data` sealed with the platform private key.
    pub fn sealed(&self, kind: &str, data: &Value) -> Vec<u8> {
        let hex = self.platform.seal(data).unwrap();
        serde_json::to_vec(
            &json!({"type": kind, "data": hex, "version": "1.0.0", "userNo": self.settings.upstream.merchant_no}),
        )
        .unwrap()
    }

    pub async fn post_raw(&self, body: Vec<u8>) -> (u16, String) {
        let r = self
            .http
            .post(format!("{}/webhooks/merchant", self.base))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    }

    /// Posts a sealed notification; returns (status, body).
    pub async fn notify(&self, kind: &str, data: &Value) -> (u16, String) {
        self.post_raw(self.sealed(kind, data)).await
    }

    /// Records `card_id` as `tenant`'s (what issuing through the gateway does).
    pub async fn own_card(&self, tenant: &str, card_id: &str) {
        let t = TenantId::parse(tenant).unwrap();
        let meta = ObjectMeta { created_ms: chrono::Utc::now().timestamp_millis(), ..Default::default() };
        assert!(self.app_state.ownership.claim(&t, ObjectKind::Card, card_id, &meta).await.unwrap());
    }

    pub async fn get(&self, token: &str, path: &str) -> (u16, Value) {
        let r = self.http.get(format!("{}{path}", self.base)).bearer_auth(token).send().await.unwrap();
        let status = r.status().as_u16();
        (status, serde_json::from_slice(&r.bytes().await.unwrap()).unwrap_or(Value::Null))
    }

    pub async fn send(
        &self,
        method: reqwest::Method,
        token: &str,
        path: &str,
        key: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut rb =
            self.http.request(method, format!("{}{path}", self.base)).bearer_auth(token).header("Idempotency-Key", key);
        if let Some(b) = body {
            rb = rb.header("content-type", "application/json").body(serde_json::to_vec(&b).unwrap());
        }
        let r = rb.send().await.unwrap();
        let status = r.status().as_u16();
        (status, serde_json::from_slice(&r.bytes().await.unwrap()).unwrap_or(Value::Null))
    }

    /// Registers an endpoint; returns (id, secret).
    pub async fn endpoint(&self, tenant: &str, url: &str, types: &[&str]) -> (String, String) {
        let (status, body) = self
            .send(
                reqwest::Method::POST,
                &self.tenant_token(tenant),
                "/v1/webhook-endpoints",
                &uuid::Uuid::new_v4().to_string(),
                Some(json!({"url": url, "event_types": types})),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        (body["id"].as_str().unwrap().to_owned(), body["secret"].as_str().unwrap().to_owned())
    }

    /// All of a tenant's events (newest first), following cursors.
    pub async fn events(&self, tenant: &str, query: &str) -> Vec<Value> {
        let token = self.tenant_token(tenant);
        let mut out = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut path = format!("/v1/events?limit=100{query}");
            if let Some(c) = &cursor {
                path.push_str(&format!("&cursor={c}"));
            }
            let (status, body) = self.get(&token, &path).await;
            assert_eq!(status, 200, "{body}");
            out.extend(body["data"].as_array().unwrap().iter().cloned());
            match body["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => return out,
            }
        }
    }

    /// Waits until the tenant has at least `n` events matching `query`.
    pub async fn wait_events(&self, tenant: &str, query: &str, n: usize) -> Vec<Value> {
        wait_for(Duration::from_secs(10), || async { Some(self.events(tenant, query).await).filter(|e| e.len() >= n) })
            .await
            .unwrap_or_else(|| panic!("{tenant} did not get {n} events ({query})"))
    }
}

/// Polls `f` until it yields `Some` or the time runs out.
pub async fn wait_for<T, F, Fut>(limit: Duration, mut f: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let until = Instant::now() + limit;
    loop {
        if let Some(v) = f().await {
            return Some(v);
        }
        if Instant::now() > until {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// A `card_transaction` payload.
pub fn transaction(record_no: &str, card_id: &str, amount: &str) -> Value {
    json!({
        "recordNo": record_no, "cardId": card_id, "transactionTime": recent(),
        "transCurrency": "USD", "transCurrencyAmt": amount, "localCurrency": "USD", "localCurrencyAmt": amount,
        "merchantName": "Test Shop", "merchantCategoryCode": "5999", "transType": "1", "transStatus": "1",
        "transCategory": 1, "respCode": "000000", "respCodeDesc": "approved"
    })
}

pub use crate::receivers::{Behaviour, Receiver, SseReader};

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
