//! Webhook payloads the platform pushes (docs/platform.md §6), built from the state at the moment the
//! event happens. Payloads carry the real PAN/CVV/OTP where the vendor sends them; they are only ever
//! serialised into a webhook body, never logged.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::state::{Card, Deposit, FeeCharge, Order, OrderStatus, State, Transaction};
use crate::{
    config::simulator::WebhookShape,
    sensitive::Otp,
    upstream::{
        Operation,
        wire::webhook::{
            Card3dsOtp, CardActivationCode, CardActivationStatus, CardOperateA, CardOperateB, DptPaymentBill, TradeFee,
            WebhookCardInfo,
        },
    },
};

/// One webhook to deliver: its `type`, a key for the delivery log, and the plaintext `data` JSON.
#[derive(Debug, Clone)]
pub(crate) struct Event {
    pub kind: &'static str,
    pub key: String,
    pub data: Vec<u8>,
}

fn event<T: Serialize>(kind: &'static str, key: &str, payload: &T) -> Option<Event> {
    match serde_json::to_vec(payload) {
        Ok(data) => Some(Event { kind, key: key.to_owned(), data }),
        Err(_) => {
            tracing::error!(webhook.kind = kind, "could not encode webhook payload");
            None
        }
    }
}

pub(crate) fn card_webhook_info(st: &State, card: &Card) -> WebhookCardInfo {
    let clock = &st.cfg.clock;
    WebhookCardInfo {
        card_no: Some(card.pan.clone()),
        card_verify_no: Some(card.cvv.clone()),
        card_alias: card.alias.clone(),
        card_label: card.label.clone(),
        card_expiry_date: Some(card.expiry.clone()),
        local_currency: Some(card.currency.clone()),
        start_active_date: Some(clock.format_date(card.start_date)),
        end_close_date: Some(clock.format_date(card.end_date)),
    }
}

/// The `card_operate` operation type of an order, if it is a card operation.
pub(crate) fn op_type(st: &State, op: Operation) -> Option<i64> {
    let c = &st.cfg.codes;
    Some(match op {
        Operation::CardApply => c.op_type_apply,
        Operation::CardRecharge => c.op_type_recharge,
        Operation::CardRefund => c.op_type_refund,
        Operation::CardCancel => c.op_type_cancel,
        Operation::GroupApply => c.op_type_group_apply,
        _ => return None,
    })
}

/// `card_operate` for a finished card operation order, in the configured shape.
pub(crate) fn card_operate(st: &State, order: &Order) -> Option<Event> {
    let codes = &st.cfg.codes;
    let op_type = op_type(st, order.op)?;
    let status = match order.status {
        OrderStatus::Succeeded => codes.webhook_status_success,
        OrderStatus::Failed => codes.webhook_status_failure,
        OrderStatus::Processing => return None,
    };
    let created = st.cfg.clock.format_datetime(order.created_at);
    match st.cfg.sim.webhook_shape {
        WebhookShape::A => {
            let card_info = (order.op == Operation::CardApply && order.status == OrderStatus::Succeeded)
                .then(|| order.card_id.as_deref().and_then(|id| st.cards.get(id)))
                .flatten()
                .map(|c| card_webhook_info(st, c));
            let payload = CardOperateA {
                order_id: order.order_id.clone(),
                card_id: order.card_id.clone(),
                group_id: order.group_id.clone(),
                user_req_no: order.user_req_no.clone(),
                op_type,
                status,
                amount: order.amount,
                fee: order.fee,
                card_info,
                create_at: created,
            };
            event("card_operate", &order.order_id, &payload)
        }
        WebhookShape::B => {
            let resource = if order.op == Operation::GroupApply { &order.group_id } else { &order.card_id };
            let payload = CardOperateB {
                order_id: order.order_id.clone(),
                resource_id: resource.clone().unwrap_or_default(),
                user_req_no: order.user_req_no.clone(),
                transaction_type: op_type,
                transaction_status: status,
                amount: order.amount,
                fee: order.fee,
                create_time: created,
            };
            event("card_operate", &order.order_id, &payload)
        }
    }
}

pub(crate) fn card_transaction(st: &State, t: &Transaction) -> Option<Event> {
    event("card_transaction", &t.record_no, &st.transaction_record(t))
}

pub(crate) fn trade_fee(st: &State, f: &FeeCharge) -> Option<Event> {
    let payload = TradeFee {
        card_id: f.card_id.clone(),
        op_type: f.fee_type,
        receipt_no: f.receipt_no.clone(),
        record_no: Some(f.record_no.clone()),
        user_no: Some(st.cfg.merchant_no.clone()),
        real_ccy: f.currency.clone(),
        real_fee: f.amount,
        create_at: st.cfg.clock.format_datetime(f.at),
    };
    event("trade_fee", &f.receipt_no, &payload)
}

pub(crate) fn three_ds_otp(
    card: &Card,
    otp: &Otp,
    amount: rust_decimal::Decimal,
    currency: &str,
    merchant: &str,
) -> Option<Event> {
    let payload = Card3dsOtp {
        otp: otp.clone(),
        card_id: card.card_id.clone(),
        card_no: Some(card.pan.masked()),
        transaction_currency: Some(currency.to_owned()),
        transaction_amount: Some(amount),
        merchant_name: Some(merchant.to_owned()),
    };
    event("card_3ds_otp", &card.card_id, &payload)
}

pub(crate) fn activation_code(card_id: &str, code: &Otp) -> Option<Event> {
    event(
        "card_activation_code",
        card_id,
        &CardActivationCode { card_id: card_id.to_owned(), active_code: code.clone() },
    )
}

pub(crate) fn activation_status(st: &State, card_id: &str, success: bool) -> Option<Event> {
    let c = &st.cfg.codes;
    let staus = if success { c.activation_status_success } else { c.activation_status_failure };
    event("card_activation_status", card_id, &CardActivationStatus { card_id: card_id.to_owned(), staus })
}

/// ISO-8601 with the vendor's offset and milliseconds, as `dpt_payment_bill` shows.
fn iso(st: &State, t: DateTime<Utc>) -> String {
    t.with_timezone(&st.cfg.clock.offset()).format("%Y-%m-%dT%H:%M:%S%.3f%:z").to_string()
}

pub(crate) fn dpt_payment_bill(st: &State, d: &Deposit) -> Option<Event> {
    let p = d.payment.as_ref()?;
    let payload = DptPaymentBill {
        tx_id: p.tx_id.clone(),
        from_address: p.from_address.clone(),
        to_address: d.to_address.clone(),
        payment_amount: p.amount,
        fact_amount: p.credited,
        fee: p.fee,
        serial_number: d.serial_number.clone(),
        order_no: d.order_no.clone(),
        transaction_time: iso(st, p.at),
    };
    event("dpt_payment_bill", &d.order_no, &payload)
}
