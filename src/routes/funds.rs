//! Money movements shared by cards and card groups: recharge (merchant account → card or group) and
//! refund (back), plus settling any `{orderId}`-answering operation whose result is the resource.

use actix_web::{HttpResponse, web};

use super::support::owned;
use crate::{
    domain::{
        card::AmountBody,
        operation::{OperationKind, OperationTarget},
    },
    error::ApiError,
    operations::{
        StoredOperation, WriteCtx, caps,
        record::OpContext,
        resolve::fetch_result,
        write::{Next, SuccessView, fail_not_applied, settle_accepted, settle_err, settle_succeeded},
    },
    state::AppState,
    tenancy::ObjectKind,
    upstream::{
        Reply, UpstreamError,
        wire::{
            card::{RechargeRequest, RefundRequest},
            common::OrderAck,
        },
    },
};

/// Whose balance moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Holder {
    Card,
    Group,
}

impl Holder {
    fn kind(self) -> ObjectKind {
        match self {
            Holder::Card => ObjectKind::Card,
            Holder::Group => ObjectKind::CardGroup,
        }
    }
    fn not_found(self) -> &'static str {
        match self {
            Holder::Card => "card_not_found",
            Holder::Group => "card_group_not_found",
        }
    }
    fn operation(self, recharge: bool) -> OperationKind {
        match (self, recharge) {
            (Holder::Card, true) => OperationKind::CardRecharge,
            (Holder::Card, false) => OperationKind::CardRefund,
            (Holder::Group, true) => OperationKind::CardGroupRecharge,
            (Holder::Group, false) => OperationKind::CardGroupRefund,
        }
    }
}

/// Recharge (`recharge = true`) or refund a card or group the tenant owns. Recharges count against
/// the tenant's daily money cap; the reservation is given back if the platform did not move money.
pub async fn move_funds(
    state: web::Data<AppState>,
    ctx: WriteCtx,
    holder: Holder,
    id: String,
    body: AmountBody,
    recharge: bool,
) -> Result<HttpResponse, ApiError> {
    let meta = owned(&state, &ctx.tenant, holder.kind(), &id, holder.not_found()).await?;
    let mut context = OpContext { amount: Some(body.amount.to_string()), ..Default::default() };
    match holder {
        Holder::Card => context.card_id = Some(id.clone()),
        Holder::Group => context.group_id = Some(id.clone()),
    }
    let target = Some(OperationTarget { kind: holder.kind().as_str().to_owned(), id: Some(id.clone()) });
    let mut op = match ctx.start(&state, holder.operation(recharge), target, context, SuccessView::Operation).await? {
        Next::Respond(r) => return Ok(r),
        Next::Send(op) => *op,
    };
    let codes = state.codes();
    let (card_id, group_id, channel) = match holder {
        Holder::Card => (Some(id.clone()), None, codes.channel_type_regular),
        Holder::Group => (None, Some(id.clone()), codes.channel_type_shared),
    };
    let mut reservation = None;
    let res = if recharge {
        let currency = match holder {
            Holder::Card => Some(caps::card_currency(&state, &meta, &id).await?),
            Holder::Group => meta.attrs.get("currency").cloned(),
        };
        if let Some(currency) = currency {
            reservation = match caps::reserve(&state, &ctx.tenant, &currency, body.amount.value()).await {
                Ok(r) => r,
                Err(e) => return Ok(fail_not_applied(&state, &mut op, e).await),
            };
        }
        let wire = RechargeRequest {
            user_req_no: ctx.user_req_no.clone(),
            card_id,
            auth_limit_amount: body.amount.value(),
            channel_type: Some(channel),
            group_id,
        };
        state.upstream.card_recharge(&wire).await
    } else {
        let wire = RefundRequest {
            user_req_no: ctx.user_req_no.clone(),
            card_id,
            refund_amount: body.amount.value(),
            channel_type: Some(channel),
            group_id,
        };
        state.upstream.card_refund(&wire).await
    };
    let out = finish_order(&state, &mut op, res, SuccessView::Operation).await;
    if let Ok(r) = &out {
        caps::settle(&state, reservation, r).await;
    }
    out
}

/// Settles an operation the platform answers with `{orderId}`: accepted → 202; done → the resource
/// it acted on (card or group, re-read) as the result.
pub async fn finish_order(
    state: &AppState,
    op: &mut StoredOperation,
    res: Result<Reply<OrderAck>, UpstreamError>,
    view: SuccessView,
) -> Result<HttpResponse, ApiError> {
    match res {
        Err(e) => Ok(settle_err(state, op, &e).await),
        Ok(reply) => {
            let order_id = reply.result.as_ref().and_then(|a| a.order_id.clone());
            if reply.is_async {
                return settle_accepted(state, op, order_id).await;
            }
            let result = fetch_result(state, op).await.ok().flatten();
            settle_succeeded(state, op, order_id, result, view).await
        }
    }
}
