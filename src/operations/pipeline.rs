//! The one write path every state-changing route takes. It reads top to bottom:
//!
//! ```text
//! load the operation of this (tenant, key, request)
//!   ├─ settled / accepted ............................ answer what is known
//!   ├─ outcome unknown ............................... ask the platform (order inquiry); found → settle
//!   │    no trace yet / no inquiry for this kind ..... 202 unknown (retry later), or after the quiet
//!   │                                                  period: resend (same userReqNo) or, where no
//!   │                                                  inquiry and no known de-duplication, settle as
//!   │                                                  unconfirmable — never a blind second send
//!   └─ new / applied nothing ......................... reserve the money cap → record "sending" → send
//! settle by `Applied` (decided once, in `upstream::error`): Yes → succeeded / pending · No → failed
//! (a final refusal is stored; "retry later" and never-sent release the key) · Unknown → 202 unknown
//! ```
//!
//! Every change to the stored operation is a compare-and-set (`record::transition`), so the answer
//! path and the platform's `card_operate` webhook converge on the first final state without sleeps.
//! Anything that fails after the request may have reached the platform leaves the key `unknown`.

use std::time::Duration;

use actix_web::{
    HttpResponse, ResponseError as _,
    http::{StatusCode, header},
};
use chrono::Utc;
use futures_util::FutureExt as _;
use rust_decimal::Decimal;

use super::{
    caps,
    ctx::WriteCtx,
    record::{
        Created, OpContext, RefusedResend, StoredOperation, claim_created, commit, load, transition, transition_in,
    },
    resolve::{self, OrderStatus},
};
use crate::{
    domain::operation::{OperationKind, OperationStatus, OperationTarget},
    error::{ApiError, Problem},
    idempotency::{DocSwap, IdemOutcome, SettleWithAnswer, mark},
    state::AppState,
    tenancy::ObjectKind,
    upstream::{Applied, UpstreamError, UpstreamErrorKind},
};

/// What differs between state-changing routes.
#[derive(Debug, Clone)]
pub struct WriteSpec {
    pub kind: OperationKind,
    pub target: Option<OperationTarget>,
    pub context: OpContext,
    pub view: SuccessView,
    /// Money this operation loads, counted against the tenant's daily cap: (currency, amount).
    pub cap: Option<(String, Decimal)>,
}

impl WriteSpec {
    pub fn new(kind: OperationKind, view: SuccessView) -> Self {
        Self { kind, target: None, context: OpContext::default(), view, cap: None }
    }

    pub fn target(mut self, kind: &str, id: Option<&str>) -> Self {
        self.target = Some(OperationTarget { kind: kind.to_owned(), id: id.map(str::to_owned) });
        self
    }

    pub fn context(mut self, context: OpContext) -> Self {
        self.context = context;
        self
    }

    pub fn capped(mut self, currency: &str, amount: Decimal) -> Self {
        self.cap = Some((currency.to_owned(), amount));
        self
    }
}

/// How a succeeded operation is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SuccessView {
    /// `201` with the operation's resulting resource (creates).
    Created,
    /// `200` with the resulting resource (updates).
    Resource,
    /// `200` with the operation (money movements).
    Operation,
}

/// What the platform's (successful) answer means.
#[derive(Debug, Clone)]
pub enum Sent {
    /// Done synchronously: the order, the resulting resource, and an object it created.
    Done { order_id: Option<String>, result: Option<serde_json::Value>, created: Option<Created> },
    /// Accepted; the platform finishes it later (order inquiry or `card_operate`).
    Accepted { order_id: Option<String> },
}

