//! Shared test support: a simulator with a client, request builders and a capturing webhook receiver.

use std::{
    collections::VecDeque,
    str::FromStr,
    sync::{Arc, Mutex},
    time::Duration,
};

use actix_web::{App, HttpResponse, HttpServer, dev::ServerHandle, web};
use card_gateway::{
    config::Settings,
    dev_keys,
    envelope::{EnvelopeCodec, PrivateKey, PublicKey},
    simulator::{SimHandle, SimulatorConfig, spawn},
    upstream::{
        MerchantClient, Operation, UpstreamError, UpstreamErrorKind,
        formats::WireClock,
        wire::{
            card::{CardApplyRequest, RechargeRequest},
            cardholder::CardholderApplyRequest,
            common::ReqNoOnly,
            group::GroupApplyRequest,
        },
    },
};
use chrono::{Datelike, Months, NaiveDate};
use rust_decimal::Decimal;
use serde_json::Value;

pub fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

/// Test settings: fast retries, no read retries (so a fault is seen once), a short client timeout.
pub fn settings() -> Settings {
    let mut s = Settings::defaults().unwrap();
    s.upstream.read_retries = 0;
    s.upstream.timeout_ms = 2000;
    s.simulator.workers = 1;
    s.simulator.webhook_retry_ms = vec![20, 40];
    s.simulator.webhook_timeout_ms = 1000;
    s.simulator.async_delay_ms = 30;
    s
}

pub fn merchant_codec() -> EnvelopeCodec {
    EnvelopeCodec::new(
        PrivateKey::parse(dev_keys::MERCHANT_PRIVATE_PEM).unwrap(),
        PublicKey::parse(dev_keys::PLATFORM_PUBLIC_PEM).unwrap(),
    )
}

pub struct Env {
    pub sim: SimHandle,
    pub client: MerchantClient,
    pub settings: Settings,
}

impl Env {
    pub fn today(&self) -> NaiveDate {
        WireClock::new(&self.settings.upstream.formats).unwrap().today()
    }

    pub fn date(&self, d: NaiveDate) -> String {
        WireClock::new(&self.settings.upstream.formats).unwrap().format_date(d)
    }

    /// A client with another timeout against the same simulator.
    pub fn client_with_timeout(&self, ms: u64) -> MerchantClient {
        let mut up = self.settings.upstream.clone();
        up.timeout_ms = ms;
        MerchantClient::new(&up, &self.sim.base_url(), merchant_codec()).unwrap()
    }

    /// A regular USD card on BIN 222929 with this limit; answers its id.
    pub async fn card(&self, limit: &str) -> String {
        let reply = self.client.card_apply(&self.apply(limit)).await.unwrap();
        reply.result.unwrap().card_id.unwrap()
    }

    /// A regular-card application for today → +2 years.
    pub fn apply(&self, limit: &str) -> CardApplyRequest {
        let today = self.today();
        CardApplyRequest {
            user_req_no: req_no(),
            local_currency: "USD".into(),
            start_date: self.date(today),
            end_date: self.date(today.checked_add_months(Months::new(24)).unwrap()),
            auth_limit_amount: Some(dec(limit)),
            enable_multi_use: Some(1),
            enable_currency_check: Some(0),
            card_alias: Some("test".into()),
            bin_range_id: Some("222929".into()),
            channel_type: None,
            group_id: None,
            card_user_id: None,
            scene_code: None,
            air_line_code: None,
        }
    }

    /// A shared sub-card application in `group_id` with this spending cap.
    pub fn sub_apply(&self, group_id: &str, limit: &str) -> CardApplyRequest {
        CardApplyRequest {
            bin_range_id: Some("493193".into()),
            channel_type: Some(2),
            group_id: Some(group_id.into()),
            auth_limit_amount: Some(dec(limit)),
            enable_currency_check: None,
            ..self.apply("1")
        }
    }

    /// A USD group holding `amount`; answers its id.
    pub async fn group(&self, amount: &str) -> String {
        let req = GroupApplyRequest {
            user_req_no: req_no(),
            local_currency: "USD".into(),
            auth_limit_amount: dec(amount),
            group_alias: None,
        };
        self.client.group_apply(&req).await.unwrap().result.unwrap().group_id.unwrap()
    }

    /// An enabled cardholder; answers its id.
    pub async fn holder(&self) -> String {
        self.client.cardholder_apply(&holder_req(self.today())).await.unwrap().result.unwrap().card_user_id
    }

    pub async fn recharge(&self, card_id: &str, amount: &str) -> Result<(), UpstreamError> {
        let req = RechargeRequest {
            user_req_no: req_no(),
            card_id: Some(card_id.into()),
            auth_limit_amount: dec(amount),
            channel_type: None,
            group_id: None,
        };
        self.client.card_recharge(&req).await.map(|_| ())
    }

    /// Raw JSON business parameters through the real envelope (for malformed requests).
    pub async fn raw(&self, op: Operation, body: Value) -> Result<Option<Value>, UpstreamError> {
        self.client.call::<Value, Value>(op, &body).await.map(|r| r.result)
    }
}

