//! The one error type of the HTTP API and its RFC 9457 `application/problem+json` body.
//!
//! Every failure — ours, the upstream's, the framework's — leaves as a `Problem` with a stable
//! snake_case `code` and the request's id. Internal causes are logged once here and never shown.

use std::collections::BTreeMap;

use actix_web::{
    HttpResponse, ResponseError,
    http::{StatusCode, header},
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{
    config::upstream::ErrorMapping,
    storage::StoreError,
    upstream::{ErrorSource, UpstreamError},
};

// The current request id (`-` outside a request) lives with the tracing set-up.
use crate::telemetry::request_id::current as current_request_id;

/// One invalid input, located by a JSON Pointer (RFC 6901) into the body, or `query.<name>` /
/// `path.<name>` for parameters.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
pub struct FieldError {
    /// Where: `#/billing/zip`, `query.limit`, `path.id`, `header.Idempotency-Key`.
    #[schema(example = "#/limit")]
    pub pointer: String,
    /// What is wrong with it.
    #[schema(example = "must be a decimal string with at most 2 decimals")]
    pub detail: String,
}

/// RFC 9457 problem details, with this API's extension members.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
#[schema(example = json!({
    "type": "urn:card-gateway:problem:card_not_found",
    "title": "Not Found",
    "status": 404,
    "detail": "no card with this id",
    "code": "card_not_found",
    "request_id": "8f0b6f5e-5c1e-4a53-9d8a-3f1f3b7f9a10"
}))]
pub struct Problem {
    /// `urn:card-gateway:problem:<code>`.
    #[serde(rename = "type")]
    pub type_uri: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Stable snake_case error code; clients switch on this.
    pub code: String,
    pub request_id: String,
    /// The upstream's business error code, when it refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upstream_code: Option<String>,
    /// The upstream's message, sanitised (control characters removed, digit runs masked).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upstream_message: Option<String>,
    /// Invalid inputs, when the problem is about the request's content.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

/// The API's error. Construct with the helpers; convert upstream failures with [`ApiError::upstream`].
/// Boxed so `Result<_, ApiError>` stays one pointer wide on the happy path.
#[derive(Debug, Clone)]
pub struct ApiError(Box<ApiErrorInner>);

impl std::ops::Deref for ApiError {
    type Target = ApiErrorInner;
    fn deref(&self) -> &ApiErrorInner {
        &self.0
    }
}

impl std::ops::DerefMut for ApiError {
    fn deref_mut(&mut self) -> &mut ApiErrorInner {
        &mut self.0
    }
}

/// The fields of an [`ApiError`].
#[derive(Debug, Clone)]
pub struct ApiErrorInner {
    pub status: StatusCode,
    pub code: String,
    pub detail: String,
    pub upstream_code: Option<String>,
    pub upstream_message: Option<String>,
    pub errors: Vec<FieldError>,
    pub retry_after: Option<u64>,
    pub www_authenticate: Option<String>,
    pub allow: Option<String>,
    pub extra_headers: Vec<(String, String)>,
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status.as_u16(), self.code, self.detail)
    }
}

impl ApiError {
    pub fn new(status: StatusCode, code: impl Into<String>, detail: impl Into<String>) -> Self {
        Self(Box::new(ApiErrorInner {
            status,
            code: code.into(),
            detail: detail.into(),
            upstream_code: None,
            upstream_message: None,
            errors: Vec::new(),
            retry_after: None,
            www_authenticate: None,
            allow: None,
            extra_headers: Vec::new(),
        }))
    }

    /// Adds a located input error to a 400/422 problem.
    pub fn with_field(mut self, pointer: &str, detail: &str) -> Self {
        self.errors.push(FieldError { pointer: pointer.to_owned(), detail: detail.to_owned() });
        self
    }