/// Runs one state-changing request. `send` makes the platform call and maps its answer.
pub async fn run<F>(state: &AppState, ctx: &WriteCtx, spec: WriteSpec, send: F) -> Result<HttpResponse, ApiError>
where
    F: AsyncFnOnce(&StoredOperation) -> Result<Sent, UpstreamError>,
{
    // First executions are the common case: create the operation directly (one store step) and read
    // the stored one only when it exists already (a retry, or a key whose idempotency record is gone).
    let mut op = StoredOperation::new(
        &ctx.tenant,
        ctx.op_id.clone(),
        spec.kind,
        ctx.user_req_no.clone(),
        spec.target.clone(),
        spec.context.clone(),
    );
    let mut looked = false;
    loop {
        // Nothing has been sent yet: a refusal here leaves the key free.
        let mut refusal = None;
        if let Some((currency, amount)) = &spec.cap
            && op.cap.is_none()
        {
            match caps::reserve(state, &ctx.tenant, currency, *amount).await {
                Ok(r) => op.cap = r,
                Err(e) => refusal = Some(mark(e.error_response(), IdemOutcome::NotApplied)),
            }
        }
        if refusal.is_none() {
            op.mark_sending();
            match commit(state, &mut op).await {
                Ok(true) => break,
                Ok(false) => caps::give_back(state, op.cap.take()).await,
                Err(e) => {
                    caps::give_back(state, op.cap.take()).await;
                    return Err(e);
                }
            }
        }
        // Refused, or the operation exists: what is stored decides, once.
        if !looked {
            looked = true;
            if let Some(existing) = load(state, &ctx.tenant, &ctx.op_id).await? {
                match recover(state, &spec, existing).await? {
                    Recovery::Answer(res) => return Ok(res),
                    Recovery::Send(stored) => {
                        op = *stored;
                        continue;
                    }
                }
            }
        }
        return match refusal {
            Some(res) => Ok(res),
            None => Err(ApiError::conflict(
                "idempotency_key_in_flight",
                "a request with this Idempotency-Key is still being processed",
            )),
        };
    }

    let answer = send(&op).await;
    // From here on the platform may have acted: whatever fails leaves the outcome unknown.
    let attempt = op.attempts;
    match settle(state, &mut op, spec.view, attempt, answer, ctx.settles_with_answer).await {
        Ok(res) => Ok(res),
        Err(e) => {
            tracing::warn!(operation.id = %op.op.id, code = %e.code, "could not record the platform's answer");
            Ok(mark(e.error_response(), IdemOutcome::Unknown))
        }
    }
}

/// The platform answered (or did not): record it and answer the client. `attempt` numbers this send:
/// a refusal of an older send says nothing about a newer one, and an unknown outcome of an older send
/// makes a newer send's refusal inconclusive.
async fn settle(
    state: &AppState,
    op: &mut StoredOperation,
    view: SuccessView,
    attempt: u32,
    answer: Result<Sent, UpstreamError>,
    with_answer: bool,
) -> Result<HttpResponse, ApiError> {
    let e = match answer {
        Ok(Sent::Done { order_id, result, created }) => {
            if let Some(c) = &created {
                claim_created(state, op, c).await?;
            }
            let target = op.op.target.clone();
            let change = move |op: &mut StoredOperation| {
                if op.is_settled() {
                    return false;
                }
                if order_id.is_some() {
                    op.op.upstream_order_id = order_id.clone();
                }
                op.op.target = target.clone();
                op.succeed(result.clone());
                true
            };
            return settle_known(state, op, view, with_answer, change).await;
        }
        Ok(Sent::Accepted { order_id }) => {
            let change = move |op: &mut StoredOperation| {
                if op.is_settled() {
                    return false;
                }
                op.accept(order_id.clone());
                true
            };
            return settle_known(state, op, view, with_answer, change).await;
        }
        Err(e) => e,
    };
    match e.applied() {
        Applied::No => {
            let api = state.up(&e);
            // The platform's own refusal is a final answer; not reaching it, or "retry later", is not.
            let final_refusal = matches!(e.kind, UpstreamErrorKind::Business { .. });
            let problem = api.to_problem();
            transition(state, op, |op| {
                if op.is_settled() || op.attempts != attempt {
                    return false;
                }
                if op.resent_after_unknown {
                    // The first send may still show up: stay unknown, believe this refusal later.
                    op.unknown(unknown_problem(state, &e));
                    op.refused_resend = Some(RefusedResend { problem: problem.clone(), retryable: !final_refusal });
                } else {
                    op.fail(problem.clone(), !final_refusal);
                }
                true
            })
            .await?;
            if op.attempts != attempt || op.refused_resend.is_some() {
                // A newer send owns the outcome, or this refusal waits to be believed: answer what the
                // stored operation says.
                if !op.is_settled() && op.applied != Applied::Yes {
                    return Ok(still_unknown(state, op));
                }
                return Ok(respond_known(op, view));
            }
            caps::release(state, op).await;
            if op.is_settled() && op.op.status == OperationStatus::Succeeded {
                // A webhook finished it first: that is the truth.
                return Ok(respond_known(op, view));
            }
            Ok(mark(api.error_response(), if final_refusal { IdemOutcome::Final } else { IdemOutcome::NotApplied }))
        }
        Applied::Yes | Applied::Unknown => {
            tracing::warn!(operation.id = %op.op.id, error = %e, "upstream outcome unknown");
            let problem = unknown_problem(state, &e);
            transition(state, op, |op| {
                let newer_refused = op.attempts != attempt && op.op.status == OperationStatus::Failed;
                if (op.is_settled() && !newer_refused) || op.applied == Applied::Yes {
                    return false;
                }
                op.unknown(problem.clone());
                true
            })
            .await?;
            if op.op.status == OperationStatus::Unknown {
                return Ok(still_unknown(state, op));
            }
            Ok(respond_known(op, view))
        }
    }
}

