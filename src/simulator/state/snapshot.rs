//! A copy of the simulator's state for tests and the control API, with the invariants it must keep.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::Serialize;

use super::{Card, Cardholder, Deposit, Group, Ledger, Order, Transaction, Withdrawal};
use crate::simulator::webhooks::DeliveryRecord;

/// Everything the simulator knows, copied at one instant.
#[derive(Debug, Clone, Serialize)]
pub struct SimSnapshot {
    pub ledger: Ledger,
    pub cards: Vec<Card>,
    pub groups: Vec<Group>,
    pub cardholders: Vec<Cardholder>,
    pub orders: Vec<Order>,
    pub transactions: Vec<Transaction>,
    pub deposits: Vec<Deposit>,
    pub withdrawals: Vec<Withdrawal>,
    /// One entry per webhook emitted, with its delivery attempts.
    pub webhooks: Vec<DeliveryRecord>,
}

/// Where one currency's money is.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct CurrencyTotals {
    pub merchant: Decimal,
    pub cards: Decimal,
    pub groups: Decimal,
    pub fees: Decimal,
    pub external: Decimal,
    pub initial: Decimal,
}

impl CurrencyTotals {
    /// merchant + cards + groups + fees + external = initial.
    pub fn conserved(&self) -> bool {
        self.merchant + self.cards + self.groups + self.fees + self.external == self.initial
    }
}

impl SimSnapshot {
    /// The merchant account balance in `currency` (0 when there is no account).
    pub fn balance(&self, currency: &str) -> Decimal {
        self.ledger.balance(currency)
    }

    pub fn card(&self, card_id: &str) -> Option<&Card> {
        self.cards.iter().find(|c| c.card_id == card_id)
    }

    pub fn group(&self, group_id: &str) -> Option<&Group> {
        self.groups.iter().find(|g| g.group_id == group_id)
    }

    pub fn cardholder(&self, card_user_id: &str) -> Option<&Cardholder> {
        self.cardholders.iter().find(|h| h.card_user_id == card_user_id)
    }

    /// The order created for `user_req_no` (DPT orders: the `serialNumber`).
    pub fn order(&self, user_req_no: &str) -> Option<&Order> {
        self.orders.iter().find(|o| o.user_req_no == user_req_no)
    }

    /// How many orders carry `user_req_no` (idempotency: never more than one).
    pub fn orders_with(&self, user_req_no: &str) -> usize {
        self.orders.iter().filter(|o| o.user_req_no == user_req_no).count()
    }

    pub fn transaction(&self, record_no: &str) -> Option<&Transaction> {
        self.transactions.iter().find(|t| t.record_no == record_no)
    }

    /// Money per currency across the merchant accounts, cards, groups, fees and the outside world.
    pub fn totals(&self) -> BTreeMap<String, CurrencyTotals> {
        let mut t: BTreeMap<String, CurrencyTotals> = BTreeMap::new();
        for (c, v) in &self.ledger.merchant {
            t.entry(c.clone()).or_default().merchant += v;
        }
        for (c, v) in &self.ledger.fees {
            t.entry(c.clone()).or_default().fees += v;
        }
        for (c, v) in &self.ledger.external {
            t.entry(c.clone()).or_default().external += v;
        }
        for (c, v) in &self.ledger.initial {
            t.entry(c.clone()).or_default().initial += v;
        }
        for card in &self.cards {
            t.entry(card.currency.clone()).or_default().cards += card.balance;
        }
        for g in &self.groups {
            t.entry(g.currency.clone()).or_default().groups += g.balance;
        }
        t
    }

    /// Broken invariants, in words: money not conserved, or a balance below zero.
    pub fn invariant_violations(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (c, t) in self.totals() {
            if !t.conserved() {
                out.push(format!("{c} not conserved: {t:?}"));
            }
        }
        for (c, v) in &self.ledger.merchant {
            if *v < Decimal::ZERO {
                out.push(format!("merchant {c} balance negative: {v}"));
            }
        }
        for card in &self.cards {
            if card.balance < Decimal::ZERO || card.used < Decimal::ZERO {
                out.push(format!("card {} balance or used amount negative", card.card_id));
            }
        }
        for g in &self.groups {
            if g.balance < Decimal::ZERO {
                out.push(format!("group {} balance negative", g.group_id));
            }
        }
        out
    }
}
