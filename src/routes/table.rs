//! The route table: for every route its method, path template, required auth/scope, rate-limit class
//! and whether it is idempotency-keyed. Middleware reads the policy of the matched route from here, so
//! auth, scope, rate limit and idempotency are decided *before* the handler runs (a 403 or 429 never
//! touches the idempotency store).

use actix_web::http::Method;

use crate::auth::Scope;

pub use crate::rate_limit::RouteClass;

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// No token (health, docs, inbound webhooks authenticated by their envelope).
    Public,
    /// Any valid token.
    Authenticated,
    /// A valid token with this scope.
    Scope(Scope),
}

#[derive(Debug, Clone)]
pub struct RoutePolicy {
    pub method: Method,
    pub path: &'static str,
    pub access: Access,
    pub class: RouteClass,
    /// State-changing: requires `Idempotency-Key`.
    pub idempotent: bool,
}

#[derive(Debug, Clone, Default)]
pub struct RouteTable {
    routes: Vec<RoutePolicy>,
}

impl RouteTable {
    pub fn new(routes: Vec<RoutePolicy>) -> Self {
        Self { routes }
    }

    pub fn routes(&self) -> &[RoutePolicy] {
        &self.routes
    }

    /// The policy for a method and a matched path template (as actix reports it).
    pub fn find(&self, method: &Method, pattern: &str) -> Option<&RoutePolicy> {
        self.routes.iter().find(|r| r.method == method && r.path == pattern)
    }

    /// The policy for a method and a concrete path.
    pub fn resolve(&self, method: &Method, path: &str) -> Option<&RoutePolicy> {
        self.routes.iter().find(|r| r.method == method && template_matches(r.path, path))
    }

    /// Methods registered for a concrete path (for 405 + `Allow`).
    pub fn methods_for(&self, path: &str) -> Vec<String> {
        let mut m: Vec<String> =
            self.routes.iter().filter(|r| template_matches(r.path, path)).map(|r| r.method.to_string()).collect();
        m.sort();
        m.dedup();
        m
    }
}

/// `/v1/cards/{id}` matches `/v1/cards/abc` (one non-empty segment per parameter).
pub fn template_matches(template: &str, path: &str) -> bool {
    let t: Vec<&str> = template.trim_end_matches('/').split('/').collect();
    let p: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    t.len() == p.len()
        && t.iter().zip(&p).all(|(a, b)| (a.starts_with('{') && a.ends_with('}') && !b.is_empty()) || a == b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_match_concrete_paths_segment_by_segment() {
        assert!(template_matches("/v1/cards/{id}", "/v1/cards/123"));
        assert!(!template_matches("/v1/cards/{id}", "/v1/cards/123/cancel"));
        assert!(!template_matches("/v1/cards/{id}", "/v1/cards/"));
        assert!(template_matches("/v1/cards", "/v1/cards"));
    }
}
