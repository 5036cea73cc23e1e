//! Account operations: balance (SEEN path), DPT transfer, exchange and exchange rate (UNKNOWN shapes,
//! INFERRED from the operation titles and sibling platforms).

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::lenient;

/// #1 Account Balance request. `ccy` is an INFERRED optional filter (sibling R2).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct BalanceRequest {
    #[serde(deserialize_with = "lenient::string")]
    pub user_req_no: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ccy: Option<String>,
}

/// One currency account (SIBLING R2 `AccountBalanceCO`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct BalanceItem {
    #[serde(alias = "currency")]
    pub ccy: String,
    #[serde(deserialize_with = "lenient::decimal", serialize_with = "lenient::ser_decimal")]
    pub current_balance: Decimal,
    #[serde(
        deserialize_with = "lenient::decimal",
        serialize_with = "lenient::ser_decimal",
        alias = "availableBalance"
    )]
    pub available_bal: Decimal,
}

/// #2 Dpt Transfer Card Account: digital-currency account → card (fiat) account. Fields INFERRED.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct DptTransferRequest {
    #[serde(deserialize_with = "lenient::string")]
    pub user_req_no: String,
    /// Digital currency debited, e.g. `USDT`.
    pub currency: String,
    /// Card-account currency credited, e.g. `USD`.
    pub target_currency: String,
    #[serde(deserialize_with = "lenient::decimal", serialize_with = "lenient::ser_decimal")]
    pub amount: Decimal,
}

/// Result of a transfer or an exchange.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct ConversionResult {
    #[serde(default, deserialize_with = "lenient::opt_string", skip_serializing_if = "Option::is_none")]
    pub order_id: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string", skip_serializing_if = "Option::is_none")]
    pub user_req_no: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_currency: Option<String>,
    #[serde(
        default,
        deserialize_with = "lenient::opt_decimal",
        serialize_with = "lenient::ser_opt_decimal",
        skip_serializing_if = "Option::is_none"
    )]
    pub source_amount: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_currency: Option<String>,
    #[serde(
        default,
        deserialize_with = "lenient::opt_decimal",
        serialize_with = "lenient::ser_opt_decimal",
        skip_serializing_if = "Option::is_none"
    )]
    pub target_amount: Option<Decimal>,
    #[serde(
        default,
        deserialize_with = "lenient::opt_decimal",
        serialize_with = "lenient::ser_opt_decimal",
        skip_serializing_if = "Option::is_none"
    )]
    pub rate: Option<Decimal>,
    #[serde(
        default,
        deserialize_with = "lenient::opt_decimal",
        serialize_with = "lenient::ser_opt_decimal",
        skip_serializing_if = "Option::is_none"
    )]
    pub fee: Option<Decimal>,
}

/// #3 Card account exchange between two fiat card accounts. Fields INFERRED.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ExchangeRequest {
    #[serde(deserialize_with = "lenient::string")]
    pub user_req_no: String,
    pub source_currency: String,
    pub target_currency: String,
    /// Amount debited, in the source currency.
    #[serde(deserialize_with = "lenient::decimal", serialize_with = "lenient::ser_decimal")]
    pub amount: Decimal,
}

/// #4 Exchange rate inquiry. Fields INFERRED.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ExchangeRateRequest {
    #[serde(deserialize_with = "lenient::string")]
    pub user_req_no: String,
    pub source_currency: String,
    pub target_currency: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ExchangeRate {
    pub source_currency: String,
    pub target_currency: String,
    /// Units of target currency per one unit of source currency.
    #[serde(deserialize_with = "lenient::decimal", serialize_with = "lenient::ser_decimal")]
    pub rate: Decimal,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_time: Option<String>,
}
