//! Authentication (bearer JWT) and authorisation (scopes) — docs/product.md §5.

pub mod dev_tokens;
pub mod jwks;
pub mod middleware;
pub mod principal;
pub mod scopes;
pub mod verified_cache;
pub mod verifier;

pub use principal::Principal;
pub use scopes::{Scope, ScopeSet};
pub use verifier::JwtVerifier;
