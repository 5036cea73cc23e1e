//! Outbound webhooks: `{type, data, version, userNo}` POSTed to the configured URL, `data` sealed with
//! the platform key (or plain, per `webhook_encrypt_data`), retried on the `webhook_retry_ms` schedule
//! until the receiver answers exactly `SUCCESS`.
//!
//! One dispatcher takes events in emission order and waits for each event's first attempt before the
//! next, so webhooks arrive in order unless an `out_of_order` fault swaps two. Retries run on their own.

use std::{sync::Arc, time::Duration};

use chrono::{DateTime, Utc};
use futures_util::future::join_all;
use parking_lot::{Mutex, RwLock};
use serde::Serialize;
use serde_json::value::RawValue;
use tokio::sync::{mpsc, oneshot};

use super::{config::SimulatorConfig, core::Sim, events::Event, faults::WebhookFaultKind};

/// The last retry delay repeats this many more times before delivery gives up.
const EXTRA_FINAL_RETRIES: usize = 3;

/// One emitted webhook and what became of it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct DeliveryRecord {
    pub seq: u64,
    /// The webhook `type`.
    pub kind: String,
    /// The order, record, receipt or card id the webhook is about.
    pub key: String,
    /// Copies sent (more than one under a `duplicate` fault).
    pub copies: u32,
    /// POST attempts over all copies.
    pub attempts: u32,
    /// Attempts the receiver acknowledged with `SUCCESS`.
    pub acknowledged: u32,
    /// Copies that gave up after the whole retry schedule.
    pub gave_up: u32,
    pub last_status: Option<u16>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl DeliveryRecord {
    pub fn delivered(&self) -> bool {
        self.acknowledged > 0
    }
}

pub(crate) struct Webhooks {
    url: RwLock<Option<String>>,
    log: Mutex<Vec<DeliveryRecord>>,
    queue: mpsc::UnboundedSender<(u64, Event)>,
    http: reqwest::Client,
}

pub(crate) type Queue = mpsc::UnboundedReceiver<(u64, Event)>;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Body<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    data: &'a RawValue,
    version: &'a str,
    user_no: &'a str,
}

impl Webhooks {
    pub fn new(cfg: &SimulatorConfig) -> (Self, Queue) {
        let (tx, rx) = mpsc::unbounded_channel();
        let url = Some(cfg.sim.webhook_url.trim().to_owned()).filter(|u| !u.is_empty());
        let http = reqwest::Client::builder()
            .timeout(Duration::from_millis(cfg.sim.webhook_timeout_ms))
            .build()
            .unwrap_or_default();
        (Self { url: RwLock::new(url), log: Mutex::new(Vec::new()), queue: tx, http }, rx)
    }

    pub fn set_url(&self, url: Option<String>) {
        *self.url.write() = url.filter(|u| !u.trim().is_empty());
    }

    pub fn url(&self) -> Option<String> {
        self.url.read().clone()
    }

    pub fn log(&self) -> Vec<DeliveryRecord> {
        self.log.lock().clone()
    }

    /// Logs the event and queues it for the dispatcher.
    pub fn emit(&self, event: Event) {
        let seq = {
            let mut log = self.log.lock();
            let seq = log.len() as u64 + 1;
            log.push(DeliveryRecord {
                seq,
                kind: event.kind.to_owned(),
                key: event.key.clone(),
                copies: 0,
                attempts: 0,
                acknowledged: 0,
                gave_up: 0,
                last_status: None,
                last_error: None,
                created_at: Utc::now(),
            });
            seq
        };
        if self.queue.send((seq, event)).is_err() {
            self.update(seq, |r| r.last_error = Some("simulator is shutting down".into()));
        }
    }

    fn update(&self, seq: u64, f: impl FnOnce(&mut DeliveryRecord)) {
        if let Some(r) = self.log.lock().iter_mut().find(|r| r.seq == seq) {
            f(r);
        }
    }
}

/// The outer body, `data` sealed or embedded as an object.
fn body(cfg: &SimulatorConfig, event: &Event) -> Option<Vec<u8>> {
    let data = if cfg.sim.webhook_encrypt_data {
        let hex = cfg.codec.seal_bytes(&event.data).ok()?;
        RawValue::from_string(serde_json::to_string(&hex).ok()?).ok()?
    } else {
        RawValue::from_string(String::from_utf8(event.data.clone()).ok()?).ok()?
    };
    serde_json::to_vec(&Body { kind: event.kind, data: &data, version: &cfg.api_version, user_no: &cfg.merchant_no })
        .ok()
}

