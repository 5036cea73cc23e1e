//! The running simulator shared by the HTTP handlers, the control API and the in-process handle:
//! configuration, state, armed faults, call counters, webhook sender and background tasks.

use std::{
    future::Future,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use parking_lot::Mutex;
use tokio::{sync::watch, task::JoinSet};

use super::{
    config::SimulatorConfig,
    events::Event,
    faults::FaultTable,
    handlers,
    state::{SimSnapshot, State},
    webhooks::Webhooks,
};
use crate::upstream::Operation;

/// Something to do once the state lock is released.
#[derive(Debug)]
pub(crate) enum Effect {
    /// POST a webhook.
    Webhook(Event),
    /// Complete the asynchronous order with this request number after `async_delay_ms`.
    Complete(String),
}

/// What a platform request said about its origin (headers only, never the envelope): lets tests check
/// that trace context, request id and User-Agent reach the platform.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SeenRequest {
    pub op: &'static str,
    pub traceparent: Option<String>,
    pub tracestate: Option<String>,
    pub request_id: Option<String>,
    pub user_agent: Option<String>,
}

/// How many recent requests' headers are kept (oldest dropped first).
const SEEN_MAX: usize = 256;

/// Background work on the runtime that started the simulator; aborted on shutdown.
pub(crate) struct Tasks {
    rt: tokio::runtime::Handle,
    set: Mutex<JoinSet<()>>,
}

impl Tasks {
    pub fn spawn(&self, fut: impl Future<Output = ()> + Send + 'static) {
        let mut set = self.set.lock();
        while set.try_join_next().is_some() {}
        set.spawn_on(fut, &self.rt);
    }

    fn abort_all(&self) {
        self.set.lock().abort_all();
    }
}

pub(crate) struct Sim {
    pub cfg: Arc<SimulatorConfig>,
    pub state: Mutex<State>,
    pub faults: FaultTable,
    pub webhooks: Webhooks,
    pub tasks: Tasks,
    calls: Vec<AtomicU64>,
    seen: Mutex<std::collections::VecDeque<SeenRequest>>,
    shutdown: watch::Sender<bool>,
}

impl Sim {
    /// Builds the simulator and starts its webhook dispatcher on `rt`.
    pub fn start(cfg: Arc<SimulatorConfig>, rt: tokio::runtime::Handle) -> Arc<Self> {
        let (webhooks, queue) = Webhooks::new(&cfg);
        let sim = Arc::new(Self {
            state: Mutex::new(State::new(cfg.clone())),
            faults: FaultTable::default(),
            webhooks,
            tasks: Tasks { rt, set: Mutex::new(JoinSet::new()) },
            calls: Operation::ALL.iter().map(|_| AtomicU64::new(0)).collect(),
            seen: Mutex::new(std::collections::VecDeque::with_capacity(SEEN_MAX)),
            shutdown: watch::channel(false).0,
            cfg,
        });
        let dispatcher = sim.clone();
        sim.tasks.spawn(async move { super::webhooks::dispatch(dispatcher, queue).await });
        sim
    }

    fn slot(op: Operation) -> usize {
        Operation::ALL.iter().position(|o| *o == op).unwrap_or(0)
    }

    pub fn count_call(&self, op: Operation) {
        if let Some(c) = self.calls.get(Self::slot(op)) {
            c.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub fn record_seen(&self, seen: SeenRequest) {
        let mut all = self.seen.lock();
        if all.len() >= SEEN_MAX {
            all.pop_front();
        }
        all.push_back(seen);
    }

    /// The most recent requests' origin headers, oldest first.
    pub fn seen(&self) -> Vec<SeenRequest> {
        self.seen.lock().iter().cloned().collect()
    }

    pub fn calls(&self, op: Operation) -> u64 {
        self.calls.get(Self::slot(op)).map(|c| c.load(Ordering::Relaxed)).unwrap_or(0)
    }

    /// Requests for `op` that repeated an earlier request number (de-duplicated or not).
    pub fn repeats(&self, op: Operation) -> u64 {
        self.state.lock().orders.repeats().get(op.name()).copied().unwrap_or(0)
    }

    pub fn snapshot(&self) -> SimSnapshot {
        let mut s = self.state.lock().snapshot();
        s.webhooks = self.webhooks.log();
        s
    }

    /// Emits webhooks and schedules completions (never called with the state lock held).
    pub fn run_effects(self: &Arc<Self>, effects: Vec<Effect>) {
        for effect in effects {
            match effect {
                Effect::Webhook(event) => self.webhooks.emit(event),
                Effect::Complete(req_no) => {
                    let sim = self.clone();
                    let delay = Duration::from_millis(self.cfg.sim.async_delay_ms);
                    self.tasks.spawn(async move {
                        tokio::time::sleep(delay).await;
                        sim.complete(&req_no);
                    });
                }
            }
        }
    }

    /// Completes an asynchronous order now (no-op when it already finished).
    pub fn complete(self: &Arc<Self>, req_no: &str) {
        let effects = handlers::complete(&mut self.state.lock(), req_no);
        self.run_effects(effects);
    }

    /// Resolves when the simulator shuts down (hanging requests wait on this).
    pub async fn until_shutdown(&self) {
        let mut rx = self.shutdown.subscribe();
        let _ = rx.wait_for(|stopped| *stopped).await;
    }

    pub fn stop_background(&self) {
        self.shutdown.send_replace(true);
        self.tasks.abort_all();
    }
}
