//! Card transactions simulated through the control API: authorisation, settlement, reversal and
//! refund. Spending draws on the card's balance, or on its group's balance for shared sub-cards.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Serialize;

use super::{Card, CardStatus, GroupStatus, State};
use crate::{
    simulator::{errors::SimError, ids, simulations::AuthorizationSpec, validate},
    upstream::wire::card::TransactionRecord,
};

/// `trade_fee` types (SIBLING R2 `CardTransFeeType`).
const FEE_CROSS_BORDER: i64 = 97;
const FEE_PROCESSING: i64 = 99;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TxnKind {
    Authorization,
    Reversal,
    Refund,
}

/// One card transaction record (the `card_transaction` payload and a Transaction Inquiry item).
#[derive(Debug, Clone, Serialize)]
pub struct Transaction {
    pub record_no: String,
    pub card_id: String,
    pub kind: TxnKind,
    pub time: DateTime<Utc>,
    pub trans_currency: String,
    pub trans_amount: Decimal,
    pub local_currency: String,
    pub local_amount: Decimal,
    pub approval_code: Option<String>,
    pub merchant_name: String,
    pub mcc: Option<String>,
    pub cross_border: bool,
    pub approved: bool,
    pub resp_code: String,
    pub resp_desc: String,
    pub origin_record_no: Option<String>,
    pub settled: bool,
    pub settle_amount: Option<Decimal>,
    pub settle_time: Option<DateTime<Utc>>,
    /// Fee charged with this transaction (reported separately by `trade_fee`).
    pub fee: Decimal,
    /// Money came back to the merchant account (the card had been cancelled).
    pub to_account: bool,
    pub reversed: bool,
    pub refunded: Decimal,
    pub shared: bool,
}

/// A fee charged on a transaction, reported by `trade_fee`.
#[derive(Debug, Clone)]
pub(crate) struct FeeCharge {
    pub card_id: String,
    pub fee_type: i64,
    pub receipt_no: String,
    pub record_no: String,
    pub currency: String,
    pub amount: Decimal,
    pub at: DateTime<Utc>,
}

fn decline(
    card: &Card,
    state: &State,
    local: Decimal,
    fee: Decimal,
    currency: &str,
) -> Option<(&'static str, &'static str)> {
    let group_ok =
        card.group_id.as_deref().and_then(|g| state.groups.get(g)).is_none_or(|g| g.status == GroupStatus::Active);
    match card.status {
        CardStatus::Active => {}
        CardStatus::Frozen => return Some(("200008", "card exception")),
        _ => return Some(("200001", "invalid card")),
    }
    if !group_ok {
        return Some(("200008", "card exception"));
    }
    if !card.multi_use && card.approved_auths > 0 {
        return Some(("200006", "not a multi-use card"));
    }
    if card.currency_check && currency != card.currency {
        return Some(("200005", "invalid currency"));
    }
    if card.is_shared() && !card.limit.is_zero() && card.used + local > card.limit {
        return Some(("200007", "limit exceeded"));
    }
    if state.spendable(card) < local + fee {
        return Some(("200002", "insufficient balance"));
    }
    None
}

impl State {
    fn txn(&self, record_no: &str) -> Result<&Transaction, SimError> {
        self.transactions.get(record_no).ok_or_else(|| SimError::not_found("transaction"))
    }

    /// Takes `amount` from what the card spends (its balance, or its group's).
    fn spend(&mut self, card_id: &str, amount: Decimal, counts_as_used: Decimal) {
        let Some(card) = self.cards.get_mut(card_id) else { return };
        card.used += counts_as_used;
        match card.group_id.clone() {
            None => card.balance -= amount,
            Some(g) => {
                if let Some(group) = self.groups.get_mut(&g) {
                    group.balance -= amount;
                }
            }
        }
    }

    /// Gives `amount` back; to the merchant account when the card or its group is gone.
    /// Answers whether it went to the account.
    fn unspend(&mut self, card_id: &str, amount: Decimal) -> bool {
        let Some(card) = self.cards.get_mut(card_id) else { return false };
        card.used = (card.used - amount).max(Decimal::ZERO);
        let currency = card.currency.clone();
        if card.status != CardStatus::Cancelled {
            match card.group_id.clone() {
                None => {
                    card.balance += amount;
                    return false;
                }
                Some(g) => {
                    if let Some(group) = self.groups.get_mut(&g).filter(|g| g.status != GroupStatus::Closed) {
                        group.balance += amount;
                        return false;
                    }
                }
            }
        }
        self.ledger.credit(&currency, amount);
        true
    }

