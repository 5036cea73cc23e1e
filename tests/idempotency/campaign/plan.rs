//! What the campaign asks for: logical operations of every money-moving kind, each with its own
//! Idempotency-Key and an amount no other operation uses, so the platform's orders can be matched
//! to what the client was told without trusting the gateway's bookkeeping.

use card_gateway::upstream::Operation;
use rand::{Rng, rngs::StdRng, seq::SliceRandom};
use reqwest::StatusCode;
use rust_decimal::Decimal;
use serde_json::{Value, json};

use super::world::World;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    CardIssue,
    CardRecharge,
    CardRefund,
    GroupRecharge,
    GroupRefund,
    CryptoWithdrawal,
    Exchange,
    CryptoTransfer,
    CardCancel,
}

impl Kind {
    pub const ALL: [Kind; 9] = [
        Kind::CardIssue,
        Kind::CardRecharge,
        Kind::CardRefund,
        Kind::GroupRecharge,
        Kind::GroupRefund,
        Kind::CryptoWithdrawal,
        Kind::Exchange,
        Kind::CryptoTransfer,
        Kind::CardCancel,
    ];

    /// The platform operation that moves this kind's money.
    pub fn op(self) -> Operation {
        match self {
            Kind::CardIssue => Operation::CardApply,
            Kind::CardRecharge | Kind::GroupRecharge => Operation::CardRecharge,
            Kind::CardRefund | Kind::GroupRefund => Operation::CardRefund,
            Kind::CryptoWithdrawal => Operation::DptWithdraw,
            Kind::Exchange => Operation::AccountExchange,
            Kind::CryptoTransfer => Operation::DptTransfer,
            Kind::CardCancel => Operation::CardCancel,
        }
    }
}

/// One logical operation: retried with the same key and body until it gets a final answer.
#[derive(Debug, Clone)]
pub struct Logical {
    pub n: usize,
    pub kind: Kind,
    pub key: String,
    pub path: String,
    pub body: Value,
    /// Unique per campaign (card cancels return a balance instead and are matched by card).
    pub amount: Decimal,
    /// The card or group the operation acts on.
    pub target: Option<String>,
}

/// Objects created before any fault is armed.
#[derive(Debug, Clone)]
pub struct Fixtures {
    pub cards: Vec<String>,
    pub group: String,
    pub to_cancel: Vec<String>,
}

pub const CARD_START: Decimal = Decimal::from_parts(50_000, 0, 0, false, 2);
pub const GROUP_START: Decimal = Decimal::from_parts(50_000, 0, 0, false, 2);
const CANCEL_CARD_LIMIT: &str = "20.00";
const WITHDRAW_TO: &str = "TQ5aY1n7Wn4v6Qe6yYvLh9v5Xn3y8k2ZsN";

/// How many logical operations of each kind `n` gives (every kind at least once).
pub fn kinds(rng: &mut StdRng, n: usize) -> Vec<Kind> {
    let mut out: Vec<Kind> = Kind::ALL.iter().copied().cycle().take(n.max(Kind::ALL.len())).collect();
    out.shuffle(rng);
    out
}

pub async fn fixtures(world: &World, kinds: &[Kind]) -> Fixtures {
    let app = world.gateway().await;
    let t = &world.token;
    let mut cards = Vec::new();
    for _ in 0..3 {
        cards.push(created(&app, t, "/v1/cards", json!({"bin": "222929", "currency": "USD", "limit": "500.00"})).await);
    }
    let group = {
        let r = app.post("/v1/card-groups", t, json!({"currency": "USD", "amount": "500.00"})).await;
        assert_eq!(r.status, StatusCode::CREATED, "fixture group: {}", r.text);
        r.json["id"].as_str().unwrap().to_owned()
    };
    let mut to_cancel = Vec::new();
    for _ in kinds.iter().filter(|k| **k == Kind::CardCancel) {
        let body = json!({"bin": "222929", "currency": "USD", "limit": CANCEL_CARD_LIMIT});
        to_cancel.push(created(&app, t, "/v1/cards", body).await);
    }
    Fixtures { cards, group, to_cancel }
}

/// Creates a fixture (before any fault) and returns its id, waiting for an asynchronous platform.
async fn created(app: &crate::common::TestApp, t: &str, path: &str, body: Value) -> String {
    let r = app.post(path, t, body).await;
    if r.status == StatusCode::CREATED {
        return r.json["id"].as_str().unwrap().to_owned();
    }
    assert_eq!(r.status, StatusCode::ACCEPTED, "fixture {path}: {}", r.text);
    let op = r.json["id"].as_str().unwrap().to_owned();
    for _ in 0..100 {
        let o = app.get(&format!("/v1/operations/{op}"), t).await;
        if o.json["status"] == "succeeded" {
            return o.json["target"]["id"].as_str().or(o.json["result"]["id"].as_str()).unwrap().to_owned();
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("fixture {path} did not finish");
}

pub fn plan(rng: &mut StdRng, seed: u64, kinds: &[Kind], fx: &Fixtures) -> Vec<Logical> {
    let mut cancels = fx.to_cancel.iter();
    kinds
        .iter()
        .enumerate()
        .map(|(n, &kind)| {
            // 1.01, 1.02, …: unique, and small enough that refunds never exhaust a fixture.
            let amount = Decimal::new(101 + n as i64, 2);
            let a = amount.to_string();
            let card = fx.cards[rng.random_range(0..fx.cards.len())].clone();
            let (path, body, target) = match kind {
                Kind::CardIssue => (
                    "/v1/cards".to_owned(),
                    json!({"bin": "222929", "currency": "USD", "limit": a, "alias": format!("campaign-{n}")}),
                    None,
                ),
                Kind::CardRecharge => (format!("/v1/cards/{card}/recharges"), json!({"amount": a}), Some(card)),
                Kind::CardRefund => (format!("/v1/cards/{card}/refunds"), json!({"amount": a}), Some(card)),
                Kind::GroupRecharge => {
                    (format!("/v1/card-groups/{}/recharges", fx.group), json!({"amount": a}), Some(fx.group.clone()))
                }
                Kind::GroupRefund => {
                    (format!("/v1/card-groups/{}/refunds", fx.group), json!({"amount": a}), Some(fx.group.clone()))
                }
                Kind::CryptoWithdrawal => (
                    "/v1/crypto/withdrawals".to_owned(),
                    json!({"amount": a, "currency": "USDT", "chain": "TRON", "to_address": WITHDRAW_TO}),
                    None,
                ),
                Kind::Exchange => (
                    "/v1/treasury/exchanges".to_owned(),
                    json!({"from_currency": "EUR", "to_currency": "USD", "amount": a}),
                    None,
                ),
                Kind::CryptoTransfer => (
                    "/v1/treasury/crypto-transfers".to_owned(),
                    json!({"currency": "USDT", "amount": a, "to_currency": "USD"}),
                    None,
                ),
                Kind::CardCancel => {
                    let c = cancels.next().expect("one fixture card per cancel").clone();
                    (format!("/v1/cards/{c}/cancel"), json!({}), Some(c))
                }
            };
            Logical { n, kind, key: format!("campaign-{seed:x}-{n}"), path, body, amount, target }
        })
        .collect()
}
