//! `POST /webhooks/merchant`: the platform's notifications (docs/platform.md §6.1).
//!
//! Order of checks: source IP (optional allow-list) → outer JSON (or a wholly encrypted body) →
//! `userNo` is ours → `data` opened with the platform public key (a hex string; a plain object only when
//! `inbound_accept_plain_data`) → normalised → routed → finished operation (order results) → recorded.
//! `SUCCESS` (exactly, text/plain) only after the event is durably recorded; any failure answers
//! problem+json so the platform retries. Rejections are counted and logged with the reason only —
//! never the body, which may hold a PAN, CVV or OTP.

use actix_web::{HttpRequest, HttpResponse, http::StatusCode, web};
use chrono::Utc;
use serde_json::Value;

use super::{
    WebhookHub,
    events::DeadLetter,
    metrics::inc,
    normalize::{Normalized, Normalizer},
    routing::{Destination, route},
};
use crate::{
    error::ApiError,
    operations::resolve::{OrderState, OrderStatus, apply},
    state::AppState,
    tenancy::{ObjectKind, TenantId},
    upstream::wire::webhook::{CardOperate, WebhookEnvelope},
};

/// Receive a platform notification.
#[utoipa::path(post, path = "/webhooks/merchant", tag = "webhooks", operation_id = "receive_merchant_webhook",
    request_body(content = Object, description = "The platform's webhook envelope `{type, data, version, userNo}`; `data` is RSA-sealed hex (docs/platform.md §6.1)"),
    responses(
        (status = 200, description = "Recorded: the body is exactly `SUCCESS`", content_type = "text/plain", body = String),
        (status = 400, description = "Malformed or undecryptable (the platform retries)", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Source IP not allowed, or not addressed to our merchant number", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body larger than 256 KiB", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 503, description = "Could not be recorded now (the platform retries)", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 500, description = "Internal error, e.g. an order result naming an object another tenant owns (the platform retries)", body = crate::error::Problem, content_type = "application/problem+json"),
    ))]
pub async fn receive_merchant_webhook(
    state: web::Data<AppState>,
    hub: web::Data<WebhookHub>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    inc(&hub.metrics.inbound_received);
    if let Some(peer) = req.peer_addr() {
        let forwarded = req.headers().get("x-forwarded-for").and_then(|v| v.to_str().ok());
        if !hub.allow.allows(hub.trusted_proxies.client_ip(peer.ip(), forwarded)) {
            return Err(reject(&hub, Reason::SourceIp, "-"));
        }
    }
    let body = read_body(&hub, &req, payload).await?;
    let (kind, data) = open(&hub, &body)?;
    let normalizer = Normalizer { codes: state.codes(), clock: &state.clock, ids: &hub.ids };
    let normalized = normalizer.normalize(&kind, &data, Utc::now()).map_err(|e| {
        tracing::warn!(webhook.type = %kind, reason = %crate::http::log_value::capped(&e.reason), "webhook payload rejected");
        reject(&hub, Reason::Malformed, &kind)
    })?;
    drop(data);
    if is_stale(normalized.event.occurred_at, hub.settings.inbound_max_age_s, Utc::now()) {
        return Err(reject(&hub, Reason::Stale, &kind));
    }
    process(&state, &hub, normalized).await.inspect_err(|e| {
        inc(&hub.metrics.inbound_store_failures);
        tracing::warn!(webhook.type = %kind, error = %e.detail, "webhook not recorded; the platform will retry");
    })?;
    Ok(HttpResponse::Ok().content_type("text/plain").body("SUCCESS"))
}

/// A notification older than its de-duplication could be forgotten is refused (a captured one replayed
/// later); one without a signed time is judged by its id alone.
fn is_stale(occurred_at: Option<chrono::DateTime<Utc>>, max_age_s: u64, now: chrono::DateTime<Utc>) -> bool {
    let max_age = i64::try_from(max_age_s).ok().and_then(chrono::Duration::try_seconds);
    match (max_age_s, occurred_at, max_age) {
        (0, _, _) | (_, None, _) | (_, _, None) => false,
        (_, Some(at), Some(max_age)) => now.signed_duration_since(at) > max_age,
    }
}

/// Largest body accepted (a notification is a few KiB of sealed hex).
const MAX_BODY: usize = 256 * 1024;

