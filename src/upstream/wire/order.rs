//! #21 Card Operation Order Inquiry (SIBLING R2 `CardOpsQry` / `CardOpsTransInfoCO`).

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::{common::PageRequest, lenient};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct OrderQueryRequest {
    #[serde(flatten)]
    pub page: PageRequest,
    #[serde(default, deserialize_with = "lenient::opt_string", skip_serializing_if = "Option::is_none")]
    pub user_req_no: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string", skip_serializing_if = "Option::is_none")]
    pub card_id: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string", skip_serializing_if = "Option::is_none")]
    pub group_id: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string", skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string", skip_serializing_if = "Option::is_none")]
    pub op_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub begin_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time: Option<String>,
}

impl OrderQueryRequest {
    /// Page `current_page` of `page_size` orders, optionally only those of one request number; no
    /// other filter.
    pub fn page(current_page: i64, page_size: i64, user_req_no: Option<String>) -> Self {
        Self {
            page: PageRequest { current_page, page_size },
            user_req_no,
            card_id: None,
            group_id: None,
            status: None,
            op_type: None,
            begin_time: None,
            end_time: None,
        }
    }
}

/// One card operation order.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct OrderRecord {
    #[serde(deserialize_with = "lenient::string")]
    pub order_id: String,
    #[serde(default, deserialize_with = "lenient::opt_string", skip_serializing_if = "Option::is_none")]
    pub card_id: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string", skip_serializing_if = "Option::is_none")]
    pub group_id: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string", skip_serializing_if = "Option::is_none")]
    pub card_type: Option<String>,
    #[serde(default, deserialize_with = "lenient::string")]
    pub user_req_no: String,
    /// Operation type code (configurable: `upstream.codes.op_type_*`).
    #[serde(deserialize_with = "lenient::string")]
    pub op_type: String,
    /// Query status code (configurable: `upstream.codes.order_status_*`).
    #[serde(deserialize_with = "lenient::string")]
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_desc: Option<String>,
    #[serde(
        default,
        deserialize_with = "lenient::opt_decimal",
        serialize_with = "lenient::ser_opt_decimal",
        skip_serializing_if = "Option::is_none"
    )]
    pub amount: Option<Decimal>,
    #[serde(
        default,
        deserialize_with = "lenient::opt_decimal",
        serialize_with = "lenient::ser_opt_decimal",
        skip_serializing_if = "Option::is_none"
    )]
    pub fee: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_at: Option<String>,
    /// Error detail of a failed order, when the upstream gives one.
    #[serde(default, deserialize_with = "lenient::opt_string", skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_msg: Option<String>,
}
