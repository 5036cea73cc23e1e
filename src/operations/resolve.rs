//! Finishing operations from the platform's view of the order: the order inquiry (by `userReqNo`)
//! or a `card_operate` webhook. Success claims what the order created (a card, a group) for the
//! operation's tenant and stores the resulting resource (masked).

use chrono::{DateTime, Utc};

use crate::{
    domain::{
        card::card_from_wire,
        group::group_from_wire,
        operation::{OperationKind, OperationStatus},
    },
    error::ApiError,
    operations::record::{Created, StoredOperation, claim_created, transition},
    state::AppState,
    tenancy::ObjectKind,
    upstream::{
        UpstreamError,
        wire::{
            card::CardInfoRequest,
            group::GroupInfoRequest,
            order::{OrderQueryRequest, OrderRecord},
            webhook::CardOperate,
        },
    },
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderStatus {
    Pending,
    Succeeded,
    Failed,
}

/// The platform's view of one order, from either source.
#[derive(Debug, Clone)]
pub struct OrderState {
    pub order_id: Option<String>,
    pub status: OrderStatus,
    pub card_id: Option<String>,
    pub group_id: Option<String>,
    pub error_code: Option<String>,
    pub error_msg: Option<String>,
}

impl OrderState {
    pub fn from_record(r: &OrderRecord, state: &AppState) -> Self {
        let c = state.codes();
        let status = if r.status == c.order_status_success {
            OrderStatus::Succeeded
        } else if r.status == c.order_status_failed {
            OrderStatus::Failed
        } else {
            OrderStatus::Pending
        };
        Self {
            order_id: Some(r.order_id.clone()),
            status,
            card_id: r.card_id.clone(),
            group_id: r.group_id.clone(),
            error_code: r.error_code.clone(),
            error_msg: r.error_msg.clone(),
        }
    }

    /// From a `card_operate` webhook (either shape); `resourceId` is a group for group applications.
    pub fn from_webhook(w: &CardOperate, state: &AppState) -> Self {
        let c = state.codes();
        let status = if w.status == c.webhook_status_success {
            OrderStatus::Succeeded
        } else if w.status == c.webhook_status_failure {
            OrderStatus::Failed
        } else {
            OrderStatus::Pending
        };
        let is_group = w.op_type == c.op_type_group_apply;
        let card_id = w.card_id.clone().or_else(|| (!is_group).then(|| w.resource_id.clone()).flatten());
        let group_id = w.group_id.clone().or_else(|| is_group.then(|| w.resource_id.clone()).flatten());
        Self { order_id: Some(w.order_id.clone()), status, card_id, group_id, error_code: None, error_msg: None }
    }
}

/// Orders per inquiry page, and how many pages one settlement may read.
const ORDER_PAGE: i64 = 50;
const MAX_ORDER_PAGES: i64 = 10;

/// Asks the platform about an order by request number, sent no earlier than `since`. `Ok(None)`:
/// it has no such order — said only once the platform's own list ended without it. That the
/// platform filters by `userReqNo` is INFERRED: rows are matched here, and a platform that ignores
/// the filter is paged through; when even that is inconclusive the answer is an error ("still
/// unknown"), never `None`, because `None` may lead to a resend.
pub async fn query_order(
    state: &AppState,
    user_req_no: &str,
    since: DateTime<Utc>,
) -> Result<Option<OrderState>, UpstreamError> {
    // Clock skew between the gateway and the platform: look a little further back.
    let begin = state.clock.format_datetime(since - chrono::Duration::minutes(10));
    for current_page in 1..=MAX_ORDER_PAGES {
        let req = OrderQueryRequest {
            begin_time: Some(begin.clone()),
            ..OrderQueryRequest::page(current_page, ORDER_PAGE, Some(user_req_no.to_owned()))
        };
        let list = state.upstream.order_query(&req).await?.result.map(|p| p.list).unwrap_or_default();
        let rows = list.len();
        if let Some(o) = list.into_iter().find(|o| o.user_req_no == user_req_no) {
            return Ok(Some(OrderState::from_record(&o, state)));
        }
        if (rows as i64) < ORDER_PAGE {
            return Ok(None);
        }
    }
    tracing::warn!(
        pages = MAX_ORDER_PAGES,
        "order inquiry inconclusive: the filter seems ignored and the window is long"
    );
    Err(UpstreamError::new(crate::upstream::Operation::OrderQuery, crate::upstream::UpstreamErrorKind::BadResponse))
}

/// The resource an operation acts on, as the public API shows it (masked).
pub async fn fetch_result(state: &AppState, op: &StoredOperation) -> Result<Option<serde_json::Value>, UpstreamError> {
    // A recharge or refund is fully described by what the gateway sent: no second platform call
    // unless the caller asked for the re-read resource.
    if let Some(movement) = movement(op) {
        return Ok(serde_json::to_value(movement).ok());
    }
    let Some(target) = &op.op.target else { return Ok(None) };
    let Some(id) = &target.id else { return Ok(None) };
    let (kind, value) = match target.kind.as_str() {
        "card" => {
            let info = state.upstream.card_info(&CardInfoRequest { card_id: id.clone() }).await?;
            let v = info.result.map(|i| serde_json::to_value(card_from_wire(&i, state.codes(), &state.clock)));
            (ObjectKind::Card, v)
        }
        "card_group" => {
            let info = state.upstream.group_info(&GroupInfoRequest { group_id: id.clone() }).await?;
            let v = info.result.map(|g| serde_json::to_value(group_from_wire(&g, state.codes(), &state.clock)));
            (ObjectKind::CardGroup, v)
        }
        _ => return Ok(None),
    };
    let Some(mut value) = value.map(Result::unwrap_or_default) else { return Ok(None) };
    with_metadata(state, op, kind, id, &mut value).await;
    Ok(Some(value))
}

/// Puts the object's stored `metadata` into its public JSON (the platform does not know it). A store
/// failure leaves the platform's view as it is, logged: the write itself already happened.
async fn with_metadata(
    state: &AppState,
    op: &StoredOperation,
    kind: ObjectKind,
    id: &str,
    value: &mut serde_json::Value,
) {
    let Some(tenant) = op.tenant_id() else { return };
    match state.ownership.get_fresh(&tenant, kind, id).await {
        Ok(Some(meta)) => {
            if let Some(obj) = value.as_object_mut() {
                obj.insert("metadata".to_owned(), serde_json::to_value(&meta.metadata).unwrap_or_default());
            }
        }
        Ok(None) => {}
        Err(e) => tracing::warn!(error = %e, operation.id = %op.op.id, "metadata not read for an operation's result"),
    }
}

/// The result of a recharge or refund that was not asked to expand, from the operation alone.
fn movement(op: &StoredOperation) -> Option<crate::domain::card::FundsMovement> {
    use crate::domain::operation::OperationKind as K;
    let (holder, direction) = match op.op.kind {
        K::CardRecharge => ("card", "recharge"),
        K::CardRefund => ("card", "refund"),
        K::CardGroupRecharge => ("card_group", "recharge"),
        K::CardGroupRefund => ("card_group", "refund"),
        _ => return None,
    };
    if op.context.expand {
        return None;
    }
    let id = op.op.target.as_ref().and_then(|t| t.id.clone())?;
    Some(crate::domain::card::FundsMovement {
        object: "funds_movement".into(),
        holder: holder.into(),
        id,
        direction: direction.into(),
        amount: op.context.amount.clone()?,
        currency: op.context.currency.clone(),
    })
}

/// Applies the platform's order state to an operation (compare-and-set). Idempotent: a settled
/// operation is never changed again (duplicate or out-of-order webhooks converge on the first final
/// state, and an answer arriving after its webhook cannot undo it).
pub async fn apply(state: &AppState, op: &mut StoredOperation, order: &OrderState) -> Result<(), ApiError> {
    if op.is_settled() {
        return Ok(());
    }
    let mut result = None;
    if order.status == OrderStatus::Succeeded {
        claim_created_from_order(state, op, order).await?;
        result = match fetch_result(state, op).await {
            Ok(r) => r,
            Err(e) => {
                // The order succeeded; the resource view can be refreshed later.
                tracing::warn!(error = %e, operation.id = %op.op.id, "could not fetch the result of a finished order");
                None
            }
        };
    }
    let failure = {
        let mut e = ApiError::new(
            actix_web::http::StatusCode::UNPROCESSABLE_ENTITY,
            "upstream_order_failed",
            "the card platform reported the order as failed",
        );
        e.upstream_code = order.error_code.clone();
        e.upstream_message = order.error_msg.as_deref().map(crate::upstream::client::sanitize_message);
        e.to_problem()
    };
    let target = op.op.target.clone();
    transition(state, op, |op| {
        if op.is_settled() {
            return false;
        }
        let before = (op.op.status, op.applied, op.op.upstream_order_id.clone());
        if op.op.upstream_order_id.is_none() {
            op.op.upstream_order_id = order.order_id.clone();
        }
        match order.status {
            OrderStatus::Pending => op.accept(None),
            OrderStatus::Failed => op.fail(failure.clone(), false),
            OrderStatus::Succeeded => {
                if op.op.target.as_ref().is_none_or(|t| t.id.is_none()) {
                    op.op.target = target.clone();
                }
                op.succeed(result.clone());
            }
        }
        before != (op.op.status, op.applied, op.op.upstream_order_id.clone())
    })
    .await?;
    if op.op.status == OperationStatus::Failed {
        super::caps::release(state, op).await;
    }
    Ok(())
}

/// A successful create records the new card or group as the operation's tenant's.
async fn claim_created_from_order(
    state: &AppState,
    op: &mut StoredOperation,
    order: &OrderState,
) -> Result<(), ApiError> {
    let (kind, id) = match op.op.kind {
        OperationKind::CardCreate => (ObjectKind::Card, order.card_id.clone()),
        OperationKind::CardGroupCreate => (ObjectKind::CardGroup, order.group_id.clone()),
        _ => return Ok(()),
    };
    let Some(id) = id else { return Ok(()) };
    let ctx = op.context.clone();
    let created = Created::new(kind, id)
        .attr("group_id", ctx.group_id.as_deref())
        .attr("cardholder_id", ctx.cardholder_id.as_deref())
        .attr("currency", ctx.currency.as_deref())
        .metadata(&ctx.metadata);
    claim_created(state, op, &created).await
}

/// Brings an unsettled card-order operation up to date by asking the platform.
pub async fn refresh(state: &AppState, op: &mut StoredOperation) -> Result<(), ApiError> {
    if op.is_settled() || !op.op.kind.is_card_order() {
        return Ok(());
    }
    match query_order(state, &op.op.user_req_no, op.op.created_at).await {
        Ok(Some(order)) => apply(state, op, &order).await,
        Ok(None) => Ok(()),
        Err(e) => {
            tracing::warn!(error = %e, operation.id = %op.op.id, "order inquiry failed while refreshing");
            Ok(())
        }
    }
}
