//! `Application::build(settings)`: validates the configuration, loads keys, starts the embedded
//! simulator when configured, builds the stores and binds the listener (port 0 works; `port()` says
//! which). `main` only parses the command line and calls this.

use std::{net::TcpListener, sync::Arc, time::Duration};

use actix_web::{App, HttpServer, dev::Server, middleware::from_fn, web};
use anyhow::Context as _;
use utoipa_swagger_ui::SwaggerUi;

use crate::{
    auth::JwtVerifier,
    config::{Settings, rate_limit::LimiterBackend, resolve_text, stores::StoreKind, upstream::UpstreamMode},
    dev_keys,
    envelope::EnvelopeCodec,
    http::{cors, extract::BodyLimits, fallback, request_id},
    idempotency::{Fingerprinter, middleware::Idempotency},
    rate_limit::{middleware::Limiter, money::MoneyCaps},
    reference::ReferenceData,
    routes,
    sensitive::Reveal,
    simulator::{self, SimHandle, SimulatorConfig},
    state::{AppState, TtlCache},
    storage::redis::RedisPool,
    tenancy::{
        OwnershipStore, ReqNos, cached::CachedOwnership, cursor::CursorCodec, memory::MemoryOwnershipStore,
        redis::RedisOwnershipStore,
    },
    upstream::{MerchantClient, formats::WireClock},
    webhooks::WebhookHub,
};

pub struct Application {
    port: u16,
    server: Server,
    /// `/metrics`, `/livez`, `/readyz` on `server.ops_listen`, when set (never exposed by the ingress).
    ops: Option<(u16, Server)>,
    simulator: Option<Arc<SimHandle>>,
    state: web::Data<AppState>,
    webhooks: web::Data<WebhookHub>,
    verifier: web::Data<JwtVerifier>,
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        settings.validate()?;
        let production = settings.is_production();
        let settings = Arc::new(settings);

        let listener = TcpListener::bind(&settings.server.listen)
            .with_context(|| format!("cannot listen on {}", settings.server.listen))?;
        let port = listener.local_addr()?.port();

        let codec = load_codec(&settings)?;

        let (base_url, sim) = match settings.upstream.mode {
            UpstreamMode::Http => (settings.upstream.base_url.clone(), None),
            UpstreamMode::Simulator => {
                let cfg = SimulatorConfig::from_settings(&settings)?;
                let handle =
                    simulator::spawn(cfg, "127.0.0.1:0").await.context("cannot start the embedded simulator")?;
                (handle.base_url(), Some(Arc::new(handle)))
            }
        };
        let public = if settings.server.public_url.is_empty() {
            format!("http://127.0.0.1:{port}")
        } else {
            settings.server.public_url.trim_end_matches('/').to_owned()
        };
        if let Some(sim) = &sim
            && settings.simulator.webhook_url.is_empty()
        {
            sim.set_webhook_url(Some(format!("{public}/webhooks/merchant")));
        }

