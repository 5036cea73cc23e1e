//! The background platform probe: one cheap read (card BINs) every `upstream.health_probe_s`.

use std::{sync::Arc, time::Duration};

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::upstream::{ErrorSource, MerchantClient, wire::common::ReqNoOnly};

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PlatformHealth {
    /// `unknown` (not probed yet or probing off), `up` or `down`.
    #[schema(example = "up")]
    pub status: &'static str,
    /// What failed, when down.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checked_at: Option<DateTime<Utc>>,
}

impl Default for PlatformHealth {
    fn default() -> Self {
        Self { status: "unknown", detail: None, checked_at: None }
    }
}

/// Probes every `every` until the process ends; `every` zero = never.
pub fn spawn_probe(health: Arc<super::Health>, client: MerchantClient, prefix: String, every: Duration) {
    if every.is_zero() {
        return;
    }
    tokio::spawn(async move {
        let probe = ReqNoOnly { user_req_no: format!("{prefix}_health") };
        loop {
            let (status, detail) = match client.card_bin(&probe).await {
                Ok(_) => ("up", None),
                // It answered, sealed and signed: reachable.
                Err(e) if e.source_kind() == ErrorSource::Business => ("up", None),
                Err(e) => ("down", Some(e.kind.to_string())),
            };
            crate::metrics::global().set_gauge("card_gateway_upstream_up", i64::from(status == "up"));
            *health.platform.write() = PlatformHealth { status, detail, checked_at: Some(Utc::now()) };
            tokio::time::sleep(every).await;
        }
    });
}
