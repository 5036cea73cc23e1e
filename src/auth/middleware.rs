//! Authentication and scope check, before rate limiting and idempotency: the matched route's policy
//! says what is required; the verified `Principal` and the policy go into request extensions. This is
//! the one place a request's policy is looked up (from actix's match pattern, `req.match_pattern()`);
//! rate limiting and idempotency read the extension.

use actix_web::{
    Error, HttpMessage as _,
    body::{EitherBody, MessageBody},
    dev::{ServiceRequest, ServiceResponse},
    http::header,
    middleware::Next,
    web,
};

use super::{JwtVerifier, Principal};
use crate::{
    error::ApiError,
    policy::{Access, RoutePolicy, RouteTable},
};

/// Short-circuits with a problem response, keeping the body type uniform.
pub fn reject<B>(req: ServiceRequest, e: ApiError) -> ServiceResponse<EitherBody<B>> {
    use actix_web::ResponseError as _;
    req.into_response(e.error_response()).map_into_right_body()
}

pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    let policy: Option<RoutePolicy> = {
        let table = req.app_data::<web::Data<RouteTable>>();
        let pattern = req.match_pattern();
        match (table, pattern) {
            (Some(t), Some(p)) => t.find(req.method(), &p).cloned(),
            _ => None,
        }
    };
    let Some(policy) = policy else {
        // Unknown route or method: the fallback answers 404/405.
        return next.call(req).await.map(ServiceResponse::map_into_left_body);
    };
    if policy.access != Access::Public {
        let Some(verifier) = req.app_data::<web::Data<JwtVerifier>>().cloned() else {
            return Ok(reject(req, ApiError::internal("JWT verifier not configured")));
        };
        let principal = match bearer(&req) {
            None => return Ok(reject(req, ApiError::missing_credentials())),
            Some(Err(())) => return Ok(reject(req, ApiError::unauthorized("malformed Authorization header"))),
            Some(Ok(token)) => match verifier.verify(&token).await {
                Ok(p) => p,
                Err(e) => return Ok(reject(req, e)),
            },
        };
        tracing::Span::current().record("tenant.id", principal.tenant.as_str());
        if let Access::Scope(scope) = policy.access
            && let Err(e) = principal.require(scope)
        {
            return Ok(reject(req, e));
        }
        req.extensions_mut().insert::<Principal>(principal);
    }
    req.extensions_mut().insert::<RoutePolicy>(policy);
    next.call(req).await.map(ServiceResponse::map_into_left_body)
}

/// `Authorization: Bearer <token>`: `None` when absent, `Err` when present but not a bearer token.
fn bearer(req: &ServiceRequest) -> Option<Result<String, ()>> {
    let value = req.headers().get(header::AUTHORIZATION)?;
    let Ok(text) = value.to_str() else { return Some(Err(())) };
    let mut parts = text.splitn(2, ' ');
    let scheme = parts.next().unwrap_or("");
    let token = parts.next().unwrap_or("").trim();
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() {
        return Some(Err(()));
    }
    Some(Ok(token.to_owned()))
}