        // Webhooks open platform ciphertext with the same codec (platform public key) as the client.
        let webhook_codec = codec.clone();
        let upstream = MerchantClient::new(&settings.upstream, &base_url, codec)?;
        let clock = WireClock::new(&settings.upstream.formats).map_err(anyhow::Error::msg)?;
        let redis = if settings.redis.url.is_empty() { None } else { Some(RedisPool::new(&settings.redis)?) };
        let ownership = ownership_store(&settings, redis.as_ref())?;
        let tenancy_secret = resolve_text(settings.tenancy.secret.expose())?;
        let cursor_secret =
            tenancy_secret.clone().unwrap_or_else(|| "card-gateway development cursor secret".to_owned());
        let facts = load_facts(&settings)?;
        let webhooks: web::Data<WebhookHub> =
            web::Data::from(WebhookHub::build(&settings, webhook_codec, redis.as_ref(), cursor_secret.as_bytes())?);
        webhooks.clone().into_inner().start_worker(ownership.clone());
        let rate_limiter = crate::rate_limit::limiter_from_settings(&settings.rate_limit, redis.as_ref())?;
        let state = web::Data::new(AppState {
            settings: settings.clone(),
            upstream,
            clock,
            ownership,
            req_nos: ReqNos::new(&settings.tenancy.user_req_no_prefix, tenancy_secret.as_deref()),
            cursors: CursorCodec::new(cursor_secret.as_bytes()),
            reference: Arc::new(ReferenceData::load().map_err(anyhow::Error::msg)?),
            caps: MoneyCaps::from_settings(&settings.rate_limit, redis.as_ref())?,
            limiter: rate_limiter.clone(),
            bins: TtlCache::new(Duration::from_secs(settings.upstream.reference_cache_s)),
            scenes: TtlCache::new(Duration::from_secs(settings.upstream.reference_cache_s)),
            facts,
            health: Arc::new(crate::health::Health::default()),
            // Production refuses the simulator mode at validation; checked again here so the test
            // helpers can never reach a simulator in production.
            simulator: if production { None } else { sim.clone() },
        });
        crate::health::spawn_probe(
            state.health.clone(),
            state.upstream.clone(),
            settings.tenancy.user_req_no_prefix.clone(),
            Duration::from_secs(settings.upstream.health_probe_s),
        );

        let fingerprinter = Fingerprinter::from_settings(&settings.idempotency)?;
        // Both on Redis: a state-changing request's rate-limit charge runs inside the idempotency
        // begin script (one round trip instead of two).
        let charged = match (&redis, settings.idempotency.store, &settings.rate_limit) {
            (Some(pool), StoreKind::Redis, rl) if rl.enabled && rl.backend == LimiterBackend::Redis => {
                let opts = crate::idempotency::store::StoreOptions::from_settings(&settings.idempotency);
                Some(Arc::new(
                    crate::idempotency::redis::RedisIdempotencyStore::new(pool.clone(), opts)
                        .with_docs_here(settings.tenancy.store == StoreKind::Redis),
                ))
            }
            _ => None,
        };
        let store: Arc<dyn crate::idempotency::IdempotencyStore> = match &charged {
            Some(s) => s.clone(),
            None => crate::idempotency::store_from_settings(&settings, redis.as_ref())?,
        };
        let charge_with_begin = charged.is_some() && settings.idempotency.enabled;
        let idempotency = web::Data::new(Idempotency {
            enabled: settings.idempotency.enabled,
            store,
            charged,
            seal: crate::idempotency::RecordSeal::new(&fingerprinter)?,
            fingerprinter,
            lease: Duration::from_millis(settings.idempotency.lease_ms),
            retry_after_s: settings.idempotency.retry_after_s,
        });
        let limiter = web::Data::new(Limiter(rate_limiter));
        let charge_with_begin = web::Data::new(crate::rate_limit::ChargeWithBegin(charge_with_begin));
        let heavy = web::Data::new(crate::rate_limit::heavy::HeavyGate::new(
            settings.server.heavy_concurrency,
            settings.server.max_body_bytes,
        ));

        let verifier = JwtVerifier::from_settings(&settings.auth, production)?;
        let keys = verifier.prime().await.map_err(anyhow::Error::msg)?;
        tracing::info!(keys, "JWT verification keys loaded");
        let verifier = web::Data::new(verifier);
        let verifier_handle = verifier.clone();

