//! Merchant accounts per currency, the fee ledger, money that left or entered the platform, and the
//! treasury operations (rates, exchange, DPT transfer, crypto withdrawal).
//!
//! Conservation, per currency: merchant + cards + groups + fees + external = initial, where
//! `external` is the net amount that left the platform (card spending, withdrawals, exchanged away).

use std::collections::BTreeMap;

use rust_decimal::{Decimal, RoundingStrategy};
use serde::Serialize;

use super::State;
use crate::{
    simulator::{errors::SimError, validate},
    upstream::wire::account::{BalanceItem, ConversionResult, ExchangeRate},
};

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Ledger {
    /// Merchant account balances.
    pub merchant: BTreeMap<String, Decimal>,
    /// Fees collected by the platform.
    pub fees: BTreeMap<String, Decimal>,
    /// Net money that left the platform (positive) or came in from outside (negative).
    pub external: BTreeMap<String, Decimal>,
    /// Balances at start.
    pub initial: BTreeMap<String, Decimal>,
}

fn add(map: &mut BTreeMap<String, Decimal>, currency: &str, delta: Decimal) {
    let entry = map.entry(currency.to_owned()).or_default();
    *entry += delta;
}

impl Ledger {
    pub fn new(initial: &BTreeMap<String, Decimal>) -> Self {
        Self { merchant: initial.clone(), initial: initial.clone(), ..Self::default() }
    }

    pub fn balance(&self, currency: &str) -> Decimal {
        self.merchant.get(currency).copied().unwrap_or_default()
    }

    /// 110005 unless the merchant account holds at least `amount`.
    pub(crate) fn ensure(&self, currency: &str, amount: Decimal) -> Result<(), SimError> {
        if self.balance(currency) < amount { Err(SimError::insufficient_account(currency)) } else { Ok(()) }
    }

    pub(crate) fn debit(&mut self, currency: &str, amount: Decimal) {
        add(&mut self.merchant, currency, -amount);
    }

    pub(crate) fn credit(&mut self, currency: &str, amount: Decimal) {
        add(&mut self.merchant, currency, amount);
    }

    pub(crate) fn collect_fee(&mut self, currency: &str, amount: Decimal) {
        if !amount.is_zero() {
            add(&mut self.fees, currency, amount);
        }
    }

    /// Money leaves the platform (a card payment, a withdrawal, the sold side of an exchange).
    pub(crate) fn outflow(&mut self, currency: &str, amount: Decimal) {
        add(&mut self.external, currency, amount);
    }

    /// Money enters the platform (a refund from a shop, a crypto payment, the bought side of an exchange).
    pub(crate) fn inflow(&mut self, currency: &str, amount: Decimal) {
        add(&mut self.external, currency, -amount);
    }
}

impl State {
    /// #1: one entry per currency account, optionally filtered by `ccy`.
    pub(crate) fn balances(&self, ccy: Option<&str>) -> Result<Vec<BalanceItem>, SimError> {
        let items: Vec<BalanceItem> = self
            .ledger
            .merchant
            .iter()
            .filter(|(c, _)| ccy.is_none_or(|want| want == c.as_str()))
            .map(|(c, v)| BalanceItem { ccy: c.clone(), current_balance: *v, available_bal: *v })
            .collect();
        if items.is_empty() && ccy.is_some() {
            return Err(SimError::not_found("currency account"));
        }
        Ok(items)
    }

    /// Units of `target` per unit of `source`, from the configured USD values.
    pub(crate) fn rate(&self, source: &str, target: &str) -> Result<Decimal, SimError> {
        let rates = &self.cfg.sim.usd_rates;
        let (Some(s), Some(t)) = (rates.get(source), rates.get(target)) else {
            return Err(SimError::validation("currency pair not supported"));
        };
        s.checked_div(*t)
            .map(|r| r.round_dp_with_strategy(8, RoundingStrategy::MidpointAwayFromZero))
            .ok_or_else(|| SimError::validation("currency pair not supported"))
    }

    /// #4.
    pub(crate) fn exchange_rate(&self, source: &str, target: &str) -> Result<ExchangeRate, SimError> {
        validate::asset("sourceCurrency", source)?;
        validate::asset("targetCurrency", target)?;
        Ok(ExchangeRate {
            source_currency: source.to_owned(),
            target_currency: target.to_owned(),
            rate: self.rate(source, target)?,
            update_time: Some(self.cfg.clock.format_datetime(chrono::Utc::now())),
        })
    }

    fn is_crypto(&self, currency: &str) -> bool {
        self.cfg.sim.crypto_chains.contains_key(currency)
    }

    /// Checks a conversion of `amount` from `source` to `target`; returns (rate, target amount).
    pub(crate) fn plan_conversion(
        &self,
        source: &str,
        target: &str,
        amount: Decimal,
        crypto_to_fiat: bool,
    ) -> Result<(Decimal, Decimal), SimError> {
        validate::asset("sourceCurrency", source)?;
        validate::asset("targetCurrency", target)?;
        let amount = validate::amount("amount", amount)?;
        if source == target {
            return Err(SimError::validation("source and target currency must differ"));
        }
        if crypto_to_fiat && (!self.is_crypto(source) || self.is_crypto(target)) {
            return Err(SimError::validation("a DPT transfer moves a digital currency into a fiat card account"));
        }
        if !crypto_to_fiat && (self.is_crypto(source) || self.is_crypto(target)) {
            return Err(SimError::validation("card account exchange is between fiat currencies"));
        }
        let rate = self.rate(source, target)?;
        let out = amount.checked_mul(rate).ok_or_else(|| SimError::validation("amount is too large"))?;
        let out = out.round_dp_with_strategy(2, RoundingStrategy::ToZero);
        if out <= Decimal::ZERO {
            return Err(SimError::validation("amount too small to convert"));
        }
        self.ledger.ensure(source, amount)?;
        Ok((rate, out))
    }

    /// #2 / #3, after [`plan_conversion`](Self::plan_conversion).
    pub(crate) fn convert(
        &mut self,
        order_id: &str,
        req_no: &str,
        source: &str,
        target: &str,
        amount: Decimal,
        (rate, out): (Decimal, Decimal),
    ) -> ConversionResult {
        self.ledger.debit(source, amount);
        self.ledger.outflow(source, amount);
        self.ledger.inflow(target, out);
        self.ledger.credit(target, out);
        ConversionResult {
            order_id: Some(order_id.to_owned()),
            user_req_no: Some(req_no.to_owned()),
            source_currency: Some(source.to_owned()),
            source_amount: Some(amount),
            target_currency: Some(target.to_owned()),
            target_amount: Some(out),
            rate: Some(rate),
            fee: Some(Decimal::ZERO),
        }
    }
}
