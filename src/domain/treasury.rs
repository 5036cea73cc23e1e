//! Merchant-wide treasury: balances, exchange rates, exchanges and DPT → card-account transfers.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::money::{Amount, Money};
use crate::http::{
    rules,
    validate::{Validate, Violations},
};

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"currency": "USD", "total": "1000000.00", "available": "999000.00"}))]
pub struct Balance {
    pub currency: String,
    pub total: Amount,
    pub available: Amount,
}

#[derive(Debug, Clone, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RateQuery {
    /// Source currency, e.g. `EUR`.
    pub from: String,
    /// Target currency, e.g. `USD`.
    pub to: String,
}

impl Validate for RateQuery {
    fn validate(&self, v: &mut Violations) {
        rules::CURRENCY.check(v, Some(&self.from), "query.from");
        rules::CURRENCY.check(v, Some(&self.to), "query.to");
        v.check(self.from != self.to, "query.to", "must differ from `from`");
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"from": "EUR", "to": "USD", "rate": "1.08", "updated_at": null}))]
pub struct ExchangeRateOut {
    pub from: String,
    pub to: String,
    /// Units of `to` per unit of `from`.
    #[schema(value_type = String)]
    pub rate: rust_decimal::Decimal,
    pub updated_at: Option<DateTime<Utc>>,
}

/// `POST /v1/treasury/exchanges`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"from_currency": "EUR", "to_currency": "USD", "amount": "100.00"}))]
pub struct CreateExchange {
    pub from_currency: String,
    pub to_currency: String,
    /// Debited, in `from_currency`.
    pub amount: Amount,
}

impl Validate for CreateExchange {
    fn validate(&self, v: &mut Violations) {
        rules::CURRENCY.check(v, Some(&self.from_currency), "#/from_currency");
        rules::CURRENCY.check(v, Some(&self.to_currency), "#/to_currency");
        v.check(self.from_currency != self.to_currency, "#/to_currency", "must differ from from_currency");
        rules::positive_within(v, self.amount.value(), 2, "#/amount");
    }
}

/// `POST /v1/treasury/crypto-transfers` (digital-currency account → card account).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"currency": "USDT", "amount": "100.00", "to_currency": "USD"}))]
pub struct CreateCryptoTransfer {
    pub currency: String,
    pub amount: Amount,
    pub to_currency: String,
}

impl Validate for CreateCryptoTransfer {
    fn validate(&self, v: &mut Violations) {
        rules::CURRENCY.check(v, Some(&self.currency), "#/currency");
        rules::CURRENCY.check(v, Some(&self.to_currency), "#/to_currency");
        rules::positive_within(v, self.amount.value(), 6, "#/amount");
    }
}

/// The result of an exchange or a transfer.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Conversion {
    pub id: Option<String>,
    pub debited: Option<Money>,
    pub credited: Option<Money>,
    #[schema(value_type = Option<String>)]
    pub rate: Option<rust_decimal::Decimal>,
    pub fee: Option<Amount>,
}
