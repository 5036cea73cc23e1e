//! Money movements shared by cards and card groups: recharge (merchant account → card or group) and
//! refund (back), plus mapping any `{orderId}`-answering operation whose result is the resource.

use actix_web::{HttpResponse, web};

use super::support::owned;
use crate::{
    domain::{
        card::{AmountBody, ExpandQuery},
        operation::OperationKind,
    },
    error::ApiError,
    operations::{
        self, Sent, StoredOperation, SuccessView, WriteCtx, WriteSpec, caps, record::OpContext, resolve::fetch_result,
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
    /// The `?expand=` value that asks for this holder.
    fn expand_name(self) -> &'static str {
        match self {
            Holder::Card => "card",
            Holder::Group => "card_group",
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
/// One platform call: the operation settles from the answer, and its result is the movement unless
/// `?expand=` asks for the re-read card or group.
pub async fn move_funds(
    state: web::Data<AppState>,
    ctx: WriteCtx,
    holder: Holder,
    id: String,
    (body, expand): (AmountBody, ExpandQuery),
    recharge: bool,
) -> Result<HttpResponse, ApiError> {
    let mut v = crate::http::validate::Violations::default();
    let rule = match holder {
        Holder::Card => &crate::http::rules::EXPAND_CARD,
        Holder::Group => &crate::http::rules::EXPAND_GROUP,
    };
    rule.check(&mut v, expand.expand.as_deref(), "query.expand");
    v.finish()?;
    let meta = owned(&state, &ctx.tenant, holder.kind(), &id, holder.not_found()).await?;
    let mut context = OpContext {
        amount: Some(body.amount.to_string()),
        currency: meta.attrs.get("currency").cloned(),
        expand: expand.wants(holder.expand_name()),
        ..Default::default()
    };
    match holder {
        Holder::Card => context.card_id = Some(id.clone()),
        Holder::Group => context.group_id = Some(id.clone()),
    }
    let mut spec =
        WriteSpec::new(holder.operation(recharge), SuccessView::Operation).target(holder.kind().as_str(), Some(&id));
    if recharge {
        let currency = match holder {
            Holder::Card => caps::card_currency(&state, &meta, &id).await?,
            Holder::Group => caps::group_currency(&state, &meta, &id).await?,
        };
        spec = spec.capped(&currency, body.amount.value());
        context.currency = Some(currency);
    }
    let spec = spec.context(context);
    let codes = state.codes();
    let (card_id, group_id, channel) = match holder {
        Holder::Card => (Some(id.clone()), None, codes.channel_type_regular),
        Holder::Group => (None, Some(id.clone()), codes.channel_type_shared),
    };
    let amount = body.amount.value();
    operations::run(&state, &ctx, spec, async |op: &StoredOperation| {
        let user_req_no = op.op.user_req_no.clone();
        let res = if recharge {
            let wire = RechargeRequest {
                user_req_no,
                card_id,
                auth_limit_amount: amount,
                channel_type: Some(channel),
                group_id,
            };
            state.upstream.card_recharge(&wire).await
        } else {
            let wire =
                RefundRequest { user_req_no, card_id, refund_amount: amount, channel_type: Some(channel), group_id };
            state.upstream.card_refund(&wire).await
        };
        order_answer(&state, op, res).await
    })
    .await
}

/// Maps an answer of `{orderId}` shape: accepted → pending; done → the resource it acted on (card or
/// group, re-read) as the result.
pub async fn order_answer(
    state: &AppState,
    op: &StoredOperation,
    res: Result<Reply<OrderAck>, UpstreamError>,
) -> Result<Sent, UpstreamError> {
    let reply = res?;
    let order_id = reply.result.as_ref().and_then(|a| a.order_id.clone());
    if reply.is_async {
        return Ok(Sent::Accepted { order_id });
    }
    let result = fetch_result(state, op).await.ok().flatten();
    Ok(Sent::Done { order_id, result, created: None })
}
