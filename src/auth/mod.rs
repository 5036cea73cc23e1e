//! Authentication (bearer JWT) and authorisation (scopes) — docs/product.md §5.

pub mod dev_tokens;
pub mod jwks;
pub mod middleware;
pub mod principal;
pub mod verified_cache;
pub mod verifier;

/// The scope vocabulary lives with the route policy ([`crate::policy::scopes`]).
pub use crate::policy::{Scope, ScopeSet, scopes};
pub use principal::Principal;
pub use verifier::JwtVerifier;
