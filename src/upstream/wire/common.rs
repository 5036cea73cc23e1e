//! The envelope around every call, and the vendor's paging shape.

use serde::{Deserialize, Serialize};

use super::lenient;

/// The outer request body: `{version, userNo, dataType, dataContent}`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct RequestEnvelope {
    pub version: String,
    /// Sent as a JSON string (the vendor's own sample does); accepted as a number too.
    #[serde(deserialize_with = "lenient::string")]
    pub user_no: String,
    pub data_type: String,
    /// Hex ciphertext of base64(JSON business parameters).
    pub data_content: String,
}

/// The outer response body. `async`, `result`, `errorCode` and `errorMsg` may all be absent.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "camelCase")]
pub struct ResponseEnvelope {
    /// Absent only in the gateway layer's non-standard error body (`{"async":false,"statusCode":500}`).
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "lenient::opt_bool")]
    pub success: Option<bool>,
    #[serde(
        default,
        rename = "async",
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_bool"
    )]
    pub is_async: Option<bool>,
    /// Hex ciphertext of base64(JSON result).
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "lenient::opt_string")]
    pub result: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "lenient::opt_string")]
    pub error_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "lenient::opt_string")]
    pub error_msg: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "lenient::opt_string")]
    pub user_no: Option<String>,
    /// Only in the non-standard body of the vendor's gateway layer.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "lenient::opt_int")]
    pub status_code: Option<i64>,
}

/// Paging request fields (`currentPage` ≥ 1, `pageSize` ≤ 50).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct PageRequest {
    #[serde(deserialize_with = "lenient::int")]
    pub current_page: i64,
    #[serde(deserialize_with = "lenient::int")]
    pub page_size: i64,
}

/// A page of results: `{totalCount, currentPage, pageSize, list}`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Page<T> {
    #[serde(default, deserialize_with = "lenient::opt_int")]
    pub total_count: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_int")]
    pub current_page: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_int")]
    pub page_size: Option<i64>,
    #[serde(default = "Vec::new", alias = "data", alias = "records")]
    pub list: Vec<T>,
}

/// The common answer of order-creating operations: `{orderId}` (+ echo of the request number).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "camelCase")]
pub struct OrderAck {
    #[serde(default, deserialize_with = "lenient::opt_string", skip_serializing_if = "Option::is_none")]
    pub order_id: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string", skip_serializing_if = "Option::is_none")]
    pub user_req_no: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string", skip_serializing_if = "Option::is_none")]
    pub card_id: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string", skip_serializing_if = "Option::is_none")]
    pub group_id: Option<String>,
}

/// Read-only calls still carry a request number (the vendor's clients send one to balance and cardBin).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ReqNoOnly {
    #[serde(deserialize_with = "lenient::string")]
    pub user_req_no: String,
}

/// Lists may come bare, wrapped as a page, or as `{data: [...]}`; accept all three.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum ListOrPage<T> {
    List(Vec<T>),
    Page(Page<T>),
}

impl<T> ListOrPage<T> {
    pub fn into_vec(self) -> Vec<T> {
        match self {
            Self::List(v) => v,
            Self::Page(p) => p.list,
        }
    }
}