    /// An authorisation: approved (money leaves) or declined (recorded, nothing moves).
    pub(crate) fn authorize(
        &mut self,
        card_id: &str,
        spec: &AuthorizationSpec,
    ) -> Result<(Transaction, Option<FeeCharge>), SimError> {
        let card = self.card(card_id)?.clone();
        let amount = validate::amount("amount", spec.amount)?;
        let currency = spec.currency.clone().unwrap_or_else(|| card.currency.clone());
        validate::asset("currency", &currency)?;
        let local = if currency == card.currency {
            amount
        } else {
            validate::cents(amount * self.rate(&currency, &card.currency)?)
        };
        let fee = match spec.fee {
            Some(f) => validate::non_negative_amount("fee", f)?,
            None if spec.cross_border => validate::fee(local, self.cfg.sim.cross_border_fee_rate),
            None => Decimal::ZERO,
        };
        let refusal = decline(&card, self, local, fee, &currency);
        let approved = refusal.is_none();
        let (resp_code, resp_desc) = refusal.unwrap_or(("000000", "success"));
        let now = Utc::now();
        let txn = Transaction {
            record_no: self.ids.next(),
            card_id: card_id.to_owned(),
            kind: TxnKind::Authorization,
            time: now,
            trans_currency: currency,
            trans_amount: amount,
            local_currency: card.currency.clone(),
            local_amount: local,
            approval_code: approved.then(|| ids::digits(6)),
            merchant_name: spec.merchant_name.clone().unwrap_or_else(|| "SIMULATED MERCHANT".into()),
            mcc: spec.mcc.clone(),
            cross_border: spec.cross_border,
            approved,
            resp_code: resp_code.into(),
            resp_desc: resp_desc.into(),
            origin_record_no: None,
            settled: false,
            settle_amount: None,
            settle_time: None,
            fee: if approved { fee } else { Decimal::ZERO },
            to_account: false,
            reversed: false,
            refunded: Decimal::ZERO,
            shared: card.is_shared(),
        };
        let mut charge = None;
        if approved {
            self.spend(card_id, local + fee, local);
            self.ledger.outflow(&card.currency, local);
            self.ledger.collect_fee(&card.currency, fee);
            if let Some(c) = self.cards.get_mut(card_id) {
                c.approved_auths += 1;
            }
            if fee > Decimal::ZERO {
                charge = Some(FeeCharge {
                    card_id: card_id.to_owned(),
                    fee_type: if spec.cross_border { FEE_CROSS_BORDER } else { FEE_PROCESSING },
                    receipt_no: self.ids.next(),
                    record_no: txn.record_no.clone(),
                    currency: card.currency.clone(),
                    amount: fee,
                    at: now,
                });
            }
        }
        self.transactions.insert(txn.record_no.clone(), txn.clone());
        Ok((txn, charge))
    }

    fn open_authorization(&self, record_no: &str) -> Result<&Transaction, SimError> {
        let t = self.txn(record_no)?;
        if t.kind != TxnKind::Authorization || !t.approved || t.reversed {
            return Err(SimError::status_forbids("transaction is not an open approved authorisation"));
        }
        Ok(t)
    }

    /// Settles an authorisation, for its amount or another (the difference moves too).
    pub(crate) fn settle(&mut self, record_no: &str, amount: Option<Decimal>) -> Result<Transaction, SimError> {
        let t = self.open_authorization(record_no)?;
        if t.settled {
            return Err(SimError::status_forbids("transaction is already settled"));
        }
        let settle = match amount {
            Some(a) => validate::amount("amount", a)?,
            None => t.local_amount,
        };
        let (card_id, currency, diff) = (t.card_id.clone(), t.local_currency.clone(), settle - t.local_amount);
        if diff > Decimal::ZERO {
            let card = self.card(&card_id)?;
            if card.status == CardStatus::Cancelled || self.spendable(card) < diff {
                return Err(SimError::insufficient_card("card"));
            }
            self.spend(&card_id, diff, diff);
            self.ledger.outflow(&currency, diff);
        } else if diff < Decimal::ZERO {
            self.unspend(&card_id, -diff);
            self.ledger.inflow(&currency, -diff);
        }
        let t = self.transactions.get_mut(record_no).ok_or_else(|| SimError::not_found("transaction"))?;
        t.settled = true;
        t.settle_amount = Some(settle);
        t.settle_time = Some(Utc::now());
        Ok(t.clone())
    }

