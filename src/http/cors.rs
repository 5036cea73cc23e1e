//! CORS for browser frontends (`[cors]`, the `actix-cors` middleware).
//!
//! It wraps the app outside auth, rate limiting, idempotency and the 404/405 fallback, so a
//! preflight is answered without a token, is never charged to a rate limit and never reaches the
//! platform. Allowed methods are those of the route table; credentials are never allowed (bearer
//! tokens travel in `Authorization`, not cookies). A preflight the policy refuses leaves as a problem
//! without `Access-Control-Allow-Origin`.

use actix_cors::{Cors, CorsError};
use actix_web::{
    Error, ResponseError,
    body::{EitherBody, MessageBody},
    dev::{ServiceRequest, ServiceResponse},
    http::{
        Method, StatusCode,
        header::{self, HeaderValue},
    },
    middleware::{Condition, Next},
};

use crate::{config::cors::CorsSettings, error::ApiError, policy::RouteTable};

/// Request headers a page may send besides the CORS-safelisted ones.
/// `traceparent`/`tracestate`: browser apps instrumented with OpenTelemetry propagate their trace.
pub const ALLOWED_HEADERS: [&str; 7] =
    ["Authorization", "Content-Type", "Idempotency-Key", "X-Request-Id", "Last-Event-ID", "traceparent", "tracestate"];

/// Response headers a page may read besides the CORS-safelisted ones.
pub const EXPOSED_HEADERS: [&str; 6] =
    ["Idempotent-Replayed", "RateLimit", "RateLimit-Policy", "Retry-After", "X-Request-Id", "Location"];

/// The policy, computed once at start-up; each worker builds its (non-`Send`) middleware from it.
#[derive(Debug, Clone)]
pub struct CorsPolicy {
    origins: Vec<String>,
    any_origin: bool,
    methods: Vec<Method>,
    max_age_s: usize,
}

impl CorsPolicy {
    /// From validated settings (`Settings::validate` checked every origin) and the route table,
    /// whose methods are the only ones a preflight may ask for.
    pub fn new(settings: &CorsSettings, table: &RouteTable) -> Self {
        let mut methods: Vec<Method> = Vec::new();
        for route in table.routes() {
            if !methods.contains(&route.method) {
                methods.push(route.method.clone());
            }
        }
        Self {
            origins: settings.allowed_origins.clone(),
            any_origin: settings.allows_any_origin(),
            methods,
            max_age_s: usize::try_from(settings.max_age_s).unwrap_or(usize::MAX),
        }
    }

    pub fn enabled(&self) -> bool {
        !self.origins.is_empty()
    }

    /// The methods preflights may ask for.
    pub fn methods(&self) -> &[Method] {
        &self.methods
    }

    /// The middleware; a pass-through when CORS is off (no `Access-Control-*` header at all).
    pub fn middleware(&self) -> Condition<Cors> {
        let mut cors = Cors::default()
            .allowed_methods(self.methods.clone())
            .allowed_headers(ALLOWED_HEADERS)
            .expose_headers(EXPOSED_HEADERS)
            .max_age(self.max_age_s)
            // A request from another origin still runs (curl, servers); only the browser withholds the
            // answer from the page, because no Access-Control-Allow-Origin comes with it.
            .block_on_origin_mismatch(false);
        if self.any_origin {
            cors = cors.allow_any_origin().send_wildcard();
        } else {
            for origin in &self.origins {
                cors = cors.allowed_origin(origin);
            }
        }
        Condition::new(self.enabled(), cors)
    }
}

/// Wraps the CORS middleware: its refusals (plain text from `actix-cors`) leave as problems like every
/// other error. A refused preflight is a 4xx, never a 5xx, and carries no `Access-Control-Allow-Origin`.
pub async fn problems(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    let res = next.call(req).await?;
    let problem = res.response().error().and_then(|e| e.as_error::<CorsError>()).map(problem_for);
    let Some(problem) = problem else {
        return Ok(res.map_into_left_body());
    };
    let (req, refused) = res.into_parts();
    let mut out = problem.error_response();
    // The answer depends on the Origin (and the preflight's request headers), as actix-cors' own do.
    let vary =
        refused.headers().get(header::VARY).cloned().unwrap_or(HeaderValue::from_static(
            "Origin, Access-Control-Request-Method, Access-Control-Request-Headers",
        ));
    out.headers_mut().insert(header::VARY, vary);
    Ok(ServiceResponse::new(req, out).map_into_right_body())
}

fn problem_for(e: &CorsError) -> ApiError {
    match e {
        CorsError::OriginNotAllowed => ApiError::new(
            StatusCode::FORBIDDEN,
            "cors_origin_not_allowed",
            "this origin may not call the API from a page",
        ),
        other => ApiError::bad_request("cors_preflight_rejected", other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preflights_may_ask_for_exactly_the_methods_of_the_route_table() {
        let table = crate::routes::table();
        let settings = CorsSettings { allowed_origins: vec!["https://console.example.com".into()], max_age_s: 600 };
        let policy = CorsPolicy::new(&settings, &table);
        assert!(policy.enabled());
        let mut methods: Vec<&str> = policy.methods().iter().map(Method::as_str).collect();
        methods.sort_unstable();
        assert_eq!(methods, ["DELETE", "GET", "PATCH", "POST"]);
        assert!(table.routes().iter().all(|r| policy.methods().contains(&r.method)));
        let off = CorsPolicy::new(&CorsSettings { allowed_origins: vec![], max_age_s: 600 }, &table);
        assert!(!off.enabled());
    }
}
