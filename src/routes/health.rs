//! `GET /healthz` and `GET /livez` (liveness: the process answers), `GET /readyz` (readiness: the
//! stores answer and the process is not draining; see `crate::health`), `GET /metrics`.

use actix_web::{HttpResponse, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::{
    health::{Readiness, ReadinessInfo},
    state::AppState,
    webhooks::WebhookHub,
};

#[derive(Serialize, ToSchema)]
pub struct Health {
    #[schema(example = "ok")]
    pub status: &'static str,
}

/// Prometheus metrics (text exposition format).
#[utoipa::path(get, path = "/metrics", tag = "health", operation_id = "metrics",
    responses((status = 200, description = "Prometheus text exposition format 0.0.4", content_type = "text/plain", body = String)))]
pub async fn metrics(state: web::Data<AppState>, hub: web::Data<WebhookHub>) -> HttpResponse {
    if !state.settings.server.ops_listen.is_empty() {
        // Served on the ops listener only: never through the public ingress.
        return actix_web::ResponseError::error_response(&crate::error::ApiError::route_not_found());
    }
    metrics_ops(hub).await
}

/// `/metrics` on the ops listener.
pub async fn metrics_ops(hub: web::Data<WebhookHub>) -> HttpResponse {
    let extra = hub.metrics.snapshot();
    HttpResponse::Ok()
        .insert_header((actix_web::http::header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8"))
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .body(crate::metrics::global().render(&extra))
}

/// Liveness.
#[utoipa::path(get, path = "/healthz", tag = "health", operation_id = "healthz",
    responses((status = 200, description = "Alive", body = Health)))]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().insert_header((actix_web::http::header::CACHE_CONTROL, "no-store")).json(Health { status: "ok" })
}

/// Liveness for orchestrators (`/livez`; `/healthz` is the same).
#[utoipa::path(get, path = "/livez", tag = "health", operation_id = "livez",
    responses((status = 200, description = "Alive", body = Health)))]
pub async fn livez() -> HttpResponse {
    healthz().await
}

/// Readiness: this process's stores answer and it is not draining. Never a platform call (the
/// platform's health, probed in the background, is information only); cached for
/// `server.readiness_cache_ms`.
#[utoipa::path(get, path = "/readyz", tag = "health", operation_id = "readyz",
    responses((status = 200, description = "Ready", body = Readiness),
              (status = 503, description = "Not ready, or draining before shutdown", body = Readiness)))]
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let health = &state.health;
    let max_age = std::time::Duration::from_millis(state.settings.server.readiness_cache_ms);
    let body = match health.cached(max_age).filter(|_| !health.is_draining()) {
        Some(r) => r,
        None => {
            let mut checks = std::collections::BTreeMap::new();
            let mut ok = true;
            match state.ownership.ping().await {
                Ok(()) => {
                    checks.insert("store", "ok".to_owned());
                }
                Err(e) => {
                    ok = false;
                    checks.insert("store", e.to_string());
                }
            }
            let status = if health.is_draining() {
                "draining"
            } else if ok {
                "ready"
            } else {
                "not_ready"
            };
            let info = ReadinessInfo { upstream_facts: (*state.facts).clone() };
            let r = Readiness { status, checks, upstream: health.platform.read().clone(), info };
            health.remember(&r);
            r
        }
    };
    let mut res = if body.is_ready() { HttpResponse::Ok() } else { HttpResponse::ServiceUnavailable() };
    res.insert_header((actix_web::http::header::CACHE_CONTROL, "no-store")).json(body)
}
