//! #23 card assign, #24 card active, #25 PIN reset (physical cards).

use super::{WriteCtx, Written, done, new_order};
use crate::{
    simulator::{core::Effect, errors::SimError, events, state::State},
    upstream::wire::pcc::{CardActiveRequest, CardAssignRequest, CardAssignResult, PhysicalCardAck, PinResetRequest},
};

pub(super) fn assign(st: &mut State, ctx: &WriteCtx, req: CardAssignRequest) -> Result<Written, SimError> {
    let card_id = st.assign_kit(&req)?;
    let mut order = new_order(st, ctx);
    order.card_id = Some(card_id.clone());
    order.currency = Some(req.local_currency.clone());
    let result = CardAssignResult {
        card_id,
        order_id: Some(order.order_id.clone()),
        card_status: Some(st.cfg.codes.card_status_pending.clone()),
    };
    done(st, order, &result)
}

pub(super) fn active(st: &mut State, ctx: &WriteCtx, req: CardActiveRequest) -> Result<Written, SimError> {
    if !st.activate_with_code(&req.card_id, &req.active_code)? {
        return Err(SimError::validation("activation code does not match"));
    }
    let mut order = new_order(st, ctx);
    order.card_id = Some(req.card_id.clone());
    let result = PhysicalCardAck {
        card_id: req.card_id.clone(),
        order_id: Some(order.order_id.clone()),
        status: Some(st.cfg.codes.card_status_active.clone()),
    };
    let mut written = done(st, order, &result)?;
    written.effects.extend(events::activation_status(st, &req.card_id, true).map(Effect::Webhook));
    Ok(written)
}

pub(super) fn pin_reset(st: &mut State, ctx: &WriteCtx, req: PinResetRequest) -> Result<Written, SimError> {
    st.reset_pin(&req.card_id)?;
    let mut order = new_order(st, ctx);
    order.card_id = Some(req.card_id.clone());
    let result = PhysicalCardAck {
        card_id: req.card_id.clone(),
        order_id: Some(order.order_id.clone()),
        status: Some(st.cfg.codes.card_status_active.clone()),
    };
    done(st, order, &result)
}
