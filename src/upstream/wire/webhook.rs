//! Webhook bodies the platform POSTs to the merchant (docs/platform.md §6).
//!
//! Outer body: `{type, data, version, userNo}`; `data` is hex ciphertext (default) or a plain object.
//! Each payload struct accepts every documented spelling (`card_operate` variants A and B,
//! `staus`/`status`, ids as numbers or strings).

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::lenient;
use crate::sensitive::{Cvv, Otp, Pan, expose_opt};

/// The outer webhook body.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct WebhookEnvelope {
    #[serde(rename = "type")]
    pub kind: String,
    /// Hex string (encrypted) or a JSON object (plain).
    pub data: serde_json::Value,
    #[serde(default)]
    pub version: String,
    #[serde(default, deserialize_with = "lenient::opt_string", skip_serializing_if = "Option::is_none")]
    pub user_no: Option<String>,
}

/// Card elements pushed with a successful card application (SIBLING R2).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct WebhookCardInfo {
    #[serde(default, serialize_with = "expose_opt", skip_serializing_if = "Option::is_none")]
    pub card_no: Option<Pan>,
    #[serde(default, serialize_with = "expose_opt", skip_serializing_if = "Option::is_none")]
    pub card_verify_no: Option<Cvv>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card_alias: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card_label: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card_expiry_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local_currency: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_active_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_close_date: Option<String>,
}

/// `card_operate` variant A (Apifox, SEEN S4).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct CardOperateA {
    #[serde(deserialize_with = "lenient::string")]
    pub order_id: String,
    #[serde(default, deserialize_with = "lenient::opt_string", skip_serializing_if = "Option::is_none")]
    pub card_id: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string", skip_serializing_if = "Option::is_none")]
    pub group_id: Option<String>,
    #[serde(deserialize_with = "lenient::string")]
    pub user_req_no: String,
    #[serde(deserialize_with = "lenient::int")]
    pub op_type: i64,
    #[serde(deserialize_with = "lenient::int")]
    pub status: i64,
    #[serde(deserialize_with = "lenient::decimal", serialize_with = "lenient::ser_decimal")]
    pub amount: Decimal,
    #[serde(deserialize_with = "lenient::decimal", serialize_with = "lenient::ser_decimal")]
    pub fee: Decimal,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card_info: Option<WebhookCardInfo>,
    pub create_at: String,
}

/// `card_operate` variant B (doc.sandboxinc.io, SEEN S11).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct CardOperateB {
    #[serde(deserialize_with = "lenient::string")]
    pub order_id: String,
    /// Card id or shared group id.
    #[serde(deserialize_with = "lenient::string")]
    pub resource_id: String,
    #[serde(deserialize_with = "lenient::string")]
    pub user_req_no: String,
    #[serde(deserialize_with = "lenient::int")]
    pub transaction_type: i64,
    #[serde(deserialize_with = "lenient::int")]
    pub transaction_status: i64,
    #[serde(deserialize_with = "lenient::decimal", serialize_with = "lenient::ser_decimal")]
    pub amount: Decimal,
    #[serde(deserialize_with = "lenient::decimal", serialize_with = "lenient::ser_decimal")]
    pub fee: Decimal,
    pub create_time: String,
}

/// Either `card_operate` shape, normalised on the way in (the receiver's view).
#[derive(Debug, Clone, Deserialize, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct CardOperate {
    #[serde(deserialize_with = "lenient::string")]
    pub order_id: String,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub card_id: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub group_id: Option<String>,
    /// Variant B: card id or group id, depending on the operation type.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub resource_id: Option<String>,
    #[serde(default, deserialize_with = "lenient::string")]
    pub user_req_no: String,
    #[serde(alias = "transactionType", deserialize_with = "lenient::int")]
    pub op_type: i64,
    #[serde(alias = "transactionStatus", alias = "staus", deserialize_with = "lenient::int")]
    pub status: i64,
    #[serde(default, deserialize_with = "lenient::opt_decimal")]
    pub amount: Option<Decimal>,
    #[serde(default, deserialize_with = "lenient::opt_decimal")]
    pub fee: Option<Decimal>,
    #[serde(default)]
    pub card_info: Option<WebhookCardInfo>,
    #[serde(default, alias = "createTime")]
    pub create_at: Option<String>,
}

