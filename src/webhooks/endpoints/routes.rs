//! `/v1/webhook-endpoints…` (`events:manage`): create, list, read, update, delete, rotate the secret,
//! inspect deliveries and replay. Ids of created things derive from (tenant, Idempotency-Key), so a
//! retried create or replay makes nothing twice even without a stored response.

use actix_web::{HttpResponse, http::StatusCode, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{EndpointStatus, StoredEndpoint, WebhookEndpoint, WebhookEndpointWithSecret, all, load, save, url_guard};
use crate::{
    auth::Principal,
    domain::list::{ListQuery, Page, is_id},
    error::ApiError,
    http::{
        extract::{OptionalJson, ValidJson, ValidQuery},
        pagination::{decode_cursor, encode_cursor, page},
        validate::{Validate, Violations},
    },
    idempotency::{IdemOutcome, mark, mark_with_replay},
    operations::WriteCtx,
    rate_limit::{self, RouteClass},
    sensitive::contains_card_number,
    state::AppState,
    tenancy::{ObjectKind, TenantId},
    webhooks::{
        WebhookHub,
        delivery::{Delivery, Queued},
        events::{EVENT_TYPES, LogQuery},
        signing,
    },
};

const NOT_FOUND: &str = "webhook_endpoint_not_found";
/// Longest overlap of the old and new secret after a rotation (seconds).
pub const MAX_KEEP_PREVIOUS_S: u64 = 86_400;
/// Most events one replay names.
pub const MAX_REPLAY_IDS: usize = 100;
/// Endpoints per tenant (each event fans out to all of them).
const MAX_ENDPOINTS: usize = 20;

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateEndpoint {
    /// `https://` (http and private addresses only in development); no card number in it.
    #[schema(example = "https://hooks.example.com/card-events")]
    pub url: String,
    pub description: Option<String>,
    /// Event types to deliver; omitted or empty = all.
    #[serde(default)]
    pub event_types: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateEndpoint {
    pub url: Option<String>,
    pub description: Option<String>,
    pub event_types: Option<Vec<String>>,
    /// `enabled` re-enables an endpoint disabled by 410 Gone or by the tenant.
    pub status: Option<EndpointStatus>,
}

#[derive(Debug, Clone, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct RotateSecret {
    /// Keep signing with the old secret too for this long (seconds, ≤ 86400), so receivers can switch over.
    #[serde(default, deserialize_with = "crate::http::rules::integral_u64")]
    pub keep_previous_for_s: u64,
}

#[derive(Debug, Clone, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct ReplayRequest {
    /// Re-deliver these events.
    #[serde(default)]
    pub event_ids: Vec<String>,
    /// Re-deliver the endpoint's events recorded at or after this time (with `until`, up to it).
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ReplayResult {
    /// New deliveries (each with the event's id as `webhook-id`).
    pub delivery_ids: Vec<String>,
}

fn check_types(v: &mut Violations, pointer: &str, types: &[String]) {
    v.check(types.len() <= EVENT_TYPES.len(), pointer, "lists too many event types");
    // (The document states the same bound as maxItems.)
    for t in types {
        crate::webhooks::events::EVENT_TYPE.check(v, Some(t), pointer);
    }
}

impl Validate for CreateEndpoint {
    fn validate(&self, v: &mut Violations) {
        v.text(self.description.as_deref(), "#/description", 200);
        check_types(v, "#/event_types", &self.event_types);
    }
}

impl Validate for UpdateEndpoint {
    fn validate(&self, v: &mut Violations) {
        v.text(self.description.as_deref(), "#/description", 200);
        if let Some(t) = &self.event_types {
            check_types(v, "#/event_types", t);
        }
    }
}

impl Validate for RotateSecret {
    fn validate(&self, v: &mut Violations) {
        v.check(
            self.keep_previous_for_s <= MAX_KEEP_PREVIOUS_S,
            "#/keep_previous_for_s",
            &format!("must be at most {MAX_KEEP_PREVIOUS_S}"),
        );
    }
}

impl Validate for ReplayRequest {
    fn validate(&self, v: &mut Violations) {
        v.check(!self.event_ids.is_empty() || self.since.is_some(), "#", "give event_ids or since");
        v.check(self.event_ids.len() <= MAX_REPLAY_IDS, "#/event_ids", "at most 100 ids");
        v.check(self.event_ids.iter().all(|i| is_id(i)), "#/event_ids", "contains an invalid id");
        v.date(self.since.map(|t| t.date_naive()), "#/since");
        v.date(self.until.map(|t| t.date_naive()), "#/until");
        if let (Some(s), Some(u)) = (self.since, self.until) {
            v.check(s <= u, "#/until", "must not be before `since`");
        }
    }
}

fn checked_url(state: &AppState, url: &str) -> Result<String, ApiError> {
    let checked = url_guard::check_url(url, state.settings.webhooks.allow_private_targets)
        .map(|u| u.to_string())
        .map_err(|why| ApiError::field("#/url", why))?;
    // The URL is shown on every later read and list, like free text: no card number in it.
    if contains_card_number(url) || contains_card_number(&checked) {
        return Err(ApiError::field("#/url", "must not contain a card number"));
    }
    Ok(checked)
}

async fn owned_endpoint(state: &AppState, tenant: &TenantId, id: &str) -> Result<StoredEndpoint, ApiError> {
    if !is_id(id) {
        return Err(ApiError::not_found(NOT_FOUND, "webhook endpoint"));
    }
    load(state.ownership.as_ref(), tenant, id).await?.ok_or_else(|| ApiError::not_found(NOT_FOUND, "webhook endpoint"))
}

async fn store(state: &AppState, tenant: &TenantId, e: &StoredEndpoint) -> Result<(), ApiError> {
    if save(state.ownership.as_ref(), tenant, e).await? {
        Ok(())
    } else {
        Err(ApiError::internal("webhook endpoint id collision across tenants"))
    }
}

/// Register an endpoint. The answer shows the signing secret — the only time it is shown.
#[utoipa::path(post, path = "/v1/webhook-endpoints", tag = "webhook-endpoints", operation_id = "create_webhook_endpoint",
    request_body = CreateEndpoint,
    params(("Idempotency-Key" = String, Header, description = "Idempotency key")),
    responses(
        (status = 201, description = "Created, with its `whsec_` secret. The secret is shown once: a replay of this answer (same Idempotency-Key, header `Idempotent-Replayed: true`) has the same status and the endpoint without `secret`", body = WebhookEndpointWithSecret),
        (status = 200, description = "A retry with the key of an earlier create whose stored answer expired: the endpoint it created, without the secret (shown once)", body = WebhookEndpoint),
    ),
    security(("bearer" = ["events:manage"])))]
