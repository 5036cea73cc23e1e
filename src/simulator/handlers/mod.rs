//! One function per operation: decode the business parameters, apply the platform's rules to the
//! state, encode the result. Every write is idempotent by its request number (`userReqNo`, or
//! `serialNumber` for DPT): a repeat gets the first answer (the order, or the same refusal) and creates
//! nothing; a repeat under another operation is refused with 110001. With `simulator.dedupe_requests =
//! false` it behaves like a platform that does not de-duplicate: a repeat is a new order. Faults injected
//! before the rules run (HTTP errors, retry-later codes) leave no trace, so such requests may be sent again.

mod account;
mod cardholders;
mod cards;
mod complete;
mod dpt;
mod groups;
mod pcc;
mod queries;

pub(crate) use complete::complete;
use serde::{Serialize, de::DeserializeOwned};

use super::{
    core::{Effect, Sim},
    errors::SimError,
    events,
    state::{Order, Seen, State, StoredAnswer},
    validate,
};
use crate::upstream::{
    Operation,
    wire::{
        account::{BalanceRequest, DptTransferRequest, ExchangeRateRequest, ExchangeRequest},
        card::{CardApplyRequest, CardCancelRequest, CardModifyRequest, RechargeRequest, RefundRequest},
        cardholder::{CardholderApplyRequest, CardholderRef},
        dpt::{DptAcquireRequest, DptWithdrawRequest},
        group::{GroupApplyRequest, GroupUpdateRequest},
        pcc::{CardActiveRequest, CardAssignRequest, PinResetRequest},
    },
};

/// The answer to one request and what must happen after the lock is released.
pub(crate) struct Outcome {
    pub reply: Result<StoredAnswer, SimError>,
    pub effects: Vec<Effect>,
}

/// What a write hands back: the order to remember, its result JSON and its side effects.
pub(crate) struct Written {
    pub order: Order,
    pub result: Vec<u8>,
    pub effects: Vec<Effect>,
}

/// Per-request facts a write needs besides its parameters.
pub(crate) struct WriteCtx {
    pub op: Operation,
    pub req_no: String,
    pub is_async: bool,
    /// Set by a `fail_async` fault: the asynchronous order will fail with this error.
    pub fail_with: Option<SimError>,
}

type ReadFn<Req, Res> = fn(&State, Req) -> Result<Res, SimError>;
type WriteFn<Req> = fn(&mut State, &WriteCtx, Req) -> Result<Written, SimError>;

/// The request number a write is idempotent by (`None`: this request carries none).
trait Keyed {
    fn key(&self) -> Option<&str>;
}

macro_rules! keyed {
    ($($t:ty => $field:ident),* $(,)?) => {
        $(impl Keyed for $t {
            fn key(&self) -> Option<&str> {
                Some(&self.$field)
            }
        })*
    };
}

keyed!(
    DptTransferRequest => user_req_no,
    ExchangeRequest => user_req_no,
    CardApplyRequest => user_req_no,
    CardCancelRequest => user_req_no,
    RechargeRequest => user_req_no,
    RefundRequest => user_req_no,
    GroupApplyRequest => user_req_no,
    GroupUpdateRequest => user_req_no,
    CardModifyRequest => user_req_no,
    CardholderApplyRequest => user_req_no,
    CardAssignRequest => user_req_no,
    CardActiveRequest => user_req_no,
    PinResetRequest => user_req_no,
    DptAcquireRequest => serial_number,
    DptWithdrawRequest => serial_number,
);

impl Keyed for CardholderRef {
    fn key(&self) -> Option<&str> {
        self.user_req_no.as_deref()
    }
}

/// Runs `op` on the decrypted business parameters.
pub(crate) fn dispatch(sim: &Sim, op: Operation, json: &[u8], fail_with: Option<SimError>) -> Outcome {
    use Operation as O;
    let mut guard = sim.state.lock();
    let st = &mut *guard;
    let f = fail_with;
    match op {
        O::AccountBalance => read::<BalanceRequest, _>(st, json, account::balance),
        O::DptTransfer => write(st, op, json, f, account::dpt_transfer),
        O::AccountExchange => write(st, op, json, f, account::exchange),
        O::ExchangeRate => read::<ExchangeRateRequest, _>(st, json, account::exchange_rate),
        O::SceneList => read(st, json, cards::scenes),
        O::CardBin => read(st, json, cards::bins),
        O::CardApply => write(st, op, json, f, cards::apply),
        O::CardCancel => write(st, op, json, f, cards::cancel),
        O::CardRecharge => write(st, op, json, f, cards::recharge),
        O::CardInfo => read(st, json, cards::info),
        O::TransactionQuery => read(st, json, queries::transactions),
        O::CardRefund => write(st, op, json, f, cards::refund),
        O::GroupApply => write(st, op, json, f, groups::apply),
        O::GroupPage => read(st, json, queries::groups),
        O::GroupInfo => read(st, json, groups::info),
        O::GroupUpdate => write(st, op, json, f, groups::update),
        O::CardModify => write(st, op, json, f, cards::modify),
        O::CardholderApply => write(st, op, json, f, cardholders::apply),
        O::CardholderInfo => read(st, json, cardholders::info),
        O::CardholderDelete => write(st, op, json, f, cardholders::delete),
        O::OrderQuery => read(st, json, queries::orders),
        O::CardPage => read(st, json, queries::cards),
        O::CardAssign => write(st, op, json, f, pcc::assign),
        O::CardActive => write(st, op, json, f, pcc::active),
        O::PinReset => write(st, op, json, f, pcc::pin_reset),
        O::DptAcquire => write(st, op, json, f, dpt::acquire),
        O::DptWithdraw => write(st, op, json, f, dpt::withdraw),
    }
}