/// The body, at most [`MAX_BODY`] bytes; larger is a problem+json 413 (as on every other route), not
/// the framework's plain-text one.
async fn read_body(hub: &WebhookHub, req: &HttpRequest, mut payload: web::Payload) -> Result<web::BytesMut, ApiError> {
    let too_large = || {
        inc(&hub.metrics.inbound_rejected_malformed);
        tracing::warn!(reason = "payload_too_large", "webhook rejected");
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("the request body exceeds {MAX_BODY} bytes"),
        )
    };
    let declared = req.headers().get(actix_web::http::header::CONTENT_LENGTH).and_then(|v| v.to_str().ok());
    if declared.and_then(|v| v.parse::<usize>().ok()).is_some_and(|n| n > MAX_BODY) {
        return Err(too_large());
    }
    let mut body = web::BytesMut::new();
    while let Some(chunk) = futures_util::StreamExt::next(&mut payload).await {
        let chunk = chunk.map_err(|_| reject(hub, Reason::Malformed, "-"))?;
        if body.len() + chunk.len() > MAX_BODY {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

#[derive(Debug, Clone, Copy)]
enum Reason {
    SourceIp,
    Malformed,
    Undecryptable,
    Foreign,
    PlainData,
    Stale,
}

fn reject(hub: &WebhookHub, reason: Reason, kind: &str) -> ApiError {
    let m = &hub.metrics;
    let (counter, status, code, detail) = match reason {
        Reason::SourceIp => (
            &m.inbound_rejected_source_ip,
            StatusCode::FORBIDDEN,
            "webhook_source_not_allowed",
            "this source address may not post webhooks",
        ),
        Reason::Malformed => (
            &m.inbound_rejected_malformed,
            StatusCode::BAD_REQUEST,
            "webhook_malformed",
            "the webhook body is not a readable platform notification",
        ),
        Reason::Undecryptable => (
            &m.inbound_rejected_undecryptable,
            StatusCode::BAD_REQUEST,
            "webhook_undecryptable",
            "the webhook data does not open with the platform key",
        ),
        Reason::Foreign => (
            &m.inbound_rejected_foreign,
            StatusCode::FORBIDDEN,
            "webhook_foreign_merchant",
            "the webhook is not addressed to this merchant",
        ),
        Reason::PlainData => (
            &m.inbound_rejected_plain_data,
            StatusCode::BAD_REQUEST,
            "webhook_unsigned",
            "plain (unencrypted) webhook data is not accepted",
        ),
        Reason::Stale => (
            &m.inbound_rejected_stale,
            StatusCode::BAD_REQUEST,
            "webhook_stale",
            "the notification's own time is older than the gateway accepts (webhooks.inbound_max_age_s)",
        ),
    };
    inc(counter);
    tracing::warn!(webhook.type = %kind, reason = code, "webhook rejected");
    ApiError::new(status, code, detail)
}

/// The notification's type and its opened `data`.
fn open(hub: &WebhookHub, body: &[u8]) -> Result<(String, Value), ApiError> {
    let text = std::str::from_utf8(body).map_err(|_| reject(hub, Reason::Malformed, "-"))?.trim();
    // Some platforms seal the whole body, like a `result`: accept that as well.
    let envelope: WebhookEnvelope = if !text.is_empty() && text.bytes().all(|b| b.is_ascii_hexdigit()) {
        let json = hub.codec.open_bytes(text).map_err(|_| reject(hub, Reason::Undecryptable, "-"))?;
        serde_json::from_slice(&json).map_err(|_| reject(hub, Reason::Malformed, "-"))?
    } else {
        serde_json::from_str(text).map_err(|_| reject(hub, Reason::Malformed, "-"))?
    };
    let kind = envelope.kind.trim().to_owned();
    if kind.is_empty() || kind.len() > 64 || !kind.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return Err(reject(hub, Reason::Malformed, "-"));
    }
    if envelope.user_no.as_deref().map(str::trim) != Some(hub.merchant_no.as_str()) {
        return Err(reject(hub, Reason::Foreign, &kind));
    }
    let data = match envelope.data {
        Value::String(hex) => {
            let json = hub.codec.open_bytes(&hex).map_err(|_| reject(hub, Reason::Undecryptable, &kind))?;
            serde_json::from_slice(&json).map_err(|_| reject(hub, Reason::Malformed, &kind))?
        }
        Value::Object(map) if hub.settings.inbound_accept_plain_data => Value::Object(map),
        Value::Object(_) => return Err(reject(hub, Reason::PlainData, &kind)),
        _ => return Err(reject(hub, Reason::Malformed, &kind)),
    };
    if !data.is_object() {
        return Err(reject(hub, Reason::Malformed, &kind));
    }
    // The outer `type` is not signed; where the signed content names its own type, they must agree.
    let inner = ["type", "notifyType", "eventType"].iter().find_map(|f| data.get(*f));
    if inner.is_some_and(|t| t.as_str().map(str::trim) != Some(kind.as_str())) {
        return Err(reject(hub, Reason::Malformed, &kind));
    }
    Ok((kind, data))
}

/// Routes, finishes the operation of an order result, and records the event (or the dead letter).
pub async fn process(state: &AppState, hub: &WebhookHub, mut n: Normalized) -> Result<(), ApiError> {
    let (tenant, operation) = match route(state, &n.route).await? {
        Destination::DeadLetter(reason) => return dead_letter(hub, &n, reason).await,
        Destination::Tenant { tenant, operation } => (tenant, operation),
    };
    if let (Some(mut op), Some(w)) = (operation, n.operate.as_ref()) {
        let order = OrderState::from_webhook(w, state);
        let before = op.op.status;
        if let Err(e) = apply(state, &mut op, &order).await {
            if e.status == StatusCode::SERVICE_UNAVAILABLE {
                return Err(e);
            }
            tracing::error!(operation.id = %op.op.id, code = %e.code, "order result could not be applied");
        }
        // A result contradicting an already final operation (a late, out-of-order notification) is not
        // announced: the operation keeps its first final state and tenants see one outcome.
        let contradicts = before.is_final()
            && matches!(
                (before, order.status),
                (crate::domain::operation::OperationStatus::Succeeded, OrderStatus::Failed)
                    | (crate::domain::operation::OperationStatus::Failed, OrderStatus::Succeeded)
            );
        if contradicts {
            inc(&hub.metrics.inbound_conflicting);
            tracing::warn!(operation.id = %op.op.id, "order result contradicts the operation's final state; not announced");
            return Ok(());
        }
        if let Value::Object(data) = &mut n.event.data {
            data.insert("operation_id".into(), Value::String(op.op.id.clone()));
        }
        remember_card(state, &tenant, w).await?;
    }
    let appended = hub.record(state.ownership.as_ref(), &tenant, &n.event, n.secret.as_ref()).await?;
    inc(if appended.new { &hub.metrics.inbound_recorded } else { &hub.metrics.inbound_duplicates });
    tracing::info!(
        webhook.type = %n.webhook_type, event.id = %n.event.id, event.type = %n.event.kind,
        tenant = %tenant, duplicate = !appended.new, "webhook recorded"
    );
    Ok(())
}

/// A card application's result carries the card's elements: keep last4 and expiry on the card record
/// (the PAN and CVV were already dropped from the event; they are not stored anywhere).
async fn remember_card(state: &AppState, tenant: &TenantId, w: &CardOperate) -> Result<(), ApiError> {
    let (Some(info), Some(card_id)) = (&w.card_info, w.card_id.as_ref().or(w.resource_id.as_ref())) else {
        return Ok(());
    };
    let Some(mut meta) = state.ownership.get(tenant, ObjectKind::Card, card_id).await? else { return Ok(()) };
    let last4 = info.card_no.as_ref().map(|p| p.last4()).filter(|l| l.len() == 4);
    let expiry = info.card_expiry_date.as_deref().and_then(|e| state.clock.parse_expiry(e));
    let before = meta.attrs.clone();
    if let Some(l) = last4 {
        meta.attrs.insert("last4".into(), l);
    }
    if let Some((y, m)) = expiry {
        meta.attrs.insert("expiry".into(), format!("{y:04}-{m:02}"));
    }
    if meta.attrs != before {
        state.ownership.update(tenant, ObjectKind::Card, card_id, &meta).await?;
    }
    Ok(())
}

async fn dead_letter(hub: &WebhookHub, n: &Normalized, reason: &'static str) -> Result<(), ApiError> {
    let letter = DeadLetter {
        id: n.event.id.clone(),
        reason: reason.to_owned(),
        webhook_type: n.webhook_type.clone(),
        received_at: Utc::now(),
        // Without the secret part: an OTP for nobody is kept nowhere.
        event: n.event.clone(),
    };
    if hub.store.dead_letter(&letter, hub.settings.dead_letter_max).await? {
        inc(&hub.metrics.inbound_dead_lettered);
        tracing::warn!(webhook.type = %n.webhook_type, event.id = %n.event.id, reason, "webhook dead-lettered: no tenant owns its object");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone as _, Utc};

    use super::is_stale;

    #[test]
    fn only_a_signed_time_older_than_the_window_is_stale() {
        let now = Utc.with_ymd_and_hms(2026, 12, 3, 12, 0, 0).unwrap();
        let day = 86_400;
        assert!(!is_stale(Some(now - Duration::days(29)), 30 * day, now));
        assert!(is_stale(Some(now - Duration::days(31)), 30 * day, now));
        assert!(!is_stale(None, 30 * day, now), "no signed time: judged by its id alone");
        assert!(!is_stale(Some(now - Duration::days(3650)), 0, now), "0 = no check");
        assert!(!is_stale(Some(now + Duration::days(1)), 30 * day, now));
        assert!(!is_stale(Some(now - Duration::days(3650)), u64::MAX, now), "no overflow");
    }
}
