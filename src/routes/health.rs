//! `GET /healthz` (liveness: the process answers) and `GET /readyz` (readiness: the stores answer
//! and the upstream is reachable).

use actix_web::{HttpResponse, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::{state::AppState, upstream::wire::common::ReqNoOnly};

#[derive(Serialize, ToSchema)]
pub struct Health {
    #[schema(example = "ok")]
    pub status: &'static str,
}

#[derive(Serialize, ToSchema)]
pub struct Readiness {
    #[schema(example = "ready")]
    pub status: &'static str,
    /// `ok` or what failed, per dependency.
    #[schema(value_type = Object)]
    pub checks: std::collections::BTreeMap<&'static str, String>,
    /// Information that does not decide readiness.
    pub info: ReadinessInfo,
}

#[derive(Serialize, ToSchema)]
pub struct ReadinessInfo {
    /// What `card-gateway upstream-check` measured about the platform (`upstream.facts_file`);
    /// every verdict is `unknown` until it has run.
    pub upstream_facts: crate::upstream::facts::UpstreamFacts,
}

/// Prometheus metrics (text exposition format).
#[utoipa::path(get, path = "/metrics", tag = "health", operation_id = "metrics",
    responses((status = 200, description = "Prometheus text exposition format 0.0.4", content_type = "text/plain", body = String)))]
pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    let extra = state.webhooks.metrics.snapshot();
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

/// Readiness: ownership store (Redis when configured) and the upstream.
#[utoipa::path(get, path = "/readyz", tag = "health", operation_id = "readyz",
    responses((status = 200, description = "Ready", body = Readiness), (status = 503, description = "Not ready", body = Readiness)))]
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let mut checks = std::collections::BTreeMap::new();
    let mut ready = true;
    match state.ownership.ping().await {
        Ok(()) => {
            checks.insert("store", "ok".to_owned());
        }
        Err(e) => {
            ready = false;
            checks.insert("store", e.to_string());
        }
    }
    let probe = ReqNoOnly { user_req_no: format!("{}_ready", state.settings.tenancy.user_req_no_prefix) };
    match state.upstream.card_bin(&probe).await {
        Ok(_) => {
            checks.insert("upstream", "ok".to_owned());
        }
        Err(e) if e.source_kind() == crate::upstream::ErrorSource::Business => {
            // It answered, sealed and signed: reachable.
            checks.insert("upstream", "ok".to_owned());
        }
        Err(e) => {
            ready = false;
            checks.insert("upstream", e.kind.to_string());
        }
    }
    let info = ReadinessInfo { upstream_facts: (*state.facts).clone() };
    let body = Readiness { status: if ready { "ready" } else { "not_ready" }, checks, info };
    let mut res = if ready { HttpResponse::Ok() } else { HttpResponse::ServiceUnavailable() };
    res.insert_header((actix_web::http::header::CACHE_CONTROL, "no-store")).json(body)
}
