//! Small helpers the resource routes share: ownership checks that answer 404 exactly like a missing
//! object, bounded fan-out of upstream reads (charged to the tenant), and a tenant's owned list.
//! Cursors and pages are in `http::pagination`.

use actix_web::{HttpResponse, web};
use futures_util::{StreamExt as _, stream};
use serde::Serialize;

use crate::{
    domain::list::{ListQuery, is_id},
    error::ApiError,
    http::pagination::{decode_cursor, encode_cursor, page},
    rate_limit::RouteClass,
    state::AppState,
    tenancy::{ObjectKind, ObjectMeta, TenantId},
    upstream::{Reply, UpstreamError},
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

/// A page that reads `calls` objects from the platform costs the caller that many reads: the
/// request itself paid one in the rate-limit middleware, the rest are charged here, before any
/// platform call, so a list cannot multiply a tenant's share of the platform's throttling by 100.
/// Refused as a whole (429, nothing fetched) when the tenant's read allowance cannot cover it.
pub async fn charge_fan_out(state: &AppState, tenant: &TenantId, calls: usize) -> Result<(), ApiError> {
    crate::rate_limit::charge(
        state.limiter.as_deref(),
        tenant.as_str(),
        RouteClass::Read,
        calls.saturating_sub(1),
        || {
            format!(
                "this page reads {calls} objects from the card platform, each charged as a read, and the read \
             allowance cannot cover it now: retry later or ask for a smaller `limit`"
            )
        },
    )
    .await
}

/// A tenant's list, newest first: one page of its index, each object read from the platform with
/// bounded concurrency and mapped to its public shape. Objects the platform no longer returns are
/// skipped; a platform failure fails the page (never a silently partial page).
pub async fn list_owned<W, T, F, Fut>(
    state: &web::Data<AppState>,
    tenant: &TenantId,
    kind: ObjectKind,
    list: &str,
    query: &ListQuery,
    fetch: F,
    map: impl Fn(&AppState, &W) -> T,
) -> Result<HttpResponse, ApiError>
where
    F: Fn(web::Data<AppState>, String) -> Fut,
    Fut: std::future::Future<Output = Result<Reply<W>, UpstreamError>>,
    T: Serialize,
{
    let after: Option<String> = decode_cursor(&state.cursors, tenant, list, query.cursor.as_deref())?;
    let index = state.ownership.list(tenant, kind, after.as_deref(), query.limit()).await?;
    charge_fan_out(state, tenant, index.ids.len()).await?;
    let replies = fan_out(index.ids, 8, |id| fetch(state.clone(), id)).await;
    let mut data = Vec::with_capacity(replies.len());
    for reply in replies {
        if let Some(w) = reply.map_err(|e| state.up(&e))?.result {
            data.push(map(state, &w));
        }
    }
    Ok(page(data, encode_cursor(&state.cursors, tenant, list, index.next)))
}
