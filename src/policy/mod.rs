//! Route policy: for every route its method, path pattern, who may call it ([`Access`], with the
//! [`Scope`] vocabulary), its rate-limit [`RouteClass`] and whether it is idempotency-keyed. The
//! `routes!` list in `routes/mod.rs` builds the [`RouteTable`]; the auth middleware (the outermost one
//! that reads it) finds the matched route's policy once, from actix's own match pattern, and puts it in
//! the request extensions, where rate limiting and idempotency read it. So auth, scope, rate limit and
//! idempotency are decided *before* the handler runs (a 403 or 429 never touches the idempotency store).
//!
//! A leaf: it imports nothing of the crate, so every middleware, `http`, `openapi` and `routes` can.

pub mod scopes;

use std::sync::{Arc, OnceLock};

use actix_web::{
    dev::{Path, ResourceDef},
    http::Method,
};

pub use scopes::{Scope, ScopeSet};

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

/// The rate-limit class of a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RouteClass {
    Read,
    Write,
    /// `GET /v1/cards/{id}/sensitive`: limited on its own, and tightly.
    Sensitive,
    /// A request with a body larger than `server.max_body_bytes` (charged besides its route's class).
    Heavy,
}

impl RouteClass {
    pub const ALL: [RouteClass; 4] = [RouteClass::Read, RouteClass::Write, RouteClass::Sensitive, RouteClass::Heavy];

    /// The policy name in headers and configuration.
    pub fn as_str(self) -> &'static str {
        match self {
            RouteClass::Read => "read",
            RouteClass::Write => "write",
            RouteClass::Sensitive => "sensitive",
            RouteClass::Heavy => "heavy",
        }
    }

    /// The position in [`RouteClass::ALL`] (per-class tables are arrays).
    pub fn index(self) -> usize {
        self as usize
    }
}

#[derive(Debug, Clone)]
pub struct RoutePolicy {
    pub method: Method,
    /// The path pattern, exactly as registered with actix (`/v1/cards/{id}`).
    pub path: &'static str,
    pub access: Access,
    pub class: RouteClass,
    /// State-changing: requires `Idempotency-Key`.
    pub idempotent: bool,
    /// `path` compiled by actix-router for the path parameters: once per route, on first use (shared
    /// by the clones in request extensions), so building the table compiles nothing.
    pattern: Arc<OnceLock<ResourceDef>>,
}

impl RoutePolicy {
    pub fn new(method: Method, path: &'static str, access: Access, class: RouteClass, idempotent: bool) -> Self {
        Self { method, path, access, class, idempotent, pattern: Arc::default() }
    }

    /// The `{name}` parameters of a concrete path this route matched, as actix-router captures them
    /// (raw, not percent-decoded); empty when the path does not match the pattern.
    pub fn path_params(&self, path: &str) -> Vec<(String, String)> {
        let mut captured = Path::new(path);
        if !self.pattern.get_or_init(|| ResourceDef::new(self.path)).capture_match_info(&mut captured) {
            return Vec::new();
        }
        captured.iter().map(|(k, v)| (k.to_owned(), v.to_owned())).collect()
    }
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

    /// The policy for a method and a matched path pattern (as actix reports it: `match_pattern()`).
    pub fn find(&self, method: &Method, pattern: &str) -> Option<&RoutePolicy> {
        self.routes.iter().find(|r| r.method == method && r.path == pattern)
    }

    /// The methods registered for a matched path pattern, sorted (for 405 + `Allow`).
    pub fn methods_for(&self, pattern: &str) -> Vec<String> {
        let mut m: Vec<String> =
            self.routes.iter().filter(|r| r.path == pattern).map(|r| r.method.to_string()).collect();
        m.sort();
        m.dedup();
        m
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(path: &'static str) -> RoutePolicy {
        RoutePolicy::new(Method::POST, path, Access::Public, RouteClass::Write, true)
    }

    #[test]
    fn path_params_pair_pattern_names_with_values() {
        assert_eq!(
            policy("/v1/cards/{id}/recharges").path_params("/v1/cards/123/recharges"),
            vec![("id".to_owned(), "123".to_owned())]
        );
        assert!(policy("/v1/cards").path_params("/v1/cards").is_empty());
        assert!(policy("/v1/cards/{id}").path_params("/v1/cards/123/cancel").is_empty());
        // Raw, as the fingerprint always saw them.
        assert_eq!(policy("/v1/cards/{id}").path_params("/v1/cards/a%20b")[0].1, "a%20b");
    }

    #[test]
    fn methods_are_those_of_the_matched_pattern() {
        let t = RouteTable::new(vec![
            RoutePolicy::new(Method::GET, "/v1/cards", Access::Public, RouteClass::Read, false),
            policy("/v1/cards"),
            policy("/v1/cards/{id}/cancel"),
        ]);
        assert_eq!(t.methods_for("/v1/cards"), ["GET", "POST"]);
        assert!(t.methods_for("/v1/nope").is_empty());
        assert!(t.find(&Method::GET, "/v1/cards/{id}/cancel").is_none());
        assert!(t.find(&Method::POST, "/v1/cards/{id}/cancel").is_some());
    }
}
