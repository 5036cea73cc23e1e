//! Shared card groups (#13–#16). Only Status Change is SEEN (S6); the rest is INFERRED.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::{common::PageRequest, lenient};

/// #13 Shared Card Application (INFERRED fields).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct GroupApplyRequest {
    #[serde(deserialize_with = "lenient::string")]
    pub user_req_no: String,
    pub local_currency: String,
    /// Initial shared balance loaded from the merchant account.
    #[serde(deserialize_with = "lenient::decimal", serialize_with = "lenient::ser_decimal")]
    pub auth_limit_amount: Decimal,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_alias: Option<String>,
}

/// #14 Shared Card Pagination Query (INFERRED).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct GroupPageRequest {
    #[serde(flatten)]
    pub page: PageRequest,
    #[serde(default, deserialize_with = "lenient::opt_string", skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
}

/// #15 Shared Card Inquiry (INFERRED).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct GroupInfoRequest {
    #[serde(deserialize_with = "lenient::string")]
    pub group_id: String,
}

/// #15 answer and #14 item (INFERRED).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct GroupInfo {
    #[serde(deserialize_with = "lenient::string")]
    pub group_id: String,
    #[serde(default)]
    pub local_currency: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_alias: Option<String>,
    /// Shared balance available to the sub-cards.
    #[serde(
        default,
        deserialize_with = "lenient::opt_decimal",
        serialize_with = "lenient::ser_opt_decimal",
        skip_serializing_if = "Option::is_none"
    )]
    pub balance_amt: Option<Decimal>,
    /// `0` frozen, `1` active, `2` closed (INFERRED, configurable).
    #[serde(default, deserialize_with = "lenient::opt_string", skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_int", skip_serializing_if = "Option::is_none")]
    pub card_count: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_time: Option<String>,
}

/// #16 Shared Card Status Change (SEEN S6): `{userReqNo, groupId, status}` → `{orderId}`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct GroupUpdateRequest {
    #[serde(deserialize_with = "lenient::string")]
    pub user_req_no: String,
    #[serde(deserialize_with = "lenient::string")]
    pub group_id: String,
    #[serde(deserialize_with = "lenient::int")]
    pub status: i64,
}
