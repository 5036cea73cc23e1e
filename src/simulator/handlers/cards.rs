//! #5 scenes, #6 BINs, #7 apply, #8 cancel, #9 recharge, #10 inquiry, #12 refund, #17 modify.

use super::{WriteCtx, Written, accepted, done, new_order};
use crate::{
    simulator::{
        errors::SimError,
        state::{MovePlan, Order, Pending, State, Target},
    },
    upstream::wire::{
        card::{
            CardApplyRequest, CardApplyResult, CardBin, CardCancelRequest, CardInfo, CardInfoRequest,
            CardModifyRequest, RechargeRequest, RefundRequest, Scene,
        },
        common::{OrderAck, ReqNoOnly},
    },
};

pub(super) fn scenes(st: &State, _req: ReqNoOnly) -> Result<Vec<Scene>, SimError> {
    Ok(st
        .cfg
        .sim
        .scenes
        .iter()
        .map(|(code, name)| Scene { scene_code: code.clone(), scene_name: name.clone(), description: None })
        .collect())
}

pub(super) fn bins(st: &State, _req: ReqNoOnly) -> Result<Vec<CardBin>, SimError> {
    let codes = &st.cfg.codes;
    Ok(st
        .cfg
        .sim
        .bins
        .iter()
        .map(|(bin, b)| CardBin {
            card_bin: bin.clone(),
            card_brand: b.brand.clone(),
            local_currency: b.currency.clone(),
            channel_type: Some(
                if b.shared { codes.channel_type_shared } else { codes.channel_type_regular }.to_string(),
            ),
            card_user_required: Some(b.holder_required),
        })
        .collect())
}

pub(super) fn apply(st: &mut State, ctx: &WriteCtx, req: CardApplyRequest) -> Result<Written, SimError> {
    let plan = st.plan_apply(&req)?;
    let card_id = st.new_card(&plan, None);
    let mut order = new_order(st, ctx);
    order.card_id = Some(card_id.clone());
    order.group_id = plan.group_id.clone();
    order.shared = plan.group_id.is_some();
    order.currency = Some(plan.currency.clone());
    order.amount = plan.limit;
    order.fee = plan.fee;
    let mut result = CardApplyResult {
        order_id: Some(order.order_id.clone()),
        card_id: Some(card_id.clone()),
        local_currency: Some(plan.currency.clone()),
        ..CardApplyResult::default()
    };
    if ctx.is_async {
        // R1 outcome 2: accepted, card elements follow (webhook `cardInfo`, or Card Inquiry later).
        order.pending = Some(Pending::Apply { card_id, req: Box::new(req) });
        return accepted(order, ctx.fail_with.clone(), &result);
    }
    st.fund_card(&card_id, &plan)?;
    let card = st.card(&card_id)?;
    result.card_no = Some(card.pan.clone());
    result.card_verify_no = Some(card.cvv.clone());
    result.card_expiry_date = Some(card.expiry.clone());
    done(st, order, &result)
}

fn ack(order: &Order) -> OrderAck {
    OrderAck {
        order_id: Some(order.order_id.clone()),
        user_req_no: Some(order.user_req_no.clone()),
        card_id: order.card_id.clone(),
        group_id: order.group_id.clone(),
    }
}

pub(super) fn cancel(st: &mut State, ctx: &WriteCtx, req: CardCancelRequest) -> Result<Written, SimError> {
    st.plan_cancel(&req.card_id)?;
    let card = st.card(&req.card_id)?;
    let mut order = new_order(st, ctx);
    order.card_id = Some(req.card_id.clone());
    order.group_id = card.group_id.clone();
    order.shared = card.is_shared();
    order.currency = Some(card.currency.clone());
    if ctx.is_async {
        let result = ack(&order);
        order.pending = Some(Pending::Cancel(req));
        return accepted(order, ctx.fail_with.clone(), &result);
    }
    order.amount = st.apply_cancel(&req.card_id);
    let result = ack(&order);
    done(st, order, &result)
}

fn move_order(st: &State, ctx: &WriteCtx, plan: &MovePlan) -> Order {
    let mut order = new_order(st, ctx);
    match &plan.target {
        Target::Card(id) => order.card_id = Some(id.clone()),
        Target::Group(id) => {
            order.group_id = Some(id.clone());
            order.shared = true;
        }
    }
    order.currency = Some(plan.currency.clone());
    order.amount = plan.amount;
    order.fee = plan.fee;
    order
}

pub(super) fn recharge(st: &mut State, ctx: &WriteCtx, req: RechargeRequest) -> Result<Written, SimError> {
    let plan = st.plan_recharge(&req)?;
    let mut order = move_order(st, ctx, &plan);
    let result = ack(&order);
    if ctx.is_async {
        order.pending = Some(Pending::Recharge(req));
        return accepted(order, ctx.fail_with.clone(), &result);
    }
    st.apply_recharge(&plan);
    done(st, order, &result)
}

pub(super) fn refund(st: &mut State, ctx: &WriteCtx, req: RefundRequest) -> Result<Written, SimError> {
    let plan = st.plan_refund(&req)?;
    let mut order = move_order(st, ctx, &plan);
    let result = ack(&order);
    if ctx.is_async {
        order.pending = Some(Pending::Refund(req));
        return accepted(order, ctx.fail_with.clone(), &result);
    }
    st.apply_refund(&plan);
    done(st, order, &result)
}

pub(super) fn info(st: &State, req: CardInfoRequest) -> Result<CardInfo, SimError> {
    Ok(st.card_info(st.card(&req.card_id)?, true))
}

pub(super) fn modify(st: &mut State, ctx: &WriteCtx, req: CardModifyRequest) -> Result<Written, SimError> {
    st.modify_card(&req)?;
    let mut order = new_order(st, ctx);
    order.card_id = Some(req.card_id.clone());
    let result = ack(&order);
    done(st, order, &result)
}
