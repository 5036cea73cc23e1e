//! Orders keyed by the merchant's request number: the idempotency record of every write, and the
//! card operation orders that Card Operation Order Inquiry (#21) lists.

use std::{
    collections::{BTreeMap, HashMap},
    sync::Arc,
};

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Serialize;

use crate::{
    simulator::errors::SimError,
    upstream::{
        Operation,
        wire::{
            card::{CardApplyRequest, CardCancelRequest, RechargeRequest, RefundRequest},
            group::GroupApplyRequest,
        },
    },
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    Processing,
    Succeeded,
    Failed,
}

/// The answer first given for a request number, replayed for every repeat.
#[derive(Debug, Clone)]
pub(crate) struct StoredAnswer {
    pub is_async: bool,
    /// The result JSON before sealing.
    pub result: Arc<[u8]>,
}

/// What an asynchronous order still has to do when it completes.
#[derive(Debug, Clone)]
pub(crate) enum Pending {
    Apply { card_id: String, req: Box<CardApplyRequest> },
    Recharge(RechargeRequest),
    Refund(RefundRequest),
    Cancel(CardCancelRequest),
    GroupApply { group_id: String, req: GroupApplyRequest },
    CardholderApply { card_user_id: String },
}

/// One order. `amount`/`fee` follow `card_operate`: issuing = limit and fee, cancel = amount returned.
#[derive(Debug, Clone, Serialize)]
pub struct Order {
    pub order_id: String,
    pub user_req_no: String,
    pub op: Operation,
    pub card_id: Option<String>,
    pub group_id: Option<String>,
    pub shared: bool,
    pub currency: Option<String>,
    pub amount: Decimal,
    pub fee: Decimal,
    pub status: OrderStatus,
    pub is_async: bool,
    pub error: Option<SimError>,
    pub created_at: DateTime<Utc>,
    pub completed_at: Option<DateTime<Utc>>,
    #[serde(skip)]
    pub(crate) answer: Option<StoredAnswer>,
    #[serde(skip)]
    pub(crate) pending: Option<Pending>,
    #[serde(skip)]
    pub(crate) fail_with: Option<SimError>,
}

impl Order {
    /// A new order, succeeded unless it is asynchronous.
    pub(crate) fn new(op: Operation, order_id: String, user_req_no: String, is_async: bool) -> Self {
        Self {
            order_id,
            user_req_no,
            op,
            card_id: None,
            group_id: None,
            shared: false,
            currency: None,
            amount: Decimal::ZERO,
            fee: Decimal::ZERO,
            status: if is_async { OrderStatus::Processing } else { OrderStatus::Succeeded },
            is_async,
            error: None,
            created_at: Utc::now(),
            completed_at: if is_async { None } else { Some(Utc::now()) },
            answer: None,
            pending: None,
            fail_with: None,
        }
    }

    /// Whether Card Operation Order Inquiry lists it (the five `card_operate` operation types).
    pub fn is_card_operation(&self) -> bool {
        matches!(
            self.op,
            Operation::CardApply
                | Operation::CardRecharge
                | Operation::CardRefund
                | Operation::CardCancel
                | Operation::GroupApply
        )
    }
}

#[derive(Debug, Default)]
pub(crate) struct Orders {
    by_id: BTreeMap<String, Order>,
    by_req_no: HashMap<String, String>,
    /// Request numbers the platform's rules refused (no order), with the operation and the refusal:
    /// a repeat answers the same refusal, whatever the state has become since.
    refused: HashMap<String, (Operation, SimError)>,
    /// Requests that repeated an earlier request number, per operation name.
    repeats: BTreeMap<&'static str, u64>,
}

/// What the platform remembers of a request number.
pub(crate) enum Seen<'a> {
    Answered(&'a Order),
    Refused(Operation, &'a SimError),
}

impl Orders {
    pub fn get(&self, req_no: &str) -> Option<&Order> {
        self.by_req_no.get(req_no).and_then(|id| self.by_id.get(id))
    }

    pub fn get_mut(&mut self, req_no: &str) -> Option<&mut Order> {
        let id = self.by_req_no.get(req_no)?;
        self.by_id.get_mut(id)
    }

    /// The latest order or refusal of a request number.
    pub fn seen(&self, req_no: &str) -> Option<Seen<'_>> {
        if let Some(order) = self.get(req_no) {
            return Some(Seen::Answered(order));
        }
        self.refused.get(req_no).map(|(op, e)| Seen::Refused(*op, e))
    }

    /// Records an order; with de-duplication off a repeated number points at its newest order.
    pub fn insert(&mut self, order: Order) {
        self.refused.remove(&order.user_req_no);
        self.by_req_no.insert(order.user_req_no.clone(), order.order_id.clone());
        self.by_id.insert(order.order_id.clone(), order);
    }

    /// Records a refusal by the platform's rules (never over an existing order).
    pub fn refuse(&mut self, req_no: &str, op: Operation, e: &SimError) {
        if !self.by_req_no.contains_key(req_no) {
            self.refused.insert(req_no.to_owned(), (op, e.clone()));
        }
    }

    pub fn count_repeat(&mut self, op: Operation) {
        *self.repeats.entry(op.name()).or_default() += 1;
    }

    pub fn repeats(&self) -> &BTreeMap<&'static str, u64> {
        &self.repeats
    }

    /// In creation order.
    pub fn iter(&self) -> impl Iterator<Item = &Order> {
        self.by_id.values()
    }
}
