//! Digital currency (#26 acquiring: request SEEN in the vendor's Java sample; #27 withdraw: INFERRED).

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::lenient;

/// #26 Digital currency acquiring (S9 `OpenapiDptPaymentBillTransactionReq`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct DptAcquireRequest {
    #[serde(deserialize_with = "lenient::decimal", serialize_with = "lenient::ser_decimal")]
    pub amount: Decimal,
    /// e.g. `USDT`.
    pub currency: String,
    /// e.g. `TRON`.
    pub chain: String,
    /// The merchant's serial: the request number of DPT calls.
    #[serde(deserialize_with = "lenient::string")]
    pub serial_number: String,
}

/// #26 answer (INFERRED: a platform order number and a deposit address).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct DptAcquireResult {
    #[serde(deserialize_with = "lenient::string")]
    pub order_no: String,
    #[serde(default, deserialize_with = "lenient::opt_string", skip_serializing_if = "Option::is_none")]
    pub serial_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expire_time: Option<String>,
}

/// #27 Digital Withdraw (INFERRED).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct DptWithdrawRequest {
    #[serde(deserialize_with = "lenient::decimal", serialize_with = "lenient::ser_decimal")]
    pub amount: Decimal,
    pub currency: String,
    pub chain: String,
    pub to_address: String,
    #[serde(deserialize_with = "lenient::string")]
    pub serial_number: String,
}

/// #27 answer (INFERRED).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct DptWithdrawResult {
    #[serde(deserialize_with = "lenient::string")]
    pub order_no: String,
    #[serde(default, deserialize_with = "lenient::opt_string", skip_serializing_if = "Option::is_none")]
    pub serial_number: Option<String>,
    /// `1` success, `2` failure, `0` processing (INFERRED).
    #[serde(default, deserialize_with = "lenient::opt_string", skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(
        default,
        deserialize_with = "lenient::opt_decimal",
        serialize_with = "lenient::ser_opt_decimal",
        skip_serializing_if = "Option::is_none"
    )]
    pub fee: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tx_id: Option<String>,
}
