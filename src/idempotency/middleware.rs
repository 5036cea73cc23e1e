//! The idempotency middleware for state-changing routes (docs/product.md §8):
//!
//! key (400) → fingerprint of method, route, path params and canonical body → `begin`:
//! `Mismatch` 422 · `InFlight` 409 + `Retry-After` · `Completed` byte-identical replay with
//! `Idempotent-Replayed: true` · `Acquired` → run the handler (told whether it is *recovering* an
//! unknown outcome), renewing the lease while it runs, then `complete` / `mark_unknown` / `abandon`
//! as the handler's `IdemOutcome` says. A store failure fails closed: 503 + `Retry-After`.
//! When the rate limiter and this store are both on Redis, the request's rate-limit charge (left by
//! the limiter as a `PendingCharge`) runs first inside the `begin` script: one round trip for both,
//! and a refused charge still writes no record.

use std::{pin::Pin, sync::Arc, time::Duration};

use actix_web::{
    Error, HttpMessage as _, HttpResponse,
    body::{BoxBody, EitherBody, MessageBody},
    dev::{Payload, ServiceRequest, ServiceResponse},
    error::PayloadError,
    http::{
        StatusCode,
        header::{self, HeaderName, HeaderValue},
    },
    middleware::Next,
    web::{self, Bytes, BytesMut},
};
use futures_util::{Stream, StreamExt as _};

use super::{
    Begin, Fingerprinter, IdemOutcome, IdempotencyGrant, IdempotencyKey, IdempotencyStore, Lease, RecordSeal,
    ReplayBody, SettleWithAnswer, StoredResponse, bad_key, missing_key, redis::RedisIdempotencyStore,
};
use crate::{
    auth::{Principal, middleware::reject},
    error::ApiError,
    http::extract::BodyLimits,
    policy::RoutePolicy,
    rate_limit::{Decision, PendingCharge, RateLimiter, headers::refusal, middleware::Limiter},
};

/// Everything the middleware needs, registered as app data.
#[derive(Clone)]
pub struct Idempotency {
    pub enabled: bool,
    pub store: Arc<dyn IdempotencyStore>,
    /// The same store when it is Redis and the rate limiter is too: a pending rate-limit charge then
    /// runs inside `begin` (one round trip for both).
    pub charged: Option<Arc<RedisIdempotencyStore>>,
    pub fingerprinter: Fingerprinter,
    /// Seals stored bodies (keyed from the fingerprint secret).
    pub seal: RecordSeal,
    pub lease: Duration,
    pub retry_after_s: u64,
}

/// Response headers worth replaying (the rest are per request: ids, rate limits, dates).
const STORED_HEADERS: [&str; 4] = ["content-type", "location", "cache-control", "retry-after"];

pub const REPLAYED: &str = "idempotent-replayed";

fn pending_charge(req: &ServiceRequest) -> Option<PendingCharge> {
    req.extensions().get::<PendingCharge>().copied()
}

fn limiter(req: &ServiceRequest) -> Option<Arc<dyn RateLimiter>> {
    req.app_data::<web::Data<Limiter>>().and_then(|l| l.0.clone())
}

/// Makes the rate-limit charge the limiter left pending, now (once): `Err` with the 429 when the
/// allowance is spent. For requests that end before `begin`, or whose `begin` cannot take it.
async fn charge_pending_now(req: &ServiceRequest, tenant: &str) -> Result<(), ApiError> {
    let Some(PendingCharge(class)) = req.extensions_mut().remove::<PendingCharge>() else { return Ok(()) };
    let Some(limiter) = limiter(req) else { return Ok(()) };
    let decision = limiter.check(tenant, class).await;
    if !decision.allowed {
        return Err(refusal(&decision));
    }
    req.extensions_mut().insert(decision);
    Ok(())
}

/// A request refused before `begin` (no or bad key, unreadable or oversized body) still pays its
/// pending charge, and a spent allowance answers 429 first, as the rate-limit middleware would have.
async fn refuse_early<B>(req: ServiceRequest, tenant: &str, e: ApiError) -> ServiceResponse<EitherBody<B>> {
    match charge_pending_now(&req, tenant).await {
        Err(refused) => reject(req, refused),
        Ok(()) => reject(req, e),
    }
}

type BoxedStream = Pin<Box<dyn Stream<Item = Result<Bytes, PayloadError>>>>;