/// `trade_fee` (SIBLING R2 `TradeFeeHookParam`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct TradeFee {
    #[serde(deserialize_with = "lenient::string")]
    pub card_id: String,
    /// Fee type 91–99.
    #[serde(deserialize_with = "lenient::int")]
    pub op_type: i64,
    #[serde(deserialize_with = "lenient::string")]
    pub receipt_no: String,
    #[serde(default, deserialize_with = "lenient::opt_string", skip_serializing_if = "Option::is_none")]
    pub record_no: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string", skip_serializing_if = "Option::is_none")]
    pub user_no: Option<String>,
    pub real_ccy: String,
    #[serde(deserialize_with = "lenient::decimal", serialize_with = "lenient::ser_decimal")]
    pub real_fee: Decimal,
    #[serde(default)]
    pub create_at: String,
}

/// `card_3ds_otp` (SIBLING R2 `Card3dsOtpHookParam`). The OTP is sensitive.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct Card3dsOtp {
    #[serde(serialize_with = "crate::sensitive::expose")]
    pub otp: Otp,
    #[serde(deserialize_with = "lenient::string")]
    pub card_id: String,
    /// Masked by the platform; re-masked by us anyway.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card_no: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction_currency: Option<String>,
    #[serde(
        default,
        deserialize_with = "lenient::opt_decimal",
        serialize_with = "lenient::ser_opt_decimal",
        skip_serializing_if = "Option::is_none"
    )]
    pub transaction_amount: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merchant_name: Option<String>,
}

/// `dpt_payment_bill` (SEEN S13).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct DptPaymentBill {
    pub tx_id: String,
    pub from_address: String,
    pub to_address: String,
    #[serde(deserialize_with = "lenient::decimal", serialize_with = "lenient::ser_decimal")]
    pub payment_amount: Decimal,
    #[serde(deserialize_with = "lenient::decimal", serialize_with = "lenient::ser_decimal")]
    pub fact_amount: Decimal,
    #[serde(deserialize_with = "lenient::decimal", serialize_with = "lenient::ser_decimal")]
    pub fee: Decimal,
    #[serde(deserialize_with = "lenient::string")]
    pub serial_number: String,
    #[serde(deserialize_with = "lenient::string")]
    pub order_no: String,
    /// ISO-8601 with offset, e.g. `2024-11-20T13:49:56.000+08:00`.
    pub transaction_time: String,
}

/// `card_activation_code` (UNKNOWN; INFERRED `cardId` + code, both spellings accepted).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct CardActivationCode {
    #[serde(deserialize_with = "lenient::string")]
    pub card_id: String,
    #[serde(alias = "activationCode", serialize_with = "crate::sensitive::expose")]
    pub active_code: Otp,
}

/// `card_activation_status` (SEEN S5: `cardId` Integer, misspelled `staus`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct CardActivationStatus {
    #[serde(deserialize_with = "lenient::string")]
    pub card_id: String,
    /// `1` success, `2` fail.
    #[serde(alias = "status", deserialize_with = "lenient::int")]
    pub staus: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_card_operate_shapes_normalise_to_one() {
        let a: CardOperate = serde_json::from_str(
            r#"{"orderId":1,"cardId":"c1","userReqNo":"r","opType":15,"status":1,"amount":10,"fee":"0.5","createAt":"2026-01-01 00:00:00"}"#,
        )
        .unwrap();
        let b: CardOperate = serde_json::from_str(
            r#"{"orderId":"1","resourceId":"c1","userReqNo":"r","transactionType":"15","transactionStatus":1,"amount":10,"fee":0.5,"createTime":"2026-01-01 00:00:00"}"#,
        )
        .unwrap();
        assert_eq!(a.op_type, b.op_type);
        assert_eq!(a.status, b.status);
        assert_eq!(a.card_id.as_deref(), b.resource_id.as_deref());
        assert_eq!(a.fee, b.fee);
    }

    #[test]
    fn activation_status_accepts_misspelled_and_correct_field_and_numeric_id() {
        let x: CardActivationStatus = serde_json::from_str(r#"{"cardId":123,"staus":1}"#).unwrap();
        let y: CardActivationStatus = serde_json::from_str(r#"{"cardId":"123","status":"2"}"#).unwrap();
        assert_eq!(x.card_id, "123");
        assert_eq!(y.staus, 2);
    }
}
