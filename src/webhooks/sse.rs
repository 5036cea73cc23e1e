//! `GET /v1/events/stream`: the tenant's events as Server-Sent Events.
//!
//! Each frame is `id: <position>`, `event: <type>`, `data: <event JSON>`. A client that reconnects with
//! `Last-Event-ID` (or `?last_event_id=`) gets everything after that position still retained, then live
//! events; without one the stream starts at the present. Order is the log's order, so events about one
//! object arrive in the order they were recorded. Local appends wake the stream at once; appends by other
//! replicas are picked up by a periodic re-read (`sse_poll_ms`). Comments keep idle connections alive.
//!
//! Streams are bounded: at most `sse_max_streams_per_tenant` per tenant and `sse_max_streams_total` per
//! process are open at once (one more answers 429 `stream_limit`), and each ends when the token that
//! opened it expires, so a revoked or expired credential never keeps receiving events.

use std::{collections::HashMap, sync::Arc, time::Duration};

use actix_web::{HttpRequest, HttpResponse, web, web::Bytes};
use serde::Deserialize;
use tokio::sync::{broadcast::error::RecvError, mpsc};
use utoipa::IntoParams;

use super::{
    WebhookHub,
    events::{Logged, parse_position},
};
use crate::{
    auth::{Principal, Scope},
    error::ApiError,
    http::{
        extract::ValidQuery,
        validate::{Validate, Violations},
    },
    tenancy::TenantId,
};

const BATCH: usize = 100;

/// Retry-After (seconds) of a 429 for too many open streams.
const STREAM_LIMIT_RETRY_AFTER_S: u64 = 5;

/// Counts of open streams, per tenant and in total.
#[derive(Debug)]
pub struct StreamSlots {
    per_tenant: usize,
    total: usize,
    open: parking_lot::Mutex<(usize, HashMap<TenantId, usize>)>,
}

/// One open stream's slot; freed when dropped (the stream's pump ended).
#[derive(Debug)]
pub struct StreamSlot {
    hub: Arc<WebhookHub>,
    tenant: TenantId,
}

impl StreamSlots {
    pub fn new(per_tenant: usize, total: usize) -> Self {
        Self { per_tenant, total, open: parking_lot::Mutex::new((0, HashMap::new())) }
    }

    /// Open streams (total, this tenant's).
    pub fn open(&self, tenant: &TenantId) -> (usize, usize) {
        let open = self.open.lock();
        (open.0, open.1.get(tenant).copied().unwrap_or(0))
    }

    fn acquire(hub: &Arc<WebhookHub>, tenant: &TenantId) -> Result<StreamSlot, ApiError> {
        let slots = &hub.streams;
        let mut open = slots.open.lock();
        let (total, per_tenant) = &mut *open;
        let mine = per_tenant.get(tenant).copied().unwrap_or(0);
        let refusal = if mine >= slots.per_tenant {
            Some(format!("this tenant already has {} open event streams (the most allowed)", slots.per_tenant))
        } else if *total >= slots.total {
            Some("the gateway has as many open event streams as it allows; retry later".to_owned())
        } else {
            None
        };
        if let Some(detail) = refusal {
            let mut e = ApiError::new(actix_web::http::StatusCode::TOO_MANY_REQUESTS, "stream_limit", detail);
            e.retry_after = Some(STREAM_LIMIT_RETRY_AFTER_S);
            return Err(e);
        }
        *total += 1;
        *per_tenant.entry(tenant.clone()).or_default() += 1;
        Ok(StreamSlot { hub: hub.clone(), tenant: tenant.clone() })
    }
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        let mut open = self.hub.streams.open.lock();
        let (total, per_tenant) = &mut *open;
        *total = total.saturating_sub(1);
        if let Some(n) = per_tenant.get_mut(&self.tenant) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                per_tenant.remove(&self.tenant);
            }
        }
    }
}

#[derive(Debug, Clone, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct StreamQuery {
    /// Comma-separated event types to receive (default: all).
    pub types: Option<String>,
    /// Resume after this position (the `Last-Event-ID` header wins); `0-0` replays the retained log.
    pub last_event_id: Option<String>,
}

impl Validate for StreamQuery {
    fn validate(&self, v: &mut Violations) {
        if let Some(t) = &self.types {
            super::events::TYPE_LIST.check(v, Some(t), "query.types");
        }
        if let Some(l) = &self.last_event_id {
            v.check(parse_position(l).is_some(), "query.last_event_id", "is not an event stream position");
        }
    }
}

/// The tenant's events as they are recorded (Server-Sent Events).
///
/// One-time codes (`data.otp`, `data.activation_code`) are sent only to a token that also holds
/// `events:secrets`; otherwise they are `null` and `data.redacted` is `true`.
#[utoipa::path(get, path = "/v1/events/stream", tag = "events", operation_id = "stream_events",
    params(StreamQuery, ("Last-Event-ID" = Option<String>, Header, description = "Resume after this position")),
    responses(
        (status = 200, description = "`text/event-stream`: frames `id:` (position), `event:` (type), `data:` (the event JSON). The stream ends with an `event: token_expired` frame when the token expires; reconnect with a fresh token and `Last-Event-ID`.", content_type = "text/event-stream", body = String),
        (status = 429, description = "Rate limited (`Retry-After`, `RateLimit` and `RateLimit-Policy` headers), or too many open streams for this tenant or this gateway (`stream_limit`, with `Retry-After`)", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["events:read"])))]