pub async fn middleware(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<BoxBody>>, Error> {
    let policy = req.extensions().get::<RoutePolicy>().cloned();
    let tenant = req.extensions().get::<Principal>().map(|p| p.tenant.to_string());
    let cfg = req.app_data::<web::Data<Idempotency>>().cloned();
    let (Some(policy), Some(tenant), Some(cfg)) = (policy, tenant, cfg) else {
        return next.call(req).await.map(|r| r.map_body(|_, b| b.boxed()).map_into_left_body());
    };
    if !policy.idempotent {
        return next.call(req).await.map(|r| r.map_body(|_, b| b.boxed()).map_into_left_body());
    }

    // 1. The key.
    let raw = match req.headers().get("idempotency-key").map(|v| v.to_str()) {
        None => return Ok(refuse_early(req, &tenant, missing_key()).await),
        Some(Err(_)) => return Ok(refuse_early(req, &tenant, bad_key("must be visible ASCII")).await),
        Some(Ok(v)) => v.to_owned(),
    };
    let key = match IdempotencyKey::parse(&raw) {
        Ok(k) => k,
        Err(e) => return Ok(refuse_early(req, &tenant, bad_key(&e.to_string())).await),
    };

    // 2. The body (re-injected for the handler) and the fingerprint.
    let limit = req.app_data::<BodyLimits>().map_or(65536, |l| l.for_pattern(Some(policy.path)));
    let mut body = BytesMut::new();
    let mut payload = req.take_payload();
    while let Some(chunk) = payload.next().await {
        let Ok(chunk) = chunk else {
            let e = ApiError::bad_request("malformed_body", "the request body could not be read");
            return Ok(refuse_early(req, &tenant, e).await);
        };
        if body.len() + chunk.len() > limit {
            let e = ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                format!("the request body exceeds {limit} bytes"),
            );
            return Ok(refuse_early(req, &tenant, e).await);
        }
        body.extend_from_slice(&chunk);
    }
    let body = body.freeze();
    let params = policy.path_params(req.path());
    let param_refs: Vec<(&str, &str)> = params.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let fp = cfg.fingerprinter.fingerprint(req.method().as_str(), policy.path, &param_refs, &body);
    let replay_body = body.clone();
    let stream: BoxedStream = Box::pin(futures_util::stream::once(async move { Ok::<_, PayloadError>(replay_body) }));
    req.set_payload(Payload::from(stream));

    let grant = |recovering| IdempotencyGrant {
        key: key.as_str().to_owned(),
        fingerprint: fp.to_hex(),
        recovering,
        settles_with_answer: cfg.enabled && cfg.store.settles_in_one_step(),
    };
    // The rate-limit charge the limiter left for us (both on Redis): made inside `begin` below, in its
    // round trip, or here when that cannot be (the limiter bypasses Redis, or the store is off).
    let mut charge_in_begin = None;
    if let (Some(PendingCharge(class)), Some(limiter)) = (pending_charge(&req), limiter(&req))
        && cfg.enabled
        && cfg.charged.is_some()
    {
        charge_in_begin = limiter.deferred(&tenant, class);
    }
    if charge_in_begin.is_none()
        && let Err(refused) = charge_pending_now(&req, &tenant).await
    {
        return Ok(reject(req, refused));
    }
    if !cfg.enabled {
        // Benchmark-only switch: no store, same operation identity.
        req.extensions_mut().insert(grant(false));
        return next.call(req).await.map(|r| r.map_body(|_, b| b.boxed()).map_into_left_body());
    }

    // 3. The state machine.
    let begun = match (&cfg.charged, &charge_in_begin) {
        (Some(store), Some(gcra)) => match store.begin_charged(&tenant, &key, &fp, cfg.lease, gcra).await {
            Ok((decision, None)) => return Ok(reject(req, refusal(&decision))),
            Ok((decision, Some(b))) => {
                req.extensions_mut().insert::<Decision>(decision);
                Ok(b)
            }
            Err(e) => Err(e),
        },
        _ => cfg.store.begin(&tenant, &key, &fp, cfg.lease).await,
    };
    let begin = match begun {
        Ok(b) => b,
        Err(e) => return Ok(reject(req, ApiError::store(&e, cfg.retry_after_s))),
    };
    let (lease, recovering) = match begin {
        Begin::Mismatch => {
            let e = ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency_key_reused",
                "this Idempotency-Key was used with a different request (method, path or body)",
            );
            return Ok(reject(req, e));
        }
        Begin::InFlight { retry_after } => {
            let mut e = ApiError::conflict(
                "idempotency_key_in_flight",
                "a request with this Idempotency-Key is still being processed",
            );
            e.retry_after = Some(retry_after.as_secs_f64().ceil().max(1.0) as u64);
            return Ok(reject(req, e));
        }
        Begin::Completed(mut stored) => {
            match cfg.seal.open(&tenant, key.as_str(), stored.status, &stored.body) {
                Ok(body) => stored.body = body,
                Err(e) => {
                    // Sealed under another fingerprint secret (rotated) or altered: never guess an answer.
                    tracing::warn!(error = %e, "stored idempotent answer could not be opened");
                    let e = ApiError::conflict(
                        "idempotency_record_unreadable",
                        "the stored answer for this Idempotency-Key can no longer be read; use a new key after checking the resource",
                    );
                    return Ok(reject(req, e));
                }
            }
            let res = replay(&stored);
            return Ok(req.into_response(res).map_into_right_body());
        }
        Begin::Acquired { lease, recovering } => (lease, recovering),
    };
    tracing::Span::current().record("idempotency.recovering", recovering);
    req.extensions_mut().insert(grant(recovering));

    // 4. Run the handler and record its outcome in a task of its own: a client that goes away
    // mid-request cancels neither (the platform may already be acting), and the lease renewal ends
    // with the task whatever happens.
    // The task keeps the request's id, trace context and span (error bodies and log lines name the request).
    let work = tracing::Instrument::instrument(run_holding(cfg, lease, req, next), tracing::Span::current());
    let task = actix_web::rt::spawn(crate::http::request_id::carry(work));
    match task.await {
        Ok(res) => res,
        Err(_) => Err(actix_web::error::ErrorInternalServerError("the request task failed")),
    }
}

