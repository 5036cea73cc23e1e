//! Cardholders (#18–#20). Application body SEEN (S10); inquiry and deletion SIBLING R2.

use serde::{Deserialize, Serialize};

use super::lenient;

/// #18 Cardholder Application (SEEN S10, plus `userReqNo` as client C1 sends).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "camelCase")]
pub struct CardholderApplyRequest {
    #[serde(deserialize_with = "lenient::string")]
    pub user_req_no: String,
    pub first_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub middle_name: Option<String>,
    pub last_name: String,
    pub email: String,
    #[serde(deserialize_with = "lenient::string")]
    pub mobile_prefix: String,
    #[serde(deserialize_with = "lenient::string")]
    pub mobile: String,
    /// `yyyy-MM-dd`; the holder must be at least 18.
    pub birth_date: String,
    pub country_code: String,
    pub billing_state: String,
    pub billing_city: String,
    pub billing_address: String,
    #[serde(deserialize_with = "lenient::string")]
    pub billing_zip_code: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remark: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_int", skip_serializing_if = "Option::is_none")]
    pub gender: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_int", skip_serializing_if = "Option::is_none")]
    pub certificate_type: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate_no: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_int", skip_serializing_if = "Option::is_none")]
    pub occupation: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate_front_image_base64: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate_back_image_base64: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate_hold_image_base64: Option<String>,
}

/// #18 answer (INFERRED from C1 and R2 `CardHolderCmdCO`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "camelCase")]
pub struct CardholderApplyResult {
    #[serde(deserialize_with = "lenient::string")]
    pub card_user_id: String,
    /// `0` disabled, `1` enabled, `2` deleted, `3` in process (SIBLING R2).
    #[serde(default, deserialize_with = "lenient::opt_string", skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
}

/// #19 / #20 request: `{cardUserId}` (+ a request number on deletion).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct CardholderRef {
    #[serde(deserialize_with = "lenient::string")]
    pub card_user_id: String,
    #[serde(default, deserialize_with = "lenient::opt_string", skip_serializing_if = "Option::is_none")]
    pub user_req_no: Option<String>,
}

/// Per-BIN usability of a holder (SIBLING R2 `holderCardBins`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct HolderCardBin {
    #[serde(deserialize_with = "lenient::string")]
    pub card_bin: String,
    #[serde(default, deserialize_with = "lenient::opt_string", skip_serializing_if = "Option::is_none")]
    pub holder_status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub holder_status_desc: Option<String>,
}

/// #19 answer (SIBLING R2 `CardHolderInfoCO`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "camelCase")]
pub struct CardholderInfo {
    #[serde(deserialize_with = "lenient::string")]
    pub card_user_id: String,
    #[serde(default)]
    pub first_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub middle_name: Option<String>,
    #[serde(default)]
    pub last_name: String,
    #[serde(default)]
    pub email: String,
    #[serde(default, deserialize_with = "lenient::opt_string", skip_serializing_if = "Option::is_none")]
    pub mobile_prefix: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string", skip_serializing_if = "Option::is_none")]
    pub mobile: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub birth_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billing_state: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billing_city: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billing_address: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string", skip_serializing_if = "Option::is_none")]
    pub billing_zip_code: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string", skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remark: Option<String>,
    #[serde(default)]
    pub holder_card_bins: Vec<HolderCardBin>,
}
