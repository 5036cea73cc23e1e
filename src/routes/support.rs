//! Small helpers the resource routes share: ownership checks that answer 404 exactly like a missing
//! object, bounded fan-out of upstream reads, and list cursors.

use actix_web::HttpResponse;
use futures_util::{StreamExt as _, stream};
use serde::{Serialize, de::DeserializeOwned};

use crate::{
    domain::list::{Page, is_id},
    error::ApiError,
    state::AppState,
    tenancy::{ObjectKind, ObjectMeta, TenantId},
};

/// The object's metadata if the tenant owns it; otherwise 404 with `code` — the same answer for a
/// malformed id, a missing object and another tenant's object.
pub async fn owned(
    state: &AppState,
    tenant: &TenantId,
    kind: ObjectKind,
    id: &str,
    code: &str,
) -> Result<ObjectMeta, ApiError> {
    if !is_id(id) {
        return Err(ApiError::not_found(code, kind_name(kind)));
    }
    match state.ownership.get(tenant, kind, id).await {
        Ok(Some(meta)) => Ok(meta),
        Ok(None) => Err(ApiError::not_found(code, kind_name(kind))),
        // Reads keep working on a flaky store only where they need no ownership; here we cannot check.
        Err(e) => Err(ApiError::store(&e, state.settings.idempotency.retry_after_s)),
    }
}

pub fn kind_name(kind: ObjectKind) -> &'static str {
    match kind {
        ObjectKind::Card => "card",
        ObjectKind::CardGroup => "card group",
        ObjectKind::Cardholder => "cardholder",
        ObjectKind::Operation => "operation",
        ObjectKind::CryptoOrder => "crypto order",
        ObjectKind::WebhookEndpoint => "webhook endpoint",
    }
}

/// Runs `f` over `ids` with bounded concurrency, keeping order.
pub async fn fan_out<T, F, Fut>(ids: Vec<String>, concurrency: usize, f: F) -> Vec<T>
where
    F: Fn(String) -> Fut,
    Fut: std::future::Future<Output = T>,
{
    stream::iter(ids).map(f).buffered(concurrency.max(1)).collect().await
}

/// Decodes a list cursor for this tenant and list; a foreign or edited cursor is a 422 on `query.cursor`.
pub fn decode_cursor<T: DeserializeOwned>(
    state: &AppState,
    tenant: &TenantId,
    list: &str,
    cursor: Option<&str>,
) -> Result<Option<T>, ApiError> {
    match cursor {
        None => Ok(None),
        Some(c) => state
            .cursors
            .decode(tenant, list, c)
            .map(Some)
            .ok_or_else(|| ApiError::field("query.cursor", "is not a cursor issued by this API for this list")),
    }
}

pub fn encode_cursor<T: Serialize>(
    state: &AppState,
    tenant: &TenantId,
    list: &str,
    position: Option<T>,
) -> Option<String> {
    position.and_then(|p| state.cursors.encode(tenant, list, &p))
}

pub fn page<T: Serialize>(data: Vec<T>, next_cursor: Option<String>) -> HttpResponse {
    HttpResponse::Ok().json(Page { data, next_cursor })
}