/// Delays between attempts: the configured schedule, then its last delay a few more times.
fn schedule(cfg: &SimulatorConfig) -> Vec<Duration> {
    let mut ms = cfg.sim.webhook_retry_ms.clone();
    if let Some(last) = ms.last().copied() {
        ms.extend(std::iter::repeat_n(last, EXTRA_FINAL_RETRIES));
    }
    ms.into_iter().map(Duration::from_millis).collect()
}

async fn attempt(sim: &Sim, body: &[u8]) -> Result<u16, (Option<u16>, String)> {
    let Some(url) = sim.webhooks.url() else { return Err((None, "no webhook url configured".into())) };
    let response = sim
        .webhooks
        .http
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(body.to_vec())
        .send()
        .await
        .map_err(|e| (None, if e.is_timeout() { "timed out".to_owned() } else { "transport error".to_owned() }))?;
    let status = response.status().as_u16();
    let text = response.text().await.unwrap_or_default();
    if (200..300).contains(&status) && text.trim() == "SUCCESS" {
        Ok(status)
    } else {
        Err((Some(status), "receiver did not answer SUCCESS".into()))
    }
}

/// One copy: attempts until acknowledged or the schedule runs out. Signals after the first attempt.
async fn deliver_copy(sim: Arc<Sim>, seq: u64, body: Arc<[u8]>, first: oneshot::Sender<()>) {
    let mut first = Some(first);
    let delays = schedule(&sim.cfg);
    for n in 0..=delays.len() {
        if let Some(delay) = n.checked_sub(1).and_then(|i| delays.get(i)) {
            tokio::time::sleep(*delay).await;
        }
        let result = attempt(&sim, &body).await;
        let ok = result.is_ok();
        sim.webhooks.update(seq, |r| {
            r.attempts += 1;
            match result {
                Ok(status) => {
                    r.acknowledged += 1;
                    r.last_status = Some(status);
                }
                Err((status, error)) => {
                    r.last_status = status;
                    r.last_error = Some(error);
                }
            }
        });
        if let Some(tx) = first.take() {
            let _ = tx.send(());
        }
        if ok {
            return;
        }
    }
    tracing::warn!(webhook.seq = seq, "webhook delivery gave up");
    sim.webhooks.update(seq, |r| r.gave_up += 1);
}

/// Sends `copies` concurrent copies and waits (bounded) for each copy's first attempt.
async fn send(sim: &Arc<Sim>, seq: u64, event: &Event, copies: u32) {
    let Some(body) = body(&sim.cfg, event) else {
        sim.webhooks.update(seq, |r| r.last_error = Some("could not seal webhook".into()));
        return;
    };
    let body: Arc<[u8]> = body.into();
    let copies = copies.max(1);
    sim.webhooks.update(seq, |r| r.copies += copies);
    let mut firsts = Vec::new();
    for _ in 0..copies {
        let (tx, rx) = oneshot::channel();
        sim.tasks.spawn(deliver_copy(sim.clone(), seq, body.clone(), tx));
        firsts.push(rx);
    }
    let bound = Duration::from_millis(sim.cfg.sim.webhook_timeout_ms.saturating_add(500));
    let _ = tokio::time::timeout(bound, join_all(firsts)).await;
}

/// The dispatcher: events in emission order, webhook faults applied per event.
pub(crate) async fn dispatch(sim: Arc<Sim>, mut queue: Queue) {
    while let Some((seq, event)) = queue.recv().await {
        match sim.faults.take_webhook() {
            Some(WebhookFaultKind::Duplicate { copies }) => send(&sim, seq, &event, copies).await,
            Some(WebhookFaultKind::OutOfOrder { hold_ms }) => {
                match tokio::time::timeout(Duration::from_millis(hold_ms), queue.recv()).await {
                    Ok(Some((next_seq, next))) => {
                        send(&sim, next_seq, &next, 1).await;
                        send(&sim, seq, &event, 1).await;
                    }
                    Ok(None) => {
                        send(&sim, seq, &event, 1).await;
                        return;
                    }
                    Err(_) => send(&sim, seq, &event, 1).await,
                }
            }
            None => send(&sim, seq, &event, 1).await,
        }
    }
}
