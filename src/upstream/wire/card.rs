//! VCC card operations: scenes, BINs, apply, cancel, recharge, refund, inquiry, modification, paging,
//! transactions. Field names from the vendor (SEEN) or its siblings (SIBLING R1/R2/R3).

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::{common::PageRequest, lenient};
use crate::sensitive::{Cvv, Pan, expose_opt};

/// #5 Scene list item. Fields INFERRED (`sceneCode` is SIBLING R1: numeric, e.g. 1004 airline).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Scene {
    #[serde(deserialize_with = "lenient::string")]
    pub scene_code: String,
    #[serde(default, alias = "name")]
    pub scene_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// #6 Cardbin item. The vendor's response is UNKNOWN; aliases cover the names client C1 probes for.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct CardBin {
    #[serde(deserialize_with = "lenient::string", alias = "binRangeId", alias = "cardBinId")]
    pub card_bin: String,
    #[serde(default, alias = "brand")]
    pub card_brand: String,
    #[serde(default, alias = "currency")]
    pub local_currency: String,
    /// `1` regular card, `2` shared sub-card (SIBLING R1 channelType).
    #[serde(default, deserialize_with = "lenient::opt_string", skip_serializing_if = "Option::is_none")]
    pub channel_type: Option<String>,
    /// Whether apply needs `cardUserId` for this BIN (SIBLING R1: 485932, 486821).
    #[serde(default, deserialize_with = "lenient::opt_bool", skip_serializing_if = "Option::is_none")]
    pub card_user_required: Option<bool>,
}

/// #7 Apply for a Card Opening (field list SIBLING R1, path SEEN).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct CardApplyRequest {
    #[serde(deserialize_with = "lenient::string")]
    pub user_req_no: String,
    pub local_currency: String,
    /// `yyyy-MM-dd` by default (configurable date format).
    pub start_date: String,
    pub end_date: String,
    #[serde(
        default,
        deserialize_with = "lenient::opt_decimal",
        serialize_with = "lenient::ser_opt_decimal",
        skip_serializing_if = "Option::is_none"
    )]
    pub auth_limit_amount: Option<Decimal>,
    /// `1` multi-use, `0` single-use.
    /// Optional on the platform (docs/platform.md §5.7: applies succeed without it); sent only when set.
    #[serde(default, deserialize_with = "lenient::opt_int", skip_serializing_if = "Option::is_none")]
    pub enable_multi_use: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_int", skip_serializing_if = "Option::is_none")]
    pub enable_currency_check: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card_alias: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string", skip_serializing_if = "Option::is_none")]
    pub bin_range_id: Option<String>,
    /// `1` regular (default), `2` shared sub-card.
    #[serde(default, deserialize_with = "lenient::opt_int", skip_serializing_if = "Option::is_none")]
    pub channel_type: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_string", skip_serializing_if = "Option::is_none")]
    pub group_id: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string", skip_serializing_if = "Option::is_none")]
    pub card_user_id: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_int", skip_serializing_if = "Option::is_none")]
    pub scene_code: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub air_line_code: Option<String>,
}

/// #7 answer (SIBLING R2 `CreateCardCO`). Card elements may be missing ("call Card Inquiry later").
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct CardApplyResult {
    #[serde(default, deserialize_with = "lenient::opt_string", skip_serializing_if = "Option::is_none")]
    pub order_id: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string", skip_serializing_if = "Option::is_none")]
    pub card_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local_currency: Option<String>,
    #[serde(default, serialize_with = "expose_opt", skip_serializing_if = "Option::is_none")]
    pub card_no: Option<Pan>,
    #[serde(default, serialize_with = "expose_opt", skip_serializing_if = "Option::is_none")]
    pub card_verify_no: Option<Cvv>,
    /// `yyyy-MM` (C1) or `MM/yyyy` (R2); both accepted downstream.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card_expiry_date: Option<String>,
}

/// #8 Cancel Card Application (SIBLING R2 `CardCloseCmd`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct CardCancelRequest {
    #[serde(deserialize_with = "lenient::string")]
    pub user_req_no: String,
    #[serde(deserialize_with = "lenient::string")]
    pub card_id: String,
}