/// Decodes business parameters; errors name the field, never its value.
fn parse<T: DeserializeOwned>(json: &[u8]) -> Result<T, SimError> {
    let de = &mut serde_json::Deserializer::from_slice(json);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let inner = e.inner().to_string();
        let path = e.path().to_string();
        if let Some(missing) = inner.strip_prefix("missing field ") {
            let field = missing.split(" at line").next().unwrap_or(missing);
            SimError::validation(format!("parameter {field} is required"))
        } else if path == "." {
            SimError::validation("business parameters are not a valid JSON object")
        } else {
            SimError::validation(format!("parameter {path} is invalid"))
        }
    })
}

fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>, SimError> {
    serde_json::to_vec(value).map_err(|_| SimError::new("130001", "operation failed, retry later"))
}

fn read<Req: DeserializeOwned, Res: Serialize>(st: &State, json: &[u8], f: ReadFn<Req, Res>) -> Outcome {
    let reply = parse(json)
        .and_then(|req| f(st, req))
        .and_then(|res| encode(&res))
        .map(|result| StoredAnswer { is_async: false, result: result.into() });
    Outcome { reply, effects: Vec::new() }
}

fn write<Req: DeserializeOwned + Keyed>(
    st: &mut State,
    op: Operation,
    json: &[u8],
    fail_with: Option<SimError>,
    f: WriteFn<Req>,
) -> Outcome {
    let refuse = |e| Outcome { reply: Err(e), effects: Vec::new() };
    let req: Req = match parse(json) {
        Ok(r) => r,
        Err(e) => return refuse(e),
    };
    let req_no = req.key().map(str::to_owned);
    if let Some(n) = &req_no {
        let field =
            if matches!(op, Operation::DptAcquire | Operation::DptWithdraw) { "serialNumber" } else { "userReqNo" };
        if let Err(e) = validate::req_no(field, n) {
            return refuse(e);
        }
        // `Some(answer)`: the platform answers the repeat itself; `Some(None)`: it runs it again.
        let repeat = st.orders.seen(n).map(|seen| {
            let same_op = match &seen {
                Seen::Answered(o) => o.op == op,
                Seen::Refused(o, _) => *o == op,
            };
            if !same_op {
                return Some(refuse(SimError::validation(format!("{field} was already used by another operation"))));
            }
            // A platform that de-duplicates answers a repeat exactly as it answered the first request;
            // one that does not (`simulator.dedupe_requests = false`) runs it again as a new order.
            if !st.cfg.sim.dedupe_requests {
                return None;
            }
            Some(match seen {
                Seen::Answered(Order { answer: Some(answer), .. }) => {
                    Outcome { reply: Ok(answer.clone()), effects: Vec::new() }
                }
                Seen::Answered(_) => refuse(SimError::validation(format!("{field} was already used"))),
                Seen::Refused(_, e) => refuse(e.clone()),
            })
        });
        if let Some(answer) = repeat {
            st.orders.count_repeat(op);
            if let Some(answer) = answer {
                return answer;
            }
        }
    }
    let ctx = WriteCtx { op, req_no: req_no.clone().unwrap_or_default(), is_async: st.cfg.is_async(op), fail_with };
    match f(st, &ctx, req) {
        Ok(Written { mut order, result, effects }) => {
            let answer = StoredAnswer { is_async: order.is_async, result: result.into() };
            if req_no.is_some() {
                order.answer = Some(answer.clone());
                st.orders.insert(order);
            }
            Outcome { reply: Ok(answer), effects }
        }
        Err(e) => {
            if let Some(n) = &req_no {
                st.orders.refuse(n, op, &e);
            }
            refuse(e)
        }
    }
}

/// A new order for this write (the platform's order number comes from the id sequence).
fn new_order(st: &State, ctx: &WriteCtx) -> Order {
    Order::new(ctx.op, st.ids.next(), ctx.req_no.clone(), ctx.is_async)
}

/// A finished synchronous write; card operations also report by `card_operate` when configured.
fn done<T: Serialize>(st: &State, order: Order, result: &T) -> Result<Written, SimError> {
    let mut effects = Vec::new();
    if st.cfg.sim.sync_operation_webhooks
        && order.is_card_operation()
        && let Some(e) = events::card_operate(st, &order)
    {
        effects.push(Effect::Webhook(e));
    }
    Ok(Written { result: encode(result)?, order, effects })
}

/// An accepted asynchronous write: `order.pending` says what completion will do.
fn accepted<T: Serialize>(order: Order, fail_with: Option<SimError>, result: &T) -> Result<Written, SimError> {
    let mut order = order;
    order.fail_with = fail_with;
    let effects = vec![Effect::Complete(order.user_req_no.clone())];
    Ok(Written { result: encode(result)?, order, effects })
}
