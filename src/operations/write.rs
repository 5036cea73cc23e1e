//! The shape of every state-changing handler:
//!
//! ```text
//! ctx.start(kind)  →  recover()  →  send to the platform  →  settle_ok / settle_err
//! ```
//! `WriteCtx` carries the tenant and the Idempotency-Key, from which the upstream `userReqNo` and the
//! operation id are derived; `recovering` (set by the idempotency layer) means an earlier attempt with
//! this key ended with an unknown outcome, so the platform is asked before anything is sent again.

use std::{future::Future, pin::Pin};

use actix_web::{
    FromRequest, HttpMessage as _, HttpRequest, HttpResponse, ResponseError as _, dev::Payload, http::StatusCode,
};

use super::{
    outcome::{IdemOutcome, mark},
    record::{OpContext, StoredOperation, load, save},
    resolve::{self, OrderStatus},
};
use crate::{
    auth::Principal,
    domain::operation::{OperationKind, OperationStatus, OperationTarget},
    error::ApiError,
    state::AppState,
    tenancy::TenantId,
    upstream::{UpstreamError, UpstreamErrorKind},
};

/// Set in request extensions by the idempotency middleware once it holds the key's lease.
#[derive(Debug, Clone)]
pub struct IdempotencyGrant {
    pub key: String,
    pub recovering: bool,
}

/// Tenant + idempotency key of a state-changing request.
#[derive(Debug, Clone)]
pub struct WriteCtx {
    pub tenant: TenantId,
    pub key: String,
    pub recovering: bool,
    pub user_req_no: String,
    pub op_id: String,
}

impl FromRequest for WriteCtx {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let principal = req.extensions().get::<Principal>().cloned();
        let grant = req.extensions().get::<IdempotencyGrant>().cloned();
        let header = req.headers().get("idempotency-key").map(|v| v.to_str().map(str::to_owned));
        let state = req.app_data::<actix_web::web::Data<AppState>>().cloned();
        Box::pin(async move {
            let principal = principal.ok_or_else(ApiError::missing_credentials)?;
            let state = state.ok_or_else(|| ApiError::internal("state missing"))?;
            let (key, recovering) = match grant {
                Some(g) => (g.key, g.recovering),
                None => {
                    let raw = match header {
                        None => return Err(missing_key()),
                        Some(Err(_)) => return Err(bad_key("must be visible ASCII")),
                        Some(Ok(v)) => v,
                    };
                    (
                        crate::idempotency::IdempotencyKey::parse(&raw)
                            .map_err(|e| bad_key(&e.to_string()))?
                            .as_str()
                            .to_owned(),
                        false,
                    )
                }
            };
            let user_req_no = state.req_nos.for_key(&principal.tenant, &key);
            let op_id = state.req_nos.operation_id(&principal.tenant, &key);
            Ok(WriteCtx { tenant: principal.tenant, key, recovering, user_req_no, op_id })
        })
    }
}

pub fn missing_key() -> ApiError {
    ApiError::bad_request("idempotency_key_missing", "state-changing requests need an Idempotency-Key header")
        .with_field("header.Idempotency-Key", "is required")
}

pub fn bad_key(why: &str) -> ApiError {
    ApiError::bad_request("idempotency_key_invalid", format!("the Idempotency-Key header is invalid: {why}"))
        .with_field("header.Idempotency-Key", why)
}

/// Problem codes of failures where nothing reached the platform: such an operation may be re-run.
const NOT_APPLIED_CODES: [&str; 3] = ["upstream_unreachable", "daily_money_cap_exceeded", "store_unavailable"];

/// What the handler should do after `start`.
pub enum Next {
    /// Send to the platform (first attempt, or recovery found no trace of the order).
    Send(Box<StoredOperation>),
    /// The outcome is already known: answer this.
    Respond(HttpResponse),
}