/// #9 Recharge (SIBLING R3 body). For a shared group: `channelType=2` + `groupId`, no `cardId`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RechargeRequest {
    #[serde(deserialize_with = "lenient::string")]
    pub user_req_no: String,
    #[serde(default, deserialize_with = "lenient::opt_string", skip_serializing_if = "Option::is_none")]
    pub card_id: Option<String>,
    #[serde(deserialize_with = "lenient::decimal", serialize_with = "lenient::ser_decimal")]
    pub auth_limit_amount: Decimal,
    #[serde(default, deserialize_with = "lenient::opt_int", skip_serializing_if = "Option::is_none")]
    pub channel_type: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_string", skip_serializing_if = "Option::is_none")]
    pub group_id: Option<String>,
}

/// #12 Refund: card (or group) balance back to the merchant account (SIBLING R2 `CardRefundCmd`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RefundRequest {
    #[serde(deserialize_with = "lenient::string")]
    pub user_req_no: String,
    #[serde(default, deserialize_with = "lenient::opt_string", skip_serializing_if = "Option::is_none")]
    pub card_id: Option<String>,
    #[serde(deserialize_with = "lenient::decimal", serialize_with = "lenient::ser_decimal")]
    pub refund_amount: Decimal,
    #[serde(default, deserialize_with = "lenient::opt_int", skip_serializing_if = "Option::is_none")]
    pub channel_type: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_string", skip_serializing_if = "Option::is_none")]
    pub group_id: Option<String>,
}

/// #10 Card Inquiry request (SEEN C1: `{cardId}`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct CardInfoRequest {
    #[serde(deserialize_with = "lenient::string")]
    pub card_id: String,
}

/// Cardholder summary embedded in a card (SIBLING R2 `CardInfoCO.cardUserInfo`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "camelCase")]
pub struct CardUserInfo {
    #[serde(default, deserialize_with = "lenient::opt_string", skip_serializing_if = "Option::is_none")]
    pub card_user_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
}

/// #10 Card Inquiry answer and #22 page item (SEEN C1 fields + SIBLING R2 `CardInfoCO`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct CardInfo {
    #[serde(deserialize_with = "lenient::string")]
    pub card_id: String,
    #[serde(default, serialize_with = "expose_opt", skip_serializing_if = "Option::is_none")]
    pub card_no: Option<Pan>,
    #[serde(default, serialize_with = "expose_opt", skip_serializing_if = "Option::is_none")]
    pub card_verify_no: Option<Cvv>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card_expiry_date: Option<String>,
    /// Vendor code; mapping configurable (`upstream.codes.card_status_*`).
    #[serde(default, deserialize_with = "lenient::opt_string", skip_serializing_if = "Option::is_none")]
    pub card_status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card_status_desc: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card_alias: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card_label: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local_currency: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_active_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_close_date: Option<String>,
    /// Card limit.
    #[serde(
        default,
        deserialize_with = "lenient::opt_decimal",
        serialize_with = "lenient::ser_opt_decimal",
        skip_serializing_if = "Option::is_none"
    )]
    pub credit_limit_amt: Option<Decimal>,
    #[serde(
        default,
        deserialize_with = "lenient::opt_decimal",
        serialize_with = "lenient::ser_opt_decimal",
        skip_serializing_if = "Option::is_none"
    )]
    pub balance_amt: Option<Decimal>,
    #[serde(
        default,
        deserialize_with = "lenient::opt_decimal",
        serialize_with = "lenient::ser_opt_decimal",
        skip_serializing_if = "Option::is_none"
    )]
    pub used_auth_amt: Option<Decimal>,
    #[serde(default, deserialize_with = "lenient::opt_int", skip_serializing_if = "Option::is_none")]
    pub enable_multi_use: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_int", skip_serializing_if = "Option::is_none")]
    pub enable_currency_check: Option<i64>,
    #[serde(
        default,
        deserialize_with = "lenient::opt_decimal",
        serialize_with = "lenient::ser_opt_decimal",
        skip_serializing_if = "Option::is_none"
    )]
    pub card_closed_amt: Option<Decimal>,
    /// `0` regular, `1` shared sub-card (SIBLING R2/R3 query convention).
    #[serde(default, deserialize_with = "lenient::opt_string", skip_serializing_if = "Option::is_none")]
    pub card_type: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string", skip_serializing_if = "Option::is_none")]
    pub group_id: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string", skip_serializing_if = "Option::is_none")]
    pub card_bin: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card_user_info: Option<CardUserInfo>,
}