/// Runs the handler while holding `lease`, then completes, marks unknown or releases the key as the
/// handler's `IdemOutcome` says.
async fn run_holding<B: MessageBody + 'static>(
    cfg: web::Data<Idempotency>,
    lease: Lease,
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<BoxBody>>, Error> {
    let renewer = Renewal(spawn_renewal(cfg.store.clone(), lease.clone(), cfg.lease));
    let result = next.call(req).await;
    let res = match result {
        Ok(r) => r,
        Err(e) => {
            // Errors raised before the handler ran (extractors): nothing reached the platform.
            drop(renewer);
            release(&cfg, &lease).await;
            return Err(e);
        }
    };
    drop(renewer);
    let (http_req, response) = res.into_parts();
    Ok(finish(&cfg, &lease, http_req, response.map_into_boxed_body()).await)
}

/// Records the handler's answer as its `IdemOutcome` says and gives it back. A `Final` answer that
/// carries its operation's settlement (`SettleWithAnswer`) is stored with it in one store step; when
/// that step writes nothing, the operation is settled alone and that answer is the one sent and stored.
async fn finish(
    cfg: &Idempotency,
    lease: &Lease,
    http_req: actix_web::HttpRequest,
    mut response: HttpResponse<BoxBody>,
) -> ServiceResponse<EitherBody<BoxBody>> {
    loop {
        let settle = response.extensions_mut().remove::<SettleWithAnswer>();
        let outcome = response.extensions().get::<IdemOutcome>().copied();
        if outcome != Some(IdemOutcome::Final)
            && let Some(s) = settle
        {
            // (Not made by the pipeline.) The settlement is never dropped: write it alone.
            response = (s.alone)().await;
            continue;
        }
        let replay_body = response.extensions().get::<ReplayBody>().cloned();
        let (head, body) = response.into_parts();
        let bytes = match actix_web::body::to_bytes(body).await {
            Ok(b) => b,
            Err(_) => {
                if let Some(s) = settle {
                    response = (s.alone)().await;
                    continue;
                }
                let _ = cfg.store.mark_unknown(lease).await;
                let e = ApiError::internal("response body could not be collected");
                return ServiceResponse::new(http_req, actix_web::ResponseError::error_response(&e))
                    .map_into_right_body();
            }
        };
        match outcome {
            Some(IdemOutcome::Final) => {
                let status = head.status().as_u16();
                let plain = replay_body.as_ref().map_or(&bytes[..], |r| &r.0[..]);
                let sealed = match cfg.seal.seal(&lease.tenant, &lease.key, status, plain) {
                    Ok(s) => s,
                    Err(e) => {
                        if let Some(s) = settle {
                            response = (s.alone)().await;
                            continue;
                        }
                        // Storing it in the clear is not an option; keep the lease (it runs out) so a
                        // retry asks the platform before sending anything.
                        tracing::warn!(error = %e, "could not seal the idempotent response");
                        let res = head.set_body(BoxBody::new(bytes));
                        return ServiceResponse::new(http_req, res).map_into_right_body();
                    }
                };
                let stored = StoredResponse {
                    status,
                    headers: head
                        .headers()
                        .iter()
                        .filter(|(k, _)| STORED_HEADERS.contains(&k.as_str()))
                        .filter_map(|(k, v)| v.to_str().ok().map(|v| (k.as_str().to_owned(), v.to_owned())))
                        .collect(),
                    body: sealed,
                };
                let written = match settle {
                    Some(s) => match cfg.store.complete_settling(lease, &stored, &s.swap).await {
                        Ok(w) if w.swapped => Ok(w.stored),
                        // Nothing written (a webhook changed the operation first, the lease was lost) or
                        // not known to be (the store failed): settle it alone, answer what that says.
                        Ok(_) | Err(_) => {
                            response = (s.alone)().await;
                            continue;
                        }
                    },
                    None => cfg.store.complete(lease, &stored).await,
                };
                match written {
                    Ok(true) => {}
                    Ok(false) => {
                        tracing::warn!("idempotency lease lost before completion; the record was not overwritten")
                    }
                    // The answer stands; the record stays in progress until its lease ends, after which
                    // a retry asks the platform before sending anything.
                    Err(e) => tracing::warn!(error = %e, "could not store the idempotent response"),
                }
            }
            Some(IdemOutcome::Unknown) => {
                if let Err(e) = cfg.store.mark_unknown(lease).await {
                    tracing::warn!(error = %e, "could not mark the idempotency key unknown");
                }
            }
            // Handlers mark every answer given after a platform call; an unmarked one was decided
            // before anything was sent (validation, ownership, money cap).
            Some(IdemOutcome::NotApplied) | None => release(cfg, lease).await,
        }
        let res = head.set_body(BoxBody::new(bytes));
        return ServiceResponse::new(http_req, res).map_into_right_body();
    }
}

