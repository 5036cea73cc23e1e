//! Who is writing and under which identity: the tenant, and the operation's identity derived from
//! the Idempotency-Key *and* the request's fingerprint (method, route, path parameters, body), so a
//! key reused for another request after its record expired can never reach an older operation.

use std::future::{Ready, ready};

use actix_web::{FromRequest, HttpMessage as _, HttpRequest, dev::Payload};

use crate::{auth::Principal, error::ApiError, idempotency::IdempotencyGrant, state::AppState, tenancy::TenantId};

/// Tenant + operation identity of a state-changing request.
#[derive(Debug, Clone)]
pub struct WriteCtx {
    pub tenant: TenantId,
    pub key: String,
    pub user_req_no: String,
    pub op_id: String,
    /// The idempotency layer writes the operation's settlement with the stored answer
    /// (`IdempotencyGrant::settles_with_answer`).
    pub settles_with_answer: bool,
}

impl WriteCtx {
    pub fn new(state: &AppState, tenant: TenantId, grant: &IdempotencyGrant) -> Self {
        let identity = format!("{}\u{0}{}", grant.key, grant.fingerprint);
        let user_req_no = state.req_nos.for_key(&tenant, &identity);
        let op_id = state.req_nos.operation_id(&tenant, &identity);
        Self { tenant, key: grant.key.clone(), user_req_no, op_id, settles_with_answer: grant.settles_with_answer }
    }
}

impl FromRequest for WriteCtx {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let principal = req.extensions().get::<Principal>().cloned();
        let grant = req.extensions().get::<IdempotencyGrant>().cloned();
        let state = req.app_data::<actix_web::web::Data<AppState>>().cloned();
        ready(match (principal, grant, state) {
            (None, _, _) => Err(ApiError::missing_credentials()),
            (_, None, _) => Err(ApiError::internal("a state-changing route ran without the idempotency layer")),
            (_, _, None) => Err(ApiError::internal("state missing")),
            (Some(p), Some(g), Some(state)) => Ok(WriteCtx::new(&state, p.tenant, &g)),
        })
    }
}
