//! #18 application, #19 inquiry, #20 deletion.

use super::{WriteCtx, Written, accepted, done, new_order};
use crate::{
    simulator::{
        errors::SimError,
        state::{CardholderStatus, Pending, State},
    },
    upstream::wire::cardholder::{CardholderApplyRequest, CardholderApplyResult, CardholderInfo, CardholderRef},
};

pub(super) fn apply(st: &mut State, ctx: &WriteCtx, req: CardholderApplyRequest) -> Result<Written, SimError> {
    let status = if ctx.is_async { CardholderStatus::InProcess } else { CardholderStatus::Enabled };
    let id = st.register_holder(&req, status)?;
    let mut order = new_order(st, ctx);
    let result = CardholderApplyResult { card_user_id: id.clone(), status: Some(st.holder_status_code(status)) };
    if ctx.is_async {
        order.pending = Some(Pending::CardholderApply { card_user_id: id });
        return accepted(order, ctx.fail_with.clone(), &result);
    }
    done(st, order, &result)
}

pub(super) fn info(st: &State, req: CardholderRef) -> Result<CardholderInfo, SimError> {
    Ok(st.holder_info(st.holder(&req.card_user_id)?))
}

pub(super) fn delete(st: &mut State, ctx: &WriteCtx, req: CardholderRef) -> Result<Written, SimError> {
    st.delete_holder(&req.card_user_id)?;
    let order = new_order(st, ctx);
    let result = CardholderApplyResult {
        card_user_id: req.card_user_id.clone(),
        status: Some(st.holder_status_code(CardholderStatus::Deleted)),
    };
    done(st, order, &result)
}