/// The platform's answer is known (done, or accepted): settle the operation by `change` and answer.
///
/// With `with_answer` (the idempotency layer stores the answer), the settlement is not written here:
/// the answer carries it (`SettleWithAnswer`) and the layer writes both in one store step — the
/// third and last Redis round trip of a first execution (charged begin, the operation's create, this).
/// The answer is computed from the operation as `change` leaves the stored version, and the step
/// writes only while the stored document is still at that version, so the webhook path's
/// compare-and-set ordering holds: when a webhook settled it first, nothing is written and `alone`
/// settles it here (reload, re-apply `change`, which then declines) and answers what is stored.
async fn settle_known<C>(
    state: &AppState,
    op: &mut StoredOperation,
    view: SuccessView,
    with_answer: bool,
    mut change: C,
) -> Result<HttpResponse, ApiError>
where
    C: FnMut(&mut StoredOperation) -> bool + Clone + 'static,
{
    if with_answer && op.version > 0 {
        let mut next = op.clone();
        if !change(&mut next) {
            return Ok(respond_known(op, view));
        }
        let res = respond_known(&next, view);
        if res.extensions().get::<IdemOutcome>() == Some(&IdemOutcome::Final) {
            let tenant = next.tenant_id().ok_or_else(|| ApiError::internal("operation without a valid tenant"))?;
            let expect = next.version;
            next.version = expect + 1;
            let doc = serde_json::to_value(&next).map_err(ApiError::internal)?;
            let docs = state.ownership.clone();
            let swap = DocSwap {
                docs: docs.clone(),
                tenant,
                kind: ObjectKind::Operation,
                id: next.op.id.clone(),
                expect,
                doc,
            };
            let mut stored = op.clone();
            let alone = move || {
                async move {
                    match transition_in(docs.as_ref(), &mut stored, change).await {
                        Ok(()) => respond_known(&stored, view),
                        Err(e) => {
                            tracing::warn!(operation.id = %stored.op.id, code = %e.code, "could not record the platform's answer");
                            mark(e.error_response(), IdemOutcome::Unknown)
                        }
                    }
                }
                .boxed_local()
            };
            *op = next;
            let mut res = res;
            res.extensions_mut().insert(SettleWithAnswer { swap, alone: Box::new(alone) });
            return Ok(res);
        }
    }
    transition(state, op, change).await?;
    Ok(respond_known(op, view))
}

enum Recovery {
    Answer(HttpResponse),
    Send(Box<StoredOperation>),
}