        let table = web::Data::new(routes::table());
        let cors_policy = cors::CorsPolicy::new(&settings.cors, &table);
        let doc = crate::openapi::document(&table);
        let limits = BodyLimits::new(settings.server.max_body_bytes)
            .with_route("/v1/cardholders", settings.server.max_cardholder_body_bytes);
        let server_state = state.clone();
        let server_hub = webhooks.clone();
        let workers = if settings.server.workers == 0 { num_workers() } else { settings.server.workers };
        let server = HttpServer::new(move || {
            // Wrap order: the last `.wrap` runs first.
            // Request id → CORS → auth/scope → rate limit → idempotency → handler. CORS answers
            // preflights itself, before any token check, rate-limit charge, 405 fallback or platform call.
            App::new()
                .app_data(server_state.clone())
                .app_data(server_hub.clone())
                .app_data(idempotency.clone())
                .app_data(limiter.clone())
                .app_data(charge_with_begin.clone())
                .app_data(heavy.clone())
                .app_data(table.clone())
                .app_data(verifier.clone())
                .app_data(limits.clone())
                .configure(routes::configure)
                .service(
                    SwaggerUi::new("/swagger-ui/{_:.*}").external_url_unchecked("/api-docs/openapi.json", doc.clone()),
                )
                .default_service(web::to(fallback::not_found_or_method_not_allowed))
                .wrap(from_fn(crate::idempotency::middleware::middleware))
                .wrap(from_fn(crate::rate_limit::middleware::middleware))
                .wrap(from_fn(crate::auth::middleware::middleware))
                .wrap(cors_policy.middleware())
                .wrap(from_fn(cors::problems))
                .wrap(from_fn(request_id::middleware))
        })
        .workers(workers)
        .shutdown_timeout(settings.server.shutdown_timeout_s)
        .disable_signals()
        .listen(listener)?
        .run();
        let ops = if settings.server.ops_listen.is_empty() {
            None
        } else {
            let l = TcpListener::bind(&settings.server.ops_listen)
                .with_context(|| format!("cannot listen on server.ops_listen {}", settings.server.ops_listen))?;
            let ops_port = l.local_addr()?.port();
            let ops_state = state.clone();
            let ops_hub = webhooks.clone();
            let ops = HttpServer::new(move || {
                App::new()
                    .app_data(ops_state.clone())
                    .app_data(ops_hub.clone())
                    .route("/metrics", web::get().to(routes::health::metrics_ops))
                    .route("/livez", web::get().to(routes::health::livez))
                    .route("/readyz", web::get().to(routes::health::readyz))
            })
            .workers(1)
            .shutdown_timeout(settings.server.shutdown_timeout_s)
            .disable_signals()
            .listen(l)?
            .run();
            Some((ops_port, ops))
        };
        Ok(Self { port, server, ops, simulator: sim, state, webhooks, verifier: verifier_handle })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The token verifier (tests and benchmarks read how many full checks it did).
    pub fn verifier(&self) -> web::Data<JwtVerifier> {
        self.verifier.clone()
    }

    /// The ops listener's port, when `server.ops_listen` is set.
    pub fn ops_port(&self) -> Option<u16> {
        self.ops.as_ref().map(|(p, _)| *p)
    }

    /// The embedded simulator, when `upstream.mode = "simulator"`.
    pub fn simulator(&self) -> Option<Arc<SimHandle>> {
        self.simulator.clone()
    }

    pub fn state(&self) -> web::Data<AppState> {
        self.state.clone()
    }

    /// The webhook hub: event log, SSE streams, delivery worker (the app data its handlers take).
    pub fn webhooks(&self) -> web::Data<WebhookHub> {
        self.webhooks.clone()
    }

    /// A handle to stop the server (graceful or not).
    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }

    /// Runs until the server stops; the webhook delivery worker and SSE streams stop with it.
    /// SIGTERM or Ctrl-C drains first (see `drain`).
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let (state, hub, handle) = (self.state.clone(), self.webhooks.clone(), self.server.handle());
        let signals = tokio::spawn(async move {
            shutdown_signal().await;
            tracing::info!("shutdown signal: draining");
            drain(&state, &hub, &handle).await;
        });
        let ops = self.ops.map(|(_, ops)| {
            let handle = ops.handle();
            (handle, tokio::spawn(ops))
        });
        let result = self.server.await;
        signals.abort();
        if let Some((handle, task)) = ops {
            handle.stop(true).await;
            let _ = task.await;
        }
        self.webhooks.stop().await;
        result
    }
}