impl WriteCtx {
    /// Loads the operation of this key, or creates it; when recovering (or when an earlier attempt left
    /// it unknown), asks the platform first.
    pub async fn start(
        &self,
        state: &AppState,
        kind: OperationKind,
        target: Option<OperationTarget>,
        context: OpContext,
        success: SuccessView,
    ) -> Result<Next, ApiError> {
        let existing = load(state, &self.tenant, &self.op_id).await?;
        let mut op = match existing {
            Some(mut op) => {
                let not_applied = op.op.status == OperationStatus::Failed
                    && op.op.error.as_ref().is_some_and(|e| NOT_APPLIED_CODES.contains(&e.code.as_str()));
                if not_applied {
                    op.op.status = OperationStatus::Pending;
                    op.op.error = None;
                    op.op.completed_at = None;
                    return Ok(Next::Send(Box::new(op)));
                }
                op
            }
            None => {
                let op = StoredOperation::new(
                    &self.tenant,
                    self.op_id.clone(),
                    kind,
                    self.user_req_no.clone(),
                    target,
                    context,
                );
                save(state, &op).await?;
                if !self.recovering {
                    return Ok(Next::Send(Box::new(op)));
                }
                op
            }
        };
        if op.op.status.is_final() || op.op.status == OperationStatus::Pending && op.op.upstream_order_id.is_some() {
            return Ok(Next::Respond(respond_known(state, &op, success)));
        }
        if !kind.is_card_order() {
            // Not findable by order inquiry: resending with the same userReqNo is the platform's own
            // de-duplication (a repeated userReqNo returns the original order).
            return Ok(Next::Send(Box::new(op)));
        }
        match resolve::query_order(state, &self.user_req_no).await {
            Ok(None) => Ok(Next::Send(Box::new(op))),
            Ok(Some(order)) => {
                resolve::apply(state, &mut op, &order).await?;
                if order.status == OrderStatus::Pending {
                    op.op.status = OperationStatus::Pending;
                    save(state, &op).await?;
                }
                Ok(Next::Respond(respond_known(state, &op, success)))
            }
            Err(e) => Ok(Next::Respond(unknown_response(state, &mut op, &e).await)),
        }
    }
}

/// How a succeeded operation is answered.
#[derive(Debug, Clone, Copy)]
pub enum SuccessView {
    /// `201` with the operation's resulting resource (creates).
    Created,
    /// `200` with the resulting resource (updates).
    Resource,
    /// `200` with the operation (money movements).
    Operation,
}

/// Answers from an operation whose outcome is known.
pub fn respond_known(state: &AppState, op: &StoredOperation, success: SuccessView) -> HttpResponse {
    let _ = state;
    match op.op.status {
        OperationStatus::Succeeded => {
            let res = match (success, &op.op.result) {
                (SuccessView::Created, Some(r)) => HttpResponse::Created().json(r),
                (SuccessView::Resource, Some(r)) => HttpResponse::Ok().json(r),
                _ => HttpResponse::Ok().json(&op.op),
            };
            mark(res, IdemOutcome::Final)
        }
        OperationStatus::Failed => {
            let problem = op.op.error.clone();
            let status = problem
                .as_ref()
                .and_then(|p| StatusCode::from_u16(p.status).ok())
                .unwrap_or(StatusCode::UNPROCESSABLE_ENTITY);
            let mut e = ApiError::new(
                status,
                problem.as_ref().map_or("upstream_order_failed", |p| p.code.as_str()),
                problem.as_ref().map_or("", |p| p.detail.as_str()),
            );
            e.upstream_code = problem.as_ref().and_then(|p| p.upstream_code.clone());
            e.upstream_message = problem.as_ref().and_then(|p| p.upstream_message.clone());
            mark(e.error_response(), IdemOutcome::Final)
        }
        OperationStatus::Pending => mark(HttpResponse::Accepted().json(&op.op), IdemOutcome::Final),
        OperationStatus::Unknown => mark(HttpResponse::Accepted().json(&op.op), IdemOutcome::Unknown),
    }
}