pub async fn create_webhook_endpoint(
    state: web::Data<AppState>,
    hub: web::Data<WebhookHub>,
    ctx: WriteCtx,
    body: ValidJson<CreateEndpoint>,
) -> Result<HttpResponse, ApiError> {
    let req = body.0;
    let url = checked_url(&state, &req.url)?;
    let id = hub.derive_id("we", "webhook_endpoint", &[ctx.tenant.as_str(), &ctx.key]);
    if let Some(existing) = load(state.ownership.as_ref(), &ctx.tenant, &id).await? {
        // A retry of a create whose answer was lost: the endpoint, without showing the secret again.
        return Ok(mark(HttpResponse::Ok().json(existing.public()), IdemOutcome::Final));
    }
    if all(state.ownership.as_ref(), &ctx.tenant).await?.len() >= MAX_ENDPOINTS {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "too_many_webhook_endpoints",
            format!("a tenant may have at most {MAX_ENDPOINTS} endpoints"),
        ));
    }
    let now = Utc::now();
    let mut types = req.event_types;
    types.sort();
    types.dedup();
    let e = StoredEndpoint {
        id,
        url,
        description: req.description,
        event_types: types,
        status: EndpointStatus::Enabled,
        disabled_reason: None,
        created_at: now,
        updated_at: now,
        secret: signing::new_secret(),
        previous_secret: None,
        previous_secret_expires_at: None,
        deleted: false,
    };
    store(&state, &ctx.tenant, &e).await?;
    tracing::info!(tenant = %ctx.tenant, endpoint.id = %e.id, "webhook endpoint created");
    // Replays (and the stored record) get the endpoint without its secret: it is shown once.
    Ok(mark_with_replay(
        HttpResponse::Created()
            .insert_header((actix_web::http::header::LOCATION, format!("/v1/webhook-endpoints/{}", e.id)))
            .json(WebhookEndpointWithSecret::from(&e)),
        IdemOutcome::Final,
        &e.public(),
    ))
}

