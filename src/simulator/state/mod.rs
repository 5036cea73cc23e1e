//! The simulated platform's world behind one lock: accounts, cards, groups, cardholders, orders,
//! transactions and crypto orders. Business rules live next to the data they guard; the handlers only
//! translate between the wire and these methods.

mod accounts;
mod cardholders;
mod cards;
mod crypto;
mod funding;
mod groups;
mod orders;
mod physical;
mod snapshot;
mod transactions;

use std::{collections::BTreeMap, sync::Arc};

pub use accounts::Ledger;
pub use cardholders::{Cardholder, CardholderStatus};
pub(crate) use cards::ApplyPlan;
pub use cards::{Card, CardStatus, PhysicalCard};
pub use crypto::{Deposit, DepositPayment, Withdrawal};
pub(crate) use funding::{MovePlan, Target};
pub use groups::{Group, GroupStatus};
pub use orders::{Order, OrderStatus};
pub(crate) use orders::{Orders, Pending, Seen, StoredAnswer};
pub use snapshot::{CurrencyTotals, SimSnapshot};
pub(crate) use transactions::FeeCharge;
pub use transactions::{Transaction, TxnKind};

use super::{config::SimulatorConfig, ids::Ids};

/// Everything the platform knows. Mutated only under the simulator's lock.
#[derive(Debug)]
pub(crate) struct State {
    pub cfg: Arc<SimulatorConfig>,
    pub ids: Ids,
    pub ledger: Ledger,
    pub cards: BTreeMap<String, Card>,
    pub groups: BTreeMap<String, Group>,
    pub holders: BTreeMap<String, Cardholder>,
    pub orders: Orders,
    pub transactions: BTreeMap<String, Transaction>,
    pub deposits: BTreeMap<String, Deposit>,
    pub withdrawals: BTreeMap<String, Withdrawal>,
}

impl State {
    pub fn new(cfg: Arc<SimulatorConfig>) -> Self {
        Self {
            ids: Ids::new(cfg.clock.clone()),
            ledger: Ledger::new(&cfg.sim.initial_balances),
            cards: BTreeMap::new(),
            groups: BTreeMap::new(),
            holders: BTreeMap::new(),
            orders: Orders::default(),
            transactions: BTreeMap::new(),
            deposits: BTreeMap::new(),
            withdrawals: BTreeMap::new(),
            cfg,
        }
    }

    /// A copy of everything, in creation order (the webhook log is added by the caller).
    pub fn snapshot(&self) -> SimSnapshot {
        SimSnapshot {
            ledger: self.ledger.clone(),
            cards: self.cards.values().cloned().collect(),
            groups: self.groups.values().cloned().collect(),
            cardholders: self.holders.values().cloned().collect(),
            orders: self.orders.iter().cloned().collect(),
            transactions: self.transactions.values().cloned().collect(),
            deposits: self.deposits.values().cloned().collect(),
            withdrawals: self.withdrawals.values().cloned().collect(),
            webhooks: Vec::new(),
        }
    }
}
