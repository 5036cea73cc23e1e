//! `GET /v1/events`, `GET /v1/events/{id}` (the tenant's log) and `GET /v1/dead-letter-events`
//! (operators: events no tenant owns).

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use utoipa::IntoParams;

use super::{
    WebhookHub,
    events::{DeadLetter, Event, LogQuery, parse_position},
};
use crate::{
    auth::{Principal, Scope},
    domain::list::{DEFAULT_LIMIT, MAX_LIMIT, Page, is_id},
    error::ApiError,
    http::{
        extract::ValidQuery,
        pagination::{decode_cursor, encode_cursor, page},
        validate::{Validate, Violations},
    },
    state::AppState,
    tenancy::TenantId,
};

/// `GET /v1/events` query.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EventListQuery {
    /// Page size, 1–100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<usize>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Only this event type, e.g. `card.transaction`.
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub kind: Option<String>,
    /// Only events about this object (card, group, crypto order id).
    pub object_id: Option<String>,
}

impl Validate for EventListQuery {
    fn validate(&self, v: &mut Violations) {
        if let Some(l) = self.limit {
            v.check((1..=MAX_LIMIT).contains(&l), "query.limit", "must be between 1 and 100");
        }
        if let Some(k) = &self.kind {
            super::events::EVENT_TYPE.check(v, Some(k), "query.type");
        }
        if let Some(o) = &self.object_id {
            v.check(is_id(o), "query.object_id", "is not an id");
        }
        if let Some(c) = &self.cursor {
            crate::http::rules::CURSOR.check(v, Some(c), "query.cursor");
        }
    }
}

/// `GET /v1/dead-letter-events` query.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DeadLetterQuery {
    /// Page size, 1–100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<usize>,
    pub cursor: Option<String>,
}

impl Validate for DeadLetterQuery {
    fn validate(&self, v: &mut Violations) {
        if let Some(l) = self.limit {
            v.check((1..=MAX_LIMIT).contains(&l), "query.limit", "must be between 1 and 100");
        }
        if let Some(c) = &self.cursor {
            crate::http::rules::CURSOR.check(v, Some(c), "query.cursor");
        }
    }
}

/// Cursors of the events list are bound to the filters too, so one cannot be replayed under others.
fn list_name(q: &EventListQuery) -> String {
    format!("events|{}|{}", q.kind.as_deref().unwrap_or(""), q.object_id.as_deref().unwrap_or(""))
}

/// The tenant's events, newest first.
///
/// One-time codes (`data.otp` of `card.3ds_otp`, `data.activation_code` of
/// `physical_card.activation_code`) are shown only to a token that also holds `events:secrets`;
/// for any other token they are `null` and `data.redacted` is `true`. Outbound webhook deliveries
/// always carry them.
#[utoipa::path(get, path = "/v1/events", tag = "events", operation_id = "list_events",
    params(EventListQuery),
    responses((status = 200, description = "A page of events (a filtered page may be short; follow `next_cursor`)", body = inline(Page<Event>))),
    security(("bearer" = ["events:read"])))]
pub async fn list_events(
    state: web::Data<AppState>,
    hub: web::Data<WebhookHub>,
    who: Principal,
    q: ValidQuery<EventListQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = q.0;
    let name = list_name(&q);
    let before: Option<String> = decode_cursor(&state.cursors, &who.tenant, &name, q.cursor.as_deref())?;
    if before.as_deref().is_some_and(|b| parse_position(b).is_none()) {
        return Err(ApiError::field("query.cursor", "is not a cursor issued by this API for this list"));
    }
    let query = LogQuery {
        before,
        limit: q.limit.unwrap_or(DEFAULT_LIMIT),
        kind: q.kind.clone(),
        object_id: q.object_id.clone(),
    };
    let log = hub.store.list(&who.tenant, &query).await?;
    let secrets = who.scopes.contains(Scope::EventsSecrets);
    let data: Vec<Event> = log.entries.iter().map(|l| l.for_reader(secrets)).collect();
    Ok(page(data, encode_cursor(&state.cursors, &who.tenant, &name, log.next)))
}

/// One event.
///
/// One-time codes (`data.otp`, `data.activation_code`) are present only for a token that also holds
/// `events:secrets`; otherwise they are `null` and `data.redacted` is `true`.
#[utoipa::path(get, path = "/v1/events/{id}", tag = "events", operation_id = "get_event",
    params(("id" = String, Path, description = "Event id")),
    responses((status = 200, description = "The event", body = Event)),
    security(("bearer" = ["events:read"])))]
pub async fn get_event(
    hub: web::Data<WebhookHub>,
    who: Principal,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    if !is_id(&id) {
        return Err(ApiError::not_found("event_not_found", "event"));
    }
    let logged = hub.store.get(&who.tenant, &id).await?;
    let event = logged.ok_or_else(|| ApiError::not_found("event_not_found", "event"))?;
    Ok(HttpResponse::Ok().json(event.for_reader(who.scopes.contains(Scope::EventsSecrets))))
}

/// Events no tenant owns (merchant-wide; treasury scopes only). Secrets are never kept here.
#[utoipa::path(get, path = "/v1/dead-letter-events", tag = "events", operation_id = "list_dead_letter_events",
    params(DeadLetterQuery),
    responses((status = 200, description = "A page of dead letters, newest first", body = inline(Page<DeadLetter>))),
    security(("bearer" = ["treasury:read"])))]
pub async fn list_dead_letter_events(
    state: web::Data<AppState>,
    hub: web::Data<WebhookHub>,
    who: Principal,
    q: ValidQuery<DeadLetterQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = q.0;
    // Dead letters are merchant-wide; the cursor is still bound to the caller's tenant like every cursor.
    let tenant: &TenantId = &who.tenant;
    let before: Option<String> = decode_cursor(&state.cursors, tenant, "dead-letters", q.cursor.as_deref())?;
    let (items, next) = hub.store.dead_letters(before.as_deref(), q.limit.unwrap_or(DEFAULT_LIMIT)).await?;
    let data: Vec<DeadLetter> = items.into_iter().map(|(_, d)| d).collect();
    Ok(page(data, encode_cursor(&state.cursors, tenant, "dead-letters", next)))
}