/// The tenant's endpoints, newest first.
#[utoipa::path(get, path = "/v1/webhook-endpoints", tag = "webhook-endpoints", operation_id = "list_webhook_endpoints",
    params(ListQuery),
    responses((status = 200, description = "A page of endpoints", body = inline(Page<WebhookEndpoint>))),
    security(("bearer" = ["events:manage"])))]
pub async fn list_webhook_endpoints(
    state: web::Data<AppState>,
    who: Principal,
    q: ValidQuery<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = q.0;
    let after: Option<String> = decode_cursor(&state.cursors, &who.tenant, "webhook-endpoints", q.cursor.as_deref())?;
    let index = state.ownership.list(&who.tenant, ObjectKind::WebhookEndpoint, after.as_deref(), q.limit()).await?;
    let mut data = Vec::with_capacity(index.ids.len());
    for id in &index.ids {
        if let Some(e) = load(state.ownership.as_ref(), &who.tenant, id).await? {
            data.push(e.public());
        }
    }
    Ok(page(data, encode_cursor(&state.cursors, &who.tenant, "webhook-endpoints", index.next)))
}

/// One endpoint (without its secret).
#[utoipa::path(get, path = "/v1/webhook-endpoints/{id}", tag = "webhook-endpoints", operation_id = "get_webhook_endpoint",
    params(("id" = String, Path, description = "Endpoint id")),
    responses((status = 200, description = "The endpoint", body = WebhookEndpoint)),
    security(("bearer" = ["events:manage"])))]
pub async fn get_webhook_endpoint(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(owned_endpoint(&state, &who.tenant, &id).await?.public()))
}

/// Change the URL, description, event types, or enable/disable.
#[utoipa::path(patch, path = "/v1/webhook-endpoints/{id}", tag = "webhook-endpoints", operation_id = "update_webhook_endpoint",
    params(("id" = String, Path, description = "Endpoint id"), ("Idempotency-Key" = String, Header, description = "Idempotency key")),
    request_body = UpdateEndpoint,
    responses((status = 200, description = "The updated endpoint", body = WebhookEndpoint)),
    security(("bearer" = ["events:manage"])))]
pub async fn update_webhook_endpoint(
    state: web::Data<AppState>,
    ctx: WriteCtx,
    id: web::Path<String>,
    body: ValidJson<UpdateEndpoint>,
) -> Result<HttpResponse, ApiError> {
    let req = body.0;
    let mut e = owned_endpoint(&state, &ctx.tenant, &id).await?;
    if let Some(url) = &req.url {
        e.url = checked_url(&state, url)?;
    }
    if req.description.is_some() {
        e.description = req.description;
    }
    if let Some(mut t) = req.event_types {
        t.sort();
        t.dedup();
        e.event_types = t;
    }
    match req.status {
        Some(EndpointStatus::Enabled) => {
            e.status = EndpointStatus::Enabled;
            e.disabled_reason = None;
        }
        Some(EndpointStatus::Disabled) if e.status == EndpointStatus::Enabled => {
            e.status = EndpointStatus::Disabled;
            e.disabled_reason = Some("disabled_by_tenant".into());
        }
        _ => {}
    }
    e.updated_at = Utc::now();
    store(&state, &ctx.tenant, &e).await?;
    Ok(mark(HttpResponse::Ok().json(e.public()), IdemOutcome::Final))
}

