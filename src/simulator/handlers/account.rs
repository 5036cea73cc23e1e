//! #1 balance, #2 DPT transfer, #3 exchange, #4 exchange rate.

use super::{WriteCtx, Written, done, new_order};
use crate::{
    simulator::{errors::SimError, state::State},
    upstream::wire::account::{
        BalanceItem, BalanceRequest, DptTransferRequest, ExchangeRate, ExchangeRateRequest, ExchangeRequest,
    },
};

pub(super) fn balance(st: &State, req: BalanceRequest) -> Result<Vec<BalanceItem>, SimError> {
    st.balances(req.ccy.as_deref())
}

pub(super) fn exchange_rate(st: &State, req: ExchangeRateRequest) -> Result<ExchangeRate, SimError> {
    st.exchange_rate(&req.source_currency, &req.target_currency)
}

fn conversion(
    st: &mut State,
    ctx: &WriteCtx,
    (source, target, amount): (&str, &str, rust_decimal::Decimal),
    crypto_to_fiat: bool,
) -> Result<Written, SimError> {
    let planned = st.plan_conversion(source, target, amount, crypto_to_fiat)?;
    let mut order = new_order(st, ctx);
    order.currency = Some(source.to_owned());
    order.amount = amount;
    let result = st.convert(&order.order_id, &ctx.req_no, source, target, amount, planned);
    done(st, order, &result)
}

pub(super) fn dpt_transfer(st: &mut State, ctx: &WriteCtx, req: DptTransferRequest) -> Result<Written, SimError> {
    conversion(st, ctx, (&req.currency, &req.target_currency, req.amount), true)
}

pub(super) fn exchange(st: &mut State, ctx: &WriteCtx, req: ExchangeRequest) -> Result<Written, SimError> {
    conversion(st, ctx, (&req.source_currency, &req.target_currency, req.amount), false)
}
