//! Digital-currency deposits (acquiring) and withdrawals.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::money::Amount;
use crate::http::validate::{Validate, Violations};

fn check_chain(v: &mut Violations, chain: &str) {
    crate::http::rules::CHAIN.check(v, Some(chain), "#/chain");
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
        crate::http::rules::positive_within(v, self.amount.value(), 6, "#/amount");
        crate::http::rules::CURRENCY.check(v, Some(&self.currency), "#/currency");
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
        crate::http::rules::positive_within(v, self.amount.value(), 6, "#/amount");
        crate::http::rules::CURRENCY.check(v, Some(&self.currency), "#/currency");
        check_chain(v, &self.chain);
        crate::http::rules::TO_ADDRESS.check(v, Some(&self.to_address), "#/to_address");
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
