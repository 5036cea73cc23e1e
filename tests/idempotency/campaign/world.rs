//! The running system under test: a simulator process that outlives gateway restarts, the
//! gateway (replaceable, as after a crash), and for Redis set-ups a durable `redis-server`.

use std::sync::{Arc, Mutex};

use card_gateway::{config::Settings, simulator::SimHandle, testing::redis_server::RedisServer};
use tokio::sync::RwLock;

use crate::{
    common::{TestApp, spawn_against, start_simulator, test_settings},
    support::use_redis,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Store {
    Memory,
    Redis,
}

pub struct World {
    pub store: Store,
    pub dedupe: bool,
    pub asynchronous: bool,
    pub settings: Settings,
    pub sim: Arc<SimHandle>,
    pub token: String,
    pub redis: Option<Mutex<RedisServer>>,
    gateway: RwLock<Arc<TestApp>>,
}

/// Upstream timeout, lease and quiet period short enough that the campaign settles in seconds.
pub const UPSTREAM_TIMEOUT_MS: u64 = 400;
pub const LEASE_MS: u64 = 1_200;
pub const QUIET_S: u64 = 1;

impl World {
    /// `None` when the set-up needs a `redis-server` that is not installed (outside CI).
    /// `asynchronous`: the platform accepts card orders and finishes them later (webhook and order
    /// inquiry race the answer path).
    pub async fn start(store: Store, dedupe: bool, asynchronous: bool) -> Option<Self> {
        let mut settings = test_settings();
        settings.upstream.timeout_ms = UPSTREAM_TIMEOUT_MS;
        settings.idempotency.lease_ms = LEASE_MS;
        settings.idempotency.resend_after_no_trace_s = QUIET_S;
        settings.idempotency.retry_after_s = 1;
        settings.simulator.dedupe_requests = dedupe;
        if asynchronous {
            settings.simulator.async_operations =
                ["card_apply", "card_recharge", "card_refund", "card_cancel"].map(str::to_owned).to_vec();
        }
        // A cap far above the campaign's money, so every reservation and release runs but none refuses.
        settings.rate_limit.money_caps.insert("USD".into(), rust_decimal::Decimal::new(100_000_000, 2));
        let redis = match store {
            Store::Memory => None,
            Store::Redis => {
                let server = RedisServer::start_durable()?;
                use_redis(&mut settings, &server);
                // A frozen Redis must fail requests within the chaos window, as in production.
                settings.redis.timeout_ms = 300;
                settings.rate_limit.money_caps_store = card_gateway::config::stores::StoreKind::Redis;
                Some(Mutex::new(server))
            }
        };
        let sim = start_simulator(&settings).await;
        let app = Arc::new(spawn_against(settings.clone(), sim.clone()).await);
        sim.set_webhook_url(Some(format!("{}/webhooks/merchant", app.base)));
        let token = app.admin("campaign");
        Some(Self { store, dedupe, asynchronous, settings, sim, token, redis, gateway: RwLock::new(app) })
    }

    pub fn name(&self) -> String {
        format!(
            "{}/{}{}",
            if self.store == Store::Redis { "redis" } else { "memory" },
            if self.dedupe { "dedupe" } else { "no-dedupe" },
            if self.asynchronous { "/async" } else { "" }
        )
    }

    pub async fn gateway(&self) -> Arc<TestApp> {
        self.gateway.read().await.clone()
    }

    /// Kills the gateway mid-traffic (in-flight requests dropped) and starts a new one on the same
    /// stores and platform, as a crashed pod is replaced.
    pub async fn restart_gateway(&self) {
        let mut slot = self.gateway.write().await;
        slot.crash().await;
        let app = Arc::new(spawn_against(self.settings.clone(), self.sim.clone()).await);
        self.sim.set_webhook_url(Some(format!("{}/webhooks/merchant", app.base)));
        *slot = app;
    }
}