/// An operation with this identity exists: answer what is known, ask the platform, or decide that
/// sending again is safe.
async fn recover(state: &AppState, spec: &WriteSpec, mut op: StoredOperation) -> Result<Recovery, ApiError> {
    if op.is_settled() {
        return Ok(Recovery::Answer(respond_known(&op, spec.view)));
    }
    if op.applied == Applied::Yes {
        // Accepted earlier; finishing asynchronously.
        resolve::refresh(state, &mut op).await?;
        return Ok(Recovery::Answer(respond_known(&op, spec.view)));
    }
    if op.applied == Applied::No {
        // Never sent, or failed without applying anything ("retry later", unreachable).
        return Ok(Recovery::Send(Box::new(op)));
    }
    // The outcome is unknown: only the platform can settle it.
    let quiet = quiet_left(state, &op);
    if op.op.kind.is_card_order() {
        match resolve::query_order(state, &op.op.user_req_no, op.op.created_at).await {
            Ok(Some(order)) => {
                resolve::apply(state, &mut op, &order).await?;
                if order.status == OrderStatus::Failed {
                    caps::release(state, &mut op).await;
                }
                return Ok(Recovery::Answer(respond_known(&op, spec.view)));
            }
            Ok(None) if quiet.is_zero() && op.refused_resend.is_some() => {
                return Ok(Recovery::Answer(believe_refusal(state, &mut op, spec.view).await?));
            }
            Ok(None) if quiet.is_zero() && !measured_no_dedupe(state) => {
                crate::metrics::upstream_resend(op.op.kind.name(), "no_trace_after_quiet_period");
                op.resent_after_unknown = true;
                return Ok(Recovery::Send(Box::new(op)));
            }
            Ok(None) if quiet.is_zero() => {
                // `upstream-check` measured that a repeated userReqNo is a new order: an order that is
                // merely late to show would be paid twice. Never resent; asked again on every read.
                tracing::warn!(operation.id = %op.op.id, "no trace of the order, but the platform does not de-duplicate userReqNo (upstream facts): not resent");
            }
            Ok(None) => {}
            Err(e) => tracing::warn!(operation.id = %op.op.id, error = %e, "order inquiry failed while recovering"),
        }
    } else if quiet.is_zero() {
        if op.refused_resend.is_some() {
            return Ok(Recovery::Answer(believe_refusal(state, &mut op, spec.view).await?));
        }
        if state.settings.idempotency.platform_dedupes && !measured_no_dedupe(state) {
            // The platform answers a repeated request number with its first answer: asking again is
            // the only inquiry this kind has.
            crate::metrics::upstream_resend(op.op.kind.name(), "platform_dedupes");
            op.resent_after_unknown = true;
            return Ok(Recovery::Send(Box::new(op)));
        }
        return Ok(Recovery::Answer(unconfirmable(state, &mut op).await?));
    }
    mark_unknown(state, &mut op).await?;
    Ok(Recovery::Answer(still_unknown(state, &op)))
}

/// `upstream-check` measured that the platform does NOT de-duplicate a repeated `userReqNo`
/// (`upstream.facts_file`): then nothing is ever resent automatically after an unknown outcome, whatever
/// `idempotency.platform_dedupes` says.
fn measured_no_dedupe(state: &AppState) -> bool {
    state.facts.dedupes_requests() == crate::upstream::facts::Verdict::No
}

/// A resend was refused and, a quiet period later, the platform still shows no trace of the first
/// send: the refusal is the answer now (final, or retryable — then the next request sends again).
async fn believe_refusal(
    state: &AppState,
    op: &mut StoredOperation,
    view: SuccessView,
) -> Result<HttpResponse, ApiError> {
    transition(state, op, |op| {
        let Some(refusal) = op.refused_resend.take() else { return false };
        if op.is_settled() || op.applied == Applied::Yes {
            return false;
        }
        op.fail(refusal.problem, refusal.retryable);
        op.resent_after_unknown = false;
        true
    })
    .await?;
    caps::release(state, op).await;
    Ok(respond_known(op, view))
}

/// Time left of the quiet period after the last send (zero once over).
fn quiet_left(state: &AppState, op: &StoredOperation) -> Duration {
    let quiet = Duration::from_secs(state.settings.idempotency.resend_after_no_trace_s);
    let since = op.sent_at.map_or(Duration::MAX, |t| (Utc::now() - t).to_std().unwrap_or(Duration::ZERO));
    quiet.saturating_sub(since)
}