pub async fn start() -> Env {
    start_with(|_| {}).await
}

pub async fn start_with(tweak: impl FnOnce(&mut Settings)) -> Env {
    let mut settings = settings();
    tweak(&mut settings);
    let sim = spawn(SimulatorConfig::from_settings(&settings).unwrap(), "127.0.0.1:0").await.unwrap();
    let client = MerchantClient::new(&settings.upstream, &sim.base_url(), merchant_codec()).unwrap();
    Env { sim, client, settings }
}

pub fn req_no() -> String {
    format!("t-{}", uuid::Uuid::new_v4().simple())
}

pub fn req_no_only() -> ReqNoOnly {
    ReqNoOnly { user_req_no: req_no() }
}

/// A unique adult cardholder living in the USA.
pub fn holder_req(today: NaiveDate) -> CardholderApplyRequest {
    let n = uuid::Uuid::new_v4().as_u128();
    CardholderApplyRequest {
        user_req_no: req_no(),
        first_name: "Ada".into(),
        last_name: "Lovelace".into(),
        email: format!("ada{}@example.com", n % 1_000_000_000),
        mobile_prefix: "1".into(),
        mobile: format!("{:010}", n % 10_000_000_000),
        birth_date: format!("{}-05-17", today.year() - 30),
        country_code: "USA".into(),
        billing_state: "CA".into(),
        billing_city: "San Francisco".into(),
        billing_address: "1 Market St".into(),
        billing_zip_code: "94105".into(),
        ..CardholderApplyRequest::default()
    }
}

/// Asserts a business refusal with this code.
#[track_caller]
pub fn assert_business<T: std::fmt::Debug>(r: Result<T, UpstreamError>, code: &str) {
    match r {
        Err(UpstreamError { kind: UpstreamErrorKind::Business { code: got, .. }, .. }) => {
            assert_eq!(got, code, "wrong business code")
        }
        other => panic!("expected business error {code}, got {other:?}"),
    }
}

/// One webhook as the merchant sees it, `data` opened with the platform public key.
#[derive(Debug, Clone)]
pub struct Hook {
    pub kind: String,
    pub data: Value,
    pub encrypted: bool,
    pub user_no: String,
}

struct ReceiverState {
    hooks: Mutex<Vec<Hook>>,
    /// Answers to give, in order; `SUCCESS` once they run out.
    script: Mutex<VecDeque<String>>,
}

/// A capturing webhook endpoint that answers from a script.
pub struct Receiver {
    pub url: String,
    state: Arc<ReceiverState>,
    server: ServerHandle,
}

async fn receive(state: web::Data<ReceiverState>, body: web::Bytes) -> HttpResponse {
    let outer: Value = serde_json::from_slice(&body).unwrap();
    let (data, encrypted) = match &outer["data"] {
        Value::String(hex) => (serde_json::from_slice(&merchant_codec().open_bytes(hex).unwrap()).unwrap(), true),
        other => (other.clone(), false),
    };
    state.hooks.lock().unwrap().push(Hook {
        kind: outer["type"].as_str().unwrap().to_owned(),
        data,
        encrypted,
        user_no: outer["userNo"].as_str().unwrap_or_default().to_owned(),
    });
    let answer = state.script.lock().unwrap().pop_front().unwrap_or_else(|| "SUCCESS".into());
    HttpResponse::Ok().body(answer)
}

impl Receiver {
    /// Answers each entry of `script` in turn (e.g. `["FAIL", "FAIL"]`), then `SUCCESS`.
    pub async fn start(script: &[&str]) -> Self {
        let state = web::Data::new(ReceiverState {
            hooks: Mutex::new(Vec::new()),
            script: Mutex::new(script.iter().map(|s| s.to_string()).collect()),
        });
        let data = state.clone();
        let server = HttpServer::new(move || App::new().app_data(data.clone()).default_service(web::to(receive)))
            .workers(1)
            .disable_signals()
            .bind("127.0.0.1:0")
            .unwrap();
        let url = format!("http://{}/webhooks/merchant", server.addrs()[0]);
        let server = server.run();
        let handle = server.handle();
        tokio::spawn(server);
        Self { url, state: state.into_inner(), server: handle }
    }

    pub fn hooks(&self) -> Vec<Hook> {
        self.state.hooks.lock().unwrap().clone()
    }

    pub fn of_kind(&self, kind: &str) -> Vec<Hook> {
        self.hooks().into_iter().filter(|h| h.kind == kind).collect()
    }

    /// Waits until at least `n` webhooks of `kind` arrived.
    pub async fn wait_for(&self, kind: &str, n: usize) -> Vec<Hook> {
        for _ in 0..300 {
            let got = self.of_kind(kind);
            if got.len() >= n {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("expected {n} {kind} webhooks, got {:?}", self.hooks().iter().map(|h| &h.kind).collect::<Vec<_>>());
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        // The stop command is sent eagerly; the worker thread winds down on its own.
        drop(self.server.stop(false));
    }
}
