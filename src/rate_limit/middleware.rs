//! The rate-limit middleware: after auth (it needs the tenant), before idempotency (a 429 creates no
//! idempotency record). Every limited response carries `RateLimit-Policy` and `RateLimit`. With both
//! on Redis ([`ChargeWithBegin`]), a state-changing request is charged by the idempotency begin
//! script instead (one round trip); its decision comes back on the request for the headers.

use std::sync::Arc;

use actix_web::{
    Error, HttpMessage as _,
    body::{EitherBody, MessageBody},
    dev::{ServiceRequest, ServiceResponse},
    http::header::{HeaderName, HeaderValue},
    middleware::Next,
    web,
};

use super::{
    ChargeWithBegin, Decision, PendingCharge, RateLimiter, RouteClass, headers::refusal, heavy::HeavyGate,
    rate_limit_headers,
};
use crate::{
    auth::{Principal, middleware::reject},
    policy::{Access, RoutePolicy},
};

/// The configured limiter (absent when `rate_limit.enabled = false`).
#[derive(Clone)]
pub struct Limiter(pub Option<Arc<dyn RateLimiter>>);

pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    let policy = req.extensions().get::<RoutePolicy>().cloned();
    let tenant = req.extensions().get::<Principal>().map(|p| p.tenant.to_string());
    let limiter = req.app_data::<web::Data<Limiter>>().and_then(|l| l.0.clone());
    let (Some(policy), Some(tenant)) = (policy, tenant) else {
        return next.call(req).await.map(ServiceResponse::map_into_left_body);
    };
    if policy.access == Access::Public {
        return next.call(req).await.map(ServiceResponse::map_into_left_body);
    }
    let gate = req.app_data::<web::Data<HeavyGate>>().cloned();
    let heavy = gate.as_ref().is_some_and(|g| g.is_heavy(&req, policy.path));
    // Held until the handler has answered: the body is read, fingerprinted and sealed meanwhile.
    let _slot = match gate.as_ref().filter(|_| heavy).map(|g| g.admit()) {
        Some(Err(e)) => return Ok(reject(req, e)),
        Some(Ok(slot)) => Some(slot),
        None => None,
    };
    let Some(limiter) = limiter else {
        return next.call(req).await.map(ServiceResponse::map_into_left_body);
    };
    if heavy {
        let decision = limiter.check(&tenant, RouteClass::Heavy).await;
        if !decision.allowed {
            return Ok(reject(req, refusal(&decision)));
        }
    }
    let decision = if policy.idempotent && req.app_data::<web::Data<ChargeWithBegin>>().is_some_and(|c| c.0) {
        // Charged by the idempotency begin, in its round trip; its decision comes back on the request.
        req.extensions_mut().insert(PendingCharge(policy.class));
        None
    } else {
        let decision = limiter.check(&tenant, policy.class).await;
        if !decision.allowed {
            return Ok(reject(req, refusal(&decision)));
        }
        Some(decision)
    };
    let mut res = next.call(req).await?;
    let decision = decision.or_else(|| res.request().extensions().get::<Decision>().cloned());
    for (k, v) in decision.as_ref().map(rate_limit_headers).unwrap_or_default() {
        if let (Ok(name), Ok(value)) = (HeaderName::try_from(k), HeaderValue::from_str(&v)) {
            res.headers_mut().insert(name, value);
        }
    }
    Ok(res.map_into_left_body())
}
