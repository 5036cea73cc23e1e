//! The `data` of each public event type, as types: `normalize` builds events from them, and the
//! document states them (`Event` is a `oneOf` keyed by `type`, see `openapi::variants`), so the
//! two cannot drift. One-time codes are not here: they are merged in only for readers allowed to
//! see them ([`Event::with_secret`](super::events::Event::with_secret)), under the names below.

use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::money::Amount;

/// `card.3ds_otp`: the one-time password, for readers with `events:secrets` (else `null`).
pub const OTP_FIELD: &str = "otp";
/// `physical_card.activation_code`: the activation code, for readers with `events:secrets`.
pub const ACTIVATION_CODE_FIELD: &str = "activation_code";
/// Set to `true` when a one-time code field was withheld from this reader.
pub const REDACTED_FIELD: &str = "redacted";

/// An amount with the currency the platform gave (`null` when it gave none).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EventAmount {
    pub amount: Amount,
    pub currency: Option<String>,
}

/// What a card operation notification says of the card: never its number or CVV.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CardSummary {
    pub last4: Option<String>,
    /// `YYYY-MM`.
    pub expiry: Option<String>,
    pub currency: Option<String>,
    pub alias: Option<String>,
    pub label: Option<String>,
}

/// `card.operation.succeeded`, `card.operation.failed`: a card order finished at the platform.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CardOperationData {
    /// The gateway operation it finished, once matched (`GET /v1/operations/{id}`).
    pub operation_id: Option<String>,
    /// `card.create`, `card.recharge`, `card.refund`, `card.cancel`, `card_group.create` or `unknown`.
    pub operation_kind: String,
    /// `succeeded` or `failed`.
    pub status: String,
    pub upstream_order_id: String,
    pub card_id: Option<String>,
    pub group_id: Option<String>,
    pub amount: Option<Amount>,
    pub fee: Option<Amount>,
    pub card: Option<CardSummary>,
}

/// `card.fee`: a fee the platform charged on a card.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CardFeeData {
    pub card_id: String,
    pub receipt_no: String,
    /// The transaction it is about, when the platform names one.
    pub transaction_id: Option<String>,
    /// `reversal_processing`, `merchant_force_settlement`, `exception_settlement`,
    /// `after_reversal_settlement`, `settlement_fx_difference`, `small_amount_transaction`,
    /// `cross_border`, `transaction_refund`, `transaction_processing` or `other`.
    pub fee_type: String,
    /// The platform's fee type number.
    pub fee_type_code: i64,
    pub amount: EventAmount,
}

/// `card.3ds_otp`: a 3-D Secure one-time password for a purchase (the code itself in `otp`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ThreeDsOtpData {
    pub card_id: String,
    pub masked_number: Option<String>,
    pub amount: Option<EventAmount>,
    pub merchant_name: Option<String>,
    /// Always `true`: the code is kept only for `webhooks.secret_ttl_s`.
    pub otp_expires_with_event: bool,
}

/// `crypto.payment`: a payment into a crypto deposit order.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CryptoPaymentData {
    pub order_id: String,
    pub serial_number: String,
    pub tx_id: String,
    pub from_address: String,
    pub to_address: String,
    pub paid_amount: Amount,
    pub credited_amount: Amount,
    pub fee: Amount,
}

/// `physical_card.activation_code`: a code the cardholder activates the card with (in `activation_code`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ActivationCodeData {
    pub card_id: String,
    /// Always `true`: the code is kept only for `webhooks.secret_ttl_s`.
    pub code_expires_with_event: bool,
}

/// `physical_card.activation`: the outcome of an activation.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ActivationData {
    pub card_id: String,
    /// `succeeded`, `failed` or `unknown`.
    pub status: String,
}

/// Each event type's `data` schema, and the one-time code field readers may get in it.
pub fn data_schemas() -> Vec<(&'static str, String, Option<&'static str>)> {
    use crate::domain::transaction::Transaction;
    vec![
        ("card.transaction", Transaction::name().into_owned(), None),
        ("card.operation.succeeded", CardOperationData::name().into_owned(), None),
        ("card.operation.failed", CardOperationData::name().into_owned(), None),
        ("card.fee", CardFeeData::name().into_owned(), None),
        ("card.3ds_otp", ThreeDsOtpData::name().into_owned(), Some(OTP_FIELD)),
        ("crypto.payment", CryptoPaymentData::name().into_owned(), None),
        ("physical_card.activation_code", ActivationCodeData::name().into_owned(), Some(ACTIVATION_CODE_FIELD)),
        ("physical_card.activation", ActivationData::name().into_owned(), None),
    ]
}

/// Every schema [`data_schemas`] names, for the document's components.
#[derive(utoipa::OpenApi)]
#[openapi(components(schemas(
    EventAmount,
    CardSummary,
    CardOperationData,
    CardFeeData,
    ThreeDsOtpData,
    CryptoPaymentData,
    ActivationCodeData,
    ActivationData
)))]
pub struct EventDataSchemas;

#[cfg(test)]
mod tests {
    #[test]
    fn every_event_type_has_a_data_schema() {
        let named: Vec<&str> = super::data_schemas().iter().map(|(t, _, _)| *t).collect();
        assert_eq!(named, super::super::events::EVENT_TYPES);
    }
}
