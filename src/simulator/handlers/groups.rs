//! #13 shared card application, #15 inquiry, #16 status change (#14 paging is in `queries`).

use super::{WriteCtx, Written, accepted, done, new_order};
use crate::{
    simulator::{
        errors::SimError,
        state::{Pending, State},
    },
    upstream::wire::{
        common::OrderAck,
        group::{GroupApplyRequest, GroupInfo, GroupInfoRequest, GroupUpdateRequest},
    },
};

pub(super) fn apply(st: &mut State, ctx: &WriteCtx, req: GroupApplyRequest) -> Result<Written, SimError> {
    let plan = st.plan_group_apply(&req)?;
    let group_id = st.ids.next();
    let mut order = new_order(st, ctx);
    order.group_id = Some(group_id.clone());
    order.shared = true;
    order.currency = Some(plan.currency.clone());
    order.amount = plan.amount;
    let result = OrderAck {
        order_id: Some(order.order_id.clone()),
        user_req_no: Some(ctx.req_no.clone()),
        card_id: None,
        group_id: Some(group_id.clone()),
    };
    if ctx.is_async {
        order.pending = Some(Pending::GroupApply { group_id, req });
        return accepted(order, ctx.fail_with.clone(), &result);
    }
    st.apply_group_apply(&group_id, &plan);
    done(st, order, &result)
}

pub(super) fn info(st: &State, req: GroupInfoRequest) -> Result<GroupInfo, SimError> {
    Ok(st.group_info(st.group(&req.group_id)?))
}

pub(super) fn update(st: &mut State, ctx: &WriteCtx, req: GroupUpdateRequest) -> Result<Written, SimError> {
    st.update_group(&req)?;
    let mut order = new_order(st, ctx);
    order.group_id = Some(req.group_id.clone());
    order.shared = true;
    let result = OrderAck {
        order_id: Some(order.order_id.clone()),
        user_req_no: Some(ctx.req_no.clone()),
        card_id: None,
        group_id: Some(req.group_id.clone()),
    };
    done(st, order, &result)
}