/// Delete an endpoint; its pending deliveries are cancelled.
#[utoipa::path(delete, path = "/v1/webhook-endpoints/{id}", tag = "webhook-endpoints", operation_id = "delete_webhook_endpoint",
    params(("id" = String, Path, description = "Endpoint id"), ("Idempotency-Key" = String, Header, description = "Idempotency key")),
    responses((status = 204, description = "Deleted")),
    security(("bearer" = ["events:manage"])))]
pub async fn delete_webhook_endpoint(
    state: web::Data<AppState>,
    ctx: WriteCtx,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let mut e = owned_endpoint(&state, &ctx.tenant, &id).await?;
    e.deleted = true;
    e.updated_at = Utc::now();
    // Keep nothing secret in the tombstone.
    e.secret = String::new();
    e.previous_secret = None;
    store(&state, &ctx.tenant, &e).await?;
    // Out of the index, so inbound events and the endpoint cap no longer walk it; the tombstone stays
    // (a retried delete, or a delivery in flight, still finds it deleted).
    let created_ms = e.created_at.timestamp_millis();
    state.ownership.unindex(&ctx.tenant, ObjectKind::WebhookEndpoint, &e.id, created_ms).await?;
    Ok(mark(HttpResponse::NoContent().finish(), IdemOutcome::Final))
}

/// Replace the signing secret; the answer shows the new one, once.
#[utoipa::path(post, path = "/v1/webhook-endpoints/{id}/rotate-secret", tag = "webhook-endpoints", operation_id = "rotate_webhook_endpoint_secret",
    params(("id" = String, Path, description = "Endpoint id"), ("Idempotency-Key" = String, Header, description = "Idempotency key")),
    request_body(content = Option<RotateSecret>, description = "Optional overlap during which both secrets sign"),
    responses((status = 200, description = "The endpoint with its new secret. The secret is shown once: a replay of this answer (same Idempotency-Key) has the endpoint without `secret`", body = WebhookEndpointWithSecret)),
    security(("bearer" = ["events:manage"])))]
pub async fn rotate_webhook_endpoint_secret(
    state: web::Data<AppState>,
    ctx: WriteCtx,
    id: web::Path<String>,
    body: OptionalJson<RotateSecret>,
) -> Result<HttpResponse, ApiError> {
    let req = body.0.unwrap_or_default();
    let mut e = owned_endpoint(&state, &ctx.tenant, &id).await?;
    let now = Utc::now();
    if req.keep_previous_for_s > 0 {
        e.previous_secret = Some(e.secret.clone());
        e.previous_secret_expires_at = Some(now + chrono::Duration::seconds(req.keep_previous_for_s as i64));
    } else {
        e.previous_secret = None;
        e.previous_secret_expires_at = None;
    }
    e.secret = signing::new_secret();
    e.updated_at = now;
    store(&state, &ctx.tenant, &e).await?;
    Ok(mark_with_replay(HttpResponse::Ok().json(WebhookEndpointWithSecret::from(&e)), IdemOutcome::Final, &e.public()))
}

/// Delivery attempts to this endpoint, newest first.
#[utoipa::path(get, path = "/v1/webhook-endpoints/{id}/deliveries", tag = "webhook-endpoints", operation_id = "list_webhook_deliveries",
    params(("id" = String, Path, description = "Endpoint id"), ListQuery),
    responses((status = 200, description = "A page of deliveries with their attempts", body = inline(Page<Delivery>))),
    security(("bearer" = ["events:manage"])))]