    /// Follow-up record (reversal or refund) of an authorisation, money flowing back in.
    fn follow_up(&mut self, orig: &Transaction, kind: TxnKind, amount: Decimal) -> Transaction {
        let to_account = self.unspend(&orig.card_id, amount);
        self.ledger.inflow(&orig.local_currency, amount);
        let now = Utc::now();
        let t = Transaction {
            record_no: self.ids.next(),
            kind,
            time: now,
            trans_currency: orig.local_currency.clone(),
            trans_amount: amount,
            local_amount: amount,
            approval_code: Some(ids::digits(6)),
            approved: true,
            resp_code: "000000".into(),
            resp_desc: "success".into(),
            origin_record_no: Some(orig.record_no.clone()),
            settled: kind == TxnKind::Refund,
            settle_amount: (kind == TxnKind::Refund).then_some(amount),
            settle_time: (kind == TxnKind::Refund).then_some(now),
            fee: Decimal::ZERO,
            to_account,
            reversed: false,
            refunded: Decimal::ZERO,
            ..orig.clone()
        };
        self.transactions.insert(t.record_no.clone(), t.clone());
        t
    }

    /// Reverses an unsettled authorisation in full.
    pub(crate) fn reverse(&mut self, record_no: &str) -> Result<Transaction, SimError> {
        let orig = self.open_authorization(record_no)?.clone();
        if orig.settled {
            return Err(SimError::status_forbids("a settled transaction cannot be reversed; refund it"));
        }
        let rev = self.follow_up(&orig, TxnKind::Reversal, orig.local_amount);
        if let Some(t) = self.transactions.get_mut(record_no) {
            t.reversed = true;
        }
        Ok(rev)
    }

    /// Refunds (part of) an authorisation, up to what has not been refunded yet.
    pub(crate) fn refund_transaction(
        &mut self,
        record_no: &str,
        amount: Option<Decimal>,
    ) -> Result<Transaction, SimError> {
        let orig = self.open_authorization(record_no)?.clone();
        let base = orig.settle_amount.unwrap_or(orig.local_amount);
        let remaining = base - orig.refunded;
        if remaining <= Decimal::ZERO {
            return Err(SimError::status_forbids("transaction is fully refunded"));
        }
        let amount = match amount {
            Some(a) => validate::amount("amount", a)?,
            None => remaining,
        };
        if amount > remaining {
            return Err(SimError::validation("amount exceeds the refundable amount"));
        }
        let refund = self.follow_up(&orig, TxnKind::Refund, amount);
        if let Some(t) = self.transactions.get_mut(record_no) {
            t.refunded += amount;
        }
        Ok(refund)
    }

    /// The vendor's record shape.
    pub(crate) fn transaction_record(&self, t: &Transaction) -> TransactionRecord {
        let (codes, clock, types) = (&self.cfg.codes, &self.cfg.clock, &self.cfg.sim.trans_types);
        TransactionRecord {
            record_no: t.record_no.clone(),
            card_id: t.card_id.clone(),
            transaction_time: clock.format_datetime(t.time),
            trans_currency: Some(t.trans_currency.clone()),
            trans_currency_amt: Some(t.trans_amount),
            local_currency: t.local_currency.clone(),
            local_currency_amt: Some(t.local_amount),
            approval_code: t.approval_code.clone(),
            merchant_name: t.merchant_name.clone(),
            merchant_category_code: t.mcc.clone(),
            cross_board_type: Some(if t.cross_border { "1" } else { "0" }.into()),
            trans_type: Some(
                match t.kind {
                    TxnKind::Authorization => &types.authorization,
                    TxnKind::Reversal => &types.reversal,
                    TxnKind::Refund => &types.refund,
                }
                .clone(),
            ),
            trans_status: Some(
                if t.approved { &codes.trans_status_success } else { &codes.trans_status_failure }.clone(),
            ),
            origin_record_no: t.origin_record_no.clone(),
            trans_category: Some(if t.settled { 2 } else { 1 }),
            fee_type: (t.fee > Decimal::ZERO).then_some(1),
            funds_type: Some(if t.to_account { 2 } else { 1 }),
            funds_direction: Some(if t.kind == TxnKind::Authorization { 0 } else { 1 }),
            settle_amount: t.settle_amount,
            settle_time: t.settle_time.map(|s| clock.format_datetime(s)),
            resp_code: Some(t.resp_code.clone()),
            resp_code_desc: Some(t.resp_desc.clone()),
        }
    }
}