/// Aborts the lease renewal when dropped (on every path, including a panic unwinding the task).
struct Renewal(tokio::task::JoinHandle<()>);

impl Drop for Renewal {
    fn drop(&mut self) {
        self.0.abort();
    }
}

async fn release(cfg: &Idempotency, lease: &Lease) {
    if let Err(e) = cfg.store.abandon(lease).await {
        tracing::warn!(error = %e, "could not release the idempotency key");
    }
}

/// Renews the lease at a third of its length until aborted, so a slow upstream never lets a
/// duplicate in.
fn spawn_renewal(store: Arc<dyn IdempotencyStore>, lease: Lease, every: Duration) -> tokio::task::JoinHandle<()> {
    let period = (every / 3).max(Duration::from_millis(50));
    actix_web::rt::spawn(async move {
        loop {
            tokio::time::sleep(period).await;
            match store.renew(&lease, every).await {
                Ok(true) => {}
                Ok(false) => {
                    tracing::warn!("idempotency lease lost while the request was running");
                    break;
                }
                Err(e) => tracing::warn!(error = %e, "idempotency lease renewal failed"),
            }
        }
    })
}

fn replay(stored: &StoredResponse) -> HttpResponse {
    let mut res = HttpResponse::build(StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK));
    for (k, v) in &stored.headers {
        if let (Ok(name), Ok(value)) = (HeaderName::try_from(k.as_str()), HeaderValue::from_str(v)) {
            res.insert_header((name, value));
        }
    }
    res.insert_header((HeaderName::from_static(REPLAYED), HeaderValue::from_static("true")));
    if !stored.headers.iter().any(|(k, _)| k == "content-type") {
        res.insert_header((header::CONTENT_TYPE, "application/json"));
    }
    res.body(stored.body.clone())
}
