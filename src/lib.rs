//! card-gateway: a tenant-scoped REST gateway in front of an RSA-encrypted card-issuing Merchant API.
#![forbid(unsafe_code)]

/// Authentication (JWT) and authorisation (scopes).
pub mod auth;
/// Reading an outbound call's answer (upstream, JWKS) with a size limit.
pub mod capped_body;
/// The command line.
pub mod cli;
/// Layered configuration and its production guards.
pub mod config;
/// Committed development keys, and the guard that refuses them in production.
pub mod dev_keys;
/// Public API shapes and their mapping from wire types.
pub mod domain;
/// The vendor's RSA envelope codec (pure).
pub mod envelope;
/// The one error type and its problem+json body.
pub mod error;
/// Liveness, readiness (never a platform call), draining, the background platform probe.
pub mod health;
/// HTTP plumbing: extractors, validation, request ids, fallbacks.
pub mod http;
/// Idempotency keys, request fingerprints and the lease-and-fence stores (memory, Redis).
pub mod idempotency;
/// Lenient serde helpers for the vendor's inconsistent JSON (numbers or strings).
pub mod lenient;
/// Prometheus metrics.
pub mod metrics;
/// The OpenAPI document.
pub mod openapi;
/// The lifecycle of state-changing operations.
pub mod operations;
/// The platform's operations (`[upstream.paths]` keys, read or write, confidence, default path).
pub mod platform_ops;
/// Route policy (access, scopes, rate-limit class, idempotent flag): the leaf the middlewares read.
pub mod policy;
/// Per-tenant rate limiting (governor / Redis GCRA), IETF RateLimit headers, and daily money caps.
pub mod rate_limit;
/// Reference tables served and used for validation.
pub mod reference;
/// Every route of the API.
pub mod routes;
/// Card data and secrets in wrappers that never print.
pub mod sensitive;
/// A stateful stand-in for the upstream platform.
pub mod simulator;
/// Application start-up.
pub mod startup;
/// Shared application state.
pub mod state;
/// Redis pool and store errors shared by every Redis-backed store.
pub mod storage;
/// Tracing set-up.
pub mod telemetry;
/// Tenant ids, ownership, request numbers, cursors.
pub mod tenancy;
/// Test support: a private redis-server per test.
pub mod testing;
/// The typed upstream client.
pub mod upstream;
/// `card-gateway upstream-check`: measure the real platform against our configuration.
pub mod upstream_check;
/// Platform webhooks in; per-tenant event log, SSE and signed outbound delivery.
pub mod webhooks;