/// An operation interrupted mid-send (crash, lost store write) shows as `unknown` from now on.
async fn mark_unknown(state: &AppState, op: &mut StoredOperation) -> Result<(), ApiError> {
    if op.op.status == OperationStatus::Unknown {
        return Ok(());
    }
    let problem = unknown_problem_plain();
    transition(state, op, |op| {
        if op.is_settled() || op.applied != Applied::Unknown || op.op.status == OperationStatus::Unknown {
            return false;
        }
        op.unknown(problem.clone());
        true
    })
    .await
}

/// No inquiry can settle this kind and the platform's de-duplication is not known: the gateway will
/// never send it again. Final answer: `unknown`, for reconciliation against the platform's records.
async fn unconfirmable(state: &AppState, op: &mut StoredOperation) -> Result<HttpResponse, ApiError> {
    let mut problem = unknown_problem_plain();
    problem.code = "upstream_outcome_unconfirmable".to_owned();
    problem.detail = "the card platform did not confirm the outcome and offers no inquiry for this operation; it \
                      will not be sent again — reconcile it with the platform's records"
        .to_owned();
    transition(state, op, |op| {
        if op.is_settled() || op.op.error.as_ref().is_some_and(|p| p.code == problem.code) {
            return false;
        }
        op.unknown(problem.clone());
        true
    })
    .await?;
    crate::metrics::operation_unconfirmable(op.op.kind.name());
    tracing::error!(operation.id = %op.op.id, operation.kind = op.op.kind.name(), "operation outcome unconfirmable; needs reconciliation");
    Ok(mark(HttpResponse::Accepted().json(&op.op), IdemOutcome::Final))
}

fn unknown_problem_plain() -> Problem {
    ApiError::new(
        StatusCode::ACCEPTED,
        "upstream_outcome_unknown",
        "the card platform has not confirmed the outcome; it is being confirmed",
    )
    .to_problem()
}

fn unknown_problem(state: &AppState, e: &UpstreamError) -> Problem {
    let mut problem = state.up(e).to_problem();
    problem.code = "upstream_outcome_unknown".to_owned();
    problem.detail = "the card platform has not confirmed the outcome; it is being confirmed".to_owned();
    problem
}

/// `202` with the operation in status `unknown` (documented choice): the client has an id to poll,
/// and a retry with the same Idempotency-Key after `Retry-After` asks the platform again.
fn still_unknown(state: &AppState, op: &StoredOperation) -> HttpResponse {
    let floor = state.settings.idempotency.retry_after_s.max(1);
    let wait = quiet_left(state, op).as_secs().max(floor).min(floor.max(30));
    let res = HttpResponse::Accepted().insert_header((header::RETRY_AFTER, wait)).json(&op.op);
    mark(res, IdemOutcome::Unknown)
}

/// A created object's URL: the object itself where the API can read it, else the operation (whose
/// `result` is the object): crypto orders, exchanges and transfers have no read route of their own.
fn location(op: &StoredOperation) -> String {
    let collection = op.op.target.as_ref().and_then(|t| {
        let path = match t.kind.as_str() {
            "card" => "/v1/cards",
            "card_group" => "/v1/card-groups",
            "cardholder" => "/v1/cardholders",
            _ => return None,
        };
        Some((path, t.id.as_deref()?))
    });
    match collection {
        Some((path, id)) => format!("{path}/{id}"),
        None => format!("/v1/operations/{}", op.op.id),
    }
}

/// Answers from an operation whose outcome is known (succeeded, failed, or accepted and pending).
pub fn respond_known(op: &StoredOperation, view: SuccessView) -> HttpResponse {
    match op.op.status {
        OperationStatus::Succeeded => {
            let res = match (view, &op.op.result) {
                (SuccessView::Created, Some(r)) => {
                    HttpResponse::Created().insert_header((header::LOCATION, location(op))).json(r)
                }
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
            mark(e.error_response(), if op.retryable { IdemOutcome::NotApplied } else { IdemOutcome::Final })
        }
        OperationStatus::Pending => mark(HttpResponse::Accepted().json(&op.op), IdemOutcome::Final),
        OperationStatus::Unknown => mark(HttpResponse::Accepted().json(&op.op), IdemOutcome::Unknown),
    }
}
