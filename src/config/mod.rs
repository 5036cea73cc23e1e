//! Settings: committed defaults (`config/default.toml`, embedded in the binary) → an optional file
//! (`--config FILE` or `CARD_GATEWAY_CONFIG`) → `CARD_GATEWAY__SECTION__KEY` environment variables.
//! `validate()` runs once at startup and refuses unsafe combinations in production.

pub mod auth;
pub mod cors;
pub mod guards;
pub mod rate_limit;
pub mod simulator;
pub mod stores;
pub mod upstream;
pub mod webhooks;

use std::path::Path;

use figment::{
    Figment,
    providers::{Env, Format, Toml},
};
use serde::Deserialize;
use thiserror::Error;

/// The committed defaults, documented key by key.
pub const DEFAULT_TOML: &str = include_str!("../../config/default.toml");

#[derive(Debug, Error)]
pub enum ConfigError {
    #[error("configuration could not be read: {0}")]
    Load(String),
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Environment {
    Development,
    Production,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    Pretty,
    Json,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    pub listen: String,
    /// Worker threads; 0 = one per core.
    pub workers: usize,
    /// Largest JSON body accepted on ordinary routes.
    pub max_body_bytes: usize,
    /// Largest body on `POST /v1/cardholders` (three base64 ID images of ≤ 4 MB each).
    pub max_cardholder_body_bytes: usize,
    /// Requests with a body over `max_body_bytes` running at once (beyond: 503 `heavy_requests_busy`).
    pub heavy_concurrency: usize,
    /// Address printed for Swagger UI and used as the simulator's webhook target; empty = from `listen`.
    pub public_url: String,
    /// `/readyz` answers from a result at most this old (ms), so probes never hammer the stores.
    pub readiness_cache_ms: u64,
    /// On SIGTERM, readiness turns 503 this long (ms) before the listener closes, so load balancers
    /// stop sending new requests first.
    pub drain_delay_ms: u64,
    /// Then in-flight requests get this long (s) to finish before the process exits.
    pub shutdown_timeout_s: u64,
    /// A second listener for `/metrics`, `/livez` and `/readyz` (e.g. `0.0.0.0:9100`), which the
    /// ingress never exposes; empty = `/metrics` on the public listener (refused in production unless
    /// `metrics_on_public_listener`).
    pub ops_listen: String,
    /// Production: allow `/metrics` on the public listener anyway.
    pub metrics_on_public_listener: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSettings {
    pub format: LogFormat,
    /// `tracing` EnvFilter directives; `RUST_LOG` wins when set.
    pub filter: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub environment: Environment,
    pub server: ServerSettings,
    pub log: LogSettings,
    pub upstream: upstream::UpstreamSettings,
    pub simulator: simulator::SimulatorSettings,
    pub auth: auth::AuthSettings,
    pub redis: stores::RedisSettings,
    pub tenancy: stores::TenancySettings,
    pub idempotency: stores::IdempotencySettings,
    pub rate_limit: rate_limit::RateLimitSettings,
    pub webhooks: webhooks::WebhookSettings,
    pub cors: cors::CorsSettings,
}

impl Settings {
    /// Defaults → `file` (if any) → environment. Does not validate.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        let mut fig = Figment::from(Toml::string(DEFAULT_TOML));
        let env_file = std::env::var("CARD_GATEWAY_CONFIG").ok().filter(|s| !s.is_empty());
        match (file, env_file) {
            (Some(path), _) => fig = fig.merge(Toml::file_exact(path)),
            (None, Some(path)) => fig = fig.merge(Toml::file_exact(path)),
            (None, None) => {}
        }
        fig = fig.merge(Env::prefixed("CARD_GATEWAY__").split("__"));
        fig.extract().map_err(|e| ConfigError::Load(e.to_string()))
    }

    /// The committed defaults alone (tests build on these, independent of the developer's env).
    pub fn defaults() -> Result<Self, ConfigError> {
        Figment::from(Toml::string(DEFAULT_TOML)).extract().map_err(|e| ConfigError::Load(e.to_string()))
    }

    pub fn is_production(&self) -> bool {
        self.environment == Environment::Production
    }

    /// Cross-field checks, and the production guards: no simulator, no in-memory stores, no
    /// development keys or secrets. Key *contents* are checked again when loaded (dev-key fingerprints).
    pub fn validate(&self) -> Result<(), ConfigError> {
        let mut problems = Vec::new();
        // The lease is renewed every lease/3 while a request runs, so it may be shorter than the
        // upstream timeout; it only has to leave room for renewals to land.
        if self.idempotency.lease_ms < 300 {
            problems.push(format!("idempotency.lease_ms ({}) must be at least 300", self.idempotency.lease_ms));
        }
        let uses_redis = self.tenancy.store == stores::StoreKind::Redis
            || self.idempotency.store == stores::StoreKind::Redis
            || self.webhooks.event_store == stores::StoreKind::Redis
            || self.rate_limit.backend == rate_limit::LimiterBackend::Redis
            || self.rate_limit.money_caps_store == stores::StoreKind::Redis;
        if uses_redis && self.redis.url.is_empty() {
            problems.push("redis.url is required when a store or the rate limiter uses Redis".into());
        }
        problems.extend(self.webhooks.problems(self.is_production()));
        problems.extend(self.cors.problems(self.is_production()));
        let prefix = &self.tenancy.user_req_no_prefix;
        if prefix.is_empty() || prefix.len() > 8 || !prefix.chars().all(|c| c.is_ascii_alphanumeric()) {
            problems.push("tenancy.user_req_no_prefix must be 1–8 ASCII letters or digits".into());
        }
        if self.upstream.mode == upstream::UpstreamMode::Http && self.upstream.base_url.is_empty() {
            problems.push("upstream.base_url is required when upstream.mode = \"http\"".into());
        }
        problems.extend(guards::problems(self));
        if self.is_production() {
            self.production_problems(&mut problems);
        }
        if problems.is_empty() { Ok(()) } else { Err(ConfigError::Invalid(problems.join("; "))) }
    }

    fn production_problems(&self, p: &mut Vec<String>) {
        let refuse = "is not allowed in production";
        if self.upstream.mode == upstream::UpstreamMode::Simulator {
            p.push(format!(
                "upstream.mode = \"simulator\" {refuse}: set upstream.mode = \"http\" and upstream.base_url"
            ));
        }
        if !self.upstream.base_url.is_empty() && !self.upstream.base_url.starts_with("https://") {
            p.push("upstream.base_url must be https:// in production".into());
        }
        if self.upstream.merchant_private_key.is_empty() || self.upstream.platform_public_key.is_empty() {
            p.push(format!("the committed development RSA keys {refuse}: set upstream.merchant_private_key and upstream.platform_public_key"));
        }
        for (name, kind) in [
            ("tenancy.store", self.tenancy.store),
            ("idempotency.store", self.idempotency.store),
            ("webhooks.event_store", self.webhooks.event_store),
        ] {
            if kind == stores::StoreKind::Memory {
                p.push(format!("{name} = \"memory\" {refuse}: use \"redis\""));
            }
        }
        if self.rate_limit.has_money_caps() && self.rate_limit.money_caps_store == stores::StoreKind::Memory {
            p.push(format!(
                "rate_limit.money_caps_store = \"memory\" {refuse} while money caps are configured: use \"redis\""
            ));
        }
        if self.server.ops_listen.is_empty() && !self.server.metrics_on_public_listener {
            p.push(format!(
                "/metrics on the public listener {refuse}: set server.ops_listen (e.g. 0.0.0.0:9100), or server.metrics_on_public_listener = true"
            ));
        }
        if self.rate_limit.enabled
            && self.rate_limit.backend == rate_limit::LimiterBackend::Local
            && !self.rate_limit.single_replica
        {
            p.push(format!(
                "rate_limit.backend = \"local\" {refuse} with several replicas (each would grant the full limit): use \"redis\", or set rate_limit.single_replica = true"
            ));
        }
        if self.auth.jwks_file.is_empty() && self.auth.jwks_url.is_empty() && self.auth.hs256_secret.is_empty() {
            p.push(format!("the development JWKS {refuse}: set auth.jwks_url or auth.jwks_file"));
        }
        if self.idempotency.fingerprint_secret.is_empty() {
            p.push(format!("the development idempotency.fingerprint_secret {refuse}"));
        }
        if self.tenancy.secret.is_empty() {
            p.push(format!("the development tenancy.secret {refuse}"));
        }
        if !self.idempotency.enabled {
            p.push(format!("idempotency.enabled = false {refuse}"));
        }
        if self.webhooks.allow_private_targets {
            p.push(format!("webhooks.allow_private_targets = true {refuse}"));
        }
    }
}

/// Resolves a key/secret setting: `file:PATH` reads the file, anything else is the value itself.
/// `None` when empty (the caller decides whether a development default applies).
pub fn resolve_text(value: &str) -> Result<Option<String>, ConfigError> {
    let value = value.trim();
    if value.is_empty() {
        return Ok(None);
    }
    if let Some(path) = value.strip_prefix("file:") {
        return std::fs::read_to_string(path)
            .map(Some)
            .map_err(|e| ConfigError::Load(format!("cannot read {path}: {e}")));
    }
    Ok(Some(value.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn committed_defaults_load_and_validate() {
        let s = Settings::defaults().unwrap();
        s.validate().unwrap();
        assert_eq!(s.environment, Environment::Development);
        assert_eq!(s.upstream.path(crate::platform_ops::Operation::CardApply), "/openapi/vcc/card/apply");
    }

    #[test]
    fn every_operation_has_a_documented_path_in_the_defaults() {
        let s = Settings::defaults().unwrap();
        for op in crate::platform_ops::Operation::ALL {
            assert_eq!(s.upstream.paths.get(op.name()).map(String::as_str), Some(op.default_path()), "{op}");
        }
    }

    #[test]
    fn production_refuses_simulator_memory_stores_and_dev_keys() {
        let mut s = Settings::defaults().unwrap();
        s.environment = Environment::Production;
        let err = s.validate().unwrap_err().to_string();
        for needle in ["simulator", "tenancy.store", "idempotency.store", "development RSA keys", "development JWKS"] {
            assert!(err.contains(needle), "{needle} missing from: {err}");
        }
    }

    #[test]
    fn production_refuses_the_in_process_limiter_unless_it_runs_as_one_replica() {
        let mut s = Settings::defaults().unwrap();
        s.environment = Environment::Production;
        assert!(s.validate().unwrap_err().to_string().contains("rate_limit.backend = \"local\""));
        s.rate_limit.single_replica = true;
        assert!(!s.validate().unwrap_err().to_string().contains("rate_limit.backend"));
        s.rate_limit.single_replica = false;
        s.rate_limit.backend = rate_limit::LimiterBackend::Redis;
        assert!(!s.validate().unwrap_err().to_string().contains("rate_limit.backend = \"local\""));
    }

    #[test]
    fn production_refuses_metrics_on_the_public_listener_unless_allowed() {
        let mut s = Settings::defaults().unwrap();
        s.environment = Environment::Production;
        assert!(s.validate().unwrap_err().to_string().contains("server.ops_listen"));
        s.server.metrics_on_public_listener = true;
        assert!(!s.validate().unwrap_err().to_string().contains("server.ops_listen"));
        s.server.metrics_on_public_listener = false;
        s.server.ops_listen = "0.0.0.0:9100".into();
        assert!(!s.validate().unwrap_err().to_string().contains("server.ops_listen"));
    }

    #[test]
    fn lease_too_short_to_renew_is_refused() {
        let mut s = Settings::defaults().unwrap();
        s.idempotency.lease_ms = 100;
        assert!(s.validate().unwrap_err().to_string().contains("lease_ms"));
    }

    /// The README's configuration table documents every key of the committed defaults.
    #[test]
    fn every_configuration_key_is_in_the_readme_table() {
        fn walk(prefix: &str, v: &serde_json::Value, out: &mut Vec<String>) {
            match v.as_object() {
                Some(map) if !map.is_empty() => {
                    for (k, child) in map {
                        let p = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
                        walk(&p, child, out);
                    }
                }
                _ => out.push(prefix.to_owned()),
            }
        }
        let readme = include_str!("../../README.md");
        let defaults: serde_json::Value = Figment::from(Toml::string(DEFAULT_TOML)).extract().unwrap();
        let mut keys = Vec::new();
        walk("", &defaults, &mut keys);
        for key in keys {
            // An inline table (e.g. `simulator.initial_balances`) is documented as one row.
            let parts: Vec<&str> = key.split('.').collect();
            let documented = (1..=parts.len()).rev().any(|n| readme.contains(&format!("`{}`", parts[..n].join("."))));
            assert!(documented, "README configuration table lacks `{key}`");
        }
    }

    #[test]
    fn file_prefix_reads_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.pem");
        std::fs::write(&path, "abc").unwrap();
        assert_eq!(resolve_text(&format!("file:{}", path.display())).unwrap().as_deref(), Some("abc"));
        assert_eq!(resolve_text("  ").unwrap(), None);
        assert!(resolve_text("file:/nonexistent/x").is_err());
    }
}
