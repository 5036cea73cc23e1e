//! #26 digital currency acquiring (deposit order) and #27 withdrawal.

use super::{WriteCtx, Written, done};

/// Withdrawal status answered: `1` success (INFERRED: `1` success, `2` failure, `0` processing); the
/// simulator sends on chain at once.
const WITHDRAW_SUCCEEDED: &str = "1";
use crate::{
    simulator::{
        errors::SimError,
        state::{Order, State},
    },
    upstream::wire::dpt::{DptAcquireRequest, DptAcquireResult, DptWithdrawRequest, DptWithdrawResult},
};

pub(super) fn acquire(st: &mut State, ctx: &WriteCtx, req: DptAcquireRequest) -> Result<Written, SimError> {
    let d = st.open_deposit(&req)?;
    let mut order = Order::new(ctx.op, d.order_no.clone(), ctx.req_no.clone(), false);
    order.currency = Some(d.currency.clone());
    order.amount = d.amount;
    let result = DptAcquireResult {
        order_no: d.order_no.clone(),
        serial_number: Some(d.serial_number.clone()),
        to_address: Some(d.to_address.clone()),
        expire_time: Some(st.cfg.clock.format_datetime(d.expire_at)),
    };
    done(st, order, &result)
}

pub(super) fn withdraw(st: &mut State, ctx: &WriteCtx, req: DptWithdrawRequest) -> Result<Written, SimError> {
    let w = st.withdraw(&req)?;
    let mut order = Order::new(ctx.op, w.order_no.clone(), ctx.req_no.clone(), false);
    order.currency = Some(w.currency.clone());
    order.amount = w.amount;
    order.fee = w.fee;
    let result = DptWithdrawResult {
        order_no: w.order_no.clone(),
        serial_number: Some(w.serial_number.clone()),
        status: Some(WITHDRAW_SUCCEEDED.into()),
        fee: Some(w.fee),
        tx_id: Some(w.tx_id.clone()),
    };
    done(st, order, &result)
}
