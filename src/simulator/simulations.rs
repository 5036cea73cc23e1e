//! Events that start on the platform's side, driven by tests or the control API: card transactions,
//! 3DS OTPs, physical-card activation, crypto payments. Each changes the state and emits its webhook.

use std::sync::Arc;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::{
    core::{Effect, Sim},
    errors::SimError,
    events, ids,
    state::{CardStatus, Deposit, Order},
    validate,
};
use crate::{
    sensitive::{Otp, expose},
    upstream::wire::card::TransactionRecord,
};

/// A card authorisation at a shop.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct AuthorizationSpec {
    /// In `currency` (default: the card's currency).
    pub amount: Decimal,
    #[serde(default)]
    pub currency: Option<String>,
    #[serde(default)]
    pub merchant_name: Option<String>,
    #[serde(default)]
    pub mcc: Option<String>,
    /// Cross-border: charged `cross_border_fee_rate` (reported by `trade_fee`, type 97).
    #[serde(default)]
    pub cross_border: bool,
    /// An explicit fee instead of the computed one (type 99 unless cross-border).
    #[serde(default)]
    pub fee: Option<Decimal>,
}

/// Settlement or refund of an authorisation; no amount = the whole (remaining) amount.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct AmountSpec {
    #[serde(default)]
    pub amount: Option<Decimal>,
}

/// A 3DS challenge at a shop.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct OtpSpec {
    pub amount: Decimal,
    #[serde(default)]
    pub currency: Option<String>,
    #[serde(default)]
    pub merchant_name: Option<String>,
}

/// The payer's on-chain transfer to a deposit address; no amount = the ordered amount.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct PaymentSpec {
    #[serde(default)]
    pub amount: Option<Decimal>,
    #[serde(default)]
    pub from_address: Option<String>,
}

/// The platform's activation result for a physical card.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct ActivationResultSpec {
    pub success: bool,
}

/// A one-time code the platform generated (returned to the test that asked for it).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct IssuedCode {
    pub card_id: String,
    #[serde(serialize_with = "expose")]
    pub code: Otp,
}

fn webhooks(effects: impl IntoIterator<Item = Option<events::Event>>) -> Vec<Effect> {
    effects.into_iter().flatten().map(Effect::Webhook).collect()
}

impl Sim {
    fn simulate<T>(
        self: &Arc<Self>,
        f: impl FnOnce(&mut super::state::State) -> Result<(T, Vec<Effect>), SimError>,
    ) -> Result<T, SimError> {
        let (value, effects) = f(&mut self.state.lock())?;
        self.run_effects(effects);
        Ok(value)
    }

    pub fn authorize(self: &Arc<Self>, card_id: &str, spec: &AuthorizationSpec) -> Result<TransactionRecord, SimError> {
        self.simulate(|st| {
            let (t, fee) = st.authorize(card_id, spec)?;
            let effects = webhooks([events::card_transaction(st, &t), fee.and_then(|f| events::trade_fee(st, &f))]);
            Ok((st.transaction_record(&t), effects))
        })
    }

    pub fn settle(self: &Arc<Self>, record_no: &str, spec: &AmountSpec) -> Result<TransactionRecord, SimError> {
        self.simulate(|st| {
            let t = st.settle(record_no, spec.amount)?;
            Ok((st.transaction_record(&t), webhooks([events::card_transaction(st, &t)])))
        })
    }

    pub fn reverse(self: &Arc<Self>, record_no: &str) -> Result<TransactionRecord, SimError> {
        self.simulate(|st| {
            let t = st.reverse(record_no)?;
            Ok((st.transaction_record(&t), webhooks([events::card_transaction(st, &t)])))
        })
    }

    pub fn refund_transaction(
        self: &Arc<Self>,
        record_no: &str,
        spec: &AmountSpec,
    ) -> Result<TransactionRecord, SimError> {
        self.simulate(|st| {
            let t = st.refund_transaction(record_no, spec.amount)?;
            Ok((st.transaction_record(&t), webhooks([events::card_transaction(st, &t)])))
        })
    }

    pub fn send_3ds_otp(self: &Arc<Self>, card_id: &str, spec: &OtpSpec) -> Result<IssuedCode, SimError> {
        self.simulate(|st| {
            let card = st.card(card_id)?;
            if card.status == CardStatus::Cancelled {
                return Err(SimError::status_forbids("card is cancelled"));
            }
            let amount = validate::amount("amount", spec.amount)?;
            let currency = spec.currency.clone().unwrap_or_else(|| card.currency.clone());
            let merchant = spec.merchant_name.clone().unwrap_or_else(|| "SIMULATED MERCHANT".into());
            let otp = Otp::new(ids::digits(6));
            let effects = webhooks([events::three_ds_otp(card, &otp, amount, &currency, &merchant)]);
            Ok((IssuedCode { card_id: card_id.to_owned(), code: otp }, effects))
        })
    }

    pub fn issue_activation_code(self: &Arc<Self>, card_id: &str) -> Result<IssuedCode, SimError> {
        self.simulate(|st| {
            let code = st.issue_activation_code(card_id)?;
            let effects = webhooks([events::activation_code(card_id, &code)]);
            Ok((IssuedCode { card_id: card_id.to_owned(), code }, effects))
        })
    }

    pub fn set_activation_result(self: &Arc<Self>, card_id: &str, success: bool) -> Result<(), SimError> {
        self.simulate(|st| {
            st.set_activation(card_id, success)?;
            Ok(((), webhooks([events::activation_status(st, card_id, success)])))
        })
    }

    pub fn pay_deposit(self: &Arc<Self>, order_no: &str, spec: &PaymentSpec) -> Result<Deposit, SimError> {
        self.simulate(|st| {
            let d = st.pay_deposit(order_no, spec.amount, spec.from_address.clone())?;
            let effects = webhooks([events::dpt_payment_bill(st, &d)]);
            Ok((d, effects))
        })
    }

    /// Fails an asynchronous order now with `error` (no-op when it already finished), as a
    /// `fail_async` fault would have; its money, if any was held, is released.
    pub fn fail_now(self: &Arc<Self>, user_req_no: &str, error: SimError) -> Result<Order, SimError> {
        {
            let mut st = self.state.lock();
            let order = st.orders.get_mut(user_req_no).ok_or_else(|| SimError::not_found("order"))?;
            if order.status == super::state::OrderStatus::Processing {
                order.fail_with = Some(error);
            }
        }
        self.complete_now(user_req_no)
    }

    /// Completes an asynchronous order now instead of after `async_delay_ms`.
    pub fn complete_now(self: &Arc<Self>, user_req_no: &str) -> Result<Order, SimError> {
        self.complete(user_req_no);
        self.state.lock().orders.get(user_req_no).cloned().ok_or_else(|| SimError::not_found("order"))
    }
}
