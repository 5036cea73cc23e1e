//! Digital-currency deposits (acquiring) and withdrawals.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::money::Amount;
use crate::http::validate::{Validate, Violations};

fn check_chain(v: &mut Violations, chain: &str) {
    v.check(
        (2..=16).contains(&chain.len()) && chain.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()),
        "#/chain",
        "must be a chain name such as TRON",
    );
}

/// `POST /v1/crypto/deposits`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"amount": "100.00", "currency": "USDT", "chain": "TRON"}))]
pub struct CreateDeposit {
    pub amount: Amount,
    pub currency: String,
    pub chain: String,
}

impl Validate for CreateDeposit {
    fn validate(&self, v: &mut Violations) {
        v.check(!self.amount.value().is_zero(), "#/amount", "must be greater than zero");
        v.check(self.amount.value().normalize().scale() <= 6, "#/amount", "must have at most 6 decimal places");
        v.check(super::is_currency_code(&self.currency), "#/currency", "must be a currency code such as USDT");
        check_chain(v, &self.chain);
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CryptoDeposit {
    /// The platform's order number.
    pub id: String,
    /// `pending` until paid (`crypto.payment` event).
    pub status: String,
    pub amount: Amount,
    pub currency: String,
    pub chain: String,
    pub deposit_address: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
}

/// `POST /v1/crypto/withdrawals`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"amount": "50.00", "currency": "USDT", "chain": "TRON", "to_address": "TQ5aY1n7Wn4v6Qe6yYvLh9v5Xn3y8k2ZsN"}))]
pub struct CreateWithdrawal {
    pub amount: Amount,
    pub currency: String,
    pub chain: String,
    pub to_address: String,
}

impl Validate for CreateWithdrawal {
    fn validate(&self, v: &mut Violations) {
        v.check(!self.amount.value().is_zero(), "#/amount", "must be greater than zero");
        v.check(self.amount.value().normalize().scale() <= 6, "#/amount", "must have at most 6 decimal places");
        v.check(super::is_currency_code(&self.currency), "#/currency", "must be a currency code such as USDT");
        check_chain(v, &self.chain);
        v.check(
            (20..=128).contains(&self.to_address.len()) && self.to_address.bytes().all(|b| b.is_ascii_alphanumeric()),
            "#/to_address",
            "must be an on-chain address",
        );
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CryptoWithdrawal {
    pub id: String,
    /// `processing`, `succeeded` or `failed`.
    pub status: String,
    pub amount: Amount,
    pub fee: Option<Amount>,
    pub currency: String,
    pub chain: String,
    pub to_address: String,
    pub tx_id: Option<String>,
}
