//! Digital currency: deposit orders paid on chain (credited to the merchant account, minus a fee)
//! and withdrawals (debited with a flat fee).

use chrono::{DateTime, Duration, Utc};
use rust_decimal::Decimal;
use serde::Serialize;

use super::State;
use crate::{
    simulator::{errors::SimError, ids, validate},
    upstream::wire::dpt::{DptAcquireRequest, DptWithdrawRequest},
};

/// How long a deposit address stays valid (reported as `expireTime`).
const DEPOSIT_VALIDITY_MINUTES: i64 = 30;

#[derive(Debug, Clone, Serialize)]
pub struct DepositPayment {
    pub tx_id: String,
    pub from_address: String,
    pub amount: Decimal,
    pub fee: Decimal,
    pub credited: Decimal,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Deposit {
    pub order_no: String,
    pub serial_number: String,
    pub currency: String,
    pub chain: String,
    pub amount: Decimal,
    pub to_address: String,
    pub created_at: DateTime<Utc>,
    pub expire_at: DateTime<Utc>,
    pub payment: Option<DepositPayment>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Withdrawal {
    pub order_no: String,
    pub serial_number: String,
    pub currency: String,
    pub chain: String,
    pub amount: Decimal,
    pub fee: Decimal,
    pub to_address: String,
    pub tx_id: String,
    pub created_at: DateTime<Utc>,
}

impl State {
    fn check_chain(&self, currency: &str, chain: &str) -> Result<(), SimError> {
        let chains = self
            .cfg
            .sim
            .crypto_chains
            .get(currency)
            .ok_or_else(|| SimError::validation("currency is not a supported digital currency"))?;
        if chains.iter().any(|c| c.eq_ignore_ascii_case(chain)) {
            Ok(())
        } else {
            Err(SimError::validation("chain is not supported for this currency"))
        }
    }

    /// #26: a deposit order with a fresh address; money arrives when the control API pays it.
    pub(crate) fn open_deposit(&mut self, req: &DptAcquireRequest) -> Result<Deposit, SimError> {
        let amount = validate::amount("amount", req.amount)?;
        self.check_chain(&req.currency, &req.chain)?;
        let now = Utc::now();
        let d = Deposit {
            order_no: self.ids.next(),
            serial_number: req.serial_number.clone(),
            currency: req.currency.clone(),
            chain: req.chain.to_uppercase(),
            amount,
            to_address: ids::address(&req.chain),
            created_at: now,
            expire_at: now + Duration::minutes(DEPOSIT_VALIDITY_MINUTES),
            payment: None,
        };
        self.deposits.insert(d.order_no.clone(), d.clone());
        Ok(d)
    }

    /// The payer's transfer lands: the merchant account is credited with the amount less the fee.
    pub(crate) fn pay_deposit(
        &mut self,
        order_no: &str,
        amount: Option<Decimal>,
        from_address: Option<String>,
    ) -> Result<Deposit, SimError> {
        let rate = self.cfg.sim.deposit_fee_rate;
        let d = self.deposits.get(order_no).ok_or_else(|| SimError::not_found("deposit order"))?;
        if d.payment.is_some() {
            return Err(SimError::status_forbids("deposit order is already paid"));
        }
        let paid = match amount {
            Some(a) => validate::amount("amount", a)?,
            None => d.amount,
        };
        let fee = validate::fee(paid, rate);
        let payment = DepositPayment {
            tx_id: ids::tx_hash(),
            from_address: from_address.unwrap_or_else(|| ids::address(&d.chain)),
            amount: paid,
            fee,
            credited: paid - fee,
            at: Utc::now(),
        };
        let currency = d.currency.clone();
        self.ledger.inflow(&currency, paid);
        self.ledger.collect_fee(&currency, fee);
        self.ledger.credit(&currency, paid - fee);
        let d = self.deposits.get_mut(order_no).ok_or_else(|| SimError::not_found("deposit order"))?;
        d.payment = Some(payment);
        Ok(d.clone())
    }

    /// #27: debits amount + the flat withdrawal fee and sends the amount on chain.
    pub(crate) fn withdraw(&mut self, req: &DptWithdrawRequest) -> Result<Withdrawal, SimError> {
        let amount = validate::amount("amount", req.amount)?;
        self.check_chain(&req.currency, &req.chain)?;
        if !ids::address_valid(&req.chain, &req.to_address) {
            return Err(SimError::validation("toAddress is not a valid address on this chain"));
        }
        let fee = self.cfg.sim.withdraw_fee;
        self.ledger.ensure(&req.currency, amount + fee)?;
        self.ledger.debit(&req.currency, amount + fee);
        self.ledger.collect_fee(&req.currency, fee);
        self.ledger.outflow(&req.currency, amount);
        let w = Withdrawal {
            order_no: self.ids.next(),
            serial_number: req.serial_number.clone(),
            currency: req.currency.clone(),
            chain: req.chain.to_uppercase(),
            amount,
            fee,
            to_address: req.to_address.clone(),
            tx_id: ids::tx_hash(),
            created_at: Utc::now(),
        };
        self.withdrawals.insert(w.order_no.clone(), w.clone());
        Ok(w)
    }
}