/// Graceful shutdown: readiness answers 503 `draining` at once (load balancers stop routing here),
/// event streams are told to reconnect elsewhere, then after `server.drain_delay_ms` the listener
/// closes and in-flight requests get `server.shutdown_timeout_s` to finish.
pub async fn drain(state: &AppState, hub: &WebhookHub, server: &actix_web::dev::ServerHandle) {
    state.health.start_draining();
    hub.stop_streams();
    tokio::time::sleep(Duration::from_millis(state.settings.server.drain_delay_ms)).await;
    server.stop(true).await;
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM; Ctrl-C only");
                let _ = tokio::signal::ctrl_c().await;
                return;
            }
        };
        tokio::select! {
            _ = term.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

impl Application {}

/// The envelope codec from `[upstream]` keys (development keys only outside production).
pub fn load_codec(settings: &Settings) -> anyhow::Result<EnvelopeCodec> {
    let production = settings.is_production();
    let merchant_key = dev_keys::load_private(
        settings.upstream.merchant_private_key.expose(),
        dev_keys::MERCHANT_PRIVATE_PEM,
        production,
        "upstream.merchant_private_key",
    )?;
    let platform_key = dev_keys::load_public(
        &settings.upstream.platform_public_key,
        dev_keys::PLATFORM_PUBLIC_PEM,
        production,
        "upstream.platform_public_key",
    )?;
    Ok(EnvelopeCodec::new(merchant_key, platform_key))
}

/// The verdicts of the last `upstream-check` (`upstream.facts_file`), logged once. A file that exists
/// but does not parse stops start-up: silently treating it as "unknown" would hide a broken deploy.
fn load_facts(settings: &Settings) -> anyhow::Result<Arc<crate::upstream::facts::UpstreamFacts>> {
    let facts = crate::upstream::facts::UpstreamFacts::load(&settings.upstream.facts_file)?;
    if facts.checked_at.is_empty() {
        tracing::info!(file = %settings.upstream.facts_file, "upstream facts: none measured (run `card-gateway upstream-check`); every verdict is unknown");
    } else {
        tracing::info!(checked_at = %facts.checked_at, "upstream facts: {}", facts.summary());
        let quiet_ms = settings.idempotency.resend_after_no_trace_s.saturating_mul(1000);
        if let Some(visible) = facts.order_visible_after_ms
            && visible >= quiet_ms
        {
            tracing::warn!(
                order_visible_after_ms = visible,
                resend_after_no_trace_s = settings.idempotency.resend_after_no_trace_s,
                "orders took longer to show in order inquiry than the quiet period before a resend: raise idempotency.resend_after_no_trace_s"
            );
        }
        if !settings.idempotency.platform_dedupes && facts.dedupes_requests() == crate::upstream::facts::Verdict::Yes {
            tracing::info!(
                "upstream-check measured that the platform de-duplicates userReqNo; operations without an order inquiry are still not resent until idempotency.platform_dedupes = true"
            );
        }
        if settings.idempotency.platform_dedupes && facts.dedupes_requests() == crate::upstream::facts::Verdict::No {
            tracing::warn!(
                "idempotency.platform_dedupes = true, but upstream-check measured that the platform does not de-duplicate userReqNo: nothing is resent automatically"
            );
        }
        if settings.upstream.mode == UpstreamMode::Http && facts.base_url != settings.upstream.base_url {
            tracing::warn!(measured = %facts.base_url, configured = %settings.upstream.base_url, "upstream facts were measured against another base URL");
        }
    }
    Ok(Arc::new(facts))
}

/// The ownership store `tenancy.store` selects (Redis behind an in-process read cache).
pub fn ownership_store(settings: &Settings, redis: Option<&RedisPool>) -> anyhow::Result<Arc<dyn OwnershipStore>> {
    Ok(match (settings.tenancy.store, redis) {
        (StoreKind::Redis, Some(pool)) => {
            Arc::new(CachedOwnership::new(Arc::new(RedisOwnershipStore::new(pool.clone())), 200_000))
        }
        (StoreKind::Redis, None) => anyhow::bail!("tenancy.store = \"redis\" needs redis.url"),
        (StoreKind::Memory, _) => Arc::new(MemoryOwnershipStore::new()),
    })
}

fn num_workers() -> usize {
    std::thread::available_parallelism().map(std::num::NonZeroUsize::get).unwrap_or(2)
}
