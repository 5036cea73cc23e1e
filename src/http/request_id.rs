//! The outermost middleware: request id (taken from `X-Request-Id` when well-formed), the request
//! span, and one access-log event per request. The span carries the route *template* (never raw ids
//! or query strings) and a SHA-256 prefix of the Authorization header (never the token).

use std::time::Instant;

use actix_web::{
    Error,
    body::MessageBody,
    dev::{ServiceRequest, ServiceResponse},
    http::header::{HeaderName, HeaderValue},
    middleware::Next,
};
use tracing::{Instrument, field::Empty};

/// The header name and the task-local are in [`crate::telemetry::request_id`], which `upstream` reads too.
pub use crate::telemetry::request_id::HEADER;
use crate::telemetry::request_id::REQUEST_ID;

/// Accepts 1–128 characters of `[A-Za-z0-9._:-]` that do not contain a card number (the id is echoed
/// and logged on every line of the request); anything else is replaced by a fresh id.
pub fn well_formed(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 128
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b"._:-".contains(&b))
        && !crate::sensitive::contains_card_number(id)
}

fn hashed_authorization(req: &ServiceRequest) -> String {
    use sha2::{Digest, Sha256};
    match req.headers().get(actix_web::http::header::AUTHORIZATION) {
        Some(v) => hex::encode(&Sha256::digest(v.as_bytes())[..8]),
        None => String::new(),
    }
}

/// `fut` with the current request's id and trace context, for a task spawned from the request.
pub fn carry<F: std::future::Future>(fut: F) -> impl std::future::Future<Output = F::Output> {
    let id = crate::telemetry::request_id::current();
    REQUEST_ID.scope(id, crate::telemetry::propagation::scope(crate::telemetry::propagation::current(), fut))
}

pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let id = req
        .headers()
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| well_formed(v))
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let route = req.match_pattern().unwrap_or_else(|| "<unmatched>".to_owned());
    let method = super::log_value::method_label(req.method());
    let caller_trace = crate::telemetry::propagation::incoming(req.headers());
    let span = tracing::info_span!(
        "http.request",
        otel.name = %format_args!("{method} {route}"),
        otel.kind = "server",
        otel.status_code = Empty,
        request_id = %id,
        http.method = method,
        http.route = %route,
        http.status = Empty,
        tenant.id = Empty,
        auth.hash = %hashed_authorization(&req),
        duration_ms = Empty,
    );
    crate::telemetry::propagation::adopt(&span, caller_trace.as_ref());
    let started = Instant::now();
    let header_value = HeaderValue::from_str(&id).ok();
    let fut = REQUEST_ID.scope(id, crate::telemetry::propagation::scope(caller_trace, next.call(req)));
    let result = fut.instrument(span.clone()).await;
    let elapsed = started.elapsed().as_millis() as u64;
    span.record("duration_ms", elapsed);
    let mut res = result?;
    let status = res.status().as_u16();
    crate::metrics::http_request(method, &route, status, started.elapsed());
    span.record("http.status", status);
    if status >= 500 {
        span.record("otel.status_code", "ERROR");
    }
    span.in_scope(|| tracing::info!(status, duration_ms = elapsed, "request"));
    if let Some(v) = header_value {
        res.headers_mut().insert(HeaderName::from_static(HEADER), v);
    }
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_well_formed_ids_are_echoed() {
        assert!(well_formed("abc-123_x.y:z"));
        assert!(!well_formed(""));
        assert!(!well_formed("a b"));
        assert!(!well_formed("<script>"));
        assert!(!well_formed(&"a".repeat(129)));
        assert!(!well_formed("4111111111111111"), "a card number is never echoed or logged");
        assert!(!well_formed("req-4111-1111-1111-1111"));
        assert!(well_formed("req-1732551234568"));
    }
}
