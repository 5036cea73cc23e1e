//! Black-box test support shared by the integration test binaries: start the real gateway on
//! 127.0.0.1:0 with the embedded simulator (real RSA envelope), mint tokens, make requests, and
//! capture every log line of the run (for the "no PAN/CVV in logs" checks).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::{
    io::Write,
    sync::{Arc, Mutex, Once, OnceLock},
    time::Duration,
};

use card_gateway::{
    auth::{Scope, dev_tokens},
    config::{LogFormat, Settings},
    simulator::SimHandle,
    startup::Application,
    state::AppState,
};
use reqwest::{Method, StatusCode, header::HeaderMap};
use serde_json::{Value, json};

static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
static INIT: Once = Once::new();

#[derive(Clone)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if std::env::var_os("TEST_LOG").is_some() {
            let _ = std::io::stderr().write_all(buf);
        }
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Installs one process-wide subscriber at debug level whose output is kept in memory.
pub fn capture_logs() {
    INIT.call_once(|| {
        let buf = LOGS.get_or_init(|| Arc::new(Mutex::new(Vec::new()))).clone();
        card_gateway::telemetry::init_with_writer(
            "debug,actix_server=info,actix_http=info,h2=info,hyper=info,reqwest=info",
            LogFormat::Json,
            move || Capture(buf.clone()),
        );
    });
}

/// Everything logged so far in this test process.
pub fn captured_logs() -> String {
    LOGS.get().map(|b| String::from_utf8_lossy(&b.lock().unwrap()).into_owned()).unwrap_or_default()
}

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub sim: Arc<SimHandle>,
    pub state: actix_web::web::Data<AppState>,
    webhooks: actix_web::web::Data<card_gateway::webhooks::WebhookHub>,
    pub verifier: actix_web::web::Data<card_gateway::auth::verifier::JwtVerifier>,
    pub settings: Settings,
    server: actix_web::dev::ServerHandle,
}

/// Test defaults: port 0, generous rate limits, a short upstream timeout.
pub fn test_settings() -> Settings {
    let mut s = Settings::defaults().unwrap();
    s.server.listen = "127.0.0.1:0".into();
    s.server.workers = 2;
    s.upstream.timeout_ms = 3_000;
    s.idempotency.lease_ms = 5_000;
    s.rate_limit.classes.read.rate_per_s = 10_000.0;
    s.rate_limit.classes.read.burst = 10_000;
    s.rate_limit.classes.write.rate_per_s = 10_000.0;
    s.rate_limit.classes.write.burst = 10_000;
    s.rate_limit.classes.sensitive.rate_per_s = 10_000.0;
    s.rate_limit.classes.sensitive.burst = 10_000;
    s.simulator.webhook_retry_ms = vec![50, 100];
    // Hermetic: an upstream-facts.toml left in the checkout by a real `upstream-check` must not change
    // how the tests' gateways resend (tests that need facts write their own file).
    s.upstream.facts_file = String::new();
    // No background platform probe: tests count platform calls. Tests of the probe turn it on.
    s.upstream.health_probe_s = 0;
    s.server.drain_delay_ms = 0;
    s
}

pub async fn spawn_app() -> TestApp {
    spawn_with(|_| {}).await
}

pub async fn spawn_with(configure: impl FnOnce(&mut Settings)) -> TestApp {
    let mut settings = test_settings();
    configure(&mut settings);
    spawn_settings(settings).await
}

pub async fn spawn_settings(settings: Settings) -> TestApp {
    spawn_inner(settings, None).await
}

/// Starts a gateway against an already running simulator (`upstream.mode = "http"`), so the platform
/// outlives gateway restarts.
pub async fn spawn_against(mut settings: Settings, sim: Arc<SimHandle>) -> TestApp {
    settings.upstream.mode = card_gateway::config::upstream::UpstreamMode::Http;
    settings.upstream.base_url = sim.base_url();
    spawn_inner(settings, Some(sim)).await
}

/// A standalone simulator built from `settings`.
pub async fn start_simulator(settings: &Settings) -> Arc<SimHandle> {
    let cfg = card_gateway::simulator::SimulatorConfig::from_settings(settings).unwrap();
    Arc::new(card_gateway::simulator::spawn(cfg, "127.0.0.1:0").await.unwrap())
}

