//! Completion of asynchronous orders: the deferred effect runs now (checked again against the current
//! state), or the order fails and nothing moves. Either way a `card_operate` webhook reports it.

use chrono::Utc;
use rust_decimal::Decimal;

use crate::simulator::{
    core::Effect,
    errors::SimError,
    events,
    state::{CardStatus, CardholderStatus, OrderStatus, Pending, State},
};

/// Runs the deferred part of a pending order; answers its amount and fee.
fn run(st: &mut State, p: &Pending) -> Result<(Decimal, Decimal), SimError> {
    match p {
        Pending::Apply { card_id, req } => {
            let plan = st.plan_apply(req)?;
            st.fund_card(card_id, &plan)?;
            Ok((plan.limit, plan.fee))
        }
        Pending::Recharge(req) => {
            let plan = st.plan_recharge(req)?;
            st.apply_recharge(&plan);
            Ok((plan.amount, plan.fee))
        }
        Pending::Refund(req) => {
            let plan = st.plan_refund(req)?;
            st.apply_refund(&plan);
            Ok((plan.amount, plan.fee))
        }
        Pending::Cancel(req) => {
            st.plan_cancel(&req.card_id)?;
            Ok((st.apply_cancel(&req.card_id), Decimal::ZERO))
        }
        Pending::GroupApply { group_id, req } => {
            let plan = st.plan_group_apply(req)?;
            st.apply_group_apply(group_id, &plan);
            Ok((plan.amount, Decimal::ZERO))
        }
        Pending::CardholderApply { card_user_id } => {
            if let Some(h) = st.holders.get_mut(card_user_id) {
                h.status = CardholderStatus::Enabled;
            }
            Ok((Decimal::ZERO, Decimal::ZERO))
        }
    }
}

/// Undoes what acceptance created when the order fails.
fn abandon(st: &mut State, p: &Pending) {
    match p {
        Pending::Apply { card_id, .. } => {
            if let Some(c) = st.cards.get_mut(card_id) {
                c.status = CardStatus::Cancelled;
                c.closed_amount = Some(Decimal::ZERO);
            }
        }
        Pending::CardholderApply { card_user_id } => {
            if let Some(h) = st.holders.get_mut(card_user_id) {
                h.status = CardholderStatus::Disabled;
            }
        }
        Pending::Recharge(_) | Pending::Refund(_) | Pending::Cancel(_) | Pending::GroupApply { .. } => {}
    }
}

/// Completes the order with this request number if it is still processing.
pub(crate) fn complete(st: &mut State, req_no: &str) -> Vec<Effect> {
    let Some(order) = st.orders.get_mut(req_no) else { return Vec::new() };
    if order.status != OrderStatus::Processing {
        return Vec::new();
    }
    let (pending, fail) = (order.pending.take(), order.fail_with.take());
    let outcome = match (fail, &pending) {
        (Some(e), _) => Err(e),
        (None, Some(p)) => run(st, p),
        (None, None) => Err(SimError::new("130001", "operation failed, retry later")),
    };
    if outcome.is_err()
        && let Some(p) = &pending
    {
        abandon(st, p);
    }
    let Some(order) = st.orders.get_mut(req_no) else { return Vec::new() };
    match outcome {
        Ok((amount, fee)) => {
            order.status = OrderStatus::Succeeded;
            order.amount = amount;
            order.fee = fee;
        }
        Err(e) => {
            order.status = OrderStatus::Failed;
            order.error = Some(e);
        }
    }
    order.completed_at = Some(Utc::now());
    let order = order.clone();
    events::card_operate(st, &order).map(Effect::Webhook).into_iter().collect()
}
