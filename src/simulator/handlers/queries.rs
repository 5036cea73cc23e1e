//! Paged queries: #11 transactions, #14 groups, #21 card operation orders, #22 cards.

use chrono::{DateTime, Duration, Utc};

use crate::{
    simulator::{
        errors::SimError,
        events,
        state::{CardStatus, GroupStatus, Order, OrderStatus, State},
        validate,
    },
    upstream::wire::{
        card::{CardInfo, CardPageRequest, TransactionQueryRequest, TransactionRecord},
        common::Page,
        group::{GroupInfo, GroupPageRequest},
        order::{OrderQueryRequest, OrderRecord},
    },
};

/// #11: filtered by card, card type and time window, in record order.
pub(super) fn transactions(st: &State, req: TransactionQueryRequest) -> Result<Page<TransactionRecord>, SimError> {
    validate::page_request(&req.page)?;
    if let Some(id) = &req.card_id {
        st.card(id)?;
    }
    let codes = &st.cfg.codes;
    let shared = match req.card_type.as_deref() {
        None => None,
        Some(t) if t == codes.card_type_regular => Some(false),
        Some(t) if t == codes.card_type_shared => Some(true),
        Some(_) => return Err(SimError::validation("cardType is invalid")),
    };
    let begin = bound(st, "beginTime", req.begin_time.as_deref(), false)?;
    let end = bound(st, "endTime", req.end_time.as_deref(), true)?;
    let card_filter = req.card_id.as_ref().filter(|_| !st.cfg.sim.transactions_ignore_card_filter);
    let items = st
        .transactions
        .values()
        .filter(|t| card_filter.is_none_or(|c| c == &t.card_id))
        .filter(|t| shared.is_none_or(|s| s == t.shared))
        .filter(|t| begin.is_none_or(|b| t.time >= b) && end.is_none_or(|e| t.time < e))
        .map(|t| st.transaction_record(t))
        .collect();
    Ok(validate::paginate(items, &req.page))
}

pub(super) fn cards(st: &State, req: CardPageRequest) -> Result<Page<CardInfo>, SimError> {
    validate::page_request(&req.page)?;
    let c = &st.cfg.codes;
    let status = match req.card_status.as_deref() {
        None => None,
        Some(s) if s == c.card_status_active => Some(CardStatus::Active),
        Some(s) if s == c.card_status_frozen => Some(CardStatus::Frozen),
        Some(s) if s == c.card_status_cancelled => Some(CardStatus::Cancelled),
        Some(s) if s == c.card_status_pending => Some(CardStatus::Pending),
        Some(_) => return Err(SimError::validation("cardStatus is invalid")),
    };
    if let Some(g) = &req.group_id {
        st.group(g)?;
    }
    let items = st
        .cards
        .values()
        .filter(|card| status.is_none_or(|s| s == card.status))
        .filter(|card| req.group_id.is_none() || card.group_id == req.group_id)
        .map(|card| st.card_info(card, false))
        .collect();
    Ok(validate::paginate(items, &req.page))
}

pub(super) fn groups(st: &State, req: GroupPageRequest) -> Result<Page<GroupInfo>, SimError> {
    validate::page_request(&req.page)?;
    let c = &st.cfg.codes;
    let status = match req.status.as_deref() {
        None => None,
        Some(s) if s == c.group_status_active => Some(GroupStatus::Active),
        Some(s) if s == c.group_status_frozen => Some(GroupStatus::Frozen),
        Some(s) if s == c.group_status_closed => Some(GroupStatus::Closed),
        Some(_) => return Err(SimError::validation("status is invalid")),
    };
    let items = st.groups.values().filter(|g| status.is_none_or(|s| s == g.status)).map(|g| st.group_info(g)).collect();
    Ok(validate::paginate(items, &req.page))
}

fn order_status_code(st: &State, s: OrderStatus) -> &str {
    let c = &st.cfg.codes;
    match s {
        OrderStatus::Processing => &c.order_status_processing,
        OrderStatus::Succeeded => &c.order_status_success,
        OrderStatus::Failed => &c.order_status_failed,
    }
}

fn order_record(st: &State, o: &Order) -> OrderRecord {
    let c = &st.cfg.codes;
    OrderRecord {
        order_id: o.order_id.clone(),
        card_id: o.card_id.clone(),
        group_id: o.group_id.clone(),
        card_type: Some(if o.shared { &c.card_type_shared } else { &c.card_type_regular }.clone()),
        user_req_no: o.user_req_no.clone(),
        op_type: events::op_type(st, o.op).map(|t| t.to_string()).unwrap_or_default(),
        status: order_status_code(st, o.status).to_owned(),
        status_desc: Some(format!("{:?}", o.status).to_lowercase()),
        amount: Some(o.amount),
        fee: Some(o.fee),
        create_at: Some(st.cfg.clock.format_datetime(o.created_at)),
        error_code: o.error.as_ref().map(|e| e.code.clone()),
        error_msg: o.error.as_ref().map(|e| e.message.clone()),
    }
}

/// A window bound. Ends are inclusive of their whole unit: a bare date covers that vendor day, a
/// date-time that second (the answer compares against the exclusive next day / second).
fn bound(st: &State, field: &str, v: Option<&str>, end: bool) -> Result<Option<DateTime<Utc>>, SimError> {
    let Some(v) = v else { return Ok(None) };
    let invalid = || SimError::validation(format!("{field} is invalid"));
    let t = st.cfg.clock.parse_datetime(v).ok_or_else(invalid)?;
    let date_only = st.cfg.clock.parse_date(v).is_some();
    Ok(Some(match (end, date_only) {
        (false, _) => t,
        (true, true) => t + Duration::days(1),
        (true, false) => t + Duration::seconds(1),
    }))
}

/// #21: card operation orders (apply, recharge, refund, cancel, group apply), oldest first. An
/// unknown `userReqNo` gives an empty page: "no trace" is an answer the caller acts on.
pub(super) fn orders(st: &State, req: OrderQueryRequest) -> Result<Page<OrderRecord>, SimError> {
    validate::page_request(&req.page)?;
    let op_type = match req.op_type.as_deref() {
        None => None,
        Some(t) => Some(t.trim().parse::<i64>().map_err(|_| SimError::validation("opType is invalid"))?),
    };
    let begin = bound(st, "beginTime", req.begin_time.as_deref(), false)?;
    let end = bound(st, "endTime", req.end_time.as_deref(), true)?;
    let items = st
        .orders
        .iter()
        .filter(|o| o.is_card_operation())
        .filter(|o| req.user_req_no.as_ref().is_none_or(|n| n == &o.user_req_no))
        .filter(|o| req.card_id.is_none() || o.card_id == req.card_id)
        .filter(|o| req.group_id.is_none() || o.group_id == req.group_id)
        .filter(|o| req.status.as_deref().is_none_or(|s| s == order_status_code(st, o.status)))
        .filter(|o| op_type.is_none_or(|t| events::op_type(st, o.op) == Some(t)))
        .filter(|o| begin.is_none_or(|b| o.created_at >= b) && end.is_none_or(|e| o.created_at < e))
        .map(|o| order_record(st, o))
        .collect();
    Ok(validate::paginate(items, &req.page))
}