/// The platform accepted the request for asynchronous processing.
pub async fn settle_accepted(
    state: &AppState,
    op: &mut StoredOperation,
    order_id: Option<String>,
) -> Result<HttpResponse, ApiError> {
    // The platform's `card_operate` webhook may have finished the operation while this answer was on
    // its way: never turn a final operation back into a pending one.
    if let Some(tenant) = op.tenant_id()
        && let Ok(Some(current)) = load(state, &tenant, &op.op.id).await
        && current.op.status.is_final()
    {
        *op = current;
        return Ok(mark(HttpResponse::Accepted().json(&op.op), IdemOutcome::Final));
    }
    op.op.status = OperationStatus::Pending;
    if order_id.is_some() {
        op.op.upstream_order_id = order_id;
    }
    save_after_send(state, op).await?;
    Ok(mark(HttpResponse::Accepted().json(&op.op), IdemOutcome::Final))
}

/// The platform finished synchronously.
pub async fn settle_succeeded(
    state: &AppState,
    op: &mut StoredOperation,
    order_id: Option<String>,
    result: Option<serde_json::Value>,
    success: SuccessView,
) -> Result<HttpResponse, ApiError> {
    if order_id.is_some() {
        op.op.upstream_order_id = order_id;
    }
    op.succeed(result);
    save_after_send(state, op).await?;
    Ok(respond_known(state, op, success))
}

/// After the platform acted, a failure to record it must not release the key: the outcome is known
/// upstream but not here, so the key becomes `unknown` and the next attempt asks again.
async fn save_after_send(state: &AppState, op: &StoredOperation) -> Result<(), ApiError> {
    save(state, op).await.map_err(|e| e.with_outcome(IdemOutcome::Unknown))
}

/// The platform refused, failed, or its answer is unknown.
pub async fn settle_err(state: &AppState, op: &mut StoredOperation, e: &UpstreamError) -> HttpResponse {
    if e.outcome_unknown() {
        return unknown_response(state, op, e).await;
    }
    let api = state.up(e);
    let not_applied = matches!(
        e.kind,
        UpstreamErrorKind::Connect
            | UpstreamErrorKind::Seal(_)
            | UpstreamErrorKind::NonStandard { .. }
            | UpstreamErrorKind::BadResponse
            | UpstreamErrorKind::HttpStatus(_)
    );
    let mut problem = api.to_problem();
    if not_applied {
        problem.code = "upstream_unreachable".to_owned();
    }
    op.fail(problem);
    if let Err(se) = save(state, op).await {
        tracing::warn!(error = %se.detail, "could not record a failed operation");
    }
    mark(api.error_response(), if not_applied { IdemOutcome::NotApplied } else { IdemOutcome::Final })
}

/// `202` with the operation in status `unknown` (documented choice): the client has an id to poll,
/// and a retry with the same Idempotency-Key asks the platform before sending again.
async fn unknown_response(state: &AppState, op: &mut StoredOperation, e: &UpstreamError) -> HttpResponse {
    tracing::warn!(operation.id = %op.op.id, error = %e, "upstream outcome unknown");
    op.op.status = OperationStatus::Unknown;
    let mut problem = state.up(e).to_problem();
    problem.code = "upstream_outcome_unknown".to_owned();
    problem.detail = "the card platform has not confirmed the outcome; it is being confirmed".to_owned();
    op.op.error = Some(problem);
    if let Err(se) = save(state, op).await {
        tracing::warn!(error = %se.detail, "could not record an unknown operation");
    }
    mark(HttpResponse::Accepted().json(&op.op), IdemOutcome::Unknown)
}

/// A refusal decided before anything was sent (e.g. a money cap): recorded on the operation, and the
/// key released so the same request may be retried later.
pub async fn fail_not_applied(state: &AppState, op: &mut StoredOperation, e: ApiError) -> HttpResponse {
    op.fail(e.to_problem());
    if let Err(se) = save(state, op).await {
        tracing::warn!(error = %se.detail, "could not record a refused operation");
    }
    mark(e.error_response(), IdemOutcome::NotApplied)
}