pub async fn stream_events(
    hub: web::Data<WebhookHub>,
    who: Principal,
    req: HttpRequest,
    q: ValidQuery<StreamQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = q.0;
    let header = req
        .headers()
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        // An empty header is no position (a fresh stream), as browsers' EventSource never sends one.
        .filter(|h| !h.is_empty())
        .map(str::to_owned);
    if header.as_deref().is_some_and(|h| parse_position(h).is_none()) {
        return Err(ApiError::bad_request("invalid_last_event_id", "Last-Event-ID is not an event stream position"));
    }
    let hub = hub.into_inner();
    let start = match header.or(q.last_event_id) {
        Some(p) => Some(p),
        None => hub.store.head(&who.tenant).await?,
    };
    let types: Option<Vec<String>> = q.types.map(|t| t.split(',').map(|x| x.trim().to_owned()).collect());
    let slot = StreamSlots::acquire(&hub, &who.tenant)?;
    // The stream ends when the token does (`exp`; a token without one is refused by the verifier).
    let ends_in = who.expires_at.map_or(Duration::ZERO, |exp| {
        Duration::from_secs(u64::try_from(exp.saturating_sub(chrono::Utc::now().timestamp())).unwrap_or(0))
    });
    let (tx, rx) = mpsc::channel::<Bytes>(64);
    let secrets = who.scopes.contains(Scope::EventsSecrets);
    tokio::spawn(pump(hub, who.tenant, start, Filter { types, secrets }, tx, slot, ends_in));
    let body = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|b| (Ok::<Bytes, actix_web::Error>(b), rx))
    });
    Ok(HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .insert_header(("X-Accel-Buffering", "no"))
        .streaming(body))
}

/// What one stream sends: which event types, and whether with their one-time codes.
struct Filter {
    types: Option<Vec<String>>,
    /// The token holds `events:secrets`.
    secrets: bool,
}

fn frame(l: &Logged, secrets: bool) -> Bytes {
    let json = serde_json::to_string(&l.for_reader(secrets)).unwrap_or_default();
    Bytes::from(format!("id: {}\nevent: {}\ndata: {json}\n\n", l.position, l.event.kind))
}

/// Feeds one stream until the client goes away or the server stops.
async fn pump(
    hub: Arc<WebhookHub>,
    tenant: TenantId,
    mut cursor: Option<String>,
    Filter { types, secrets }: Filter,
    tx: mpsc::Sender<Bytes>,
    _slot: StreamSlot,
    ends_in: Duration,
) {
    let expiry = tokio::time::sleep(ends_in);
    tokio::pin!(expiry);
    let mut live = hub.live.subscribe();
    let mut shutdown = hub.shutdown_signal();
    let poll = Duration::from_millis(hub.settings.sse_poll_ms);
    let mut keepalive = tokio::time::interval(Duration::from_secs(hub.settings.sse_keepalive_s.max(1)));
    keepalive.tick().await;
    if tx.send(Bytes::from_static(b"retry: 2000\n: connected\n\n")).await.is_err() {
        return;
    }
    loop {
        // Catch up with the log.
        loop {
            let batch = match hub.store.read_after(&tenant, cursor.as_deref(), BATCH).await {
                Ok(b) => b,
                Err(e) => {
                    tracing::warn!(error = %e, "event stream could not read the log; retrying");
                    break;
                }
            };
            let n = batch.len();
            for l in batch {
                cursor = Some(l.position.clone());
                if types.as_ref().is_some_and(|t| !t.contains(&l.event.kind)) {
                    continue;
                }
                if tx.send(frame(&l, secrets)).await.is_err() {
                    return;
                }
            }
            if n < BATCH {
                break;
            }
        }
        // Wait for something relevant.
        let wake = async {
            loop {
                match live.recv().await {
                    Ok(t) if t == tenant => return true,
                    Ok(_) => {}
                    Err(RecvError::Lagged(_)) => return true,
                    Err(RecvError::Closed) => return false,
                }
            }
        };
        tokio::select! {
            open = wake => if !open { return },
            () = tokio::time::sleep(poll) => {}
            _ = keepalive.tick() => {
                if tx.send(Bytes::from_static(b": keep-alive\n\n")).await.is_err() {
                    return;
                }
            }
            _ = shutdown.changed() => {
                // Draining: tell the client to reconnect (to another replica) shortly.
                let _ = tx.send(Bytes::from_static(b"retry: 1000\n: server shutting down, reconnect\n\n")).await;
                return;
            }
            () = tx.closed() => return,
            () = &mut expiry => {
                let _ = tx.send(Bytes::from_static(b"event: token_expired\ndata: {}\n\n")).await;
                return;
            }
        }
    }
}