pub async fn list_webhook_deliveries(
    state: web::Data<AppState>,
    hub: web::Data<WebhookHub>,
    who: Principal,
    id: web::Path<String>,
    q: ValidQuery<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = q.0;
    let e = owned_endpoint(&state, &who.tenant, &id).await?;
    let list = format!("deliveries|{}", e.id);
    let before: Option<String> = decode_cursor(&state.cursors, &who.tenant, &list, q.cursor.as_deref())?;
    let (items, next) = hub.queue.list_for_endpoint(&e.id, before.as_deref(), q.limit()).await?;
    let data: Vec<Delivery> =
        items.into_iter().filter(|i| i.tenant == who.tenant.as_str()).map(|i| i.delivery).collect();
    Ok(page(data, encode_cursor(&state.cursors, &who.tenant, &list, next)))
}

/// Deliver events again (same `webhook-id` as before: receivers de-duplicate).
#[utoipa::path(post, path = "/v1/webhook-endpoints/{id}/replay", tag = "webhook-endpoints", operation_id = "replay_webhook_events",
    params(("id" = String, Path, description = "Endpoint id"), ("Idempotency-Key" = String, Header, description = "Idempotency key")),
    request_body = ReplayRequest,
    responses((status = 202, description = "Deliveries scheduled", body = ReplayResult)),
    security(("bearer" = ["events:manage"])))]
pub async fn replay_webhook_events(
    state: web::Data<AppState>,
    hub: web::Data<WebhookHub>,
    ctx: WriteCtx,
    id: web::Path<String>,
    body: ValidJson<ReplayRequest>,
) -> Result<HttpResponse, ApiError> {
    let req = body.0;
    let e = owned_endpoint(&state, &ctx.tenant, &id).await?;
    if e.status != EndpointStatus::Enabled {
        return Err(ApiError::conflict("webhook_endpoint_disabled", "enable the endpoint before replaying to it"));
    }
    let max = hub.settings.replay_max_events;
    let mut events = Vec::new();
    for eid in &req.event_ids {
        let l = hub.store.get(&ctx.tenant, eid).await?;
        events.push(l.ok_or_else(|| ApiError::field("#/event_ids", "names an event that is not in the log"))?.event);
    }
    if let Some(since) = req.since {
        let until = req.until.unwrap_or_else(Utc::now);
        let mut q = LogQuery { limit: 100, ..Default::default() };
        'scan: loop {
            let page = hub.store.list(&ctx.tenant, &q).await?;
            for l in page.entries {
                if l.event.created_at < since {
                    break 'scan;
                }
                if l.event.created_at <= until && e.wants(&l.event.kind) {
                    if events.len() == max {
                        return Err(ApiError::field(
                            "#/since",
                            "selects more events than one replay may re-deliver; narrow the window",
                        ));
                    }
                    events.push(l.event);
                }
            }
            match page.next {
                Some(n) => q.before = Some(n),
                None => break,
            }
        }
        // Oldest first, as they happened.
        events.reverse();
    }
    // Each re-delivery costs an event read and an outbound POST: charged as reads, before anything
    // is queued, so replays cannot multiply a tenant's share of the delivery workers.
    let n = events.len();
    rate_limit::charge(state.limiter.as_deref(), ctx.tenant.as_str(), RouteClass::Read, n, || {
        format!(
            "this replay re-delivers {n} events, each charged as a read, and the read allowance cannot \
             cover it now: retry later or replay fewer events"
        )
    })
    .await?;
    let mut ids = Vec::with_capacity(events.len());
    for ev in &events {
        let did = hub.derive_id("dlv", "replay", &[&e.id, &ev.id, &ctx.key]);
        hub.queue.enqueue(&Queued::new(ctx.tenant.as_str(), did.clone(), &e.id, &ev.id, &ev.kind, true)).await?;
        ids.push(did);
    }
    hub.wake.notify_one();
    Ok(mark(HttpResponse::Accepted().json(ReplayResult { delivery_ids: ids }), IdemOutcome::Final))
}
