//! Physical cards (#23–#25). Everything but the Pin Reset path prefix is UNKNOWN; these shapes are
//! INFERRED from the flow the webhooks imply: assign a card kit to a cardholder, receive an activation
//! code by webhook, submit it, receive the activation status by webhook.

use serde::{Deserialize, Serialize};

use super::lenient;
use crate::sensitive::Otp;

/// #23 Card Assign: binds a physical card kit (identified by its kit number, never a PAN) to a holder.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct CardAssignRequest {
    #[serde(deserialize_with = "lenient::string")]
    pub user_req_no: String,
    #[serde(deserialize_with = "lenient::string")]
    pub card_user_id: String,
    #[serde(deserialize_with = "lenient::string")]
    pub kit_no: String,
    pub local_currency: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "camelCase")]
pub struct CardAssignResult {
    #[serde(deserialize_with = "lenient::string")]
    pub card_id: String,
    #[serde(default, deserialize_with = "lenient::opt_string", skip_serializing_if = "Option::is_none")]
    pub order_id: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string", skip_serializing_if = "Option::is_none")]
    pub card_status: Option<String>,
}

/// #24 Card Active: submits the activation code delivered by `card_activation_code`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct CardActiveRequest {
    #[serde(deserialize_with = "lenient::string")]
    pub user_req_no: String,
    #[serde(deserialize_with = "lenient::string")]
    pub card_id: String,
    #[serde(serialize_with = "crate::sensitive::expose", alias = "activationCode")]
    pub active_code: Otp,
}

/// #25 Card Pin Reset: the platform delivers the new PIN to the cardholder out of band; the PIN never
/// passes through the gateway (INFERRED, safest reading of an undocumented operation).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct PinResetRequest {
    #[serde(deserialize_with = "lenient::string")]
    pub user_req_no: String,
    #[serde(deserialize_with = "lenient::string")]
    pub card_id: String,
}

/// #24 / #25 answer.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "camelCase")]
pub struct PhysicalCardAck {
    #[serde(deserialize_with = "lenient::string")]
    pub card_id: String,
    #[serde(default, deserialize_with = "lenient::opt_string", skip_serializing_if = "Option::is_none")]
    pub order_id: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string", skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
}