/// #17 Card Information Modification (SIBLING R2 `CardModifyCmd`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct CardModifyRequest {
    #[serde(deserialize_with = "lenient::string")]
    pub user_req_no: String,
    #[serde(deserialize_with = "lenient::string")]
    pub card_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card_alias: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card_label: Option<String>,
    /// `0` freeze, `1` enable (configurable).
    #[serde(default, deserialize_with = "lenient::opt_int", skip_serializing_if = "Option::is_none")]
    pub status: Option<i64>,
    /// Spending limit; per R2 only for shared sub-cards.
    #[serde(
        default,
        deserialize_with = "lenient::opt_decimal",
        serialize_with = "lenient::ser_opt_decimal",
        skip_serializing_if = "Option::is_none"
    )]
    pub auth_limit_amount: Option<Decimal>,
}

/// #22 Card Pagination Query (INFERRED).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct CardPageRequest {
    #[serde(flatten)]
    pub page: PageRequest,
    #[serde(default, deserialize_with = "lenient::opt_string", skip_serializing_if = "Option::is_none")]
    pub card_status: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string", skip_serializing_if = "Option::is_none")]
    pub group_id: Option<String>,
}

/// #11 Transaction Inquiry (SIBLING R2/R3).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct TransactionQueryRequest {
    #[serde(flatten)]
    pub page: PageRequest,
    #[serde(default, deserialize_with = "lenient::opt_string", skip_serializing_if = "Option::is_none")]
    pub card_id: Option<String>,
    /// `0` regular, `1` shared (R3 convention).
    #[serde(default, deserialize_with = "lenient::opt_string", skip_serializing_if = "Option::is_none")]
    pub card_type: Option<String>,
    /// `yyyy-MM-dd HH:mm:ss` by default (configurable).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub begin_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time: Option<String>,
}

/// A card transaction: same fields as the `card_transaction` webhook (SEEN S3/S12).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct TransactionRecord {
    #[serde(deserialize_with = "lenient::string")]
    pub record_no: String,
    #[serde(deserialize_with = "lenient::string")]
    pub card_id: String,
    /// Webhooks say `transactionTime`; sibling inquiries `transTime` (docs/platform.md §5.11), older ones `occurTime`.
    #[serde(default, alias = "occurTime", alias = "transTime")]
    pub transaction_time: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trans_currency: Option<String>,
    #[serde(
        default,
        deserialize_with = "lenient::opt_decimal",
        serialize_with = "lenient::ser_opt_decimal",
        skip_serializing_if = "Option::is_none"
    )]
    pub trans_currency_amt: Option<Decimal>,
    #[serde(default)]
    pub local_currency: String,
    #[serde(
        default,
        deserialize_with = "lenient::opt_decimal",
        serialize_with = "lenient::ser_opt_decimal",
        skip_serializing_if = "Option::is_none"
    )]
    pub local_currency_amt: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval_code: Option<String>,
    #[serde(default)]
    pub merchant_name: String,
    #[serde(default, deserialize_with = "lenient::opt_string", skip_serializing_if = "Option::is_none")]
    pub merchant_category_code: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string", skip_serializing_if = "Option::is_none")]
    pub cross_board_type: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string", skip_serializing_if = "Option::is_none")]
    pub trans_type: Option<String>,
    /// `1` success, `2` failure.
    #[serde(default, deserialize_with = "lenient::opt_string", skip_serializing_if = "Option::is_none")]
    pub trans_status: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string", skip_serializing_if = "Option::is_none")]
    pub origin_record_no: Option<String>,
    /// `1` unsettled (authorisation), `2` settled.
    #[serde(default, deserialize_with = "lenient::opt_int", skip_serializing_if = "Option::is_none")]
    pub trans_category: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_int", skip_serializing_if = "Option::is_none")]
    pub fee_type: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_int", skip_serializing_if = "Option::is_none")]
    pub funds_type: Option<i64>,
    /// `0` out, `1` in.
    #[serde(default, deserialize_with = "lenient::opt_int", skip_serializing_if = "Option::is_none")]
    pub funds_direction: Option<i64>,
    #[serde(
        default,
        deserialize_with = "lenient::opt_decimal",
        serialize_with = "lenient::ser_opt_decimal",
        skip_serializing_if = "Option::is_none"
    )]
    pub settle_amount: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settle_time: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string", skip_serializing_if = "Option::is_none")]
    pub resp_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resp_code_desc: Option<String>,
}
