//! Who is calling: the tenant, the subject and the scopes from a verified token.

use super::scopes::{Scope, ScopeSet};
use crate::{error::ApiError, tenancy::TenantId};

#[derive(Debug, Clone)]
pub struct Principal {
    pub tenant: TenantId,
    pub subject: String,
    pub scopes: ScopeSet,
    /// The token's `exp` (Unix seconds): long-lived answers (event streams) end there.
    pub expires_at: Option<i64>,
}

impl Principal {
    pub fn require(&self, scope: Scope) -> Result<(), ApiError> {
        if self.scopes.contains(scope) { Ok(()) } else { Err(ApiError::forbidden_scope(scope.as_str())) }
    }
}

impl actix_web::FromRequest for Principal {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    /// Set by the auth middleware; absent only if a route was registered outside it (a bug → 401).
    fn from_request(req: &actix_web::HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        use actix_web::HttpMessage as _;
        std::future::ready(req.extensions().get::<Principal>().cloned().ok_or_else(ApiError::missing_credentials))
    }
}