    pub fn bad_request(code: &str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, detail)
    }

    /// 422 with the offending fields.
    pub fn validation(errors: Vec<FieldError>) -> Self {
        let detail = match errors.as_slice() {
            [one] => format!("{}: {}", one.pointer, one.detail),
            many => format!("{} invalid fields", many.len()),
        };
        let mut e = Self::new(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed", detail);
        e.errors = errors;
        e
    }

    pub fn field(pointer: impl Into<String>, detail: impl Into<String>) -> Self {
        Self::validation(vec![FieldError { pointer: pointer.into(), detail: detail.into() }])
    }

    /// 404 — also the answer for another tenant's object, so both are indistinguishable.
    /// No route matches the path (the default service's 404, and routes switched off by configuration).
    pub fn route_not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "route_not_found", "no route matches this path")
    }

    pub fn not_found(code: &str, what: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, code, format!("no {what} with this id"))
    }

    /// 401 with `WWW-Authenticate: Bearer error="invalid_token"` (RFC 6750).
    pub fn unauthorized(detail: &str) -> Self {
        let mut e = Self::new(StatusCode::UNAUTHORIZED, "unauthenticated", detail);
        let escaped = detail.replace(['"', '\\'], "'");
        e.www_authenticate =
            Some(format!("Bearer realm=\"card-gateway\", error=\"invalid_token\", error_description=\"{escaped}\""));
        e
    }

    /// 401 for a request without credentials (no error code, per RFC 6750 §3.1).
    pub fn missing_credentials() -> Self {
        let mut e = Self::new(StatusCode::UNAUTHORIZED, "unauthenticated", "a bearer token is required");
        e.www_authenticate = Some("Bearer realm=\"card-gateway\"".to_owned());
        e
    }

    /// 403 with `WWW-Authenticate: Bearer error="insufficient_scope"`.
    pub fn forbidden_scope(scope: &str) -> Self {
        let mut e =
            Self::new(StatusCode::FORBIDDEN, "insufficient_scope", format!("this route needs the {scope} scope"));
        e.www_authenticate =
            Some(format!("Bearer realm=\"card-gateway\", error=\"insufficient_scope\", scope=\"{scope}\""));
        e
    }

    pub fn conflict(code: &str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, detail)
    }

    pub fn too_many_requests(retry_after_s: u64) -> Self {
        let mut e =
            Self::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", "rate limit exceeded for this route class");
        e.retry_after = Some(retry_after_s.max(1));
        e
    }

    pub fn unavailable(code: &str, detail: impl Into<String>, retry_after_s: u64) -> Self {
        let mut e = Self::new(StatusCode::SERVICE_UNAVAILABLE, code, detail);
        e.retry_after = Some(retry_after_s.max(1));
        e
    }

    /// 500; the cause is logged here and never shown to the client.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal_error", "an internal error occurred")
    }

    /// A store failure on a state-changing route: fail closed.
    pub fn store(e: &StoreError, retry_after_s: u64) -> Self {
        tracing::warn!(error = %e, "store unavailable");
        Self::unavailable("store_unavailable", "the gateway's state store is unavailable; retry later", retry_after_s)
    }

    pub fn with_header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.extra_headers.push((name.to_owned(), value.into()));
        self
    }

    /// Maps an upstream failure deliberately: timeout → 504, bad answer → 502, business refusal →
    /// the configured status with `upstream_code`, unknown codes → 422 `upstream_rejected`.
    pub fn upstream(e: &UpstreamError, map: &BTreeMap<String, ErrorMapping>) -> Self {
        use crate::upstream::UpstreamErrorKind as K;
        let mut out = match (&e.kind, e.source_kind()) {
            (K::StatusUnknown { .. }, _) => Self::new(
                StatusCode::GATEWAY_TIMEOUT,
                "upstream_outcome_unknown",
                "the card platform has not confirmed the outcome yet; retry with the same Idempotency-Key",
            ),
            (K::Business { code, .. } | K::RetryLater { code, .. }, _) => match map.get(code) {
                Some(m) => Self::new(
                    StatusCode::from_u16(m.status).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY),
                    m.code.clone(),
                    "the card platform refused the request",
                ),
                None => Self::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "upstream_rejected",
                    "the card platform refused the request",
                ),
            },
            (_, ErrorSource::Timeout) => {
                Self::new(StatusCode::GATEWAY_TIMEOUT, "upstream_timeout", "the card platform did not answer in time")
            }
            (K::Connect, _) | (K::Transport { .. }, _) => {
                Self::new(StatusCode::BAD_GATEWAY, "upstream_unreachable", "the card platform could not be reached")
            }
            (_, ErrorSource::Internal) => return Self::internal(e),
            _ => {
                Self::new(StatusCode::BAD_GATEWAY, "upstream_bad_response", "the card platform sent an invalid answer")
            }
        };
        out.upstream_code = e.upstream_code().map(str::to_owned);
        out.upstream_message = e.upstream_message().filter(|m| !m.is_empty()).map(str::to_owned);
        out
    }

    pub fn to_problem(&self) -> Problem {
        Problem {
            type_uri: format!("urn:card-gateway:problem:{}", self.code),
            title: self.status.canonical_reason().unwrap_or("Error").to_owned(),
            status: self.status.as_u16(),
            detail: self.detail.clone(),
            code: self.code.clone(),
            request_id: current_request_id(),
            upstream_code: self.upstream_code.clone(),
            upstream_message: self.upstream_message.clone(),
            errors: self.errors.clone(),
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut res = HttpResponse::build(self.status);
        res.insert_header((header::CONTENT_TYPE, "application/problem+json"));
        res.insert_header((header::CACHE_CONTROL, "no-store"));
        if let Some(s) = self.retry_after {
            res.insert_header((header::RETRY_AFTER, s.to_string()));
        }
        if let Some(w) = &self.www_authenticate {
            res.insert_header((header::WWW_AUTHENTICATE, w.as_str()));
        }
        if let Some(a) = &self.allow {
            res.insert_header((header::ALLOW, a.as_str()));
        }
        for (k, v) in &self.extra_headers {
            res.append_header((k.as_str(), v.as_str()));
        }
        let body = serde_json::to_vec(&self.to_problem()).unwrap_or_else(|_| b"{}".to_vec());
        res.body(body)
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        Self::store(&e, 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::upstream::{Operation, UpstreamErrorKind as K};

    fn map() -> BTreeMap<String, ErrorMapping> {
        crate::config::Settings::defaults().unwrap().upstream.error_map
    }

    #[test]
    fn upstream_failures_map_deliberately() {
        let e = |kind| ApiError::upstream(&UpstreamError::new(Operation::CardRecharge, kind), &map());
        assert_eq!(e(K::Timeout { sent: true }).status, StatusCode::GATEWAY_TIMEOUT);
        assert_eq!(e(K::Connect).status, StatusCode::BAD_GATEWAY);
        assert_eq!(e(K::BadResponse).status, StatusCode::BAD_GATEWAY);
        assert_eq!(e(K::NonStandard { status_code: Some(500) }).status, StatusCode::BAD_GATEWAY);
        let biz = e(K::Business { code: "110005".into(), message: "balance".into() });
        assert_eq!(biz.status, StatusCode::CONFLICT);
        assert_eq!(biz.code, "insufficient_merchant_balance");
        assert_eq!(biz.upstream_code.as_deref(), Some("110005"));
        let unknown = e(K::Business { code: "999".into(), message: String::new() });
        assert_eq!((unknown.status, unknown.code.as_str()), (StatusCode::UNPROCESSABLE_ENTITY, "upstream_rejected"));
        assert_eq!(
            e(K::StatusUnknown { code: "140001".into(), message: String::new() }).status,
            StatusCode::GATEWAY_TIMEOUT
        );
    }

    #[test]
    fn problem_body_has_rfc9457_members_and_extensions() {
        let p = ApiError::not_found("card_not_found", "card").to_problem();
        let v = serde_json::to_value(&p).unwrap();
        for k in ["type", "title", "status", "detail", "code", "request_id"] {
            assert!(v.get(k).is_some(), "{k}");
        }
        assert_eq!(v["status"], 404);
        assert!(v.get("errors").is_none());
    }
}