async fn spawn_inner(settings: Settings, external: Option<Arc<SimHandle>>) -> TestApp {
    capture_logs();
    let app = Application::build(settings.clone()).await.expect("gateway starts");
    let base = format!("http://127.0.0.1:{}", app.port());
    let sim = external.or_else(|| app.simulator()).expect("a simulator");
    let state = app.state();
    let webhooks = app.webhooks();
    let verifier = app.verifier();
    let server = app.handle();
    tokio::spawn(app.run_until_stopped());
    let client = reqwest::Client::builder().timeout(Duration::from_secs(20)).build().unwrap();
    TestApp { base, client, sim, state, webhooks, verifier, settings, server }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let h = self.server.clone();
        // Stop without waiting; the runtime may already be shutting down.
        drop(h.stop(false));
    }
}

/// A response, decoded.
#[derive(Debug)]
pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub text: String,
    pub json: Value,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
    pub fn code(&self) -> &str {
        self.json["code"].as_str().unwrap_or("")
    }
    pub fn is_problem(&self) -> bool {
        self.header("content-type") == Some("application/problem+json")
    }
}

pub fn all_scopes() -> Vec<Scope> {
    Scope::ALL.to_vec()
}

impl TestApp {
    /// The SIGTERM path: readiness 503, streams told to reconnect, then a graceful stop.
    pub async fn drain(&self) {
        card_gateway::startup::drain(&self.state, &self.webhooks, &self.server).await;
    }

    /// Stops the server abruptly (connections and in-flight requests dropped), as a crash would.
    pub async fn crash(&self) {
        self.server.stop(false).await;
    }

    pub fn token(&self, tenant: &str, scopes: &[Scope]) -> String {
        dev_tokens::mint(&self.settings, tenant, scopes, 3600).unwrap()
    }

    /// A token with every scope.
    pub fn admin(&self, tenant: &str) -> String {
        self.token(tenant, &Scope::ALL)
    }

    pub async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        key: Option<&str>,
        body: Option<Value>,
    ) -> Resp {
        let mut req = self.client.request(method, format!("{}{}", self.base, path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(k) = key {
            req = req.header("Idempotency-Key", k);
        }
        if let Some(b) = body {
            req = req.header("content-type", "application/json").body(b.to_string());
        }
        let res = req.send().await.expect("request sent");
        let status = res.status();
        let headers = res.headers().clone();
        let text = res.text().await.unwrap_or_default();
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        Resp { status, headers, text, json }
    }

    pub async fn get(&self, path: &str, token: &str) -> Resp {
        self.send(Method::GET, path, Some(token), None, None).await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> Resp {
        let key = uuid::Uuid::new_v4().to_string();
        self.send(Method::POST, path, Some(token), Some(&key), Some(body)).await
    }

    pub async fn post_key(&self, path: &str, token: &str, key: &str, body: Value) -> Resp {
        self.send(Method::POST, path, Some(token), Some(key), Some(body)).await
    }

    pub async fn patch(&self, path: &str, token: &str, body: Value) -> Resp {
        let key = uuid::Uuid::new_v4().to_string();
        self.send(Method::PATCH, path, Some(token), Some(&key), Some(body)).await
    }

    pub async fn delete(&self, path: &str, token: &str) -> Resp {
        let key = uuid::Uuid::new_v4().to_string();
        self.send(Method::DELETE, path, Some(token), Some(&key), None).await
    }

    /// Issues a regular USD card with `limit` and returns its id.
    pub async fn create_card(&self, token: &str, limit: &str) -> String {
        let r = self.post("/v1/cards", token, json!({"bin": "222929", "currency": "USD", "limit": limit})).await;
        assert_eq!(r.status, StatusCode::CREATED, "create card: {}", r.text);
        r.json["id"].as_str().unwrap().to_owned()
    }

    pub async fn create_group(&self, token: &str, amount: &str) -> String {
        let r = self.post("/v1/card-groups", token, json!({"currency": "USD", "amount": amount})).await;
        assert_eq!(r.status, StatusCode::CREATED, "create group: {}", r.text);
        r.json["id"].as_str().unwrap().to_owned()
    }

    /// Registers a cardholder with unique email/mobile and returns its id.
    pub async fn create_cardholder(&self, token: &str) -> String {
        let n = rand_digits(9);
        let body = json!({
            "first_name": "Ada", "last_name": "Lovelace", "email": format!("ada{n}@example.com"),
            "mobile_prefix": "1", "mobile": format!("50{n}"), "birth_date": "1990-12-10", "country": "USA",
            "billing": {"state": "AR", "city": "Little Rock", "address": "1 Main St", "zip": "72201"}
        });
        let r = self.post("/v1/cardholders", token, body).await;
        assert_eq!(r.status, StatusCode::CREATED, "create cardholder: {}", r.text);
        r.json["id"].as_str().unwrap().to_owned()
    }
}

pub fn rand_digits(n: usize) -> String {
    let u = uuid::Uuid::new_v4().as_u128();
    format!("{:0width$}", u % 10u128.pow(n as u32), width = n)
}
